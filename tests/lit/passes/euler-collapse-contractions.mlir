// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-collapse-contractions)' | FileCheck %s

// An attention projection after linalg-fuse-elementwise-ops: x @ W with W's
// columns split into 8 heads of 64 (the result's reshape moved into the
// matmul). A matmul again, on W and C collapsed to 2-D, its result expanded
// back to the heads.
// CHECK-LABEL: func.func @heads
// CHECK-NEXT:    %[[B:.*]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2]] : tensor<512x8x64xf16> into tensor<512x512xf16>
// CHECK-NEXT:    %[[C:.*]] = tensor.collapse_shape %arg2 {{\[}}[0], [1, 2]] : tensor<128x8x64xf32> into tensor<128x512xf32>
// CHECK-NEXT:    %[[MM:.*]] = linalg.matmul ins(%arg0, %[[B]] : tensor<128x512xf16>, tensor<512x512xf16>) outs(%[[C]] : tensor<128x512xf32>) -> tensor<128x512xf32>
// CHECK-NEXT:    %[[R:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0], [1, 2]] output_shape [128, 8, 64] : tensor<128x512xf32> into tensor<128x8x64xf32>
// CHECK-NEXT:    return %[[R]]
func.func @heads(%x: tensor<128x512xf16>, %w: tensor<512x8x64xf16>, %c: tensor<128x8x64xf32>) -> tensor<128x8x64xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<128x512xf16>, tensor<512x8x64xf16>) outs(%c : tensor<128x8x64xf32>) {
  ^bb0(%a: f16, %b: f16, %o: f32):
    %ea = arith.extf %a : f16 to f32
    %eb = arith.extf %b : f16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<128x8x64xf32>
  return %0 : tensor<128x8x64xf32>
}

// -----

// The output projection: the heads' concatenation moved into the matmul as
// two reduction dimensions (8 x 64).
// CHECK-LABEL: func.func @two_reductions
// CHECK-NEXT:    %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0], [1, 2]] : tensor<16x8x64xf32> into tensor<16x512xf32>
// CHECK-NEXT:    %[[B:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2]] : tensor<8x64x256xf32> into tensor<512x256xf32>
// CHECK-NEXT:    %[[MM:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<16x512xf32>, tensor<512x256xf32>) outs(%arg2 : tensor<16x256xf32>) -> tensor<16x256xf32>
// CHECK-NEXT:    return %[[MM]]
func.func @two_reductions(%a: tensor<16x8x64xf32>, %w: tensor<8x64x256xf32>, %c: tensor<16x256xf32>) -> tensor<16x256xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%a, %w : tensor<16x8x64xf32>, tensor<8x64x256xf32>) outs(%c : tensor<16x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %p, %o : f32
    linalg.yield %s : f32
  } -> tensor<16x256xf32>
  return %0 : tensor<16x256xf32>
}

// -----

// Attention's scores over batch x heads (two batch dimensions): a
// batch_matmul over their product.
// CHECK-LABEL: func.func @batch_heads
// CHECK-NEXT:    %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x32xf32> into tensor<8x16x32xf32>
// CHECK-NEXT:    %[[B:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : tensor<2x4x32x8xf32> into tensor<8x32x8xf32>
// CHECK-NEXT:    %[[C:.*]] = tensor.collapse_shape %arg2 {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
// CHECK-NEXT:    %[[MM:.*]] = linalg.batch_matmul ins(%[[A]], %[[B]] : tensor<8x16x32xf32>, tensor<8x32x8xf32>) outs(%[[C]] : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
// CHECK-NEXT:    %[[R:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
// CHECK-NEXT:    return %[[R]]
func.func @batch_heads(%a: tensor<2x4x16x32xf32>, %b: tensor<2x4x32x8xf32>, %c: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : tensor<2x4x16x32xf32>, tensor<2x4x32x8xf32>) outs(%c : tensor<2x4x16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16x8xf32>
  return %0 : tensor<2x4x16x8xf32>
}

// -----

// Not matmuls: a transposed operand (A read k-major) and a body that is not
// a multiply-add. Both stay generics.
// CHECK-LABEL: func.func @not_matmuls
// CHECK-NOT:     linalg.matmul
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:     linalg.matmul
func.func @not_matmuls(%t: tensor<32x16xf32>, %w: tensor<32x8xf32>, %d: tensor<16x8xf32>, %u: tensor<16x32xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>) {
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%t, %w : tensor<32x16xf32>, tensor<32x8xf32>) outs(%d : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%u, %w : tensor<16x32xf32>, tensor<32x8xf32>) outs(%d : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.maximumf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  return %1, %2 : tensor<16x8xf32>, tensor<16x8xf32>
}

// -----

// The elementwise op after the projection (the result's rounding, a bias over
// the heads) is collapsed too and reads the matmul's result directly, so that
// on the GPU it runs in the matmul's epilogue; its result is expanded back.
// CHECK-LABEL: func.func @consumer
// CHECK:         %[[MM:.*]] = linalg.matmul
// CHECK-NEXT:    %[[BIAS:.*]] = tensor.collapse_shape %arg3 {{\[}}[0, 1]] : tensor<8x64xf16> into tensor<512xf16>
// CHECK-NEXT:    %[[OUT:.*]] = tensor.collapse_shape %arg4 {{\[}}[0], [1, 2]] : tensor<128x8x64xf16> into tensor<128x512xf16>
// CHECK-NEXT:    %[[G:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[MM]], %[[BIAS]] : tensor<128x512xf32>, tensor<512xf16>) outs(%[[OUT]] : tensor<128x512xf16>)
// CHECK:           arith.truncf
// CHECK:         %[[R:.*]] = tensor.expand_shape %[[G]] {{\[}}[0], [1, 2]] output_shape [128, 8, 64] : tensor<128x512xf16> into tensor<128x8x64xf16>
// CHECK-NEXT:    return %[[R]]
func.func @consumer(%x: tensor<128x512xf16>, %w: tensor<512x8x64xf16>, %c: tensor<128x8x64xf32>, %bias: tensor<8x64xf16>, %out: tensor<128x8x64xf16>) -> tensor<128x8x64xf16> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<128x512xf16>, tensor<512x8x64xf16>) outs(%c : tensor<128x8x64xf32>) {
  ^bb0(%a: f16, %b: f16, %o: f32):
    %ea = arith.extf %a : f16 to f32
    %eb = arith.extf %b : f16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<128x8x64xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%0, %bias : tensor<128x8x64xf32>, tensor<8x64xf16>) outs(%out : tensor<128x8x64xf16>) {
  ^bb0(%v: f32, %bb: f16, %o: f16):
    %t = arith.truncf %v : f32 to f16
    %s = arith.addf %t, %bb : f16
    linalg.yield %s : f16
  } -> tensor<128x8x64xf16>
  return %1 : tensor<128x8x64xf16>
}

// -----

// Attention's P @ V after fusion moved the softmax's division into it: the
// divided scores become an elementwise generic over their own dimensions,
// and the product a batch_matmul.
// CHECK-LABEL: func.func @fused_factor
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<4x16x32xf32>
// CHECK-NEXT:    %[[P:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x16x32xf32>, tensor<4x16xf32>) outs(%[[E]] : tensor<4x16x32xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[D:.*]] = arith.divf %[[A]], %[[S]] : f32
// CHECK-NEXT:      linalg.yield %[[D]] : f32
// CHECK:         linalg.batch_matmul ins(%[[P]], %arg2 : tensor<4x16x32xf32>, tensor<4x32x8xf32>) outs(%arg3 : tensor<4x16x8xf32>)
// CHECK-NOT:     linalg.generic
func.func @fused_factor(%a: tensor<4x16x32xf32>, %s: tensor<4x16xf32>, %v: tensor<4x32x8xf32>, %c: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %s, %v : tensor<4x16x32xf32>, tensor<4x16xf32>, tensor<4x32x8xf32>) outs(%c : tensor<4x16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32, %o: f32):
    %d = arith.divf %x, %y : f32
    %p = arith.mulf %d, %z : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

// -----

// Factors that share an input (x * x^T-like squares) are left alone.
// CHECK-LABEL: func.func @shared_factor_input
// CHECK-NOT:     linalg.matmul
// CHECK:         linalg.generic
// CHECK-NOT:     linalg.matmul
func.func @shared_factor_input(%a: tensor<16x32xf32>, %w: tensor<32x8xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %w : tensor<16x32xf32>, tensor<32x8xf32>) outs(%c : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %e = math.exp %x : f32
    %f = arith.mulf %y, %x : f32
    %p = arith.mulf %e, %f : f32
    %r = arith.addf %o, %p : f32
    linalg.yield %r : f32
  } -> tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}

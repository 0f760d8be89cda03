// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-gpu-conv-to-matmul)' | FileCheck %s

// A stride-2 convolution (the named op) and the relu reading it: the patch
// matrix P[c, kh, kw, n, oh, ow] gathered from x, W[f, c*kh*kw] @ P as one
// matmul over every image's pixels, and the relu reading its [f, n, oh, ow]
// result through the transposing map. The conv's fill is gone.
// CHECK-DAG:   #[[GATHER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
// CHECK-DAG:   #[[NCHW:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d2, d3)>
// CHECK-LABEL: func.func @conv_relu
// CHECK:         %[[P:.*]] = linalg.generic {indexing_maps = [#[[GATHER]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<2x4x10x10xf32>) outs(%{{.*}} : tensor<4x3x3x2x4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         %[[W:.*]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<8x4x3x3xf32> into tensor<8x36xf32>
// CHECK-NEXT:    %[[B:.*]] = tensor.collapse_shape %[[P]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<4x3x3x2x4x4xf32> into tensor<36x32xf32>
// CHECK:         %[[ACC:.*]] = linalg.fill
// CHECK-NEXT:    %[[MM:.*]] = linalg.matmul ins(%[[W]], %[[B]] : tensor<8x36xf32>, tensor<36x32xf32>) outs(%[[ACC]] : tensor<8x32xf32>)
// CHECK-NEXT:    %[[Y:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0], [1, 2, 3]] output_shape [8, 2, 4, 4]
// CHECK-NEXT:    %[[R:.*]] = linalg.generic {indexing_maps = [#[[NCHW]], #{{.*}}], {{.*}} ins(%[[Y]] : tensor<8x2x4x4xf32>) outs(%{{.*}} : tensor<2x8x4x4xf32>)
// CHECK:           arith.maximumf
// CHECK:         return %[[R]]
// CHECK-NOT:     linalg.conv
func.func @conv_relu(%x: tensor<2x4x10x10xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<2x8x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x4x10x10xf32>, tensor<8x4x3x3xf32>) outs(%init : tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<2x8x4x4xf32>) outs(%e : tensor<2x8x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x8x4x4xf32>
  return %r : tensor<2x8x4x4xf32>
}


// -----

// The generic that fusion makes of a convolution (a dilation of 2, f16
// operands summed in f32), returned as it is: a transposing copy to NCHW.
// CHECK-DAG:   #[[GATHER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1 * 2, d5 + d2 * 2)>
// CHECK-DAG:   #[[NCHW:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d2, d3)>
// CHECK-LABEL: func.func @dilated_result
// CHECK:         linalg.generic {indexing_maps = [#[[GATHER]], #{{.*}}]{{.*}} outs(%{{.*}} : tensor<2x3x3x1x5x5xf16>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x18xf16>, tensor<18x25xf16>) outs(%{{.*}} : tensor<4x25xf32>)
// CHECK-NEXT:    %[[Y:.*]] = tensor.expand_shape %[[MM]]
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#[[NCHW]], #{{.*}}], {{.*}} ins(%[[Y]] : tensor<4x1x5x5xf32>) outs(%{{.*}} : tensor<1x4x5x5xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         return %[[R]]
func.func @dilated_result(%x: tensor<1x2x9x9xf16>, %w: tensor<4x2x3x3xf16>) -> tensor<1x4x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x5x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5 * 2, d3 + d6 * 2)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x9x9xf16>, tensor<4x2x3x3xf16>) outs(%init : tensor<1x4x5x5xf32>) {
  ^bb0(%a: f16, %b: f16, %o: f32):
    %ea = arith.extf %a : f16 to f32
    %eb = arith.extf %b : f16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x5x5xf32>
  return %y : tensor<1x4x5x5xf32>
}


// -----

// An accumulator that is not a fill of zero: left to the generic path.
// CHECK-LABEL: func.func @accumulates
// CHECK-NEXT:    linalg.conv_2d_nchw_fchw
// CHECK-NOT:     linalg.matmul
func.func @accumulates(%x: tensor<1x2x6x6xf32>, %w: tensor<4x2x3x3xf32>, %c: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>) outs(%c : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// A zero padding of x is read through: the gather reads x itself at the
// row and column shifted by the padding, clamped inside x, and selects
// zero outside it; the padded tensor is gone.
// CHECK-LABEL: func.func @padded
// CHECK-NOT:     tensor.pad
// CHECK:         linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x3x1x5x5xf32>)
// CHECK:           %[[ROW:.*]] = arith.subi %{{.*}}, %c1
// CHECK:           arith.cmpi sge, %[[ROW]], %c0
// CHECK:           arith.cmpi slt, %[[ROW]], %c5
// CHECK:           %[[ROW_OK:.*]] = arith.andi
// CHECK:           %[[COL:.*]] = arith.subi %{{.*}}, %c1
// CHECK:           %[[INSIDE:.*]] = arith.andi %[[ROW_OK]], %{{.*}} : i1
// CHECK:           %[[X:.*]] = tensor.extract %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x2x5x5xf32>
// CHECK:           %[[V:.*]] = arith.select %[[INSIDE]], %[[X]], %{{.*}} : f32
// CHECK-NEXT:      linalg.yield %[[V]] : f32
// CHECK:         linalg.matmul
// CHECK-NOT:     tensor.pad
func.func @padded(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x5x5xf32> to tensor<1x2x7x7xf32>
  %e = tensor.empty() : tensor<1x4x5x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x2x7x7xf32>, tensor<4x2x3x3xf32>) outs(%init : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  return %y : tensor<1x4x5x5xf32>
}

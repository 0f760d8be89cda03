// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-gpu-fold-transposes)' | FileCheck %s

// A linear layer's weight (N x K, an argument) read through its transpose:
// the matmul reads the weight itself as a K x N view (K contiguous), in the
// copy's place, so that the zero fill stays next to the matmul; the copy and
// its buffer are gone.
// CHECK-LABEL: func.func @linear
// CHECK-NEXT:    %[[CST:.*]] = arith.constant
// CHECK-NEXT:    %[[W:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [64, 32], strides: [1, 64] : memref<32x64xf32> to memref<64x32xf32, strided<[1, 64]>>
// CHECK-NEXT:    linalg.fill ins(%[[CST]] : f32) outs(%arg2 : memref<8x32xf32>)
// CHECK-NEXT:    linalg.matmul ins(%arg0, %[[W]] : memref<8x64xf32>, memref<64x32xf32, strided<[1, 64]>>) outs(%arg2 : memref<8x32xf32>)
// CHECK-NEXT:    return
func.func @linear(%x: memref<8x64xf32>, %w: memref<32x64xf32>, %y: memref<8x32xf32>) {
  %cst = arith.constant 0.0 : f32
  %wt = gpu.alloc () : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : memref<32x64xf32>) outs(%wt : memref<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.fill ins(%cst : f32) outs(%y : memref<8x32xf32>)
  linalg.matmul ins(%x, %wt : memref<8x64xf32>, memref<64x32xf32>) outs(%y : memref<8x32xf32>)
  gpu.dealloc %wt : memref<64x32xf32>
  return
}

// -----

// Attention's heads: (seq, batch, head, dim) permuted to (batch, head, seq,
// dim) and the first two merged into the batch of a batch_matmul: one
// strided view of the source (64 = head, 1024 = seq apart).
// CHECK-LABEL: func.func @heads
// CHECK-NEXT:    %[[Q:.*]] = memref.reinterpret_cast %arg0 to offset: [0], sizes: [16, 64, 64], strides: [64, 1024, 1]
// CHECK-NEXT:    linalg.batch_matmul ins(%[[Q]], %arg1 : memref<16x64x64xf32, strided<[64, 1024, 1]>>, memref<16x64x64xf32>)
// CHECK-NEXT:    return
func.func @heads(%qkv: memref<64x4x4x64xf32>, %k: memref<16x64x64xf32>, %s: memref<16x64x64xf32>) {
  %q = gpu.alloc () : memref<4x4x64x64xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d2, d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qkv : memref<64x4x4x64xf32>) outs(%q : memref<4x4x64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %a = memref.collapse_shape %q [[0, 1], [2], [3]] : memref<4x4x64x64xf32> into memref<16x64x64xf32>
  linalg.batch_matmul ins(%a, %k : memref<16x64x64xf32>, memref<16x64x64xf32>) outs(%s : memref<16x64x64xf32>)
  gpu.dealloc %q : memref<4x4x64x64xf32>
  return
}

// -----

// Merged dimensions that the permutation separated: no strided view is the
// operand, and the copy stays.
// CHECK-LABEL: func.func @not_a_view
// CHECK:         linalg.generic
// CHECK:         memref.collapse_shape
// CHECK-NEXT:    linalg.matmul ins(%{{.*}}, %arg1 : memref<256x256xf32>, memref<256x256xf32>)
func.func @not_a_view(%x: memref<4x64x256xf32>, %w: memref<256x256xf32>, %y: memref<256x256xf32>) {
  %t = gpu.alloc () : memref<64x4x256xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<4x64x256xf32>) outs(%t : memref<64x4x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %a = memref.collapse_shape %t [[0, 1], [2]] : memref<64x4x256xf32> into memref<256x256xf32>
  linalg.matmul ins(%a, %w : memref<256x256xf32>, memref<256x256xf32>) outs(%y : memref<256x256xf32>)
  gpu.dealloc %t : memref<64x4x256xf32>
  return
}

// -----

// 16-bit operands go to the tensor cores, whose kernels want N contiguous in
// B: the transpose stays.
// CHECK-LABEL: func.func @f16_weight
// CHECK:         linalg.generic
// CHECK:         linalg.matmul ins(%arg0, %{{.*}} : memref<8x64xf16>, memref<64x32xf16>)
func.func @f16_weight(%x: memref<8x64xf16>, %w: memref<32x64xf16>, %y: memref<8x32xf32>) {
  %wt = gpu.alloc () : memref<64x32xf16>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : memref<32x64xf16>) outs(%wt : memref<64x32xf16>) {
  ^bb0(%in: f16, %out: f16):
    linalg.yield %in : f16
  }
  linalg.matmul ins(%x, %wt : memref<8x64xf16>, memref<64x32xf16>) outs(%y : memref<8x32xf32>)
  gpu.dealloc %wt : memref<64x32xf16>
  return
}

// -----

// The transposed buffer is read again after the matmul: it stays.
// CHECK-LABEL: func.func @read_again
// CHECK:         linalg.generic
// CHECK:         linalg.matmul ins(%arg0, %{{.*}} : memref<8x64xf32>, memref<64x32xf32>)
// CHECK:         linalg.copy
func.func @read_again(%x: memref<8x64xf32>, %w: memref<32x64xf32>, %y: memref<8x32xf32>, %z: memref<64x32xf32>) {
  %wt = gpu.alloc () : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : memref<32x64xf32>) outs(%wt : memref<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%x, %wt : memref<8x64xf32>, memref<64x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.copy ins(%wt : memref<64x32xf32>) outs(%z : memref<64x32xf32>)
  gpu.dealloc %wt : memref<64x32xf32>
  return
}

// -----

// The weight is written between the copy and the matmul: the copy stays.
// CHECK-LABEL: func.func @source_written_between
// CHECK:         linalg.generic
// CHECK:         linalg.fill
// CHECK:         linalg.matmul ins(%arg0, %{{.*}} : memref<8x64xf32>, memref<64x32xf32>)
func.func @source_written_between(%x: memref<8x64xf32>, %w: memref<32x64xf32>, %y: memref<8x32xf32>) {
  %cst = arith.constant 1.0 : f32
  %wt = gpu.alloc () : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : memref<32x64xf32>) outs(%wt : memref<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.fill ins(%cst : f32) outs(%w : memref<32x64xf32>)
  linalg.matmul ins(%x, %wt : memref<8x64xf32>, memref<64x32xf32>) outs(%y : memref<8x32xf32>)
  gpu.dealloc %wt : memref<64x32xf32>
  return
}

// -----

// The buffer reused after the matmul (bufferization's: here a fill writes it
// whole) does not keep the copy; the buffer stays for its next use.
// CHECK-LABEL: func.func @reused
// CHECK-NOT:     linalg.generic
// CHECK:         gpu.alloc
// CHECK-NEXT:    memref.reinterpret_cast %arg1
// CHECK-NEXT:    linalg.matmul
// CHECK-NEXT:    linalg.fill
func.func @reused(%x: memref<8x64xf32>, %w: memref<32x64xf32>, %y: memref<8x32xf32>, %z: memref<64x32xf32>) {
  %cst = arith.constant 1.0 : f32
  %wt = gpu.alloc () : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : memref<32x64xf32>) outs(%wt : memref<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%x, %wt : memref<8x64xf32>, memref<64x32xf32>) outs(%y : memref<8x32xf32>)
  linalg.fill ins(%cst : f32) outs(%wt : memref<64x32xf32>)
  linalg.copy ins(%wt : memref<64x32xf32>) outs(%z : memref<64x32xf32>)
  gpu.dealloc %wt : memref<64x32xf32>
  return
}

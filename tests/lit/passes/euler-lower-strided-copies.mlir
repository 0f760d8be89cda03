// RUN: euler-opt %s --no-verify --split-input-file --euler-lower-strided-copies | FileCheck %s

// Half of each row (a gap of 32 elements): a linalg.copy, not memrefCopy.
// CHECK-LABEL: func.func @half_rows
// CHECK-NEXT: %[[V:.*]] = memref.subview
// CHECK-NEXT: linalg.copy {{.*}}ins(%arg0 : memref<4x32xf32>) outs(%[[V]] : memref<4x32xf32, strided<[64, 1], offset: 32>>)
// CHECK-NEXT: return
func.func @half_rows(%a: memref<4x32xf32>, %b: memref<4x64xf32>) {
  %v = memref.subview %b[0, 32] [4, 32] [1, 1] : memref<4x64xf32> to memref<4x32xf32, strided<[64, 1], offset: 32>>
  memref.copy %a, %v : memref<4x32xf32> to memref<4x32xf32, strided<[64, 1], offset: 32>>
  return
}

// -----

// Contiguous on both sides (strides of unit dims do not matter), or dynamic:
// left to the LLVM lowering's memcpy and the runtime's copy.
// CHECK-LABEL: func.func @contiguous
// CHECK-NEXT: memref.subview
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.copy
// CHECK-NEXT: return
func.func @contiguous(%a: memref<1x64xf32>, %b: memref<8x64xf32>, %c: memref<?x4xf32>, %d: memref<?x4xf32, strided<[8, 1]>>) {
  %v = memref.subview %b[3, 0] [1, 64] [1, 1] : memref<8x64xf32> to memref<1x64xf32, strided<[64, 1], offset: 192>>
  memref.copy %a, %v : memref<1x64xf32> to memref<1x64xf32, strided<[64, 1], offset: 192>>
  memref.copy %c, %d : memref<?x4xf32> to memref<?x4xf32, strided<[8, 1]>>
  return
}

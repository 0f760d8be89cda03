// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-device-buffers)' --split-input-file | FileCheck %s

// Arguments are the caller's device buffers: used as they are, no copies.
// CHECK-LABEL: func.func @add
// CHECK-NEXT: linalg.generic {{.*}} ins(%arg0, %arg0 : memref<4xf32>, memref<4xf32>) outs(%arg1 : memref<4xf32>)
// CHECK-NOT:  gpu.memcpy
// CHECK:      return
func.func @add(%arg0: memref<4xf32>, %arg1: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%arg0, %arg0 : memref<4xf32>, memref<4xf32>) outs(%arg1 : memref<4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Temporaries and constants live on the device; memref.copy becomes linalg.copy.
// CHECK-LABEL: func.func @temps
// CHECK-NEXT: %[[G:.*]] = memref.get_global @cst : memref<4xf32>
// CHECK-NEXT: %[[DG:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy  %[[DG]], %[[G]] : memref<4xf32>, memref<4xf32>
// CHECK-NEXT: %[[T:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK-NEXT: linalg.copy {{.*}}ins(%[[DG]] : memref<4xf32>) outs(%[[T]] : memref<4xf32>)
// CHECK-NEXT: %[[V:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1]] : memref<2x2xf32> into memref<4xf32>
// CHECK-NEXT: linalg.copy {{.*}}ins(%[[T]] : memref<4xf32>) outs(%[[V]] : memref<4xf32>)
// CHECK-NEXT: gpu.dealloc  %[[DG]] : memref<4xf32>
// CHECK-NEXT: gpu.dealloc  %[[T]] : memref<4xf32>
// CHECK-NEXT: return
memref.global "private" constant @cst : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @temps(%arg0: memref<2x2xf32>) {
  %g = memref.get_global @cst : memref<4xf32>
  %t = memref.alloc() : memref<4xf32>
  memref.copy %g, %t : memref<4xf32> to memref<4xf32>
  %v = memref.collapse_shape %arg0 [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  memref.copy %t, %v : memref<4xf32> to memref<4xf32>
  memref.dealloc %t : memref<4xf32>
  return
}

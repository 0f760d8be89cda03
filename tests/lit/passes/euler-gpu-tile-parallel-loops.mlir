// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-tile-parallel-loops)' --split-input-file | FileCheck %s

// A 100x70 matmul: blocks of 128x2 threads (innermost dimension on x), a
// guard for 70 % 128, and the accumulator carried in a register.
// CHECK-LABEL: func.func @matmul
// CHECK:      scf.parallel (%[[BI:.*]], %[[BJ:.*]]) = (%c0, %c0) to (%c100, %c70) step (%[[S2:.*]], %[[S128:.*]]) {
// CHECK:        scf.parallel (%[[TI:.*]], %[[TJ:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}) step
// CHECK-NEXT:     %[[I:.*]] = arith.addi %[[BI]], %[[TI]] : index
// CHECK-NEXT:     %[[J:.*]] = arith.addi %[[BJ]], %[[TJ]] : index
// CHECK-NEXT:     %[[IN:.*]] = arith.cmpi slt, %[[J]], %c70 : index
// CHECK-NEXT:     scf.if %[[IN]] {
// CHECK-NEXT:       %[[C0:.*]] = memref.load %arg2[%[[I]], %[[J]]] : memref<100x70xf32>
// CHECK-NEXT:       %[[ACC:.*]] = scf.for %[[K:.*]] = %c0 to %c300 step %c1 iter_args(%[[X:.*]] = %[[C0]]) -> (f32) {
// CHECK-NEXT:         memref.load %arg0[%[[I]], %[[K]]]
// CHECK-NEXT:         memref.load %arg1[%[[K]], %[[J]]]
// CHECK-NEXT:         %[[P:.*]] = arith.mulf
// CHECK-NEXT:         %[[S:.*]] = arith.addf %[[X]], %[[P]] : f32
// CHECK-NEXT:         scf.yield %[[S]] : f32
// CHECK-NEXT:       }
// CHECK-NEXT:       memref.store %[[ACC]], %arg2[%[[I]], %[[J]]] : memref<100x70xf32>
func.func @matmul(%arg0: memref<100x300xf32>, %arg1: memref<300x70xf32>, %arg2: memref<100x70xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c70 = arith.constant 70 : index
  %c100 = arith.constant 100 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c100, %c70) step (%c1, %c1) {
    scf.for %k = %c0 to %c300 step %c1 {
      %a = memref.load %arg0[%i, %k] : memref<100x300xf32>
      %b = memref.load %arg1[%k, %j] : memref<300x70xf32>
      %c = memref.load %arg2[%i, %j] : memref<100x70xf32>
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %c, %p : f32
      memref.store %s, %arg2[%i, %j] : memref<100x70xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A reduction over the leading dimension: the parallel loop moves outside.
// 256 divides 512: no guard.
// CHECK-LABEL: func.func @reduce_rows
// CHECK:      scf.parallel (%[[B:.*]]) = (%c0) to (%c512) step (%{{.*}}) {
// CHECK-NEXT:   scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK-NEXT:     %[[J:.*]] = arith.addi %[[B]], %[[T]] : index
// CHECK-NEXT:     memref.load %arg1[%[[J]]] : memref<512xf32>
// CHECK-NEXT:     scf.for %[[I:.*]] = %c0 to %c8 step %c1
// CHECK-NEXT:       memref.load %arg0[%[[I]], %[[J]]] : memref<8x512xf32>
func.func @reduce_rows(%arg0: memref<8x512xf32>, %arg1: memref<512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  scf.for %i = %c0 to %c8 step %c1 {
    scf.parallel (%j) = (%c0) to (%c512) step (%c1) {
      %x = memref.load %arg0[%i, %j] : memref<8x512xf32>
      %y = memref.load %arg1[%j] : memref<512xf32>
      %s = arith.addf %x, %y : f32
      memref.store %s, %arg1[%j] : memref<512xf32>
      scf.reduce
    }
  }
  return
}

// -----

// Memory accesses outside any parallel loop run in a single-thread kernel.
// CHECK-LABEL: func.func @scalar
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[O:.*]] = arith.constant 1 : index
// CHECK-NEXT: scf.parallel (%{{.*}}) = (%[[Z]]) to (%[[O]]) step (%[[O]]) {
// CHECK-NEXT:   %[[X:.*]] = memref.load %arg0[] : memref<f32>
// CHECK-NEXT:   %[[Y:.*]] = arith.addf %[[X]], %[[X]] : f32
// CHECK-NEXT:   memref.store %[[Y]], %arg1[] : memref<f32>
// CHECK-NEXT:   scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @scalar(%arg0: memref<f32>, %arg1: memref<f32>) {
  %x = memref.load %arg0[] : memref<f32>
  %y = arith.addf %x, %x : f32
  memref.store %y, %arg1[] : memref<f32>
  return
}

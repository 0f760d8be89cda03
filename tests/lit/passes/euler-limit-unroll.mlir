// RUN: euler-opt %s --split-input-file --euler-limit-unroll | FileCheck %s

// An im2col copy: 9 taps x 28 rows of vector<64xf32> (8 native vectors per
// load and per store). Fully unrolled, the row loop alone would be one block
// of 28 * 16 vector ops (over INNER_BUDGET): it keeps its loop, and the tap
// loop, 9 copies of a loop, is LLVM's to unroll.
// CHECK-LABEL: func.func @im2col
// CHECK: scf.for
// CHECK: scf.for
// CHECK: } {loop_annotation = #loop_annotation}
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @im2col(%src: memref<30x72xf32>, %dst: memref<9x28x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c9 = arith.constant 9 : index
  %c28 = arith.constant 28 : index
  scf.for %t = %c0 to %c9 step %c1 {
    %dy = arith.divui %t, %c3 : index
    %dx = arith.remui %t, %c3 : index
    scf.for %r = %c0 to %c28 step %c1 {
      %y = arith.addi %r, %dy : index
      %v = vector.load %src[%y, %dx] : memref<30x72xf32>, vector<64xf32>
      vector.store %v, %dst[%t, %r, %c0] : memref<9x28x64xf32>, vector<64xf32>
    }
  }
  return
}

// -----

// Left to LLVM: a small nest (2 x 4 scalar stores), an innermost loop too long
// for LLVM to unroll fully (it unrolls it partially, which helps), a loop of
// unknown trip count, and a reduction however wide (its unrolled copies
// overlap).
// CHECK-LABEL: func.func @small
// CHECK-NOT: loop_annotation
// CHECK: return
func.func @small(%m: memref<2x4xf32>, %n: memref<?xf32>, %k: index, %w: memref<16x64xf32>) -> vector<64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c4096 = arith.constant 4096 : index
  %z = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      memref.store %z, %m[%i, %j] : memref<2x4xf32>
    }
  }
  scf.for %i = %c0 to %c4096 step %c1 {
    memref.store %z, %n[%i] : memref<?xf32>
  }
  scf.for %i = %c0 to %k step %c1 {
    scf.for %j = %c0 to %c4096 step %c1 {
      memref.store %z, %n[%j] : memref<?xf32>
    }
  }
  %c16 = arith.constant 16 : index
  %zv = arith.constant dense<0.0> : vector<64xf32>
  %sum = scf.for %i = %c0 to %c16 step %c1 iter_args(%acc = %zv) -> vector<64xf32> {
    %row = vector.load %w[%i, %c0] : memref<16x64xf32>, vector<64xf32>
    %e = math.exp %row : vector<64xf32>
    %a = arith.addf %acc, %e : vector<64xf32>
    scf.yield %a : vector<64xf32>
  }
  return %sum : vector<64xf32>
}

// -----

// A nest of short rows: each row (4 x vector<32xf32>, 32 native ops, a
// narrow body) is LLVM's to unroll, but all 64 of them would be one block of
// 2048: the outer loop keeps its loop.
// CHECK-LABEL: func.func @rows
// CHECK: scf.for
// CHECK: scf.for
// CHECK: }
// CHECK-NOT: loop_annotation
// CHECK-NEXT: } {loop_annotation = #loop_annotation}
// CHECK-NEXT: return
func.func @rows(%src: memref<64x4x32xf32>, %dst: memref<64x4x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %v = vector.load %src[%i, %j, %c0] : memref<64x4x32xf32>, vector<32xf32>
      vector.store %v, %dst[%i, %j, %c0] : memref<64x4x32xf32>, vector<32xf32>
    }
  }
  return
}

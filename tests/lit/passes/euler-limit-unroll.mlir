// RUN: euler-opt %s --split-input-file --euler-limit-unroll | FileCheck %s

// An im2col copy: 9 taps x 28 rows of vector<28xf32> (4 native vectors per
// load and per store) would unroll into 9 * 28 * 8 vector ops in one block:
// the tap loop keeps its loop; the row loop, innermost, is LLVM's to unroll.
// CHECK-LABEL: func.func @im2col
// CHECK: scf.for
// CHECK: scf.for
// CHECK-NOT: loop_annotation
// CHECK: } {loop_annotation = #loop_annotation}
// CHECK-NEXT: return
func.func @im2col(%src: memref<30x30xf32>, %dst: memref<9x28x28xf32>) {
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
      %v = vector.load %src[%y, %dx] : memref<30x30xf32>, vector<28xf32>
      vector.store %v, %dst[%t, %r, %c0] : memref<9x28x28xf32>, vector<28xf32>
    }
  }
  return
}

// -----

// Left to LLVM: a small nest (2 x 4 scalar stores), an innermost loop however
// long, and a loop of unknown trip count.
// CHECK-LABEL: func.func @small
// CHECK-NOT: loop_annotation
// CHECK: return
func.func @small(%m: memref<2x4xf32>, %n: memref<?xf32>, %k: index) {
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
  return
}

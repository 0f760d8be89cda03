// RUN: euler-opt %s --split-input-file --euler-bare-pointer-calls | FileCheck %s

// Static identity-layout memrefs everywhere: one pointer per memref, at the
// definition and at the call alike.
// CHECK-LABEL: llvm.func @kernel
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
func.func private @kernel(%a: memref<4x8xf32>, %b: memref<8xf32>) {
  return
}

// CHECK-LABEL: llvm.func @main
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.call @kernel(%{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr) -> ()
func.func @main(%a: memref<4x8xf32>, %b: memref<8xf32>) {
  call @kernel(%a, %b) : (memref<4x8xf32>, memref<8xf32>) -> ()
  return
}

// -----

// One dynamic shape: the whole module keeps descriptors (a function and its
// callers must agree), so nothing changes.
// CHECK-LABEL: func.func private @dynamic
// CHECK-SAME: memref<?xf32>
func.func private @dynamic(%a: memref<?xf32>) {
  return
}

// CHECK-LABEL: func.func @caller
// CHECK-SAME: memref<8xf32>
func.func @caller(%a: memref<8xf32>) {
  return
}

// -----

// Zero-size dimensions keep descriptors too.
// CHECK-LABEL: func.func @empty
// CHECK-SAME: memref<3x0xf32>
func.func @empty(%a: memref<3x0xf32>) {
  return
}

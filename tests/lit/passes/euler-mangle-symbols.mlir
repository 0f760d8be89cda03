// RUN: euler-opt %s --euler-mangle-symbols | FileCheck %s

// Public functions get the prefix, calls follow; private declarations (libm's) keep their names.
// CHECK-LABEL: func.func @euler_exp
// CHECK-NEXT: math.exp
func.func @exp(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// CHECK-LABEL: func.func @euler_main
// CHECK-NEXT: call @euler_exp
// CHECK-NEXT: call @expf
func.func @main(%x: f32) -> f32 {
  %0 = call @exp(%x) : (f32) -> f32
  %1 = call @expf(%0) : (f32) -> f32
  return %1 : f32
}

// CHECK: func.func private @expf
func.func private @expf(f32) -> f32

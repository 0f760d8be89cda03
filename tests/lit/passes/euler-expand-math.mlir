// RUN: euler-opt %s --no-verify --split-input-file --euler-expand-math | FileCheck %s

// f32 exp becomes range reduction (round(x/ln2), two-part ln2), a Cephes
// polynomial in FMAs and a 2^n built in the exponent bits: no libm call.
// CHECK-LABEL: func.func @exp
// CHECK-NOT: math.exp
// CHECK: math.roundeven
// CHECK: math.fma
// CHECK: arith.fptosi {{.*}} : f32 to i32
// CHECK: arith.shli
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: arith.cmpf uno
// CHECK: return
func.func @exp(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// -----

// Vectors keep their shape; the constants are splats.
// CHECK-LABEL: func.func @tanh_vector
// CHECK-NOT: math.tanh
// CHECK: arith.constant dense<2.500000e-01> : vector<16xf32>
// CHECK: math.copysign {{.*}} : vector<16xf32>
// CHECK-NEXT: return
func.func @tanh_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %0 = math.tanh %x : vector<16xf32>
  return %0 : vector<16xf32>
}

// -----

// erf: Taylor series near 0, the erfc fit (which needs exp) elsewhere.
// CHECK-LABEL: func.func @erf_in_generic
// CHECK: linalg.generic
// CHECK-NOT: math.erf
// CHECK: math.roundeven
// CHECK: math.copysign
// CHECK-NEXT: linalg.yield
func.func @erf_in_generic(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = math.erf %in : f32
    linalg.yield %1 : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Only f32 is expanded: f64 keeps libm's accuracy.
// CHECK-LABEL: func.func @f64_untouched
// CHECK-NEXT: math.exp %arg0 : f64
func.func @f64_untouched(%x: f64) -> f64 {
  %0 = math.exp %x : f64
  return %0 : f64
}

// RUN: euler-opt %s --no-verify --split-input-file --euler-profile-kernels | FileCheck %s

// Each kernel call is bracketed by clock reads, its time and one call added
// to its row (kernels by number, then the public function's whole call); a
// second call of one kernel adds to the same row.
// CHECK: module attributes {euler.profile = [{name = "__euler_kernel_0", ops = "generic(parallel x1: mulf) [4 -> 4]", source = "{{.*}}euler-profile-kernels.mlir:{{[0-9]+}}:{{[0-9]+}}"}, {name = "__euler_kernel_1", ops = "generic(parallel x1: addf) [4, 4 -> 4]", source = {{.*}}}, {name = "@main", ops = "(whole call)", source = ""}]}
// CHECK: func.func private @__euler_profile_now() -> i64
// CHECK: memref.global @__euler_profile_counters : memref<3x2xi64>
// CHECK-LABEL: func.func @main
// CHECK-NEXT: %[[CTR:.*]] = memref.get_global @__euler_profile_counters
// CHECK-NEXT: %[[R0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[R1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[R2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[START:.*]] = call @__euler_profile_now()
// CHECK-NEXT: %[[B0:.*]] = call @__euler_profile_now()
// CHECK-NEXT: %[[A:.*]] = call @__euler_kernel_0(%arg0)
// CHECK-NEXT: %[[E0:.*]] = call @__euler_profile_now()
// CHECK-NEXT: %[[D0:.*]] = arith.subi %[[E0]], %[[B0]]
// CHECK-NEXT: %[[T0:.*]] = memref.load %[[CTR]][%[[R0]], %[[R0]]]
// CHECK-NEXT: %[[S0:.*]] = arith.addi %[[T0]], %[[D0]]
// CHECK-NEXT: memref.store %[[S0]], %[[CTR]][%[[R0]], %[[R0]]]
// CHECK-NEXT: %[[C0:.*]] = memref.load %[[CTR]][%[[R0]], %[[R1]]]
// CHECK-NEXT: %[[N0:.*]] = arith.addi %[[C0]], %[[ONE]]
// CHECK-NEXT: memref.store %[[N0]], %[[CTR]][%[[R0]], %[[R1]]]
// CHECK-NEXT: call @__euler_profile_now()
// CHECK-NEXT: %[[B:.*]] = call @__euler_kernel_0(%[[A]])
// CHECK: memref.load %[[CTR]][%[[R0]], %[[R1]]]
// CHECK: call @__euler_kernel_1(%[[A]], %[[B]])
// CHECK: memref.store {{.*}}, %[[CTR]][%[[R1]], %[[R1]]]
// CHECK-NEXT: %[[END:.*]] = call @__euler_profile_now()
// CHECK-NEXT: arith.subi %[[END]], %[[START]]
// CHECK: memref.store {{.*}}, %[[CTR]][%[[R2]], %[[R1]]]
// CHECK-NEXT: return
func.func private @__euler_kernel_0(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func private @__euler_kernel_1(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%x, %y : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = call @__euler_kernel_0(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %b = call @__euler_kernel_0(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %c = call @__euler_kernel_1(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

// A module without a public function is left alone.
// CHECK-LABEL: module {
// CHECK-NOT: euler.profile
// CHECK-NOT: __euler_profile
// CHECK: func.func private @f
func.func private @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// Found by `euler fuzz --seed 99` (program 420, f16 matmuls): a function
// returning one value twice segfaulted at -O1 and above (euler-cse merges the
// two matmuls; upstream buffer-results-to-out-params then crashed). Fixed by
// euler-distinct-results. Reduced by fuzz/reduce.py.
// RUN: euler compare %s | FileCheck %s
// CHECK: @main -O0: match
// CHECK-NEXT: @main -O1: match
// CHECK-NEXT: @main -O2: match
// CHECK-NEXT: @main -O3: match
func.func @main(%arg0: tensor<6x6xf16>, %arg1: tensor<1x1xf16>) -> (tensor<6x6xf16>, tensor<1x1xf16>, tensor<6x6xf16>) {
  %0 = "euler.matmul"(%arg0, %arg0) : (tensor<6x6xf16>, tensor<6x6xf16>) -> tensor<6x6xf16>
  %1 = "euler.matmul"(%arg0, %arg0) : (tensor<6x6xf16>, tensor<6x6xf16>) -> tensor<6x6xf16>
  return %0, %arg1, %1 : tensor<6x6xf16>, tensor<1x1xf16>, tensor<6x6xf16>
}

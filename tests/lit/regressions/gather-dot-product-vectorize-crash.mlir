// Reduced by `euler fuzz` from program 315 of `euler fuzz --seed 31`.
// It was a crash at -O3: the matmul schedule vectorized a one-element gather of the 1x1
// tile's 0-d type into an invalid vector.gather (operand #2 not a vector).
// RUN: euler compare %s -O 3 | FileCheck %s
// CHECK: @main -O3: match
func.func @main(%arg0: tensor<3xf32>, %arg1: tensor<5x1xf32>, %arg2: tensor<1x1x1xf32>, %arg3: tensor<1x5xf32>) -> (tensor<3xf32>, tensor<1xf32>, tensor<1x1xf32>, tensor<1x1x1xf32>) {
  %0 = "euler.constant"() {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %1 = "euler.gather"(%arg0, %0) {axis = 0 : i64} : (tensor<3xf32>, tensor<1xi64>) -> tensor<1xf32>
  %2 = "euler.matmul"(%arg3, %arg1) : (tensor<1x5xf32>, tensor<5x1xf32>) -> tensor<1x1xf32>
  return %arg0, %1, %2, %arg2 : tensor<3xf32>, tensor<1xf32>, tensor<1x1xf32>, tensor<1x1x1xf32>
}

// RUN: euler-opt %s --split-input-file --euler-dce | FileCheck %s

// An unused chain goes entirely (upstream canonicalize keeps IRDL ops, which
// it must assume have side effects); used ops and other dialects' ops stay.
// CHECK-LABEL: func.func @dead_chain
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[E:.*]] = "euler.exp"(%[[X]])
// CHECK-NEXT: %[[T:.*]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT: return %[[E]], %[[T]]
func.func @dead_chain(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<8xf32>) {
  %c = "euler.constant"() {value = dense<2.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %0 = "euler.mul"(%x, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.relu"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "euler.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  %3 = "euler.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %4 = tensor.empty() : tensor<8xf32>
  return %3, %4 : tensor<4xf32>, tensor<8xf32>
}

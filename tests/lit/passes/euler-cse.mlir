// RUN: euler-opt %s --split-input-file --euler-cse | FileCheck %s

// Identical euler ops merge (upstream `cse` leaves IRDL ops alone); ops that
// differ in an operand, an attribute or a result type do not.
// CHECK-LABEL: func.func @merge
// CHECK-SAME: (%[[A:.*]]: tensor<4x4xf32>, %[[B:.*]]: tensor<4x4xf32>)
// CHECK-NEXT: %[[M:.*]] = "euler.matmul"(%[[A]], %[[B]])
// CHECK-NEXT: %[[N:.*]] = "euler.matmul"(%[[B]], %[[A]])
// CHECK-NEXT: %[[T:.*]] = "euler.transpose"(%[[M]]) {perm = array<i64: 1, 0>}
// CHECK-NEXT: %[[S:.*]] = "euler.reduce_sum"(%[[M]]) {axes = array<i64: 0>}
// CHECK-NEXT: %[[K:.*]] = "euler.reduce_sum"(%[[M]]) {axes = array<i64: 0>, keepdims = true}
// CHECK-NEXT: return %[[M]], %[[M]], %[[M]], %[[N]], %[[T]], %[[T]], %[[S]], %[[K]]
func.func @merge(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>,
        tensor<4x4xf32>, tensor<4xf32>, tensor<1x4xf32>) {
  %0 = "euler.matmul"(%a, %b) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = "euler.matmul"(%a, %b) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = "euler.matmul"(%a, %b) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %3 = "euler.matmul"(%b, %a) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %4 = "euler.transpose"(%0) {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %5 = "euler.transpose"(%1) {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %6 = "euler.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<4x4xf32>) -> tensor<4xf32>
  %7 = "euler.reduce_sum"(%2) {axes = array<i64: 0>, keepdims = true} : (tensor<4x4xf32>) -> tensor<1x4xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<1x4xf32>
}

// -----

// Equal constants merge; constants of different values or types do not.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT: %[[C:.*]] = "euler.constant"() {value = dense<1.000000e+00> : tensor<2xf32>}
// CHECK-NEXT: %[[D:.*]] = "euler.constant"() {value = dense<2.000000e+00> : tensor<2xf32>}
// CHECK-NEXT: %[[E:.*]] = "euler.constant"() {value = dense<1.000000e+00> : tensor<2xf64>}
// CHECK-NEXT: return %[[C]], %[[C]], %[[D]], %[[E]]
func.func @constants() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf64>) {
  %0 = "euler.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %1 = "euler.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %2 = "euler.constant"() {value = dense<2.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %3 = "euler.constant"() {value = dense<1.0> : tensor<2xf64>} : () -> tensor<2xf64>
  return %0, %1, %2, %3 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf64>
}

// -----

// Functions are isolated: equal ops in two functions both stay.
// CHECK-LABEL: func.func @first
// CHECK-NEXT: "euler.exp"
// CHECK-NEXT: return
// CHECK-LABEL: func.func @second
// CHECK-NEXT: "euler.exp"
// CHECK-NEXT: return
func.func @first(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "euler.exp"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
func.func @second(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "euler.exp"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

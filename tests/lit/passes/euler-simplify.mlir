// RUN: euler-opt %s --split-input-file --euler-simplify | FileCheck %s

// x+0, 0+x, x-0, x*1, 1*x, x/1 and x**1 with splat constants are x.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]] : tensor<2x3xf32>
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = "euler.constant"() {value = dense<0.0> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %one = "euler.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %0 = "euler.add"(%x, %zero) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "euler.add"(%zero, %0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "euler.sub"(%1, %zero) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "euler.mul"(%2, %one) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %4 = "euler.mul"(%one, %3) : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = "euler.div"(%4, %one) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %6 = "euler.pow"(%5, %one) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %6 : tensor<2x3xf32>
}

// -----

// An identity that broadcasts x to a larger shape must stay; 1/x is not an
// identity; a non-splat constant is never one.
// CHECK-LABEL: func.func @not_identities
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK-NEXT: %[[Z:.*]] = "euler.constant"() {value = dense<0.000000e+00> : tensor<2x3xf32>}
// CHECK-NEXT: %[[B:.*]] = "euler.add"(%[[X]], %[[Z]]) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[O:.*]] = "euler.constant"() {value = dense<1.000000e+00> : tensor<f32>}
// CHECK-NEXT: %[[R:.*]] = "euler.div"(%[[O]], %[[X]]) : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT: %[[V:.*]] = "euler.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 1.000000e+00]> : tensor<3xf32>}
// CHECK-NEXT: %[[M:.*]] = "euler.mul"(%[[R]], %[[V]]) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT: return %[[B]], %[[M]]
func.func @not_identities(%x: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %zeros = "euler.constant"() {value = dense<0.0> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %b = "euler.add"(%x, %zeros) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %one = "euler.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %r = "euler.div"(%one, %x) : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %v = "euler.constant"() {value = dense<[1.0, 2.0, 1.0]> : tensor<3xf32>} : () -> tensor<3xf32>
  %m = "euler.mul"(%r, %v) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %b, %m : tensor<2x3xf32>, tensor<3xf32>
}

// -----

// x * -1 and 0 - x are neg(x); x ** 2 is x * x.
// CHECK-LABEL: func.func @negate_and_square
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[N:.*]] = "euler.neg"(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[S:.*]] = "euler.mul"(%[[N]], %[[N]]) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[M:.*]] = "euler.neg"(%[[S]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: return %[[M]]
func.func @negate_and_square(%x: tensor<4xf32>) -> tensor<4xf32> {
  %m1 = "euler.constant"() {value = dense<-1.0> : tensor<f32>} : () -> tensor<f32>
  %two = "euler.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %zero = "euler.constant"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %0 = "euler.mul"(%m1, %x) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.pow"(%0, %two) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %2 = "euler.sub"(%zero, %1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// x ** 3 is (x * x) * x (GPT-2's tanh GELU); x ** 4 and x ** 0.5 stay.
// CHECK-LABEL: func.func @cube
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[F:.*]] = "euler.constant"() {value = dense<4.000000e+00> : tensor<f32>}
// CHECK-NEXT: %[[S:.*]] = "euler.mul"(%[[X]], %[[X]]) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[C:.*]] = "euler.mul"(%[[S]], %[[X]]) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[Q:.*]] = "euler.pow"(%[[C]], %[[F]])
// CHECK-NEXT: return %[[Q]]
func.func @cube(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = "euler.constant"() {value = dense<3.0> : tensor<f32>} : () -> tensor<f32>
  %four = "euler.constant"() {value = dense<4.0> : tensor<f32>} : () -> tensor<f32>
  %0 = "euler.pow"(%x, %three) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %1 = "euler.pow"(%0, %four) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @involutions
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[R:.*]] = "euler.relu"(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT: return %[[X]], %[[R]]
func.func @involutions(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = "euler.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.neg"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "euler.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "euler.relu"(%2) : (tensor<4xf32>) -> tensor<4xf32>
  %4 = "euler.relu"(%3) : (tensor<4xf32>) -> tensor<4xf32>
  return %1, %4 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Two transposes compose (z's dim i is x's dim p1[p2[i]]) or cancel; an
// identity permutation is dropped.
// CHECK-LABEL: func.func @transposes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = "euler.transpose"(%[[X]]) {perm = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK-NEXT: return %[[T]], %[[X]], %[[X]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = "euler.transpose"(%x) {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = "euler.transpose"(%0) {perm = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
  %2 = "euler.transpose"(%0) {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  %3 = "euler.transpose"(%x) {perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1, %2, %3 : tensor<4x3x2xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @reshapes_and_broadcasts
// CHECK-SAME: (%[[X:.*]]: tensor<6xf32>, %[[Y:.*]]: tensor<3xf32>)
// CHECK-NEXT: %[[R:.*]] = "euler.reshape"(%[[X]]) : (tensor<6xf32>) -> tensor<3x2xf32>
// CHECK-NEXT: %[[B:.*]] = "euler.broadcast_to"(%[[Y]]) : (tensor<3xf32>) -> tensor<5x4x3xf32>
// CHECK-NEXT: return %[[R]], %[[X]], %[[B]], %[[Y]]
func.func @reshapes_and_broadcasts(%x: tensor<6xf32>, %y: tensor<3xf32>)
    -> (tensor<3x2xf32>, tensor<6xf32>, tensor<5x4x3xf32>, tensor<3xf32>) {
  %0 = "euler.reshape"(%x) : (tensor<6xf32>) -> tensor<2x3xf32>
  %1 = "euler.reshape"(%0) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %2 = "euler.reshape"(%1) : (tensor<3x2xf32>) -> tensor<6xf32>
  %3 = "euler.broadcast_to"(%y) : (tensor<3xf32>) -> tensor<4x3xf32>
  %4 = "euler.broadcast_to"(%3) : (tensor<4x3xf32>) -> tensor<5x4x3xf32>
  %5 = "euler.broadcast_to"(%y) : (tensor<3xf32>) -> tensor<3xf32>
  return %1, %2, %4, %5 : tensor<3x2xf32>, tensor<6xf32>, tensor<5x4x3xf32>, tensor<3xf32>
}

// -----

// A reduction over size-1 axes only is a reshape (or nothing, with keepdims);
// one over a larger axis stays.
// CHECK-LABEL: func.func @unit_reductions
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x1xf32>)
// CHECK-NEXT: %[[S:.*]] = "euler.reshape"(%[[X]]) : (tensor<1x4x1xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[M:.*]] = "euler.reshape"(%[[X]]) : (tensor<1x4x1xf32>) -> tensor<4x1xf32>
// CHECK-NEXT: %[[K:.*]] = "euler.reduce_sum"(%[[X]]) {axes = array<i64: 1>} : (tensor<1x4x1xf32>) -> tensor<1x1xf32>
// CHECK-NEXT: return %[[S]], %[[M]], %[[X]], %[[K]]
func.func @unit_reductions(%x: tensor<1x4x1xf32>)
    -> (tensor<4xf32>, tensor<4x1xf32>, tensor<1x4x1xf32>, tensor<1x1xf32>) {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 0, 2>} : (tensor<1x4x1xf32>) -> tensor<4xf32>
  %1 = "euler.reduce_max"(%x) {axes = array<i64: 0>} : (tensor<1x4x1xf32>) -> tensor<4x1xf32>
  %2 = "euler.reduce_mean"(%x) {axes = array<i64: -1>, keepdims = true} : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %3 = "euler.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<1x4x1xf32>) -> tensor<1x1xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4x1xf32>, tensor<1x4x1xf32>, tensor<1x1xf32>
}

// -----

// A splat operand whose partner already has the result type becomes a rank-0
// constant; a splat that decides the result shape stays as it is.
// CHECK-LABEL: func.func @scalars
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>)
// CHECK-NEXT: %[[C:.*]] = "euler.constant"() {value = dense<3.000000e+00> : tensor<f32>} : () -> tensor<f32>
// CHECK-NEXT: %[[M:.*]] = "euler.mul"(%[[X]], %[[C]]) : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[H:.*]] = "euler.constant"() {value = dense<5.000000e-01> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
// CHECK-NEXT: %[[D:.*]] = "euler.constant"() {value = dense<5.000000e-01> : tensor<f32>} : () -> tensor<f32>
// CHECK-NEXT: %[[Q:.*]] = "euler.div"(%[[D]], %[[M]]) : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[B:.*]] = "euler.add"(%[[Y]], %[[H]]) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: return %[[Q]], %[[B]]
func.func @scalars(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %three = "euler.constant"() {value = dense<3.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %0 = "euler.mul"(%x, %three) : (tensor<2x3xf32>, tensor<1x1xf32>) -> tensor<2x3xf32>
  %half = "euler.constant"() {value = dense<0.5> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %1 = "euler.div"(%half, %0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "euler.add"(%y, %half) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1, %2 : tensor<2x3xf32>, tensor<2x3xf32>
}

// RUN: euler-opt %s --split-input-file --euler-fold-constants | FileCheck %s

// A weight transpose and a reshape of constants are evaluated; the matmul on
// the argument stays, and the original constant goes once unused.
// CHECK-LABEL: func.func @weight_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[W:.*]] = "euler.constant"() {value = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>} : () -> tensor<3x2xf32>
// CHECK-NEXT: %[[Y:.*]] = "euler.matmul"(%[[X]], %[[W]]) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
// CHECK-NEXT: %[[B:.*]] = "euler.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00]> : tensor<6xf32>} : () -> tensor<6xf32>
// CHECK-NEXT: return %[[Y]], %[[B]]
func.func @weight_transpose(%x: tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<6xf32>) {
  %w = "euler.constant"() {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  %wt = "euler.transpose"(%w) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = "euler.matmul"(%x, %wt) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %flat = "euler.reshape"(%w) : (tensor<2x3xf32>) -> tensor<6xf32>
  return %y, %flat : tensor<2x2xf32>, tensor<6xf32>
}

// -----

// A chain folds in one sweep; splat results stay splats.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[C:.*]] = "euler.constant"() {value = dense<-6.000000e+00> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
// CHECK-NEXT: %[[S:.*]] = "euler.constant"() {value = dense<[2.000000e+00, 4.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
// CHECK-NEXT: return %[[C]], %[[S]]
func.func @chain() -> (tensor<4x8xf32>, tensor<2xf32>) {
  %a = "euler.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %b = "euler.constant"() {value = dense<3.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %0 = "euler.mul"(%a, %b) : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = "euler.broadcast_to"(%0) : (tensor<8xf32>) -> tensor<4x8xf32>
  %2 = "euler.neg"(%1) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = "euler.constant"() {value = dense<[[1.0, 1.0], [1.0, 3.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %3 = "euler.reduce_sum"(%m) {axes = array<i64: 0>} : (tensor<2x2xf32>) -> tensor<2xf32>
  return %2, %3 : tensor<4x8xf32>, tensor<2xf32>
}

// -----

// Ops with a non-constant operand stay; so does an f16 cast of a constant,
// folded into an f16 constant.
// CHECK-LABEL: func.func @partial
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>)
// CHECK-NEXT: %[[C:.*]] = "euler.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
// CHECK-NEXT: %[[A:.*]] = "euler.add"(%[[X]], %[[C]]) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[H:.*]] = "euler.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf16>} : () -> tensor<2xf16>
// CHECK-NEXT: return %[[A]], %[[H]]
func.func @partial(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf16>) {
  %c = "euler.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %0 = "euler.add"(%x, %c) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = "euler.cast"(%c) : (tensor<2xf32>) -> tensor<2xf16>
  return %0, %1 : tensor<2xf32>, tensor<2xf16>
}

// -----

// A result over the 64 MiB cap is not baked into the IR: broadcasting a
// non-splat pair to 4096x4097x2 f32 would store 128 MiB.
// CHECK-LABEL: func.func @too_large
// CHECK-NEXT: %[[R:.*]] = "euler.constant"() {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>}
// CHECK-NEXT: %[[B:.*]] = "euler.broadcast_to"(%[[R]]) : (tensor<2xf32>) -> tensor<4096x4097x2xf32>
// CHECK-NEXT: return %[[B]]
func.func @too_large() -> tensor<4096x4097x2xf32> {
  %r = "euler.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "euler.broadcast_to"(%r) : (tensor<2xf32>) -> tensor<4096x4097x2xf32>
  return %b : tensor<4096x4097x2xf32>
}

// -----

// A splat result is stored as one element, so the cap does not apply
// to it (this one is just over 64 MiB).
// CHECK-LABEL: func.func @large_splat
// CHECK-NEXT: %[[C:.*]] = "euler.constant"() {value = dense<-1.000000e+00> : tensor<4096x4097xf32>}
// CHECK-NEXT: return %[[C]]
func.func @large_splat() -> tensor<4096x4097xf32> {
  %r = "euler.constant"() {value = dense<1.0> : tensor<4097xf32>} : () -> tensor<4097xf32>
  %b = "euler.broadcast_to"(%r) : (tensor<4097xf32>) -> tensor<4096x4097xf32>
  %n = "euler.neg"(%b) : (tensor<4096x4097xf32>) -> tensor<4096x4097xf32>
  return %n : tensor<4096x4097xf32>
}

// -----

// A gather index out of range is left for run time to report.
// CHECK-LABEL: func.func @bad_index
// CHECK-NEXT: "euler.constant"
// CHECK-NEXT: "euler.constant"
// CHECK-NEXT: "euler.gather"
// CHECK-NEXT: return
func.func @bad_index() -> tensor<1xf32> {
  %t = "euler.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %i = "euler.constant"() {value = dense<[5]> : tensor<1xi64>} : () -> tensor<1xi64>
  %0 = "euler.gather"(%t, %i) : (tensor<2xf32>, tensor<1xi64>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

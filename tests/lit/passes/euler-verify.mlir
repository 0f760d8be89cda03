// RUN: not euler-opt %s --no-verify --euler-verify --split-input-file 2>/dev/null | FileCheck %s
// RUN: not euler-opt %s --no-verify --euler-verify --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR

// Well-typed IR passes through unchanged.
// CHECK-LABEL: func.func @ok
// CHECK-NEXT: "euler.softmax"(%arg0) {axis = -2 : i64}
func.func @ok(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = "euler.softmax"(%x) {axis = -2 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// A result type the shape rule disagrees with.
// CHECK-NOT: @bad_result
// ERR: euler-verify.mlir:[[@LINE+2]]:8: error: 'euler.reduce_sum' op result type tensor<4x8xf32> does not match the inferred type tensor<4xf32>
func.func @bad_result(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

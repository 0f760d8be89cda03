// RUN: not euler-opt %s --split-input-file --no-verify --convert-euler-to-linalg 2>&1 | FileCheck %s

// The pass re-checks each op's shape rule before lowering it, so running it
// without euler-verify still reports a diagnostic at the op, not a traceback.

// CHECK: convert-euler-to-linalg-invalid.mlir:[[@LINE+2]]:8: error: 'euler.matmul' op contracting dimensions differ: 16 vs 8
func.func @bad_matmul(%a: tensor<8x16xf32>, %b: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<8x16xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

// CHECK: convert-euler-to-linalg-invalid.mlir:[[@LINE+2]]:8: error: 'euler.conv2d' op channels (3) and filters (4) must be divisible by groups (2)
func.func @bad_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %0 = "euler.conv2d"(%x, %w) {groups = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// CHECK: convert-euler-to-linalg-invalid.mlir:[[@LINE+2]]:8: error: 'euler.reduce_sum' op axes [1, -1] repeat an axis
func.func @bad_axes(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
// CHECK-NOT: has no lowering

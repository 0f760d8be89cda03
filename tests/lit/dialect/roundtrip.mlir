// RUN: euler-opt %s --split-input-file | euler-opt --split-input-file | FileCheck %s
// RUN: mlir-opt --irdl-file=%irdl %s --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @mlp
func.func @mlp(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  // CHECK-NEXT: %[[MM:.*]] = "euler.matmul"(%arg0, %arg1) : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: %[[ADD:.*]] = "euler.add"(%[[MM]], %arg2) : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: %[[G:.*]] = "euler.gelu"(%[[ADD]]) {approximate = "tanh"} : (tensor<8x32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: return %[[G]]
  %0 = "euler.matmul"(%x, %w) : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %1 = "euler.add"(%0, %b) : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = "euler.gelu"(%1) {approximate = "tanh"} : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %2 : tensor<8x32xf32>
}

// -----

// CHECK-LABEL: func.func @shape_ops
func.func @shape_ops(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  // CHECK-NEXT: "euler.transpose"(%arg0) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK-NEXT: "euler.reshape"
  // CHECK-SAME: (tensor<4x2x3xf32>) -> tensor<4x6xf32>
  %0 = "euler.transpose"(%x) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = "euler.reshape"(%0) : (tensor<4x2x3xf32>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @nn_ops
func.func @nn_ops(%x: tensor<1x4x8x8xf32>, %w: tensor<8x2x3x3xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x2x8x8xf32> {
  // CHECK-NEXT: "euler.conv2d"(%arg0, %arg1) {dilations = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 1>, strides = array<i64: 1, 1>}
  // CHECK-NEXT: "euler.max_pool2d"({{.*}}) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 1>}
  // CHECK-NEXT: "euler.softmax"({{.*}}) {axis = -1 : i64}
  // CHECK-NEXT: "euler.layer_norm"({{.*}}) {axis = 3 : i64, epsilon = 9.99999974E-6 : f32}
  // CHECK-NEXT: "euler.reduce_mean"({{.*}}) {axes = array<i64: 1>, keepdims = true}
  // CHECK-NEXT: "euler.concat"({{.*}}) {axis = 1 : i64, operandSegmentSizes = array<i32: 2, 0, 0, 0, 0, 0, 0, 0>}
  %0 = "euler.conv2d"(%x, %w) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x8x8xf32>
  %1 = "euler.max_pool2d"(%0) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 1>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x7xf32>
  %2 = "euler.softmax"(%1) {axis = -1 : i64} : (tensor<1x8x4x7xf32>) -> tensor<1x8x4x7xf32>
  %3 = "euler.layer_norm"(%0, %g, %b) {axis = 3 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8x8x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
  %4 = "euler.reduce_mean"(%3) {axes = array<i64: 1>, keepdims = true} : (tensor<1x8x8x8xf32>) -> tensor<1x1x8x8xf32>
  %5 = "euler.concat"(%4, %4) {axis = 1 : i64, operandSegmentSizes = array<i32: 2, 0, 0, 0, 0, 0, 0, 0>} : (tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %5 : tensor<1x2x8x8xf32>
}

// -----

// Operands of different shapes in one concat; constant padding.
// CHECK-LABEL: func.func @concat_mixed_pad
func.func @concat_mixed_pad(%a: tensor<1xf32>, %b: tensor<3xf32>) -> tensor<8xf32> {
  // CHECK-NEXT: "euler.concat"(%arg0, %arg1, %arg0) {axis = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<1xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<5xf32>
  // CHECK-NEXT: "euler.pad"({{.*}}) {fill = -1.000000e+00 : f32, high = array<i64: 2>, low = array<i64: 1>} : (tensor<5xf32>) -> tensor<8xf32>
  %0 = "euler.concat"(%a, %b, %a) {axis = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<1xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<5xf32>
  %1 = "euler.pad"(%0) {low = array<i64: 1>, high = array<i64: 2>, fill = -1.0 : f32} : (tensor<5xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// RUN: not euler-opt %s --split-input-file --euler-verify 2>&1 | FileCheck %s
// Every kind of bad euler input gets a diagnostic at its file:line:col.

func.func @parse_error(%a: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:58: error: expected '>' in tensor type
  %0 = "euler.relu"(%a) : (tensor<2xf32>) -> tensor<2xf32
  return %0 : tensor<2xf32>
}

// -----

func.func @unknown_op(%a: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: unregistered operation 'euler.bogus' found in dialect ('euler')
  %0 = "euler.bogus"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @operand_count(%a: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: op expects exactly 2 operands, but got 1
  %0 = "euler.add"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul_inner_dims(%a: tensor<8x16xf32>, %b: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.matmul' op contracting dimensions differ: 16 vs 8
  %0 = "euler.matmul"(%a, %b) : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

func.func @not_broadcastable(%a: tensor<3x4xf32>, %b: tensor<5xf32>) -> tensor<3x4xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.add' op operands are not broadcastable: [3, 4] vs [5]
  %0 = "euler.add"(%a, %b) : (tensor<3x4xf32>, tensor<5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @reshape_size(%a: tensor<3x4xf32>) -> tensor<5x2xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.reshape' op cannot reshape tensor<3x4xf32> (12 elements) to tensor<5x2xf32> (10 elements)
  %0 = "euler.reshape"(%a) : (tensor<3x4xf32>) -> tensor<5x2xf32>
  return %0 : tensor<5x2xf32>
}

// -----

func.func @bad_perm(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.transpose' op 'perm' [1, 1] is not a permutation of 0..1
  %0 = "euler.transpose"(%a) {perm = array<i64: 1, 1>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @axis_out_of_range(%a: tensor<3x4xf32>) -> tensor<3x4xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.softmax' op axis 2 is out of range for rank 2
  %0 = "euler.softmax"(%a) {axis = 2 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @reduce_axis_out_of_range(%a: tensor<3x4xf32>) -> tensor<3xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.reduce_sum' op axis -3 is out of range for rank 2
  %0 = "euler.reduce_sum"(%a) {axes = array<i64: -3>} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @zero_stride(%x: tensor<1x2x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.conv2d' op 'strides' must be positive, got [0, 1]
  %0 = "euler.conv2d"(%x, %w) {strides = array<i64: 0, 1>} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @kernel_too_large(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x1x1xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.max_pool2d' op window of size 6 is larger than the padded input (4)
  %0 = "euler.max_pool2d"(%x) {kernel = array<i64: 6, 6>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.conv2d' op window of size 5 is larger than the padded input (4)
  %0 = "euler.conv2d"(%x, %w) : (tensor<1x1x4x4xf32>, tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @unsupported_dtype(%a: tensor<4xi8>) -> tensor<4xi8> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.exp' op unsupported element type i8
  %0 = "euler.exp"(%a) : (tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @integer_math(%a: tensor<4xi32>) -> tensor<4xi32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.exp' op unsupported element type i32; expected one of f32, f16, bf16, f64
  %0 = "euler.exp"(%a) : (tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @too_large(%a: tensor<1000000x100000xf32>, %b: tensor<1000000x100000xf32>) -> tensor<1000000x100000xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: 'euler.add' op result tensor<1000000x100000xf32> is too large to allocate (400000000000 bytes)
  %0 = "euler.add"(%a, %b) : (tensor<1000000x100000xf32>, tensor<1000000x100000xf32>) -> tensor<1000000x100000xf32>
  return %0 : tensor<1000000x100000xf32>
}

// -----

func.func @wrong_result_type(%a: tensor<3xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[@LINE+1]]:8: error: expected 'tensor<3xf32>' but got 'tensor<4xf32>'
  %0 = "euler.relu"(%a) : (tensor<3xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

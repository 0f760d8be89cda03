// RUN: euler-opt %s --no-verify --split-input-file --euler-pack-constant-weights | FileCheck %s
// RUN: euler-opt %s --no-verify --split-input-file --euler-pack-constant-weights --euler-schedule-matmul=pack-only | FileCheck %s --check-prefix=SCHED

// A constant B of 5 x 3: one 3-column panel (nr = N), K padded to two
// 4-deep k-steps with zero rows; B is the unpack of the packed constant.
// CHECK-LABEL: func.func @linear
// CHECK-NEXT: %[[P:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00, 9.000000e+00], [1.000000e+01, 1.100000e+01, 1.200000e+01]], {{\[\[}}1.300000e+01, 1.400000e+01, 1.500000e+01], [0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<1x2x4x3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<5x3xf32>
// CHECK-NEXT: %[[U:.*]] = linalg.unpack %[[P]] outer_dims_perm = [1, 0] inner_dims_pos = [0, 1] inner_tiles = [4, 3] into %[[E]] {euler.zero_padded} : tensor<1x2x4x3xf32> -> tensor<5x3xf32>
// CHECK-NEXT: linalg.matmul ins(%arg0, %[[U]] : tensor<2x5xf32>, tensor<5x3xf32>)
// CHECK-NEXT: return

// The schedule reads the packed constant in place: only A is packed.
// SCHED-LABEL: func.func @linear
// SCHED: linalg.pack %arg0
// SCHED-NOT: linalg.pack
// SCHED-NOT: linalg.unpack
// SCHED: linalg.generic {{.*}} ins({{.*}}, %cst{{.*}} : tensor<1x2x4x2xf32>, tensor<1x2x4x3xf32>)
func.func @linear(%a: tensor<2x5xf32>, %c: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0], [13.0, 14.0, 15.0]]> : tensor<5x3xf32>
  %r = linalg.matmul ins(%a, %w : tensor<2x5xf32>, tensor<5x3xf32>) outs(%c : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// B an argument (activations) or a splat: left to the schedule's pack.
// CHECK-LABEL: func.func @not_constant
// CHECK-NEXT: %[[S:.*]] = arith.constant dense<1.000000e+00> : tensor<4x8xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<2x4xf32>, tensor<4x8xf32>)
// CHECK-NEXT: linalg.matmul ins(%arg0, %[[S]] : tensor<2x4xf32>, tensor<4x8xf32>) outs(%[[R]] : tensor<2x8xf32>)
// CHECK-NEXT: return
func.func @not_constant(%a: tensor<2x4xf32>, %b: tensor<4x8xf32>, %c: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %ones = arith.constant dense<1.0> : tensor<4x8xf32>
  %r = linalg.matmul ins(%a, %b : tensor<2x4xf32>, tensor<4x8xf32>) outs(%c : tensor<2x8xf32>) -> tensor<2x8xf32>
  %s = linalg.matmul ins(%a, %ones : tensor<2x4xf32>, tensor<4x8xf32>) outs(%r : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %s : tensor<2x8xf32>
}

// -----

// A conv's weight, reshaped, as A: packed into mr-row panels (here all 3
// rows in one, K padded to 8); the reshape and the constant go.
// CHECK-LABEL: func.func @weight_as_a
// CHECK-NEXT: %[[P:.*]] = arith.constant dense<{{.*}}> : tensor<1x2x4x3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<3x6xf32>
// CHECK-NEXT: %[[U:.*]] = linalg.unpack %[[P]] inner_dims_pos = [1, 0] inner_tiles = [4, 3] into %[[E]] {euler.zero_padded} : tensor<1x2x4x3xf32> -> tensor<3x6xf32>
// CHECK-NEXT: linalg.matmul ins(%[[U]], %arg0 : tensor<3x6xf32>, tensor<6x32xf32>)
// CHECK-NEXT: return

// The schedule reads it in place: only B is packed.
// SCHED-LABEL: func.func @weight_as_a
// SCHED: linalg.pack %arg0
// SCHED-NOT: linalg.pack
// SCHED-NOT: linalg.unpack
// SCHED: linalg.generic {{.*}} ins(%cst{{.*}}, %{{.*}} : tensor<1x2x4x3xf32>, tensor<1x2x4x32xf32>)
func.func @weight_as_a(%p: tensor<6x32xf32>, %c: tensor<3x32xf32>) -> tensor<3x32xf32> {
  %w = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[7.0, 8.0], [9.0, 10.0], [11.0, 12.0]], [[13.0, 14.0], [15.0, 16.0], [17.0, 18.0]]]> : tensor<3x3x2xf32>
  %a = tensor.collapse_shape %w [[0], [1, 2]] : tensor<3x3x2xf32> into tensor<3x6xf32>
  %r = linalg.matmul ins(%a, %p : tensor<3x6xf32>, tensor<6x32xf32>) outs(%c : tensor<3x32xf32>) -> tensor<3x32xf32>
  return %r : tensor<3x32xf32>
}

// RUN: euler-opt %s --split-input-file --euler-conv-layout | FileCheck %s

// A constant weight is transposed to HWCF at compile time; the input goes to
// NHWC and the result back to NCHW at run time; the zero init is built in
// NHWC; strides and dilations carry over. The dead FCHW constant and NCHW
// init are erased.
// CHECK-LABEL: func.func @constant_weight
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x5x5xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[E0:.*]] = tensor.empty() : tensor<1x5x5x2xf32>
// CHECK-NEXT: %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<1x2x5x5xf32>) outs(%[[E0]] : tensor<1x5x5x2xf32>) permutation = [0, 2, 3, 1]
// CHECK-NEXT: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}0.000000e+00, 8.000000e+00, 1.600000e+01], [4.000000e+00, 1.200000e+01, 2.000000e+01]], {{.*}}> : tensor<2x2x2x3xf32>
// CHECK-NEXT: %[[E1:.*]] = tensor.empty() : tensor<1x2x2x3xf32>
// CHECK-NEXT: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E1]] : tensor<1x2x2x3xf32>)
// CHECK-NEXT: %[[Y:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[XT]], %[[W]] : tensor<1x5x5x2xf32>, tensor<2x2x2x3xf32>) outs(%[[INIT]] : tensor<1x2x2x3xf32>)
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<1x3x2x2xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.transpose ins(%[[Y]] : tensor<1x2x2x3xf32>) outs(%[[E2]] : tensor<1x3x2x2xf32>) permutation = [0, 3, 1, 2]
// CHECK-NEXT: return %[[R]]
func.func @constant_weight(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x2x2xf32> {
  %w = arith.constant dense<[[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]],
                             [[[8.0, 9.0], [10.0, 11.0]], [[12.0, 13.0], [14.0, 15.0]]],
                             [[[16.0, 17.0], [18.0, 19.0]], [[20.0, 21.0], [22.0, 23.0]]]]> : tensor<3x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x5x5xf32>, tensor<3x2x2x2xf32>) outs(%init : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  return %y : tensor<1x3x2x2xf32>
}

// -----

// A weight argument is transposed at run time; an init that is not a fill is
// transposed too.
// CHECK-LABEL: func.func @runtime_weight
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x4xf32>, %[[W:.*]]: tensor<5x3x1x1xf32>, %[[I:.*]]: tensor<2x5x4x4xf32>)
// CHECK-NEXT: %[[E0:.*]] = tensor.empty() : tensor<2x4x4x3xf32>
// CHECK-NEXT: %[[XT:.*]] = linalg.transpose ins(%[[X]] : {{.*}}) outs(%[[E0]] : {{.*}}) permutation = [0, 2, 3, 1]
// CHECK-NEXT: %[[E1:.*]] = tensor.empty() : tensor<1x1x3x5xf32>
// CHECK-NEXT: %[[WT:.*]] = linalg.transpose ins(%[[W]] : {{.*}}) outs(%[[E1]] : {{.*}}) permutation = [2, 3, 1, 0]
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<2x4x4x5xf32>
// CHECK-NEXT: %[[IT:.*]] = linalg.transpose ins(%[[I]] : {{.*}}) outs(%[[E2]] : {{.*}}) permutation = [0, 2, 3, 1]
// CHECK-NEXT: %[[Y:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[XT]], %[[WT]] : {{.*}}) outs(%[[IT]] : tensor<2x4x4x5xf32>)
// CHECK-NEXT: %[[E3:.*]] = tensor.empty() : tensor<2x5x4x4xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.transpose ins(%[[Y]] : {{.*}}) outs(%[[E3]] : {{.*}}) permutation = [0, 3, 1, 2]
// CHECK-NEXT: return %[[R]]
func.func @runtime_weight(%x: tensor<2x3x4x4xf32>, %w: tensor<5x3x1x1xf32>, %init: tensor<2x5x4x4xf32>) -> tensor<2x5x4x4xf32> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<2x3x4x4xf32>, tensor<5x3x1x1xf32>) outs(%init : tensor<2x5x4x4xf32>) -> tensor<2x5x4x4xf32>
  return %y : tensor<2x5x4x4xf32>
}

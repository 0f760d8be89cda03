// RUN: euler-opt %s --split-input-file --euler-conv-to-matmul | FileCheck %s

// 3x3, stride 2, dilation 2 along W: the patch matrix [C*KH*KW, OH, OW] is
// built row by row (a read of the 5-wide span, a shuffle of every 2nd
// element), then W[F, C*KH*KW] x P[C*KH*KW, OH*OW] on a fresh zero fill,
// reshaped back to NCHW. The old init is erased.
// CHECK-LABEL: func.func @conv3x3_stride2
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x7x9xf32>, %[[W:.*]]: tensor<3x2x3x3xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<3x2x3x3xf32> into tensor<3x18xf32>
// CHECK-NEXT: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2], [3]] : tensor<1x2x7x9xf32> into tensor<2x7x9xf32>
// CHECK-NEXT: %[[PAD:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[C18:.*]] = arith.constant 18 : index
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<18x3x3xf32>
// CHECK-NEXT: %[[C9:.*]] = arith.constant 9 : index
// CHECK-NEXT: %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[P:.*]] = scf.for %[[R:.*]] = %[[C0]] to %[[C18]] step %[[C1]] iter_args(%[[A:.*]] = %[[E]]) -> (tensor<18x3x3xf32>) {
// CHECK-NEXT:   %[[PLANE:.*]] = arith.divui %[[R]], %[[C9]] : index
// CHECK-NEXT:   %[[TAP:.*]] = arith.remui %[[R]], %[[C9]] : index
// CHECK-NEXT:   %[[KH:.*]] = arith.divui %[[TAP]], %[[C3]] : index
// CHECK-NEXT:   %[[KW:.*]] = arith.remui %[[TAP]], %[[C3]] : index
// CHECK-NEXT:   %[[COL:.*]] = arith.muli %[[KW]], %[[C2]] : index
// CHECK-NEXT:   %[[ROWS:.*]] = scf.for %[[O:.*]] = %[[C0]] to %[[C3]] step %[[C1]] iter_args(%[[B:.*]] = %[[A]]) -> (tensor<18x3x3xf32>) {
// CHECK-NEXT:     %[[OS:.*]] = arith.muli %[[O]], %[[C2]] : index
// CHECK-NEXT:     %[[ROW:.*]] = arith.addi %[[OS]], %[[KH]] : index
// CHECK-NEXT:     %[[SPAN:.*]] = vector.transfer_read %[[X3]][%[[PLANE]], %[[ROW]], %[[COL]]], %[[PAD]] {in_bounds = [true]} : tensor<2x7x9xf32>, vector<5xf32>
// CHECK-NEXT:     %[[V:.*]] = vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4] : vector<5xf32>, vector<5xf32>
// CHECK-NEXT:     %[[WR:.*]] = vector.transfer_write %[[V]], %[[B]][%[[R]], %[[O]], %[[C0]]] {in_bounds = [true]} : vector<3xf32>, tensor<18x3x3xf32>
// CHECK-NEXT:     scf.yield %[[WR]]
// CHECK-NEXT:   }
// CHECK-NEXT:   scf.yield %[[ROWS]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[P2:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1, 2]] : tensor<18x3x3xf32> into tensor<18x9xf32>
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<3x9xf32>
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E2]] : tensor<3x9xf32>)
// CHECK-NEXT: %[[Y:.*]] = linalg.matmul ins(%[[WK]], %[[P2]] : tensor<3x18xf32>, tensor<18x9xf32>) outs(%[[ACC]] : tensor<3x9xf32>)
// CHECK-NEXT: %[[R4:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 3, 3, 3] : tensor<3x9xf32> into tensor<1x3x3x3xf32>
// CHECK-NEXT: return %[[R4]]
func.func @conv3x3_stride2(%x: tensor<1x2x7x9xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x3x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x7x9xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %y : tensor<1x3x3x3xf32>
}

// -----

// 1x1, stride 1: no patch matrix, x is the matmul's right operand as it is;
// an init that is not a fill is reshaped and accumulated into.
// CHECK-LABEL: func.func @pointwise
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x5x6xf32>, %[[W:.*]]: tensor<8x4x1x1xf32>, %[[I:.*]]: tensor<1x8x5x6xf32>)
// CHECK-NEXT: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<8x4x1x1xf32> into tensor<8x4xf32>
// CHECK-NEXT: %[[P:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2, 3]] : tensor<1x4x5x6xf32> into tensor<4x30xf32>
// CHECK-NEXT: %[[ACC:.*]] = tensor.collapse_shape %[[I]] {{\[\[}}0, 1], [2, 3]] : tensor<1x8x5x6xf32> into tensor<8x30xf32>
// CHECK-NEXT: %[[Y:.*]] = linalg.matmul ins(%[[WK]], %[[P]] : tensor<8x4xf32>, tensor<4x30xf32>) outs(%[[ACC]] : tensor<8x30xf32>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 8, 5, 6]
// CHECK-NEXT: return %[[R]]
func.func @pointwise(%x: tensor<1x4x5x6xf32>, %w: tensor<8x4x1x1xf32>, %init: tensor<1x8x5x6xf32>) -> tensor<1x8x5x6xf32> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x4x5x6xf32>, tensor<8x4x1x1xf32>) outs(%init : tensor<1x8x5x6xf32>) -> tensor<1x8x5x6xf32>
  return %y : tensor<1x8x5x6xf32>
}

// -----

// Groups and images: one batch_matmul over (image, group), W broadcast over
// the images.
// CHECK-LABEL: func.func @grouped_batch
// CHECK-SAME: (%[[X:.*]]: tensor<2x2x2x4x4xf64>, %[[W:.*]]: tensor<2x3x2x1x1xf64>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-NEXT: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1], [2, 3, 4]] : tensor<2x3x2x1x1xf64> into tensor<2x3x2xf64>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2x2x3x2xf64>
// CHECK-NEXT: %[[WB:.*]] = linalg.broadcast ins(%[[WK]] : tensor<2x3x2xf64>) outs(%[[E]] : tensor<2x2x3x2xf64>) dimensions = [0]
// CHECK-NEXT: %[[LHS:.*]] = tensor.collapse_shape %[[WB]] {{\[\[}}0, 1], [2], [3]] : tensor<2x2x3x2xf64> into tensor<4x3x2xf64>
// CHECK-NEXT: %[[RHS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2], [3, 4]] : tensor<2x2x2x4x4xf64> into tensor<4x2x16xf64>
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<4x3x16xf64>
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f64) outs(%[[E2]] : tensor<4x3x16xf64>)
// CHECK-NEXT: %[[Y:.*]] = linalg.batch_matmul ins(%[[LHS]], %[[RHS]] : tensor<4x3x2xf64>, tensor<4x2x16xf64>) outs(%[[ACC]] : tensor<4x3x16xf64>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2], [3, 4]] output_shape [2, 2, 3, 4, 4]
// CHECK-NEXT: return %[[R]]
func.func @grouped_batch(%x: tensor<2x2x2x4x4xf64>, %w: tensor<2x3x2x1x1xf64>) -> tensor<2x2x3x4x4xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<2x2x3x4x4xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<2x2x3x4x4xf64>) -> tensor<2x2x3x4x4xf64>
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<2x2x2x4x4xf64>, tensor<2x3x2x1x1xf64>) outs(%init : tensor<2x2x3x4x4xf64>) -> tensor<2x2x3x4x4xf64>
  return %y : tensor<2x2x3x4x4xf64>
}

// -----

// f16 is not packed by the matmul schedule: the convolution stays for the
// generic path.
// CHECK-LABEL: func.func @f16_untouched
// CHECK-NEXT: linalg.conv_2d_nchw_fchw
// CHECK-NEXT: return
func.func @f16_untouched(%x: tensor<1x2x5x5xf16>, %w: tensor<3x2x3x3xf16>, %init: tensor<1x3x3x3xf16>) -> tensor<1x3x3x3xf16> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x5x5xf16>, tensor<3x2x3x3xf16>) outs(%init : tensor<1x3x3x3xf16>) -> tensor<1x3x3x3xf16>
  return %y : tensor<1x3x3x3xf16>
}

// -----

// Dynamic shapes are left alone (the schedule takes static matmuls only).
// CHECK-LABEL: func.func @dynamic_untouched
// CHECK-NEXT: linalg.conv_2d_nchw_fchw
// CHECK-NEXT: return
func.func @dynamic_untouched(%x: tensor<?x2x5x5xf32>, %w: tensor<3x2x3x3xf32>, %init: tensor<?x3x3x3xf32>) -> tensor<?x3x3x3xf32> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<?x2x5x5xf32>, tensor<3x2x3x3xf32>) outs(%init : tensor<?x3x3x3xf32>) -> tensor<?x3x3x3xf32>
  return %y : tensor<?x3x3x3xf32>
}

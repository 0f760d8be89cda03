// RUN: euler-opt %s --split-input-file --euler-vectorize-depthwise | FileCheck %s

// Stride 2 along W, a zero-filled init: a loop over the 4 output planes and
// the 3 rows (the old init erased); per row one chunk (3 pixels) starting from the fill's value,
// and per tap one read of the 5-wide span of the input row, a shuffle of
// every 2nd element and an FMA with the tap's weight, broadcast.
// CHECK-LABEL: func.func @stride2
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x1x5x7xf32>, %[[W:.*]]: tensor<4x1x1x2x2xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{.*}} into tensor<4x5x7xf32>
// CHECK-NEXT: %[[W2:.*]] = tensor.collapse_shape %[[W]] {{.*}} into tensor<4x4xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x3x3xf32>
// CHECK-NEXT: %[[Y:.*]] = scf.for %[[P:.*]] = {{.*}} iter_args(%[[A:.*]] = %[[E]]) -> (tensor<4x3x3xf32>) {
// CHECK-NEXT: %[[W00:.*]] = tensor.extract %[[W2]][%[[P]], %{{.*}}] : tensor<4x4xf32>
// CHECK-NEXT: tensor.extract %[[W2]]
// CHECK-NEXT: tensor.extract %[[W2]]
// CHECK-NEXT: tensor.extract %[[W2]]
// CHECK-NEXT: %[[ROWS:.*]] = scf.for %[[O:.*]] = {{.*}} iter_args(%[[B:.*]] = %[[A]]) -> (tensor<4x3x3xf32>) {
// CHECK-NEXT: %[[ACC:.*]] = vector.broadcast %{{.*}} : f32 to vector<3xf32>
// CHECK-NEXT: %[[SPAN:.*]] = vector.transfer_read %[[X3]][%[[P]], %[[O]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<4x5x7xf32>, vector<5xf32>
// CHECK-NEXT: %[[V:.*]] = vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4] : vector<5xf32>, vector<5xf32>
// CHECK-NEXT: %[[WV:.*]] = vector.broadcast %[[W00]] : f32 to vector<3xf32>
// CHECK-NEXT: vector.fma %[[V]], %[[WV]], %[[ACC]] : vector<3xf32>
// CHECK-COUNT-3: vector.fma
// CHECK-NEXT: %[[WR:.*]] = vector.transfer_write %{{.*}}, %[[B]][%[[P]], %[[O]], %{{.*}}] {in_bounds = [true]} : vector<3xf32>, tensor<4x3x3xf32>
// CHECK-NEXT: scf.yield %[[WR]]
// CHECK-NEXT: }
// CHECK-NEXT: scf.yield %[[ROWS]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[OUT:.*]] = tensor.expand_shape %[[Y]] {{.*}} : tensor<4x3x3xf32> into tensor<1x4x1x3x3xf32>
// CHECK-NEXT: return %[[OUT]]
func.func @stride2(%x: tensor<1x4x1x5x7xf32>, %w: tensor<4x1x1x2x2xf32>) -> tensor<1x4x1x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x1x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x3x3xf32>) -> tensor<1x4x1x3x3xf32>
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 2]> : tensor<2xi64>}
       ins(%x, %w : tensor<1x4x1x5x7xf32>, tensor<4x1x1x2x2xf32>) outs(%init : tensor<1x4x1x3x3xf32>) -> tensor<1x4x1x3x3xf32>
  return %y : tensor<1x4x1x3x3xf32>
}

// -----

// An init that is not a fill is read: each chunk starts from its data.
// CHECK-LABEL: func.func @init_read
// CHECK: %[[I3:.*]] = tensor.collapse_shape %arg2
// CHECK: vector.transfer_read %[[I3]]
// CHECK: vector.fma
// CHECK-NOT: linalg.conv_2d_ngchw_gfchw
func.func @init_read(%x: tensor<2x2x1x4x4xf32>, %w: tensor<2x1x1x3x3xf32>, %init: tensor<2x2x1x2x2xf32>) -> tensor<2x2x1x2x2xf32> {
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<2x2x1x4x4xf32>, tensor<2x1x1x3x3xf32>) outs(%init : tensor<2x2x1x2x2xf32>) -> tensor<2x2x1x2x2xf32>
  return %y : tensor<2x2x1x2x2xf32>
}

// -----

// Not depthwise (two input channels per group), or f16: left as they are.
// CHECK-LABEL: func.func @grouped_untouched
// CHECK-NEXT: linalg.conv_2d_ngchw_gfchw
// CHECK-LABEL: func.func @f16_untouched
// CHECK-NEXT: linalg.conv_2d_ngchw_gfchw
func.func @grouped_untouched(%x: tensor<1x2x2x5x5xf32>, %w: tensor<2x1x2x3x3xf32>, %init: tensor<1x2x1x3x3xf32>) -> tensor<1x2x1x3x3xf32> {
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x2x5x5xf32>, tensor<2x1x2x3x3xf32>) outs(%init : tensor<1x2x1x3x3xf32>) -> tensor<1x2x1x3x3xf32>
  return %y : tensor<1x2x1x3x3xf32>
}
func.func @f16_untouched(%x: tensor<1x2x1x5x5xf16>, %w: tensor<2x1x1x3x3xf16>, %init: tensor<1x2x1x3x3xf16>) -> tensor<1x2x1x3x3xf16> {
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x1x5x5xf16>, tensor<2x1x1x3x3xf16>) outs(%init : tensor<1x2x1x3x3xf16>) -> tensor<1x2x1x3x3xf16>
  return %y : tensor<1x2x1x3x3xf16>
}

// -----

// Max pooling: the same row loop over the channels' planes, from the fill's
// -inf, one max per tap of the window, no weights.
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[X3:.*]] = tensor.collapse_shape %arg0 {{.*}} into tensor<2x6x6xf32>
// CHECK: scf.for %[[P:[a-z0-9]+]] = {{.*}} -> (tensor<2x3x3xf32>) {
// CHECK-NEXT: scf.for %{{[a-z0-9]+}} = {{.*}} -> (tensor<2x3x3xf32>) {
// CHECK: %[[ACC:.*]] = vector.broadcast %{{.*}} : f32 to vector<3xf32>
// CHECK-NEXT: %[[SPAN:.*]] = vector.transfer_read %[[X3]][%[[P]], %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<2x6x6xf32>, vector<5xf32>
// CHECK-NEXT: %[[V:.*]] = vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4] : vector<5xf32>, vector<5xf32>
// CHECK-NEXT: arith.maximumf %[[ACC]], %[[V]] : vector<3xf32>
// CHECK-COUNT-3: arith.maximumf
// CHECK-NOT: linalg.pooling_nchw_max
func.func @max_pool(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %w = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x2x3x3xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
       ins(%x, %w : tensor<1x2x6x6xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

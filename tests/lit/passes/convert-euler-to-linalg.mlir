// RUN: euler-opt %s --split-input-file --convert-euler-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @constant
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %0 = "euler.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Broadcasting lives in the indexing map: the size-1 dim of %b is collapsed
// away and the rank-mismatched operand reads only (d1).
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[D1:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-NEXT: %[[B:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1]] : tensor<3x1xf32> into tensor<3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[D1]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0, %[[B]] : tensor<2x3x4xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3x4xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @add_broadcast(%a: tensor<2x3x4xf32>, %b: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = "euler.add"(%a, %b) : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @binary_ops
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: arith.minimumf
// CHECK: linalg.generic
// CHECK: math.powf
// CHECK-NOT: euler.
func.func @binary_ops(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "euler.sub"(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.mul"(%0, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = "euler.div"(%1, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = "euler.maximum"(%2, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = "euler.minimum"(%3, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %5 = "euler.pow"(%4, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %5 : tensor<4xf32>
}

// -----

// Integer div floors, and never traps: divisors 0 and -1 take a safe 1.
// CHECK-LABEL: func.func @int_div
// CHECK: linalg.generic
// CHECK: %[[Z:.*]] = arith.cmpi eq, %[[B:.*]], %c0_i64 : i64
// CHECK-NEXT: %[[M:.*]] = arith.cmpi eq, %[[B]], %c-1_i64 : i64
// CHECK-NEXT: %[[S:.*]] = arith.ori %[[Z]], %[[M]] : i1
// CHECK-NEXT: %[[SAFE:.*]] = arith.select %[[S]], %c1_i64, %[[B]] : i64
// CHECK-NEXT: %[[Q:.*]] = arith.divsi %[[A:.*]], %[[SAFE]] : i64
// CHECK-NEXT: %[[R:.*]] = arith.remsi %[[A]], %[[SAFE]] : i64
// CHECK: %[[DOWN:.*]] = arith.subi %[[Q]], %c1_i64 : i64
// CHECK: arith.select %[[Z]], %c0_i64
func.func @int_div(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %0 = "euler.div"(%a, %b) : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @unary_ops
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.negf %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.absf %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.exp %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.log %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.sqrt %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.rsqrt %[[X]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.tanh %[[X]] : f32
// sigmoid = 1 / (1 + exp(-x))
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[N:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[N]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.divf %[[ONE]], %[[D]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// relu keeps NaN: maximumf, not cmpf + select.
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.maximumf %[[X]], %[[Z]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @unary_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "euler.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.abs"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "euler.exp"(%1) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "euler.log"(%2) : (tensor<4xf32>) -> tensor<4xf32>
  %4 = "euler.sqrt"(%3) : (tensor<4xf32>) -> tensor<4xf32>
  %5 = "euler.rsqrt"(%4) : (tensor<4xf32>) -> tensor<4xf32>
  %6 = "euler.tanh"(%5) : (tensor<4xf32>) -> tensor<4xf32>
  %7 = "euler.sigmoid"(%6) : (tensor<4xf32>) -> tensor<4xf32>
  %8 = "euler.relu"(%7) : (tensor<4xf32>) -> tensor<4xf32>
  return %8 : tensor<4xf32>
}

// -----

// gelu, erf form: 0.5 * x * (1 + erf(x / sqrt(2))).
// CHECK-LABEL: func.func @gelu
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK-NEXT: %[[A:.*]] = arith.mulf %[[X]], %[[RSQRT2]] : f32
// CHECK-NEXT: %[[ERF:.*]] = math.erf %[[A]] : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[X]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[P:.*]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT: %[[G:.*]] = arith.mulf %[[HX]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[G]] : f32
// tanh form: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[X2:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT: %[[X3:.*]] = arith.mulf %[[X2]], %[[X]] : f32
// CHECK-NEXT: %[[K:.*]] = arith.constant 4.471500e-02 : f32
// CHECK-NEXT: %[[KX3:.*]] = arith.mulf %[[K]], %[[X3]] : f32
// CHECK-NEXT: %[[IN:.*]] = arith.addf %[[X]], %[[KX3]] : f32
// CHECK-NEXT: %[[C:.*]] = arith.constant 0.797884583 : f32
// CHECK-NEXT: %[[CIN:.*]] = arith.mulf %[[C]], %[[IN]] : f32
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[CIN]] : f32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[X]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[P:.*]] = arith.addf %[[ONE]], %[[T]] : f32
// CHECK-NEXT: %[[G:.*]] = arith.mulf %[[HX]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[G]] : f32
func.func @gelu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "euler.gelu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "euler.gelu"(%0) {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @matmul_2d
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<8x32xf32>
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<8x32xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: %[[M:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<8x64xf32>, tensor<64x32xf32>) outs(%[[F]] : tensor<8x32xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: return %[[M]]
func.func @matmul_2d(%a: tensor<8x64xf32>, %b: tensor<64x32xf32>) -> tensor<8x32xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

// x[B, S, D] @ w[D, E] is one 2-D matmul over B*S rows.
// CHECK-LABEL: func.func @matmul_batched_lhs
// CHECK-NEXT: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x8x64xf32> into tensor<16x64xf32>
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[A]], %arg1 : tensor<16x64xf32>, tensor<64x32xf32>) outs(%{{.*}} : tensor<16x32xf32>) -> tensor<16x32xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2]] output_shape [2, 8, 32] : tensor<16x32xf32> into tensor<2x8x32xf32>
// CHECK-NEXT: return %[[R]]
func.func @matmul_batched_lhs(%a: tensor<2x8x64xf32>, %b: tensor<64x32xf32>) -> tensor<2x8x32xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<2x8x64xf32>, tensor<64x32xf32>) -> tensor<2x8x32xf32>
  return %0 : tensor<2x8x32xf32>
}

// -----

// Batch dims 2x1 and 3 broadcast to 2x3, then fold into one batch of 6.
// CHECK-LABEL: func.func @matmul_broadcast_batch
// CHECK-NEXT: %[[A1:.*]] = tensor.collapse_shape %arg0 {{\[}}[0], [1, 2], [3]] : tensor<2x1x4x5xf32> into tensor<2x4x5xf32>
// CHECK-NEXT: %[[EA:.*]] = tensor.empty() : tensor<2x3x4x5xf32>
// CHECK-NEXT: %[[A2:.*]] = linalg.broadcast ins(%[[A1]] : tensor<2x4x5xf32>) outs(%[[EA]] : tensor<2x3x4x5xf32>) dimensions = [1]
// CHECK-NEXT: %[[EB:.*]] = tensor.empty() : tensor<2x3x5x6xf32>
// CHECK-NEXT: %[[B2:.*]] = linalg.broadcast ins(%arg1 : tensor<3x5x6xf32>) outs(%[[EB]] : tensor<2x3x5x6xf32>) dimensions = [0]
// CHECK-NEXT: %[[A3:.*]] = tensor.collapse_shape %[[A2]] {{\[}}[0, 1], [2], [3]] : tensor<2x3x4x5xf32> into tensor<6x4x5xf32>
// CHECK-NEXT: %[[B3:.*]] = tensor.collapse_shape %[[B2]] {{\[}}[0, 1], [2], [3]] : tensor<2x3x5x6xf32> into tensor<6x5x6xf32>
// CHECK: %[[M:.*]] = linalg.batch_matmul ins(%[[A3]], %[[B3]] : tensor<6x4x5xf32>, tensor<6x5x6xf32>) outs(%{{.*}} : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 4, 6] : tensor<6x4x6xf32> into tensor<2x3x4x6xf32>
// CHECK-NEXT: return %[[R]]
func.func @matmul_broadcast_batch(%a: tensor<2x1x4x5xf32>, %b: tensor<3x5x6xf32>) -> tensor<2x3x4x6xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<2x1x4x5xf32>, tensor<3x5x6xf32>) -> tensor<2x3x4x6xf32>
  return %0 : tensor<2x3x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @conv2d
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1] {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: tensor.yield %[[Z]] : f32
// CHECK-NEXT: } : tensor<1x3x8x8xf32> to tensor<1x3x10x10xf32>
// CHECK: %[[F:.*]] = linalg.fill
// CHECK-NEXT: %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %arg1 : tensor<1x3x10x10xf32>, tensor<4x3x3x3xf32>) outs(%[[F]] : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT: return %[[C]]
func.func @conv2d(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %0 = "euler.conv2d"(%x, %w) {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// groups: channels split to (G, C/G), filters to (G, F/G).
// CHECK-LABEL: func.func @conv2d_groups
// CHECK-NEXT: %[[X:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 6, 6] : tensor<1x4x6x6xf32> into tensor<1x2x2x6x6xf32>
// CHECK-NEXT: %[[W:.*]] = tensor.expand_shape %arg1 {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3] : tensor<6x2x3x3xf32> into tensor<2x3x2x3x3xf32>
// CHECK: %[[C:.*]] = linalg.conv_2d_ngchw_gfchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %[[W]] : tensor<1x2x2x6x6xf32>, tensor<2x3x2x3x3xf32>) outs(%{{.*}} : tensor<1x2x3x2x2xf32>) -> tensor<1x2x3x2x2xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.collapse_shape %[[C]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x2x2xf32> into tensor<1x6x2x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @conv2d_groups(%x: tensor<1x4x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x2x2xf32> {
  %0 = "euler.conv2d"(%x, %w) {dilations = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x2x2xf32>
  return %0 : tensor<1x6x2x2xf32>
}

// -----

// f16/bf16 products are summed in f32 (as PyTorch does), rounded once at the end.
// CHECK-LABEL: func.func @matmul_f16
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4x2xf32>) -> tensor<4x2xf32>
// CHECK-NEXT: %[[M:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<4x8xf16>, tensor<8x2xf16>) outs(%[[F]] : tensor<4x2xf32>) -> tensor<4x2xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x2xf16>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {{.*}} ins(%[[M]] : tensor<4x2xf32>) outs(%[[E]] : tensor<4x2xf16>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f16):
// CHECK-NEXT: %[[T:.*]] = arith.truncf %[[IN]] : f32 to f16
// CHECK-NEXT: linalg.yield %[[T]] : f16
// CHECK: return %[[R]]
func.func @matmul_f16(%a: tensor<4x8xf16>, %b: tensor<8x2xf16>) -> tensor<4x2xf16> {
  %0 = "euler.matmul"(%a, %b) : (tensor<4x8xf16>, tensor<8x2xf16>) -> tensor<4x2xf16>
  return %0 : tensor<4x2xf16>
}

// -----

// CHECK-LABEL: func.func @bmm_bf16
// CHECK: %[[M:.*]] = linalg.batch_matmul ins(%arg0, %arg1 : tensor<2x4x8xbf16>, tensor<2x8x2xbf16>) outs(%{{.*}} : tensor<2x4x2xf32>) -> tensor<2x4x2xf32>
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @bmm_bf16(%a: tensor<2x4x8xbf16>, %b: tensor<2x8x2xbf16>) -> tensor<2x4x2xbf16> {
  %0 = "euler.matmul"(%a, %b) : (tensor<2x4x8xbf16>, tensor<2x8x2xbf16>) -> tensor<2x4x2xbf16>
  return %0 : tensor<2x4x2xbf16>
}

// -----

// CHECK-LABEL: func.func @conv2d_f16
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%arg0, %arg1 : tensor<1x3x5x5xf16>, tensor<4x3x3x3xf16>) outs(%{{.*}} : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
// CHECK: linalg.generic {{.*}} ins(%[[C]] : tensor<1x4x3x3xf32>) outs(%{{.*}} : tensor<1x4x3x3xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @conv2d_f16(%x: tensor<1x3x5x5xf16>, %w: tensor<4x3x3x3xf16>) -> tensor<1x4x3x3xf16> {
  %0 = "euler.conv2d"(%x, %w) : (tensor<1x3x5x5xf16>, tensor<4x3x3x3xf16>) -> tensor<1x4x3x3xf16>
  return %0 : tensor<1x4x3x3xf16>
}

// -----

// CHECK-LABEL: func.func @conv2d_groups_f16
// CHECK: %[[C:.*]] = linalg.conv_2d_ngchw_gfchw {{.*}} outs(%{{.*}} : tensor<1x2x2x4x4xf32>) -> tensor<1x2x2x4x4xf32>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x4x4xf16> into tensor<1x4x4x4xf16>
func.func @conv2d_groups_f16(%x: tensor<1x4x6x6xf16>, %w: tensor<4x2x3x3xf16>) -> tensor<1x4x4x4xf16> {
  %0 = "euler.conv2d"(%x, %w) {groups = 2 : i64} : (tensor<1x4x6x6xf16>, tensor<4x2x3x3xf16>) -> tensor<1x4x4x4xf16>
  return %0 : tensor<1x4x4x4xf16>
}

// -----

// max pool pads with -inf and starts from -inf.
// CHECK-LABEL: func.func @max_pool2d
// CHECK-NEXT: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[P:.*]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1] {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: tensor.yield %[[NINF]] : f32
// CHECK-NEXT: } : tensor<1x2x6x6xf32> to tensor<1x2x8x8xf32>
// CHECK-NEXT: %[[K:.*]] = tensor.empty() : tensor<3x3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<1x2x3x3xf32>
// CHECK-NEXT: %[[NINF2:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%[[NINF2]] : f32) outs(%[[E]] : tensor<1x2x3x3xf32>)
// CHECK-NEXT: %[[R:.*]] = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %[[K]] : tensor<1x2x8x8xf32>, tensor<3x3xf32>) outs(%[[F]] : tensor<1x2x3x3xf32>)
// CHECK-NEXT: return %[[R]]
func.func @max_pool2d(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = "euler.max_pool2d"(%x) {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// avg pool: sum pooling (strides default to the kernel), then / (kh * kw).
// CHECK-LABEL: func.func @avg_pool2d
// CHECK: %[[S:.*]] = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%arg0, %{{.*}} : tensor<1x2x6x6xf32>, tensor<2x2xf32>)
// CHECK-NEXT: %[[N:.*]] = arith.constant 4.000000e+00 : f32
// CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<1x2x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[V]], %[[N]] : f32
func.func @avg_pool2d(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = "euler.avg_pool2d"(%x) {kernel = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x2x3xf32>
// CHECK-NEXT: %[[T:.*]] = linalg.transpose ins(%arg0 : tensor<2x3x4xf32>) outs(%[[E]] : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK-NEXT: return %[[T]]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = "euler.transpose"(%x) {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// -----

// Collapse, expand, and (no dim grouping relates 2x3x4 and 4x6) through 1-D.
// CHECK-LABEL: func.func @reshape
// CHECK-NEXT: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK-NEXT: %[[B:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 2, 2] : tensor<2x3x4xf32> into tensor<2x3x2x2xf32>
// CHECK-NEXT: %[[F:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK-NEXT: %[[C:.*]] = tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
// CHECK-NEXT: return %[[A]], %[[B]], %[[C]]
func.func @reshape(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x3x2x2xf32>, tensor<4x6xf32>) {
  %0 = "euler.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %1 = "euler.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x2x2xf32>
  %2 = "euler.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
  return %0, %1, %2 : tensor<6x4xf32>, tensor<2x3x2x2xf32>, tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_to
// CHECK-NEXT: %[[C:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1]] : tensor<3x1xf32> into tensor<3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK-NEXT: %[[B:.*]] = linalg.broadcast ins(%[[C]] : tensor<3xf32>) outs(%[[E]] : tensor<2x3x4xf32>) dimensions = [0, 2]
// CHECK-NEXT: return %[[B]]
func.func @broadcast_to(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = "euler.broadcast_to"(%x) : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Negative and unsorted axes; keepdims re-expands the reduced dims.
// CHECK-LABEL: func.func @reduce_sum
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2xf32>
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<2xf32>)
// CHECK-NEXT: %[[R:.*]] = linalg.reduce ins(%arg0 : tensor<2x3x4xf32>) outs(%[[F]] : tensor<2xf32>) dimensions = [1, 2]
// CHECK-NEXT: (%[[A:.*]]: f32, %[[B:.*]]: f32) {
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: %[[K:.*]] = tensor.expand_shape %[[R]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK-NEXT: return %[[K]]
func.func @reduce_sum(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: -1, 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_max
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<3xf32>)
// CHECK-NEXT: %[[R:.*]] = linalg.reduce ins(%arg0 : tensor<2x3x4xf32>) outs(%[[F]] : tensor<3xf32>) dimensions = [0, 2]
// CHECK-NEXT: (%[[A:.*]]: f32, %[[B:.*]]: f32) {
// CHECK-NEXT: arith.maximumf %[[A]], %[[B]] : f32
// CHECK: return %[[R]]
func.func @reduce_max(%x: tensor<2x3x4xf32>) -> tensor<3xf32> {
  %0 = "euler.reduce_max"(%x) {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_mean
// CHECK: %[[R:.*]] = linalg.reduce ins(%arg0 : tensor<2x3xf32>) outs(%{{.*}} : tensor<2xf32>) dimensions = [1]
// CHECK: arith.addf
// CHECK: %[[N:.*]] = arith.constant 3.000000e+00 : f32
// CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[V]], %[[N]] : f32
func.func @reduce_mean(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = "euler.reduce_mean"(%x) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// max-reduce, exp(x - max), sum-reduce, divide.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @softmax
// CHECK: %[[M:.*]] = linalg.reduce ins(%arg0 : tensor<2x3xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [0]
// CHECK: arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %[[M]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[MX:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[X]], %[[MX]] : f32
// CHECK-NEXT: math.exp %[[D]] : f32
// CHECK: %[[S:.*]] = linalg.reduce ins(%[[E]] : tensor<2x3xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [0]
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[E]], %[[S]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %[[SM:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[V]], %[[SM]] : f32
func.func @softmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "euler.softmax"(%x) {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Shifted statistics: a first mean m0, the mean deviation c from it and the
// mean squared deviation, var = E[(x-m0)^2] - c^2 (no E[x^2] - E[x]^2), then
// ((x - m0) - c) * rsqrt(var + eps) * gamma + beta.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<2x8xf32>)
// CHECK: %[[M0:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2xf32>)
// CHECK: arith.divf
// CHECK: %[[DEV:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0, %[[M0]] : tensor<2x8xf32>, tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[V1:.*]]: f32, %[[MU1:.*]]: f32, %[[ACC1:.*]]: f32):
// CHECK-NEXT: %[[D1:.*]] = arith.subf %[[V1]], %[[MU1]] : f32
// CHECK-NEXT: arith.addf %[[ACC1]], %[[D1]] : f32
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[DEV]] : tensor<2xf32>)
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0, %[[M0]] : tensor<2x8xf32>, tensor<2xf32>)
// CHECK: arith.mulf
// CHECK: %[[RSTD:.*]] = linalg.generic {{.*}} ins(%[[SQ]], %[[C]] : tensor<2xf32>, tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %[[SHIFT:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.constant 8.000000e+00 : f32
// CHECK-NEXT: %[[MSQ:.*]] = arith.divf %[[S]]
// CHECK-NEXT: %[[C2:.*]] = arith.mulf %[[SHIFT]], %[[SHIFT]] : f32
// CHECK-NEXT: %[[VAR:.*]] = arith.subf %[[MSQ]], %[[C2]] : f32
// CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-NEXT: %[[VE:.*]] = arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK-NEXT: math.rsqrt %[[VE]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ROW]], #[[COL]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %[[M0]], %[[C]], %[[RSTD]], %arg1, %arg2 : tensor<2x8xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[MU:.*]]: f32, %[[CC:.*]]: f32, %[[R:.*]]: f32, %[[G:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[X]], %[[MU]] : f32
// CHECK-NEXT: %[[DC:.*]] = arith.subf %[[D]], %[[CC]] : f32
// CHECK-NEXT: %[[N:.*]] = arith.mulf %[[DC]], %[[R]] : f32
// CHECK-NEXT: %[[NG:.*]] = arith.mulf %[[N]], %[[G]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.addf %[[NG]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[Y]] : f32
func.func @layer_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = "euler.layer_norm"(%x, %g, %b) {axis = -1 : i64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// f16 layer_norm keeps its statistics in f32.
// CHECK-LABEL: func.func @layer_norm_f16
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<4xf16>) outs(%{{.*}} : tensor<f32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[XF:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[XF]] : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @layer_norm_f16(%x: tensor<4xf16>, %g: tensor<4xf16>, %b: tensor<4xf16>) -> tensor<4xf16> {
  %0 = "euler.layer_norm"(%x, %g, %b) {axis = 0 : i64} : (tensor<4xf16>, tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2x5xf32>
// CHECK-NEXT: %[[A:.*]] = tensor.insert_slice %arg0 into %[[E]][0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x5xf32>
// CHECK-NEXT: %[[B:.*]] = tensor.insert_slice %arg1 into %[[A]][0, 3] [2, 1] [1, 1] : tensor<2x1xf32> into tensor<2x5xf32>
// CHECK-NEXT: %[[C:.*]] = tensor.insert_slice %arg2 into %[[B]][0, 4] [2, 1] [1, 1] : tensor<2x1xf32> into tensor<2x5xf32>
// CHECK-NEXT: return %[[C]]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>, %c: tensor<2x1xf32>) -> tensor<2x5xf32> {
  %0 = "euler.concat"(%a, %b, %c) {axis = -1 : i64, operandSegmentSizes = array<i32: 1, 2, 0, 0, 0, 0, 0, 0>} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// CHECK-LABEL: func.func @pad
// CHECK-NEXT: %[[F:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[P:.*]] = tensor.pad %arg0 low[0, 1] high[2, 0] {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index):
// CHECK-NEXT: tensor.yield %[[F]] : f32
// CHECK-NEXT: } : tensor<2x3xf32> to tensor<4x4xf32>
// CHECK-NEXT: return %[[P]]
func.func @pad(%x: tensor<2x3xf32>) -> tensor<4x4xf32> {
  %0 = "euler.pad"(%x) {low = array<i64: 0, 1>, high = array<i64: 2, 0>, fill = 0.5 : f32} : (tensor<2x3xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// Booleans are i8 0/1: the comparison's i1 is widened, the select's
// condition is tested against zero.
// CHECK-LABEL: func.func @compare_select
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: i8):
// CHECK-NEXT: %[[LT:.*]] = arith.cmpf olt, %[[A]], %[[B]] : f32
// CHECK-NEXT: %[[W:.*]] = arith.extui %[[LT]] : i1 to i8
// CHECK-NEXT: linalg.yield %[[W]] : i8
// CHECK: ^bb0(%[[C:.*]]: i8, %[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0 : i8
// CHECK-NEXT: %[[T:.*]] = arith.cmpi ne, %[[C]], %[[Z]] : i8
// CHECK-NEXT: %[[S:.*]] = arith.select %[[T]], %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
func.func @compare_select(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "euler.compare"(%a, %b) {predicate = "lt"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi8>
  %1 = "euler.select"(%0, %a, %b) : (tensor<4xi8>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// cumsum: the scanned dim twice, out dim j parallel, input dim k reduced where k <= j.
// CHECK-LABEL: func.func @cumsum
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i64, %[[OUT:.*]]: i64):
// CHECK-NEXT: %[[K:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[LE:.*]] = arith.cmpi ule, %[[K]], %[[J]] : index
// CHECK-NEXT: %[[SUM:.*]] = arith.addi %[[OUT]], %[[IN]] : i64
// CHECK-NEXT: %[[R:.*]] = arith.select %[[LE]], %[[SUM]], %[[OUT]] : i64
// CHECK-NEXT: linalg.yield %[[R]] : i64
func.func @cumsum(%x: tensor<2x3xi64>) -> tensor<2x3xi64> {
  %0 = "euler.cumsum"(%x) {axis = 1 : i64} : (tensor<2x3xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// CHECK-LABEL: func.func @cast
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f16):
// CHECK-NEXT: %[[H:.*]] = arith.truncf %[[X]] : f32 to f16
// CHECK-NEXT: linalg.yield %[[H]] : f16
// CHECK: ^bb0(%[[Y:.*]]: f16, %{{.*}}: bf16):
// CHECK-NEXT: %[[F:.*]] = arith.extf %[[Y]] : f16 to f32
// CHECK-NEXT: %[[B:.*]] = arith.truncf %[[F]] : f32 to bf16
// CHECK: ^bb0(%[[Z:.*]]: bf16, %{{.*}}: i32):
// CHECK-NEXT: arith.fptosi %[[Z]] : bf16 to i32
// CHECK: ^bb0(%[[W:.*]]: i32, %{{.*}}: f64):
// CHECK-NEXT: arith.sitofp %[[W]] : i32 to f64
func.func @cast(%x: tensor<4xf32>) -> tensor<4xf64> {
  %0 = "euler.cast"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  %1 = "euler.cast"(%0) : (tensor<4xf16>) -> tensor<4xbf16>
  %2 = "euler.cast"(%1) : (tensor<4xbf16>) -> tensor<4xi32>
  %3 = "euler.cast"(%2) : (tensor<4xi32>) -> tensor<4xf64>
  return %3 : tensor<4xf64>
}

// -----

// numpy.take: negative indices wrap; rows come from tensor.extract.
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #[[OUT]]], iterator_types = ["parallel", "parallel"]} ins(%arg1 : tensor<4xi64>)
// CHECK-NEXT: ^bb0(%[[I:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[II:.*]] = arith.index_cast %[[I]] : i64 to index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[NEG:.*]] = arith.cmpi slt, %[[II]], %[[C0]] : index
// CHECK-NEXT: %[[C5:.*]] = arith.constant 5 : index
// CHECK-NEXT: %[[W:.*]] = arith.addi %[[II]], %[[C5]] : index
// CHECK-NEXT: %[[ROW:.*]] = arith.select %[[NEG]], %[[W]], %[[II]] : index
// CHECK-NEXT: %[[COL:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[V:.*]] = tensor.extract %arg0[%[[ROW]], %[[COL]]] : tensor<5x3xf32>
// CHECK-NEXT: linalg.yield %[[V]] : f32
func.func @gather(%t: tensor<5x3xf32>, %i: tensor<4xi64>) -> tensor<4x3xf32> {
  %0 = "euler.gather"(%t, %i) : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Constant indices that run first, first + step, ...: a slice, which
// bufferizes to a view (q, k and v out of one projection).
// CHECK-LABEL: func.func @gather_run
// CHECK-NOT:   linalg.generic
// CHECK:       %[[S:.*]] = tensor.extract_slice %arg0[0, 1, 0] [2, 2, 3] [1, 2, 1] : tensor<2x5x3xf32> to tensor<2x2x3xf32>
// CHECK-NEXT:  return %[[S]]
func.func @gather_run(%t: tensor<2x5x3xf32>) -> tensor<2x2x3xf32> {
  %i = "euler.constant"() {value = dense<[1, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %0 = "euler.gather"(%t, %i) {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<2xi64>) -> tensor<2x2x3xf32>
  return %0 : tensor<2x2x3xf32>
}

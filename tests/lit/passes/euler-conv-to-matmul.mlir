// RUN: euler-opt %s --split-input-file --euler-conv-to-matmul | FileCheck %s
// RUN: euler-opt %s --split-input-file --euler-conv-to-matmul=num-threads=2 | FileCheck %s --check-prefix=MT

// Stride 2 and dilation 3 along W, one channel, two taps: the patch matrix
// P[C*KH*KW, OH*OW] is written as euler-schedule-matmul packs B, [N/nr,
// ceil(K/kr), kr, nr] (here nr = N = 9, kr = 4), by a loop over the taps;
// the rows of 3 output pixels land 3 to a panel, each one read of the 5-wide
// span of x, a shuffle of every 2nd element and a write at lane 0, 3 or 6.
// The rows padding K to 4 are zeros. W[F, C*KH*KW] x unpack(P) on a fresh
// zero fill, reshaped back to NCHW; the old init is erased.
// CHECK-LABEL: func.func @stride2
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x3x8xf32>, %[[W:.*]]: tensor<1x1x1x2xf32>)
// CHECK: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<1x1x1x2xf32> into tensor<1x2xf32>
// CHECK-NEXT: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2], [3]] : tensor<1x1x3x8xf32> into tensor<1x3x8xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<1x1x4x9xf32>
// CHECK: %[[P:.*]] = scf.for %[[TAP:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A:.*]] = %[[E]]) -> (tensor<1x1x4x9xf32>) {
// CHECK: %[[KQ:.*]] = arith.divui
// CHECK-NEXT: %[[KS:.*]] = arith.remui
// CHECK-NEXT: %[[COL:.*]] = arith.muli %[[TAP]]
// CHECK-NEXT: %[[SPAN:.*]] = vector.transfer_read %[[X3]][%{{.*}}, %{{.*}}, %[[COL]]], %{{.*}} {in_bounds = [true]} : tensor<1x3x8xf32>, vector<5xf32>
// CHECK-NEXT: %[[V:.*]] = vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4] : vector<5xf32>, vector<5xf32>
// CHECK-NEXT: vector.transfer_write %[[V]], %[[A]][%{{.*}}, %[[KQ]], %[[KS]], %{{.*}}] {in_bounds = [true]} : vector<3xf32>, tensor<1x1x4x9xf32>
// CHECK: vector.transfer_write {{.*}} : vector<3xf32>, tensor<1x1x4x9xf32>
// CHECK: vector.transfer_write {{.*}} : vector<3xf32>, tensor<1x1x4x9xf32>
// CHECK-NEXT: scf.yield
// CHECK-NEXT: }
// CHECK-NEXT: %[[Z2:.*]] = vector.transfer_write %{{.*}}, %[[P]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {in_bounds = [true]} : vector<9xf32>, tensor<1x1x4x9xf32>
// CHECK-NEXT: %[[Z3:.*]] = vector.transfer_write %{{.*}}, %[[Z2]]
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<2x9xf32>
// CHECK-NEXT: %[[P2:.*]] = linalg.unpack %[[Z3]] outer_dims_perm = [1, 0] inner_dims_pos = [0, 1] inner_tiles = [4, 9] into %[[E2]] {euler.zero_padded} : tensor<1x1x4x9xf32> -> tensor<2x9xf32>
// CHECK-NEXT: %[[E3:.*]] = tensor.empty() : tensor<1x9xf32>
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E3]] : tensor<1x9xf32>)
// CHECK-NEXT: %[[Y:.*]] = linalg.matmul ins(%[[WK]], %[[P2]] : tensor<1x2xf32>, tensor<2x9xf32>) outs(%[[ACC]] : tensor<1x9xf32>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0], [1, 2, 3]] output_shape [1, 1, 3, 3] : tensor<1x9xf32> into tensor<1x1x3x3xf32>
// CHECK-NEXT: return %[[R]]
func.func @stride2(%x: tensor<1x1x3x8xf32>, %w: tensor<1x1x1x2xf32>) -> tensor<1x1x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 3]> : tensor<2xi64>, strides = dense<[1, 2]> : tensor<2xi64>}
       ins(%x, %w : tensor<1x1x3x8xf32>, tensor<1x1x1x2xf32>) outs(%init : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// -----

// A constant tensor.pad of x is redone as vector loops (zero rows, zero
// column edges, row copies; not upstream's element-wise memref.copy) and
// erased; the patch loops read the padded planes.
// CHECK-LABEL: func.func @padded
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x3xf32>, %[[W:.*]]: tensor<1x1x1x2xf32>)
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[PAD:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[Z1:.*]] = arith.constant dense<0.000000e+00> : vector<1xf32>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[Z5:.*]] = arith.constant dense<0.000000e+00> : vector<5xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[WK:.*]] = tensor.collapse_shape %[[W]]
// CHECK-NEXT: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2], [3]] : tensor<1x1x2x3xf32> into tensor<1x2x3xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<1x4x5xf32>
// CHECK-NEXT: %[[TOP:.*]] = vector.transfer_write %[[Z5]], %[[E]][%[[C0]], %[[C0]], %[[C0]]] {in_bounds = [true]} : vector<5xf32>, tensor<1x4x5xf32>
// CHECK-NEXT: %[[MID:.*]] = scf.for %[[R:.*]] = %[[C0]] to %[[C2]] step %[[C1]] iter_args(%[[A:.*]] = %[[TOP]]) -> (tensor<1x4x5xf32>) {
// CHECK-NEXT:   %[[DR:.*]] = arith.addi %[[R]], %[[C1]] : index
// CHECK-NEXT:   %[[L:.*]] = vector.transfer_write %[[Z1]], %[[A]][%[[C0]], %[[DR]], %[[C0]]] {in_bounds = [true]} : vector<1xf32>, tensor<1x4x5xf32>
// CHECK-NEXT:   %[[RT:.*]] = vector.transfer_write %[[Z1]], %[[L]][%[[C0]], %[[DR]], %[[C4]]] {in_bounds = [true]} : vector<1xf32>, tensor<1x4x5xf32>
// CHECK-NEXT:   %[[V:.*]] = vector.transfer_read %[[X3]][%[[C0]], %[[R]], %[[C0]]], %[[PAD]] {in_bounds = [true]} : tensor<1x2x3xf32>, vector<3xf32>
// CHECK-NEXT:   %[[WR:.*]] = vector.transfer_write %[[V]], %[[RT]][%[[C0]], %[[DR]], %[[C1]]] {in_bounds = [true]} : vector<3xf32>, tensor<1x4x5xf32>
// CHECK-NEXT:   scf.yield %[[WR]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[XP:.*]] = vector.transfer_write %[[Z5]], %[[MID]][%[[C0]], %[[C3]], %[[C0]]] {in_bounds = [true]} : vector<5xf32>, tensor<1x4x5xf32>
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<1x1x4x16xf32>
// CHECK: %[[P:.*]] = scf.for %[[TAP:.*]] = %[[C0]] to %[[C2]] step %[[C1]] iter_args(%[[A:.*]] = %[[E2]]) -> (tensor<1x1x4x16xf32>) {
// CHECK: vector.transfer_read %[[XP]][%[[C0]], %{{.*}}, %[[TAP]]], %[[PAD]] {in_bounds = [true]} : tensor<1x4x5xf32>, vector<4xf32>
// CHECK-NEXT: vector.transfer_write {{.*}} : vector<4xf32>, tensor<1x1x4x16xf32>
// CHECK: scf.yield
// CHECK: linalg.unpack
// CHECK: %[[Y:.*]] = linalg.matmul ins(%[[WK]], %{{.*}} : tensor<1x2xf32>, tensor<2x16xf32>) outs(%{{.*}} : tensor<1x16xf32>)
// CHECK-NEXT: %[[RES:.*]] = tensor.expand_shape %[[Y]]
// CHECK-NEXT: return %[[RES]]
func.func @padded(%x: tensor<1x1x2x3xf32>, %w: tensor<1x1x1x2xf32>) -> tensor<1x1x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x1x2x3xf32> to tensor<1x1x4x5xf32>
  %e = tensor.empty() : tensor<1x1x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%p, %w : tensor<1x1x4x5xf32>, tensor<1x1x1x2xf32>) outs(%init : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
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

// Groups and small images: one batch_matmul over the groups, every image's
// pixels as columns (P [G*Cg, taps, N, OH, OW] viewed as [G, K, N*OH*OW]);
// the result [G, Fg, N, OH*OW] is transposed to NCHW by a generic.
// CHECK-LABEL: func.func @grouped_batch
// CHECK-SAME: (%[[X:.*]]: tensor<2x2x2x4x4xf64>, %[[W:.*]]: tensor<2x3x2x1x1xf64>)
// CHECK-NEXT: %[[PAD:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-NEXT: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1], [2, 3, 4]] : tensor<2x3x2x1x1xf64> into tensor<2x3x2xf64>
// CHECK-NEXT: %[[X3:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1, 2], [3], [4]] : tensor<2x2x2x4x4xf64> into tensor<8x4x4xf64>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x1x2x4x4xf64>
// CHECK-NEXT: %[[P:.*]] = scf.for %[[CH:.*]] = %[[C0]] to %[[C4]] step %[[C1]] iter_args(%[[A:.*]] = %[[E]]) -> (tensor<4x1x2x4x4xf64>) {
// CHECK-NEXT:   %[[IMGS:.*]] = scf.for %[[N:.*]] = %[[C0]] to %[[C2]] step %[[C1]] iter_args(%[[B:.*]] = %[[A]]) -> (tensor<4x1x2x4x4xf64>) {
// CHECK-NEXT:     %[[NOFF:.*]] = arith.muli %[[N]], %[[C4]] : index
// CHECK-NEXT:     %[[PLANE:.*]] = arith.addi %[[NOFF]], %[[CH]] : index
// CHECK-NEXT:     %[[ROWS:.*]] = scf.for %[[O:.*]] = %[[C0]] to %[[C4]] step %[[C1]] iter_args(%[[D:.*]] = %[[B]]) -> (tensor<4x1x2x4x4xf64>) {
// CHECK-NEXT:       %[[V:.*]] = vector.transfer_read %[[X3]][%[[PLANE]], %[[O]], %[[C0]]], %[[PAD]] {in_bounds = [true]} : tensor<8x4x4xf64>, vector<4xf64>
// CHECK-NEXT:       %[[WR:.*]] = vector.transfer_write %[[V]], %[[D]][%[[CH]], %[[C0]], %[[N]], %[[O]], %[[C0]]] {in_bounds = [true]} : vector<4xf64>, tensor<4x1x2x4x4xf64>
// CHECK-NEXT:       scf.yield %[[WR]]
// CHECK-NEXT:     }
// CHECK-NEXT:     scf.yield %[[ROWS]]
// CHECK-NEXT:   }
// CHECK-NEXT:   scf.yield %[[IMGS]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[FLAT:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0, 1, 2, 3, 4]] : tensor<4x1x2x4x4xf64> into tensor<128xf64>
// CHECK-NEXT: %[[RHS:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1, 2]] output_shape [2, 2, 32] : tensor<128xf64> into tensor<2x2x32xf64>
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<2x3x32xf64>
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f64) outs(%[[E2]] : tensor<2x3x32xf64>)
// CHECK-NEXT: %[[Y:.*]] = linalg.batch_matmul ins(%[[WK]], %[[RHS]] : tensor<2x3x2xf64>, tensor<2x2x32xf64>) outs(%[[ACC]] : tensor<2x3x32xf64>)
// CHECK-NEXT: %[[Y4:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 2, 16] : tensor<2x3x32xf64> into tensor<2x3x2x16xf64>
// CHECK-NEXT: %[[E3:.*]] = tensor.empty() : tensor<2x2x3x16xf64>
// CHECK-NEXT: %[[T:.*]] = linalg.generic {indexing_maps = [#[[IN:.*]], #[[OUT:.*]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[Y4]] : tensor<2x3x2x16xf64>) outs(%[[E3]] : tensor<2x2x3x16xf64>) {
// CHECK-NEXT: ^bb0(%[[IN_:.*]]: f64, %{{.*}}: f64):
// CHECK-NEXT:   linalg.yield %[[IN_]] : f64
// CHECK-NEXT: } -> tensor<2x2x3x16xf64>
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0], [1], [2], [3, 4]] output_shape [2, 2, 3, 4, 4]
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

// Images of whole register tiles (8x16 = 4 x 32 pixels): one matmul per
// image, a batch_matmul with W broadcast over the images; a 1x1 stride-1
// conv reads x as it is.
// CHECK-LABEL: func.func @per_image
// CHECK-SAME: (%[[X:.*]]: tensor<2x2x8x16xf32>, %[[W:.*]]: tensor<3x2x1x1xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[WK:.*]] = tensor.collapse_shape %[[W]] {{\[\[}}0], [1, 2, 3]] : tensor<3x2x1x1xf32> into tensor<3x2xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2x3x2xf32>
// CHECK-NEXT: %[[LHS:.*]] = linalg.broadcast ins(%[[WK]] : tensor<3x2xf32>) outs(%[[E]] : tensor<2x3x2xf32>) dimensions = [0]
// CHECK-NEXT: %[[RHS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1], [2, 3]] : tensor<2x2x8x16xf32> into tensor<2x2x128xf32>
// CHECK-NEXT: %[[E2:.*]] = tensor.empty() : tensor<2x3x128xf32>
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E2]] : tensor<2x3x128xf32>)
// CHECK-NEXT: %[[Y:.*]] = linalg.batch_matmul ins(%[[LHS]], %[[RHS]] : tensor<2x3x2xf32>, tensor<2x2x128xf32>) outs(%[[ACC]] : tensor<2x3x128xf32>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 8, 16]
// CHECK-NEXT: return %[[R]]
func.func @per_image(%x: tensor<2x2x8x16xf32>, %w: tensor<3x2x1x1xf32>) -> tensor<2x3x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x8x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3x8x16xf32>) -> tensor<2x3x8x16xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<2x2x8x16xf32>, tensor<3x2x1x1xf32>) outs(%init : tensor<2x3x8x16xf32>) -> tensor<2x3x8x16xf32>
  return %y : tensor<2x3x8x16xf32>
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

// -----

// With threads, im2col would split the groups of rows over an scf.forall,
// but this one copies 36K elements: too little for the cost model
// (heuristics.parallel_threads, about 60 us per dispatch), so both runs keep
// one thread. Rows of 71 pixels cross 32-column panels at places that repeat
// every 32 rows: a row is cut into pieces of at most 32 (here 32 + 32 + 7).
// CHECK-LABEL: func.func @threads
// CHECK-NOT: scf.forall
// CHECK: linalg.matmul
// MT-LABEL: func.func @threads
// MT-NOT: scf.forall
// MT: vector.transfer_read {{.*}} vector<32xf32>
// MT-NEXT: vector.transfer_write {{.*}} : vector<32xf32>, tensor<142x2x4x32xf32>
// MT: vector.transfer_read {{.*}} vector<7xf32>
// MT: linalg.unpack {{.*}} : tensor<142x2x4x32xf32> -> tensor<8x4544xf32>
// MT: linalg.matmul
func.func @threads(%x: tensor<1x4x64x72xf32>, %w: tensor<1x4x1x2xf32>) -> tensor<1x1x64x71xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x64x71xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x64x71xf32>) -> tensor<1x1x64x71xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x4x64x72xf32>, tensor<1x4x1x2xf32>) outs(%init : tensor<1x1x64x71xf32>) -> tensor<1x1x64x71xf32>
  return %y : tensor<1x1x64x71xf32>
}

// -----

// Depthwise (one input channel per group) stays a convolution: each group's
// matmul would be 1 x KH*KW by KH*KW x OH*OW, all packing and no reuse.
// CHECK-LABEL: func.func @depthwise_untouched
// CHECK-NEXT: linalg.conv_2d_ngchw_gfchw
// CHECK-NEXT: return
func.func @depthwise_untouched(%x: tensor<1x4x1x5x5xf32>, %w: tensor<4x1x1x3x3xf32>, %init: tensor<1x4x1x3x3xf32>) -> tensor<1x4x1x3x3xf32> {
  %y = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x4x1x5x5xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x3x3xf32>) -> tensor<1x4x1x3x3xf32>
  return %y : tensor<1x4x1x3x3xf32>
}

// -----

// A 1-D conv's padding of W, seen through the expand of [N, C, W] to
// [N, C, 1, W]: the padded copy is read (the pad's last two dims are C and W,
// not H and W; taking them for H and W recursed forever, Canine).
// CHECK-LABEL: func.func @conv1d_padded
// CHECK: %[[P:.*]] = tensor.pad
// CHECK: %[[E:.*]] = tensor.expand_shape %[[P]]
// CHECK: tensor.collapse_shape %[[E]] {{\[\[}}0, 1], [2], [3]] : tensor<1x6x1x18xf32> into tensor<6x1x18xf32>
// CHECK: linalg.matmul
func.func @conv1d_padded(%x: tensor<1x6x16xf32>, %w: tensor<4x6x1x3xf32>) -> tensor<1x4x1x16xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1] high[0, 0, 1] {
  ^bb0(%a: index, %b: index, %c: index):
    tensor.yield %zero : f32
  } : tensor<1x6x16xf32> to tensor<1x6x18xf32>
  %e = tensor.expand_shape %p [[0], [1], [2, 3]] output_shape [1, 6, 1, 18] : tensor<1x6x18xf32> into tensor<1x6x1x18xf32>
  %init = tensor.empty() : tensor<1x4x1x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%init : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%e, %w : tensor<1x6x1x18xf32>, tensor<4x6x1x3xf32>) outs(%f : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  return %y : tensor<1x4x1x16xf32>
}

// RUN: euler-opt %s --no-verify --split-input-file --euler-split-reductions=block=4 | FileCheck %s
// RUN: euler-opt %s --no-verify --split-input-file --euler-split-reductions | FileCheck %s --check-prefix=DEFAULT

// A 12-term row sum with 4-term blocks: the row is viewed as 3 blocks of 4,
// each summed into zeros, then the 3 partials into the original init.
// CHECK-LABEL: func.func @row_sum
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK-NEXT: %[[BLOCKS:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [2, 3, 4]
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<2x3xf32>
// CHECK-NEXT: %[[PARTIAL:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[BLOCKS]] : tensor<2x3x4xf32>) outs(%[[ZEROS]] : tensor<2x3xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[PARTIAL]] : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2xf32>)
// CHECK: return %[[SUM]]
// Under the default block (thousands of terms) nothing changes.
// DEFAULT-LABEL: func.func @row_sum
// DEFAULT: linalg.reduce
// DEFAULT-NOT: linalg.generic
// DEFAULT: return

func.func @row_sum(%x: tensor<2x12xf32>) -> tensor<2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
  %s = linalg.reduce ins(%x : tensor<2x12xf32>) outs(%init : tensor<2xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  return %s : tensor<2xf32>
}

// -----

// No block size near 4 divides 7: one block of 4, then the 3-term tail by
// its own copy of the body, added into the init first.
// CHECK-LABEL: func.func @ragged
// CHECK: %[[HEAD:.*]] = tensor.extract_slice %arg0[0] [4] [1]
// CHECK-NEXT: %[[BLOCKS:.*]] = tensor.expand_shape %[[HEAD]] {{\[}}[0, 1]] output_shape [1, 4]
// CHECK: %[[PARTIAL:.*]] = linalg.generic {{.*}} ins(%[[BLOCKS]] : tensor<1x4xf32>)
// CHECK: %[[REST:.*]] = tensor.extract_slice %arg0[4] [3] [1]
// CHECK: %[[TAIL:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[REST]] : tensor<3xf32>)
// CHECK: %[[WITH_TAIL:.*]] = linalg.generic {{.*}} ins(%[[TAIL]] : tensor<f32>) outs(%arg1 : tensor<f32>)
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[PARTIAL]] : tensor<1xf32>) outs(%[[WITH_TAIL]] : tensor<f32>)
// CHECK: return %[[SUM]]

func.func @ragged(%x: tensor<7xf32>, %init: tensor<f32>) -> tensor<f32> {
  %s = linalg.reduce ins(%x : tensor<7xf32>) outs(%init : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  return %s : tensor<f32>
}

// -----

// A generic's own body (layer_norm's squared deviations) is kept for the
// blocks; inputs that do not read the split dim (the row mean) are unchanged.
// CHECK-LABEL: func.func @squares
// CHECK: %[[BLOCKS:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [3, 2, 4]
// CHECK: linalg.generic {{.*}} ins(%[[BLOCKS]], %arg1 : tensor<3x2x4xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<3x2xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %[[M:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[V]], %[[M]]
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[D]], %[[D]]
// CHECK-NEXT: arith.addf %[[ACC]], %[[SQ]]
// CHECK: outs(%arg2 : tensor<3xf32>)

func.func @squares(%x: tensor<3x8xf32>, %mu: tensor<3xf32>, %init: tensor<3xf32>) -> tensor<3xf32> {
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x, %mu : tensor<3x8xf32>, tensor<3xf32>) outs(%init : tensor<3xf32>) {
  ^bb0(%v: f32, %m: f32, %acc: f32):
    %d = arith.subf %v, %m : f32
    %sq = arith.mulf %d, %d : f32
    %0 = arith.addf %acc, %sq : f32
    linalg.yield %0 : f32
  } -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

// Short sums, max reductions (exact) and integer sums (exact) stay as they are.
// CHECK-LABEL: func.func @short_max_int
// CHECK-COUNT-3: linalg.reduce
// CHECK-NOT: linalg.generic
// CHECK: return

func.func @short_max_int(%x: tensor<4xf32>, %m: tensor<f32>, %y: tensor<64xi32>, %i: tensor<i32>) -> (tensor<f32>, tensor<f32>, tensor<i32>) {
  %s = linalg.reduce ins(%x : tensor<4xf32>) outs(%m : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %mx = linalg.reduce ins(%x : tensor<4xf32>) outs(%m : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %0 = arith.maximumf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %is = linalg.reduce ins(%y : tensor<64xi32>) outs(%i : tensor<i32>) dimensions = [0]
    (%in: i32, %acc: i32) {
      %0 = arith.addi %in, %acc : i32
      linalg.yield %0 : i32
    }
  return %s, %mx, %is : tensor<f32>, tensor<f32>, tensor<i32>
}

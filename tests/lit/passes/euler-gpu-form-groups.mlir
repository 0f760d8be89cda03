// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-form-groups)' --split-input-file | FileCheck %s
// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-form-groups{chip=sm_90})' --split-input-file | FileCheck %s --check-prefix=SM90

// A softmax row: both reductions, their fills, exp and the divide are one
// group; the root carries the plan (32 threads x 8 rows a block, 2 chunks of
// 4-wide vectors a thread for 256 columns).
// CHECK-LABEL: func.func @softmax
// CHECK:      linalg.generic {{.*}} ins(%cst_0 : f32) {{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK:      linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK:      math.exp
// CHECK:      linalg.generic {{.*}} ins(%cst : f32) {{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK:      arith.addf
// CHECK:      linalg.generic {{.*}} attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 8 : i64, threads = 32 : i64, vector = 4 : i64}}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.divf
func.func @softmax(%arg0: tensor<16x256xf32>) -> tensor<16x256xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<16xf32>
  %1 = linalg.fill ins(%cst_0 : f32) outs(%0 : tensor<16xf32>) -> tensor<16xf32>
  %reduced = linalg.reduce ins(%arg0 : tensor<16x256xf32>) outs(%1 : tensor<16xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %8 = arith.maximumf %in, %init : f32
      linalg.yield %8 : f32
    }
  %2 = tensor.empty() : tensor<16x256xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %reduced : tensor<16x256xf32>, tensor<16xf32>) outs(%2 : tensor<16x256xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %8 = arith.subf %in, %in_2 : f32
    %9 = math.exp %8 : f32
    linalg.yield %9 : f32
  } -> tensor<16x256xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%0 : tensor<16xf32>) -> tensor<16xf32>
  %reduced_1 = linalg.reduce ins(%3 : tensor<16x256xf32>) outs(%5 : tensor<16xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %8 = arith.addf %in, %init : f32
      linalg.yield %8 : f32
    }
  %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%3, %reduced_1 : tensor<16x256xf32>, tensor<16xf32>) outs(%2 : tensor<16x256xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %8 = arith.divf %in, %in_2 : f32
    linalg.yield %8 : f32
  } -> tensor<16x256xf32>
  return %7 : tensor<16x256xf32>
}

// -----

// A 16-bit softmax: its f16 row max is in the group too (the kernel
// combines it in f32, as its f32 sum).
// CHECK-LABEL: func.func @softmax_f16
// CHECK:      linalg.generic {{.*}} ins(%cst_0 : f16) {{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK:      linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.maximumf {{.*}} : f16
// CHECK:      euler.gpu_schedule = {chunks = 4 : i64, col_tiles = 1 : i64, rows_per_block = 8 : i64, threads = 32 : i64, vector = 8 : i64}
// CHECK-NOT:  linalg.generic
// CHECK:      return
func.func @softmax_f16(%arg0: tensor<16x1024xf16>) -> tensor<16x1024xf16> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFC00 : f16
  %0 = tensor.empty() : tensor<16xf16>
  %1 = linalg.fill ins(%cst_0 : f16) outs(%0 : tensor<16xf16>) -> tensor<16xf16>
  %reduced = linalg.reduce ins(%arg0 : tensor<16x1024xf16>) outs(%1 : tensor<16xf16>) dimensions = [1]
    (%in: f16, %init: f16) {
      %8 = arith.maximumf %in, %init : f16
      linalg.yield %8 : f16
    }
  %2 = tensor.empty() : tensor<16x1024xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %reduced : tensor<16x1024xf16>, tensor<16xf16>) outs(%2 : tensor<16x1024xf32>) {
  ^bb0(%in: f16, %in_1: f16, %out: f32):
    %8 = arith.subf %in, %in_1 : f16
    %9 = arith.extf %8 : f16 to f32
    %10 = math.exp %9 : f32
    linalg.yield %10 : f32
  } -> tensor<16x1024xf32>
  %4 = tensor.empty() : tensor<16xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<16xf32>) -> tensor<16xf32>
  %reduced_1 = linalg.reduce ins(%3 : tensor<16x1024xf32>) outs(%5 : tensor<16xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %8 = arith.addf %in, %init : f32
      linalg.yield %8 : f32
    }
  %6 = tensor.empty() : tensor<16x1024xf16>
  %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%3, %reduced_1 : tensor<16x1024xf32>, tensor<16xf32>) outs(%6 : tensor<16x1024xf16>) {
  ^bb0(%in: f32, %in_1: f32, %out: f16):
    %8 = arith.divf %in, %in_1 : f32
    %9 = arith.truncf %8 : f32 to f16
    linalg.yield %9 : f16
  } -> tensor<16x1024xf16>
  return %7 : tensor<16x1024xf16>
}

// -----

// A sum over columns (the first dimension) is no row group: no tags, for the
// loop-nest path.
// CHECK-LABEL: func.func @column_sum
// CHECK-NOT:  euler.gpu_group
// CHECK:      return
func.func @column_sum(%arg0: tensor<64x32xf32>) -> tensor<32xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<32xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<32xf32>) -> tensor<32xf32>
  %r = linalg.reduce ins(%arg0 : tensor<64x32xf32>) outs(%1 : tensor<32xf32>) dimensions = [0]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  return %r : tensor<32xf32>
}

// -----

// Matmuls stay named, for euler-gpu-schedule-matmul; the bias add after one
// is a group of its own (32 vectors a row: one warp, one vector a thread).
// CHECK-LABEL: func.func @matmul_bias
// CHECK:      linalg.fill
// CHECK-NEXT: linalg.matmul
// CHECK:      linalg.generic {{.*}} attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 1 : i64, col_tiles = 1 : i64, rows_per_block = 8 : i64, threads = 32 : i64, vector = 4 : i64}}
func.func @matmul_bias(%a: tensor<64x128xf32>, %b: tensor<128x128xf32>, %bias: tensor<128xf32>) -> tensor<64x128xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<64x128xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x128xf32>) outs(%1 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%2, %bias : tensor<64x128xf32>, tensor<128xf32>) outs(%0 : tensor<64x128xf32>) {
  ^bb0(%x: f32, %y: f32, %out: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<64x128xf32>
  return %3 : tensor<64x128xf32>
}

// -----

// A matmul written as a contraction generic, then a bias add and a row sum:
// the CPU's group holds all three, which is no row group; its run after the
// contraction is (the add, the sum and its fill), and the contraction keeps
// its own path.
// CHECK-LABEL: func.func @contraction_then_rows
// CHECK:      linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT:  euler.gpu_group
// CHECK-SAME: {
// CHECK:      linalg.generic {{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK:      linalg.generic {{.*}} attrs = {euler.gpu_group = "g0"}
// CHECK:      linalg.generic {{.*}} attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {{.*}}}
func.func @contraction_then_rows(%x: tensor<64x128xf32>, %w: tensor<128x256xf32>, %b: tensor<256xf32>) -> tensor<64xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<64x128xf32>, tensor<128x256xf32>) outs(%z : tensor<64x256xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %yb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y, %b : tensor<64x256xf32>, tensor<256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %0 = arith.addf %a, %c : f32
    linalg.yield %0 : f32
  } -> tensor<64x256xf32>
  %e3 = tensor.empty() : tensor<64xf32>
  %z3 = linalg.fill ins(%cst : f32) outs(%e3 : tensor<64xf32>) -> tensor<64xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%yb : tensor<64x256xf32>) outs(%z3 : tensor<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.addf %acc, %a : f32
    linalg.yield %0 : f32
  } -> tensor<64xf32>
  return %s : tensor<64xf32>
}

// -----

// Rows longer than a block's registers hold (32768 vectors: 32 a thread of
// 1024). Without clusters each pass loops over 8 tiles of the row; on sm_90
// the row is split over a cluster of 8 blocks, 4 vectors a thread, read once.
// CHECK-LABEL: func.func @long_rows
// CHECK:      euler.gpu_schedule = {chunks = 4 : i64, col_tiles = 1 : i64, row_tiles = 8 : i64, rows_per_block = 1 : i64, threads = 1024 : i64, vector = 4 : i64}
// SM90-LABEL: func.func @long_rows
// SM90:       euler.gpu_schedule = {chunks = 4 : i64, cluster = 8 : i64, col_tiles = 8 : i64, rows_per_block = 1 : i64, threads = 1024 : i64, vector = 4 : i64}
func.func @long_rows(%arg0: tensor<64x131072xf32>) -> tensor<64xf32> {
  %cst = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<64xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<64xf32>) -> tensor<64xf32>
  %r = linalg.reduce ins(%arg0 : tensor<64x131072xf32>) outs(%1 : tensor<64xf32>) dimensions = [1]
    (%in: f32, %init: f32) {
      %m = arith.maximumf %in, %init : f32
      linalg.yield %m : f32
    }
  return %r : tensor<64xf32>
}

// -----

// A sum over the rows of 8192 columns: 64 blocks of 32 vectors, too few for
// the chip without clusters (the loop nest); on sm_90 a column group, the
// rows split over a cluster of 4 blocks of 8 warps (256 blocks).
// CHECK-LABEL: func.func @wide_column_sum
// CHECK-NOT:  euler.gpu_group
// SM90-LABEL: func.func @wide_column_sum
// SM90:       linalg.generic {{.*}} ins(%cst : f32) {{.*}} attrs = {euler.gpu_group = "g0"}
// SM90:       linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]{{.*}} attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {cluster = 4 : i64, column = 1 : i64, unroll = 8 : i64, vector = 4 : i64, warps = 8 : i64}}
func.func @wide_column_sum(%arg0: tensor<4096x8192xf32>) -> tensor<8192xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<8192xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<8192xf32>) -> tensor<8192xf32>
  %r = linalg.reduce ins(%arg0 : tensor<4096x8192xf32>) outs(%1 : tensor<8192xf32>) dimensions = [0]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  return %r : tensor<8192xf32>
}

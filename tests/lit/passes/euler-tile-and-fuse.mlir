// RUN: euler-opt %s --no-verify --split-input-file --euler-tile-and-fuse=tile=2 | FileCheck %s
// RUN: euler-opt %s --no-verify --split-input-file "--euler-tile-and-fuse=tile=2 parallel=true num-threads=2" | FileCheck %s --check-prefix=PAR
// RUN: euler-opt %s --no-verify --split-input-file "--euler-tile-and-fuse=tile=2 skip=linalg.matmul" | FileCheck %s --check-prefix=SKIP

// Softmax rows: max, exp, sum and divide are one loop over 2-row tiles; the
// fills and both reductions are fused into it, nothing runs at full size.
// CHECK-LABEL: func.func @softmax
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c2
// CHECK: tensor.extract_slice %arg0[%{{.*}}, 0] [2, 16] [1, 1]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<2xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
// CHECK: tensor.insert_slice {{.*}} [2, 16] [1, 1] : tensor<2x16xf32> into tensor<8x16xf32>
// CHECK-NOT: linalg.
// CHECK: return
// PAR-LABEL: func.func @softmax
// PAR: scf.for
// PAR-NOT: scf.forall
func.func @softmax(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %m = linalg.reduce ins(%x : tensor<8x16xf32>) outs(%m0 : tensor<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %0 = arith.maximumf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %e = tensor.empty() : tensor<8x16xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<8x16xf32>, tensor<8xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x16xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.reduce ins(%ex : tensor<8x16xf32>) outs(%s0 : tensor<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ex, %s : tensor<8x16xf32>, tensor<8xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %sm: f32, %out: f32):
    %0 = arith.divf %in, %sm : f32
    linalg.yield %0 : f32
  } -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// matmul + bias: the matmul (and its zero fill) computes one 2-row tile of C
// at a time, right before the epilogue reads it. With skip=linalg.matmul
// (-O3, where euler-schedule-matmul owns it) only the epilogue is tiled.
// CHECK-LABEL: func.func @matmul_bias
// CHECK: scf.for
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x32xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %arg1 : tensor<2x8xf32>, tensor<8x32xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.addf
// CHECK: tensor.insert_slice
// SKIP-LABEL: func.func @matmul_bias
// SKIP: linalg.fill
// SKIP-NEXT: linalg.matmul
// SKIP-NEXT: scf.for
// SKIP: tensor.extract_slice %{{.*}}[%{{.*}}, 0] [2, 32] [1, 1]
// SKIP: arith.addf
func.func @matmul_bias(%a: tensor<4x8xf32>, %b: tensor<8x32xf32>, %bias: tensor<32xf32>) -> tensor<4x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x32xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%e : tensor<4x32xf32>) -> tensor<4x32xf32>
  %c = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x32xf32>) outs(%c0 : tensor<4x32xf32>) -> tensor<4x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : tensor<4x32xf32>, tensor<32xf32>) outs(%e : tensor<4x32xf32>) {
  ^bb0(%in: f32, %bi: f32, %out: f32):
    %0 = arith.addf %in, %bi : f32
    linalg.yield %0 : f32
  } -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}

// -----

// A producer that only broadcasts along the tiled rows (a column sum) would
// be recomputed for every tile: it stays out, as a group of its own.
// CHECK-LABEL: func.func @broadcast_producer_stays_out
// CHECK: scf.for
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: arith.subf
func.func @broadcast_producer_stays_out(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<16xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<16xf32>) -> tensor<16xf32>
  %s = linalg.reduce ins(%x : tensor<8x16xf32>) outs(%s0 : tensor<16xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %e = tensor.empty() : tensor<8x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<8x16xf32>, tensor<16xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %cs: f32, %out: f32):
    %0 = arith.subf %in, %cs : f32
    linalg.yield %0 : f32
  } -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// Large enough to pay for worker threads (parallel=true, at -O3; the cost
// model in heuristics.parallel_threads): the tiles are iterations of an
// scf.forall.
// CHECK-LABEL: func.func @exp_rows
// CHECK: scf.for
// PAR-LABEL: func.func @exp_rows
// PAR: scf.forall (%{{.*}}) in (8192) shared_outs
// PAR: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x256xf32>)
// PAR: math.exp
// PAR: tensor.parallel_insert_slice
func.func @exp_rows(%x: tensor<16384x256xf32>) -> tensor<16384x256xf32> {
  %e = tensor.empty() : tensor<16384x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<16384x256xf32>) outs(%e : tensor<16384x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<16384x256xf32>
  return %r : tensor<16384x256xf32>
}

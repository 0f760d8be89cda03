// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-device-buffers,euler-gpu-lower-groups)' --split-input-file | FileCheck %s

// A row sum: one launch of 8 rows x 32 threads a block; each thread loads its
// two 16-byte vectors, streaming (the row is read once, by a reduction: it
// must not push others' lines out of L2), the warp combines by xor shuffles,
// and the row's first thread adds the start value and stores. The fill is
// folded in.
// CHECK-LABEL: func.func @sum_rows
// CHECK-NOT:  linalg.generic
// CHECK:      gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c8{{.*}}, %{{.*}} = %c1{{.*}})
// CHECK:      memref.extract_aligned_pointer_as_index %arg0 : memref<8x256xf32>
// CHECK:      llvm.inline_asm "ld.global.cs.v4.b32 {$0, $1, $2, $3}, [$4];", "=f,=f,=f,=f,l"
// CHECK:      llvm.inline_asm "ld.global.cs.v4.b32
// CHECK-NOT:  vector.load
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-NOT:  gpu.barrier
// CHECK:      scf.if
// CHECK-NEXT:   memref.store %{{.*}}, %arg1[%{{.*}}] : memref<8xf32>
// CHECK:      gpu.terminator
// CHECK-NOT:  linalg.generic
// CHECK:      return
func.func @sum_rows(%arg0: memref<8x256xf32>, %arg1: memref<8xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg1 : memref<8xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<8x256xf32>) outs(%arg1 : memref<8xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 8 : i64, threads = 32 : i64, vector = 4 : i64}} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// x - max(x) over rows of 512, 64 threads (2 warps) a row: the max goes
// through shared memory between the warps, behind one barrier; the
// intermediate row maxima never reach a buffer (their alloc is gone); x is
// loaded once, for the max and for the subtraction, and the result stored as
// 16-byte vectors.
// CHECK-LABEL: func.func @minus_max
// CHECK-NOT:  gpu.alloc
// CHECK:      gpu.launch {{.*}} workgroup(%[[SMEM:.*]] : memref<2xf32, #gpu.address_space<workgroup>>)
// CHECK:      %[[X0:.*]] = vector.load %arg0
// CHECK:      %[[X1:.*]] = vector.load %arg0
// CHECK-NOT:  vector.load
// CHECK:      arith.maximumf
// CHECK-NOT:  gpu.barrier
// CHECK:      memref.store %{{.*}}, %[[SMEM]]
// CHECK:      gpu.barrier
// CHECK-NOT:  gpu.barrier
// CHECK:      memref.load %[[SMEM]]
// CHECK:      gpu.shuffle  xor
// CHECK:      arith.subf
// CHECK:      vector.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<4x512xf32>, vector<4xf32>
// CHECK:      vector.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<4x512xf32>, vector<4xf32>
// CHECK:      gpu.terminator
// CHECK-NOT:  gpu.dealloc
// CHECK:      return
func.func @minus_max(%arg0: memref<4x512xf32>, %arg1: memref<4x512xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %max = memref.alloc() : memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%max : memref<4xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<4x512xf32>) outs(%max : memref<4xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %max : memref<4x512xf32>, memref<4xf32>) outs(%arg1 : memref<4x512xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 1 : i64, threads = 64 : i64, vector = 4 : i64}} {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %0 = arith.subf %in, %m : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %max : memref<4xf32>
  return
}

// Two independent row sums (of x and of x * x), 2 warps a row: one round,
// their shuffles interleaved and one barrier for both; each has its own
// shared-memory slots (2 warps x 2 sums).
// CHECK-LABEL: func.func @two_sums
// CHECK:      gpu.launch {{.*}} workgroup(%[[SMEM:.*]] : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK:      gpu.shuffle  xor %{{.*}}, %c16
// CHECK-NOT:  arith.addf
// CHECK:      gpu.shuffle  xor %{{.*}}, %c16
// CHECK-NOT:  gpu.barrier
// CHECK:      scf.if
// CHECK:        memref.store %{{.*}}, %[[SMEM]]
// CHECK:        memref.store %{{.*}}, %[[SMEM]]
// CHECK:      gpu.barrier
// CHECK-NOT:  gpu.barrier
// CHECK:      memref.load %[[SMEM]]
// CHECK:      memref.load %[[SMEM]]
// CHECK:      gpu.terminator
func.func @two_sums(%arg0: memref<4x512xf32>, %arg1: memref<4xf32>, %arg2: memref<4xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg1 : memref<4xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg2 : memref<4xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<4x512xf32>) outs(%arg1 : memref<4xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<4x512xf32>) outs(%arg2 : memref<4xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 1 : i64, threads = 64 : i64, vector = 4 : i64}} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  return
}

// A row longer than registers hold (row_tiles = 5 tiles of 32 threads x 4
// chunks, the last partial): each thread's sum runs over the tiles in two
// nested loops (tiles 3 at a time), each tile's loads guarded, then the warp
// shuffles once.
// CHECK-LABEL: func.func @long_rows
// CHECK:      gpu.launch
// CHECK:      scf.for %{{.*}} = %c0{{.*}} to %c2{{.*}} step %c1{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// CHECK:        scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// CHECK:          arith.cmpi ult, %{{.*}}, %c520
// CHECK:          llvm.inline_asm "ld.global.cs.v4.b32
// CHECK:          scf.yield
// CHECK:        scf.yield
// CHECK-NOT:  scf.for
// CHECK:      gpu.shuffle  xor
// CHECK:      memref.store
func.func @long_rows(%arg0: memref<2x2080xf32>, %arg1: memref<2xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg1 : memref<2xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<2x2080xf32>) outs(%arg1 : memref<2xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 4 : i64, col_tiles = 1 : i64, row_tiles = 5 : i64, rows_per_block = 1 : i64, threads = 32 : i64, vector = 4 : i64}} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A group whose output is also one of its inputs (in place: bufferization
// reuses a matmul's result for its bias add, say) is still one kernel when
// each thread reads only the elements it writes, as the same elements.
// CHECK-LABEL: func.func @in_place
// CHECK:      gpu.launch
// CHECK:      vector.load %arg0
// CHECK:      vector.store %{{.*}}, %arg0
// CHECK-NOT:  linalg.generic
func.func @in_place(%arg0: memref<4x512xf32>, %arg1: memref<512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : memref<4x512xf32>, memref<512xf32>) outs(%arg0 : memref<4x512xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 1 : i64, threads = 64 : i64, vector = 4 : i64}} {
  ^bb0(%x: f32, %b: f32, %out: f32):
    %0 = arith.addf %x, %b : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// In place, but reading other elements than it writes (x + x^T): other
// threads could read what one has written, so the group is left alone, for
// the loop-nest path.
// CHECK-LABEL: func.func @in_place_transposed
// CHECK-NOT:  gpu.launch
// CHECK:      linalg.generic
// CHECK-NOT:  euler.gpu
func.func @in_place_transposed(%arg0: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg0 : memref<64x64xf32>, memref<64x64xf32>) outs(%arg0 : memref<64x64xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 1 : i64, col_tiles = 1 : i64, rows_per_block = 4 : i64, threads = 64 : i64, vector = 1 : i64}} {
  ^bb0(%x: f32, %y: f32, %out: f32):
    %0 = arith.addf %x, %y : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Something between the members writes a buffer the group reads (here the
// bias, in place): the kernel, which runs where the root is, would read the
// new values instead of the old, so the group is left alone.
// CHECK-LABEL: func.func @input_written_between
// CHECK-NOT:  gpu.launch
// CHECK:      linalg.generic
// CHECK:      linalg.copy
// CHECK:      linalg.generic
func.func @input_written_between(%x: memref<4x512xf32>, %b: memref<512xf32>, %c: memref<512xf32>, %out: memref<4x512xf32>) {
  %t = memref.alloc() : memref<4x512xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %b : memref<4x512xf32>, memref<512xf32>) outs(%t : memref<4x512xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %0 = arith.addf %v, %w : f32
    linalg.yield %0 : f32
  }
  memref.copy %c, %b : memref<512xf32> to memref<512xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : memref<4x512xf32>) outs(%out : memref<4x512xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 2 : i64, col_tiles = 1 : i64, rows_per_block = 1 : i64, threads = 64 : i64, vector = 4 : i64}} {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.mulf %v, %v : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %t : memref<4x512xf32>
  return
}

// -----

// A row split over a cluster of 2 blocks (sm_90): each block loads its half
// once, reduces it (warps, then shared memory), stores its total in its own
// shared memory; after the cluster barrier every thread loads block
// (lane % 2)'s total through distributed shared memory, one xor round
// combines them, and block 0's first thread stores the row's sum. The last
// wait keeps each block's shared memory until the other has read it.
// CHECK-LABEL: func.func @row_over_a_cluster
// CHECK:      gpu.launch clusters(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c2{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c4{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) workgroup(%{{.*}} : memref<8xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1xf32, #gpu.address_space<workgroup>>)
// CHECK:      llvm.inline_asm "ld.global.cs.v4.b32
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:      gpu.barrier
// CHECK-COUNT-3: gpu.shuffle  xor
// CHECK:      memref.store %{{.*}} : memref<1xf32, #gpu.address_space<workgroup>>
// CHECK:      llvm.inline_asm has_side_effects "barrier.cluster.arrive.aligned;", "~{memory}"
// CHECK-NEXT: llvm.inline_asm has_side_effects "barrier.cluster.wait.aligned;", "~{memory}"
// CHECK:      llvm.inline_asm "mapa.shared::cluster.u64 $0, $1, $2;", "=l,l,r"
// CHECK-NEXT: llvm.inline_asm has_side_effects "ld.shared::cluster.f32 $0, [$1];", "=f,l"
// CHECK-NEXT: llvm.inline_asm has_side_effects "barrier.cluster.arrive.aligned;", "~{memory}"
// CHECK-NOT:  gpu.barrier
// CHECK:      gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK:      arith.andi
// CHECK:      scf.if
// CHECK-NEXT:   memref.store %{{.*}}, %arg1[%{{.*}}] : memref<2xf32>
// CHECK:      llvm.inline_asm has_side_effects "barrier.cluster.wait.aligned;", "~{memory}"
// CHECK-NEXT: gpu.terminator
func.func @row_over_a_cluster(%arg0: memref<2x2048xf32>, %arg1: memref<2xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg1 : memref<2xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%arg0 : memref<2x2048xf32>) outs(%arg1 : memref<2xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {chunks = 1 : i64, cluster = 2 : i64, col_tiles = 2 : i64, rows_per_block = 1 : i64, threads = 256 : i64, vector = 4 : i64}} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A column sum over a cluster of 2 blocks of 32 x 8 threads: each thread a
// 16-byte vector of columns, streaming loads of 8 rows a step (128 rows a
// block: 2 steps of 8 x 8), the warps' sums through shared memory, then
// block 0's first warp combines the blocks' sums, adds the fill's value and
// stores 16 bytes.
// CHECK-LABEL: func.func @column_sum
// CHECK:      gpu.launch clusters(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c2{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c8{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c8{{.*}}, %{{.*}} = %c1{{.*}}) workgroup(%{{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128xf32, #gpu.address_space<workgroup>>)
// CHECK:      scf.for
// CHECK:      scf.for
// CHECK-COUNT-8: llvm.inline_asm "ld.global.cs.v4.b32
// CHECK:      gpu.barrier
// CHECK:      barrier.cluster.arrive.aligned
// CHECK:      barrier.cluster.wait.aligned
// CHECK-COUNT-2: llvm.inline_asm "mapa.shared::cluster.u64
// CHECK:      vector.store %{{.*}}, %arg1[%{{.*}}] {alignment = 16 : i64} : memref<512xf32>, vector<4xf32>
// CHECK:      barrier.cluster.arrive.aligned
// CHECK-NEXT: llvm.inline_asm has_side_effects "barrier.cluster.wait.aligned;"
// CHECK-NEXT: gpu.terminator
// CHECK-NOT:  linalg.generic
func.func @column_sum(%arg0: memref<256x512xf32>, %arg1: memref<512xf32>) {
  %cst = arith.constant 0.000000e+00 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%cst : f32) outs(%arg1 : memref<512xf32>) attrs = {euler.gpu_group = "g0"} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%arg0 : memref<256x512xf32>) outs(%arg1 : memref<512xf32>) attrs = {euler.gpu_group = "g0", euler.gpu_schedule = {cluster = 2 : i64, column = 1 : i64, unroll = 8 : i64, vector = 4 : i64, warps = 8 : i64}} {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

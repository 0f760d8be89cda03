// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{tiles=32,32,32,16,16,2})' | FileCheck %s
// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-gpu-schedule-matmul)' | FileCheck %s --check-prefix=HEURISTIC

// f16 operands, f32 accumulation, and the cast and bias of the generic after
// it fused into the epilogue: the zero fill and the f32 buffer are gone, the
// kernel writes the f16 result once. 32x32 block tiles (4 blocks, grouped by
// rows of tiles on x), four 16x16 warps (128 threads), two stages of 2 KiB
// for A and for B, 16-byte copies that bypass L1.
// CHECK-LABEL: func.func @bias_epilogue
// CHECK-NOT:     linalg.
// CHECK-NOT:     gpu.alloc
// CHECK:         gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}) in (%{{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c8192_i32 {
// CHECK:           %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK:           %[[SA:.*]] = memref.view %[[SMEM]][%c0{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<2x32x32xf16, #gpu.address_space<workgroup>>
// CHECK:           %[[SB:.*]] = memref.view %[[SMEM]][%c4096{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<2x32x32xf16, #gpu.address_space<workgroup>>
// The prologue: tile 0 in flight (stages - 1 = 1 tile ahead).
// CHECK:           %[[A0:.*]] = nvgpu.device_async_copy %arg0[%{{.*}}, %{{.*}}], %[[SA]][%c0{{.*}}, %{{.*}}, %{{.*}}], 8 {bypassL1} : memref<64x64xf16> to memref<2x32x32xf16, #gpu.address_space<workgroup>>
// CHECK:           %[[B0:.*]] = nvgpu.device_async_copy %arg1[%{{.*}}, %{{.*}}], %[[SB]][%c0{{.*}}, %{{.*}}, %{{.*}}], 8 {bypassL1} : memref<64x64xf16> to memref<2x32x32xf16, #gpu.address_space<workgroup>>
// CHECK:           %[[G0:.*]] = nvgpu.device_async_create_group %[[A0]], %[[B0]]
// CHECK:           scf.for %[[KT:.*]] = %c0{{.*}} to %c2{{.*}} step %c1{{.*}} iter_args(%[[ACC0:.*]] = %{{.*}}, %[[ACC1:.*]] = %{{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>) {
// CHECK-NEXT:        nvgpu.device_async_wait %[[G0]] {numGroups = 0 : i32}
// CHECK-NEXT:        gpu.barrier
// The next tile, zero-filled past K (srcElements 0).
// CHECK:             %[[N:.*]] = arith.select %{{.*}}, %c8{{.*}}, %c0{{.*}} : index
// CHECK-NEXT:        nvgpu.device_async_copy %arg0[%{{.*}}, %{{.*}}], %[[SA]][%{{.*}}, %{{.*}}, %{{.*}}], 8, %[[N]] {bypassL1}
// CHECK:             nvgpu.device_async_copy %arg1
// CHECK:             nvgpu.device_async_create_group
// CHECK:             nvgpu.ldmatrix %[[SA]][%{{.*}}, %{{.*}}, %{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<2x32x32xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK:             nvgpu.ldmatrix %[[SB]][%{{.*}}, %{{.*}}, %{{.*}}] {numTiles = 4 : i32, transpose = true} : memref<2x32x32xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK:             nvgpu.mma.sync(%{{.*}}, %{{.*}}, %[[ACC0]]) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:             nvgpu.mma.sync(%{{.*}}, %{{.*}}, %[[ACC1]]) {mmaShape = [16, 8, 16]}
// CHECK:             scf.yield
// The epilogue: the generic's body on each accumulator element.
// CHECK:           %[[PAIR:.*]] = vector.extract %{{.*}}#0[0] : vector<2xf32> from vector<2x2xf32>
// CHECK-NEXT:      %[[X:.*]] = vector.extract %[[PAIR]][0] : f32 from vector<2xf32>
// CHECK-NEXT:      %[[BIAS:.*]] = memref.load %arg2[%{{.*}}] : memref<64xf16>
// CHECK-NEXT:      %[[T:.*]] = arith.truncf %[[X]] : f32 to f16
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[T]], %[[BIAS]] : f16
// CHECK:           %[[V:.*]] = vector.from_elements %[[S]], %{{.*}} : vector<2xf16>
// CHECK-NEXT:      vector.store %[[V]], %arg3[%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<64x64xf16>, vector<2xf16>
// CHECK-NOT:       memref<64x64xf32>
// CHECK:           gpu.terminator
func.func @bias_epilogue(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %bias: memref<64xf16>, %d: memref<64x64xf16>) {
  %zero = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<64x64xf32>, memref<64xf16>) outs(%d : memref<64x64xf16>) {
  ^bb0(%x: f32, %y: f16, %o: f16):
    %t = arith.truncf %x : f32 to f16
    %s = arith.addf %t, %y : f16
    linalg.yield %s : f16
  }
  gpu.dealloc %c : memref<64x64xf32>
  return
}

// -----

// Ragged M and N (40 x 24 in 32 x 32 tiles) and no fill: copies of rows past M
// or columns past N zero-fill from a clamped address, and the epilogue adds
// C's value and stores only inside C.
// CHECK-LABEL: func.func @ragged
// CHECK:         %[[ROWOK:.*]] = arith.cmpi ult, %{{.*}}, %c40{{.*}} : index
// CHECK-NEXT:    %[[ROW:.*]] = arith.minui %{{.*}}, %c39{{.*}} : index
// CHECK:         %[[N:.*]] = arith.select %[[ROWOK]], %c8{{.*}}, %c0{{.*}} : index
// CHECK-NEXT:    nvgpu.device_async_copy %arg0[%[[ROW]], %{{.*}}], %{{.*}}[%{{.*}}], 8, %[[N]] {bypassL1} : memref<40x64xf16>
// CHECK:         scf.for
// CHECK:         %[[COLOK:.*]] = arith.cmpi ult, %{{.*}}, %c24{{.*}} : index
// CHECK-NEXT:    %[[IN:.*]] = arith.andi %{{.*}}, %[[COLOK]] : i1
// CHECK-NEXT:    scf.if %[[IN]] {
// CHECK-NEXT:      %[[OLD:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}] : memref<40x24xf32>, vector<2xf32>
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %{{.*}}, %[[OLD]] : vector<2xf32>
// CHECK-NEXT:      vector.store %[[SUM]], %arg2[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<40x24xf32>, vector<2xf32>
// CHECK-NEXT:    }
func.func @ragged(%a: memref<40x64xf16>, %b: memref<64x24xf16>, %c: memref<40x24xf32>) {
  linalg.matmul ins(%a, %b : memref<40x64xf16>, memref<64x24xf16>) outs(%c : memref<40x24xf32>)
  return
}

// -----

// bf16: the NVVM mma (nvgpu.mma.sync lowers f16 only), on the same registers.
// CHECK-LABEL: func.func @bf16
// CHECK:         nvgpu.ldmatrix %{{.*}} : memref<2x32x32xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:         nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
func.func @bf16(%a: memref<32x32xbf16>, %b: memref<32x32xbf16>, %c: memref<32x32xf32>) {
  linalg.matmul ins(%a, %b : memref<32x32xbf16>, memref<32x32xbf16>) outs(%c : memref<32x32xf32>)
  return
}

// -----

// An epilogue that writes C in place (a relu on the function's result): C
// written once, with the relu's result; C's other uses see that value.
// CHECK-LABEL: func.func @in_place
// CHECK-NOT:     linalg.generic
// CHECK:         %[[X:.*]] = vector.extract %{{.*}}[0] : f32 from vector<2xf32>
// CHECK-NEXT:    %[[R:.*]] = arith.maximumf %[[X]], %{{.*}} : f32
// CHECK:         %[[V:.*]] = vector.from_elements %[[R]], %{{.*}} : vector<2xf32>
// CHECK-NEXT:    vector.store %[[V]], %arg2[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<32x32xf32>, vector<2xf32>
// CHECK:       gpu.memcpy %arg3, %arg2
func.func @in_place(%a: memref<32x32xf16>, %b: memref<32x32xf16>, %c: memref<32x32xf32>, %host: memref<32x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<32x32xf32>)
  linalg.matmul ins(%a, %b : memref<32x32xf16>, memref<32x32xf16>) outs(%c : memref<32x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<32x32xf32>) outs(%c : memref<32x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  gpu.memcpy %host, %c : memref<32x32xf32>, memref<32x32xf32>
  return
}

// -----

// Left to the generic lowering: a transposed B (other indexing maps), and
// an empty M.
// CHECK-LABEL: func.func @transposed_b
// CHECK-NEXT:    linalg.matmul indexing_maps
// CHECK-LABEL: func.func @empty
// CHECK-NEXT:    linalg.matmul ins
func.func @transposed_b(%a: memref<32x32xf16>, %b: memref<32x32xf16>, %c: memref<32x32xf32>) {
  linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : memref<32x32xf16>, memref<32x32xf16>) outs(%c : memref<32x32xf32>)
  return
}
func.func @empty(%a: memref<0x32xf16>, %b: memref<32x32xf16>, %c: memref<0x32xf32>) {
  linalg.matmul ins(%a, %b : memref<0x32xf16>, memref<32x32xf16>) outs(%c : memref<0x32xf32>)
  return
}

// -----

// An epilogue that reads its indices: linalg.index becomes the element's
// row (the store's first index).
// CHECK-LABEL: func.func @indexed_epilogue
// CHECK-NOT:     linalg.generic
// CHECK:         %[[I:.*]] = arith.index_cast %[[ROW:.*]] : index to i64
// CHECK-NEXT:    %[[F:.*]] = arith.sitofp %[[I]] : i64 to f32
// CHECK-NEXT:    %[[R:.*]] = arith.addf %{{.*}}, %[[F]] : f32
// CHECK:         vector.store %{{.*}}, %arg3[%[[ROW]], %{{.*}}]
func.func @indexed_epilogue(%a: memref<32x32xf16>, %b: memref<32x32xf16>, %c: memref<32x32xf32>, %d: memref<32x32xf32>) {
  linalg.matmul ins(%a, %b : memref<32x32xf16>, memref<32x32xf16>) outs(%c : memref<32x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<32x32xf32>) outs(%d : memref<32x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %i = linalg.index 0 : index
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f32
    %r = arith.addf %x, %f : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Two projections into one reused f32 buffer (bufferization's choice), each
// cast into an output allocated between the matmul and its cast: the
// allocation moves before the kernel, both casts run in their matmul's
// epilogue (the second matmul fills the buffer again, so nothing reads the
// first's C), and the f32 buffer is gone.
// CHECK-LABEL: func.func @reused_accumulator
// CHECK-NOT:     memref<64x64xf32>
// CHECK:         %[[Q:.*]] = gpu.alloc () : memref<64x64xf16>
// CHECK-NEXT:    gpu.launch
// CHECK:           vector.store %{{.*}}, %[[Q]][%{{.*}}, %{{.*}}]
// CHECK:         %[[K:.*]] = gpu.alloc () : memref<64x64xf16>
// CHECK-NEXT:    gpu.launch
// CHECK:           vector.store %{{.*}}, %[[K]][%{{.*}}, %{{.*}}]
// CHECK-NOT:     linalg.
// CHECK-NOT:     memref<64x64xf32>
// CHECK:         return %[[Q]], %[[K]]
func.func @reused_accumulator(%x: memref<64x64xf16>, %wq: memref<64x64xf16>, %wk: memref<64x64xf16>) -> (memref<64x64xf16>, memref<64x64xf16>) {
  %zero = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul ins(%x, %wq : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  %q = gpu.alloc () : memref<64x64xf16>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<64x64xf32>) outs(%q : memref<64x64xf16>) {
  ^bb0(%v: f32, %o: f16):
    %t = arith.truncf %v : f32 to f16
    linalg.yield %t : f16
  }
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul ins(%x, %wk : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  %k = gpu.alloc () : memref<64x64xf16>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<64x64xf32>) outs(%k : memref<64x64xf16>) {
  ^bb0(%v: f32, %o: f16):
    %t = arith.truncf %v : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<64x64xf32>
  return %q, %k : memref<64x64xf16>, memref<64x64xf16>
}

// -----

// An attention projection's heads: C [64, 128] read as [64, 2, 64] through
// the transpose to [2, 64, 64] (the last dimension stays last). The
// transpose is the epilogue: the kernel stores each run of C's columns at
// (column / 64, row, column % 64) of the heads' buffer, and C is gone.
// CHECK-LABEL: func.func @heads_transpose
// CHECK-NOT:     memref<64x128xf32>
// CHECK:         %[[H:.*]] = gpu.alloc () : memref<2x64x64xf32>
// CHECK-NEXT:    gpu.launch
// CHECK:           %[[HEAD:.*]] = arith.divui %{{.*}}, %c64{{.*}} : index
// CHECK:           %[[COL:.*]] = arith.remui %{{.*}}, %c64{{.*}} : index
// CHECK:           vector.store %{{.*}}, %[[H]][%[[HEAD]], %{{.*}}, %[[COL]]] {alignment = 8 : i64} : memref<2x64x64xf32>, vector<2xf32>
// CHECK-NOT:     linalg.
// CHECK:         return %[[H]]
func.func @heads_transpose(%x: memref<64x64xf16>, %w: memref<64x128xf16>) -> memref<2x64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<64x128xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x128xf32>)
  linalg.matmul ins(%x, %w : memref<64x64xf16>, memref<64x128xf16>) outs(%c : memref<64x128xf32>)
  %v = memref.expand_shape %c [[0], [1, 2]] output_shape [64, 2, 64] : memref<64x128xf32> into memref<64x2x64xf32>
  %h = gpu.alloc () : memref<2x64x64xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v : memref<64x2x64xf32>) outs(%h : memref<2x64x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  gpu.dealloc %c : memref<64x128xf32>
  return %h : memref<2x64x64xf32>
}

// -----

// Exact f32 with few outputs and a long K (the encoder's second FFN matmul,
// 128 x 512 x 2048, under the heuristic's tiles): four slices of K are a
// batch of one kernel over 128 blocks, into zero-initialized partial
// products; one generic adds the slices in order and applies the bias and
// the residual to the sum, writing the result; C is gone.
// HEURISTIC-LABEL: func.func @split_k
// HEURISTIC-DAG:     %[[A:.*]] = memref.reinterpret_cast %arg0 to offset: [0], sizes: [4, 128, 512], strides: [512, 2048, 1]
// HEURISTIC-DAG:     %[[B:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [4, 512, 512], strides: [262144, 512, 1]
// HEURISTIC-DAG:     %[[P:.*]] = gpu.alloc () : memref<4x128x512xf32>
// HEURISTIC:         gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c4{{.*}})
// HEURISTIC-NOT:       memref.load %[[P]]
// HEURISTIC:           gpu.terminator
// HEURISTIC-NOT:     linalg.fill
// HEURISTIC:         linalg.generic {{.*}} ins(%[[P]], %[[P]], %[[P]], %[[P]], %arg2, %arg3 : {{.*}}) outs(%arg4 : memref<128x512xf32>)
// HEURISTIC-NEXT:    ^bb0(%[[S0:.*]]: f32, %[[S1:.*]]: f32, %[[S2:.*]]: f32, %[[S3:.*]]: f32, %[[BIAS:.*]]: f32, %[[RES:.*]]: f32, %{{.*}}: f32):
// HEURISTIC-NEXT:      %[[T1:.*]] = arith.addf %[[S0]], %[[S1]] : f32
// HEURISTIC-NEXT:      %[[T2:.*]] = arith.addf %[[T1]], %[[S2]] : f32
// HEURISTIC-NEXT:      %[[T3:.*]] = arith.addf %[[T2]], %[[S3]] : f32
// HEURISTIC-NEXT:      %[[X:.*]] = arith.addf %[[T3]], %[[BIAS]] : f32
// HEURISTIC-NEXT:      %[[Y:.*]] = arith.addf %[[X]], %[[RES]] : f32
// HEURISTIC-NEXT:      linalg.yield %[[Y]] : f32
// HEURISTIC:         gpu.dealloc %[[P]]
// HEURISTIC-NOT:     memref<128x512xf32> = gpu.alloc
func.func @split_k(%x: memref<128x2048xf32>, %w: memref<2048x512xf32>, %bias: memref<512xf32>, %r: memref<128x512xf32>, %out: memref<128x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<128x512xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<128x512xf32>)
  linalg.matmul ins(%x, %w : memref<128x2048xf32>, memref<2048x512xf32>) outs(%c : memref<128x512xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %r : memref<128x512xf32>, memref<512xf32>, memref<128x512xf32>) outs(%out : memref<128x512xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.addf %0, %s : f32
    linalg.yield %1 : f32
  }
  gpu.dealloc %c : memref<128x512xf32>
  return
}

// -----

// A convolution's output (euler-gpu-conv-to-matmul): C[f, (n, oh, ow)] read
// as [f, n, oh, ow] into NCHW. Rows of 6 pixels are shorter than a store's
// run of 4 columns, so each lane finds its own (n, oh, ow) and is stored
// alone: C is never written.
// HEURISTIC-LABEL: func.func @conv_rows
// HEURISTIC:         %[[Y:.*]] = gpu.alloc () : memref<2x16x4x6xf32>
// HEURISTIC:           nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// HEURISTIC:           %{{.*}} = arith.cmpi ult, %[[COL:.*]], %c48
// HEURISTIC:             %[[N0:.*]] = arith.divui %[[COL]], %c24
// HEURISTIC:             %[[R0:.*]] = arith.divui %[[COL]], %c6
// HEURISTIC-NEXT:        %{{.*}} = arith.constant 4 : index
// HEURISTIC-NEXT:        %[[H0:.*]] = arith.remui %[[R0]]
// HEURISTIC:             %[[W0:.*]] = arith.remui %[[COL]], %c6
// HEURISTIC:             %[[COL3:.*]] = arith.addi %[[COL]], %c3
// HEURISTIC:             memref.store %{{.*}}, %[[Y]][%[[N0]], %[[ROW:.*]], %[[H0]], %[[W0]]] : memref<2x16x4x6xf32>
// HEURISTIC-COUNT-3:     memref.store %{{.*}}, %[[Y]][%{{.*}}, %[[ROW]], %{{.*}}, %{{.*}}] : memref<2x16x4x6xf32>
// HEURISTIC-NOT:       vector.store
// HEURISTIC:           gpu.terminator
// HEURISTIC-NOT:     linalg.generic
// HEURISTIC:         return %[[Y]]
func.func @conv_rows(%w: memref<16x32xf32>, %p: memref<32x48xf32>) -> memref<2x16x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<16x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<16x48xf32>)
  linalg.matmul ins(%w, %p : memref<16x32xf32>, memref<32x48xf32>) outs(%c : memref<16x48xf32>)
  %v = memref.expand_shape %c [[0], [1, 2, 3]] output_shape [16, 2, 4, 6] : memref<16x48xf32> into memref<16x2x4x6xf32>
  %y = gpu.alloc () : memref<2x16x4x6xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%v : memref<16x2x4x6xf32>) outs(%y : memref<2x16x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }
  gpu.dealloc %c : memref<16x48xf32>
  return %y : memref<2x16x4x6xf32>
}

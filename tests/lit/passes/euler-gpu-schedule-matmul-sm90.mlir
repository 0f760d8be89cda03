// RUN: euler-opt %s --split-input-file --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{chip=sm_90 tiles=64,128,64})' | FileCheck %s

// sm_90 kernels of euler-gpu-schedule-matmul (its mma.sync cases are in
// euler-gpu-schedule-matmul.mlir): f16 operands, ragged M and N (200 x 136),
// K of eight 64-column tiles. On the host, a TMA descriptor of each operand
// (64 x 64 boxes, 128-byte swizzle, zero fill outside), passed to the kernel
// as an address. 64 x 128 tiles (as set), one warpgroup, 4 stages of 24 KiB
// (two blocks a multiprocessor) and 1 KiB to align them.
// CHECK-LABEL: func.func @wgmma
// CHECK:         %[[TA:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c64{{.*}}, %c64{{.*}}] : memref<*xf16> -> <tensor = memref<64x64xf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = l2promo_256b, oob = zero, interleave = none>
// CHECK:         %[[PA:.*]] = builtin.unrealized_conversion_cast %[[TA]] : {{.*}} to !llvm.ptr
// CHECK-NEXT:    %[[IA:.*]] = llvm.ptrtoint %[[PA]] : !llvm.ptr to i64
// CHECK:         nvgpu.tma.create.descriptor
// CHECK:         gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c8, {{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c99328_i32 {
// CHECK-NOT:       linalg.fill
// CHECK:           %[[A:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.ptr to !nvgpu.tensormap.descriptor
// The stages start at the next 1 KiB boundary of the dynamic shared memory.
// CHECK:           %[[SMEM:.*]] = gpu.dynamic_shared_memory
// CHECK-NEXT:      %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[SMEM]]
// CHECK-NEXT:      %[[MIS:.*]] = arith.andi %[[BASE]], %c1023
// CHECK-NEXT:      %[[PAD0:.*]] = arith.subi %c1024, %[[MIS]]
// CHECK-NEXT:      %[[PAD:.*]] = arith.andi %[[PAD0]], %c1023
// CHECK-NEXT:      %[[MBAR:.*]] = nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 4>
// CHECK-NEXT:      %[[LEAD:.*]] = arith.cmpi eq, %[[TX]], %c0
// CHECK-NEXT:      scf.if %[[LEAD]] {
// CHECK-NEXT:        nvgpu.mbarrier.init %[[MBAR]][%c0], %c1
// CHECK:           gpu.barrier
// The prologue: tiles 0-2 in flight, each an A box and two B boxes on its
// stage's mbarrier, which expects all 24 KiB.
// CHECK:           nvgpu.mbarrier.arrive.expect_tx %[[MBAR]][%c0], %c24576, predicate = %[[LEAD]]
// CHECK-NEXT:      %[[VA:.*]] = memref.view %[[SMEM]][%[[PAD]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x64xf16, #gpu.address_space<workgroup>>
// CHECK-NEXT:      nvgpu.tma.async.load %[[A]][%c0, %{{.*}}], %[[MBAR]][%c0] to %[[VA]], predicate = %[[LEAD]]
// CHECK:           nvgpu.tma.async.load
// CHECK:           nvgpu.tma.async.load
// CHECK:           nvgpu.mbarrier.arrive.expect_tx %[[MBAR]][%c1{{.*}}], %c24576
// CHECK:           nvgpu.mbarrier.arrive.expect_tx %[[MBAR]][%c2], %c24576
// CHECK-NOT:       nvgpu.mbarrier.arrive.expect_tx %[[MBAR]][%c3]
// CHECK:           %[[RES:.*]]:2 = scf.for %[[KT:.*]] = %c0 to %c8{{.*}} step %c1{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}, %[[PHASE:.*]] = %false) -> (!nvgpu.warpgroup.accumulator<fragmented = vector<64x128xf32>>, i1) {
// CHECK:             nvgpu.mbarrier.try_wait.parity %[[MBAR]][%[[ST:.*]]], %[[PHASE]], %c10000000
// CHECK:             %[[DA:.*]] = nvgpu.warpgroup.generate.descriptor %{{.*}}, %[[A]] : memref<64x64xf16, #gpu.address_space<workgroup>>
// CHECK:             %[[DB:.*]] = nvgpu.warpgroup.generate.descriptor %{{.*}} : memref<64x128xf16, #gpu.address_space<workgroup>>
// CHECK-NEXT:        %[[NEW:.*]] = nvgpu.warpgroup.mma %[[DA]], %[[DB]], %[[ACC]] {transposeB}
// Tile kt - 1's buffer is free once every warpgroup's wgmma on it is done:
// tile kt + 3 goes there.
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:        %[[NEXT:.*]] = arith.addi %[[KT]], %c3
// CHECK-NEXT:        %[[MORE:.*]] = arith.cmpi ult, %[[NEXT]], %c8
// CHECK-NEXT:        %[[P:.*]] = arith.andi %[[LEAD]], %[[MORE]] : i1
// CHECK:             nvgpu.mbarrier.arrive.expect_tx %[[MBAR]][%{{.*}}], %c24576, predicate = %[[P]]
// CHECK:             nvgpu.tma.async.load %[[A]]{{.*}} predicate = %[[P]]
// CHECK:             %[[LAST:.*]] = arith.cmpi eq, %[[ST]], %c3
// CHECK-NEXT:        %[[FLIP:.*]] = arith.xori %[[PHASE]], %[[LAST]] : i1
// CHECK-NEXT:        scf.yield %[[NEW]], %[[FLIP]]
// CHECK:           nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT:      %[[REGS:.*]] = builtin.unrealized_conversion_cast %[[RES]]#0 : !nvgpu.warpgroup.accumulator<fragmented = vector<64x128xf32>> to !llvm.struct<(struct<(f32
// The epilogue: rows past M and columns past N are not stored.
// CHECK:           llvm.extractvalue %[[REGS]][0, 0]
// CHECK-NEXT:      llvm.extractvalue %[[REGS]][0, 1]
// CHECK-NEXT:      %[[PAIR:.*]] = vector.from_elements
// CHECK:           arith.cmpi ult, %{{.*}}, %c136
// CHECK:           scf.if
// CHECK-NEXT:        vector.store %[[PAIR]], %arg2[%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<200x136xf32>, vector<2xf32>
// CHECK:           gpu.terminator
func.func @wgmma(%a: memref<200x512xf16>, %b: memref<512x136xf16>, %c: memref<200x136xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<200x136xf32>)
  linalg.matmul ins(%a, %b : memref<200x512xf16>, memref<512x136xf16>) outs(%c : memref<200x136xf32>)
  return
}

// RUN: euler-opt %s --no-verify --split-input-file --euler-schedule-matmul=pack-only | FileCheck %s --check-prefix=PACK
// RUN: euler-opt %s --no-verify --split-input-file --euler-schedule-matmul | FileCheck %s
// RUN: euler-opt %s --no-verify --split-input-file --euler-schedule-matmul=num-threads=2 | FileCheck %s --check-prefix=MT

// Divisible: A into 8-row panels of 4-deep k-steps, B into 32-column
// panels; one generic over the packed operands writes C in place.
// PACK-LABEL: func.func @mm
// PACK: linalg.pack %arg0 inner_dims_pos = [1, 0] inner_tiles = [4, 8] into {{.*}} : tensor<16x8xf32> -> tensor<2x2x4x8xf32>
// PACK: linalg.pack %arg1 outer_dims_perm = [1, 0] inner_dims_pos = [0, 1] inner_tiles = [4, 32] into {{.*}} : tensor<8x64xf32> -> tensor<2x2x4x32xf32>
// PACK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel", "parallel"]
// PACK-SAME: outs(%arg2 : tensor<16x64xf32>)
// PACK-NOT: linalg.matmul

// Scheduled: packs vectorized a block at a time; the kernel is a loop nest
// over register tiles, each a 4x8 by 4x32 vector.contract into 8x32.
// CHECK-LABEL: func.func @mm
// CHECK-NOT: linalg.pack
// CHECK: vector.transfer_read {{.*}} : tensor<8x4xf32>, vector<8x4xf32>
// CHECK: vector.transpose {{.*}} to vector<1x1x4x8xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<4x32xf32>, vector<4x32xf32>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<4x8xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: scf.forall
// CHECK: return
func.func @mm(%a: tensor<16x8xf32>, %b: tensor<8x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// 10x7 @ 7x40: K is zero-padded to whole k-steps by the packs; the last 2
// rows and 8 columns are peeled into kernels whose register tile is exactly
// the remainder (8x32, 8x8, 2x32, 2x8), each writing its slice of C.
// PACK-LABEL: func.func @odd
// PACK: linalg.pack {{.*}} padding_value({{.*}}) inner_dims_pos = [1, 0] inner_tiles = [4, 8] {{.*}} : tensor<8x7xf32> -> tensor<1x2x4x8xf32>
// PACK: linalg.pack {{.*}} padding_value({{.*}}) inner_dims_pos = [1, 0] inner_tiles = [4, 2] {{.*}} : tensor<2x7xf32> -> tensor<1x2x4x2xf32>
// PACK: linalg.pack {{.*}} : tensor<7x32xf32> -> tensor<1x2x4x32xf32>
// PACK: linalg.pack {{.*}} : tensor<7x8xf32> -> tensor<1x2x4x8xf32>
// PACK: linalg.generic {{.*}} outs({{.*}} : tensor<8x32xf32>)
// PACK: tensor.insert_slice {{.*}}[0, 0] [8, 32] [1, 1]
// PACK: linalg.generic {{.*}} outs({{.*}} : tensor<8x8xf32>)
// PACK: tensor.insert_slice {{.*}}[0, 32] [8, 8] [1, 1]
// PACK: linalg.generic {{.*}} outs({{.*}} : tensor<2x32xf32>)
// PACK: tensor.insert_slice {{.*}}[8, 0] [2, 32] [1, 1]
// PACK: linalg.generic {{.*}} outs({{.*}} : tensor<2x8xf32>)
// PACK: tensor.insert_slice {{.*}}[8, 32] [2, 8] [1, 1]

// The padding comes from masked reads; every kernel is a static contraction.
// CHECK-LABEL: func.func @odd
// CHECK: vector.create_mask
// CHECK: vector.transfer_read {{.*}}, %{{.*}}, %{{.*}} {in_bounds = [true, true]} : tensor<?x?xf32>, vector<8x4xf32>
// CHECK: vector.contract {{.*}} : vector<4x8xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK: vector.contract {{.*}} : vector<4x8xf32>, vector<4x8xf32> into vector<8x8xf32>
// CHECK: vector.contract {{.*}} : vector<4x2xf32>, vector<4x32xf32> into vector<2x32xf32>
// CHECK: vector.contract {{.*}} : vector<4x2xf32>, vector<4x8xf32> into vector<2x8xf32>
// CHECK-NOT: linalg.generic
func.func @odd(%a: tensor<10x7xf32>, %b: tensor<7x40xf32>, %c: tensor<10x40xf32>) -> tensor<10x40xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<10x7xf32>, tensor<7x40xf32>) outs(%c : tensor<10x40xf32>) -> tensor<10x40xf32>
  return %r : tensor<10x40xf32>
}

// -----

// A batch is an outer parallel dimension; with two threads and two matrices
// the kernel's scf.forall splits the batch. Both packs (1M elements) are
// split too, in one merged scf.forall (one wake-up of the workers).
// MT-LABEL: func.func @bmm
// MT: scf.forall (%{{.*}}) in (2) shared_outs({{.*}}) -> (tensor<2x16x128x4x32xf32>, tensor<2x64x128x4x8xf32>)
// MT: vector.transpose {{.*}} to vector<1x1x1x4x32xf32>
// MT: vector.transpose {{.*}} to vector<1x1x1x4x8xf32>
// MT: scf.forall.in_parallel
// MT-NOT: linalg.pack
// MT: scf.forall (%[[B:.*]]) in (2) shared_outs
// MT: tensor.extract_slice {{.*}}[%[[B]], 0, 0] [1, 512, 512] [1, 1, 1] : tensor<2x512x512xf32> to tensor<1x512x512xf32>
// MT: vector.contract {{.*}} : vector<4x8xf32>, vector<4x32xf32> into vector<8x32xf32>
// MT: scf.forall.in_parallel
func.func @bmm(%a: tensor<2x512x512xf32>, %b: tensor<2x512x512xf32>, %c: tensor<2x512x512xf32>) -> tensor<2x512x512xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x512x512xf32>, tensor<2x512x512xf32>) outs(%c : tensor<2x512x512xf32>) -> tensor<2x512x512xf32>
  return %r : tensor<2x512x512xf32>
}

// -----

// Each parallel loop pays for its own dispatch: the 128 full rows (8.4M
// multiply-adds) split over the threads, but the packs (74K elements) and
// the two peeled rows (131K multiply-adds) stay on one.
// MT-LABEL: func.func @peeled
// MT-NOT: scf.forall
// MT: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}}) -> (tensor<128x1024xf32>)
// MT: vector.contract {{.*}} : vector<4x8xf32>, vector<4x32xf32> into vector<8x32xf32>
// MT: scf.forall.in_parallel
// MT-NOT: scf.forall
// MT: vector.contract {{.*}} : vector<4x2xf32>, vector<4x32xf32> into vector<2x32xf32>
// MT-NOT: scf.forall
// MT: return
func.func @peeled(%a: tensor<130x64xf32>, %b: tensor<64x1024xf32>, %c: tensor<130x1024xf32>) -> tensor<130x1024xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<130x64xf32>, tensor<64x1024xf32>) outs(%c : tensor<130x1024xf32>) -> tensor<130x1024xf32>
  return %r : tensor<130x1024xf32>
}

// -----

// Below about 2.4M multiply-adds (2^21) a dispatch costs more than a second
// thread gains: no forall.
// MT-LABEL: func.func @small
// MT-NOT: scf.forall
// MT: return
func.func @small(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// Not handled: mixed element types (the kernel has no casts) and memrefs.
// CHECK-LABEL: func.func @mixed
// CHECK-NEXT: linalg.matmul
// CHECK-LABEL: func.func @on_buffers
// CHECK-NEXT: linalg.matmul
func.func @mixed(%a: tensor<8x8xf16>, %b: tensor<8x8xf16>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x8xf16>, tensor<8x8xf16>) outs(%c : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}
func.func @on_buffers(%a: memref<8x8xf32>, %b: memref<8x8xf32>, %c: memref<8x8xf32>) {
  linalg.matmul ins(%a, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>)
  return
}

// -----

// B unpacked from the layout its pack would have (euler-conv-to-matmul's
// patch matrix, K padding zero): no pack of B; the full-width kernel reads
// the first panel, the 8 remaining columns are the first lanes of the last.
// PACK-LABEL: func.func @prepacked_b
// PACK-SAME: %[[BP:[a-z0-9]+]]: tensor<2x2x4x32xf32>
// PACK-NOT: linalg.unpack
// PACK: %[[FULL:.*]] = tensor.extract_slice %[[BP]][0, 0, 0, 0] [1, 2, 4, 32] [1, 1, 1, 1] : tensor<2x2x4x32xf32> to tensor<1x2x4x32xf32>
// PACK-NEXT: %[[REST:.*]] = tensor.extract_slice %[[BP]][1, 0, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<2x2x4x32xf32> to tensor<1x2x4x8xf32>
// PACK-NEXT: %[[AP:.*]] = linalg.pack %arg0
// PACK-NOT: linalg.pack
// PACK: linalg.generic {{.*}} ins(%[[AP]], %[[FULL]] : tensor<1x2x4x8xf32>, tensor<1x2x4x32xf32>)
// PACK: linalg.generic {{.*}} ins(%[[AP]], %[[REST]] : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
// PACK-NOT: linalg.unpack
func.func @prepacked_b(%a: tensor<8x6xf32>, %bp: tensor<2x2x4x32xf32>, %c: tensor<8x40xf32>) -> tensor<8x40xf32> {
  %e = tensor.empty() : tensor<6x40xf32>
  %b = linalg.unpack %bp outer_dims_perm = [1, 0] inner_dims_pos = [0, 1] inner_tiles = [4, 32] into %e {euler.zero_padded} : tensor<2x2x4x32xf32> -> tensor<6x40xf32>
  %r = linalg.matmul ins(%a, %b : tensor<8x6xf32>, tensor<6x40xf32>) outs(%c : tensor<8x40xf32>) -> tensor<8x40xf32>
  return %r : tensor<8x40xf32>
}

// -----

// Without the zero-padding mark the padding rows may hold anything (0 * NaN
// is not 0): B is packed again from the unpacked tensor.
// PACK-LABEL: func.func @unpacked_b_unmarked
// PACK: linalg.unpack
// PACK: linalg.pack %arg0
// PACK: linalg.pack
func.func @unpacked_b_unmarked(%a: tensor<8x6xf32>, %bp: tensor<2x2x4x32xf32>, %c: tensor<8x40xf32>) -> tensor<8x40xf32> {
  %e = tensor.empty() : tensor<6x40xf32>
  %b = linalg.unpack %bp outer_dims_perm = [1, 0] inner_dims_pos = [0, 1] inner_tiles = [4, 32] into %e : tensor<2x2x4x32xf32> -> tensor<6x40xf32>
  %r = linalg.matmul ins(%a, %b : tensor<8x6xf32>, tensor<6x40xf32>) outs(%c : tensor<8x40xf32>) -> tensor<8x40xf32>
  return %r : tensor<8x40xf32>
}

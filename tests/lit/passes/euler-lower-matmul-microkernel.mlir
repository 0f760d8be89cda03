// RUN: euler-opt %s --no-verify --split-input-file --euler-lower-matmul-microkernel | FileCheck %s

// A register tile's k-loop, as euler-schedule-matmul + bufferization leave
// it: the C tile is read and written back every k-step. The pass keeps it in
// registers across the loop (8 loads before, 8 stores after) and turns the
// contraction into broadcast FMAs, 4 k-steps x 8 rows.
// CHECK-LABEL: func.func @kernel
// CHECK-COUNT-8: vector.load %arg2{{.*}} : memref<8x32xf32>, vector<32xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8x32xf32>)
// CHECK-NOT: vector.contract
// CHECK-NOT: memref<8x32xf32>
// CHECK-COUNT-32: vector.fma {{.*}} : vector<32xf32>
// CHECK: scf.yield {{.*}} : vector<8x32xf32>
// CHECK-COUNT-8: vector.store {{.*}}, %arg2{{.*}} : memref<8x32xf32>, vector<32xf32>
// CHECK-NEXT: return
func.func @kernel(%a: memref<2x4x8xf32>, %b: memref<2x4x32xf32>, %c: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %p = ub.poison : f32
  scf.for %k = %c0 to %c2 step %c1 {
    %va = vector.transfer_read %a[%k, %c0, %c0], %p {in_bounds = [true, true]} : memref<2x4x8xf32>, vector<4x8xf32>
    %vb = vector.transfer_read %b[%k, %c0, %c0], %p {in_bounds = [true, true]} : memref<2x4x32xf32>, vector<4x32xf32>
    %vc = vector.transfer_read %c[%c0, %c0], %p {in_bounds = [true, true]} : memref<8x32xf32>, vector<8x32xf32>
    %r = vector.contract {
        indexing_maps = [affine_map<(k, m, n) -> (k, m)>, affine_map<(k, m, n) -> (k, n)>,
                         affine_map<(k, m, n) -> (m, n)>],
        iterator_types = ["reduction", "parallel", "parallel"],
        kind = #vector.kind<add>} %va, %vb, %vc : vector<4x8xf32>, vector<4x32xf32> into vector<8x32xf32>
    vector.transfer_write %r, %c[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xf32>, memref<8x32xf32>
  }
  return
}

// -----

// A contraction outside any loop nest is not a matmul kernel: untouched.
// CHECK-LABEL: func.func @no_nest
// CHECK-NEXT: vector.contract
// CHECK-NEXT: return
func.func @no_nest(%a: vector<2x4xf32>, %b: vector<4x8xf32>, %c: vector<2x8xf32>) -> vector<2x8xf32> {
  %r = vector.contract {
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>,
                       affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"],
      kind = #vector.kind<add>} %a, %b, %c : vector<2x4xf32>, vector<4x8xf32> into vector<2x8xf32>
  return %r : vector<2x8xf32>
}

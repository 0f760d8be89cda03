// RUN: euler-opt %s --no-verify --split-input-file --euler-vectorize | FileCheck %s
// RUN: euler-opt %s --no-verify --split-input-file --euler-vectorize=width=16 | FileCheck %s --check-prefix=W16

// Elementwise: one row at a time, 64 lanes (four zmm) per step.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c256 step %c64
// CHECK-NEXT: vector.transfer_read %arg0{{.*}} : tensor<4x256xf32>, vector<1x64xf32>
// CHECK-NEXT: vector.transfer_read %arg1{{.*}} : tensor<256xf32>, vector<64xf32>
// CHECK-NEXT: vector.broadcast {{.*}} : vector<64xf32> to vector<1x64xf32>
// CHECK-NEXT: arith.addf {{.*}} : vector<1x64xf32>
// CHECK-NEXT: vector.transfer_write
// W16-LABEL: func.func @elementwise
// W16: scf.for %{{.*}} = %c0 to %c256 step %c16
// W16: arith.addf {{.*}} : vector<1x16xf32>
func.func @elementwise(%x: tensor<4x256xf32>, %b: tensor<256xf32>) -> tensor<4x256xf32> {
  %e = tensor.empty() : tensor<4x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<4x256xf32>, tensor<256xf32>) outs(%e : tensor<4x256xf32>) {
  ^bb0(%in: f32, %bi: f32, %out: f32):
    %0 = arith.addf %in, %bi : f32
    linalg.yield %0 : f32
  } -> tensor<4x256xf32>
  return %r : tensor<4x256xf32>
}

// -----

// Row sum: 64 partial sums carried in a register across the row, reduced
// across lanes once per row.
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c64 iter_args(%{{.*}} = %{{.*}}) -> (vector<1x64xf32>)
// CHECK-NEXT: vector.transfer_read %arg0{{.*}} : tensor<4x256xf32>, vector<1x64xf32>
// CHECK-NEXT: arith.addf {{.*}} : vector<1x64xf32>
// CHECK-NEXT: scf.yield
// CHECK: vector.reduction <add>, {{.*}} : vector<64xf32> into f32
func.func @row_sum(%x: tensor<4x256xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x256xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %0 = arith.addf %in, %acc : f32
    linalg.yield %0 : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Left scalar: a libm call in the body (vector lanes would each call it), and
// a reduction over the outer dim.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: vector.
// CHECK: math.log
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK-NOT: vector.
// CHECK: return
func.func @left_alone(%x: tensor<4x256xf32>, %init: tensor<256xf32>) -> (tensor<4x256xf32>, tensor<256xf32>) {
  %e = tensor.empty() : tensor<4x256xf32>
  %l = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x256xf32>) outs(%e : tensor<4x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.log %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x256xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                       iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<4x256xf32>) outs(%init : tensor<256xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %0 = arith.addf %in, %acc : f32
    linalg.yield %0 : f32
  } -> tensor<256xf32>
  return %l, %s : tensor<4x256xf32>, tensor<256xf32>
}

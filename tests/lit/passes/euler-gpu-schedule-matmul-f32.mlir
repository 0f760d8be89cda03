// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{tiles=32,32,16,4,4,2})' --split-input-file | FileCheck %s
// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{tiles=32,32,16,16,16,2 allow-tf32=true})' --split-input-file | FileCheck %s --check-prefix=TF32

// f32 matmuls of euler-gpu-schedule-matmul (its f16/bf16 cases are in
// euler-gpu-schedule-matmul.mlir).

// Exact f32 by default: 8 x 8 threads of 4 x 4 (one run of 4 columns), the
// A element of each row broadcast against a 16-byte row of B, one FMA per
// element and k; 16-byte copies of 4 floats.
// CHECK-LABEL: func.func @f32
// CHECK:         gpu.launch {{.*}} threads(%{{.*}}) in (%{{.*}} = %c64, {{.*}}) dynamic_shared_memory_size %c8192_i32 {
// CHECK:           nvgpu.device_async_copy %arg0[%{{.*}}, %{{.*}}], %{{.*}}[%c0{{.*}}, %{{.*}}, %{{.*}}], 4 {bypassL1} : memref<32x32xf32> to memref<2x32x16xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK:             %[[A:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x32x16xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT:        %[[AV:.*]] = vector.broadcast %[[A]] : f32 to vector<4xf32>
// CHECK:             %[[B:.*]] = vector.load %{{.*}}[%{{.*}}, %c0{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<2x16x32xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-NEXT:        vector.fma %[[AV]], %[[B]], %{{.*}} : vector<4xf32>
// CHECK-COUNT-3:     vector.fma
// CHECK:             scf.yield
// C is not zero-filled: read and added, 16 bytes at a time.
// CHECK:           %[[OLD:.*]] = vector.load %arg2[%{{.*}}, %{{.*}}] : memref<32x32xf32>, vector<4xf32>
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %{{.*}}, %[[OLD]] : vector<4xf32>
// CHECK-NEXT:      vector.store %[[SUM]], %arg2[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<32x32xf32>, vector<4xf32>

// With allow-tf32: m16n8k8 TF32 mma, A by ldmatrix, B by two shared loads
// per fragment (ldmatrix cannot transpose 32-bit elements).
// TF32-LABEL: func.func @f32
// TF32:         nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<2x32x16xf32, #gpu.address_space<workgroup>> -> vector<4x1xf32>
// TF32-NEXT:    %[[B0:.*]] = memref.load %{{.*}} : memref<2x16x32xf32, #gpu.address_space<workgroup>>
// TF32-NEXT:    %[[B1:.*]] = memref.load %{{.*}} : memref<2x16x32xf32, #gpu.address_space<workgroup>>
// TF32-NEXT:    %[[B:.*]] = vector.from_elements %[[B0]], %[[B1]] : vector<2x1xf32>
// TF32:         nvgpu.mma.sync(%{{.*}}, %[[B]], %{{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
func.func @f32(%a: memref<32x32xf32>, %b: memref<32x32xf32>, %c: memref<32x32xf32>) {
  linalg.matmul ins(%a, %b : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>)
  return
}

// -----

// A B whose K dimension is contiguous (a linear layer's N x K weight read
// through its transpose, euler-gpu-fold-transposes) is read as the N x K view
// it is: 16-byte loads along K into registers (zero past N: 48 is a ragged
// N), stored transposed into the K x N shared tile after the tile's FMAs,
// since cp.async cannot transpose. TF32's kernel does not read it.
// CHECK-LABEL: func.func @transposed_b
// CHECK:         %[[BT:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [48, 32], strides: [32, 1]
// CHECK:         gpu.launch
// CHECK:           nvgpu.device_async_copy %arg0
// CHECK:           %[[B0:.*]] = vector.load %[[BT]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<48x32xf32, strided<[32, 1]>>, vector<4xf32>
// CHECK-NEXT:      arith.select %{{.*}}, %[[B0]], %{{.*}} : vector<4xf32>
// CHECK:           vector.extract
// CHECK-NEXT:      memref.store %{{.*}}, %{{.*}}[%c0{{.*}}, %{{.*}}, %{{.*}}] : memref<2x16x32xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.for
// CHECK:             nvgpu.device_async_copy %arg0
// CHECK:             %[[BL:.*]] = vector.load %[[BT]]
// CHECK-NEXT:        %[[BS:.*]] = arith.select %{{.*}}, %[[BL]], %{{.*}} : vector<4xf32>
// CHECK:             vector.fma
// CHECK:             vector.extract %[[BS]][0]
// CHECK-NEXT:        memref.store
// CHECK-NOT:         vector.fma
// CHECK:             scf.yield
// TF32-LABEL: func.func @transposed_b
// TF32:         linalg.matmul
func.func @transposed_b(%a: memref<32x32xf32>, %w: memref<48x32xf32>, %c: memref<32x48xf32>) {
  %cst = arith.constant 0.0 : f32
  %b = memref.reinterpret_cast %w to offset: [0], sizes: [32, 48], strides: [1, 32] : memref<48x32xf32> to memref<32x48xf32, strided<[1, 32]>>
  linalg.fill ins(%cst : f32) outs(%c : memref<32x48xf32>)
  linalg.matmul ins(%a, %b : memref<32x32xf32>, memref<32x48xf32, strided<[1, 32]>>) outs(%c : memref<32x48xf32>)
  return
}

// -----

// C's zero fill is folded past ops that touch neither C nor its buffer (the
// small CNN's classifier: the pool's division, materialized between the
// fill and the matmul by euler-collapse-contractions): the kernel starts
// from zero and never reads C; the generic stays.
// CHECK-LABEL: func.func @fill_past_other_ops
// CHECK-NOT:     linalg.fill
// CHECK:         linalg.generic
// CHECK:         gpu.launch
// CHECK-NOT:       vector.load %arg2
// CHECK:           vector.store %{{.*}}, %arg2
// TF32-LABEL: func.func @fill_past_other_ops
func.func @fill_past_other_ops(%a: memref<32x32xf32>, %b: memref<32x32xf32>, %c: memref<32x32xf32>, %x: memref<32x32xf32>) {
  %cst = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  linalg.fill ins(%cst : f32) outs(%c : memref<32x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%x : memref<32x32xf32>) {
  ^bb0(%out: f32):
    %0 = arith.mulf %out, %half : f32
    linalg.yield %0 : f32
  }
  linalg.matmul ins(%a, %b : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>)
  return
}

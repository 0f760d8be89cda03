// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{tiles=32,32,16,4,4,2})' | FileCheck %s
// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-schedule-matmul{tiles=32,32,16,16,16,2 allow-tf32=true})' | FileCheck %s --check-prefix=TF32

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

// RUN: euler-opt %s --target=cuda --emit=gpu-tiled | FileCheck %s --check-prefix=TILED
// RUN: euler-opt %s --target=cuda --emit=gpu | FileCheck %s --check-prefix=GPU
// RUN: euler-opt %s --target=cuda --emit=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: euler-opt %s --target=cuda --emit=ptx | FileCheck %s --check-prefix=PTX
// RUN: euler-opt %s --target=cuda --emit=ptx -O1 | FileCheck %s --check-prefix=O1

// The CUDA stages of a softmax over 64 rows of 4096, each reachable with
// --emit on a machine without a GPU. gpu-tiled: one fusion group, planned
// (256 threads a row and a block, 4 chunks of 16-byte vectors a thread).
// TILED-LABEL: func.func @main
// TILED-COUNT-6: euler.gpu_group = "g0"
// TILED-SAME:    euler.gpu_schedule = {chunks = 4 : i64, col_tiles = 1 : i64, rows_per_block = 1 : i64, threads = 256 : i64, vector = 4 : i64}
// TILED-NOT:     euler.gpu_group

// gpu: the whole group is one launch of 64 blocks, on the caller's buffers,
// with shared memory for the step across the row's 8 warps: slots of its
// own for each of the two reductions (max, then sum), one barrier each.
// GPU-LABEL: func.func @main(%arg0: memref<64x4096xf32>, %arg1: memref<64x4096xf32>)
// GPU-NOT:   gpu.memcpy
// GPU:       gpu.launch_func async {{.*}} blocks in (%c64, %c1, %c1) threads in (%c256, %c1, %c1)
// GPU-NOT:   gpu.launch_func
// GPU:       gpu.func @main_kernel({{.*}}) workgroup(%{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>) kernel
// GPU:       vector.load {{.*}} {alignment = 16 : i64} : memref<64x4096xf32>, vector<4xf32>
// GPU:       gpu.shuffle  xor
// GPU:       gpu.barrier
// GPU:       gpu.barrier
// GPU-NOT:   gpu.barrier
// GPU:       vector.store {{.*}} {alignment = 16 : i64} : memref<64x4096xf32>, vector<4xf32>

// nvvm: loads 16-byte aligned, shuffles and barriers as NVVM ops.
// NVVM: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr -> vector<4xf32>
// NVVM: nvvm.shfl.sync bfly
// NVVM: nvvm.barrier

// ptx: one kernel module, 128-bit loads and stores, butterfly shuffles.
// PTX:     gpu.binary @main_kernel
// PTX-SAME: .target sm_90
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: shfl.sync.bfly.b32
// PTX-SAME: st.global.v4.b32
// PTX-NOT: gpu.binary

// -O1 forms no groups: a kernel per linalg op.
// O1-COUNT-6: gpu.binary
func.func @main(%a: tensor<64x4096xf32>) -> tensor<64x4096xf32> {
  %0 = "euler.softmax"(%a) {axis = -1 : i64} : (tensor<64x4096xf32>) -> tensor<64x4096xf32>
  return %0 : tensor<64x4096xf32>
}

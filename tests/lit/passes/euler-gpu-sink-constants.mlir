// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-gpu-sink-constants)' --split-input-file | FileCheck %s

// A constant read by a kernel only: the kernel reads the global itself, and
// the per-call device buffer and its host-to-device copy are gone. The global
// is aligned for 16-byte vector loads.
// CHECK-LABEL: memref.global "private" constant @table
// CHECK-SAME:  {alignment = 16 : i64}
// CHECK-LABEL: func.func @kernel_only
// CHECK-NOT:   gpu.alloc
// CHECK-NOT:   gpu.memcpy
// CHECK:       gpu.launch
// CHECK-NEXT:    %[[G:.*]] = memref.get_global @table : memref<4xf32>
// CHECK:         memref.load %[[G]]
// CHECK:       gpu.terminator
// CHECK-NOT:   gpu.dealloc
// CHECK:       return
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @kernel_only(%out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %0 = memref.get_global @table : memref<4xf32>
  %dev = gpu.alloc () : memref<4xf32>
  gpu.memcpy %dev, %0 : memref<4xf32>, memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %dev[%tx] : memref<4xf32>
    memref.store %v, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  gpu.dealloc %dev : memref<4xf32>
  return
}

// -----

// A buffer the host also reads (here a copy out of it) keeps its copy in.
// CHECK-LABEL: func.func @host_reader
// CHECK:       gpu.alloc
// CHECK:       gpu.memcpy
// CHECK:       gpu.memcpy
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @host_reader(%out: memref<4xf32>) {
  %0 = memref.get_global @table : memref<4xf32>
  %dev = gpu.alloc () : memref<4xf32>
  gpu.memcpy %dev, %0 : memref<4xf32>, memref<4xf32>
  gpu.memcpy %out, %dev : memref<4xf32>, memref<4xf32>
  gpu.dealloc %dev : memref<4xf32>
  return
}

// -----

// A global that is not constant is copied on every call: each call must see
// its current contents.
// CHECK-LABEL: func.func @mutable
// CHECK:       gpu.alloc
// CHECK:       gpu.memcpy
// CHECK:       gpu.launch
memref.global "private" @state : memref<4xf32> = dense<0.0>
func.func @mutable(%out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %0 = memref.get_global @state : memref<4xf32>
  %dev = gpu.alloc () : memref<4xf32>
  gpu.memcpy %dev, %0 : memref<4xf32>, memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %v = memref.load %dev[%tx] : memref<4xf32>
    memref.store %v, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  gpu.dealloc %dev : memref<4xf32>
  return
}

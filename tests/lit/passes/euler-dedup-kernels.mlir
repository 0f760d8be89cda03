// RUN: euler-opt %s --no-verify --split-input-file --euler-dedup-kernels | FileCheck %s

// Two copies of one kernel (x * w + 2, on different inputs, each result also
// returned) share a function; the weight is an argument, the splat constant
// and the init are cloned in.
// CHECK-LABEL: func.func private @__euler_kernel_0(%arg0: tensor<2x4xf32>, %arg1: tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK-NEXT: arith.constant 2.000000e+00 : f32
// CHECK-NEXT: tensor.empty() : tensor<2x4xf32>
// CHECK-NEXT: linalg.generic
// CHECK-LABEL: func.func private @__euler_kernel_1(%arg0: tensor<2x4xf32>, %arg1: tensor<2x4xf32>)
// CHECK: arith.subf
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @twice
// CHECK-NEXT: %[[W:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>
// CHECK-NEXT: %[[A:.*]] = call @__euler_kernel_0(%arg0, %[[W]])
// CHECK-NEXT: %[[B:.*]] = call @__euler_kernel_0(%arg1, %[[W]])
// CHECK-NEXT: %[[C:.*]] = call @__euler_kernel_1(%[[A]], %[[B]])
// CHECK-NEXT: return %[[C]], %[[A]], %[[B]]
func.func @twice(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %c = arith.constant 2.0 : f32
  %e0 = tensor.empty() : tensor<2x4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%x, %w : tensor<2x4xf32>, tensor<4xf32>) outs(%e0 : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %m, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  %e1 = tensor.empty() : tensor<2x4xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%y, %w : tensor<2x4xf32>, tensor<4xf32>) outs(%e1 : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %m, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%0, %1 : tensor<2x4xf32>, tensor<2x4xf32>) outs(%e0 : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %2, %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Kernels that differ only in a scalar constant stay two functions; a fill
// read by one kernel only goes into it, with its operand's view.
// CHECK-LABEL: func.func private @__euler_kernel_0(%arg0: tensor<8xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[X:.*]] = tensor.expand_shape %arg0
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<2xf32>
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<2xf32>)
// CHECK-NEXT: linalg.reduce ins(%[[X]] : tensor<2x4xf32>) outs(%[[F]] : tensor<2xf32>)
// CHECK-LABEL: func.func private @__euler_kernel_1(%arg0: tensor<8xf32>) -> tensor<2xf32>
// CHECK-NEXT: arith.constant 1.000000e+00 : f32
// CHECK-LABEL: func.func @constants_differ
// CHECK-NEXT: %[[A:.*]] = call @__euler_kernel_0(%arg0)
// CHECK-NEXT: %[[B:.*]] = call @__euler_kernel_1(%arg0)
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @constants_differ(%x: tensor<8xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %x2 = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
  %f1 = linalg.fill ins(%one : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
  %0 = linalg.reduce ins(%x2 : tensor<2x4xf32>) outs(%f0 : tensor<2xf32>) dimensions = [1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  %1 = linalg.reduce ins(%x2 : tensor<2x4xf32>) outs(%f1 : tensor<2xf32>) dimensions = [1]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  return %0, %1 : tensor<2xf32>, tensor<2xf32>
}

// -----

// A kernel computing a slice of a tensor takes the tensor and returns it
// updated (the insert_slice goes in with it), so that bufferization writes
// the slice in place instead of copying it into the tensor in the caller.
// CHECK-LABEL: func.func private @__euler_kernel_0(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[S:.*]] = tensor.extract_slice %arg0[0, 0] [2, 8] [1, 1]
// CHECK-NEXT: %[[D:.*]] = tensor.extract_slice %arg1[0, 0] [2, 8] [1, 1]
// CHECK-NEXT: %[[G:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x8xf32>) outs(%[[D]] : tensor<2x8xf32>)
// CHECK: %[[I:.*]] = tensor.insert_slice %[[G]] into %arg1[0, 0] [2, 8] [1, 1]
// CHECK-NEXT: return %[[I]] : tensor<4x8xf32>
// CHECK-LABEL: func.func @slice_in_place
// CHECK-NEXT: %[[R:.*]] = call @__euler_kernel_0(%arg0, %arg1)
// CHECK-NEXT: return %[[R]]
func.func @slice_in_place(%x: tensor<4x8xf32>, %acc: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = tensor.extract_slice %x[0, 0] [2, 8] [1, 1] : tensor<4x8xf32> to tensor<2x8xf32>
  %d = tensor.extract_slice %acc[0, 0] [2, 8] [1, 1] : tensor<4x8xf32> to tensor<2x8xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<2x8xf32>) outs(%d : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %a, %o : f32
    linalg.yield %t : f32
  } -> tensor<2x8xf32>
  %1 = tensor.insert_slice %0 into %acc[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

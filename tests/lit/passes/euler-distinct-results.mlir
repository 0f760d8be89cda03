// RUN: euler-opt %s --pass-pipeline='builtin.module(euler-distinct-results)' --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @repeated
// CHECK-NEXT: %[[C:.*]] = bufferization.alloc_tensor() copy(%arg0) : tensor<4xf32>
// CHECK-NEXT: return %arg0, %[[C]], %arg1 : tensor<4xf32>, tensor<4xf32>, tensor<2xf32>
func.func @repeated(%arg0: tensor<4xf32>, %arg1: tensor<2xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2xf32>) {
  return %arg0, %arg0, %arg1 : tensor<4xf32>, tensor<4xf32>, tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @distinct
// CHECK-NEXT: return %arg0, %arg1 : tensor<4xf32>, tensor<4xf32>
func.func @distinct(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  return %arg0, %arg1 : tensor<4xf32>, tensor<4xf32>
}

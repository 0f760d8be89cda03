// Found by `euler fuzz --seed 4` (program 1033): at -O3 euler-schedule-matmul
// vectorized every generic whose result type is a register tile's, and the
// gather's generic (tensor.extract, 4x4 like the 4x4 matmul's single tile)
// failed to vectorize, aborting the schedule: "Attempted to vectorize, but
// failed". Fixed in passes/cpu/schedule_matmul.py: such a generic is left as it
// is. Reduced by fuzz/reduce.py.
// RUN: euler compare %s -O 3 | FileCheck %s
// CHECK: @main -O3: match
func.func @main(%arg0: tensor<4x4xf32>) -> (tensor<4x4xf32>) {
  %0 = "euler.constant"() {value = dense<[0, 0, 3, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %1 = "euler.gather"(%arg0, %0) {axis = 1 : i64} : (tensor<4x4xf32>, tensor<4xi64>) -> tensor<4x4xf32>
  %2 = "euler.matmul"(%1, %arg0) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// A two-layer MLP block: gelu(x @ W1 + b1) @ W2 + b2.
//   euler run examples/mlp.mlir
//   euler run examples/mlp.mlir --emit linalg
func.func @main(%x: tensor<8x64xf32>, %w1: tensor<64x128xf32>, %b1: tensor<128xf32>,
                %w2: tensor<128x32xf32>, %b2: tensor<32xf32>) -> tensor<8x32xf32> {
  %0 = "euler.matmul"(%x, %w1) : (tensor<8x64xf32>, tensor<64x128xf32>) -> tensor<8x128xf32>
  %1 = "euler.add"(%0, %b1) : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %2 = "euler.gelu"(%1) {approximate = "tanh"} : (tensor<8x128xf32>) -> tensor<8x128xf32>
  %3 = "euler.matmul"(%2, %w2) : (tensor<8x128xf32>, tensor<128x32xf32>) -> tensor<8x32xf32>
  %4 = "euler.add"(%3, %b2) : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %4 : tensor<8x32xf32>
}

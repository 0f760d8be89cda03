"""The JIT's calling convention: argument checks, copies, out-params, symbol names."""

import numpy as np
import pytest
from mlir import ir
from mlir.dialects import func

import euler
from euler import dialects
from euler.dialects import ops
from euler.dialects.shapes import TensorType
from euler.runtime import jit

ADD = """
func.func @main(%x: tensor<3x4xf32>, %y: tensor<4xf32>) -> tensor<3x4xf32> {
  %0 = "euler.add"(%x, %y) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
"""


@pytest.fixture(scope="module")
def add():
    return euler.compile(ADD, opt_level=0)


def test_strided_and_readonly_inputs_are_read_correctly(add):
    base = np.arange(24, dtype=np.float32).reshape(6, 4)
    x = base[::2]                      # non-contiguous view
    y = np.ones(4, np.float32)
    y.flags.writeable = False
    np.testing.assert_array_equal(add.main(x, y), x + y)
    np.testing.assert_array_equal(add["main"](np.asfortranarray(x), y), x + y)


def test_preallocated_output(add):
    x, y = np.ones((3, 4), np.float32), np.arange(4, dtype=np.float32)
    out = np.full((3, 4), np.nan, np.float32)
    assert add.main(x, y, out=out) is out
    np.testing.assert_array_equal(out, x + y)
    with pytest.raises(euler.InputError, match="output 0"):
        add.main(x, y, out=np.empty((4, 3), np.float32))


@pytest.mark.parametrize("args, message", [
    ((np.ones((3, 4), np.float32),), "takes 2 arguments, got 1"),
    ((np.ones((3, 4), np.float64), np.ones(4, np.float32)), "expected dtype float32"),
    ((np.ones((4, 3), np.float32), np.ones(4, np.float32)), r"expected shape \(3, 4\)"),
    ((object(), np.ones(4, np.float32)), "expected a numpy array"),
])
def test_bad_arguments_raise_input_error(add, args, message):
    with pytest.raises(euler.InputError, match=message):
        add.main(*args)


def test_unknown_function(add):
    with pytest.raises(euler.InputError, match="no public function @nope"):
        add["nope"]


def test_function_named_like_libm_does_not_capture_its_calls():
    # @exp would otherwise resolve the lowered math.exp call to itself.
    src = """
    func.func @exp(%x: tensor<4xf64>) -> tensor<4xf64> {
      %0 = "euler.exp"(%x) : (tensor<4xf64>) -> tensor<4xf64>
      return %0 : tensor<4xf64>
    }
    func.func @tanh(%x: tensor<4xf64>) -> tensor<4xf64> {
      %0 = call @exp(%x) : (tensor<4xf64>) -> tensor<4xf64>
      %1 = "euler.tanh"(%0) : (tensor<4xf64>) -> tensor<4xf64>
      return %1 : tensor<4xf64>
    }
    """
    mod = euler.compile(src, opt_level=0)
    x = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(mod.exp(x), np.exp(x), rtol=1e-12)
    np.testing.assert_allclose(mod.tanh(x), np.tanh(np.exp(x)), rtol=1e-12)


def test_several_results_come_back_as_a_tuple():
    src = """
    func.func @main(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
      %0 = "euler.neg"(%x) : (tensor<2xf32>) -> tensor<2xf32>
      return %0, %x : tensor<2xf32>, tensor<2xf32>
    }
    """
    x = np.array([1, 2], np.float32)
    neg, same = euler.compile(src, opt_level=0).main(x)
    np.testing.assert_array_equal(neg, -x)
    np.testing.assert_array_equal(same, x)


def test_large_constants_are_linked_from_numpy_and_the_module_keeps_them():
    # From jit.WEIGHT_BYTES up, a constant is kept out of LLVM's module and
    # linked to a copy of its bytes: the results must be the same, and the
    # module (which the stages and the CUDA cache print) must get its data back.
    w = np.random.default_rng(0).standard_normal((64, 512)).astype(np.float32)
    assert w.nbytes >= jit.WEIGHT_BYTES
    with dialects.context(), ir.Location.unknown():
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            func.FuncOp.from_py_func(ops.mlir_type(TensorType(w.shape, "f32")), name="main")(
                lambda x: ops.add(x, ops.constant(w)))
        text = str(module)
    lowered = euler.compile(text, opt_level=0, emit="llvm").stages["llvm"]
    llvm = ir.Module.parse(lowered, dialects.context())
    signature = ([TensorType(w.shape, "f32")], [TensorType(w.shape, "f32")])
    engine = jit.Engine(llvm, ["main"])
    assert [a.nbytes for a in engine._weights.values()] == [w.nbytes]
    assert str(llvm) == lowered
    x = np.ones(w.shape, np.float32)
    np.testing.assert_array_equal(engine.call("main", signature, [x])[0], x + w)

"""euler-conv-to-matmul at -O3: convolutions lowered to im2col + the packed
matmul schedule, against a numpy reference (explicit windows, in f64).

Covers strides, padding, dilation, groups, batches, odd shapes, 1x1
convolutions (with and without stride), threads, a fused bias/relu
epilogue, and what stays on the generic path (depthwise, f16)."""

import numpy as np
import pytest
from mlir import ir, passmanager
from mlir.dialects import func

import euler
from euler import dialects, passes
from euler.dialects import ops
from euler.dialects.shapes import TensorType

from test_ops_numerics import conv_ref


def _conv_module(x_shape, w_shape, dtype="f32", epilogue=False, **attrs):
    """@main(x, w[, b]) = conv2d(x, w, **attrs) [+ b, relu], as text."""
    with dialects.context():
        module = ir.Module.create(loc=ir.Location.unknown())
        shapes = [x_shape, w_shape] + ([(w_shape[0],)] if epilogue else [])

        def body(x, w, *b):
            y = ops.conv2d(x, w, **attrs)
            if b:
                y = ops.relu(ops.add(y, ops.reshape(b[0], (w_shape[0], 1, 1))))
            return y

        with ir.InsertionPoint(module.body), ir.Location.name("main"):
            types = [ops.mlir_type(TensorType(s, dtype)) for s in shapes]
            func.FuncOp.from_py_func(*types, name="main")(body)
        return str(module)


def _run(x_shape, w_shape, dtype=np.float32, epilogue=False, num_threads=1, **attrs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    args = [x, w]
    want = conv_ref(x.astype(np.float64), w.astype(np.float64), **attrs)
    if epilogue:
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        args.append(b)
        want = np.maximum(want + b[:, None, None], 0)
    name = {np.float32: "f32", np.float64: "f64", np.float16: "f16"}[dtype]
    mod = euler.compile(_conv_module(x_shape, w_shape, name, epilogue, **attrs),
                        opt_level=3, num_threads=num_threads)
    got = mod.main(*args)
    assert got.shape == want.shape and got.dtype == dtype
    tol = {np.float32: 1e-4, np.float64: 1e-10, np.float16: 2e-2}[dtype]
    k = w_shape[1] * w_shape[2] * w_shape[3]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(k))
    return mod


CASES = {
    # name: (x shape, w shape, conv attributes)
    "3x3_pad": ((1, 8, 10, 12), (16, 8, 3, 3), dict(padding=(1, 1))),
    "stride2": ((1, 5, 11, 9), (7, 5, 3, 3), dict(strides=(2, 2), padding=(1, 1))),
    "stride_2x1_pad_1x2": ((1, 2, 7, 6), (3, 2, 3, 2), dict(strides=(2, 1), padding=(1, 2))),
    "stride3_no_pad": ((1, 3, 13, 14), (4, 3, 2, 3), dict(strides=(3, 3))),
    "dilation": ((1, 2, 8, 9), (2, 2, 3, 3), dict(dilations=(2, 3), padding=(1, 1))),
    "batch": ((3, 4, 6, 7), (5, 4, 3, 3), dict(padding=(1, 1))),
    "groups": ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, strides=(2, 2), padding=(1, 1))),
    "depthwise": ((1, 3, 7, 7), (3, 1, 2, 2), dict(groups=3, dilations=(2, 2))),
    "depthwise_batch": ((2, 6, 9, 9), (6, 1, 3, 3), dict(groups=6, padding=(1, 1))),
    "1x1": ((1, 16, 7, 5), (24, 16, 1, 1), {}),
    "1x1_batch_pad": ((2, 3, 4, 5), (5, 3, 1, 1), dict(padding=(1, 0))),
    "1x1_stride2": ((1, 8, 9, 10), (4, 8, 1, 1), dict(strides=(2, 2))),
    # Padding wider than the kernel reaches: whole rows and columns of zeros.
    "big_pad_stride": ((1, 2, 4, 5), (3, 2, 2, 2), dict(strides=(2, 3), padding=(3, 2))),
    "1x1_stride2_pad": ((2, 3, 5, 4), (2, 3, 1, 1), dict(strides=(2, 2), padding=(1, 1))),
    # A ResNet-stem-like 7x7/2: 49 taps (unrolled, bufferization never ended).
    "7x7_stride2": ((1, 3, 20, 21), (4, 3, 7, 7), dict(strides=(2, 2), padding=(3, 3))),
    "odd": ((1, 3, 5, 3), (1, 3, 5, 3), {}),  # one output pixel, one filter
    # Fewer rows (14) than the 16 whose panel cuts repeat: split by channels.
    "small_image": ((1, 8, 14, 14), (16, 8, 3, 3), dict(padding=(1, 1))),
    # A row of P longer than one transfer chunk (64), with stride 2.
    "wide_row": ((1, 2, 3, 150), (3, 2, 3, 3), dict(strides=(1, 2), padding=(1, 1))),
}


def _after_pass(linalg_text):
    """`linalg_text` after euler-conv-to-matmul alone."""
    with dialects.context() as ctx:
        module = ir.Module.parse(linalg_text, ctx)
        pm = passmanager.PassManager()
        passes.add(pm, "euler-conv-to-matmul")
        pm.run(module.operation)
        return str(module)


# Depthwise convs stay on the generic path, which is faster for them.
GENERIC_PATH = {"depthwise", "depthwise_batch"}


@pytest.mark.parametrize("name", list(CASES))
def test_conv_o3(name):
    x_shape, w_shape, attrs = CASES[name]
    mod = _run(x_shape, w_shape, **attrs)
    lowered = "linalg.conv_2d" not in _after_pass(mod.stages["linalg"])
    assert lowered == (name not in GENERIC_PATH)


@pytest.mark.parametrize("name", ["batch", "groups", "1x1_batch_pad",
                                  "big_pad_stride"])
@pytest.mark.parametrize("per_image", [True, False], ids=["per_image", "merged"])
def test_conv_o3_batch_forms(name, per_image, monkeypatch):
    # Batches run either as one matmul per image or with all images' pixels
    # as columns (then transposed): both must agree with the reference.
    from euler.passes.cpu import conv_to_matmul
    monkeypatch.setattr(conv_to_matmul, "per_image", lambda *_: per_image)
    x_shape, w_shape, attrs = CASES[name]
    _run((3,) + x_shape[1:], w_shape, **attrs)


def test_conv_o3_f64():
    _run((2, 3, 7, 6), (4, 3, 3, 3), dtype=np.float64, padding=(1, 1), strides=(2, 1))


def test_conv_o3_f16_generic_path():
    # The schedule packs only f32/f64: an f16 conv stays a convolution (and
    # still computes the right thing on the generic path).
    mod = _run((1, 3, 6, 6), (4, 3, 3, 3), dtype=np.float16, padding=(1, 1))
    assert "linalg.conv_2d_nchw_fchw" in _after_pass(mod.stages["linalg"])
    f32 = _run((1, 3, 6, 6), (4, 3, 3, 3), padding=(1, 1))
    assert "linalg.matmul" in _after_pass(f32.stages["linalg"])


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_bias_relu_threads(threads):
    # Big enough for the schedule to use both threads.
    mod = _run((1, 32, 30, 30), (48, 32, 3, 3), epilogue=True, num_threads=threads,
               padding=(1, 1))
    assert "linalg.conv_2d" not in _after_pass(mod.stages["linalg"])


def _conv_into_init(op, x_shape, w_shape, y_shape, ref, seed):
    """A linalg `op` accumulating into a function argument, against ref(x, w)."""
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"  # noqa: E731
    text = f"""
func.func @main(%x: {t(x_shape)}, %w: {t(w_shape)}, %init: {t(y_shape)}) -> {t(y_shape)} {{
  %y = {op} {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}}
       ins(%x, %w : {t(x_shape)}, {t(w_shape)}) outs(%init : {t(y_shape)}) -> {t(y_shape)}
  return %y : {t(y_shape)}
}}"""
    rng = np.random.default_rng(seed)
    x, w, init = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape, y_shape))
    mod = euler.compile(text, opt_level=3)
    assert "linalg.conv_2d" not in mod.stages["tiled"]
    np.testing.assert_allclose(mod.main(x, w, init), init + ref(x, w), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("per_image", [True, False], ids=["per_image", "merged"])
def test_conv_accumulates_into_init(per_image, monkeypatch):
    # linalg convs accumulate into their init; euler's lowering always passes a
    # zero fill, but linalg IR from elsewhere may not (here: a function argument).
    from euler.passes.cpu import conv_to_matmul
    monkeypatch.setattr(conv_to_matmul, "per_image", lambda *_: per_image)
    _conv_into_init("linalg.conv_2d_nchw_fchw", (2, 3, 6, 5), (4, 3, 3, 2), (2, 4, 4, 4),
                    conv_ref, seed=1)


@pytest.mark.parametrize("name", ["3x3_pad", "batch", "7x7_stride2", "wide_row", "dilation",
                                  "small_image"])
def test_patch_matrix_written_packed(name, monkeypatch):
    # The patch matrix is written in the schedule's packed layout of B and
    # read as it is (no unpack is left to run); with the threads' cost model
    # forced, the rows are split over two threads where their groups divide,
    # else the channels (small_image).
    from euler.pipelines import heuristics
    monkeypatch.setattr(heuristics, "parallel_threads", lambda seconds, threads: threads)
    x_shape, w_shape, attrs = CASES[name]
    mod = _run(x_shape, w_shape, num_threads=2, **attrs)
    assert "linalg.unpack" not in mod.stages["tiled"]


@pytest.mark.parametrize("x_shape, w_shape, attrs", [
    ((1, 3, 7, 7), (3, 1, 2, 2), dict(groups=3, dilations=(2, 2))),
    ((2, 6, 9, 9), (6, 1, 3, 3), dict(groups=6, padding=(1, 1))),
    ((1, 4, 40, 37), (4, 1, 3, 3), dict(groups=4, strides=(2, 2), padding=(1, 1))),
    ((1, 2, 11, 10), (6, 1, 3, 5), dict(groups=2, strides=(1, 3), padding=(2, 1))),  # x3 filters
    ((1, 8, 20, 70), (8, 1, 7, 7), dict(groups=8, padding=(3, 3))),  # rows of several chunks
])
def test_depthwise_vector_loops(x_shape, w_shape, attrs):
    # euler-vectorize-depthwise: no convolution is left for the generic path.
    mod = _run(x_shape, w_shape, **attrs)
    assert "linalg.conv_2d" not in mod.stages["tiled"]
    _run(x_shape, w_shape, epilogue=True, **attrs)


def test_depthwise_accumulates_into_init():
    # A depthwise conv's init that is not a fill (a function argument) is
    # read into each row's accumulator.
    _conv_into_init("linalg.conv_2d_ngchw_gfchw", (2, 3, 1, 6, 5), (3, 2, 1, 3, 2),
                    (2, 3, 2, 4, 4), lambda x, w: conv_ref(
                        x.reshape(2, 3, 6, 5), w.reshape(6, 1, 3, 2), groups=3
                    ).reshape(2, 3, 2, 4, 4), seed=2)

"""The CUDA target: PTX generation for every op (on any machine), and the
numerics of every op on the GPU (skipped where there is none).

PTX needs no GPU, driver or toolkit: the `ptx` stage is LLVM's NVPTX
backend, in process. Running needs an NVIDIA GPU and its driver; the cases
are those of test_ops_numerics, so both targets answer to one table.
"""

import re

import numpy as np
import pytest

import euler
from euler.pipelines import cuda as cuda_pipeline
from euler.runtime import cuda
from test_ops_numerics import CASES, FAMILIES, _fn_name, build_module

needs_gpu = pytest.mark.skipif(not cuda.available(),
                               reason=f"no GPU: {cuda.unavailable_reason()}")

MATMUL = """
func.func @main(%a: tensor<100x300xf32>, %b: tensor<300x70xf32>) -> tensor<100x70xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<100x300xf32>, tensor<300x70xf32>) -> tensor<100x70xf32>
  return %0 : tensor<100x70xf32>
}
"""

MLP = """
func.func @main(%x: tensor<64x128xf32>, %w: tensor<128x256xf32>, %b: tensor<256xf32>)
    -> (tensor<64x256xf32>, tensor<256xf32>) {
  %0 = "euler.matmul"(%x, %w) : (tensor<64x128xf32>, tensor<128x256xf32>) -> tensor<64x256xf32>
  %1 = "euler.add"(%0, %b) : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  %2 = "euler.relu"(%1) : (tensor<64x256xf32>) -> tensor<64x256xf32>
  %3 = "euler.reduce_sum"(%2) {axes = array<i64: 0>} : (tensor<64x256xf32>) -> tensor<256xf32>
  return %2, %3 : tensor<64x256xf32>, tensor<256xf32>
}
"""


def _ptx(source, **kw):
    m = euler.compile(source, target="cuda", emit="ptx", **kw)
    return cuda_pipeline.ptx_of(m.stages["ptx"])


# --- PTX, on any machine -----------------------------------------------------------

def test_matmul_ptx():
    kernels = _ptx(MATMUL)
    assert len(kernels) == 2  # zero-fill C, then accumulate into it
    (ptx,) = [p for p in kernels.values() if "ld.global" in p]
    assert ".target sm_90" in ptx
    assert len(re.findall(r"\.visible \.entry", ptx)) == 1
    # The accumulator stays in a register: the k loop loads A and B and
    # stores C once, after it.
    assert ptx.count("st.global") == 1
    assert "ld.global" in ptx and ("fma.rn.f32" in ptx or "mul.rn.f32" in ptx)


def test_matmul_launch_shape():
    # 2-D blocks over the output, innermost dimension on x: 128 x 2 threads.
    gpu = euler.compile(MATMUL, target="cuda", emit="gpu").stages["gpu"]
    assert re.search(r"gpu.launch_func async .* blocks in \(%c1, %c50, %c1\) "
                     r"threads in \(%c128, %c2, %c1\)", gpu), gpu


def test_host_copies_inputs_in_and_results_out_once():
    gpu = euler.compile(MLP, target="cuda", emit="gpu").stages["gpu"]
    host = gpu.split("gpu.module")[0]
    copies = re.findall(r"gpu.memcpy async \[%\w+\] (%\w+), (%\w+)", host)
    copied_in = [src for dst, src in copies if src.startswith("%arg")]
    copied_out = [dst for dst, src in copies if dst.startswith("%arg")]
    assert sorted(copied_in) == ["%arg0", "%arg1", "%arg2"]
    assert sorted(copied_out) == ["%arg3", "%arg4"]
    assert host.count("gpu.alloc async") == host.count("gpu.dealloc async")
    # No synchronous gpu op is left for the host lowering to miss.
    assert not re.search(r"gpu\.(alloc|memcpy|dealloc|launch_func) (?!async)", host)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_op_compiles_to_ptx(family):
    """Every case of test_ops_numerics down to host LLVM IR with PTX kernels."""
    m = euler.compile(build_module(FAMILIES[family]), target="cuda", emit="llvm")
    kernels = cuda_pipeline.ptx_of(m.stages["llvm"])
    assert kernels
    for ptx in kernels.values():
        assert ".visible .entry" in ptx and "st.global" in ptx
    assert "func.func" not in m.stages["llvm"] and "llvm.func @mgpuMemAlloc" in m.stages["llvm"]


def test_transcendentals_need_no_libdevice():
    src = """
    func.func @main(%a: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = "euler.exp"(%a) : (tensor<1000xf32>) -> tensor<1000xf32>
      %1 = "euler.tanh"(%0) : (tensor<1000xf32>) -> tensor<1000xf32>
      return %1 : tensor<1000xf32>
    }"""
    (ptx,) = _ptx(src).values()
    # Unresolved libdevice calls (__nv_expf) would fail when the driver loads the PTX.
    assert "__nv_" not in ptx and ".extern" not in ptx


@pytest.mark.skipif(cuda.available(), reason="a GPU is present")
def test_running_without_gpu_is_a_clear_error():
    with pytest.raises(euler.CompileError, match=r"target 'cuda' cannot run here.*emit='ptx'"):
        euler.compile(MATMUL, target="cuda")


# --- on the GPU --------------------------------------------------------------------

_compiled = {}


def _compiled_family(family):
    if family not in _compiled:
        try:
            _compiled[family] = euler.compile(build_module(FAMILIES[family]), target="cuda")
        except euler.EulerError as err:
            _compiled[family] = err
    if isinstance(_compiled[family], Exception):
        raise _compiled[family]
    return _compiled[family]


@needs_gpu
@pytest.mark.parametrize("family,case", CASES, ids=[c.name for _, c in CASES])
def test_op_on_gpu(family, case):
    got = _compiled_family(family)[_fn_name(case)](*case.inputs)
    want = np.asarray(case.ref(*case.inputs))
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape)
    scale = float(np.nanmax(np.abs(want.astype(np.float64)))) if want.size else 1.0
    # Transcendentals are approximations on the GPU (ex2.approx): a looser rtol.
    np.testing.assert_allclose(got, want, rtol=max(case.rtol, 2e-5), atol=1e-5 * scale)


@needs_gpu
def test_mlp_on_gpu():
    rng = np.random.default_rng(0)
    x, w, b = [rng.standard_normal(s).astype(np.float32) for s in ((64, 128), (128, 256), (256,))]
    inputs = [a.copy() for a in (x, w, b)]
    hidden, total = euler.compile(MLP, target="cuda").main(x, w, b)
    want = np.maximum(x @ w + b, 0)
    np.testing.assert_allclose(hidden, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(total, want.sum(0), rtol=1e-4, atol=1e-3)
    for a, original in zip((x, w, b), inputs):  # inputs are copied in, never written
        np.testing.assert_array_equal(a, original)


@needs_gpu
def test_repeated_calls_and_out_arrays():
    m = euler.compile(MATMUL, target="cuda")
    rng = np.random.default_rng(1)
    out = np.empty((100, 70), np.float32)
    for _ in range(3):
        a = rng.standard_normal((100, 300)).astype(np.float32)
        b = rng.standard_normal((300, 70)).astype(np.float32)
        m.main(a, b, out=out)
        np.testing.assert_allclose(out, a @ b, rtol=1e-4, atol=1e-4)


# --- tensor-core matmuls (euler-gpu-schedule-matmul) ---------------------------------

def _mm_src(M, N, K, dtype="f16", batch=None, cast_from=None):
    """A matmul program in `dtype`; with `cast_from`, arguments and result in that
    type and casts around the matmul (bf16 has no numpy type)."""
    lead = f"{batch}x" if batch else ""
    ta, tb, tc = (f"tensor<{lead}{a}x{b}x{{}}>" for a, b in ((M, K), (K, N), (M, N)))
    if cast_from is None:
        a, b, c = (t.format(dtype) for t in (ta, tb, tc))
        return (f"func.func @main(%a: {a}, %b: {b}) -> {c} {{\n"
                f'  %0 = "euler.matmul"(%a, %b) : ({a}, {b}) -> {c}\n'
                f"  return %0 : {c}\n}}")
    a0, b0, c0 = (t.format(cast_from) for t in (ta, tb, tc))
    a, b, c = (t.format(dtype) for t in (ta, tb, tc))
    return (f"func.func @main(%a: {a0}, %b: {b0}) -> {c0} {{\n"
            f'  %0 = "euler.cast"(%a) : ({a0}) -> {a}\n'
            f'  %1 = "euler.cast"(%b) : ({b0}) -> {b}\n'
            f'  %2 = "euler.matmul"(%0, %1) : ({a}, {b}) -> {c}\n'
            f'  %3 = "euler.cast"(%2) : ({c}) -> {c0}\n'
            f"  return %3 : {c0}\n}}")


def _matmul_kernel_ptx(src, **kw):
    kernels = _ptx(src, **kw)
    mma = [p for p in kernels.values() if "mma.sync" in p]
    assert len(mma) == 1, list(kernels)
    return mma[0]


def test_f16_matmul_ptx_uses_tensor_cores_and_cp_async():
    ptx = _matmul_kernel_ptx(_mm_src(256, 192, 128))
    assert re.search(r"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.f16\.f16\.f32", ptx)
    assert "cp.async.ca.shared.global" in ptx and "cp.async.wait_group" in ptx
    assert re.search(r"ldmatrix\.sync\.aligned\.m8n8\.x4\.shared\.b16", ptx)
    assert re.search(r"ldmatrix\.sync\.aligned\.m8n8\.x4\.trans\.shared\.b16", ptx)
    # The accumulators stay in registers: nothing spills to local memory.
    assert ".local" not in ptx


def test_bf16_matmul_ptx_uses_tensor_cores():
    ptx = _matmul_kernel_ptx(_mm_src(128, 128, 64, "bf16", cast_from="f32"))
    assert re.search(r"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32", ptx)


def test_ragged_matmul_ptx_predicates_copies():
    # Copies outside A or B zero-fill (cp.async with a source size operand).
    ptx = _matmul_kernel_ptx(_mm_src(100, 72, 200))
    assert re.search(r"cp\.async\.ca\.shared\.global \[[^]]+\], \[[^]]+\], 16, %r\d+;", ptx)


def test_matmul_tile_override_and_bad_tiles():
    gpu = euler.compile(_mm_src(256, 256, 256), target="cuda", emit="gpu",
                        tile_sizes={"matmul": (64, 64, 32, 32, 32, 3)}).stages["gpu"]
    # 4 warps, a 4 x 4 grid of 64 x 64 tiles, 3 stages of (64 + 64) x 32 f16.
    assert re.search(r"blocks in \(%c4, %c4, %c1\) threads in \(%c128, %c1, %c1\)\s+"
                     r"dynamic_shared_memory_size %c24576_i32", gpu), gpu
    with pytest.raises(euler.errors.EulerError, match="GPU matmul tiles"):
        euler.compile(_mm_src(256, 256, 256), target="cuda", emit="gpu",
                      tile_sizes={"matmul": (64, 64, 24)})


_BIAS_RELU = """
func.func @main(%x: tensor<100x256xf16>, %w: tensor<256x72xf16>, %b: tensor<72xf16>) -> tensor<100x72xf16> {
  %0 = "euler.matmul"(%x, %w) : (tensor<100x256xf16>, tensor<256x72xf16>) -> tensor<100x72xf16>
  %1 = "euler.add"(%0, %b) : (tensor<100x72xf16>, tensor<72xf16>) -> tensor<100x72xf16>
  %2 = "euler.relu"(%1) : (tensor<100x72xf16>) -> tensor<100x72xf16>
  return %2 : tensor<100x72xf16>
}
"""


def test_matmul_epilogue_is_fused_into_the_kernel():
    # The f32 accumulator's rounding to f16, the bias and the relu: one kernel,
    # which writes the f16 result once and allocates no f32 buffer.
    gpu = euler.compile(_BIAS_RELU, target="cuda", emit="gpu").stages["gpu"]
    assert gpu.count("gpu.launch_func") == 1, gpu
    assert "xf32>" not in gpu.split("gpu.module")[0]
    ptx = _matmul_kernel_ptx(_BIAS_RELU)
    assert "max.f16" in ptx or "max.NaN.f16" in ptx or "max.f16x2" in ptx, ptx[-3000:]


def _check_matmul(src, a, b, want, rel, *extra):
    got = euler.compile(src, target="cuda").main(a, b, *extra)
    assert got.shape == want.shape
    err = np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want))
    assert err <= rel, err


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@needs_gpu
@pytest.mark.parametrize("M,N,K", [(128, 128, 64), (256, 384, 512), (1000, 1000, 1000),
                                   (77, 300, 200), (16, 4096, 1024), (33, 65, 47), (1, 8, 16)])
def test_f16_matmul_on_gpu(M, N, K):
    rng = np.random.default_rng(M * N + K)
    a, b = _rand(rng, (M, K), np.float16), _rand(rng, (K, N), np.float16)
    want = a.astype(np.float64) @ b.astype(np.float64)
    # f32 accumulation: the error is the final rounding to f16 (2^-11 of the value).
    _check_matmul(_mm_src(M, N, K), a, b, want, 1e-3)


@needs_gpu
def test_f16_matmul_accumulates_in_f32_at_k4096():
    rng = np.random.default_rng(7)
    a, b = _rand(rng, (128, 4096), np.float16), _rand(rng, (4096, 256), np.float16)
    want = a.astype(np.float64) @ b.astype(np.float64)
    _check_matmul(_mm_src(128, 256, 4096), a, b, want, 1e-3)


@needs_gpu
def test_batch_f16_matmul_on_gpu():
    rng = np.random.default_rng(3)
    a, b = _rand(rng, (3, 70, 96), np.float16), _rand(rng, (3, 96, 130), np.float16)
    want = a.astype(np.float64) @ b.astype(np.float64)
    _check_matmul(_mm_src(70, 130, 96, batch=3), a, b, want, 1e-3)


@needs_gpu
def test_bf16_matmul_on_gpu():
    rng = np.random.default_rng(5)
    a, b = _rand(rng, (200, 512), np.float32), _rand(rng, (512, 136), np.float32)
    want = a.astype(np.float64) @ b.astype(np.float64)
    # bf16 operands: 8 bits of mantissa each.
    _check_matmul(_mm_src(200, 136, 512, "bf16", cast_from="f32"), a, b, want, 2e-2)


@needs_gpu
def test_fused_epilogue_on_gpu():
    rng = np.random.default_rng(11)
    x, w, bias = (_rand(rng, s, np.float16) for s in ((100, 256), (256, 72), (72,)))
    want = np.maximum(x.astype(np.float64) @ w.astype(np.float64) + bias, 0)
    _check_matmul(_BIAS_RELU, x, w, want, 1e-3, bias)

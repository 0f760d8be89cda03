"""The CUDA target: PTX generation for every op (on any machine), and the
numerics of every op on the GPU (skipped where there is none).

PTX needs no GPU, driver or toolkit: the `ptx` stage is LLVM's NVPTX
backend, in process. Running needs an NVIDIA GPU and its driver; the cases
are those of test_ops_numerics, so both targets answer to one table.
"""

import os
import re
import sys

import numpy as np
import pytest

import euler
from euler.pipelines import cuda as cuda_pipeline
from euler.runtime import cuda
from test_ops_numerics import CASES, FAMILIES, _fn_name, build_module

from euler import cache

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
    # The generic lowering (-O1; from -O2 on, euler-gpu-schedule-matmul's kernel).
    kernels = _ptx(MATMUL, opt_level=1)
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
    gpu = euler.compile(MATMUL, target="cuda", emit="gpu", opt_level=1).stages["gpu"]
    assert re.search(r"gpu.launch_func async .* blocks in \(%c1, %c50, %c1\) "
                     r"threads in \(%c128, %c2, %c1\)", gpu), gpu


def test_host_takes_device_pointers_without_copies():
    # Arguments and out-params are the caller's device buffers: no copy in or
    # out; only the temporaries are allocated, and all of them freed.
    gpu = euler.compile(MLP, target="cuda", emit="gpu").stages["gpu"]
    host = gpu.split("gpu.module")[0]
    assert not re.search(r"gpu.memcpy .*%arg", host), host
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
    assert "func.func" not in m.stages["llvm"] and "llvm.func @mgpuStreamCreate" in m.stages["llvm"]


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
    """The mma.sync kernel's PTX: sm_80 unless `chip` says otherwise (sm_90
    takes the wgmma kernel)."""
    kw.setdefault("chip", "sm_80")
    kernels = _ptx(src, **kw)
    mma = [p for p in kernels.values() if "mma.sync" in p]
    assert len(mma) == 1, list(kernels)
    return mma[0]


def _wgmma_kernel_ptx(src, **kw):
    kernels = _ptx(src, **kw)
    found = [p for p in kernels.values() if "wgmma" in p]
    assert len(found) == 1, list(kernels)
    return found[0]


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_matmul_ptx_uses_wgmma_and_tma_on_sm90(dtype):
    src = _mm_src(256, 192, 128) if dtype == "f16" else _mm_src(256, 192, 128, "bf16",
                                                                 cast_from="f32")
    ptx = _wgmma_kernel_ptx(src)
    assert ".target sm_90a" in ptx
    # A small problem: 64 x 64 block tiles, one warpgroup, wgmma m64n64k16 from
    # shared memory.
    assert re.search(rf"wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.{dtype}\.{dtype}", ptx)
    assert "wgmma.commit_group.sync.aligned" in ptx and "wgmma.wait_group.sync.aligned" in ptx
    # Operands by TMA, completing on mbarriers.
    assert "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes" in ptx
    assert "mbarrier.arrive.expect_tx" in ptx and "mbarrier.try_wait.parity" in ptx
    assert "mma.sync" not in ptx and ".local" not in ptx


def test_wgmma_can_be_turned_off_and_unaligned_matmuls_keep_mma_sync():
    assert "mma.sync" in _matmul_kernel_ptx(_mm_src(256, 192, 128), chip="sm_90",
                                            tile_sizes={"wgmma": False})
    # Rows of 300 f16 are not 16-byte multiples (TMA); a batch with a partial K tile.
    for src in (_mm_src(128, 300, 200), _mm_src(70, 130, 96, batch=3)):
        assert "mma.sync" in _matmul_kernel_ptx(src, chip="sm_90")
    assert "wgmma" in _wgmma_kernel_ptx(_mm_src(16, 4096, 1024))  # thin M: wgmma too


def test_wgmma_tiles_and_bad_tiles():
    gpu = euler.compile(_mm_src(4096, 4096, 4096), target="cuda", emit="gpu").stages["gpu"]
    # 128 x 256 tiles, two warpgroups, 4 stages of (128 + 256) x 64 f16, and
    # 1 KiB to align them for the 128-byte swizzle.
    assert re.search(r"blocks in \(%c512, %c1, %c1\) threads in \(%c256, %c1, %c1\)\s+"
                     r"dynamic_shared_memory_size %c197632_i32", gpu), gpu
    assert gpu.count("nvgpu.tma.create.descriptor") == 2
    # The user's error (a CompileError located at the matmul), not euler's.
    with pytest.raises(euler.errors.CompileError, match=r"<input>:\d+:\d+: error: .*wgmma tiles"):
        euler.compile(_mm_src(256, 256, 256), target="cuda", emit="gpu",
                      tile_sizes={"matmul": (128, 128, 32)})


def test_f16_matmul_ptx_uses_tensor_cores_and_cp_async():
    ptx = _matmul_kernel_ptx(_mm_src(256, 192, 128))
    assert re.search(r"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.f16\.f16\.f32", ptx)
    assert "cp.async.cg.shared.global" in ptx and "cp.async.wait_group" in ptx
    assert re.search(r"ldmatrix\.sync\.aligned\.m8n8\.x4\.shared\.b16", ptx)
    assert re.search(r"ldmatrix\.sync\.aligned\.m8n8\.x4\.trans\.shared\.b16", ptx)
    # The accumulators stay in registers: nothing spills to local memory.
    assert ".local" not in ptx


def test_bf16_matmul_ptx_uses_tensor_cores():
    ptx = _matmul_kernel_ptx(_mm_src(128, 128, 64, "bf16", cast_from="f32"))
    assert re.search(r"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32", ptx)


def test_f32_matmul_ptx_is_exact_fma_unless_tf32():
    src = _mm_src(2048, 1536, 128, "f32")
    ptx = [p for p in _ptx(src).values() if "cp.async" in p]
    assert len(ptx) == 1 and "mma.sync" not in ptx[0]
    # 8 x 8 accumulators a thread, 16 k a tile, no rounding of the operands.
    assert ptx[0].count("fma.rn.f32") >= 8 * 8 * 16 and ".local" not in ptx[0]
    # Fewer 128 x 128 tiles than multiprocessors: 16 x 32 tiles of 2 x 4 a
    # thread, 128 blocks (the encoder's projections).
    small = [p for p in _ptx(_mm_src(128, 512, 512, "f32")).values() if "cp.async" in p]
    assert len(small) == 1 and 2 * 4 * 16 <= small[0].count("fma.rn.f32") < 4 * 4 * 16
    src = _mm_src(256, 192, 128, "f32")
    ptx = _matmul_kernel_ptx(src, allow_tf32=True)
    assert re.search(r"mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32", ptx)


def test_ragged_matmul_ptx_predicates_copies():
    # Copies outside A or B zero-fill (cp.async with a source size operand).
    ptx = _matmul_kernel_ptx(_mm_src(100, 72, 200))
    assert re.search(r"cp\.async\.cg\.shared\.global \[[^]]+\], \[[^]]+\], 16, %r\d+;", ptx)


def test_matmul_tile_override_and_bad_tiles():
    gpu = euler.compile(_mm_src(256, 256, 256), target="cuda", emit="gpu", chip="sm_80",
                        tile_sizes={"matmul": (64, 64, 32, 32, 32, 3)}).stages["gpu"]
    # 4 warps, 4 x 4 tiles of 64 x 64 on x, 3 stages of (64 + 64) x 32 f16.
    assert re.search(r"blocks in \(%c16, %c1, %c1\) threads in \(%c128, %c1, %c1\)\s+"
                     r"dynamic_shared_memory_size %c24576_i32", gpu), gpu
    with pytest.raises(euler.errors.EulerError, match="GPU matmul tiles"):
        euler.compile(_mm_src(256, 256, 256), target="cuda", emit="gpu", chip="sm_80",
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
    for ptx in (_matmul_kernel_ptx(_BIAS_RELU), _wgmma_kernel_ptx(_BIAS_RELU)):
        assert "max.f16" in ptx or "max.NaN.f16" in ptx or "max.f16x2" in ptx, ptx[-3000:]


def _op_address(op):
    """The address of `op`'s Operation, read from its C-API capsule alone:
    no dereference, so it is safe on a stale handle too."""
    import ctypes
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype, api.PyCapsule_GetName.argtypes = ctypes.c_char_p, [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    capsule = getattr(op, "operation", op)._CAPIPtr
    return api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))


def test_collapse_contractions_never_reads_an_op_it_erased(monkeypatch):
    # The abort in benchmarks/cuda.py (SIGABRT in a later parse, after the
    # f16 encoder): the pass erased the elementwise consumer it collapses
    # into a matmul's epilogue, then read it through the stale handle in its
    # list of generics (valgrind: reads of freed memory).
    from mlir import ir

    from euler import dialects
    from euler.passes.linalg import collapse_contractions as cc
    base = ir.Operation.__mro__[1]  # _OperationBase, which OpView shares
    erased, read = set(), []
    erase, groups = base.erase, cc._matmul_groups

    def recording_erase(op):
        erased.add(_op_address(op))
        erase(op)

    def checked_groups(op):
        read.append(_op_address(op) in erased)
        return None if read[-1] else groups(op)

    monkeypatch.setattr(base, "erase", recording_erase)
    monkeypatch.setattr(cc, "_matmul_groups", checked_groups)
    lit = os.path.join(os.path.dirname(__file__), "..", "lit", "passes",
                       "euler-collapse-contractions.mlir")
    case = next(c for c in open(lit).read().split("// -----") if "@consumer" in c)
    with dialects.context():
        module = ir.Module.parse(case)
        cc.run(module.operation)
        assert "linalg.matmul" in str(module) and erased
    assert read and not any(read)



def _conv_relu(n, c, hw, f, k, stride, pad, dtype="f32"):
    """conv2d + per-channel bias + relu, NCHW, as euler IR."""
    o = (hw + 2 * pad - k) // stride + 1
    x, w, b, y = (f"tensor<{s}x{dtype}>" for s in (f"{n}x{c}x{hw}x{hw}", f"{f}x{c}x{k}x{k}",
                                                    f"{f}x1x1", f"{n}x{f}x{o}x{o}"))
    return (f"func.func @main(%x: {x}, %w: {w}, %b: {b}) -> {y} {{\n"
            f'  %0 = "euler.conv2d"(%x, %w) {{dilations = array<i64: 1, 1>, groups = 1 : i64, '
            f"padding = array<i64: {pad}, {pad}>, strides = array<i64: {stride}, {stride}>}} "
            f": ({x}, {w}) -> {y}\n"
            f'  %1 = "euler.add"(%0, %b) : ({y}, {b}) -> {y}\n'
            f'  %2 = "euler.relu"(%1) : ({y}) -> {y}\n  return %2 : {y}\n}}')


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_conv_is_an_im2col_gather_and_a_matmul_kernel(dtype):
    # euler-gpu-conv-to-matmul: the convolution runs on the matmul schedule
    # (cp.async tiles; tensor cores for f16), not one thread per output.
    src = _conv_relu(2, 16, 12, 32, 3, 2, 1, dtype)
    mod = euler.compile(src, target="cuda", emit="ptx")
    assert "linalg.matmul" in mod.stages["gpu-tiled"]
    assert "reduction" not in mod.stages["gpu-tiled"].split("linalg.matmul")[0]
    ptx = "\n".join(cuda_pipeline.ptx_of(mod.stages["ptx"]).values())
    assert "cp.async" in ptx
    if dtype == "f16":
        assert "mma.sync" in ptx or "wgmma" in ptx


@needs_gpu
@pytest.mark.parametrize("n,c,hw,f,k,stride,pad,dtype", [
    (2, 16, 12, 32, 3, 2, 1, "f32"), (1, 8, 9, 16, 3, 1, 1, "f32"), (3, 24, 10, 40, 1, 2, 0, "f32"),
    (2, 16, 12, 32, 3, 1, 1, "f16"), (2, 32, 8, 64, 3, 2, 1, "f16")])
def test_conv_as_matmul_on_gpu(n, c, hw, f, k, stride, pad, dtype):
    from test_ops_numerics import conv_ref
    rng = np.random.default_rng(0)
    np_t = np.float16 if dtype == "f16" else np.float32
    x = rng.standard_normal((n, c, hw, hw)).astype(np_t)
    w = (rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)).astype(np_t)
    b = rng.standard_normal((f, 1, 1)).astype(np_t)
    want = np.maximum(conv_ref(x.astype(np.float64), w.astype(np.float64), (stride, stride),
                               (pad, pad)) + b, 0)
    got = euler.compile(_conv_relu(n, c, hw, f, k, stride, pad, dtype), target="cuda").main(x, w, b)
    assert got.shape == want.shape and got.dtype == np_t
    err = np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want))
    assert err <= (2e-3 if dtype == "f16" else 1e-5), err


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
@pytest.mark.parametrize("M,N,K,batch", [(256, 384, 512, None), (100, 70, 300, None),
                                         (16, 1000, 512, None), (5, 7, 9, None),
                                         (64, 96, 80, 3)])
@pytest.mark.parametrize("tf32", [False, True])
def test_f32_matmul_on_gpu(M, N, K, batch, tf32):
    rng = np.random.default_rng(M + N + K)
    lead = (batch,) if batch else ()
    a, b = _rand(rng, lead + (M, K), np.float32), _rand(rng, lead + (K, N), np.float32)
    want = a.astype(np.float64) @ b.astype(np.float64)
    got = euler.compile(_mm_src(M, N, K, "f32", batch=batch), target="cuda",
                        allow_tf32=tf32).main(a, b)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    # Exact f32 sums: rounding of K products; TF32: 10-bit mantissas in.
    assert err <= (3e-3 if tf32 else 1e-5), err



def _linear_src(M, N, K, dtype="f32", batch=None):
    """x @ w^T with w N x K (torch's linear layer), the transpose explicit."""
    lead = f"{batch}x" if batch else ""
    x, w, wt, y = (f"tensor<{lead}{a}x{b}x{dtype}>" for a, b in ((M, K), (N, K), (K, N), (M, N)))
    perm = "0, 2, 1" if batch else "1, 0"
    return (f"func.func @main(%x: {x}, %w: {w}) -> {y} {{\n"
            f'  %0 = "euler.transpose"(%w) {{perm = array<i64: {perm}>}} : ({w}) -> {wt}\n'
            f'  %1 = "euler.matmul"(%x, %0) : ({x}, {wt}) -> {y}\n  return %1 : {y}\n}}')


@pytest.mark.parametrize("dtype,tf32,kernels", [("f32", False, 1), ("f32", True, 2),
                                                ("f16", False, 2)])
def test_transposed_weights_are_read_in_place(dtype, tf32, kernels):
    # euler-gpu-fold-transposes: the exact-f32 kernel reads w (N x K) as the
    # K x N B it stands for; the tensor-core kernels keep the transpose kernel.
    m = euler.compile(_linear_src(64, 96, 64, dtype), target="cuda", emit="gpu",
                      allow_tf32=tf32)
    assert m.stages["gpu"].count("gpu.launch_func") == kernels
    assert ("memref.reinterpret_cast %arg1" in m.stages["gpu"]) == (kernels == 1)


@needs_gpu
@pytest.mark.parametrize("M,N,K,batch", [(64, 48, 40, None), (100, 70, 300, None),
                                         (5, 7, 9, None), (128, 512, 2048, None),
                                         (64, 96, 80, 3)])
def test_transposed_b_on_gpu(M, N, K, batch):
    # Ragged tiles, K odd (4-byte loads), split-K (128 x 512 x 2048) and a batch.
    rng = np.random.default_rng(M + N + K)
    lead = (batch,) if batch else ()
    x, w = _rand(rng, lead + (M, K), np.float32), _rand(rng, lead + (N, K), np.float32)
    want = x.astype(np.float64) @ np.swapaxes(w, -1, -2).astype(np.float64)
    mod = euler.compile(_linear_src(M, N, K, batch=batch), target="cuda")
    assert "linalg.generic" not in mod.stages["gpu"]  # no transpose kernel
    got = mod.main(x, w)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= 1e-5, err


@needs_gpu
@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet_block", "transformer", "gpt_block"])
def test_zoo_models_on_gpu(name):
    # The small zoo on device tensors: weights read through their transposes,
    # attention's heads through their permutes.
    import torch
    import euler.torch as et
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    import pytorch_models
    factory, inputs = pytorch_models.models("small")[name]
    torch.manual_seed(0)
    model = factory().eval()
    x = inputs()
    with torch.no_grad():
        want = model(*x)
        got = et.compile(model, x, target="cuda")(*(t.cuda() for t in x))
    torch.testing.assert_close(got.cpu(), want, rtol=1e-4, atol=1e-4)


def _bias_residual_src(M, N, K):
    """(x @ w + b) + r in f32: the FFN's second matmul and its epilogue."""
    x, w, b, y = (f"tensor<{s}xf32>" for s in (f"{M}x{K}", f"{K}x{N}", f"{N}", f"{M}x{N}"))
    return (f"func.func @main(%x: {x}, %w: {w}, %b: {b}, %r: {y}) -> {y} {{\n"
            f'  %0 = "euler.matmul"(%x, %w) : ({x}, {w}) -> {y}\n'
            f'  %1 = "euler.add"(%0, %b) : ({y}, {b}) -> {y}\n'
            f'  %2 = "euler.add"(%1, %r) : ({y}, {y}) -> {y}\n  return %2 : {y}\n}}')


def test_split_k_for_few_outputs_and_long_k():
    # 128 x 512 x 2048 f32: K in four slices (one batched kernel), the slices'
    # sum with the bias and the residual in one more; split_k=1 turns it off.
    split = euler.compile(_bias_residual_src(128, 512, 2048), target="cuda", emit="gpu")
    assert split.stages["gpu"].count("gpu.launch_func") == 2
    assert "memref<4x128x512xf32>" in split.stages["gpu"]
    whole = euler.compile(_bias_residual_src(128, 512, 2048), target="cuda", emit="gpu",
                          tile_sizes={"split_k": 1})
    assert whole.stages["gpu"].count("gpu.launch_func") == 1
    with pytest.raises(euler.errors.EulerError, match="split_k 3"):
        euler.compile(_bias_residual_src(128, 512, 2048), target="cuda", emit="gpu",
                      tile_sizes={"split_k": 3})


@pytest.mark.parametrize("M,N,K,slices", [(8, 10, 4096, 32), (64, 1024, 1024, 8),
                                          (64, 1024, 512, 8), (64, 10, 1024, 16)])
def test_split_k_for_very_few_tiles(M, N, K, slices):
    # Fewer tiles than a quarter of the multiprocessors, whatever their threads
    # (the small CNN's classifier, one tile; the MLP's thin layers): slices of
    # 64 of K or more, up to 32 slices and two blocks a multiprocessor.
    m = euler.compile(_bias_residual_src(M, N, K), target="cuda", emit="gpu")
    assert m.stages["gpu"].count("gpu.launch_func") == 2
    assert f"memref<{slices}x{M}x{N}xf32>" in m.stages["gpu"]


@needs_gpu
@pytest.mark.parametrize("M,N,K,split", [(128, 512, 2048, None), (128, 512, 2048, 8),
                                         (100, 300, 1024, 2), (128, 512, 512, 1),
                                         (8, 10, 4096, None), (64, 1024, 1024, None)])
def test_split_k_on_gpu(M, N, K, split):
    rng = np.random.default_rng(K)
    x, w = _rand(rng, (M, K), np.float32), _rand(rng, (K, N), np.float32)
    b, r = _rand(rng, (N,), np.float32), _rand(rng, (M, N), np.float32)
    want = x.astype(np.float64) @ w + b + r
    tiles = {} if split is None else {"split_k": split}
    got = euler.compile(_bias_residual_src(M, N, K), target="cuda",
                        tile_sizes=tiles).main(x, w, b, r)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= 1e-5, err

@needs_gpu
@pytest.mark.parametrize("M,N,K,batch,dtype", [
    (4096, 4096, 4096, None, "f16"), (1000, 1000, 1000, None, "f16"),
    (300, 136, 520, None, "f16"), (256, 384, 512, None, "bf16"), (1000, 264, 1000, None, "bf16"),
    (200, 136, 128, 3, "f16"), (130, 200, 256, 2, "bf16")])
def test_wgmma_matmul_on_gpu(M, N, K, batch, dtype):
    # Aligned and ragged (TMA zero-fills outside A and B, the epilogue stores
    # only inside C), batched, f16 and bf16: each against float64.
    rng = np.random.default_rng(M + 3 * N + 7 * K)
    lead = (batch,) if batch else ()
    f = np.float16 if dtype == "f16" else np.float32
    a, b = _rand(rng, lead + (M, K), f), _rand(rng, lead + (K, N), f)
    src = (_mm_src(M, N, K, batch=batch) if dtype == "f16"
           else _mm_src(M, N, K, "bf16", batch=batch, cast_from="f32"))
    assert "wgmma" in _wgmma_kernel_ptx(src, chip="sm_90")
    if dtype == "bf16":  # the operands as the kernel sees them
        import torch
        a, b = (torch.from_numpy(x).bfloat16().float().numpy() for x in (a, b))
    want = a.astype(np.float64) @ b.astype(np.float64)
    _check_matmul(src, a, b, want, 1e-3 if dtype == "f16" else 1e-2)


@needs_gpu
def test_bf16_torch_tensors_in_and_out():
    # bf16 has no numpy dtype: torch tensors go in and come out as they are.
    import torch
    g = torch.Generator(device="cuda").manual_seed(0)
    a = torch.randn(256, 192, device="cuda", generator=g).bfloat16()
    b = torch.randn(192, 320, device="cuda", generator=g).bfloat16()
    got = euler.compile(_mm_src(256, 320, 192, "bf16"), target="cuda").main(a, b)
    assert got.dtype == torch.bfloat16 and got.shape == (256, 320)
    want = a.double() @ b.double()
    assert float((got.double() - want).abs().max() / want.abs().max()) < 1e-2


_RESIDUAL_GELU = """
func.func @main(%x: tensor<300x512xf16>, %w: tensor<512x264xf16>, %b: tensor<264xf16>, %r: tensor<300x264xf16>) -> tensor<300x264xf16> {
  %0 = "euler.matmul"(%x, %w) : (tensor<300x512xf16>, tensor<512x264xf16>) -> tensor<300x264xf16>
  %1 = "euler.add"(%0, %b) : (tensor<300x264xf16>, tensor<264xf16>) -> tensor<300x264xf16>
  %2 = "euler.relu"(%1) : (tensor<300x264xf16>) -> tensor<300x264xf16>
  %3 = "euler.add"(%2, %r) : (tensor<300x264xf16>, tensor<300x264xf16>) -> tensor<300x264xf16>
  return %3 : tensor<300x264xf16>
}
"""


@needs_gpu
def test_wgmma_fused_epilogue_on_gpu():
    rng = np.random.default_rng(12)
    x, w, bias, res = (_rand(rng, s, np.float16) for s in ((300, 512), (512, 264), (264,),
                                                          (300, 264)))
    want = np.maximum(x.astype(np.float64) @ w.astype(np.float64) + bias, 0) + res
    assert _wgmma_kernel_ptx(_RESIDUAL_GELU, chip="sm_90")
    _check_matmul(_RESIDUAL_GELU, x, w, want, 2e-3, bias, res)


@needs_gpu
def test_fused_epilogue_on_gpu():
    rng = np.random.default_rng(11)
    x, w, bias = (_rand(rng, s, np.float16) for s in ((100, 256), (256, 72), (72,)))
    want = np.maximum(x.astype(np.float64) @ w.astype(np.float64) + bias, 0)
    _check_matmul(_BIAS_RELU, x, w, want, 1e-3, bias)


# --- fusion groups: one kernel each, vectorized, warp reductions (any machine) ------

def _benchmark_module():
    # The workloads' IR is written once, in the benchmark.
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "cuda.py")
    spec = importlib.util.spec_from_file_location("euler_benchmarks_cuda", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _benchmark_module()
softmax_src, layer_norm_src = _bench.softmax, _bench.layer_norm
bias_gelu_residual_src, reduce_src = _bench.bias_gelu_residual, _bench.reduce


def matmul_bias_softmax_src(m, k, n, keep_matmul=False):
    """softmax(x @ w + b), the matmul written as a contraction generic; with
    `keep_matmul` x @ w is a result too (else bufferization computes all
    three in the result's buffer, in place)."""
    t = f"tensor<{m}x{n}xf32>"
    results = f"({t}, {t})" if keep_matmul else t
    returned = f"%y, %0 : {t}, {t}" if keep_matmul else f"%0 : {t}"
    return f"""func.func @main(%x: tensor<{m}x{k}xf32>, %w: tensor<{k}x{n}xf32>, %b: tensor<{n}xf32>) -> {results} {{
  %cst = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : {t}
  %z = linalg.fill ins(%cst : f32) outs(%e : {t}) -> {t}
  %y = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}} ins(%x, %w : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) outs(%z : {t}) {{
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }} -> {t}
  %e2 = tensor.empty() : {t}
  %yb = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%y, %b : {t}, tensor<{n}xf32>) outs(%e2 : {t}) {{
  ^bb0(%a: f32, %c: f32, %o: f32):
    %0 = arith.addf %a, %c : f32
    linalg.yield %0 : f32
  }} -> {t}
  %0 = "euler.softmax"(%yb) {{axis = -1 : i64}} : ({t}) -> {t}
  return {returned}
}}"""


def column_of_products_src(m, n):
    """sum((x * y + b)^2) over the rows: a column reduction with its producers."""
    t, v = f"tensor<{m}x{n}xf32>", f"tensor<{n}xf32>"
    return (f'func.func @main(%a: {t}, %b: {t}, %c: {v}) -> {v} {{\n'
            f'  %0 = "euler.mul"(%a, %b) : ({t}, {t}) -> {t}\n'
            f'  %1 = "euler.add"(%0, %c) : ({t}, {v}) -> {t}\n'
            f'  %2 = "euler.mul"(%1, %1) : ({t}, {t}) -> {t}\n'
            f'  %3 = "euler.reduce_sum"(%2) {{axes = array<i64: 0>}} : ({t}) -> {v}\n'
            f'  return %3 : {v}\n}}')


@pytest.mark.parametrize("name,src,warps_reduce", [
    ("softmax", softmax_src(4096, 1024), True),
    ("softmax long rows", softmax_src(64, 32768), True),
    ("layer_norm", layer_norm_src(4096, 1024), True),
    ("bias+gelu+residual", bias_gelu_residual_src(4096, 1024), False),
    ("sum rows", reduce_src("reduce_sum", 4096, 1024, 1), True),
    ("max rows", reduce_src("reduce_max", 4096, 1024, 1), True),
])
def test_fusion_group_is_one_vectorized_kernel(name, src, warps_reduce):
    kernels = _ptx(src)
    assert len(kernels) == 1, (name, list(kernels))
    (ptx,) = kernels.values()
    assert len(re.findall(r"\.visible \.entry", ptx)) == 1
    # 128-bit loads (and stores, where the result is a full tensor).
    assert re.search(r"ld\.global(\.nc|\.cs|\.L1::no_allocate)?\.v4\.(f32|b32)", ptx), name
    assert ".local" not in ptx  # the row stays in registers, not in a stack frame
    if warps_reduce:
        assert "shfl.sync.bfly" in ptx
    if "rows" not in name:
        assert re.search(r"st\.global\.v4\.(f32|b32)", ptx), name


@pytest.mark.parametrize("name,src,chip", [
    ("softmax", softmax_src(64, 131072), "sm_80"),
    ("layer_norm", layer_norm_src(64, 100000), "sm_80"),
    ("sum rows", reduce_src("reduce_sum", 64, 1 << 20, 1), "sm_90"),  # too long for a cluster
])
def test_rows_longer_than_registers_are_one_looping_kernel(name, src, chip):
    m = euler.compile(src, target="cuda", emit="ptx", chip=chip)
    assert re.search(r"euler.gpu_schedule = \{[^}]*row_tiles = \d+ : i64", m.stages["gpu-tiled"])
    (ptx,) = cuda_pipeline.ptx_of(m.stages["ptx"]).values()
    assert ".local" not in ptx and re.search(r"@%p\d+ bra", ptx), name  # a loop, no spills
    # A few such rows keep the loop nest (a block a row would idle the chip).
    assert len(_ptx(src.replace("64x", "4x"), chip=chip)) > 1


@pytest.mark.parametrize("name,src,cluster", [
    ("softmax", softmax_src(512, 131072), 8),
    ("layer_norm", layer_norm_src(64, 100000), 8),  # ragged: 25000 vectors over 8 x 1024 x 4
    ("sum rows", reduce_src("reduce_sum", 64, 262148, 1), 8),
])
def test_rows_longer_than_a_block_holds_are_split_over_a_cluster(name, src, cluster):
    # sm_90: the row stays in the registers of a cluster's blocks, read once,
    # and the blocks exchange their totals through distributed shared memory.
    m = euler.compile(src, target="cuda", emit="ptx")
    assert re.search(rf"euler.gpu_schedule = {{[^}}]*cluster = {cluster} : i64", m.stages["gpu-tiled"])
    assert f"clusters in (%c{cluster}, %c1, %c1)" in m.stages["gpu"]
    (ptx,) = cuda_pipeline.ptx_of(m.stages["ptx"]).values()
    assert ".local" not in ptx and not re.search(r"@%p\d+ bra \t\$L__BB0_\d+;\n\s*\$L__BB", ptx)
    assert "barrier.cluster.arrive.aligned" in ptx and "barrier.cluster.wait.aligned" in ptx
    assert "mapa.shared::cluster.u64" in ptx and "ld.shared::cluster.f32" in ptx
    # Each input vector loaded once (x; gamma and beta): no loop over the row.
    chunks = int(re.search(r"chunks = (\d+)", m.stages["gpu-tiled"]).group(1))
    loads = len(re.findall(r"ld\.global(\.nc|\.cs)?\.v4", ptx))
    assert loads == chunks * (3 if name == "layer_norm" else 1), (loads, chunks)


@pytest.mark.parametrize("src,tiles,message", [
    (softmax_src(64, 1024), {"gpu_row": (100, 1)}, "GPU row tiles"),
    (softmax_src(64, 1024), {"gpu_row": (256, 1, 3)}, "GPU row tiles"),
    (reduce_src("reduce_sum", 4096, 8192, 0), {"gpu_column": (3, 5)}, "GPU column tiles"),
])
def test_bad_row_and_column_tiles_are_the_users_error(src, tiles, message):
    # A CompileError located at the op, not an internal error.
    with pytest.raises(euler.errors.CompileError, match=rf"<input>:2:\d+: error: .*{message}"):
        euler.compile(src, target="cuda", emit="gpu-tiled", tile_sizes=tiles)


def test_column_reduction_is_one_kernel_over_a_cluster():
    # A column sum: 16-byte vectors across a warp, warps and a cluster's
    # blocks down the rows, the blocks' sums combined by block 0.
    m = euler.compile(reduce_src("reduce_sum", 4096, 8192, 0), target="cuda", emit="ptx")
    assert re.search(r"euler.gpu_schedule = \{cluster = 4 : i64, column = 1 : i64",
                     m.stages["gpu-tiled"])
    (ptx,) = cuda_pipeline.ptx_of(m.stages["ptx"]).values()
    # Streaming 16-byte loads (read once), one 16-byte store a thread.
    assert re.search(r"ld\.global\.cs\.v4\.b32", ptx) and "st.global.v4" in ptx
    assert "ld.shared::cluster.f32" in ptx and ".local" not in ptx
    # sm_80, no clusters: 64 blocks of all the rows would idle the chip; the
    # loop nest splits the rows instead. Wider columns give enough blocks.
    assert len(_ptx(reduce_src("reduce_sum", 4096, 8192, 0), chip="sm_80")) > 1
    (ptx,) = _ptx(reduce_src("reduce_sum", 1024, 32768, 0), chip="sm_80").values()
    assert "cluster" not in ptx and "st.global.v4" in ptx


def test_gpu_tiled_stage_shows_the_plan():
    tiled = euler.compile(softmax_src(4096, 1024), target="cuda", emit="gpu-tiled").stages["gpu-tiled"]
    assert tiled.count('euler.gpu_group = "g0"') == 6  # 2 fills, 2 reductions, exp, divide
    # One warp a row (no shared-memory step), 8 rows a block.
    assert re.search(r"euler.gpu_schedule = \{chunks = 8 : i64, col_tiles = 1 : i64, "
                     r"rows_per_block = 8 : i64, threads = 32 : i64, vector = 4 : i64\}", tiled)


def test_ragged_rows_are_guarded():
    # 1000 columns: 250 vectors over 32 threads x 8 chunks; the last chunk is partial.
    (ptx,) = _ptx(softmax_src(512, 1000)).values()
    assert re.search(r"ld\.global(\.nc|\.cs|\.L1::no_allocate)?\.v4\.(f32|b32)", ptx)
    assert "setp" in ptx


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_16_bit_rows_are_one_kernel_that_reduces_in_f32(dtype):
    # The row max of a 16-bit softmax is in its kernel: its warp shuffles
    # move the f32 it combines in.
    t = f"tensor<512x1024x{dtype}>"
    max_src = (f'func.func @main(%a: {t}) -> tensor<512x{dtype}> {{\n  %0 = "euler.reduce_max"'
               f'(%a) {{axes = array<i64: 1>}} : ({t}) -> tensor<512x{dtype}>\n'
               f'  return %0 : tensor<512x{dtype}>\n}}')
    for src in (softmax_src(512, 1024, dtype), layer_norm_src(512, 1024, dtype), max_src):
        (ptx,) = _ptx(src).values()
        assert "shfl.sync.bfly.b32" in ptx and f"cvt.f32.{dtype}" in ptx


def test_short_rows_are_loaded_past_l1():
    # A row one warp takes is read once: its lines are not allocated in L1.
    (ptx,) = _ptx(softmax_src(512, 1024)).values()
    assert ptx.count("ld.global.L1::no_allocate.v4.f32") == 8
    # Rows of several warps load as usual.
    (ptx,) = _ptx(softmax_src(512, 4096)).values()
    assert "no_allocate" not in ptx and "ld.global.v4" in ptx


def test_gamma_and_beta_are_loaded_ahead_of_the_stores():
    # layer_norm's last pass: a chunk's gamma and beta are loaded STORE_AHEAD
    # chunks before its store (a load after a store would wait for it).
    from euler.passes.gpu import lower_groups as gpu_lower_groups
    (ptx,) = _ptx(layer_norm_src(4096, 32768)).values()  # 8 chunks a thread
    last = ptx[ptx.rindex("bar.sync"):]
    accesses = re.findall(r"(ld|st)\.global", last)
    ahead = gpu_lower_groups.STORE_AHEAD
    assert accesses[:2 * (ahead + 1) + 1] == ["ld"] * 2 * (ahead + 1) + ["st"], accesses
    assert accesses.count("st") == 8 and accesses.count("ld") == 16


def test_column_reduction_takes_the_loop_path():
    kernels = _ptx(reduce_src("reduce_sum", 1024, 512, 0))
    # euler-split-reductions: the 1024-row columns in 4 blocks of 256, one
    # thread per (block, column), then the 4 partials; with their two fills.
    assert len(kernels) == 4


@pytest.mark.parametrize("chip,version", [("sm_80", "8.0"), ("sm_90", "8.0"),
                                          ("sm_100a", "8.6"), ("sm_120", "8.7")])
def test_chip_option(chip, version):
    # Newer chips need a newer PTX ISA (an old one aborts LLVM, the process with it).
    (ptx,) = _ptx(softmax_src(64, 256), chip=chip).values()
    # sm_90: Hopper's own target, sm_90a, for the matmuls' wgmma.
    target = "sm_90a" if chip == "sm_90" else chip
    assert f".target {target}" in ptx and f".version {version}" in ptx


def test_every_stage_can_be_emitted_without_gpu():
    for stage in ("gpu-tiled", "gpu", "nvvm", "ptx", "llvm"):
        m = euler.compile(softmax_src(64, 256), target="cuda", emit=stage)
        assert list(m.stages)[-1] == stage


def test_cache_key_names_ir_options_and_chip():
    from euler.options import Options
    a = cache.key("ir", Options(target="cuda"), "sm_90")
    assert a == cache.key("ir", Options(target="cuda", dump_dir="/x"), "sm_90")
    assert a != cache.key("ir2", Options(target="cuda"), "sm_90")
    assert a != cache.key("ir", Options(target="cuda", opt_level=1), "sm_90")
    assert a != cache.key("ir", Options(target="cuda"), "sm_80")
    assert a != cache.key("ir", Options(target="cuda", tile_sizes={"gpu_row": (128, 1)}), "sm_90")


def test_cache_key_names_every_source_of_euler():
    # A pass edited in a subpackage (passes/gpu/) must change the key too.
    names = [p.replace(os.sep, "/") for p in cache.source_files()]
    for module in ("passes/gpu/lower_groups.py", "passes/cpu/schedule_matmul.py",
                   "passes/__init__.py", "dialects/euler.irdl.mlir", "pipelines/cuda.py"):
        assert any(n.endswith("/" + module) for n in names), names


def test_cache_stores_and_finds_entries_on_disk(tmp_path):
    from euler.options import Options
    opts = Options(target="cuda", cache_dir=str(tmp_path))
    k = cache.key("some ir", opts, "sm_90")
    cache.store(k, opts, object(), {"llvm": "text"})
    cache._memory.pop(k)
    hit, entry = cache.lookup(k, opts)
    assert hit is None and entry == {"llvm": "text"}
    assert cache.lookup(cache.key("other", opts, "sm_90"), opts) == (None, None)


def test_cache_settings_come_from_the_environment(monkeypatch, tmp_path):
    from euler.options import from_env
    monkeypatch.setenv("EULER_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("EULER_CACHE", "0")
    monkeypatch.setenv("EULER_CUDA_CHIP", "sm_80")
    opts = from_env(target="cuda")
    assert (opts.cache_dir, opts.cache, opts.chip) == (str(tmp_path), False, "sm_80")


# --- fusion groups and device arrays on the GPU ---------------------------------------

torch = pytest.importorskip("torch") if cuda.available() else None


def _ref_softmax(x):
    return torch.softmax(x.double(), -1)


def _ref_layer_norm(x, g, b):
    return torch.nn.functional.layer_norm(x.double(), (x.shape[-1],), g.double(), b.double(), 1e-5)


def _ref_bgr(a, b, r):
    return torch.nn.functional.gelu(a.double() + b.double(), approximate="tanh") + r.double()


GROUPS = [
    ("softmax 4096x1024", softmax_src(4096, 1024), [(4096, 1024)], _ref_softmax),
    ("softmax 256x1000", softmax_src(256, 1000), [(256, 1000)], _ref_softmax),
    ("softmax 3x33", softmax_src(3, 33), [(3, 33)], _ref_softmax),
    ("softmax 16x32768", softmax_src(16, 32768), [(16, 32768)], _ref_softmax),
    ("softmax 64x8193", softmax_src(64, 8193), [(64, 8193)], _ref_softmax),
    ("layer_norm 512x1024", layer_norm_src(512, 1024), [(512, 1024), (1024,), (1024,)],
     _ref_layer_norm),
    ("layer_norm 100x768", layer_norm_src(100, 768), [(100, 768), (768,), (768,)], _ref_layer_norm),
    ("layer_norm 8x16384", layer_norm_src(8, 16384), [(8, 16384), (16384,), (16384,)],
     _ref_layer_norm),
    ("bias+gelu+residual 512x1024", bias_gelu_residual_src(512, 1024),
     [(512, 1024), (1024,), (512, 1024)], _ref_bgr),
    ("bias+gelu+residual 3x100001", bias_gelu_residual_src(3, 100001),
     [(3, 100001), (100001,), (3, 100001)], _ref_bgr),
    ("sum rows", reduce_src("reduce_sum", 1000, 4096, 1), [(1000, 4096)], lambda x: x.double().sum(-1)),
    ("max rows", reduce_src("reduce_max", 1000, 4096, 1), [(1000, 4096)], lambda x: x.amax(-1)),
    ("sum cols", reduce_src("reduce_sum", 1000, 4096, 0), [(1000, 4096)], lambda x: x.double().sum(0)),
    # Column kernels: a cluster's blocks down the rows.
    ("sum cols 4096x8192", reduce_src("reduce_sum", 4096, 8192, 0), [(4096, 8192)],
     lambda x: x.double().sum(0)),
    ("max cols 3000x8192", reduce_src("reduce_max", 3000, 8192, 0), [(3000, 8192)],
     lambda x: x.double().amax(0)),
    ("sum cols of (x * y + b)^2", column_of_products_src(2000, 4096),
     [(2000, 4096), (2000, 4096), (4096,)],
     lambda x, y, b: ((x.double() * y.double() + b.double()) ** 2).sum(0)),
    # The bias add and softmax after a matmul, one kernel, in the matmul's buffer.
    ("softmax(x @ w + b) in place", matmul_bias_softmax_src(32, 48, 256), [(32, 48), (48, 256), (256,)],
     lambda x, w, b: torch.softmax(x.double() @ w.double() + b.double(), -1)),
    # Rows longer than a block's registers hold: on sm_90 split over the blocks
    # of a cluster (ragged here), else (and the longest) every pass loops over
    # the row's tiles.
    ("softmax 64x100000", softmax_src(64, 100000), [(64, 100000)], _ref_softmax),
    # Rows split over the 8 blocks of a cluster (sm_90).
    ("softmax 512x131072", softmax_src(512, 131072), [(512, 131072)], _ref_softmax),
    ("layer_norm 64x131072", layer_norm_src(64, 131072), [(64, 131072), (131072,), (131072,)],
     _ref_layer_norm),
    ("sum rows 64x262148", reduce_src("reduce_sum", 64, 262148, 1), [(64, 262148)],
     lambda x: x.double().sum(-1)),
    ("max rows 64x262148", reduce_src("reduce_max", 64, 262148, 1), [(64, 262148)],
     lambda x: x.amax(-1)),
    ("sum rows 64x1048576", reduce_src("reduce_sum", 64, 1 << 20, 1), [(64, 1 << 20)],
     lambda x: x.double().sum(-1)),
]


@needs_gpu
@pytest.mark.parametrize("name,src,shapes,ref", GROUPS, ids=[g[0] for g in GROUPS])
def test_fusion_group_on_device_tensors(name, src, shapes, ref):
    m = euler.compile(src, target="cuda")
    for seed in range(2):  # fresh inputs each time: the kernel must compute the function
        gen = torch.Generator(device="cuda").manual_seed(seed)
        args = [torch.randn(s, device="cuda", generator=gen) * 3 for s in shapes]
        got = m.main(*args)
        assert isinstance(got, torch.Tensor) and got.is_cuda
        want = ref(*args)
        err = float((got.double() - want).norm() / want.norm())
        assert err < 1e-5, (name, err)
        # numpy in, numpy out: the same numbers.
        got_np = m.main(*[a.cpu().numpy() for a in args])
        assert isinstance(got_np, np.ndarray)
        np.testing.assert_allclose(got_np, got.cpu().numpy(), rtol=1e-6, atol=1e-6)


@needs_gpu
@pytest.mark.parametrize("dtype", ["f16", "bf16"])
@pytest.mark.parametrize("op", ["softmax", "layer_norm", "sum", "max"])
@pytest.mark.parametrize("cols", [1000, 8192, 131072])
def test_16_bit_rows_on_device_tensors(op, dtype, cols):
    rows = 64
    tdtype = torch.float16 if dtype == "f16" else torch.bfloat16
    gen = torch.Generator(device="cuda").manual_seed(cols)
    x, g, b = (torch.randn(s, device="cuda", generator=gen).to(tdtype) * 3
               for s in ((rows, cols), (cols,), (cols,)))
    t, r = f"tensor<{rows}x{cols}x{dtype}>", f"tensor<{rows}x{dtype}>"
    reduce = (f'func.func @main(%a: {t}) -> {r} {{\n  %0 = "euler.reduce_{op}"(%a) '
              f'{{axes = array<i64: 1>}} : ({t}) -> {r}\n  return %0 : {r}\n}}')
    src, args, want = {
        "softmax": (softmax_src(rows, cols, dtype), (x,), lambda: _ref_softmax(x)),
        "layer_norm": (layer_norm_src(rows, cols, dtype), (x, g, b),
                       lambda: _ref_layer_norm(x, g, b)),
        "sum": (reduce, (x,), lambda: x.double().sum(-1)),
        "max": (reduce, (x,), lambda: x.double().amax(-1)),
    }[op]
    got = euler.compile(src, target="cuda").main(*args)
    assert got.dtype == tdtype
    err = float((got.double() - want()).norm() / want().norm())
    # Sums and statistics in f32: the result's rounding to 16 bits.
    assert err < (1e-3 if dtype == "f16" else 8e-3), (op, err)


@needs_gpu
@pytest.mark.parametrize("family,case", CASES, ids=[c.name for _, c in CASES])
def test_op_on_gpu_with_torch_tensors(family, case):
    dev = [torch.from_numpy(np.ascontiguousarray(a)).cuda() for a in case.inputs]
    got = _compiled_family(family)[_fn_name(case)](*dev)
    assert isinstance(got, torch.Tensor) and got.is_cuda
    want = np.asarray(case.ref(*case.inputs))
    scale = float(np.nanmax(np.abs(want.astype(np.float64)))) if want.size else 1.0
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=max(case.rtol, 2e-5),
                               atol=1e-5 * scale)


@needs_gpu
def test_device_calls_copy_nothing_and_run_on_the_callers_stream():
    m = euler.compile(softmax_src(1024, 1024), target="cuda")
    x = torch.randn(1024, 1024, device="cuda")
    out = torch.full_like(x, float("nan"))  # poisoned: every element must be written
    rt = cuda.runtime()
    taken = rt.streams_taken
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        y = x * 2  # enqueued on `stream`: the call must run after it
        result = m.main(y, out=out)
    stream.synchronize()
    assert result is out and rt.streams_taken == taken + 1
    torch.testing.assert_close(out, torch.softmax(x * 2, -1), rtol=1e-5, atol=1e-6)
    # A result is a fresh tensor on the argument's device; inputs are never written.
    before = x.clone()
    z = m.main(x)
    assert z.device == x.device and z.data_ptr() not in (x.data_ptr(), out.data_ptr())
    torch.testing.assert_close(x, before, rtol=0, atol=0)


@needs_gpu
@pytest.mark.parametrize("graphs,dtype", [(True, "f32"), (False, "f32"), (True, "f16")])
def test_repeated_device_calls_replay_a_cuda_graph(graphs, dtype):
    # The encoder layer (temporaries, f32 FFMA or f16 wgmma matmuls with
    # their casts in the epilogue, row kernels): the second call with the
    # same pointers is captured, later ones replay it, on the caller's
    # stream, on new values in the same tensors.
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import workloads
    w = workloads.encoder_layer(64, 128, 4, 256, np.random.default_rng(5),
                                np.float16 if dtype == "f16" else np.float32)
    tol = 2e-3 if dtype == "f16" else 1e-5
    m = euler.compile(w.ir, target="cuda", cuda_graphs=graphs)
    engine = m.main._engine
    args = [torch.from_numpy(a).cuda() for a in w.inputs]
    out = torch.full_like(args[0], float("nan"))
    rt = cuda.runtime()
    taken, per_call = rt.streams_taken, None
    stream = torch.cuda.Stream()
    for i in range(4):
        with torch.cuda.stream(stream):
            args[0].normal_()  # enqueued on `stream`: the call must run after it
            out.fill_(float("nan"))  # poisoned: every element must be written
            m.main(*args, out=out)
            want = torch.from_numpy(w.numpy(*[a.cpu().double().numpy() for a in args]))
        stream.synchronize()
        assert torch.linalg.norm(out.cpu().double() - want) <= tol * torch.linalg.norm(want), i
        # The host code asks for its stream once per async chain it runs.
        per_call = per_call or rt.streams_taken - taken
    assert engine.graph_error is None
    assert len(engine._graphs) == (1 if graphs else 0)
    # Run directly, then captured; replays run no host code.
    assert rt.streams_taken == taken + per_call * (2 if graphs else 4)


@needs_gpu
def test_misaligned_and_strided_tensors_are_copied():
    m = euler.compile(softmax_src(64, 256), target="cuda")
    base = torch.randn(64 * 256 + 1, device="cuda")
    x = base[1:].view(64, 256)  # 4-byte offset: not 16-byte aligned
    torch.testing.assert_close(m.main(x), torch.softmax(x, -1), rtol=1e-5, atol=1e-6)
    xt = torch.randn(256, 64, device="cuda").t()  # not contiguous
    torch.testing.assert_close(m.main(xt), torch.softmax(xt, -1), rtol=1e-5, atol=1e-6)


@needs_gpu
def test_wrong_device_arguments_are_input_errors():
    m = euler.compile(softmax_src(64, 256), target="cuda")
    with pytest.raises(euler.InputError, match="expected"):
        m.main(torch.randn(64, 128, device="cuda"))
    with pytest.raises(euler.InputError, match="mix numpy and device"):
        m.main(torch.randn(64, 256, device="cuda"), out=np.empty((64, 256), np.float32))


@needs_gpu
def test_cupy_arrays_in_and_out():
    cupy = pytest.importorskip("cupy")
    m = euler.compile(softmax_src(128, 512), target="cuda")
    x = cupy.random.standard_normal((128, 512), dtype=cupy.float32)
    y = m.main(x)
    assert isinstance(y, cupy.ndarray)
    want = torch.softmax(torch.from_numpy(cupy.asnumpy(x)), -1).numpy()
    np.testing.assert_allclose(cupy.asnumpy(y), want, rtol=1e-5, atol=1e-6)


@needs_gpu
def test_compiled_modules_are_cached_in_process_and_on_disk(tmp_path):
    import subprocess
    import sys
    src = softmax_src(256, 512)
    first = euler.compile(src, target="cuda", cache_dir=str(tmp_path))
    assert euler.compile(src, target="cuda", cache_dir=str(tmp_path)) is first
    assert list(tmp_path.glob("*/*.json"))
    # A second process finds the entry and never runs the pipeline.
    code = (
        "import sys, time, torch, euler\n"
        "from euler.pipelines import driver\n"
        "def boom(*a, **k): raise SystemExit('the pipeline ran')\n"
        "driver.run_stages = boom\n"
        "t = time.perf_counter()\n"
        f"m = euler.compile(sys.stdin.read(), target='cuda', cache_dir={str(tmp_path)!r})\n"
        "dt = time.perf_counter() - t\n"
        "x = torch.randn(256, 512, device='cuda')\n"
        "assert torch.allclose(m.main(x), torch.softmax(x, -1), atol=1e-6)\n"
        "print('cached compile s', dt)\n")
    run = subprocess.run([sys.executable, "-c", code], input=src, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    print(run.stdout)
    assert not euler.compile(src, target="cuda", cache=False) is first


def test_torch_model_emits_ptx_without_gpu():
    torch_ = pytest.importorskip("torch")
    import euler.torch as et
    model = torch_.nn.Sequential(torch_.nn.Linear(16, 32), torch_.nn.ReLU()).eval()
    with torch_.no_grad():
        cm = et.compile(model, (torch_.randn(4, 16),), target="cuda", emit="ptx")
    assert cuda_pipeline.ptx_of(cm.stages["ptx"])


@needs_gpu
def test_torch_models_keep_their_weights_on_the_device():
    import euler.torch as et
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.GELU(approximate="tanh"),
                                torch.nn.LayerNorm(128), torch.nn.Linear(128, 32)).eval()
    x = torch.randn(16, 64)
    with torch.no_grad():
        want = model(x)
        cm = et.compile(model, (x,), target="cuda")
        # Weights are arguments, already on the device: no per-call constant copies.
        assert "memref.get_global" not in cm.stages["bufferized"]
        assert all(p.is_cuda for p in cm._params.values())
        got = cm(x.cuda())
    assert got.is_cuda
    torch.testing.assert_close(got.cpu(), want, rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        opt = torch.compile(model.cuda(), backend="euler")
        torch.testing.assert_close(opt(x.cuda()).cpu(), want, rtol=1e-4, atol=1e-4)


_CONSTANT_SRC = """func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = "euler.constant"() {value = dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0],
    [24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0]]> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %0 = "euler.mul"(%x, %c) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}"""


def test_constants_are_device_globals_not_copied_per_call():
    # euler-gpu-sink-constants: the kernel reads the constant from its own
    # module's initialized .global array; the host copies nothing in.
    m = euler.compile(_CONSTANT_SRC, target="cuda", emit="ptx")
    assert "gpu.memcpy" not in m.stages["gpu"]
    (ptx,) = cuda_pipeline.ptx_of(m.stages["ptx"]).values()
    assert re.search(r"\.global \.align \d+ \.b8 \w+\[128\] = \{", ptx)


@needs_gpu
def test_constants_on_gpu():
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    want = x * np.arange(32, dtype=np.float32).reshape(4, 8)
    m = euler.compile(_CONSTANT_SRC, target="cuda", cache=False)
    np.testing.assert_allclose(m.main(x), want, rtol=1e-6)
    got = m.main(torch.from_numpy(x).cuda())
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6)

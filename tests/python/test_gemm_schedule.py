"""The -O3 matmul schedule (euler-schedule-matmul + euler-lower-matmul-microkernel)
against numpy: divisible and peeled shapes, K padding, batches, threads and
tile-size overrides."""

import re

import numpy as np
import pytest

import euler
from euler.pipelines import heuristics


def _matmul(a_shape, b_shape, dtype="f32"):
    out = list(np.broadcast_shapes(a_shape[:-2], b_shape[:-2])) + [a_shape[-2], b_shape[-1]]
    t = lambda s: "tensor<" + "x".join(map(str, s)) + f"x{dtype}>"
    return (f"func.func @main(%a: {t(a_shape)}, %b: {t(b_shape)}) -> {t(out)} {{\n"
            f'  %c = "euler.matmul"(%a, %b) : ({t(a_shape)}, {t(b_shape)}) -> {t(out)}\n'
            f"  return %c : {t(out)}\n}}\n")


def _check(a_shape, b_shape, dtype=np.float32, **options):
    mod = euler.compile(_matmul(a_shape, b_shape, "f64" if dtype == np.float64 else "f32"),
                        opt_level=3, **options)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(mod.main(a, b), ref, rtol=tol, atol=tol * np.sqrt(a_shape[-1]))
    return mod


@pytest.mark.parametrize("m, n, k", [
    (64, 64, 64),      # whole register and cache tiles
    (1, 1, 1),         # 1x1 register tile, K padded from 1 to 4
    (3, 5, 7),         # smaller than one register tile in every dimension
    (17, 33, 65),      # peeled row, column and corner; K padded
    (77, 96, 40),      # thin M: 9 full row panels + a 5-row kernel
    (130, 200, 600),   # several cache tiles along M and K, ragged last ones
])
def test_matches_numpy(m, n, k):
    mod = _check((m, k), (k, n), num_threads=1)
    # A 1x1 tile (a dot product) stays scalar (see euler-schedule-matmul).
    assert ("vector.contract" in mod.stages["tiled"]) == ((m, n) != (1, 1))
    assert "linalg.matmul" not in mod.stages["tiled"]


def test_long_rows_of_c_are_not_one_vector():
    # A transposed conv's im2col matmul (TransposedConv2dAsymmetricCrop_basic):
    # C's zero fill as one vector<44748xf32> aborted LLVM's instruction selection.
    mod = _check((1, 77), (77, 44748), num_threads=1)
    assert "vector<44748x" not in mod.stages["vectorized"]


@pytest.fixture
def small_parallel(monkeypatch):
    """Let the small test shapes run on several threads."""
    monkeypatch.setattr(heuristics, "parallel_threads", lambda seconds, threads: threads)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads(threads, small_parallel):
    # The forall splits m1 (17 rows: 2 panels + a peeled row) or n1.
    mod = _check((17, 70), (70, 100), num_threads=threads)
    assert "scf.forall" in mod.stages["tiled"]
    assert "omp.parallel" in mod.stages["loops"]


@pytest.mark.parametrize("m, n, k, threads", [(64, 64, 64, 1), (41, 70, 37, 1), (41, 70, 37, 2)])
def test_every_kernel_keeps_its_accumulator_in_registers(m, n, k, threads, small_parallel):
    # Each register-tile k-loop carries its C tile as a vector iter_arg: with
    # peeled kernels and threads too (where folded subviews leave constants
    # and dead views behind that would block the hoisting).
    mod = euler.compile(_matmul((m, k), (k, n)), opt_level=3, num_threads=threads,
                        emit="bufferized")
    kernels = mod.stages["tiled"].count("vector.contract")
    hoisted = re.findall(r"iter_args\([^)]*\) -> \(vector<", mod.stages["bufferized"])
    assert kernels >= 1 and len(hoisted) >= kernels


def test_batched_matmul(small_parallel):
    mod = _check((3, 10, 12), (3, 12, 40), num_threads=2)
    assert "scf.forall" in mod.stages["tiled"]


def test_broadcast_batch():
    # A 2-D right operand is folded into one matmul over all batch rows.
    _check((2, 9, 16), (16, 33), num_threads=1)


def test_f64():
    mod = _check((20, 24), (24, 20), dtype=np.float64, num_threads=1)
    t = heuristics.matmul_tiles(20, 20, 24, "f64")  # the host's register tile
    assert f"vector<{t.kr}x{t.mr}xf64>" in mod.stages["tiled"]


@pytest.mark.parametrize("unit, tile", [("avx512", (8, 32)), ("avx2", (6, 16)),
                                        ("neon", (8, 8))])
def test_register_tile_follows_the_vector_unit(unit, tile, monkeypatch):
    # As many rows as the registers hold besides B's two and A's broadcast.
    monkeypatch.setenv("EULER_CPU", unit)
    monkeypatch.setattr(heuristics, "VECTOR_BYTES", heuristics.VECTOR_UNITS[unit][0])
    monkeypatch.setattr(heuristics, "VECTOR_REGISTERS", heuristics.VECTOR_UNITS[unit][1])
    heuristics.host_vector_unit.cache_clear()
    try:
        assert heuristics.host_vector_unit() == unit
    finally:
        heuristics.host_vector_unit.cache_clear()
    t = heuristics.matmul_tiles(64, 64, 64)
    assert (t.mr, t.nr) == tile


@pytest.mark.parametrize("vectors, nr_vectors", [(3.0625, 1), (6.25, 2), (1.25, 1), (2.5, 2)])
def test_register_tile_avoids_ragged_remainders(vectors, nr_vectors):
    # N = 49 on AVX-512 (3 vectors and a lane): two-vector tiles would leave
    # 17 columns, wider than a vector, which run several times slower than
    # whole tiles; one-vector tiles leave one. 14x14 = 196 (6.25 vectors)
    # leaves 4 either way, and keeps the wider tile. Numerics of the narrow
    # tile: a ragged N through the schedule, as chosen.
    lanes = heuristics.VECTOR_BYTES // 4
    n = int(vectors * lanes)
    assert heuristics.matmul_tiles(64, n, 64).nr == nr_vectors * lanes
    _check((9, 24), (24, n), num_threads=1)


def test_tile_size_override():
    # (mc, nc, kc, mr, nr, kr): a 4x16 register tile, k-step 2.
    mod = _check((24, 40), (40, 48), num_threads=1,
                 tile_sizes={"matmul": (8, 32, 8, 4, 16, 2)})
    assert "vector<2x4xf32>, vector<2x16xf32> into vector<4x16xf32>" in mod.stages["tiled"]


def test_bad_tile_sizes_name_the_op():
    with pytest.raises(euler.errors.EulerError, match="matmul tile sizes"):
        euler.compile(_matmul((8, 8), (8, 8)), opt_level=3, tile_sizes={"matmul": (8, 0, 8)})


def test_small_matmuls_stay_on_one_thread():
    mod = _check((64, 64), (64, 64), num_threads=2)
    assert "scf.forall" not in mod.stages["tiled"]


def test_other_levels_do_not_schedule():
    mod = euler.compile(_matmul((16, 16), (16, 16)), opt_level=2)
    assert "linalg.pack" not in mod.stages["tiled"]
    assert "vector.contract" not in mod.stages["tiled"]


def test_two_matmuls_with_elementwise_ops_between(small_parallel):
    # Each matmul gets its own packs and kernels; the fused add+relu between
    # them is left to the elementwise passes.
    src = """func.func @main(%x: tensor<33x64xf32>, %w1: tensor<64x100xf32>, %b: tensor<100xf32>,
                     %w2: tensor<100x20xf32>) -> tensor<33x20xf32> {
      %h = "euler.matmul"(%x, %w1) : (tensor<33x64xf32>, tensor<64x100xf32>) -> tensor<33x100xf32>
      %hb = "euler.add"(%h, %b) : (tensor<33x100xf32>, tensor<100xf32>) -> tensor<33x100xf32>
      %r = "euler.relu"(%hb) : (tensor<33x100xf32>) -> tensor<33x100xf32>
      %y = "euler.matmul"(%r, %w2) : (tensor<33x100xf32>, tensor<100x20xf32>) -> tensor<33x20xf32>
      return %y : tensor<33x20xf32>
    }"""
    rng = np.random.default_rng(1)
    x, w1, b, w2 = (rng.standard_normal(s).astype(np.float32)
                    for s in [(33, 64), (64, 100), (100,), (100, 20)])
    ref = np.maximum(x.astype(np.float64) @ w1 + b, 0) @ w2
    for threads in (1, 2):
        out = euler.compile(src, opt_level=3, num_threads=threads).main(x, w1, b, w2)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3)

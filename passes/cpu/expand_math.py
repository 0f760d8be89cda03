"""euler-expand-math: polynomial exp, tanh and erf in arith/math ops.

Runs at -O2 and -O3 in the `tiled` stage, before tiling and vectorization.
Upstream MLIR has no vector `exp`: `math.exp` on a vector becomes one scalar
`expf` call per lane, which made a vectorized softmax slower than naive loops
(see the shared notes), and LLVM's loop vectorizer stops at libm calls too.
This pass replaces f32 `math.exp`, `math.tanh` and `math.erf` (scalars or
vectors, e.g. inside `linalg.generic` bodies) by range reduction plus a
polynomial built from `math.fma`, `arith` and bitcasts, which vectorize to
plain FMAs. Other types and ops are left to libm.

Accuracy (f32, checked against numpy in tests/python/test_expand_math.py):
  exp   Cephes `expf` polynomial after reduction by ln2: ~2 ulp; 0 below
        -87.3, +inf above 88.7, NaN kept.
  tanh  odd Taylor polynomial for |x| < 0.25, else 1 - 2/(exp(2|x|)+1).
  erf   Taylor series for |x| < 0.5, else 1 - erfc(|x|) with the Numerical
        Recipes Chebyshev fit of erfc (relative error < 1.2e-7).
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

NAME = "euler-expand-math"
SUMMARY = "Expand f32 math.exp/tanh/erf into polynomials of arith and math.fma ops"

# Cephes expf coefficients, for exp(r) on r in [-ln2/2, ln2/2].
_EXP_POLY = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
             4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4
_EXP_HI, _EXP_LO = 88.72283905206835, -87.33654475  # log(FLT_MAX), log(FLT_MIN)
# erfc(z) ~ t * exp(-z*z + P(t)), t = 1 / (1 + z/2): Numerical Recipes `erfcc`.
_ERFC_POLY = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
              -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223)


class _Builder:
    """Emits scalar-or-vector f32 arithmetic of one shape at the insertion point."""

    def __init__(self, ftype):
        self.ftype = ftype
        shape = list(ftype.shape) if isinstance(ftype, ir.VectorType) else None
        i32 = ir.IntegerType.get_signless(32)
        self.itype = ir.VectorType.get(shape, i32) if shape is not None else i32

    def const(self, value, int_=False):
        etype = ir.IntegerType.get_signless(32) if int_ else ir.F32Type.get()
        attr = (ir.IntegerAttr.get(etype, int(value)) if int_
                else ir.FloatAttr.get(etype, float(value)))
        rtype = self.itype if int_ else self.ftype
        if isinstance(rtype, ir.VectorType):
            attr = ir.DenseElementsAttr.get_splat(rtype, attr)
        return arith.constant(rtype, attr)

    def fma(self, a, b, c):
        return mmath.fma(a, b, c)

    def horner(self, x, coeffs):
        acc = self.const(coeffs[0])
        for c in coeffs[1:]:
            acc = self.fma(acc, x, self.const(c))
        return acc

    def select(self, pred, a, b):
        return arith.select(pred, a, b)

    def cmp(self, pred, a, b):
        return arith.cmpf(getattr(arith.CmpFPredicate, pred), a, b)


def expand_exp(b: _Builder, x):
    hi, lo = b.const(_EXP_HI), b.const(_EXP_LO)
    xc = arith.minimumf(arith.maximumf(x, lo), hi)
    # n = round(x / ln2); r = x - n*ln2 in two parts, so r stays exact.
    n = mmath.roundeven(arith.mulf(xc, b.const(1.0 / math.log(2.0))))
    # 2^n must stay a normal float: |r| may then exceed ln2/2 by a hair at the ends.
    n = arith.minimumf(arith.maximumf(n, b.const(-126.0)), b.const(127.0))
    r = b.fma(n, b.const(-_LN2_HI), xc)
    r = b.fma(n, b.const(-_LN2_LO), r)
    p = b.horner(r, _EXP_POLY)
    p = b.fma(p, arith.mulf(r, r), arith.addf(r, b.const(1.0)))
    # 2^n by building the float's exponent field.
    ni = arith.fptosi(b.itype, n)
    scale = arith.bitcast(b.ftype, arith.shli(arith.addi(ni, b.const(127, True)),
                                              b.const(23, True)))
    y = arith.mulf(p, scale)
    y = b.select(b.cmp("OLT", x, lo), b.const(0.0), y)
    y = b.select(b.cmp("OGT", x, hi), b.const(math.inf), y)
    # Comparisons with NaN are false, so NaN reached here as a clamped value.
    return b.select(b.cmp("UNO", x, x), x, y)


def expand_tanh(b: _Builder, x):
    ax = mmath.absf(x)
    # tanh saturates to 1 in f32 long before 2|x| = 40, and exp stays finite.
    e = expand_exp(b, arith.minimumf(arith.mulf(ax, b.const(2.0)), b.const(40.0)))
    big = arith.subf(b.const(1.0), arith.divf(b.const(2.0), arith.addf(e, b.const(1.0))))
    # 1 - 2/(e+1) cancels for small |x|: Taylor x - x^3/3 + 2x^5/15 - ...
    x2 = arith.mulf(ax, ax)
    taylor = (62.0 / 2835.0, -17.0 / 315.0, 2.0 / 15.0, -1.0 / 3.0)
    small = b.fma(arith.mulf(ax, x2), b.horner(x2, taylor), ax)
    y = b.select(b.cmp("OLT", ax, b.const(0.25)), small, big)
    return mmath.copysign(y, x)


def expand_erf(b: _Builder, x):
    ax = mmath.absf(x)
    t = arith.divf(b.const(1.0), b.fma(ax, b.const(0.5), b.const(1.0)))
    poly = b.horner(t, _ERFC_POLY)
    erfc = arith.mulf(t, expand_exp(b, b.fma(arith.negf(ax), ax, poly)))
    big = arith.subf(b.const(1.0), erfc)
    # 1 - erfc cancels for small |x|: 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216).
    x2 = arith.mulf(ax, ax)
    series = b.horner(x2, (1.0 / 216.0, -1.0 / 42.0, 1.0 / 10.0, -1.0 / 3.0, 1.0))
    small = arith.mulf(arith.mulf(ax, series), b.const(2.0 / math.sqrt(math.pi)))
    y = b.select(b.cmp("OLT", ax, b.const(0.5)), small, big)
    return mmath.copysign(y, x)


EXPANSIONS = {"math.exp": expand_exp, "math.tanh": expand_tanh, "math.erf": expand_erf}


def _is_f32(t) -> bool:
    if isinstance(t, ir.VectorType):
        t = t.element_type
    return isinstance(t, ir.F32Type)


def run(module):
    targets = []

    def visit(op):
        if op.name in EXPANSIONS and _is_f32(op.results[0].type):
            targets.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    for op in targets:
        with ir.InsertionPoint(op), op.location:
            b = _Builder(op.results[0].type)
            new = EXPANSIONS[op.name](b, op.operands[0])
        op.results[0].replace_all_uses_with(new)
        op.erase()

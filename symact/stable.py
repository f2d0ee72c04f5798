"""Numerically stable forms of f and f', the ones the kernels are generated from.

A stable form is a rewrite, never a different function: every entry here is
proved equal to the catalog definition and to its derived derivative
(tests/test_kernels.py runs ``symact.prove`` on each, reading the rounding
atoms of :mod:`symact.rounding` exactly). The rewrites follow the usual
recipes:

- σ(u) through e = exp(−|u|), so nothing overflows, and σ' = σ(u)·σ(−u)
  instead of σ(1 − σ), which is 0 in floating point for u ≳ 37;
- softplus and log σ with log1p(exp(−|x|));
- tanh and tanh' from expm1(−2|x|), so 1 − tanh² never cancels;
- ELU/CELU with expm1(min(x, 0)), so the unused branch cannot overflow;
- GELU with erfc in the negative tail; GELU-tanh with 1 + tanh(u) = 2σ(2u);
- Mish with tanh(softplus(x)) as a rational function of exp(−|x|).

Three further techniques take the ill-conditioned functions to a few ULP:

- **compensated arguments**: x/√2 in GELU and the cubic in GELU-tanh are
  carried as hi + lo (the rounding error, from fma or Dekker's product) and
  applied to first order, erfc(hi + lo) ≈ erfc(hi) − 2e^(−hi²)/√π·lo;
- **re-expansion about a root of f'** (SiLU, GELU-tanh, Mish): f' = …·G with
  G polynomial in x and exp(p(x)), rewritten exactly in d = x − r for a
  double r next to the root, so the cancellation happens in exact arithmetic;
- **rescaling by e^64** where an intermediate would be subnormal but the
  result is not (the far negative tails).

float32 data has two rewrites: ``single``, computed in double, which needs no
compensation, and ``float32``, computed in float (twice the SIMD lanes) from
float exps, each result one division of selected terms, measured within 4 ULP
over every finite float32.

Where no exact rewrite is accurate, a form may carry an :class:`Approximation`
with a proved error bound: GELU' near its root (a Taylor polynomial) and
GELU's far tail (erfc's asymptotic series). GELU's float32 form reads Φ
through the Mills ratio (:mod:`symact.mills`), an atom whose exact reading is
the function itself and whose machine reading is a rational function with a
proved bound, as :class:`symact.rounding.expm1_small` is for expm1.

A user's function proved equal to a catalog one (:func:`catalog_equivalent`)
takes that function's form. Other functions not listed here use the definition
and its derived derivative, with σ, softplus and tanh made stable where they
are written with exp.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from . import calculus, taylor
from .catalog import REGISTRY
from .catalog.registry import USER_DEFINED
from .fn import Fn
from .functions import expand_atoms, sigmoid, softplus
from .mills import mills_root, mills_scaled, mills_scaled_lo, mills_single, mills_single_gap
from .prove import prove
from .rounding import (
    _Atom,
    _power_of_two,
    exact,
    exp_err,
    exp_f32_short,
    exp_float,
    exp_float_frac,
    exp_float_scale,
    exp_fma,
    exp_short,
    exp_tail,
    expm1_f32_short,
    expm1_float,
    expm1_short,
    expm1_small,
    fast_sum_err,
    fma,
    held,
    horner,
    horner2,
    lit,
    lo,
    log1p_float,
    prod_err,
    quot_err,
    ratio,
    signed,
    sum_err,
    vanishing,
)


class erfc(sp.erfc):  # noqa: N801  (printers look functions up by this name)
    """erfc that keeps its argument: SymPy rewrites erfc(−z) as 2 − erfc(z), which
    is exactly the cancellation the GELU kernel must avoid in the negative tail."""

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.S.One


@dataclass(frozen=True)
class StableForm:
    """f and f' in the input symbol x and the parameter symbols, and where needed, approximations."""

    f: sp.Expr
    df: sp.Expr
    approximations: tuple[Approximation, ...] = ()
    #: A shorter rewrite for float32 data, which kernels compute in double: without the compensations, its
    #: error (at most ~2^-29 relative, from the short exps of GELU, sigmoid and tanh) is 2^-5 of a float ULP,
    #: and it runs 2-3 times faster.
    single: tuple[sp.Expr, sp.Expr] | None = None
    #: A rewrite for float32 data computed in float, 16 lanes to a 512-bit vector (the C backend): the
    #: float exp of :class:`symact.rounding.exp_float`, and each of f and f' one division of selected terms
    #: (:func:`_float_sigmoid_pair`), a few roundings that the accuracy tests bound over every finite float32.
    float32: tuple[sp.Expr, sp.Expr] | None = None
    #: A form for float64 C and numba kernels, which have a fused multiply-add (numba: LLVM's intrinsic) and
    #: run SIMD: there some functions are faster without a library call the portable form needs (GELU: erfc,
    #: a scalar call that kept the numba loop from vectorizing: 189 → 25 ms), and as accurate.
    fused: StableForm | None = None


@dataclass(frozen=True)
class Approximation:
    """f and/or f' on lo < x < hi replaced by an expression whose relative error is at most ``bound``.

    The one kind of kernel form that is not a rewrite, used where no exact
    rewrite can be accurate in floating point: near a simple root of f'
    (GELU's Φ(x) + x·φ(x)), every formula built from rounded terms has
    unbounded relative error; in GELU's far tail, erfc's result is subnormal
    while x·erfc(·)/2 is not. ``bound`` is proved, not sampled: ``proof``
    names the function that proves it (tests/test_kernels.py runs it).
    """

    lo: float
    hi: float
    f: sp.Expr | None
    df: sp.Expr | None
    bound: float
    proof: Callable[[], float]


def _where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _sigmoid_pair(u: sp.Expr, exp: Callable[[sp.Expr], sp.Expr] = sp.exp) -> tuple[sp.Expr, sp.Expr]:
    """(σ(u), σ(−u)) from e = exp(−|u|), with one division, 1/(1 + e): no overflow, no cancellation."""
    e = exp(-sp.Abs(u))
    return _where(u >= 0, 1 / (1 + e), e / (1 + e)), _where(u >= 0, e / (1 + e), 1 / (1 + e))


def _clamp(x: sp.Expr, bound) -> sp.Expr:
    """x limited to ±bound: the argument of rounding-error atoms, which must not overflow."""
    return sp.Min(sp.Max(x, -bound), bound)


#: The clamp of x in the rounding error ul of βx (SiLU, softplus): 2^100, which float32 holds, and beyond which
#: βx is past where e^(βx) matters for any β ≥ 10^-27. At 1000 it was wrong from |x| = 1000 on while |βx| < 810
#: still counts for β < 0.81: SiLU with β = 0.3 at x = −2400 was 480 ULP off.
PRODUCT_BOUND = sp.Float(2.0**100)


def _product_low(b: sp.Expr, x: sp.Expr) -> sp.Expr:
    """βx − fl(fl(β)·x) for a parameter β: the product's rounding, and the part of β its double misses (lo(β), 0
    for a β such as 1 or 109/64), whose product with x is as large: the truth is the function of β as given,
    1.702 = 851/500, and softplus at x ≈ −400 was 136 ULP off without it (float64)."""
    xc = _clamp(x, PRODUCT_BOUND)
    return prod_err(b, xc) + lo(b) * xc


def _float_sigmoid_pair(u: sp.Expr):
    """For float code: e = e^(−|u|) (the float exp of :class:`symact.rounding.exp_float`), σ(u) and σ(−u),
    each one division of a selected numerator, 1 or e, by 1 + e. Each inherits e's error times at most
    1/(1 + e), the rounding of 1 + e and of the division: at most 2.40 ULP over every finite float32 for
    sigmoid, where the first-order compensation of 1 + e and of 1/(1 + e) it replaces cost a third of the
    loop's time (2.82 → 1.91 ms per 10^7 in cache, at 1.48 ULP)."""
    e = exp_float(-sp.Abs(u), 0)
    return e, ratio(_where(u >= 0, 1, e), 1 + e), ratio(_where(u >= 0, e, 1), 1 + e)


def _one_division(cases: list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Boolean]]) -> sp.Expr:
    """Piecewise N/D·k from (N, D, k, condition) cases, as one division of selected N by selected D.

    Vector code evaluates every case for every element; selecting numerator and denominator first makes
    the cases share one division, the costly operation, instead of paying one each.
    """
    pick = [sp.Piecewise(*((case[i], case[3]) for case in cases)) for i in range(3)]
    return ratio(pick[0], pick[1]) * pick[2]


def _over_square_compensated(e_num: sp.Expr, cases: list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Boolean]]) -> sp.Expr:
    """Piecewise E·G/(1 + e)²·k from the factor E and (G, e, k, condition) cases (0 ≤ e ≤ 1), with one
    division and the roundings of E·G, of 1 + e, of its square and of the division carried to first order,
    so that the quotient rounds about once instead of four times: N = E·G + N_lo, 1 + e = s + s_lo (fast
    two-sum) and D = s² + D_lo; then q = N/D and q + (N − q·D + N_lo − q·D_lo)/D, N − q·D exact in one fma.
    For GELU-tanh's f', the plain quotient measured up to 2.8 ULP with e and G each rounded once."""
    g_, b_, k_ = (sp.Piecewise(*((case[i], case[3]) for case in cases)) for i in range(3))
    n, n_lo = held(e_num * g_), prod_err(e_num, g_)
    s = held(1 + b_)
    d, d_lo = held(s * s), prod_err(s, s) + 2 * s * fast_sum_err(1, b_)
    q = ratio(n, d)
    return (q + ratio(fma(-q, d, n) + n_lo - q * d_lo, d)) * k_


def _over_square(cases: list[tuple[sp.Expr, sp.Expr, sp.Expr, sp.Boolean]]) -> sp.Expr:
    """Piecewise N/(1 + e)²·k from (N, e, k, condition) cases, with one division (as _one_division).

    (1 + e)² is formed as fma(e, e + 2, 1), which rounds about once: squaring a rounded 1 + e would double
    its rounding, and the square itself would round again.
    """
    num, base, k = (sp.Piecewise(*((case[i], case[3]) for case in cases)) for i in range(3))
    return ratio(num, fma(base, base + 2, 1)) * k


#: exp(−64): tails scale e^u by e^64 where it would be subnormal while the result is not.
SCALE = lit(sp.exp(-64))


def _shift(tail: sp.Boolean) -> sp.Expr:
    """64 in the tail, else 0: added to an exponent, so the exp is one call (held, or SymPy would turn e²
    into a second exp). Where the tail has u < 0, −|u| + 64 is u + 64, rounded the same way. C prints it
    as 64·(condition), not as a choice between two exponents, which gcc turns into two exp calls."""
    return sp.Piecewise((64, tail), (0, True))


def _x_sigmoid(x: sp.Expr, xz: sp.Expr, u: sp.Expr, ul: sp.Expr, folded: bool = False):
    """x·σ(u + ul) with one exp and one division, for SiLU and GELU-tanh: (tail, e, eᵘ in the tail, f).

    e is e^(−|u|), except where u < −600: there e^u is subnormal but x·σ(u) is not, and e is e^(u + 64),
    exactly. e^(u + ul) = eᵘ·(1 + ul) to first order; ``folded``: for u < 0, e is e^(u + ul) itself, ul
    carried in the reduction of :class:`exp_fma`, where it costs one addition instead of a product per use.
    ``xz`` stands for x in its products with e: x read as 0 where e is exactly 0 (:class:`vanishing`), so that
    at ±inf they are 0, not 0·∞.
    """
    tail = u < -600
    if folded:
        e = held(exp_fma(-sp.Abs(u) + _shift(tail), _where(u < 0, ul, 0)))
        xe = xz * e
    else:
        e = held(sp.exp(-sp.Abs(u) + _shift(tail)))
        xe = xz * e + xz * e * ul
    et = SCALE * e
    f = _one_division([(xe, 1 + et, SCALE, tail), (xe, 1 + e, 1, u < 0), (x, 1 + e, 1, True)])
    return tail, e, et, f


#: The variables in which _near_root takes G.
_U, _V = sp.Symbol("u", real=True), sp.Symbol("V", positive=True)


@dataclass(frozen=True)
class _Recentered:
    """G re-expanded about a double r next to its root, valid for |t − r| < radius (see _near_root)."""

    expr: sp.Expr
    root: sp.Rational
    radius: tuple[float, float]  # valid for −radius[0] < t − r < radius[1]
    far: sp.Expr | None = None  # the same expansion with m from a computed exp, outside that window

    def window(self, t: sp.Expr) -> sp.Boolean:
        d = held(t - lit(self.root))
        return (d > -self.radius[0]) & (d < self.radius[1])


def _near_root(
    g: sp.Expr,
    exponent: sp.Expr,
    guess: float,
    t: sp.Expr,
    t_lo: sp.Expr,
    radius: float | tuple[float, float],
    computed_exp: sp.Expr | None = None,
) -> _Recentered:
    """G(t), a polynomial in u and V = exp(p(u)) for a polynomial p, rewritten about a double r next to its root.

    With d = t − r, exact in floating point for |d| ≤ |r|/2 (Sterbenz), and m = expm1(p(r + d) − p(r)):

        G(r + d) = G(r) + Σ c_jk·dʲ·mᵏ

    is an identity (V = exp(p(r))·(1 + m)). G(r) is a tiny constant computed at 60 digits, and the other
    terms are formed from d and m with full relative accuracy, so the cancellation of G near its root
    happens in exact arithmetic instead of in rounded terms. ``t_lo`` is the low part of t, if t is rounded.
    In the window −radius < d < radius, m's argument is small and expm1 a short polynomial
    (:class:`expm1_small`). Away from the root, ``computed_exp`` (the kernel's value of V) gives
    m = (V − K)/K: the far expansion, whose terms keep one sign on each side of the root.
    """
    u, v, d, m = _U, _V, sp.Symbol("d"), sp.Symbol("m")
    with mpmath.workdps(60):
        root = mpmath.findroot(sp.lambdify(u, g.subs(v, sp.exp(exponent)), "mpmath"), guess)
    r = sp.Rational(float(root))  # a double: t − r is exact
    below, above = radius if isinstance(radius, tuple) else (radius, radius)
    if not max(below, above) <= abs(r) / 2:
        raise ValueError("the window must lie where t − r is exact")
    k = sp.exp(exponent.subs(u, r))  # V at the root
    poly = sp.Poly(sp.expand(g.subs({v: k * (1 + m), u: r + d})), d, m)
    increment = sp.Poly(sp.expand(exponent.subs(u, r + d) - exponent.subs(u, r)), d)
    dd = held(held(t - lit(r)) + t_lo)  # t − r first

    def expansion(w, per_w):
        """Σ c_ij·dⁱ·mʲ with m = w/per_w, as d·Q(d) + R: Q the terms in d alone, R = G(r) plus the terms in w,
        each in Horner form (a sum of monomials, dⁱ formed apart and added one by one, rounds up to ~2 ULP
        of G more), so that the result rounds once in the last fused multiply-add."""

        def in_d(j, start):  # Σ_i c_ij/per_wʲ·d^(i − start), i ≥ start, in Horner form
            cs = [poly.coeff_monomial(d**i * m**j) / per_w**j for i in range(start, poly.degree(d) + 1)]
            while len(cs) > 1 and cs[-1] == 0:
                cs.pop()
            return horner([lit(c) for c in cs], dd)

        rest = sp.Integer(0)
        for j in range(poly.degree(m), 0, -1):  # R − G(r) = w·(P_1(d) + w·(P_2(d) + …)), P_j in Horner form
            rest = w * (in_d(j, 0) + rest)
        return fma(dd, in_d(0, 1), held(rest + lit(poly.coeff_monomial(1))))

    steps = [lit(increment.coeff_monomial(d**i)) for i in range(1, increment.degree() + 1)]
    small = expm1_small(dd * horner(steps, dd), _largest(increment, max(below, above)))
    # far from the root, m·K = V − K itself, with one rounding (w = V − K, each term c_ij·mʲ as c_ij/Kʲ·wʲ)
    far = None if computed_exp is None else expansion(held(computed_exp - lit(k)), k)
    return _Recentered(expansion(small, 1), r, (below, above), far)


def _largest(q: sp.Poly, radius: float) -> float:
    """An upper bound of |q(d)| for |d| ≤ radius: q's terms in absolute value, at 30 digits, rounded up."""
    total = sum(abs(sp.N(c, 30)) * sp.Float(radius, 30) ** k for (k,), c in q.terms())
    return float(total) * (1 + 1e-12)


def _sigmoid(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    s, _ = _sigmoid_pair(x)
    e = sp.exp(-sp.Abs(x))  # σ' = σ(x)·σ(−x) = e/(1 + e)², the square by one fma (see _over_square)
    # float32 data: σ(x)·σ(−x) from σ's one division, and the short exp. σ and σ' inherit at most the exp's
    # relative error (e/(1 + e) and (1 − e)/(1 + e) times it), so 2^-29 costs under 2^-5 of a float ULP
    short = _sigmoid_pair(x, lambda t: exp_f32_short(t, 1))
    # float32 computed in float: σ by one division (_float_sigmoid_pair), σ' = e/(1 + e)² as above, which
    # inherits e's error times |1 − e|/(1 + e): at most 2.40 and 2.38 ULP over every finite float32
    ef, sf, _ = _float_sigmoid_pair(x)
    in_float = (sf, ratio(ef, fma(ef, ef + 2, 1)))
    return StableForm(s, ratio(e, fma(e, e + 2, 1)), single=(short[0], short[0] * short[1]), float32=in_float)


def _tanh(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    m = expm1(-2 * sp.Abs(x))  # e^(−2|x|) − 1, exact near 0
    # 1 + m would round to 0 for |x| ≳ 19; e^(−2|x|) itself stays accurate down to the underflow
    e = sp.exp(-2 * sp.Abs(x))
    # tanh' = 4e/(1 + e)², the square formed as fma(e, e + 2, 1): (2 + m)² rounded 2 + m, then squared
    df = 4 * ratio(e, fma(e, e + 2, 1))
    # float32 data: one division for f and f', as the rounding no longer matters, and the short exp and
    # expm1: f inherits at most twice expm1's relative error (2/(2 + m) times it), f' e's plus twice m's
    ms, es = expm1_f32_short(-2 * sp.Abs(x), 1), exp_f32_short(-2 * sp.Abs(x), 1)
    r = held(1 / (2 + ms))
    # float32 computed in float: tanh|x| = −m/(2 + m) and tanh' = 4e/(1 + e)², one division each; 4e as one
    # exp scaled by 2^2, which stays accurate where e alone is subnormal (there (1 + e)² is 1 either way). At
    # most 2.50 and 2.38 ULP over every finite float32: carrying the roundings of 2 + m and of the division
    # to first order took a quarter of the loop's time (3.16 → 2.37 ms per 10^7 in cache)
    mf, e4 = expm1_float(-2 * sp.Abs(x), 0), exp_float(-2 * sp.Abs(x), 2)
    ef = e4 / 4
    in_float = (signed(-ratio(mf, 2 + mf), x), ratio(e4, fma(ef, ef + 2, 1)))
    size = -m / (2 + m)  # tanh|x|
    # C, float64: given x's sign by copysign, not multiplied by sign(x); exp and expm1 without the low part of
    # their reduction (exp_short), which f (at most twice m's error) and f' (e's) do not amplify
    mc, ec = expm1_short(-2 * sp.Abs(x)), exp_short(-2 * sp.Abs(x))
    fused = StableForm(signed(-mc / (2 + mc), x), 4 * ratio(ec, fma(ec, ec + 2, 1)))
    return StableForm(
        signed(size, x),  # tanh(±0) = ±0 on every backend (sign(x)·size is +0 at −0)
        df,
        single=(signed(-ms * r, x), 4 * es * r**2),
        float32=in_float,
        fused=fused,
    )


def _softplus(fn: Fn) -> StableForm:
    x, b = fn.inputs[0], fn.param("beta")
    u = b * x
    # βx = u + ul (ul = 0 for β = 1), whose error moves softplus(u) by ul·σ(u) and σ(u) by ul·σ(u)·σ(−u), to
    # first order: where softplus(u) ≈ σ(u) ≈ eᵘ, |u|/2 ULP without it (500 ULP at β = 109/64, x ≈ −430)
    ul = _product_low(b, x)
    s, sn = _sigmoid_pair(u)
    # float32 computed in float: log1p of the float exp (log1p_float), and σ as sigmoid's float form
    e, sf, snf = _float_sigmoid_pair(u)
    in_float = ((sp.Max(u, 0) + log1p_float(e) + ul * sf) / b, sf + sf * snf * ul)
    f = (sp.Max(u, 0) + log1p(sp.exp(-sp.Abs(u))) + ul * s) / b
    return StableForm(f, s + s * sn * ul, float32=in_float)


def _log_sigmoid(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    _, sn = _sigmoid_pair(x)
    e, _, snf = _float_sigmoid_pair(x)  # float32 computed in float, as softplus's
    in_float = (sp.Min(x, 0) - log1p_float(e), snf)
    return StableForm(sp.Min(x, 0) - log1p(sp.exp(-sp.Abs(x))), sn, float32=in_float)


def _softsign(fn: Fn) -> StableForm:
    """f' = 1/(1 + |x|)² with the rounding of t = 1 + |x| carried: (1 + |x|)² = t² + 2t·e to first order (e = 1 + |x|
    − t, exact: sum_err), one fused multiply-add rounding once, where 1/(t·t) rounded t's error twice, the
    square and the quotient: 3.43 ULP (float32) and 3.31 (float64) on the accuracy protocol. 2t·e is read as 0
    beyond |x| = 2^60 (vanishing), where it no longer matters and at ±inf would be NaN. For the C and
    numba kernels (fused, float32); NumPy keeps the plain quotient, which has no fused multiply-add."""
    x = fn.inputs[0]
    a = sp.Abs(x)
    t = held(1 + a)
    carried = ratio(1, fma(t, t, vanishing(2 * t * sum_err(1, a), a, sp.Float(2.0**60))))
    f = x / (1 + a)
    return StableForm(f, (1 + a) ** -2, fused=StableForm(f, carried), float32=(f, carried))


#: |u| beyond which SiLU's e (e^(−|u|), or e^(u + 64) in the tail) is exactly 0 in float64: e^(−745.2) rounds
#: to 0, and the tail's exponent u + 64 is below −746 there.
SILU_VANISH = 810


def _silu(fn: Fn) -> StableForm:
    x, b = fn.inputs[0], fn.param("beta")
    u, ul = b * x, _product_low(b, x)  # βx = u + ul (ul = 0 for β = 1)
    # x and u as factors of e read as 0 beyond |u| = SILU_VANISH (vanishing), where e is exactly 0: at ±inf
    # their products are then 0, not 0·∞ = NaN, and the loop gives the limits without a pass of guards
    # (10^7 float64 points, 2 threads, AMD EPYC Zen 4: 15.4 → 13.3 ms)
    xz, uz = vanishing(x, u, SILU_VANISH), vanishing(u, u, SILU_VANISH)
    tail, e, et, f = _x_sigmoid(x, xz, u, ul)
    # For u < 0, f' = eᵘ·G/(1 + eᵘ)² with G = 1 + u + eᵘ (1 + u exact there); G has its root at u ≈ −1.28,
    # where it is re-expanded about the root. e^(u + ul) = eᵘ·(1 + ul) to first order.
    g = _near_root(1 + _U + _V, _U, -1.28, u, ul, 0.15)
    # Elsewhere e^(βx)·G(βx) = e·(1 + ul)·(1 + u + ul + e·(1 + ul)) = e·(G + ul + (G + e)·ul) to first order,
    # G = (1 + u) + e: 1 + u is exact where G cancels (Sterbenz), its sum with e is carried by two-sum, and the
    # terms in ul join the low part, so G rounds once. Rounded as 1 + u + ul first, G was off by up to 2.2 ULP
    # next to the window: f' 4.65 ULP at β = 1.703125.
    one_u = held(1 + uz)
    hi = held(one_u + e)
    gt, gl = one_u + et, hi + held(sum_err(one_u, e) + ul + (hi + e) * ul)
    df = _over_square(
        [
            (e * gt + e * gt * ul, et, SCALE, tail),
            (e * g.expr + e * g.expr * ul, e, 1, g.window(u)),
            (e * gl, e, 1, u < 0),
            (1 + e + uz * e, e, 1, True),  # σ(u)·(1 + u·σ(−u)) with e = e^(−u)
        ]
    )
    s, sn = _sigmoid_pair(u)
    fused = _silu_fused(x, u, ul, xz, uz)
    return StableForm(f, df, single=(x * s, s + u * s * sn), float32=_silu_float(x, u, ul), fused=fused)


#: The root window of SiLU's float64 C and numba form, |u − r| < SILU_WINDOW (r the double next to the root
#: of f'): there u − r is exact (Sterbenz: |u − r| ≤ |r|/2), and the exp's reduction of u − r has k = 0
#: (|u − r| < ln 2/2), so that one call gives expm1(u − r).
SILU_WINDOW = 0.3


@functools.cache
def _silu_root() -> sp.Rational:
    """The double next to the root of G(u) = 1 + u + eᵘ, the factor of SiLU' that vanishes (u ≈ −1.2785)."""
    with mpmath.workdps(60):
        return sp.Rational(float(mpmath.findroot(lambda v: 1 + v + mpmath.exp(v), -1.28)))


def _silu_fused(x: sp.Expr, u: sp.Expr, ul: sp.Expr, xz: sp.Expr, uz: sp.Expr) -> StableForm:
    """SiLU for the float64 C and numba kernels, from one :class:`exp_tail`, with f and f' as in :func:`_silu`
    (for u < 0, f' = eᵘ·G/(1 + eᵘ)², G = 1 + u + eᵘ) but neither a shifted exponent nor a root polynomial:

    - the exp gives e = 2^64·e^(−|u|) where |u| > 708, and f and f' for u < −708 are scaled by 2^-64, exactly:
      a product where the form with the shift had a choice in every case of f and f';
    - in the root window the same call gives Q = expm1(d), d = u − r (exact), and then eᵘ = C·(1 + Q) and
      G = G(r) + d + C·Q with C = eʳ: an identity, whose terms have one sign, so G's cancellation happens in
      exact arithmetic, without a polynomial of its own. C's own rounding (up to 0.7 ULP of eᵘ) is carried
      as C_lo·(1 + Q) into the product eᵘ·G: f' at most 3.35 ULP off on 1.2·10^6 random points of the window;
      without it, 3.58 on 3·10^5.

    ul (βx − u) enters the exp's reduction. 10^7 points, 2 threads, AMD EPYC Zen 4, f + f' through the
    kernel: C 12.7 → 10.8 ms, numba 15.3 → 12.9 ms (of the C loop's 12.7, the root polynomial took 3.5)."""
    r = _silu_root()
    big = lit(2**64)  # exact
    d = held(u - lit(r))  # exact in the window
    window = sp.Abs(d) < SILU_WINDOW
    raw = exp_tail(_where(window, d, -sp.Abs(u)), _where(u < 0, ul, -ul), _where(window, 1, 0))
    c, c_lo = lit(sp.exp(r)), lo(sp.exp(r))
    e_window, e_window_lo = fma(c, raw, c), fma(c_lo, raw, c_lo)  # eᵘ = C·(1 + Q) in the window, as hi + lo
    e = _where(window, e_window, raw)  # e^(−|u|), times 2^64 where |u| > 708
    scale = _where(sp.Abs(u) > 708, 1 / big, 1)
    big_e = held(scale * e)  # e^(−|u|) itself
    out = _where(u < -708, 1 / big, 1)  # 2^-64 where the numerators carry e's 2^64
    f = ratio(_where(u < 0, xz * e, x), 1 + big_e) * out
    g_window = fma(c, raw, held(held(d + ul) + lit(1 + r + sp.exp(r))))
    numerator = sp.Piecewise(
        (fma(e_window, g_window, e_window_lo * g_window), window),
        (e * (big_e + held(held(1 + uz) + ul)), u < 0),  # 1 + βx: with ul, where G cancels (β ≠ 1)
        (fma(uz, big_e, 1 + big_e), True),
    )
    return StableForm(f, ratio(numerator, fma(big_e, big_e + 2, 1)) * out)


#: SiLU' near its root u ≈ −1.2785 in float32 computed in float: the window about the float r next to the
#: root, |u − r| < 0.05, and the degree of f''s Taylor polynomial there (silu_near_root_bound). G rounds once
#: next to the root (see _silu_float), so the window is narrow: with G from a rounded E it had to be
#: (−0.33, 0.45), degree 11. Symmetric, so that the test is one comparison of |u − r|.
SILU_FLOAT_RADIUS, SILU_FLOAT_DEGREE = 0.05, 5
SILU_FLOAT_WINDOW = (-SILU_FLOAT_RADIUS, SILU_FLOAT_RADIUS)


@functools.cache
def _silu_near_root() -> tuple[sp.Rational, tuple[sp.Float, ...]]:
    """The float r next to the root of SiLU'(u) = σ(u)·(1 + u·σ(−u)) and the Taylor coefficients
    f^(k+1)(r)/k!, k = 0..SILU_FLOAT_DEGREE, at 40 digits (f(u) = u·σ(u))."""
    u = _U
    with mpmath.workdps(60):
        slope = sp.lambdify(u, sp.diff(u * sigmoid(u), u), "mpmath")
        root = mpmath.findroot(slope, -1.28)
        r = sp.Rational(float(np.float32(float(root))))
        coefficients = mpmath.taylor(slope, mpmath.mpf(r.p) / r.q, SILU_FLOAT_DEGREE)
    return r, tuple(sp.Float(c, 40) for c in coefficients)


def _sigmoid_derivative_polynomials(n: int) -> list[sp.Poly]:
    """P_0..P_n in s with σ^(k) = P_k(σ): P_0 = s, and σ' = σ(1 − σ) gives P_(k+1) = P_k'(s)·s(1 − s)."""
    s = sp.Symbol("s")
    polys = [sp.Poly(s, s)]
    for _ in range(n):
        polys.append(polys[-1].diff(s) * sp.Poly(s * (1 - s), s))
    return polys


def silu_near_root_bound(pieces: int = 200, degree: int | None = None) -> float:
    """A proved bound on |R(u)/f'(u)| on SILU_FLOAT_WINDOW, R the remainder of f''s Taylor polynomial of
    degree n about r (f = u·σ(u); by default SILU_FLOAT_DEGREE): :func:`_taylor_remainder_bound` with
    f^(k) = u·σ^(k) + k·σ^(k−1) and σ^(k) = P_k(σ) (σ is increasing: σ of a piece is [σ(a), σ(b)]), each P_k in
    mean-value form (its alternating coefficients make plain Horner overestimate 25-fold).
    """
    root, _ = _silu_near_root()
    n = SILU_FLOAT_DEGREE if degree is None else degree
    ps = _sigmoid_derivative_polynomials(n + 2)
    coefficient_lists = [[[sp.Rational(c) for c in q.all_coeffs()] for q in (p, p.diff())] for p in ps]
    iv = mpmath.iv

    def poly(k, s):  # P_k on the interval s, in mean-value form: P(m) + P'(s)·(s − m), far tighter than Horner
        m = iv.mpf(s.mid)
        return _horner_iv(coefficient_lists[k][0], m) + _horner_iv(coefficient_lists[k][1], s) * (s - m)

    def derivative(k, u, s):  # f^(k)(u), k ≥ 1
        return u * poly(k, s) + k * poly(k - 1, s)

    def enclose(u):
        s = 1 / (1 + iv.exp(-u))
        return derivative(n + 2, u, s), derivative(2, u, s)

    window = (root + sp.Rational(SILU_FLOAT_WINDOW[0]), root + sp.Rational(SILU_FLOAT_WINDOW[1]))
    return _taylor_remainder_bound(window, root, n, pieces, enclose)


class silu_slope_f32(_Atom):  # noqa: N801
    """SiLU'(r + d) = σ(u)·(1 + u·σ(−u)), u = r + d, on SILU_FLOAT_WINDOW about the float r next to its root,
    as the Taylor polynomial of degree SILU_FLOAT_DEGREE in d (float literals), for forms computed in float.
    Its relative error is proved ≤ TARGET (:func:`silu_near_root_bound`), a quarter of a float ULP. Exact
    reading: SiLU'(r + d). Machine reading: the polynomial, in one Horner chain of fused multiply-adds."""

    nargs = 1
    TARGET = 2.0**-26

    def exact_reading(self) -> sp.Expr:
        root, _ = _silu_near_root()
        u = root + self.args[0]
        return sigmoid(u) * (1 + u * sigmoid(-u))

    def machine_reading(self) -> sp.Expr:
        _, coefficients = _silu_near_root()
        return horner([lit(c) for c in coefficients], self.args[0])


def _silu_float(x: sp.Expr, u: sp.Expr, ul: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """SiLU for float32 data computed in float, with one division each for f and f'.

    e^(−|u|) comes in two parts, 2^24·e^(−|u|) = s·(1 + p) (:class:`exp_float_scale`, :class:`exp_float_frac`),
    and E = e^(−|u|) = 2^-24·fma(s, p, s):

    - u ≥ 0: f = x/(1 + E), f' = (1 + E + u·E)/(1 + E)², terms of one sign;
    - u < 0: f = s'·x·(1 + p)/(1 + E), f' = s'·G·(1 + p)/(1 + E)² with s' = 2^-24·s and G = 1 + u + E (1 + u
      exact there): x·(1 + p) and G·(1 + p) are one fused multiply-add each and s' is a power of two, so e^u is
      never rounded in them. G itself is (1 + u + s') + s'·p, one rounding next to its root, and there, for
      |u − r| < 0.05 (SILU_FLOAT_WINDOW), f' is its Taylor polynomial (:class:`silu_slope_f32`), where even one
      rounding of p would be amplified.

    (1 + E)² is fma(E, E + 2, 1) (:func:`_over_square`). The exp carries the scale 2^24, as e^x is subnormal
    below −87.3 while x·e^x is normal down to x ≈ −92, and s' returns it in the numerators. Against the compensated form
    it replaces (1/(1 + E) as hi + lo, and G re-expanded about its root), measured over every finite float32
    against the float64 kernel: f at most 2.67 ULP, f' 3.57 (at x = −0.5385); 10^7 points, 2 threads, AMD EPYC
    Zen 4: 5.6 → 4.4 ms. G rounding once narrowed the window from (−0.33, 0.45) to ±0.05 and the polynomial from
    degree 11 to 5: f' within 3.58 ULP (at −0.8439, over 0.3 ≤ |x| < 3 and the ranges about it), 4.36 → 3.95 ms.
    """
    t = -sp.Abs(u)
    s, p = exp_float_scale(t, 24), exp_float_frac(t, 24)
    # E = s'·(1 + p) with s' = 2^-24·s, a power of two exact down to 2^-149: one rounding, as 2^-24·fma(s, p, s)
    # where E is normal (scaling by 2^-24 commutes with it), and E only adds to 1 where it is not. One product
    # fewer: 10^7 points, 2 threads, in cache, AMD EPYC Zen 4: 3.18 → 3.05 ms
    sc = s * sp.Rational(1, 2**24)
    e = fma(sc, p, sc)
    # x and u as factors of s, which is exactly 0 beyond |u| = 103.97 (the exp's threshold): read as 0 there
    # (vanishing), so that ±inf gives the limits without a pass of guards
    beyond = sp.Float(-exp_float.threshold(24))
    xz, uz = vanishing(x, u, beyond), vanishing(u, u, beyond)
    # s' = 2^-24·s = e^(−|u|)/(1 + p), exact where it is normal; it scales the u < 0 numerators before the
    # division rather than the quotients after it: the same values wherever the result is normal (a power of 2
    # commutes with rounding), and only a result below the numerator in magnitude is subnormal, where the
    # target is an absolute error below the least normal. 10^7 points: 3.95 → 3.55 ms, two products and a
    # choice fewer
    f = _one_division([(sc * fma(xz, p, xz), 1 + e, 1, u < 0), (x, 1 + e, 1, True)])
    # G = (1 + u + s') + s'·p: near the root, where E ≈ −(1 + u) and s' = E/(1 + p) lies within a factor 2 of
    # |1 + u|, the first sum is exact (Sterbenz) and G rounds once, in the fma, instead of carrying E's
    # rounding into its cancellation
    g = fma(sc, p, held(held(1 + uz) + sc))
    d = held(held(u - lit(_silu_near_root()[0])) + ul)  # u − r, exact in the window (Sterbenz)
    df = _where(
        sp.Abs(d) < SILU_FLOAT_RADIUS,
        silu_slope_f32(d),
        _over_square([(sc * fma(p, g, g), e, 1, u < 0), (fma(uz, e, 1 + e), e, 1, True)]),
    )
    return f, df


def _elu_like(scale: Callable[[Fn], sp.Expr], alpha: Callable[[Fn], sp.Expr], inner: Callable[[Fn], sp.Expr]):
    """scale·(x for x > 0, α·expm1(min(x, 0)/k) otherwise), with derivative.

    Where k is not a power of two (CELU: k = α), t = min(x, 0)/k rounds, and e^t, the derivative, would
    inherit |t|/2 ULP of it (760 ULP at α = 77/256, x ≈ −230): so e^(t + t_lo) = e^t·(1 + t_lo) to first
    order, t_lo the quotient's rounding (:class:`quot_err`), read as 0 where e^t is (|t| > 750), so that at
    −inf it is 0, not ∞ − ∞. expm1(t) needs no such care: its relative error is at most t's.
    """

    def build(fn: Fn) -> StableForm:
        x = fn.inputs[0]
        lam, a, k = scale(fn), alpha(fn), inner(fn)
        m = sp.Min(x, 0)
        neg = m / k
        slope = a / k * sp.exp(neg)
        slope = slope + slope * vanishing(_quotient_low(m, k), neg, 750)
        df = lam * _where(x > 0, 1, slope)
        # expm1(t) ≤ 0 given x's sign: the kernels' expm1 gives +0 at −0, and f(−0) is then −0, as f is beside 0
        # (a > 0) and on the other backends (a choice x < 0 instead made float64 ELU 6.2 → 9.4 ms, 10^7 points)
        f = lam * _where(x > 0, x, a * signed(-expm1(neg), x))
        return StableForm(f, df, float32=_elu_float(fn, x, lam, a, k))

    return build


def _quotient_low(m: sp.Expr, k: sp.Expr) -> sp.Expr:
    """m/k − fl(m/fl(k)) to first order: the quotient's rounding, and m/k − m/fl(k) = −(m/k)·lo(k)/fl(k), from
    the part of k its double misses (0 for a k such as 1 or 77/256). CELU with α = 1.1 had f' 410 ULP off at
    x ≈ −766 without it (float64)."""
    return quot_err(m, k) - m / k * lo(k) / k


#: Where λ·x's low part multiplies x, x is clamped to this (float32 holds it), so that at +inf it is finite.
ELU_PRODUCT_BOUND = sp.Float(2.0**127)


def _elu_float(fn: Fn, x: sp.Expr, lam: sp.Expr, a: sp.Expr, k: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """ELU, SELU and CELU for float32 data computed in float, with the float exp and expm1 of one reduction
    (:class:`symact.rounding.exp_float`) instead of libmvec's expf and expm1f: 10^7 points, 2 threads, in
    cache (AMD EPYC Zen 4), ELU 3.89 → 1.50 ms and SELU 4.21 → 2.03; over every finite float32, ELU within
    0.93 / 1.02 ULP instead of libmvec's 2.35 / 2.64, SELU 1.94 / 1.82 (scripts/exhaustive_float32.py).

    f' = c·e^t for x ≤ 0, c = λα/k: where c > 1, e^t is subnormal while c·e^t is still normal (SELU: c = 1.76,
    at x < −87.3), so the exp carries a scale 2^j ≥ c and the coefficient is c·2^-j, one product rounding
    once. j depends on the bound parameter values. None (the C backend then tries the generic form in float,
    on libmvec) where |c| > 2^24, the largest scale the float exp takes, or where t = min(x, 0)/k is not
    known to be ≤ 0.

    λ·x (SELU) is fma(λ_hi, x, λ_lo·x): with λ rounded to float, one float x (3.2386221·10^38) gave +inf
    where λ·x rounds to the largest float32.
    """
    m = sp.Min(x, 0)
    t = m / k
    c = fn.bind(sp.S.One * lam * a / k)  # a SymPy expression even where all three are Python ints
    if not (c.is_number and fn.bind(t).is_nonpositive) or abs(c) > 2**24:
        return None
    j = max(0, int(mpmath.ceil(mpmath.log(abs(sp.N(c, 30)), 2)))) if c != 0 else 0
    scaled = lit(lam * a / k / 2**j) * exp_float(t, j)
    beyond = sp.Float(-exp_float.threshold(j))  # where the exp is exactly 0, t's rounding is read as 0 too
    # e^(t + t_lo) = e^t·(1 + t_lo), t_lo the quotient's rounding, as in the float64 form; none where the bound
    # k is a power of two (ELU, SELU, CELU with α = 1), where t is exact
    exact_t = _quotient_low(m, fn.bind(sp.S.One * k)) == 0
    slope = scaled if exact_t else fma(scaled, vanishing(_quotient_low(m, k), t, beyond), scaled)
    lam_x = x if lam == 1 else fma(lit(lam), x, lo(lam) * sp.Min(x, ELU_PRODUCT_BOUND))
    f = _where(x > 0, lam_x, lit(lam * a) * signed(-expm1_float(t, 0), x))  # ±0 at ±0, as in float64
    return f, _where(x > 0, lam, slope)


#: GELU' = Φ(x) + x·φ(x) near its root x ≈ −0.7518: the window and the degree of its Taylor polynomial.
GELU_WINDOW, GELU_DEGREE = (-1.3, -0.45), 25


def _gelu_derivative_polynomials(n: int) -> list[sp.Poly]:
    """Q_0..Q_n with GELU^(k+2)(x) = φ(x)·Q_k(x): GELU'' = φ·(2 − x²), and (φ·Q)' = φ·(Q' − x·Q)."""
    x = _U
    polys = [sp.Poly(2 - x**2, x)]
    for _ in range(n):
        q = polys[-1]
        polys.append(q.diff(x) - sp.Poly(x, x) * q)
    return polys


@functools.lru_cache(maxsize=4)
def _gelu_near_root(degree: int | None = None) -> tuple[sp.Rational, tuple[sp.Float, ...]]:
    """A double r next to the root of GELU' and the Taylor coefficients f^(k+1)(r)/k!, k = 0..n, at 40 digits
    (n = ``degree``, by default GELU_DEGREE)."""
    degree = GELU_DEGREE if degree is None else degree
    with mpmath.workdps(60):
        rr = mpmath.mpf(-mills_root())  # f' = φ·(M(−x) + x) for x < 0: its root is minus that of M(a) = a
        r = sp.Rational(-mills_root())
        qs = _gelu_derivative_polynomials(degree - 1)
        coefficients = [mpmath.ncdf(rr) + rr * mpmath.npdf(rr)]  # f'(r) itself: tiny, r being a double
        for k in range(1, degree + 1):
            coefficients.append(mpmath.npdf(rr) * mpmath.mpf(sp.N(qs[k - 1](r), 60)) / mpmath.factorial(k))
        return r, tuple(sp.Float(c, 40) for c in coefficients)


def _horner_iv(coefficients: list[sp.Rational], t):
    """The polynomial with these exact coefficients (highest first) on the mpmath interval t, by Horner."""
    return taylor._horner_iv([mpmath.iv.mpf(c.p) / c.q for c in reversed(coefficients)], t)


def _taylor_remainder_bound(
    window: tuple[float, float], root: sp.Rational, n: int, pieces: int, enclose: Callable
) -> float:
    """A proved bound on |R(x)/f'(x)| on ``window`` (floats or Rationals, taken exactly), R the remainder of
    f''s Taylor polynomial of degree n about the double (or float) r next to the root of f'.

    Taylor: R(x) = f^(n+2)(ξ)/(n+1)!·(x − r)^(n+1). Mean value theorem about the true root r*:
    |f'(x)| = f''(η)·|x − r*| ≥ m·|x − r*|, m = min f'' > 0 on the window, and |x − r| ≤ 2|x − r*| for every
    double x ≠ r (r is the one nearest r*). So |R/f'| ≤ 2·M·δⁿ/((n+1)!·m) with M = max|f^(n+2)| and
    δ = max|x − r|. ``enclose(t)`` gives intervals holding f^(n+2) and f'' on the interval t; the window is cut
    into ``pieces`` of them, in mpmath's interval arithmetic, so the bound is rigorous.
    """
    iv = mpmath.iv

    def exact(v):  # a float or a Rational, as an interval holding it exactly
        v = sp.Rational(v)
        return iv.mpf(v.p) / v.q

    with mpmath.workdps(40):
        iv.dps = 40
        lo, hi = exact(window[0]), exact(window[1])
        big, small = iv.mpf(0), iv.mpf("inf")
        for j in range(pieces):
            t = iv.mpf([(lo + (hi - lo) * j / pieces).a, (lo + (hi - lo) * (j + 1) / pieces).b])
            high, second = enclose(t)
            big = iv.mpf(max(big.b, abs(high).b))  # upper ends: M from above
            small = iv.mpf(min(small.a, second.a))  # lower ends: m from below
        if small.a <= 0:
            return float("inf")
        r = exact(root)
        delta = iv.mpf(max(abs(lo - r).b, abs(hi - r).b))
        return float((2 * big * delta**n / (iv.factorial(n + 1) * small)).b)


def gelu_near_root_bound(
    pieces: int = 400, window: tuple[float, float] | None = None, degree: int | None = None
) -> float:
    """A proved bound on |R(x)/f'(x)| on the GELU window, R the Taylor remainder of degree n about r
    (by default GELU_WINDOW and GELU_DEGREE): :func:`_taylor_remainder_bound` with GELU^(n+2) = φ·Q_n and
    GELU'' = φ·(2 − x²).
    """
    window = GELU_WINDOW if window is None else window
    root, coefficients = _gelu_near_root(degree)
    n = len(coefficients) - 1
    q = _gelu_derivative_polynomials(n)[n]
    coeffs = [sp.Rational(c) for c in q.all_coeffs()]
    iv = mpmath.iv

    def enclose(t):
        phi = iv.exp(-t * t / 2) / iv.sqrt(2 * iv.pi)
        return phi * _horner_iv(coeffs, t), phi * (2 - t * t)

    return _taylor_remainder_bound(window, root, n, pieces, enclose)


#: The root window of the float64 C kernel (:func:`_gelu_fused`): its Φ has an error of ~1 ULP, not erfc's ~2,
#: so f' = Φ + x·φ can be computed up to where Φ/|f'| reaches 2.3 (x = −0.5), and the window is narrower.
GELU_FUSED_WINDOW, GELU_FUSED_DEGREE = (-1.0, -0.5), 18


def gelu_fused_near_root_bound() -> float:
    """:func:`gelu_near_root_bound` on the float64 C kernel's window."""
    return gelu_near_root_bound(window=GELU_FUSED_WINDOW, degree=GELU_FUSED_DEGREE)


#: Where GELU's tail series takes over, and its number of terms. Left of −36.6, f and f' are below 2^53
#: times the smallest normal number, so their rounding corrections would be subnormal, and XLA on a CPU
#: flushes those to zero; from −35 on, the tail computes them at the scale e^64.
GELU_TAIL, GELU_TAIL_TERMS = -35, 8


def _gelu_tail_series(inverse_x: sp.Expr) -> sp.Expr:
    """S(x) = Σ_{k<N} (−1)^k·(2k − 1)!!/x^(2k), with Φ(x) = φ(x)·S(x)/|x| + R for x < 0 (DLMF 7.12.1)."""
    terms = [sp.Integer((-1) ** k * sp.factorial2(2 * k - 1)) for k in range(GELU_TAIL_TERMS)]
    return horner([lit(t) for t in terms], inverse_x * inverse_x)


def gelu_tail_bound() -> float:
    """A proved bound on the relative error of Φ(x) ≈ φ(x)·S(x)/|x| for x < GELU_TAIL.

    For real z > 0, the remainder of erfc's asymptotic series is at most the first
    omitted term in magnitude (DLMF 7.12(ii)); with z² = x²/2 that term, relative to
    the sum S ≥ 1 − 1/x², is (2N − 1)!!/x^(2N)/(1 − 1/x²), largest at x = GELU_TAIL.
    f' = Φ + x·φ inherits at most this relative error, Φ being 1/x² of it.
    """
    x2 = sp.Rational(GELU_TAIL) ** 2
    return float(sp.factorial2(2 * GELU_TAIL_TERMS - 1) / x2**GELU_TAIL_TERMS / (1 - 1 / x2))


#: |x| beyond which GELU's float32 values are the limits' (computed in double): |x·Φ(x)| and |Φ(x) + x·φ(x)|
#: are below 2^-150 for x < −15, so they round to ±0, and x·φ(x) and Φ(−x) are below 2^-100 of the 1 they
#: are added to for x > 15.
GELU_SINGLE_VANISH = 15


def _gelu(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    xc = _clamp(x, 40)  # beyond ±40 the corrections multiply 0
    u, ul = lit(1 / sp.sqrt(2)) * x, prod_err(lit(1 / sp.sqrt(2)), xc) + lo(1 / sp.sqrt(2)) * xc  # x/√2 = u + ul
    # Below GELU_TAIL, e^(−x²/2) is subnormal, or nearly, where f and f' are not: carried as e^(−x²/2 + 64).
    # x² = fl(x·x) + prod_err(x, x), and the 64 is added exactly.
    tail = x < GELU_TAIL
    e = sp.exp(-(x**2) / 2 + _shift(tail))
    # erfc(−u − ul) to first order: d erfc(z)/dz = −2e^(−z²)/√π; the rounding of x/√2 alone would cost
    # ~x² ULP in the negative tail
    c = erfc(-u) + 2 / sp.sqrt(sp.pi) * sp.Piecewise((SCALE * e, tail), (e, True)) * ul
    # x·φ(x) as hi + lo: x·e and its product with 1/√(2π) carried exactly (fma), so only exp rounds. Left of
    # the root window (x ≈ −2) f' = Φ + x·φ cancels, |x·φ/f'| ≈ 1.4, and the products' roundings cost ~1 ULP.
    k = 1 / sp.sqrt(2 * sp.pi)
    xe = held(x * e)
    hi = lit(k) * xe
    xphi_lo = prod_err(lit(k), xe) + lit(k) * prod_err(xc, e) + lo(k) * xe - hi * prod_err(xc, xc) / 2
    half = c / 2
    f = x * half
    df = sp.Piecewise(
        (half + SCALE * held(hi + xphi_lo), tail), (held(half + hi) + held(sum_err(half, hi) + xphi_lo), True)
    )
    root, coefficients = _gelu_near_root()
    near_root = Approximation(
        *GELU_WINDOW, None, horner([lit(c) for c in coefficients], held(x - lit(root))), 2.0**-60, gelu_near_root_bound
    )
    # In the tail, erfc(−x/√2) is subnormal, or nearly, while x·erfc(−x/√2)/2 is not: Φ(x) = φ(x)·S(x)/|x|
    # with the asymptotic series S (gelu_tail_bound), one division for 1/x
    inverse_x = ratio(1, x)
    series = _gelu_tail_series(inverse_x)
    # φ(x)·e^(−64) as e·(1 − x²_lo/2)·(e^(−64)/√(2π)): one fma and one constant, where φ's two products and the
    # scale's would round four times (with the series' own, up to 4.5 ULP at x ≈ −36 in NumPy). The constant
    # comes last: φ(x)·e^(−64) alone is subnormal left of −37.5, where f and f' are not yet
    e_lo = held(fma(e, -prod_err(xc, xc) / 2, e))
    k_scale = lit(SCALE.args[0] / sp.sqrt(2 * sp.pi))
    tail_f, tail_df = -held(e_lo * series) * k_scale, held(e_lo * held(x - series * inverse_x)) * k_scale
    tail = Approximation(-sp.oo, GELU_TAIL, tail_f, tail_df, 2.0**-60, gelu_tail_bound)
    # float32 data: Φ from the Mills ratio, Φ(x) = φ(x)·M(−x) for x < 0 and 1 − φ(x)·M(x) for x ≥ 0, where M is
    # one small rational function about the root of f' = φ·(M − a), x < 0 (symact.mills, bound proved): an exp
    # and a division instead of erfc and an exp, and M − a without cancellation
    a, phi_ = sp.Abs(x), exp_f32_short(-(x**2) / 2, 1) / sp.sqrt(2 * sp.pi)  # 2^-29 suffices: nothing cancels
    # x and a as factors of φ read as 0 beyond |x| = GELU_SINGLE_VANISH (vanishing), where every product with φ
    # rounds to ±0 in float32 or vanishes against the 1 it is added to: at ±inf they are then 0, not 0·∞ or
    # P(∞)/Q(∞) = NaN, and the loop gives the limits without a pass of guards (10^7 points: 9.2 → 8.3 ms)
    xz, az = vanishing(x, x, GELU_SINGLE_VANISH), vanishing(a, x, GELU_SINGLE_VANISH)
    q = phi_ * mills_single(az)  # Φ(−|x|)
    single = (_where(x < 0, xz * q, x * (1 - q)), _where(x < 0, phi_ * mills_single_gap(az), 1 - q + xz * phi_))
    return StableForm(f, df, (tail, near_root), single=single, fused=_gelu_fused(x))


def _gelu_fused(x: sp.Symbol) -> StableForm:
    """GELU for float64 C: Φ from the Mills ratio and an exp accurate to half an ULP, all in fused
    multiply-adds, instead of erfc and the tail series: faster, and as accurate.

    Φ(−|x|) = φ(x)·M(|x|) with φ = k·e^(−x²/2), k = 1/√(2π): the exponent carries x² as hi + lo
    (:class:`exp_fma`), e·M(|x|) comes as hi + lo (:class:`symact.mills.mills_scaled`), and so do k·(e·M)
    and k·x·e. Then Φ(x) = Φ(−|x|) for x < 0 and 1 − Φ(−|x|) otherwise (a fast two-sum: Φ(−|x|) ≤ 1/2),
    f = x·Φ and f' = Φ + x·φ, each summed with its low parts. Left of GELU_TAIL, e is scaled by e^64
    (f' there is normal while e is not). Near the root of f', a Taylor polynomial, as in the erfc form.
    """
    a, xc = sp.Abs(x), _clamp(x, 40)
    tail = x < GELU_TAIL
    e = exp_fma(-(x**2) / 2 + _shift(tail), -prod_err(xc, xc) / 2)  # e^(−x²/2), or e^(−x²/2 + 64)
    k = 1 / sp.sqrt(2 * sp.pi)
    q, q_lo = mills_scaled(a, e), mills_scaled_lo(a, e)
    small = held(lit(k) * q)  # Φ(−|x|), and its low part
    small_lo = prod_err(lit(k), q) + lit(k) * q_lo + lo(k) * q
    big = held(1 - small)
    phi_hi = _where(x < 0, small, big)  # Φ(x) = phi_hi + phi_lo
    phi_lo = _where(x < 0, small_lo, fast_sum_err(1, -small) - small_lo)
    # x as a factor of e read as 0 beyond |x| = 40 (vanishing), where e is exactly 0, and, as the factor of Φ's
    # high part, below −40, where that is 0: at ±inf the products are then 0, not 0·∞ = NaN, and the loop
    # gives the limits without a pass of guards (10^7 points, 2 threads, AMD EPYC Zen 4: 24.8 → 23.3 ms)
    xz, xn = vanishing(x, x, 40), vanishing(x, sp.Min(x, 0), 40)
    kx = held(lit(k) * xz)  # x itself (but where it is read as 0): the exact reading must be x·φ(x) for every x
    xphi = held(kx * e)  # x·φ(x) = xphi + xphi_lo
    xphi_lo = prod_err(kx, e) + (prod_err(lit(k), xc) + lo(k) * xc) * e
    scale = sp.Piecewise((SCALE, tail), (1, True))
    # the low parts summed first (held: SymPy would flatten the sums, and C add the high part first)
    # at x = ±0, x/2: the low parts are +0 there, and would make f(−0) = −0 + 0 = +0 (−0 on the other backends)
    f = _where(sp.Eq(x, 0), x / 2, scale * held(xn * phi_hi + held(prod_err(xc, phi_hi) + xz * phi_lo)))
    df = scale * held(held(phi_hi + xphi) + held(phi_lo + xphi_lo))
    root, coefficients = _gelu_near_root(GELU_FUSED_DEGREE)
    near_root = Approximation(
        *GELU_FUSED_WINDOW,
        None,
        horner2([lit(c) for c in coefficients], held(x - lit(root))),
        2.0**-60,
        gelu_fused_near_root_bound,
    )
    return StableForm(f, df, (near_root,))


def _gelu_tanh(fn: Fn) -> StableForm:
    from .catalog.activations import GELU_C

    x = fn.inputs[0]
    xc = _clamp(x, 25)  # beyond ±25, σ(u) is 0 or 1 and the corrections multiply 0
    a, b = 2 * sp.sqrt(2 / sp.pi), 2 * sp.sqrt(2 / sp.pi) * GELU_C  # 1 + tanh(u/2) = 2σ(u), u = ax + bx³
    cube_lo = prod_err(xc**2, xc) + prod_err(xc, xc) * xc  # x³ = fl(fl(x·x)·x) + cube_lo
    p1, p2 = lit(a) * x, lit(b) * x**3
    u = p1 + p2
    ul = (
        sum_err(lit(a) * xc, lit(b) * xc**3)
        + prod_err(lit(a), xc)
        + lo(a) * xc
        + prod_err(lit(b), xc**3)
        + lo(b) * xc**3
        + lit(b) * cube_lo
    )
    du = a + 3 * b * x**2
    # 1 + x·u'(x) = 1 + p1 + 3·p2 from the products already formed for u, with their rounding errors added:
    # about one rounding where a + 3b·x² and its product with x would give three, amplified by the cancellation
    # of 1 + x·u' (|x·u'/(1 + x·u')| ≈ 1.8 at x = −1.2)
    p1_err = prod_err(lit(a), xc) + lo(a) * xc
    p2_err = prod_err(lit(b), xc**3) + lo(b) * xc**3 + lit(b) * cube_lo
    # 1 + x·u' and x·u' read as 0 beyond |x| = 25 (vanishing), where the e^(−|u|) they multiply is exactly 0
    # (|u| > 1154): they overflow from |x| ≈ 10^103 on, and inf·0 would make f' NaN where it is 0 or 1
    one_x_du = vanishing(held(held(1 + p1) + 3 * held(p2)) + held(p1_err + 3 * p2_err), x, 25)
    xz = vanishing(x, x, 25)  # x itself as a factor of e or σ(u) for u < 0, read as 0 there too

    def build(folded: bool) -> tuple[sp.Expr, sp.Expr]:
        # For u < 0, f' = eᵘ·G/(1 + eᵘ)² with G = 1 + eᵘ + x·u'(x); G has its root at x ≈ −0.75, where it is
        # re-expanded about the root. e^(u + ul) = eᵘ·(1 + ul) to first order, or e^(u + ul) itself (folded)
        # x as e's factor in f read as 0 beyond |x| = 25 (xz): at −inf, x·e is then 0, not ∞·0, and the loop gives
        # the limits without a pass of guards (float64 C, 10^7 points, 2 threads, AMD EPYC Zen 4: 28.8 → 27.3 ms)
        tail, e, et, f = _x_sigmoid(x, xz, u, ul, folded)
        corr = (lambda t: t) if folded else (lambda t: t + t * ul)  # the factor 1 + ul of e^(u + ul)
        g = _near_root(1 + _V + _U * (a + 3 * b * _U**2), a * _U + b * _U**3, -0.75, x, 0, 0.2, corr(e))
        gt, gl = held(one_x_du) + et, held(one_x_du) + e
        df = _over_square_compensated(
            _where(u < 0, e, 1),
            [
                (corr(gt), et, SCALE, tail),
                (g.expr, e, 1, g.window(x)),  # G from x alone: exact
                # about the root, G's terms in x cancel and the far expansion's do not; right of r/2, where
                # x − r would round, nothing cancels (1 + x·u' > 0.38 there)
                (corr(g.far), e, 1, (x > lit(g.root) - 0.9) & (x < lit(g.root / 2))),
                (corr(gl), e, 1, u < 0),
                (1 + e + vanishing(x * du, x, 25) * e, e, 1, True),  # σ(u)·(1 + x·u'·σ(−u)), e = e^(−u)
            ],
        )
        return f, df

    # float32 data, computed in double: u from the constants themselves (so that −|u| ≤ 0 is known, and its
    # exp skips the upper clamp), and x read as 0 beyond |x| = 25 where it multiplies σ(u) for u < 0 or the
    # correction x·u'·σ(u)·σ(−u): both are 0 in float there, and at ±inf the loop then gives the limits
    # without a pass of guards, instead of ∞·0
    us = a * x + b * x**3
    s, sn = _sigmoid_pair(us)
    single = (_where(us >= 0, x, xz) * s, s + xz * (a + 3 * b * xz**2) * s * sn)
    # float64 C and numba: e^(u + ul) from exp_fma (build(True)); NumPy has no such exp
    return StableForm(*build(False), single=single, fused=StableForm(*build(True)))


def _mish(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    tail = x < -600  # where eˣ is subnormal but x·tanh(softplus(x)) is not: eˣ carried as e^(x + 64), exactly
    e = held(sp.exp(-sp.Abs(x) + _shift(tail)))
    # tanh(softplus(x)) = (e²ˣ + 2eˣ)/(e²ˣ + 2eˣ + 2). For x ≥ 0, in w = e^(−x): t = (1 + 2w)/P with
    # P = 1 + 2w + 2w², and f' = t + x·σ(x)·(1 − t²) = ((1 + 2w)·P + 4x·w²·(1 + w))/P².
    # For x < 0, in v = eˣ: t = v(v + 2)/Q with Q = v² + 2v + 2, and f' = v·G/Q² with
    # G = (v + 2)·Q + 4x(1 + v) = 4(1 + x) + 2v(3 + 2x) + v²(4 + v) (1 + x and 3 + 2x exact), whose root
    # at x ≈ −1.19 is re-expanded about the root.
    g = _near_root((_V + 2) * (_V**2 + 2 * _V + 2) + 4 * _U * (1 + _V), _U, -1.19, x, 0, 0.5)
    p = 1 + 2 * e + 2 * e**2
    vt = SCALE * e  # eˣ in the tail

    def q(v):  # fused: one rounding fewer in the denominator
        return fma(v, v + 2, 2)

    # x read as 0 beyond 1000 (vanishing), where e (the tail's e^(x + 64)) is exactly 0: 3 + 2x is −inf below
    # −8.9·10^307, and 0·inf would make f' NaN where it is 0; likewise x·e at −inf, so the loop gives the
    # limits without a pass of guards (10^7 points, 2 threads, AMD EPYC Zen 4: 24.2 → 22.5 ms)
    xl = vanishing(x, x, 1000)

    def left(v):
        return fma(v**2, 4 + v, fma(2 * v, held(3 + 2 * xl), 4 * held(1 + xl)))

    f = _one_division(
        [
            (xl * e * (vt + 2), q(vt), SCALE, tail),
            (xl * e * (e + 2), q(e), 1, x < 0),
            (x * (1 + 2 * e), p, 1, True),
        ]
    )

    def q2(v):  # Q² = v⁴ + 4v³ + 8v² + 8v + 4 by Horner: positive terms, about one rounding, where squaring
        return horner([4, 8, 8, 4, 1], v)  # a rounded Q would double its rounding and add one

    def p2(w):  # P² = 1 + 4w + 8w² + 8w³ + 4w⁴, likewise
        return horner([1, 4, 8, 8, 4], w)

    # For x > 1/2, f' is near 1 (0.998 at x = 0.79, where a result below 1 has half the ULP) and the quotient's
    # roundings cost up to 4.4 ULP. There f' = 1 − c with c = 2w²·H/P², H = P − 2x(1 + w) = (1 − 2x) + 2w(1 + w − x)
    # (N = P² − 2w²·H): c ≤ 0.15 and H's roundings weigh 2w²/P² ≤ 0.05 of an ULP of 1, so f' rounds about once.
    # c shares the one division with the other cases (its denominator is P² too). x is read as 0 beyond 40
    # (vanishing), where c < 2^-100 either way and 1 − 2x would be −inf at x ≳ 9e307, against w² = 0.
    xz = vanishing(x, x, 40)
    h = fma(2 * e, 1 + e - xz, 1 - 2 * xz)
    near_one = x > sp.Rational(1, 2)
    q_df = _one_division(
        [
            (e * left(vt), q2(vt), SCALE, tail),
            (e * g.expr, q2(e), 1, g.window(x)),
            (e * left(e), q2(e), 1, x < 0),
            (-2 * e**2 * h, p2(e), 1, near_one),
            ((1 + 2 * e) * p + 4 * x * e**2 * (1 + e), p2(e), 1, True),
        ]
    )
    df = _where(near_one, 1 + q_df, q_df)
    # float32 data: t = tanh(softplus(x)) = N/Q, 1 − t = M/Q and σ(x) = S/(1 + w) in w = e^(−|x|) (held: w², not
    # a second exp), all from one division r = 1/(Q·(1 + w)); in double, its roundings are far below a float ULP
    w = held(sp.exp(-sp.Abs(x)))
    pos = x > 0
    n, m, big_q, s = (
        _where(pos, a, b)
        for a, b in ((1 + 2 * w, w * (w + 2)), (2 * w**2, 2), (1 + 2 * w + 2 * w**2, w * (w + 2) + 2), (1, w))
    )
    r = ratio(1, big_q * (1 + w))
    t, one_minus_t, sx = n * (1 + w) * r, m * (1 + w) * r, s * big_q * r
    # Not here: x read as 0 far out (as in the float64 form) so that the loop needs no guards for ±inf. It
    # measured 13.4 → 13.5 ms (10^7 points): the two choices it adds cost what the guards' pass saves.
    return StableForm(f, df, single=(x * t, t + x * sx * one_minus_t * (1 + t)))


STABLE: dict[str, Callable[[Fn], StableForm]] = {
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "softplus": _softplus,
    "log_sigmoid": _log_sigmoid,
    "silu": _silu,
    "elu": _elu_like(lambda fn: 1, lambda fn: fn.param("alpha"), lambda fn: 1),
    "selu": _elu_like(lambda fn: fn.param("lamda"), lambda fn: fn.param("alpha"), lambda fn: 1),
    "celu": _elu_like(lambda fn: 1, lambda fn: fn.param("alpha"), lambda fn: fn.param("alpha")),
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "mish": _mish,
    "softsign": _softsign,
}


def _logistic(base: sp.Expr) -> sp.Expr | None:
    """a, where ``base`` is 1 + e^a; else None."""
    if isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args:
        other = base.args[0] if base.args[1] == 1 else base.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _absorb_exp(expr: sp.Expr) -> sp.Expr:
    """In a product, e^a·σ(−a)^k → σ(a)·σ(−a)^(k−1), as often as it applies (e^a/(1 + e^a) = σ(a))."""
    if not isinstance(expr, sp.Mul):
        return expr
    factors = list(expr.args)
    for i, e in enumerate(factors):
        if not isinstance(e, sp.exp):
            continue
        for j, s in enumerate(factors):
            base, k = s.as_base_exp()
            if isinstance(base, sigmoid) and k.is_Integer and k > 0 and sp.expand(base.args[0] + e.args[0]) == 0:
                factors[i], factors[j] = sigmoid(e.args[0]), base ** (k - 1)
                return _absorb_exp(sp.Mul(*factors))
    return expr


def recognize_atoms(expr: sp.Expr) -> sp.Expr:
    """The logistic function and softplus where ``expr`` writes them with exp, as a user's definition may:
    1/(1 + e^a)^k → σ(−a)^k, log(1 + e^a) and log1p(e^a) → softplus(a), log cosh a → :func:`_log_cosh_of`, then
    e^a·σ(−a)^k → σ(a)·σ(−a)^(k−1), and the complements of :func:`_complement` (1 − σ(a) → σ(−a), ...). Each is
    an identity; with :func:`stabilize_atoms` after it, log(1 + exp(x)) at x = 800 is 800 with derivative 1,
    not inf and inf/inf = NaN. First tanh written with exp (:func:`_hyperbolic`) and 1 ± erf(u) as erfc(∓u)
    (:func:`_erf_complement`)."""
    expr = _hyperbolic(expr)
    # log1p(e^a), as written to be careful, is softplus(a) too: it overflowed from a = 710 like log(1 + e^a)
    expr = expr.replace(
        lambda e: isinstance(e, log1p) and isinstance(e.args[0], sp.exp), lambda e: softplus(e.args[0].args[0])
    )
    expr = expr.replace(lambda e: _erf_complement(e) is not None, _erf_complement)
    expr = expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp < 0 and _logistic(e.base) is not None,
        lambda e: sigmoid(-_logistic(e.base)) ** (-e.exp),
    )
    expr = expr.replace(
        lambda e: isinstance(e, sp.log) and _logistic(e.args[0]) is not None,
        lambda e: softplus(_logistic(e.args[0])),
    )
    expr = expr.replace(lambda e: _scaled_log_cosh(e) is not None, _scaled_log_cosh)
    expr = expr.replace(lambda e: isinstance(e, sp.Mul), _absorb_exp)
    # softplus(a) − a = softplus(−a): the difference was 0 from a = 37 on, where softplus(−a) is e^(−a)
    expr = expr.replace(lambda e: _softplus_less_argument(e) is not None, _softplus_less_argument)
    # the libm's functions for the sums that cancel near 0: c·eᵃ − c, c·cosh a − c (and log(1 + u), last)
    expr = expr.replace(lambda e: _less_one(e) is not None, _less_one)
    # 2·tanh − 2·tanh³ (tanh²'s derivative, as tidy writes it) → 2·tanh·(1 − tanh)·(1 + tanh): each factor
    # one of the complements below, where the sum was 0 from |x| = 19 on
    expr = expr.replace(lambda e: _tanh_factored(e) is not None, _tanh_factored)
    # 1 − σ(a) → σ(−a): σ's derived derivative σ(1 − σ) is 0 at x = 40, where σ(−x) is not
    expr = expr.replace(lambda e: _complement(e) is not None, _complement)
    expr = expr.replace(lambda e: _sigmoid_difference(e) is not None, _sigmoid_difference)
    # c − c·u² → c·(1 − u)(1 + u), each factor exact where the difference cancels (atanh′ = 1/(1 − x²) at |x| ≈ 1),
    # and a polynomial with rational roots as the product of its factors (x⁴ − 2x² + 1 as (x − 1)²(x + 1)²)
    expr = expr.replace(lambda e: _difference_of_squares(e) is not None, _difference_of_squares)
    expr = expr.replace(lambda e: _factored_polynomial(e) is not None, _factored_polynomial)
    # log σ(a) = −softplus(−a): as σ's form, log of 0 = −inf from a = −745 on, where it is a
    expr = expr.replace(lambda e: _log_of_sigmoids(e) is not None, _log_of_sigmoids)
    # after the complements, which take log(1 − σ(a)) and log(1 + tanh a) better
    return expr.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.Add) and sp.S.One in e.args[0].args,
        lambda e: log1p(e.args[0] - 1),
    )


def _log_near_one(e: sp.Expr) -> sp.Expr | None:
    """log A for a sum A of one variable that is 1 at 0 (other than 1 + u, which recognize_atoms takes) →
    log1p(A − 1) on the interval about 0 where |A − 1| < 1/2 (:func:`_near_one`), A − 1 with its numbers summed
    and its c·eᵃ − c as expm1: log A cancels to nothing near 0 (asinh written as log(x + √(x² + 1)) was 10⁸ ULP
    off at x = 10⁻⁸, log(2 − e^(−x²)) 9·10¹⁵). Elsewhere log A, which is accurate where A is far from 1, and
    where A is tiny A − 1 would lose it. Else None."""
    if not (isinstance(e, sp.log) and isinstance(e.args[0], sp.Add) and len(e.free_symbols) == 1):
        return None
    a = e.args[0]
    (x,) = e.free_symbols
    if sp.S.One in a.args or a.subs(x, 0) != 1:
        return None
    near = _near_one(a, x)
    if near is None:
        return None
    less = (a - 1).replace(lambda t: _less_one(t) is not None, _less_one)
    return _where(near, log1p(less), e)


def _near_one(a: sp.Expr, x: sp.Symbol) -> sp.Boolean | None:
    """lo < x < hi, both rational, on which |a − 1| < 1/2 at every point of a scan out from 0 (steps of 1/8 of
    the distance), a side unbounded where that holds out to 10⁴; None where a is not a real number there."""
    f = sp.lambdify(x, a, "mpmath")
    ends = []
    for side in (-1, 1):
        s, end = 1e-3, None
        while s <= 1e4:
            try:
                value = f(mpmath.mpf(side * s))
            except (ZeroDivisionError, ValueError, OverflowError):
                return None
            if not isinstance(value, mpmath.mpf):
                return None
            if abs(value - 1) >= 0.5:
                end = side * s / 1.125  # the last point of the scan inside
                break
            s *= 1.125
        ends.append(end)
    lo, hi = (None if v is None else sp.Rational(v).limit_denominator(10**6) for v in ends)
    if lo is None and hi is None:
        return sp.true
    if lo is None:
        return x < hi
    return x > lo if hi is None else (x > lo) & (x < hi)


def _difference_of_squares(e: sp.Expr) -> sp.Expr | None:
    """c − c·u² → c·(1 − u)·(1 + u) for a number c ≠ 0 and u free of tanh (1 − tanh² is the complements'),
    else None. Near |u| = 1 the difference cancels, 1 − u and 1 + u do not (1/(1 − x²): 4.5 → 2.0 ULP)."""
    if not (isinstance(e, sp.Add) and len(e.args) == 2):
        return None
    for one, other in (e.args, e.args[::-1]):
        c, rest = other.as_coeff_Mul()
        base, k = rest.as_base_exp()
        if one.is_number and one != 0 and c == -one and k == 2 and base.free_symbols and not base.has(sp.tanh):
            return one * (1 - base) * (1 + base)
    return None


def _factored_polynomial(e: sp.Expr) -> sp.Expr | None:
    """A sum that is a polynomial of degree 2 or more in one variable, with rational coefficients, as the product of
    its factors over the rationals where it has any; else None. Expanded, it cancels near its real roots (the
    derived derivative of x/(1 − x²) has x⁴ − 2x² + 1 below: 3.6·10³ ULP at x = −1.008); factors do not."""
    if not isinstance(e, sp.Add) or len(e.free_symbols) != 1:
        return None
    (x,) = e.free_symbols
    if not e.is_polynomial(x) or sp.degree(e, x) < 2 or not all(c.is_Rational for c in sp.Poly(e, x).coeffs()):
        return None
    factored = sp.factor(e)
    return factored if isinstance(factored, (sp.Mul, sp.Pow)) and factored != e else None


def _log_of_sigmoids(e: sp.Expr) -> sp.Expr | None:
    """log(c·σ(a)ᵏ···) → log c − k·softplus(−a) − ···, for a number c > 0 and integers k (log(1 − σ(x)), that is
    log σ(−x), and log(1 + tanh x) = log 2σ(2x) were −inf far out, where they are −x and 2x + log 2); else None."""
    if not isinstance(e, sp.log):
        return None
    c, terms = sp.S.One, []
    for factor in sp.Mul.make_args(e.args[0]):
        base, k = factor.as_base_exp()
        if factor.is_number and factor.is_positive:
            c *= factor
        elif isinstance(base, sigmoid) and k.is_Integer:
            terms.append(-k * softplus(-base.args[0]))
        else:
            return None
    return sp.log(c) + sp.Add(*terms) if terms else None


def _scaled_log_cosh(e: sp.Expr) -> sp.Expr | None:
    """log(c·cosh a) → log c + :func:`_log_cosh_of` (a), for a number c > 0 (log(2cosh x) was inf from |x| = 710
    on, where cosh overflows); else None."""
    if not isinstance(e, sp.log):
        return None
    c, rest = e.args[0].as_coeff_Mul()
    return sp.log(c) + _log_cosh_of(rest.args[0]) if isinstance(rest, sp.cosh) and c.is_positive else None


def _paired(e: sp.Expr, pair: Callable[[sp.Expr, sp.Expr], list[tuple[sp.Expr, sp.Expr]]]) -> sp.Expr | None:
    """A sum with one of its terms c·X and a partner term that ``pair(c, X)`` names, both replaced by what it
    gives: ``pair(c, X)`` lists the (partner, replacement) X can have, the first partner in the sum taken. None
    where no term has one."""
    if not isinstance(e, sp.Add):
        return None
    for term in e.args:
        for partner, replacement in pair(*term.as_coeff_Mul()):
            if partner in e.args and partner is not term:
                others = list(e.args)
                others.remove(term)
                others.remove(partner)
                return sp.Add(replacement, *others)
    return None


def _softplus_less_argument(e: sp.Expr) -> sp.Expr | None:
    """c·softplus(a) − c·a among the terms of a sum → c·softplus(−a), else None."""

    def pair(c, rest):
        return [(sp.expand(-c * rest.args[0]), c * softplus(-rest.args[0]))] if isinstance(rest, softplus) else []

    return _paired(e, pair)


def _less_one(e: sp.Expr) -> sp.Expr | None:
    """c·eᵃ − c → c·expm1(a), c·cosh a − c → 2c·sinh²(a/2), c − c·cos a → 2c·sin²(a/2) and c + c·cos a →
    2c·cos²(a/2) among the terms of a sum, for a number c; else None. As written they cancel where a is near 0
    (cos: near every multiple of 2π; c + c·cos a near every odd multiple of π): eˣ − 1 was 7·10⁷ ULP off at
    x = 10⁻⁸, 1 − e^(−x²) 10¹⁵, 1 − cos x 4·10⁹ at x = −2π, and 1 + cos x, the slope of x + sin x, 9·10⁵ ULP."""

    def pair(c, rest):
        if isinstance(rest, sp.exp):
            return [(-c, c * expm1(rest.args[0]))]
        if isinstance(rest, sp.cosh):
            return [(-c, 2 * c * sp.sinh(rest.args[0] / 2) ** 2)]
        if isinstance(rest, sp.cos):
            return [(-c, -2 * c * sp.sin(rest.args[0] / 2) ** 2), (c, 2 * c * sp.cos(rest.args[0] / 2) ** 2)]
        return []

    return _paired(e, pair)


#: Below this |u|, the rounding v_lo of u + c·π that :func:`_trig_carried` carries to first order is below 2^-27,
#: and the first order's own error, v_lo²/2, below 2^-55: c ± c·sin a is 2c·sin²(a/2 ± π/4) only for |a/2| under
#: it, and as written beyond (:func:`_sine_from_one`), where the rounding of a/2 ± π/4 would cost more than it saves.
QUARTER_REACH = 2**26


def _sine_from_one(e: sp.Expr) -> sp.Expr | None:
    """c ± c·sin a among the terms of a sum → 2c·sin²(a/2 ± π/4) for |a| < 2·QUARTER_REACH, as written beyond; else
    None. As written it cancels at its double roots, where sin a = ∓1: 1 + sin 2x, the slope of Snake (x + sin²x),
    was 5·10⁵ ULP off there. The sum a/2 ± π/4 rounds, and near a root sin(fl(a/2 + π/4)) is off by that rounding,
    absolutely: :func:`_trig_carried` carries it."""

    def pair(c, rest):
        if not isinstance(rest, sp.sin):
            return []
        a = rest.args[0]
        return [
            (
                s * c,
                _where(sp.Abs(a) < 2 * QUARTER_REACH, 2 * s * c * sp.sin(a / 2 + s * sp.pi / 4) ** 2, s * c + c * rest),
            )
            for s in (1, -1)
        ]

    return _paired(e, pair)


def _trig_argument(arg: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(v, v_lo) with arg = v + v_lo to first order, where ``arg`` is u + c·π (c a rational; v = fl(u + c·π), v_lo
    the sum's rounding by two-sum, c·π's low part and u's rounding where u is d·x or d·x², :func:`_carried`) or
    d·x or d·x² whose product rounds (:func:`_carried`); else None."""
    shifts = [t for t in sp.Add.make_args(arg) if t.is_number and (t / sp.pi).is_Rational]
    shift = shifts[0] if len(shifts) == 1 and (arg - shifts[0]).free_symbols else sp.S.Zero
    v0, v0_lo = _carried(arg - shift)
    if shift == 0:
        return None if v0_lo == 0 else (v0, v0_lo)
    return held(v0 + lit(shift)), sum_err(v0, lit(shift)) + lo(shift) + v0_lo


def _trig_carried(e: sp.Expr) -> sp.Expr:
    """sin and cos of an argument :func:`_trig_argument` takes apart, v + v_lo, with v_lo carried to first order:
    sin(v) + cos(v)·v_lo and cos(v) − sin(v)·v_lo. Near a root, sin(fl(w)) is off by w's rounding, absolutely:
    2·sin²(x + π/4), the slope of Snake (x + sin²x) as :func:`_sine_from_one` writes it, was 10³ ULP off with the
    sum rounded (1 + sin 2x, as derived, 5·10⁵), and the slope −3·cos 3x of 1 − sin 3x 4·10⁵ at x = −473.9.
    Exact reading: sin(w), cos(w)."""
    v, v_lo = _trig_argument(e.args[0])
    if isinstance(e, sp.sin):
        return sp.sin(v) + sp.cos(v) * v_lo
    return sp.cos(v) - sp.sin(v) * v_lo


def _sigmoid_difference(e: sp.Expr) -> sp.Expr | None:
    """c·σ(a) − c·σ(−a) → c·tanh(a/2), else None. The derivative of σ(a)σ(−a) has σ(−a) − σ(a) as a factor,
    which cancels near a = 0 (sech²'s derivative was 3·10⁷ ULP off at x = 10⁻⁸); tanh does not."""
    if not (isinstance(e, sp.Add) and len(e.args) == 2):
        return None
    (c, s), (d, t) = (term.as_coeff_Mul() for term in e.args)
    if isinstance(s, sigmoid) and isinstance(t, sigmoid) and d == -c and sp.expand(s.args[0] + t.args[0]) == 0:
        return c * sp.tanh(s.args[0] / 2)
    return None


def _hyperbolic(expr: sp.Expr) -> sp.Expr:
    """tanh where ``expr`` writes it with exp, (e^a − e^(−a))/(e^a + e^(−a)) or (1 − e^(−2a))/(1 + e^(−2a)), and
    sinh, (e^a − e^(−a))/2: SymPy's exptrigsimp, kept where it leaves no exp or cosh. As written tanh is
    inf/inf = NaN once e^a overflows (|x| > 710 in float64, 89 in float32), where it is ±1, and sinh cancels
    near 0 (4·10⁷ ULP at x = 10⁻⁸). Else ``expr`` as it is: exptrigsimp writes σ's
    e^x/(1 + e^x)² as 1/(4cosh²(x/2)), which the σ rewrites below take better."""
    if not expr.has(sp.exp) or expr.has(sp.tanh):
        return expr
    hyperbolic = sp.exptrigsimp(expr)
    if hyperbolic.has(sp.tanh, sp.sinh) and not hyperbolic.has(sp.exp, sp.cosh):
        return hyperbolic
    return expr


def _erf_complement(e: sp.Expr) -> sp.Expr | None:
    """c + c·erf(u) → c·erfc(−u) and −c + c·erf(u) → −c·erfc(u) among the terms of a sum, else None: GELU written
    with erf, x(1 + erf(x/√2))/2, and its derivative's 1/2 + erf(x/√2)/2. 1 + erf(u) cancels for u ≪ 0: f was 0
    from x ≈ −8.3 on (float64), where it is 10^-16 and below; erfc(−u) keeps it (:func:`stabilize_atoms` then
    carries u's rounding)."""
    if not isinstance(e, sp.Add):
        return None
    terms = list(e.args)
    for term in terms:
        c, rest = term.as_coeff_Mul()
        if not isinstance(rest, sp.erf):
            continue
        for sign in (1, -1):
            if sign * c in terms:
                others = [t for t in terms if t is not term]
                others.remove(sign * c)
                return sp.Add(sign * c * erfc(-sign * rest.args[0]), *others)
    return None


def _tanh_factored(e: sp.Expr) -> sp.Expr | None:
    """A sum that is a polynomial in one tanh(a), of degree 2 or more, with a root at tanh = ±1, factored: its
    factors 1 ± tanh(a) are then :func:`_complement`'s, which do not cancel as tanh(a) → ∓1. Else None."""
    if not isinstance(e, sp.Add) or len(atoms := e.atoms(sp.tanh)) != 1:
        return None
    (th,) = atoms
    t = sp.Dummy("t")
    p = e.xreplace({th: t})
    if th.args[0].free_symbols & p.free_symbols or not p.is_polynomial(t) or sp.degree(p, t) < 2:
        return None  # x·(1 − tanh²(x)) and the like are left to the complements
    if all(sp.expand(p.subs(t, r)) != 0 for r in (1, -1)):
        return None
    return sp.factor(p, t).xreplace({t: th})


def _complement(e: sp.Expr) -> sp.Expr | None:
    """w − w·σ(a) → w·σ(−a), w − 2w·σ(a) → −w·tanh(a/2) (tanh = 2σ(2x) − 1, 0 at x = 10⁻¹⁰ when written so),
    w − w·tanh²(a) → 4w·σ(2a)σ(−2a) (SymPy writes 2(1 − tanh²(2x)), the derivative of tanh(2x), as
    2 − 2tanh²(2x)), w/tanh²(a) − w → w/sinh²(a) (the slope of x/tanh x, x − x/tanh² x + 1/tanh x, was 41 ULP
    off at x = 16), and w ∓ w·tanh(a) → 2w·σ(∓2a) (1 + tanh(a) is 0 from a = −19 on, where it is 2σ(2a) =
    10⁻¹⁶ and below), among the terms of a sum (:func:`_paired`), w a number or any other factor the two share:
    x in the slope of x·tanh x, x + tanh x − x·tanh² x (16 ULP off at x = −9.4 as written, x − x·tanh² x
    cancelling). The pair is summed before the rest would be (the slope of tanh(x)/x, 1 − tanh² x − tanh(x)/x,
    over x: 580 ULP at x = 751 when summed from the left). Else None."""

    def pair(c, rest):
        options = []
        for factor in sp.Mul.make_args(rest):  # the term is w·factor
            w, (base, k) = c * rest / factor, factor.as_base_exp()
            if isinstance(base, sp.tanh) and k == 2:  # tanh' = 1 − tanh², 0 at x = 40
                a = base.args[0]
                options.append((-w, -w * 4 * sigmoid(2 * a) * sigmoid(-2 * a)))
            elif isinstance(base, sp.tanh) and k == -2:  # 1/tanh² − 1 = 1/sinh², tiny far out
                options.append((-w, w / sp.sinh(base.args[0]) ** 2))
            elif isinstance(base, sp.tanh) and k == 1:
                a = base.args[0]
                options += [(w, w * 2 * sigmoid(2 * a)), (-w, -w * 2 * sigmoid(-2 * a))]
            elif isinstance(factor, sigmoid):
                a = factor.args[0]
                options += [(-w, -w * sigmoid(-a)), (-w / 2, w / 2 * sp.tanh(a / 2))]
        return options

    return _paired(e, pair)


def _log_cosh_of(r: sp.Expr) -> sp.Expr:
    """log cosh r: log1p(expm1(|r|)²/(2e^|r|)) (that is cosh r − 1) near 0, and |r| + log1p(e^(−2|r|)) − log 2
    away from it, where cosh overflows (|r| > 710). The log_cosh loss and :func:`recognize_atoms` use it."""
    a = sp.Abs(r)
    return _where(a < 1, log1p(expm1(a) ** 2 / (2 * sp.exp(a))), a + log1p(sp.exp(-2 * a)) - sp.log(2))


def _monomial(arg: sp.Expr) -> tuple[sp.Expr, sp.Symbol, int] | None:
    """(c, x, k) where ``arg`` is c·x^k, c a plain number (no atom such as lit) and k 1 or 2; (c, |x|, 1) where it
    is c·|x|; else None."""
    if len(arg.free_symbols) != 1:
        return None
    (x,) = arg.free_symbols
    c, rest = arg.as_independent(x, as_Add=False)
    base, k = (rest, 1) if rest in (x, sp.Abs(x)) else (x, 2) if rest == x**2 else (x, 0)
    return (c, base, k) if k and c.is_number and not c.atoms(sp.Function) else None


def _erfc_carried(e: sp.Expr) -> sp.Expr:
    """erfc(κx), κ a constant other than a power of two (user GELU's −1/√2), with the rounding of κx carried to
    first order, as GELU's own form does: erfc(v + v_lo) ≈ erfc(v) − 2e^(−v²)/√π·v_lo, v = fl(κx). Without it
    erfc's relative error is about 2v² times v's: 400 ULP at x = −20. Exact reading: erfc(κx)."""
    monomial = _monomial(e.args[0])
    if monomial is None or monomial[2] != 1 or _power_of_two(monomial[0]):
        return e
    kappa, x, _ = monomial
    # x clamped where v = κx reaches ±30, beyond which e^(−v²) is 0: the error term is then 0, not 0·∞ at ±inf
    xc = _clamp(x, sp.Float(min(30 / abs(float(kappa)), 2.0**100)))
    v = lit(kappa) * x
    v_lo = prod_err(lit(kappa), xc) + lo(kappa) * xc
    return erfc(v) - 2 / sp.sqrt(sp.pi) * sp.exp(-(v**2)) * v_lo


#: The clamps of x in the rounding errors of :func:`_exp_carried`: its products x·x and c·x stay finite in float32.
CARRY_BOUND = {1: sp.Float(2.0**100), 2: sp.Float(2.0**60)}


def _carried(arg: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(v, v_lo) with arg = v + v_lo to first order, where arg is c·x, c·|x| or c·x², c a constant: v = fl(c·x) or
    fl(c·fl(x·x)), v_lo what their roundings lost (for c a power of two, only x·x's); (arg, 0) for any other arg."""
    monomial = _monomial(arg)
    if monomial is None or (monomial[2] == 1 and _power_of_two(monomial[0])):
        return arg, sp.S.Zero
    c, x, k = monomial
    xc = _clamp(x, CARRY_BOUND[k])
    if k == 1:
        return lit(c) * x, prod_err(lit(c), xc) + lo(c) * xc
    if _power_of_two(c):
        return c * held(x * x), c * prod_err(xc, xc)
    hc = held(xc * xc)
    return lit(c) * held(x * x), prod_err(lit(c), hc) + lo(c) * hc + lit(c) * prod_err(xc, xc)


def _exp_carried(e: sp.Expr) -> sp.Expr:
    """exp(c·x), exp(c·|x|) and exp(c·x²), c a constant, with the rounding of the argument carried to first order
    (:func:`_carried`): e^v·(1 + v_lo). As written, e^v is off by |v_lo| relatively, up to |v|/2 ULP: a user's
    GELU' was 140 ULP off at x = −24 from exp(−x²/2). Exact reading: exp(c·x^k). Else ``e`` itself."""
    v, v_lo = _carried(e.args[0])
    return e if v_lo == 0 else sp.exp(v) * (1 + v_lo)


#: Beyond this |w|, e^w is 0 or inf in double, and :func:`_exp_of_exps` drops w's low part, which may be NaN
#: there (a sum's error with an infinite term).
EXP_OF_EXPS_REACH = 746


def _exp_of_exps(e: sp.Expr) -> sp.Expr | None:
    """exp(w) where w is a sum of terms c·exp(u) (c a number, u without exp) and terms without exp: the Gumbel
    CDF exp(−e^(−x)), its slope exp(−x − e^(−x)), the Gompertz curve exp(−b·e^(−cx)). e^w's relative error is
    |w| times w's absolute error, and w is a rounded e^u times |c|: 465 ULP at x = −6.5 for the Gumbel CDF.
    So w is carried as hi + lo: each e^u with what it misses (:class:`exp_err`, from a double-double exp, with
    u's own rounding in it, :func:`_carried`), c·e^u's rounding, and the rounding of every addition; then
    e^hi·(1 + lo) to first order (lo is at most |w|·2^-52 or so). lo is dropped where |hi| > EXP_OF_EXPS_REACH.
    Exact reading: exp(w). None where w has no such term, or has exp elsewhere."""
    w = e.args[0]
    if not w.has(sp.exp):
        return None
    his, low = [], sp.S.Zero
    for term in sp.Add.make_args(sp.expand_mul(w)):  # −(1 + e^(−x))·e^(−x) as −e^(−x) − e^(−2x)
        c, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.exp) and not rest.args[0].has(sp.exp):
            v, v_lo = _carried(rest.args[0])
            big = sp.exp(v)
            missed = exp_err(v, v_lo, big)
            if _power_of_two(c):
                his.append(c * big)
                low += c * missed
            else:
                his.append(lit(c) * big)
                low += lit(c) * missed + prod_err(lit(c), big) + lo(c) * big
        elif not term.has(sp.exp):
            v, v_lo = _carried(term)
            his.append(v)
            low += v_lo
        else:
            return None
    total = his[0]
    for h in his[1:]:
        low += sum_err(total, h)
        total = held(total + h)
    return sp.exp(total) * (1 + _where(sp.Abs(total) <= EXP_OF_EXPS_REACH, low, 0))


def _exps_joined(e: sp.Expr) -> sp.Expr | None:
    """A product with an exp of exps, with its other exps joined into it: the slope of exp(−2e^(−3x)),
    6e^(−3x)·exp(−2e^(−3x)), was inf·0 = NaN where e^(−3x) overflows and the other underflows (x < −236), and is
    exp(−3x − 2e^(−3x)) (:func:`_exp_of_exps` then carries its argument). A sum of exp terms among the factors is
    distributed first: the slope of x·exp(−eˣ), (1 − x·eˣ)·exp(−eˣ), is exp(−eˣ) − x·exp(x − eˣ); and an expm1(u)
    among them is e^u − 1 where u > 2 (the Gumbel density's slope, −exp(x − eˣ)·expm1(x), was NaN from x = 710).
    None for any other expression."""
    if not isinstance(e, sp.Mul) or not any(isinstance(f, sp.exp) and f.args[0].has(sp.exp) for f in e.args):
        return None
    grows = next((f for f in e.args if isinstance(f, expm1)), None)
    if grows is not None:  # expm1(u) as e^u − 1 where u > 2: then the difference loses at most 0.2 bits
        u = grows.args[0]
        return _where(u > 2, _exps_joined(e.xreplace({grows: sp.exp(u) - 1})), e)
    if any(isinstance(f, sp.Add) and f.has(sp.exp) for f in e.args):
        return sp.Add(*(_exps_joined(t) or t for t in sp.Add.make_args(sp.expand_mul(e))))
    exps = [f for f in e.args if isinstance(f, sp.exp)]
    if len(exps) < 2:
        return None
    return sp.Mul(*(f for f in e.args if not isinstance(f, sp.exp))) * sp.exp(sp.Add(*(f.args[0] for f in exps)))


def carry_arguments(expr: sp.Expr) -> sp.Expr:
    """Every exp(c·x) and exp(c·x²) in ``expr`` as :func:`_exp_carried`, and every exp of a sum with exp terms as
    :func:`_exp_of_exps`, after a product of such with other exps is one exp (:func:`_exps_joined`); c ± c·sin a as
    :func:`_sine_from_one`, and sin and cos of u + c·π and of c·x as :func:`_trig_carried` (user-defined functions'
    forms)."""
    expr = expr.replace(lambda e: _exps_joined(e) is not None, _exps_joined)
    expr = expr.replace(lambda e: isinstance(e, sp.exp) and _exp_of_exps(e) is not None, _exp_of_exps)
    expr = expr.replace(lambda e: _sine_from_one(e) is not None, _sine_from_one)
    trig = (sp.sin, sp.cos)
    expr = expr.replace(lambda e: isinstance(e, trig) and _trig_argument(e.args[0]) is not None, _trig_carried)
    return expr.replace(lambda e: isinstance(e, sp.exp), _exp_carried)


def _rationalized(e: sp.Expr) -> sp.Expr | None:
    """c·√A − c·b, b > 0 a number, among the terms of a sum → c·(A − b²)/(√A + b) where A < 4b², the only place
    where the difference cancels (the bent identity's (√(x² + 1) − 1)/2 was x/4 relatively off at small x:
    2·10⁷ ULP at x = 10⁻⁸); as written elsewhere, where A − b² and √A may overflow. Else None."""
    if not isinstance(e, sp.Add):
        return None
    for term in e.args:
        c, rest = term.as_coeff_Mul()
        if not (isinstance(rest, sp.Pow) and rest.exp == sp.S.Half and rest.base.free_symbols):
            continue
        for d in e.args:
            if d.is_number and d.is_real and (b := -d / c).is_positive:
                a = rest.base
                near = c * sp.expand(a - b**2) / (rest + b)
                others = [t for t in e.args if t is not term and t is not d]
                return sp.Add(_where(a < 4 * b**2, near, term + d), *others)
    return _conjugated(e)


def _conjugated(e: sp.Expr) -> sp.Expr | None:
    """s·√A + d among the terms of a sum, d not a number, where s²A − d² loses terms that cancel symbolically
    → (s²A − d²)/(s·√A − d) where the sum cancels (s·d < 0 and |s²A − d²| < (s²A + d²)/2): x + √(x² + 1) at
    x = −10⁴ was 10⁸ ULP off, and is 1/(√(x² + 1) − x) there. Likewise p/√A + d → (p² − d²A)/((p − d·√A)·√A),
    p and d not both numbers, which its slope 1 + x/√(x² + 1) is. As written elsewhere; None where there is no
    such pair."""
    for term in e.args:
        roots = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Pow) and abs(f.exp) == sp.S.Half]
        for root in roots:
            a, k = root.base, term / root  # the term is k·√A or k/√A
            if not a.free_symbols:
                continue
            for d in e.args:
                # c√A − cb is taken above; c/√A + b, both numbers, cancels about a root only (1 − 1/√(x² + 1),
                # x − asinh x's slope, at 0), where a near-root polynomial does better (1.6 ULP, not 3.8)
                if d is term or (d.is_number and (root.exp > 0 or k.is_number)):
                    continue
                if root.exp > 0:  # k√A + d
                    first, second, below = sp.expand(k**2 * a), sp.expand(d**2), k * root - d
                else:  # k/√A + d
                    first, second, below = sp.expand(k**2), sp.expand(d**2 * a), (k - d * sp.sqrt(a)) / root
                top = sp.expand(first - second)
                count = [len(sp.Add.make_args(t)) for t in (top, first, second)]
                if top == 0 or count[0] > count[1] + count[2] - 2:
                    continue  # no term of one square cancels one of the other: the quotient would cancel too
                others = [t for t in e.args if t is not term and t is not d]
                # where the sum loses more than a bit: its terms of opposite signs, and |s²A − d²| < (s²A + d²)/2
                cancels = (k * d < 0) & (2 * sp.Abs(top) < first + second)
                return sp.Add(_where(cancels, top / below, term + d), *others)
    return None


def _softplus_less_log2(e: sp.Expr) -> sp.Expr | None:
    """c·softplus(a) − c·log 2 among the terms of a sum → c·(max(a, 0) + log1p(expm1(−|a|)/2)): the shifted
    softplus, 0 at a = 0, where the difference cancelled (1.5·10⁸ ULP at x = 10⁻⁸); else None."""

    def pair(c, rest):
        if not isinstance(rest, softplus):
            return []
        a = rest.args[0]
        return [(-c * sp.log(2), c * (sp.Max(a, 0) + log1p(expm1(-sp.Abs(a)) / 2)))]

    return _paired(e, pair)


def _exp_joined(grows: sp.exp, u: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    """e^v·t/denominator, t = e^(−|u|), as written where e^v·t keeps its digits, and e^(v − |u|)/denominator
    where t is subnormal or 0 (|u| > 708) or e^v overflows (v > 709): there e^v·t lost its digits, was 0, or
    inf·0 = NaN, or inf where it is finite (e^(2x)·σ(x)σ(−x) at x = 400). Not elsewhere, where v − |u| would
    round and e^v does not (14 ULP at x = −29.75)."""
    (v,), a = grows.args, sp.Abs(u)
    joined = ratio(sp.exp(v - a), denominator)
    return _where((a > 708) | (v > 709), joined, grows * ratio(sp.exp(-a), denominator))


def _sigmoid_product(e: sp.Expr) -> sp.Expr | None:
    """σ(u)·σ(−u) in a product → e/(1 + e)², e = exp(−|u|), as sigmoid's own derivative: one division where two
    σ's take two (tanh²'s derivative 8σ(2x)σ(−2x)·tanh x: 5.0 → 3.2 ULP); an exp among the other factors joins
    e's (:func:`_exp_joined`; TanhExp's slope x·eˣ·4σ(2eˣ)σ(−2eˣ) + tanh eˣ was NaN from x = 709). Else None."""
    if not isinstance(e, sp.Mul):
        return None
    powers = [f.as_base_exp() for f in e.args]
    for i, (a, k) in enumerate(powers):
        for j, (b, m) in enumerate(powers):
            if i < j and isinstance(a, sigmoid) and isinstance(b, sigmoid) and sp.expand(a.args[0] + b.args[0]) == 0:
                if k.is_Integer and m.is_Integer and k > 0 and m > 0:
                    t = sp.exp(-sp.Abs(a.args[0]))
                    rest = [f for n, f in enumerate(e.args) if n not in (i, j)]
                    grows = next((f for f in rest if isinstance(f, sp.exp)), None)
                    if grows is None:
                        others = [a ** (k - 1), b ** (m - 1), *rest]
                        if not rest:  # σσ alone: subnormal where its exp is
                            return sp.Mul(ratio(t, fma(t, t + 2, 1)), *others)
                        return _subnormal_scaled(
                            -sp.Abs(a.args[0]), lambda s, e, others=others: sp.Mul(ratio(s, fma(e, e + 2, 1)), *others)
                        )
                    others = [f for f in rest if f is not grows]
                    pair = _exp_joined(grows, a.args[0], fma(t, t + 2, 1))
                    return sp.Mul(pair, a ** (k - 1), b ** (m - 1), *others)
    return None


def _subnormal_scaled(
    v: sp.Expr, product: Callable[[sp.Expr, sp.Expr], sp.Expr], tail: sp.Boolean | None = None, high: bool = False
) -> sp.Expr:
    """``product(s, e)``, a product of e = e^v with factors that may make it normal where e^v is subnormal (x/cosh² x,
    16·σ(x)σ(−x), x²·σ(x)), with s = e^(v + 64) and the scale e^−64 last in the tail (v < −708, or ``tail``), else
    s = e = e^v: one exp (:func:`_shift`), e = e^−64·s where the product needs e^v itself (1 + e). x/cosh² x at
    x = 357 was 666 ULP off, x²σ(x) 2.3·10⁵ at −721.5, the slope of e^(2x)/cosh² x 7.0 at 355.4. v's rounding is
    carried (−3|x|, σ(1.702x)), and for v in [−772, −708] v and v + 64 share a binade, so the sum is exact.

    With ``high``, the same above: where v > 708, s = e^(v − 64) and the scale e^64 last, so that the product
    overflows only where it does (sinh(x)/x is 1.6·10³⁰⁶ at x = 712, where sinh x has overflowed)."""
    hi, v_lo = _carried(v)
    tail = hi < -708 if tail is None else tail
    scale, shift = sp.Piecewise((SCALE, tail), (1, True)), _shift(tail)
    if high:
        scale, shift = sp.Piecewise((SCALE, tail), (lit(sp.exp(64)), hi > 708), (1, True)), shift - _shift(hi > 708)
    s = sp.exp(hi + shift) * (1 + v_lo)
    return scale * held(product(s, scale * s))


def _sigmoid_tail(e: sp.Expr) -> sp.Expr | None:
    """σ(u)·rest, σ(u) a factor of its own and no exp a factor (:func:`_exp_sigmoid` joins those), with σ(u) =
    e^u/(1 + e^u) scaled where e^u is subnormal (:func:`_subnormal_scaled`): the slope of x²σ(x), x·(x·σ(−x) +
    2)·σ(x) as derived. Else None."""
    if not isinstance(e, sp.Mul) or any(isinstance(f, sp.exp) for f in e.args):
        return None
    logistic = [f for f in e.args if isinstance(f, sigmoid)]
    if len(logistic) != 1:
        return None
    (u,) = logistic[0].args
    rest = [f for f in e.args if f is not logistic[0]]
    # σ's stable pair (_sigmoid_pair) on s = e^(−|u|), scaled where u < −708
    return _subnormal_scaled(
        -sp.Abs(u), lambda s, e: sp.Mul(_where(u >= 0, 1 / (1 + e), s / (1 + e)), *rest), tail=u < -708
    )


def _exp_sigmoid(e: sp.Expr) -> sp.Expr | None:
    """e^v·σ(u) in a product, as σ's stable pair with e^v beside it where u ≥ 0, and where u < 0 e^v·t/(1 + t),
    t = e^(−|u|), with e^v joined to t's exp (:func:`_exp_joined`): the slope of atan(eˣ), eˣ·σ(−2x), was
    3.3·10⁹ ULP off at x = 365, 0 from x = 373, where it is e^(−x), and NaN from 710. Else None."""
    if not isinstance(e, sp.Mul):
        return None
    grows = next((f for f in e.args if isinstance(f, sp.exp)), None)
    logistic = next((f for f in e.args if isinstance(f, sigmoid)), None)
    if grows is None or logistic is None:
        return None
    (u,) = logistic.args
    rest = sp.Mul(*[f for f in e.args if f is not grows and f is not logistic])
    below = 1 + sp.exp(-sp.Abs(u))
    return rest * _where(u >= 0, grows / below, _exp_joined(grows, u, below))


def _hyperbolic_power(f: sp.Expr) -> int:
    """k where f is cosh(u)^k or sinh(u)^k for an integer k, else 0."""
    base, k = f.as_base_exp()
    return int(k) if isinstance(base, (sp.cosh, sp.sinh)) and k.is_Integer else 0


def _hyperbolic_factored(e: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """A^(−n), A a sum with terms of cosh(u)^m or sinh(u)^m for one u, m ≥ 1 → (cosh(u)^(−Mn)·(A/cosh(u)^M)^(−n),
    M·|u|), M the largest m: the sum's terms are then bounded, and the power of cosh joins its product's
    (cosh x/(1 + cosh x) was inf/inf = NaN from |x| = 710, where it is 1); M·|u| is the size beyond which cosh^M
    overflows. Else None."""
    if not (isinstance(e, sp.Pow) and isinstance(e.base, sp.Add) and e.exp.is_Integer and e.exp < 0):
        return None
    powers: dict[sp.Expr, int] = {}
    for term in e.base.args:
        for f in sp.Mul.make_args(term):
            if (k := _hyperbolic_power(f)) > 0:
                u = f.as_base_exp()[0].args[0]
                powers[u] = max(powers.get(u, 0), k)
    if len(powers) != 1:
        return None
    ((u, m),) = powers.items()
    inner = sp.Add(*[term / sp.cosh(u) ** m for term in e.base.args])
    return sp.cosh(u) ** (m * e.exp) * inner**e.exp, m * sp.Abs(u)


def _hyperbolic_parts(e: sp.Expr) -> tuple[sp.Expr, list[sp.Expr], sp.Expr] | None:
    """(v + Σa|u| + Σb|w|, [Π C(u)^a, Π S(w)^b, rest], |v| + Σ|a·u| + Σ|b·w|) for e = e^v·Π cosh(u)^a·Π sinh(w)^b·rest
    with a cosh or a sinh among its factors, so that e is e^(v + Σa|u| + Σb|w|)·Π C(u)^a·Π S(w)^b·rest:
    C(u) = (1 + e^(−2|u|))/2 and S(w) = ±(1 − e^(−2|w|))/2 (w's sign) are cosh u/e^|u| and sinh w/e^|w|, and
    beyond the size 708 a factor as written overflows or underflows. Else None."""
    factors = sp.Mul.make_args(e)
    if not any(_hyperbolic_power(f) for f in factors):
        return None
    grows, scaled, size, rest = sp.S.Zero, [], sp.S.Zero, []
    for f in factors:
        base, k = f.as_base_exp()
        if isinstance(f, sp.exp):
            (v,) = f.args
            grows, size = grows + v, size + sp.Abs(v)
        elif _hyperbolic_power(f):
            a = sp.Abs(base.args[0])
            half = (1 + sp.exp(-2 * a)) / 2 if isinstance(base, sp.cosh) else -expm1(-2 * a) / 2
            if isinstance(base, sp.sinh):
                half = _where(base.args[0] >= 0, half, -half)
            grows, size = grows + k * a, size + abs(k) * a
            scaled.append(half**k)
        else:
            rest.append(f)
    return grows, [*scaled, *rest], size


def _hyperbolic_joined(e: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(e's product joined into one exp, scaled where it is subnormal or overflows, and its size) for a product
    with a division (:func:`_hyperbolic_parts`): by a cosh or a sinh, whose exp then cancels the numerator's, or by
    another factor, which can bring an overflowing cosh or sinh back into range (sinh(x)/x from x = 710). Else None."""
    factors = sp.Mul.make_args(e)
    divided = any(_hyperbolic_power(f) < 0 or (f.is_Pow and f.exp.is_negative and not f.is_number) for f in factors)
    parts = _hyperbolic_parts(e) if divided else None
    if parts is None:
        return None
    grows, scaled, size = parts
    return _subnormal_scaled(grows, lambda s, e: sp.Mul(s, *scaled), high=True), size


def _hyperbolic_far(e: sp.Expr) -> sp.Expr | None:
    """A product or power with a division by cosh, sinh or a sum of them, as written where no factor overflows or
    underflows, and beyond (its size over 708, :func:`_hyperbolic_joined`) with the sums in its denominator factored
    (:func:`_hyperbolic_factored`), a sum of cosh and sinh in its numerator spread over the division, and each
    term's exps joined into one: the slope of sech x = 1/cosh x, −sinh x/cosh² x, was inf/inf = NaN from |x| = 710,
    and e^(2x)/cosh² x was inf/inf from x = 355 where it is 4. Not within, where the sum in the exponent would
    round. A sum of such terms that all grow alike, as the slope of sinh(x)/x, cosh(x)/x − sinh(x)/x², is one exp
    times the sum of the rest (inf − inf = NaN from |x| = 711, where it is ∞). Else None."""
    if isinstance(e, sp.Add):
        return _hyperbolic_sum(e.args, e)
    if not isinstance(e, (sp.Mul, sp.Pow)):
        return None
    factored = [(f, _hyperbolic_factored(f)) for f in sp.Mul.make_args(e)]
    product = sp.Mul(*[f if split is None else split[0] for f, split in factored])
    terms = _spread(product, sp.cosh, sp.sinh)
    if len(terms) > 1 and all(split is None for _, split in factored) and (alike := _hyperbolic_sum(terms, e)):
        return alike
    joined = [_hyperbolic_joined(t) for t in terms]
    sizes = [split[1] for _, split in factored if split is not None] + [j[1] for j in joined if j is not None]
    if not sizes:
        return None
    far = sp.Add(*[t if j is None else _where(j[1] > 708, j[0], t) for t, j in zip(terms, joined)])
    return _where(sp.Or(*[size > 708 for size in sizes]), far, e)


def _hyperbolic_sum(terms, e: sp.Expr) -> sp.Expr | None:
    """e = Σ terms, each a product with a cosh or a sinh (:func:`_hyperbolic_parts`), all of one growth: as
    written where its size is at most 708, and beyond as one exp, scaled, times the sum of the rest
    (:func:`_joined`). Else None."""
    parts = [_hyperbolic_parts(t) for t in terms]
    if len(terms) < 2 or any(p is None for p in parts) or (far := _joined(parts)) is None:
        return None
    return _where(_size(parts) > 708, far, e)


def _spread(e: sp.Expr, *atoms) -> list[sp.Expr]:
    """The terms of the product ``e`` with its one sum that has ``atoms`` spread over it (the sum's terms, each
    times the other factors); [e] where it has no such sum, or more than one."""
    factors = sp.Mul.make_args(e)
    sums = [f for f in factors if isinstance(f, sp.Add) and f.has(*atoms)]
    if len(sums) != 1:
        return [e]
    # the product of the rest, not e/sum: a number times e, a product with a sum, is distributed over the sum,
    # and the division would not then cancel it
    return [sp.Mul(t, *[f for f in factors if f is not sums[0]]) for t in sums[0].args]


def _joined(parts: list[tuple[sp.Expr, list[sp.Expr], sp.Expr]]) -> sp.Expr | None:
    """Σ e^g·Π factors for terms (g, factors, size) that all grow alike (one g), as e^g, scaled where it is
    subnormal or overflows (:func:`_subnormal_scaled`), times the sum of the rest: the terms cannot then overflow
    apart and cancel to inf − inf. Else None."""
    grows = parts[0][0]
    if any(sp.expand(p[0] - grows) != 0 for p in parts):
        return None
    inner = sp.Add(*[sp.Mul(*p[1]) for p in parts])
    return _subnormal_scaled(grows, lambda s, _: s * inner, high=True)


def _size(parts: list[tuple[sp.Expr, list[sp.Expr], sp.Expr]]) -> sp.Expr:
    """The size beyond which any of the terms' factors overflows or underflows (:func:`_joined`'s parts)."""
    return sp.Max(*[p[2] for p in parts])


def _from_the_top(e: sp.Expr, far: Callable[[sp.Expr], sp.Expr | None], *atoms) -> sp.Expr:
    """``far`` for every sum, product and power in ``e`` that has ``atoms``, from the top: where it takes one
    (a product, or a power alone: 1/cosh² x, a term of a slope, is subnormal where the sum is not), not again
    inside it, so that a power inside a product is the product's."""
    if not e.has(*atoms):  # nothing to take, nor to rebuild
        return e
    if isinstance(e, (sp.Add, sp.Mul, sp.Pow)) and (taken := far(e)) is not None:
        return taken
    return e.func(*[_from_the_top(a, far, *atoms) for a in e.args]) if e.args else e


def _exp_sum(base: sp.Expr) -> tuple[sp.Expr, list[tuple[sp.Expr, sp.Rational]], sp.Expr] | None:
    """(u, [(c, k), ...], c₀) where ``base`` is c₀ + Σ c·e^(k·u) with numbers c > 0 and c₀ ≥ 0 and rationals k
    (1 + eˣ, e^x + e^(−x), 2 + 3e^(2x)): a sum of positive terms, so it neither cancels nor has a root. Else None."""
    if not isinstance(base, sp.Add):
        return None
    u, terms, c0 = None, [], sp.S.Zero
    for t in base.args:
        c, rest = t.as_coeff_Mul()
        if rest == 1 and c.is_positive:
            c0 += c
            continue
        if not (isinstance(rest, sp.exp) and c.is_positive):
            return None
        u = rest.args[0] if u is None else u
        k = rest.args[0] / u
        if not k.is_Rational:
            return None
        terms.append((c, k))
    return (u, terms, c0) if terms else None


def _exp_sum_power(f: sp.Expr):
    """(p, u, terms, c₀) where f is A^p, A an exp sum (:func:`_exp_sum`) and p a number that is not an integer
    (the integer powers of 1 + e^u are σ's, :func:`recognize_atoms`); else None."""
    if not (isinstance(f, sp.Pow) and f.exp.is_number and not f.exp.is_Integer):
        return None
    parts = _exp_sum(f.base)
    return None if parts is None else (f.exp, *parts)


def _exp_sum_far(e: sp.Expr) -> sp.Expr | None:
    """A product e^v·A^p·rest, A = c₀ + Σ c·e^(k·u) and p not an integer (:func:`_exp_sum_power`), as written where
    no exp overflows, and beyond, with |v| + max|k|·|u| > 708, as e^(v + p·K·u)·B^p·rest: K·u the largest of A's
    exponents on u's side (K the largest k, and 0 with c₀, for u > 0; the least for u < 0) and B = A·e^(−K·u), a sum
    of terms at most c and at least the largest term's c. A sum with exps in ``rest`` is spread over the product
    first, each term's exps joined on their own: the slope of x/√(1 + e^(−x)) is (x/2 + eˣ + 1)·e^(x/2)/(1 + eˣ)^(3/2)
    as derived. √(1 + eˣ) was inf from x = 710, where it is e^(x/2)·√(1 + e^(−x)), and e^x/√(1 + e^(2x)) inf/inf =
    NaN, where it is 1. The joined exp's argument is summed by SymPy (x − x/2 = x/2) and its rounding carried later
    (:func:`carry_arguments`). Else None."""
    factors = sp.Mul.make_args(e)
    found = next(((f, s) for f in factors if (s := _exp_sum_power(f)) is not None), None)
    if found is None:
        return None
    power, (p, u, terms, c0) = found
    spread = _spread(sp.Mul(*[f for f in factors if f is not power]), sp.exp)  # the product's terms
    ks = [k for _, k in terms] + ([sp.S.Zero] if c0 else [])

    def far(top: sp.Expr, product: sp.Expr) -> sp.Expr:  # A = e^(top·u)·B, B's terms each e^((k − top)·u) ≤ 1 here
        b = sp.Add(*[c * sp.exp((k - top) * u) for c, k in terms]) + c0 * sp.exp(-top * u)
        grows = [f.args[0] for f in sp.Mul.make_args(product) if isinstance(f, sp.exp)]
        rest = [f for f in sp.Mul.make_args(product) if not isinstance(f, sp.exp)]
        return sp.Mul(sp.exp(sp.Add(*grows) + p * top * u), held(b) ** p, *rest)

    def side(top: sp.Expr) -> sp.Expr:
        return sp.Add(*[far(top, t) for t in spread])

    grows = [f.args[0] for t in spread for f in sp.Mul.make_args(t) if isinstance(f, sp.exp)]
    size = sp.Max(0, *[sp.Abs(v) for v in grows]) + max(abs(k) for k in ks) * sp.Abs(u)
    # p = 1/3 rounds, and pow(A, fl(p)) is then off by |p·log A|·2^-53 relatively (90 ULP at x = 646 for (1 + eˣ)^(1/3)):
    # the far form, whose B^p has log B < log Σc and whose exp's argument is carried, from |x| = 1 on
    reach = 708 if p.is_Float or _power_of_two(sp.Rational(1, sp.fraction(p)[1])) else 1
    return sp.Piecewise((side(max(ks)), (size > reach) & (u > 0)), (side(min(ks)), size > reach), (e, True))


def _expm1_parts(e: sp.Expr, u: sp.Expr) -> tuple[sp.Expr, list[sp.Expr], sp.Expr] | None:
    """(v + Σp·u, [(−expm1(−u))^Σp, rest], |v| + Σ|p·u|) for e = e^v·expm1(u)^p·rest, rest without exps, so that for
    u > 0, e = e^(v + Σp·u)·(−expm1(−u))^Σp·rest: expm1(u) is e^u·(1 − e^(−u)). Else None."""
    grows, size, power, rest = sp.S.Zero, sp.S.Zero, 0, []
    for f in sp.Mul.make_args(e):
        base, k = f.as_base_exp()
        if isinstance(f, sp.exp):
            grows, size = grows + f.args[0], size + sp.Abs(f.args[0])
        elif isinstance(base, expm1) and base.args[0] == u and k.is_Integer:
            power += int(k)
        elif f.has(sp.exp, expm1):
            return None
        else:
            rest.append(f)
    return grows + power * u, [(-expm1(-u)) ** power, *rest], size + abs(power) * u


def _expm1_far(e: sp.Expr) -> sp.Expr | None:
    """A product with a division by a power of expm1(u), as written, and beyond, where u > 0 and the powers and
    exps in it overflow (|v| + Σ|p·u| > 708), as one exp times (1 − e^(−u))^p (:func:`_expm1_parts`), scaled
    where it is subnormal (:func:`_subnormal_scaled`); a sum among its factors spread over it (:func:`_spread`),
    and its terms joined where they grow alike (:func:`_joined`), else each on its own. The slope of x/(eˣ − 1),
    (expm1(x) − x·eˣ)/expm1(x)², was 0 from x = 355, where the square overflows, and NaN from 710, where it is
    about −x·e⁻ˣ. Else None."""
    factors = sp.Mul.make_args(e)
    powers = [f for f in factors if isinstance(f.as_base_exp()[0], expm1) and f.as_base_exp()[1].is_negative]
    if not powers:
        return None
    u = powers[0].as_base_exp()[0].args[0]
    parts = [_expm1_parts(t, u) for t in _spread(e, sp.exp, expm1)]
    if any(p is None for p in parts):
        return None
    far = _joined(parts)
    if far is None:
        far = sp.Add(*[_joined([p]) for p in parts])
    return _where((_size(parts) > 708) & (u > 0), far, e)


def stabilize_atoms(expr: sp.Expr) -> sp.Expr:
    """σ(u) and softplus(u) anywhere in ``expr`` → their stable forms (as proved for sigmoid and softplus), after
    :func:`recognize_atoms` has found them where they are written with exp; a square root less a number where
    they cancel (:func:`_rationalized`); erfc(κx) with κx's rounding carried (:func:`_erfc_carried`)."""
    expr = recognize_atoms(expr)
    # (once, where recognize_atoms runs again on what it gives: before the square roots, which then take A − 1)
    expr = expr.replace(lambda e: _log_near_one(e) is not None, _log_near_one)
    expr = expr.replace(lambda e: _rationalized(e) is not None, _rationalized)
    expr = expr.replace(lambda e: _sigmoid_product(e) is not None, _sigmoid_product)
    expr = expr.replace(lambda e: _exp_sigmoid(e) is not None, _exp_sigmoid)
    expr = expr.replace(lambda e: _sigmoid_tail(e) is not None, _sigmoid_tail)
    expr = _from_the_top(expr, _hyperbolic_far, sp.cosh, sp.sinh)
    expr = _from_the_top(expr, _exp_sum_far, sp.exp)
    expr = _from_the_top(expr, _expm1_far, expm1)
    expr = expr.replace(lambda e: _softplus_less_log2(e) is not None, _softplus_less_log2)
    expr = expr.replace(lambda e: isinstance(e, sp.erfc), _erfc_carried)
    return expr.replace(
        lambda e: isinstance(e, (sigmoid, softplus)),
        lambda e: (
            _sigmoid_pair(e.args[0])[0]
            if isinstance(e, sigmoid)
            else sp.Max(e.args[0], 0) + log1p(sp.exp(-sp.Abs(e.args[0])))
        ),
    )


#: Losses whose definition loses precision or overflows as written: a proven-equal rewrite of the per-sample
#: loss in (ŷ, y). BCE on a logit, −[y log σ(ŷ) + (1 − y) log(1 − σ(ŷ))], is log(0) = −∞ once σ(ŷ) rounds to 1.
def _log_cosh(fn: Fn) -> sp.Expr:
    """log cosh r, r = y − ŷ, without cancellation near 0 or overflow far out (:func:`_log_cosh_of`)."""
    return _log_cosh_of(fn.targets[0] - fn.inputs[0])


def _bce_with_logits(fn: Fn) -> sp.Expr:
    """softplus(ŷ) − yŷ, with every term ≥ 0 for y in [0, 1]: ŷ(1 − y) + softplus(−ŷ) for ŷ > 0. As
    softplus(ŷ) − yŷ, near the minimum (y ≈ σ(ŷ), ŷ large) the two terms cancel: 17 ULP at ŷ ≈ 4.8."""
    yhat, y = fn.inputs[0], fn.targets[0]
    return _where(yhat > 0, yhat * (1 - y) + softplus(-yhat), softplus(yhat) - y * yhat)


def _bce(fn: Fn) -> sp.Expr:
    """−[y log ŷ + (1 − y) log1p(−ŷ)]: log(1 − ŷ) rounds 1 − ŷ first, which for ŷ below 2^-53 is 1, so the loss
    at y = 0 was 0 instead of ≈ ŷ, and for ŷ ≈ 0.01 in float32 off by tens of ULP."""
    yhat, y = fn.inputs[0], fn.targets[0]
    return -(y * sp.log(yhat) + (1 - y) * log1p(-yhat))


def _focal(fn: Fn) -> sp.Expr:
    """The focal loss with log(1 − ŷ) as log1p(−ŷ), as :func:`_bce`."""
    yhat, y, gamma = fn.inputs[0], fn.targets[0], fn.param("gamma")
    return -(y * (1 - yhat) ** gamma * sp.log(yhat) + (1 - y) * yhat**gamma * log1p(-yhat))


STABLE_LOSS: dict[str, Callable[[Fn], sp.Expr]] = {
    "bce": _bce,
    "focal": _focal,
    "bce_with_logits": _bce_with_logits,
    "log_cosh": _log_cosh,
}


def stable_loss(fn: Fn) -> sp.Expr:
    """The per-sample loss in a stable form (the definition where none is needed), parameters symbolic."""
    build = STABLE_LOSS.get(fn.name)
    return fn.expr if build is None else build(fn)


def stable_form(fn: Fn) -> StableForm:
    """The stable f and f' of an elementwise activation (parameters left symbolic).

    A user's function proved equal to a catalog one (:func:`catalog_equivalent`)
    gets the catalog's form. Other functions without a hand-picked rewrite use
    their definition and derived derivative with σ and softplus made stable.
    """
    if fn.kind != "activation" or fn.vector:
        raise ValueError(f"{fn.name}: stable forms are for elementwise activations")
    build = STABLE.get(fn.name)
    if build is not None:
        return build(fn)
    known = catalog_equivalent(fn)
    if known is not None:
        return _bound_form(known, stable_form(known))
    multiple = catalog_multiple(fn)
    if multiple is not None:
        known, c = multiple
        return _scaled_form(_bound_form(known, stable_form(known)), c)
    f = recognize_atoms(fn.expr)
    # σ or softplus written with exp: the derivative derived from the atoms, whose own derivatives stay atoms
    # (d/dx of x/(1 + e^(−x)) came out as (x + eˣ + 1)·eˣ/(eˣ + 1)², inf/inf at x = 800)
    df = fn.derivative() if f == fn.expr else calculus.derivative(f, fn.inputs[0])
    f, df = (carry_arguments(stabilize_atoms(e)) for e in (f, df))
    if fn.params:  # the roots move with the parameters, which a kernel reads at run time: no near-root windows
        return StableForm(f, df)
    approximations, single = _near_roots(fn.expr, fn.derivative(), fn.inputs[0], f, df)
    return StableForm(f, df, approximations, single=single)


@functools.lru_cache(maxsize=64)
def _near_roots(
    f: sp.Expr, df: sp.Expr, x: sp.Symbol, computed_f: sp.Expr, computed_df: sp.Expr
) -> tuple[tuple[Approximation, ...], tuple[sp.Expr, sp.Expr] | None]:
    """Taylor polynomials of f and f' about the roots where their stable forms still have a sum that cancels
    (:func:`symact.taylor.near_roots`: x − tanh x about 0, 3x² − 1 about ±1/√3), as approximations for float64
    data, and the forms for float32 data (computed in double) with the far narrower windows of lower degree that
    they need (taylor.SINGLE), or None where nothing cancels."""
    approximations: list[Approximation] = []
    single = []
    for g, computed, is_f in ((f, computed_f, True), (df, computed_df, False)):
        read = exact(computed)
        for near in _stable_over(taylor.near_roots(g, x, read, taylor.DOUBLE)):
            p = near.polynomial()
            approximations.append(
                Approximation(*near.window, p if is_f else None, None if is_f else p, near.bound, near.prove)
            )
        narrow = computed
        for near in _stable_over(taylor.near_roots(g, x, read, taylor.SINGLE)):
            narrow = _where((x > near.window[0]) & (x < near.window[1]), near.polynomial(), narrow)
        single.append(narrow)
    return tuple(approximations), (tuple(single) if approximations else None)


def _stable_over(nears: tuple[taylor.NearRoot, ...]) -> list[taylor.NearRoot]:
    """Windows beside a removable singularity divide by its denominator D as written: here in a stable form, as
    D = eˣ − 1 (x/(eˣ − 1)) would cancel towards the window about 0 (expm1 x)."""
    return [
        n if n.over is None else dataclasses.replace(n, over=carry_arguments(stabilize_atoms(n.over))) for n in nears
    ]


#: Seconds for each proof of :func:`catalog_equivalent`. These identities take 0.01–2 s here (Mish's f' the
#: longest); a claim that agrees at the sample points but has no proof in time keeps the generic form.
EQUIVALENT_SECONDS = 30.0
#: Where a candidate must agree with the user's function before a proof is tried: a cheap first filter.
_SAMPLES = (sp.Rational(-14142, 10000), sp.Rational(7317, 10000), sp.Rational(231, 100))


def catalog_equivalent(fn: Fn) -> Fn | None:
    """The catalog activation, with its parameter values, that a user's function is proved equal to, in f and
    in f' (so that the kink conventions agree as well); None where there is none, or no proof in time.

    Who writes SiLU as x/(1 + exp(−x)) gets SiLU's kernel, with its re-expansion about the root of f': the
    form of that text alone was 18814 ULP off near the root in float64. Candidates are the catalog's
    elementwise activations in catalog order (max(x, 0) is ReLU, not SELU with α = 0), each at its default
    parameters, at the values a structural match of the text gives (x·σ(1.702x) is SiLU with β = 1.702) and at
    those that fit the text at sample points. Only functions without parameters are matched: a kernel with
    learnable parameters reads them at run time, which the catalog's bound values would not.
    """
    if _from_catalog(fn.entry) or fn.params or fn.kind != "activation" or fn.vector or len(fn.inputs) != 1:
        return None
    return _equivalent(fn.expr, fn.inputs[0])


def catalog_multiple(fn: Fn) -> tuple[Fn, sp.Rational] | None:
    """(g, c) where a user's function is proved to be c·g, c = ±2^k (k ≠ 0 or c = −1), g a catalog activation with
    its parameter values, in f and in f'; None where there is none, or where :func:`catalog_equivalent` finds g
    itself. x·(1 + tanh x) is 2·SiLU with β = 2: it takes SiLU's kernel times 2, which is exact, so the kernel is
    as accurate as SiLU's (its own form's slope was 4.53 ULP off at x = −3.756, the roundings of its factors).
    The same candidates as catalog_equivalent's, with c from the text's value at a sample over g's, or fitted
    with the parameters."""
    if _from_catalog(fn.entry) or fn.params or fn.kind != "activation" or fn.vector or len(fn.inputs) != 1:
        return None
    return _multiple(fn.expr, fn.inputs[0])


def _multiple(expr: sp.Expr, x: sp.Symbol) -> tuple[Fn, sp.Rational] | None:
    return None if _match(expr, x, scaled=False) is not None else _match(expr, x, scaled=True)


def _scaled_form(form: StableForm, c: sp.Rational) -> StableForm:
    """``form`` times c, a power of two (so the products are exact), in every part."""
    return _mapped_form(form, lambda e: c * e)


def _from_catalog(entry) -> bool:
    return entry.reference != USER_DEFINED


def _equivalent(expr: sp.Expr, x: sp.Symbol) -> Fn | None:
    match = _match(expr, x, scaled=False)
    return None if match is None else match[0]


@functools.lru_cache(maxsize=128)
def _match(expr: sp.Expr, x: sp.Symbol, scaled: bool) -> tuple[Fn, sp.Rational] | None:
    """(g, c) with ``expr`` proved to be c·g in f and f': c = 1, or with ``scaled`` a power of two other than 1,
    fitted with g's parameters or the text's value over g's at the first sample where g is not 0."""
    at = _values(expr, x, _SAMPLES)  # the text at the samples, once: every candidate is compared with it
    if at is None:  # not a finite real number at every sample: no catalog function agrees
        return None
    derivative, written = None, recognize_atoms(expr)
    for entry in REGISTRY:
        if not _from_catalog(entry) or entry.kind != "activation" or entry.vector:
            continue
        for values in _parameter_candidates(entry, written, x, at, scaled):
            c = values.pop(_SCALE, None) if scaled else sp.S.One
            try:
                g = Fn(entry, **values)
            except (TypeError, ValueError):
                continue
            if c is None:
                base = _values(g.bind(), x, _SAMPLES)
                c = next(
                    (sp.nsimplify(a / b, rational=True, tolerance=1e-20) for a, b in zip(at, base or []) if b), None
                )
            if scaled and (c is None or c == 1 or not _power_of_two(c)):
                continue
            if g.inputs[0] != x or not _agree(at, c * g.bind(), x):
                continue
            derivative = calculus.derivative(expr, x) if derivative is None else derivative
            claims = ((expr, c * g.bind()), (derivative, c * g.bind(g.derivative())))
            if all(prove(a, b, timeout=EQUIVALENT_SECONDS, suggest=False).status == "proved" for a, b in claims):
                return g, c
    return None


#: The key of the scale c in a candidate of :func:`_parameter_candidates` with ``scaled`` (not a parameter name).
_SCALE = " c"


def _parameter_candidates(entry, expr: sp.Expr, x: sp.Symbol, at: list[sp.Expr], scaled: bool = False) -> list[dict]:
    """Parameter values to try: the defaults ({}); those for which the entry's definition matches ``expr`` as
    written; and those that solve f(t) = expr(t) at as many sample points t as there are parameters (``at``: expr
    at the samples), read as rationals (0.5·(eˣ − 1), which SymPy writes 0.5·eˣ − 0.5, is ELU with α = 1/2).
    ``scaled``: the last solve c·f(t) = expr(t), c one more unknown (then under the key _SCALE)."""
    candidates: list[dict] = [{}]
    if not entry.params:
        return candidates
    definition = entry.definition(entry.default_size).expr
    wilds = {p.symbol: sp.Wild(f"w_{p.name}", exclude=[x]) for p in entry.params}
    match = expr.match(definition.xreplace(wilds)) or {}
    candidates.append({p.name: match.get(wilds[p.symbol]) for p in entry.params})
    symbols = [p.symbol for p in entry.params] + ([sp.Dummy("c")] if scaled else [])
    if len(symbols) > len(_SAMPLES):
        return _distinct(candidates)
    samples = _SAMPLES[: len(symbols)]  # as many as there are unknowns
    scale = symbols[-1] if scaled else 1
    gaps = [
        sp.lambdify(symbols, scale * expand_atoms(definition.subs(x, t)) - v, "mpmath") for t, v in zip(samples, at)
    ]
    names = [p.name for p in entry.params] + ([_SCALE] if scaled else [])
    start = [mpmath.mpf(float(p.default)) for p in entry.params] + ([mpmath.mpf(1)] if scaled else [])
    try:
        with mpmath.workdps(30):
            root = mpmath.findroot(lambda *a: [g(*a) for g in gaps], start)
            root = [root[i] for i in range(len(symbols))]  # a column vector, for the list of gaps
            candidates.append(
                {n: sp.nsimplify(sp.Float(r, 30), rational=True, tolerance=1e-20) for n, r in zip(names, root)}
            )
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):  # no root near the defaults
        pass
    return _distinct(candidates)


def _distinct(candidates: list[dict]) -> list[dict]:
    """Each set of values once, and only sets of real numbers."""
    return [
        c
        for i, c in enumerate(candidates)
        if c not in candidates[:i] and all(v is not None and v.is_number and v.is_real for v in c.values())
    ]


def _values(expr: sp.Expr, x: sp.Symbol, samples) -> list[sp.Expr] | None:
    """expr at the samples, to 30 digits; None unless each is a finite real number."""
    values = [sp.N(expand_atoms(expr).subs(x, t), 30) for t in samples]
    return values if all(v.is_real and v.is_finite for v in values) else None


def _agree(at: list[sp.Expr], b: sp.Expr, x: sp.Symbol) -> bool:
    """b finite and within 10^-20 relatively of ``at`` (the text's values) at the sample points, at 30 digits."""
    v = _values(b, x, _SAMPLES)
    return v is not None and all(abs(p - q) <= 1e-20 * max(abs(p), abs(q), 1) for p, q in zip(at, v))


def _bound_form(fn: Fn, form: StableForm) -> StableForm:
    """``form`` with ``fn``'s parameter values in place of their symbols."""
    return _mapped_form(form, fn.bind)


def _mapped_form(form: StableForm, op: Callable[[sp.Expr], sp.Expr]) -> StableForm:
    """``form`` with ``op`` applied to each of its expressions: f, f', the approximations', and the single,
    float32 and fused forms'."""

    def each(e):
        return None if e is None else op(e)

    return dataclasses.replace(
        form,
        f=each(form.f),
        df=each(form.df),
        approximations=tuple(dataclasses.replace(a, f=each(a.f), df=each(a.df)) for a in form.approximations),
        single=None if form.single is None else tuple(map(each, form.single)),
        float32=None if form.float32 is None else tuple(map(each, form.float32)),
        fused=None if form.fused is None else _mapped_form(form.fused, op),
    )

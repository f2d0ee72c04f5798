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

Where no exact rewrite is accurate, a form may carry an :class:`Approximation`
with a proved error bound: GELU' near its root (a Taylor polynomial) and
GELU's far tail (erfc's asymptotic series).

Functions not listed here (including user-defined ones) use the definition
and its derived derivative as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .fn import Fn
from .functions import sigmoid, softplus
from .rounding import held, lit, lo, prod_err, ratio, sum_err


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


def _sigmoid_pair(u: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(σ(u), σ(−u)) from e = exp(−|u|): no overflow, no cancellation."""
    e = sp.exp(-sp.Abs(u))
    return _where(u >= 0, 1 / (1 + e), e / (1 + e)), _where(u >= 0, e / (1 + e), 1 / (1 + e))


def _clamp(x: sp.Expr, bound) -> sp.Expr:
    """x limited to ±bound: the argument of rounding-error atoms, which must not overflow."""
    return sp.Min(sp.Max(x, -bound), bound)


def _compensated_pair(u: sp.Expr, ul: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(σ(u + ul), σ(−u − ul)) to first order in the argument's low part ul: dσ/du = σ(u)σ(−u).
    σ(u) ≈ eᵘ for u → −∞ turns a relative error δ of u into |u|·δ, up to ~700 ULP."""
    s, sn = _sigmoid_pair(u)
    return s * (1 + sn * ul), sn * (1 - s * ul)


def _times_sigmoid_prime(e: sp.Expr, g: sp.Expr, s: sp.Expr, sn: sp.Expr, ul: sp.Expr) -> sp.Expr:
    """g·σ(u + ul)·σ(−u − ul) for u < 0 as e·g/(1 + e)² with e = eᵘ: four roundings instead of the
    eight of σ(u)·σ(−u)·g. To first order in ul, d log(σ(u)σ(−u))/du = σ(−u) − σ(u)."""
    q = 1 + e
    y = ratio(e * g, q * q)
    return y + y * ((sn - s) * ul)  # y·(1 + δ) would round 1 + δ


#: The variable in which _near_root takes G.
_U = sp.Symbol("u", real=True)


@dataclass(frozen=True)
class _Recentered:
    """G re-expanded about a double r next to its root (see _near_root)."""

    expr: sp.Expr
    root: sp.Rational


def _near_root(g: sp.Expr, guess: float, t: sp.Expr, t_lo: sp.Expr) -> _Recentered:
    """G(t), a polynomial in u and exp(p(u)) for polynomials p, rewritten about a double r next to its root.

    With d = t − r, exact in floating point for t within [r/2, 2r] (Sterbenz), and m = expm1(p(r + d) − p(r)):

        G(r + d) = G(r) + Σ c_jk·dʲ·mᵏ

    is an identity (exp(p(t)) = exp(p(r))·(1 + m)). G(r) is a tiny constant computed at 60 digits, and the
    other terms are formed from d and m with full relative accuracy, so the cancellation of G near its root
    happens in exact arithmetic instead of in rounded terms. ``t_lo`` is the low part of t, if t is rounded.
    """
    u, d = _U, sp.Symbol("d")
    with mpmath.workdps(60):
        r = sp.Rational(float(mpmath.findroot(sp.lambdify(u, g, "mpmath"), guess)))  # a double: t − r is exact
    dd = held(held(t - lit(r)) + t_lo)  # t − r first
    increments, in_d_m = {}, g  # m_k ↦ p_k(r + d) − p_k(r); G with exp(p_k(u)) = exp(p_k(r))·(1 + m_k)
    for k, atom in enumerate(sorted(g.atoms(sp.exp), key=sp.default_sort_key)):
        m, p = sp.Symbol(f"m{k}"), atom.args[0]
        increments[m] = sp.Poly(sp.expand(p.subs(u, r + d) - p.subs(u, r)), d)
        in_d_m = in_d_m.xreplace({atom: sp.exp(p.subs(u, r)) * (1 + m)})
    poly = sp.Poly(sp.expand(in_d_m.subs(u, r + d)), d, *increments)
    values = {d: dd} | {m: expm1(sp.Add(*(lit(c) * dd**k for (k,), c in q.terms()))) for m, q in increments.items()}
    expr = sp.Add(
        *(lit(c) * sp.Mul(*(values[v] ** e for v, e in zip(poly.gens, powers))) for powers, c in poly.terms())
    )
    return _Recentered(expr, r)


def _in_window(t: sp.Expr, g: _Recentered) -> sp.Boolean:
    """Where t − r is exact: between r/2 and 2r (r < 0 here)."""
    r = lit(g.root)
    return sp.And(t > 2 * r, t < r / 2) if g.root < 0 else sp.And(t > r / 2, t < 2 * r)


def _sigmoid(fn: Fn) -> StableForm:
    s, sn = _sigmoid_pair(fn.inputs[0])
    return StableForm(s, s * sn)


def _tanh(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    m = expm1(-2 * sp.Abs(x))  # e^(−2|x|) − 1, exact near 0
    # 1 + m would round to 0 for |x| ≳ 19; e^(−2|x|) itself stays accurate down to the underflow
    return StableForm(sp.sign(x) * (-m / (2 + m)), 4 * sp.exp(-2 * sp.Abs(x)) / (2 + m) ** 2)


def _softplus(fn: Fn) -> StableForm:
    x, b = fn.inputs[0], fn.param("beta")
    u = b * x
    s, _ = _sigmoid_pair(u)
    return StableForm((sp.Max(u, 0) + log1p(sp.exp(-sp.Abs(u)))) / b, s)


def _log_sigmoid(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    _, sn = _sigmoid_pair(x)
    return StableForm(sp.Min(x, 0) - log1p(sp.exp(-sp.Abs(x))), sn)


def _rescaled(value: sp.Expr) -> sp.Expr:
    """value·e^(−64) for a value computed scaled by e^64, so its intermediates stay clear of underflow."""
    return lit(sp.exp(-64)) * held(value)


def _silu(fn: Fn) -> StableForm:
    x, b = fn.inputs[0], fn.param("beta")
    u, ul = b * x, prod_err(b, _clamp(x, 1000))  # βx = u + ul (ul = 0 for β = 1)
    s, sn = _compensated_pair(u, ul)
    e = sp.exp(u)
    # For u < 0, f' = σ(u)·σ(−u)·G with G = 1 + u + eᵘ (1 + u is exact there); G has its root at u ≈ −1.28,
    # where it is re-expanded about the root
    g = _near_root(1 + _U + sp.exp(_U), -1.28, u, ul)
    left = _times_sigmoid_prime(e, held(1 + u) + e + (1 + e) * ul, s, sn, ul)
    # Below u = −600, σ(u) loses bits to underflow while x·σ(u) does not: carry it scaled by e^64
    e64 = sp.exp(u + 64) / (1 + e) * (1 + ul)
    return StableForm(
        sp.Piecewise((_rescaled(x * e64), u < -600), (x * s, True)),
        sp.Piecewise(
            (_rescaled(e64 * (1 + b * x * sn)), u < -600),
            (_times_sigmoid_prime(e, g.expr, s, sn, ul), _in_window(u, g)),
            (left, u < lit(g.root)),
            (s + b * x * s * sn, True),
        ),
    )


def _elu_like(scale: Callable[[Fn], sp.Expr], alpha: Callable[[Fn], sp.Expr], inner: Callable[[Fn], sp.Expr]):
    """scale·(x for x > 0, α·expm1(min(x, 0)/k) otherwise), with derivative."""

    def build(fn: Fn) -> StableForm:
        x = fn.inputs[0]
        lam, a, k = scale(fn), alpha(fn), inner(fn)
        neg = sp.Min(x, 0) / k
        return StableForm(lam * _where(x > 0, x, a * expm1(neg)), lam * _where(x > 0, 1, a / k * sp.exp(neg)))

    return build


#: GELU' = Φ(x) + x·φ(x) near its root x ≈ −0.7518: the window and the degree of its Taylor polynomial.
GELU_WINDOW, GELU_DEGREE = (-1.4, -0.35), 28


def _gelu_derivative_polynomials(n: int) -> list[sp.Poly]:
    """Q_0..Q_n with GELU^(k+2)(x) = φ(x)·Q_k(x): GELU'' = φ·(2 − x²), and (φ·Q)' = φ·(Q' − x·Q)."""
    x = _U
    polys = [sp.Poly(2 - x**2, x)]
    for _ in range(n):
        q = polys[-1]
        polys.append(q.diff(x) - sp.Poly(x, x) * q)
    return polys


@functools.lru_cache(maxsize=1)
def _gelu_near_root() -> tuple[sp.Rational, tuple[sp.Float, ...]]:
    """A double r next to the root of GELU' and the Taylor coefficients f^(k+1)(r)/k!, k = 0..n, at 40 digits."""
    with mpmath.workdps(60):
        root = mpmath.findroot(lambda t: mpmath.ncdf(t) + t * mpmath.npdf(t), -0.75)
        r = sp.Rational(float(root))
        rr = mpmath.mpf(float(root))
        qs = _gelu_derivative_polynomials(GELU_DEGREE - 1)
        coefficients = [mpmath.ncdf(rr) + rr * mpmath.npdf(rr)]  # f'(r) itself: tiny, r being a double
        for k in range(1, GELU_DEGREE + 1):
            coefficients.append(mpmath.npdf(rr) * mpmath.mpf(sp.N(qs[k - 1](r), 60)) / mpmath.factorial(k))
        return r, tuple(sp.Float(c, 40) for c in coefficients)


def _horner(coefficients, d: sp.Expr) -> sp.Expr:
    out = lit(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        out = lit(c) + d * out
    return out


def gelu_near_root_bound(pieces: int = 400) -> float:
    """A proved bound on |R(x)/f'(x)| on the GELU window, R the Taylor remainder of degree n about r.

    Taylor: R(x) = f^(n+2)(ξ)/(n+1)!·(x − r)^(n+1) = φ(ξ)·Q_n(ξ)/(n+1)!·d^(n+1). Mean value theorem about
    the true root r*: |f'(x)| = f''(η)·|x − r*| ≥ m·|x − r*|, m = min f'' > 0 on the window, and
    |x − r| ≤ 2|x − r*| for every double x ≠ r (r is the double nearest r*). So
    |R/f'| ≤ 2·M·δⁿ/((n+1)!·m) with M = max|φ·Q_n| and δ = max|x − r|. M and m are enclosed with
    mpmath's interval arithmetic on ``pieces`` subintervals, so the bound is rigorous.
    """
    root, coefficients = _gelu_near_root()
    n = len(coefficients) - 1
    q = _gelu_derivative_polynomials(n)[n]
    coeffs = [sp.Rational(c) for c in q.all_coeffs()]
    iv = mpmath.iv
    with mpmath.workdps(40):
        iv.dps = 40
        lo, hi = iv.mpf(GELU_WINDOW[0]), iv.mpf(GELU_WINDOW[1])
        big, small = iv.mpf(0), iv.mpf("inf")
        for j in range(pieces):
            t = iv.mpf([(lo + (hi - lo) * j / pieces).a, (lo + (hi - lo) * (j + 1) / pieces).b])
            phi = iv.exp(-t * t / 2) / iv.sqrt(2 * iv.pi)
            poly = iv.mpf(0)
            for c in coeffs:
                poly = poly * t + iv.mpf(c.p) / c.q
            big = iv.mpf(max(big.b, abs(phi * poly).b))  # upper ends: M from above
            small = iv.mpf(min(small.a, (phi * (2 - t * t)).a))  # lower ends: m from below
        if small.a <= 0:
            return float("inf")
        r = iv.mpf(root.p) / root.q
        delta = iv.mpf(max(abs(lo - r).b, abs(hi - r).b))
        return float((2 * big * delta**n / (iv.factorial(n + 1) * small)).b)


#: Where GELU's tail series takes over, and its number of terms.
GELU_TAIL, GELU_TAIL_TERMS = -37.5, 8


def _gelu_tail_series(x: sp.Expr) -> sp.Expr:
    """S(x) = Σ_{k<N} (−1)^k·(2k − 1)!!/x^(2k), with Φ(x) = φ(x)·S(x)/|x| + R for x < 0 (DLMF 7.12.1)."""
    inverse = ratio(1, x * x)
    terms = [sp.Integer((-1) ** k * sp.factorial2(2 * k - 1)) for k in range(GELU_TAIL_TERMS)]
    return _horner(terms, inverse)


def gelu_tail_bound() -> float:
    """A proved bound on the relative error of Φ(x) ≈ φ(x)·S(x)/|x| for x < GELU_TAIL.

    For real z > 0, the remainder of erfc's asymptotic series is at most the first
    omitted term in magnitude (DLMF 7.12(ii)); with z² = x²/2 that term, relative to
    the sum S ≥ 1 − 1/x², is (2N − 1)!!/x^(2N)/(1 − 1/x²), largest at x = GELU_TAIL.
    f' = Φ + x·φ inherits at most this relative error, Φ being 1/x² of it.
    """
    x2 = sp.Rational(GELU_TAIL) ** 2
    return float(sp.factorial2(2 * GELU_TAIL_TERMS - 1) / x2**GELU_TAIL_TERMS / (1 - 1 / x2))


def _gelu(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    xc = _clamp(x, 40)  # beyond ±40 the corrections multiply 0
    u, ul = lit(1 / sp.sqrt(2)) * x, prod_err(lit(1 / sp.sqrt(2)), xc) + lo(1 / sp.sqrt(2)) * xc  # x/√2 = u + ul
    e = sp.exp(-(x**2) / 2)  # from fl(x·x); x² = fl(x·x) + prod_err(x, x)
    # erfc(−u − ul) to first order: d erfc(z)/dz = −2e^(−z²)/√π; the rounding of x/√2 alone would cost
    # ~x² ULP in the negative tail
    c = erfc(-u) + 2 / sp.sqrt(sp.pi) * e * ul
    phi = e * (1 - prod_err(xc, xc) / 2) / sp.sqrt(2 * sp.pi)
    root, coefficients = _gelu_near_root()
    near_root = Approximation(
        *GELU_WINDOW, None, _horner(coefficients, held(x - lit(root))), 2.0**-60, gelu_near_root_bound
    )
    # Below x = −37.5, erfc(−x/√2) and φ(x) are subnormal, or nearly, and lose bits that f and f' still
    # have: Φ(x) = φ(x)·S(x)/|x| with the asymptotic series S (gelu_tail_bound), φ scaled by e^64
    phi64 = sp.exp(-(x**2) / 2 + 64) * (1 - prod_err(xc, xc) / 2) / sp.sqrt(2 * sp.pi)
    series = _gelu_tail_series(x)
    tail = Approximation(
        -sp.oo, GELU_TAIL, _rescaled(-phi64 * series), _rescaled(phi64 * held(x + series / -x)), 2.0**-60,
        gelu_tail_bound,
    )
    return StableForm(x * c / 2, c / 2 + x * phi, (tail, near_root))


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
    s, sn = _compensated_pair(u, ul)
    du = a + 3 * b * x**2
    # For x < 0, f' = σ(u)·σ(−u)·G with G = 1 + eᵘ + x·u'(x); G has its root at x ≈ −0.75, where it is
    # re-expanded about the root
    g = _near_root(1 + sp.exp(a * _U + b * _U**3) + _U * (a + 3 * b * _U**2), -0.75, x, 0)
    e = sp.exp(u)
    left = _times_sigmoid_prime(e, held(1 + x * du) + e, s, sn, ul)
    # Below u = −600, σ(u) loses bits to underflow while x·σ(u) does not: carry it scaled by e^64
    e64 = sp.exp(u + 64) / (1 + sp.exp(u)) * (1 + ul)
    return StableForm(
        sp.Piecewise((_rescaled(x * e64), u < -600), (x * s, True)),
        sp.Piecewise(
            (_rescaled(e64 * (1 + x * du * sn)), u < -600),
            (_times_sigmoid_prime(e, g.expr, s, sn, ul), _in_window(x, g)),
            (left, x < lit(g.root)),
            (s + x * du * s * sn, True),
        ),
    )


def _mish(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    w = sp.exp(-sp.Abs(x))
    # tanh(softplus(x)) = (e²ˣ + 2eˣ)/(e²ˣ + 2eˣ + 2), written in w = e^(−|x|) on each side of 0
    t = _where(x > 0, (1 + 2 * w) / (1 + 2 * w + 2 * w**2), w * (w + 2) / (w * (w + 2) + 2))
    one_minus_t = _where(x > 0, 2 * w**2 / (1 + 2 * w + 2 * w**2), 2 / (w * (w + 2) + 2))
    s, _ = _sigmoid_pair(x)
    df = t + x * s * one_minus_t * (1 + t)
    # For x < 0, in v = eˣ: f' = v·G/Q² with Q = v² + 2v + 2 and G = (v + 2)·Q + 4x(1 + v)
    # = 4(1 + x) + 2v(3 + 2x) + 4v² + v³ (1 + x and 3 + 2x exact); G has its root at x ≈ −1.19, where it is
    # re-expanded about the root
    v = sp.exp(_U)
    g = _near_root((v + 2) * (v**2 + 2 * v + 2) + 4 * _U * (1 + v), -1.19, x, 0)
    v = sp.exp(x)
    q2 = (v**2 + 2 * v + 2) ** 2
    left = ratio(v * (4 * held(1 + x) + 2 * v * held(3 + 2 * x) + v**2 * (4 + v)), q2)
    # Below x = −600, eˣ loses bits to underflow while x·eˣ does not: carry it scaled by e^64
    v64 = sp.exp(x + 64)
    t64 = v64 * (w + 2) / (w * (w + 2) + 2)  # t·e^64
    return StableForm(
        sp.Piecewise((_rescaled(x * t64), x < -600), (x * t, True)),
        sp.Piecewise(
            (_rescaled(t64 + x * v64 / (1 + w) * one_minus_t * (1 + t)), x < -600),
            (ratio(v * g.expr, q2), _in_window(x, g)),
            (left, x < lit(g.root)),
            (df, True),
        ),
    )


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
}


def stabilize_atoms(expr: sp.Expr) -> sp.Expr:
    """σ(u) and softplus(u) anywhere in ``expr`` → their stable forms (as proved for sigmoid and softplus)."""
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
    """log cosh r: log1p(expm1(|r|)²/(2e^|r|)) near 0 (that is cosh r − 1, without cancellation), and
    |r| + log1p(e^(−2|r|)) − log 2 away from it (cosh overflows for |r| > 710)."""
    r = fn.targets[0] - fn.inputs[0]
    a = sp.Abs(r)
    return _where(a < 1, log1p(expm1(a) ** 2 / (2 * sp.exp(a))), a + log1p(sp.exp(-2 * a)) - sp.log(2))


STABLE_LOSS: dict[str, Callable[[Fn], sp.Expr]] = {
    "bce_with_logits": lambda fn: softplus(fn.inputs[0]) - fn.targets[0] * fn.inputs[0],
    "log_cosh": _log_cosh,
}


def stable_loss(fn: Fn) -> sp.Expr:
    """The per-sample loss in a stable form (the definition where none is needed), parameters symbolic."""
    build = STABLE_LOSS.get(fn.name)
    return fn.expr if build is None else build(fn)


def stable_form(fn: Fn) -> StableForm:
    """The stable f and f' of an elementwise activation (parameters left symbolic).

    Functions without a hand-picked rewrite, user-defined ones included, use
    their definition and derived derivative with σ and softplus made stable.
    """
    if fn.kind != "activation" or fn.vector:
        raise ValueError(f"{fn.name}: stable forms are for elementwise activations")
    build = STABLE.get(fn.name)
    if build is not None:
        return build(fn)
    return StableForm(stabilize_atoms(fn.expr), stabilize_atoms(fn.derivative()))

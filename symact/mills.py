"""The Mills ratio as one rational function with a proved error bound: GELU's Φ without erfc.

For a ≥ 0 the Mills ratio M(a) = (1 − Φ(a))/φ(a) is smooth and decreasing,
from √(π/2) at 0 towards 1/a, so Φ(x) = φ(x)·M(−x) for x < 0 and
Φ(x) = 1 − φ(x)·M(x) for x ≥ 0. One rational function V(a)/D(a) with
D = a·V + U (all of V's coefficients positive, so no cancellation) matches
M to about 2^-53 on [0, 41] (scripts/fit_mills.py made the coefficients).
GELU then needs one exp and one division instead of erfc and exp: the
float32 kernels, which compute in double, run about 1.6 times faster.

The bound is proved, not sampled (:func:`mills_bound`): on each piece of
[0, 41], M is expanded in its Taylor series about the centre, whose
coefficients follow from M' = a·M − 1 by a recurrence; the remainder is
bounded because |M^(k)| decreases on a ≥ 0 (M(a) = ∫₀^∞ e^(−at − t²/2) dt);
and V − M·D is then a polynomial with interval coefficients, bounded term
by term. All of it runs in mpmath's interval arithmetic, starting from
M at the centres at 60 digits.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

from .rounding import _Atom, fast_sum_err, fma, held, horner, horner2, lit, prod_err, ratio, sum_err

#: The fit's range: beyond a = 41, φ(a) = e^(−840) underflows and the value of M no longer matters.
SPAN = 41.0
#: V(a) = Σ V[k]·a^k and U(a) = Σ U[k]·a^k, doubles (scripts/fit_mills.py --range 41 --degree 10).
V = (
    1.2533141373155003,
    2.084313082676564,
    1.7176691917980418,
    0.9066965942187067,
    0.3363937683124964,
    0.09125292444038594,
    0.01830700962339139,
    0.002685716959817735,
    0.0002768433249530525,
    1.823888039028388e-05,
    5.907022652800961e-07,
)
U = (
    1.0,
    1.2076116520344222,
    0.7497233386297253,
    0.3025025529677223,
    0.08606399873384497,
    0.017759224028968165,
    0.002649239433110263,
    0.00027566191342838015,
    1.823888054282089e-05,
    5.907022630069112e-07,
    2.0562785061743634e-17,
    -8.4647820955971e-20,
)
#: What tests/test_kernels.py checks :func:`mills_bound` against: 2^-52 of M.
BOUND = 2.0**-52


def _literals(coefficients) -> list[lit]:
    """The doubles as literals, exactly (a double is a rational)."""
    return [lit(sp.Rational(c)) for c in coefficients]


class mills_ratio(_Atom):  # noqa: N801  (a SymPy function: printers and srepr use the class name)
    """M(a) for a ≥ 0. Exact reading: √(π/2)·e^(a²/2)·erfc(a/√2), written with erf. Machine reading: V(a)/D(a), with a
    clamped to 41 (beyond, every caller multiplies M by φ(a) = 0)."""

    nargs = 1

    def exact_reading(self) -> sp.Expr:
        (a,) = self.args
        return sp.sqrt(sp.pi / 2) * sp.exp(a**2 / 2) * (1 - sp.erf(a / sp.sqrt(2)))  # erfc, as SymPy proves it

    def machine_reading(self) -> sp.Expr:
        a = sp.Min(self.args[0], sp.Float(SPAN))
        v = horner(_literals(V), a)
        return ratio(v, fma(a, v, horner(_literals(U), a)))


class mills_scaled(_Atom):  # noqa: N801
    """e·M(a) for a ≥ 0, the high part of a sum hi + lo (:class:`mills_scaled_lo` is the low part), for
    targets with a fused multiply-add. Exact reading: e·M(a).

    Machine reading: V/D as above, but with the roundings that matter carried: V's constant as
    √(π/2) (hi + lo), V's last Horner step, D = a·V + U and e·V as hi + lo, and the division corrected
    by its exact residual. Left: the rounding of V's and U's inner Horner steps, whose weight a·W/V is
    below 1 and which D = a·V + U partly cancels, and the fit, within :func:`scaled_bound` of M.
    """

    nargs = 2

    def exact_reading(self) -> sp.Expr:
        a, e = self.args
        return e * mills_ratio(a).exact_reading()

    def machine_reading(self) -> sp.Expr:
        return _scaled_parts(*self.args)[0]


class mills_scaled_lo(_Atom):  # noqa: N801
    """The low part of e·M(a) = :class:`mills_scaled` + this. Exact reading: 0."""

    nargs = 2

    def exact_reading(self) -> sp.Expr:
        return sp.S.Zero

    def machine_reading(self) -> sp.Expr:
        return _scaled_parts(*self.args)[1]


#: √(π/2) − V[0]: the fit's constant term is a double near M(0) = √(π/2); the compensated reading uses M(0).
V0_CORRECTION = sp.sqrt(sp.pi / 2) - sp.Rational(V[0])


def _scaled_parts(a: sp.Expr, e: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(hi, lo) of e·V(a)/D(a); see :class:`mills_scaled`. Built the same way for both atoms, so the
    kernels' common-subexpression pass computes each piece once."""
    a = sp.Min(a, sp.Float(SPAN))
    v0 = lit(sp.Rational(V[0]))
    pw = held(a * horner2(_literals(V[1:]), a))
    v = held(v0 + pw)
    v_lo = fast_sum_err(v0, pw) + lit(V0_CORRECTION)  # not exact where a·W > V[0]; there D = a·V + U cancels it
    u = held(1 + held(a * horner2(_literals(U[1:]), a)))
    av = held(a * v)
    d = held(av + u)
    d_lo = prod_err(a, v) + a * v_lo + sum_err(av, u)
    n = held(e * v)
    n_lo = prod_err(e, v) + e * v_lo
    inverse = ratio(1, d)
    q = held(n * inverse)
    return q, held(fma(-q, d, n) + n_lo - q * d_lo) * inverse


def scaled_bound() -> float:
    """A proved bound on the relative error of :class:`mills_scaled`'s reading in exact arithmetic.

    That reading is V'/D' with V' = V + δ (δ = :data:`V0_CORRECTION`) and D' = a·V' + U. Then
    V'/D' − V/D = δ·U/(D·D'), whose ratio to V/D is δ·U/(V·D') ≤ |δ|/V(0), as U ≤ D' and V ≥ V(0) on
    a ≥ 0 (all of V's coefficients are positive). So the bound is :func:`mills_bound` plus |δ|/V[0].
    """
    return mills_bound() + float(abs(V0_CORRECTION) / sp.Rational(V[0])) * (1 + 2.0**-50)


def mills_reference(a):
    """M(a) in mpmath, at its working precision: what the fit (scripts/fit_mills.py) and the proof start from."""
    return mpmath.sqrt(mpmath.pi / 2) * mpmath.exp(a * a / 2) * mpmath.erfc(a / mpmath.sqrt(2))


def _taylor(a, m, n: int) -> list:
    """μ_0..μ_n, μ_k = M^(k)(a)/k!, from μ_0 = M(a): M' = a·M − 1, and M^(k+1) = a·M^(k) + k·M^(k−1)."""
    mu = [m, a * m - 1]
    for k in range(1, n):
        mu.append((a * mu[k] + mu[k - 1]) / (k + 1))
    return mu


def _shift(coefficients, c) -> list:
    """The coefficients of p(c + s) in s, from those of p(a) in a."""
    out = [mpmath.iv.mpf(0)] * len(coefficients)
    for coefficient in reversed(coefficients):  # Horner on polynomials: out = out·(c + s) + coefficient
        out = [c * out[0] + coefficient] + [c * out[k] + out[k - 1] for k in range(1, len(out))]
    return out


def _add(p, q) -> list:
    n = max(len(p), len(q))
    zero = mpmath.iv.mpf(0)
    return [(p[k] if k < len(p) else zero) + (q[k] if k < len(q) else zero) for k in range(n)]


def _mul(p, q) -> list:
    out = [mpmath.iv.mpf(0)] * (len(p) + len(q) - 1)
    for i, x in enumerate(p):
        for j, y in enumerate(q):
            out[i + j] += x * y
    return out


@functools.lru_cache(maxsize=4)
def mills_bound(pieces: int = 410, order: int = 24, v: tuple = V, u: tuple = U) -> float:
    """A proved bound on |V/D − M|/M over [0, SPAN], D = a·V + U.

    On a piece [c − h, c + h]: M(c + s) = T(s) + ρ(s), T the Taylor polynomial of degree ``order``,
    |ρ| ≤ |μ_(order+1)(c − h)|·h^(order+1) (|M^(k)| decreases on a ≥ 0). Then V − M·D = (V − T·D) − ρ·D,
    where V − T·D is a polynomial in s with interval coefficients: |V − T·D| ≤ Σ|e_k|·h^k. Divided by
    min D and by M(c + h) (M decreases), that bounds the relative error on the piece.
    """
    iv = mpmath.iv
    with mpmath.workdps(60):
        iv.dps = 60
        vc = [iv.mpf(sp.Rational(c).p) / sp.Rational(c).q for c in v]  # the doubles, exactly
        uc = [iv.mpf(sp.Rational(c).p) / sp.Rational(c).q for c in u]
        dc = _add(uc, [iv.mpf(0)] + vc)  # D = a·V + U
        worst = 0.0
        h = mpmath.mpf(SPAN) / (2 * pieces)
        hh = iv.mpf(h)
        slack = mpmath.mpf(10) ** -50  # M at 60 digits, trusted to 50
        edges = [mills_reference(2 * j * h) for j in range(pieces + 1)]  # each piece's ends, shared with its neighbours

        def taylor(a, m):
            return _taylor(iv.mpf(a), iv.mpf([m * (1 - slack), m * (1 + slack)]), order + 1)

        for j in range(pieces):
            c = (2 * j + 1) * h
            mu = taylor(c, mills_reference(c))
            rho = abs(taylor(2 * j * h, edges[j])[order + 1]).b * hh ** (order + 1)
            d = _shift(dc, iv.mpf(c))
            e = _add(_shift(vc, iv.mpf(c)), [-t for t in _mul(mu[: order + 1], d)])
            d_max = sum(abs(t) * hh**k for k, t in enumerate(d)).b  # (ivmpf ends are degenerate intervals)
            d_min = (d[0] - sum(abs(t) * hh**k for k, t in enumerate(d[1:], 1))).a
            if not d_min > 0:
                return float("inf")
            error = (sum(abs(t) * hh**k for k, t in enumerate(e)) + rho * d_max).b
            m_min = iv.mpf(edges[j + 1] * (1 - slack))
            worst = max(worst, float((error / (d_min * m_min)).b) * (1 + 2.0**-50))  # float() rounds
        return worst

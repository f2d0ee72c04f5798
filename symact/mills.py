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
import numpy as np
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


#: M at 60 digits, trusted to 50: the intervals around it in the proofs.
SLACK = mpmath.mpf(10) ** -50


def _piece(c, h, m_c, m_left, order: int):
    """M's Taylor coefficients μ_0..μ_order at c, as intervals (M(c) = ``m_c`` at 60 digits), and a bound r
    with |M(c + s) − T(s)| ≤ r·|s|^(order+1) for |s| ≤ h: |μ_(order+1)| at the piece's left end c − h ≥ 0
    (``m_left`` = M(c − h)), as |M^(k)| decreases on a ≥ 0. Call inside ``mpmath.workdps(60)``."""
    iv = mpmath.iv

    def taylor(a, m):
        return _taylor(iv.mpf(a), iv.mpf([m * (1 - SLACK), m * (1 + SLACK)]), order + 1)

    return taylor(c, m_c)[: order + 1], abs(taylor(c - h, m_left)[order + 1]).b


def _norm(p, h):
    """An upper bound of |p(s)| for |s| ≤ h: Σ|p_k|·h^k (ivmpf ends are degenerate intervals)."""
    return sum(abs(t) * h**k for k, t in enumerate(p))


def _range(p, h) -> tuple:
    """Upper and lower bounds of p(s) for |s| ≤ h: p(0) ± Σ_(k≥1)|p_k|·h^k."""
    return _norm(p, h).b, (p[0] - _norm([0] + p[1:], h)).a


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
        edges = [mills_reference(2 * j * h) for j in range(pieces + 1)]  # each piece's ends, shared with its neighbours

        for j in range(pieces):
            c = (2 * j + 1) * h
            mu, rest = _piece(c, h, mills_reference(c), edges[j], order)
            d = _shift(dc, iv.mpf(c))
            e = _add(_shift(vc, iv.mpf(c)), [-t for t in _mul(mu[: order + 1], d)])
            d_max, d_min = _range(d, hh)
            if not d_min > 0:
                return float("inf")
            error = (_norm(e, hh) + rest * hh ** (order + 1) * d_max).b
            m_min = iv.mpf(edges[j + 1] * (1 - SLACK))
            worst = max(worst, float((error / (d_min * m_min)).b) * (1 + 2.0**-50))  # float() rounds
        return worst


# float32 data, computed in double: one smaller rational, centred on the root of M(a) = a.
#
# GELU' = φ·(M − a) for x < 0 vanishes where M(a) = a (a ≈ 0.7518), so M − a cancels there and the
# float32 kernels would need M to 2^-53 (the rational above, degrees 10 and 11) only for the last few
# float32 points next to the root. Written about r, the double nearest the root, with the divided
# difference W(a) = (M(a) − M(r))/(a − r) (smooth: M is entire), both
#
#     M = M(r) + (a − r)·W    and    M − a = (M(r) − r) + (a − r)·(W − 1)
#
# are exact, and neither cancels: W ≤ 0 (M decreases), so |W − 1| ≥ 1, and M(r) − r ≈ 10⁻¹⁷ is a constant.
# W = P/Q to 2^-34, degrees 5 and 6 (scripts/fit_mills.py --single), is then enough for float32.

#: The fit's range. Beyond it, float32 GELU and its derivative are subnormal (|x·φ(x)| < 2^-126 for
#: |x| > 13.3); every caller multiplies M by φ(a), and the kernels' absolute error stays below 2^-126.
SINGLE_SPAN = 14.0
#: W(a) ≈ P(a)/Q(a) (scripts/fit_mills.py --single --range 14 --degree 5).
P = (
    -0.6671033073863062,
    -0.739905869627763,
    -0.3808762167380952,
    -0.11070165615547853,
    -0.018180377867121848,
    -0.0013780847482438476,
)
Q = (
    1.0,
    1.7729044093594946,
    1.3811561317074186,
    0.6098118455105394,
    0.16264809467818012,
    0.025242889552670837,
    0.001833068099603275,
)
#: What tests/test_mills.py checks :func:`single_bound` against: 2^-33, 2^-9 of a float32 ULP.
SINGLE_BOUND = 2.0**-33
#: The half-width of the piece about r in :func:`single_bound`, and how many sub-pieces it is bounded on.
_CENTRE, _CENTRE_PIECES = 0.25, 40


@functools.lru_cache(maxsize=1)
def mills_root() -> float:
    """r: the double nearest the root a* ≈ 0.7518 of M(a) = a, where GELU' changes sign."""
    with mpmath.workdps(60):
        return float(mpmath.findroot(lambda a: mills_reference(a) - a, 0.75))


@functools.lru_cache(maxsize=1)
def _root_constants() -> tuple[sp.Rational, sp.Rational, sp.Rational]:
    """r, and the doubles nearest M(r) and M(r) − r, exactly."""
    r = mills_root()
    with mpmath.workdps(60):
        m = mills_reference(mpmath.mpf(r))
        return sp.Rational(r), sp.Rational(float(m)), sp.Rational(float(m - r))


def _single_parts(a: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(a − r, P(a)/Q(a)): the same expressions for both atoms, so a kernel computes them once."""
    r, _, _ = _root_constants()
    return held(a - lit(r)), ratio(horner(_literals(P), a), horner(_literals(Q), a))


class mills_single(_Atom):  # noqa: N801
    """M(a) for a ≥ 0, for float32 data computed in double: M(r) + (a − r)·P(a)/Q(a), within
    :func:`single_bound` of M on [0, SINGLE_SPAN] (see the notes above :data:`SINGLE_SPAN`). Not clamped:
    beyond SINGLE_SPAN, P/Q keeps W's shape (about −0.75/a), and φ(a) makes the result subnormal in
    float32. Exact reading: M(a)."""

    nargs = 1

    def exact_reading(self) -> sp.Expr:
        return mills_ratio(self.args[0]).exact_reading()

    def machine_reading(self) -> sp.Expr:
        _, m_r, _ = _root_constants()
        d, w = _single_parts(self.args[0])
        return fma(d, w, lit(m_r))


class mills_single_gap(_Atom):  # noqa: N801
    """M(a) − a for a ≥ 0, without the cancellation at its root: (M(r) − r) + (a − r)·(P(a)/Q(a) − 1), within
    :func:`single_bound` of M − a, relatively, at every float32 a on [0, SINGLE_SPAN]. Exact reading: M(a) − a."""

    nargs = 1

    def exact_reading(self) -> sp.Expr:
        return mills_ratio(self.args[0]).exact_reading() - self.args[0]

    def machine_reading(self) -> sp.Expr:
        _, _, gap = _root_constants()
        d, w = _single_parts(self.args[0])
        return fma(d, w - 1, lit(gap))


def _float32_distance(r: float) -> float:
    """The distance from r to the nearest float32 other than r: |a − r| for the float32 data a next to r."""
    f = float(np.float32(r))
    neighbours = [f] + [float(np.nextafter(np.float32(f), np.float32(s))) for s in (0, 1)]
    return min(abs(n - r) for n in neighbours if n != r)


@functools.lru_cache(maxsize=4)
def single_bound(pieces: int = 400, order: int = 24, p: tuple | None = None, q: tuple | None = None) -> float:
    """A proved bound on the relative errors of :class:`mills_single` (to M) and, at float32 a, of
    :class:`mills_single_gap` (to M − a), in exact arithmetic, on [0, SINGLE_SPAN].

    With R = P/Q, M̂ = m + (a − r)·R (m the double nearest M(r)), and M(a + s) = T(s) + ρ(s) on pieces about c,
    as in :func:`mills_bound`: M̂·Q − M·Q = m·Q + (a − r)·P − T·Q − ρ·Q, a polynomial with interval
    coefficients, bounds |M̂ − M|. Then |R − W| = |M̂ − M − (m − M(r))|/|a − r| away from r; on the piece
    centred on r itself, (R − W)·Q = P − T₁·Q − ρ₁·Q with T₁ = Σ_(k≥1) μ_k·s^(k−1) (W's Taylor polynomial:
    W(r + s) = (M(r + s) − M(r))/s) and |ρ₁| ≤ |μ_(n+1)|·|s|^n. Finally ĝ − g = (γ̂ − γ) + (a − r)·(R − W) for
    the gap, γ = M(r) − r and γ̂ its double, with |g| ≥ |a − r| − |γ| (|W − 1| ≥ 1); at float32 a,
    |a − r| ≥ δ, the distance from r to the float32 grid.
    """
    p, q = P if p is None else p, Q if q is None else q
    iv = mpmath.iv
    r_, m_, gap_ = _root_constants()
    with mpmath.workdps(60):
        iv.dps = 60

        def exact(c) -> mpmath.iv.mpf:
            c = sp.Rational(c)
            return iv.mpf(c.p) / c.q

        pc, qc = [exact(c) for c in p], [exact(c) for c in q]
        r, m = exact(r_), exact(m_)
        m_r = mills_reference(mpmath.mpf(mills_root()))
        exact_m_r = iv.mpf([m_r * (1 - SLACK), m_r * (1 + SLACK)])
        delta = abs(m - exact_m_r)  # |m − M(r)|
        gamma = exact_m_r - r  # M(r) − r, and its double's error
        gamma_error = abs(exact(gap_) - gamma)
        left, right = mpmath.mpf(mills_root()) - _CENTRE, mpmath.mpf(mills_root()) + _CENTRE
        n_left = max(1, int(pieces * left / SINGLE_SPAN))
        bounds = [left * j / n_left for j in range(n_left + 1)]
        bounds += [right + (SINGLE_SPAN - right) * j / (pieces - n_left) for j in range(pieces - n_left + 1)]
        worst_m = worst_w = iv.mpf(0)
        for j, (start, end) in enumerate(zip(bounds, bounds[1:])):
            if j == n_left:  # [left, right]: the piece centred on r, below
                continue
            c, h = (start + end) / 2, (end - start) / 2
            mu, rest = _piece(c, h, mills_reference(c), mills_reference(start), order)
            hh, cc = iv.mpf(h), iv.mpf(c)
            qs = _shift(qc, cc)
            q_max, q_min = _range(qs, hh)
            if not q_min > 0:
                return float("inf")
            n = _add(_add([m * t for t in qs], _mul([cc - r, iv.mpf(1)], _shift(pc, cc))), [-t for t in _mul(mu, qs)])
            error = (_norm(n, hh) + rest * hh ** (order + 1) * q_max) / q_min  # |M̂ − M|
            worst_m = iv.mpf(max(worst_m.b, (error / iv.mpf(mills_reference(end) * (1 - SLACK))).b))
            distance = iv.mpf(min(abs(start - r.a), abs(end - r.a)))  # both ends on one side of r
            worst_w = iv.mpf(max(worst_w.b, ((error + delta) / distance).b))
        # the piece centred on r, s = a − r: W's Taylor polynomial about r, and its error bounded on sub-pieces
        mu, rest = _piece(mpmath.mpf(mills_root()), _CENTRE, m_r, mills_reference(left), order)
        qs = _shift(qc, r)
        e = _add(_shift(pc, r), [-t for t in _mul(mu[1:], qs)])  # (R − W)·Q, but for ρ₁·Q
        h = mpmath.mpf(_CENTRE) / _CENTRE_PIECES
        for j in range(_CENTRE_PIECES):
            centre = -_CENTRE + (2 * j + 1) * h
            sc = iv.mpf(centre)
            q_max, q_min = _range(_shift(qs, sc), iv.mpf(h))
            w_error = (_norm(_shift(e, sc), iv.mpf(h)) + rest * iv.mpf(_CENTRE) ** order * q_max) / q_min
            worst_w = iv.mpf(max(worst_w.b, w_error.b))
            m_min = iv.mpf(mills_reference(mills_root() + centre + h) * (1 - SLACK))
            worst_m = iv.mpf(max(worst_m.b, (((abs(sc) + h) * w_error + delta) / m_min).b))
        distance = iv.mpf(_float32_distance(mills_root()))
        worst_gap = (gamma_error / distance + worst_w) / (1 - abs(gamma).b / distance)
        return float(iv.mpf(max(worst_m.b, worst_gap.b)).b) * (1 + 2.0**-50)

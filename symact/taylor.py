"""Taylor coefficients by recurrence, as numbers or as enclosures: series where a user's function cancels.

A function written as a sum that vanishes at a root, x − tanh x at 0 or
3x² − 1 at 1/√3, cannot be computed near that root from its terms: each
term rounds, and the difference of nearly equal rounded terms has no
correct digits left. The catalog's functions have hand-made forms there
(SiLU's and GELU's re-expansions about the root of f'); for a user's
function, :func:`near_roots` finds such roots and replaces the function
on a window about each by its Taylor polynomial, whose relative error is
proved, not sampled.

The coefficients come from the classical recurrences of Taylor arithmetic
(Griewank and Walther, *Evaluating Derivatives*, ch. 13): the series of a
sum, product, quotient, power, exp, log, sin, cos, tanh, erf, … follow
from those of the operands, so g(a + t) = Σ c_k·t^k to any order in
O(n²) operations per node, with no symbolic differentiation. Run on
mpmath numbers at a point, they give the coefficients the kernel uses. Run
on balls (FLINT's arb, :class:`_Balls`) that hold a piece X of the window,
each an interval with every rounding inside it, coefficient k encloses
g^(k)(ξ)/k! for every ξ in X, which is what the remainder bound needs
(:func:`remainder_bound`): the terms past the polynomial's degree and
Lagrange's remainder after them from above, and |g| near its root from
below, as |d|^m times a factor that excludes 0 (d = x − r, m the root's
multiplicity).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from typing import NamedTuple

import flint
import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from . import __version__
from .functions import sigmoid, softplus
from .rounding import held, horner, lit, ratio

#: Digits of the coefficients (they become doubles), and bits of the enclosures.
DPS = 50
PREC = mpmath.libmp.dps_to_prec(DPS)
#: The highest degree tried: beyond it the window shrinks instead (x − tanh x about 0 takes 83 on |x| < 0.94).
MAX_DEGREE = 100
#: Roots are sought where the function changes sign on this span, and at 0.
SPAN = 8.0


@dataclass(frozen=True)
class Goal:
    """What a near-root polynomial must achieve: a relative error proved within ``target``, on a window that
    reaches out to where the sums that vanish at the root are no worse conditioned than ``condition``."""

    target: float
    condition: float


#: For float64 data: 2^-56, an eighth of a double's ULP, out to where the condition Σ|terms|/|sum| is 2.5; there
#: the direct form, whose terms are each off by up to 1 or 2 ULP, is within ~3 ULP (x − tanh x in numba, whose
#: tanh is 1.9 ULP off: 4.8 ULP at x = 0.95, where the condition is 8).
DOUBLE = Goal(2.0**-56, 2.5)
#: For float32 data, which kernels compute in double: 2^-30, and only where the condition exceeds 2^20, as the
#: direct form's error is then below 2^-33, 2^-9 of a float's ULP. x − tanh x: |x| < 0.0026, degree 5.
SINGLE = Goal(2.0**-30, 2.0**20)
#: A window is at most this fraction of the series' radius of convergence, where it converges like 0.6^n.
REACH = 0.6


#: Where a function has these, it has a kink or a jump, and no Taylor series about it.
KINKS = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise)


class Unsupported(Exception):
    """An operation the recurrences do not cover: a kink (abs, max, piecewise) or an unknown function."""


# -- number contexts: exact values at a point, or enclosures over an interval ----------------------------------


class _Points:
    """mpmath numbers at DPS digits."""

    zero, one = mpmath.mpf(0), mpmath.mpf(1)

    def const(self, c: sp.Expr):
        v = sp.N(c, DPS + 10)
        if not v.is_real:
            raise Unsupported("a complex constant")
        return mpmath.mpf(v)

    def positive(self, v) -> bool:
        return v > 0

    def __getattr__(self, name):  # exp, log, sin, cos, tanh, erf, atan, atanh, asinh: real values only
        fun = getattr(mpmath, name)

        def real(v):
            out = fun(v)
            if isinstance(out, mpmath.mpc):
                raise Unsupported(f"{name} is not real at {v}")  # atanh(2)
            return out

        return real


class _Balls:
    """FLINT's arb balls (python-flint) at PREC bits: a midpoint and a radius that holds every rounding, so that
    each result encloses its exact value, as an interval does; some 15 times as fast as mpmath's intervals, which
    made a window search take up to a minute (the slope of x·sinh(x)/cosh²(x): 33 s). The functions that take
    a ball beyond their domain (log of one that holds 0, atanh of one that holds 1) give NaN, which no bound
    takes as finite."""

    zero, one = flint.arb(0), flint.arb(1)

    def const(self, c: sp.Expr):
        if c.is_Rational:
            return flint.arb(flint.fmpq(c.p, c.q))
        v = sp.N(c, DPS + 10)
        if not v.is_real:
            raise Unsupported("a complex constant")
        q = sp.Rational(v)  # v exactly
        m = flint.arb(flint.fmpq(int(q.p), int(q.q)))
        return m + flint.arb(0, 1) * abs(m) * flint.arb(flint.fmpq(1, 10 ** (DPS + 5)))

    def positive(self, v) -> bool:
        return v > 0  # True only where every point of v is

    def __getattr__(self, name):  # exp, log, sin, cos, tanh, erf, atan, atanh, asinh: arb's own
        return lambda v: getattr(v, name)()


POINTS, BALLS = _Points(), _Balls()


# -- the recurrences: lists c[0..n] of the coefficients of t^k -------------------------------------------------


def _support(a, ctx) -> list[int]:
    """The k ≥ 1 where a_k is not the context's zero itself: the series of x, x² or 1 + x stop early, and the
    recurrences skip their zeros (x − tanh x to degree 100: O(n) per step instead of O(n²))."""
    return [k for k in range(1, len(a)) if a[k] is not ctx.zero]


def _sum(terms, ctx):
    out = ctx.zero
    for t in terms:
        out = t if out is ctx.zero else out + t
    return out


def _mul(a, b, ctx):
    na, nb = [0, *_support(a, ctx)], [0, *_support(b, ctx)]
    out = [ctx.zero] * len(a)
    for i in na:
        for j in nb:
            if i + j < len(a) and a[i] is not ctx.zero and b[j] is not ctx.zero:
                out[i + j] = a[i] * b[j] if out[i + j] is ctx.zero else out[i + j] + a[i] * b[j]
    return out


def _div(a, b, ctx):
    if not _nonzero(b[0], ctx):
        raise Unsupported("a division by a series that vanishes at its point")
    nb, q = _support(b, ctx), []
    for k in range(len(a)):
        q.append((a[k] - _sum((b[j] * q[k - j] for j in nb if j <= k), ctx)) / b[0])
    return q


def _scaled(a, c, ctx):
    """c·a, its zeros kept as the context's zero."""
    return [v if v is ctx.zero else v * c for v in a]


def _plus(a, c):
    """a + c for a number c: only a_0 changes."""
    return [a[0] + c, *a[1:]]


def _nonzero(v, ctx) -> bool:
    return ctx.positive(v) or ctx.positive(-v)


def _integral(a, g, f0, ctx):
    """F with F' = G(a)·a' and F(a_0) = f0, from G's series ``g``: F_k = Σ_{j=1..k} j·a_j·G_(k−j)/k."""
    na = _support(a, ctx)
    return [f0] + [_sum((j * a[j] * g[k - j] for j in na if j <= k), ctx) / k for k in range(1, len(a))]


def _exp(a, ctx):
    na, e = _support(a, ctx), [ctx.exp(a[0])]
    for k in range(1, len(a)):
        e.append(_sum((j * a[j] * e[k - j] for j in na if j <= k), ctx) / k)
    return e


def _log(a, ctx):
    """l_k = (a_k − Σ_{j=1..k−1} j·l_j·a_(k−j)/k)/a_0, the sum over the a_i (i = k − j) that are not 0."""
    if not ctx.positive(a[0]):
        raise Unsupported("a logarithm of a series not positive at its point")
    na, out = _support(a, ctx), [ctx.log(a[0])]
    for k in range(1, len(a)):
        out.append((a[k] - _sum(((k - i) * out[k - i] * a[i] for i in na if i < k), ctx) / k) / a[0])
    return out


def _sin_cos(a, ctx):
    na, s, c = _support(a, ctx), [ctx.sin(a[0])], [ctx.cos(a[0])]
    for k in range(1, len(a)):
        s.append(_sum((j * a[j] * c[k - j] for j in na if j <= k), ctx) / k)
        c.append(-_sum((j * a[j] * s[k - j] for j in na if j <= k), ctx) / k)
    return s, c


def _tanh(a, ctx):
    """t' = (1 − t²)·a': each t_k needs 1 − t² only to order k − 1."""
    na, t, w = _support(a, ctx), [ctx.tanh(a[0])], []
    for k in range(1, len(a)):
        m = k - 1
        w.append((ctx.one if m == 0 else ctx.zero) - _sum((t[i] * t[m - i] for i in range(m + 1)), ctx))
        t.append(_sum((j * a[j] * w[k - j] for j in na if j <= k), ctx) / k)
    return t


def _power(a, p, ctx):
    """a^p for a number p, a_0 > 0: p_k = Σ_{j=1..k} (p·j − (k − j))·a_j·p_(k−j)/(k·a_0)."""
    if not ctx.positive(a[0]):
        raise Unsupported("a fractional power of a series not positive at its point")
    na, out = _support(a, ctx), [ctx.exp(p * ctx.log(a[0]))]
    for k in range(1, len(a)):
        out.append(_sum(((p * j - (k - j)) * a[j] * out[k - j] for j in na if j <= k), ctx) / (k * a[0]))
    return out


def coefficients(expr: sp.Expr, x: sp.Symbol, at, n: int, ctx=POINTS) -> list:
    """c_0..c_n with expr(at + t) = Σ c_k·t^k + O(t^(n+1)), as mpmath numbers (``ctx`` POINTS, ``at`` a number)
    or balls (BALLS, ``at`` a ball, an interval: c_k then holds expr^(k)(ξ)/k! for every ξ in it).

    Raises:
        Unsupported: a kink, an unknown function, or a singularity at ``at``.
    """
    with mpmath.workdps(DPS), flint.ctx.workprec(PREC):
        zeros = [ctx.zero] * n
        memo: dict[sp.Expr, list] = {}

        def constant(v):
            return [v, *zeros]

        def walk(e: sp.Expr) -> list:
            if e in memo:
                return memo[e]
            if e == x:
                out = [at, ctx.one, *zeros[1:]] if n else [at]
            elif not e.has(x):
                out = constant(ctx.const(e))
            elif e.is_Add:
                parts = [walk(a) for a in e.args]
                out = [_sum((c[k] for c in parts if c[k] is not ctx.zero), ctx) for k in range(n + 1)]
            elif e.is_Mul:
                out = walk(e.args[0])
                for a in e.args[1:]:
                    out = _mul(out, walk(a), ctx) if a.has(x) else _scaled(out, ctx.const(a), ctx)
            elif e.is_Pow:
                out = _pow(e)
            else:
                out = _function(e)
            memo[e] = out
            return out

        def _pow(e):
            base, p = e.args
            if p.has(x):
                return _exp(walk(p * sp.log(base)), ctx)
            if p.is_Integer:
                out, a = constant(ctx.one), walk(base)
                for _ in range(abs(int(p))):
                    out = _mul(out, a, ctx)
                return out if p > 0 else _div(constant(ctx.one), out, ctx)
            return _power(walk(base), ctx.const(p), ctx)

        def _function(e):
            if len(e.args) != 1:
                raise Unsupported(type(e).__name__)
            a = walk(e.args[0])
            kind = type(e)
            if kind is sp.exp:
                return _exp(a, ctx)
            if kind is sp.log:
                return _log(a, ctx)
            if kind in (sp.sin, sp.cos):
                return _sin_cos(a, ctx)[0 if kind is sp.sin else 1]
            if kind is sp.tanh:
                return _tanh(a, ctx)
            if kind in (sp.sinh, sp.cosh):
                e_plus, e_minus = _exp(a, ctx), _exp(_scaled(a, -ctx.one, ctx), ctx)
                sign = -1 if kind is sp.sinh else 1
                return [p if p is q is ctx.zero else (p + sign * q) / 2 for p, q in zip(e_plus, e_minus)]
            if kind is sigmoid:
                return _div(constant(ctx.one), _plus(_exp(_scaled(a, -ctx.one, ctx), ctx), 1), ctx)
            if kind is softplus:
                return _log(_plus(_exp(a, ctx), 1), ctx)
            if kind is expm1:
                return _plus(_exp(a, ctx), -1)
            if kind is log1p:
                return _log(_plus(a, 1), ctx)
            if kind in (sp.erf, sp.erfc):
                g = _scaled(_exp(_scaled(_mul(a, a, ctx), -ctx.one, ctx), ctx), ctx.const(2 / sp.sqrt(sp.pi)), ctx)
                f = _integral(a, g, ctx.erf(a[0]), ctx)
                return f if kind is sp.erf else _plus(_scaled(f, -ctx.one, ctx), 1)
            if kind in (sp.atan, sp.atanh, sp.asinh):
                square = _mul(a, a, ctx)
                if kind is sp.asinh:
                    g = _power(_plus(square, 1), ctx.const(sp.Rational(-1, 2)), ctx)
                else:
                    sign = 1 if kind is sp.atan else -1
                    g = _div(constant(ctx.one), _plus(_scaled(square, sign * ctx.one, ctx), 1), ctx)
                return _integral(a, g, getattr(ctx, kind.__name__)(a[0]), ctx)
            raise Unsupported(kind.__name__)

        return walk(expr)


# -- near-root polynomials --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearRoot:
    """g on lo < x < hi as its Taylor polynomial about r: the root itself where it is exactly a double (``exact``:
    then c_0..c_(m−1) are 0), else the double next to a simple root, with c_0 = g(r) tiny."""

    g: sp.Expr
    x: sp.Symbol
    root: sp.Rational
    exact: bool
    order: int  # m, the multiplicity of the root
    window: tuple[float, float]
    coefficients: tuple[sp.Float, ...]  # c_0..c_n of g(r + d), at DPS digits
    bound: float  # proved: |P − g| ≤ bound·|g| on the window
    goal: Goal
    #: s where g is N/D with a removable singularity at 0 (:func:`removable`), D vanishing there to order s:
    #: then ``g``, ``order`` and the coefficients are N's. About 0, N's polynomial over xˢ (its first s
    #: coefficients 0) is divided by D's over xˢ (``denominator``, on the same window), or is g's where D is xˢ;
    #: beside that window, N's polynomial is divided by D itself (``over``)
    shift: int = 0
    denominator: NearRoot | None = None
    over: sp.Expr | None = None

    @property
    def degree(self) -> int:
        return len(self.coefficients) - 1

    def prove(self) -> float:
        """The bound, proved again (:func:`remainder_bound`); about a removable singularity with a denominator
        other than xˢ, that of N's polynomial over D's (:func:`_quotient_bound`)."""
        bound = remainder_bound(self.g, self.x, self.root, self.exact, self.order, self.window, self.degree, self.goal)
        return bound if self.denominator is None else _quotient_bound(bound, self.denominator.prove())

    def polynomial(self) -> sp.Expr:
        """P(x) in Horner form, with double coefficients. About an exact root, dᵐ·Q(d) with d = x − r (exact for
        r = 0), and Q in d² where g is odd or even there; else c_0 + d·(c_1 + …), c_0 = g(r). With a shift s,
        m = order − s: N's polynomial over xˢ, over D's where D is not xˢ."""
        if self.denominator is not None:
            return ratio(dataclasses.replace(self, denominator=None).polynomial(), self.denominator.polynomial())
        x, r, cs = self.x, self.root, self.coefficients
        d = x if r == 0 else held(x - lit(r))
        if not self.exact:
            return horner([lit(c) for c in cs], d)
        rest, m = list(cs[self.order :]), self.order - self.shift
        if r != 0 and self.shift:  # next to a removable singularity's window: N's polynomial, divided by D
            return ratio(horner([lit(c) for c in rest], d), x**self.shift if self.over is None else self.over)
        if m == 0 and not self.shift:  # a window next to a root's, where g does not vanish
            return horner([lit(c) for c in rest], d)
        if all(c.is_zero for c in rest[1::2]):  # odd or even about r: a polynomial in d² (Float(0) == 0 is False)
            z = held(d * d)
            q = horner([lit(c) for c in rest[0::2]], z)
            return q if m == 0 else held(z ** (m // 2) * (d if m % 2 else 1)) * q
        q = horner([lit(c) for c in rest], d)
        return q if m == 0 else held(d**m) * q


#: Widths a side of a window is tried at, each 30 % narrower than the last: 8, as the slope of x/cosh(x) is proved
#: about its roots ±1.1997 only at 0.185 of the 1.125 that the series' radius allows (REACH), the 6th (with 5 it
#: had no window, and was 2·10³ ULP off at x = 1.2). A function that has its windows by the 5th is unchanged.
NARROWINGS = 8
#: Proofs a search may try for one function before it stops looking for windows: each takes 0.05 to 1.5 s, and
#: a function whose series converge slowly (the slope of x·tanh(softplus(x)) + x/10, about its two roots) tried
#: 90 of them in 97 s, for windows beyond the roots' own. The roots' own windows are sought first.
BUDGET = 40


@dataclass
class _Budget:
    left: int

    def spend(self) -> bool:
        """One proof more, where any are left."""
        self.left -= 1
        return self.left >= 0


def near_roots(g: sp.Expr, x: sp.Symbol, computed: sp.Expr, goal: Goal = DOUBLE) -> tuple[NearRoot, ...]:
    """:func:`find_near_roots`, kept in the kernel cache: finding the windows and proving their bounds takes 0.3 s
    to about a minute a function, which every process that compiles it would otherwise spend again."""
    from .compile.cache import cache_dir, digest, write_atomic  # (the compile package imports this module)

    settings = repr(
        (
            goal,
            DPS,
            MAX_DEGREE,
            SPAN,
            REACH,
            EXTRA,
            PIECES,
            LOW_PIECES,
            OUTWARD,
            BUDGET,
            NARROWINGS,
            "removable 3",
            "mirrored",
        )
    )
    key = digest(sp.srepr(g), sp.srepr(computed), settings, __version__, sp.__version__)
    path = cache_dir() / f"near_roots_{key}.json"
    try:
        return tuple(_restored(item, g, x, goal) for item in json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or damaged: found again
        pass
    found = find_near_roots(g, x, computed, goal)
    write_atomic(path, json.dumps([_stored(n) for n in found]))
    return found


def _stored(near: NearRoot) -> dict:
    return {
        "root": str(near.root),
        "exact": near.exact,
        "order": near.order,
        "window": [repr(w) for w in near.window],
        "coefficients": [str(c) for c in near.coefficients],  # DPS digits: the doubles they round to are the same
        "bound": repr(near.bound),
        "shift": near.shift,
        "denominator": None if near.denominator is None else _stored(near.denominator),
    }


def _restored(item: dict, g: sp.Expr, x: sp.Symbol, goal: Goal, hole: bool = True) -> NearRoot:
    root, shift, over, denominator = sp.Rational(item["root"]), int(item["shift"]), None, None
    if shift and hole:  # the windows about a removable singularity and beside it hold N's polynomials, proved as N's
        found = removable(g, x)
        g, over = found.numerator, found.denominator
        if item.get("denominator") is not None:  # over D's polynomial, each with its part of the goal (_over)
            goal = _halved(goal)
            d_goal = Goal(goal.target * 2 / 3, goal.condition)
            denominator = _restored(item["denominator"], over, x, d_goal, hole=False)
    return NearRoot(
        g,
        x,
        root,
        bool(item["exact"]),
        int(item["order"]),
        tuple(float(w) for w in item["window"]),
        tuple(sp.Float(c, DPS) for c in item["coefficients"]),
        float(item["bound"]),
        goal,
        shift,
        denominator,
        over if root != 0 else None,
    )


def find_near_roots(g: sp.Expr, x: sp.Symbol, computed: sp.Expr, goal: Goal = DOUBLE) -> tuple[NearRoot, ...]:
    """Polynomials for g about each root where ``computed`` (the form the kernel evaluates, exactly read) has a
    sum that vanishes: there that sum cancels in floating point. Roots are sought at 0 and where g changes sign
    on [−SPAN, SPAN]. A removable singularity at 0 (:func:`removable`, sin(x)/x) gets a window whether or not a
    sum cancels there, as its form is 0/0 at 0 itself. None where g has a kink or a function the recurrences lack,
    or where no window and degree up to MAX_DEGREE meet the goal's target."""
    if g.has(*KINKS):
        return ()
    hole = removable(g, x)
    try:
        roots = _roots(g, x) if hole is None else _roots(hole.numerator, x, hole.order)
    except Unsupported:
        return ()
    out, budget, reaches = [], _Budget(BUDGET), []
    # g even or odd: the windows about a root r > 0 mirrored are those about −r, found once
    parity = _parity(g, x)
    mirrored = {r for r, _, _ in roots if r < 0 and parity and any(abs(q + r) <= abs(r) * 1e-40 for q, _, _ in roots)}
    for root, exact, order in roots:  # the roots' own windows first, then, with what budget is left, more
        if root in mirrored:
            continue
        sums = _vanishing_sums(computed, x, root)
        at_hole = hole is not None and root == 0
        if not sums and not at_hole:
            continue
        # no window reaches past halfway to the next root, where |g| could not be bounded below
        others = [r for r, _, _ in roots if r != root]
        room = {
            side: min([float(abs(r - root)) / 2 for r in others if (r - root) * side > 0], default=4.0)
            for side in (-1, 1)
        }
        # about a removable singularity, N's windows: g's interval enclosures would hold N/xˢ's cancelling terms
        # whole (atan(x)/x's slope got windows 0.1 wide, and ended at 0.74 where its condition is still 6.6)
        h, shift, over = (hole.numerator, hole.shift, hole.denominator) if at_hole else (g, 0, None)
        if at_hole and over != x**shift:  # N's polynomial over D's: each with half the goal's error
            near = _fit(h, x, root, exact, order, sums, _halved(goal), room, budget)
            near = near and _over(near, over, shift, budget)
        else:
            near = _fit(h, x, root, exact, order, sums, goal, room, budget)
        if near is not None:
            out.append(dataclasses.replace(near, shift=shift))
            reaches.append((near, h, shift, over, root, sums, room))
    for near, h, shift, over, root, sums, room in reaches:
        own = [near]
        for side, edge in zip((-1, 1), near.window):  # where the root's window stops short of the goal's condition
            wanted = min(_reach(sums, root, side, goal.condition), room[side])
            beyond = _outward(h, x, edge, side, root + side * mpmath.mpf(wanted), root, goal, budget)
            out.extend(dataclasses.replace(n, shift=shift, over=over) for n in beyond)
            own += beyond
        if any(abs(r + root) <= root * 1e-40 for r in mirrored):  # (shift is 0 and over None away from 0)
            out.extend(_mirror(n, parity) for n in own)
    return tuple(out)


def _parity(g: sp.Expr, x: sp.Symbol) -> int:
    """1 where g is proved even, g(−x) = g(x), −1 where it is proved odd, 0 otherwise (or after 10 s)."""
    from .prove import TimeLimitExceeded, time_limit  # (prove imports the compile package, which imports this)

    flipped = g.subs(x, -x)
    with mpmath.workdps(DPS):  # first numerically, which rules out most, and fast
        values = [(_value(g, x, mpmath.mpf(v)), _value(g, x, -mpmath.mpf(v))) for v in ("0.3", "1.7", "4.1")]
        if any(a is None or b is None for a, b in values):
            return 0
        candidates = [p for p in (1, -1) if all(abs(b - p * a) <= 1e-30 * (1 + abs(a)) for a, b in values)]
    try:
        with time_limit(10):
            for parity in candidates:  # then proved
                if sp.simplify(flipped - parity * g) == 0:
                    return parity
    except (TimeLimitExceeded, NotImplementedError, TypeError, ValueError):
        pass
    return 0


def _mirror(near: NearRoot, parity: int) -> NearRoot:
    """The window about −r of an even (parity 1) or odd (−1) g from its window about r: g(−r + d) = ±g(r − d), so
    the coefficients are ±(−1)^k·c_k, on the window reflected, within the same proved bound."""
    cs = tuple(c * parity * (-1) ** k for k, c in enumerate(near.coefficients))
    lo, hi = near.window
    return dataclasses.replace(near, root=-near.root, window=(-hi, -lo), coefficients=cs)


def _halved(goal: Goal) -> Goal:
    """The goal of N's polynomial where it is divided by D's, which gets a third of it (:func:`_over`)."""
    return Goal(goal.target / 2, goal.condition)


def _over(near: NearRoot, denominator: sp.Expr, s: int, budget: _Budget) -> NearRoot | None:
    """``near``, N's window about 0, with D's Taylor polynomial on the same window (of the least degree proved
    within a third of the goal's target): N's over D's then errs by at most (1 + t/2)/(1 − t/3) − 1 < t. None
    where no degree up to MAX_DEGREE is proved to suffice."""
    x, window = near.x, near.window
    goal = Goal(near.goal.target * 2 / 3, near.goal.condition)  # near's goal is half the kernel's

    with mpmath.workdps(DPS):
        cs = coefficients(denominator, x, mpmath.mpf(0), MAX_DEGREE + EXTRA[-1])
    delta = max(abs(w) for w in window)
    first = _degree(cs, s, delta, goal.target)
    for n in () if first is None else (first, first + 4):
        if n > MAX_DEGREE or not budget.spend():
            break
        below = remainder_bound(denominator, x, sp.Rational(0), True, s, window, n, goal)
        if below <= goal.target:
            coefficients_ = tuple(sp.Float(c, DPS) for c in cs[: n + 1])
            d = NearRoot(denominator, x, sp.Rational(0), True, s, window, coefficients_, below, goal, shift=s)
            return dataclasses.replace(near, denominator=d, bound=_quotient_bound(near.bound, below))
    return None


class Hole(NamedTuple):
    """g = N/D where D vanishes at 0 to order s and N to order m ≥ s: a removable singularity (:func:`removable`)."""

    numerator: sp.Expr  # N
    shift: int  # s
    order: int  # m
    denominator: sp.Expr  # D: xˢ, or a function analytic at 0 with a zero of order s there, as tanh x


def removable(g: sp.Expr, x: sp.Symbol) -> Hole | None:
    """g as N/D with N and D analytic at 0, D vanishing there to order s and N to order m ≥ s: a removable
    singularity at 0, as sin(x)/x (N = sin x, D = x, s = m = 1), its slope (x·cos x − sin x)/x² (m = 3) and
    x/tanh x (D = tanh x) have. There g's form is 0/0, and N's Taylor polynomial over D's is g's, with the sum of
    their relative errors; where D is c·xˢ, N is taken over c and D is xˢ, which needs no polynomial. None where
    g has no such denominator, or has a pole at 0 (m < s)."""
    if not any(p.exp.is_negative and p.base.has(x) for p in g.atoms(sp.Pow)):
        return None
    numerator, denominator = sp.fraction(sp.together(g))
    s = _zero_order(denominator, x, most=12)
    if s == 0:
        return None
    rest = sp.cancel(denominator / x**s)
    if not rest.has(x):  # c·xˢ: N/c over xˢ
        numerator, denominator = numerator / rest, x**s
    order = _zero_order(numerator, x, most=s + 8)
    return Hole(numerator, s, order, denominator) if order >= s else None


def _quotient_bound(numerator: float, denominator: float) -> float:
    """A bound on |P/Q − N/D|/|N/D| where |P − N| ≤ a·|N| and |Q − D| ≤ b·|D|: (1 + a)/(1 − b) − 1, rounded up."""
    with mpmath.workdps(DPS):
        return float((1 + mpmath.mpf(numerator)) / (1 - mpmath.mpf(denominator)) - 1) * (1 + 1e-15)


def _value(g: sp.Expr, x: sp.Symbol, v) -> mpmath.mpf | None:
    try:
        return coefficients(g, x, mpmath.mpf(v), 0)[0]
    except (Unsupported, ZeroDivisionError, ValueError):
        return None


def _roots(g: sp.Expr, x: sp.Symbol, at_zero: int | None = None) -> list[tuple[mpmath.mpf, bool, int]]:
    """(root, exactly a double, multiplicity) for 0 where g vanishes there (``at_zero``, the multiplicity, where it
    is known), and each sign change on the span (simple roots)."""
    found = []
    at_zero = _zero_order(g, x) if at_zero is None else at_zero
    if at_zero:
        found.append((mpmath.mpf(0), True, at_zero))
    grid = [mpmath.mpf(SPAN) * (2 * i - 800) / 800 + mpmath.mpf("1e-7") for i in range(801)]  # not 0 itself
    values = [_value(g, x, v) for v in grid]
    for a, b, ga, gb in zip(grid, grid[1:], values, values[1:]):
        if ga is None or gb is None or not ga * gb < 0:
            continue
        root = _bisect(g, x, a, b, ga)
        if root is None:
            continue
        if abs(root) < mpmath.mpf(10) ** (-12 if at_zero else -30):
            # 0 itself, taken above; next to a root at 0 of order m, g's terms cancel like x^(m−1) and round to 0
            # at DPS digits (x·(tanh² x − 1) + tanh x, the slope of x/tanh x over tanh² x, from |x| = 10⁻²⁶)
            continue
        if not _nonzero(coefficients(g, x, root, 1)[1], POINTS):
            continue  # not simple
        found.append((root, False, 1))
    return found


def _bisect(g, x, a, b, ga) -> mpmath.mpf | None:
    """The root in [a, b], where g changes sign, to DPS digits by bisection: slow, but sure even where the root
    is multiple (Newton's and Anderson's methods crawl at x − tanh x's triple root)."""
    with mpmath.workdps(DPS + 10):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        while b - a > mpmath.mpf(10) ** -(DPS + 5) * max(1, abs(a)):
            m = (a + b) / 2
            gm = _value(g, x, m)
            if gm is None:
                return None
            if gm == 0:
                return m
            a, b, ga = (m, b, gm) if gm * ga > 0 else (a, m, ga)
        return (a + b) / 2


def _zero_order(g: sp.Expr, x: sp.Symbol, most: int = 6) -> int:
    """m where g and its first m − 1 derivatives are proved 0 at x = 0 and the m-th is not; 0 where g(0) ≠ 0."""
    try:
        cs = coefficients(g, x, mpmath.mpf(0), most)
    except (Unsupported, ZeroDivisionError, ValueError):
        return 0
    order = next((k for k, c in enumerate(cs) if c != 0), None)
    if not order or order > most - 1:
        return 0
    derivative = g
    for _ in range(order):  # each vanishing coefficient proved 0 symbolically, not only as a rounded number
        if sp.simplify(derivative.subs(x, 0)) != 0:
            return 0
        derivative = sp.diff(derivative, x)
    return order


def _vanishing_sums(computed: sp.Expr, x: sp.Symbol, root) -> list:
    """The sums that ``computed`` evaluates next to ``root`` and that cancel there, as lists of mpmath functions of
    their terms: those whose condition Σ|terms|/|sum| exceeds 10^3 at 10^-6 from it, on either side (at the root
    itself their terms may all be 0). Only the branches of a choice taken there count: the bent identity's
    √(x² + 1)/2 − 1/2 is its form for x² ≥ 3 only. c·x + b is left out where that is exact near its root
    (:func:`_shift`)."""
    h = mpmath.mpf(10) ** -6 * max(1, abs(root))
    out: dict[sp.Expr, list] = {}
    for v in (root - h, root + h):
        for e in sp.preorder_traversal(_branches(computed, x, v)):
            if not (isinstance(e, sp.Add) and e.has(x)) or _shift(e, x) or e in out:
                continue
            terms = [sp.lambdify(x, t, "mpmath") for t in e.args]
            if _condition([terms], v) > 1e3:
                out[e] = terms
    return list(out.values())


def _branches(expr: sp.Expr, x: sp.Symbol, v) -> sp.Expr:
    """``expr`` with each choice replaced by its branch taken at x = v (left whole where SymPy cannot tell)."""

    def taken(e: sp.Piecewise) -> sp.Expr:
        for branch, condition in e.args:
            holds = condition.subs(x, sp.Float(v, DPS))
            if holds is sp.true:
                return branch
            if holds is not sp.false:
                return e
        return e

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), taken)


def _shift(e: sp.Add, x: sp.Symbol) -> bool:
    """Whether e is c·x + b with c a power of two and b a double: exact next to its root (Sterbenz)."""
    if len(e.args) != 2:
        return False
    b, v = sorted(e.args, key=lambda a: a.has(x))
    c = v.coeff(x)
    return (
        v == c * x
        and c.is_Rational
        and c != 0
        and sp.log(abs(c), 2).is_integer
        and b.is_Rational
        and sp.Rational(float(b)) == b
    )


def _terms_at(terms: list, v) -> list | None:
    try:
        values = [mpmath.mpf(t(mpmath.mpf(v))) for t in terms]
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    return values


def _condition(sums: list, v) -> float:
    """The largest Σ|terms|/|sum| of the vanishing sums at v: how much their terms' rounding is amplified."""
    worst = 0.0
    with mpmath.workdps(DPS):
        for terms in sums:
            values = _terms_at(terms, v)
            if values is None or sum(values) == 0:
                return float("inf")
            worst = max(worst, float(sum(abs(t) for t in values) / abs(sum(values))))
    return worst


def _reach(sums: list, root, side: int, condition: float) -> float:
    """How far from the root, on one side, the vanishing sums are still worse conditioned than ``condition``."""
    w = 1e-3
    while w < 4 and _condition(sums, root + side * mpmath.mpf(w)) > condition:
        w *= 1.1
    return w


def _radius(cs: list) -> float:
    """The radius of convergence as the root test reads it off the second half of the coefficients."""
    half = len(cs) // 2
    estimates = [float(abs(c) ** (-mpmath.mpf(1) / k)) for k, c in enumerate(cs) if k >= half and c != 0]
    return min(estimates) if estimates else float("inf")


def _fit(
    g, x, root, exact: bool, order: int, sums: list, goal: Goal, room: dict[int, float], budget: _Budget
) -> NearRoot | None:
    """The root's own window: each side as wide as the vanishing sums need (its condition), the series'
    convergence allows (REACH) and the next root leaves ``room`` for (:func:`_window`)."""
    r = sp.Rational(0) if exact else sp.Rational(float(root))
    with mpmath.workdps(DPS):
        cs = coefficients(g, x, mpmath.mpf(r.p) / r.q, MAX_DEGREE + EXTRA[-1])
    reach = REACH * _radius(cs)
    widths = {side: min(_reach(sums, root, side, goal.condition), reach, room[side]) for side in (-1, 1)}
    return _window(g, x, r, exact, order, cs, widths, goal, budget)


def _window(
    g, x, r: sp.Rational, exact: bool, order: int, cs: list, widths: dict[int, float], goal: Goal, budget: _Budget
) -> NearRoot | None:
    """The Taylor polynomial about r (coefficients ``cs``) on r − widths[−1] < x < r + widths[1], of the least
    degree proved to meet the goal's target; each side narrowed by 30 % (up to NARROWINGS − 1 times) while no
    degree up to MAX_DEGREE is proved to suffice on it, the degree then the larger of the two. A side of width 0
    needs none."""
    widths, degrees = dict(widths), {}
    for side in (-1, 1):
        if widths[side] == 0:
            degrees[side] = 0
            continue
        for _ in range(NARROWINGS):
            degrees[side] = _side_degree(g, x, r, exact, order, side, widths[side], cs, goal, budget)
            if degrees[side] is not None:
                break
            widths[side] *= 0.7
        else:
            return None
    window = (float(r - sp.Rational(widths[-1])), float(r + sp.Rational(widths[1])))
    n = max(degrees.values())
    bound = remainder_bound(g, x, r, exact, order, window, n, goal)
    if bound > goal.target:  # a higher degree than one side was proved for: never larger, but checked
        return None
    return NearRoot(g, x, r, exact, order, window, tuple(sp.Float(c, DPS) for c in cs[: n + 1]), bound, goal)


#: Windows next to a root's at most, on each side.
OUTWARD = 3


def _outward(g, x, edge: float, side: int, goal_edge, start, goal: Goal, budget: _Budget) -> list[NearRoot]:
    """Windows from ``edge`` towards ``goal_edge`` where the series about the root converges too slowly to reach:
    each a Taylor polynomial about its near end c, where the function does not vanish (order 0: |g| ≥ μ there),
    as wide as half of REACH of the series' radius at c allows (:func:`_window`). About its near end, not its
    middle: there |g| is least, and about the middle the polynomial's terms cancelled there (x − asinh x: 4.4 ULP
    at x = 0.45). atan(x) − x's root window ends at ±0.43, where its condition is still 35. No window is a sliver:
    the last reaches ``goal_edge`` only where that is more than a tenth further from the root (``start``) than its
    edge."""
    out: list[NearRoot] = []
    while len(out) < OUTWARD and side * (goal_edge - edge) > 0.1 * abs(edge - start) + 1e-3:  # not a sliver
        c = sp.Rational(edge)
        with mpmath.workdps(DPS):
            cs = coefficients(g, x, mpmath.mpf(c.p) / c.q, MAX_DEGREE + EXTRA[-1])
        width = min(REACH * _radius(cs) / 2, float(abs(goal_edge - edge)))  # half: low degrees, as about a middle
        near = _window(g, x, c, True, 0, cs, {side: width, -side: 0.0}, goal, budget)
        if near is None:
            break
        out.append(near)
        edge = near.window[1] if side > 0 else near.window[0]
    return out


def _side_degree(
    g, x, r: sp.Rational, exact: bool, order: int, side: int, width: float, cs: list, goal: Goal, budget: _Budget
) -> int | None:
    """The least degree up to MAX_DEGREE proved to meet the goal's target on one side of r, out to ``width``: the
    estimate (:func:`_degree`), else 4 more; None where neither is, or the search's budget is spent."""
    n = _degree(cs, order, width, goal.target)
    end = sp.Rational(float(r + side * sp.Rational(width)))
    window = (end, r) if side < 0 else (r, end)
    for candidate in (n, None if n is None else n + 4):
        if candidate is not None and candidate <= MAX_DEGREE and budget.spend():
            bound = side_bound(g, x, r, exact, order, window, candidate, goal)
            if bound <= goal.target:
                return candidate
            if bound == float("inf"):  # |g| not bounded below there: no degree mends that, a narrower window may
                return None
    return None


def _degree(cs: list, order: int, delta: float, target: float) -> int | None:
    """The least degree n whose next terms, |c_k|·δ^k for k in n + 1..n + 8, are below target/8 of |c_m|·δ^m:
    an estimate, which the proved bound then confirms."""
    scale = abs(cs[order]) * mpmath.mpf(delta) ** order
    for n in range(order, min(MAX_DEGREE, len(cs) - 9) + 1):
        tail = sum(abs(cs[k]) * mpmath.mpf(delta) ** k for k in range(n + 1, n + 9))
        if tail <= scale * target / 8:
            return n
    return None


#: Pieces of the window for the enclosures of the high-order coefficient (loose is fine: its term is far below
#: the target) and of the low-order one |g| is bounded below by (which must be tight).
PIECES, LOW_PIECES = 6, 64
#: The remainder is Σ c_k·d^k over k = n + 1..n + e, with c_k enclosed at the point r itself, plus Lagrange's
#: remainder of order n + e + 1, e the first of EXTRA that proves the bound: an enclosure over a piece of width w
#: overestimates the coefficient of order k by a factor growing like (1 + w/ρ)^k, which at order n + 1 would need
#: hundreds of pieces.
EXTRA = (24, 48)  # 48 where a real singularity is near: log(1 + x) − x towards −1


def remainder_bound(
    g, x, root: sp.Rational, exact: bool, order: int, window: tuple[float, float], n: int, goal: Goal = DOUBLE
) -> float:
    """A proved bound on |g − P_n|/|g| on the window, P_n the Taylor polynomial of degree n about r = ``root``:
    the larger of :func:`side_bound` left and right of r."""
    return max(side_bound(g, x, root, exact, order, side, n, goal) for side in _halves(root, window))


def _halves(root: sp.Rational, window: tuple[float, float]) -> tuple[tuple, tuple]:
    return (sp.Rational(window[0]), root), (root, sp.Rational(window[1]))


@functools.lru_cache(maxsize=256)
def side_bound(g, x, root: sp.Rational, exact: bool, order: int, window: tuple, n: int, goal: Goal) -> float:
    """:func:`_side_bound` with the fewest EXTRA terms that meet the goal's target (the last tried where none
    does)."""
    for extra in EXTRA:
        bound = _side_bound(g, x, root, exact, order, window, n, extra)
        if bound <= goal.target or bound == float("inf"):  # inf: |g| not bounded below, which terms cannot mend
            break
    return bound


def _side_bound(g, x, root: sp.Rational, exact: bool, order: int, window: tuple, n: int, extra: int) -> float:
    """A proved bound on |g − P_n|/|g| on ``window`` (exact numbers, one end at r = ``root``). Taken on each side of
    r apart, since the Lagrange term below is largest at the end nearest a singularity of g: log(1 + x) − x
    about 0 converges on the right far beyond what its pole at −1 allows on the left.

    With N = n + ``extra`` and d = x − r, g(r + d) − P_n(d) = Σ_{k=n+1..N} c_k·dᵏ + g^(N+1)(ξ)/(N+1)!·d^(N+1)
    (Lagrange), the c_k enclosed by the interval recurrences at r and g^(N+1)/(N+1)! on each of PIECES pieces of
    the window (M the largest), so |g − P_n| ≤ (Σ |c_k|·|d|^(k−m) + M·|d|^(N+1−m))·|d|^m. And |g| ≥ μ·|d|^m:

    - about an exact root (r = r*), g = dᵐ·h(d) with h(d) = Σ_{k=m..N} c_k·d^(k−m) + [−M, M]·|d|^(N+1−m), and μ
      the least |h| on LOW_PIECES pieces, enclosed by Horner in balls;
    - about the double r next to a simple root r*, |g(x)| ≥ μ'·|x − r*| with μ' the least |g'| on those pieces,
      and |x − r*| ≥ |d|/2 for every double x ≠ r, so μ = μ'/2.

    μ must exclude 0. Hence, δ = max|d| on the window, |g − P_n|/|g| ≤ (Σ |c_k|·δ^(k−m) + M·δ^(N+1−m))/μ.
    """
    top = n + extra
    with mpmath.workdps(DPS), flint.ctx.workprec(PREC):
        lo, hi, r = (flint.arb(flint.fmpq(w.p, w.q)) for w in (*window, root))
        try:
            at_root = coefficients(g, x, r, top, BALLS)
            biggest = max(_magnitude(coefficients(g, x, p, top + 1, BALLS)[top + 1]) for p in _pieces(lo, hi, PIECES))
            if biggest == mpmath.inf:
                return float("inf")
            if exact:
                bracket = flint.arb(0, 1) * _ball(biggest)
                lows = [
                    _horner_iv(at_root[order:], p - r) + bracket * abs(p - r) ** (top + 1 - order)
                    for p in _pieces(lo, hi, LOW_PIECES)
                ]
            else:
                lows = [coefficients(g, x, p, 1, BALLS)[1] / 2 for p in _pieces(lo, hi, LOW_PIECES)]
        except (Unsupported, ZeroDivisionError, ValueError):
            return float("inf")
        least = min(_mignitude(v) for v in lows)
        if least <= 0:
            return float("inf")
        delta = max(_magnitude(lo - r), _magnitude(hi - r))
        tail = sum(_magnitude(at_root[k]) * delta ** (k - order) for k in range(n + 1, top + 1))
        tail += biggest * delta ** (top + 1 - order)
        return float(tail / least * (1 + mpmath.mpf(10) ** -20))  # rounded up


def _horner_iv(cs: list, t):
    """Σ cs[k]·t^k on the interval t, by Horner."""
    out = cs[-1]
    for c in reversed(cs[:-1]):
        out = out * t + c
    return out


def _pieces(lo, hi, count: int) -> list:
    """``count`` balls that cover the interval from the ball lo to the ball hi (a union of two balls holds both,
    and what lies between)."""
    ends = [lo + (hi - lo) * j / count for j in range(count + 1)]
    return [a.union(b) for a, b in zip(ends, ends[1:])]


def _magnitude(v) -> mpmath.mpf:
    """The largest |t| for t in the ball v (inf where v is not finite)."""
    return _mpf(v.abs_upper()) if v.is_finite() else mpmath.inf


def _mignitude(v) -> mpmath.mpf:
    """The least |t| for t in the ball v: 0 where it holds 0, or is not finite."""
    return _mpf(v.abs_lower()) if v.is_finite() else mpmath.mpf(0)


def _mpf(point) -> mpmath.mpf:
    """An exact ball (a point) as an mpmath number, exactly."""
    man, exp = point.man_exp()
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp)))


def _ball(v: mpmath.mpf):
    """A finite mpmath number as an exact ball."""
    sign, man, exp, _ = v._mpf_
    man, exp = int(-man if sign else man), int(exp)
    q = flint.fmpq(man * 2**exp) if exp >= 0 else flint.fmpq(man, 2**-exp)
    with flint.ctx.workprec(man.bit_length() + 2):
        return flint.arb(q)

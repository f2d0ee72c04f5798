"""Properties of an elementwise activation, derived from its definition.

For f and f' this finds the limits at ±∞, the critical points, and from them
the range, the maximum of the derivative (the per-layer gradient factor that
makes sigmoid vanish: at most 1/4, at 0) and the Lipschitz constant. Each
figure says how it was obtained: ``exact`` (SymPy limits and solutions) or
``numeric`` (a 40-digit search on [−30, 30], when no closed form was found).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.calculus.singularities import singularities

from .fn import Fn
from .functions import expand_atoms
from .prove import TimeLimitExceeded, prove, time_limit

GRID = [mpmath.mpf(i) / 50 for i in range(-1500, 1501)]  # [−30, 30]


@dataclass
class Extremum:
    value: sp.Expr
    at: sp.Expr | None
    method: str  # "exact" | "numeric" | "exact limit"
    side: str = ""  # "-" or "+": a supremum or infimum approached beside ``at``, not taken there

    def where(self, show: Callable = str) -> str:
        """' at x = 3', ' as x → 3⁻' (approached there, not taken), or '' where no point is known."""
        if self.at is None:
            return ""
        if self.side:
            return f" as x → {show(self.at)}{'⁻' if self.side == '-' else '⁺'}"
        return f" at x = {show(self.at)}"

    def __str__(self) -> str:
        shown = f"{self.value} ≈ {float(self.value):.6g}" if _long(self.value) else f"{self.value}"
        return f"{shown}{self.where()} ({self.method})"


def _long(value: sp.Expr) -> bool:
    """An exact value worth a decimal beside it (SELU's λα is a page of erfc)."""
    return value.is_finite is True and not value.is_Rational and not value.is_Float


_KINKY = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)


def _switch_points(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Real points where a max/min/|·|/sign/case in ``expr`` can switch branch."""
    pw = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    candidates = set()
    for cond in pw.atoms(sp.core.relational.Relational):
        if cond.has(x):
            try:
                candidates |= set(sp.solveset(cond.lhs - cond.rhs, x, sp.S.Reals))
            except (NotImplementedError, TypeError, ValueError):
                continue
    return sorted((c for c in candidates if c.is_real and c.is_finite), key=float)


def _singular_points(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Real points where ``expr`` is infinite (1/x at 0, √|x|' at 0), as SymPy finds them; [] where it cannot
    tell. σ, softplus and the like are atoms here, finite everywhere."""
    try:
        with time_limit(2.0):
            found = singularities(expr, x, sp.S.Reals)
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return []
    if not isinstance(found, sp.FiniteSet):
        return []
    return sorted((p for p in found if p.is_real and p.is_finite), key=float)


#: Where analyze() checks that a function is real: an activation maps every real number to a real number.
_REAL_CHECK = (-30, -3, -0.7, -0.01, 0.01, 0.7, 3, 30)


def _not_real_at(expr: sp.Expr, x: sp.Symbol) -> float | None:
    """A point of _REAL_CHECK where ``expr`` is not a real number (log x and √x below 0), or None."""
    f = sp.lambdify(x, expand_atoms(expr), "mpmath")
    with mpmath.workdps(30):
        for t in _REAL_CHECK:
            try:
                v = f(mpmath.mpf(t))
            except (ValueError, ZeroDivisionError, TypeError):
                return t
            if isinstance(v, mpmath.mpc) and v.imag != 0:
                return t
    return None


def smoothness(fn: Fn, max_order: int = 3) -> str:
    """The smoothness class of f, derived from one-sided limits of f, f', … at its switch points.

    "C∞" for a definition with no cases; otherwise "discontinuous", "C0", "C1", …,
    or f"C{max_order}+" when every derivative up to ``max_order`` is continuous.
    One-sided limits come from SymPy's ``limit`` on the raw derivatives (no kink convention).
    """
    x = fn.inputs[0]
    f = fn.bind()
    singular = _singular_points(f, x)
    if not f.has(*_KINKY) and not singular:
        return "C∞"
    points = sorted({*_switch_points(f, x), *singular}, key=float)
    g = f.rewrite(sp.Piecewise)
    for order in range(max_order + 1):
        for p in points:
            left = limit_at(g, x, p, side="-")
            right = limit_at(g, x, p, side="+")
            if left is sp.nan or right is sp.nan or sp.simplify(left - right) != 0:
                return "discontinuous" if order == 0 else f"C{order - 1}"
        g = sp.diff(g, x)
    return f"C{max_order}+"


@dataclass
class Analysis:
    name: str
    limits: dict[str, sp.Expr]
    derivative_limits: dict[str, sp.Expr]
    minimum: Extremum
    maximum: Extremum
    derivative_min: Extremum
    derivative_max: Extremum
    zero_centered: str
    smoothness: str = ""

    @property
    def bounded(self) -> bool:
        return all(e.value.is_finite for e in (self.minimum, self.maximum))

    @property
    def monotonic(self) -> bool:
        return bool(self.derivative_min.value >= 0)

    @property
    def lipschitz(self) -> sp.Expr:
        return sp.Max(sp.Abs(self.derivative_min.value), sp.Abs(self.derivative_max.value))

    def vanishing_bound(self, layers: int) -> sp.Expr:
        """Largest possible |∂ output/∂ input| of ``layers`` stacked units with unit weights: (max |f'|)^L, the
        Lipschitz constant's power (1/x's max f' is 0, but its |f'| is unbounded)."""
        return self.lipschitz**layers

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("limits at ∓∞", f"{self.limits['-oo']}, {self.limits['oo']}"),
            ("range", f"[{self.minimum}, {self.maximum}]"),
            ("bounded", str(self.bounded)),
            ("monotonic (f' ≥ 0)", str(self.monotonic)),
            ("zero-centred (odd)", self.zero_centered),
            ("smoothness", self.smoothness),
            ("max f'", str(self.derivative_max)),
            ("min f'", str(self.derivative_min)),
            ("f' at ∓∞ (saturation)", f"{self.derivative_limits['-oo']}, {self.derivative_limits['oo']}"),
            (
                "Lipschitz constant",
                f"{self.lipschitz} ≈ {float(self.lipschitz):.6g}" if _long(self.lipschitz) else str(self.lipschitz),
            ),
            ("gradient bound over 10 layers", f"{self.vanishing_bound(10)} ≈ {float(self.vanishing_bound(10)):.3g}"),
        ]


def limit_at(expr, x, direction, seconds: float = 2.0, side: str = "+") -> sp.Expr:
    """The limit of ``expr`` as x → ``direction`` (±oo, or a point approached from ``side``), or nan."""
    infinite = direction in (sp.oo, -sp.oo)
    if expr.has(sp.Piecewise, sp.Max, sp.Min):
        # SymPy's limit of a Piecewise can return the value at a switch point, or give up at ±∞:
        # take the limit of the case that holds just beside the point, or far out, instead.
        if infinite:
            probe = 10**6 if direction is sp.oo else -(10**6)
        else:
            probe = direction + (sp.Rational(1, 10**9) if side == "+" else -sp.Rational(1, 10**9))
        folded = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
        if isinstance(folded, sp.Piecewise):
            folded = next((e for e, c in folded.args if c.subs(x, probe) == sp.true), sp.nan)
        expr = folded
    expr = expand_atoms(expr)
    # SymPy 1.14's limit is wrong for some sums: (1 − x(σ(x) − 1))·σ(x) → 0 as x → ∞ (SiLU', whose limit
    # is 1), though the same function as one fraction gives 1. Both forms are asked; where they differ, the
    # function's value far out, at 50 digits, decides.
    candidates = [_limit(expr, x, direction, side, seconds, form) for form in (lambda e: e, sp.together)]
    known = [c for c in candidates if c is not sp.nan]
    if not known:
        return sp.nan
    if all(c == known[0] for c in known):
        return known[0]
    return _nearest_far_value(expr, x, direction, side, known)


def _limit(expr, x, direction, side: str, seconds: float, form) -> sp.Expr:
    try:
        with time_limit(seconds):
            expr = form(expr)
            if direction in (sp.oo, -sp.oo):
                return sp.limit(expr, x, direction)
            return sp.limit(expr, x, direction, dir=side)
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return sp.nan


def _nearest_far_value(expr, x, direction, side: str, candidates: list[sp.Expr]) -> sp.Expr:
    """The candidate limit nearest expr's value at 10^9 (or 10^-12 beside a point), if the value there is
    within 10^-6 of it and nearer than at 10^6 (10^-9), as a true limit's must be; else nan."""
    if direction in (sp.oo, -sp.oo):
        sign = 1 if direction is sp.oo else -1
        points = [sign * sp.Integer(10) ** 6, sign * sp.Integer(10) ** 9]
    else:
        sign = 1 if side == "+" else -1
        points = [direction + sign * sp.Rational(1, 10**9), direction + sign * sp.Rational(1, 10**12)]
    f = sp.lambdify(x, expr, "mpmath")

    def distance(c, v):
        c = mpmath.mpf(sp.N(c, 50)) if c.is_finite else (mpmath.inf if c > 0 else -mpmath.inf)
        return abs(v - c) if mpmath.isfinite(c) else (0 if mpmath.sign(v) == mpmath.sign(c) else mpmath.inf)

    with mpmath.workdps(50):
        try:  # (a complex value or limit, such as zoo, has no distance here: no answer)
            values = [f(mpmath.mpf(sp.N(p, 50))) for p in points]
            best = min(candidates, key=lambda c: distance(c, values[-1]))
            near, far = (distance(best, v) for v in values)
            if best.is_finite:  # close at the far point, and closer there than at the near one
                holds = far <= 1e-6 * (1 + abs(mpmath.mpf(sp.N(best, 50)))) and far <= near
            else:  # growing, with the limit's sign
                holds = far == 0 and abs(values[-1]) > abs(values[0])
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            return sp.nan
    return best if holds else sp.nan


def _critical_points(expr, x, seconds=2.0) -> list[sp.Expr] | None:
    """Real solutions of expr' = 0, or None if SymPy finds no complete answer in time."""
    try:
        with time_limit(seconds):
            solutions = sp.solveset(sp.diff(expand_atoms(expr), x), x, sp.S.Reals)
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return None
    if isinstance(solutions, sp.FiniteSet):
        return list(solutions)
    return [] if solutions is sp.S.EmptySet else None


def _branch(expr: sp.Expr, x: sp.Symbol, probe: sp.Expr) -> sp.Expr | None:
    """The case of a piecewise ``expr`` that holds at ``probe``, or None."""
    folded = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    if not isinstance(folded, sp.Piecewise):
        return folded
    return next((e for e, c in folded.args if c.subs(x, probe) == sp.true), None)


def _extrema(expr, x, limits, kinks) -> tuple[Extremum, Extremum]:
    """(min, max) of ``expr`` over ℝ. What both need is found once: the pieces' candidates for a function with
    kinks or singular points, else the critical points, else the values on the 40-digit grid."""
    limits = list(limits)
    singular = _singular_points(expr, x)
    if expr.has(*_KINKY) or singular:
        candidates = _piece_candidates(expr, x, limits, singular)
        if candidates is not None:
            return _chosen(candidates, "min"), _chosen(candidates, "max")
    critical = _critical_points(expr, x) if not expr.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs) else None
    grid = functools.cache(lambda: _on_grid(expr, x))  # (only if no exact answer is found)
    return tuple(_extremum(expr, x, limits, kinks, kind, critical, grid) for kind in ("min", "max"))


def _piece_candidates(expr, x, limits, singular: list[sp.Expr]) -> list[tuple] | None:
    """Where the max and min of a function with kinks can be, piece by piece, or None where a piece has no exact
    answer: (value, at, method, side) tuples.

    Between consecutive switch points one case holds, smooth: its candidates are its critical points inside
    the interval and its one-sided limits at the ends; the values at the switch points themselves (the kink
    convention) are candidates too. SELU's f' = λα·eˣ below 0 has its supremum λα ≈ 1.758 as x → 0⁻, where
    a grid search polished by a root-finder had answered 1.0507 at x = 0.25, the other piece's value.
    """
    points = sorted({*_switch_points(expr, x), *singular}, key=float)
    if not points:
        return None
    edges = [-sp.oo, *points, sp.oo]
    candidates: list[tuple[sp.Expr, sp.Expr | None, str, str]] = []  # (value, at, method, side)
    for p in points:
        if p not in singular:  # (no value at a singular point: only its one-sided limits)
            candidates.append((expr.subs(x, p), p, "exact", ""))
    for a, b in zip(edges, edges[1:]):
        probe = (a + b) / 2 if a.is_finite and b.is_finite else (b - 1 if a is -sp.oo else a + 1)
        piece = _branch(expr, x, probe)
        if piece is None:
            return None
        if not piece.has(x):  # constant on the interval: taken at every point of it
            candidates.append((piece, probe, "exact", ""))
            continue
        critical = _critical_points(piece, x)
        if critical is None:
            return None
        candidates += [(piece.subs(x, c), c, "exact", "") for c in critical if a < c < b]
        for end, side in ((a, "+"), (b, "-")):
            if end.is_finite:
                candidates.append((limit_at(piece, x, end, side=side), end, "exact limit", side))
    candidates += [(v, None, "exact limit", "") for v in limits if v is not sp.nan]
    if any(v is sp.nan or not (v.is_extended_real) for v, *_ in candidates):
        return None
    return candidates


def _chosen(candidates: list[tuple], kind: str) -> Extremum:
    """The max or min of :func:`_piece_candidates`, where it is taken if it is (not only approached)."""
    pick = max if kind == "max" else min
    value, at, method, side = pick(candidates, key=lambda t: float(t[0]))
    taken = [c for c in candidates if c[2] == "exact" and sp.simplify(c[0] - value) == 0] if value.is_finite else []
    if taken:  # attained somewhere: say where, not only that it is approached
        value, at, method, side = taken[0]
    return Extremum(sp.nsimplify(value) if value.is_Rational else value, at, method, side)


def _on_grid(expr, x) -> tuple[Callable, list]:
    """``expr`` as an mpmath function, and its values on GRID at 40 digits."""
    f = sp.lambdify(x, expr, "mpmath")
    with mpmath.workdps(40):
        return f, [f(t) for t in GRID]


def _extremum(expr, x, limits, kinks, kind: str, critical: list | None, grid: Callable) -> Extremum:
    """The max or min of a function without a piecewise answer: from its critical points (None: not found) if
    it has them, else from ``grid()``, polished by a root-finder."""
    pick = max if kind == "max" else min
    if critical is not None:
        candidates = [(expr.subs(x, c), c) for c in critical] + [(expr.subs(x, k), k) for k in kinks]
        candidates += [(v, None) for v in limits if v is not sp.nan]
        try:
            value, at = pick(candidates, key=lambda t: float(t[0]) if t[0].is_finite else float(t[0].evalf()))
            return Extremum(sp.nsimplify(value) if value.is_Rational else value, at, "exact")
        except (TypeError, ValueError):
            pass
    f, values = grid()
    with mpmath.workdps(40):
        i = pick(range(len(values)), key=values.__getitem__)
        finite_limits = [v for v in limits if v.is_finite]
        best, at = values[i], GRID[i]
        for lim in limits:
            if lim is sp.oo and kind == "max" or lim is -sp.oo and kind == "min":
                return Extremum(lim, None, "exact limit")
        if 0 < i < len(GRID) - 1:
            try:  # polish the grid's best point, if the root found is beside it and no worse
                polished = mpmath.findroot(lambda t: mpmath.diff(f, t), GRID[i])
                value = f(polished)
                beside = abs(polished - GRID[i]) <= GRID[1] - GRID[0]
                if beside and (value >= best if kind == "max" else value <= best):
                    at, best = polished, value
            except (ValueError, ZeroDivisionError, TypeError):
                pass
        elif finite_limits:
            return Extremum(pick(finite_limits, key=float), None, "exact limit")
    return Extremum(sp.Float(mpmath.nstr(best, 15)), sp.Float(mpmath.nstr(at, 10)), "numeric")


#: Analyses already made in this process, by name, bound definition and kinks: each takes up to 9 s (GELU-tanh),
#: and the handbook and the tests ask for every activation's. Treat a returned Analysis as read-only.
_ANALYSES: dict[tuple, Analysis] = {}


def analyze(fn: Fn) -> Analysis:
    """Derived properties of an elementwise activation at its parameter values."""
    if fn.kind != "activation" or fn.vector:
        raise ValueError(f"analyze works on elementwise activations; {fn.name} is not one")
    key = (fn.name, fn.bind(), tuple(fn.entry.kinks.items()))
    if key not in _ANALYSES:
        _ANALYSES[key] = _analyze(fn)
    return _ANALYSES[key]


def _analyze(fn: Fn) -> Analysis:
    x = fn.inputs[0]
    f = fn.bind()
    bad = _not_real_at(f, x)
    if bad is not None:
        raise ValueError(f"{fn.name} is not a real number at x = {bad}: analyze takes functions real on all of ℝ")
    df = fn.bind(fn.derivative())
    kinks = list(fn.entry.kinks)
    limits = {"-oo": limit_at(f, x, -sp.oo), "oo": limit_at(f, x, sp.oo)}
    dlimits = {"-oo": limit_at(df, x, -sp.oo), "oo": limit_at(df, x, sp.oo)}
    odd = prove(f.subs(x, -x), -f, timeout=3.0, suggest=False)
    (minimum, maximum), (dmin, dmax) = _extrema(f, x, limits.values(), kinks), _extrema(df, x, dlimits.values(), kinks)
    return Analysis(
        name=fn.name,
        limits=limits,
        derivative_limits=dlimits,
        minimum=minimum,
        maximum=maximum,
        derivative_min=dmin,
        derivative_max=dmax,
        zero_centered={"proved": "yes (proved)", "disproved": "no (counterexample)"}.get(odd.status, odd.status),
        smoothness=smoothness(fn),
    )

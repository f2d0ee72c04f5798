"""Properties of an elementwise activation, derived from its definition.

For f and f' this finds the limits at ±∞, the critical points, and from them
the range, the maximum of the derivative (the per-layer gradient factor that
makes sigmoid vanish: at most 1/4, at 0) and the Lipschitz constant. Each
figure says how it was obtained: ``exact`` (SymPy limits and solutions),
``numeric`` (a 40-digit search on [−30, 30], when no closed form was found),
or ``searched`` (that search's point, then solved and checked exactly). An
extremum also says where it is taken, or that it is only approached: the
range (0, 1) of sigmoid is open, its ends being limits at ∓∞.

Figures print in symact's notation (:func:`shown`), exact where they are
exact, in the parameters where a long constant is a product of them (SELU's
−α·λ), with a decimal where irrational.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.calculus.singularities import singularities
from sympy.calculus.util import function_range

from .calculus import switch_points
from .fn import Fn
from .functions import expand_atoms
from .printing import unicode
from .prove import TimeLimitExceeded, prove, time_limit

GRID = [mpmath.mpf(i) / 50 for i in range(-1500, 1501)]  # [−30, 30]


@dataclass
class Extremum:
    """A max or min of f or f': its value, where it is taken or approached, and how it was found.

    ``at`` is a point, ±∞ for a limit there, or None where no point is known; ``on``, an interval on which the
    value is taken at every x (a constant piece, with the kinks at its ends that share its value).
    """

    value: sp.Expr
    at: sp.Expr | None
    method: str  # "exact" | "numeric" | "exact limit" (approached, not taken) | "searched" (see _exact_critical)
    side: str = ""  # "-" or "+": approached beside ``at``, not taken there; "±": the limit at both −∞ and ∞
    on: sp.Set | None = None

    @property
    def taken(self) -> bool:
        """Attained at some x, not only approached: the range's bracket at this end is closed."""
        return self.method != "exact limit"

    def where(self, show: Callable = str) -> str:
        """' at x = 3', ' for x > 0', ' as x → 3⁻' or ' as x → ±∞' (approached there, not taken), or ''."""
        if self.on is not None:
            return _on(self.on, show)
        if self.at is None:
            return ""
        if self.at.is_infinite:
            return f" as x → {'±∞' if self.side == '±' else show(self.at)}"
        if self.side:
            return f" as x → {show(self.at)}{'⁻' if self.side == '-' else '⁺'}"
        return f" at x = {show(self.at)}"

    def __str__(self) -> str:
        return shown(self)


def _on(where: sp.Set, show: Callable) -> str:
    """' for x ≤ 0', ' for 0 < x < 6', ' for x ≤ −1 or x ≥ 1', ' at every x'."""
    if where == sp.S.Reals:
        return " at every x"
    parts = []
    for interval in where.args if isinstance(where, sp.Union) else (where,):
        a, b = interval.start, interval.end
        if b.is_infinite:  # x > 0, not 0 < x
            parts.append(f"x {'>' if interval.left_open else '≥'} {show(a)}")
            continue
        left = "" if a.is_infinite else f"{show(a)} {'<' if interval.left_open else '≤'} "
        parts.append(f"{left}x {'<' if interval.right_open else '≤'} {show(b)}")
    return " for " + " or ".join(parts)


def _long(value: sp.Expr) -> bool:
    """An exact value worth a decimal beside it (SELU's λα is a page of erfc)."""
    return value.is_finite is True and not value.is_Rational and not value.is_Float


_EXPONENT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decimal(value, digits: int = 10) -> str:
    """A number to ``digits`` significant figures, as symact prints: −0.2784645428, 9.536743164·10⁻⁷."""
    mantissa, _, exponent = f"{float(value):.{digits}g}".partition("e")
    text = mantissa + (f"·10{str(int(exponent)).translate(_EXPONENT)}" if exponent else "")
    return text.replace("-", "−")


def in_parameters(value: sp.Expr, params: dict) -> sp.Expr:
    """``value`` as ±∏ pᵏ (|k| ≤ 2) of the parameters whose values are long exact expressions, where it is one
    exactly: SELU's limit at −∞ is −α·λ, not −2/√(…erf(√2/2)…). Else ``value`` itself.

    A candidate must agree at 30 digits, then exactly: the difference (or, as √ does not cancel that way, the
    difference of the squares, with the signs equal) is 0 after rewriting erf as 1 − erfc and cancelling."""
    named = {p: v for p, v in params.items() if _long(v)}
    if not named or not _long(value):
        return value
    target = sp.N(value, 30)
    for powers in sorted(itertools.product(range(-2, 3), repeat=len(named)), key=lambda k: sum(map(abs, k))):
        if not any(powers):
            continue
        monomial = sp.Mul(*(p**k for p, k in zip(named, powers)))
        exact = monomial.subs(named)
        for sign in (1, -1):
            if abs(sp.N(sign * exact, 30) - target) <= 10**-25 * abs(target) and _equal(value, sign * exact):
                return sign * monomial
    return value


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    """a = b exactly, for constants written with erf, erfc, exp and square roots (see in_parameters)."""

    def zero(e):
        return sp.cancel(sp.together(sp.expand(e.rewrite(sp.erfc)))) == 0

    try:
        with time_limit(5.0):
            return zero(a - b) or (zero(a**2 - b**2) and sp.sign(sp.N(a, 30)) == sp.sign(sp.N(b, 30)))
    except TimeLimitExceeded:
        return False


def shown(ext: Extremum, digits: int = 10, params: dict | None = None, where: bool = True) -> str:
    """An extremum as analyze prints it: '1/4 at x = 0', '0 for x ≤ 0', '−α·λ ≈ −1.758099341 as x → −∞',
    '1.088498161 at x = 1.490571179 (numeric)'. ``where=False`` leaves out a limit's 'as x → ±∞' (a range's
    open bracket says it) and a constant piece's 'for x ≤ 0' (a range reads [0, 6], not [0 for x ≤ 0, 6 for x ≥ 6])."""

    def show(v):
        return decimal(v, digits) if isinstance(v, sp.Float) else unicode(v)

    text = value_text(ext.value, digits, params or {}) if ext.method != "numeric" else decimal(ext.value, digits)
    if where or not (ext.on is not None or (ext.at is not None and ext.at.is_infinite)):
        text += ext.where(show)
    return text + {"numeric": " (numeric)", "searched": " (exact; found by a numeric search)"}.get(ext.method, "")


def value_text(value: sp.Expr, digits: int = 10, params: dict | None = None) -> str:
    """An exact value in symact's notation, in the parameters where it is a product of their powers, with its
    decimal where it is irrational: '1/4', '∞', '−α·λ ≈ −1.758099341', '√2 ≈ 1.414213562'. A form too long
    to read (over 60 characters) gives way to its decimal."""
    named = in_parameters(value, params or {})
    text = unicode(named)
    if not _long(value):
        return text
    return f"≈ {decimal(value, digits)}" if len(text) > 60 else f"{text} ≈ {decimal(value, digits)}"


_KINKY = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)


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
    points = sorted({*switch_points(f, x), *singular}, key=float)
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
    params: dict = dataclasses.field(default_factory=dict)  # the parameters' values it was made at
    image: sp.Set | None = None  # a discontinuous f's exact range, where found: step's {0, 1}, not [0, 1]

    @property
    def bounded(self) -> bool:
        return all(e.value.is_finite for e in (self.minimum, self.maximum))

    @property
    def monotonic(self) -> bool:
        return bool(self.derivative_min.value >= 0)

    @property
    def slope_bound(self) -> sp.Expr:
        """max |f'| (1/x's max f' is 0, but its |f'| is unbounded)."""
        return sp.Max(sp.Abs(self.derivative_min.value), sp.Abs(self.derivative_max.value))

    @property
    def lipschitz(self) -> sp.Expr:
        """max |f'| for a continuous f; ∞ where f jumps, though f' is 0 around the jump (step's was 0)."""
        return sp.oo if self.smoothness == "discontinuous" else self.slope_bound

    def vanishing_bound(self, layers: int) -> sp.Expr:
        """Largest possible |∂ output/∂ input| of ``layers`` stacked units with unit weights, as backprop computes
        it: (max |f'|)^L. For step it is 0: no gradient passes, which is why a step cannot train."""
        return self.slope_bound**layers

    def table(self, digits: int = 10) -> str:
        """The rows as ``symact analyze`` prints them, one per line."""
        return "\n".join(f"  {key + ':':<32} {value}" for key, value in self.rows(digits))

    def __str__(self) -> str:
        return f"{self.name}: derived properties\n{self.table()}"

    def rows(self, digits: int = 10) -> list[tuple[str, str]]:
        """(label, text) pairs, as ``symact analyze`` prints them: exact values in symact's notation, with a
        decimal where irrational; numeric ones to ``digits`` figures, marked; the range as an interval whose
        brackets say whether its ends are taken."""
        lo, hi = self.minimum, self.maximum
        span = f"{'[' if lo.taken else '('}{self._shown(lo, digits, False)}, {self._shown(hi, digits, False)}"
        span += "]" if hi.taken else ")"
        if self.image is not None:
            span = unicode(self.image)
        elif self.smoothness == "discontinuous":
            span = f"within {span}; f jumps, so not every value between need be taken"
        lip = self.lipschitz
        jumps = " (f jumps)" if self.smoothness == "discontinuous" and self.slope_bound.is_finite else ""
        return [
            ("limits at ∓∞", ", ".join(self._value(self.limits[d], digits) for d in ("-oo", "oo"))),
            ("range", span),
            ("bounded", "yes" if self.bounded else "no"),
            ("monotonic (f' ≥ 0)", "yes" if self.monotonic else "no"),
            ("zero-centred (odd)", self.zero_centered),
            ("smoothness", self.smoothness),
            ("max f'", self._shown(self.derivative_max, digits)),
            ("min f'", self._shown(self.derivative_min, digits)),
            ("f' at ∓∞ (saturation)", ", ".join(self._value(self.derivative_limits[d], digits) for d in ("-oo", "oo"))),
            (
                "Lipschitz constant",
                self._value(lip, digits) + (jumps or (" (f' is unbounded)" if lip is sp.oo else "")),
            ),
            ("gradient bound over 10 layers", self._power(self.slope_bound, 10, digits)),
        ]

    def as_json(self, digits: int = 10) -> dict:
        """The analysis for machines: each figure's float (or "inf", "-inf"; None where unknown), its exact
        form in SymPy's syntax (None where it is numeric), and its text as printed."""

        def figure(v: sp.Expr, text: str) -> dict:
            if v is sp.nan or isinstance(v, sp.AccumBounds):  # unknown, or no limit (it oscillates)
                number = None
            else:
                number = ("inf" if v > 0 else "-inf") if v.is_infinite else float(v)
            return {"value": number, "exact": None if v.has(sp.Float) else sp.sstr(v), "text": text}

        def extremum(e: Extremum) -> dict:
            return figure(e.value, self._shown(e, digits)) | {
                "method": e.method,
                "taken": e.taken,
                "at": None if e.at is None or e.on is not None else figure(e.at, unicode(e.at)),
                "on": None if e.on is None else _on(e.on, unicode).strip(),
            }

        def limits(d: dict) -> dict:
            return {k.replace("oo", "inf"): figure(v, self._value(v, digits)) for k, v in d.items()}

        rows = dict(self.rows(digits))
        return {
            "function": self.name,
            "parameters": {str(p): sp.sstr(v) for p, v in self.params.items()},
            "limits": limits(self.limits),
            "range": {
                "min": extremum(self.minimum),
                "max": extremum(self.maximum),
                "set": None if self.image is None else sp.sstr(self.image),
                "text": rows["range"],
            },
            "bounded": self.bounded,
            "monotonic": self.monotonic,
            "zero_centred": self.zero_centered,
            "smoothness": self.smoothness,
            "derivative": {
                "max": extremum(self.derivative_max),
                "min": extremum(self.derivative_min),
                "limits": limits(self.derivative_limits),
            },
            "lipschitz": figure(self.lipschitz, rows["Lipschitz constant"]),
            "gradient_bound_10_layers": figure(self.vanishing_bound(10), rows["gradient bound over 10 layers"]),
        }

    def _value(self, v: sp.Expr, digits: int) -> str:
        if v is sp.nan:
            return "unknown"
        if isinstance(v, sp.AccumBounds):  # SymPy's limit of sin(2x) at ∞: none, it oscillates
            left, right = "(" if v.min.is_infinite else "[", ")" if v.max.is_infinite else "]"
            return f"none (oscillates in {left}{self._value(v.min, digits)}, {self._value(v.max, digits)}{right})"
        return f"{decimal(v, digits)} (numeric)" if isinstance(v, sp.Float) else value_text(v, digits, self.params)

    def _shown(self, e: Extremum, digits: int, where: bool = True) -> str:
        return shown(e, digits, self.params, where)

    def _power(self, v: sp.Expr, n: int, digits: int) -> str:
        """vⁿ: '1/1048576 ≈ 9.536743164·10⁻⁷', '(α·λ)¹⁰ ≈ 281.9', '2.334946840 (numeric)'."""
        if isinstance(v, sp.Float) or not v.is_finite:
            return self._value(v**n, digits)
        exact, approx = unicode(in_parameters(v, self.params) ** n), decimal(v**n, digits)  # (α·λ)¹⁰, not a page
        if (v**n).is_Integer:
            return exact
        return f"≈ {approx}" if len(exact) > 60 else f"{exact} ≈ {approx}"


def limit_at(expr, x, direction, seconds: float = 2.0, side: str = "+") -> sp.Expr:
    """The limit of ``expr`` as x → ``direction`` (±oo, or a point approached from ``side``), or nan."""
    if expr.has(sp.Piecewise, sp.Max, sp.Min):
        # SymPy's limit of a Piecewise can return the value at a switch point, or give up at ±∞:
        # take the limit of the case that holds just beside the point, or far out, instead.
        folded = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
        if isinstance(folded, sp.Piecewise):
            return _case_limit(folded, x, direction, seconds, side)
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


def _case_limit(cases: sp.Piecewise, x, direction, seconds: float, side: str) -> sp.Expr:
    """The limit of a Piecewise, from the cases that hold beside the point, or far out (:func:`_far_truth`).
    A condition left without x (y = 0 in Poisson's loss) holds or not all the way, so the limit is the
    Piecewise of the limits of the cases up to one that holds: one expression where they agree, ∞ for
    ŷ − y·log ŷ at ŷ → ∞ with y = 0 or not. nan where a condition is not decided."""
    if direction in (sp.oo, -sp.oo):
        probe = 10**6 if direction is sp.oo else -(10**6)
    else:
        probe = direction + (sp.Rational(1, 10**9) if side == "+" else -sp.Rational(1, 10**9))
    kept = []
    for e, c in cases.args:
        holds = _far_truth(c, x, direction, probe, seconds, side)
        if holds is None:
            return sp.nan
        if holds == sp.false:
            continue
        kept.append((limit_at(e, x, direction, seconds, side), holds))
        if holds == sp.true:
            break
    else:  # for some values of the other symbols no case holds: the function is undefined there
        return sp.nan
    if any(v is sp.nan for v, _ in kept):
        return sp.nan
    if all(v == kept[0][0] for v, _ in kept):
        return kept[0][0]
    return sp.Piecewise(*kept)


def _far_truth(condition, x, direction, probe, seconds: float, side: str):
    """``condition`` as x → direction, each comparison in it that has x decided: at x = ``probe`` where x is
    its only symbol, else by the limit of its two sides' difference (|y − ŷ| ≤ 1 in Huber's loss is false as
    ŷ → ±∞, whatever y is). What is left has no x; None where a comparison is not decided: then which case
    holds is not known, and the next one need not be it."""
    decided = {}
    for atom in condition.atoms(sp.core.relational.Relational):
        if x not in atom.free_symbols:
            continue
        truth = atom.subs(x, probe)
        if truth not in (sp.true, sp.false):
            truth = _far_comparison(atom, x, direction, seconds, side)
        if truth is None:
            return None
        decided[atom] = truth
    return condition.xreplace(decided)


def _far_comparison(atom, x, direction, seconds: float, side: str):
    """a ≤ b (or <, ≥, >, =, ≠) as x → direction, from the limit of b − a: true or false where it tends to ±∞
    or to a number not 0; else None."""
    gap = _limit(atom.rhs - atom.lhs, x, direction, side, seconds, lambda e: e)
    if not (gap.is_number and gap.is_extended_real and gap.is_zero is False):
        return None
    if isinstance(atom, (sp.Eq, sp.Ne)):
        return sp.false if isinstance(atom, sp.Eq) else sp.true
    above = bool(gap.is_extended_positive)  # b − a > 0 eventually: b is the greater side
    return sp.true if above == isinstance(atom, (sp.LessThan, sp.StrictLessThan)) else sp.false


def _limit(expr, x, direction, side: str, seconds: float, form) -> sp.Expr:
    try:
        with time_limit(seconds):
            expr = form(expr)
            if direction in (sp.oo, -sp.oo):
                return _oscillation(sp.limit(expr, x, direction))
            return _oscillation(sp.limit(expr, x, direction, dir=side))
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return sp.nan


def _oscillation(limit: sp.Expr) -> sp.Expr:
    """SymPy's answer for a function that has no limit but oscillates, as the bounds it keeps coming back to:
    AccumBounds(0, 2) for 1 + sin 2x, and ∞·sign(AccumBounds(−1, 1)) for x·sin x read as AccumBounds(−∞, ∞);
    nan where it says no more."""
    if not limit.has(sp.AccumBounds) or isinstance(limit, sp.AccumBounds):
        return limit
    signed = limit.replace(
        lambda e: isinstance(e, sp.sign) and isinstance(e.args[0], sp.AccumBounds),
        lambda e: sp.AccumBounds(sp.sign(e.args[0].min), sp.sign(e.args[0].max)),
    )
    return signed if isinstance(signed, sp.AccumBounds) else sp.nan


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


def _extrema(expr, x, limits: dict, kinks) -> tuple[Extremum, Extremum]:
    """(min, max) of ``expr`` over ℝ. What both need is found once: the pieces' candidates for a function with
    kinks or singular points, else the critical points, else the values on the 40-digit grid. ``limits``: the
    limits at −∞ and ∞, keyed "-oo" and "oo"."""
    at_infinity = [Extremum(v, sp.oo if d == "oo" else -sp.oo, "exact limit") for d, v in limits.items()]
    at_infinity = [e for e in at_infinity if e.value is not sp.nan]
    swings = [e for e in at_infinity if isinstance(e.value, sp.AccumBounds)]  # no limit: it oscillates
    if swings:  # unbounded swings reach ±∞ far out; bounded ones are taken at finite points, which the grid finds
        at_infinity = [e for e in at_infinity if e not in swings]
        both = {"side": "±"} if len(swings) == 2 else {}  # (each bound below is reached at both ends, or at one)
        lo = [e for e in swings if e.value.min == -sp.oo]
        hi = [e for e in swings if e.value.max == sp.oo]
        lo = [dataclasses.replace(e, value=sp.S.NegativeInfinity, **(both if len(lo) == 2 else {})) for e in lo]
        hi = [dataclasses.replace(e, value=sp.oo, **(both if len(hi) == 2 else {})) for e in hi]
        if lo or hi:
            found = _extrema(expr, x, {}, kinks) if not (lo and hi) else (None, None)
            return (lo[0] if lo else found[0]), (hi[0] if hi else found[1])
    if not expr.has(x):  # a constant: taken at every x
        whole = Extremum(expr, None, "exact", on=sp.Interval(-sp.oo, sp.oo))
        return whole, whole
    singular = _singular_points(expr, x)
    if expr.has(*_KINKY) or singular:
        candidates = _piece_candidates(expr, x, at_infinity, singular)
        if candidates is not None:
            return _chosen(candidates, "min"), _chosen(candidates, "max")
    critical = _critical_points(expr, x) if not expr.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs) else None
    grid = functools.cache(lambda: _on_grid(expr, x))  # (only if no exact answer is found)
    solved = functools.cache(lambda: _solutions(expr, x))  # (only if the grid's answer is sought in closed form)
    return tuple(_extremum(expr, x, at_infinity, kinks, kind, critical, grid, solved) for kind in ("min", "max"))


def _both_ends(ext: Extremum, at_infinity: list[Extremum]) -> Extremum:
    """A limit at ±∞ that is also the limit at the other end says so: σ' → 0 as x → ±∞."""
    if ext.method == "exact limit" and ext.at is not None and ext.at.is_infinite:
        a, b = (e.value for e in at_infinity) if len(at_infinity) == 2 else (sp.nan, sp.nan)
        if a == b != sp.nan or a.is_finite and b.is_finite and sp.simplify(a - b) == 0:  # (∞ − ∞ is nan)
            return dataclasses.replace(ext, side="±")
    return ext


def _piece_candidates(expr, x, at_infinity: list[Extremum], singular: list[sp.Expr]) -> list[Extremum] | None:
    """Where the max and min of a function with kinks can be, piece by piece, or None where a piece has no exact
    answer.

    Between consecutive switch points one case holds, smooth: its candidates are its critical points inside
    the interval and its one-sided limits at the ends; the values at the switch points themselves (the kink
    convention) are candidates too. SELU's f' = λα·eˣ below 0 has its supremum λα ≈ 1.758 as x → 0⁻, where
    a grid search polished by a root-finder had answered 1.0507 at x = 0.25, the other piece's value.
    """
    points = sorted({*switch_points(expr, x), *singular}, key=float)
    if not points:
        return None
    edges = [-sp.oo, *points, sp.oo]
    candidates = [Extremum(expr.subs(x, p), p, "exact") for p in points if p not in singular]
    # (no value at a singular point: only its one-sided limits)
    for a, b in zip(edges, edges[1:]):
        probe = (a + b) / 2 if a.is_finite and b.is_finite else (b - 1 if a is -sp.oo else a + 1)
        piece = _branch(expr, x, probe)
        if piece is None:
            return None
        if not piece.has(x):  # constant on the interval: taken at every point of it
            candidates.append(Extremum(piece, probe, "exact", on=sp.Interval.open(a, b)))
            continue
        critical = _critical_points(piece, x)
        if critical is None:
            return None
        candidates += [Extremum(piece.subs(x, c), c, "exact") for c in critical if a < c < b]
        for end, side in ((a, "+"), (b, "-")):
            if end.is_finite:
                candidates.append(Extremum(limit_at(piece, x, end, side=side), end, "exact limit", side))
    candidates += at_infinity
    if any(c.value is sp.nan or not c.value.is_extended_real for c in candidates):
        return None
    return candidates


def _chosen(candidates: list[Extremum], kind: str) -> Extremum:
    """The max or min of :func:`_piece_candidates`, where it is taken if it is (not only approached): on a
    whole piece if it is constant there, closed at the kinks at its ends that share its value."""
    pick = max if kind == "max" else min
    best = pick(candidates, key=lambda c: float(c.value))
    taken = [c for c in candidates if c.method == "exact" and sp.simplify(c.value - best.value) == 0]
    if not taken or not best.value.is_finite:
        return _both_ends(best, [c for c in candidates if c.at is not None and c.at.is_infinite])
    pieces = [c for c in taken if c.on is not None]
    if not pieces:  # attained somewhere: say where, not only that it is approached
        return dataclasses.replace(taken[0], value=_exact_number(taken[0].value))
    ends = {p for c in pieces for p in (c.on.start, c.on.end)}
    points = [c.at for c in taken if c.on is None and c.at in ends]  # kinks sharing the value join the pieces
    on = sp.Union(*(c.on for c in pieces), sp.FiniteSet(*points))
    return dataclasses.replace(pieces[0], value=_exact_number(pieces[0].value), on=on)


def _exact_number(value: sp.Expr) -> sp.Expr:
    return sp.nsimplify(value) if value.is_Rational else value


def _on_grid(expr, x) -> tuple[Callable, list]:
    """``expr`` as an mpmath function, and its values on GRID at 40 digits. Where its form is 0/0, the value is
    its limit there, a removable singularity's (sin(x)/x at 0: a ZeroDivisionError before), or NaN."""
    raw = sp.lambdify(x, expr, "mpmath")

    def f(t):
        try:
            return raw(t)
        except ZeroDivisionError:
            value = removable_value(expr, x, sp.Rational(str(t)))
            return mpmath.nan if value is None else value

    with mpmath.workdps(40):
        return f, [f(t) for t in GRID]


def removable_limit(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> sp.Expr | None:
    """The limit of ``expr`` at ``point`` where both sides agree and it is finite and real (a removable
    singularity: sin(x)/x → 1 at 0, the value the compiled kernels take there); else None."""
    sides = {sp.simplify(limit_at(expr, x, point, seconds=10, side=side)) for side in "+-"}
    if len(sides) != 1:
        return None
    (value,) = sides
    return value if value.is_real and value.is_finite else None


def removable_value(expr: sp.Expr, x: sp.Symbol, point: sp.Expr) -> mpmath.mpf | None:
    """:func:`removable_limit` at the working precision."""
    value = removable_limit(expr, x, point)
    return None if value is None else mpmath.mpf(sp.N(value, mpmath.mp.dps))


def _extremum(expr, x, at_infinity: list[Extremum], kinks, kind: str, critical, grid, solved) -> Extremum:
    """The max or min of a function without a piecewise answer: from its critical points (None: not found) if
    it has them, else from ``grid()``, polished by a root-finder, and then in closed form if one is found among
    ``solved()`` (see :func:`_exact_critical`)."""
    pick = max if kind == "max" else min
    if critical is not None:
        candidates = [Extremum(expr.subs(x, c), c, "exact") for c in [*critical, *kinks]] + at_infinity
        try:  # (on a tie, the first: a point where it is taken before a limit)
            best = pick(candidates, key=lambda c: float(c.value.evalf()))
            return _both_ends(dataclasses.replace(best, value=_exact_number(best.value)), at_infinity)
        except (TypeError, ValueError):
            pass
    f, values = grid()
    with mpmath.workdps(40):
        i = pick((j for j, v in enumerate(values) if not mpmath.isnan(v)), key=values.__getitem__)
        best, at = values[i], GRID[i]
        for lim in at_infinity:
            if lim.value is (sp.oo if kind == "max" else -sp.oo):
                return _both_ends(lim, at_infinity)
        finite = [e for e in at_infinity if e.value.is_finite]
        if 0 < i < len(GRID) - 1:
            sign = 1 if kind == "max" else -1
            # every grid peak within 0.1% of the best, polished: of those equal to 30 digits (a periodic f′ takes
            # its max every period: 1 + sin 2x), the one nearest 0, not the grid's pick at x = 29.06
            peaks = [
                j
                for j in range(1, len(GRID) - 1)
                if sign * values[j] >= sign * values[j - 1]
                and sign * values[j] >= sign * values[j + 1]
                and abs(values[j] - best) <= 1e-3 * max(1, abs(best))
            ]
            found = [(best, at)]
            for j in sorted(peaks, key=lambda j: abs(GRID[j]))[:40]:
                try:  # polish a peak, if the root found is beside it and no worse
                    polished = mpmath.findroot(lambda t: mpmath.diff(f, t), GRID[j])
                    value = f(polished)
                    if abs(polished - GRID[j]) <= GRID[1] - GRID[0] and sign * value >= sign * values[j]:
                        found.append((value, polished))
                except (ValueError, ZeroDivisionError, TypeError):
                    pass
            top = max(sign * v for v, _ in found)
            best, at = min(
                ((v, t) for v, t in found if sign * v >= top - mpmath.mpf(10) ** -30), key=lambda p: abs(p[1])
            )
        elif finite:
            return _both_ends(pick(finite, key=lambda e: float(e.value)), at_infinity)
    closed = _exact_critical(expr, x, at, best, solved())
    if closed is not None:
        return Extremum(*closed, "searched")
    return Extremum(sp.Float(mpmath.nstr(best, 15)), sp.Float(mpmath.nstr(at, 10)), "numeric")


def _solutions(expr, x) -> list[sp.Expr]:
    """Real solutions of expr' = 0 from SymPy's ``solve``, which finds SiLU's −1 − W(1/e) where ``solveset``
    does not; [] where it finds none within a second (SiLU's takes 0.2 s; others can search for minutes)."""
    try:
        with time_limit(1.0):
            slope = sp.diff(expand_atoms(expr), x)
            return [c for c in sp.solve(sp.numer(sp.together(slope)), x) if c.is_real]
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return []


def _exact_critical(expr, x, at, best, solutions: list[sp.Expr]) -> tuple[sp.Expr, sp.Expr] | None:
    """(value, point) of the numeric search's best point in closed form, where one is found and checked: one
    of ``solutions`` (SiLU's minimum, −W(1/e) at x = −1 − W(1/e)) or a rational with a small denominator
    (x·tanh x: 0 at 0), at which f' simplifies to exactly 0 and f to the value the search found. None where
    there is none."""
    f = expand_atoms(expr)
    slope = sp.diff(f, x)
    near = sp.Rational(float(at)).limit_denominator(100)
    candidates = ([near] if abs(near - at) < 1e-12 else []) + solutions
    for c in candidates:
        if abs(float(c) - float(at)) > 1e-6:
            continue
        try:
            with time_limit(3.0):
                if sp.simplify(_lambert(_value_or_limit(slope, x, c))) != 0:
                    continue
                value = sp.simplify(_lambert(_value_or_limit(f, x, c)))
        except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
            continue
        if abs(float(value) - float(best)) <= 1e-9 * (1 + abs(float(best))):
            return value, c
    return None


def _value_or_limit(e: sp.Expr, x: sp.Symbol, c: sp.Expr) -> sp.Expr:
    """e at x = c, or where its form is 0/0 there its limit where both sides agree (sin(x)/x: 1 at 0)."""
    value = e.subs(x, c)
    if not value.has(sp.nan, sp.zoo):
        return value
    limit = removable_limit(e, x, c)
    return sp.nan if limit is None else limit


def _lambert(expr: sp.Expr) -> sp.Expr:
    """exp(a + k·W(z)) as exp(a)·(z/W(z))ᵏ, from W(z)·e^W(z) = z, which ``simplify`` does not apply."""

    def split(e):
        kept, factor = [], sp.S.One
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            k, w = term.as_coeff_Mul()
            if isinstance(w, sp.LambertW) and len(w.args) == 1 and k.is_Integer:
                factor *= (w.args[0] / w) ** k
            else:
                kept.append(term)
        return sp.exp(sp.Add(*kept)) * factor

    return expr.replace(lambda e: isinstance(e, sp.exp) and e.has(sp.LambertW), split)


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
    (minimum, maximum), (dmin, dmax) = _extrema(f, x, limits, kinks), _extrema(df, x, dlimits, kinks)
    smooth = smoothness(fn)
    return Analysis(
        name=fn.name,
        limits=limits,
        derivative_limits=dlimits,
        minimum=minimum,
        maximum=maximum,
        derivative_min=dmin,
        derivative_max=dmax,
        zero_centered={"proved": "yes (proved)", "disproved": "no (counterexample)"}.get(odd.status, odd.status),
        smoothness=smooth,
        params=dict(fn.params),
        image=_image(f, x) if smooth == "discontinuous" else None,
    )


#: Seconds for the exact range of a discontinuous function, piece by piece.
IMAGE_SECONDS = 5.0


def _image(f: sp.Expr, x: sp.Symbol) -> sp.Set | None:
    """The exact range of a function that jumps: the union of each continuous piece's range (SymPy's
    function_range on the open interval between switch and singular points) and of the values at those points.
    step's is {0, 1} and 1/x's (−∞, 0) ∪ (0, ∞), which an interval from the infimum to the supremum is not.
    None where SymPy cannot find a piece's range in time."""
    points = sorted({*switch_points(f, x), *_singular_points(f, x)}, key=float)
    g = sp.piecewise_fold(f.rewrite(sp.Piecewise))
    ends = [-sp.oo, *points, sp.oo]
    image = sp.S.EmptySet
    try:
        with time_limit(IMAGE_SECONDS):
            for a, b in zip(ends, ends[1:]):
                piece = _branch_at(g, x, _inside(a, b))
                image |= function_range(piece, x, sp.Interval.open(a, b))
            for p in points:
                value = f.subs(x, p)
                if value.is_real and value.is_finite:
                    image |= sp.FiniteSet(value)
    except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
        return None
    return image


def _inside(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """A point of the open interval (a, b), whose ends may be ±∞."""
    if a.is_infinite and b.is_infinite:
        return sp.S.Zero
    if a.is_infinite:
        return b - 1
    if b.is_infinite:
        return a + 1
    return (a + b) / 2


def _branch_at(g: sp.Expr, x: sp.Symbol, point: sp.Expr) -> sp.Expr:
    """The branches of every case in ``g`` that hold at ``point``: g's formula on the piece around it.

    Raises:
        NotImplementedError: SymPy cannot decide which case holds there."""

    def branch(pw: sp.Piecewise) -> sp.Expr:
        for expr, cond in pw.args:
            if cond.subs(x, point) is sp.true:
                return expr
        raise NotImplementedError(f"no case of {pw} is decided at x = {point}")

    return g.replace(lambda e: isinstance(e, sp.Piecewise), branch)

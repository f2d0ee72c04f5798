"""Honest verdicts on identities: proved, verified, disproved or unknown.

``prove(lhs, rhs)`` first evaluates both sides with mpmath at 50 digits on
adversarial points, the claim's kinks and random points. A point where they
differ, or where one side is real and the other is not, confirmed at 80
digits, is a counterexample: the claim is *disproved*. Only if every point
agrees does it try to reduce lhs − rhs to exactly 0 with a list of symbolic
strategies; success is *proved*, with the route recorded as readable steps.
Agreement without a symbolic proof is reported as *verified*: evidence, not
proof. Every stage runs under a time limit; running out is *unknown*.

>>> prove("diff(sigmoid(x), x) == sigmoid(x)*(1 - sigmoid(x))").status
'proved'
>>> prove("tanh(x) == (1 - exp(-x))/(1 + exp(-x))").status
'disproved'
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .calculus import switch_points
from .functions import expand_atoms
from .parse import ExpressionError, as_expr, parse_relation
from .printing import latex, unicode

LOW_DPS, HIGH_DPS = 50, 80
ADVERSARIAL = [0, 1, -1, 0.5, -0.5, 2, -2, 3.7, -3.7, 10, -10, 30, -30, 1e-8, -1e-8, 1e-3, -1e-3]


@dataclass
class Verdict:
    """The outcome of :func:`prove`."""

    status: str  # "proved" | "verified" | "disproved" | "unknown"
    lhs: sp.Basic
    rhs: sp.Basic
    method: str = ""
    steps: list[tuple[str, sp.Basic]] = field(default_factory=list)
    counterexample: dict | None = None
    evidence: dict | None = None
    suggestion: str | None = None
    reason: str = ""
    seconds: float = 0.0
    text: str | None = None  # the claim as typed, where it was text: shown where its expansion is long

    #: Characters past which the claim is shown as typed rather than expanded (SELU's λ and α as erfc forms)
    LONG_CLAIM = 200

    @property
    def ok(self) -> bool:
        return self.status in ("proved", "verified")

    def claim(self, fmt: Callable = unicode) -> str:
        expanded = f"{fmt(self.lhs)} = {fmt(self.rhs)}"
        if self.text and fmt is unicode and len(expanded) > self.LONG_CLAIM:
            return self.text.replace("==", "=", 1)
        return expanded

    def __str__(self) -> str:
        lines = [f"{self.status}: {self.claim()}"]
        if self.method:
            lines.append(f"  method: {self.method}")
        for text, expr in self.steps:
            lines.append(f"  {text}: {unicode(expr)}")
        if self.counterexample:
            ce = self.counterexample
            at = ", ".join(f"{k} = {v}" for k, v in ce["point"].items())
            lines.append(f"  counterexample at {at or 'any point'}:")
            lines.append(f"    lhs = {ce['lhs']}")
            lines.append(f"    rhs = {ce['rhs']}")
            lines.append(f"    lhs − rhs = {ce['difference']} (confirmed at {LOW_DPS} and {HIGH_DPS} digits)")
        if self.evidence:
            ev = self.evidence
            lines.append(
                f"  evidence: {ev['points']} points in {ev['domain']}, {ev['digits']} digits, "
                f"largest residual {ev['max_residual']}"
            )
        if self.suggestion:
            lines.append(f"  did you mean: {self.suggestion}  (proved)")
        if self.reason:
            lines.append(f"  note: {self.reason}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """The claim and its derivation as a LaTeX ``align*`` block."""
        rows = [r"%s &= %s && \text{(%s)}" % (latex(self.lhs), latex(self.rhs), self.status)]
        rows += [r"&= %s && \text{%s}" % (latex(expr), text) for text, expr in self.steps]
        if self.counterexample:
            ce = self.counterexample
            at = ", ".join(f"{k} = {v}" for k, v in ce["point"].items())
            rows.append(r"& && \text{counterexample: } %s" % at.replace("_", r"\_"))
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "claim": self.claim(sp.sstr),
            "text": self.text,
            "method": self.method,
            "steps": [{"step": t, "expr": sp.sstr(e)} for t, e in self.steps],
            "counterexample": self.counterexample,
            "evidence": self.evidence,
            "suggestion": self.suggestion,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
        }


# -- time limits -------------------------------------------------------------


class TimeLimitExceeded(Exception):
    """A symbolic step ran out of its time budget."""


#: After its deadline the alarm goes off again this often until the limited block has ended. An exception
#: raised while a garbage collector's callback or a __del__ runs is printed and dropped ("Exception ignored
#: in …"), and the block ran on without limit: with jax imported (it registers such a callback), analyze's
#: one second for SymPy's solve() on GELU-tanh's slope became a factorization still running after 29 minutes.
RETRY_S = 0.05


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeLimitExceeded after ``seconds`` (main thread only; elsewhere, no limit).

    A limit inside another keeps the outer one: the inner block ends at the earlier of the two deadlines, and
    the outer's alarm is set again when it ends (an inner limit used to cancel it)."""
    if seconds <= 0:
        raise TimeLimitExceeded
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    active = [True]

    def handler(signum, frame):
        if active[0]:
            raise TimeLimitExceeded

    def quiet(unraisable):  # the dropped exception: raised again at the next alarm, so not printed
        if not isinstance(unraisable.exc_value, TimeLimitExceeded):
            hook(unraisable)

    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)  # (0, 0) where there is no outer alarm
    started = time.monotonic()
    hook, sys.unraisablehook = sys.unraisablehook, quiet
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_delay) if outer_delay else seconds, RETRY_S)
    try:
        yield
    finally:
        active[0] = False  # first, and without a call, so that no handler runs before it: none raises after
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        sys.unraisablehook = hook
        if outer_delay:  # the outer alarm again, at its own deadline (at once if that has passed)
            left = max(outer_delay - (time.monotonic() - started), 1e-6)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


# -- input -------------------------------------------------------------------


def _as_claim(lhs, rhs) -> tuple[sp.Basic, sp.Basic]:
    lhs = as_expr(lhs)
    if rhs is None:
        lhs, rhs = (lhs.lhs, lhs.rhs) if isinstance(lhs, sp.Equality) else (lhs, sp.S.Zero)
    else:
        rhs = as_expr(rhs)
    for side in (lhs, rhs):
        if isinstance(side, (sp.core.relational.Relational, sp.logic.boolalg.BooleanAtom)):
            # (σ(x) > 0 even arrives as True: SymPy knows σ is positive) — it used to end in a TypeError
            raise ExpressionError(
                "prove decides identities a == b; an inequality is not one (symact analyze gives ranges)"
            )
        if isinstance(side, sp.Basic) and side.has(sp.zoo, sp.nan):
            # SymPy evaluates 1/0 and log(0) to complex infinity, and 0/0 to nan, as it parses: no claim is left
            raise ExpressionError(f"the claim has an undefined value ({sp.sstr(side)}): a division by zero, or log(0)?")
    return lhs, rhs


def _typed(lhs, rhs) -> str | None:
    """The claim as typed, its spaces collapsed, where it was given as one text; else None."""
    return " ".join(lhs.split()) if isinstance(lhs, str) and rhs is None else None


def _realify(expr: sp.Basic) -> tuple[sp.Basic, dict]:
    """Free symbols are real unless stated otherwise."""
    reps = {
        s: sp.Symbol(s.name, real=True) for s in expr.free_symbols if isinstance(s, sp.Symbol) and s.is_real is None
    }
    return expr.xreplace(reps), reps


@dataclass
class _Assumptions:
    substitutions: dict = field(default_factory=dict)  # from equalities, e.g. y_3 = 1 − y_1 − y_2
    conditions: list = field(default_factory=list)  # checked numerically on sample points
    signs: dict = field(default_factory=dict)  # symbol → "positive" | "negative" | "nonnegative" | "nonpositive"

    def domains(self) -> dict:
        """Each symbol's set of values allowed by the conditions on it alone (x > 6, |x| < 1), where SymPy
        solves them: the case split skips the cases outside it, and the sampler draws from it."""
        out: dict = {}
        for c in self.conditions:
            if isinstance(c, sp.Equality) or len(c.free_symbols) != 1:
                continue
            (x,) = c.free_symbols
            try:
                with time_limit(2.0):  # (x + exp(x) > 3 has no closed form: give up, do not hang)
                    allowed = sp.solveset(c, x, sp.S.Reals)
            except (TimeLimitExceeded, NotImplementedError, ValueError, TypeError):
                continue
            if isinstance(allowed, (sp.Interval, sp.Union, sp.FiniteSet)) or allowed is sp.S.EmptySet:
                out[x] = out.get(x, sp.S.Reals) & allowed
        return out


def _assumptions(items, symbols: dict[str, sp.Symbol]) -> _Assumptions:
    result = _Assumptions()
    for item in items or []:
        rel = parse_relation(item, symbols=symbols) if isinstance(item, str) else item
        rel = rel.xreplace({s: symbols.get(s.name, s) for s in rel.free_symbols})
        if isinstance(rel, sp.Equality):
            free = sorted(rel.free_symbols, key=lambda s: s.name, reverse=True)
            for s in free:
                sol = sp.solve(rel, s)
                if len(sol) == 1:
                    result.substitutions[s] = sol[0]
                    break
            else:
                result.conditions.append(rel)
            continue
        if isinstance(rel, sp.core.relational.Relational) and rel.lhs.is_Symbol and rel.rhs == 0:
            kind = {">": "positive", "<": "negative", ">=": "nonnegative", "<=": "nonpositive"}.get(rel.rel_op)
            if kind:
                result.signs[rel.lhs] = kind
        result.conditions.append(rel)
    return result


# -- numerical evidence ------------------------------------------------------


def _evaluator(args, expr) -> Callable:
    """mpmath's value of ``expr``: a real number, a complex one where it is not real (log(−1)), or None where it
    is undefined or infinite."""
    f = sp.lambdify(args, expr, modules="mpmath")

    def call(values):
        try:
            v = f(*values)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        if isinstance(v, (mpmath.mpc, complex)) and abs(mpmath.im(v)) > abs(mpmath.re(v)) * mpmath.mpf(10) ** (-30):
            v = mpmath.mpc(v)
            return v if mpmath.isfinite(v) else None
        v = mpmath.re(v) if isinstance(v, mpmath.mpc) else v
        try:
            v = mpmath.mpf(v)
        except TypeError:
            return None
        return v if mpmath.isfinite(v) else None

    return call


def _into(v: float, domain) -> float:
    """v moved into an interval ``domain`` (as far from its ends as from 0, or uniformly inside a bounded one)."""
    lo, hi = domain.inf, domain.sup
    if domain.contains(v) is sp.true:
        return v
    if lo.is_finite and hi.is_finite:
        return float(lo) + (float(hi) - float(lo)) * (0.5 + 0.49 * math.sin(v))  # (not on the ends)
    if lo.is_finite:
        return float(lo) + abs(v) + 1e-3
    return float(hi) - abs(v) - 1e-3


def _sign_kind(s: sp.Symbol, signs: dict) -> str | None:
    """The sign a symbol is assumed to have, from the claim's assumptions or its own: "positive", …, or None."""
    return signs.get(s) or (
        "positive" if s.is_positive else "nonnegative" if s.is_nonnegative else "negative" if s.is_negative else None
    )


def _points(symbols, signs, rng: random.Random, count: int, domains=None, kinks=()) -> Iterator[list]:
    """``count`` points: first every adversarial value and every kink, each for all symbols at once (relu' and
    Heaviside differ only at 0, which a random choice among the adversarial values missed), then random ones
    with adversarial coordinates among them."""
    domains = domains or {}

    def draw(s, i):
        pool = ADVERSARIAL if i < len(ADVERSARIAL) * 2 and rng.random() < 0.5 else None
        return place(s, rng.choice(pool) if pool else rng.uniform(-6, 6))

    def place(s, v):
        """v moved to the symbol's sign, assumed interval and integrality."""
        kind = _sign_kind(s, signs)
        if kind in ("positive", "nonnegative"):
            v = abs(v) or (0 if kind == "nonnegative" else 0.5)
        elif kind in ("negative", "nonpositive"):
            v = -abs(v) or (0 if kind == "nonpositive" else -0.5)
        domain = domains.get(s)
        if isinstance(domain, sp.Interval) and not s.is_integer:
            v = _into(v, domain)
        if s.is_integer:
            v = round(v)
        return v

    fixed = [[place(s, v) for s in symbols] for v in dict.fromkeys([*kinks, *ADVERSARIAL])]
    for i in range(count):
        yield fixed[i] if i < len(fixed) else [draw(s, i) for s in symbols]


#: Seconds for finding where a one-variable claim switches case (its kinks), within the claim's own limit.
KINK_SECONDS = 1.0


def _kinks(lhs, rhs, symbols) -> list[float]:
    """The points where a claim in one variable switches case, the only places where relu' = [x > 0] and
    Heaviside(x) = [x ≥ 0] differ; [] for several variables, or where SymPy cannot find them quickly."""
    if len(symbols) != 1:
        return []
    try:
        with time_limit(KINK_SECONDS):
            points = switch_points(lhs - rhs, symbols[0])
    except TimeLimitExceeded:
        return []
    return [float(p) for p in points]


def _real(v) -> bool:
    return v is not None and not isinstance(v, mpmath.mpc)


def _numeric(lhs, rhs, symbols, assumed: _Assumptions, domains: dict, rng, deadline) -> tuple[dict | None, dict]:
    """(counterexample or None, evidence). A point where one side is real and the other is not (2·log x at
    x = −1, against log x²) is a counterexample: the claim is about real functions of real variables."""
    f_lhs, f_rhs = _evaluator(symbols, lhs), _evaluator(symbols, rhs)
    cond = [
        _evaluator(symbols, sp.Piecewise((1, c), (0, True)))
        for c in assumed.conditions
        if not isinstance(c, sp.Equality)
    ]

    def allowed(point) -> bool:
        with mpmath.workdps(LOW_DPS):
            return all(c([mpmath.mpf(v) for v in point]) == 1 for c in cond)

    def split(a, b) -> bool | None:
        """Whether the sides differ at this precision: True, False, or None where the point does not count
        (a side undefined there, or neither side real)."""
        if a is None or b is None or not (_real(a) or _real(b)):
            return None
        if _real(a) != _real(b):
            return True
        return abs(a - b) / max(1, abs(a), abs(b)) > mpmath.mpf(10) ** (15 - mpmath.mp.dps)

    def differs(point) -> tuple | None:
        """The two sides at 80 digits where they differ at 50 and at 80 by about the same amount, else None. A
        difference that shrinks as the digits grow is rounding, amplified: log((1 + tanh x)/(1 − tanh x))/2 at
        x = 30, where 1 − tanh x = 2e-26, is x − 1e-25 at 50 digits and x − 2e-57 at 80."""
        values = []
        for dps in (LOW_DPS, HIGH_DPS):
            with mpmath.workdps(dps):
                a, b = f_lhs([mpmath.mpf(v) for v in point]), f_rhs([mpmath.mpf(v) for v in point])
                if not split(a, b):
                    return None
                values.append((a, b))
        (a50, b50), (a80, b80) = values
        if all(map(_real, (a50, b50, a80, b80))):
            with mpmath.workdps(HIGH_DPS):
                if abs((a50 - b50) - (a80 - b80)) > abs(a80 - b80) / 2:
                    return None
        return a80, b80

    def shown(v) -> str:
        if _real(v):
            return mpmath.nstr(v, 25)
        with mpmath.workdps(HIGH_DPS):  # abs() rounds to the working precision
            sign = "+" if v.imag >= 0 else "−"
            return f"{mpmath.nstr(v.real, 25)} {sign} {mpmath.nstr(abs(v.imag), 25)}·i (not real)"

    kinks = _kinks(lhs, rhs, symbols)
    checked, max_residual = 0, mpmath.mpf(0)
    for point in _points(symbols, assumed.signs, rng, 200, domains, kinks):
        if time.monotonic() > deadline:
            break
        if not allowed(point):
            continue
        with mpmath.workdps(LOW_DPS):
            a, b = f_lhs([mpmath.mpf(v) for v in point]), f_rhs([mpmath.mpf(v) for v in point])
            apart = split(a, b)
        if apart is None:
            continue
        checked += 1
        if _real(a) and _real(b):
            max_residual = max(max_residual, abs(a - b) / max(1, abs(a), abs(b)))
        if apart and differs(point):  # (each point evaluated once at 50)
            point = _simplest(point, symbols, assumed.signs, domains, lambda p: allowed(p) and differs(p), deadline)
            a2, b2 = differs(point)
            ce = {
                "point": {s.name: _short(v) for s, v in zip(symbols, point)},
                "lhs": shown(a2),
                "rhs": shown(b2),
                "difference": mpmath.nstr(a2 - b2, 5) if _real(a2) and _real(b2) else "one side is not real",
                "kink": len(point) == 1 and point[0] in kinks,
            }
            return ce, {}
    evidence = {
        "points": checked,
        "domain": "reals, random in [−6, 6] and adversarial points up to ±30"
        + (" (moved into the assumed intervals)" if any(isinstance(d, sp.Interval) for d in domains.values()) else ""),
        "digits": LOW_DPS,
        "max_residual": mpmath.nstr(max_residual, 3),
    }
    return None, evidence


#: Values tried, in order, for each coordinate of a counterexample: the simplest that still refutes the claim
#: is the one shown (tanh(x) = (1 − e⁻ˣ)/(1 + e⁻ˣ) fails at x = 1, not only at x = 3.0954528352836306).
SIMPLE = [0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 5, -5, 10, -10]


def _simplest(point: list, symbols, signs: dict, domains: dict, refutes: Callable, deadline: float) -> list:
    """``point`` with each coordinate in turn replaced by the first of SIMPLE that keeps it a counterexample
    and within the symbol's sign, integrality and assumed interval."""
    point = list(point)
    for i, s in enumerate(symbols):
        kind = _sign_kind(s, signs)
        for v in SIMPLE:
            if time.monotonic() > deadline:
                return point
            within = {"positive": v > 0, "nonnegative": v >= 0, "negative": v < 0, "nonpositive": v <= 0}
            sign_ok = within.get(kind, True) and (s.is_positive is not True or v > 0)
            sign_ok = sign_ok and (s.is_nonnegative is not True or v >= 0)
            domain = domains.get(s)
            inside = not isinstance(domain, sp.Interval) or domain.contains(v) is sp.true
            if not (sign_ok and inside and (not s.is_integer or float(v).is_integer())):
                continue
            trial = [*point[:i], v, *point[i + 1 :]]
            if refutes(trial):
                point = trial
                break
    return point


def _short(v) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


# -- symbolic strategies -----------------------------------------------------


def _is_zero(e) -> bool:
    if isinstance(e, sp.MatrixBase):
        return all(x == 0 for x in e)
    if isinstance(e, sp.MatrixExpr):
        return bool(e.is_ZeroMatrix)
    return e == 0


def _rewrite_exp(d):
    """symact's atoms, log1p, expm1 and the inverse hyperbolic functions in terms of exp and log."""
    d = d.replace(
        lambda e: isinstance(e, (log1p, expm1, sp.asinh, sp.atanh)),
        lambda e: e.rewrite(sp.exp) if isinstance(e, expm1) else e.rewrite(sp.log),
    )
    return expand_atoms(d).rewrite(sp.exp)


def _exp_to_rational(d):
    """Rewrite in exp and substitute u = e^(a/q), where every exponent is a rational multiple of one a.

    Identities in σ, tanh and softplus become identities between rational
    functions of u, which cancel() decides; so do sin and cos, with u = e^(ix). The common exponent a may be
    a polynomial, as in GELU's tanh approximation. Returns the result and the step as it was taken.
    """
    d = sp.powsimp(sp.expand(_rewrite_exp(d), power_exp=True))
    exps = sorted(d.atoms(sp.exp), key=sp.default_sort_key)
    if not exps:
        return sp.cancel(sp.together(d)), "rewrite in exp, cancel"
    base = sp.expand(exps[0].args[0])
    coeffs = [sp.cancel(sp.expand(e.args[0]) / base) for e in exps]
    if not all(c.is_Rational for c in coeffs):
        return sp.cancel(sp.together(d)), "rewrite in exp, cancel"
    q = sp.ilcm(1, *[c.q for c in coeffs])  # (ilcm needs two arguments)
    u = sp.Dummy("u", positive=True)
    d = d.subs({e: u ** (c * q) for e, c in zip(exps, coeffs)})
    shown = unicode(sp.exp(base / q, evaluate=False))
    if len(shown) > 24:  # GELU-tanh's exponent: name it rather than print it
        shown = "e^a, a common exponent"
    return sp.cancel(sp.together(d)), f"rewrite in exp, substitute u = {shown}, cancel"


def _case_split(d, domains=None):
    """Rewrite max, min, |·|, sign and Heaviside as cases; every reachable case must vanish.

    When the cases split on one variable, each case's region is computed exactly (its condition
    minus the earlier ones): an empty region is skipped, and a region of
    isolated points is checked point by point. Cases on two variables a, b
    are first rewritten with b = a + t, which often leaves conditions on t alone; cases on p·x, for a
    parameter p, are rewritten in t = p·x, a bijection of ℝ where p ≠ 0 (p = 0 is its own case, unless p is
    declared positive or negative).
    """
    if len(d.free_symbols) == 2:  # first: with one variable, unreachable cases are skipped
        pairs = sorted(itertools.permutations(d.free_symbols), key=lambda px: (not px[0].is_positive, px[0].name))
        for p, x in pairs:
            if not (p.is_nonzero or _case_split_once(d.subs(p, 0)) == 0):
                continue
            if _case_split_once(d.subs(x, sp.Symbol("t_" + x.name, real=True) / p)) == 0:
                return sp.S.Zero
    result = _case_split_once(d, domains)
    if result == 0:
        return result
    kinks = set().union(*(e.free_symbols for e in d.atoms(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)))
    if len(kinks) == 2:
        a, b = sorted(kinks, key=lambda s: s.name)
        t = sp.Symbol("t_" + b.name, real=True)
        result = _case_split_once(d.subs(b, a + t))
    return result


def _canonical_condition(rel):
    """a ≥ a + t → −t ≥ 0, and β·x ≥ 0 → x ≥ 0 for a positive β: one variable per condition where possible."""
    lhs = sp.factor_terms(sp.expand(rel.lhs - rel.rhs))
    if lhs.is_Mul:
        lhs = sp.Mul(*[f for f in lhs.args if not f.is_positive])
    return rel.func(lhs, 0)


def _case_split_once(d, domains=None):
    pw = d.replace(
        lambda e: isinstance(e, (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)), lambda e: e.rewrite(sp.Piecewise)
    )
    # a ≥ a + t → −t ≥ 0, so that conditions mention only the variables they depend on
    pw = pw.replace(
        lambda e: isinstance(e, sp.core.relational.Relational) and not isinstance(e, (sp.Eq, sp.Ne)),
        _canonical_condition,
    )
    pw = sp.piecewise_fold(pw)
    if not isinstance(pw, sp.Piecewise):
        return sp.simplify(pw)
    symbols = list(set().union(*(c.free_symbols for _, c in pw.args)))  # the variables the cases split on
    # outside an assumed domain (x > 6) nothing needs to vanish: count it as covered from the start
    covered = sp.S.Reals - (domains or {}).get(symbols[0], sp.S.Reals) if len(symbols) == 1 else sp.S.EmptySet
    for branch, cond in pw.args:
        if len(symbols) == 1 and symbols[0].is_real:
            region = _condition_set(cond) - covered
            covered = covered | region
            if region is sp.S.EmptySet:
                continue
            if isinstance(region, sp.FiniteSet):
                if not all(_vanishes_at(branch, symbols[0], p) for p in region):
                    return pw
                continue
            if region.contains(0) is sp.true and not _vanishes_at(branch, symbols[0], 0):
                return pw
            branch = _signed(branch, symbols[0], region - sp.FiniteSet(0))
        if cond is not sp.false and _exp_to_rational(branch)[0] != 0 and sp.simplify(_rewrite_exp(branch)) != 0:
            return pw
    return sp.S.Zero


@functools.lru_cache(maxsize=4096)
def _condition_set(cond) -> sp.Set:
    """The real x where a condition on x holds: SymPy's as_set, built from its relations' sets, each found once.
    A folded Piecewise repeats its few relations in hundreds of conditions, and as_set solves every copy again
    (the fused SiLU form's f′: 1180 calls, three quarters of the proof's time)."""
    if cond is sp.true:
        return sp.S.Reals
    if cond is sp.false:
        return sp.S.EmptySet
    if isinstance(cond, sp.And):
        return sp.Intersection(*(_condition_set(c) for c in cond.args))
    if isinstance(cond, sp.Or):
        return sp.Union(*(_condition_set(c) for c in cond.args))
    if isinstance(cond, sp.Not):
        return sp.S.Reals - _condition_set(cond.args[0])
    return cond.as_set()


def _vanishes_at(branch, x, p) -> bool:
    """``branch`` is 0 at x = p, or undefined there (log 0 − 2·log 0 is NaN: both sides are −∞), which is
    outside the claim's domain, as the numerical check skips it."""
    value = sp.simplify(branch.subs(x, p))
    return value == 0 or value is sp.nan


def _signed(branch, x, region):
    """``branch`` with x written as t or −t, t > 0, where ``region`` (0 taken out) has one sign, so that simplify
    knows it: log x² = 2·log|x| splits into log t² = 2·log t twice."""
    for side, sign in ((sp.Interval.open(0, sp.oo), 1), (sp.Interval.open(-sp.oo, 0), -1)):
        if region.is_subset(side):
            return branch.subs(x, sign * sp.Dummy("t", positive=True))
    return branch


def _matrix_expand(d):
    return sp.expand(d.doit() if hasattr(d, "doit") else d)


# Cheap and targeted strategies first; simplify() can take seconds on a large difference.
# Each takes lhs − rhs and the assumed domains of its symbols (only the case split uses them).
STRATEGIES: list[tuple[str, str, Callable]] = [
    ("expand", "expand both sides", lambda d, _: sp.expand(d)),
    ("exp-rational", "rewrite in exp, substitute u = e^a, cancel", lambda d, _: _exp_to_rational(d)),
    ("cases", "split at kinks into cases, simplify each", _case_split),
    ("simplify", "simplify(lhs − rhs)", lambda d, _: sp.simplify(d)),
    ("rewrite-exp", "rewrite in exp and simplify", lambda d, _: sp.simplify(_rewrite_exp(d))),
    ("rewrite-erf", "rewrite erfc in erf and simplify", lambda d, _: sp.simplify(d.rewrite(sp.erf))),
    ("matrix", "expand the matrix expression", lambda d, _: _matrix_expand(d)),
]


def _symbolic(diff, deadline, domains=None) -> tuple[str, list] | None:
    """Try each strategy in turn; none may use more than half of the time left, so all get a turn."""
    for i, (name, text, strategy) in enumerate(STRATEGIES):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        share = remaining if i == len(STRATEGIES) - 1 else remaining / 2
        try:
            with time_limit(share):
                result = strategy(diff, domains)
        except (TimeLimitExceeded, NotImplementedError, TypeError, ValueError, AttributeError, RecursionError):
            continue
        if isinstance(result, tuple):  # the result, and the step as this claim took it
            result, text = result
        if _is_zero(result):
            return name, [("lhs − rhs", diff), (text, sp.S.Zero)]
    return None


# -- suggestions -------------------------------------------------------------


def _suggest(lhs, rhs, deadline) -> str | None:
    """A nearby true identity: an argument scaled, a sign flipped."""
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    if len(symbols) != 1:
        return None
    x = symbols[0]
    candidates = [(lhs.subs(x, c * x), rhs) for c in (sp.S.Half, 2, -1, sp.Rational(1, 3), 3)]
    candidates += [(lhs, rhs.subs(x, c * x)) for c in (sp.S.Half, 2, -1)]
    candidates += [(lhs, -rhs)]
    for a, b in candidates:
        if time.monotonic() > deadline:
            return None
        if _symbolic(a - b, min(deadline, time.monotonic() + 1.0)):
            return f"{sp.sstr(a)} == {sp.sstr(b)}"
    return None


# -- entry point -------------------------------------------------------------


def prove(
    lhs,
    rhs=None,
    *,
    assumptions=None,
    timeout: float = 5.0,
    seed: int = 0,
    suggest: bool = True,
    isolate: bool = False,
    memory_mb: int = 512,
) -> Verdict:
    """Decide ``lhs == rhs``, honestly.

    Args:
        lhs: a SymPy expression or equality, or text such as
            ``"diff(sigmoid(x), x) == sigmoid(x)*(1 - sigmoid(x))"``.
        rhs: the other side; default 0 (or the right side of an equality).
        assumptions: conditions such as ``["x > 0", "y_1 + y_2 + y_3 == 1"]``.
        timeout: seconds for the whole check.
        seed: seed for the random test points.
        isolate: run in a child process under a hard time and memory limit
            (``memory_mb``), so that even a step that ignores the time limit ends.

    Returns:
        A :class:`Verdict`: proved (exact symbolic route), verified (numerical
        evidence only), disproved (a counterexample at two precisions) or unknown.

    Raises:
        ValueError: ``timeout`` is not a positive, finite number of seconds.
    """
    start = time.monotonic()
    if not 0 < timeout < float("inf"):  # NaN too: no verdict can be reached in no time, or be waited for forever
        raise ValueError(f"timeout must be a positive, finite number of seconds, got {timeout}")
    if isolate:
        return _isolated(lhs, rhs, assumptions, timeout, seed, suggest, memory_mb)
    deadline = start + timeout
    text = _typed(lhs, rhs)
    lhs, rhs, assumed, domains = _prepared(lhs, rhs, assumptions)
    verdict = Verdict("unknown", lhs, rhs, text=text)
    if (
        isinstance(lhs, sp.MatrixBase)
        or isinstance(rhs, sp.MatrixBase)
        or lhs.has(sp.MatrixSymbol)
        or rhs.has(sp.MatrixSymbol)
    ):
        return _finish(_prove_matrix(verdict, deadline), start)

    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    try:
        with time_limit(max(deadline - time.monotonic(), 0.01)):
            counterexample, evidence = _numeric(lhs, rhs, symbols, assumed, domains, random.Random(seed), deadline)
    except TimeLimitExceeded:
        verdict.reason = "timed out during the numerical check"
        return _finish(verdict, start)
    if counterexample:
        verdict.status, verdict.method, verdict.counterexample = "disproved", "counterexample", counterexample
        if counterexample["kink"]:
            verdict.reason = (
                "the point is a kink or jump, where each side takes its value by its own rule; a catalog "
                "function's derivative there is H(0) = 0 or its branch (symact show NAME states it)"
            )
        if suggest:
            verdict.suggestion = _suggest(lhs, rhs, min(deadline, time.monotonic() + 2.0) if timeout > 2 else deadline)
        return _finish(verdict, start)

    route = _symbolic(lhs - rhs, deadline, domains)
    if route:
        verdict.status, verdict.method = "proved", route[0]
        verdict.steps = route[1]
        if route[0] == "cases" and any(d != sp.S.Reals for d in domains.values()):
            verdict.steps.insert(
                0, ("on " + ", ".join(f"{s.name} ∈ {unicode(d)}" for s, d in domains.items()), lhs - rhs)
            )
        if assumed.substitutions:
            verdict.steps.insert(
                0, ("using " + ", ".join(f"{k} = {unicode(v)}" for k, v in assumed.substitutions.items()), lhs - rhs)
            )
        return _finish(verdict, start)
    if evidence.get("points", 0) >= 20:
        verdict.status, verdict.method, verdict.evidence = "verified", "numerical", evidence
        verdict.reason = "no symbolic proof found in time; this is evidence, not proof"
    else:
        verdict.reason = "too few points in the domain to judge" if evidence else "timed out"
    return _finish(verdict, start)


def _prepared(lhs, rhs, assumptions):
    """The claim's sides with real symbols, the assumptions applied (signs as symbol assumptions, equalities
    substituted), and each symbol's assumed domain; ExpressionError for bad text or contradicting assumptions."""
    lhs, rhs = _as_claim(lhs, rhs)
    lhs, reps = _realify(lhs)
    rhs = rhs.xreplace(reps)
    rhs, more = _realify(rhs)
    lhs = lhs.xreplace(more)
    table = {s.name: s for s in lhs.free_symbols | rhs.free_symbols}
    assumed = _assumptions(assumptions, table)
    if assumed.signs:
        signed = {s: sp.Symbol(s.name, **{kind: True}) for s, kind in assumed.signs.items()}
        lhs, rhs = lhs.xreplace(signed), rhs.xreplace(signed)
        assumed.conditions = [c.xreplace(signed) for c in assumed.conditions]
        assumed.signs = {signed[s]: k for s, k in assumed.signs.items()}
    if assumed.substitutions:
        lhs, rhs = lhs.subs(assumed.substitutions), rhs.subs(assumed.substitutions)
    domains = assumed.domains()
    if any(c is sp.false for c in assumed.conditions):  # x > 1 after x < 0 made x negative
        raise ExpressionError("the assumptions contradict each other: no value satisfies them all")
    for x, allowed in domains.items():
        if allowed is sp.S.EmptySet:  # (every case would then be vacuously true)
            raise ExpressionError(f"the assumptions on {x.name} contradict each other: no value satisfies them all")
    return lhs, rhs, assumed, domains


def _isolated(lhs, rhs, assumptions, timeout, seed, suggest, memory_mb) -> Verdict:
    from .sandbox import LimitExceeded, run_limited

    _prepared(lhs, rhs, assumptions)  # here, so bad text or assumptions are an ExpressionError in the caller
    text = _typed(lhs, rhs)
    lhs, rhs = _as_claim(lhs, rhs)
    try:
        verdict = run_limited(
            prove,
            lhs,
            rhs,
            assumptions=assumptions,
            timeout=timeout,
            seed=seed,
            suggest=suggest,
            limit_seconds=timeout + 2.0,
            limit_mb=memory_mb,
        )
    except LimitExceeded as e:
        verdict = Verdict("unknown", lhs, rhs, reason=str(e))
    verdict.text = text
    return verdict


def _prove_matrix(verdict: Verdict, deadline) -> Verdict:
    diff = verdict.lhs - verdict.rhs
    route = _symbolic(diff, deadline)
    if route:
        verdict.status, verdict.method, verdict.steps = "proved", route[0], route[1]
    else:
        verdict.reason = "matrix identity: no symbolic proof found (matrix claims are not sampled)"
    return verdict


def _finish(verdict: Verdict, start: float) -> Verdict:
    verdict.seconds = time.monotonic() - start
    return verdict

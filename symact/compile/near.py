"""A kernel's near range |x| < R: the forms there, with every choice that R decides taken.

A stable form handles its far tails with choices: SiLU scales e^x by 2^64 below x = −708 and reads x as 0 beyond
810, GELU clamps x at ±40, and the exp helpers clamp their argument and shift its exponent by ±64 beyond ±708. In
a SIMD loop every choice costs its comparison and its blend in every lane, though almost no input is that far
out. R is the smallest threshold of the forms' comparisons at or beyond FAR in magnitude, or NEAR_EXP where the
forms take an exp (shrunk where an exp's argument goes beyond ±NEAR_EXP within it), and :func:`near_forms` gives
the forms for |x| < R: each comparison whose truth is the same all over [−R, R] replaced by that truth, and each
max or min there by its one argument; the C printer takes the exp helpers without clamps where their argument is
within ±NEAR_EXP. They compute the same values as the forms, operation for operation, wherever |x| < R. The C
loops take them for a block of inputs that are all within R, and the forms for a block that has one beyond (or
±inf or NaN): see :func:`symact.compile.c.source`.

Truth is decided by interval arithmetic on the forms, each temporary's interval from its definition's, widened
where an operation rounds. A comparison it cannot decide stays, so the near forms are never wrong, only less
simple than they might be.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1

from ..rounding import NEAR_EXP, SHORT_EXP, exp_fma, exp_tail, fma, held, lit, literal, lo, ratio
from .forms import KernelForms, expressions

#: The exps in double whose C helpers have ``_near`` variants (symact.compile.c._Printer._near).
EXPS = (sp.exp, expm1, exp_fma, exp_tail, *SHORT_EXP)
#: A threshold at or beyond this magnitude marks a far tail; below it a comparison is a kink or a window
#: (SiLU's root window |x + 1.28| < 0.3, ReLU's x > 0), which the near forms keep.
FAR = 15.0

Interval = tuple[float, float]


def _widened(lower: float, upper: float) -> Interval:
    """[lower, upper] widened by more than the rounding of the operation that gave it, in float (2^-24) or
    double, and of the exp that math.exp and the kernels compute."""
    return lower - abs(lower) * 2.0**-20 - 1e-300, upper + abs(upper) * 2.0**-20 + 1e-300


def interval(expr: sp.Expr, env: dict) -> Interval | None:
    """Bounds on the values that ``expr`` takes where each symbol is within its interval in ``env``, or None."""
    try:
        found = _interval(expr, env)
    except OverflowError:  # (a power beyond the floats)
        return None
    return None if found is None or math.isnan(found[0]) or math.isnan(found[1]) else found  # (∞·0, ∞ − ∞)


def _interval(expr: sp.Expr, env: dict) -> Interval | None:
    if isinstance(expr, (lit, lo)):
        v = literal(expr)
        return v, v
    if expr.is_number and not expr.has(lit, lo):  # (a constant: √2/√π)
        try:
            v = float(expr)
        except TypeError:  # not real
            return None
        return (v, v) if math.isfinite(v) else None
    if expr.is_Symbol:
        return env.get(expr)
    args = [interval(a, env) for a in expr.args] if not isinstance(expr, sp.Piecewise) else []
    if None in args:
        return None
    if isinstance(expr, sp.Abs):
        (a, b) = args[0]
        return (0.0 if a <= 0 <= b else min(abs(a), abs(b))), max(abs(a), abs(b))
    if isinstance(expr, (sp.Max, sp.Min)):
        pick = max if isinstance(expr, sp.Max) else min
        return pick(a for a, _ in args), pick(b for _, b in args)
    if isinstance(expr, held):
        return args[0]
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, env)
    if isinstance(expr, sp.Add):
        return _widened(sum(a for a, _ in args), sum(b for _, b in args))
    if isinstance(expr, sp.Mul):
        if expr.args[0] == -1 and len(args) == 2:  # −a: exact
            return -args[1][1], -args[1][0]
        lower, upper = args[0]
        for a, b in args[1:]:
            products = [lower * a, lower * b, upper * a, upper * b]
            lower, upper = _widened(min(products), max(products))
        return lower, upper
    if isinstance(expr, fma):
        return interval(expr.args[0] * expr.args[1] + expr.args[2], env)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
        (a, b), n = args[0], int(expr.exp)
        ends = sorted((a**n, b**n))
        low = 0.0 if n % 2 == 0 and a <= 0 <= b else ends[0]
        return _widened(low, ends[1])
    if isinstance(expr, ratio) and not args[1][0] <= 0 <= args[1][1]:
        return interval(expr.args[0] * sp.Pow(expr.args[1], -1, evaluate=False), env)
    if isinstance(expr, sp.Pow) and expr.exp == -1 and not args[0][0] <= 0 <= args[0][1]:
        a, b = args[0]
        return _widened(1 / b, 1 / a)
    if isinstance(expr, sp.exp):
        a, b = args[0]
        return _widened(_exp(a), _exp(b))
    return None


def _exp(v: float) -> float:
    return math.exp(v) if v < 709 else math.inf


def _piecewise(expr: sp.Piecewise, env: dict) -> Interval | None:
    """The hull of the values of the cases that may be taken."""
    hull = None
    for value, cond in expr.args:
        truth = decide(cond, env)
        if truth is False:
            continue
        bounds = interval(value, env)
        if bounds is None:
            return None
        hull = bounds if hull is None else (min(hull[0], bounds[0]), max(hull[1], bounds[1]))
        if truth is True:
            break
    return hull


def decide(cond, env: dict) -> bool | None:
    """Whether ``cond`` holds everywhere (True) or nowhere (False) in ``env``'s intervals; None: undecided."""
    if cond in (sp.true, sp.false):
        return bool(cond)
    if not isinstance(cond, sp.core.relational.Relational):
        return None
    left, right = interval(cond.lhs, env), interval(cond.rhs, env)
    if left is None or right is None:
        return None
    (a, b), (c, d) = left, right
    if isinstance(cond, sp.StrictLessThan):
        return True if b < c else (False if a >= d else None)
    if isinstance(cond, sp.LessThan):
        return True if b <= c else (False if a > d else None)
    if isinstance(cond, sp.StrictGreaterThan):
        return True if a > d else (False if b <= c else None)
    if isinstance(cond, sp.GreaterThan):
        return True if a >= d else (False if b < c else None)
    if isinstance(cond, (sp.Eq, sp.Ne)) and (b < c or d < a):  # never equal
        return isinstance(cond, sp.Ne)
    return None


def _decided(expr, env: dict, known: dict):
    """``expr`` with the temporaries in ``known`` put in, each comparison decided in ``env`` replaced by its truth,
    and each max or min whose argument is the largest (smallest) all over ``env`` by that argument. A choice or
    a max that gives way to one of its values keeps that value's grouping (:func:`_grouped`)."""
    if expr in known:
        return known[expr]
    if not expr.args or isinstance(expr, (lit, lo)):
        return expr
    args = tuple(_decided(a, env, known) for a in expr.args)
    rebuilt = expr if args == expr.args else expr.func(*args)
    if isinstance(expr, sp.Piecewise) and not isinstance(rebuilt, sp.Piecewise):
        return _grouped(rebuilt)
    if isinstance(rebuilt, sp.core.relational.Relational):
        truth = decide(rebuilt, env)
        return rebuilt if truth is None else sp.true if truth else sp.false
    if isinstance(rebuilt, (sp.Max, sp.Min)):
        bounds = [interval(a, env) for a in rebuilt.args]
        if None not in bounds:
            for arg, (a, b) in zip(rebuilt.args, bounds):
                others = [bound for bound in bounds if bound != (a, b)]
                if isinstance(rebuilt, sp.Max) and all(a >= d for _, d in others):
                    return _grouped(arg)
                if isinstance(rebuilt, sp.Min) and all(b <= c for c, _ in others):
                    return _grouped(arg)
    return rebuilt


def _grouped(value: sp.Expr) -> sp.Expr:
    """A sum or product computed on its own, as it was inside the choice: t·(x·(a·x² + b)), not (t·x)·(a·x² + b),
    which SymPy's flattening would print and which rounds differently."""
    return held(value) if isinstance(value, (sp.Add, sp.Mul)) else value


def _thresholds(forms: KernelForms) -> list[float]:
    """The numbers that the forms compare with or clamp at, FAR or more in magnitude, and NEAR_EXP where they
    take an exp in double: its helper's clamps and shifts are for arguments beyond ±NEAR_EXP, which e^−|x|
    (sigmoid) has only beyond it."""
    exprs = expressions(forms)
    found = [NEAR_EXP] if any(e.has(*EXPS) for e in exprs) else []
    for e in exprs:
        for atom in e.atoms(sp.core.relational.Relational, sp.Max, sp.Min):
            found += [abs(float(a)) for a in atom.args if a.is_Number and abs(float(a)) >= FAR]
    return found


def near_forms(forms: KernelForms) -> tuple[float, KernelForms, dict]:
    """(R, the forms for |x| < R, each temporary's interval there). R is inf where the forms have no far
    threshold: then the forms are the same, and the near range only leaves out ±inf and NaN. Where an exp's
    argument can still be beyond ±NEAR_EXP within R, R shrinks by that factor if it stays FAR or more:
    tanh's e^(−2|x|) within |x| < 354."""
    r = _single(min(_thresholds(forms), default=math.inf))
    if r == math.inf:
        return r, forms, {}
    near, env = _near_at(forms, r)
    calls = set().union(*(e.atoms(*EXPS) for e in expressions(near)))
    reach = 0.0  # how far out the arguments go (exp_tail has no upper clamp: its lower end only)
    for call in calls:
        if not call.args[0].is_number:  # (not the constants in literals)
            b = interval(call.args[0], env)
            reach = max(reach, math.inf if b is None else -b[0] if isinstance(call, exp_tail) else max(-b[0], b[1]))
    if reach > NEAR_EXP and r * NEAR_EXP / reach >= FAR:
        r = _single(r * NEAR_EXP / reach)
        near, env = _near_at(forms, r)
    return r, near, env


def _single(r: float) -> float:
    """r, or the float32 number just below it: the loops compare |x| with it in float too."""
    below = float(np.float32(r))
    return below if below <= r else float(np.nextafter(np.float32(r), np.float32(0)))


def _near_at(forms: KernelForms, r: float) -> tuple[KernelForms, dict]:
    """The forms for |x| ≤ r and each temporary's interval there."""
    env: dict = {forms.x: (-r, r)}
    known: dict = {}  # temporaries decided to a truth or a number: put in where they are used
    assignments = []
    for symbol, definition in forms.assignments:
        value = _decided(definition, env, known)
        if value in (sp.true, sp.false) or value.is_Number:
            known[symbol] = value
            continue
        assignments.append((symbol, value))
        if not isinstance(value, sp.logic.boolalg.Boolean):
            env[symbol] = interval(value, env)
    f, df = (_decided(e, env, known) for e in (forms.f, forms.df))
    near = dataclasses.replace(forms, assignments=tuple(assignments), f=f, df=df, in_float=None)
    return near, {s: b for s, b in env.items() if b is not None}

"""What every backend generates from: the stable f and f', parameters bound, common subexpressions shared."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sympy as sp

from .. import __version__
from ..analyze import limit_at
from ..catalog.registry import USER_DEFINED
from ..fn import Fn
from ..rounding import ROUNDING_ATOMS, lit, lo, machine, reduced_exp
from ..stable import stable_form
from .cache import cache_dir, digest, write_atomic


@dataclass(frozen=True)
class KernelForms:
    """Straight-line code for one element: ``assignments`` then ``f`` and ``df``, all in ``x``.

    ``limits`` holds (f(−∞), f(+∞), f'(−∞), f'(+∞)), which the kernels return
    at ±inf instead of evaluating ∞/∞.
    """

    x: sp.Symbol
    assignments: tuple[tuple[sp.Symbol, sp.Expr], ...]
    f: sp.Expr
    df: sp.Expr
    limits: tuple[float, float, float, float]
    #: For float32 data, forms to compute in float (16 lanes), where the stable form has them
    #: (:attr:`symact.stable.StableForm.float32`); else the C backend tries these forms in float.
    in_float: KernelForms | None = None


def expressions(forms: KernelForms) -> list[sp.Expr]:
    """The forms' expressions: each assignment's, then f and f'."""
    return [e for _, e in forms.assignments] + [forms.f, forms.df]


#: Seconds SymPy may take for each limit at ±∞ of a kernel's f and f'. They are computed once and cached, and
#: are the kernel's outputs at ±inf, so they must not depend on the machine's speed: GELU-tanh's f' takes ~5 s
#: on a slow CPU (AMD EPYC Zen 3), where limit_at's default of 2 s gave nan, and f'(inf) = NaN was cached.
LIMIT_SECONDS = 120.0


def _float_limit(expr, x, direction) -> float:
    value = limit_at(expr, x, direction, seconds=LIMIT_SECONDS)
    # no real limit: NaN, as √x at −∞ (∞·i) gives, which float() refused with a TypeError; and NaN where the
    # function is not real far out, though SymPy's limit is: 1/(2√x) → 0 as x → −∞, through imaginary values
    if not (value.is_number and value.is_extended_real) or not _real_far_out(expr, x, direction):
        return float("nan")
    return float(value)


def _real_far_out(expr, x, direction) -> bool:
    """Whether ``expr`` is real at x = ±10⁶ (the side of ``direction``), or SymPy cannot tell: by its assumptions,
    not numerically (GELU's erf(500000·√2) asked evalf for 7·10¹¹ bits)."""
    return expr.subs(x, 10**6 if direction is sp.oo else -(10**6)).is_extended_real is not False


def irrationals_to_floats(expr: sp.Expr) -> sp.Expr:
    """Irrational constants → 20-digit floats; rationals stay exact, so x/6 is still a division.

    The literals of :mod:`symact.rounding` are left whole: their printers need the exact constant.
    """
    if isinstance(expr, (lit, lo)) or not expr.args:
        return expr
    if expr.is_number and not expr.is_Rational and expr.is_real and not expr.has(sp.oo, -sp.oo, lit, lo):
        return expr.evalf(20)
    args = [irrationals_to_floats(a) for a in expr.args]
    return expr if args == list(expr.args) else expr.func(*args)


def with_default(expr: sp.Expr) -> sp.Expr:
    """Code printers need a final ``True`` case; where the cases already cover ℝ it is never reached."""
    return expr.replace(
        lambda e: isinstance(e, sp.Piecewise) and e.args[-1].cond is not sp.true,
        lambda e: sp.Piecewise(*e.args, (sp.nan, True)),
    )


def shared(exprs: list[sp.Expr], factor: bool = True) -> tuple[list, list]:
    """Common subexpressions of ``exprs`` as (assignments, reduced expressions).

    CSE's "basic" optimizations factor sums, which helps plain forms
    (x/6 + 1/2 becomes (x + 3)/6, exact at the root x = −3) but would
    rewrite a compensated form's a·x + b·x³ as x·(a + b·x²), whose rounding
    its error atoms do not describe; those forms are printed as written, and
    so are losses (``factor=False``): factoring takes a sum's sign out, and
    BCE's (1 − y)/(1 − ŷ) as (y − 1)/(ŷ − 1) is −1/(+0) = −∞ at ŷ = 1, y = 0,
    the end of its domain, where its gradient's limit is +∞.
    """
    # CSE must not reach inside a literal. The dummies are made in a fixed order: their order decides the
    # order of sums, so a set's order (which varies with PYTHONHASHSEED) would change the roundings.
    atoms = sorted(set().union(*(e.atoms(lit, lo) for e in exprs)), key=sp.default_sort_key)
    constants = {a: sp.Dummy() for a in atoms}
    back = {d: a for a, d in constants.items()}
    compensated = any(e.has(*ROUNDING_ATOMS) for e in exprs)
    reps, reduced = sp.cse(
        [e.xreplace(constants) for e in exprs],
        symbols=sp.numbered_symbols("t"),
        optimizations="basic" if factor and not compensated else None,
    )
    if not factor:  # CSE shares 1 − ŷ with ŷ − 1 as −(ŷ − 1): −0 at ŷ = 1, where 1 − ŷ is +0. Print both.
        defs = dict(reps)
        reps = [(s, -defs[e.args[1]] if _negated_sum(e, defs) else e) for s, e in reps]
    return [(s, e.xreplace(back)) for s, e in reps], [e.xreplace(back) for e in reduced]


def _negated_sum(e: sp.Expr, defs: dict) -> bool:
    """Whether ``e`` is −t for a temporary t that is a sum."""
    return e.is_Mul and e.args[0] == -1 and len(e.args) == 2 and e.args[1] in defs and defs[e.args[1]].is_Add


def _forms(fn: Fn, limits: tuple[float, float, float, float], single: bool, fused: bool) -> KernelForms:
    x = fn.inputs[0]
    sf = stable_form(fn)
    if fused and not single and sf.fused is not None:  # float64 with fma and SIMD (the C and numba backends)
        sf = sf.fused
    if single and sf.single is not None:  # float32 data, computed in double: no compensation needed
        f, df = sf.single
    else:
        f, df = sf.f, sf.df
        for a in sf.approximations:  # with proved error bounds, where no rewrite is accurate in floating point
            where = (x > a.lo) & (x < a.hi)
            f = f if a.f is None else sp.Piecewise((a.f, where), (f, True))
            df = df if a.df is None else sp.Piecewise((a.df, where), (df, True))
    # 2^-40 is 2^-16 of a float ULP: exp and expm1 as a few fused multiply-adds, clamped to [e^-708, e^709]. Not
    # for a user's function, whose form may divide two exps that the clamp makes equal: the slope of
    # √(1 + e^(2x)) − eˣ, −e^(2x)/((√(1 + e^(2x))·eˣ + e^(2x))·√(1 + e^(2x))), was −c/(2c) = −0.5 at x = −883
    if single and fn.entry.reference != USER_DEFINED:
        f, df = reduced_exp(f), reduced_exp(df)
    in_float = _straight(fn, *sf.float32, limits) if single and sf.float32 is not None else None
    return _straight(fn, f, df, limits, in_float)


def _straight(fn: Fn, f: sp.Expr, df: sp.Expr, limits, in_float: KernelForms | None = None) -> KernelForms:
    """f and f' as straight-line code: parameters bound, atoms read as the machine computes them, and
    common subexpressions shared."""
    # Constants such as SELU's λ (a closed form in erfc) become 20-digit literals, not run-time arithmetic.
    f, df = (with_default(irrationals_to_floats(machine(fn.bind(e)))) for e in (f, df))
    replacements, (f_red, df_red) = shared([f, df])
    return KernelForms(fn.inputs[0], tuple(replacements), f_red, df_red, limits, in_float)


def _limits(fn: Fn) -> tuple[float, float, float, float]:
    """(f(−∞), f(+∞), f'(−∞), f'(+∞)) from the definition and its derived derivative."""
    x = fn.inputs[0]
    definition, derivative = fn.bind(), fn.bind(fn.derivative())
    return (
        _float_limit(definition, x, -sp.oo),
        _float_limit(definition, x, sp.oo),
        _float_limit(derivative, x, -sp.oo),
        _float_limit(derivative, x, sp.oo),
    )


_CACHE: dict[tuple, KernelForms] = {}
#: Part of the cached limits' key: 2 since limit_at checks SymPy's limit against a second form (SiLU'(+∞)
#: was cached as 0); 3 since the limits have LIMIT_SECONDS (a slow machine had cached nan); 4 since a limit
#: is NaN where the function is not real far out (log x at −∞ was cached as +∞).
LIMITS = "4"


def kernel_forms(fn: Fn, dtype: str = "float64", fused: bool = False) -> KernelForms:
    """Forms for an elementwise activation with its bound parameter values, for float64 or float32 data;
    ``fused``: for a target with a fused multiply-add that runs SIMD (the C and numba backends), which takes a
    stable form's ``fused`` variant in float64 where it has one.

    The limits at ±∞ take seconds for some functions (GELU-tanh: ~4 s, most of
    it deriving f' and taking its limits), so the four numbers are kept in the
    kernel cache as JSON, keyed by the definition, the parameter values and the
    symact and SymPy versions; the forms themselves are rebuilt (milliseconds).
    """
    if fn.kind != "activation" or fn.vector:
        raise ValueError(f"{fn.name}: compiled kernels cover elementwise activations")
    key = (fn.name, sp.srepr(fn.expr), tuple(sorted((s.name, str(v)) for s, v in fn.params.items())))
    if (key, dtype, fused) not in _CACHE:
        path = cache_dir() / f"{fn.name}_limits_{digest(repr(key), __version__, sp.__version__, LIMITS)}.json"
        limits = None
        if path.exists():
            try:
                limits = tuple(float(v) for v in json.loads(path.read_text()))
            except (ValueError, TypeError):  # a damaged entry is rebuilt
                limits = None
        if limits is None or len(limits) != 4:
            limits = _limits(fn)
            write_atomic(path, json.dumps([repr(v) for v in limits]))
        _CACHE[key, dtype, fused] = _forms(fn, limits, single=dtype == "float32", fused=fused)
    return _CACHE[key, dtype, fused]

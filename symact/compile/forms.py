"""What every backend generates from: the stable f and f', parameters bound, common subexpressions shared."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..analyze import limit_at
from ..fn import Fn
from ..stable import stable_form


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


def _float_limit(expr, x, direction) -> float:
    value = limit_at(expr, x, direction)
    return float("nan") if value is sp.nan or not value.is_number else float(value)


def irrationals_to_floats(expr: sp.Expr) -> sp.Expr:
    """Irrational constants → 20-digit floats; rationals stay exact, so x/6 is still a division."""
    return expr.replace(
        lambda e: e.is_number and not e.is_Rational and not e.is_Float and e.is_real and not e.has(sp.oo, -sp.oo),
        lambda e: e.evalf(20),
    )


def with_default(expr: sp.Expr) -> sp.Expr:
    """Code printers need a final ``True`` case; where the cases already cover ℝ it is never reached."""
    return expr.replace(
        lambda e: isinstance(e, sp.Piecewise) and e.args[-1].cond is not sp.true,
        lambda e: sp.Piecewise(*e.args, (sp.nan, True)),
    )


_CACHE: dict[tuple, KernelForms] = {}


def _forms(fn: Fn) -> KernelForms:
    x = fn.inputs[0]
    sf = stable_form(fn)
    # Constants such as SELU's λ (a closed form in erfc) become 20-digit literals, not run-time arithmetic.
    f, df = (with_default(irrationals_to_floats(fn.bind(e))) for e in (sf.f, sf.df))
    replacements, (f_red, df_red) = sp.cse([f, df], symbols=sp.numbered_symbols("t"), optimizations="basic")
    definition, derivative = fn.bind(), fn.bind(fn.derivative())
    limits = (
        _float_limit(definition, x, -sp.oo),
        _float_limit(definition, x, sp.oo),
        _float_limit(derivative, x, -sp.oo),
        _float_limit(derivative, x, sp.oo),
    )
    return KernelForms(x, tuple(replacements), f_red, df_red, limits)


def kernel_forms(fn: Fn) -> KernelForms:
    """Forms for an elementwise activation with its bound parameter values."""
    if fn.kind != "activation" or fn.vector:
        raise ValueError(f"{fn.name}: compiled kernels cover elementwise activations")
    key = (fn.name, str(fn.expr), tuple(sorted((s.name, str(v)) for s, v in fn.params.items())))
    if key not in _CACHE:  # limits and CSE take seconds for some functions: once per process
        _CACHE[key] = _forms(fn)
    return _CACHE[key]

"""Numerically stable forms of f and f', the ones the kernels are generated from.

A stable form is a rewrite, never a different function: every entry here is
proved equal to the catalog definition and to its derived derivative
(tests/test_stable.py runs ``symact.prove`` on each). The rewrites follow
the usual recipes:

- σ(u) through e = exp(−|u|), so nothing overflows, and σ' = σ(u)·σ(−u)
  instead of σ(1 − σ), which is 0 in floating point for u ≳ 37;
- softplus and log σ with log1p(exp(−|x|));
- tanh and tanh' from expm1(−2|x|), so 1 − tanh² never cancels;
- ELU/CELU with expm1(min(x, 0)), so the unused branch cannot overflow;
- GELU with erfc in the negative tail; GELU-tanh with 1 + tanh(u) = 2σ(2u);
- Mish with tanh(softplus(x)) as a rational function of exp(−|x|).

Functions not listed here (including user-defined ones) use the definition
and its derived derivative as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .fn import Fn
from .functions import sigmoid, softplus


class erfc(sp.erfc):  # noqa: N801  (printers look functions up by this name)
    """erfc that keeps its argument: SymPy rewrites erfc(−z) as 2 − erfc(z), which
    is exactly the cancellation the GELU kernel must avoid in the negative tail."""

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.S.One


@dataclass(frozen=True)
class StableForm:
    """f and f' in the input symbol x and the parameter symbols."""

    f: sp.Expr
    df: sp.Expr


def _where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _sigmoid_pair(u: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(σ(u), σ(−u)) from e = exp(−|u|): no overflow, no cancellation."""
    e = sp.exp(-sp.Abs(u))
    return _where(u >= 0, 1 / (1 + e), e / (1 + e)), _where(u >= 0, e / (1 + e), 1 / (1 + e))


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


def _silu(fn: Fn) -> StableForm:
    x, b = fn.inputs[0], fn.param("beta")
    s, sn = _sigmoid_pair(b * x)
    return StableForm(x * s, s + b * x * s * sn)


def _elu_like(scale: Callable[[Fn], sp.Expr], alpha: Callable[[Fn], sp.Expr], inner: Callable[[Fn], sp.Expr]):
    """scale·(x for x > 0, α·expm1(min(x, 0)/k) otherwise), with derivative."""

    def build(fn: Fn) -> StableForm:
        x = fn.inputs[0]
        lam, a, k = scale(fn), alpha(fn), inner(fn)
        neg = sp.Min(x, 0) / k
        return StableForm(lam * _where(x > 0, x, a * expm1(neg)), lam * _where(x > 0, 1, a / k * sp.exp(neg)))

    return build


def _gelu(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    c = erfc(-x / sp.sqrt(2))
    return StableForm(x * c / 2, c / 2 + x * sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi))


def _gelu_tanh(fn: Fn) -> StableForm:
    from .catalog.activations import GELU_C

    x = fn.inputs[0]
    k = sp.sqrt(2 / sp.pi)
    u = 2 * k * (x + GELU_C * x**3)  # 1 + tanh(u/2) = 2σ(u)
    s, sn = _sigmoid_pair(u)
    du = 2 * k * (1 + 3 * GELU_C * x**2)
    return StableForm(x * s, s + x * du * s * sn)


def _mish(fn: Fn) -> StableForm:
    x = fn.inputs[0]
    w = sp.exp(-sp.Abs(x))
    # tanh(softplus(x)) = (e²ˣ + 2eˣ)/(e²ˣ + 2eˣ + 2), written in w = e^(−|x|) on each side of 0
    t = _where(x > 0, (1 + 2 * w) / (1 + 2 * w + 2 * w**2), w * (w + 2) / (w * (w + 2) + 2))
    one_minus_t = _where(x > 0, 2 * w**2 / (1 + 2 * w + 2 * w**2), 2 / (w * (w + 2) + 2))
    s, _ = _sigmoid_pair(x)
    return StableForm(x * t, t + x * s * one_minus_t * (1 + t))


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

"""Corpora for the prover: true identities about the catalog, and near-miss false ones.

The false corpus is made mechanically from the true one: a flipped sign, a
dropped term, an argument off by a factor of 2, and a perturbation of 1e-20.
"""

from __future__ import annotations

import sympy as sp

from symact.parse import parse_relation

HAND = [
    "diff(sigmoid(x), x) == sigmoid(x)*(1 - sigmoid(x))",
    "diff(sigmoid(x), x) == sigmoid(x)*sigmoid(-x)",
    "diff(sigmoid(x), x, 2) == sigmoid(x)*(1 - sigmoid(x))*(1 - 2*sigmoid(x))",
    "sigmoid(x) == 1/(1 + exp(-x))",
    "sigmoid(x) == exp(x)/(1 + exp(x))",
    "sigmoid(x) == (1 + tanh(x/2))/2",
    "1 - sigmoid(x) == sigmoid(-x)",
    "sigmoid(x)/sigmoid(-x) == exp(x)",
    "log(sigmoid(x)/(1 - sigmoid(x))) == x",
    "diff(tanh(x), x) == 1 - tanh(x)**2",
    "diff(tanh(x), x, 2) == -2*tanh(x)*(1 - tanh(x)**2)",
    "tanh(x) == (exp(x) - exp(-x))/(exp(x) + exp(-x))",
    "tanh(x) == (exp(2*x) - 1)/(exp(2*x) + 1)",
    "tanh(x/2) == (1 - exp(-x))/(1 + exp(-x))",
    "tanh(-x) == -tanh(x)",
    "diff(softplus(x), x) == sigmoid(x)",
    "diff(softplus(x), x, 2) == sigmoid(x)*(1 - sigmoid(x))",
    "softplus(x) == log(1 + exp(x))",
    "softplus(x) == max(x, 0) + log(1 + exp(-abs(x)))",
    "softplus(x) == x + softplus(-x)",
    "exp(-softplus(-x)) == sigmoid(x)",
    "log_sigmoid(x) == -softplus(-x)",
    "log_sigmoid(x) == x - softplus(x)",
    "diff(log_sigmoid(x), x) == 1 - sigmoid(x)",
    "diff(silu(x), x) == sigmoid(x)*(1 + x*(1 - sigmoid(x)))",
    "silu(x) == x*sigmoid(x)",
    "silu(x) - silu(-x) == x",
    "silu(x) == x*(1 + tanh(x/2))/2",
    "diff(gelu(x), x) == (1 + erf(x/sqrt(2)))/2 + x*exp(-x**2/2)/sqrt(2*pi)",
    "gelu(x) == x*erfc(-x/sqrt(2))/2",
    "gelu(x) - gelu(-x) == x",
    "gelu(x) == x*Phi(x)",  # Φ and φ: the standard normal's cdf and pdf, as derive prints them
    "diff(gelu(x), x) == Phi(x) + x*varphi(x)",
    "diff(gelu(x), x, 2) == varphi(x)*(2 - x**2)",
    "gelu_tanh(x) == x*sigmoid(2*sqrt(2/pi)*(x + 0.044715*x**3))",
    "diff(mish(x), x) == tanh(softplus(x)) + x*sigmoid(x)*(1 - tanh(softplus(x))**2)",
    "mish(x) == x*((1 + exp(x))**2 - 1)/((1 + exp(x))**2 + 1)",
    "mish(x) == x*tanh(log(1 + exp(x)))",
    "relu(x) == max(0, x)",
    "relu(x) == (x + abs(x))/2",
    "relu(x) == x*step(x)",
    "relu(x) + min(0, x) == x",
    "leaky_relu(x) == max(0, x) + 0.01*min(0, x)",
    "leaky_relu(x) == max(x, 0.01*x)",
    "prelu(x) == max(0, x) + 0.25*min(0, x)",
    "max(0, x) + a*min(0, x) == where(x > 0, x, a*x)",
    "elu(x) == max(0, x) + min(0, exp(x) - 1)",
    "celu(x) == elu(x)",
    "hard_sigmoid(x) == relu6(x + 3)/6",
    "hard_sigmoid(x) == max(0, min(1, x/6 + 1/2))",
    "hard_swish(x) == x*relu6(x + 3)/6",
    "hard_swish(x) == x*hard_sigmoid(x)",
    "hard_tanh(x) == 2*hard_sigmoid(3*x) - 1",
    "hard_tanh(x) == max(-1, min(1, x))",
    "relu6(x) == min(relu(x), 6)",
    "relu6(x) == relu(x) - relu(x - 6)",
    "softsign(x) == x/(1 + abs(x))",
    "diff(softsign(x), x) == 1/(1 + abs(x))**2",
    "softsign(-x) == -softsign(x)",
    "abs(x) == max(x, -x)",
    "max(x, y) + min(x, y) == x + y",
    "max(x, y) == (x + y + abs(x - y))/2",
    "diff(exponential(x), x) == exponential(x)",
    "identity(x) == x",
    "diff(log(cosh(x)), x) == tanh(x)",
    "diff((x - y)**2, x) == 2*(x - y)",
    "diff(abs(x - y), x) == sign(x - y)",
    "sqrt((x - y)**2) == abs(x - y)",
    "diff(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))), z) == sigmoid(z) - y",
    "-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))) == softplus(z) - y*z",
    "diff(exp(z) - y*z, z) == exp(z) - y",
    "sigmoid(x) + sigmoid(-x) == 1",
    "tanh(x) == 1 - 2*sigmoid(-2*x)",
    "diff(relu(x), x, 2) == 0",
    "diff(gelu(x), x, 2) == (2 - x**2)*exp(-x**2/2)/sqrt(2*pi)",
    "elu(x) - relu(x) == min(0, exp(x) - 1)",
    # ill-conditioned at x = 30 (1 − tanh x = 2e-26): was disproved there by rounding at 50 and 80 digits
    "log((1 + tanh(x))/(1 - tanh(x)))/2 == x",
    "atanh(tanh(x)) == x",
    "diff(atan(x), x) == 1/(1 + x**2)",
    "diff(asinh(x), x) == 1/sqrt(1 + x**2)",
    "log1p(exp(x)) == softplus(x)",
    "diff(expm1(x), x) == expm1(x) + 1",
    "x + sin(x)**2 == x + (1 - cos(2*x))/2",  # Snake, a = 1
    "diff(x + sin(x)**2, x) == 1 + sin(2*x)",
]

FAMILIES = [
    "sigmoid({k}*x) + sigmoid(-{k}*x) == 1",
    "tanh({k}*x) == 2*sigmoid({k2}*x) - 1",
    "softplus({k}*x) - softplus(-{k}*x) == {k}*x",
    "log(sigmoid({k}*x)) == -softplus(-{k}*x)",
    "relu({k}*x) - relu(-{k}*x) == {k}*x",
    "diff(sigmoid({k}*x), x) == {k}*sigmoid({k}*x)*(1 - sigmoid({k}*x))",
    "diff(tanh({k}*x), x) == {k}*(1 - tanh({k}*x)**2)",
]

TRUE = HAND + [f.format(k=k, k2=2 * k) for f in FAMILIES for k in (2, 3, 5, 7)]


def _mutations(claim: str) -> list[tuple[str, sp.Basic, sp.Basic]]:
    """(kind, lhs, rhs) near misses of a true claim."""
    rel = parse_relation(claim)
    lhs, rhs = rel.lhs, rel.rhs
    out = [("wrong sign", lhs, -rhs)]
    if isinstance(rhs, sp.Add) and len(rhs.args) > 1:
        out.append(("dropped term", lhs, sp.Add(*rhs.args[1:])))
    free = sorted(rhs.free_symbols, key=lambda s: s.name)
    if free:
        out.append(("argument off by 2", lhs, rhs.subs(free[0], 2 * free[0])))
    out.append(("perturbed by 1e-20", lhs, rhs + sp.Rational(1, 10**20)))
    return out


FALSE = [m for claim in HAND[:40] for m in _mutations(claim)]

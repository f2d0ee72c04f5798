"""The theorem sheet: identities every catalog function is known for, each checked by the prover.

Some theorems are generated from the registry (output-form derivatives,
kink conventions, oddness of zero-centred functions); the rest are the
classic identities, the stable rewrites the kernels rely on, the matched
output/loss pairs, and the seeds' structural claims (linear layers collapse,
a sigmoid unit is logistic regression). ``symact check`` proves the sheet.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import sympy as sp

from .catalog import REGISTRY
from .catalog.registry import real, vector
from .fn import Fn, activation, loss
from .functions import sigmoid, softplus
from .prove import Verdict, prove

Claim = str | Callable[[], tuple[sp.Basic, sp.Basic]]


@dataclass(frozen=True)
class Theorem:
    """One claim about one catalog function."""

    function: str
    title: str
    claim: Claim
    assumptions: tuple[str, ...] = ()
    #: Numeric by nature (an error bound, a sampled property): verified, never "proved".
    numeric: Callable[[], Verdict] | None = None
    #: A symbolic proof of its own, by cases the prover does not split (sparsemax's supports).
    proof: Callable[[], Verdict] | None = None

    def sides(self) -> tuple[sp.Basic, sp.Basic] | str:
        return self.claim() if callable(self.claim) else self.claim

    def check(self, timeout: float = 5.0) -> Verdict:
        if self.numeric is not None:
            return self.numeric()
        if self.proof is not None:
            return self.proof()
        sides = self.sides()
        if isinstance(sides, str):
            return prove(sides, assumptions=list(self.assumptions), timeout=timeout, suggest=False)
        return prove(*sides, assumptions=list(self.assumptions), timeout=timeout, suggest=False)


x, z, y, c = real("x"), real("z"), real("y"), real("c")
alpha = real("alpha")


def _generated() -> list[Theorem]:
    """Theorems read off the registry."""
    out: list[Theorem] = []
    for entry in REGISTRY:
        if entry.kind != "activation" or entry.vector:
            continue
        fn = activation(entry.name)
        xs = fn.inputs[0]
        if fn.derivative(form="output") is not None:
            out.append(Theorem(entry.name, "derivative in output form", _output_form_claim(fn)))
        for point, value in entry.kinks.items():
            out.append(
                Theorem(
                    entry.name,
                    f"derivative at the kink {point} (convention)",
                    lambda fn=fn, p=point, v=value: (fn.bind(fn.derivative()).subs(fn.inputs[0], p), v),
                )
            )
        if entry.properties.get("zero_centered"):
            out.append(
                Theorem(
                    entry.name,
                    "zero-centred: odd symmetry f(−x) = −f(x)",
                    lambda fn=fn, xs=xs: (fn.bind().subs(xs, -xs), -fn.bind()),
                )
            )
    return out


def _output_form_claim(fn: Fn) -> Callable:
    """f'(x) = g(f(x)), with f' from SymPy's own diff (not symact's tidied form)."""

    def claim():
        f = fn.bind()
        g = fn.bind(fn.derivative(form="output"))
        return sp.diff(f, fn.inputs[0]), g.subs(fn.output_symbol, f)

    return claim


# -- numeric-by-nature theorems ----------------------------------------------


def _gelu_tanh_error_bound() -> Verdict:
    """sup |gelu(x) − gelu_tanh(x)| < 4.8e-4, found by dense sampling and local maximisation."""
    start = time.monotonic()
    g, gt = activation("gelu"), activation("gelu_tanh")
    err = sp.lambdify(x, g.bind().subs(g.inputs[0], x) - gt.bind().subs(gt.inputs[0], x), "mpmath")
    with mpmath.workdps(30):
        grid = [mpmath.mpf(i) / 100 for i in range(-800, 801)]
        values = [abs(err(t)) for t in grid]
        i = max(range(len(values)), key=values.__getitem__)
        peak = mpmath.findroot(lambda t: mpmath.diff(err, t), grid[i])
        worst = abs(err(peak))
    bound = mpmath.mpf("4.8e-4")
    status = "verified" if worst < bound else "disproved"
    v = Verdict(
        status,
        sp.Abs(g.expr - gt.expr.subs(gt.inputs[0], g.inputs[0])),
        sp.Float(4.8e-4),
        method="numerical maximisation",
    )
    v.evidence = {
        "points": len(grid),
        "domain": "[−8, 8] (the error decays beyond)",
        "digits": 30,
        "max_residual": f"max |error| = {mpmath.nstr(worst, 6)} at x = {mpmath.nstr(peak, 6)}",
    }
    v.reason = "an error bound is numeric by nature"
    v.seconds = time.monotonic() - start
    return v


SPARSEMAX_SIZES = (2, 3, 4)


@functools.cache  # both sparsemax theorems use the same pieces
def _sparsemax_pieces(n: int) -> tuple[tuple[frozenset, sp.ImmutableMatrix], ...] | None:
    """sparsemax at size n as a linear map on each support S, or None where a step does not reduce to 0.

    The definition is pᵢ = max(0, xᵢ − τ) with τ the largest subset average τ_S = (Σ_S x − 1)/|S|. On the open set
    R_S where τ_S is the strict largest, τ = τ_S; the R_S cover ℝⁿ but for the ties of two distinct averages
    (hyperplanes). The identities

        τ_S − τ_{S∖i} = (xᵢ − τ_S)/(|S| − 1) for i ∈ S,   τ_S − τ_{S∪i} = (τ_S − xᵢ)/(|S| + 1) for i ∉ S

    give xᵢ > τ_S on S (for S = {i}, xᵢ − τ_S = 1) and xᵢ < τ_S off it. So on R_S, p is xᵢ − τ_S on S (each > 0)
    and 0 elsewhere: the piece returned for S.
    """
    from itertools import combinations

    fn = activation("sparsemax", size=n)
    xs = list(fn.inputs)
    if xs != list(vector("x", n)):
        return None

    def average(S):
        return (sum(xs[i] for i in S) - 1) / len(S)

    supports = [frozenset(c) for k in range(1, n + 1) for c in combinations(range(n), k)]
    tau = xs[0] - next(a for a in fn.expr[0].args if a != 0)  # p₁ = max(0, x₁ − τ)
    candidates = {sp.expand(average(S)) for S in supports}
    if len(candidates) != len(supports) or {sp.expand(a) for a in tau.args} != candidates:
        return None  # not the distinct subset averages (the ties would not be hyperplanes)
    # each pᵢ is max(0, xᵢ − τ), compared by its arguments (building the Max again would cost seconds)
    if any(not isinstance(p, sp.Max) or set(p.args) != {sp.S.Zero, xs[i] - tau} for i, p in enumerate(fn.expr)):
        return None
    pieces = []
    for S in supports:
        t = average(S)
        for i in range(n):
            if i in S:
                d = t - average(S - {i}) - (xs[i] - t) / (len(S) - 1) if len(S) > 1 else xs[i] - t - 1
            else:
                d = t - average(S | {i}) - (t - xs[i]) / (len(S) + 1)
            if sp.expand(d) != 0:  # linear in x: expanded, 0 is 0
                return None
        pieces.append((S, sp.ImmutableMatrix([xs[i] - t if i in S else 0 for i in range(n)])))
    return tuple(pieces)


def _by_supports(title: str, holds: Callable[[frozenset, sp.Matrix, list], bool], rhs: str) -> Verdict:
    """A sparsemax claim proved on every support at each of SPARSEMAX_SIZES (:func:`_sparsemax_pieces`)."""
    start = time.monotonic()
    ok = True
    for n in SPARSEMAX_SIZES:
        pieces, xs = _sparsemax_pieces(n), list(vector("x", n))  # the catalog's inputs
        ok &= pieces is not None and all(holds(S, p, xs) for S, p in pieces)
    v = Verdict("proved" if ok else "unknown", sp.Symbol(title), sp.Symbol(rhs), method="cases")
    sizes = ", ".join(map(str, SPARSEMAX_SIZES))
    v.steps = [(f"supports at n = {sizes}", sp.Integer(sum(2**n - 1 for n in SPARSEMAX_SIZES)))]
    if not ok:
        v.reason = "a support's case did not reduce to 0"
    v.seconds = time.monotonic() - start
    return v


def _sparsemax_on_simplex() -> Verdict:
    """Σ p = 1 on every support (and p ≥ 0 there: xᵢ − τ_S > 0 on S, 0 off it). p is continuous and the R_S dense,
    so both closed conditions hold at the ties too."""
    return _by_supports("Σ p", lambda S, p, xs: sp.expand(sum(p) - 1) == 0, "1, p ≥ 0")


def _sparsemax_jacobian() -> Verdict:
    """J = diag(m) − m mᵀ/|S| with m = [p > 0] the indicator of S: the derived Jacobian of each support's piece."""

    def holds(S, p, xs):
        m = sp.Matrix([1 if i in S else 0 for i in range(len(xs))])
        return (p.jacobian(xs) - (sp.diag(*m) - m * m.T / len(S))).applyfunc(sp.expand) == sp.zeros(len(xs), len(xs))

    return _by_supports("J", holds, "diag(m) − m·mᵀ/|S|")


# -- claims with symbolic parameters or vectors --------------------------------


def _prelu_as_max_min():
    f = activation("prelu")
    a = f.param("alpha")
    xs = f.inputs[0]
    return f.expr, sp.Max(0, xs) + a * sp.Min(0, xs)


def _softmax_shift(n: int = 3):
    f = activation("softmax", size=n)
    shifted = f.expr.subs({v: v + c for v in f.inputs}, simultaneous=True)
    return shifted, f.expr


def _log_softmax_shift(n: int = 3):
    f = activation("log_softmax", size=n)
    shifted = f.expr.subs({v: v + c for v in f.inputs}, simultaneous=True)
    return shifted.applyfunc(lambda e: sp.expand_log(e, force=True)), f.expr


def _softmax_jacobian(n: int = 3):
    f = activation("softmax", size=n)
    s = f.expr
    return s.jacobian(list(f.inputs)), sp.diag(*s) - s * s.T


def _log_softmax_jacobian(n: int = 3):
    f = activation("log_softmax", size=n)
    s = activation("softmax", size=n).expr
    return f.expr.jacobian(list(f.inputs)), sp.eye(n) - sp.ones(n, 1) * s.T


def _matched(loss_name: str, act: str, expected: Callable, n: int = 3):
    """∂L(g(z), y)/∂z = expected(g(z), y), from SymPy's raw diff."""

    def claim():
        L = loss(loss_name, size=n) if REGISTRY[loss_name].vector else loss(loss_name)
        g = activation(act, size=n) if REGISTRY[act].vector else activation(act)
        zs = vector("z", n) if L.vector else (z,)
        gz = list(g.bind().subs(dict(zip(g.inputs, zs)))) if g.vector else [g.bind().subs(g.inputs[0], zs[0])]
        Lz = L.bind().subs(dict(zip(L.inputs, gz)), simultaneous=True)
        lhs = sp.Matrix([sp.diff(Lz, v) for v in zs])
        rhs = sp.Matrix([expected(gk, t) for gk, t in zip(gz, L.targets)])
        return (lhs[0], rhs[0]) if len(zs) == 1 else (lhs, rhs)

    return claim


def _one_hot(n: int = 3) -> tuple[str, ...]:
    return (" + ".join(f"y_{k}" for k in range(1, n + 1)) + " == 1",)


def _cross_entropy_softmax_grad(n: int = 3):
    """∂CE(softmax(z))/∂z = s − y, one component at a time with Σ y = 1."""
    L = loss("cross_entropy", size=n)
    s = activation("softmax", size=n).expr.subs(dict(zip(vector("x", n), vector("z", n))))
    Lz = L.expr.subs(dict(zip(L.inputs, s)), simultaneous=True)
    t = L.targets
    return sp.diff(Lz, vector("z", n)[0]), s[0] - t[0]


def _softmax_cross_entropy_grad(n: int = 3):
    L = loss("softmax_cross_entropy", size=n)
    s = activation("softmax", size=n).expr.subs(dict(zip(vector("x", n), L.inputs)))
    return sp.diff(L.expr, L.inputs[0]), s[0] - L.targets[0]


def _kl_is_ce_minus_entropy(n: int = 3):
    L = loss("kl_div", size=n)
    ce = loss("cross_entropy", size=n)
    entropy = -sum(t * sp.log(t) for t in L.targets)
    return sp.expand_log(L.expr, force=True), ce.expr - entropy


def _huber_is_smooth_l1_at_one():
    """At δ = β = 1 the two agree, whichever side of the boundary |r| = 1 is quadratic."""
    h, s = loss("huber"), loss("smooth_l1")
    return h.bind().subs(y, 0), s.bind().subs(y, 0)


def _focal_gamma_zero_is_bce():
    f, b = loss("focal"), loss("bce")
    return f.expr.subs(f.param("gamma"), 0), b.expr


def _gaussian_nll_unit_variance():
    g = loss("gaussian_nll")
    return g.expr.subs(g.param("var"), 1), loss("mse").expr / 2


def _aplu_without_hinges_is_relu():
    a = activation("aplu")
    zero = {p.symbol: 0 for p in a.entry.params if p.name.startswith("a_")}
    return a.expr.subs(zero), sp.Max(0, a.inputs[0])


def _selu_is_scaled_elu():
    s, e = activation("selu"), activation("elu")
    lam, a = s.param("lamda"), s.param("alpha")
    return s.expr, lam * e.expr.subs(e.param("alpha"), a)


def _logistic_regression(n: int = 3):
    """A Dense(1, sigmoid) unit on n inputs is logistic regression: p = 1/(1 + e^(−(wᵀx + b)))."""
    w, xs, b = sp.Matrix(vector("w", n)), sp.Matrix(vector("x", n)), real("b")
    unit = sigmoid((w.T * xs)[0] + b)
    return unit, 1 / (1 + sp.exp(-(sum(wi * xi for wi, xi in zip(w, xs)) + b)))


def _linear_stack(depth: int):
    """depth Dense layers with identity activation = one affine map (symbolic weight matrices)."""
    dims = [sp.Symbol(f"d_{k}", integer=True, positive=True) for k in range(depth + 1)]
    W = [sp.MatrixSymbol(f"W_{k}", dims[k], dims[k - 1]) for k in range(1, depth + 1)]
    b = [sp.MatrixSymbol(f"b_{k}", dims[k], 1) for k in range(1, depth + 1)]
    xs = sp.MatrixSymbol("x", dims[0], 1)
    h = xs
    for Wk, bk in zip(W, b):
        h = Wk * h + bk
    A = sp.MatMul(*reversed(W))
    offset = sp.MatAdd(*[sp.MatMul(*reversed(W[k + 1 :]), b[k]) if k + 1 < depth else b[k] for k in range(depth)])
    return h, A * xs + offset


def _affine_induction_step():
    """If depth L is the affine map A x + c, depth L + 1 is (W A) x + (W c + b): with the
    base case (one layer, W x + b), this proves the collapse for every depth."""
    n, m, k = (sp.Symbol(s, integer=True, positive=True) for s in "nmk")
    A, c, x = sp.MatrixSymbol("A", m, n), sp.MatrixSymbol("c", m, 1), sp.MatrixSymbol("x", n, 1)
    W, b = sp.MatrixSymbol("W", k, m), sp.MatrixSymbol("b", k, 1)
    return W * (A * x + c) + b, (W * A) * x + (W * c + b)


def _linear_hidden_sigmoid_output(d: int = 2, h: int = 3):
    """Linear hidden layers under a sigmoid output = logistic regression on x."""
    xs = sp.Matrix(vector("x", d))
    W1 = sp.Matrix(h, d, lambda i, j: real(f"u_{i + 1}{j + 1}"))
    b1 = sp.Matrix(vector("c", h))
    w = sp.Matrix(1, h, lambda i, j: real(f"v_{j + 1}"))
    b = real("b")
    net = sigmoid((w * (W1 * xs + b1))[0] + b)
    beta = w * W1  # the equivalent logistic-regression weights
    return net, sigmoid((beta * xs)[0] + (w * b1)[0] + b)


SPECIFIC: list[Theorem] = [
    Theorem("identity", "derivative", "diff(identity(x), x) == 1"),
    Theorem("step", "relu is x·step", "relu(x) == x*step(x)"),
    Theorem("sigmoid", "symmetry", "sigmoid(-x) == 1 - sigmoid(x)"),
    Theorem(
        "sigmoid", "derivative as σ(x)σ(−x) (the stable kernel form)", "diff(sigmoid(x), x) == sigmoid(x)*sigmoid(-x)"
    ),
    Theorem("sigmoid", "sigmoid via tanh", "sigmoid(x) == (1 + tanh(x/2))/2"),
    Theorem("sigmoid", "a sigmoid unit is logistic regression", _logistic_regression),
    Theorem(
        "sigmoid", "linear hidden layers under a sigmoid output are logistic regression", _linear_hidden_sigmoid_output
    ),
    Theorem("tanh", "tanh = 2σ(2x) − 1", "tanh(x) == 2*sigmoid(2*x) - 1"),
    Theorem("tanh", "definition in exponentials", "tanh(x) == (exp(x) - exp(-x))/(exp(x) + exp(-x))"),
    Theorem("tanh", "the seeds' formula is tanh(x/2)", "tanh(x/2) == (1 - exp(-x))/(1 + exp(-x))"),
    Theorem("relu", "relu = (x + |x|)/2", "relu(x) == (x + abs(x))/2"),
    Theorem("relu", "relu(x) − relu(−x) = x", "relu(x) - relu(-x) == x"),
    Theorem("leaky_relu", "leaky relu = max(0, x) + α·min(0, x)", "leaky_relu(x) == max(0, x) + 0.01*min(0, x)"),
    Theorem("prelu", "pReLU = max(0, x) + α·min(0, x)", _prelu_as_max_min),
    Theorem("elu", "elu = max(0, x) + min(0, eˣ − 1) for α = 1", "elu(x) == max(0, x) + min(0, exp(x) - 1)"),
    Theorem("selu", "selu = λ·elu_α", _selu_is_scaled_elu),
    Theorem("celu", "celu = elu when α = 1", "celu(x) == elu(x)"),
    Theorem("gelu", "GELU' = Φ(x) + x·φ(x)", "diff(gelu(x), x) == (1 + erf(x/sqrt(2)))/2 + x*exp(-x**2/2)/sqrt(2*pi)"),
    Theorem("gelu", "GELU through erfc (the stable kernel form)", "gelu(x) == x*erfc(-x/sqrt(2))/2"),
    Theorem("gelu_tanh", "error bound of the tanh approximation", "", numeric=_gelu_tanh_error_bound),
    Theorem("silu", "SiLU' = σ(x)(1 + x(1 − σ(x)))", "diff(silu(x), x) == sigmoid(x)*(1 + x*(1 - sigmoid(x)))"),
    Theorem("silu", "SiLU via tanh", "silu(x) == x*(1 + tanh(x/2))/2"),
    Theorem(
        "mish",
        "Mish' = tanh(sp(x)) + x·σ(x)·sech²(sp(x))",
        "diff(mish(x), x) == tanh(softplus(x)) + x*sigmoid(x)*(1 - tanh(softplus(x))**2)",
    ),
    Theorem("mish", "Mish as a rational function of eˣ", "mish(x) == x*((1 + exp(x))**2 - 1)/((1 + exp(x))**2 + 1)"),
    Theorem("softplus", "softplus' = σ", "diff(softplus(x), x) == sigmoid(x)"),
    Theorem("softplus", "softplus(x) − softplus(−x) = x", "softplus(x) - softplus(-x) == x"),
    Theorem("softplus", "stable form max(x, 0) + log1p(e^(−|x|))", "softplus(x) == max(x, 0) + log(1 + exp(-abs(x)))"),
    Theorem("softsign", "derivative", "diff(softsign(x), x) == 1/(1 + abs(x))**2"),
    Theorem("log_sigmoid", "log σ(x) = −softplus(−x)", "log_sigmoid(x) == -softplus(-x)"),
    Theorem("hard_sigmoid", "hard sigmoid = relu6(x + 3)/6", "hard_sigmoid(x) == relu6(x + 3)/6"),
    Theorem("hard_swish", "hard swish = x·relu6(x + 3)/6", "hard_swish(x) == x*relu6(x + 3)/6"),
    Theorem("hard_tanh", "hard tanh = 2·hard_sigmoid(3x) − 1", "hard_tanh(x) == 2*hard_sigmoid(3*x) - 1"),
    Theorem("relu6", "relu6 = min(relu(x), 6)", "relu6(x) == min(relu(x), 6)"),
    Theorem("exponential", "derivative", "diff(exponential(x), x) == exponential(x)"),
    Theorem("aplu", "with every aₛ = 0, APLU is relu", _aplu_without_hinges_is_relu),
    Theorem("softmax", "shift invariance softmax(x + c) = softmax(x)", _softmax_shift),
    Theorem("softmax", "Jacobian diag(s) − s sᵀ", _softmax_jacobian),
    Theorem("log_softmax", "shift invariance", _log_softmax_shift),
    Theorem("log_softmax", "Jacobian I − 1 sᵀ", _log_softmax_jacobian),
    Theorem("sparsemax", "outputs lie on the simplex", "", proof=_sparsemax_on_simplex),
    Theorem("sparsemax", "Jacobian diag(m) − m mᵀ/|S| on each support", "", proof=_sparsemax_jacobian),
    Theorem("mse", "with an identity output, ∂L/∂z = 2(ŷ − y)", _matched("mse", "identity", lambda p, t: 2 * (p - t))),
    Theorem("rmse", "rmse of one sample is the absolute error", "sqrt((x - y)**2) == abs(x - y)"),
    Theorem("mae", "∂|ŷ − y|/∂ŷ = sign(ŷ − y)", "diff(abs(x - y), x) == sign(x - y)"),
    Theorem("huber", "huber at δ = 1 is smooth_l1 at β = 1", _huber_is_smooth_l1_at_one),
    Theorem(
        "smooth_l1",
        "quadratic zone: r²/(2β) with β = 1",
        "where(abs(x) < 1, x**2/2, abs(x) - 1/2) == where(abs(x) < 1, x**2/2, abs(x) - 0.5)",
    ),
    Theorem("log_cosh", "∂ log cosh(ŷ − y)/∂ŷ = tanh(ŷ − y)", "diff(log(cosh(x - y)), x) == tanh(x - y)"),
    Theorem("bce", "∂BCE(σ(z))/∂z = σ(z) − y", _matched("bce", "sigmoid", lambda p, t: p - t)),
    Theorem(
        "bce_with_logits",
        "stable form softplus(z) − y·z",
        lambda: (loss("bce_with_logits").expr.subs(real("yhat"), z), softplus(z) - y * z),
    ),
    Theorem(
        "cross_entropy", "∂CE(softmax(z))/∂z₁ = s₁ − y₁ (one-hot: Σ y = 1)", _cross_entropy_softmax_grad, _one_hot()
    ),
    Theorem("softmax_cross_entropy", "∂L/∂z₁ = softmax(z)₁ − y₁ (Σ y = 1)", _softmax_cross_entropy_grad, _one_hot()),
    Theorem("kl_div", "KL(y‖ŷ) = CE(y, ŷ) − H(y)", _kl_is_ce_minus_entropy),
    Theorem("hinge", "squared hinge is the hinge squared", "max(0, 1 - y*x)**2 == where(y*x < 1, (1 - y*x)**2, 0)"),
    Theorem("squared_hinge", "derivative 2·max(0, 1 − yŷ)·(−y)", "diff(max(0, 1 - y*x)**2, x) == -2*y*max(0, 1 - y*x)"),
    Theorem("focal", "γ = 0 gives BCE", _focal_gamma_zero_is_bce),
    Theorem("poisson_nll", "with ŷ = eᶻ, ∂L/∂z = ŷ − y", _matched("poisson_nll", "exponential", lambda p, t: p - t)),
    Theorem("gaussian_nll", "unit variance gives mse/2", _gaussian_nll_unit_variance),
    *[
        Theorem("identity", f"{d} stacked linear layers are one affine map", (lambda d=d: _linear_stack(d)))
        for d in (2, 3, 4, 6)
    ],
    Theorem("identity", "induction step: any depth of linear layers is one affine map", _affine_induction_step),
]


def sheet(name: str | None = None) -> list[Theorem]:
    """The theorem sheet for one function (canonical name or alias), or for the whole catalog."""
    theorems = _generated() + SPECIFIC
    if name is None:
        return theorems
    canonical = REGISTRY[name].name
    return [t for t in theorems if t.function == canonical]


def closed_form_status(name: str) -> str:
    """How a catalog closed-form Jacobian is known: proved where the sheet has it as a symbolic claim (every one
    of those proves, tests/test_prove.py), else checked at sample points only (tests/test_derivatives.py)."""
    if any(t.title.startswith("Jacobian") and t.numeric is None for t in sheet(name)):
        return f"proved against the derived Jacobian: symact check {name}"
    return "agrees with the derived Jacobian at sample points; not proved"

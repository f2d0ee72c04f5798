"""Every symbolic derivative against mpmath's high-precision numerical derivative.

Points are random (seeded) in each entry's domain, plus both sides of every
kink; at the kink itself the derivative must equal the catalog's convention.
"""

import mpmath
import pytest
import sympy as sp

import symact
from symact.calculus import NORMAL_CDF, NORMAL_PDF, derivative, normal_form

from .conftest import (
    LOSSES,
    SCALAR_ACTIVATIONS,
    VECTOR_ACTIVATIONS,
    close,
    far_from_kinks,
    ids,
    mp_function,
    numeric_derivative,
    sample_points,
)


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_activation_derivative_matches_numerical(entry, rng):
    fn = symact.activation(entry.name)
    x = fn.inputs[0]
    f = mp_function([x], fn.bind())
    df = mp_function([x], fn.bind(fn.derivative()))
    points = [p for p in sample_points(fn, rng, 12) if far_from_kinks(p, entry.kinks)]
    points += [[float(k) + side * 1e-3] for k in entry.kinks for side in (-1, 1)]
    assert len(points) >= 8
    for (p,) in points:
        assert close(df(p), numeric_derivative(f, [p], 0)), f"{entry.name}'({p})"


@pytest.mark.parametrize(
    "entry", [e for e in SCALAR_ACTIVATIONS if e.kinks], ids=ids([e for e in SCALAR_ACTIVATIONS if e.kinks])
)
def test_derivative_at_kinks_follows_the_convention(entry):
    fn = symact.activation(entry.name)
    d = fn.bind(fn.derivative())
    for point, value in entry.kinks.items():
        assert sp.simplify(d.subs(fn.inputs[0], point) - value) == 0, f"{entry.name}'({point})"
        assert not d.subs(fn.inputs[0], point).has(sp.Heaviside)


def test_relu_prime_at_zero_is_zero_not_one_half():
    relu = symact.activation("relu")
    assert relu.derivative().subs(relu.inputs[0], 0) == 0


@pytest.mark.parametrize(
    "entry", [e for e in SCALAR_ACTIVATIONS if not e.kinks], ids=ids([e for e in SCALAR_ACTIVATIONS if not e.kinks])
)
def test_second_derivative_matches_numerical(entry, rng):
    fn = symact.activation(entry.name)
    x = fn.inputs[0]
    df = mp_function([x], fn.bind(fn.derivative()))
    d2f = mp_function([x], fn.bind(fn.derivative(order=2)))
    for (p,) in sample_points(fn, rng, 4):
        if far_from_kinks([p], [0], 1e-2) or not entry.properties.get("smoothness", "").startswith("C0"):
            assert close(d2f(p), numeric_derivative(df, [p], 0), rel=1e-15), f"{entry.name}''({p})"


@pytest.mark.parametrize(
    "entry",
    [e for e in SCALAR_ACTIVATIONS + LOSSES if e.params],
    ids=ids([e for e in SCALAR_ACTIVATIONS + LOSSES if e.params]),
)
def test_parameter_derivatives_match_numerical(entry, rng):
    fn = symact.function(entry.name)
    for param in entry.params:
        others = {s: v for s, v in fn.params.items() if s != param.symbol}
        args = [*fn.inputs, *fn.targets, param.symbol]
        f = mp_function(args, fn.expr.subs(others))
        d = mp_function(args, fn.derivative(wrt=param.name).subs(others))
        for point in sample_points(fn, rng, 6):
            if not far_from_kinks(point, entry.kinks, 1e-2):
                continue
            point = [*point, float(param.default) * 1.05]
            assert close(d(*point), numeric_derivative(f, point, len(point) - 1), rel=1e-15), (entry.name, param.name)


@pytest.mark.parametrize("entry", VECTOR_ACTIVATIONS, ids=ids(VECTOR_ACTIVATIONS))
def test_jacobian_matches_numerical(entry, rng):
    fn = symact.activation(entry.name)
    J = fn.jacobian()
    for point in sample_points(fn, rng, 4):
        for i in range(fn.size):
            fi = mp_function(fn.inputs, fn.expr[i])
            Ji = [mp_function(fn.inputs, J[i, j]) for j in range(fn.size)]
            for j in range(fn.size):
                assert close(Ji[j](*point), numeric_derivative(fi, point, j)), (entry.name, i, j)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
def test_jacobian_closed_forms(name, rng):
    """diag(s) − s sᵀ, I − 1 exp(y)ᵀ and diag(m) − m mᵀ/|S| agree with the derived Jacobian."""
    for n in (2, 3) if name == "sparsemax" else (2, 3, 4):
        fn = symact.activation(name, size=n)
        J = fn.jacobian()
        f = mp_function(fn.inputs, fn.expr)
        Jf = mp_function(fn.inputs, J)
        for point in sample_points(fn, rng, 3):
            out = sp.Matrix([sp.Float(v, 40) for v in f(*point)])
            if name == "softmax":
                closed = sp.diag(*out) - out * out.T
            elif name == "log_softmax":
                s = out.applyfunc(sp.exp)
                closed = sp.eye(n) - sp.ones(n, 1) * s.T
            else:
                m = out.applyfunc(lambda p: 1 if p > 0 else 0)
                closed = sp.diag(*m) - m * m.T / sum(m)
            derived = sp.Matrix(Jf(*point).tolist()).applyfunc(lambda v: sp.Float(v, 40))
            assert (derived - closed).norm() < 1e-30, (name, n, point)


def test_softmax_output_form_is_diag_minus_outer_product():
    fn = symact.activation("softmax", size=4)
    s = sp.Matrix(fn.output_vector)
    assert sp.simplify(fn.jacobian(form="output") - (sp.diag(*s) - s * s.T)) == sp.zeros(4, 4)


@pytest.mark.parametrize("entry", LOSSES, ids=ids(LOSSES))
def test_loss_gradient_matches_numerical(entry, rng):
    fn = symact.loss(entry.name)
    if fn.rooted:
        pytest.skip("no per-sample loss: test_a_rooted_loss_gradient_is_its_costs")
    args = [*fn.inputs, *fn.targets]
    L = mp_function(args, fn.bind())
    grad = fn.gradient(bind=True)
    grads = [grad] if not isinstance(grad, sp.MatrixBase) else list(grad)
    g = [mp_function(args, gi) for gi in grads]
    for point in sample_points(fn, rng, 8):
        for i, gi in enumerate(g):
            assert close(gi(*point), numeric_derivative(L, point, i)), (entry.name, i, point)


ROOTED = [e for e in LOSSES if symact.loss(e.name).rooted]


@pytest.mark.parametrize("entry", ROOTED, ids=ids(ROOTED))
def test_a_rooted_loss_gradient_is_its_costs(entry):
    """RMSE's gradient is ∂√(mean ℓ)/∂ŷ[i], proved equal to the derivative of its cost over N = 3 samples at each
    sample, in ŷ and (through the identity output activation) in z; the squared error's 2·(ŷ − y) is not."""
    fn = symact.loss(entry.name)
    n = 3
    cost = fn.cost(n)
    value = fn.cost_value
    in_z, in_yhat = fn.logit_gradient()
    assert entry.output_activation == "identity"  # z is ŷ
    for k in range(1, n + 1):
        at_k = {sp.Symbol("N", integer=True, positive=True): n, value: cost}

        def sample(e, k=k):  # ŷ[i], y[i], z[i] → the k-th sample's symbols
            return e.replace(lambda a: isinstance(a, sp.Indexed), lambda a: sp.Symbol(f"{a.base}_{k}", real=True))

        yhat_k, y_k = (sp.Symbol(f"{s.name}_{k}", real=True) for s in (fn.inputs[0], fn.targets[0]))
        want = sp.diff(cost, yhat_k)
        at_k[sp.Symbol(f"z_{k}", real=True)] = yhat_k
        for got in (fn.gradient(), fn.derivative(), in_yhat, in_z):
            assert sp.simplify(sample(got).subs(at_k) - want) == 0
        term = derivative(fn.expr, fn.inputs[0]).subs({fn.inputs[0]: yhat_k, fn.targets[0]: y_k})
        assert sp.simplify(term - want) != 0
    with pytest.raises(ValueError, match="order=1"):
        fn.derivative(2)


@pytest.mark.parametrize("entry", LOSSES, ids=ids(LOSSES))
def test_logit_gradient_matches_numerical(entry, rng):
    """∂L(g(z), y)/∂z, with g the matching output activation, against numerical."""
    fn = symact.loss(entry.name)
    if fn.rooted:
        pytest.skip("no per-sample loss: test_a_rooted_loss_gradient_is_its_costs")
    in_z, in_yhat = fn.logit_gradient(bind=True)
    g = symact.activation(
        entry.output_activation, **({"size": fn.size} if symact.REGISTRY[entry.output_activation].vector else {})
    )
    zs = (
        sorted(in_z.free_symbols - set(fn.targets) - set(fn.params), key=str)
        if not isinstance(in_z, sp.MatrixBase)
        else sorted(set().union(*(e.free_symbols for e in in_z)) - set(fn.targets), key=str)
    )
    gz = g.bind().subs(dict(zip(g.inputs, zs))) if g.vector else [g.bind().subs(g.inputs[0], z) for z in zs]
    Lz = mp_function([*zs, *fn.targets], fn.bind().subs(dict(zip(fn.inputs, list(gz))), simultaneous=True))
    grads = list(in_z) if isinstance(in_z, sp.MatrixBase) else [in_z]
    gfun = [mp_function([*zs, *fn.targets], d) for d in grads]
    for point in sample_points(fn, rng, 5):
        z = [mpmath.mpf(v) * 2 - 1 for v in point[: len(zs)]]
        t = point[len(zs) :]
        for i, d in enumerate(gfun):
            assert close(d(*z, *t), numeric_derivative(Lz, [*z, *t], i)), (entry.name, i)


@pytest.mark.parametrize("name", ["bce", "cross_entropy", "mse", "poisson_nll", "focal"])
def test_matched_pairs_give_yhat_minus_y(name):
    """The compact gradient ŷ − y (×2 for MSE) is derived, not asserted by hand."""
    fn = symact.loss(name)
    _, in_yhat = fn.logit_gradient()
    p, t = sp.Matrix(fn.inputs), sp.Matrix(fn.targets)
    expected = {"mse": 2 * (p - t)}.get(name, p - t)
    if name == "focal":  # focal is *not* a matched pair for γ > 0
        assert sp.simplify(in_yhat - (p - t)[0]) != 0
        return
    got = in_yhat if isinstance(in_yhat, sp.MatrixBase) else sp.Matrix([in_yhat])
    assert sp.simplify(got - expected) == sp.zeros(*expected.shape)


def test_derivative_is_deterministic():
    f = symact.activation("mish")
    derivative.cache_clear()
    first = sp.srepr(f.derivative())
    derivative.cache_clear()
    assert sp.srepr(symact.activation("mish").derivative()) == first


def test_high_derivatives_do_not_swell():
    """σ⁽ⁿ⁾ is a polynomial of degree n + 1 in σ: tidy() left expressions too large for simplify() as they came,
    and each order multiplied them (σ⁽¹²⁾: 4 400 operations, σ⁽¹⁶⁾ 160 000 in 15 s, σ⁽²⁰⁾ minutes). Expanded, the
    12th derivative is small, and it is the polynomial P₁₂(σ) of σ' = σ(1 − σ), exactly."""
    from symact.stable import _sigmoid_derivative_polynomials

    f = symact.activation("sigmoid")
    x = f.inputs[0]
    d12 = f.derivative(order=12)
    assert sp.count_ops(d12) <= 60
    p12 = _sigmoid_derivative_polynomials(12)[12]
    assert sp.expand(d12 - p12.as_expr().subs(p12.gens[0], symact.sigmoid(x))) == 0


def _from_normal(expr):
    """Φ and φ replaced by their definitions: Φ(u) = (1 + erf(u/√2))/2, φ(u) = exp(−u²/2)/√(2π)."""
    expr = expr.replace(lambda t: isinstance(t, NORMAL_CDF), lambda t: (1 + sp.erf(t.args[0] / sp.sqrt(2))) / 2)
    return expr.replace(
        lambda t: isinstance(t, NORMAL_PDF), lambda t: sp.exp(-(t.args[0] ** 2) / 2) / sp.sqrt(2 * sp.pi)
    )


def test_gelu_and_its_derivatives_are_written_in_the_standard_normal():
    """GELU = x·Φ(x), GELU′ = Φ(x) + x·φ(x), GELU″ = φ(x)·(2 − x²), as they are known, derived from the erf
    definition; each equals the derivative."""
    gelu = symact.activation("gelu")
    x = gelu.inputs[0]
    Phi, phi = NORMAL_CDF(x), NORMAL_PDF(x)
    assert normal_form(gelu.expr) == x * Phi
    for order, known in [(1, Phi + x * phi), (2, phi * (2 - x**2)), (3, x * phi * (x**2 - 4))]:
        written = gelu.derivative(order=order, form="normal")
        assert sp.expand(written - known) == 0
        assert sp.simplify(_from_normal(written) - gelu.derivative(order=order)) == 0


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_a_normal_form_is_only_given_where_it_is_the_derivative(entry):
    """Only functions of erf or exp(−w²/2) have one (of the catalog: GELU), and it equals the derivative."""
    fn = symact.activation(entry.name)
    written = fn.derivative(form="normal")
    assert (written is not None) == (entry.name == "gelu")
    if written is not None:
        assert sp.simplify(_from_normal(written) - fn.derivative()) == 0

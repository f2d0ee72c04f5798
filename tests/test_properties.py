"""Declared properties (range, monotonicity, zero-centredness) and output forms."""

import mpmath
import pytest
import sympy as sp

import symact

from .conftest import SCALAR_ACTIVATIONS, close, ids, mp_function, sample_points

GRID = [mpmath.mpf(i) / 20 for i in range(-600, 601)]  # [-30, 30] in steps of 0.05


def _values(entry):
    fn = symact.activation(entry.name)
    f = mp_function(fn.inputs, fn.bind())
    df = mp_function(fn.inputs, fn.bind(fn.derivative()))
    return fn, [f(t) for t in GRID], [df(t) for t in GRID]


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_declared_range_holds_and_is_tight(entry):
    _, values, _ = _values(entry)
    declared = entry.properties["range"]
    if isinstance(declared, sp.FiniteSet):
        assert {int(v) for v in values} == set(declared)
        return
    lo, hi = (
        mpmath.mpf(str(sp.N(end, 45))) if end.is_finite else mpmath.mpf(float(end))
        for end in (declared.inf, declared.sup)
    )
    # Endpoints given as 17-digit floats (GELU's minimum) are only that exact.
    slack = mpmath.mpf(1e-15) if declared.inf.atoms(sp.Float) else mpmath.mpf(1e-35)
    for v in values:
        assert (v > lo - slack) if declared.left_open else (v >= lo - slack), (entry.name, v)
        assert (v < hi) if declared.right_open else (v <= hi + slack), (entry.name, v)
    # tight: within 1e-3 of every finite end, past ±10 towards infinite ones
    far = [mpmath.mpf(s) * 10**k for s in (-1, 1) for k in (3, 6)]
    fn = symact.activation(entry.name)
    f = mp_function(fn.inputs, fn.bind())
    values = values + [f(t) for t in far]
    assert min(values) < lo + 1e-3 if mpmath.isfinite(lo) else min(values) < -10
    assert max(values) > hi - 1e-3 if mpmath.isfinite(hi) else max(values) > 10


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_declared_monotonicity(entry):
    _, _, slopes = _values(entry)
    if entry.properties["monotonic"]:
        assert min(slopes) >= 0
    else:
        assert min(slopes) < 0


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_zero_centred_means_odd(entry):
    fn = symact.activation(entry.name)
    x = fn.inputs[0]
    f = fn.bind()
    odd = f.subs(x, -x) + f
    if entry.properties["zero_centered"]:
        assert sp.simplify(odd.rewrite(sp.Piecewise)) == 0
    else:
        g = mp_function([x], odd)
        assert any(abs(g(t)) > 1e-6 for t in GRID[::10])


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_output_form_agrees_with_input_form(entry, rng):
    fn = symact.activation(entry.name)
    out = fn.derivative(form="output")
    if out is None:
        pytest.skip(f"{entry.name}' has no form in its output alone")
    x = fn.inputs[0]
    f = mp_function([x], fn.bind())
    df = mp_function([x], fn.bind(fn.derivative()))
    g = mp_function([fn.output_symbol], fn.bind(out))
    for (p,) in sample_points(fn, rng, 10):
        assert close(g(f(p)), df(p)), (entry.name, p)


def test_known_output_forms():
    y = sp.Symbol("y", real=True)
    assert symact.activation("sigmoid").derivative(form="output") == y * (1 - y)
    assert symact.activation("tanh").derivative(form="output") == 1 - y**2
    assert symact.activation("exponential").derivative(form="output") == y
    assert sp.simplify(symact.activation("softplus").derivative(form="output", bind=True) - (1 - sp.exp(-y))) == 0

"""Derived properties agree with the catalog's declared ones and with the seeds' claims."""

import pytest
import sympy as sp

import symact
from symact.analyze import analyze
from symact.cli import main

from .conftest import SCALAR_ACTIVATIONS, ids


def test_sigmoid_gradient_factor_is_one_quarter_at_zero():
    a = analyze(symact.activation("sigmoid"))
    assert a.derivative_max.value == sp.Rational(1, 4) and a.derivative_max.at == 0
    assert a.derivative_max.method == "exact"
    assert a.vanishing_bound(10) == sp.Rational(1, 4) ** 10
    assert (a.limits["-oo"], a.limits["oo"]) == (0, 1)


def test_tanh_gradient_factor_is_one_at_zero():
    a = analyze(symact.activation("tanh"))
    assert a.derivative_max.value == 1 and a.derivative_max.at == 0
    assert a.zero_centered.startswith("yes")


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_analysis_agrees_with_declared_properties(entry):
    a = analyze(symact.activation(entry.name))
    declared = entry.properties
    assert a.monotonic == declared["monotonic"], entry.name
    assert a.zero_centered.startswith("yes") == declared["zero_centered"], entry.name
    rng = declared["range"]
    if isinstance(rng, sp.Interval):
        assert float(a.minimum.value) == pytest.approx(float(rng.inf), abs=1e-9) or a.minimum.value == rng.inf
        assert a.maximum.value == rng.sup or float(a.maximum.value) == pytest.approx(float(rng.sup), abs=1e-9)


def test_analyze_cli(capsys):
    assert main(["analyze", "sigmoid"]) == 0
    assert "1/4 at x = 0" in capsys.readouterr().out
    assert main(["analyze", "softmax"]) == 2


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_derived_smoothness_matches_declared(entry):
    from symact.analyze import smoothness

    assert smoothness(symact.activation(entry.name)) == entry.properties["smoothness"]


def test_smoothness_of_user_functions():
    from symact.analyze import smoothness

    assert smoothness(symact.custom("max(0, x)**2")) == "C1"
    assert smoothness(symact.custom("where(x > 1, 2, 0)")) == "discontinuous"
    assert smoothness(symact.custom("x*sigmoid(x)")) == "C∞"

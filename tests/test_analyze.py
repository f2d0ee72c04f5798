"""Derived properties agree with the catalog's declared ones and with the seeds' claims."""

import json

import mpmath
import numpy as np
import pytest
import sympy as sp

import symact
from symact.analyze import analyze, limit_at
from symact.calculus import switch_points
from symact.catalog import REGISTRY
from symact.cli import main
from symact.functions import expand_atoms
from symact.printing import unicode

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
    a = analyze(symact.activation(entry.name))  # (analyze keeps each analysis for the process)
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
    capsys.readouterr()
    assert main(["analyze", "leaky_relu", "-p", "alpha=2"]) == 0  # its header said "default parameters"
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0] == "leaky_relu: derived properties at α = 2" and "max f':                          2" in out
    )
    assert main(["analyze", "leaky_relu"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "leaky_relu: derived properties at α = 0.01 (the default)"


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_derived_smoothness_matches_declared(entry):
    from symact.analyze import smoothness

    assert smoothness(symact.activation(entry.name)) == entry.properties["smoothness"]


def test_smoothness_of_user_functions():
    from symact.analyze import smoothness

    assert smoothness(symact.custom("max(0, x)**2")) == "C1"
    assert smoothness(symact.custom("where(x > 1, 2, 0)")) == "discontinuous"
    assert smoothness(symact.custom("x*sigmoid(x)")) == "C∞"


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_extrema_bound_the_kernel_and_are_reached(entry):
    """The min and max of f and f' against the float64 kernel on [−30, 30] by 10⁻³, and 10⁻⁹ beside each switch
    point: no value lies beyond them, and the kernel comes within 10⁻⁶ of each one taken or approached at a
    finite x. SELU's max f' was 1.0507 (its sup is λα ≈ 1.758, as x → 0⁻) and hard swish's 1 (3/2 as x → 3⁻):
    the grid search's root-finder had walked into the neighbouring piece."""
    a = analyze(symact.activation(entry.name))  # (analyze keeps each analysis for the process)
    fn = symact.activation(entry.name)
    x = fn.inputs[0]
    switches = [float(p) for e in (fn.bind(), fn.bind(fn.derivative())) for p in switch_points(e, x)]
    xs = np.concatenate([np.linspace(-30, 30, 60_001), *[[p - 1e-9, p, p + 1e-9] for p in switches]])
    values = symact.compile(entry.name, backend="numpy", dtype="float64")(xs)
    for v, low, high in zip(values, (a.minimum, a.derivative_min), (a.maximum, a.derivative_max)):
        for ext, sign in ((low, -1), (high, 1)):
            bound = float(ext.value)
            if np.isinf(bound):
                continue
            assert np.max(sign * v) <= sign * bound + 1e-9 * (1 + abs(bound)), (entry.name, str(ext))
            if ext.at is not None and abs(float(ext.at)) < 30:
                assert abs(sign * np.max(sign * v) - bound) <= 1e-6 * (1 + abs(bound)), (entry.name, str(ext))


def test_limit_of_silu_derivative_is_one_despite_sympy():
    """SymPy 1.14 gives 0 for this limit of SiLU's derived derivative; limit_at must not."""
    fn = symact.activation("silu")
    x = fn.inputs[0]
    assert limit_at(fn.bind(fn.derivative()), x, sp.oo, seconds=30) == 1
    assert limit_at(fn.bind(fn.derivative()), x, -sp.oo, seconds=30) == 0


def test_limit_of_a_piecewise_in_two_symbols():
    """Huber's |y − ŷ| ≤ 1 is false far out whatever y is: the limits are those of the linear case (the case
    after an undecided condition was taken instead, a wrong −∞ at ŷ → −∞). A condition on y alone holds or not all
    the way: Poisson's ŷ − y·log ŷ (its own case at y = 0) tends to ∞ either way. Where the sign of y decides
    (hinge's 1 − y·ŷ ≥ 0), there is no one answer: nan, not the last case's."""
    yhat, y = sp.symbols("yhat y", real=True)
    huber = sp.Piecewise(((yhat - y) ** 2 / 2, sp.Abs(y - yhat) <= 1), (sp.Abs(y - yhat) - sp.Rational(1, 2), True))
    assert [limit_at(huber, yhat, d) for d in (-sp.oo, sp.oo)] == [sp.oo, sp.oo]
    assert [limit_at(sp.diff(huber, yhat), yhat, d) for d in (-sp.oo, sp.oo)] == [-1, 1]
    poisson = yhat + sp.Piecewise((0, sp.Eq(y, 0)), (-y * sp.log(yhat), True))
    assert limit_at(poisson, yhat, sp.oo) == sp.oo
    assert limit_at(sp.Piecewise((1, sp.Eq(y, 0)), (2 + 1 / yhat, True)), yhat, sp.oo) == sp.Piecewise(
        (1, sp.Eq(y, 0)), (2, True)
    )
    assert limit_at(sp.Max(0, 1 - y * yhat), yhat, sp.oo) is sp.nan


def test_singular_functions_have_unbounded_extrema_and_non_real_ones_are_refused(capsys):
    """1/x had range [0, 0], max f' 0 and Lipschitz constant 0 (no critical point, limits 0 at ±∞), and log x
    a range [oo, oo]: its values below 0 are not real."""
    a = analyze(symact.custom("1/x"))
    assert (a.minimum.value, a.minimum.at, a.minimum.side) == (-sp.oo, 0, "-")
    assert (a.maximum.value, a.maximum.at, a.maximum.side) == (sp.oo, 0, "+")
    assert a.derivative_min.value == -sp.oo and a.lipschitz == sp.oo and not a.monotonic
    assert a.smoothness == "discontinuous"
    b = analyze(symact.custom("sqrt(abs(x))"))
    assert b.smoothness == "C0" and b.derivative_max.value == sp.oo and b.minimum.value == 0
    with pytest.raises(ValueError, match="not a real number"):
        analyze(symact.custom("log(x)"))
    assert main(["analyze", "--expr", "sqrt(x)"]) == 2
    err = capsys.readouterr().err
    assert "not a real number" in err and "ValueError" not in err


def test_removable_singularities_are_analyzed_at_their_limit():
    """sin(x)/x, x/tanh x: the grid search met 0/0 at x = 0 and analyze stopped with a ZeroDivisionError; their
    values there are the limits, as the kernels', so sin(x)/x's max is 1 at 0 and x/tanh x's min is 1 at 0."""
    a = analyze(symact.custom("sin(x)/x"))
    assert float(a.maximum.value) == 1 and a.maximum.at == 0
    assert float(a.minimum.value) == pytest.approx(-0.2172336282, rel=1e-9)  # cos x at tan x = x, x = ±4.4934
    b = analyze(symact.custom("x/tanh(x)"))
    assert float(b.minimum.value) == 1 and b.minimum.at == 0 and b.maximum.value == sp.oo
    assert (b.derivative_min.value, b.derivative_max.value, b.lipschitz) == (-1, 1, 1)


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_limits_at_infinity_agree_with_far_values(entry):
    """f and f' at ±∞ (what the kernels return at ±inf) agree with their 50-digit values at ±10^4."""
    fn = symact.activation(entry.name)
    x = fn.inputs[0]
    for expr in (fn.bind(), fn.bind(fn.derivative())):
        g = sp.lambdify(x, expand_atoms(expr), "mpmath")
        for direction, far in ((sp.oo, 10**4), (-sp.oo, -(10**4))):
            limit = limit_at(expr, x, direction, seconds=30)
            with mpmath.workdps(50):
                value = g(mpmath.mpf(far))
            if limit is sp.nan:
                continue  # no limit found: the kernels then compute at ±inf (checked in test_kernels)
            if limit.is_finite:
                assert abs(value - mpmath.mpf(sp.N(limit, 50))) <= 1e-3 * (1 + abs(limit)), (entry.name, expr, far)
            else:  # growing without bound, with the limit's sign
                with mpmath.workdps(50):
                    farther = g(mpmath.mpf(far) * 10**4)
                sign = 1 if limit > 0 else -1
                assert 0 < sign * value < sign * farther, (entry.name, expr, far)


def test_far_values_pick_the_true_limit_or_none():
    from symact.analyze import _nearest_far_value

    x = sp.Symbol("x", real=True)
    assert _nearest_far_value(1 / x, x, sp.oo, "+", [sp.S(1), sp.S(0)]) == 0
    assert _nearest_far_value(sp.exp(-x), x, 0, "+", [sp.S(0), sp.S(1)]) == 1
    assert _nearest_far_value(x, x, sp.oo, "+", [sp.zoo, sp.oo]) is sp.nan  # zoo has no distance: no answer
    assert _nearest_far_value(sp.sin(x), x, sp.oo, "+", [sp.S(0), sp.S(1)]) is sp.nan  # no limit at all


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_range_ends_are_taken_exactly_where_the_declared_range_is_closed(entry):
    """The range's brackets say whether its ends are taken: sigmoid's is (0, 1), never reaching 0 or 1. analyze
    printed [0 (exact), 1 (exact)], the closed interval the seeds wrongly give; the limits at ±∞ were taken as
    attained."""
    rng = entry.properties["range"]
    a = analyze(symact.activation(entry.name))
    if not isinstance(rng, sp.Interval):  # step's {0, 1}: the image of a function that jumps
        assert a.image == rng and dict(a.rows())["range"] == unicode(rng)
        return
    shown = dict(a.rows())["range"]
    assert shown[0] == ("(" if rng.left_open else "[") and shown[-1] == (")" if rng.right_open else "]"), shown
    assert a.minimum.taken == (not rng.left_open), (entry.name, str(a.minimum))
    assert a.maximum.taken == (not rng.right_open), (entry.name, str(a.maximum))


@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_analysis_is_printed_in_symact_notation(entry):
    """Every figure in symact's own notation: ∞, √, π, · and −, not SymPy's oo, sqrt, pi, * and -; SELU's
    were pages of erf (now −α·λ ≈ −1.758099341), and numeric figures had 15 digits padded with zeros
    (x = −0.751791524700000)."""
    a = analyze(symact.activation(entry.name))
    for label, text in a.rows():
        for sympy_syntax in ("oo", "sqrt", "pi", "*", "-", "E", "True", "False", "000000 "):
            assert sympy_syntax not in text + " ", (entry.name, label, text)
        assert len(text) < 120, (entry.name, label, text)


def test_analysis_names_parameters_and_finds_closed_forms():
    selu = analyze(symact.activation("selu"))
    rows = dict(selu.rows())
    assert rows["limits at ∓∞"] == "−α·λ ≈ −1.758099341, ∞" and rows["range"] == "(−α·λ ≈ −1.758099341, ∞)"
    assert rows["max f'"] == "α·λ ≈ 1.758099341 at x = 0" and rows["f' at ∓∞ (saturation)"] == "0, λ ≈ 1.050700987"
    # SiLU's minimum is −W(1/e), at x = −1 − W(1/e): found by the numeric search, then solved and checked exactly
    silu = analyze(symact.activation("silu")).minimum
    w = sp.LambertW(sp.exp(-1))
    assert (silu.value, silu.at, silu.method) == (-w, -1 - w, "searched")
    assert silu.value == REGISTRY["silu"].properties["range"].inf
    low = analyze(symact.custom("x*tanh(x)")).minimum  # 0 at 0: the grid's own point, checked exactly
    assert (low.value, low.at, low.taken) == (0, 0, True)
    assert analyze(symact.activation("gelu")).minimum.method == "numeric"  # Φ(x) + x·φ(x) = 0: none, and it says so


def test_extrema_on_constant_pieces_say_where():
    """relu' is 1 for every x > 0 (it said 'at x = 1', the probe of its piece) and hard tanh' 0 on both tails."""
    assert str(analyze(symact.activation("relu")).derivative_max) == "1 for x > 0"
    assert str(analyze(symact.activation("hard_tanh")).derivative_min) == "0 for x ≤ −1 or x ≥ 1"
    assert str(analyze(symact.activation("identity")).derivative_max) == "1 at every x"
    assert str(analyze(symact.activation("sigmoid")).derivative_min) == "0 as x → ±∞"
    assert str(analyze(symact.activation("softplus")).derivative_max) == "1 as x → ∞"
    assert str(analyze(symact.custom("x**3")).derivative_max) == "∞ as x → ±∞"  # (it said −∞ only)


def test_analyze_json_is_typed(capsys):
    assert main(["analyze", "sigmoid", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # (strict JSON: no Infinity or NaN)
    assert out["bounded"] is True and out["monotonic"] is True
    assert out["range"]["text"] == "(0, 1)" and out["range"]["min"]["taken"] is False
    assert out["derivative"]["max"] | {"text": None} == {
        "value": 0.25,
        "exact": "1/4",
        "text": None,
        "method": "exact",
        "taken": True,
        "at": {"value": 0.0, "exact": "0", "text": "0"},
        "on": None,
    }
    assert main(["analyze", "exponential", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lipschitz"]["value"] == "inf" and out["limits"]["-inf"]["value"] == 0.0


@pytest.mark.parametrize(
    "name, text, shown",
    [
        ("step", None, "{0, 1}"),
        ("custom", "1/x", "(−∞, 0) ∪ (0, ∞)"),
        ("custom", "x + sign(x)", "(−∞, −1) ∪ {0} ∪ (1, ∞)"),
        ("custom", "where(x > 0, x, exp(x) - 2)", "(−2, −1] ∪ (0, ∞)"),
        # a piece SymPy cannot take the range of (σ): the interval from inf to sup, said to be only a bound
        ("custom", "where(x > 0, sigmoid(x), -sigmoid(x))", "within [−1/2 at x = 0, 1); f jumps, so not every"),
    ],
)
def test_the_range_of_a_function_that_jumps_is_its_image(name, text, shown):
    """step's range printed as [0 for x < 0, 1 for x ≥ 0], an interval, and 1/x's as (−∞, ∞), which has 0 in
    it: the range of a discontinuous function is now the union of its pieces' ranges."""
    a = analyze(symact.custom(text) if text else symact.activation(name))
    assert a.smoothness == "discontinuous"
    assert dict(a.rows())["range"].startswith(shown)


def test_a_function_that_jumps_has_no_finite_lipschitz_constant():
    """step's Lipschitz constant was 0, from max |f'| = 0; a jump makes it ∞. The gradient backprop passes
    through 10 steps is still 0, which is why a step cannot train."""
    a = analyze(symact.activation("step"))
    rows = dict(a.rows())
    assert a.lipschitz == sp.oo and rows["Lipschitz constant"] == "∞ (f jumps)"
    assert a.vanishing_bound(10) == 0 and rows["gradient bound over 10 layers"] == "0"
    assert analyze(symact.activation("relu")).lipschitz == 1


def test_an_oscillating_derivative_has_no_limit(capsys):
    """Snake's f′ = 1 + sin 2x has no limit at ±∞: SymPy says AccumBounds(0, 2), and analyze stopped with a
    TypeError turning it into a float."""
    rows = dict(analyze(symact.custom("x + sin(x)**2")).rows())
    assert rows["f' at ∓∞ (saturation)"] == "none (oscillates in [0, 2]), none (oscillates in [0, 2])"
    # its max 2 is taken every π: the one nearest 0, in closed form (the grid's pick was x = 29.06)
    assert rows["max f'"] == "2 at x = π/4 (exact; found by a numeric search)"
    assert main(["analyze", "--expr", "x + sin(x)**2", "--json"]) == 0
    limits = json.loads(capsys.readouterr().out)["derivative"]["limits"]
    assert limits["inf"]["value"] is None and limits["inf"]["exact"] == "AccumBounds(0, 2)"


def test_an_unbounded_oscillation_has_no_limit_and_no_finite_extremum():
    """x·cos x: its limits were printed ∞·sign(AccumBounds(−1, 1)), and max f′ = 29.9 at x = −29.9, the end of the
    search, though f′ = cos x − x·sin x swings to ±∞."""
    rows = dict(analyze(symact.custom("x*cos(x)")).rows())
    assert rows["limits at ∓∞"] == "none (oscillates in (−∞, ∞)), none (oscillates in (−∞, ∞))"
    assert rows["max f'"] == "∞ as x → ±∞" and rows["min f'"] == "−∞ as x → ±∞"
    assert rows["Lipschitz constant"] == "∞ (f' is unbounded)" and rows["range"] == "(−∞, ∞)"
    rows = dict(analyze(symact.custom("x*sin(x)**2")).rows())
    assert rows["limits at ∓∞"] == "none (oscillates in (−∞, 0]), none (oscillates in [0, ∞))"


def test_fn_analyze_prints_the_table_analyze_prints(capsys):
    """symact.analyze is a module ("'module' object is not callable"); Fn.analyze() gives the analysis, and
    printing it gives the rows of `symact analyze`, not the dataclass's repr."""
    result = symact.activation("softsign").analyze()
    assert result is analyze(symact.activation("softsign"))
    assert main(["analyze", "softsign"]) == 0
    assert str(result) == capsys.readouterr().out.rstrip("\n")


@pytest.mark.parametrize(("name", "shown"), [("relu", "[0, ∞)"), ("relu6", "[0, 6]"), ("hard_tanh", "[−1, 1]")])
def test_a_range_says_its_values_not_where_a_constant_piece_takes_them(name, shown):
    """relu's range printed as [0 for x ≤ 0, ∞): an interval's end is a value; 'for x ≤ 0' belongs to max f'."""
    rows = dict(analyze(symact.activation(name)).rows())
    assert rows["range"] == shown


def test_max_and_min_of_f_prime_still_say_where_a_constant_piece_takes_them():
    rows = dict(analyze(symact.activation("relu")).rows())
    assert (rows["max f'"], rows["min f'"]) == ("1 for x > 0", "0 for x ≤ 0")

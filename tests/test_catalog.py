"""The registry: completeness, metadata, name lookup and parameter handling."""

import pytest
import sympy as sp

import symact
from symact.catalog import REGISTRY, UnknownFunctionError

from .conftest import ENTRIES, ids

# The functions the foundation issue asks for, by kind.
REQUIRED_ACTIVATIONS = """identity step sigmoid tanh relu leaky_relu prelu elu selu celu gelu gelu_tanh silu mish
softplus softsign log_sigmoid hard_sigmoid hard_swish hard_tanh relu6 softmax log_softmax sparsemax aplu""".split()
REQUIRED_LOSSES = """mse rmse mae huber smooth_l1 log_cosh bce bce_with_logits cross_entropy softmax_cross_entropy
kl_div hinge squared_hinge focal poisson_nll gaussian_nll""".split()


def test_catalog_has_every_required_function():
    assert set(REQUIRED_ACTIVATIONS) <= set(symact.names("activation"))
    assert set(REQUIRED_LOSSES) <= set(symact.names("loss"))


@pytest.mark.parametrize("entry", ENTRIES, ids=ids(ENTRIES))
def test_entry_metadata_is_complete(entry):
    assert entry.description and entry.reference and entry.latex_name
    assert entry.kink_convention
    fn = symact.function(entry.name)
    assert fn.inputs and all(s.is_real for s in (*fn.inputs, *fn.targets))
    free = fn.expr.free_symbols
    assert free <= set(fn.inputs) | set(fn.targets) | set(fn.params)
    assert set(fn.inputs) <= free, "every input must appear in the definition"
    for p in entry.params:
        assert p.symbol in free, f"parameter {p.name} is declared but unused"
        assert p.default.is_number
    sp.latex(fn.expr)  # every definition typesets
    assert fn._repr_latex_().startswith("$")


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if e.kind == "loss"], ids=ids([e for e in ENTRIES if e.kind == "loss"])
)
def test_loss_has_matching_output_activation(entry):
    assert entry.output_activation in REGISTRY
    assert REGISTRY[entry.output_activation].kind == "activation"


def test_aliases_resolve_to_canonical_names():
    assert symact.activation("swish").name == "silu"
    assert symact.activation("logistic").name == "sigmoid"
    assert symact.activation("linear").name == "identity"
    assert symact.activation("Leaky-ReLU").name == "leaky_relu"
    assert symact.loss("categorical_crossentropy").name == "cross_entropy"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownFunctionError) as info:
        symact.activation("sigmod")
    assert "sigmoid" in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_kind_mismatch_and_bad_parameters_are_clear():
    with pytest.raises(ValueError, match="is a loss"):
        symact.activation("mse")
    with pytest.raises(TypeError, match="no parameter gamma"):
        symact.activation("silu", gamma=2)
    with pytest.raises(TypeError, match="number"):
        symact.activation("leaky_relu", alpha="big")


def test_parameters_are_exact_and_bindable():
    f = symact.activation("leaky_relu", alpha=0.2)
    alpha = f.param("alpha")
    assert f.params[alpha] == sp.Rational(1, 5)
    assert symact.activation("leaky_relu").params[alpha] == sp.Rational(1, 100)
    x = f.inputs[0]
    assert f.bind().subs(x, -10) == -2


def test_numpy_scalars_are_parameter_values_and_orders_as_python_numbers_are():
    """np.float64 is a float whose repr is "np.float64(0.2)" (it gave a TypeError from SymPy's Rational, with a
    traceback); np.float32 and np.int64 are neither float nor int. Each is the number it holds; NumPy's bool
    is no number, as Python's is not."""
    import numpy as np

    alpha = symact.activation("leaky_relu").param("alpha")
    for value, exact in [(np.float64(0.2), sp.Rational(1, 5)), (np.int64(2), 2), (np.float32(0.5), sp.Rational(1, 2))]:
        assert symact.activation("leaky_relu", alpha=value).params[alpha] == exact
    y, dy = symact.compile("silu", dtype="float64", beta=np.float64(1.5))(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(y, symact.compile("silu", dtype="float64", beta=1.5)(np.array([-1.0, 2.0]))[0])
    for value in (np.True_, True):
        with pytest.raises(TypeError, match="number"):
            symact.activation("leaky_relu", alpha=value)
    tanh = symact.activation("tanh")
    assert tanh.derivative(order=np.int64(2)) == tanh.derivative(order=2)  # an order from NumPy
    for order in (True, 1.0, 0):
        with pytest.raises(ValueError, match="order must be an integer"):
            tanh.derivative(order=order)


def test_selu_constants_match_the_paper():
    f = symact.activation("selu")
    values = {s.name: float(v) for s, v in f.params.items()}
    assert values["alpha"] == pytest.approx(1.6732632423543772848, rel=1e-15)
    assert values["lamda"] == pytest.approx(1.0507009873554804934, rel=1e-15)


def test_gelu_tanh_constants_are_exact():
    f = symact.activation("gelu_tanh")
    assert f.expr.has(sp.Rational(44715, 10**6)) and f.expr.has(sp.pi)
    assert not f.expr.atoms(sp.Float)


def test_vector_functions_take_a_size():
    assert len(symact.activation("softmax", size=5).inputs) == 5
    assert symact.activation("softmax").size == 3
    with pytest.raises(ValueError):
        symact.activation("relu", size=4)


def test_losses_define_a_mean_cost():
    mse = symact.loss("mse")
    c = mse.cost(2)
    yh1, y1, yh2, y2 = sp.symbols("yhat_1 y_1 yhat_2 y_2", real=True)
    assert sp.simplify(c - ((yh1 - y1) ** 2 + (yh2 - y2) ** 2) / 2) == 0
    rmse = symact.loss("rmse").cost(2)
    assert sp.simplify(rmse - sp.sqrt(((yh1 - y1) ** 2 + (yh2 - y2) ** 2) / 2)) == 0
    assert isinstance(symact.loss("mae").cost(), sp.Mul)


def test_a_function_is_called_at_a_point_as_sympy_evaluates_it():
    """f(0) raised "'Fn' object is not callable": the object a user gets from symact.activation is the function,
    and is now called as one, exactly for exact arguments and in floats for floats."""
    import numpy as np

    z = sp.Symbol("z")
    assert symact.activation("sigmoid")(0) == sp.Rational(1, 2)
    assert symact.activation("sigmoid")(0.5) == pytest.approx(1 / (1 + np.exp(-0.5)), rel=1e-15)
    assert symact.activation("silu", beta=2)(z) == z * symact.functions.sigmoid(2 * z)
    assert symact.activation("gelu")(np.float64(1.0)) == pytest.approx(0.8413447460685429, rel=1e-15)
    assert symact.activation("step")(0) == 1 and symact.activation("relu")(-2) == 0
    from fractions import Fraction

    assert symact.activation("relu")(Fraction(1, 2)) == sp.Rational(1, 2)  # exact, not int(1/2) = 0
    assert symact.loss("bce")(sp.Rational(1, 2), 1) == sp.log(2)
    for bad, message in [
        (lambda: symact.activation("sigmoid")(np.ones(3)), "symact.compile"),
        (lambda: symact.activation("sigmoid")(1, 2), r"takes 1 argument \(x\), got 2"),
        (lambda: symact.activation("sigmoid")("x"), "not str"),
        (lambda: symact.activation("softmax")(1), "acts on a vector"),
    ]:
        with pytest.raises(TypeError, match=message):
            bad()

"""The safe parser: benign text parses, hostile text is refused without running anything."""

import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from symact import ExpressionError, parse, sigmoid, softplus

x = sp.Symbol("x", real=True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x*tanh(softplus(x))", x * sp.tanh(softplus(x))),
        ("x*sigmoid(2*x)", x * sigmoid(2 * x)),
        ("max(0, x) + 0.25*min(0, x)", sp.Max(0, x) + sp.Min(0, x) / 4),
        ("where(x > 0, x, 0)", sp.Piecewise((x, x > 0), (0, True))),
        ("2**10", sp.Integer(1024)),
        # Snake, arctan and asinh activations; the stable log1p and expm1 a user writes
        ("x + sin(x)**2", x + sp.sin(x) ** 2),
        ("atan(x) + arctan(x)", 2 * sp.atan(x)),
        ("asinh(x) - arcsinh(x) + atanh(x/2) + cos(x)", sp.atanh(x / 2) + sp.cos(x)),
        ("log1p(exp(x)) + expm1(x)", log1p(sp.exp(x)) + expm1(x)),
    ],
)
def test_benign_text(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text, hint",
    [
        ("arcsin(x)", "did you mean arcsinh, asinh, sin?"),
        ("sigmod(x)", "did you mean sigmoid, log_sigmoid, hard_sigmoid?"),
    ],
)
def test_an_unknown_function_names_the_close_ones(text, hint):
    with pytest.raises(ExpressionError, match=hint):
        parse(text)


@pytest.mark.parametrize("text", ["Piecewise((x, x > 0), (0, True))", "x*(x > 0)", "select(x > 0, x, 0)"])
def test_a_piecewise_function_written_another_way_is_pointed_to_where(text):
    """SymPy's Piecewise and NumPy's select are unknown here, and a comparison outside a condition is an error:
    the message says how to write it (it said only what was wrong)."""
    with pytest.raises(ExpressionError, match=r"where\(condition, value, otherwise\)"):
        parse(text)


@pytest.mark.parametrize("text", ["sigmoid(x)'", "tanh'(x)", "x*f'"])
def test_a_derivative_written_with_a_prime_is_pointed_to_diff(text):
    """σ' is how the seeds and textbooks write a derivative; Python reads an unterminated string there, and the
    message said only that."""
    with pytest.raises(ExpressionError, match=r"diff\(f, x\)") as err:
        parse(text)
    assert "string literal" not in str(err.value)


def test_a_quote_elsewhere_is_not_taken_for_a_prime():
    with pytest.raises(ExpressionError, match="only int and float literals"):
        parse("x + 'a'")


def test_parameters_are_symbols():
    e = parse("max(0, x) + alpha*min(0, x)", params={"alpha": 0.25})
    assert sp.Symbol("alpha", real=True) in e.free_symbols


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "x.__class__",
        "(lambda: 1)()",
        "[c for c in ()]",
        "f'{x}'",
        "exec('1')",
        "eval('1')",
        "open('/etc/passwd')",
        "x[0]",
        "(y := 2)",
        "sigmoid(x=1)",
        "ｅｘｅｃ('1')",
        "10**10**10",
        "9**9**9**9",
        "2**(10**6)",
        "x**100000",
        "(" * 5000 + "x" + ")" * 5000,
        "x+" * 300000 + "x",
        "'string'",
        "True",
        "None",
        "_x + 1",
    ],
)
def test_hostile_text_is_refused(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_error_has_position_and_caret():
    with pytest.raises(ExpressionError) as info:
        parse("x + foo(x)")
    assert info.value.col == 4
    assert "^" in str(info.value)


@pytest.mark.parametrize("text", ["x ==", "x**", "2*x +"])
def test_text_that_ends_too_early_is_marked_at_its_end(text):
    """Python reports no column for these (offset 0), and the error pointed at column 1, the text's start."""
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.col == len(text)
    assert f"at column {len(text) + 1}" in str(info.value)

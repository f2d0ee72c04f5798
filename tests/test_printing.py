"""The printers: derivatives read as they are written by hand, and printing never changes a value."""

import pytest
import sympy as sp

import symact
from symact.functions import sigmoid
from symact.printing import latex, oriented, unicode

from .conftest import LOSSES, SCALAR_ACTIVATIONS, ids

ELEMENTWISE = SCALAR_ACTIVATIONS + [e for e in LOSSES if not e.vector]


def _printed(name: str) -> str:
    fn = symact.function(name)
    return symact.unicode(fn.gradient() if fn.kind == "loss" else fn.derivative())


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("sigmoid", "σ(x)·(1 − σ(x))"),
        ("silu", "σ(β·x)·(1 + β·x·(1 − σ(β·x)))"),  # SymPy: σ(β·x)·(1 − β·x·(σ(β·x) − 1))
        ("softsign", "1/(1 + |x|)²"),
        ("mae", "sign(ŷ − y)"),  # SymPy: −sign(y − ŷ)
        ("log_cosh", "tanh(ŷ − y)"),  # SymPy: −tanh(y − ŷ)
        ("bce", "(ŷ − y)/(ŷ·(1 − ŷ))"),  # SymPy: (y − ŷ)/(ŷ·(ŷ − 1))
        ("huber", "{ŷ − y if |ŷ − y| ≤ δ; δ·sign(ŷ − y) otherwise}"),  # SymPy: δ ≥ |y − ŷ|, −δ·sign(y − ŷ)
        ("aplu", "a₁·{1 if b₁ > x; 0 otherwise}"),  # SymPy: b₁ − x > 0
        ("squared_hinge", "2·y·(y·ŷ − 1)"),  # kept: 1 − y·ŷ would cost a minus sign
        # as many operations as one fraction of nested sums, (ŷ·(ŷ^γ·(y − 1) − …) + (ŷ − 1)·(…))/(ŷ·(ŷ − 1)),
        # which won on its shorter srepr: the tie now goes to the shallower tree, its four terms
        ("focal", "ŷ^γ·(1 − y)/(1 − ŷ) + γ·y·(1 − ŷ)^γ·log(ŷ)/(1 − ŷ) − y·(1 − ŷ)^γ/ŷ − γ·ŷ^γ·(1 − y)·log(1 − ŷ)/ŷ"),
        ("selu", "{λ if x > 0; α·λ·exp(x) otherwise}"),  # was λ·{1 if x > 0; α·exp(x) otherwise}
        ("gelu_tanh", "tanh(√2·(0.044715·x³ + x)/√π)"),  # the constant as written: it was 8943·x³/200000
        ("gelu_tanh", "(0.134145·x² + 1)"),
    ],
)
def test_derivatives_read_as_written_by_hand(name, text):
    assert text in _printed(name)


def test_a_decimal_constant_is_kept_whole_in_higher_derivatives():
    """GELU-tanh'' was (1/20000000000 − tanh²(…)/20000000000)·(2682900000·√2·x²/√π + …): simplifying cleared
    the denominator of 0.044715 = 8943/200000. Such constants are carried as symbols while deriving."""
    text = symact.unicode(symact.activation("gelu_tanh").derivative(order=2))
    assert "20000000000" not in text and text.startswith("(1 − tanh²(√2·(0.044715·x³ + x)/√π))·"), text


def test_terminating_decimals_print_as_decimals_where_they_read_better():
    from symact.printing import as_decimal, latex

    assert [as_decimal(sp.Rational(p, q)) for p, q in ((8943, 200000), (-3, 1000), (851, 500), (1, 100))] == [
        "0.044715",
        "-0.003",
        "1.702",  # a user's constant as typed: quick GELU's σ(1.702·x), not σ(851·x/500)
        "0.01",
    ]
    assert [as_decimal(sp.Rational(p, q)) for p, q in ((1, 4), (3, 8), (1, 6), (12345, 100))] == [None] * 4
    assert [as_decimal(sp.Rational(p, q)) for p, q in ((1, 3000), (59049, 1024), (1, 2 * 10**10))] == [None] * 3
    c, x = sp.Rational(44715, 10**6), sp.Symbol("x")
    assert unicode(-c * x**3) == "−0.044715·x³" and latex(c * x**3) == "0.044715 x^{3}"
    assert sp.Rational(as_decimal(c)) == c  # exactly the same number


def test_a_parameter_prints_as_the_decimal_it_was_typed_as(capsys):
    """A parameter typed 0.3 printed as 3/10 (show, an Fn's repr, a Dense layer's); formulas keep x/2."""
    from symact import nn
    from symact.cli import main
    from symact.printing import as_decimal

    half, tenths, quarter, third = sp.Rational(1, 2), sp.Rational(3, 10), sp.Rational(1, 4), sp.Rational(1, 3)
    assert [as_decimal(r, parameter=True) for r in (half, tenths, quarter, third)] == ["0.5", "0.3", "0.25", None]
    assert [as_decimal(r) for r in (half, tenths, quarter)] == [None] * 3  # in formulas: x/2, 3·x/10
    assert repr(symact.activation("elu", alpha=0.3)) == "<symact activation elu(alpha=0.3)>"
    assert repr(nn.Dense(4, "elu", alpha=0.5)) == "Dense(4, activation='elu(alpha=0.5)')"
    assert main(["show", "elu", "-p", "alpha=0.3"]) == 0
    assert "  parameter:    α = 0.3  (" in capsys.readouterr().out


def test_latex_turns_differences_too():
    assert symact.latex(symact.loss("mae").gradient()) == r"\operatorname{sign}{\left(\hat{y} - y \right)}"
    assert r"\left(1 - \sigma\left(\beta x\right)\right)" in symact.latex(symact.activation("silu").derivative())


def test_a_flip_that_costs_a_minus_sign_is_not_taken():
    x, y, b = sp.symbols("x y beta")
    assert symact.unicode(2 * y * (x * y - 1)) == "2·y·(x·y − 1)"
    assert symact.unicode(-(x + y)) == "−x − y"
    assert symact.unicode(x + 1) == "x + 1"  # a polynomial keeps SymPy's order
    assert symact.unicode(1 - b * x * (sigmoid(x) - 1)) == "1 + β·x·(1 − σ(x))"
    alpha = sp.Symbol("alpha")
    assert symact.unicode(alpha * (sp.exp(x) - 1)) == "α·(exp(x) − 1)"  # ELU's: exp(x) − 1 is not flipped


def test_a_complement_is_written_one_minus_even_at_a_minus_sign():
    """σ(u) − 1 reads −(1 − σ(u)), the complement σ(−u), as by hand: log σ'' was σ(x)·(σ(x) − 1)."""
    fn = symact.activation("log_sigmoid")
    assert symact.unicode(fn.derivative(order=2)) == "−σ(x)·(1 − σ(x))"
    assert symact.latex(fn.derivative(order=2)) == r"- \sigma\left(x\right) \left(1 - \sigma\left(x\right)\right)"


@pytest.mark.parametrize("entry", ELEMENTWISE, ids=ids(ELEMENTWISE))
def test_turning_a_product_keeps_its_value(entry):
    """Every product the printers turn, in every definition and derivative of the catalog, equals the original."""
    fn = symact.function(entry.name)
    exprs = [fn.expr, fn.gradient() if fn.kind == "loss" else fn.derivative()]
    turned = 0
    for expr in exprs:
        for mul in sp.preorder_traversal(expr):
            for sign_free in (False, True) if mul.is_Mul else ():
                new = oriented(mul, sign_free)
                if new is not mul:
                    turned += 1
                    assert sp.simplify(new.doit() - mul) == 0, (mul, new)
    if entry.name in {"silu", "mae", "bce", "log_cosh", "huber"}:
        assert turned  # the test reaches the products it is about


def test_a_cost_reads_as_a_mean():
    """SymPy's str gave Sum(−log(ŷ[i])·y[i] − (1 − y[i])·log(1 − ŷ[i]), (i, 1, N))/N."""
    assert symact.unicode(symact.loss("bce").cost()) == "(1/N)·Σᵢ₌₁ᴺ (−y[i]·log(ŷ[i]) − (1 − y[i])·log(1 − ŷ[i]))"
    assert symact.unicode(symact.loss("mse").cost()) == "(1/N)·Σᵢ₌₁ᴺ (ŷ[i] − y[i])²"
    k, m = sp.symbols("k M", integer=True)
    assert symact.unicode(sp.Sum(sp.Symbol("x") ** k, (k, 0, m + 1))) == "Σ_{k=0}^{M + 1} x^k"


def test_higher_loss_derivatives_take_partial_fractions():
    """BCE″ read (1 + (y − ŷ)/ŷ + (ŷ − y)/(1 − ŷ))/(ŷ·(1 − ŷ)); as partial fractions in ŷ it is the textbook form.
    The gradient keeps its one fraction, (ŷ − y)/(ŷ·(1 − ŷ)), shorter than −y/ŷ + (1 − y)/(1 − ŷ)."""
    bce = symact.loss("bce")
    assert symact.unicode(bce.derivative(order=2)) == "y/ŷ² + (1 − y)/(1 − ŷ)²"
    assert symact.unicode(bce.derivative(order=1)) == "(ŷ − y)/(ŷ·(1 − ŷ))"


def test_componentwise_gives_the_ith_component_exactly():
    """componentwise(v) with i = k, and its Σⱼ evaluated, is v's k-th component; where the components are not
    one expression in their index, None."""
    from symact.printing import componentwise

    for name in ("cross_entropy", "kl_div", "softmax_cross_entropy"):
        fn = symact.loss(name)
        in_z, in_yhat = fn.logit_gradient()
        for v in (fn.derivative(), in_z, in_yhat):
            generic = componentwise(v)
            if generic is None:
                assert name == "softmax_cross_entropy" and v == fn.derivative(), name  # Σ over j ≠ i: none
                continue
            for k, component in enumerate(v, start=1):
                assert sp.simplify(_component(generic, k, len(v)) - component) == 0, (name, k)
    assert unicode(componentwise(symact.loss("cross_entropy").logit_gradient()[0])) == "exp(zᵢ)/Σⱼ₌₁³ exp(zⱼ) − yᵢ"
    a1, a2 = sp.symbols("a_1 a_2")
    assert componentwise([a1, a1 + a2]) is None and componentwise([a1, a2**2]) is None
    y, z = sp.symbols("y_1:4"), sp.symbols("z_1:4")
    total = sum(sp.exp(v) for v in z)
    nested = [z[k] * sum(y[m] * total for m in range(3)) for k in range(3)]  # a sum inside a sum: its own index
    assert unicode(componentwise(nested)) == "zᵢ·Σₖ₌₁³ yₖ·Σⱼ₌₁³ exp(zⱼ)"


def _component(generic: sp.Expr, k: int, n: int) -> sp.Expr:
    """componentwise's i-th component at i = k, each Σⱼ₌₁ⁿ written out."""

    def named(e, index, m):  # the symbols with that index, given index m
        return e.xreplace(
            {
                s: sp.Symbol(s.name[:-1] + str(m), **s.assumptions0)
                for s in e.free_symbols
                if s.name.endswith("_" + index)
            }
        )

    def written_out(total):
        return sp.Add(*(named(total.function, "j", m) for m in range(1, n + 1)))

    return named(generic.replace(lambda e: isinstance(e, sp.Sum), written_out), "i", k)


def test_a_reciprocal_root_is_written_with_the_root_sign():
    """atan′ and asinh′: 1/sqrt(x² + 1) was printed beside √(x² + 1)."""
    x = sp.Symbol("x", real=True)
    assert unicode(1 / sp.sqrt(x**2 + 1)) == "1/√(x² + 1)"
    assert unicode(x / sp.sqrt(x**2 + 1)) == "x/√(x² + 1)"


def test_a_negative_fractional_power_is_written_as_a_reciprocal():
    """(x + 1)^(−1/3) was printed (x + 1)··(−1/3): SymPy's x**(−1/3) with both stars read as products."""
    x = sp.Symbol("x", real=True)
    assert unicode((x + 1) ** sp.Rational(-1, 3)) == "1/(x + 1)^(1/3)"
    assert unicode(x ** sp.Rational(-2, 3)) == "1/x^(2/3)"
    assert unicode(x / (x + 1) ** sp.Rational(3, 2)) == "x/(x + 1)^(3/2)"


def test_inverse_functions_are_typeset_in_latex():
    x = sp.Symbol("x", real=True)
    assert latex(sp.atan(x)) == r"\arctan{\left(x \right)}"
    assert latex(sp.asinh(x)) == r"\operatorname{arsinh}{\left(x \right)}"

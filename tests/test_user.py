"""User-defined functions: define, save and reload, and use like catalog names."""

import functools
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symact
from symact.cli import main
from symact.compile import available_backends
from symact.compile.accuracy import points, reference, ulp_error
from symact.rounding import exact
from symact.stable import catalog_equivalent, catalog_multiple, recognize_atoms, stable_form
from symact.user import user_file

from .conftest import assert_same_through_near_forms


def test_define_registers_everywhere(capsys):
    fn = symact.define("test_leaky", "max(0, x) + alpha*min(0, x)", params={"alpha": 0.1})
    assert "test_leaky" in symact.names("activation")
    assert symact.activation("test_leaky").params[fn.param("alpha")] == fn.params[fn.param("alpha")]
    assert main(["derive", "test_leaky", "--wrt", "alpha"]) == 0
    assert main(["prove", "test_leaky(x) == leaky_relu(x) + 0.09*min(0, x)"]) == 0
    capsys.readouterr()
    with pytest.raises(ValueError, match="already"):
        symact.define("test_leaky", "x")


def test_define_says_which_catalog_function_a_definition_is(capsys):
    assert main(["define", "test_quick_gelu", "x/(1 + exp(-1.702*x))"]) == 0
    assert "proved equal to silu with β = 1.702, and so is its derivative" in capsys.readouterr().out
    assert main(["define", "test_twice_silu", "2*x/(1 + exp(-x))"]) == 0
    assert "proved equal to 2·silu with β = 1, and so is its derivative" in capsys.readouterr().out
    assert main(["define", "test_hat", "x*exp(-x**2)"]) == 0
    assert "proved equal" not in capsys.readouterr().out


def test_define_rejects_unknown_symbols_and_constant_functions():
    with pytest.raises(symact.ExpressionError, match="unknown symbol"):
        symact.custom("x + z")
    with pytest.raises(symact.ExpressionError, match="does not depend"):
        symact.custom("alpha", params={"alpha": 1})


@pytest.mark.parametrize(
    "text, convention",
    [
        ("x + sin(x)**2", "differentiable everywhere"),  # was "H(0) = 0 at max/min kinks", which it has none of
        ("x*tanh(softplus(x))", "differentiable everywhere"),
        ("max(0, x) + 0.1*min(0, x)", "H(0) = 0 at max/min kinks, as for relu"),
        ("where(x > 0, x, exp(x) - 1)", "H(0) = 0 at max/min kinks, as for relu"),
    ],
)
def test_a_kink_convention_only_where_the_text_can_kink(text, convention):
    assert symact.custom(text).entry.kink_convention == convention


@pytest.mark.parametrize("name", ["sin", "log", "sqrt", "where", "diff", "erf", "pi"])
def test_a_name_text_reads_as_a_built_in_is_refused(name):
    """`symact define log "x**2"` was accepted: `derive log` then meant it, while `prove "log(x) == …"` meant log."""
    with pytest.raises(symact.ExpressionError, match="built-in"):
        symact.define(name, "x**2")


def test_user_loss():
    fn = symact.custom("(yhat - y)**4", kind="loss")
    assert fn.gradient() == 4 * (fn.inputs[0] - fn.targets[0]) ** 3


def test_saved_definition_is_loaded_on_later_runs(tmp_path):
    env = {"SYMACT_CONFIG_DIR": str(tmp_path), "PATH": ""}
    define = [sys.executable, "-m", "symact.cli", "define", "my_mish", "x*tanh(softplus(x))", "--save"]
    assert subprocess.run(define, env=env, capture_output=True, text=True).returncode == 0
    assert (tmp_path / "functions.toml").exists()
    later = subprocess.run(
        [sys.executable, "-m", "symact.cli", "prove", "my_mish(x) == mish(x)"], env=env, capture_output=True, text=True
    )
    assert later.returncode == 0 and "proved" in later.stdout


def test_a_saved_definition_is_replaced_and_removed(tmp_path, monkeypatch, capsys):
    """A saved definition could only be changed by editing functions.toml by hand: define refused the name, and
    nothing removed it. --replace redefines a user function (never a catalog one), and undefine removes it."""
    monkeypatch.setenv("SYMACT_CONFIG_DIR", str(tmp_path))
    assert main(["define", "test_gate", "exp(x)", "--save"]) == 0
    assert main(["define", "test_gate", "exp(2*x)", "--save"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["define", "test_gate", "exp(3*x)", "--replace"]) == 0  # not saved: said so
    assert "for this run only" in capsys.readouterr().out and 'text = "exp(x)"' in user_file().read_text()
    assert main(["define", "test_gate", "exp(2*x)", "--save", "--replace"]) == 0
    assert symact.activation("test_gate").expr == sp.exp(2 * symact.activation("test_gate").inputs[0])
    assert 'text = "exp(2*x)"' in user_file().read_text()
    capsys.readouterr()
    assert main(["undefine", "test_gate"]) == 0 and "removed test_gate" in capsys.readouterr().out
    assert "test_gate" not in symact.names() and "test_gate" not in user_file().read_text()
    assert main(["undefine", "test_gate"]) == 2 and "unknown function" in capsys.readouterr().err
    for argv, message in [
        (["undefine", "sigmoid"], "not a user function"),
        (["define", "sigmoid", "x", "--replace"], "catalog function"),
    ]:
        assert main(argv) == 2 and message in capsys.readouterr().err
    assert symact.activation("sigmoid").entry.reference != "user-defined"


def test_check_on_a_user_function_says_the_sheet_has_nothing_on_it(capsys):
    """symact check my_fn ended in a traceback (max() of no rows): the sheet covers the catalog."""
    symact.define("test_sheetless", "x*sigmoid(2*x)")
    assert main(["check", "test_sheetless"]) == 2
    err = capsys.readouterr().err
    assert "nothing on test_sheetless" in err and "Traceback" not in err
    assert main(["check", "test_sheetless", "--json"]) == 2


def test_corrupt_config_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMACT_CONFIG_DIR", str(tmp_path))
    user_file().write_text("this is [not toml")
    with pytest.warns(UserWarning, match="could not read"):
        assert symact.load_saved() == []


#: The logistic function, softplus, tanh and log cosh as a user may write them, with exp: the compiled kernels
#: are finite and within a few ULP where the literal formulas overflow (softplus at x = 800: inf, its
#: derivative inf/inf; tanh as a quotient of exps, NaN) or cancel (σ' = σ(1 − σ) is 0 at x = 40, 2σ(2x) − 1 is
#: 0 at x = 10⁻¹⁰). Each is of 2x or doubled, exact scalings that make it no catalog function: these test the
#: generic form, which a catalog function written out does not take (test_catalog_functions_written_out_...).
EXP_FORMS = [
    "log(1 + exp(2*x))",
    "2*x/(1 + exp(-x))",
    "exp(2*x)/(1 + exp(2*x))",
    "1 - 1/(1 + exp(-2*x))",
    "2/(1 + exp(-4*x)) - 1",
    "log(cosh(x))",
    "(exp(2*x) - exp(-2*x))/(exp(2*x) + exp(-2*x))",  # tanh(2x): inf/inf = NaN from |x| = 355 as written
    "(1 - exp(-4*x))/(1 + exp(-4*x))",
    "log1p(exp(2*x))",  # log1p, written to be careful, overflowed all the same from x = 355
]


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("text", EXP_FORMS)
def test_functions_written_with_exp_compile_to_stable_kernels(text, backend):
    fn = symact.custom(text)
    assert catalog_equivalent(fn) is None
    recognized = recognize_atoms(fn.expr)  # then σ and softplus as proved stable (tests/test_kernels.py)
    branches = [e for e, _ in recognized.args] if isinstance(recognized, sp.Piecewise) else [recognized]
    for branch in branches:  # each branch equal on all of ℝ; log cosh's through exp, as for the log_cosh loss
        verdict = symact.prove(branch, fn.expr, timeout=30, suggest=False)
        if verdict.status != "proved":
            verdict = symact.prove(sp.exp(branch), sp.exp(fn.expr), timeout=30, suggest=False)
        assert verdict.status == "proved", branch
    xs = np.r_[-1e4, -800.0, -40.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 40.0, 800.0, 1e4, points(200)]
    truth_y, truth_dy = reference(fn, xs)
    y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
    assert ulp_error(y, truth_y, np.float64) <= 4
    assert ulp_error(dy, truth_dy, np.float64) <= 4


#: Functions of sin, cos, atan, asinh, atanh, log1p and expm1, which text may call: their kernels are within
#: 4 ULP (f′ without a root where it would cancel, as x·sin x's sin x + x·cos x does beyond |x| = 8,
#: docs/kernels.md).
LIBM_FORMS = ["atan(x)", "x*arctan(x)", "asinh(x)", "sin(x)", "cos(x)", "log1p(x**2)", "expm1(-x**2)"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("text", LIBM_FORMS)
def test_functions_of_the_other_libm_functions_compile_accurately(text, backend, dtype):
    fn = symact.custom(text)
    xs = np.r_[-1e4, -800.0, -40.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 40.0, 800.0, 1e4, points(200)].astype(dtype)
    truth_y, truth_dy = reference(fn, xs.astype(np.float64))
    y, dy = symact.compile(fn, backend=backend, dtype=dtype)(xs)
    assert ulp_error(y, truth_y, np.dtype(dtype)) <= 4
    assert ulp_error(dy, truth_dy, np.dtype(dtype)) <= 4


@pytest.mark.parametrize("backend", available_backends())
def test_functions_written_with_erf_keep_their_tail_and_exp_arguments_keep_their_rounding(backend):
    """x(1 + erf(x/√2))/3, two thirds of GELU (not a power of two times it, so not GELU's kernel, as twice GELU now
    is: catalog_multiple): 1 + erf(u) is erfc(−u) (it cancelled: f was 0
    from x ≈ −8.3 on, where it is 10⁻¹⁶ and below), with u = x/√2's rounding carried into erfc, and exp(−x²/2)
    in f' with x²'s (140 ULP at x = −24 without). Both read exactly as the definition and its derivative.
    f' = 2(Φ + xφ) vanishes at x ≈ −0.7518, and its terms cancel about it (by 2.5 times at x = −1.06, where it
    is 4.7 ULP off; 23 ULP at −0.815; the catalog's GELU has a root polynomial there, the generic form none),
    so f' is held to 4 ULP outside [−1.25, −0.25]."""
    fn = symact.custom("x*(1 + erf(x/sqrt(2)))/3")
    form = stable_form(fn)
    assert symact.prove(exact(form.f), fn.expr, timeout=60, suggest=False).status == "proved"
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    xs = np.r_[-37.0, -30.0, -24.0, -20.0, -9.0, -5.0, -1e-10, 0.0, 1e-10, 1.0, 40.0, 1e4, points(200)]
    truth_y, truth_dy = reference(fn, xs)
    y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
    assert ulp_error(y, truth_y, np.float64) <= 4
    away = np.abs(xs + 0.75) > 0.5
    assert ulp_error(dy[away], np.asarray(truth_dy)[away], np.float64) <= 4
    for text, x in (("exp(-x**2)", -23.25), ("exp(-3*x**2/7)", -30.0), ("exp(x/3)", -2000.0)):
        fn = symact.custom(text)
        truth_y, truth_dy = reference(fn, np.array([x]))
        y, dy = symact.compile(fn, backend=backend, dtype="float64")(np.array([x]))
        assert ulp_error(y, truth_y, np.float64) <= 2 and ulp_error(dy, truth_dy, np.float64) <= 2, text


#: Sums that cancel as written: a polynomial in tanh with a root at tanh = ±1 (tanh²'s derivative 2tanh − 2tanh³
#: was 0 from |x| = 19 on, 9·10¹⁵ ULP off), 1 − tanh (the same), sech²'s derivative, which had σ(−2x) − σ(2x)
#: as a factor (3·10⁷ ULP at x = 10⁻⁸), and a square root less a number (the bent identity (√(x² + 1) − 1)/2 + x
#: was x/4 relatively off near 0: 6·10⁷ ULP), and the sums the libm has functions for, eˣ − 1, 1 − e^(−x²),
#: log(1 + x²), cosh x − 1 and sinh written with exp (7·10⁷, 2·10¹⁵, 9·10¹⁵, 9·10¹⁵ and 4·10⁷ ULP near 0).
#: Each kernel is now within 4 ULP in float64.
CANCELLING = [
    "tanh(x)**2",
    "1 - tanh(x)",
    "1 - tanh(x)**2",
    "(sqrt(x**2 + 1) - 1)/2 + x",
    "sqrt(x**2 + 1) - 1",
    "exp(x) - 1",
    "1 - exp(-x**2)",
    "x*(1 - exp(-x))",
    "log(x**2 + 1)",
    "cosh(x) - 1",
    "(exp(x) - exp(-x))/2",
    "log(1 + exp(x)) - log(2)",  # the shifted softplus, 0 at x = 0: 1.5·10⁸ ULP off there
    "log(1 + exp(x)) - x",  # softplus(−x): the difference was 0 from x = 37 on (9·10¹⁵ ULP)
    "log(2*cosh(x))",  # inf from |x| = 710 on, where cosh overflows
    "2*log(sigmoid(x))",  # log σ(x) = −softplus(−x): −inf from x = −745 on, where it is x
    "log(1 - sigmoid(x))",
    "log(1 + tanh(x))",  # log 2σ(2x): −inf from x = −19 on
    "atanh(x)",  # f′ = 1/(1 − x²) near |x| = 1: 4.5 ULP, as (1 − x)(1 + x) 2
    "x/(1 - x**2)",  # f′'s x⁴ − 2x² + 1 near x = ±1: 3.6·10³ ULP, as (x − 1)²(x + 1)² 2.9
    "1 - cos(x)",  # 2 sin²(x/2): 4·10⁹ ULP at x = −2π as written
    "x + sin(x)",  # f′ = 1 + cos x, 2 cos²(x/2): 9·10⁵ ULP near x = −π as written
    "x + sin(x)**2",  # Snake: f′ = 1 + sin 2x, 2 sin²(x + π/4) with the sum's rounding carried: 5·10⁵ ULP as written
    "1 - sin(3*x)",  # 2 sin²(3x/2 − π/4), and f′ = −3 cos 3x with 3x's rounding carried: 4·10⁵ ULP at x = −473.9
    "sin(x**2)",  # x²'s rounding carried: 2·10⁷ ULP as written
    "3*cos(2*x) - 3",
    "x*tanh(x)",  # f′ = x + tanh x − x·tanh² x, x·4σ(2x)σ(−2x) + tanh x: 16 ULP (C), 40 (numba) at x ≈ −9.4
    "x/tanh(x)",  # f′ = x − x/tanh² x + 1/tanh x, 1/tanh x − x/sinh² x: 41 ULP at x = 16 (and inf at 0)
    # x + √(x² + 1) and its slope 1 + x/√(x² + 1) cancel as x → −∞: 10⁸ ULP (f′ 1.4·10⁸) at x = −10⁴ as written;
    # conjugated where they cancel, 1/(√(x² + 1) − x)
    "(x + sqrt(x**2 + 1))/2",
    "x - sqrt(x**2 + 1)",
    "x + sqrt(x**2 + 2*x + 3)",  # 3.6·10³ ULP (f′ 2·10⁷) at x = −10⁴
    # log A with A = 1 at 0: log1p(A − 1) about 0 (10⁸ ULP off at x = 10⁻⁸, and 9·10¹⁵, as written)
    "log(x + sqrt(x**2 + 1))",
    "log(2 - exp(-x**2))",
]


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("text", ["x*tanh(exp(x))", "tanh(exp(x))"])
def test_an_exp_beside_a_vanishing_sigmoid_product_does_not_make_it_nan(text, backend):
    """TanhExp's slope, tanh eˣ + x·eˣ·4σ(2eˣ)σ(−2eˣ): where σ(−2eˣ) underflows to 0, eˣ overflows (x ≥ 709.8)
    and x·eˣ before it (709), so f' was NaN from x = 709 on, where it is 1. There eˣ joins the exp of the
    product, e^(x − 2eˣ), which is 0; the form is proved."""
    fn = symact.custom(text)
    form = stable_form(fn)
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    xs = np.array([-30.0, -2.0, 0.0, 1.0, 5.9, 6.0, 100.0, 709.0, 710.0, 800.0, 1e4])  # (e^(1e300): no truth)
    for dtype in ("float64", "float32"):
        data = xs.astype(dtype)
        truth_y, truth_dy = reference(fn, data.astype(np.float64))
        y, dy = symact.compile(fn, backend=backend, dtype=dtype)(data)
        assert ulp_error(y, truth_y, dtype) <= 4 and ulp_error(dy, truth_dy, dtype) <= 4, dtype
        assert np.all(dy[-4:] == (1 if text.startswith("x") else 0)), dtype  # the limit beyond x = 709


@pytest.mark.parametrize("text", ["atan(exp(x))", "exp(x)/(1 + exp(2*x))"])
def test_an_exp_beside_a_sigmoid_joins_its_exp_where_that_is_subnormal(text):
    """eˣ·σ(−2x), the slope of atan(eˣ) (and sech(x)/2 itself): e^(−2x) is subnormal from x = 354 and 0 from 373,
    and eˣ overflows from 710, so it was 3.3·10⁹ ULP off at x = 365, 0 instead of e^(−x) from 373 and NaN from
    710. There it is e^(x − 2|x|)/(1 + e^(−2|x|)); the forms are proved."""
    fn = symact.custom(text)
    form = stable_form(fn)
    assert symact.prove(exact(form.f), fn.expr, timeout=60, suggest=False).status == "proved"
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    xs = np.r_[-800.0, -1.0, 0.0, 1.0, 40.0, 355.0, 365.0, 373.0, 500.0, 709.0, 710.0, 800.0, 1e4, points(200)]
    truth_y, truth_dy = reference(fn, xs)
    for backend in available_backends():  # the forms proved once, for every backend
        y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
        assert ulp_error(y, truth_y, np.float64) <= 4 and ulp_error(dy, truth_dy, np.float64) <= 4, backend


def test_an_exp_that_overflows_beside_a_sigmoid_product_joins_its_exp():
    """e^(2x)·σ(x)σ(−x) is e^(2x)·t/(1 + t)², t = e^(−|x|): e^(2x) overflows from x = 355, while the product is
    finite up to 709.8, so f and f' were inf from 355. Where e^v overflows (v > 709), e^v·t is e^(v − |u|), as
    where t is subnormal (|u| > 708); the forms are proved."""
    fn = symact.custom("exp(2*x)*sigmoid(x)*sigmoid(-x)")
    form = stable_form(fn)
    assert symact.prove(exact(form.f), fn.expr, timeout=60, suggest=False).status == "proved"
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    xs = np.array([-800.0, -400.0, -1.0, 0.0, 1.0, 40.0, 300.0, 355.0, 400.0, 700.0, 708.0, 709.5])
    truth_y, truth_dy = reference(fn, xs)
    for backend in available_backends():  # the forms proved once, for every backend
        y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy)), backend
        assert ulp_error(y, truth_y, np.float64) <= 4 and ulp_error(dy, truth_dy, np.float64) <= 4, backend


@pytest.mark.parametrize(
    "text",
    [
        "1/cosh(x)",
        "x/cosh(x)**2",
        "exp(2*x)/cosh(x)**2",
        "x*sinh(x)/cosh(x)**2",
        "cosh(x)/(1+cosh(x))",
        "x/(1+cosh(x))",
    ],
)
def test_a_division_by_cosh_does_not_overflow(text):
    """sech x = 1/cosh x has the slope −sinh x/cosh² x, which was inf/inf = NaN from |x| = 710; e^(2x)/cosh² x was
    NaN from x = 355 where it is 4, and the slope of x/cosh² x lost its term 1/cosh² x where that is subnormal
    (10^13 ULP at x = −356.5); cosh x/(1 + cosh x) was NaN from |x| = 710. Beyond where a factor overflows, a sum
    in the denominator is divided by its cosh, and the exps are joined into one, e^(v + Σk|u|), its argument's
    rounding carried; the forms are proved."""
    m = [1.0, 100.0, 240.0, 300.0, 356.483, 357.0, 400.0, 600.0, 712.9, 720.0, 800.0, 1e4]
    _proved_and_within_4_ulp(symact.custom(text), m)


@pytest.mark.parametrize("text", ["sinh(x)/x", "x*cosh(x) - sinh(x)"])
def test_cosh_and_sinh_overflow_only_where_the_function_does(text):
    """sinh x overflows from |x| = 710.5, sinh(x)/x only from 716.9: it was inf between; and its slope,
    cosh(x)/x − sinh(x)/x², was inf − inf = NaN from 711 on, where it is ±∞. Beyond |x| = 708, each product is
    one exp times cosh or sinh over its exp, scaled by e^−64 until last, and a sum of such terms that grow alike
    is one exp times the sum of the rest (a sum alone too: x·cosh x − sinh x); the forms are proved."""
    m = [1.0, 30.0, 300.0, 700.0, 709.5, 710.5, 712.0, 716.0, 716.5, 720.0, 800.0, 1e4]
    _proved_and_within_4_ulp(symact.custom(text), m)


@pytest.mark.parametrize("text", ["x/(exp(x) - 1)", "x**2*exp(x)/(exp(x) - 1)**2"])
def test_a_division_by_a_power_of_expm1_does_not_overflow(text):
    """The slope of x/(eˣ − 1), (expm1(x) − x·eˣ)/expm1(x)², was 0 from x = 355, where the square overflows, and NaN
    from 710, where it is about −x·e⁻ˣ: beyond, expm1(x) is eˣ·(1 − e⁻ˣ), its exp joined with the product's. The
    slope of x²eˣ/(eˣ − 1)² (written with sinh(x/2)) is a sum of terms that grow alike, one of them over sinh³:
    it is joined from |x| = 354, where that term's factors overflow, not from 708, where the other's do."""
    m = [1.0, 30.0, 300.0, 354.0, 356.0, 400.0, 480.0, 600.0, 700.0, 709.5, 712.0, 720.0, 745.0, 800.0, 1e4]
    _proved_and_within_4_ulp(symact.custom(text), m)


def _proved_and_within_4_ulp(fn, magnitudes: list[float]) -> None:
    """fn's stable f and f' proved equal to its definition and derivative, and every backend's kernel within 4 ULP
    of the truth at ±magnitudes and 0, in float64 and float32 (±inf only where the truth overflows the dtype)."""
    form = stable_form(fn)
    assert symact.prove(exact(form.f), fn.expr, timeout=60, suggest=False).status == "proved"
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    m = np.array(magnitudes)
    for dtype in ("float64", "float32"):
        xs = np.concatenate([-m, [0.0], m]).astype(dtype)
        truth_y, truth_dy = reference(fn, xs.astype(np.float64))
        for backend in available_backends():  # the forms proved once, for every backend
            y, dy = symact.compile(fn, backend=backend, dtype=dtype)(xs)
            assert ulp_error(y, truth_y, dtype) <= 4 and ulp_error(dy, truth_dy, dtype) <= 4, (backend, dtype)


@pytest.mark.parametrize(
    "text, name, params, c",
    [
        ("x*(1 + tanh(x))", "silu", {"beta": 2}, 2),
        ("2*x/(1 + exp(-x))", "silu", {"beta": 1}, 2),
        ("tanh(x)/2", "tanh", {}, sp.Rational(1, 2)),
        ("-x*sigmoid(x)", "silu", {"beta": 1}, -1),
    ],
)
def test_a_power_of_two_times_a_catalog_function_is_recognized(text, name, params, c):
    known, scale = catalog_multiple(symact.custom(text))
    assert known.name == name and scale == c
    assert {s.name: v for s, v in known.params.items()} == params


@pytest.mark.parametrize("text", ["3*tanh(x)", "x*exp(-x**2)", "x*sigmoid(x)"])
def test_other_multiples_are_not_taken(text):
    """3·tanh would round its product (not a power of two); x·σ(x) is SiLU itself (catalog_equivalent's)."""
    assert catalog_multiple(symact.custom(text)) is None


def test_a_multiple_of_a_catalog_function_takes_its_kernel():
    """x·(1 + tanh x) = 2·SiLU(x; β = 2): its own form's slope was 4.53 ULP off at x = −3.756, where the
    roundings of its factors add up; SiLU's kernel times 2 (exact) is as accurate as SiLU's."""
    _proved_and_within_4_ulp(symact.custom("x*(1 + tanh(x))"), [0.5, 1.2785, 2.0, 3.756, 20.0, 700.0, 1e4])


@pytest.mark.parametrize("text", ["exp(-exp(-x))", "exp(-2*exp(-3*x))", "x*exp(-exp(x))"])
def test_an_exp_of_exps_carries_its_argument_and_joins_the_products_exps(text):
    """The Gumbel CDF exp(−e^(−x)) was 465 ULP off at x = −6.5, and its slope exp(−x − e^(−x)) 590 at −6.4: e^w's
    relative error is |w| times w's absolute error, and w is a rounded e^(−x), up to 745. w is now carried as
    hi + lo, with each e^u's own error from a double-double exp (exp_err), and e^hi·(1 + lo). A product of it with
    other exps is one exp: the slope of exp(−2e^(−3x)), 6e^(−3x)·exp(−2e^(−3x)), was inf·0 = NaN for x < −236, and
    that of x·exp(−eˣ), (1 − x·eˣ)·exp(−eˣ), NaN from x = 710 (distributed: exp(−eˣ) − x·exp(x − eˣ))."""
    fn = symact.custom(text)
    _proved_and_within_4_ulp(fn, [0.5, 2.0, 3.23, 6.408, 6.516, 8.0, 20.0, 240.0, 700.0, 720.0, 931.77, 1e4])


@pytest.mark.parametrize(
    "text",
    [
        "sqrt(1+exp(x))",
        "1/sqrt(1+exp(x))",
        "x/sqrt(1+exp(-x))",
        "exp(x)/sqrt(1+exp(2*x))",
        "sqrt(exp(x)+exp(-x))",
        "(1+exp(x))**(1/3)",
    ],
)
def test_a_fractional_power_of_a_sum_of_exps_does_not_overflow(text):
    """√(1 + eˣ) was inf from x = 710, where it is e^(x/2)·√(1 + e^(−x)); 1/√(1 + eˣ) 0 there, e^x/√(1 + e^(2x))
    inf/inf = NaN (it is 1), and (1 + eˣ)^(1/3) 90 ULP off at x = 646 (pow's rounded 1/3, amplified by log A).
    Beyond where an exp overflows, or from |x| = 1 for a power that rounds, the largest exp is taken out of the sum
    and joined with the product's other exps; the forms are proved, and the results are ±inf only where the
    truth overflows the dtype."""
    m = [1.0, 3.0, 100.0, 300.0, 400.0, 646.25, 700.0, 712.9, 720.0, 800.0, 931.77, 1200.0]
    _proved_and_within_4_ulp(symact.custom(text), m)


@pytest.mark.parametrize("text", ["(x**2 + 4)*sigmoid(x)", "16*sigmoid(x)*sigmoid(-x)", "exp(2*x)/cosh(x)**2"])
def test_a_sigmoid_times_a_large_factor_is_scaled_where_its_exp_is_subnormal(text):
    """(x² + 4)σ(x) at x = −721.5 is normal, but σ(x) = eˣ/(1 + eˣ) is subnormal there, with fewer digits: 2.3·10⁵
    ULP off (x²σ(x) too; x³σ(x)σ(−x) 1.8·10⁸ at −727.5), and the slope of e^(2x)/cosh² x, 16σ(2x)·e^(−2|x|)/(1 +
    e^(−2|x|))², 7.0 at 355.4. Where the exp is subnormal, the product is computed with e^(v + 64) and scaled by
    e^−64 last. (x² + 4)σ(x) and its slope have no root, whose windows a search would take 14 s for."""
    m = [1.0, 300.0, 355.4, 700.0, 705.0, 709.543, 710.57, 710.9, 714.64, 718.087, 721.533, 727.51, 740.0]
    _proved_and_within_4_ulp(symact.custom(text), m)


@pytest.mark.parametrize("backend", available_backends())
def test_a_float32_kernel_does_not_clamp_a_users_exps(backend):
    """The float32 C kernels computed in double clamp their exps at e^-708 (harmless in the catalog's forms), which
    made two underflowing exps equal: the slope of √(1 + e^(2x)) − eˣ, −e^(2x)/((√(1 + e^(2x))·eˣ + e^(2x))·√(1 +
    e^(2x))) as derived, was −c/(2c) = −0.5 at x = −883, where it is −e^(−883), 0 in float32."""
    fn = symact.custom("sqrt(1+exp(2*x))-exp(x)")
    xs = np.array([-883.205078125, -800.0, -720.0, -400.0, -20.0], dtype=np.float32)
    truth_y, truth_dy = reference(fn, xs.astype(np.float64))
    y, dy = symact.compile(fn, backend=backend, dtype="float32")(xs)
    assert ulp_error(y, truth_y, np.float32) <= 4 and ulp_error(dy, truth_dy, np.float32) <= 4


@pytest.mark.parametrize("backend", available_backends())
def test_a_complement_inside_a_longer_sum_is_summed_first(backend):
    """The slope of tanh(x)/x is (1 − tanh² x − tanh(x)/x)/x: summed from the left, 1 − tanh(x)/x rounds and
    tanh² x then cancels it (580 ULP at x = 751); 4σ(2x)σ(−2x) − tanh(x)/x does not."""
    fn = symact.custom("tanh(x)/x")
    xs = np.array([30.0, 300.0, 751.0, 1e4, -30.0, -751.0])
    _, truth_dy = reference(fn, xs)
    _, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
    assert ulp_error(dy, truth_dy, np.float64) <= 4


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("text", CANCELLING)
def test_sums_that_cancel_as_written_compile_to_accurate_kernels(text, backend):
    fn = symact.custom(text)
    form = stable_form(fn)
    verdict = symact.prove(exact(form.f), fn.expr, timeout=60, suggest=False)
    if verdict.status != "proved":  # log cosh's through exp, which is one-to-one on ℝ (as for EXP_FORMS)
        verdict = symact.prove(sp.exp(exact(form.f)), sp.exp(fn.expr), timeout=60, suggest=False)
    assert verdict.status == "proved"
    assert symact.prove(exact(form.df), fn.derivative(), timeout=60, suggest=False).status == "proved"
    xs = np.r_[-1e4, -800.0, -40.0, -19.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 19.0, 40.0, 800.0, 1e4, points(1000)]
    xs = np.r_[xs, np.linspace(-12, 12, 1001)]
    truth_y, truth_dy = reference(fn, xs)
    y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
    assert ulp_error(y, truth_y, np.float64) <= 4
    assert ulp_error(dy, truth_dy, np.float64) <= 4


#: Catalog functions as users write them out, and the catalog function and parameter values they are: the
#: parameter read from the text's structure (x·σ(1.702x)) or fitted at sample points (0.5·(eˣ − 1), which SymPy
#: writes 0.5·eˣ − 0.5), and the first in catalog order where several fit (max(x, 0) is ReLU and SELU with α = 0).
WRITTEN_OUT = [
    ("x/(1 + exp(-x))", "silu", {"beta": 1}),
    ("x/(1 + exp(-1.702*x))", "silu", {"beta": sp.Rational(851, 500)}),
    ("x*(1 + erf(x/sqrt(2)))/2", "gelu", {}),
    ("x*tanh(log(1 + exp(x)))", "mish", {}),
    ("(exp(x) - exp(-x))/(exp(x) + exp(-x))", "tanh", {}),
    ("log(1 + exp(2*x))/2", "softplus", {"beta": 2}),
    ("where(x > 0, x, 0.5*(exp(x) - 1))", "elu", {"alpha": sp.Rational(1, 2)}),
    ("where(x > 0, x, 2*(exp(x/2) - 1))", "celu", {"alpha": 2}),
    ("max(x, 0)", "relu", {}),
]


@pytest.mark.parametrize("text, name, params", WRITTEN_OUT, ids=[t for t, _, _ in WRITTEN_OUT])
def test_catalog_functions_written_out_are_recognized(text, name, params):
    known = catalog_equivalent(symact.custom(text))
    assert known is not None and known.name == name
    assert {s.name: v for s, v in known.params.items()} == {
        p.name: params.get(p.name, p.default) for p in known.entry.params
    }


@pytest.mark.parametrize(
    "fn",
    [
        symact.custom("2*x/(1 + exp(-x))"),  # twice SiLU: no catalog function
        symact.custom("x*exp(-x**2)"),
        symact.custom("x/(x + 1.4142)"),  # a pole at a sample point
        symact.custom("x*sigmoid(b*x)", params={"b": 1}),  # parameters: the kernel reads them at run time
        symact.activation("silu"),  # the catalog's own
    ],
    ids=["twice-silu", "no-match", "pole", "parameters", "catalog"],
)
def test_other_functions_are_not_recognized(fn):
    assert catalog_equivalent(fn) is None


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize(
    "text, name, root",
    [
        ("x/(1 + exp(-x))", "silu", -1.2785),
        ("x*(1 + erf(x/sqrt(2)))/2", "gelu", -0.7518),
        ("x*tanh(log(1 + exp(x)))", "mish", -1.1924),
    ],
)
def test_catalog_functions_written_out_get_the_catalog_kernel(text, name, root, backend):
    """Near the root of f', where the forms of the text alone cancel (in float64, SiLU written with exp was
    18814 ULP off, GELU with erf 8140 and Mish 2012), the kernel is the catalog's: within 4 ULP."""
    for dtype in ("float64", "float32"):
        y, dy = symact.compile(symact.custom(text), backend=backend, dtype=dtype)(_near(root, dtype))
        truth_y, truth_dy = _catalog_truth(name, root, dtype)
        assert ulp_error(y, truth_y, np.dtype(dtype).type) <= 4
        assert ulp_error(dy, truth_dy, np.dtype(dtype).type) <= 4


def _near(root: float, dtype: str) -> np.ndarray:
    return np.r_[root + np.linspace(-0.05, 0.05, 201), points(100)].astype(dtype)


@functools.cache
def _catalog_truth(name: str, root: float, dtype: str):
    """The catalog function's truth at the test's points, once for every backend."""
    return reference(symact.activation(name), _near(root, dtype).astype(np.float64))


def test_a_loss_written_by_hand_gets_log1p_where_log_would_round_to_zero():
    """BCE typed out, −(y·log ŷ + (1 − y)·log(1 − ŷ)), was 0 at ŷ = 10⁻²⁰, y = 0: log(1 − 10⁻²⁰) rounds to log 1.
    log(1 + u) is log1p(u) now, and the loss is 10⁻²⁰, as the catalog's BCE gives."""
    fn = symact.custom("-(y*log(yhat) + (1 - y)*log(1 - yhat))", kind="loss")
    pred, target = np.array([1e-20, 0.5]), np.array([0.0, 0.0])
    loss, _ = symact.compile(fn, dtype="float64").elementwise(pred, target)
    want, _ = symact.compile("bce", dtype="float64").elementwise(pred, target)
    np.testing.assert_allclose(loss, want, rtol=1e-15)
    assert loss[0] == pytest.approx(1e-20, rel=1e-15)


@pytest.mark.parametrize("backend", available_backends())
def test_a_function_not_real_everywhere_compiles_with_nan_where_it_is_not(backend):
    """√x and log x compiled, and codegen, stopped with "TypeError: Cannot convert complex to float": the limit
    of √x at −∞ is ∞·i. At −inf f and f′ are NaN now, as for every x < 0 (SymPy's limit of 1/(2√x) there, 0,
    is taken through imaginary values, and log x's, +∞, likewise). At ±0, √x is +0 and its slope +inf on every
    backend, as pow reads −0 (NumPy's and numba's sqrt(−0) is −0, and the slope 1/(2√x) was −inf there)."""
    xs = np.array([-1.0, 4.0, np.inf, -np.inf, -0.0, 0.0])
    y, dy = symact.compile(symact.custom("sqrt(x)"), backend=backend, dtype="float64")(xs)
    np.testing.assert_array_equal(y, [np.nan, 2.0, np.inf, np.nan, 0.0, 0.0])
    np.testing.assert_array_equal(dy, [np.nan, 0.25, 0.0, np.nan, np.inf, np.inf])
    assert not np.signbit(y[4:]).any()
    xs = xs[:4]
    y, dy = symact.compile(symact.custom("log(x)"), backend=backend, dtype="float64")(xs)
    np.testing.assert_array_equal(y, [np.nan, np.log(4.0), np.inf, np.nan])
    np.testing.assert_array_equal(dy, [-1.0, 0.25, 0.0, 0.0])  # 1/x is real for x < 0: its limit 0 stands


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_half_integer_powers_are_vectorized_and_as_accurate_as_pow(dtype):
    """The slope of asinh x, (1 + x²)^(−1/2), was printed as pow(), a scalar call that kept gcc from vectorizing
    the loop (150 → 30 ms for 10^7 float64 points): it is 1/√b refined by a Newton step now (symact_rsqrt), within
    about half an ULP as pow is (1.15 ULP for f′ either way); b^(3/2) is b·√b and b^(−3/2) symact_rsqrt(b)/b. Edge
    values are pow's: (±0)^(−1/2) = +inf and (−0)^(1/2) = +0 (the sign of the function beside 0),
    NaN below 0, as in NumPy's and numba's kernels (sqrt(b + 0.0))."""
    fn = symact.custom("asinh(x)")
    kernel = symact.compile(fn, backend="c", dtype=dtype)
    assert "pow(" not in kernel.source and "symact_rsqrt" in kernel.source
    xs = points(4000)
    xs = xs[np.isfinite(xs)].astype(dtype)
    truth_y, truth_dy = reference(fn, xs.astype(np.float64))
    y, dy = kernel(xs)
    assert ulp_error(y, truth_y, dtype) <= 1.5 and ulp_error(dy, truth_dy, dtype) <= 1.5
    x = np.array([0.0, -0.0, 4.0, 0.25, 16.0, -1.0, np.nan], dtype=dtype)  # exact powers (±inf: the limits)
    with np.errstate(divide="ignore", invalid="ignore"):
        for text, p in (("1/sqrt(x)", -0.5), ("x**(3/2)", 1.5), ("x**(-3/2)", -1.5)):
            got = symact.compile(symact.custom(text), backend="c", dtype=dtype)(x)
            at = x + 0  # −0 read as +0, as C's pow reads it (NumPy's power reads it as −0 for p = 1/2, as sqrt)
            for g, want in zip(got, (np.power(at, p), p * np.power(at, p - 1))):
                np.testing.assert_array_equal(g, want, err_msg=text)
                assert np.array_equal(np.signbit(g), np.signbit(want)), text


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler")
def test_cosh_and_sinh_are_vectorized_helpers_about_as_accurate_as_libm():
    """cosh and sinh were libm's scalar calls, which kept gcc from vectorizing the whole loop; the float64 C
    kernels compute them inline now (symact.rounding.hyperbolic_helpers): within 1.2 ULP on the protocol's
    points (libm's: 0.99 and 1.39 here), overflowing where cosh and sinh do (710.48), not where e^|x| does."""
    xs = points(4000)
    xs = xs[np.isfinite(xs)]
    for text, libm in (("cosh(x)", np.cosh), ("sinh(x)", np.sinh)):
        fn = symact.custom(text)
        kernel = symact.compile(fn, backend="c", dtype="float64")
        assert re.search(r"\b(cosh|sinh)\(", kernel.source) is None and f"symact_{text}" in kernel.source
        truth_y, truth_dy = reference(fn, xs)
        y, dy = kernel(xs)
        assert ulp_error(y, truth_y, np.float64) <= 1.25 and ulp_error(dy, truth_dy, np.float64) <= 1.25, text
        edges = np.array([0.0, -0.0, 1.0, -1.0, 710.4758600739439, -710.476, 5e-324, -1e-310])
        with np.errstate(over="ignore"):
            want = libm(edges)
        got, _ = kernel(edges)
        assert np.array_equal(np.isinf(got), np.isinf(want)) and np.array_equal(np.signbit(got), np.signbit(want))
        np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=4e-16, atol=0)


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler")
def test_atan_is_a_vectorized_helper_within_an_ulp():
    """atan was libm's scalar call, which kept gcc from vectorizing the whole loop; the float64 C kernels compute
    it inline now (fdlibm's algorithm without its branches, symact.rounding.atan_helper): within 0.75 ULP on the
    protocol's points (libm's: 0.50), and ±π/2 at ±inf, x's sign kept at ±0."""
    fn = symact.custom("atan(x)")
    kernel = symact.compile(fn, backend="c", dtype="float64")
    assert re.search(r"\batan\(", kernel.source) is None and "symact_atan(x)" in kernel.source
    xs = points(4000)
    xs = xs[np.isfinite(xs)]
    truth_y, truth_dy = reference(fn, xs)
    y, dy = kernel(xs)
    assert ulp_error(y, truth_y, np.float64) <= 0.8 and ulp_error(dy, truth_dy, np.float64) <= 2
    edges = np.array([0.0, -0.0, 5e-324, -1e-310, 0.4375, 2.4375, -1e300, np.inf, -np.inf, np.nan])
    got, _ = kernel(edges)
    want = np.arctan(edges)
    assert np.array_equal(np.signbit(got), np.signbit(want)) and np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=2.3e-16, atol=0)


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler")
def test_sin_and_cos_are_vectorized_helpers_within_an_ulp_and_libm_beyond_their_range():
    """sin and cos were libm's scalar calls, which kept gcc from vectorizing the whole loop; the float64 C kernels
    compute them inline now (fdlibm's kernels after an exact Cody–Waite reduction, symact.rounding.trig_helpers):
    within 0.75 ULP on the protocol's points and at multiples of π/2 up to 10^6 and their neighbours, where the
    reduced argument is smallest (libm's: 0.51). An array with an argument beyond TRIG_RANGE, where the reduction
    is no longer exact, is computed with libm's, and gives its values; ±0 keep their sign, ±inf and NaN give NaN."""
    import math

    import mpmath

    rng = np.random.default_rng(3)
    with mpmath.workdps(40):
        near = np.array([float(k * mpmath.pi / 2) for k in rng.integers(1, 600_000, 300)])
    xs = points(2000)
    xs = np.concatenate([xs[np.isfinite(xs)], near, np.nextafter(near, np.inf), -np.nextafter(near, 0)])
    for text, f, df in (("sin(x)", math.sin, math.cos), ("cos(x)", math.cos, lambda v: -math.sin(v))):
        fn = symact.custom(text)
        kernel = symact.compile(fn, backend="c", dtype="float64")
        assert f"symact_{text}" in kernel.source and "_trig_beyond(X, n)" in kernel.source
        truth_y, truth_dy = reference(fn, xs)
        y, dy = kernel(xs)
        assert ulp_error(y, truth_y, np.float64) <= 0.75 and ulp_error(dy, truth_dy, np.float64) <= 0.75, text
        beyond = np.array([0.5, 2.0**20 + 1.0, -1e7, 123456789.123, 1e300, -1e300])
        got, dgot = kernel(beyond)
        np.testing.assert_allclose(got, [f(v) for v in beyond], rtol=2.3e-16, atol=0, err_msg=text)
        np.testing.assert_allclose(dgot, [df(v) for v in beyond], rtol=2.3e-16, atol=0, err_msg=text)
    edges = np.array([0.0, -0.0, 5e-324, -1e-310, np.inf, -np.inf, np.nan])
    got, dgot = symact.compile(symact.custom("sin(x)"), backend="c", dtype="float64")(edges)
    with np.errstate(invalid="ignore"):
        want = np.sin(edges)
    assert np.array_equal(np.signbit(got[:4]), np.signbit(want[:4])) and np.all(np.isnan(got[4:]))
    np.testing.assert_array_equal(got[:4], want[:4])
    np.testing.assert_array_equal(dgot[:4], 1.0)


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler")
def test_float32_kernels_with_a_helper_compute_in_double():
    """A float32 kernel computing in float calls libm's scalar sinf, coshf or atanf, which keep the loop scalar;
    in double it calls symact's vectorized helpers (sin x: 41 → 10 ms over 10^7 points), and rounds correctly."""
    xs = points(2000).astype(np.float32)
    xs = xs[np.isfinite(xs)]
    for text in ("sin(x)", "cosh(x)", "atan(x)"):
        fn = symact.custom(text)
        kernel = symact.compile(fn, backend="c", dtype="float32")
        assert kernel._impl.compute == "double" and f"symact_{text}" in kernel.source, text
        truth_y, truth_dy = reference(fn, xs.astype(np.float64))
        y, dy = kernel(xs)
        assert ulp_error(y, truth_y, np.float32) <= 0.5 and ulp_error(dy, truth_dy, np.float32) <= 0.5, text


@pytest.mark.skipif("c" not in available_backends(), reason="no C compiler here")
@pytest.mark.parametrize(
    "name, expr", [("near_xsech", "x/cosh(x)"), ("near_sinhc", "sinh(x)/x"), ("near_softplus", "log(1 + exp(x))")]
)
def test_user_kernels_take_the_same_values_through_their_near_forms(name, expr):
    """A user's C kernel, as the catalog's (tests/test_kernels.py), takes a block within reach through its near
    forms (x/cosh x and sinh(x)/x leave out their overflow cases within 708) and one with an input beyond (a NaN
    at its start here) through its forms: the other elements are the same, to the bit."""
    from symact.compile.forms import kernel_forms
    from symact.compile.near import near_forms

    fn = symact.define(name, expr)
    reach = near_forms(kernel_forms(fn, "float64", fused=True))[0]
    assert reach < np.inf
    kernel = symact.compile(fn, backend="c", dtype="float64")
    x = np.concatenate([np.linspace(-40, 40, 20_000), np.random.default_rng(2).uniform(-reach, reach, 20_000)])
    assert_same_through_near_forms(kernel, x)

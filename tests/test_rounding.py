"""The rounding atoms of compensated forms: their exact reading, their literals and their printed helpers."""

import ctypes
import math
import re
import shutil
import subprocess

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from symact.compile.c import _Printer, _ulp_apart, error_helpers
from symact.compile.forms import kernel_forms
from symact.fn import function
from symact.minimax import EXPM1, EXPM1_FLOAT, EXPM1_FLOAT_TARGET, EXPM1_TARGET, expm1_error_bound, fit_expm1
from symact.rounding import (
    EXP_ERR_BOUND,
    LOG1P_DOUBLE_TARGET,
    LOG1P_UNIT_SPAN,
    REDUCED_SPAN,
    _reduced,
    exact,
    exp_err,
    exp_err_helper,
    exp_f32,
    exp_f32_short,
    exp_float,
    exp_float_frac,
    exp_float_scale,
    exp_helpers,
    exp_tail,
    exp_tail_helper,
    expm1_f32,
    expm1_f32_short,
    expm1_float,
    expm1_small,
    float_exp_call,
    float_exp_helpers,
    held,
    lit,
    literal,
    lo,
    log1p_float,
    log1p_float_call,
    log1p_float_helper,
    log1p_unit_helper,
    machine,
    prod_err,
    python_exp_err,
    python_helpers,
    ratio,
    reduced_exp,
    reduced_helpers,
    sum_err,
    vanishing,
)

x, y = sp.symbols("x y", real=True)


def test_exact_reading_sets_errors_to_zero_and_literals_to_their_constants():
    c = 1 / sp.sqrt(2)
    form = lit(c) * x + prod_err(lit(c), x) + lo(c) * x + sum_err(x, y) + ratio(held(x - y), 2)
    assert sp.simplify(exact(form) - (x / sp.sqrt(2) + (x - y) / 2)) == 0


def test_products_with_powers_of_two_have_no_rounding_error():
    assert prod_err(sp.Rational(1, 4), x) == 0 and prod_err(x, -2) == 0 and prod_err(1, x) == 0
    assert prod_err(3, x) != 0 and prod_err(sp.Rational(3, 4), x) != 0


def test_a_literal_and_its_low_part_sum_to_the_constant():
    for c in (1 / sp.sqrt(2), 2 * sp.sqrt(2 / sp.pi), sp.exp(-64)):
        hi, low = literal(lit(c)), literal(lo(c))
        with mpmath.workdps(60):
            exact_c = mpmath.mpf(sp.N(c, 60))
            assert hi == float(exact_c)  # the nearest double
            assert abs(mpmath.mpf(hi) + mpmath.mpf(low) - exact_c) < abs(exact_c) * mpmath.mpf(2) ** -104
    single = literal(lit(1 / sp.sqrt(2)), single=True)
    assert single == float(np.float32(1 / np.sqrt(2)))


def test_the_low_part_of_a_float32_constant_is_zero_and_of_others_is_kept():
    """lo(β) joins SiLU's ul: 0 where the value is exact in float32 (so the default kernels are unchanged),
    kept for 1.702 = 851/500, and unevaluated for a parameter symbol until its value is bound."""
    for c in (1, -1, 0, sp.Rational(109, 64), sp.Rational(77, 256), sp.Rational(3, 2**130) * 2**10):
        assert lo(c) == 0, c
    for c in (sp.Rational(851, 500), sp.Rational(1, 3), sp.Rational(2**24 + 1, 2**24), sp.Rational(1, 2**140)):
        assert isinstance(lo(c), lo), c
    beta = sp.Symbol("beta", positive=True)
    assert isinstance(lo(beta), lo) and lo(beta).subs(beta, 1) == 0


def test_c_prints_a_negative_literal_after_a_minus_sign_as_a_negation():
    printer = _Printer({})
    assert "--" not in printer.doprint(-lit(sp.Rational(-3, 7)))  # C reads --0.43 as a decrement
    assert "--" not in printer.doprint(x - lit(sp.Rational(-3, 7)))


@pytest.fixture(scope="module")
def helpers():
    namespace = {"numpy": np}
    exec(python_helpers("p.dtype == numpy.float64"), namespace)  # one namespace: _fma calls _sum_err
    return namespace


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_python_helpers_give_exact_rounding_errors(helpers, dtype):
    rng = np.random.default_rng(0)
    a = (rng.uniform(-40, 40, 2000)).astype(dtype)
    b = (rng.uniform(-3, 3, 2000) * 10.0 ** rng.integers(-5, 5, 2000)).astype(dtype)
    got_p, got_s = helpers["_prod_err"](a, b), helpers["_sum_err"](a, b)
    with mpmath.workdps(60):
        for i in range(0, 2000, 7):
            ai, bi = mpmath.mpf(float(a[i])), mpmath.mpf(float(b[i]))
            assert mpmath.mpf(float(a[i] * b[i])) + mpmath.mpf(float(got_p[i])) == ai * bi
            assert mpmath.mpf(float(a[i] + b[i])) + mpmath.mpf(float(got_s[i])) == ai + bi


def _compiled_run(tmp_path, source: str):
    """``run`` from ``source``, compiled as the kernels are: -O3, native, no fp contraction."""
    src, lib = tmp_path / "t.c", tmp_path / "t.so"
    src.write_text(source)
    subprocess.run(
        ["gcc", "-O3", "-march=native", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib), "-lm"],
        check=True,
    )
    return ctypes.CDLL(str(lib)).run


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_helpers_give_exact_rounding_errors(tmp_path):
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n"
        + error_helpers("double")
        + "void run(const double *a, const double *b, double *p, double *s, int n) {\n"
        "  for (int i = 0; i < n; ++i) { p[i] = symact_prod_err(a[i], b[i]); s[i] = symact_sum_err(a[i], b[i]); }\n"
        "}\n",
    )
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-40, 40, 500), rng.uniform(-1, 1, 500) * 1e3
    p, s = np.empty(500), np.empty(500)
    ptr = ctypes.POINTER(ctypes.c_double)
    run(*(v.ctypes.data_as(ptr) for v in (a, b, p, s)), ctypes.c_int(500))
    with mpmath.workdps(60):
        for i in range(500):
            ai, bi = mpmath.mpf(a[i]), mpmath.mpf(b[i])
            assert mpmath.mpf(a[i] * b[i]) + mpmath.mpf(p[i]) == ai * bi
            assert mpmath.mpf(a[i] + b[i]) + mpmath.mpf(s[i]) == ai + bi


@pytest.mark.parametrize("span", [0.15, 0.5, 1.3])
def test_expm1_polynomial_meets_its_proved_bound(span):
    """The Taylor polynomial behind expm1_small is within its bound of expm1 at 60 digits, and the bound
    itself is below 2^-60 (the degree is chosen for it)."""
    t = sp.Symbol("t", real=True)
    atom = expm1_small(t, span)
    n = expm1_small.degree(span)
    assert expm1_small.bound(span, n) <= 2.0**-60 < expm1_small.bound(span, n - 1)
    poly = sp.lambdify(t, exact(machine(atom)), "mpmath")
    with mpmath.workdps(60):
        for v in np.linspace(-span, span, 101):
            if v == 0:
                continue
            want = mpmath.expm1(mpmath.mpf(v))
            assert abs(poly(mpmath.mpf(v)) - want) <= 2.0**-60 * abs(want)


def test_float64_exp_polynomial_is_the_fit_and_meets_its_proved_bound_which_one_degree_less_does_not():
    """The C helpers' expm1(r) polynomial is what fit_expm1 makes (so it can be regenerated), its proved error is
    within EXPM1_TARGET, the fit of one degree less is not, and the bound is not vacuous: it exceeds the error
    sampled at 60 digits, and the Taylor polynomial of degree 12 fails it."""
    assert fit_expm1(REDUCED_SPAN, 12) == EXPM1
    bound = expm1_error_bound(EXPM1, REDUCED_SPAN)
    assert bound <= EXPM1_TARGET < expm1_error_bound(fit_expm1(REDUCED_SPAN, 11), REDUCED_SPAN)
    taylor = [1 / math.factorial(k) for k in range(2, 13)]
    assert expm1_error_bound(taylor, REDUCED_SPAN) > EXPM1_TARGET
    with mpmath.workdps(60):
        sampled = max(
            abs((r + r**2 * sum(mpmath.mpf(c) * r**k for k, c in enumerate(EXPM1))) / mpmath.expm1(r) - 1)
            for r in (mpmath.mpf(v) for v in np.linspace(-REDUCED_SPAN, REDUCED_SPAN, 400) if v != 0)
        )
    assert bound / 8 < sampled <= bound


def test_python_fma_is_within_an_ulp_of_the_exact_result(helpers):
    rng = np.random.default_rng(2)
    a, b, c = rng.uniform(-2, 2, 3000), rng.uniform(-2, 2, 3000), rng.uniform(-2, 2, 3000)
    got = helpers["_fma"](a, b, c)
    with mpmath.workdps(60):
        for i in range(0, 3000, 3):
            want = mpmath.mpf(a[i]) * mpmath.mpf(b[i]) + mpmath.mpf(c[i])
            if want != 0:
                assert abs(mpmath.mpf(got[i]) - want) <= abs(want) * 2.0**-52


def test_reduced_exp_reads_exactly_as_exp_and_knows_nonpositive_arguments():
    form = reduced_exp(sp.exp(-sp.Abs(x)) + sp.Function("expm1")(x))  # a plain Function is left alone
    assert form.has(exp_f32) and exact(form) == sp.exp(-sp.Abs(x)) + sp.Function("expm1")(x)
    assert reduced_exp(sp.exp(-sp.Abs(x))).args[1] == 1 and reduced_exp(sp.exp(x)).args[1] == 0
    assert reduced_exp(lit(sp.exp(-1)) * sp.exp(x)) == lit(sp.exp(-1)) * exp_f32(x, 0)  # a literal is a constant


@pytest.mark.parametrize(
    ("atom", "target"),
    [(exp_f32, 2.0**-40), (expm1_f32, 2.0**-40), (exp_f32_short, 2.0**-29), (expm1_f32_short, 2.0**-29)],
)
def test_reduced_exp_degree_is_the_least_that_meets_the_proved_bound(atom, target):
    n = atom.degree()
    assert expm1_small.bound(_reduced.SPAN, n) <= target < expm1_small.bound(_reduced.SPAN, n - 1)
    assert type(exact(atom(x, 0))).__name__ == atom.library and exact(atom(x, 0)).args == (x,)
    # |r| ≤ ln 2/2, plus the rounding of t·(1/ln 2) and of k·ln 2 for |t| ≤ 709, fits in SPAN
    assert float(mpmath.log(2)) / 2 * (1 + 709 * 2.0**-51) < _reduced.SPAN


def test_float32_kernels_use_the_reduced_exp_and_float64_kernels_do_not():
    assert kernel_forms(function("tanh"), "float32").df.has(exp_f32_short, expm1_f32_short)  # its own form
    assert kernel_forms(function("elu"), "float32").df.has(exp_f32)  # the shared form, exp replaced
    forms = kernel_forms(function("tanh"), "float64")
    assert not any(e.has(exp_f32, expm1_f32) for _, e in forms.assignments)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_reduced_exp_is_within_2_to_the_minus_39_and_clamps_outside_double_range(tmp_path):  # short: 2^-28
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + reduced_helpers()
        + "void run(const double *t, double *e, double *m, double *en, double *mn, double *s, double *sm, int n) {\n"
        "  for (int i = 0; i < n; ++i) {\n"
        "    e[i] = symact_exp_f32(t[i]); m[i] = symact_expm1_f32(t[i]);\n"
        "    en[i] = symact_exp_f32_neg(-fabs(t[i])); mn[i] = symact_expm1_f32_neg(-fabs(t[i]));\n"
        "    s[i] = symact_exp_f32_short_neg(-fabs(t[i])); sm[i] = symact_expm1_f32_short_neg(-fabs(t[i]));\n"
        "  }\n}\n",
    )
    rng = np.random.default_rng(3)
    t = np.concatenate(
        [
            rng.uniform(-708, 708, 3000),
            [708.0, -708.0],
            rng.uniform(-1, 1, 1000) * 10.0 ** rng.uniform(-12, 0, 1000),
            [0.0, -0.0],
        ]
    )
    out = [np.empty_like(t) for _ in range(6)]
    ptr = ctypes.POINTER(ctypes.c_double)
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    e, m, en, mn, short, short_m1 = out
    with mpmath.workdps(40):
        for i in range(t.size):
            v = mpmath.mpf(t[i])
            for got, want, bound in (
                (e[i], mpmath.exp(v), 2.0**-39),
                (m[i], mpmath.expm1(v), 2.0**-39),
                (en[i], mpmath.exp(-abs(v)), 2.0**-39),
                (mn[i], mpmath.expm1(-abs(v)), 2.0**-39),
                (short[i], mpmath.exp(-abs(v)), 2.0**-28),
                (short_m1[i], mpmath.expm1(-abs(v)), 2.0**-28),
            ):
                assert abs(mpmath.mpf(got) - want) <= bound * abs(want)
    # outside [-708, 709]: values no float32 result can tell from the true ones (docstring of _reduced)
    t = np.array([-800.0, -np.inf, 800.0, np.inf, np.nan])
    out = [np.empty_like(t) for _ in range(6)]
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    e, m, en, mn, short, short_m1 = out
    assert np.all((0 < e[:2]) & (e[:2] < 4e-308)) and np.all(m[:2] == -1) and np.all(e[2:4] > 8e307)
    assert np.all((0 < en[:4]) & (en[:4] < 4e-308)) and np.all(mn[:4] == -1)
    assert np.all((0 < short[:4]) & (short[:4] < 4e-308)) and np.all(short_m1[:4] == -1)
    assert (
        np.isnan(e[4])
        and np.isnan(m[4])
        and np.isnan(en[4])
        and np.isnan(mn[4])
        and np.isnan(short[4])
        and np.isnan(short_m1[4])
    )


def _ulps(got: float, want) -> float:
    """|got − want| in ULPs of want (a double's spacing at want), or, where want is subnormal, in units of
    the smallest subnormal."""
    e = max(int(mpmath.floor(mpmath.log(abs(want), 2))), -1022) if want != 0 else -1022
    return float(abs(mpmath.mpf(got) - want) / mpmath.mpf(2) ** (e - 52))


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_float64_exp_and_expm1_are_within_one_and_two_ulps_over_the_whole_range(tmp_path):
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + exp_helpers()
        + "void run(const double *t, double *e, double *m, double *en, double *mn, int n) {\n"
        "  for (int i = 0; i < n; ++i) {\n"
        "    e[i] = symact_exp(t[i]); m[i] = symact_expm1(t[i]);\n"
        "    const double b = t[i] <= 708.0 ? t[i] : -t[i];  /* the _neg helpers hold for t <= 708 */\n"
        "    en[i] = symact_exp_neg(b); mn[i] = symact_expm1_neg(b);\n"
        "  }\n}\n",
    )
    rng = np.random.default_rng(5)
    t = np.concatenate(
        [
            rng.uniform(-745, 709.78, 3000),  # subnormal results below -708.4
            rng.uniform(-1, 1, 1000) * 10.0 ** rng.uniform(-12, 0, 1000),
            rng.uniform(0.3, 0.4, 500),  # where q's roundings weigh most (k = 1)
            [708.0, -708.0, 709.7, -745.0, 0.0, -0.0, 5e-324],
        ]
    )
    out = [np.empty_like(t) for _ in range(4)]
    ptr = ctypes.POINTER(ctypes.c_double)
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    worst = [0.0] * 4
    with mpmath.workdps(40):
        for i in range(t.size):
            v = mpmath.mpf(t[i])
            b = v if v <= 708 else -v
            wants = (mpmath.exp(v), mpmath.expm1(v), mpmath.exp(b), mpmath.expm1(b))
            worst = [max(w, _ulps(o[i], want)) for w, o, want in zip(worst, out, wants)]
    # exp: the final rounding, and q's two at up to a quarter ULP each. expm1 = 2^k·q + (2^k − 1) cancels
    # up to 1.4 times at k = ±1 (|t| near 0.35), where q's roundings weigh up to 2^-54 of the result
    assert max(worst[0], worst[2]) <= 1.05 and max(worst[1], worst[3]) <= 2.0
    t = np.array([709.8, 800.0, np.inf, -745.2, -800.0, -np.inf, np.nan])
    out = [np.empty_like(t) for _ in range(4)]
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    e, m, en, mn = out
    assert np.all(np.isinf(e[:3])) and np.all(np.isinf(m[:3])) and np.all(e[3:6] == 0) and np.all(m[3:6] == -1)
    assert np.all(en[1:6] == 0) and np.all(mn[1:6] == -1)
    assert np.isnan(e[6]) and np.isnan(m[6]) and np.isnan(en[6]) and np.isnan(mn[6])


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_exp_tail_is_exp_scaled_below_minus_708_or_expm1_and_carries_the_low_part(tmp_path):
    """symact_exp_tail(t, tl, m) = 2^(64·[t < −708])·e^(t + tl) − m (symact.rounding.exp_tail): within an ULP
    down to t = −752, where e^t itself is subnormal but the scaled value is not; expm1(t + tl) for m = 1 and
    |t| < ln 2/2 (SiLU's root window), within 1.25 ULP, not the cancellation of e^t − 1; bitwise the _neg exp for
    tl = m = 0 and t ≥ −708; NaN for NaN. Its exact reading is that expression."""
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + exp_helpers()
        + exp_tail_helper()
        + "void run(const double *t, const double *tl, const double *m, double *out, double *neg, int n) {\n"
        "  for (int i = 0; i < n; ++i) { out[i] = symact_exp_tail(t[i], tl[i], m[i]); neg[i] = symact_exp_neg(t[i]); }\n"
        "}\n",
    )
    rng = np.random.default_rng(11)
    wide = np.concatenate([rng.uniform(-752, 708, 3000), rng.uniform(-752, -700, 1000), [-708.0, -752.0, 0.0]])
    window = rng.uniform(-0.3, 0.3, 2000)
    t = np.concatenate([wide, window, [np.nan]])
    tl = np.concatenate([t[:-1] * rng.uniform(-(2.0**-53), 2.0**-53, t.size - 1), [0.0]])
    tl[:1500] = 0  # and so bitwise the _neg exp where t ≥ −708
    m = np.concatenate([np.zeros(wide.size), np.ones(window.size), [0.0]])
    out, neg = np.empty_like(t), np.empty_like(t)
    ptr = ctypes.POINTER(ctypes.c_double)
    run(*(v.ctypes.data_as(ptr) for v in (t, tl, m, out, neg)), ctypes.c_int(t.size))
    worst = [0.0, 0.0]  # exp (scaled), expm1
    with mpmath.workdps(40):
        for i in range(t.size - 1):
            v = mpmath.mpf(t[i]) + mpmath.mpf(tl[i])
            want = mpmath.expm1(v) if m[i] else mpmath.exp(v) * (mpmath.mpf(2) ** 64 if t[i] < -708 else 1)
            worst[int(m[i])] = max(worst[int(m[i])], _ulps(out[i], want))
    # exp: as symact_exp's; expm1 is q itself, which rounds twice (p, and its sum with the low part's term)
    assert worst[0] <= 1.05 and worst[1] <= 1.25, worst
    plain = (t >= -708) & (tl == 0) & (m == 0)
    assert plain.sum() > 1000 and np.array_equal(out[plain], neg[plain])
    assert np.isnan(out[-1])
    tt, ll, mm = sp.symbols("t t_lo m", real=True)
    reading = exact(exp_tail(tt, ll, mm))
    assert (
        reading.subs({tt: -710, ll: 0, mm: 0}) == 2**64 * sp.exp(-710)
        and reading.subs({tt: 1, ll: 0, mm: 1}) == sp.E - 1
    )


def _exp_err_points():
    """v over the range, near 0 and at the reduction's midpoints (k·ln 2 ± ln 2/2); v_lo up to |v|·2^-53, as a
    rounded argument's error; e the library's exp of v; and then the ends and NaN."""
    rng = np.random.default_rng(12)
    v = np.concatenate(
        [rng.uniform(-700, 708, 3000), rng.uniform(-1, 1, 1000), (np.arange(-1000, 1020, 7) + 0.5) * math.log(2)]
    )
    vl = v * rng.uniform(-(2.0**-53), 2.0**-53, v.size)
    ends = np.array([709.0, -709.0, 1e300, -np.inf, np.nan])
    v, vl = np.concatenate([v, ends]), np.concatenate([vl, np.zeros(ends.size)])
    with np.errstate(over="ignore"):
        return v, vl, np.exp(v), ends.size


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_exp_err_gives_e_with_what_it_misses_to_within_its_bound(tmp_path, backend):
    """e + exp_err(v, v_lo, e) is e^(v + v_lo) within EXP_ERR_BOUND relatively, for e the library's e^v, on
    −700 ≤ v ≤ 708: a double-double exp (symact.rounding.exp_err), which the Gumbel CDF exp(−e^(−x)) needs
    (its relative error is e^(−x) times e^(−x)'s). The C helper and NumPy's agree bitwise; 0 where |v| > 708,
    NaN at NaN; exactly 0 read exactly."""
    v, vl, e, ends = _exp_err_points()
    if backend == "c":
        run = _compiled_run(
            tmp_path,
            "#include <math.h>\n#include <stdint.h>\n"
            + exp_err_helper()
            + "void run(const double *v, const double *vl, const double *e, double *out, int n) {\n"
            "  for (int i = 0; i < n; ++i) out[i] = symact_exp_err(v[i], vl[i], e[i]);\n"
            "}\n",
        )
        out = np.empty_like(v)
        ptr = ctypes.POINTER(ctypes.c_double)
        run(*(a.ctypes.data_as(ptr) for a in (v, vl, e, out)), ctypes.c_int(v.size))
    else:
        namespace = {"numpy": np}
        exec(python_helpers("p.dtype == numpy.float64") + python_exp_err(arrays=True), namespace)
        with np.errstate(all="ignore"):
            out = namespace["_exp_err"](v, vl, e)
    worst = 0.0
    with mpmath.workdps(40):
        for i in range(v.size - ends):
            want = mpmath.exp(mpmath.mpf(v[i]) + mpmath.mpf(vl[i]))
            worst = max(worst, float(abs(mpmath.mpf(e[i]) + mpmath.mpf(out[i]) - want) / want))
    assert worst <= EXP_ERR_BOUND, worst
    plain = max(
        abs(mpmath.mpf(e[i]) - mpmath.exp(mpmath.mpf(v[i]) + mpmath.mpf(vl[i]))) / mpmath.exp(v[i]) for i in range(50)
    )
    assert plain > 2**10 * EXP_ERR_BOUND  # without the low part, e is far further off: the test can tell
    assert np.array_equal(out[-ends:-1], np.zeros(ends - 1)) and np.isnan(out[-1])
    assert exact(exp_err(x, y, sp.exp(x))) == 0


def test_python_exp_err_over_scalars_is_the_array_helper():
    """numba's _exp_err (scalars: ``if`` for numpy.where) gives NumPy's values, run as plain Python."""
    v, vl, e, _ = _exp_err_points()
    arrays, scalars = {"numpy": np}, {"numpy": np}
    exec(python_helpers("p.dtype == numpy.float64") + python_exp_err(arrays=True), arrays)
    exec(python_helpers("True") + python_exp_err(arrays=False), scalars)
    with np.errstate(all="ignore"):
        want = arrays["_exp_err"](v, vl, e)
        got = np.array([scalars["_exp_err"](*map(float, args)) for args in zip(v, vl, e)])
    assert np.array_equal(got[:-1], want[:-1]) and np.isnan(got[-1])


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_float64_short_exp_and_expm1_lose_at_most_a_fifth_of_an_ulp_to_the_dropped_low_part(tmp_path):
    """exp_short and expm1_short (no r_lo) against mpmath on t ≤ 0 where k ≠ 0, the only place r_lo is not 0:
    within 1.25 and 2.2 ULP, where the compensated helpers are within 1.05 and 2; exactly them for k = 0."""
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + exp_helpers(short=True)
        + "void run(const double *t, double *e, double *m, double *ec, double *mc, int n) {\n"
        "  for (int i = 0; i < n; ++i) {\n"
        "    e[i] = symact_exp_short(t[i]); m[i] = symact_expm1_short(t[i]);\n"
        "    ec[i] = symact_exp_neg(t[i]); mc[i] = symact_expm1_neg(t[i]);\n"
        "  }\n}\n",
    )
    rng = np.random.default_rng(8)
    wide = -rng.uniform(0.35, 745, 3000)  # subnormal results below -708.4
    t = np.concatenate([wide, -rng.uniform(0.3466, 0.4, 1000), -rng.uniform(0, 0.3465, 500), [-0.0, -745.0]])
    out = [np.empty_like(t) for _ in range(4)]
    ptr = ctypes.POINTER(ctypes.c_double)
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    e, m, ec, mc = out
    small = np.abs(t) < 0.3465  # k = 0: r = t exactly, r_lo = 0, and the two agree bitwise
    assert np.array_equal(e[small], ec[small]) and np.array_equal(m[small], mc[small])
    worst = [0.0, 0.0]
    with mpmath.workdps(40):
        for i in np.flatnonzero(~small):
            v = mpmath.mpf(t[i])
            worst = [max(worst[0], _ulps(e[i], mpmath.exp(v))), max(worst[1], _ulps(m[i], mpmath.expm1(v)))]
    assert worst[0] <= 1.25 and worst[1] <= 2.2, worst


def test_float64_c_kernels_call_the_accurate_exp_and_float32_ones_the_library():
    from symact.compile.c import source

    for name in ("sigmoid", "tanh", "elu"):
        f64 = source(name, kernel_forms(function(name), "float64"), "float64").split(f"void {name}_f(")[1]
        assert "symact_exp" in f64 and "exp(" not in f64.replace("symact_exp(", "").replace("_exp", "")
    assert "symact_exp_neg(" in source("sigmoid", kernel_forms(function("sigmoid"), "float64"), "float64")
    f32 = source("elu", kernel_forms(function("elu"), "float32"), "float32", compute="float")
    assert "expm1f(" in f32 and "symact_exp" not in f32


def test_float64_c_kernels_skip_the_upper_range_where_the_argument_is_bounded():
    """The _neg helpers (no upper clamp or scaling; tanh's _short ones are the same without r_lo) wherever the
    exponent cannot exceed 708: −2|x| behind a common subexpression (tanh), a tail's shift (Mish:
    64·[x < −600] − |x|); not for exp(x) itself. (The loops over the near forms take the _near helpers, with
    neither clamp: symact.compile.near.)"""
    from symact.compile.c import _upper_bound, source

    def loops(name, forms):  # the kernel's loops, after the helpers that define every variant
        src = source(name, forms, "float64")
        return src[src.index(f"void {name}_") :]

    for name in ("tanh", "mish", "elu"):
        calls = set(re.findall(r"symact_exp\w*\(", loops(name, kernel_forms(function(name), "float64", fused=True))))
        assert calls and all(c.endswith(("_neg(", "_short(", "_near(")) for c in calls), (name, calls)
        assert any(c.endswith(("_neg(", "_short(")) for c in calls), (name, calls)
    assert "symact_expm1_short(" in loops("tanh", kernel_forms(function("tanh"), "float64", fused=True))
    exponential = loops("exponential", kernel_forms(function("exponential"), "float64"))
    assert "symact_exp(" in exponential and "symact_exp_neg(" not in exponential
    assert _upper_bound(-sp.Abs(x) + sp.Piecewise((64, x < -600), (0, True))) == 64
    assert _upper_bound(sp.Piecewise((-1, x > 0), (-sp.Abs(x), True))) == 0
    assert _upper_bound(x + 1) is None
    assert _upper_bound(-sp.Abs(x) + lit(sp.exp(-1))) is None  # a literal atom is not evaluated: no bound


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_float_exp_is_within_1_02_ulp_down_to_the_underflow_and_zero_below(tmp_path):
    """exp_float(t, j) = 2^j·e^t and expm1_float(t) computed in float, against double exp: within 1.02 ULP
    wherever the result is normal, within the smallest normal where it is not, and 0 (−1) below
    −(126 + J)·ln 2, J = 24 the largest j of the helpers, whose scale the others share."""
    atoms = [exp_float(-x, j) for j in (0, 2, 24)] + [expm1_float(-x, 0)]
    names = [float_exp_call(a, "t[i]", -sp.Abs(x)) for a in atoms]
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + float_exp_helpers(atoms)
        + "void run(const float *t, float *o0, float *o1, float *o2, float *o3, int n) {\n"
        f"  for (int i = 0; i < n; ++i) {{ o0[i] = {names[0]}; o1[i] = {names[1]}; o2[i] = {names[2]}; o3[i] = {names[3]}; }}\n"
        "}\n",
    )
    rng = np.random.default_rng(7)
    t = np.concatenate(
        [
            -rng.uniform(0, 110, 200_000),
            -(10.0 ** rng.uniform(-12, 0, 50_000)),
            -rng.uniform(0.34, 0.35, 20_000),  # where k turns from 0 to −1
            [0.0, -0.0, -87.33, -87.34, -88.72, -103.97, -104.0, -np.inf],
        ]
    ).astype(np.float32)
    out = [np.empty_like(t) for _ in range(4)]
    ptr = ctypes.POINTER(ctypes.c_float)
    run(*(v.ctypes.data_as(ptr) for v in (t, *out)), ctypes.c_int(t.size))
    td = t.astype(np.float64)
    tiny = float(np.finfo(np.float32).tiny)
    for j, got in zip((0, 2, 24), out[:3]):
        want = 2.0**j * np.exp(td)
        normal = want >= tiny
        assert _ulp_apart(got[normal], want[normal], np.float32) <= 1.02, j
        assert np.all(np.abs(got[~normal] - want[~normal]) <= tiny) and np.all(got[td < -(126 + 24) * np.log(2)] == 0)
    assert _ulp_apart(out[3], np.expm1(td), np.float32) <= 1.02 and out[3][-1] == -1.0
    nan = np.array([np.nan], dtype=np.float32)
    res = [np.empty_like(nan) for _ in range(4)]
    run(*(v.ctypes.data_as(ptr) for v in (nan, *res)), ctypes.c_int(1))
    assert all(np.isnan(r[0]) for r in res)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_float_exp_parts_make_the_float_exp_bitwise_and_read_exactly(tmp_path):
    """exp_float_scale and exp_float_frac, s = 2^(k+j) and p = expm1(r): fmaf(s, p, s) is exp_float's result,
    bit for bit, s a power of two or 0 (below the threshold); and s·(1 + p) reads exactly as 2^j·e^t."""
    t_ = -sp.Abs(x)
    atoms = [exp_float(t_, 24), exp_float_scale(t_, 24), exp_float_frac(t_, 24)]
    names = [float_exp_call(a, "t[i]", t_) for a in atoms]
    run = _compiled_run(
        tmp_path,
        "#include <math.h>\n#include <stdint.h>\n"
        + float_exp_helpers(atoms)
        + "void run(const float *t, float *e, float *s, float *p, int n) {\n"
        f"  for (int i = 0; i < n; ++i) {{ e[i] = {names[0]}; s[i] = {names[1]}; p[i] = {names[2]}; }}\n"
        "}\n",
    )
    t = np.concatenate([-np.random.default_rng(5).uniform(0, 110, 100_000), [0.0, -0.0, -103.97, -104.0]])
    t = t.astype(np.float32)
    e, s, p = (np.empty_like(t) for _ in range(3))
    ptr = ctypes.POINTER(ctypes.c_float)
    run(*(v.ctypes.data_as(ptr) for v in (t, e, s, p)), ctypes.c_int(t.size))
    together = (s.astype(np.float64) * p + s).astype(np.float32)  # one rounding: s·p is exact, s a power of two
    assert np.array_equal(together, e)
    mantissa, _ = np.frexp(s[s > 0])
    assert np.all(mantissa == 0.5) and np.all(s[t < -103.98] == 0)
    assert sp.simplify(exact(atoms[1]) * (1 + exact(atoms[2])) - exact(atoms[0])) == 0


def test_float_exp_polynomial_is_the_float_fit_and_meets_its_proved_bound_which_one_degree_less_does_not():
    """The float helpers' expm1(r) polynomial, floats of degree 7, is what fit_expm1 makes, its proved error
    (the floats as exact rationals) is within EXPM1_FLOAT_TARGET, and neither the fit of degree 6 nor the
    Taylor polynomial of degree 7, in floats, meets it."""
    assert fit_expm1(REDUCED_SPAN, 7, single=True) == EXPM1_FLOAT
    assert all(float(np.float32(c)) == c for c in EXPM1_FLOAT)
    assert expm1_error_bound(EXPM1_FLOAT, REDUCED_SPAN) <= EXPM1_FLOAT_TARGET
    assert expm1_error_bound(fit_expm1(REDUCED_SPAN, 6, single=True), REDUCED_SPAN) > EXPM1_FLOAT_TARGET
    taylor = [float(np.float32(1 / math.factorial(k))) for k in range(2, 8)]
    assert expm1_error_bound(taylor, REDUCED_SPAN) > EXPM1_FLOAT_TARGET


def test_float_exp_reads_exactly_and_refuses_an_argument_not_known_nonpositive():
    assert exact(exp_float(-sp.Abs(x), 2)) == 4 * sp.exp(-sp.Abs(x))
    assert exact(expm1_float(-sp.Abs(x), 0)) == expm1(-sp.Abs(x))
    with pytest.raises(ValueError, match="≤ 0"):
        float_exp_call(exp_float(x, 0), "x", x)
    with pytest.raises(ValueError, match="j > 58"):  # its C helper's reduction would no longer be exact
        float_exp_helpers([exp_float(-sp.Abs(x), 59)])


def _log1p_helper_on(tmp_path, helper: str, name: str, e: np.ndarray) -> np.ndarray:
    """The C log1p helper ``name`` (source ``helper``) at each element of e, in e's type (float or double)."""
    ctype = "float" if e.dtype == np.float32 else "double"
    run = _compiled_run(
        tmp_path,
        f"#include <math.h>\n{helper}void run(const {ctype} *e, {ctype} *o, int n) "
        f"{{ for (int i = 0; i < n; ++i) o[i] = {name}(e[i]); }}\n",
    )
    out = np.empty_like(e)
    ptr = ctypes.POINTER(ctypes.c_float if ctype == "float" else ctypes.c_double)
    run(e.ctypes.data_as(ptr), out.ctypes.data_as(ptr), ctypes.c_int(e.size))
    return out


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_float_log1p_is_within_0_91_ulp_on_0_to_1(tmp_path):
    """log1p_float(e) computed in float, against double log1p, on a dense grid of [0, 1]: within 0.91 ULP (0.902
    measured over every float in [0, 1]), exact at 0 and 1 up to the rounding of ln 2, NaN at NaN."""
    rng = np.random.default_rng(5)
    e = np.concatenate(
        [
            np.linspace(0, 1, 1_000_001),
            10.0 ** rng.uniform(-45, 0, 200_000),
            rng.uniform(0.4999, 0.5001, 20_000),  # where the reduction turns from k = 0 to k = 1
            [0.0, 1.0, 0.5, np.nextafter(0.5, 0), 1e-45],
        ]
    ).astype(np.float32)
    e = np.append(e, np.float32(np.nan))
    out = _log1p_helper_on(tmp_path, log1p_float_helper(), "symact_log1p_float", e)
    assert np.isnan(out[-1])
    assert _ulp_apart(out[:-1], np.log1p(e[:-1].astype(np.float64)), np.float32) <= 0.91
    assert out[0] == 0 and out[-2] == np.float32(1e-45) and out[-5] == np.float32(np.log(2))


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")
def test_c_double_log1p_of_0_to_1_is_within_1_1_ulp_and_its_degree_meets_its_proved_bound(tmp_path):
    """log1p_unit_helper, the float64 kernels' log1p(e^u) for u ≤ 0: log1p_float's algorithm in double, R's degree
    the least proved within 2^-58 of the result, and against mpmath within 1.1 ULP on [0, 1] (1.05 on 5·10^7
    points against long double), exact at 0, NaN at NaN."""
    n = log1p_float.degree(LOG1P_UNIT_SPAN, LOG1P_DOUBLE_TARGET)
    assert log1p_float.bound(LOG1P_UNIT_SPAN, n) <= LOG1P_DOUBLE_TARGET < log1p_float.bound(LOG1P_UNIT_SPAN, n - 1)
    rng = np.random.default_rng(7)
    e = np.concatenate(
        [
            rng.uniform(0, 1, 6000),
            10.0 ** rng.uniform(-320, 0, 2000),
            rng.uniform(0.4999, 0.5001, 1000),  # where the reduction turns from k = 0 to k = 1
            rng.uniform(0.5, 0.52, 1000),  # where ln 2 + log1p(f) has its largest error (f ≈ −0.25)
            [0.0, 1.0, 0.5, np.nextafter(0.5, 0), 5e-324, np.nan],
        ]
    )
    out = _log1p_helper_on(tmp_path, log1p_unit_helper(), "symact_log1p_unit", e)
    assert np.isnan(out[-1]) and out[-6] == 0 and out[-2] == 5e-324
    with mpmath.workdps(40):
        assert max(_ulps(o, mpmath.log1p(mpmath.mpf(v))) for v, o in zip(e[:-1], out[:-1])) <= 1.1


def test_float_log1p_degree_is_the_least_that_meets_its_proved_bound_and_it_reads_exactly():
    n = log1p_float.degree()
    assert log1p_float.bound(log1p_float.SPAN, n) <= log1p_float.TARGET < log1p_float.bound(log1p_float.SPAN, n - 1)
    # the bound against the truncation itself, at 40 digits, where it is largest (|s| = 1/5)
    with mpmath.workdps(40):
        s = mpmath.mpf(1) / 5
        kept = 2 * s + s * sum(2 * s ** (2 * k) / (2 * k + 1) for k in range(1, n + 1))
        assert abs(2 * mpmath.atanh(s) - kept) / (2 * mpmath.atanh(s)) <= log1p_float.bound(log1p_float.SPAN, n)
    t = -sp.Abs(x)
    assert exact(log1p_float(exp_float(t, 0))) == log1p(sp.exp(t))
    assert log1p_float_call("e", exp_float(t, 0)) == "symact_log1p_float(e)"
    for wrong in (exp_float(t, 2), exp_float(x, 0), sp.exp(t)):  # e could exceed 1
        with pytest.raises(ValueError, match="0 ≤ e ≤ 1"):
            log1p_float_call("e", wrong)


def test_vanishing_reads_its_value_exactly_and_0_beyond_its_bound_on_the_machine():
    v, u = sp.symbols("v u", real=True)
    atom = vanishing(v, u, 104)
    assert exact(atom) == v
    on_machine = machine(atom)
    assert [on_machine.subs({v: 3, u: t}) for t in (-105, -104, 50, 104, 105)] == [0, 3, 3, 3, 0]

"""Taylor recurrences, their interval enclosures, and the near-root polynomials of user functions' kernels."""

import json

import flint
import mpmath
import numpy as np
import pytest
import sympy as sp

import symact
from symact import taylor
from symact.compile import available_backends
from symact.compile.accuracy import points, reference, ulp_error
from symact.functions import sigmoid, softplus
from symact.rounding import exact, machine
from symact.stable import stable_form
from symact.taylor import BALLS, coefficients, near_roots

x = sp.Symbol("x", real=True)

#: One expression per operation the recurrences know, each at a point where it is analytic.
OPERATIONS = [
    sp.exp(2 * x) * x**3,
    sp.log(2 + x) / (1 + x**2),
    sp.sin(x) * sp.cos(3 * x),
    sp.tanh(x) ** 2,
    sp.sinh(x) - sp.cosh(2 * x),
    sp.sqrt(1 + x**2),
    (1 + x) ** sp.Rational(-5, 3),
    x**x,
    sp.erf(x) + sp.erfc(2 * x),
    sp.atan(x) * sp.atanh(x / 3) + sp.asinh(x),
    sigmoid(3 * x) + softplus(-x),
    sp.pi * x + sp.E,
]


@pytest.mark.parametrize("expr", OPERATIONS, ids=str)
def test_recurrences_give_the_taylor_coefficients(expr):
    at = sp.Rational(3, 10)
    got = coefficients(expr, x, mpmath.mpf(at.p) / at.q, 7)
    for k, c in enumerate(got):
        want = sp.N(sp.diff(expr, x, k).subs(x, at) / sp.factorial(k), 40)
        assert abs(c - mpmath.mpf(want)) <= mpmath.mpf(10) ** -35 * max(1, abs(mpmath.mpf(want)))


@pytest.mark.parametrize("expr", OPERATIONS, ids=str)
def test_interval_coefficients_enclose_those_at_every_point_inside(expr):
    piece = flint.arb(flint.fmpq(1, 4)).union(flint.arb(flint.fmpq(7, 20)))  # [0.25, 0.35]
    enclosures = coefficients(expr, x, piece, 12, BALLS)
    for v in ("0.25", "0.2871", "0.3333", "0.35"):
        for c, box in zip(coefficients(expr, x, mpmath.mpf(v), 12), enclosures):
            assert box.contains(taylor._ball(c)), (v, c, box)


def test_unsupported_operations_say_so():
    with pytest.raises(taylor.Unsupported):
        coefficients(sp.gamma(x), x, mpmath.mpf(1), 3)
    with pytest.raises(taylor.Unsupported):  # a pole where the series is taken
        coefficients(1 / x, x, mpmath.mpf(0), 3)


#: (text, the roots of f or f' that get a window: (is f, root)). Roots at 0 are exact, with their multiplicity.
CANCELLING_AT_ROOTS = [
    ("x - tanh(x)", [(True, 0)]),  # tanhshrink: a triple root, 10¹⁶ ULP off near 0 as written
    ("exp(x) - x - 1", [(True, 0)]),
    ("x**3 - x", [(False, -(3**-0.5)), (False, 3**-0.5)]),  # f′ = 3x² − 1; f = x(x − 1)(x + 1) needs none
    ("x - sin(x)", [(True, 0)]),  # f′ = 1 − cos x is 2 sin²(x/2), which needs none
    ("log(1 + x) - x", [(True, 0), (False, 0)]),
    ("x*(1 + tanh(x)) + 1", [(False, -0.6392)]),  # (x·(1 + tanh x) itself is 2·SiLU: catalog_multiple)
    ("atan(x) - x", [(True, 0), (False, 0)]),
    ("x - asinh(x)", [(True, 0), (False, 0)]),
]


@pytest.mark.parametrize("text, roots", CANCELLING_AT_ROOTS, ids=[t for t, _ in CANCELLING_AT_ROOTS])
def test_near_root_polynomials_are_proved_and_match_the_function(text, roots):
    fn = symact.custom(text)
    form = stable_form(fn)
    for is_f, root in roots:  # a window about each root, each with its proved bound
        windows = [a for a in form.approximations if (a.f is not None) == is_f and a.lo < root < a.hi]
        assert len(windows) == 1, (is_f, root)
    for a in form.approximations:
        assert a.bound <= taylor.DOUBLE.target
        assert a.proof() == pytest.approx(a.bound, rel=1e-9)
        g = fn.expr if a.f is not None else fn.derivative()
        poly = sp.lambdify(x, exact(machine(a.f if a.f is not None else a.df)), "mpmath")
        truth = sp.lambdify(x, g, "mpmath")
        with mpmath.workdps(40):
            for t in np.linspace(a.lo, a.hi, 9)[1:-1]:
                if abs(truth(mpmath.mpf(t))) > 0:
                    # the double coefficients' roundings, 2^-53 each, are all that separates them
                    assert abs(poly(mpmath.mpf(t)) / truth(mpmath.mpf(t)) - 1) < 1e-14


@pytest.mark.parametrize("text", ["(x - 1)*(x + 2)", "x*tanh(x)", "max(x, 0)*tanh(x)", "exp(x)"])
def test_no_window_where_nothing_cancels(text):  # (2x + 1 is exact next to its root, as x − 1 is)
    assert stable_form(symact.custom(text)).approximations == ()


def test_parameters_keep_the_direct_form():  # a root moves with a learnable parameter, read at run time
    assert stable_form(symact.custom("x - tanh(a*x)", params={"a": 1.0})).approximations == ()


def test_a_polynomials_remainder_bound_is_not_met_by_too_low_a_degree():
    near = near_roots(x - sp.tanh(x), x, x - sp.tanh(x))[0]
    assert near.bound <= taylor.DOUBLE.target
    low = taylor.remainder_bound(near.g, x, near.root, near.exact, near.order, near.window, near.degree - 20)
    assert low > taylor.DOUBLE.target


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("text", [t for t, _ in CANCELLING_AT_ROOTS])
def test_functions_that_cancel_at_a_root_compile_to_accurate_kernels(text, dtype):
    """Every backend within 4 ULP. Before the near-root windows, measured with c float64: x − tanh x 10¹⁶ ULP,
    eˣ − x − 1 10⁸, 3x² − 1 6.7·10⁷, x − sin x 9·10¹⁵, log(1 + x) − x 8·10⁷, (x(1 + tanh x))′ 1.2·10³; float32
    (computed in double), x − tanh x 1.4·10⁷ at x = 10⁻⁸."""
    fn = symact.custom(text)
    xs = np.r_[points(1500), np.linspace(-6, 6, 2001), np.geomspace(1e-3, 3, 400), -np.geomspace(1e-3, 3, 400)]
    xs = np.r_[xs, -0.6392 + np.linspace(-1e-3, 1e-3, 41), 3**-0.5 + np.linspace(-1e-3, 1e-3, 41)]
    # not the far left of x(1 + tanh x), whose f′ = 2σ(2x)·(1 + 2x·σ(−2x)) is normal down to x ≈ −357 while σ(2x)
    # is subnormal from −354 on (660 ULP there): a gap of the generic forms, not of the windows
    xs = xs[xs > -300].astype(dtype)
    with np.errstate(invalid="ignore"):  # log(1 + x) is NaN left of −1
        truth_y, truth_dy = reference(fn, xs.astype(np.float64))
        for backend in available_backends():
            y, dy = symact.compile(fn, backend=backend, dtype=dtype)(xs)
            assert ulp_error(y, truth_y, dtype) <= 4, backend
            assert ulp_error(dy, truth_dy, dtype) <= 4, backend


#: Removable singularities at 0: each form is 0/0 there, and its slope cancels next to it, (x·cos x − sin x)/x² for
#: sin(x)/x (1.6·10¹⁶ ULP off at x = 10⁻⁸ before). Over xˢ, and over a function that vanishes at 0 (x/tanh x: inf
#: at 0 before, its slope 2.7·10¹⁶ ULP off at 10⁻⁸). (text, f(0), f′(0), span).
REMOVABLE = [
    ("sin(x)/x", 1, 0, 6),
    ("tanh(x)/x", 1, 0, 0.4),
    ("(1 - cos(x))/x**2", sp.Rational(1, 2), 0, 6),
    ("(exp(x) - 1)/x", 1, sp.Rational(1, 2), 0.4),
    ("atan(x)/x", 1, 0, 6),
    ("x/tanh(x)", 1, 0, 6),
    ("x/sinh(x)", 1, 0, 2.4),
    ("x/(exp(x) - 1)", 1, sp.Rational(-1, 2), 1.3),
    ("x/sin(x)", 1, 0, 6),  # poles at ±π
]


def test_removable_singularities_are_found_as_a_numerator_over_a_denominator():
    assert taylor.removable(sp.sin(x) / x, x) == (sp.sin(x), 1, 1, x)
    numerator, s, m, denominator = taylor.removable(sp.diff(sp.sin(x) / x, x), x)
    assert sp.simplify(numerator - (x * sp.cos(x) - sp.sin(x))) == 0 and (s, m, denominator) == (2, 3, x**2)
    assert taylor.removable(2 * sp.sin(x) / (3 * x), x) == (2 * sp.sin(x) / 3, 1, 1, x)  # c·xˢ: N over c
    assert taylor.removable(x / sp.tanh(x), x) == (x, 1, 1, sp.tanh(x))
    numerator, s, m, denominator = taylor.removable(sp.diff(x / sp.tanh(x), x), x)  # over tanh² x
    assert sp.simplify(numerator / denominator - sp.diff(x / sp.tanh(x), x)) == 0 and (s, m) == (2, 3)
    assert taylor.removable(sp.cos(x) / x, x) is None  # a pole
    assert taylor.removable(sp.sin(x) / x**2, x) is None  # a pole of order 1
    assert taylor.removable(x / sp.sin(x) ** 2, x) is None
    assert taylor.removable(x * sp.sin(x), x) is None
    assert taylor.removable(x / (1 + sp.exp(-x)), x) is None  # a denominator that does not vanish at 0


@pytest.mark.parametrize("text, at_zero, slope_at_zero, span", REMOVABLE, ids=[t for t, *_ in REMOVABLE])
def test_removable_singularities_get_a_window_and_their_limit_at_0(text, at_zero, slope_at_zero, span):
    """The window about 0 holds N's polynomial over xˢ, proved as N's, or over D's polynomial, with both proved;
    every backend gives the limit at ±0 (NaN or inf before) and is within 4 ULP on |x| ≤ span. Beyond the windows about 0 three are not everywhere (float64,
    12001 points on [−6, 6]): f' of tanh(x)/x is 4.08 ULP off at −1.73, of (eˣ − 1)/x 4.38 at −1.58, of
    x/sinh x 6.75 at −4.92, of x/(eˣ − 1) 5.05 at 2.89, where the direct form's condition is below 2.5 but its
    terms round twice. (atan(x)/x's slope was 6.08 ULP off at
    −0.77 while its outward windows were g's, not N's: they ended at ±0.74.)"""
    fn = symact.custom(text)
    form = stable_form(fn)
    for is_f in (True, False):
        assert len([a for a in form.approximations if (a.f is not None) == is_f and a.lo < 0 < a.hi]) == 1
    for a in form.approximations:  # about 0 and beyond, each N's polynomial over xˢ or D, proved as N's (and D's)
        assert a.bound <= taylor.DOUBLE.target and a.proof() == pytest.approx(a.bound, rel=1e-9)
        poly = sp.lambdify(x, exact(machine(a.f if a.f is not None else a.df)), "mpmath")
        truth = sp.lambdify(x, fn.expr if a.f is not None else fn.derivative(), "mpmath")
        with mpmath.workdps(40):
            for t in np.linspace(a.lo, a.hi, 10)[1:-1]:  # not 0 itself, where the forms are 0/0
                assert abs(poly(mpmath.mpf(t)) / truth(mpmath.mpf(t)) - 1) < 1e-14
    ys, dys = reference(fn, np.array([0.0, -0.0]))
    assert ys == [at_zero, at_zero] and dys == [slope_at_zero, slope_at_zero]
    side = np.geomspace(1e-300, span, 600)
    xs = np.r_[0.0, -0.0, side, -side, np.linspace(-span, span, 2001)]
    for dtype in ("float64", "float32"):
        data = xs.astype(dtype)
        truth_y, truth_dy = reference(fn, data.astype(np.float64))
        for backend in available_backends():
            y, dy = symact.compile(fn, backend=backend, dtype=dtype)(data)
            assert y[0] == y[1] == float(at_zero) and dy[0] == dy[1] == float(slope_at_zero), backend
            assert ulp_error(y, truth_y, dtype) <= 4, (backend, dtype)
            assert ulp_error(dy, truth_dy, dtype) <= 4, (backend, dtype)


def test_float32_data_get_the_narrow_windows_of_low_degree():
    """Computed in double, a float32 kernel needs a polynomial only where the condition exceeds 2^20."""
    fn = symact.custom("x - tanh(x)")
    (wide,) = [a for a in stable_form(fn).approximations if a.lo < 0 < a.hi]  # the root's own window
    (narrow,) = near_roots(fn.expr, x, fn.expr, taylor.SINGLE)
    assert narrow.window[1] < 0.01 < 0.9 < wide.hi and narrow.degree <= 7 and narrow.bound <= taylor.SINGLE.target


def test_near_roots_are_kept_in_the_kernel_cache(tmp_path, monkeypatch):
    """Found once (0.3 to 7 s a function), then read back: the same windows, bounds and double coefficients."""
    monkeypatch.setenv("SYMACT_CACHE_DIR", str(tmp_path))
    g = sp.exp(x) - x - 1

    def summary(nears):
        return [(n.root, n.exact, n.order, n.window, n.bound, [float(c) for c in n.coefficients]) for n in nears]

    first = near_roots(g, x, g)
    (path,) = tmp_path.glob("near_roots_*.json")
    assert summary(near_roots(g, x, g)) == summary(first) != []
    path.write_text("[{")  # damaged: found again, and written again
    assert summary(near_roots(g, x, g)) == summary(first)
    assert json.loads(path.read_text())


def test_a_window_is_narrowed_until_its_bound_is_proved_and_mirrored():
    """The slope of x/cosh x, (cosh x − x·sinh x)/cosh² x, cancels at its roots ±1.1997, where the series' bound is
    proved only 0.19 wide, the 6th width tried (taylor.NARROWINGS): after 5 it had no window, 2·10³ ULP off at 1.2."""
    fn = symact.custom("x/cosh(x)")
    form = stable_form(fn)
    roots = (-1.1996786402577338, 1.1996786402577338)
    for root in roots:
        assert len([a for a in form.approximations if a.df is not None and a.lo < root < a.hi]) == 1, root
    xs = np.concatenate([r + np.linspace(-0.15, 0.15, 61) for r in roots])
    _, truth_dy = reference(fn, xs)
    _, dy = symact.compile(fn, backend="numpy", dtype="float64")(xs)  # (every backend prints the same polynomial)
    assert ulp_error(dy, truth_dy, np.float64) <= 4
    # The slope is even: the windows about −r are those about r reflected, each coefficient c_k times (−1)^k,
    # found once (taylor._mirror), and proved again here. The outward windows were on the left only: the 40
    # proofs a search may try were spent by then, and it was 8.0 ULP off at x = 1.392 (C, float64).
    windows = [a for a in form.approximations if a.df is not None]
    by_window = {(a.lo, a.hi): a for a in windows}
    for a in windows:
        mirror = by_window[(-a.hi, -a.lo)]
        assert mirror.proof() == pytest.approx(mirror.bound, rel=1e-9) and mirror.bound == a.bound
    reach = max(a.hi for a in windows)
    assert reach > 1.5  # beyond 1.3887, where the root's own window ends (beyond the windows, up to 7.4 ULP)
    xs = np.linspace(1.3, reach, 181)
    _, truth_dy = reference(fn, xs)
    for backend in available_backends():
        _, dy = symact.compile(fn, backend=backend, dtype="float64")(np.concatenate([-xs, xs]))
        assert ulp_error(dy, np.concatenate([truth_dy, truth_dy]), np.float64) <= 4, backend

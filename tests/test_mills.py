"""The Mills ratio behind GELU's float32 kernels: its proved bound, and that the proof can fail."""

import mpmath
import numpy as np
import sympy as sp

import symact
from symact.compile.forms import kernel_forms
from symact.mills import BOUND, SPAN, U, V, mills_bound, mills_ratio, mills_scaled, mills_scaled_lo, scaled_bound
from symact.rounding import exact, machine


def test_rational_bound_is_proved_and_below_the_target():
    assert mills_bound() <= BOUND


def test_a_perturbed_coefficient_fails_the_proof():
    """Not vacuous: V[0] off by 4 ULP (M(0) = √(π/2) is V[0]/U[0]) breaks the bound."""
    wrong = (float(np.nextafter(np.nextafter(np.nextafter(np.nextafter(V[0], 2), 2), 2), 2)),) + V[1:]
    assert mills_bound(v=wrong) > BOUND


def test_machine_reading_is_within_the_bound_of_the_exact_reading_at_50_digits():
    a = sp.Symbol("a", nonnegative=True)
    approx = sp.lambdify(a, exact(machine(mills_ratio(a))), "mpmath")  # V/D in exact arithmetic
    truth = sp.lambdify(a, exact(mills_ratio(a)), "mpmath")
    with mpmath.workdps(50):
        for t in np.linspace(0, SPAN, 301):
            v = mpmath.mpf(t)
            want = mpmath.ncdf(-v) / mpmath.npdf(v)  # M from its definition, independently
            assert abs(approx(v) - want) <= BOUND * want
    with mpmath.workdps(450):  # the exact reading's 1 − erf cancels ~370 digits at a = 41
        for t in np.linspace(0, SPAN, 31):
            v = mpmath.mpf(t)
            assert abs(truth(v) / (mpmath.ncdf(-v) / mpmath.npdf(v)) - 1) < mpmath.mpf(10) ** -40


def test_float32_gelu_kernel_uses_the_rational_not_erfc():
    forms = kernel_forms(symact.activation("gelu"), "float32")
    exprs = [e for _, e in forms.assignments] + [forms.f, forms.df]
    assert not any(e.has(sp.erfc) for e in exprs) and len(U) == len(V) + 1


def test_compensated_reading_is_proved_within_the_bound():
    """The C kernel's V/D, with V's constant corrected to √(π/2): proved within 2^-52, and within that
    bound of M in exact arithmetic (its low part read as well)."""
    assert scaled_bound() <= BOUND
    a, e = sp.Symbol("a", nonnegative=True), sp.Symbol("e", positive=True)
    parts = exact(machine(mills_scaled(a, e) + mills_scaled_lo(a, e)))  # hi + lo, every rounding error 0
    both = sp.lambdify((a, e), parts, "mpmath")
    with mpmath.workdps(50):
        for t in np.linspace(0, SPAN, 101):
            v = mpmath.mpf(t)
            want = mpmath.ncdf(-v) / mpmath.npdf(v)
            assert abs(both(v, 1) - want) <= scaled_bound() * want
    assert exact(mills_scaled_lo(a, e)) == 0 and exact(mills_scaled(a, e)) == e * exact(mills_ratio(a))


def test_float64_c_gelu_kernel_has_no_erfc_and_other_targets_keep_it():
    fused = kernel_forms(symact.activation("gelu"), "float64", fused=True)
    portable = kernel_forms(symact.activation("gelu"), "float64")
    has_erfc = [any(e.has(sp.erfc) for e in [e for _, e in k.assignments] + [k.f, k.df]) for k in (fused, portable)]
    assert has_erfc == [False, True]

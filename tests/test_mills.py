"""The Mills ratio behind GELU's float32 kernels: its proved bound, and that the proof can fail."""

import mpmath
import numpy as np
import sympy as sp

import symact
from symact.compile.forms import kernel_forms
from symact.mills import BOUND, SPAN, U, V, mills_bound, mills_ratio
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

"""The Mills ratio behind GELU's float32 kernels: its proved bound, and that the proof can fail."""

import mpmath
import numpy as np
import sympy as sp

import symact
from symact.compile.forms import kernel_forms
from symact.mills import (
    BOUND,
    SINGLE_BOUND,
    SINGLE_SPAN,
    SPAN,
    P,
    U,
    V,
    mills_bound,
    mills_ratio,
    mills_root,
    mills_scaled,
    mills_scaled_lo,
    mills_single,
    mills_single_gap,
    scaled_bound,
    single_bound,
)
from symact.rounding import exact, exp_f32_short, machine


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


def test_float32_gelu_kernel_uses_the_small_rational_and_the_short_exp_not_erfc():
    single = symact.stable.stable_form(symact.activation("gelu")).single
    assert all(e.has(mills_single, exp_f32_short) for e in single) and single[1].has(mills_single_gap)
    forms = kernel_forms(symact.activation("gelu"), "float32")
    exprs = [e for _, e in forms.assignments] + [forms.f, forms.df]
    assert not any(e.has(sp.erfc) for e in exprs) and len(U) == len(V) + 1


def test_single_rational_bound_is_proved_and_below_the_target():
    assert single_bound() <= SINGLE_BOUND


def test_a_perturbed_single_coefficient_fails_the_proof():
    """Not vacuous: P[0] off by 10⁻⁹ of itself (W(0) = P[0]) breaks the bound."""
    assert single_bound(p=(P[0] * (1 + 1e-9),) + P[1:]) > SINGLE_BOUND


def _float32_around(centre: float, count: int) -> list[float]:
    """The float32 numbers nearest ``centre``, ``count`` on each side."""
    below = above = np.float32(centre)
    out = [float(below)]
    for _ in range(count):
        below, above = np.nextafter(below, np.float32(-1)), np.nextafter(above, np.float32(2))
        out += [float(below), float(above)]
    return out


def test_single_machine_readings_are_within_the_bound_at_50_digits():
    """M(r) + (a − r)·P/Q, and M − a = (M(r) − r) + (a − r)·(P/Q − 1), in exact arithmetic (the doubles exactly),
    against M from its definition: relatively within the bound on [0, SINGLE_SPAN], the gap also at the
    float32 points next to its root, where M − a itself is ~10⁻⁸."""
    a = sp.Symbol("a", nonnegative=True)
    m_hat = sp.lambdify(a, exact(machine(mills_single(a))), "mpmath")
    gap_hat = sp.lambdify(a, exact(machine(mills_single_gap(a))), "mpmath")
    assert exact(mills_single(a)) == exact(mills_ratio(a)) and exact(mills_single_gap(a)) == exact(mills_ratio(a)) - a
    with mpmath.workdps(50):
        for t in list(np.linspace(0, SINGLE_SPAN, 301)) + _float32_around(mills_root(), 20):
            v = mpmath.mpf(t)
            want = mpmath.ncdf(-v) / mpmath.npdf(v)
            assert abs(m_hat(v) - want) <= SINGLE_BOUND * want
            assert abs(gap_hat(v) - (want - v)) <= SINGLE_BOUND * abs(want - v)


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

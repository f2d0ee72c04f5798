"""expm1 on the exp helpers' reduced range as a near-minimax polynomial with a proved error bound.

The C kernels' exp and expm1 helpers reduce t = k·ln 2 + r, |r| ≤ ln 2/2, and
evaluate expm1(r) = r + r²·Q(r). A polynomial fitted over the whole interval
needs fewer terms than Taylor's for the same error:

- float64 (:func:`symact.rounding.exp_helpers`): degree 12 for 2^-59, where
  Taylor needs 14; two fused multiply-adds fewer in every exp of every float64
  kernel (tanh: 8.80 → 8.22 ms over 10^7 points, 2 threads, AMD EPYC Zen 4);
- float32 computed in float (:func:`symact.rounding.float_exp_helpers`),
  coefficients rounded to floats: degree 7 for 2^-30, where Taylor needs 8.

The fit (:func:`fit_expm1`) is least squares at Chebyshev nodes, at 50
digits, with the coefficients rounded (to doubles or floats) one at a time from the
lowest, each fit after a rounding absorbing it. The bound
(:func:`expm1_error_bound`) is proved, not sampled: the doubles as exact
rationals against expm1's Taylor series to degree N plus its Lagrange
remainder, the difference Taylor-shifted to the centre of each piece of
[−T, T] and bounded term by term, all in mpmath's interval arithmetic.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

#: Q's coefficients q_0..q_10 (expm1(r) ≈ r + r²·Σ q_k·r^k), doubles: fit_expm1(REDUCED_SPAN, 12). Within
#: 2^-59 of expm1(r), relative, on |r| ≤ REDUCED_SPAN (expm1_error_bound; tests/test_rounding.py).
EXPM1 = (
    0.5,
    0.1666666666666667,
    0.04166666666666667,
    0.008333333333325895,
    0.0013888888888882163,
    0.00019841269875419198,
    2.4801587330000287e-05,
    2.7557254811244564e-06,
    2.75572689407959e-07,
    2.5105417060725922e-08,
    2.0916361144826885e-09,
)
EXPM1_TARGET = 2.0**-59

#: The same for float arithmetic, coefficients floats: fit_expm1(REDUCED_SPAN, 7, single=True), within 2^-30.
EXPM1_FLOAT = (
    0.5,
    0.1666666716337204,
    0.041666511446237564,
    0.008333180099725723,
    0.0013930503046140075,
    0.00019969668937847018,
)
EXPM1_FLOAT_TARGET = 2.0**-30


def fit_expm1(span: float, degree: int, single: bool = False) -> tuple[float, ...]:
    """q_0..q_(degree−2) with expm1(r) ≈ r + r²·Σ q_k·r^k on |r| ≤ span, near-minimax in Q: doubles, or
    floats (as the doubles that hold them exactly) for ``single``."""
    rounded = (lambda v: float(np.float32(float(v)))) if single else float
    with mpmath.workdps(50):
        fixed: list[float] = []
        while len(fixed) < degree - 1:
            free = degree - 1 - len(fixed)
            count = 4 * free + 10  # even: no node at r = 0, where (expm1(r) − r)/r² cancels
            nodes = [span * mpmath.cos(mpmath.pi * (2 * i + 1) / (2 * count)) for i in range(count)]
            a, b = mpmath.matrix(count, free), mpmath.matrix(count, 1)
            for i, r in enumerate(nodes):
                known = sum(mpmath.mpf(c) * r**k for k, c in enumerate(fixed))
                b[i] = (mpmath.expm1(r) - r) / r**2 - known
                for j in range(free):
                    a[i, j] = r ** (len(fixed) + j)
            solution = mpmath.lu_solve(a.T * a, a.T * b)
            fixed.append(rounded(solution[0]))
    return tuple(fixed)


def expm1_error_bound(coefficients, span: float, pieces: int = 64, terms: int = 30) -> float:
    """A proved bound on |r + r²·Q(r) − expm1(r)|/|expm1(r)| for |r| ≤ span, Q's coefficients the doubles given.

    With g(r) = (expm1(r) − r)/r² = Σ r^k/(k + 2)!, the error is r²·(g − Q), and r²/|expm1(r)| ≤ |r|·e^|r|.
    g − Q is D(r), the polynomial of g's first ``terms`` Taylor coefficients minus Q's, plus a remainder at
    most T^(N+1)·e^T/(N + 3)!. On each piece, D is re-expanded about the piece's centre c (exactly, in
    intervals), and |D(c + h)| ≤ Σ |e_j|·|h|^j.
    """
    iv = mpmath.iv
    saved, iv.dps = iv.dps, 40  # the interval context's own precision (15 digits by default)
    try:
        d = [
            1 / iv.mpf(math.factorial(k + 2)) - iv.mpf(coefficients[k] if k < len(coefficients) else 0)
            for k in range(terms + 1)
        ]
        t = iv.mpf(span)
        remainder = t ** (terms + 1) * iv.exp(t) / math.factorial(terms + 3)
        worst = mpmath.mpf(0)
        edges = [-span + 2 * span * i / pieces for i in range(pieces + 1)]
        for lo, hi in zip(edges[:-1], edges[1:]):
            centre, half = (iv.mpf(lo) + iv.mpf(hi)) / 2, (iv.mpf(hi) - iv.mpf(lo)) / 2
            e = list(d)
            for j in range(len(e)):  # Taylor shift: e becomes D's coefficients in h = r − c
                for k in range(len(e) - 2, j - 1, -1):
                    e[k] = e[k] + centre * e[k + 1]
            size = abs(e[0]) + sum(abs(e[j]) * half**j for j in range(1, len(e)))
            r = iv.mpf(max(abs(lo), abs(hi)))
            worst = max(worst, (r * iv.exp(r) * (size + remainder)).b)
        return float(worst)
    finally:
        iv.dps = saved

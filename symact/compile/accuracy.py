"""Accuracy of kernels against mpmath: test points, high-precision truth, and ULP error."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from ..fn import Fn
from ..rounding import exact
from ..stable import stable_form


def points(n: int, seed: int = 0) -> np.ndarray:
    """n points log-uniform over ±[1e-8, 1e3], then ±0, ±1e4, ±inf and NaN."""
    rng = np.random.default_rng(seed)
    mags = 10 ** rng.uniform(-8, 3, n)
    signs = rng.choice([-1.0, 1.0], n)
    edges = [0.0, -0.0, 1e4, -1e4, np.inf, -np.inf, np.nan]
    return np.concatenate([mags * signs, edges])


#: Beyond this argument, mpmath's erfc fails (its series check squares a huge int into a float), and
#: :func:`_erfc` takes the asymptotic series instead.
ERFC_ASYMPTOTIC = 10**100


def _erfc(z):
    """mpmath's erfc, but for z > ERFC_ASYMPTOTIC e^(−z²)/(z√π)·(1 − 1/(2z²) + 3/(4z⁴)), whose remainder is below
    the first omitted term (DLMF 7.12(ii)), 15/(8z⁶) < 10^-600 relatively: the truth at any working precision."""
    if mpmath.re(z) < ERFC_ASYMPTOTIC:
        return mpmath.erfc(z)
    w = 1 / (2 * z * z)
    return mpmath.exp(-z * z) / (z * mpmath.sqrt(mpmath.pi)) * (1 - w + 3 * w * w)


def reference(fn: Fn, xs: np.ndarray) -> tuple[list, list]:
    """The truth at 50+ digits, from the stable forms, which are proved equal to the definition
    (tests/test_stable.py): they avoid the cancellation that would need millions of digits
    in, e.g., 1 + tanh(u) for GELU-tanh at x = −1000."""
    x = fn.inputs[0]
    sf = stable_form(fn)
    modules = [{"erfc": _erfc}, "mpmath"]
    f = sp.lambdify(x, fn.bind(exact(sf.f)), modules)  # in exact arithmetic every rounding error is 0
    df = sp.lambdify(x, fn.bind(exact(sf.df)), modules)
    ys, dys = [], []
    for v in xs:
        if not np.isfinite(v):
            ys.append(None)
            dys.append(None)
            continue
        # The definition's own form can cancel (1 − σ(x) at x = 100 loses 43 digits):
        # 50 digits plus the digits that exp(|x|) can cancel.
        with mpmath.workdps(50 + int(0.44 * min(abs(v), 1e4) * 2)):
            m = mpmath.mpf(float(v))
            ys.append(+f(m))
            dys.append(+df(m))
    return ys, dys


def ulp_error(got: np.ndarray, truth: list, dtype) -> float:
    """The largest error of ``got`` in ULP of the truth (absolute, in smallest normals, where that is subnormal)."""
    with mpmath.workdps(50):  # at the default 15 digits the truth itself would be rounded to a double
        return _ulp_error(got, truth, dtype)


def _ulp_error(got: np.ndarray, truth: list, dtype) -> float:
    info = np.finfo(dtype)
    # the least magnitude that rounds to ±inf: the largest finite number plus half its ULP (a tie rounds to
    # even, the infinity); a truth between the largest number and this rounds to the largest number
    overflow = mpmath.mpf(2) ** info.maxexp - mpmath.mpf(2) ** (info.maxexp - info.nmant - 2)
    worst = 0.0
    for g, t in zip(got, truth):
        if t is None:
            continue
        t = mpmath.mpf(t)
        if not mpmath.isfinite(t):
            continue
        if abs(t) >= overflow:  # overflows in this dtype: the kernel must say ±inf
            worst = max(worst, 0.0 if np.isinf(g) and (g > 0) == (t > 0) else float("inf"))
            continue
        if abs(t) < info.tiny:  # subnormal or zero truth: absolute error against the smallest normal
            err = float(abs(mpmath.mpf(float(g)) - t) / mpmath.mpf(float(info.tiny)))
            worst = max(worst, 0.0 if err <= 1 else err)
            continue
        if not np.isfinite(g):
            return float("inf")
        exponent = mpmath.floor(mpmath.log(abs(t), 2))
        ulp = mpmath.mpf(2) ** (exponent - (info.nmant))
        worst = max(worst, float(abs(mpmath.mpf(float(g)) - t) / ulp))
    return worst

"""Accuracy of kernels against mpmath: test points, high-precision truth, and ULP error."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..analyze import removable_value
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


#: Beyond this |z|, mpmath's exp(z) works as long as e^z's exponent has digits: the Gumbel-like exp(−2e^(−3x)) at
#: x = −1000, e^(−2e^3000), did not finish in ten minutes. :func:`_exp` answers there instead.
EXP_REACH = mpmath.mpf(2) ** 40


def _exp(z):
    """mpmath's exp, but for real z < −EXP_REACH 0 (e^z < 10^(−10^11), below any float by a factor of 10^(10^11),
    which no factor in an activation makes up), and for z > EXP_REACH no truth (ValueError: above every float,
    by as much, and a product with it could be anything)."""
    if isinstance(z, mpmath.mpf) and abs(z) > EXP_REACH:
        if z > 0:
            raise ValueError("exp beyond every float")
        return mpmath.mpf(0)
    return mpmath.exp(z)


def reference(fn: Fn, xs: np.ndarray) -> tuple[list, list]:
    """The truth at 50+ digits, from the stable forms, which are proved equal to the definition
    (tests/test_stable.py): they avoid the cancellation that would need millions of digits
    in, e.g., 1 + tanh(u) for GELU-tanh at x = −1000. Where a form is 0/0, as sin(x)/x at 0, the truth is
    the definition's limit there (a removable singularity), or none where the two sides' limits differ."""
    x = fn.inputs[0]
    sf = stable_form(fn)
    modules = [{"erfc": _erfc, "exp": _exp}, "mpmath"]
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
        digits = 50 + int(0.44 * min(abs(v), 1e4) * 2)
        ys.append(_settled(f, v, digits, functools.partial(_limit, fn.bind(), x, v)))
        dys.append(_settled(df, v, digits, functools.partial(_limit, fn.bind(fn.derivative()), x, v)))
    return ys, dys


#: Where |x| < 1, the truth is taken again at twice the digits until two agree to this many digits: a user's form
#: can cancel there by hundreds of digits (the slope of sin(x)/x, cos(x)/x − sin(x)/x², at x = 10⁻³⁰⁰ needs 600),
#: which no fixed precision foresees. Most digits tried: 6400.
AGREE, MOST_DIGITS = 40, 6400


def _settled(g, v: float, digits: int, at_hole):
    """g(v) at ``digits`` digits, or where |v| < 1 at the first of twice as many, four times as many, … that
    agrees with the one before (:func:`_real`). A 0 is not taken as settled, as a sum that cancels entirely
    gives it: only MOST_DIGITS confirm it (ReLU left of 0)."""
    with mpmath.workdps(digits):
        value = _real(g, mpmath.mpf(float(v)), at_hole)
    while v != 0 and abs(v) < 1 and digits < MOST_DIGITS:
        digits *= 2
        with mpmath.workdps(digits):
            more = _real(g, mpmath.mpf(float(v)), at_hole)
            if (
                value is None
                or more is None
                or (more != 0 and abs(more - value) <= abs(more) * mpmath.mpf(10) ** -AGREE)
            ):
                return more
        value = more
    return value


def _real(g, m, at_hole=lambda: None):
    """g(m), or where it divides by 0 the value ``at_hole`` gives, or None where it has no real value: log x for
    x < 0 (complex)."""
    try:
        value = +g(m)
    except ZeroDivisionError:
        return at_hole()
    except ValueError:
        return None
    if isinstance(value, mpmath.mpc):
        return value.real if value.imag == 0 else None
    return value


def _limit(expr: sp.Expr, x: sp.Symbol, v: float):
    """expr's limit at x = v from both sides where they agree and are finite (sin(x)/x → 1 at 0), else None."""
    return removable_value(expr, x, sp.Rational(float(v)))


def ulp_error(got: np.ndarray, truth: list, dtype) -> float:
    """The largest error of ``got`` in ULP of the truth (absolute, in smallest normals, where that is subnormal)."""
    errors = ulp_errors(got, truth, dtype)
    return float(np.nanmax(errors)) if not np.all(np.isnan(errors)) else 0.0


def ulp_errors(got: np.ndarray, truth: list, dtype) -> np.ndarray:
    """Each point's error of ``got`` in ULP of its truth, as :func:`ulp_error` counts it; NaN where there is no
    finite truth (±inf and NaN inputs)."""
    info = np.finfo(dtype)
    with mpmath.workdps(50):  # at the default 15 digits the truth itself would be rounded to a double
        # the least magnitude that rounds to ±inf: the largest finite number plus half its ULP (a tie rounds to
        # even, the infinity); a truth between the largest number and this rounds to the largest number
        overflow = mpmath.mpf(2) ** info.maxexp - mpmath.mpf(2) ** (info.maxexp - info.nmant - 2)
        return np.array([_ulp(g, t, info, overflow) for g, t in zip(got, truth)], dtype=np.float64)


def _ulp(g: float, t, info: np.finfo, overflow) -> float:
    if t is None or not mpmath.isfinite(t := mpmath.mpf(t)):
        return float("nan")
    if abs(t) >= overflow:  # overflows in this dtype: the kernel must say ±inf
        return 0.0 if np.isinf(g) and (g > 0) == (t > 0) else float("inf")
    if abs(t) < info.tiny:  # subnormal or zero truth: absolute error against the smallest normal
        if not np.isfinite(g):  # (a NaN would otherwise be no error at all: NaN ≤ 1 is false, and nanmax skips it)
            return float("inf")
        err = float(abs(mpmath.mpf(float(g)) - t) / mpmath.mpf(float(info.tiny)))
        return 0.0 if err <= 1 else err
    if not np.isfinite(g):
        return float("inf")
    exponent = mpmath.floor(mpmath.log(abs(t), 2))
    return float(abs(mpmath.mpf(float(g)) - t) / mpmath.mpf(2) ** (exponent - info.nmant))


@dataclass(frozen=True)
class Measured:
    """One kernel's largest errors in ULP over the points, for f and f', and where each is."""

    backend: str
    dtype: str
    compared: int  # points where f and f' have a finite real truth, of those measured
    f: float
    f_at: float | None
    df: float
    df_at: float | None


def measure(fn: Fn, xs: np.ndarray, backends, dtypes=("float64", "float32"), done=None) -> list[Measured]:
    """The largest error of each backend's and dtype's kernel of ``fn`` at ``xs``, against mpmath: float32 kernels
    against the truth at their rounded inputs. ``done()`` is called after each dtype's truth and each kernel (a
    progress bar: len(dtypes) · (1 + len(backends)) calls)."""
    from . import compile as compile_kernel

    truth = {}
    for dtype in dtypes:
        truth[dtype] = reference(fn, xs.astype(dtype).astype(np.float64))
        if done is not None:
            done()
    rows = []
    for backend in backends:
        for dtype in dtypes:
            xin = xs.astype(dtype)
            y, dy = compile_kernel(fn, backend=backend, dtype=dtype)(xin)
            errors = [ulp_errors(v, t, dtype) for v, t in zip((y, dy), truth[dtype])]
            worst = [_worst(e, xin) for e in errors]
            compared = int(np.count_nonzero(~np.isnan(errors[0]) & ~np.isnan(errors[1])))
            rows.append(Measured(backend, dtype, compared, *worst[0], *worst[1]))
            if done is not None:
                done()
    return rows


def _worst(errors: np.ndarray, xs: np.ndarray) -> tuple[float, float | None]:
    """The largest error and the first x where it is (None where no point has a finite truth, or none errs)."""
    if np.all(np.isnan(errors)) or np.nanmax(errors) == 0:
        return 0.0, None
    i = int(np.nanargmax(errors))
    return float(errors[i]), float(xs[i])

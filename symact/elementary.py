"""expm1, log1p and erfc as array code for the JAX target, because XLA's own are not accurate enough.

Measured against mpmath in float64 (jax 0.10.2 on this machine's CPU), XLA's expm1 is up to 4 ULP from the
truth, its log1p 112 ULP and jax.scipy.special.erfc 506 ULP; glibc's, which the NumPy and C targets use,
are within 1. XLA's log is within 1 ULP, and the rest is arithmetic:

- **e^(x + x_lo)** = 2^k·(1 + p): x = k·ln 2 + r with |r| ≤ ln 2/2 (Cody–Waite: k·ln2_hi is exact, and r
  is carried as hi + lo with x_lo in it), and p = expm1(r) as its Taylor polynomial, of the degree
  :class:`symact.rounding.expm1_small` proves within 2^-60.
- **expm1(x)** = 2^k·(p + (1 − 2^-k)): one rounding for every k, and exactly p for k = 0.
- **log1p(x)**: u = fl(1 + x) and its exact rounding error c; then log1p(x) = log(u) + c/u, to first
  order in c/u ≤ 2^-53.
- **erfc(z)** for z ≥ 0: √(2/π)·M(z√2)·e^(−z²), with M the Mills ratio's rational function V/(a·V + U)
  (:mod:`symact.mills`, proved within 2^-52). V and a·V + U are evaluated by compensated Horner, and
  z√2, z², M and √(2/π)·M are carried as hi + lo, so the one rounding left is the last product's.
  For z < 0, erfc(z) = 2 − erfc(−z).

Jitted, against mpmath (tests/test_codegen.py), in ULP of the true value: expm1 1.74, log1p 1.13 and
erfc 1.46 at most in float64; 1.16, 1.33 and 1.74 in float32.

Under ``jax.jit``, XLA's algebraic simplifier rewrites (a + b) − a as b, and XLA contracts a·b + c into a
fused multiply-add; either would spoil the exact rounding errors these helpers (and
:func:`symact.rounding.python_helpers`) compute. The JAX prelude's ``_keep`` hides a value from both.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

from .mills import SPAN, U, V
from .rounding import REDUCED_SPAN, expm1_small, split

#: The helpers this module defines, by the SymPy function they replace.
REPLACES = {"expm1": "_expm1", "log1p": "_log1p", "erfc": "_erfc"}


@functools.cache
def _constants() -> dict[str, str]:
    with mpmath.workdps(50):
        ln2 = mpmath.log(2)
        sqrt2 = mpmath.sqrt(2)
        k = mpmath.sqrt(2 / mpmath.pi)
        out = {
            "INV_LN2": float(1 / ln2),
            # |k| ≤ 1100 has 11 bits: ln2_hi keeps 53 − 11 bits in float64 and 24 − 11 in float32
            "LN2_64": split(ln2, 42),
            "LN2_32": split(ln2, 13),
            "SQRT2_HI": float(sqrt2),
            "SQRT2_LO": float(sqrt2 - float(sqrt2)),
            "K_HI": float(k),
            "K_LO": float(k - float(k)),
        }
    taylor = [float(sp.Rational(1, sp.factorial(n))) for n in range(2, expm1_small.degree(REDUCED_SPAN) + 1)]
    out.update(EXPM1=tuple(taylor), V=V, U=U, SPAN=SPAN)
    return {name: repr(value) for name, value in out.items()}


_EXP = '''
_EXPM1_TAYLOR = {EXPM1}  # 1/2!, 1/3!, ...: the remainder is proved below 2^-60 on |r| <= ln 2/2


def _exp_reduced(x, x_lo):
    """(k, p) with e^(x + x_lo) = 2^k*(1 + p): x = k*ln 2 + r, |r| <= ln 2/2, and p = expm1(r + x_lo)."""
    hi, lo = {LN2_64} if x.dtype == xp.float64 else {LN2_32}
    k = xp.round(x * {INV_LN2})
    d = x - k * hi  # exact: k*hi has at most 53 bits, and x is near it
    r = _keep(d - k * lo)
    r_lo = ((d - r) - k * lo) + x_lo
    q = _EXPM1_TAYLOR[-1]
    for a in reversed(_EXPM1_TAYLOR[:-1]):
        q = q * r + a
    p = r + (r * r) * q
    return k.astype(xp.int32), p + r_lo * (1 + p)  # expm1(r + r_lo), to first order in r_lo
'''

_EXPM1 = '''

def _expm1(x):
    """expm1(x) to about 2 ULP: 2^k*(expm1(r) + (1 - 2^-k)), one rounding for every k."""
    c = xp.clip(x, -45.0, 710.0)  # expm1 is -1 below (e^-45 < 2^-64), and overflows above
    k, p = _exp_reduced(c, 0.0)
    out = xp.ldexp(p + (1 - xp.ldexp(xp.ones_like(p), -k)), k)
    return xp.where(xp.isnan(x) | (x == 0), x, out)  # (and -0 stays -0)
'''

_LOG1P = '''

def _log1p(x):
    """log1p(x) to about 1 ULP: log(u) + c/u, u = fl(1 + x) and c = 1 + x - u exactly."""
    u = _keep(1 + x)
    c = _sum_err(xp.ones_like(x), x)
    log_u = xp.log(u)
    out = xp.where(xp.isfinite(u) & (u != 0), log_u + c / u, log_u)
    return xp.where(x == 0, x, out)  # (and -0 stays -0)
'''

_ERFC = '''
_MILLS_V = {V}
_MILLS_U = {U}


def _horner_hi_lo(coefficients, t):
    """The polynomial at t as hi + lo (compensated Horner: each step's product and sum errors, carried)."""
    hi, lo = coefficients[-1] + xp.zeros_like(t), xp.zeros_like(t)
    for a in reversed(coefficients[:-1]):
        p = _keep(hi * t)
        s = _keep(p + a)
        lo = lo * t + (_prod_err(hi, t) + _sum_err(p, a))
        hi = s
    return hi, lo


def _erfc(z):
    """erfc(z) to about 2 ULP: sqrt(2/pi)*M(z*sqrt(2))*e^(-z^2), M the Mills ratio V/(a*V + U)."""
    az = xp.minimum(xp.abs(z), 27.5)  # erfc(27.3) is below the smallest subnormal
    a = _keep(az * {SQRT2_HI})
    a_lo = az * {SQRT2_LO} + _prod_err(az, {SQRT2_HI})
    a = xp.minimum(a, {SPAN})
    v, v_lo = _horner_hi_lo(_MILLS_V, a)
    u, u_lo = _horner_hi_lo(_MILLS_U, a)
    av = _keep(a * v)
    d = _keep(av + u)
    d_lo = (_prod_err(a, v) + _sum_err(av, u)) + (a * v_lo + u_lo)
    m = _keep(v / d)  # M(a) as m + m_lo: (v + v_lo)/(d + d_lo), then M(a + a_lo) with M' = a*M - 1
    md = _keep(m * d)
    m_lo = (((v - md) - _prod_err(m, d)) + v_lo - m * d_lo) / d + (a * m - 1) * a_lo
    km = _keep({K_HI} * m)  # sqrt(2/pi)*M as km + km_lo
    km_lo = _prod_err({K_HI}, m) + ({K_LO} * m + {K_HI} * m_lo)
    k, p = _exp_reduced(-_keep(az * az), -_prod_err(az, az))  # e^(-z^2) = 2^k*(1 + p)
    t = xp.ldexp(km + (_keep(km * p) + km_lo * (1 + p)), k)
    return xp.where(z < 0, 2 - t, t)
'''

_SOURCES = {"_expm1": _EXPM1, "_log1p": _LOG1P, "_erfc": _ERFC}
_NEEDS_EXP = {"_expm1", "_erfc"}


def jax_helpers(used: set[str]) -> str:
    """Source of the helpers in ``used`` (names from :data:`REPLACES`), for a module that imports
    ``jax.numpy as xp`` and defines ``_keep``, ``_prod_err`` and ``_sum_err``."""
    constants = _constants()
    names = [name for name in REPLACES.values() if name in used]
    shared = [_EXP] if _NEEDS_EXP & set(names) else []
    return "".join(source.format(**constants) for source in shared + [_SOURCES[name] for name in names])

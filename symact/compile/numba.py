"""The numba backend: a generated module with a parallel ``prange`` loop, cached on disk by numba.

numba cannot cache functions made by lambdify, so the kernel is written as
a real source file in the cache directory and imported from there; its
``cache=True`` then keeps the machine code between runs. The loop divides as
IEEE 754 does (``error_model="numpy"``): a subexpression shared by the branches
of a choice is computed for every x, and 1/0 is inf there, not numba's
ZeroDivisionError (x/sinh x's slope at 0, where a window takes over).
"""

from __future__ import annotations

import functools
import importlib.util
import math

import mpmath
import numpy as np
from sympy.printing.pycode import PythonCodePrinter

from .. import __version__
from ..minimax import EXPM1
from ..rounding import (
    LOG1P_DOUBLE_TARGET,
    REDUCED,
    PythonAtoms,
    log1p_float,
    python_exp_err,
    python_helpers,
    split,
)
from .c import SPECIAL, identical
from .cache import import_generated
from .fork import forked
from .forms import KernelForms


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


class Printer(PythonAtoms, PythonCodePrinter):
    """Python's printing, with the rounding atoms as the module's helpers, and exp, expm1 and log1p as the
    inline helpers of :func:`exp_helpers` and :func:`log1p_helper` (math's are scalar calls, which keep LLVM
    from vectorizing the loop)."""

    #: The kernels' modules define the helpers; code generated for users (symact.codegen) calls math's and
    #: stands alone.
    inline_exp = True

    def _print_Pow(self, expr, rational=False):
        """b^−k for k = 2, 3, 4 as 1/(b·…·b), as C prints it: numba raises ZeroDivisionError at 0.0**-2 under any
        error model, where a shared subexpression is computed for every x (x/sinh x's slope at 0)."""
        base, e = expr.args
        if e.is_Integer and -4 <= e <= -2:
            return f"(1/({self._print(base**-e)}))"
        return super()._print_Pow(expr, rational=rational)

    @property
    def exp_err_helper(self) -> bool:  # the kernels' modules define _exp_err (EXP_ERR)
        return self.inline_exp

    def _print_exp(self, expr):
        return f"_exp({self._print(expr.args[0])})" if self.inline_exp else super()._print_exp(expr)

    def _print_expm1(self, expr):
        return f"_expm1({self._print(expr.args[0])})" if self.inline_exp else super()._print_expm1(expr)

    def _print_log1p(self, expr):
        return f"_log1p({self._print(expr.args[0])})" if self.inline_exp else super()._print_log1p(expr)

    def _print_exp_short(self, expr):
        """exp_short and expm1_short (in the ``fused`` forms, which numba takes too) as _exp and _expm1."""
        return self._print(expr.exact_reading())

    _print_expm1_short = _print_exp_short

    def _print_reduced(self, expr):
        """The float32 forms' exp and expm1 to 2^-40 (:class:`symact.rounding.exp_f32` and its kin) as the
        short helpers of :func:`reduced_helpers`; code for users: math's."""
        if not self.inline_exp:
            return super()._print_reduced(expr)
        return f"_{type(expr).__name__}({self._print(expr.args[0])})"

    _print_exp_f32 = _print_expm1_f32 = _print_exp_f32_short = _print_expm1_f32_short = _print_reduced

    def _print_exp_fma(self, expr):
        """e^(t + t_lo) with t_lo in the reduction's low part; code for users: exp(t + t_lo), rounded first."""
        if not self.inline_exp:
            return super()._print_exp_fma(expr)
        return f"_exp_fma({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_exp_tail(self, expr):
        """2^(64·[t < −708])·e^(t + t_lo) − m; code for users: its exact reading."""
        if not self.inline_exp:
            return super()._print_exp_tail(expr)
        return f"_exp_tail({', '.join(self._print(a) for a in expr.args)})"


def _horner(coefficients, var: str) -> str:
    """c_0 + var·(c_1 + var·(… + var·c_n)) as Python source, without fma: the helpers' polynomials."""
    out = repr(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        out = f"({out} * {var} + {c!r})"
    return out


@functools.cache
def exp_helpers() -> str:
    """``_exp(t)``, ``_expm1(t)`` and ``_exp_fma(t, tl)`` (:class:`symact.rounding.exp_fma`) for numba, in
    plain double arithmetic that LLVM vectorizes: the C helpers' reduction and polynomial
    (:func:`symact.rounding.exp_helpers`), with ln 2 split in three (42, 42 and 53 bits), so that k·ln2_hi and
    k·ln2_mid are exact without a fused multiply-add and r + r_lo is t (+ tl) − k·ln 2 to ~2^-100; the
    polynomial in two Horner chains, without fma; 2^k built from k's bits (a view of an int64), moved by ∓64
    beyond ±708 and scaled back, as in C. 10^7 points, 2 threads, Zen 4: the numba tanh in float32 135 →
    13.5 ms, ELU 83 → 11 ms, GELU in float64 (its fused form, with _exp_fma) 189 → 25 ms; within 0.84 and
    1.73 ULP, _exp_fma within 1 (tests/test_kernels.py)."""
    with mpmath.workdps(60):
        ln2 = mpmath.log(2)
        hi, _ = split(ln2, 42)
        mid, _ = split(ln2 - mpmath.mpf(hi), 42)
        lo_ = float(ln2 - mpmath.mpf(hi) - mpmath.mpf(mid))
        inverse = float(1 / ln2)
    up, down = repr(2.0**64), repr(2.0**-64)  # Python has no hexadecimal float literals

    def core(clamp: str, shift: str, tl: str = "") -> str:
        return f"""    c = {clamp}
    k = math.floor(c * {inverse!r} + 0.5)
    d = c - k * {hi!r}  # exact: k·ln2_hi has at most 53 bits, and c is near it
    r = d - k * {mid!r}
    r_lo = ((d - r) - k * {mid!r}) - k * {lo_!r}{tl}  # r + r_lo = t{tl} − k·ln 2
    r2 = r * r
    p = r2 * ({_horner(EXPM1[1::2], "r2")} * r + {_horner(EXPM1[0::2], "r2")}) + r  # expm1(r)
    q = p + (p * r_lo + r_lo)  # expm1(r + r_lo) to first order
    s = numpy.int64((numpy.int64(k{shift}) + 1023) << 52).view(numpy.float64)"""

    wide = core("min(max(t, -746.0), 710.0)", " - (64.0 if c > 708.0 else (-64.0 if c < -708.0 else 0.0))")
    return (
        '\n\n@numba.njit(inline="always", cache=True)\ndef _exp(t):\n'
        '    """e^t (symact.compile.numba.exp_helpers): s = 2^k, or 2^(k ∓ 64) beyond ±708."""\n'
        f"{wide}\n"
        f"    return (s + s * q) * ({up} if c > 708.0 else ({down} if c < -708.0 else 1.0))\n"
        '\n\n@numba.njit(inline="always", cache=True)\ndef _expm1(t):\n'
        '    """e^t − 1, rounded once: 2^k − 1 is exact for k ≥ −53."""\n'
        f"{wide}\n"
        f"    return ((s - ({down} if c > 708.0 else 1.0)) + s * q) * ({up} if c > 708.0 else 1.0)\n"
        '\n\n@numba.njit(inline="always", cache=True)\ndef _exp_fma(t, tl):\n'
        '    """e^(t + tl) for t ≤ 709 (symact.rounding.exp_fma), tl carried in r_lo; 0 below t = −708."""\n'
        f"{core('min(max(t, -708.0), 709.0)', '', ' + tl')}\n"
        "    return 0.0 if t < -708.0 else s + s * q\n"
        '\n\n@numba.njit(inline="always", cache=True)\ndef _exp_tail(t, tl, m):\n'
        '    """2^(64·[t < −708])·e^(t + tl) − m for t ≤ 708 (symact.rounding.exp_tail): s = 2^(k + 64) below −708."""\n'
        f"{core('max(t, -752.0)', ' + (64.0 if c < -708.0 else 0.0)', ' + tl')}\n"
        "    return (s - m) + s * q\n"
    )


@functools.cache
def reduced_helpers() -> str:
    """``_exp_f32(t)``, ``_expm1_f32(t)`` and their ``_short`` kin for numba: the float32 forms' exp and expm1
    (:data:`symact.rounding.REDUCED`), computed in double, as C's :func:`symact.rounding.reduced_helpers` does:
    t clamped to [−708, 709], r = t − k·ln 2 with ln 2 in two parts (k·ln2_hi exact) and no low part, the
    Taylor polynomial of the atom's degree (2^-40, or 2^-29 for the short ones), 2^k from k's bits."""
    with mpmath.workdps(40):
        ln2 = mpmath.log(2)
        hi, _ = split(ln2, 42)  # k·ln2_hi exact for |k| < 2^11, and c − k·ln2_hi exact (Sterbenz)
        lo_ = float(ln2 - mpmath.mpf(hi))
        inverse = float(1 / ln2)
    out = []
    for atom in REDUCED:
        poly = _horner([1 / math.factorial(k) for k in range(1, atom.degree() + 1)], "r")
        result = "(s - 1.0) + s * p" if atom.library == "expm1" else "s + s * p"
        out.append(f'''

@numba.njit(inline="always", cache=True)
def _{atom.__name__}(t):
    """{atom.library}(t) to 2^{round(math.log2(atom.TARGET))} (symact.compile.numba.reduced_helpers)."""
    c = min(max(t, -708.0), 709.0)
    k = math.floor(c * {inverse!r} + 0.5)
    r = (c - k * {hi!r}) - k * {lo_!r}
    p = r * {poly}  # expm1(r)
    s = numpy.int64((numpy.int64(k) + 1023) << 52).view(numpy.float64)  # 2^k
    return {result}
''')
    return "".join(out)


#: |s| = |f/(2 + f)| for 1 + f in [√2/2, √2): at most (√2 − 1)/(√2 + 1) = 0.1716, with a margin for rounding
LOG1P_SPAN = 0.17158


@functools.cache
def log1p_helper() -> str:
    """``_log1p(v)`` for numba, in plain double arithmetic that LLVM vectorizes (math.log1p is a scalar call:
    10^7 points, 2 threads, Zen 4, the numba softplus 122 → 24 ms, log σ 125 → 23 ms). fdlibm's log1p
    without its table, as musl writes it: 1 + v = 2^k·(1 + f) with 1 + f in [√2/2, √2) from the bits of
    u = fl(1 + v), c = the rounding of 1 + v relative to u, s = f/(2 + f), and
    log1p(v) = k·ln 2 + c + f − (f²/2 − s·(f²/2 + R(s²))) with R(z) = Σ 2z^j/(2j + 1)
    (:class:`symact.rounding.log1p_float`'s identity), truncated at the least degree proved within
    LOG1P_DOUBLE_TARGET (:meth:`~symact.rounding.log1p_float.bound`). ±0, −1, inf, NaN and v < −1 give log1p's
    values."""
    degree = log1p_float.degree(LOG1P_SPAN, LOG1P_DOUBLE_TARGET)
    chain = _horner([2 / (2 * j + 1) for j in range(1, degree + 1)], "z")
    with mpmath.workdps(40):
        ln2 = mpmath.log(2)
        hi, _ = split(ln2, 32)  # k·ln2_hi is exact for |k| < 2^21
        lo_ = float(ln2 - mpmath.mpf(hi))
    return f'''

@numba.njit(inline="always", cache=True)
def _log1p(v):
    """log1p(v) (symact.compile.numba.log1p_helper)."""
    u = 1.0 + v
    inside = v > -1.0 and v < math.inf  # else ±inf, NaN, or v < −1
    hu = numpy.float64(u).view(numpy.int64) + {0x3FF0000000000000 - 0x3FE6A09E00000000}  # √2/2 to 1: k counts from there
    k = (hu >> 52) - 1023
    # c = log(1 + v) − log(u) to first order (u is 1 where v is outside, and no division raises)
    c = ((1.0 - (u - v)) if k >= 2 else (v - (u - 1.0))) / (u if inside else 1.0)
    f = numpy.int64((hu & 0x000FFFFFFFFFFFFF) + 0x3FE6A09E00000000).view(numpy.float64) - 1.0  # u = 2^k·(1 + f)
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    dk = numpy.float64(k)
    r = s * (hfsq + z * {chain}) + (dk * {lo_!r} + c) - hfsq + f + dk * {hi!r}
    # ±0, inf and NaN themselves; −1: −inf; v < −1: NaN
    return r if inside and v != 0.0 else (v if v >= 0.0 or v != v else (-math.inf if v == -1.0 else math.nan))
'''


#: The helpers compiled inline: the kernel computes in double (float32 data too).
ERRORS = python_helpers("True").replace("\n\ndef ", '\n\n@numba.njit(inline="always", cache=True)\ndef ')

#: The kernels' fma and exact product error through LLVM's fma intrinsic, one rounding: the instruction where
#: the CPU has it, vectorized with the loop, else a call to libm's fma. ERRORS' forms (Dekker's product, and
#: an fma "rounded about once" from it) cost about 17 operations each, which code generated for users keeps,
#: as it must run anywhere (10^7 float64 points, 2 threads, Zen 4: the numba SiLU, whose root window is 11
#: nested fmas, 69.2 → 18.9 ms; Mish 129 → 28.7). _sum_err stays Knuth's.
KERNEL_ERRORS = '''

from llvmlite import ir as _ir
from numba import types as _types
from numba.extending import intrinsic as _intrinsic


@_intrinsic
def _fma(typingctx, a, b, c):
    """a*b + c, rounded once (LLVM's llvm.fma.f64)."""
    def codegen(context, builder, signature, args):
        d = _ir.DoubleType()
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [d], _ir.FunctionType(d, [d, d, d])), args)

    return _types.float64(_types.float64, _types.float64, _types.float64), codegen


@numba.njit(inline="always", cache=True)
def _prod_err(a, b):
    """a*b - fl(a*b), exactly."""
    p = a * b
    return _fma(a, b, -p)
''' + ERRORS[ERRORS.index('\n\n@numba.njit(inline="always", cache=True)\ndef _sum_err') :]


#: The double-double exp's low part (:class:`symact.rounding.exp_err`), on scalars, compiled inline.
EXP_ERR = python_exp_err(arrays=False).replace("\n\ndef ", '\n\n@numba.njit(inline="always", cache=True)\ndef ')


def source(name: str, forms: KernelForms) -> str:
    """A module with ``fdf``, a parallel loop, and ``fdf_serial``, the same loop on the calling thread (numba
    compiles it on its first call: in the child of a fork, see :mod:`symact.compile.fork`); and the same two
    without the guards that return the limits at ±inf and x at NaN, ``fdf_raw`` and ``fdf_raw_serial``, which
    the kernel takes where its own arithmetic gives those values (:func:`raw_gives_the_limits`)."""
    p = Printer({"fully_qualified_modules": True})
    lines = "\n".join(f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in forms.assignments)
    lo, hi, dlo, dhi = (f"float('{v}')" for v in forms.limits)
    guards = f"""
        if math.isinf(x):
            y = {hi} if x > 0 else {lo}
            dy = {dhi} if x > 0 else {dlo}
        if math.isnan(x):
            y = x
            dy = x"""

    def loop(fname: str, parallel: bool) -> str:
        return f"""
@numba.njit(parallel={parallel}, cache=True, fastmath=False, error_model="numpy")
def {fname}(X, Y, DY, with_derivative):
    for i in {"numba.prange" if parallel else "range"}(X.size):
        x = numba.float64(X[i])  # compute in double, also for float32 data
{lines}
        y = {p.doprint(forms.f)}
        dy = {p.doprint(forms.df)}{"" if fname.startswith("fdf_raw") else guards}
        Y[i] = y
        if with_derivative:
            DY[i] = dy
"""

    return f'''"""{name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit."""
import math

import numba
import numpy
{KERNEL_ERRORS}{EXP_ERR}{exp_helpers()}{reduced_helpers()}{log1p_helper()}
{loop("fdf", True)}
{loop("fdf_serial", False)}
{loop("fdf_raw", True)}
{loop("fdf_raw_serial", False)}'''


def raw_gives_the_limits(fdf_raw, limits: tuple[float, float, float, float], dtype: str) -> bool:
    """Whether the loop without guards returns what the guarded one does at ±inf (the limits, zeros of the same
    sign) and at NaN (NaN), in every lane and in a loop's remainder (:data:`symact.compile.c.SPECIAL`): then
    the guards, a few vector operations of every element's work, are not needed (10^7 float64 points, 2
    threads: sigmoid 10.1 → 8.8 ms, SiLU 16.7 → 15.4). The other inputs take the same path in both loops."""
    x = SPECIAL.astype(dtype)
    y, dy = np.empty_like(x), np.empty_like(x)
    fdf_raw(x, y, dy, True)
    lo, hi, dlo, dhi = limits
    nan = np.isnan(x)
    want = [
        np.where(x == np.inf, a, np.where(x == -np.inf, b, np.where(nan, np.nan, v))).astype(dtype)
        for a, b, v in ((hi, lo, y), (dhi, dlo, dy))
    ]
    return identical(y, want[0]) and identical(dy, want[1])


class NumbaKernel:
    def __init__(self, name: str, forms: KernelForms, dtype: str):
        self.source = source(name, forms)
        self._module = import_generated("numba", name, self.source)
        self._prefix = "fdf_raw" if raw_gives_the_limits(self._loop("fdf_raw"), forms.limits, dtype) else "fdf"

    def _loop(self, prefix: str):
        """The parallel loop, or in the child of a fork its serial twin (see :mod:`symact.compile.fork`)."""
        return getattr(self._module, f"{prefix}_serial" if forked() else prefix)

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        self._loop(self._prefix)(x.ravel(), y.ravel(), (dy if dy is not None else y).ravel(), dy is not None)

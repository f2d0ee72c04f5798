"""The numba backend: a generated module with a parallel ``prange`` loop, cached on disk by numba.

numba cannot cache functions made by lambdify, so the kernel is written as
a real source file in the cache directory and imported from there; its
``cache=True`` then keeps the machine code between runs.
"""

from __future__ import annotations

import importlib.util

import mpmath
import numpy as np
from sympy.printing.pycode import PythonCodePrinter

from .. import __version__
from ..minimax import EXPM1
from ..rounding import PythonAtoms, python_helpers, split
from .cache import import_generated
from .forms import KernelForms


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


class Printer(PythonAtoms, PythonCodePrinter):
    """Python's printing, with the rounding atoms as the module's helpers, and exp and expm1 as the inline
    helpers of :func:`exp_helpers` (math.exp is a scalar call that LLVM cannot vectorize)."""

    #: The kernels' modules define the helpers; code generated for users (symact.codegen) calls math's and
    #: stands alone.
    inline_exp = True

    def _print_exp(self, expr):
        return f"_exp({self._print(expr.args[0])})" if self.inline_exp else super()._print_exp(expr)

    def _print_expm1(self, expr):
        return f"_expm1({self._print(expr.args[0])})" if self.inline_exp else super()._print_expm1(expr)


def exp_helpers() -> str:
    """``_exp(t)`` and ``_expm1(t)`` for numba, in plain double arithmetic that LLVM vectorizes: the C
    helpers' reduction and polynomial (:func:`symact.rounding.exp_helpers`), with ln 2 split in three (42, 42
    and 53 bits), so that k·ln2_hi and k·ln2_mid are exact without a fused multiply-add and r + r_lo is
    t − k·ln 2 to ~2^-100; the polynomial in two Horner chains, without fma; 2^k built from k's bits (a view
    of an int64), moved by ∓64 beyond ±708 and scaled back, as in C. 10^7 points, 2 threads, Zen 4: the
    numba tanh in float32 135 → 13.5 ms, ELU 83 → 11 ms; within 0.84 and 1.73 ULP (tests/test_kernels.py)."""
    with mpmath.workdps(60):
        ln2 = mpmath.log(2)
        hi, _ = split(ln2, 42)
        mid, _ = split(ln2 - mpmath.mpf(hi), 42)
        lo_ = float(ln2 - mpmath.mpf(hi) - mpmath.mpf(mid))
        inverse = float(1 / ln2)
    up, down = repr(2.0**64), repr(2.0**-64)  # Python has no hexadecimal float literals

    def chain(cs):
        out = repr(cs[-1])
        for c in reversed(cs[:-1]):
            out = f"({out} * r2 + {c!r})"
        return out

    core = f"""    c = min(max(t, -746.0), 710.0)
    k = math.floor(c * {inverse!r} + 0.5)
    d = c - k * {hi!r}  # exact: k·ln2_hi has at most 53 bits, and c is near it
    r = d - k * {mid!r}
    r_lo = ((d - r) - k * {mid!r}) - k * {lo_!r}  # r + r_lo = t − k·ln 2
    r2 = r * r
    p = r2 * ({chain(EXPM1[1::2])} * r + {chain(EXPM1[0::2])}) + r  # expm1(r)
    q = p + (p * r_lo + r_lo)  # expm1(r + r_lo) to first order
    s = numpy.int64((numpy.int64(k - (64.0 if c > 708.0 else (-64.0 if c < -708.0 else 0.0))) + 1023) << 52).view(
        numpy.float64
    )  # 2^k, or 2^(k ∓ 64) beyond ±708"""
    return (
        '\n\n@numba.njit(inline="always", cache=True)\ndef _exp(t):\n'
        '    """e^t (symact.compile.numba.exp_helpers)."""\n'
        f"{core}\n"
        f"    return (s + s * q) * ({up} if c > 708.0 else ({down} if c < -708.0 else 1.0))\n"
        '\n\n@numba.njit(inline="always", cache=True)\ndef _expm1(t):\n'
        '    """e^t − 1, rounded once: 2^k − 1 is exact for k ≥ −53."""\n'
        f"{core}\n"
        f"    return ((s - ({down} if c > 708.0 else 1.0)) + s * q) * ({up} if c > 708.0 else 1.0)\n"
    )


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


def source(name: str, forms: KernelForms) -> str:
    p = Printer({"fully_qualified_modules": True})
    lines = "\n".join(f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in forms.assignments)
    lo, hi, dlo, dhi = (f"float('{v}')" for v in forms.limits)
    return f'''"""{name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit."""
import math

import numba
import numpy
{KERNEL_ERRORS}{exp_helpers()}

@numba.njit(parallel=True, cache=True, fastmath=False)
def fdf(X, Y, DY, with_derivative):
    for i in numba.prange(X.size):
        x = numba.float64(X[i])  # compute in double, also for float32 data
{lines}
        y = {p.doprint(forms.f)}
        dy = {p.doprint(forms.df)}
        if math.isinf(x):
            y = {hi} if x > 0 else {lo}
            dy = {dhi} if x > 0 else {dlo}
        if math.isnan(x):
            y = x
            dy = x
        Y[i] = y
        if with_derivative:
            DY[i] = dy
'''


class NumbaKernel:
    def __init__(self, name: str, forms: KernelForms, dtype: str):
        self.source = source(name, forms)
        self._fdf = import_generated("numba", name, self.source).fdf

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        self._fdf(x.ravel(), y.ravel(), (dy if dy is not None else y).ravel(), dy is not None)

"""The NumPy backend: the stable forms as ufunc expressions, in a generated module.

Piecewise becomes ``numpy.where``, which evaluates both branches; the
stable forms guard every branch (exp(−|x|), expm1(min(x, 0))), and the
module runs under ``errstate(all="ignore")`` so the discarded side cannot
warn. NumPy has no erf/erfc ufunc, so those fall back to ``math`` through
``numpy.frompyfunc`` (correct, not fast: use the C or numba backend for GELU).
"""

from __future__ import annotations

import numpy as np
from sympy.printing.numpy import NumPyPrinter

from .. import __version__
from .cache import import_generated
from .forms import KernelForms


class _Printer(NumPyPrinter):
    def _print_Piecewise(self, expr):
        *cases, (last, cond) = expr.args
        out = self._print(last)
        for value, c in reversed(cases):
            out = f"numpy.where({self._print(c)}, {self._print(value)}, {out})"
        return out

    def _print_erf(self, expr):
        return f"_erf({self._print(expr.args[0])})"

    def _print_erfc(self, expr):
        return f"_erfc({self._print(expr.args[0])})"


def source(name: str, forms: KernelForms) -> str:
    p = _Printer({"fully_qualified_modules": True})
    lines = [f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in forms.assignments]
    lo, hi, dlo, dhi = (repr(v) if v == v and abs(v) != float("inf") else f"float('{v}')" for v in forms.limits)
    body = "\n".join(lines)
    return f'''"""{name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit."""
import functools
import math

import numpy

_erf = numpy.frompyfunc(math.erf, 1, 1)
_erfc = numpy.frompyfunc(math.erfc, 1, 1)


def fdf(x):
    with numpy.errstate(all="ignore"):
{body}
        y = numpy.asarray({p.doprint(forms.f)}, dtype=x.dtype) + numpy.zeros_like(x)
        dy = numpy.asarray({p.doprint(forms.df)}, dtype=x.dtype) + numpy.zeros_like(x)
        inf = numpy.isinf(x)
        y[inf] = numpy.where(x[inf] > 0, {hi}, {lo})
        dy[inf] = numpy.where(x[inf] > 0, {dhi}, {dlo})
        nan = numpy.isnan(x)
        y[nan] = numpy.nan
        dy[nan] = numpy.nan
    return y, dy
'''


class NumpyKernel:
    def __init__(self, name: str, forms: KernelForms, dtype: str):
        self.source = source(name, forms)
        self.module = import_generated("numpy", name, self.source)

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        f, d = self.module.fdf(x)
        y[...] = f
        if dy is not None:
            dy[...] = d

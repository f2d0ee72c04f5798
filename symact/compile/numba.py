"""The numba backend: a generated module with a parallel ``prange`` loop, cached on disk by numba.

numba cannot cache functions made by lambdify, so the kernel is written as
a real source file in the cache directory and imported from there; its
``cache=True`` then keeps the machine code between runs.
"""

from __future__ import annotations

import importlib.util

import numpy as np
from sympy.printing.pycode import PythonCodePrinter

from .. import __version__
from ..rounding import PythonAtoms, python_helpers
from .cache import import_generated
from .forms import KernelForms


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


class Printer(PythonAtoms, PythonCodePrinter):
    """Python's printing, with the rounding atoms as the module's helpers."""


#: The helpers compiled inline: the kernel computes in double (float32 data too).
ERRORS = python_helpers("True").replace("\n\ndef ", '\n\n@numba.njit(inline="always", cache=True)\ndef ')


def source(name: str, forms: KernelForms) -> str:
    p = Printer({"fully_qualified_modules": True})
    lines = "\n".join(f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in forms.assignments)
    lo, hi, dlo, dhi = (f"float('{v}')" for v in forms.limits)
    return f'''"""{name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit."""
import math

import numba
{ERRORS}

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

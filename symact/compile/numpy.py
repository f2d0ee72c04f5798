"""The NumPy backend: the stable forms as ufunc expressions, in a generated module.

Piecewise becomes ``numpy.where``, which evaluates both branches (a costly
one, such as a root window's polynomial, only where it applies: MASKED); the
stable forms guard every branch (exp(−|x|), expm1(min(x, 0))), and the
module runs under ``errstate(all="ignore")`` so the discarded side cannot
warn. NumPy has no erf/erfc ufunc, so those fall back to ``math`` through
``numpy.frompyfunc``, as float64 arrays (correct, not fast: use the C or numba backend for GELU).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .. import __version__
from ..rounding import PythonAtoms, fma, prod_err, python_exp_err, python_helpers, sum_err
from .cache import import_generated
from .forms import KernelForms, shared

ERRORS = python_helpers("numpy.result_type(p) == numpy.float64") + python_exp_err(arrays=True)


#: NumPy has no erf or erfc ufunc: math's, elementwise, as float64 arrays. frompyfunc's own results are arrays
#: of Python floats, which make every later operation a Python call (the NumPy GELU in float64: 819 → 393 ms
#: for 10^6 points), and which the error helpers, reading the dtype (object), would split as float32.
ERF = """

def _erf(v):
    \"\"\"math.erf elementwise, as a float64 array: NumPy has no erf ufunc (correct; slow for big arrays).\"\"\"
    return numpy.asarray(numpy.frompyfunc(math.erf, 1, 1)(v), dtype=numpy.float64)


def _erfc(v):
    \"\"\"math.erfc elementwise, as a float64 array: NumPy has no erfc ufunc (correct; slow for big arrays).\"\"\"
    return numpy.asarray(numpy.frompyfunc(math.erfc, 1, 1)(v), dtype=numpy.float64)
"""


#: Operations from which a case of a Piecewise is computed only where its condition holds (:data:`MASKED`),
#: counting an emulated fused multiply-add or exact product or sum (python_helpers) as the 16 or so it costs
COSTLY = 60
EMULATED = (fma, prod_err, sum_err)


def _cost(expr: sp.Expr) -> int:
    return sp.count_ops(expr) + 16 * sum(isinstance(e, EMULATED) for e in sp.preorder_traversal(expr))


#: For the elementwise kernels (every array has x's shape): a case that costs COSTLY operations or more, in
#: practice a root window's long polynomial of emulated fused multiply-adds, is computed on the elements its
#: condition selects instead of on all of them, as numpy.where would; the same values. 2·10^6 float64 points
#: (normal, σ = 4): SiLU 256 → 90 ms, GELU-tanh 388 → 180, GELU 745 → 473, Mish 584 → 535.
MASKED = """

def _masked(cond, value, args, other):
    \"\"\"numpy.where(cond, value(*args), other), with value computed only where cond holds.\"\"\"
    out = numpy.array(numpy.broadcast_to(other, numpy.shape(cond)), dtype=numpy.float64)
    if numpy.any(cond):
        out[cond] = value(*(a[cond] if numpy.ndim(a) else a for a in args))
    return out
"""


class _Printer(PythonAtoms, NumPyPrinter):
    #: Print costly cases with _masked (MASKED), for modules that define it.
    masked = False
    exp_err_helper = True  # in ERRORS

    def _print_Piecewise(self, expr):
        *cases, (last, cond) = expr.args
        out = self._print(last)
        for value, c in reversed(cases):
            if self.masked and _cost(value) >= COSTLY:
                names = ", ".join(self._print(a) for a in sorted(value.free_symbols, key=sp.default_sort_key))
                args = f"({names},)" if names else "()"
                out = f"_masked({self._print(c)}, lambda {names}: {self._print(value)}, {args}, {out})"
            else:
                out = f"numpy.where({self._print(c)}, {self._print(value)}, {out})"
        return out

    def _print_erf(self, expr):
        return f"_erf({self._print(expr.args[0])})"

    def _print_erfc(self, expr):
        return f"_erfc({self._print(expr.args[0])})"


def source(name: str, forms: KernelForms, masked: bool = True) -> str:
    """The elementwise kernel's module; ``masked``: costly cases with _masked (:data:`MASKED`), else numpy.where."""
    p = _Printer({"fully_qualified_modules": True})
    p.masked = masked
    lines = [f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in forms.assignments]
    lo, hi, dlo, dhi = (repr(v) if v == v and abs(v) != float("inf") else f"float('{v}')" for v in forms.limits)
    body = "\n".join(lines)
    return f'''"""{name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit."""
import functools
import math

import numpy

{ERF}{ERRORS}{MASKED}

def fdf(x):
    with numpy.errstate(all="ignore"):
{body}
        y = numpy.array(numpy.broadcast_to({p.doprint(forms.f)}, x.shape), dtype=x.dtype)  # not + 0: −0 stays
        dy = numpy.array(numpy.broadcast_to({p.doprint(forms.df)}, x.shape), dtype=x.dtype)
        inf = numpy.isinf(x)
        y[inf] = numpy.where(x[inf] > 0, {hi}, {lo})
        dy[inf] = numpy.where(x[inf] > 0, {dhi}, {dlo})
        nan = numpy.isnan(x)
        y[nan] = numpy.nan
        dy[nan] = numpy.nan
    return y, dy
'''


#: Elements per call of the generated fdf. Its every operation makes a temporary array; over the whole input,
#: each is fresh memory from the system, and its page faults cost more than the arithmetic. In chunks the
#: temporaries stay in the cache, and malloc reuses them (2·10^6 float64 points: SiLU 2645 → 210 ms,
#: GELU-tanh 3611 → 369, sigmoid 67 → 30; the same values).
CHUNK = 1 << 16


class NumpyKernel:
    def __init__(self, name: str, forms: KernelForms, dtype: str):
        self.source = source(name, forms)
        self.module = import_generated("numpy", name, self.source)

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        xs, ys = x.reshape(-1), y.reshape(-1)  # views: the arrays are C-contiguous
        dys = None if dy is None else dy.reshape(-1)
        with np.errstate(over="ignore"):  # a double beyond float32's range rounds to ±inf, as it should
            for start in range(0, xs.size, CHUNK):
                part = slice(start, start + CHUNK)
                # Computed in double for float32 data too, then rounded once: float32 ufuncs lose up to 1e4 ULP
                # on GELU' (the same amplified argument rounding as in float64, but 2^29 times coarser).
                f, d = self.module.fdf(xs[part].astype(np.float64, copy=False))
                ys[part] = f
                if dys is not None:
                    dys[part] = d


def function_source(
    name: str, args: tuple[sp.Symbol, ...], outputs: tuple[sp.Expr, ...], doc: str, factor: bool = True
) -> str:
    """A module defining ``fn(*args)``: every output as an array of the broadcast shape and the dtype of args[0].

    Common subexpressions are shared across the outputs (sums factored unless ``factor`` is False:
    :func:`~symact.compile.forms.shared`); the body runs under ``errstate(all="ignore")`` because
    ``numpy.where`` evaluates both sides.
    """
    p = _Printer({"fully_qualified_modules": True})
    reps, reduced = shared(list(outputs), factor)
    names = ", ".join(p.doprint(a) for a in args)
    body = "\n".join(f"        {p.doprint(s)} = {p.doprint(e)}" for s, e in reps)
    results = ",\n            ".join(f"_full({p.doprint(e)}, shape, dtype)" for e in reduced)
    return f'''"""{name}: {doc}, generated by symact {__version__} from its derived expressions. Do not edit."""
import functools
import math

import numpy

{ERF}{ERRORS}

def _full(value, shape, dtype):
    out = numpy.empty(shape, dtype)
    out[...] = value
    return out


def fn({names}):
    dtype = numpy.result_type({p.doprint(args[0])})
    shape = numpy.broadcast_shapes({", ".join(f"numpy.shape({p.doprint(a)})" for a in args)})
    with numpy.errstate(all="ignore"):
{body or "        pass"}
        return (
            {results},
        )
'''


def generated_function(
    name: str, args: tuple[sp.Symbol, ...], outputs: tuple[sp.Expr, ...], doc: str, factor: bool = True
):
    """``fn(*args) -> tuple of arrays`` from :func:`function_source`, imported from the kernel cache, and
    evaluated in blocks of rows (:func:`in_blocks`)."""
    return in_blocks(import_generated("numpy_fn", name, function_source(name, args, outputs, doc, factor)).fn)


def in_blocks(fn):
    """``fn`` (elementwise, broadcasting, returning arrays of the broadcast shape) called on blocks of about
    CHUNK elements, leading rows at a time, for the reason of :data:`CHUNK`: an argument whose first axis is
    the result's is sliced, any other (a scalar, a row, a column of one) broadcasts as it is. The values are
    those of one call (10^7 float64 points, loss value and gradient, best of four calls after one: MSE
    75 → 58 ms, BCE 354 → 250, log-cosh 369 → 183, Huber 159 → 88; PReLU with its α-derivative 167 → 151)."""

    @functools.wraps(fn)
    def call(*args):
        arrays = [np.asarray(a) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        size = math.prod(shape)
        rows = CHUNK // (size // shape[0]) if size > CHUNK else 0
        if rows < 1:  # small, or too few rows to split
            return fn(*args)
        sliced = [a.ndim == len(shape) and a.shape[0] == shape[0] for a in arrays]
        outputs = None
        for start in range(0, shape[0], rows):
            block = slice(start, start + rows)
            values = fn(*(a[block] if cut else a for a, cut in zip(arrays, sliced)))
            if outputs is None:
                outputs = tuple(np.empty(shape, v.dtype) for v in values)
            for out, v in zip(outputs, values):
                out[block] = v
        return outputs

    return call

"""The C backend: C99 from the stable forms, one OpenMP SIMD loop, vector math from glibc's libmvec.

No fast-math: ``-fno-math-errno`` and ``-fno-trapping-math`` only, so NaN
and inf keep their meaning. The math functions are declared
``omp declare simd``, which lets gcc call libmvec's vector exp, expm1,
log1p, erf, erfc and tanh without ``-ffast-math``.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
from sympy.printing.c import C99CodePrinter

from .. import __version__
from .cache import cache_dir, digest, write_atomic
from .forms import KernelForms

FLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared"]
VECTOR_MATH = ("exp", "expm1", "log1p", "erf", "erfc", "tanh", "log")
CTYPES = {"float64": ("double", ctypes.c_double), "float32": ("float", ctypes.c_float)}


def compiler() -> str | None:
    return shutil.which("gcc") or shutil.which("cc")


class _Printer(C99CodePrinter):
    """Printing that keeps the loop vectorizable: max/min as comparisons (libm's fmax is a
    call; NaN inputs are handled separately in every kernel), small powers as products."""

    def _print_Pow(self, expr):
        """Small integer powers as products: pow() with a negative exponent is a scalar call."""
        base, e = expr.args
        if e.is_Integer and 1 <= abs(e) <= 4:
            b = self._print(base)
            product = "*".join([f"({b})"] * abs(int(e)))
            return f"({product})" if e > 0 else f"(1.0/({product}))"
        return super()._print_Pow(expr)

    def _print_Max(self, expr):
        return self._fold(expr.args, ">")

    def _print_Min(self, expr):
        return self._fold(expr.args, "<")

    def _fold(self, args, op):
        out = self._print(args[0])
        for a in args[1:]:
            b = self._print(a)
            out = f"(({out}) {op} ({b}) ? ({out}) : ({b}))"
        return out


def _literal(value: float, ctype: str) -> str:
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INFINITY" if value > 0 else "-INFINITY"
    return repr(value) + ("f" if ctype == "float" else "")


def source(name: str, forms: KernelForms, dtype: str) -> str:
    """A C99 translation unit defining ``NAME_f`` (values) and ``NAME_fdf`` (values and derivatives).

    float32 kernels load and store float but compute in double: the few extra
    cycles buy correctly rounded results near the roots of f' and in the
    tails, where float arithmetic would lose dozens of ULP.
    """
    ctype, _ = CTYPES[dtype]
    printer = _Printer()

    class p:  # one line per expression: SymPy prints a ternary over several lines
        doprint = staticmethod(lambda e: " ".join(printer.doprint(e).split()))

    body = [f"const double {p.doprint(s)} = {p.doprint(e)};" for s, e in forms.assignments]
    lo, hi, dlo, dhi = (_literal(v, "double") for v in forms.limits)
    decls = "\n".join(f"#pragma omp declare simd notinbranch\nextern double {fn}(double);" for fn in VECTOR_MATH)

    def loop(fname: str, outputs: str, stores: str) -> str:
        lines = "\n        ".join(body)
        return f"""
void {name}_{fname}(const {ctype} *restrict X, {outputs}, ptrdiff_t n) {{
    #pragma omp parallel for simd schedule(static)
    for (ptrdiff_t i = 0; i < n; ++i) {{
        const double x = X[i];
        {lines}
        double y = {p.doprint(forms.f)};
        double dy = {p.doprint(forms.df)};
        if (isinf(x)) {{ y = x > 0 ? {hi} : {lo}; dy = x > 0 ? {dhi} : {dlo}; }}
        if (isnan(x)) {{ y = x; dy = x; }}
        {stores}
    }}
}}"""

    return f"""/* {name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit. */
#include <math.h>
#include <stddef.h>

{decls}
{loop("f", f"{ctype} *restrict Y", f"Y[i] = ({ctype})y; (void)dy;")}
{loop("fdf", f"{ctype} *restrict Y, {ctype} *restrict DY", f"Y[i] = ({ctype})y; DY[i] = ({ctype})dy;")}
"""


def build(name: str, forms: KernelForms, dtype: str) -> tuple[Path, str]:
    """Compile (once; cached by hash) and return the shared library's path and the source."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (gcc or cc)")
    src = source(name, forms, dtype)
    key = digest(src, cc, " ".join(FLAGS))
    lib = cache_dir() / f"{name}_{dtype}_{key}.so"
    if not lib.exists():
        c_file = lib.with_suffix(".c")
        write_atomic(c_file, src)
        tmp = lib.with_suffix(".so.tmp")
        proc = subprocess.run([cc, *FLAGS, str(c_file), "-o", str(tmp), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling {name} failed:\n{proc.stderr[-2000:]}")
        tmp.replace(lib)
    return lib, src


class CKernel:
    """Calls into the compiled library through ctypes."""

    def __init__(self, name: str, forms: KernelForms, dtype: str):
        path, self.source = build(name, forms, dtype)
        lib = ctypes.CDLL(str(path))
        _, ct = CTYPES[dtype]
        ptr = ctypes.POINTER(ct)
        self._f, self._fdf = getattr(lib, f"{name}_f"), getattr(lib, f"{name}_fdf")
        self._f.argtypes = [ptr, ptr, ctypes.c_ssize_t]
        self._fdf.argtypes = [ptr, ptr, ptr, ctypes.c_ssize_t]
        self._ptr = ptr

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        n = x.size
        if dy is None:
            self._f(x.ctypes.data_as(self._ptr), y.ctypes.data_as(self._ptr), n)
        else:
            self._fdf(x.ctypes.data_as(self._ptr), y.ctypes.data_as(self._ptr), dy.ctypes.data_as(self._ptr), n)

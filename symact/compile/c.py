"""The C backend: C99 from the stable forms, one OpenMP SIMD loop, vector math from glibc's libmvec.

No fast-math: ``-fno-math-errno`` and ``-fno-trapping-math`` only, so NaN
and inf keep their meaning. The math functions are declared
``omp declare simd``, which lets gcc call libmvec's vector exp, expm1,
log1p, erf, erfc, tanh, asinh and atanh without ``-ffast-math``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.codegen.ast import float32, real
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.c import C99CodePrinter

from .. import __version__
from ..rounding import (
    FLOAT_EXP,
    NEAR_EXP,
    REDUCED,
    SHORT_EXP,
    TRIG_RANGE,
    atan_helper,
    exp_err,
    exp_err_helper,
    exp_fma,
    exp_fma_helper,
    exp_helpers,
    exp_tail,
    exp_tail_helper,
    float_exp_call,
    float_exp_helpers,
    held,
    hyperbolic_helpers,
    lit,
    literal,
    lo,
    log1p_float,
    log1p_float_call,
    log1p_float_helper,
    log1p_unit_helper,
    ratio,
    reduced_call,
    reduced_helpers,
    trig_helpers,
)
from .cache import cache_dir, digest, write_atomic
from .fork import forked
from .forms import KernelForms, expressions
from .near import interval, near_forms

# -ffp-contract=off: an fma fused into a + b·c would change the rounding that the forms' error atoms describe
FLAGS = [
    "-O3",
    "-march=native",
    "-fopenmp",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-ffp-contract=off",
    "-fPIC",
    "-shared",
]
#: Where the loop evaluates a function (exp, erfc, …) it is compute-bound, and 512-bit vectors, where the CPU
#: has them, halve its instructions: float64 GELU 26 → 20 ms, float32 SiLU 9.0 → 6.7 ms (10^7 points, 2 threads,
#: AVX-512). A loop of a few arithmetic operations only streams memory, and there they cost (identity in float32:
#: 2.8 → 3.3 ms). A CPU without AVX-512 ignores the preference.
WIDE = ["-mprefer-vector-width=512"]
#: Not cosh, sinh, sin, cos or atan: libmvec's are less accurate than libm's (glibc 2.36, AVX-512, 6000 points
#: each against mpmath: 1.77, 1.88, 2.64, 2.96 and 1.51 ULP against 0.98, 1.35, 0.51, 0.50 and 0.50), and a
#: user's form amplifies them (the slope of x/cosh x: 7.9 → 9.8 ULP). cosh, sinh, atan, sin and cos are symact's
#: own inline helpers in double (_Printer._print_inline). libmvec's asinh and
#: atanh are both faster and closer (1.03 and 1.17 ULP against 1.41 and 1.31), as its tanh and erfc are (0.98 and
#: 1.40 against 1.84, 2.43).
VECTOR_MATH = ("exp", "expm1", "log1p", "erf", "erfc", "tanh", "log", "asinh", "atanh")
#: The functions _Printer._print_inline prints as symact's helpers in double.
INLINE = (sp.cosh, sp.sinh, sp.atan, sp.sin, sp.cos)
TRANSCENDENTAL = (
    sp.exp,
    expm1,
    log1p,
    sp.log,
    sp.erf,
    sp.erfc,
    sp.tanh,
    sp.asinh,
    sp.atanh,
    *INLINE,
    exp_fma,
    exp_tail,
    *SHORT_EXP,  # (tanh in float64: 256-bit vectors without it, 10^7 points, 2 threads, 10.0 → 5.6 ms streaming)
    *REDUCED,
    *FLOAT_EXP,
    log1p_float,
)
CTYPES = {"float64": ("double", ctypes.c_double), "float32": ("float", ctypes.c_float)}


#: A loop as the kernels' are: OpenMP, SIMD and libm, built with FLAGS into a shared library.
_TRIAL = """#include <math.h>
#include <stddef.h>
void trial(const double *restrict x, double *restrict y, ptrdiff_t n) {
    #pragma omp parallel for simd schedule(static)
    for (ptrdiff_t i = 0; i < n; ++i) y[i] = exp(x[i]);
}
"""


@functools.cache
def compiler() -> str | None:
    """gcc, or else cc, if it builds the kernels' kind of library here (:data:`_TRIAL` with FLAGS): a compiler
    without OpenMP or -march=native (Apple's clang without libomp, say) is none for the C backend, and
    ``backend="auto"`` then takes numba instead of failing at the first kernel. Checked once a process."""
    for cc in dict.fromkeys(filter(None, (shutil.which("gcc"), shutil.which("cc")))):
        with tempfile.TemporaryDirectory() as folder:
            source, lib = Path(folder) / "trial.c", Path(folder) / "trial.so"
            source.write_text(_TRIAL)
            try:
                done = subprocess.run([cc, *FLAGS, str(source), "-o", str(lib), "-lm"], capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0 and lib.exists():
                return cc
    return None


def vector_math_declarations(compute: str) -> str:
    """libm's VECTOR_MATH functions for ``compute`` ("double" or "float") declared ``omp declare simd``: without
    -ffast-math, glibc's headers leave the vector variants undeclared, and gcc calls the scalar ones."""
    suffix = "f" if compute == "float" else ""
    return "\n".join(
        f"#pragma omp declare simd notinbranch\nextern {compute} {fn}{suffix}({compute});" for fn in VECTOR_MATH
    )


def _numbers_first(args) -> list:
    return sorted(args, key=lambda a: not a.is_number)


class _Printer(C99CodePrinter):
    """Printing that keeps the loop vectorizable: max/min as comparisons (libm's fmax is a
    call; NaN inputs are handled separately in every kernel), small powers as products."""

    #: b^(k/2) from sqrt and symact_rsqrt (:func:`rsqrt_helper`), which the kernels define; standalone code
    #: (symact.codegen) keeps pow()
    half_powers = True

    def _print_Pow(self, expr):
        """Small integer powers as products, and half-integer ones from a square root: pow() is a scalar call,
        which keeps the loop from being vectorized (the slope of asinh x, (1 + x²)^(−1/2): 150 → 31 ms for 10^7
        float64 points, 2 threads), where sqrt is an instruction. b^(k/2) is b^m·√b for k = 2m + 1 > 0, and
        b^(−1/2)/b^m below, b^(−1/2) within about half an ULP (symact_rsqrt), as pow is; the others round once or
        twice more than pow (x·(1 + x²)^(3/2)/(2 + x²)², f: 4.54 → 5.20 ULP in float64)."""
        base, e = expr.args
        single = self.type_aliases.get(real) == float32
        one = "1.0f" if single else "1.0"
        if e.is_Integer and 1 <= abs(e) <= 4:
            b = self._print(base)
            product = "*".join([f"({b})"] * abs(int(e)))
            return f"({product})" if e > 0 else f"({one}/({product}))"
        if self.half_powers and e.is_Rational and e.q == 2 and abs(e.p) <= 7:
            # b + 0 is b, but +0 for −0, as pow reads it: (−0)^(1/2) = +0 (sqrt gives −0), (−0)^(−3/2) = +inf
            b, m = f"({self._print(base)} + {'0.0f' if single else '0.0'})", abs(int(e.p)) // 2
            if e > 0:
                return "(" + "*".join([b] * m + [f"sqrt{'f' if single else ''}({b})"]) + ")"
            root = f"symact_rsqrt{'f' if single else ''}({b})"
            return f"({root}/({'*'.join([b] * m)}))" if m else root
        return super()._print_Pow(expr)

    def _print_Max(self, expr):
        """Numbers first, and a tie gives the number: max(0, −0) = +0 (ReLU), as IEEE 754's maximum has it."""
        return self._fold(_numbers_first(expr.args), ">=")

    def _print_Piecewise(self, expr):
        """(c if cond else 0) as c·cond: arithmetic, not a choice, so gcc cannot split a call on it in two."""
        (value, cond), rest = expr.args[0], expr.args[1:]
        if rest == ((0, True),) and value.is_number and value.is_finite:
            return f"({self._print(value)}*({self._print(cond)}))"
        return super()._print_Piecewise(expr)

    def _print_Min(self, expr):
        """Numbers first, and a tie gives the other argument: min(0, −0) = −0 (ELU's expm1(min(x, 0))), as IEEE
        754's minimum has it."""
        return self._fold(_numbers_first(expr.args), "<")

    def _print_And(self, expr):  # & and |, not && and ||: short-circuiting is control flow, which stops gcc
        return " & ".join(f"(({self._print(a)}) != 0)" for a in expr.args)  # from vectorizing the loop

    def _print_Or(self, expr):
        return " | ".join(f"(({self._print(a)}) != 0)" for a in expr.args)

    def _fold(self, args, op):
        out = self._print(args[0])
        for a in args[1:]:
            b = self._print(a)
            out = f"(({out}) {op} ({b}) ? ({out}) : ({b}))"
        return out

    def _print_lit(self, expr):
        single = self.type_aliases.get(real) == float32
        text = _literal(literal(expr, single), "float" if single else "double")
        return f"({text})" if text.startswith("-") else text  # −lit(−3/7) is -(-0.43), not the decrement --0.43

    _print_lo = _print_lit

    def _print_held(self, expr):
        return f"({self._print(expr.args[0])})"

    def _print_fma(self, expr):
        single = self.type_aliases.get(real) == float32
        # numbers as floating literals: with an int argument, nvcc picks a host-only std::fma overload
        args = (
            _literal(float(e), "float" if single else "double") if e.is_Number else self._print(e) for e in expr.args
        )
        return f"{'fmaf' if single else 'fma'}({', '.join(args)})"

    def _print_ratio(self, expr):
        return f"(({self._print(expr.args[0])})/({self._print(expr.args[1])}))"

    def _print_signed(self, expr):
        single = self.type_aliases.get(real) == float32
        return f"{'copysignf' if single else 'copysign'}({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_prod_err(self, expr):
        return f"symact_prod_err({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_sum_err(self, expr):
        return f"symact_sum_err({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_fast_sum_err(self, expr):
        a, b = (self._print(e) for e in expr.args)
        return f"((({a}) - (({a}) + ({b}))) + ({b}))"

    #: exp and expm1 in double as the accurate inline helpers (:func:`symact.rounding.exp_helpers`), which the
    #: kernels' source includes; code generated for users calls the library's instead and stands alone.
    inline_exp = True

    @property
    def _inline_double(self) -> bool:
        """Whether calls go to the kernels' own inline helpers: in double, unless the code is for users."""
        return self.inline_exp and self.type_aliases.get(real) != float32

    def _print_exp(self, expr):
        return self._exp_call(expr, "exp") or super()._print_exp(expr)

    def _print_expm1(self, expr):
        return self._exp_call(expr, "expm1") or super()._print_expm1(expr)

    def _print_inline(self, expr):
        """cosh, sinh, atan, sin and cos in double as the inline helpers (:func:`symact.rounding.hyperbolic_helpers`,
        :func:`symact.rounding.atan_helper`, :func:`symact.rounding.trig_helpers`), which gcc vectorizes: libm's
        are scalar calls, which kept the loop scalar (f + f' over 10^7 float64 points, 2 threads: x/cosh x 175 →
        61 ms, 1/cosh x 155 → 25, atan x 40 → 16, sin x 100 → 18); in float, in code for users, and for sin and
        cos where :attr:`inline_trig` is off, the library's."""
        name = type(expr).__name__
        if not self._inline_double or (name in ("sin", "cos") and not self.inline_trig):
            return getattr(super(), f"_print_{name}")(expr)
        return f"symact_{name}({self._print(expr.args[0])})"

    _print_cosh = _print_sinh = _print_atan = _print_sin = _print_cos = _print_inline  # SymPy: the class's name

    #: sin and cos as the inline helpers, whose reduction is exact up to TRIG_RANGE only: :func:`source` prints
    #: each loop a second time with libm's, for arrays where an argument is beyond it.
    inline_trig = True

    #: The kernel's common subexpressions, (symbol, expression) in order, so that a bound on an argument
    #: that CSE replaced by a symbol (exp(t0) with t0 = −2|x|) is still known.
    assignments: tuple = ()

    #: In a loop over the near range (symact.compile.near): each temporary's interval there, by which an exp
    #: helper whose argument is within ±NEAR_EXP is printed as its ``_near`` variant. None: not that loop.
    bounds: dict | None = None

    def _near(self, argument: sp.Expr, upper: float = NEAR_EXP) -> str:
        """ "_near" where the exp helpers' clamps and shifts do nothing for ``argument`` (within ±NEAR_EXP, or
        from −NEAR_EXP up to ``upper``), else ""."""
        if self.bounds is None:
            return ""
        found = interval(argument, self.bounds)
        return "_near" if found is not None and -NEAR_EXP <= found[0] and found[1] <= upper else ""

    def _exp_call(self, expr, name: str) -> str | None:
        if not self._inline_double:  # in float: libmvec's
            return None
        if self._near(expr.args[0]):
            return f"symact_{name}_near({self._print(expr.args[0])})"
        bound = _upper_bound(self._unshared(expr.args[0]))
        short = bound is not None and bound <= NEG_RANGE
        return f"symact_{name}{'_neg' if short else ''}({self._print(expr.args[0])})"

    def _unshared(self, expr: sp.Expr) -> sp.Expr:
        """expr with the common subexpressions it uses put back."""
        for symbol, definition in reversed(self.assignments):
            expr = expr.xreplace({symbol: definition})
        return expr

    def _print_exp_short(self, expr):  # exp and expm1 without r_lo: the _neg helpers' range, t ≤ 708
        if self.type_aliases.get(real) == float32:
            raise ValueError(f"{type(expr).__name__} is for code computed in double")
        bound = _upper_bound(self._unshared(expr.args[0]))
        if bound is None or bound > NEG_RANGE:
            raise ValueError(f"{type(expr).__name__} needs an argument known to be ≤ {NEG_RANGE}")
        return f"symact_{expr.library}_short{self._near(expr.args[0])}({self._print(expr.args[0])})"

    _print_expm1_short = _print_exp_short

    def _print_exp_fma(self, expr):
        return f"symact_exp_fma{self._near(expr.args[0])}({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_exp_err(self, expr):  # the kernels define it (exp_err_helper); code for users drops it, as 0
        if not self.inline_exp:
            return "0.0"
        return f"symact_exp_err({', '.join(self._print(e) for e in expr.args)})"

    def _print_exp_tail(self, expr):
        if self.type_aliases.get(real) == float32:
            raise ValueError("exp_tail is for code computed in double")
        near = self._near(expr.args[0], upper=math.inf)  # it has no upper clamp
        short = "_short" if expr.args[1] == 0 else ""  # no argument's low part: no r_lo either
        return f"symact_exp_tail{short}{near}({', '.join(self._print(a) for a in expr.args)})"

    def _print_reduced(self, expr):  # the REDUCED atoms; computing in float, the float library call
        argument = self._print(expr.args[0])
        if self.type_aliases.get(real) == float32:
            return f"{expr.library}f({argument})"
        return reduced_call(expr, argument)

    # SymPy dispatches on the class's name
    _print_exp_f32 = _print_expm1_f32 = _print_exp_f32_short = _print_expm1_f32_short = _print_reduced

    def _print_exp_float(self, expr):  # the float-arithmetic exp: only forms computed in float have it
        if self.type_aliases.get(real) != float32:
            raise ValueError(f"{type(expr).__name__} is for code computed in float")
        return float_exp_call(expr, self._print(expr.args[0]), self._unshared(expr.args[0]))

    _print_expm1_float = _print_exp_float_scale = _print_exp_float_frac = _print_exp_float

    def _print_log1p(self, expr):
        """log1p(e^u) with u known to be ≤ 0, so 0 ≤ e^u ≤ 1 (softplus, log σ), computed in double: the inline
        :func:`symact.rounding.log1p_unit_helper` instead of libmvec's general log1p: 10^7 points, 2 threads, in
        cache, AMD EPYC Zen 4, float64 softplus 12.62 → 11.97 ms and log σ 13.40 → 11.98; on the accuracy
        protocol their f went from 2.26 and 2.32 ULP to 1.38 and 1.6."""
        if self._inline_double:
            e = self._unshared(expr.args[0])
            bound = _upper_bound(e.args[0]) if isinstance(e, sp.exp) else None
            if bound is not None and bound <= 0:
                return f"symact_log1p_unit({self._print(expr.args[0])})"
        return super()._print_log1p(expr)

    def _print_log1p_float(self, expr):  # likewise
        if self.type_aliases.get(real) != float32:
            raise ValueError("log1p_float is for code computed in float")
        return log1p_float_call(self._print(expr.args[0]), self._unshared(expr.args[0]))


#: The ``_neg`` exp and expm1 helpers skip the upper clamp and scaling, which is right up to t = 708 (2^k for k ≤ 1021).
NEG_RANGE = 708


def _upper_bound(expr: sp.Expr) -> float | None:
    """A number that expr cannot exceed, from its structure, or None: SymPy's assumptions see that −2|x| ≤ 0
    but not that 64·[x < −600] − |x| ≤ 64, SiLU's exponent with its tail's shift."""
    if expr.is_number:  # (a number SymPy cannot evaluate, such as a literal atom, gives no bound)
        try:
            return float(expr) if expr.is_finite else None
        except TypeError:
            return None
    if expr.is_nonpositive:
        return 0.0
    if isinstance(expr, sp.Add):
        bounds = [_upper_bound(a) for a in expr.args]
        return None if None in bounds else sum(bounds)
    if isinstance(expr, sp.Piecewise):
        bounds = [_upper_bound(value) for value, _ in expr.args]
        return None if None in bounds else max(bounds)
    return None


def error_helpers(ctype: str, qualifier: str = "static inline") -> str:
    """C for the rounding-error atoms of :mod:`symact.rounding`: fma gives a product's error exactly,
    Knuth's two-sum a sum's. Correct only if the compiler does not contract a·b + c (-ffp-contract=off)."""
    fma = "fmaf" if ctype == "float" else "fma"
    return f"""{qualifier} {ctype} symact_prod_err({ctype} a, {ctype} b) {{ return {fma}(a, b, -(a * b)); }}
{qualifier} {ctype} symact_sum_err({ctype} a, {ctype} b) {{ const {ctype} s = a + b, bb = s - a; return (a - (s - bb)) + (b - bb); }}
"""


def rsqrt_helper(ctype: str) -> str:
    """symact_rsqrt (or symact_rsqrtf): b^(−1/2) as 1/√b, then one Newton step on its error 1 − b·r², which fma
    gives exactly enough: within about half an ULP, where 1/√b alone, two roundings, is up to one ULP off (the
    slope of x/√(1 + x²), (1 + x²)^(−3/2): 3.41 ULP with 1/√b, 2.46 with pow). b + 0 makes −0 +0: pow(−0, −1/2)
    is +inf. Where the step is not finite (b = 0 or inf, NaN), 1/√b itself."""
    f = "f" if ctype == "float" else ""
    one, half, zero = ("1.0f", "0.5f", "0.0f") if f else ("1.0", "0.5", "0.0")
    return f"""static inline {ctype} symact_rsqrt{f}({ctype} b) {{
    const {ctype} r = {one} / sqrt{f}(b + {zero});
    const {ctype} h = b * r, e = fma{f}(-h, r, {one}) - fma{f}(b, r, -h) * r;
    const {ctype} s = fma{f}({half} * r, e, r);
    return isfinite(s) ? s : r;
}}
"""


def _literal(value: float, ctype: str) -> str:
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INFINITY" if value > 0 else "-INFINITY"
    return repr(value) + ("f" if ctype == "float" else "")


def _bits(value: float, ctype: str) -> str:
    """The bits of ``value`` (≥ 0) as a ``ctype`` (float or double), as a C unsigned literal: for |x| ≥ value as
    integers."""
    if ctype == "float":
        return f"{struct.unpack('<I', struct.pack('<f', value))[0]:#x}u"
    return f"{struct.unpack('<Q', struct.pack('<d', value))[0]:#x}ull"


def _ctype(expr, compute: str) -> str:
    """A condition's temporary is an int: as a double, gcc's vectorizer cannot use it as a mask. (A SymPy symbol
    is a Boolean too: a temporary that is x in the near forms, t = Min(40, x) there, is a number.)"""
    return "int" if isinstance(expr, sp.logic.boolalg.Boolean) and not expr.is_Symbol else compute


#: The inputs that the plain loop over the near forms checks at a time (symact.compile.near): a block with one
#: beyond the reach is computed again with the forms. 2.6·10^5 float64 points, 2 threads, in cache: sigmoid
#: 0.21 ms before the near forms, 0.22 in blocks of 64, 0.21 of 256; SiLU 0.33, 0.31, 0.29. (The streaming
#: loop's blocks are STREAM_BLOCK long, its buffers' length.) Not for float32 data computed in double, whose
#: plain loop is one loop as before: GELU took 7.0 → 8.0 ms in blocks of 256 (10^7 points), 8.3 of 64 or 128,
#: 8.8 of 1024, and Mish the same as before.
NEAR_BLOCK = 256
#: Where f′ does at least STAGE_OPS operations of its own (SymPy's count, beyond what f computes) and calls no
#: function, the streaming loop's block computes f in one loop and f′ in a second, which takes from buffers
#: what both need and costs a call, a division or STAGE_COSTLY operations or more; the rest it computes again.
#: The values are the same. One loop holds each element's whole chain of dependent operations, and float64
#: SiLU's two divisions an element, f's and f′'s: 10^7 points, 2 threads, Xeon (AVX-512, AMX), against the
#: benchmark's bandwidth limit (4.5 ms), SiLU took 2.18-2.24 times it, in two loops 1.82-1.94. GELU-tanh 20.7 →
#: 19.8 ms, Mish 15.6 → 14.9; GELU (17.3 → 17.4) and float32 SiLU computed in float (2.86 → 2.85) as before. Not
#: where f′ is short: sigmoid's f′ is a division (8.0 → 8.0 ms), softplus's a choice (12.0 → 11.7). Not where
#: f′'s loop would call a function: tanh's f′ takes an exp of the argument f's expm1 takes, which reduce it
#: once in one loop and twice in two (float32 computed in float: 2.53 → 3.03 ms). Not in the plain loop: there
#: GELU-tanh took 23.4 → 32.6 ms in two loops.
STAGE_OPS = 20
STAGE_COSTLY = 3


def _calls(e: sp.Expr) -> int:
    """How many transcendental functions of x e calls (not of numbers: lit(exp(−1.28)) is a constant)."""
    return sum(1 for a in e.atoms(*TRANSCENDENTAL) if a.free_symbols)


def _operations(e: sp.Expr) -> int:
    """The arithmetic operations e does, by SymPy's count: constants and held() cost nothing."""
    constant = sp.Symbol("c")
    e = e.replace(lambda a: isinstance(a, (lit, lo)), lambda a: constant)
    return sp.count_ops(e.replace(lambda a: isinstance(a, held), lambda a: a.args[0]))


def _costly(e: sp.Expr) -> bool:
    """Whether e is worth a buffer, not computed again: it calls a function, divides, or does STAGE_COSTLY
    operations or more."""
    return bool(_calls(e) or e.atoms(ratio) or _operations(e) >= STAGE_COSTLY)


def _staged(kernel: KernelForms) -> list[sp.Symbol]:
    """The temporaries that f′'s loop takes from f's, where f and f′ are two loops (see STAGE_OPS): those both
    need that cost a call or STAGE_COSTLY operations or more (f′'s loop computes the cheap ones again); [] where
    f′ is best in f's loop: its own work is less than STAGE_OPS, or calls a function (its reduction, such as
    exp's, would be done twice: tanh's f′ takes an exp of the argument f's expm1 takes)."""
    definitions = dict(kernel.assignments)

    def needs(e: sp.Expr, given=frozenset()) -> set[sp.Symbol]:  # the temporaries e uses, up to those given
        found: set[sp.Symbol] = set()
        for s in e.free_symbols & definitions.keys():
            found |= {s} if s in given else {s} | needs(definitions[s], given)
        return found

    f_needs = needs(kernel.f)
    costly = {s for s in f_needs if _costly(definitions[s])}
    second = needs(kernel.df, frozenset(costly))  # what f′'s loop uses
    own = [definitions[s] for s in second - costly] + [kernel.df]  # what it computes
    if any(_calls(e) for e in own) or sum(_operations(e) for e in own) < STAGE_OPS:
        return []
    return [s for s, _ in kernel.assignments if s in second & costly]


#: The suffix of a loop without the guards that return the limits at ±inf and x at NaN (see SPECIAL).
RAW = "_raw"
#: The suffix of a loop with libm's sin and cos, for arrays where an argument is beyond TRIG_RANGE.
LIBM = "_libm"


def _named_numerators(forms: KernelForms) -> KernelForms:
    """forms with the numerator of each division that is a choice (Piecewise, as :func:`symact.stable._one_division`
    selects operands) assigned to a variable of its own, before f and f'. Written inside the expressions, gcc
    divided both sides of f's choice, c ? a/d : b/d, and blended (SiLU float32: 3 divisions a vector instead
    of 2, 5.1 → 4.4 ms for 10^7 points); with the numerators named first it divides once. The same operations
    in the same order: the same values."""
    numerators = sorted(
        {r.args[0] for e in (forms.f, forms.df) for r in e.atoms(ratio) if isinstance(r.args[0], sp.Piecewise)},
        key=sp.default_sort_key,
    )
    if not numerators:
        return forms
    names = {n: sp.Symbol(f"n{i}", real=True) for i, n in enumerate(numerators)}  # expression: its name
    return dataclasses.replace(
        forms,
        assignments=(*forms.assignments, *((s, n) for n, s in names.items())),
        f=forms.f.xreplace(names),
        df=forms.df.xreplace(names),
    )


def source(name: str, forms: KernelForms, dtype: str, compute: str = "double") -> str:
    """A C99 translation unit defining ``NAME_f`` (values) and ``NAME_fdf`` (values and derivatives), and the
    same loops without their guards for ±inf and NaN, ``NAME_f_raw`` and ``NAME_fdf_raw``.

    ``compute`` is the arithmetic inside the loop. float32 data computed in
    double is correctly rounded almost everywhere; computed in float it runs
    twice as many lanes, and :class:`CKernel` uses it only where it stays accurate.
    On x86, large outputs are written with streaming stores (:data:`STREAMING`).
    """
    ctype, _ = CTYPES[dtype]
    forms = _named_numerators(forms)
    exprs = expressions(forms)
    # sin and cos: the inline helpers where every argument is within TRIG_RANGE (or ±inf or NaN, which they pass
    # on as libm does), else the whole array with libm's: a pass that computes the arguments alone decides
    trig = sorted({a.args[0] for e in exprs for a in e.atoms(sp.sin, sp.cos)}, key=sp.default_sort_key)
    trig = trig if compute == "double" else []

    # the near range |x| < reach, where the near forms leave out the far tails' choices (symact.compile.near)
    reach, near, bounds = near_forms(forms)
    staged = _staged(near)  # what f′'s loop takes from f's, where they are two (STAGE_OPS)

    def code(inline_trig: bool, in_reach: bool) -> tuple[list[str], str, str, list[str]]:
        """Assignments, f, f', and the arguments of sin and cos, as C."""
        printer = _Printer({"type_aliases": {real: float32}} if compute == "float" else {})
        kernel = near if in_reach else forms
        printer.assignments, printer.inline_trig = kernel.assignments, inline_trig
        printer.bounds = bounds if in_reach else None

        def c(e):  # one line per expression: SymPy prints a ternary over several
            return " ".join(printer.doprint(e).split())

        body = [f"const {_ctype(e, compute)} {c(s)} = {c(e)};" for s, e in kernel.assignments]
        return body, c(kernel.f), c(kernel.df), [c(a) for a in trig]

    trig_variants = (False, True) if trig else (True,)  # with libm's sin and cos (False), and with the helpers
    codes = {(inline_trig, False): code(inline_trig, False) for inline_trig in trig_variants}
    for inline_trig in trig_variants:  # (the near forms are the forms themselves where nothing is far)
        codes[inline_trig, True] = codes[inline_trig, False] if near is forms else code(inline_trig, True)
    lo, hi, dlo, dhi = (_literal(v, compute) for v in forms.limits)
    decls = vector_math_declarations(compute)
    trig_check = ""
    if trig:
        body, _, _, arguments = codes[True, False]
        beyond = " | ".join(f"((fabs({a}) > {TRIG_RANGE!r}) & (fabs({a}) < INFINITY))" for a in arguments)
        assignments = "\n        ".join(body)
        trig_check = f"""
/* whether an argument of sin or cos is finite and beyond {TRIG_RANGE:.0f}, where symact_sin and symact_cos do not
   reduce exactly */
static int {name}_trig_beyond(const {ctype} *restrict X, ptrdiff_t n) {{
    int beyond = 0;
    #pragma omp parallel for simd reduction(|:beyond) schedule(static) if(parallel: n >= 65536)
    for (ptrdiff_t i = 0; i < n; ++i) {{
        const {compute} x = X[i];
        {assignments}
        beyond |= {beyond};
    }}
    return beyond;
}}
"""

    def loop(fname: str, arrays: tuple[str, ...], guard: bool = True, inline_trig: bool = True) -> str:
        lines = {in_reach: "\n            ".join(codes[inline_trig, in_reach][0]) for in_reach in (False, True)}
        guards = f"""
            if (isinf(x)) {{ y = x > 0 ? {hi} : {lo}; dy = x > 0 ? {dhi} : {dlo}; }}
            if (isnan(x)) {{ y = x; dy = x; }}"""
        values = dict(zip(arrays, ("y", "dy")))

        def stores(target) -> str:  # each output stored by target(array)
            return " ".join(f"{target(a)} = ({ctype}){v};" for a, v in values.items()) + (
                "" if "DY" in arrays else " (void)dy;"
            )

        def element(x: str, target, guarded: bool = guard, in_reach: bool = False) -> str:  # read x, store by target
            _, f_code, df_code, _ = codes[inline_trig, in_reach]
            return f"""const {compute} x = {x};
            {lines[in_reach]}
            {compute} y = {f_code};
            {compute} dy = {df_code};{guards if guarded else ""}
            {stores(target)}"""

        # Each block takes the near forms, without the guards; then, where an input is beyond reach (or ±inf, NaN:
        # |x|'s bits as an integer are the largest there), rarely, the forms and the guards once more. Without a
        # reach and without guards, the forms. The check after the block, as a reduction of its own, costs
        # least: in the loop, or before it (where it waits for memory), 10^7 float64 SiLU points, 2 threads, took
        # 10.5 and 11.2 ms, after it 10.0 (the forms and a second pass for the guards, as before: 12.2).
        checked = not (reach == math.inf and not guard)  # (else the forms, unchecked)

        def near_block(target, length: str | None) -> str:
            """The near forms over the block: in one loop, or (streaming, with buffers ``length`` long) f in one
            and f′ in a second (STAGE_OPS)."""
            if not (staged and "DY" in arrays and length):
                return f"""#pragma omp simd
                for (int j = 0; j < block; ++j) {{
                    {element("X[i + j]", target, guarded=False, in_reach=True)}
                }}"""
            body, f_code, df_code, _ = codes[inline_trig, True]
            body = list(body)
            index = {s: k for k, (s, _) in enumerate(near.assignments)}
            types = {s: _ctype(e, compute) for s, e in near.assignments}
            gap = "\n            "
            first = gap.join(body)  # gcc drops what neither f nor the buffers need
            for s in staged:
                body[index[s]] = f"const {types[s]} {s} = {s}_[j];"
            rest = gap.join(body)
            buffers = " ".join(f"{types[s]} {s}_[{length}];" for s in staged)
            return f"""{buffers}
                #pragma omp simd
                for (int j = 0; j < block; ++j) {{
                    const {compute} x = X[i + j];
            {first}
            const {compute} y = {f_code};
            {target("Y")} = ({ctype})y; {" ".join(f"{s}_[j] = {s};" for s in staged)}
                }}
                #pragma omp simd
                for (int j = 0; j < block; ++j) {{
                    const {compute} x = X[i + j];
            {rest}
            const {compute} dy = {df_code};
            {target("DY")} = ({ctype})dy;
                }}"""

        def blocked(target, length: str | None = None) -> str:  # the block from X[i], `block` long, stored by target
            if not checked:
                return f"""#pragma omp simd
                for (int j = 0; j < block; ++j) {{
                    {element("X[i + j]", target)}
                }}"""
            bits, fabs = ("uint32_t", "fabsf") if ctype == "float" else ("uint64_t", "fabs")
            return f"""{near_block(target, length)}
                {bits} top = 0;  /* the bits of the largest |x|, NaN beyond inf */
                #pragma omp simd reduction(max:top)
                for (int j = 0; j < block; ++j) {{
                    const {ctype} a = {fabs}(X[i + j]);
                    {bits} b;
                    __builtin_memcpy(&b, &a, sizeof b);
                    top = b > top ? b : top;
                }}
                if (top >= {_bits(reach, ctype)}) {{  /* |x| ≥ {_literal(reach, ctype)} */
                    #pragma omp simd
                    for (int j = 0; j < block; ++j) {{
                    {element("X[i + j]", target)}
                    }}
                }}"""

        full = f"{name}_{fname}{'' if guard else RAW}{'' if inline_trig else LIBM}"
        libm = (
            f"\n    if ({name}_trig_beyond(X, n)) {{ {full}{LIBM}(X, {', '.join(arrays)}, n); return; }}"
            if trig and inline_trig
            else ""
        )
        params = ", ".join(f"{ctype} *restrict {a}" for a in arrays)
        aligned = "".join(f" && (uintptr_t){a} % 64 == (uintptr_t)Y % 64" for a in arrays[1:])
        buffers = " ".join(f"{ctype} {a.lower()}_[STREAM_BLOCK];" for a in arrays)
        lines_out = "\n".join(
            f"                for (int q = 0; q < STREAM_BLOCK * (int)sizeof({ctype}) / 64; ++q) "
            f"symact_stream_line((char *)({a} + i) + 64 * q, (const char *){a.lower()}_ + 64 * q);"
            for a in arrays
        )
        simd = (
            f"""
    #pragma omp parallel for schedule(static) if(parallel: n >= 65536)
    for (ptrdiff_t i = 0; i < n; i += {NEAR_BLOCK}) {{
        const int block = (int)(n - i < {NEAR_BLOCK} ? n - i : {NEAR_BLOCK});
        {blocked(lambda a: f"{a}[i + j]")}
    }}
"""
            if checked and ctype == compute
            else f"""
    #pragma omp parallel for simd schedule(static) if(parallel: n >= 65536)
    for (ptrdiff_t i = 0; i < n; ++i) {{
        {element("X[i]", lambda a: f"{a}[i]")}
    }}
"""
        )
        return f"""
static void {full}_simd(const {ctype} *restrict X, {params}, ptrdiff_t n) {{{simd}}}

void {full}(const {ctype} *restrict X, {params}, ptrdiff_t n) {{{libm}
#ifdef SYMACT_STREAM
    /* large outputs: streaming stores, which write memory without reading it into the cache first */
    if (n >= symact_stream_min && (uintptr_t)Y % sizeof({ctype}) == 0{aligned}) {{
        const ptrdiff_t head = (ptrdiff_t)((64 - (uintptr_t)Y % 64) % 64 / sizeof({ctype}));
        const ptrdiff_t end = head + (n - head) / STREAM_BLOCK * STREAM_BLOCK;
        {full}_simd(X, {", ".join(arrays)}, head);
        /* the block's length as gcc cannot know it: a constant trip count, it unrolls the loop whole, and
           a loop with a choice between two exps then runs 3.5 times slower (ELU in float64) */
        const int block = (int)(n < STREAM_BLOCK ? n : STREAM_BLOCK);
        #pragma omp parallel
        {{
            #pragma omp for schedule(static) nowait
            for (ptrdiff_t i = head; i < end; i += STREAM_BLOCK) {{
                {buffers}
                {blocked(lambda a: f"{a.lower()}_[j]", "STREAM_BLOCK")}
{lines_out}
            }}
            _mm_sfence();  /* before the barrier: the caller and the other threads see every streamed line */
        }}
        {full}_simd(X + end, {", ".join(a + " + end" for a in arrays)}, n - end);
        return;
    }}
#endif
    {full}_simd(X, {", ".join(arrays)}, n);
}}"""

    loops = [
        loop(fname, arrays, guard, inline_trig)
        for inline_trig in trig_variants  # the libm loops first: the others call them
        for fname, arrays in (("f", ("Y",)), ("fdf", ("Y", "DY")))
        for guard in (True, False)
    ]

    reduced = compute == "double" and any(e.has(*REDUCED) for e in exprs)
    accurate_exp = any(e.has(exp_fma) for e in exprs)
    exp_low = any(e.has(exp_err) for e in exprs)
    tail_exp = any(e.has(exp_tail) for e in exprs)
    float_exp = set().union(*(e.atoms(*FLOAT_EXP) for e in exprs)) if compute == "float" else set()
    float_log1p = compute == "float" and any(e.has(log1p_float) for e in exprs)
    unit_log1p = compute == "double" and any(e.has(log1p) for e in exprs)  # static inline: unused, it costs nothing
    double_exp = compute == "double" and any(e.has(sp.exp, expm1, *SHORT_EXP) for e in exprs)
    short_exp = any(e.has(*SHORT_EXP) for e in exprs)
    printed = trig_check + "".join(loops)  # the helpers whose calls _Printer printed: rsqrt, cosh and sinh, …
    hyperbolic = "symact_cosh(" in printed or "symact_sinh(" in printed
    near_exp = "_near(" in printed
    return f"""/* {name}: f and f' from symact {__version__}, generated from the proven stable forms. Do not edit. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
{"" if dtype == "float32" and compute == "double" else STREAMING}
{decls}
{error_helpers(compute)}{rsqrt_helper(compute) if "symact_rsqrt" in printed else ""}{hyperbolic_helpers() if hyperbolic else ""}{atan_helper() if "symact_atan(" in printed else ""}{trig_helpers() if trig else ""}{reduced_helpers() if reduced else ""}{exp_fma_helper(near=near_exp) if accurate_exp else ""}{exp_err_helper() if exp_low else ""}{exp_tail_helper(near=near_exp) if tail_exp else ""}{exp_helpers(short=short_exp, near=near_exp) if double_exp else ""}{float_exp_helpers(float_exp)}{log1p_float_helper() if float_log1p else ""}{log1p_unit_helper() if unit_log1p else ""}{printed}
"""


#: Streaming (non-temporal) stores on x86, 64 bytes at a time: for outputs of STREAM_MIN elements or more,
#: which no cache holds, they save reading each output line before it is written, a third of the memory
#: traffic of f + f' (10^7 points, 2 threads, AMD EPYC Zen 3: identity in float32 2.9 → 2.4 ms, sigmoid 4.1 →
#: 3.4 ms, float64 SiLU 16.1 → 13.6 ms). Below it the outputs stay in the cache, where their user reads them.
#: STREAM_BLOCK elements per inner loop, whose ±inf and NaN guards, where the loop has them, are a second pass
#: over the block. The blocks cost instructions (each output goes through a buffer), which a compute-bound loop
#: pays in time: on a CPU whose memory is fast for its arithmetic, the plain loop is faster (Zen 4: float32
#: tanh 3.59 → 3.30 ms, float64 sigmoid 7.63 → 6.57; relu still 1.48 against 1.61). So whether a loop streams
#: is measured, once per library and machine (:meth:`CKernel.calibrate`), and set through symact_stream_min.
#: Not for float32 data computed in double: those loops are compute-bound, and there the blocked loop is slower
#: (GELU 7.7 → 9.4 ms, Mish 13.7 → 15.7, log σ 12.4 → 13.0, in the full benchmark).
STREAM_MIN = 1 << 20
STREAMING = (
    f"""#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SYMACT_STREAM 1
#define STREAM_MIN {STREAM_MIN}
#define STREAM_BLOCK 64
"""
    + """\
ptrdiff_t symact_stream_min = STREAM_MIN;  /* streaming stores from this many elements on (never: PTRDIFF_MAX) */
static inline void symact_stream_line(char *dst, const char *src) {  /* dst 64-byte aligned */
#if defined(__AVX512F__)
    _mm512_stream_si512((__m512i *)dst, _mm512_loadu_si512((const void *)src));
#elif defined(__AVX__)
    for (int k = 0; k < 2; ++k) _mm256_stream_si256((__m256i *)dst + k, _mm256_loadu_si256((const __m256i *)src + k));
#else
    for (int k = 0; k < 4; ++k) _mm_stream_si128((__m128i *)dst + k, _mm_loadu_si128((const __m128i *)src + k));
#endif
}
#endif"""
)


def build(name: str, forms: KernelForms, dtype: str, compute: str = "double") -> tuple[Path, str]:
    """Compile (once; cached by hash) and return the shared library's path and the source."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler here that builds OpenMP libraries (gcc or cc)")
    src = source(name, forms, dtype, compute)
    flags = FLAGS + (WIDE if any(e.has(*TRANSCENDENTAL) for e in expressions(forms)) else [])
    key = digest(src, cc, " ".join(flags), _instruction_set())
    lib = cache_dir() / f"{name}_{dtype}_{compute}_{key}.so"
    if not lib.exists():
        c_file = lib.with_suffix(".c")
        write_atomic(c_file, src)
        tmp = lib.with_suffix(f".so.{os.getpid()}.tmp")  # per process: two may build the same library at once
        proc = subprocess.run([cc, *flags, str(c_file), "-o", str(tmp), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling {name} failed:\n{proc.stderr[-2000:]}")
        tmp.replace(lib)
    return lib, src


def _probe(dtype) -> np.ndarray:
    """Where float arithmetic goes wrong first: tails, near zero, and densely around the kinks and roots."""
    rng = np.random.default_rng(0)
    wide = rng.choice([-1.0, 1.0], 20_000) * 10 ** rng.uniform(-8, 3, 20_000)
    return np.concatenate([wide, np.linspace(-12, 12, 60_001)]).astype(dtype)


def _ulp_apart(a: np.ndarray, b: np.ndarray, dtype) -> float:
    """Largest distance in ULP of b (absolute, in units of the smallest normal, where b is subnormal)."""
    info = np.finfo(dtype)
    both = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    a, b = a[both].astype(np.float64), b[both].astype(np.float64)
    scale = np.where(np.abs(b) < info.tiny, info.tiny, np.spacing(np.abs(b).astype(dtype)).astype(np.float64))
    return float(np.max(np.abs(a - b) / scale, initial=0.0))


#: The inputs where the guards act, in the first and last lanes of vectors and in the loop's remainder: 67
#: elements hold four full 16-lane vectors and a remainder of three.
SPECIAL = np.resize([np.inf, -np.inf, np.nan, 0.5, -2.0, np.inf, -np.inf, np.nan], 67)


def _same_at_special(guarded, raw, outputs: int, dtype: str) -> bool:
    """Whether a loop without the ±inf and NaN guards returns what the guarded one does at those inputs:
    then the guards, a few vector operations of every element's work, are not needed (sigmoid: its exp's
    clamp already gives σ(±inf) and σ'(±inf); NaN propagates through arithmetic). The loops are
    elementwise, so the special values at each position, in full vectors and in the remainder, settle it."""
    x = SPECIAL.astype(dtype)
    results = []
    for loop in (guarded, raw):
        out = [np.empty_like(x) for _ in range(outputs)]
        loop(*(a.ctypes.data_as(ctypes.POINTER(CTYPES[dtype][1])) for a in (x, *out)), x.size)
        results.append(out)
    return all(identical(a, b) for a, b in zip(*results))


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    """The same values, zeros of the same sign included; any NaN matches any NaN."""
    nan = np.isnan(a)
    if not np.array_equal(nan, np.isnan(b)):
        return False
    a, b = a[~nan], b[~nan]
    return bool(np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b)))


#: Elements timed by CKernel.calibrate: outputs far larger than any cache (80 MB in float32). Not a power of two:
#: there the arrays lie a multiple of 4 KiB apart, and the plain loop's loads and stores contend for the same
#: cache sets (float64 sigmoid, Zen 4: plain 6.8 ms at 2^23 elements, streaming 6.3; at 10^7, 6.8 and 7.6).
CALIBRATION_SIZE = 10**7

#: A calibration whose two times are within this fraction of each other is a close call, measured again by the
#: next process: measured while pip installed packages, float32 tanh kept streaming stores (3.67 ms against
#: 3.83), which on the quiet machine are the slower (3.71 against 3.17).
CLOSE_CALL = 0.1

#: The libraries (paths) whose streaming is chosen in this process, by calibration or by hand: a kernel loaded
#: later from one of them keeps the choice.
_DECIDED: set[Path] = set()


#: A library loaded in this process, through which the child of a fork reaches GNU OpenMP (empty: none yet).
_LIBRARY: list[ctypes.CDLL] = []


def _serial(lib: ctypes.CDLL) -> None:
    """One thread for OpenMP in this process, the child of a fork (see :mod:`symact.compile.fork`)."""
    try:
        lib.omp_set_num_threads(1)
    except AttributeError:  # built without OpenMP: nothing runs in parallel anyway
        pass


def _after_fork_in_child() -> None:
    for lib in _LIBRARY:
        _serial(lib)


os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.cache
def _cpuinfo() -> dict[str, str]:
    """The first CPU's fields in /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _instruction_set() -> str:
    """The CPU's model and feature flags: -march=native builds for them, and a cache directory shared by
    machines of one architecture but other CPUs (a home directory on a cluster) must not hand a library
    with AVX-512 to a CPU without it, which would die of an illegal instruction."""
    info = _cpuinfo()
    kept = [f"{key}: {info[key]}" for key in ("model name", "flags", "Features", "CPU part") if key in info]
    return "\n".join(kept) or platform.processor()


def _machine() -> str:
    """The CPU's model and count of logical CPUs: a calibration holds for these."""
    return f"{_cpuinfo().get('model name') or platform.processor()} × {os.cpu_count()}"


class CKernel:
    """Calls into the compiled library through ctypes.

    float32 kernels are built twice, computing in double and in float; the
    float build is used when it stays within 3.5 ULP of the double build on a
    probe set (so within about 4 ULP of the truth), else the double build.
    Not where the forms call a function of INLINE: in float those are libm's
    scalar calls, which keep the loop scalar, where in double they are
    symact's vectorized helpers.
    """

    FLOAT_TOLERANCE_ULP = 3.5  # the double build is within 0.5 ULP of the truth: 3.5 + 0.5 = the 4-ULP target

    def __init__(self, name: str, forms: KernelForms, dtype: str):
        self._load(name, forms, dtype, "double")
        self.compute = "double"
        if dtype == "float32" and not any(e.has(*INLINE) for e in expressions(forms.in_float or forms)):
            accurate = dict(vars(self))  # the double build's loops, source and streaming state
            x = _probe(np.float32)
            y, dy = np.empty_like(x), np.empty_like(x)
            self._call(x, y, dy)
            self._load(name, forms.in_float or forms, dtype, "float")
            yf, dyf = np.empty_like(x), np.empty_like(x)
            self._call(x, yf, dyf)
            worst = max(_ulp_apart(yf, y, np.float32), _ulp_apart(dyf, dy, np.float32))
            if worst <= self.FLOAT_TOLERANCE_ULP:
                self.compute = "float"
            else:
                vars(self).update(accurate)

    def _load(self, name: str, forms: KernelForms, dtype: str, compute: str) -> None:
        path, self.source = build(name, forms, dtype, compute)
        lib = ctypes.CDLL(str(path))
        if not _LIBRARY:
            _LIBRARY.append(lib)
            if forked():  # loaded first in the child of a fork: the parent may have used OpenMP through numba
                _serial(lib)
        _, ct = CTYPES[dtype]
        ptr = ctypes.POINTER(ct)
        for fname, outputs in (("f", 1), ("fdf", 2)):
            guarded, raw = getattr(lib, f"{name}_{fname}"), getattr(lib, f"{name}_{fname}{RAW}")
            for loop in (guarded, raw):
                loop.argtypes = [ptr] * (1 + outputs) + [ctypes.c_ssize_t]
            setattr(self, f"_{fname}", raw if _same_at_special(guarded, raw, outputs, dtype) else guarded)
        self._ptr, self._path, self._dtype = ptr, path, dtype
        try:  # the library's streaming threshold (STREAMING), where it has streaming stores
            self._stream_min = ctypes.c_ssize_t.in_dll(lib, "symact_stream_min")
        except ValueError:
            self._stream_min = None

    @property
    def streaming(self) -> bool | None:
        """Whether outputs of STREAM_MIN elements or more are written with streaming stores (None: the library
        has none). Set it to choose; else the first call that large measures which is faster (:meth:`calibrate`)."""
        return None if self._stream_min is None else self._stream_min.value == STREAM_MIN

    @streaming.setter
    def streaming(self, on: bool) -> None:
        if self._stream_min is None:
            raise ValueError("this kernel's library has no streaming stores (not x86, or float32 computed in double)")
        # the library's own variable, which every kernel loaded from it shares (ctypes loads a path once)
        self._stream_min.value = STREAM_MIN if on else np.iinfo(np.intp).max
        _DECIDED.add(self._path)

    def calibrate(self) -> dict:
        """Time f + f' over CALIBRATION_SIZE elements with streaming stores and without, five calls after a
        first in each mode, three rounds, and keep the faster. The record (per library and machine) is kept
        beside the library, so this runs once; but a close call (within CLOSE_CALL) is measured again in the
        next process, so that a moment of load does not fix the choice for good."""
        record = self._path.with_name(self._path.stem + ".stream.json")
        machine = _machine()
        try:
            found = json.loads(record.read_text())
            if found.get("machine") == machine and not found.get("close", True):  # (older records: measured again)
                self.streaming = found["streaming"]
                return found
        except (OSError, ValueError, KeyError):
            pass  # none yet, or unreadable: measure
        x = np.linspace(-30, 30, CALIBRATION_SIZE, dtype=self._dtype)  # both signs, the tails and the middle
        y, dy = np.empty_like(x), np.empty_like(x)
        best = {True: np.inf, False: np.inf}
        for _ in range(3):
            for on in (True, False):
                self.streaming = on
                self._call(x, y, dy)  # the steady state, as in a loop of calls: the caches as this mode leaves them
                for _ in range(5):
                    start = time.perf_counter()
                    self._call(x, y, dy)
                    best[on] = min(best[on], time.perf_counter() - start)
        found = {
            "machine": machine,
            "streaming": bool(best[True] <= best[False]),
            "ms": {"streaming": best[True] * 1e3, "plain": best[False] * 1e3},
            "close": bool(abs(best[True] - best[False]) < CLOSE_CALL * min(best.values())),
        }
        self.streaming = found["streaming"]
        if forked():  # measured on one thread (see _serial): it holds for this process only
            return found
        try:
            write_atomic(record, json.dumps(found))
        except OSError:
            pass  # a cache directory not writable: the choice holds for this process
        return found

    def __call__(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        if x.size >= STREAM_MIN and self._stream_min is not None and self._path not in _DECIDED:
            self.calibrate()
        self._call(x, y, dy)

    def _call(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray | None) -> None:
        n = x.size
        if dy is None:
            self._f(x.ctypes.data_as(self._ptr), y.ctypes.data_as(self._ptr), n)
        else:
            self._fdf(x.ctypes.data_as(self._ptr), y.ctypes.data_as(self._ptr), dy.ctypes.data_as(self._ptr), n)

"""Rounding errors as symbols: the atoms of error-compensated stable forms.

Some functions amplify the rounding of their argument. erfc(−x/√2) at
x = −30 turns the half-ULP error of x/√2 into ~900 ULP, because
d log erfc(u)/du ≈ −2u. The cure is to carry the argument as an unevaluated
sum hi + lo, where lo is the rounding error of the computed hi, and to apply
it to first order: erfc(hi + lo) = erfc(hi) − 2/√π·e^(−hi²)·lo.

The atoms here name those pieces. Each has two readings:

- **exact**, the reading in which the form is proved equal to its definition:
  no operation rounds, so every error is 0 and a literal is its exact value
  (:func:`exact`);
- **machine**, the reading the printers emit: ``prod_err(a, b)`` is
  ``fma(a, b, −a·b)`` in C and Dekker's exact product in Python, and
  ``lo(c)`` is the double literal c − fl(c) (:func:`literal`).

So a compensated form is proved equal to its definition exactly like any
other stable form. The compensation itself, which exists only in machine
arithmetic, is judged by the accuracy tests against 50-digit mpmath.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .minimax import EXPM1, EXPM1_FLOAT


class _Atom(sp.Function):
    """A function that SymPy must not evaluate or rewrite (is_real, so comparisons and Abs stay simple)."""

    is_real = True
    is_extended_real = True


class lit(_Atom):  # noqa: N801  (a SymPy function: printers and srepr use the class name)
    """The double nearest a constant c. Exact reading: c. Machine reading: that double.

    It keeps SymPy from merging the constant with its neighbours, e.g.
    exp(x + 64)·e^(−64) into exp(x), which would undo a rescaling.
    """

    nargs = 1

    @classmethod
    def eval(cls, c):
        if c in (0, 1, -1):  # exact: nothing to keep apart
            return c


class lo(_Atom):  # noqa: N801
    """c − fl(c) for a constant c: the part of c its double misses. Exact reading: 0.

    0 where c is a float32 (so also a double): a dyadic rational of at most 24 bits, such as 1 or 109/64.
    A parameter symbol stays lo(β) until its value is bound."""

    nargs = 1

    @classmethod
    def eval(cls, c):
        if c.is_Rational and (c == 0 or _short_dyadic(c)):
            return sp.S.Zero


class held(_Atom):  # noqa: N801
    """An expression computed on its own before it is used: held(x − r) + y is (x − r) + y, never
    (x + y) − r, which SymPy's flattening of sums would otherwise print. Exact reading: the expression."""

    nargs = 1


class ratio(_Atom):  # noqa: N801
    """a/b as one division: SymPy keeps a/b as a·b⁻¹, and common-subexpression elimination may then share
    b⁻¹ and multiply, which rounds twice. Exact reading: a/b."""

    nargs = 2


class fma(_Atom):  # noqa: N801
    """a·b + c, rounded once where the target has a fused multiply-add (C, CUDA). Exact reading: a·b + c.

    For polynomials: -ffp-contract=off keeps the compiler from fusing on its own, and a Horner chain of
    separate multiplies and adds has twice the latency.
    """

    nargs = 3


class prod_err(_Atom):  # noqa: N801
    """a·b − fl(a·b), the rounding error of a product (exactly representable). Exact reading: 0."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if _power_of_two(a) or _power_of_two(b) or a.is_zero or b.is_zero:  # exact in both readings
            return sp.S.Zero


class quot_err(_Atom):  # noqa: N801
    """a/b − fl(a/b), the rounding error of a quotient, to first order. Exact reading: 0.

    Machine reading: (a − q·b − prod_err(q, b))/b with q = fl(a/b), whose a − fl(q·b) is exact (fl(q·b) is
    next to a: Sterbenz). 0 where b is a power of two (the quotient is then exact)."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if _power_of_two(b) or a.is_zero:
            return sp.S.Zero

    def exact_reading(self) -> sp.Expr:
        return sp.S.Zero

    def machine_reading(self) -> sp.Expr:
        a, b = self.args
        q = held(a / b)
        return (held(a - q * b) - prod_err(q, b)) / b


class sum_err(_Atom):  # noqa: N801
    """a + b − fl(a + b), the rounding error of a sum (exactly representable). Exact reading: 0."""

    nargs = 2


class fast_sum_err(_Atom):  # noqa: N801
    """a + b − fl(a + b) for |a| ≥ |b| (Dekker's fast two-sum: three operations, not Knuth's six). Exact
    reading: 0. Where |a| < |b| it is only approximate, which a caller may accept where the error it
    corrects is itself negligible."""

    nargs = 2


class exp_err(_Atom):  # noqa: N801
    """e^(v + v_lo) − e, where e is the kernel's e^v (any exp within a few ULP of it) and v_lo is small: what e
    misses, for an exp whose result is amplified, as in exp(−e^(−x)) (the Gumbel CDF), whose relative error is
    e^(−x) times that of e^(−x). Exact reading: 0 (e is e^v there, and v_lo a sum of rounding errors).

    Machine reading (:func:`exp_err_helper`, :func:`python_exp_err`): e^(v + v_lo) as a double-double hi + lo,
    within :data:`EXP_ERR_BOUND` relatively (as tested), then (hi − e) + lo, where hi − e is exact (two doubles
    within a few ULP: Sterbenz). 0 where |v| > 708, where e is within a few times the smallest normal or the
    largest double of either end (or beyond it), and no caller's result depends on its error; NaN at NaN."""

    nargs = 3


#: Σ_{j≥4} s^(j−4)/j! for |s| ≤ REDUCED_SPAN/2: the double-double exp's tail (:func:`exp_err_helper`), to
#: degree 10, whose next term is below 2^-71·s^-4 there.
EXP_ERR_TAIL = [float(mpmath.mpf(1) / mpmath.factorial(j)) for j in range(4, 15)]

#: The relative error of exp_err's double-double e^(v + v_lo), hi + lo, for −700 ≤ v ≤ 708, as tested against
#: mpmath (tests/test_rounding.py; measured 2^-64.9 at 4·10⁴ points, with |v_lo| up to |v|·2^-53), not proved:
#: e^w's error from it is |w|·EXP_ERR_BOUND, a quarter ULP at |w| = 708. Below −700, hi + lo is subnormal in
#: part, and its relative error grows (2^-54 at −708), where e^v is below 10⁻³⁰⁴ and amplifies nothing.
EXP_ERR_BOUND = 2.0**-63


class expm1_small(_Atom):  # noqa: N801
    """expm1(t) for |t| ≤ T, computed as its Taylor polynomial. Exact reading: expm1(t).

    The polynomial's degree n is the least with a proved relative error of at
    most 2^-60 on |t| ≤ T (:meth:`bound`), far below the rounding of any
    library's expm1: a few fused multiply-adds instead of a function call.
    """

    nargs = 2

    TARGET = 2.0**-60

    @staticmethod
    def bound(span: float, degree: int) -> float:
        """|R_n(t)/expm1(t)| ≤ T^n·e^(2T)/(n + 1)! on |t| ≤ T: Lagrange, |R_n| ≤ |t|^(n+1)·e^|t|/(n + 1)!,
        and |expm1(t)| ≥ |t|·e^(−|t|). Evaluated in interval arithmetic, so the bound is rigorous."""
        iv = mpmath.iv
        t = iv.mpf(span)
        return float((t**degree * iv.exp(2 * t) / iv.factorial(degree + 1)).b)

    @classmethod
    def degree(cls, span: float, target: float | None = None) -> int:
        """The least degree whose :meth:`bound` on |t| ≤ span is at most ``target`` (default TARGET)."""
        n = 1
        while cls.bound(span, n) > (cls.TARGET if target is None else target):
            n += 1
        return n

    def polynomial(self) -> sp.Expr:
        """Σ_{k=1..n} t^k/k! in Horner form, with the coefficients as double literals."""
        t, span = self.args
        n = self.degree(float(span))
        return t * horner([lit(sp.Rational(1, sp.factorial(k))) for k in range(n + 1)][1:], t)


#: |r| after exp's reduction t = k·ln 2 + r, k = round(t/ln 2): ln 2/2, plus the rounding of t/ln 2.
REDUCED_SPAN = 0.3466


#: 1.5·2^52: adding it to a double of magnitude below 2^51 rounds it to an integer, which lands in the low bits.
ROUND_SHIFT = "6755399441055744.0"


def split(c: mpmath.mpf, bits: int) -> tuple[float, float]:
    """c as hi + lo, hi with ``bits`` significant bits (so k·hi is exact for small integers k)."""
    e = int(mpmath.floor(mpmath.log(abs(c), 2)))
    hi = mpmath.nint(c * mpmath.mpf(2) ** (bits - 1 - e)) / mpmath.mpf(2) ** (bits - 1 - e)
    return float(hi), float(c - hi)


class _reduced(_Atom):  # noqa: N801
    """exp or expm1 to a relative error of about 2^-40, for float32 data computed in double.

    Machine reading (C): t = k·ln 2 + r with k = round(t/ln 2) and |r| ≤ ln 2/2, expm1(r) as its Taylor
    polynomial of degree :meth:`degree` (remainder proved ≤ 2^-40 by :meth:`expm1_small.bound`), and 2^k
    built from k's bits: a few fused multiply-adds, and 2^-40 is 2^-16 of a float ULP. t is clamped to
    [−708, 709], which 2^k needs: below, exp gives e^−708 ≈ 3e-308 for a true value under it (and expm1
    −1, exactly its rounded value); above, e^709 ≈ 8e307 for a true value over it. Both are far outside
    float32's range (1.4e-45 to 3.4e38), so a float32 result computed from them is unchanged; clamping
    instead of selecting 0 and inf keeps the loop short. The Python printers call the library's function
    instead, which is more accurate. Exact reading: exp(t) or expm1(t).

    Written ``exp_f32(t, s)``: s = 1 says t ≤ 0 is known (most arguments are −|u|), and the C code skips
    the upper clamp. :func:`reduced_exp` writes them.
    """

    nargs = 2

    TARGET = 2.0**-40
    SPAN = REDUCED_SPAN

    @classmethod
    def degree(cls) -> int:
        return expm1_small.degree(cls.SPAN, cls.TARGET)


class exp_fma(_Atom):  # noqa: N801
    """e^(t + t_lo) to within about an ULP (0.97 measured), for t ≤ 709 and |t_lo| ≤ 2^-40·|t| or so. Exact reading: exp(t + t_lo).

    Machine reading (C, :func:`exp_fma_helper`): t = k·ln 2 + r with ln 2 split Cody–Waite style, so r is
    carried as hi + lo with t_lo added to lo; expm1(r) as a polynomial of degree 12 proved within 2^-59 on
    |r| ≤ ln 2/2 (:mod:`symact.minimax`); then 2^k·(1 + p) with one rounding, in a
    fused multiply-add: q's two roundings weigh up to a quarter ULP each, and the last rounding half an
    ULP. glibc's vector exp is further off, which the GELU kernel cannot afford.
    Below t = −708 it returns 0 (e^t < 2^-1021 there, and its callers scale their tails up instead).
    """

    nargs = 2


class exp_tail(_Atom):  # noqa: N801
    """2^(64·[t < −708])·e^(t + t_lo) − m for t ≤ 708, t_lo small and m a number (0 or 1): one exp that a form
    may use as e^t, as its tail scaled up, or as expm1 of a reduced argument. Exact reading: that expression.

    Machine reading (C, :func:`exp_tail_helper`; numba, ``_exp_tail``): the ``_neg`` exp helper's reduction
    and polynomial, t_lo carried in r_lo as :class:`exp_fma` does, and 2^(k + 64) for t < −708 without the
    scaling back, so a form that would otherwise shift its argument by 64 where e^t is subnormal but its
    result is not (SiLU's x·e^x) multiplies its result by 2^-64 instead: exact, and no second choice of
    exponent. m enters the last fused multiply-add, 2^k·(1 + q) − m: with k = 0 (|t| < ln 2/2) and m = 1
    it is q = expm1(t + t_lo), unrounded by 1 + q, which is how SiLU's root window takes expm1(d) from the
    same call that gives e^u elsewhere. t is clamped at −752, the least where 2^(k + 64) is normal; below, the
    result is the clamp's, 2^64·e^(−752) ≈ 2^-1021, which a caller's 2^-64 takes to 2^-1085, under half the
    least subnormal (SiLU reads x as 0 there anyway)."""

    nargs = 3

    def exact_reading(self) -> sp.Expr:
        t, t_lo, m = self.args
        return sp.Piecewise((2**64 * sp.exp(t + t_lo), t < -708), (sp.exp(t + t_lo), True)) - m


class exp_short(_Atom):  # noqa: N801
    """e^t for t ≤ 708 in double, within about 1.2 ULP: :func:`exp_helpers`' reduction and polynomial without
    the reduction's low part r_lo, whose first-order correction costs two operations of the ~25 (float64
    tanh, 10^7 points, 2 threads, AMD EPYC Zen 4: 8.35 → 7.93 ms). Dropping it adds |r_lo| ≤ 2^-53·|r|, up
    to a fifth of an ULP, to the relative error; for a form that does not amplify it (tanh, whose f' is
    e's ratio and f = −m/(2 + m) at most doubles m's). Exact reading: exp(t)."""

    nargs = 1
    library = "exp"

    def exact_reading(self) -> sp.Expr:
        return sp.exp(self.args[0])


class expm1_short(exp_short):  # noqa: N801
    """expm1(t) for t ≤ 708, as :class:`exp_short` is to exp. Exact reading: expm1(t)."""

    library = "expm1"

    def exact_reading(self) -> sp.Expr:
        return expm1(self.args[0])


SHORT_EXP = (exp_short, expm1_short)


class exp_f32(_reduced):  # noqa: N801
    __doc__ = _reduced.__doc__
    library = "exp"


class expm1_f32(_reduced):  # noqa: N801
    __doc__ = _reduced.__doc__
    library = "expm1"


class exp_f32_short(_reduced):  # noqa: N801
    """:class:`exp_f32` to 2^-29 (2^-5 of a float ULP), three degrees shorter (8, not 11), for a form whose f
    and f' do not cancel, so that the error is not amplified: the float32 forms of GELU, sigmoid and tanh,
    which write it themselves. Near a root of f', the others need 2^-40 (Mish's f' is 15 ULP off with
    2^-34). Exact reading: exp(t)."""

    TARGET = 2.0**-29
    library = "exp"


class expm1_f32_short(_reduced):  # noqa: N801
    """:class:`expm1_f32` to 2^-29, as :class:`exp_f32_short` is to exp: tanh's float32 form. Exact reading: expm1(t)."""

    TARGET = 2.0**-29
    library = "expm1"


class exp_float(_Atom):  # noqa: N801
    """2^j·e^t for t ≤ 0 and an integer 0 ≤ j ≤ 24, computed in float arithmetic: for float32 data computed in
    float, 16 lanes to a 512-bit vector where double has 8. Exact reading: 2^j·exp(t).

    Machine reading (C, :func:`float_exp_helpers`): t = k·ln 2 + r with k = round(t/ln 2), ln 2 split in
    two floats so that r₁ = t − k·ln2_hi is exact (fma) and r = r₁ − k·ln2_lo rounds once; expm1(r) as
    r + r²·Q(r), Q's coefficients :data:`symact.minimax.EXPM1_FLOAT`, the near-minimax floats of degree 7
    (error proved ≤ 2^-30 of expm1(r), coefficients' rounding included; Taylor's needs degree 8), in two
    Horner chains in r², even and odd coefficients, as the float64 helpers evaluate it; then 2^(k+j)·(1 + p)
    in one fused multiply-add, 2^(k+j) built from its bits. Within 1.02 ULP over every float32 argument: the
    last rounding, p's and r's (0.25). The two chains halve the polynomial's latency, one operation more
    (10^7 float32 points, 2 threads, AMD EPYC Zen 3, AVX2: tanh 9.63 → 9.14 ms, SiLU 13.8 → 12.8).

    j lets a form scale a tail up where e^t alone would be subnormal but the result is not (SiLU's x·e^x),
    and scale back exactly by 2^-j. Below t = −(126 + J)·ln 2 (:meth:`threshold`), J the largest j among the
    helpers of one source, it returns 0 (expm1: −1): there 2^J·e^t is under the smallest normal float. Above
    it, a helper of a smaller j underflows gradually, its scale 2^(k+j) derived from 2^(k+J), so that
    helpers of one argument share it (tanh: e^t and expm1(t)).
    """

    nargs = 2
    library = "exp"

    @staticmethod
    def threshold(j: int) -> float:
        """The float below which 2^j·e^t < 2^-126, and below which the helpers return 0 (expm1: −1) when j is
        the largest scale among them: at it, k + j = −126."""
        with mpmath.workdps(40):
            return float(np.float32(float(-(126 + j) * mpmath.log(2))))


class expm1_float(exp_float):  # noqa: N801
    """expm1(t) for t ≤ 0 in float arithmetic, from :class:`exp_float`'s reduction: 2^k·(1 + p) − 1 in one
    fused multiply-add, where 2^k − 1 is exact (p itself for k = 0, so no cancellation near 0). Exact
    reading: expm1(t). Written expm1_float(t, 0)."""

    library = "expm1"


def _reduction_count(t: sp.Expr) -> sp.Expr:
    """k = round(t/ln 2), the exp reduction's integer (the machine rounds ties to even; any integer reads)."""
    return sp.floor(t / sp.log(2) + sp.S.Half)


class exp_float_scale(_Atom):  # noqa: N801
    """2^(k+j), the scale of :class:`exp_float` (t, j): 2^j·e^t = s·(1 + p), p = :class:`exp_float_frac` (t, j).
    A form that takes the two apart multiplies by s exactly (a power of two) and folds 1 + p into one fused
    multiply-add with its other factor, n·(1 + p) = fma(p, n, n), so that e^t itself is never rounded (SiLU's
    float32 form: one rounding fewer in f and f'). Exact reading: 2^(j+k), k = floor(t/ln 2 + 1/2). The same
    helper as exp_float's, returning s: 0 below the threshold."""

    nargs = 2

    def exact_reading(self) -> sp.Expr:
        t, j = self.args
        return 2 ** (j + _reduction_count(t))


class exp_float_frac(_Atom):  # noqa: N801
    """expm1(r), r = t − k·ln 2, the reduced part of :class:`exp_float` (t, j) (see :class:`exp_float_scale`).
    Exact reading: exp(t − k·ln 2) − 1."""

    nargs = 2

    def exact_reading(self) -> sp.Expr:
        t, _ = self.args
        return sp.exp(t - _reduction_count(t) * sp.log(2)) - 1


class signed(_Atom):  # noqa: N801
    """v ≥ 0 with the sign of x, C's copysign(v, x): two bitwise operations, where sign(x)·v costs two comparisons,
    a subtraction, a conversion and a product. For an odd function written as f(|x|) with x's sign (tanh):
    10^7 points, 2 threads, AMD EPYC Zen 4, float32 4.11 → 3.92 ms, float64 9.49 → 8.87 ms. Exact reading:
    sign(x)·v. The two differ only in the sign of a zero: copysign gives f(±0) = ±0, an odd function's values,
    where sign(x)·v is 0·v, whose sign is v's (tanh's form gave −0 at +0)."""

    nargs = 2

    def exact_reading(self) -> sp.Expr:
        v, x = self.args
        return sp.sign(x) * v


class vanishing(_Atom):  # noqa: N801
    """v, as a factor of a product with an exp E that is exactly 0 where |u| > L, read as 0 there. Exact
    reading: v. Machine reading: 0 for |u| > L, else v.

    E is :class:`exp_float` (−|u|, j) with L beyond its threshold (−(126 + j)·ln 2, j the largest scale of
    the source's exp helpers, as in SiLU's float32 form), or a float64 exp past its underflow (SiLU's, GELU's,
    GELU-tanh's and Mish's f'; for Mish's f' near 1, beyond x = 40, E·v is below 2^-100 of the 1 it is added
    to). For float32 data computed in double (GELU's form), E·v need only round to ±0 in float32, or vanish
    against the 1 it is added to, beyond L. A finite product E·v is then ±0 either way (in the result's
    precision); where v overflows (u = ±inf, or x³ at |x| ≈ 10^103) it is 0 instead of 0·∞ = NaN, the limit,
    and the loop needs no guards for ±inf. The one difference at finite inputs is the sign of a zero (+0
    where v < 0, as at −inf).
    """

    nargs = 3

    @classmethod
    def eval(cls, v, u, bound):
        if v.is_zero:
            return sp.S.Zero

    def exact_reading(self) -> sp.Expr:
        return self.args[0]

    def machine_reading(self) -> sp.Expr:
        v, u, bound = self.args
        return sp.Piecewise((sp.S.Zero, sp.Abs(u) > bound), (v, True))


class log1p_float(_Atom):  # noqa: N801
    """log1p(e) for 0 ≤ e ≤ 1, computed in float arithmetic: softplus and log σ of float32 data computed in float,
    e = :class:`exp_float` (−|x|, 0). Exact reading: log1p(e).

    Machine reading (C, :func:`log1p_float_helper`), fdlibm's log1p without its table: 1 + e = 2^k·(1 + f) with
    k = 0 and f = e for e < 1/2, k = 1 and f = (e − 1)/2 for e ≥ 1/2 (exact by Sterbenz's lemma, so f ∈ [−1/4,
    1/2) and no rounding of 1 + e is lost); s = f/(2 + f), |s| < 1/5, and log1p(f) = 2·atanh(s) written as

        f − (f²/2 − s·(f²/2 + R(s²))),   R(z) = Σ_{k≥1} 2z^k/(2k + 1),

    an identity, in which s's roundings weigh only the small last term. R is truncated after degree
    :meth:`degree`, the least whose truncation is proved ≤ 2^-30 of the result (:meth:`bound`); then
    k·ln 2 is added with ln 2 split in two floats. Within 0.91 ULP (0.902 measured over every float in [0, 1])."""

    nargs = 1
    TARGET = 2.0**-30
    #: |s| = |f/(2 + f)| < 1/5 for f ∈ [−1/4, 1/2), and a margin for s's rounding
    SPAN = 0.2 * (1 + 2.0**-20)

    @staticmethod
    def bound(span: float, degree: int) -> float:
        """The truncation relative to log1p(f) = 2·atanh(s), which is at least 2|s|: s·Σ_{k>n} 2s^(2k)/(2k + 1)
        ≤ 2|s|·z^(n+1)/((2n + 3)(1 − z)) with z = s², so at most z^(n+1)/((2n + 3)(1 − z)), in interval arithmetic."""
        iv = mpmath.iv
        z = iv.mpf(span) ** 2
        return float((z ** (degree + 1) / ((2 * degree + 3) * (1 - z))).b)

    @classmethod
    def degree(cls, span: float | None = None, target: float | None = None) -> int:
        """The least degree whose :meth:`bound` on |s| ≤ span is at most target (by default SPAN and TARGET,
        the float helper's; the numba kernels' double one takes its own)."""
        span, target = cls.SPAN if span is None else span, cls.TARGET if target is None else target
        n = 1
        while cls.bound(span, n) > target:
            n += 1
        return n


def log1p_float_call(argument: str, e: sp.Expr) -> str:
    """The C call for a :class:`log1p_float` atom; e is its argument with common subexpressions put back, which
    must be an :class:`exp_float` without scale (j = 0) of an argument known to be ≤ 0, so that 0 ≤ e ≤ 1."""
    if not (isinstance(e, exp_float) and e.args[1] == 0 and e.args[0].is_nonpositive):
        raise ValueError(f"log1p_float needs exp_float(t, 0) with t known to be ≤ 0 (0 ≤ e ≤ 1), not {e}")
    return f"symact_log1p_float({argument})"


#: The double log1p helpers' truncation of R, relative to the result: 2^-5 of an ULP (:func:`log1p_unit_helper`
#: and the numba kernels' general one, symact.compile.numba.log1p_helper).
LOG1P_DOUBLE_TARGET = 2.0**-58
#: :func:`log1p_unit_helper`'s span of |s|: 1/5, and a margin for s's rounding.
LOG1P_UNIT_SPAN = 0.2 * (1 + 2.0**-40)


def log1p_float_helper(qualifier: str = "static inline", double: bool = False) -> str:
    """C for :func:`log1p_float_call` (see :class:`log1p_float`); ``double``: the same algorithm in double
    arithmetic, R's degree proved for LOG1P_DOUBLE_TARGET, as ``symact_log1p_unit`` (:func:`log1p_unit_helper`)."""
    single = not double
    t, suffix, fma_ = ("float", "f", "fmaf") if single else ("double", "", "fma")

    def c_(v: float) -> str:
        return repr(float(np.float32(v)) if single else v) + suffix

    with mpmath.workdps(40):
        ln2 = mpmath.log(2)
        hi = float(np.float32(float(ln2))) if single else float(ln2)
        lo_ = float(ln2 - mpmath.mpf(hi))
    degree = log1p_float.degree() if single else log1p_float.degree(LOG1P_UNIT_SPAN, LOG1P_DOUBLE_TARGET)
    coefficients = [2 / (2 * k + 1) for k in range(1, degree + 1)]
    r = _fma_chain(list(map(c_, coefficients)), "z", fma_)
    name = "symact_log1p_float" if single else "symact_log1p_unit"
    return f"""{qualifier} {t} {name}({t} e) {{  /* 0 <= e <= 1 */
    const int big = e >= {c_(0.5)};
    const {t} f = big ? (e - {c_(1.0)}) * {c_(0.5)} : e;  /* exact: 1 + e = 2^big·(1 + f) */
    const {t} s = f / ({c_(2.0)} + f);
    const {t} z = s * s;
    const {t} R = z * {r};
    const {t} hfsq = {c_(0.5)} * f * f;
    const {t} l = f - (hfsq - s * (hfsq + R));  /* log1p(f) */
    return big ? {c_(hi)} + ({c_(lo_)} + l) : l;
}}
"""


def log1p_unit_helper(qualifier: str = "static inline") -> str:
    """C for log1p(e), 0 ≤ e ≤ 1, in double: :class:`log1p_float`'s algorithm (k = 0 or 1 from e alone, f exact,
    no bits of 1 + e taken apart), for the float64 kernels' log1p(e^u) with u ≤ 0 (softplus, log σ), instead
    of libmvec's general log1p. Within 1.05 ULP on 5·10^7 points of [0, 1] (against long double)."""
    return log1p_float_helper(qualifier, double=True)


#: The float-arithmetic exp atoms.
FLOAT_EXP = (exp_float, expm1_float, exp_float_scale, exp_float_frac)
#: What each one's helper returns, from the scale s = 2^(k+j) and p = expm1(r).
FLOAT_EXP_RESULT = {
    "exp_float": "fmaf(s, p, s)",
    "expm1_float": "fmaf(s, p, s - 1.0f)",
    "exp_float_scale": "s",
    "exp_float_frac": "p",
}


def float_exp_call(atom: exp_float, argument: str, t: sp.Expr) -> str:
    """The C call for an :class:`exp_float` or :class:`expm1_float` atom; t is its argument with common
    subexpressions put back, which must be known to be ≤ 0."""
    if not t.is_nonpositive:
        raise ValueError(f"{type(atom).__name__} needs an argument known to be ≤ 0, not {t}")
    return f"symact_{type(atom).__name__}_{int(atom.args[1])}({argument})"


def float_exp_helpers(atoms, qualifier: str = "static inline") -> str:
    """C for :func:`float_exp_call`, one function per (kind, j) in ``atoms``. gcc inlines them, and shares the
    reduction of an exp and an expm1 of one argument (tanh). Needs <stdint.h>.

    Below the threshold a helper returns 0 (expm1: −1) by zeroing the scale 2^(k+j), not by choosing its
    result: a choice of a constant result, gcc carries into every use of it, one more blend at each (10^7
    float32 points, 2 threads, AMD EPYC: tanh 3.19 → 2.77 ms, sigmoid 2.77 → 2.32, SiLU 4.25 → 4.01; the same
    bits, over every float32). The argument is clamped, at one value for all the helpers, only so that −inf
    reduces to finite numbers. The helpers share the clamp and the scale's bits (2^(k+j) = 2^(k+J)·2^(j−J),
    exact), so that tanh's exp and expm1 of one argument differ by two operations (3.78 → 3.70 ms)."""
    with mpmath.workdps(40):
        ln2 = mpmath.log(2)
        hi = float(np.float32(float(ln2)))
        lo_ = float(np.float32(float(ln2 - mpmath.mpf(hi))))
        inverse = float(np.float32(float(1 / ln2)))
    q = _two_chains(EXPM1_FLOAT, single=True)
    kinds = sorted({(type(a).__name__, int(a.args[1])) for a in atoms})
    top = max((j for _, j in kinds), default=0)
    low = exp_float.threshold(top)
    if low <= -128:  # the reduction below is exact for |c| < 128 only
        raise ValueError(f"exp_float: a scale 2^j with j > 58 leaves the reduction's range (j = {top})")
    out = []
    for kind, j in kinds:
        result = FLOAT_EXP_RESULT[kind]
        scale = "b.f" if j == top else f"b.f * {2.0 ** (j - top)!r}f"  # exact: a power of two, down to 2^-149
        out.append(f"""{qualifier} float symact_{kind}_{j}(float t) {{
    const float c = t < {low!r}f ? {low!r}f : t;
    const float kk = fmaf(c, {inverse!r}f, 12582912.0f), k = kk - 12582912.0f;  /* 1.5·2^23: k in the low bits */
    const float r1 = fmaf(k, {-hi!r}f, c);  /* exact: c and k·ln2_hi are multiples of 2^-24, |r1| < 1/2 */
    const float r = fmaf(k, {-lo_!r}f, r1);
    const float r2 = r * r;
    const float p = fmaf(r2, {q}, r);  /* expm1(r) */
    union {{ float f; uint32_t u; }} b = {{kk}};
    b.u = t < {low!r}f ? 0u : (b.u + {127 + top}u) << 23;  /* 2^(k+{top}), or 0 below {low!r} */
    const float s = {scale};  /* 2^(k+{j}) */
    return {result};
}}
""")
    return "".join(out)


#: The reduced exp atoms, which the C helpers (:func:`reduced_helpers`) compute.
REDUCED = (exp_f32, expm1_f32, exp_f32_short, expm1_f32_short)


def reduced_exp(expr: sp.Expr) -> sp.Expr:
    """expr with exp and expm1 replaced by :class:`exp_f32` and :class:`expm1_f32`, except inside a literal
    (lit(e^r) is a constant, not a call)."""
    constants = {a: sp.Dummy() for a in expr.atoms(lit, lo)}
    expr = expr.xreplace(constants)
    for function, atom in ((sp.exp, exp_f32), (expm1, expm1_f32)):
        expr = expr.replace(function, lambda t, atom=atom: atom(t, sp.S.One if t.is_nonpositive else sp.S.Zero))
    return expr.xreplace({d: a for a, d in constants.items()})


def reduced_call(atom: _reduced, argument: str) -> str:
    """The C call for an :class:`exp_f32`, :class:`expm1_f32` or :class:`exp_f32_short` atom (``_neg``: for t ≤ 0)."""
    return f"symact_{type(atom).__name__}{'_neg' if atom.args[1] == 1 else ''}({argument})"


def reduced_helpers(qualifier: str = "static inline") -> str:
    """C for :func:`reduced_call`: exp, expm1 and the short exp, each for any t and for t ≤ 0. gcc inlines them,
    and shares their common work when a form uses two on one argument. Needs <stdint.h>."""
    shift = ROUND_SHIFT
    with mpmath.workdps(40):
        hi, lo_ = split(mpmath.log(2), 53)

    def taylor(degree: int) -> str:  # expm1(r)/r = 1 + r/2 + ... + r^(n−1)/n!
        return _fma_chain([repr(float(sp.Rational(1, sp.factorial(k)))) for k in range(1, degree + 1)], "r")

    out = []
    for suffix, clamp in (("", "t < -708.0 ? -708.0 : (t > 709.0 ? 709.0 : t)"), ("_neg", "t < -708.0 ? -708.0 : t")):
        for atom in REDUCED:
            name, poly = atom.__name__, taylor(atom.degree())
            result = "fma(s.d, p, s.d - 1.0)" if atom.library == "expm1" else "fma(s.d, p, s.d)"
            out.append(f"""{qualifier} double symact_{name}{suffix}(double t) {{
    const double c = {clamp};
    const double kk = c * {1 / hi!r} + {shift}, k = kk - {shift};
    const double r = fma(k, {-lo_!r}, fma(k, {-hi!r}, c));
    const double p = r * {poly};
    union {{ double d; uint64_t u; }} s = {{kk}};  /* a union, not memcpy: gcc then shares exp's and expm1's work */
    s.u = (s.u + 1023u) << 52;  /* k sits in kk's low bits: this is 2^k, for -1022 <= k <= 1023 */
    return {result};
}}
""")
    return "".join(out)


def horner(coefficients, t: sp.Expr) -> sp.Expr:
    """c_0 + t·(c_1 + t·(… + t·c_n)) with one fused multiply-add per step."""
    out = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        out = fma(t, out, c)
    return out


def horner2(coefficients, t: sp.Expr) -> sp.Expr:
    """The same polynomial as E(t²) + t·O(t²), even and odd coefficients in two Horner chains: one more
    operation, half the latency, which is what a long polynomial in a SIMD loop waits on."""
    if len(coefficients) < 3:
        return horner(coefficients, t)
    t2 = held(t * t)
    return fma(t, horner(coefficients[1::2], t2), horner(coefficients[0::2], t2))


def _fma_chain(literals, var: str, fma_: str = "fma") -> str:
    """C for c_0 + var·(c_1 + … + var·c_n) in Horner form, one fused multiply-add a term: ``literals`` are the
    coefficients c_0, …, c_n as C literals, ``fma_`` "fma" or "fmaf"."""
    out = literals[-1]
    for c in reversed(literals[:-1]):
        out = f"{fma_}({var}, {out}, {c})"
    return out


def _two_chains(coefficients, single: bool) -> str:
    """C for c_0 + c_1·r + … + c_n·r^n as E(r2) + r·O(r2), even and odd coefficients in two Horner chains in
    ``r2`` (= r·r, declared by the caller), as :func:`horner2` writes it: fmaf and float literals if ``single``."""
    f, lit_ = ("fmaf", "{!r}f") if single else ("fma", "{!r}")

    def chain(cs):
        return _fma_chain([lit_.format(c) for c in cs], "r2", f)

    return f"{f}(r, {chain(coefficients[1::2])}, {chain(coefficients[0::2])})"


def _exp_core(
    qualifier: str, name: str, signature: str, clamp: str, tl: str, compensated: bool = True, returns: str = "double"
) -> str:
    """The start of an accurate exp helper up to q = expm1(r + r_lo) and kk (k in its low bits): ln 2 split
    Cody–Waite style, so r is carried as hi + lo, and expm1(r) as the near-minimax polynomial of degree 12
    proved within 2^-59 on |r| ≤ ln 2/2 (:mod:`symact.minimax`; the Taylor polynomial needs degree 14), in two
    Horner chains (as horner2 writes it). Not ``compensated``: q = expm1(r), r_lo dropped (:class:`exp_short`)."""
    last = (
        "const double q = p + fma(p, r_lo, r_lo);  /* expm1(r + r_lo) to first order */"
        if compensated
        else "const double q = p;  /* expm1(r), r_lo dropped (exp_short) */"
    )
    shift = ROUND_SHIFT
    with mpmath.workdps(40):
        hi, lo_ = split(mpmath.log(2), 42)  # 42 bits: k·hi is exact for |k| < 2^11
        inverse = float(1 / mpmath.log(2))
    low = f"    const double r_lo = (d - r) + fma(k, {-lo_!r}, {tl});  /* r + r_lo = t + tl − k·ln 2, to ~2^-100 */\n"
    return f"""{qualifier} {returns} {name}({signature}) {{
    const double c = {clamp};
    const double kk = fma(c, {inverse!r}, {shift}), k = kk - {shift};
    const double d = fma(k, {-hi!r}, c);  /* exact: k·ln2_hi has at most 53 bits, and c is near it */
    const double r = fma(k, {-lo_!r}, d);
{low if compensated else ""}    const double r2 = r * r;
    const double p = fma(r2, {_two_chains(EXPM1, single=False)}, r);  /* expm1(r) */
    {last}
"""


#: The exp helpers' ``_near`` variants are for arguments known to be within ±NEAR_EXP (symact.compile.near): there
#: the full helpers' clamps and their shifts of k by ±64 do nothing, and the variants leave them out, with the same
#: values.
NEAR_EXP = 708.0


def exp_fma_helper(qualifier: str = "static inline", near: bool = False) -> str:
    """C for :class:`exp_fma`: ``symact_exp_fma(t, t_lo)``; ``near``: also ``symact_exp_fma_near`` (NEAR_EXP).
    Needs <stdint.h>."""
    out = []
    for suffix, clamp, result in (
        ("", "t < -708.0 ? -708.0 : (t > 709.0 ? 709.0 : t)", "t < -708.0 ? 0.0 : fma(s.d, q, s.d)"),
        ("_near", "t", "fma(s.d, q, s.d)"),
    )[: 2 if near else 1]:
        core = _exp_core(qualifier, f"symact_exp_fma{suffix}", "double t, double tl", clamp, "tl")
        out.append(f"""{core}    union {{ double d; uint64_t u; }} s = {{kk}};
    s.u = (s.u + 1023u) << 52;  /* 2^k */
    return {result};
}}
""")
    return "".join(out)


def exp_tail_helper(qualifier: str = "static inline", near: bool = False) -> str:
    """C for :class:`exp_tail`: ``symact_exp_tail(t, t_lo, m)``; ``near``: also ``symact_exp_tail_near``
    (NEAR_EXP). ``symact_exp_tail_short`` (and ``_short_near``) are for t_lo = 0: without r_lo, r's rounding,
    which moves e^t by at most 2^-55.5 of itself. SiLU's f and f' over 8·10^4 points (accuracy_kernels'
    and a dense grid on [−12, 12]) keep their largest errors, 2.48 and 2.96 ULP; 1% of their values move by
    an ULP; 10^7 float64 points, 2 threads: 11.0 → 10.0 ms (2.6·10^5 in cache: 0.30 → 0.29). Needs <stdint.h>."""
    out = []
    for suffix, clamp, shift in (("", "t < -752.0 ? -752.0 : t", " - (c < -708.0 ? -64.0 : 0.0)"), ("_near", "t", ""))[
        : 2 if near else 1
    ]:
        for short in (False, True):
            name = f"symact_exp_tail{'_short' if short else ''}{suffix}"
            core = _exp_core(qualifier, name, "double t, double tl, double m", clamp, "tl", compensated=not short)
            out.append(f"""{core}    union {{ double d; uint64_t u; }} s = {{kk{shift}}};
    s.u = (s.u + 1023u) << 52;  /* 2^k{", or 2^(k + 64) below −708" if shift else ""} */
    return fma(s.d, q, s.d - m);
}}
""")
    return "".join(out)


def hyperbolic_helpers(qualifier: str = "static inline") -> str:
    """C for the float64 C kernels' cosh and sinh: ``symact_cosh(x)`` and ``symact_sinh(x)``, inline, so that
    gcc vectorizes the loop (libm's are scalar calls, which keep the whole loop scalar: f + f′ of cosh x over 10^7
    points, 2 threads, 101 → 12.6 ms; libmvec's are less accurate). With a = |x|:

    - a < 1: the Taylor polynomials 1 + a²/2! + … + a²⁰/20! and a + a³/3! + … + a¹⁹/19! (the next terms are
      below 2^-65 of the value);
    - else e^a/2 = s·(1 + q) from :func:`_exp_core` (s = 2^k), its argument a − ln 2 carried as t + tl (ln 2
      split, the difference's rounding kept by two-sum), and above 700 a − 65·ln 2, scaled back by 2^64, so
      that cosh x is finite up to where it overflows (710.48), not where e^a does; then cosh = s·(1 + q + w/s)
      and sinh = s·(1 + q − w/s) with w = e^(−a)/2 = 1/(4 s (1 + q)), rounded once.

    Measured against mpmath (12000 points on [0, 700]): cosh within 1.20 ULP, sinh 1.11 (glibc 2.36's libm:
    0.97 and 1.66; a Taylor polynomial out to a = 2 was worse, 1.36 and 1.21, as a² rounds). ±inf gives inf,
    NaN NaN, sinh keeps x's sign (−0 too). Needs <stdint.h> and :func:`symact.compile.c.error_helpers`'
    symact_sum_err."""
    with mpmath.workdps(40):
        ln2 = split(mpmath.log(2), 53)
        ln2_65 = split(65 * mpmath.log(2), 53)
        even = [float(1 / mpmath.factorial(2 * j)) for j in range(1, 11)]  # 1/2!, …, 1/20!
        odd = [float(1 / mpmath.factorial(2 * j + 1)) for j in range(1, 10)]  # 1/3!, …, 1/19!

    def chain(cs):  # c_0 + c_1·a2 + … in Horner form
        return _fma_chain(list(map(repr, cs)), "a2")

    b = "(a > 712.0 ? 712.0 : a)"  # beyond 712 both overflow; NaN passes
    hi, lo = (f"(a > 700.0 ? {big!r} : {small!r})" for big, small in zip(ln2_65, ln2))
    core = _exp_core(
        qualifier,
        "symact_half_exp",
        "double a",
        f"{b} - {hi}",
        f"symact_sum_err({b}, -{hi}) - {lo}",
        returns="symact_half_exp_t",
    )
    return f"""typedef struct {{ double s, q, scale; }} symact_half_exp_t;  /* e^a/2 = scale·s·(1 + q) */
{core}    union {{ double d; uint64_t u; }} s = {{kk}};
    s.u = (s.u + 1023u) << 52;  /* 2^k */
    const symact_half_exp_t out = {{s.d, q, a > 700.0 ? 0x1p64 : 1.0}};
    return out;
}}
{qualifier} double symact_cosh(double x) {{
    const double a = fabs(x), a2 = a * a;
    const symact_half_exp_t e = symact_half_exp(a);
    const double w_s = 0.25 / (fma(e.s, e.q, e.s) * e.s);  /* e^(−a)/2 over s */
    return a < 1.0 ? {chain(even)} * a2 + 1.0 : fma(e.s, e.q + w_s, e.s) * e.scale;
}}
{qualifier} double symact_sinh(double x) {{
    const double a = fabs(x), a2 = a * a;
    const symact_half_exp_t e = symact_half_exp(a);
    const double w_s = 0.25 / (fma(e.s, e.q, e.s) * e.s);
    return copysign(a < 1.0 ? a + a * (a2 * {chain(odd)}) : fma(e.s, e.q - w_s, e.s) * e.scale, x);
}}
"""


#: fdlibm's atan (s_atan.c, Sun Microsystems 1993, "permission to use, copy, modify, and distribute this software
#: is freely granted"): atan(c) as hi + lo at the reduction's centres c = 1/2, 1, 3/2, ∞, and the odd polynomial
#: t − t·(s1 + s2) of atan on |t| < 7/16.
ATAN_CENTRES = (
    (4.63647609000806093515e-01, 2.26987774529616870924e-17),
    (7.85398163397448278999e-01, 3.06161699786838301793e-17),
    (9.82793723247329054082e-01, 1.39033110312309984516e-17),
    (1.57079632679489655800e00, 6.12323399573676603587e-17),
)
ATAN_POLYNOMIAL = (
    3.33333333333329318027e-01,
    -1.99999999998764832476e-01,
    1.42857142725034663711e-01,
    -1.11111104054623557880e-01,
    9.09088713343650656196e-02,
    -7.69187620504482999495e-02,
    6.66107313738753120669e-02,
    -5.83357013379057348645e-02,
    4.97687799461593236017e-02,
    -3.65315727442169155270e-02,
    1.62858201153657823623e-02,
)


def atan_helper(qualifier: str = "static inline") -> str:
    """C for the float64 C kernels' atan: ``symact_atan(x)``, fdlibm's algorithm (:data:`ATAN_POLYNOMIAL`)
    without its branches, so that gcc vectorizes the loop (libm's atan is a scalar call, which kept the whole
    loop scalar: f + f′ of atan x over 10^7 points, 2 threads, 40 → 16 ms; libmvec's is 1.51 ULP off). With
    a = |x|, t = (a − c)/(1 + c·a) about the centre c of a's interval (7/16, 11/16, 19/16 and 39/16 bound them;
    −1/a beyond), chosen by selects, one division; then atan c − ((t·(s1 + s2) − lo) − t). Measured against
    mpmath (28000 points, |x| from 1e-300 to 1e300): within 0.75 ULP (glibc 2.36's libm: 0.51). NaN passes,
    ±inf gives ±π/2, x's sign is kept (−0 too)."""
    bounds = (0.4375, 0.6875, 1.1875, 2.4375)
    numerators = ("2.0 * a - 1.0", "a - 1.0", "a - 1.5", "-1.0")
    denominators = ("2.0 + a", "a + 1.0", "1.0 + 1.5 * a", "a")

    def chosen(values, inner):  # the value of a's interval, the last one first
        out = inner
        for bound, value in zip(bounds, values):
            out = f"(a >= {bound!r} ? {value} : {out})"
        return out

    his, los = zip(*ATAN_CENTRES)

    def chain(cs):  # c_0 + c_1·w + … in Horner form, w = t⁴
        out = repr(cs[-1])
        for c in reversed(cs[:-1]):
            out = f"({c!r} + w * {out})"
        return out

    return f"""{qualifier} double symact_atan(double x) {{
    const double a = fabs(x);
    const double num = {chosen(numerators, "a")}, den = {chosen(denominators, "1.0")};
    const double hi = {chosen(map(repr, his), "0.0")}, lo = {chosen(map(repr, los), "0.0")};
    const double t = num / den, z = t * t, w = z * z;
    const double s1 = z * {chain(ATAN_POLYNOMIAL[0::2])}, s2 = w * {chain(ATAN_POLYNOMIAL[1::2])};
    return copysign(hi - ((t * (s1 + s2) - lo) - t), x);
}}
"""


#: fdlibm's sin and cos of r on |r| ≤ π/4 (k_sin.c and k_cos.c, Sun Microsystems 1993, "permission to use, copy,
#: modify, and distribute this software is freely granted"): sin r = r + r³·(S1 + r²·(S2 + … + r⁸·S6)) and
#: cos r = 1 − r²/2 + r⁴·(C1 + … + r¹⁰·C6).
SIN_POLYNOMIAL = (
    -1.66666666666666324348e-01,
    8.33333333332248946124e-03,
    -1.98412698298579493134e-04,
    2.75573137070700676789e-06,
    -2.50507602534068634195e-08,
    1.58969099521155010221e-10,
)
COS_POLYNOMIAL = (
    4.16666666666666019037e-02,
    -1.38888888888741095749e-03,
    2.48015872894767294178e-05,
    -2.75573143513906633035e-07,
    2.08757232129817482790e-09,
    -1.13596475577881948265e-11,
)
#: Up to this |x| the reduction of :func:`trig_helpers` is exact (k = round(2x/π) below 2^20); a kernel whose sin
#: or cos argument is larger, and finite, is computed with libm's instead (:func:`symact.compile.c.source`).
TRIG_RANGE = 2.0**20


def trig_helpers(qualifier: str = "static inline") -> str:
    """C for the float64 C kernels' sin and cos: ``symact_sin(x)`` and ``symact_cos(x)``, inline and without
    branches, so that gcc vectorizes the loop (libm's are scalar calls, which kept the whole loop scalar: f + f′
    of sin x over 10^7 points, 2 threads, 100 → 18 ms; libmvec's are 2.6 and 3.0 ULP off).

    x = k·π/2 + r + y with k = round(2x/π): π/2 in four parts (33, 33, 33 and 53 bits), so that x − k·P1 and
    k·P2 are exact for |k| < 2^20, their difference split by two-sum, and the last two parts' products added
    to its error y; r + y is then within 2^-100 of the reduced argument, for |x| ≤ :data:`TRIG_RANGE`. sin r
    and cos r are fdlibm's kernels (:data:`SIN_POLYNOMIAL`, :data:`COS_POLYNOMIAL`), y folded in to second
    order: fdlibm's expects y below half an ULP of r, and y is up to 10 of them here (k·P3 is not rounded
    away), where its cos(r + y) ≈ cos r − r·y was 1.28 ULP off at x ≈ 8.5·10^5; sin(r + y) ≈ sin r +
    (1 − r²/2 + r⁴/24)·y and cos(r + y) ≈ cos r − (r − r³/6)·y are within 0.73 ULP of mpmath on 21000 points
    up to 1.6·10^6, multiples of π/2 and their neighbours among them (glibc 2.36's libm: 0.51). k's last two
    bits then choose ±sin r or ±cos r. x's sign is kept at ±0; ±inf and NaN give NaN. Both helpers inline the
    same reduction, which gcc computes once where a kernel calls both at one argument. Needs <stdint.h>."""
    with mpmath.workdps(60):
        rest, parts = mpmath.pi / 2, []
        for _ in range(3):
            hi, _ = split(rest, 33)
            parts.append(hi)
            rest -= mpmath.mpf(hi)
        p1, p2, p3, p3t = *parts, float(rest)
        inverse = float(2 / mpmath.pi)
    s1, *s = SIN_POLYNOMIAL
    c = COS_POLYNOMIAL
    return f"""typedef struct {{ double s, c; uint64_t k; }} symact_quadrant_t;  /* sin r, cos r, k: x = k·π/2 + r */
{qualifier} symact_quadrant_t symact_quadrant(double x) {{
    const double kk = fma(x, {inverse!r}, 6755399441055744.0), k = kk - 6755399441055744.0;
    const double t = fma(k, {-p1!r}, x), w = k * {p2!r};  /* both exact: |k| < 2^20 */
    const double r = t - w, bb = r - t;
    const double y = fma(k, {-p3t!r}, fma(k, {-p3!r}, (t - (r - bb)) + (-w - bb)));  /* r + y = x − k·π/2 */
    const double z = r * r, z2 = z * z, v = z * r;
    const double ps = {s[0]!r} + z * ({s[1]!r} + z * {s[2]!r}) + z * z2 * ({s[3]!r} + z * {s[4]!r});
    const double pc = z * ({c[0]!r} + z * ({c[1]!r} + z * {c[2]!r})) + z2 * z2 * ({c[3]!r} + z * ({c[4]!r} + z * {c[5]!r}));
    const double sn = r - ((z * (fma(z * y, {-1 / 24!r}, 0.5 * y) - v * ps) - y) - v * {s1!r});
    const double hz = 0.5 * z, u = 1.0 - hz;
    const double cs = u + (((1.0 - u) - hz) + (z * pc - fma(v, {s1!r}, r) * y));
    union {{ double d; uint64_t u; }} n = {{kk}};  /* k in its low bits */
    const symact_quadrant_t out = {{sn, cs, n.u}};
    return out;
}}
{qualifier} double symact_sin(double x) {{
    const symact_quadrant_t q = symact_quadrant(x);
    union {{ double d; uint64_t u; }} v = {{(q.k & 1) ? q.c : q.s}};
    v.u ^= (q.k & 2) << 62;  /* −v for k = 2, 3 (mod 4) */
    return v.d;
}}
{qualifier} double symact_cos(double x) {{
    const symact_quadrant_t q = symact_quadrant(x);
    union {{ double d; uint64_t u; }} v = {{(q.k & 1) ? q.s : q.c}};
    v.u ^= ((q.k + 1) & 2) << 62;  /* −v for k = 1, 2 (mod 4) */
    return v.d;
}}
"""


def exp_helpers(qualifier: str = "static inline", short: bool = False, near: bool = False) -> str:
    """C for the float64 C kernels' exp and expm1: ``symact_exp(t)`` and ``symact_expm1(t)``, and ``_neg``
    variants for t ≤ 708 (mostly t ≤ 0, hence the name), which skip the upper clamp and scaling. The
    reduction and polynomial of :func:`exp_fma_helper`: exp within about an ULP (0.97 measured), expm1
    within two (1.83, where 2^k·q + 2^k − 1 cancels at k = ±1), over the whole range. gcc would otherwise
    call glibc's vector exp and expm1, which are less accurate, and which some kernels amplify past 4 ULP
    (SiLU's f', Mish's f, GELU-tanh's f'). 2^k is
    built from k's bits, which holds for −1022 ≤ k ≤ 1023: beyond ±708, k is moved by ∓64 and the result
    scaled back by 2^±64 in one multiplication, so a subnormal result rounds once more (an error far
    below the smallest normal) and a result over the largest double becomes inf. expm1 rounds once:
    2^k − 1 is exact for k ≥ −53. ``short``: also ``symact_exp_short`` and ``symact_expm1_short``, the
    ``_neg`` helpers without r_lo (:class:`exp_short`). Needs <stdint.h>."""
    full, neg = "t < -746.0 ? -746.0 : (t > 710.0 ? 710.0 : t)", "t < -746.0 ? -746.0 : t"
    shift_full, shift_neg = "(c > 708.0 ? 64.0 : (c < -708.0 ? -64.0 : 0.0))", "(c < -708.0 ? -64.0 : 0.0)"
    # exp and expm1 of one argument share everything but the last line, so gcc computes the reduction and
    # the polynomial once for a form that calls both (tanh, ELU). expm1 takes exp's clamp and shift: below
    # −708, 2^(k + 64) − 1 rounds to −1, its value; above 708, 2^(k − 64)·(1 + q) − 2^-64 is scaled back.
    variants = (  # name, clamp, k's shift, the result
        ("exp", full, shift_full, "fma(s.d, q, s.d) * (c > 708.0 ? 0x1p64 : (c < -708.0 ? 0x1p-64 : 1.0))"),
        ("exp_neg", neg, shift_neg, "fma(s.d, q, s.d) * (c < -708.0 ? 0x1p-64 : 1.0)"),
        ("expm1", full, shift_full, "fma(s.d, q, s.d - (c > 708.0 ? 0x1p-64 : 1.0)) * (c > 708.0 ? 0x1p64 : 1.0)"),
        ("expm1_neg", neg, shift_neg, "fma(s.d, q, s.d - 1.0)"),
    )
    if near:  # within ±NEAR_EXP: no clamp, no shift
        variants += (("exp_near", "t", "0.0", "fma(s.d, q, s.d)"), ("expm1_near", "t", "0.0", "fma(s.d, q, s.d - 1.0)"))
    if short:
        variants += tuple(
            (name.replace("_neg", "_short").replace("_near", "_short_near"), *rest)
            for name, *rest in variants
            if name.endswith(("_neg", "_near"))
        )
    out = []
    for name, clamp, shift, result in variants:
        core = _exp_core(qualifier, f"symact_{name}", "double t", clamp, "0.0", compensated="short" not in name)
        out.append(f"""{core}    union {{ double d; uint64_t u; }} s = {{kk{"" if shift == "0.0" else " - " + shift}}};
    s.u = (s.u + 1023u) << 52;  /* 2^k{"" if shift == "0.0" else ", or 2^(k ∓ 64) beyond ±708"} */
    return {result};
}}
""")
    return "".join(out)


def _exp_err_constants() -> dict[str, str]:
    """The double-double exp's constants, as Python and C literals: ln 2 in three parts (42, 42 and 53 bits, so
    that k·hi and k·mid are exact), 1/ln 2, and 1/6 as hi + lo."""
    with mpmath.workdps(60):
        ln2 = mpmath.log(2)
        hi, _ = split(ln2, 42)
        mid, _ = split(ln2 - mpmath.mpf(hi), 42)
        low = float(ln2 - mpmath.mpf(hi) - mpmath.mpf(mid))
        sixth = float(mpmath.mpf(1) / 6)
        sixth_lo = float(mpmath.mpf(1) / 6 - mpmath.mpf(sixth))
        inverse = float(1 / ln2)
    return {k: repr(v) for k, v in dict(hi=hi, mid=mid, low=low, inv=inverse, sixth=sixth, sixth_lo=sixth_lo).items()}


def _exp_err_body(prod_err: str, floor: str, exp2: str) -> str:
    """The double-double exp of :class:`exp_err`, as statements that C and Python both read (with ``const
    double`` or nothing before each name): the reduction v + v_lo = k·ln 2 + r + r_lo to ~2^-100, then
    expm1(s) at s = r/2, |s| ≤ 0.174, as s + s²/2 + s³/6 with each of those exact to 2^-106 and the rest,
    s⁴·Σ s^j/(j + 4)!, in double (at most 3.8·10⁻⁵, so its rounding is 2^-66), summed into a + al with
    |al| an ULP of a or so, and s's low part sl (r_lo/2, with v_lo in it) added as sl·e^s; squared back as
    expm1(r) = 2a + a² (al² dropped), and 1 + expm1(r) scaled by 2^k. Dekker's fast two-sum wherever the
    larger term is known."""
    c = _exp_err_constants()
    tail = EXP_ERR_TAIL[-1]
    chain = repr(tail)
    for coefficient in reversed(EXP_ERR_TAIL[:-1]):
        chain = f"({chain} * s + {coefficient!r})"
    return f"""@ c = {floor}(v * {c["inv"]} + 0.5)
@ d = v - c * {c["hi"]}
@ r = d - c * {c["mid"]}
@ r_lo = (((d - r) - c * {c["mid"]}) - c * {c["low"]}) + vl
@ s = 0.5 * r
@ sl = 0.5 * r_lo
@ p2 = s * s
@ p2e = {prod_err}(s, s)
@ p3 = p2 * s
@ p3e = {prod_err}(p2, s) + p2e * s
@ t3 = p3 * {c["sixth"]}
@ t3e = ({prod_err}(p3, {c["sixth"]}) + p3 * {c["sixth_lo"]}) + p3e * {c["sixth"]}
@ h = 0.5 * p2
@ u = s + h
@ ue = (s - u) + h
@ w = u + t3
@ we = (u - w) + t3
@ rest = (p2 * p2) * {chain}
@ a = w + rest
@ al = ((((w - a) + rest) + we) + ue + (0.5 * p2e + t3e)) + sl * (1.0 + a)
@ q = a * a
@ b = 2.0 * a + q
@ bl = (((2.0 * a - b) + q) + {prod_err}(a, a)) + 2.0 * al + 2.0 * a * al
@ one = 1.0 + b
@ lo1 = ((1.0 - one) + b) + bl
@ scale = {exp2}(c)
@ err = (one * scale - e) + lo1 * scale"""


def exp_err_helper(qualifier: str = "static inline") -> str:
    """C for :class:`exp_err`: ``symact_exp_err(v, vl, e)``, in double (for float code too: its arguments
    convert; hence its own exact product, where the kernel's symact_prod_err is float's). Needs <stdint.h> and
    the fp-contract setting of the error helpers."""
    lines = _exp_err_body("symact_exp_err_prod", "floor", "symact_exp_err_exp2").splitlines()
    body = "\n".join(line.replace("@ ", "    const double ") + ";" for line in lines)
    return f"""{qualifier} double symact_exp_err_prod(double a, double b) {{ return fma(a, b, -(a * b)); }}
{qualifier} double symact_exp_err_exp2(double k) {{  /* 2^k for an integer k, |k| ≤ 1022 */
    union {{ double d; uint64_t u; }} s = {{k + {ROUND_SHIFT}}};
    s.u = (s.u + 1023u) << 52;
    return s.d;
}}
{qualifier} double symact_exp_err(double t, double vl, double e) {{
    /* e^(v + vl) − e: symact.rounding.exp_err; 0 where |v| > 708 (e is 0, subnormal or inf there) */
    const double v = fabs(t) > 708.0 ? 0.0 : t;
{body}
    return fabs(t) > 708.0 ? 0.0 : (t == t ? err : t);
}}
"""


def python_exp_err(arrays: bool) -> str:
    """Python for :class:`exp_err`: ``_exp_err(v, vl, e)``, over arrays (NumPy) or scalars (numba). Needs the
    module's ``_prod_err``."""
    body = _exp_err_body("_prod_err", "numpy.floor", "numpy.exp2").replace("@ ", "    ")
    if arrays:
        clamp = "v = numpy.where(numpy.abs(t) > 708.0, 0.0, t)"
        result = "numpy.where(numpy.abs(t) > 708.0, 0.0, numpy.where(t == t, err, t))"
    else:
        clamp = "v = 0.0 if abs(t) > 708.0 else t"
        result = "0.0 if abs(t) > 708.0 else (err if t == t else t)"
    return f'''

def _exp_err(t, vl, e):
    """e^(t + vl) − e for e the kernel's e^t (symact.rounding.exp_err); 0 where |t| > 708."""
    {clamp}
{body}
    return {result}
'''


def machine(expr: sp.Expr) -> sp.Expr:
    """Atoms whose machine reading is another expression (expm1_small's polynomial, or any atom with a
    ``machine_reading`` method, such as :class:`symact.mills.mills_ratio`) replaced by it."""
    return expr.replace(lambda e: isinstance(e, expm1_small), lambda e: e.polynomial()).replace(
        lambda e: hasattr(type(e), "machine_reading"), lambda e: e.machine_reading()
    )


def _short_dyadic(c: sp.Rational) -> bool:
    """m·2^k with |m| < 2^24 and 2^-126 ≤ |c| < 2^100: exact in float32 (and in float64)."""
    q = c.q
    return (q & (q - 1)) == 0 and abs(c.p) < 2**24 and sp.Rational(1, 2**126) <= abs(c) < 2**100


def _power_of_two(c: sp.Expr) -> bool:
    """±2^k for an integer k (so ±1, ±2, ±1/2, ...)."""
    if not c.is_Rational or c == 0:
        return False
    p, q = abs(c.p), c.q
    return (p == 1 or q == 1) and (p & (p - 1)) == 0 and (q & (q - 1)) == 0


ERRORS = (lo, prod_err, sum_err, fast_sum_err, exp_err)
#: Every atom of this module: a form that has one is printed as written.
ROUNDING_ATOMS = (
    lit,
    lo,
    held,
    ratio,
    fma,
    prod_err,
    quot_err,
    sum_err,
    fast_sum_err,
    exp_err,
    expm1_small,
    exp_fma,
    exp_tail,
    *SHORT_EXP,
    *FLOAT_EXP,
    log1p_float,
    signed,
)


def exact(expr: sp.Expr) -> sp.Expr:
    """The exact-arithmetic reading: rounding errors are 0 and literals their constants (and an atom with an
    ``exact_reading`` method, such as :class:`symact.mills.mills_ratio`, the function it approximates)."""
    expr = expr.replace(lambda e: isinstance(e, ERRORS), lambda e: sp.S.Zero)
    while expr.has(lit, held):  # one pass leaves the inner of held(held(a)), which held(held(a) + err) becomes
        expr = expr.replace(lambda e: isinstance(e, (lit, held)), lambda e: e.args[0])
    return (
        expr.replace(lambda e: isinstance(e, ratio), lambda e: e.args[0] / e.args[1])
        .replace(lambda e: isinstance(e, fma), lambda e: e.args[0] * e.args[1] + e.args[2])
        .replace(lambda e: isinstance(e, expm1_small), lambda e: expm1(e.args[0]))
        .replace(expm1_float, lambda t, j: expm1(t))
        .replace(exp_float, lambda t, j: 2**j * sp.exp(t))
        .replace(log1p_float, lambda e: log1p(e))
        .replace(lambda e: isinstance(e, REDUCED), lambda e: (expm1 if e.library == "expm1" else sp.exp)(e.args[0]))
        .replace(exp_fma, lambda t, t_lo: sp.exp(t + t_lo))
        .replace(lambda e: hasattr(type(e), "exact_reading"), lambda e: e.exact_reading())
    )


def literal(atom: lit | lo, single: bool = False) -> float:
    """The machine reading of ``lit(c)`` (the double, or float, nearest c) or ``lo(c)`` (c minus that).

    Printers call this, so the constants never become SymPy Floats inside the
    expression, where SymPy would distribute them over sums: lit(c)·(x − r)
    must stay one product of c and the exactly computed x − r.
    """
    with mpmath.workdps(60):
        c = mpmath.mpf(sp.N(atom.args[0], 60))
        near = float(np.float32(float(c))) if single else float(c)
        return near if isinstance(atom, lit) else float(c - mpmath.mpf(near))


class PythonAtoms:
    """Printing of this module's atoms for the Python-family printers (NumPy, numba, torch, JAX): calls to
    the helpers of :func:`python_helpers`, literals that round-trip, x², x³, x⁴ as products (the
    roundings prod_err describes; pow() rounds x³ once, differently), and x⁻¹ as a division."""

    def _print_lit(self, expr):
        return repr(literal(expr))

    _print_lo = _print_lit

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e.is_Integer and 2 <= e <= 4:
            b = f"({self._print(base)})"
            return "(" + "*".join([b] * int(e)) + ")"
        if e == -1:  # also −1.0: a division, correctly rounded everywhere (XLA's pow is not)
            return f"(1/({self._print(base)}))"
        return super()._print_Pow(expr, rational=rational)

    def _hprint_Pow(self, expr, rational=False, sqrt="math.sqrt"):
        """b^(±1/2) as sqrt(b + 0.0): b + 0.0 is b, but +0 for −0, as pow and the C kernels read it. sqrt(−0) is
        −0, and 1/sqrt(−0) = −inf where pow gives (−0)^(−1/2) = +inf, as sqrt's slope at −0 is +inf."""
        if not rational and expr.exp in (sp.S.Half, -sp.S.Half):
            root = f"{self._module_format(sqrt)}({self._print(expr.base)} + 0.0)"
            return root if expr.exp > 0 else f"(1/{root})"
        return super()._hprint_Pow(expr, rational=rational, sqrt=sqrt)

    def _print_held(self, expr):
        return f"({self._print(expr.args[0])})"

    def _print_fma(self, expr):  # no fused multiply-add in Python: the product and sum made exact instead
        return f"_fma({', '.join(self._print(e) for e in expr.args)})"

    def _print_ratio(self, expr):
        return f"(({self._print(expr.args[0])})/({self._print(expr.args[1])}))"

    def _print_prod_err(self, expr):
        return f"_prod_err({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_sum_err(self, expr):
        return f"_sum_err({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    _print_fast_sum_err = _print_sum_err  # Knuth's: exact in any order

    #: Whether the module defines ``_exp_err`` (:func:`python_exp_err`): the kernels' modules do; code generated
    #: for users does not, and drops the low part of an exp (its exact reading, 0), as it calls the library's exp.
    exp_err_helper = False

    def _print_exp_err(self, expr):
        if not self.exp_err_helper:
            return "0.0"
        return f"_exp_err({', '.join(self._print(e) for e in expr.args)})"

    def _print_reduced(self, expr):  # exp_f32, expm1_f32, exp_fma: the library's function, as accurate as asked
        return self._print(exact(expr))  # (exp_fma: without an fma, no more accurate path is shorter)

    # SymPy dispatches on the class's own name
    _print_exp_f32 = _print_expm1_f32 = _print_exp_f32_short = _print_expm1_f32_short = _print_exp_fma = _print_reduced
    _print_exp_float = _print_expm1_float = _print_log1p_float = _print_exp_tail = _print_reduced

    def _print_signed(self, expr):
        """copysign(v, x): math's for scalar code (numba), the array module's (NumPy, torch, JAX) for arrays."""
        copysign = self._module_format("numpy.copysign" if self._arrays() else "math.copysign")
        return f"{copysign}({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_sign(self, expr):
        """sign(x) with sign(±0) = ±0, as copysign makes it: an odd function written sign(x)·v is then ±0 at ±0
        on every backend (Python's and NumPy's sign give +0 at −0)."""
        x = self._print(expr.args[0])
        if not self._arrays():
            return f"({x} if {x} == 0 else {self._module_format('math.copysign')}(1.0, {x}))"
        return f"{self._module_format('numpy.where')}({x} == 0, {x}, {self._module_format('numpy.sign')}({x}))"

    def _print_Max(self, expr):
        """max with a tie giving the number, min with a tie giving the other argument, so that max(0, −0) = +0 and
        min(0, −0) = −0 on every backend, as IEEE 754's maximum and minimum have them (and C's kernels): Python's
        max and min give their first argument on a tie, NumPy's maximum and minimum either (its SIMD loops the
        second). In arrays, as c ≥ e ? c : e and c < e ? c : e, which also keep a NaN e (a loss's NaN, which its
        kernel then replaces by the limit)."""
        return self._extremum(expr.args, ">=")

    def _print_Min(self, expr):
        return self._extremum(expr.args, "<")

    def _extremum(self, args, op: str) -> str:
        numbers = [a for a in args if a.is_number]
        others = [self._print(a) for a in args if not a.is_number]
        if self._arrays():
            where = self._module_format("numpy.where")
            out = self._print(numbers[0]) if numbers else others.pop(0)
            for e in others:
                out = f"{where}(({out}) {op} ({e}), {out}, {e})"
            return out
        ordered = [*map(self._print, numbers), *others] if op == ">=" else [*others, *map(self._print, numbers)]
        return f"{'max' if op == '>=' else 'min'}({', '.join(ordered)})" if len(ordered) > 1 else ordered[0]

    def _arrays(self) -> bool:
        """Whether this prints array code: NumPy's printers name their module (numpy, or xp for torch and JAX)."""
        return getattr(self, "_module", None) is not None


def python_helpers(split_test: str, keep: bool = False) -> str:
    """Dekker's exact product and Knuth's exact sum, for Python-family targets without fma.

    ``split_test`` is an expression in ``p`` that is true for double precision
    (Veltkamp's split constant is 2^27 + 1 for doubles and 2^12 + 1 for floats).
    ``keep``: wrap each rounded intermediate, and the inputs of sums, in
    ``_keep(...)``, which the module defines: for JAX, a select that XLA can see
    through neither to fold (a + b) − a into b, which would make every error 0,
    nor to fuse a caller's a·b into the sum as one fused multiply-add.
    """

    def k(e: str) -> str:
        return f"_keep({e})" if keep else e

    keep_inputs = "\n    a, b = _keep(a), _keep(b)" if keep else ""

    return f'''

def _prod_err(a, b):
    """a*b - fl(a*b), exactly (Dekker): no fma needed, only round-to-nearest arithmetic."""
    p = {k("a * b")}
    s = 134217729.0 if {split_test} else 4097.0
    t = {k("s * a")}
    ah = {k("t - (t - a)")}
    t = {k("s * b")}
    bh = {k("t - (t - b)")}
    return ((ah * bh - p) + ah * (b - bh) + (a - ah) * bh) + (a - ah) * (b - bh)


def _fma(a, b, c):
    """a*b + c rounded about once, like a fused multiply-add: the product and the sum made exact, then summed."""
    p = {k("a * b")}
    s = {k("p + " + k("c"))}
    return s + (_sum_err(p, c) + _prod_err(a, b))


def _sum_err(a, b):
    """a + b - fl(a + b), exactly (Knuth's two-sum)."""{keep_inputs}
    s = {k("a + b")}
    bb = {k("s - a")}
    return (a - (s - bb)) + (b - bb)
'''

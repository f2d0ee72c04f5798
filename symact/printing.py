"""Readable renderings of SymPy expressions: one-line Unicode and LaTeX.

The Unicode printer writes σ(x)·(1 − σ(x)) and 1 − tanh²(x) rather than
SymPy's ``(1 - sigmoid(x))*sigmoid(x)`` and ``1 - tanh(x)**2``. Both printers
put a product's plain factors before its parenthesised sums, which is how
derivatives are written by hand and in the seeds.

Both also orient a product's differences the way they are written by hand
(:func:`oriented`): SymPy keeps −sign(y − ŷ) and (y − ŷ)/(ŷ·(ŷ − 1)), since
its canonical order, not the reader, decides which way round a difference
goes; printed, they read sign(ŷ − y) and (ŷ − y)/(ŷ·(1 − ŷ)).
"""

from __future__ import annotations

import decimal
import itertools
import unicodedata

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = dict(zip("0123456789=+-aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₌₊₋ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-NMKn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ᴺᴹᴷⁿ"))


def superscript(k: int) -> str:
    """An integer in superscript digits: 2 → ², −1 → ⁻¹."""
    return str(k).translate(_SUPERSCRIPTS)


_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "lambda": "λ",
    "lamda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "tau": "τ",
    "theta": "θ",
}
_FUNCTION_NAMES = {"sigmoid": "σ", "Heaviside": "H", "Phi": "Φ", "varphi": "φ"}


def _is_plain_product(mul: sp.Mul) -> bool:
    """True for a product with a positive coefficient and no denominator.

    SymPy's LaTeX printer also hands a bare 1/u (a Pow) to ``_print_Mul``: that is never a plain product.
    """
    if not isinstance(mul, sp.Mul):
        return False
    coeff, _ = mul.as_coeff_Mul()
    if coeff.is_negative or (coeff.is_Rational and coeff.q != 1):
        return False
    return all(not (f.is_Pow and f.exp.is_negative) for f in mul.args)


def ordered_terms(terms) -> list[sp.Basic]:
    """Terms of a sum with the positive ones first: ŷ − y, 1 − tanh²(x). A sum that is not a polynomial has
    its short terms first, as by hand: 1 + |x|, Φ(x) + x·φ(x); a polynomial keeps SymPy's order, x + 1."""
    terms = list(terms)
    if all(t.is_polynomial() for t in terms):
        return sorted(terms, key=lambda t: t.could_extract_minus_sign())
    return sorted(terms, key=lambda t: (t.could_extract_minus_sign(), sp.count_ops(t)))


def ordered_factors(mul: sp.Mul) -> list[sp.Basic]:
    """Factors of ``mul`` with numbers first, then symbols (y[i] too), sums last: σ(x)·(1 − σ(x)), y[i]·log(ŷ[i])."""
    return sorted(
        mul.args,
        key=lambda f: (f.is_Add, f.is_Number is False, not (f.is_Symbol or f.is_Indexed), sp.default_sort_key(f)),
    )


#: Odd functions, f(−u) = −f(u): a minus sign passes through them.
_ODD = (sp.sign, sp.tanh, sp.sinh, sp.atan, sp.asinh, sp.atanh, sp.erf, sp.sin, sp.tan)


def _is_prediction(term: sp.Basic) -> bool:
    return any(s.name.partition("_")[0].endswith("hat") for s in term.free_symbols)


def _by_sign(add: sp.Add) -> tuple[list[sp.Basic], list[sp.Basic]]:
    """A sum's (positive, negative) terms, as printed: a − b has [a] and [−b]."""
    negative = [t for t in add.args if t.could_extract_minus_sign()]
    return [t for t in add.args if t not in negative], negative


def _backwards(diff: sp.Basic) -> bool:
    """True for a sum that reads better negated: more negative terms than positive ones, or as many, with the
    constant or the prediction on the negative side (σ − 1 → 1 − σ, y − ŷ → ŷ − y)."""
    if isinstance(diff, _ODD):
        return _backwards(diff.args[0])
    if not diff.is_Add:
        return False
    positive, negative = _by_sign(diff)
    if len(negative) != len(positive):
        return len(negative) > len(positive)

    def weight(terms):
        return (any(t.is_Number for t in terms), any(_is_prediction(t) for t in terms))

    return weight(negative) > weight(positive)


def _complement(diff: sp.Basic) -> bool:
    """σ(u) − 1, Φ(u) − 1 or tanh²(u) − 1: by hand −(1 − σ(u)), the complement σ(−u), even at a minus sign
    (log σ'' is −σ(x)·(1 − σ(x)), not σ(x)·(σ(x) − 1)). exp(x) − 1 is not one: α·(exp(x) − 1) stays."""
    if not (diff.is_Add and len(diff.args) == 2 and sp.S.NegativeOne in diff.args):
        return False
    other = next(t for t in diff.args if t != sp.S.NegativeOne)
    if other.is_Pow and other.exp == 2 and isinstance(other.base, sp.tanh):  # tanh²(u) − 1: −(1 − tanh²(u))
        return True
    return type(other).__name__ in ("sigmoid", "Phi")


def _negated(factor: sp.Basic) -> sp.Basic:
    """−factor for a sum, f(−u) for an odd f of a sum, (−u)ᵏ for a power of either; left unevaluated so that
    SymPy does not turn it back."""
    if factor.is_Pow:
        return sp.Pow(_negated(factor.base), factor.exp, evaluate=False)
    if isinstance(factor, _ODD):
        return factor.func(_negated(factor.args[0]), evaluate=False)
    return sp.Add(*(-t for t in factor.args), evaluate=False)


def _flip_cost(factor: sp.Basic) -> int | None:
    """How a factor takes a flip: 0 for free (an even power), 1 when it negates the product, None if it cannot."""
    base, exp = factor.as_base_exp() if factor.is_Pow else (factor, sp.S.One)
    if not (base.is_Add or (isinstance(base, _ODD) and base.args[0].is_Add)) or not exp.is_Integer:
        return None
    return 0 if exp.is_even else 1


_MOST_FLIPPED = 8  # the choice tries every subset of a product's sums: 256 at most


def oriented(mul: sp.Mul, sign_free: bool = False) -> sp.Basic:
    """``mul`` with its differences turned the way they read best, or ``mul`` itself if they already do.

    A flip of a sum, or of an odd function of one, negates the product; an even power flips for free. The
    printers take the flips that leave the fewest backward differences and minus signs, and of those the
    fewest flips: −β·x·(σ − 1) is β·x·(1 − σ) and −sign(y − ŷ) is sign(ŷ − y), but 2·y·(x·y − 1) stays, since
    −2·y·(1 − x·y) would cost a minus sign. A negative term of a sum has its sign for free (``sign_free``): the
    sum's operator carries it, so 1 − γ·(y − 1)·(ŷ − 1) reads 1 − γ·(1 − y)·(1 − ŷ).
    """
    coeff, rest = mul.as_coeff_Mul()
    factors = list(sp.Mul.make_args(rest))
    costs = [_flip_cost(f) for f in factors]
    free = [i for i, c in enumerate(costs) if c == 0 and _backwards(factors[i].base)]
    odd = [i for i, c in enumerate(costs) if c == 1][:_MOST_FLIPPED]
    backwards = {i: _backwards(factors[i].as_base_exp()[0]) for i in odd}
    complements = {i for i in odd if _complement(factors[i].as_base_exp()[0])}

    def badness(flips):
        negative = coeff.is_negative != (len(flips) % 2 == 1)
        backward = sum(backwards[i] != (i in flips) for i in odd) + len(complements - flips)
        return ((negative and not sign_free) + backward, len(flips))

    choices = (set(c) for k in range(len(odd) + 1) for c in itertools.combinations(odd, k))
    flips = min(choices, key=badness)
    if not flips and not free:
        return mul
    new_coeff = -coeff if len(flips) % 2 else coeff
    args = [_negated(f) if i in flips or i in free else f for i, f in enumerate(factors)]
    return sp.Mul(*([new_coeff] if new_coeff != 1 else []), *args, evaluate=False)


def _forward(diff: sp.Basic) -> sp.Basic:
    """A sum inside |·|, turned the way it reads best: |ŷ − y| for SymPy's |y − ŷ|."""
    return _negated(diff) if diff.is_Add and _backwards(diff) else diff


def _rearranged(rel: sp.Basic) -> sp.Basic:
    """An inequality as it is written by hand: x₁ − max(…) > 0 as x₁ > max(…) (the Heaviside step's
    condition), and δ ≥ |ŷ − y| as |ŷ − y| ≤ δ (a bound goes on the right)."""
    if rel.rel_op not in ("<", "<=", ">", ">="):
        return rel
    if rel.rhs == 0 and rel.lhs.is_Add:
        positive, negative = _by_sign(rel.lhs)
        if negative and positive:
            return rel.func(sp.Add(*positive), -sp.Add(*negative), evaluate=False)
    return rel.reversed if rel.lhs.is_Atom and not rel.rhs.is_Atom else rel


def _oriented_terms(add: sp.Add) -> sp.Basic:
    """``add`` with each product term :func:`oriented` as a term of a sum, or ``add`` itself."""
    terms = [oriented(t, sign_free=t.could_extract_minus_sign()) if t.is_Mul else t for t in add.args]
    return add if all(a is b for a, b in zip(terms, add.args)) else sp.Add(*terms, evaluate=False)


def _families(exprs) -> dict[str, dict[int, sp.Symbol]]:
    """The indexed symbols in ``exprs`` by family: y_1, y_2 → {"y": {1: y_1, 2: y_2}}."""
    out: dict[str, dict[int, sp.Symbol]] = {}
    for e in exprs:
        for s in e.free_symbols:
            base, _, sub = s.name.rpartition("_")
            if base and sub.isdigit():
                out.setdefault(base, {})[int(sub)] = s
    return out


def componentwise(components) -> sp.Expr | None:
    """The i-th component of a vector whose components are one expression in their index, or None.

    Component k must be component 1 with the indices 1 and k swapped, and then component 1, its index-1
    symbols renamed to index i and its sums over every index written Σⱼ, must hold no other index:
    (ŷ₁ − y₁, ŷ₂ − y₂, ŷ₃ − y₃) gives ŷᵢ − yᵢ, and softmax's exp(z₁)/(exp(z₁) + exp(z₂) + exp(z₃)) gives
    exp(zᵢ)/Σⱼ₌₁³ exp(zⱼ). For display only: zᵢ, zⱼ are plain symbols, and the Sum is never evaluated.
    """
    components = list(components)
    n, families = len(components), _families(components)
    if n < 2 or not families:
        return None

    def swapped(e, k):
        return e.xreplace({s: f[k if i == 1 else 1] for f in families.values() for i, s in f.items() if i in (1, k)})

    if any(not all(k in f for k in range(1, n + 1)) for f in families.values()):
        return None
    if any(sp.expand(swapped(components[0], k + 1) - components[k]) != 0 for k in range(1, n)):
        return None
    ones = {f[1]: sp.Symbol(f"{base}_i", **f[1].assumptions0) for base, f in families.items()}
    back = {v: k for k, v in ones.items()}

    def summed(add):  # a sum of g(1), …, g(n) (with g(1) written in index i) as Σⱼ₌₁ⁿ g(j)
        terms = set(add.args)
        first = [t for t in terms if t.free_symbols & set(back)]
        if len(first) != 1:
            return add
        g1 = first[0].xreplace(back)
        if terms != {first[0], *(swapped(g1, k) for k in range(2, n + 1))}:
            return add
        letter = "jkl"[min(len(g1.find(sp.Sum)), 2)]  # a sum inside it already has j (sums are found inside out)
        new = {f[1]: sp.Symbol(f"{base}_{letter}", **f[1].assumptions0) for base, f in families.items()}
        return sp.Sum(g1.xreplace(new), (sp.Symbol(letter, integer=True, positive=True), 1, n))

    generic = components[0].xreplace(ones).replace(lambda e: isinstance(e, sp.Add), summed)
    return None if _families([generic]) else generic


def as_decimal(r, parameter: bool = False) -> str | None:
    """A rational as the decimal it exactly is, where that reads better than the fraction: 8943/200000 is
    0.044715, GELU's tanh constant, and 851/500 a user's 1.702. Only for denominators of 100 or more of the
    form 2ᵃ·5ᵇ (so the decimal ends), no longer than the fraction, with at most 8 significant digits, between
    0.001 and 10⁶: 1/4, 3/8, 59049/1024 and 1/20000000000 stay fractions. None otherwise.

    ``parameter``: a parameter's value as the user would type it, any such denominator and length: α = 0.3 and
    0.25, where a formula keeps x/2 and 3·x/10."""
    if not isinstance(r, sp.Rational) or r.is_Integer or not sp.Rational(1, 1000) <= abs(r) < 10**6:
        return None
    if r.q < 100 and not parameter:
        return None
    q = r.q
    for p in (2, 5):
        while q % p == 0:
            q //= p
    if q != 1:
        return None
    text = format(decimal.Decimal(r.p) / decimal.Decimal(r.q), "f")
    fraction = f"{r.p}/{r.q}"
    return text if len(text.lstrip("-0.").replace(".", "")) <= 8 and (parameter or len(text) <= len(fraction)) else None


class UnicodePrinter(StrPrinter):
    """One-line Unicode printer: σ, ², ·, − and Greek parameter names."""

    def _as_ordered_terms(self, expr, order=None):
        return ordered_terms(super()._as_ordered_terms(expr, order))

    def _print_Symbol(self, expr):
        name = expr.name
        base, _, sub = name.partition("_")
        base = _GREEK.get(base, base)
        if base.endswith("hat") and len(base) > 3:
            base = unicodedata.normalize("NFC", base[:-3] + "\u0302")  # yhat → ŷ
        if sub.isdigit() or sub in ("i", "j", "k"):  # y₁, and yᵢ in a vector's component (componentwise)
            return base + "".join(_SUB[c] for c in sub)
        return base + ("_" + sub if sub else "")

    def _print_Function(self, expr):
        name = _FUNCTION_NAMES.get(expr.func.__name__, expr.func.__name__)
        return "%s(%s)" % (name, ", ".join(self._print(a) for a in expr.args))

    _print_Heaviside = _print_Function

    def _print_Abs(self, expr):
        return "|%s|" % self._print(_forward(expr.args[0]))

    def _print_Add(self, expr, order=None):
        return super()._print_Add(_oriented_terms(expr), order)

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"

    def _print_Reals(self, expr):  # identity's range, which show printed as "Reals"
        return "ℝ"

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e is sp.S.Half:
            return "√" + (self._print(base) if base.is_Atom else "(%s)" % self._print(base))
        if e.is_Integer and e > 1:
            sup = superscript(e)
            if isinstance(base, sp.Function) and not isinstance(base, (sp.Max, sp.Min)):
                printed = self._print(base)
                head, _, rest = printed.partition("(")
                return "%s%s(%s" % (head, sup, rest)
            return self.parenthesize(base, PRECEDENCE["Pow"], strict=True) + sup
        # 1/√(x² + 1), as √(x² + 1) is printed, and 1/(x + 1)^(1/3) (StrPrinter's x**(-1/3) read x··(−1/3) here)
        if e.is_Rational and e.is_negative and e != -1:
            return "1/" + self._print(sp.Pow(base, -e))
        if e.is_Rational and e.is_negative:
            return super()._print_Pow(expr, rational)
        return "%s^%s" % (
            self.parenthesize(base, PRECEDENCE["Pow"], strict=True),
            self.parenthesize(e, PRECEDENCE["Pow"], strict=True),
        )

    def _print_Sum(self, expr):
        """Σᵢ₌₁ᴺ (…), or Σ_{i=1}^{N} (…) where a limit has no sub- or superscript letters."""
        (i, lo, hi), *more = expr.limits
        if more:
            return super()._print_Sum(expr)
        below, above = f"{self._print(i)}={self._print(lo)}", self._print(hi)
        if set(below) <= _SUB.keys() and set(above) <= _SUP.keys():
            head = "Σ" + "".join(_SUB[c] for c in below) + "".join(_SUP[c] for c in above)
        else:
            head = f"Σ_{{{below}}}^{{{above}}}"
        return f"{head} {self.parenthesize(expr.function, PRECEDENCE['Mul'], strict=True)}"

    def _print_Rational(self, expr):
        return as_decimal(expr) or super()._print_Rational(expr)

    def _print_Mul(self, expr):
        turned = oriented(expr)
        if turned is not expr:
            negated = -turned
            if turned.could_extract_minus_sign() and _is_plain_product(negated):  # −σ(x)·(1 − σ(x)), turned so
                return "-" + "·".join(self.parenthesize(f, 40) for f in ordered_factors(negated))
            return self._print(turned)
        coeff, rest = expr.as_coeff_Mul()
        if as_decimal(abs(coeff)) and rest != 1:  # 0.044715·x³, not 8943·x³/200000
            return (
                ("-" if coeff < 0 else "")
                + as_decimal(abs(coeff))
                + "·"
                + self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
            )
        sums = [f for f in expr.args if isinstance(f, sp.Sum)]
        scale = expr / sums[0] if len(sums) == 1 else None
        if scale is not None and (scale.is_Rational or scale.is_Pow and scale.exp == -1):  # a mean: (1/N)·Σᵢ₌₁ᴺ (…)
            return "(%s)·%s" % (self._print(scale), self._print(sums[0]))  # not Σᵢ₌₁ᴺ (…)/N
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1 and _is_plain_product(rest) and not any(f.is_Add for f in rest.args):  # −y[i]·log(ŷ[i])
            return "-" + self._print(rest)
        if not _is_plain_product(expr):
            return super()._print_Mul(expr)
        return "·".join(self.parenthesize(f, 40) for f in ordered_factors(expr))

    def _print_Piecewise(self, expr):
        parts = []
        for value, cond in expr.args:
            cond_text = "otherwise" if cond is sp.true else "if " + self._print(cond)
            parts.append("%s %s" % (self._print(value), cond_text))
        return "{" + "; ".join(parts) + "}"

    def _print_And(self, expr):
        args = expr.args
        if len(args) == 2 and all(a.is_Relational for a in args):
            lo, hi = sorted(args, key=lambda a: a.rel_op not in (">", ">="))
            if lo.lhs == hi.lhs and lo.rel_op in (">", ">=") and hi.rel_op in ("<", "<="):
                ops = {">": "<", ">=": "≤", "<": "<", "<=": "≤"}
                v = self._print(lo.lhs)
                return f"{self._print(lo.rhs)} {ops[lo.rel_op]} {v} {ops[hi.rel_op]} {self._print(hi.rhs)}"
        return " and ".join(self._print(a) for a in args)

    def _print_Or(self, expr):
        return " or ".join(self._print(a) for a in expr.args)

    def _print_Relational(self, expr):
        ops = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}
        expr = _rearranged(expr)
        return "%s %s %s" % (self._print(expr.lhs), ops.get(expr.rel_op, expr.rel_op), self._print(expr.rhs))

    def _print_MatrixBase(self, expr):
        rows = ["[" + ", ".join(self._print(v) for v in expr.row(i)) + "]" for i in range(expr.rows)]
        return "[" + ",\n ".join(rows) + "]"

    def _print_Interval(self, expr):
        left = "(" if expr.left_open else "["
        right = ")" if expr.right_open else "]"
        return f"{left}{self._print(expr.start)}, {self._print(expr.end)}{right}"

    def _print_Union(self, expr):  # the range of 1/x: (−∞, 0) ∪ (0, ∞)
        return " ∪ ".join(self._print(a) for a in expr.args)

    def _print_LambertW(self, expr):
        return "W(%s)" % self._print(expr.args[0])

    _print_MutableDenseMatrix = _print_MatrixBase
    _print_ImmutableDenseMatrix = _print_MatrixBase

    def doprint(self, expr):
        return super().doprint(expr).replace("*", "·").replace("-", "−")


class SymactLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with hand-written term and factor order, and inverse functions as typeset:
    \\arctan and \\operatorname{arsinh}, not \\operatorname{atan}."""

    def __init__(self, settings=None):
        super().__init__({"inv_trig_style": "full", **(settings or {})})

    def _as_ordered_terms(self, expr, order=None):
        return ordered_terms(super()._as_ordered_terms(expr, order))

    def _print_Add(self, expr, order=None):
        return super()._print_Add(_oriented_terms(expr), order)

    def _print_Abs(self, expr, exp=None):
        return super()._print_Abs(sp.Abs(_forward(expr.args[0]), evaluate=False), exp)

    def _print_Relational(self, expr):
        return super()._print_Relational(_rearranged(expr))

    def _print_Rational(self, expr):
        return as_decimal(expr) or super()._print_Rational(expr)

    def _print_Mul(self, expr):
        turned = oriented(expr)
        if turned is not expr:
            negated = -turned
            if turned.could_extract_minus_sign() and _is_plain_product(negated):  # as the Unicode printer
                return "- " + " ".join(self.parenthesize(f, 40) for f in ordered_factors(negated))
            return self._print(turned)
        coeff, rest = expr.as_coeff_Mul()
        if as_decimal(abs(coeff)) and rest != 1:
            return (
                ("- " if coeff < 0 else "")
                + as_decimal(abs(coeff))
                + " "
                + self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
            )
        if not _is_plain_product(expr):
            return super()._print_Mul(expr)
        return " ".join(self.parenthesize(f, 40) for f in ordered_factors(expr))


def unicode(expr) -> str:
    """One-line Unicode rendering, e.g. ``σ(x)·(1 − σ(x))``."""
    return UnicodePrinter().doprint(expr)


def latex(expr) -> str:
    """LaTeX rendering with symact's atoms and factor order."""
    return SymactLatexPrinter().doprint(expr)

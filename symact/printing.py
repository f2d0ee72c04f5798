"""Readable renderings of SymPy expressions: one-line Unicode and LaTeX.

The Unicode printer writes σ(x)·(1 − σ(x)) and 1 − tanh²(x) rather than
SymPy's ``(1 - sigmoid(x))*sigmoid(x)`` and ``1 - tanh(x)**2``. Both printers
put a product's plain factors before its parenthesised sums, which is how
derivatives are written by hand and in the seeds.
"""

from __future__ import annotations

import unicodedata

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
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
_FUNCTION_NAMES = {"sigmoid": "σ", "Heaviside": "H"}


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
    """Terms of a sum with the positive ones first: ŷ − y, 1 − tanh²(x)."""
    return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def ordered_factors(mul: sp.Mul) -> list[sp.Basic]:
    """Factors of ``mul`` with sums last, e.g. σ(x)·(1 − σ(x))."""
    return sorted(mul.args, key=lambda f: (f.is_Add, f.is_Number is False, sp.default_sort_key(f)))


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
        return base + (
            sub.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")) if sub.isdigit() else ("_" + sub if sub else "")
        )

    def _print_Function(self, expr):
        name = _FUNCTION_NAMES.get(expr.func.__name__, expr.func.__name__)
        return "%s(%s)" % (name, ", ".join(self._print(a) for a in expr.args))

    _print_Heaviside = _print_Function

    def _print_Abs(self, expr):
        return "|%s|" % self._print(expr.args[0])

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

    def _print_Pow(self, expr, rational=False):
        base, e = expr.args
        if e is sp.S.Half:
            return "√" + (self._print(base) if base.is_Atom else "(%s)" % self._print(base))
        if e.is_Integer and e > 1:
            sup = str(e).translate(_SUPERSCRIPTS)
            if isinstance(base, sp.Function) and not isinstance(base, (sp.Max, sp.Min)):
                printed = self._print(base)
                head, _, rest = printed.partition("(")
                return "%s%s(%s" % (head, sup, rest)
            return self.parenthesize(base, PRECEDENCE["Pow"], strict=True) + sup
        if e.is_Integer and e < -1:
            return "1/" + self._print(sp.Pow(base, -e))
        if e.is_Rational and e.is_negative:
            return super()._print_Pow(expr, rational)
        return "%s^%s" % (
            self.parenthesize(base, PRECEDENCE["Pow"], strict=True),
            self.parenthesize(e, PRECEDENCE["Pow"], strict=True),
        )

    def _print_Mul(self, expr):
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
        return "%s %s %s" % (self._print(expr.lhs), ops.get(expr.rel_op, expr.rel_op), self._print(expr.rhs))

    def _print_MatrixBase(self, expr):
        rows = ["[" + ", ".join(self._print(v) for v in expr.row(i)) + "]" for i in range(expr.rows)]
        return "[" + ",\n ".join(rows) + "]"

    def _print_Interval(self, expr):
        left = "(" if expr.left_open else "["
        right = ")" if expr.right_open else "]"
        return f"{left}{self._print(expr.start)}, {self._print(expr.end)}{right}"

    def _print_LambertW(self, expr):
        return "W(%s)" % self._print(expr.args[0])

    _print_MutableDenseMatrix = _print_MatrixBase
    _print_ImmutableDenseMatrix = _print_MatrixBase

    def doprint(self, expr):
        return super().doprint(expr).replace("*", "·").replace("-", "−")


class SymactLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with hand-written term and factor order."""

    def _as_ordered_terms(self, expr, order=None):
        return ordered_terms(super()._as_ordered_terms(expr, order))

    def _print_Mul(self, expr):
        if not _is_plain_product(expr):
            return super()._print_Mul(expr)
        return " ".join(self.parenthesize(f, 40) for f in ordered_factors(expr))


def unicode(expr) -> str:
    """One-line Unicode rendering, e.g. ``σ(x)·(1 − σ(x))``."""
    return UnicodePrinter().doprint(expr)


def latex(expr) -> str:
    """LaTeX rendering with symact's atoms and factor order."""
    return SymactLatexPrinter().doprint(expr)

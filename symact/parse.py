"""Safe text → SymPy: an AST whitelist, with no eval, sympify or parse_expr.

The text is parsed by Python's ``ast`` module and every node is checked
against a whitelist before a SymPy object is built from it directly. Limits
on length, nesting, node count and the size of integer powers are enforced
before anything is evaluated, so ``10**10**10`` is refused, not computed.

>>> parse("x*tanh(softplus(x))")
x*tanh(softplus(x))
>>> parse("__import__('os')")
Traceback (most recent call last):
...
symact.parse.ExpressionError: names starting with an underscore are not allowed at column 1
    __import__('os')
    ^
"""

from __future__ import annotations

import ast
import builtins
import difflib
import keyword
import math
import numbers
import re
from collections.abc import Callable
from fractions import Fraction

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .functions import ATOMS

_BUILTINS = frozenset(dir(builtins))
MAX_LENGTH = 10_000
MAX_DEPTH = 60
MAX_NODES = 2_000
MAX_DIGITS = 1_000  # largest integer a constant subexpression may produce
MAX_EXPONENT = 1_000  # largest |n| in x**n for symbolic x


class ExpressionError(ValueError):
    """Text that symact refuses to parse, with the position and a caret line."""

    def __init__(self, message: str, text: str = "", col: int | None = None):
        self.message, self.text, self.col = message, text, col
        where = f" at column {col + 1}" if col is not None else ""
        caret = f"\n    {text}\n    {' ' * col}^" if col is not None and len(text) <= 200 and "\n" not in text else ""
        super().__init__(f"{message}{where}{caret}")


def valid_symbol_name(name: str) -> bool:
    """A plain ASCII identifier: not a keyword, not a Python builtin, not private or a dunder."""
    return (
        name.isascii()
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in _BUILTINS
    )


def _where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


def _heaviside(u):
    return sp.Piecewise((1, u > 0), (0, True))  # symact's convention: H(0) = 0


def _normal_cdf(u):
    return (1 + sp.erf(u / sp.sqrt(2))) / 2


def _normal_pdf(u):
    return sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi)


FUNCTIONS: dict[str, Callable] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "erf": sp.erf,
    "erfc": sp.erfc,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "asinh": sp.asinh,
    "atanh": sp.atanh,
    "sin": sp.sin,
    "cos": sp.cos,
    "atan": sp.atan,
    "log1p": log1p,
    "expm1": expm1,
    # NumPy's names for the inverse functions
    "arctan": sp.atan,
    "arcsinh": sp.asinh,
    "arctanh": sp.atanh,
    "abs": sp.Abs,
    "sign": sp.sign,
    "max": sp.Max,
    "min": sp.Min,
    "heaviside": _heaviside,
    "where": _where,
    **ATOMS,
    # the standard normal's cdf and pdf, by the names derive prints them with (GELU′ = Φ(x) + x·φ(x))
    "Phi": _normal_cdf,
    "varphi": _normal_pdf,
    # SymPy's printed names, so that printed expressions parse back
    "Abs": sp.Abs,
    "Max": sp.Max,
    "Min": sp.Min,
}
CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E, "inf": sp.oo, "oo": sp.oo}
_BINOPS = {ast.Add: sp.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sp.Mul, ast.Div: lambda a, b: a / b, ast.Pow: sp.Pow}
_COMPARE = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge, ast.Eq: sp.Eq}


def _catalog_function(name: str) -> Callable | None:
    """A scalar catalog activation, or an elementwise loss's per-sample value ``bce(ŷ, y)``, as a callable on
    SymPy arguments, default parameters bound; None for anything else (:func:`_not_callable`)."""
    from .catalog import REGISTRY

    if name not in REGISTRY or _not_callable(name) is not None:
        return None
    entry = REGISTRY[name]
    d = entry.definition()
    body = d.expr.subs({p.symbol: p.default for p in entry.params})
    if entry.kind == "loss":
        return lambda yhat, y: body.subs({d.inputs[0]: yhat, d.targets[0]: y}, simultaneous=True)
    return lambda arg: body.subs(d.inputs[0], arg)


def _not_callable(name: str) -> str | None:
    """Why a catalog function cannot be called in text, or None if it can."""
    from .catalog import REGISTRY

    entry = REGISTRY[name]
    if entry.vector:
        return f"{entry.name} acts on vectors: it cannot be called in text"
    if entry.kind == "loss" and entry.reduction != "mean":
        return f"{entry.name} has no per-sample value (its cost is the square root of a mean): it cannot be called"
    return None


def _unknown_function(name: str) -> str:
    """'unknown function 'arcsin'; did you mean arcsinh, asinh?', with close names among those text may call."""
    from .catalog import REGISTRY

    known = list(dict.fromkeys([*FUNCTIONS, "diff", *(e.name for e in REGISTRY if _not_callable(e.name) is None)]))
    if name in PIECEWISE_NAMES:
        return f"unknown function {name!r}; {PIECEWISE_HINT}"
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return f"unknown function {name!r}" + (f"; did you mean {', '.join(close)}?" if close else "")


#: Names that users of SymPy, NumPy or spreadsheets reach for when they mean where(condition, a, b).
PIECEWISE_NAMES = ("Piecewise", "piecewise", "select", "If", "if_else", "ifelse", "cond")
PIECEWISE_HINT = "write a piecewise function as where(condition, value, otherwise), e.g. where(x > 0, x, 0.01*x)"
PRIME_HINT = "write a derivative as diff(f, x) or diff(f, x, 2), e.g. diff(sigmoid(x), x), not with a prime"


class _Builder:
    def __init__(self, text: str, symbols: dict[str, sp.Symbol], allow_relations: bool):
        self.text = text
        self.symbols = symbols
        self.allow_relations = allow_relations

    def fail(self, message: str, node: ast.AST | None = None):
        raise ExpressionError(message, self.text, getattr(node, "col_offset", None))

    def build(self, node: ast.AST, depth: int = 0):
        if depth > MAX_DEPTH:
            self.fail(f"expression nested deeper than {MAX_DEPTH} levels", node)
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            self.fail(f"{type(node).__name__.lower()} is not allowed", node)
        return method(node, depth + 1)

    def visit_Expression(self, node, depth):
        return self.build(node.body, depth)

    def visit_Constant(self, node, depth):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail("only int and float literals are allowed", node)
        if isinstance(value, int):
            if value.bit_length() > MAX_DIGITS * 3.33:
                self.fail("integer literal too large", node)
            return sp.Integer(value)
        if not math.isfinite(value):
            self.fail("non-finite float literal", node)
        return sp.Rational(repr(value)) if len(repr(value)) <= 30 else sp.Float(value)

    def visit_Name(self, node, depth):
        name = node.id
        if name.startswith("_"):
            self.fail("names starting with an underscore are not allowed", node)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS or _catalog_function(name) is not None or name == "diff":
            self.fail(f"{name} is a function; call it, e.g. {name}(x)", node)
        if not valid_symbol_name(name):
            self.fail(f"{name!r} is not a valid symbol name", node)
        if name not in self.symbols:
            self.symbols[name] = sp.Symbol(name, real=True)
        return self.symbols[name]

    def visit_UnaryOp(self, node, depth):
        operand = self.build(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not) and self.allow_relations:
            return sp.Not(operand)
        self.fail("this unary operator is not allowed", node)

    def visit_BinOp(self, node, depth):
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.fail(f"operator {type(node.op).__name__} is not allowed", node)
        left, right = self.build(node.left, depth), self.build(node.right, depth)
        if isinstance(node.op, ast.Pow):
            self._check_power(left, right, node)
        result = op(left, right)
        if result.is_Rational and max(abs(result.p), result.q).bit_length() > MAX_DIGITS * 3.33:
            self.fail(f"a constant with more than {MAX_DIGITS} digits", node)
        return result

    def _check_power(self, base, exponent, node):
        """Refuse powers whose value would be huge, before SymPy evaluates them."""
        if exponent.is_number and not exponent.is_finite:
            return
        if exponent.is_Integer and abs(int(exponent)) > MAX_EXPONENT and not base.is_number:
            self.fail(f"exponent larger than {MAX_EXPONENT}", node)
        if base.is_number and exponent.is_number:
            b = abs(base.evalf(15)) if base.is_real else sp.Integer(2)
            e = exponent.evalf(15)
            if b in (0, 1) or not e.is_real:
                return
            digits = float(abs(e)) * abs(math.log10(float(b))) if b.is_finite else math.inf
            if digits > MAX_DIGITS:
                self.fail(f"power too large (about 10^{digits:.3g})", node)

    def visit_BoolOp(self, node, depth):
        if not self.allow_relations:
            self.fail("and/or are only allowed in conditions", node)
        values = [self.build(v, depth) for v in node.values]
        return sp.And(*values) if isinstance(node.op, ast.And) else sp.Or(*values)

    def visit_Compare(self, node, depth):
        if not self.allow_relations:
            self.fail(f"comparisons are only allowed in conditions and identities; {PIECEWISE_HINT}", node)
        terms = [self.build(node.left, depth)] + [self.build(c, depth) for c in node.comparators]
        rels = []
        for op, a, b in zip(node.ops, terms, terms[1:]):
            rel = _COMPARE.get(type(op))
            if rel is None:
                self.fail(f"comparison {type(op).__name__} is not allowed", node)
            rels.append(rel(a, b, evaluate=False))
        return rels[0] if len(rels) == 1 else sp.And(*rels)

    def visit_Call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            self.fail("only plain function names can be called", node)
        if node.keywords:
            self.fail("keyword arguments are not allowed", node)
        name = node.func.id
        if name.startswith("_"):
            self.fail("names starting with an underscore are not allowed", node)
        if name not in FUNCTIONS and name != "diff" and _catalog_function(name) is None:
            from .catalog import REGISTRY

            self.fail(_not_callable(name) if name in REGISTRY else _unknown_function(name), node)
        if name == "where":
            old, self.allow_relations = self.allow_relations, True
            try:
                args = [self.build(a, depth) for a in node.args]
            finally:
                self.allow_relations = old
        else:
            args = [self.build(a, depth) for a in node.args]
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.fail("starred arguments are not allowed", node)
        if name == "diff":
            return self._diff(args, node)
        fn = FUNCTIONS.get(name) or _catalog_function(name)
        if fn is None:
            self.fail(f"unknown function {name!r}", node)
        try:
            return fn(*args)
        except TypeError:
            self.fail(f"wrong number of arguments for {name}", node)

    def _diff(self, args, node):
        from .calculus import derivative

        if len(args) not in (2, 3) or not isinstance(args[1], sp.Symbol):
            self.fail("diff takes (expr, symbol[, order])", node)
        order = args[2] if len(args) == 3 else sp.S.One
        if not order.is_Integer or not 0 <= order <= 10:
            self.fail("diff order must be an integer from 0 to 10", node)
        return derivative(args[0], args[1], int(order))


def _tree(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ExpressionError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    for i, ch in enumerate(text):
        if not ch.isascii() or (not ch.isprintable() and ch not in " \t"):
            raise ExpressionError("only printable ASCII is allowed (no look-alike characters)", text, i)
    if text.count("(") > MAX_DEPTH * 4 or text.count("[") or text.count("{"):
        raise ExpressionError("too many parentheses, or brackets/braces, which are not allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        prime = re.search(r"[\w)]'", text)  # σ' as a mathematician writes it: Python reads a string there
        if prime:
            raise ExpressionError(f"syntax error: {PRIME_HINT}", text, prime.start() + 1) from None
        # offset 0 (or none): Python found the text ended too early ("x ==", "x**"): the caret goes at its end
        raise ExpressionError(f"syntax error: {e.msg}", text, e.offset - 1 if e.offset else len(text)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression too deeply nested") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"expression has more than {MAX_NODES} nodes")
    return tree


def parse(
    text: str, *, params: dict[str, object] | None = None, symbols: dict[str, sp.Symbol] | None = None
) -> sp.Expr:
    """Parse ``text`` into a SymPy expression, safely.

    Args:
        text: e.g. ``"max(0, x) + alpha*min(0, x)"``.
        params: names to treat as parameters (symbols; values are not substituted).
        symbols: name → Symbol to reuse; unknown names become real symbols.

    Raises:
        ExpressionError: for anything outside the whitelist or over a limit.
    """
    table = dict(symbols or {})
    for name in params or {}:
        if not valid_symbol_name(name):
            raise ExpressionError(f"{name!r} is not a valid parameter name")
        table.setdefault(name, sp.Symbol(name, real=True))
    return _Builder(text, table, allow_relations=False).build(_tree(text))


def parse_relation(text: str, *, symbols: dict[str, sp.Symbol] | None = None) -> sp.Basic:
    """Parse an identity ``lhs == rhs`` or a condition such as ``x > 0``."""
    table = dict(symbols or {})
    return _Builder(text, table, allow_relations=True).build(_tree(text))


def as_expr(value, *, symbols: dict[str, sp.Symbol] | None = None) -> sp.Basic:
    """The one way user input becomes SymPy: text is parsed safely, numbers converted exactly.

    SymPy objects pass through once their symbol names are checked, since a
    name reaches generated code.
    """
    if isinstance(value, str):
        return parse_relation(value, symbols=symbols)
    if isinstance(value, bool):  # NumPy's bool is no number either: the TypeError at the end
        raise TypeError("expected an expression or a number, not a bool")
    if isinstance(value, (sp.Basic, sp.MatrixBase)):
        check_symbol_names(value)
        return value
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    # int and float, and NumPy's scalars (np.float64 is a float whose repr is "np.float64(1.5)"; np.float32
    # and np.int64 are neither): a float becomes the rational it prints as, 0.1 → 1/10
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return sp.Rational(repr(value)) if math.isfinite(value) else sp.Float(value)
    raise TypeError(f"expected an expression or a number, got {type(value).__name__}")


def check_symbol_names(expr) -> None:
    """Refuse symbols whose names could inject code into generated source."""
    for s in getattr(expr, "free_symbols", ()):
        if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy) and not valid_symbol_name(s.name):
            raise ExpressionError(f"symbol name {s.name!r} is not a plain identifier")

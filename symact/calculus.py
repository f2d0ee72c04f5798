"""Symbolic calculus on catalog definitions: derivatives, Jacobians, output forms.

Everything here is derived by SymPy from the definition; nothing is
hand-written. Three post-processing steps make the results usable:

- :func:`kink_convention` fixes what a derivative means at a kink: SymPy's
  Heaviside(0) = 1/2 is replaced by H(0) = 0, so relu'(0) = 0 as in PyTorch
  and JAX, and Dirac masses (the derivative of a jump) are dropped;
- :func:`tidy` picks the shortest of a few equivalent forms, deterministically;
- :func:`output_form` rewrites a derivative in terms of the function's own
  output y, the form backprop uses: σ' = y(1 − y), tanh' = 1 − y²;
- :func:`normal_form` writes erf and exp(−x²/2) as the standard normal's Φ and φ:
  GELU' = Φ(x) + x·φ(x).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

import sympy as sp

_SIMPLIFY_LIMIT = 80  # count_ops above which simplify() is too slow to be worth it


def kink_convention(expr: sp.Basic) -> sp.Basic:
    """Heaviside(u) → [u > 0] (so H(0) = 0) and DiracDelta → 0."""
    expr = expr.replace(
        lambda e: isinstance(e, sp.Heaviside),
        lambda e: sp.Piecewise((1, e.args[0] > 0), (0, True)),
    )
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def switch_points(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Real points where a max/min/|·|/sign/case in ``expr`` can switch branch: its kinks and jumps."""
    pw = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    candidates = set()
    for cond in pw.atoms(sp.core.relational.Relational):
        if cond.has(x):
            try:
                candidates |= set(sp.solveset(cond.lhs - cond.rhs, x, sp.S.Reals))
            except (NotImplementedError, TypeError, ValueError):
                continue
    return sorted((c for c in candidates if c.is_real and c.is_finite), key=float)


def _abs_from_sign(expr: sp.Basic) -> sp.Basic:
    """u·sign(u) → |u|, which SymPy leaves alone for real u."""

    def fold(mul: sp.Mul) -> sp.Basic:
        args = list(mul.args)
        for s in [a for a in args if isinstance(a, sp.sign)]:
            if s.args[0] in args:
                args.remove(s)
                args.remove(s.args[0])
                args.append(sp.Abs(s.args[0]))
        return sp.Mul(*args)

    return expr.replace(lambda e: e.is_Mul and e.has(sp.sign), fold)


def _piecewise_kinks(expr: sp.Basic) -> sp.Basic:
    """max/min inside a derivative → Piecewise, folded into one case list."""
    if not expr.has(sp.Max, sp.Min, sp.Piecewise):
        return expr
    expr = expr.replace(lambda e: isinstance(e, (sp.Max, sp.Min)), lambda e: e.rewrite(sp.Piecewise))
    return sp.piecewise_fold(expr)


def _size(expr: sp.Basic) -> tuple[int, int, int]:
    return sp.count_ops(expr), _depth(expr), len(sp.srepr(expr))


def _depth(expr: sp.Basic) -> int:
    return 1 + max((_depth(a) for a in expr.args), default=0)


def _functions(expr: sp.Basic) -> set:
    return {type(f) for f in expr.atoms(sp.Function)} - {sp.Piecewise}


def _many_way(expr: sp.Basic) -> bool:
    """A max or min of more than two arguments (sparsemax's τ): rebuilding one costs seconds per node."""
    return any(len(m.args) > 2 for m in expr.atoms(sp.Max, sp.Min))


def _simplifiable(expr: sp.Basic) -> bool:
    """Small enough for simplify(), and free of many-way max/min."""
    return not _many_way(expr) and sp.count_ops(expr) <= _SIMPLIFY_LIMIT


def tidy(expr: sp.Basic, var: sp.Symbol | None = None) -> sp.Basic:
    """A short, deterministic form of ``expr``.

    The candidates are the expression, its factored terms, its piecewise fold,
    simplify() and together(), and for a rational function of ``var`` its partial
    fractions in ``var`` (BCE'' = y/ŷ² + (1 − y)/(1 − ŷ)²). Only candidates that
    bring in no new function (1 − tanh² must not become cosh⁻²) compete, and the
    first shortest wins: fewest operations, then the shallowest tree (focal's
    gradient as its four terms, not one fraction of nested sums), then the
    shortest srepr.
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(tidy)
    expr = _abs_from_sign(kink_convention(expr))
    if _many_way(expr):
        return expr
    if _simplifiable(expr):
        folded = _piecewise_kinks(expr)
        candidates = [
            expr,
            sp.factor_terms(expr),
            folded,
            sp.simplify(folded),
            _abs_from_sign(sp.together(expr)),
            sp.expand(expr),
        ]
        if var is not None and expr.is_rational_function(var):
            candidates.append(sp.apart(sp.together(expr), var))
    else:  # too large for simplify(), but not for the cheap forms: left as it came, a high derivative swells
        # with every order (sigmoid's 16th: 160 000 operations in 15 s, and its 20th took minutes), while
        # expanded it is a polynomial in σ of n + 2 terms
        candidates = [expr, sp.factor_terms(expr), sp.expand(expr)]
    before = _functions(expr)
    candidates = [
        c for c in candidates if _functions(c) <= before | {sp.Max, sp.Min} or len(_functions(c)) < len(before)
    ]
    return _abs_from_sign(min(candidates, key=_size))


@functools.lru_cache(maxsize=1024)
def derivative(expr: sp.Basic, var: sp.Symbol, order: int = 1) -> sp.Basic:
    """The ``order``-th derivative of ``expr`` in ``var``, under symact's kink convention.

    The convention is applied after every step, so relu'' is 0 rather than a
    Dirac mass, and the result is tidied.
    """
    if order < 0:
        raise ValueError("order must be >= 0")
    # Constants such as GELU-tanh's 0.044715 = 8943/200000 are carried as symbols while simplifying: SymPy
    # clears their denominators otherwise, and GELU-tanh'' came out as (1/20000000000 − tanh²(…)/20000000000)·
    # (2682900000·√2·x²/√π + …). The derivative is the same (they do not depend on var), and they come back.
    constants = {r: sp.Dummy(positive=r > 0, negative=r < 0) for r in expr.atoms(sp.Rational) if r.q >= 100}
    expr = expr.xreplace(constants)
    for _ in range(order):
        expr = tidy(sp.diff(expr, var), var)
    return expr.xreplace({d: r for r, d in constants.items()})


def jacobian(f: sp.Matrix, inputs: Sequence[sp.Symbol]) -> sp.Matrix:
    """Jacobian J[i, j] = ∂fᵢ/∂xⱼ under the kink convention."""
    return sp.Matrix(f).jacobian(list(inputs)).applyfunc(lambda e: tidy(kink_convention(e)))


def _single_atoms(f: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Subexpressions through which alone ``f`` depends on ``x``, largest first."""
    t = sp.Dummy("t")
    atoms = sorted(
        (a for a in f.atoms(sp.Function, sp.Pow) if a.has(x)),
        key=lambda a: (-sp.count_ops(a), sp.default_sort_key(a)),
    )
    return [a for a in atoms if not f.subs(a, t).has(x)]


def output_form(df: sp.Expr, f: sp.Expr, x: sp.Symbol, y: sp.Symbol) -> sp.Expr | None:
    """``df`` written as a function of the output y = f(x) alone, or None.

    First substitute f itself (σ(1 − σ) → y(1 − y)); failing that, solve
    y = f for the single atom through which f depends on x, in the original
    and in the exp-rewritten form (softplus' = σ → 1 − e^(−y)).
    """
    if f.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs):
        return None
    direct = df.subs(f, y)
    if not direct.has(x):
        return tidy(direct)
    t = sp.Dummy("t")
    pairs = ((f, df), (f.rewrite(sp.exp), df.rewrite(sp.exp)))
    candidates = [(fe, de, a) for fe, de in pairs for a in _single_atoms(fe, x)]
    for fe, de, atom in candidates:
        try:
            solutions = sp.solve(sp.Eq(y, fe.subs(atom, t)), t)
        except NotImplementedError:  # y = log1p(t): SymPy has no inverse for it
            continue
        if len(solutions) != 1:
            continue
        candidate = sp.simplify(de.subs(atom, solutions[0]))
        if not candidate.has(x):
            return tidy(candidate)
    return None


#: The standard normal's cdf Φ and pdf φ: names for display, never evaluated. GELU is x·Φ(x), and its
#: derivatives read best in them: GELU′ = Φ(x) + x·φ(x), GELU″ = φ(x)·(2 − x²).
NORMAL_CDF, NORMAL_PDF = sp.Function("Phi"), sp.Function("varphi")


def _normal_pdf(e: sp.exp) -> sp.Expr:
    """exp(−w²/2) as √(2π)·φ(w), for a w without roots; other exps as they are."""
    w = sp.sqrt(sp.factor(-2 * e.args[0])).replace(lambda t: isinstance(t, sp.Abs), lambda t: t.args[0])  # φ is even
    if any(p.exp.is_Rational and not p.exp.is_Integer and p.base.free_symbols for p in w.atoms(sp.Pow)):
        return e
    return sp.sqrt(2 * sp.pi) * NORMAL_PDF(w)


def normal_form(expr: sp.Expr) -> sp.Expr | None:
    """``expr`` in the standard normal's Φ and φ, or None where it has neither erf nor exp(−w²/2), or the form
    is no shorter.

    erf(u) = 2Φ(√2·u) − 1, erfc(u) = 2Φ(−√2·u) and exp(−w²/2) = √(2π)·φ(w); the result is checked by
    substituting Φ and φ back and simplifying the difference to 0.
    """
    if isinstance(expr, sp.MatrixBase) or not expr.has(sp.erf, sp.erfc, sp.exp):
        return None
    e = expr.replace(lambda t: isinstance(t, sp.erf), lambda t: 2 * NORMAL_CDF(sp.sqrt(2) * t.args[0]) - 1)
    e = e.replace(lambda t: isinstance(t, sp.erfc), lambda t: 2 * NORMAL_CDF(-sp.sqrt(2) * t.args[0]))
    e = e.replace(lambda t: isinstance(t, sp.exp) and t.args[0].could_extract_minus_sign(), _normal_pdf)
    if e == expr or not _simplifiable(e):
        return None
    e = sp.simplify(sp.expand(e))
    back = e.replace(lambda t: isinstance(t, NORMAL_CDF), lambda t: (1 + sp.erf(t.args[0] / sp.sqrt(2))) / 2).replace(
        lambda t: isinstance(t, NORMAL_PDF), lambda t: sp.exp(-(t.args[0] ** 2) / 2) / sp.sqrt(2 * sp.pi)
    )
    if e.has(sp.erf, sp.erfc) or _size(e) >= _size(expr) or sp.simplify(back - expr) != 0:
        return None
    return e


def in_outputs(expr: sp.Expr, g: Sequence[sp.Expr], outputs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol]):
    """``expr`` rewritten in the outputs oₖ = gₖ(inputs), or None if it cannot be.

    Softmax-like outputs share a denominator Σ: name it W and replace each
    numerator eₖ by oₖ·W, so eᵢ/Σ² · eⱼ becomes oᵢ oⱼ.
    """
    _, den = sp.fraction(sp.together(g[0]))
    w = sp.Dummy("W")
    if den == 1:
        reps = list(zip(g, outputs))
    else:
        reps = [(den, w)] + [(sp.fraction(sp.together(gk))[0], ok * w) for gk, ok in zip(g, outputs)]
    out = sp.simplify(sp.together(expr).subs(reps))
    return None if out.has(*inputs, w) else out


def vector_output_form(
    J: sp.Matrix, f: sp.Matrix, inputs: Sequence[sp.Symbol], outputs: Sequence[sp.Symbol]
) -> sp.Matrix | None:
    """A Jacobian written in the outputs, e.g. softmax: J = diag(s) − s sᵀ.

    Tries f itself, then exp(f) (log_softmax: J = I − 1 exp(y)ᵀ). Ratios
    eᵢ/Σ are found by naming the shared denominator Σ and each numerator.
    """
    if not all(_simplifiable(e) for e in f):  # sparsemax: its output form is a stated closed form
        return None
    for g, out in ((f, list(outputs)), (f.applyfunc(sp.exp), [sp.exp(o) for o in outputs])):
        g = list(g.applyfunc(sp.simplify))
        entries = [in_outputs(e, g, out, inputs) for e in J]
        if None in entries:
            continue
        if sp.simplify(sum(g) - 1) == 0:
            entries = [_on_simplex(e, out) for e in entries]
        return sp.Matrix(J.rows, J.cols, [sp.factor_terms(e) for e in entries])
    return None


def _on_simplex(expr: sp.Expr, outputs: Sequence[sp.Expr]) -> sp.Expr:
    """Use Σ sₖ = 1: a sum of most of the outputs becomes 1 minus the rest (s₂ + s₃ → 1 − s₁)."""

    def shorter(add: sp.Add) -> sp.Expr:
        rest = [o for o in outputs if o not in add.args]
        return 1 - sp.Add(*rest)

    return expr.replace(
        lambda e: e.is_Add and set(e.args) <= set(outputs) and len(e.args) > len(outputs) / 2,
        shorter,
    )


def impose_sum_to_one(expr: sp.Expr, targets: Sequence[sp.Symbol]) -> sp.Expr:
    """Use Σ yₖ = 1 in an expression linear in the targets.

    Write expr = c₀ + Σ cₖ yₖ; the most common coefficient m multiplies Σ yₖ,
    which is 1, so expr = c₀ + m + Σ (cₖ − m) yₖ. The result keeps the
    symmetry between classes (CE∘softmax: sᵢ − yᵢ, not sᵢ − 1 + y₁ + y₂).
    """
    expr = sp.expand(expr)
    if any(sp.diff(expr, a, b) != 0 for a in targets for b in targets):
        return expr
    coeffs = [sp.simplify(sp.diff(expr, t)) for t in targets]
    m, count = Counter(coeffs).most_common(1)[0]
    if count < 2:
        return expr
    c0 = expr.subs({t: 0 for t in targets})
    return tidy(c0 + m + sum((c - m) * t for c, t in zip(coeffs, targets)))

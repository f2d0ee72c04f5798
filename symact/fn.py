"""The user-facing function object: a catalog entry with its parameters bound.

``symact.activation("silu", beta=2)`` returns an :class:`Fn`. Its ``expr``
keeps the parameter symbols (so derivatives with respect to parameters work);
``params`` maps each symbol to its value, and ``bind()`` substitutes them.
"""

from __future__ import annotations

import numbers
from functools import cached_property

import numpy as np
import sympy as sp

from . import calculus, printing
from .catalog import REGISTRY, Definition, Entry
from .catalog.registry import Kind, real, vector
from .functions import expand_atoms
from .parse import as_expr


def _exact(value) -> sp.Expr:
    """Floats become the rational they print as (0.01 → 1/100), so LaTeX stays exact."""
    if isinstance(value, str) or not isinstance(value, (numbers.Real, sp.Expr)) or isinstance(value, bool):
        raise TypeError(f"a parameter value must be a number, got {type(value).__name__}")  # NumPy's scalars pass
    value = as_expr(value)
    if not value.is_number:
        raise TypeError("a parameter value must be a number")
    if value.is_finite is not True:  # β = inf made x·σ(∞·x), and NaN a NaN function
        raise ValueError(f"a parameter value must be finite, got {value}")
    return value


#: The sign a parameter's symbol is declared with, and what it asks of a value. The stable forms rely on it
#: (SymPy takes |βx| as β|x| for a positive β): softplus with β = −2 gave −1.06 at x = 1, where it is −0.063.
SIGNS = {
    "positive": ("> 0", np.greater),
    "nonnegative": (">= 0", np.greater_equal),
    "negative": ("< 0", np.less),
    "nonpositive": ("<= 0", np.less_equal),
    "nonzero": ("!= 0", np.not_equal),
}


class _CostValue(sp.Symbol):
    """A cost's value in its own gradient (RMSE's (ŷ[i] − y[i])/(N·rmse)): a name, set upright in LaTeX."""

    def _latex(self, printer):
        return REGISTRY[self.name].latex_name if self.name in REGISTRY else r"\operatorname{%s}" % self.name


def _check_sign(name: str, symbol: sp.Symbol, value: sp.Expr) -> None:
    for sign, (relation, _) in SIGNS.items():
        if symbol.assumptions0.get(sign) and getattr(value, f"is_{sign}") is False:
            raise ValueError(f"{name}: {symbol.name} must be {relation}, got {value}")


def sign_error(symbol: sp.Symbol, values: np.ndarray) -> str | None:
    """Where an array of parameter values (a learnable one's, say) breaks the sign its symbol is declared with:
    "beta must be > 0, got -0.25 (3 of 16 values)"; else None. NaN passes: it gives NaN outputs."""
    for sign, (relation, holds) in SIGNS.items():
        if symbol.assumptions0.get(sign):
            with np.errstate(invalid="ignore"):
                bad = ~holds(values, 0) & ~np.isnan(values)
            if np.any(bad):
                return f"{symbol.name} must be {relation}, got {values[bad].flat[0]:g} ({np.count_nonzero(bad)} of {values.size} values)"
    return None


class Fn:
    """A catalog function with bound parameters.

    Attributes:
        name: canonical catalog name.
        kind: ``"activation"`` or ``"loss"``.
        expr: the definition, a SymPy expression (a column Matrix for vector functions).
        inputs: the input symbols (for a loss: the prediction symbols).
        targets: a loss's target symbols; empty for activations.
        params: parameter symbol → value.
    """

    def __init__(self, entry: Entry, size: int | None = None, **params):
        self.entry = entry
        known = {p.name: p for p in entry.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise TypeError(f"{entry.name} has no parameter {', '.join(unknown)} (parameters: {allowed})")
        if size is not None and (not entry.vector or size < 1):
            raise ValueError(f"{entry.name} takes no size" if not entry.vector else "size must be >= 1")
        if size is not None and size > entry.max_size:
            raise ValueError(
                f"{entry.name}: size must be at most {entry.max_size}, the largest whose symbolic form builds in "
                "seconds (compiled kernels take rows of any length)"
            )
        self.size = size or entry.default_size
        self.params = {p.symbol: _exact(params[p.name]) if p.name in params else p.default for p in entry.params}
        for p in entry.params:
            _check_sign(entry.name, p.symbol, self.params[p.symbol])
        d: Definition = entry.definition(self.size)
        self.expr = d.expr
        self.inputs = d.inputs
        self.targets = d.targets
        if self.params and self.bind(self.expr).has(sp.zoo, sp.nan):
            values = ", ".join(f"{s.name} = {v}" for s, v in self.params.items())
            raise ValueError(f"{entry.name} is not defined at {values}: its definition is infinite or NaN there")

    name = property(lambda self: self.entry.name)
    kind: Kind = property(lambda self: self.entry.kind)
    vector = property(lambda self: self.entry.vector)

    def param(self, name: str) -> sp.Symbol:
        for p in self.entry.params:
            if p.name == name:
                return p.symbol
        allowed = ", ".join(p.name for p in self.entry.params) or "none"
        raise ValueError(f"{self.name} has no parameter {name!r} (parameters: {allowed})")

    def bind(self, expr: sp.Basic | None = None) -> sp.Basic:
        """``expr`` (default: the definition) with parameter values substituted."""
        return (self.expr if expr is None else expr).subs(self.params)

    # -- derivatives -------------------------------------------------------

    @cached_property
    def output_symbol(self) -> sp.Symbol:
        return real("y") if self.kind == "activation" else real("L")

    def derivative(
        self, order: int = 1, wrt: str | sp.Symbol | None = None, *, form: str = "input", bind: bool = False
    ):
        """The ``order``-th derivative with respect to the input or a parameter.

        Args:
            order: derivative order, >= 1.
            wrt: a parameter name or symbol; default the input (for a loss, the prediction).
            form: ``"input"`` (in x), ``"output"`` (in y = f(x), when such a form exists) or ``"normal"``
                (in the standard normal's Φ and φ, where the derivative has erf or exp(−x²/2) and
                reads shorter so: GELU′ = Φ(x) + x·φ(x)).
            bind: substitute parameter values.

        Returns:
            A SymPy expression; for vector functions and ``wrt=None`` the Jacobian.
            ``form="output"`` and ``form="normal"`` return None when no such form exists.
        """
        if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:  # np.int64 is one
            raise ValueError("order must be an integer >= 1")
        order = int(order)
        var = self._wrt(wrt)
        if self.kind == "loss" and wrt is None and len(self.inputs) > 1:
            if order != 1:
                raise ValueError("categorical losses support order=1 (the gradient)")
            return self.gradient(bind=bind)
        if self.rooted and wrt is None:  # (2 would be the squared error's, not RMSE's: its Hessian is not diagonal)
            if order != 1:
                raise ValueError(f"{self.name}'s cost, a square root of a mean, couples the samples: order=1 only")
            return self.gradient(bind=bind)
        if self.vector and wrt is None:
            if order != 1:
                raise ValueError("vector functions support order=1 (the Jacobian)")
            return self.jacobian(form=form, bind=bind)
        expr = self.bind() if bind else self.expr
        if isinstance(expr, sp.MatrixBase):
            d = expr.applyfunc(lambda e: calculus.derivative(e, var, order))
        else:
            d = calculus.derivative(expr, var, order)
        if form == "output":
            if self.kind != "activation" or isinstance(expr, sp.MatrixBase):
                return None
            return calculus.output_form(d, expr, var, self.output_symbol)
        if form == "normal":
            return calculus.normal_form(d)
        if form != "input":
            raise ValueError("form must be 'input', 'output' or 'normal'")
        return d

    def _wrt(self, wrt: str | sp.Symbol | None) -> sp.Symbol:
        if wrt is None:
            return self.inputs[0]
        if isinstance(wrt, sp.Symbol):
            if wrt in self.params or wrt in self.inputs or wrt in self.targets:
                return wrt
            raise ValueError(f"{self.name} does not depend on {wrt}")
        for s in (*self.inputs, *self.targets):
            if s.name == wrt:
                return s
        return self.param(wrt)

    def jacobian(self, *, form: str = "input", bind: bool = False) -> sp.Matrix:
        """Jacobian of a vector function at size n; ``form="output"`` writes it in s = f(x)."""
        if not self.vector or self.kind != "activation":
            raise ValueError(f"{self.name} is not a vector activation; use derivative()")
        f = self.bind() if bind else self.expr
        J = self._bound_jacobian if bind else self._jacobian
        if form == "input":
            return J.copy()  # the cached one stays as it is
        if form == "output":
            return calculus.vector_output_form(J, f, self.inputs, self.output_vector)
        raise ValueError("form must be 'input' or 'output'")

    @cached_property
    def _jacobian(self) -> sp.Matrix:
        """The Jacobian in x, once: each of its n² entries is simplified (softmax at n = 8: 5 s)."""
        return calculus.jacobian(self.expr, self.inputs)

    @cached_property
    def _bound_jacobian(self) -> sp.Matrix:
        return calculus.jacobian(self.bind(), self.inputs)

    @cached_property
    def output_vector(self) -> tuple[sp.Symbol, ...]:
        return (
            vector("s" if self.name == "softmax" else "y", self.size)
            if self.name != "sparsemax"
            else vector("p", self.size)
        )

    # -- losses ------------------------------------------------------------

    def gradient(self, *, bind: bool = False) -> sp.Expr | sp.Matrix:
        """A loss's gradient with respect to its prediction (a column for categorical losses).

        For a mean of per-sample losses, the per-sample loss's derivative (the cost's is it over N). RMSE's cost
        is the square root of a mean, so no sample has a loss of its own: its gradient is the cost's,
        ∂cost/∂ŷ[i] (:meth:`through_root`).
        """
        self._require_loss()
        L = self.bind() if bind else self.expr
        if len(self.inputs) == 1:
            d = calculus.derivative(L, self.inputs[0])
            return self.through_root(d) if self.rooted else d
        return sp.Matrix([calculus.derivative(L, p) for p in self.inputs])

    @property
    def rooted(self) -> bool:
        """Whether the cost is the square root of the mean of ``expr`` (RMSE), not its mean."""
        return self.kind == "loss" and self.entry.reduction == "sqrt_mean"

    def through_root(self, d: sp.Expr) -> sp.Expr:
        """∂cost/∂ŷ[i] for a rooted cost √m, m = (1/N)·Σ ℓ(ŷ[i], y[i]), from d = ∂ℓ/∂ŷ (or ∂ℓ/∂z):
        the chain rule through the mean and the root, in the cost's own value C = √m. For RMSE,
        2·(ŷ − y) becomes (ŷ[i] − y[i])/(N·rmse)."""
        i, N, reps = self._indexed()
        m, cost = sp.Symbol("m", positive=True), self.cost_value
        outer = sp.diff(sp.sqrt(m), m).subs(sp.sqrt(m), cost)  # d√m/dm = 1/(2√m), in C
        z = sp.Symbol("z", real=True)  # a logit gradient's variable is indexed as well
        reps = {**reps, z: sp.IndexedBase("z")[i]}
        return calculus.tidy(outer * d.xreplace(reps) / N)

    @property
    def cost_value(self) -> sp.Symbol:
        """The cost's value as a symbol, as :meth:`through_root` writes it: ``rmse``, in LaTeX its catalog name."""
        return _CostValue(self.name, positive=True)

    def _indexed(self):
        """The sample index i, the sample count N, and each input and target as its indexed element."""
        i, N = sp.Symbol("i", integer=True, positive=True), sp.Symbol("N", integer=True, positive=True)
        return i, N, {s: sp.IndexedBase(s.name)[i] for s in (*self.inputs, *self.targets)}

    def logit_gradient(self, *, bind: bool = False) -> tuple[sp.Expr | sp.Matrix, sp.Expr | sp.Matrix]:
        """∂L/∂z where ŷ = g(z) for the matching output activation g.

        Returns ``(in_z, in_yhat)``: the gradient in the logits z, and the
        same gradient written in ŷ = g(z), e.g. (σ(z) − y, ŷ − y) for BCE.
        Target facts such as Σ y = 1 for one-hot rows are used.
        """
        self._require_loss()
        act = REGISTRY[self.entry.output_activation]
        g = Fn(act, size=self.size if act.vector else None)
        L = self.bind() if bind else self.expr
        zs = vector("z", len(self.inputs)) if len(self.inputs) > 1 else (real("z"),)
        if g.vector:
            gz = list(g.bind().subs(dict(zip(g.inputs, zs))))
        else:  # an elementwise output activation acts on each logit
            gz = [g.bind().subs(g.inputs[0], z) for z in zs]
        Lz = L.subs(dict(zip(self.inputs, gz)), simultaneous=True)
        grads = [sp.diff(Lz, z) for z in zs]
        if self.entry.target_constraints is not None:
            grads = [calculus.impose_sum_to_one(d, self.targets) for d in grads]
        grads = [calculus.tidy(d) for d in grads]
        in_yhat = [self._in_prediction(d, gz, zs) for d in grads]
        if self.rooted:
            grads, in_yhat = ([None if d is None else self.through_root(d) for d in ds] for ds in (grads, in_yhat))
        if len(zs) == 1:
            return grads[0], in_yhat[0]
        return sp.Matrix(grads), None if None in in_yhat else sp.Matrix(in_yhat)

    def _in_prediction(self, d: sp.Expr, gz: list[sp.Expr], zs) -> sp.Expr | None:
        if list(gz) == list(zs):  # logits in, logits out
            return d.subs(dict(zip(zs, self.inputs)))
        out = calculus.in_outputs(d, gz, self.inputs, zs)
        return None if out is None else calculus.tidy(out)

    def cost(self, n_samples: int | None = None) -> sp.Expr:
        """The cost: the mean of per-sample losses (RMSE: its square root).

        With ``n_samples=None`` the sum is symbolic over i = 1…N.
        """
        self._require_loss()
        if n_samples is None:
            i, N, reps = self._indexed()
            total = sp.Sum(self.expr.subs(reps, simultaneous=True), (i, 1, N))
        else:
            N = n_samples
            total = sum(
                self.expr.subs({s: real(f"{s.name}_{k}") for s in (*self.inputs, *self.targets)}, simultaneous=True)
                for k in range(1, n_samples + 1)
            )
        mean = total / N
        return sp.sqrt(mean) if self.rooted else mean

    def _require_loss(self) -> None:
        if self.kind != "loss":
            raise ValueError(f"{self.name} is an activation, not a loss")

    # -- rendering ---------------------------------------------------------

    def other_forms(self) -> list[sp.Expr]:
        """The definition written otherwise, as ``show`` and the handbook give it after ``name(x) = …``: with σ
        and softplus (and a bare tanh) in exponentials, since σ(x) = σ(x) says nothing, and in the standard
        normal's Φ and φ (GELU = x·Φ(x)). Empty for vector functions and where neither changes anything."""
        if self.vector or self.rooted:
            return []
        spelled = expand_atoms(self.expr)
        if isinstance(spelled, sp.tanh):
            spelled = spelled.rewrite(sp.exp)
        normal = calculus.normal_form(self.expr)
        return [f for f in (spelled if spelled != self.expr else None, normal) if f is not None]

    def latex(self, expr: sp.Basic | None = None) -> str:
        """LaTeX for ``expr`` (default: the definition as ``name(x) = …``)."""
        if expr is not None:
            return printing.latex(expr)
        if self.rooted:  # its cost: no sample has an RMSE of its own
            return r"%s = %s" % (self.entry.latex_name, printing.latex(self.cost()))
        args = ", ".join(printing.latex(s) for s in (*self.inputs, *self.targets)) if not self.vector else r"\mathbf{x}"
        forms = [self.expr, *self.other_forms()]
        if len(forms) > 1 and isinstance(self.expr, sp.Function) and self.expr.args == tuple(self.inputs):
            forms = forms[1:]  # σ(x) = 1/(1 + e^(−x)), not σ(x) = σ(x) = …: the name is already its LaTeX
        return r"%s\left(%s\right) = %s" % (self.entry.latex_name, args, " = ".join(printing.latex(f) for f in forms))

    def analyze(self):
        """Derived properties: limits, range, extrema of f', Lipschitz constant (:func:`symact.analyze.analyze`);
        print it for the table ``symact analyze`` shows."""
        from .analyze import analyze

        return analyze(self)

    def plot(self, *, derivative: bool = True, xrange: tuple[float, float] | None = None, path=None, ax=None):
        """A matplotlib figure of f (and f'); see :func:`symact.plot.plot`."""
        from .plot import plot

        return plot([self], derivative=derivative, xrange=xrange, path=path, ax=ax)

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"

    @property
    def call(self) -> str:
        """The name with the parameters as typed: 'elu(alpha=0.3)', or 'relu' where there are none."""
        shown = ", ".join(f"{k.name}={printing.as_decimal(v, parameter=True) or v}" for k, v in self.params.items())
        return f"{self.name}({shown})" if shown else self.name

    def __call__(self, *args) -> sp.Expr:
        """f at a point, as SymPy evaluates it: ``sigmoid(0)`` is 1/2, ``sigmoid(0.5)`` 0.6224593312018546,
        ``silu(z)`` z·σ(β·z) at the bound β; a loss takes (ŷ, y). For arrays, compile a kernel."""
        if self.vector:
            raise TypeError(f"{self.name} acts on a vector: its components are .expr; for arrays, symact.compile")
        names = (*self.inputs, *self.targets)
        if len(args) != len(names):
            takes = f"{len(names)} argument{'s' if len(names) > 1 else ''} ({', '.join(map(str, names))})"
            raise TypeError(f"{self.name} takes {takes}, got {len(args)}")
        values = []
        for a in args:
            if isinstance(a, sp.Basic):
                values.append(a)
            elif isinstance(a, numbers.Integral) and not isinstance(a, bool):  # NumPy's scalars too
                values.append(sp.Integer(int(a)))
            elif isinstance(a, numbers.Rational):  # Fraction(1, 2): exact
                values.append(sp.Rational(a.numerator, a.denominator))
            elif isinstance(a, numbers.Real):
                values.append(sp.Float(float(a)))
            else:
                raise TypeError(
                    f"{self.name}() takes numbers and SymPy expressions, not {type(a).__name__}; for arrays, "
                    "compile it: k = symact.compile(f), then k(x)"
                )
        value = self.bind().subs(dict(zip(names, values)), simultaneous=True)
        return value.evalf() if any(isinstance(v, sp.Float) for v in values) else value

    def __repr__(self) -> str:
        return f"<symact {self.kind} {self.call}>"

    def __str__(self) -> str:
        return printing.unicode(self.expr)


def activation(name: str, *, size: int | None = None, **params) -> Fn:
    """A catalog activation by name or alias, e.g. ``activation("swish", beta=2)``."""
    return _lookup(name, "activation", size, params)


def loss(name: str, *, size: int | None = None, **params) -> Fn:
    """A catalog loss by name or alias, e.g. ``loss("huber", delta=0.5)``."""
    return _lookup(name, "loss", size, params)


def function(name: str, *, size: int | None = None, **params) -> Fn:
    """Any catalog function, activation or loss."""
    return _lookup(name, None, size, params)


def names(kind: Kind | None = None) -> list[str]:
    """Canonical names in the catalog, optionally of one kind."""
    if kind not in (None, "activation", "loss"):
        raise ValueError("kind must be 'activation', 'loss' or None")
    return REGISTRY.names(kind)


def _lookup(name: str, kind: Kind | None, size: int | None, params: dict) -> Fn:
    entry = REGISTRY[name]
    if kind is not None and entry.kind != kind:
        raise ValueError(
            f"{entry.name} is a {entry.kind}, not an {kind}"
            if kind == "activation"
            else f"{entry.name} is an {entry.kind}, not a {kind}"
        )
    return Fn(entry, size=size, **params)

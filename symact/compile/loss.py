"""Loss kernels: ``k(pred, target) -> (mean loss, ∂(mean loss)/∂pred)``.

The per-sample loss and its gradient come from the catalog definition (or its
proven stable rewrite, :data:`symact.stable.STABLE_LOSS`) and its derived derivative; the reduction is the catalog's (the mean over samples,
RMSE the square root of that mean). Categorical losses (cross_entropy, kl_div)
are sums of one term per class: the kernel evaluates the term and its derived
derivative elementwise over (N, K) arrays and sums over K, and a target given
as class indices is turned into one-hot rows first.

Terms of the form c(y)·g(ŷ) are taken as 0 where c(y) = 0 (the 0·log 0 = 0
convention of cross-entropy and KL): as a function of ŷ such a term is then
identically zero, so its value and gradient are 0 even where g(ŷ) is infinite,
log 0 or ŷ = ±∞ itself (so the limits there: bce_with_logits at ŷ = +∞, y = 1 is 0).
A NaN prediction or target is still NaN there, as scipy's xlogy(0, NaN) is:
NaN in gives NaN out, for every loss. So is a prediction outside the loss's
domain (:func:`prediction_domain`): the convention would give BCE at ŷ = 1.9,
y = 1 as −log 1.9 < 0, and the derived gradient would be finite there, but BCE
has no value beyond ŷ = 1.

softmax_cross_entropy is evaluated as −Σₖ yₖ log softmax(z)ₖ per row, with the
same convention, as Σy·log1p(S) + Σₖ yₖ·(max z − zₖ), S = Σ e^(z − max z) less the
max's 1 (so nothing overflows, and a confident row's loss, log1p(S), keeps its
digits), and gradient softmax(z)·Σy − y, which is its derived gradient, from
the same shift, exp and sum (:func:`symact.compile.vector.cross_entropy_rows`).

>>> import numpy as np, symact
>>> k = symact.compile("mse", dtype="float64")
>>> k(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
(2.5, array([1., 2.]))
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.calculus.util import continuous_domain
from sympy.codegen.cfunctions import log1p

from .. import calculus
from ..analyze import limit_at
from ..fn import Fn
from ..prove import time_limit
from ..stable import stabilize_atoms, stable_loss
from . import _per_call, as_real, nan_where_nan
from .forms import irrationals_to_floats, with_default
from .numpy import generated_function
from .vector import cross_entropy_rows, log_softmax, row_sum


def target_terms(
    expr: sp.Expr, targets: tuple[sp.Symbol, ...], everywhere: bool = False
) -> list[tuple[sp.Expr, sp.Expr]]:
    """The terms of ``expr`` as (c(y), term) pairs, where c(y) is the term's target-only factor: kept where the
    rest has a log or a power, which can be infinite at a finite ŷ (0·log 0), or with ``everywhere`` in every
    term with a ŷ part (which is infinite at ŷ = ±∞); 1 otherwise.

    Only products are distributed: (ŷ − y)² expanded into ŷ² − 2ŷy + y² would cancel catastrophically."""
    out = []
    distributed = sp.expand(expr, deep=False, multinomial=False, power_base=False, power_exp=False, log=False)
    for term in sp.Add.make_args(distributed):
        factors = sp.Mul.make_args(term)
        c = sp.Mul(*[f for f in factors if f.free_symbols and f.free_symbols <= set(targets)])
        kept = c.free_symbols and term != c and (everywhere or (term / c).has(sp.log, log1p, sp.Pow))
        out.append((c if kept else sp.S.One, term))
    return out


def _zero_where(c: sp.Expr, term: sp.Expr) -> sp.Expr:
    return term if c == 1 else sp.Piecewise((0, sp.Eq(c, 0)), (term, True))


def _by_convention(expr: sp.Expr, fn: Fn, wrt: sp.Symbol | None, everywhere: bool) -> sp.Expr:
    """``expr`` (its derivative in ``wrt``, if given) term by term, each term 0 where its target factor is 0
    (:func:`target_terms`), and so inside each branch of a Piecewise: bce_with_logits is ŷ(1 − y) + softplus(−ŷ)
    for ŷ > 0, whose first term is inf·0 = NaN at ŷ = +∞, y = 1, where the loss's limit is 0."""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(_by_convention(e, fn, wrt, everywhere), c) for e, c in expr.args])
    terms = target_terms(expr, fn.targets, everywhere)
    # the derivative as sp.diff gives it, not tidied for print: tidy's shortest form of focal's y-term was
    # y·(3ŷ·log ŷ + 10ŷ − 10)/(10ŷ(1 − ŷ)^0.7) at γ = 0.3, whose 10ŷ − 10 cancels near ŷ = 1 (26 ULP)
    out = sp.Add(*[_zero_where(c, t if wrt is None else calculus.kink_convention(sp.diff(t, wrt))) for c, t in terms])
    return _inner_products_by_convention(out, fn) if everywhere else out


def _inner_products_by_convention(expr: sp.Expr, fn: Fn) -> sp.Expr:
    """Every product c(y)·g(ŷ) inside ``expr`` as 0 where c(y) = 0, for the limits at ŷ = ±∞: as a function of ŷ
    it is 0 there, so its limit is too. hinge's max(0, 1 − y·ŷ) at y = 0 is then 1 at ŷ = ±inf, not max(0, 1 − 0·∞) =
    NaN."""

    def walk(e: sp.Expr) -> sp.Expr:  # not inside a condition: y·ŷ < 1 stays a comparison
        if not e.args or isinstance(e, (sp.logic.boolalg.Boolean, sp.core.relational.Relational)):
            return e
        e = e.func(*[walk(a) for a in e.args])
        if not isinstance(e, sp.Mul):
            return e
        c = sp.Mul(*[f for f in e.args if f.free_symbols and f.free_symbols <= set(fn.targets)])
        return e if c == 1 or not e.has(fn.inputs[0]) else _zero_where(c, e)

    return walk(expr)


def over_common_denominator(expr: sp.Expr, variables: tuple[sp.Symbol, ...]) -> sp.Expr:
    """A sum of rational terms whose combined numerator is linear in ``variables``, as that one quotient, in
    every case of a Piecewise: the derived ∂ℓ/∂ŷ of Poisson, 1 − y/ŷ, becomes (ŷ − y)/ŷ, and of BCE,
    −y/ŷ + (1 − y)/(1 − ŷ), becomes (ŷ − y)/(ŷ·(1 − ŷ)). Summed as derived, the terms cancel where ŷ ≈ y,
    where training converges, and the result is wrong in every digit (10^14 ULP at ŷ = y·(1 + 10^-15)); ŷ − y
    is exact there. The denominator stays a product of the terms' denominators (expanded, ŷ² − ŷ would
    cancel near ŷ = 1). Anything else is returned as it is."""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(over_common_denominator(e, variables), c) for e, c in expr.args])
    if not isinstance(expr, sp.Add) or not expr.is_rational_function(*variables):
        return expr
    numerator, denominator = sp.fraction(sp.together(expr))
    numerator = sp.expand(numerator)
    if denominator == 1 or not numerator.is_polynomial(*variables) or sp.Poly(numerator, *variables).total_degree() > 1:
        return expr
    return numerator / denominator


def value_and_gradients(fn: Fn, wrt_target: bool = False, everywhere: bool = False) -> tuple[sp.Expr, ...]:
    """ℓ(ŷ, y) and its derived ∂ℓ/∂ŷ (and ∂ℓ/∂y), term by term, each term 0 where its target factor is 0: a
    factor of a log or a power (0·log 0 = 0), or with ``everywhere`` any factor (the limits at ŷ = ±∞).
    ∂ℓ/∂ŷ's terms are then summed over a common denominator where that removes a cancellation
    (:func:`over_common_denominator`; not with ``everywhere``, at ŷ = ±∞, where (ŷ − y)/ŷ would be ∞/∞)."""
    loss = fn.bind(stable_loss(fn))
    exprs = [_by_convention(loss, fn, None, everywhere), _by_convention(loss, fn, fn.inputs[0], everywhere)]
    if not everywhere:
        folded = sp.piecewise_fold(exprs[1])  # one Piecewise, so that each case is one sum
        combined = over_common_denominator(folded, (fn.inputs[0], *fn.targets))
        exprs[1] = exprs[1] if combined == folded else combined
    terms = target_terms(loss, fn.targets)
    if wrt_target:  # in y the convention does not hold: d/dy of −y·log ŷ is −log ŷ at y = 0 too
        exprs.append(sp.Add(*[calculus.derivative(t, fn.targets[0]) for _, t in terms]))
    return tuple(with_default(irrationals_to_floats(stabilize_atoms(e))) for e in exprs)


def of_degree_two(expr: sp.Expr, variables) -> bool:
    """Whether expr(t·v) = t²·expr(v) for t > 0: a rooted loss's term whose root can be taken at inputs scaled
    by any s > 0, s·√(mean term(ŷ/s, y/s)), so that its squares neither overflow nor underflow."""
    t = sp.Symbol("t", positive=True)
    scaled = expr.subs({v: t * v for v in variables}, simultaneous=True)
    return sp.simplify(scaled - t**2 * expr) == 0


def prediction_domain(fn: Fn) -> sp.Set:
    """The predictions at which the per-element loss ``fn`` is real, with its ends (where the kernel gives the
    limits: BCE's 0 or +∞ at ŷ = 0), for a positive target: [0, 1] for BCE and focal loss, [0, ∞) for Poisson's,
    cross-entropy's and KL's terms. The reals where SymPy cannot tell (huber's cases)."""
    yhat = fn.inputs[0]
    loss = fn.bind().xreplace({t: sp.Dummy(t.name, positive=True) for t in fn.targets})
    # SymPy cannot solve KL's y/ŷ > 0: with the target's logs apart, y·(log y − log ŷ), it has ŷ > 0
    for expr in (loss, sp.expand_log(loss, force=True)):
        try:
            with time_limit(10):  # once per kernel; a user's loss may be beyond SymPy
                domain = continuous_domain(expr, yhat, sp.S.Reals)
        except Exception:  # NotImplementedError, out of time, or any other way SymPy gives up: no domain, no mask
            continue
        return domain.closure if domain.free_symbols <= {yhat} else sp.S.Reals
    return sp.S.Reals


def one_hot(target: np.ndarray, classes: int, dtype) -> np.ndarray:
    """Class indices (N,) → one-hot rows (N, classes)."""
    if not np.issubdtype(target.dtype, np.integer):
        if not np.all(np.mod(target, 1) == 0):
            raise ValueError("class labels must be integers 0 … K−1")
        target = target.astype(np.int64)
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ValueError(f"class labels must lie in 0 … {classes - 1}, got {target.min()} … {target.max()}")
    out = np.zeros((target.shape[0], classes), dtype=dtype)
    out[np.arange(target.shape[0]), target] = 1
    return out


def _cross_entropy_rows(
    logits: np.ndarray, target: np.ndarray, ys: np.ndarray, with_softmax: bool = False
) -> tuple[np.ndarray | None, np.ndarray]:
    """(softmax(z) where asked, −Σₖ yₖ log softmax(z)ₖ per row) (:func:`symact.compile.vector.cross_entropy_rows`),
    each term 0 where yₖ = 0 (0·log 0 = 0, as for cross_entropy): a logit of −∞ where y is 0 is no NaN, and the
    row's loss is its limit. NaN in the logits stays NaN."""
    soft, rows = cross_entropy_rows(logits, target, ys, with_softmax)
    lost = np.flatnonzero(np.isnan(rows))
    if lost.size:  # rarely: the convention's where only then, on log softmax taken again
        logs, picked = log_softmax(logits[lost], -1), target[lost]
        rows[lost] = -np.sum(np.where(picked == 0, np.where(np.isnan(logs), logs, 0), picked * logs), axis=-1)
    return soft, rows


class LossKernel:
    def __init__(self, fn: Fn, dtype: str):
        if fn.kind != "loss":
            raise ValueError(f"{fn.name} is not a loss")
        self.fn, self.dtype, self.backend = fn, np.dtype(dtype), "numpy"
        self.categorical = len(fn.inputs) > 1
        if fn.name == "softmax_cross_entropy":
            self._term = None
            return
        if self.categorical:
            term_fn = Fn(fn.entry, size=1, **{s.name: v for s, v in fn.params.items()})
            per = term_fn.expr
            pk, tk = term_fn.inputs[0], term_fn.targets[0]
            rebuilt = sum(per.subs({pk: p, tk: t}, simultaneous=True) for p, t in zip(fn.inputs, fn.targets))
            if sp.simplify(rebuilt - fn.expr) != 0:
                raise ValueError(f"{fn.name}: not a sum of one term per class; no kernel for it")
            fn = term_fn
        yhat, y = fn.inputs[0], fn.targets[0]
        self._per, self._limits = fn, {}  # the per-element loss, and its limits where it is infinite, as needed
        exprs = value_and_gradients(fn)
        # printed as derived, unfactored: its signs of zero at the domain's ends are the limits' (forms.shared)
        self._term = generated_function(fn.name, (yhat, y), exprs, "per-element loss and gradient", factor=False)
        # at ŷ = ±∞ the convention holds for every target factor (a where per term: only taken there)
        at_infinity = value_and_gradients(fn, everywhere=True)
        self._at_infinity = (
            None
            if at_infinity == exprs
            else generated_function(
                f"{fn.name}_at_infinity", (yhat, y), at_infinity, "the same at ŷ = ±∞", factor=False
            )
        )
        domain = prediction_domain(fn)
        #: ŷ ↦ whether ŷ lies in the loss's domain; None where that is every real
        self._inside = None if domain == sp.S.Reals else sp.lambdify(yhat, domain.as_relational(yhat), "numpy")
        #: the domain's hull with its infinite ends, where a limit may be wanted: [0, ∞] for Poisson
        self._hull = (float(domain.inf), float(domain.sup)) if isinstance(domain, sp.Interval) else (-np.inf, np.inf)
        #: a term of degree 2 in (ŷ, y) together, as RMSE's (ŷ − y)² is: its root can be taken at scaled inputs
        self._quadratic = fn.entry.reduction == "sqrt_mean" and of_degree_two(exprs[0], (yhat, y))

    def targets_like(self, pred: np.ndarray, target) -> np.ndarray:
        """Targets checked against ``pred`` (class indices become one-hot rows)."""
        target = as_real(target, None)
        if self.categorical and pred.ndim == 2 and target.ndim == 1 and target.shape[0] == pred.shape[0]:
            return one_hot(target, pred.shape[1], self.dtype)
        target = target.astype(self.dtype)
        if target.shape != pred.shape:
            raise ValueError(f"target shape {target.shape} does not match prediction shape {pred.shape}")
        return target

    def value(self, pred, target) -> float:
        """The mean loss alone (skips the gradient where that saves work)."""
        if self._term is None:
            pred = self._predictions(pred)
            target = self.targets_like(pred, target)
            if pred.shape[0] == 0:
                raise ValueError("empty batch")
            with np.errstate(all="ignore"):
                _, per = _cross_entropy_rows(pred, target, row_sum(target, -1))
                return float(np.sum(per) / pred.shape[0])
        return self(pred, target)[0]

    def _predictions(self, pred) -> np.ndarray:
        pred = as_real(pred, self.dtype)
        if self.categorical and pred.ndim != 2:
            raise ValueError(f"{self.fn.name} takes predictions of shape (N, K), got {pred.shape}")
        return pred

    def __call__(self, pred, target, **params) -> tuple[float, np.ndarray]:
        if params:
            raise TypeError(_per_call(self.fn, params, learnable=False))
        pred = self._predictions(pred)
        target = self.targets_like(pred, target)
        samples = pred.shape[0] if self.categorical else pred.size
        if samples == 0:
            raise ValueError("empty batch")
        with np.errstate(all="ignore"):
            if self._term is None:  # softmax cross-entropy on logits
                ys = row_sum(target, -1)
                grad, per = _cross_entropy_rows(pred, target, ys, with_softmax=True)
                grad *= ys  # softmax(z)·Σy − y, in softmax's array
                grad -= target
                grad /= samples
                value = np.sum(per) / samples
            else:
                per, grad = self._elements(pred, target)
                value, grad = np.sum(per, dtype=np.float64) / samples, grad / samples
            if self.fn.entry.reduction == "sqrt_mean":
                value, grad = self._root(pred, target, value, grad, samples)
        return float(value), grad.astype(self.dtype, copy=False)

    def elementwise(self, pred, target) -> tuple[np.ndarray, np.ndarray]:
        """Each element's loss ℓ(ŷ, y) and gradient ∂ℓ/∂ŷ, before the reduction; for a categorical loss, each
        class's term. Not for softmax_cross_entropy, whose loss is a row's."""
        if self._term is None:
            raise TypeError(f"{self.fn.name} has a loss per row of logits, not per element")
        pred = self._predictions(pred)
        with np.errstate(all="ignore"):
            return self._elements(pred, self.targets_like(pred, target))

    def _elements(self, pred, target) -> list[np.ndarray]:
        per, grad = self._term(pred, target)
        if self._at_infinity is not None and not np.isfinite(np.sum(pred)):
            per, grad = self._with_limits(pred, target, (per, grad))
        total = np.sum(per, dtype=np.float64)
        if not np.isfinite(total):  # rarely: an infinite loss, whose gradient may be NaN, or a NaN
            per, grad = self._with_symbolic_limits(pred, target, (per, grad))
            total = np.sum(per, dtype=np.float64)
        if np.isinf(total) or not np.isfinite(np.sum(grad)):  # ±∞ at a pole or an end of the domain
            per, grad = self._signed_infinities(pred, target, (per, grad))
        if self._inside is not None:  # NaN outside the domain, where the convention gave values
            outside = ~np.broadcast_to(self._inside(pred), pred.shape)
            if outside.any():
                per, grad = np.where(outside, np.nan, per), np.where(outside, np.nan, grad)
        return nan_where_nan((pred, target), (per, grad))  # the hinge's kink, 0·log 0

    def _with_limits(self, pred, target, values) -> list[np.ndarray]:
        """``values`` with the entries at ŷ = ±∞ taken again by the convention for every target factor."""
        infinite = np.isinf(pred)
        out = []
        for v, limit in zip(values, self._at_infinity(pred[infinite], target[infinite])):
            v = np.array(np.broadcast_to(v, pred.shape))
            v[infinite] = limit
            out.append(v)
        return out

    def _signed_infinities(self, pred, target, values) -> list[np.ndarray]:
        """``values`` where they are ±∞ at a finite ŷ, with the sign of the limit from the side or sides where
        the loss is real: the sign at the neighbouring floats there (NaN where two sides disagree, as 1/ŷ's at
        0). A printed form can lose it to the sign of a zero: where CSE shares 1 − ŷ as −(ŷ − 1), the
        gradient of (ŷ − 1)²·log ŷ − y·log(1 − ŷ) at ŷ = 1 is y/(−0) = −∞, and its limit +∞."""
        out = []
        for which, v in enumerate(values):
            v = np.array(np.broadcast_to(v, pred.shape))
            at = np.isinf(v) & np.isfinite(pred)
            if at.any():
                p, y = pred[at], np.broadcast_to(target, pred.shape)[at]
                signs = []
                for toward in (-np.inf, np.inf):
                    q = np.nextafter(p, p.dtype.type(toward))
                    near = np.broadcast_to(self._term(q, y)[which], q.shape)
                    real = ~np.isnan(near) & (True if self._inside is None else self._inside(q))
                    signs.append(np.where(real, np.sign(near), np.nan))
                below, above = signs
                sign = np.where(np.isnan(below), above, np.where(np.isnan(above) | (below == above), below, np.nan))
                v[at] = sign * np.inf
            out.append(v)
        return out

    def _with_symbolic_limits(self, pred, target, values) -> list[np.ndarray]:
        """``values`` where they are NaN though ŷ and y are not, as the limits of the per-element loss and its
        gradient there, taken by SymPy (:meth:`_limit`): Poisson's ŷ − y·log ŷ is inf − inf at ŷ = +∞, its
        limit +∞, and focal loss's gradient 0·log 0 at ŷ = 0, its limit −∞. Only from a side where the loss is
        real for these targets (at ŷ = ±10⁶ for ±∞, ŷ ± 10⁻⁹ otherwise), and where the limits from the sides that
        are agree: BCE and focal at ŷ = +∞, outside their domain, stay NaN. Where the limit for every y gives NaN at
        some y (hinge's max(0, 1 − yŷ) → −∞·sign(y) at ŷ = +∞), it is taken again at each of the few targets
        there (1 at y = 0)."""
        out = []
        for which, v in enumerate(values):
            v = np.array(np.broadcast_to(v, pred.shape))
            lost = np.isnan(v) & ~np.isnan(pred) & ~np.isnan(target) & (pred >= self._hull[0]) & (pred <= self._hull[1])
            # the few points where it happens (domain ends, ±∞), as Python floats: a float32 1 + 10⁻⁹ is 1
            for point in map(float, np.unique(pred[lost])[:8]):
                here = lost & (pred == point)
                v[here] = self._limit_from_inside(which, point, target[here], None)
                still = here & np.isnan(v)
                for t in map(float, np.unique(target[still])[:8]):
                    at = still & (target == t)
                    v[at] = self._limit_from_inside(which, point, target[at], t)
            out.append(v)
        return out

    def _limit_from_inside(self, which: int, point: float, y: np.ndarray, target: float | None) -> np.ndarray:
        """The limit at ``point`` for the targets ``y`` (all equal to ``target``, where one is given) from the
        side where the loss is real; NaN where no side's limit is, or two sides' differ."""
        found = [self._limit(which, point, side, target) for side in (1, -1)]
        found = [(limit, loss, side) for (limit, loss), side in zip(found, (1, -1)) if limit is not None]
        near = [
            loss(np.complex128(np.sign(point) * 1e6 if np.isinf(point) else point + side * 1e-9), y.astype(complex))
            for _, loss, side in found
        ]
        limits = [
            np.where(np.isfinite(n) & (n.imag == 0), np.broadcast_to(limit(y), y.shape), np.nan)
            for (limit, _, _), n in zip(found, near)
        ]
        if len(limits) == 2:  # the side in the domain; where both are, only where they agree
            a, b = limits
            limits = [np.where(np.isnan(a), b, np.where(np.isnan(b) | (a == b), a, np.nan))]
        return limits[0] if limits else np.full(y.shape, np.nan)

    def _limit(self, which: int, point: float, side: int, target: float | None = None):
        """(lim of the per-element loss (which = 0) or its derivative (1) as ŷ → ``point`` from the ``side`` (+1:
        above) as a NumPy function of y, and the loss as one of (ŷ, y)), or (None, None) where the limit is not
        real or SymPy does not find it; ±∞ has one side. With a ``target``, the limit at that y alone. Taken
        when a call first needs it."""
        if np.isinf(point) and side != -np.sign(point):
            return None, None
        key = (which, point, side, target)
        if key not in self._limits:
            yhat, y = self._per.inputs[0], self._per.targets[0]
            loss = self._per.bind(stable_loss(self._per))
            expr = calculus.derivative(loss, yhat) if which else loss
            if target is not None:
                expr = expr.subs(y, sp.nsimplify(target, rational=True))
            to = np.sign(point) * sp.oo if np.isinf(point) else sp.nsimplify(point, rational=True)
            # once; a user's loss may be beyond SymPy. limit_at folds max and |·| into the case that holds there.
            limit = limit_at(expr, yhat, to, seconds=10, side="+" if side > 0 else "-")
            real = not limit.has(sp.I, sp.nan, sp.zoo, sp.AccumBounds, sp.Limit) and limit.free_symbols <= {y}
            self._limits[key] = (
                (sp.lambdify(y, limit, "numpy"), sp.lambdify((yhat, y), loss, "numpy")) if real else (None, None)
            )
        return self._limits[key]

    def _root(self, pred, target, value, grad, samples) -> tuple[float, np.ndarray]:
        """√value and its gradient grad/(2√value). The squares overflow past |ŷ − y| ≈ 1.3e154 (float32: 1.8e19)
        and lose their digits in the subnormals below the reciprocal; there the terms are taken again at
        2^k·(ŷ, y), with 2^k bringing the largest input near 1. That is exact, and a term of degree 2 in (ŷ, y)
        scales by 2^2k, so the root is the scaled one over 2^k and the gradient the scaled one. One infinite
        residual d gives the limits as it grows: RMSE +∞, gradient sign(d)/√N there and 0 elsewhere."""
        if self._quadratic and not np.finfo(self.dtype).tiny * 2.0**60 <= value < np.inf:
            largest = max(np.max(np.abs(pred)), np.max(np.abs(target)))
            if 0 < largest < np.inf:
                k = -int(np.frexp(largest)[1])
                per, grad = self._term(np.ldexp(pred, k), np.ldexp(target, k))
                root = np.sqrt(np.sum(per, dtype=np.float64) / samples)
                if root == 0:  # every residual 0: the kink, derivative 0 (it was 0/0 = NaN at a perfect fit)
                    return 0.0, np.zeros_like(grad)
                return np.ldexp(root, -k), grad / samples / (2 * root)
            infinite = np.isinf(grad)
            if largest == np.inf and np.count_nonzero(infinite) == 1:  # the limit as that one residual grows
                return np.inf, np.where(infinite, np.sign(grad) * np.sqrt(1 / samples), 0 * grad)
        root = np.sqrt(value)
        return root, np.zeros_like(grad) if root == 0 else grad / (2 * root)  # the kink at 0: derivative 0

    def __repr__(self) -> str:
        return f"<symact loss kernel {self.fn.name} [numpy, {self.dtype}]>"


def paired_gradient(loss_fn: Fn):
    """``g(ŷ, y)``: the proven ∂L/∂z in the outputs ŷ of the loss's matching output activation (ŷ − y for
    sigmoid + BCE and softmax + cross-entropy), elementwise; None when it has no such elementwise form."""
    _, in_yhat = loss_fn.logit_gradient(bind=True)
    if in_yhat is None:
        return None
    if isinstance(in_yhat, sp.MatrixBase):
        first = in_yhat[0]
        p1, t1 = loss_fn.inputs[0], loss_fn.targets[0]
        for k in range(1, len(in_yhat)):
            renamed = in_yhat[k].subs({loss_fn.inputs[k]: p1, loss_fn.targets[k]: t1}, simultaneous=True)
            if sp.simplify(renamed - first) != 0 or not first.free_symbols <= {p1, t1}:
                return None
        args, expr = (p1, t1), first
    else:
        args, expr = (loss_fn.inputs[0], loss_fn.targets[0]), in_yhat
    yhat, y = sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)
    expr = with_default(irrationals_to_floats(expr.subs({args[0]: yhat, args[1]: y}, simultaneous=True)))
    return generated_function(f"{loss_fn.name}_logit", (yhat, y), (expr,), "the logit gradient in the outputs")

"""Loss kernels, vector-activation kernels and learnable-parameter kernels against the symbolic definitions.

Each kernel value is compared with the definition (and each gradient with the
derived derivative) evaluated by mpmath at 40 digits, at seeded points of the
catalog domain; parametrized over the registry.
"""

import functools
import re

import mpmath
import numpy as np
import pytest
import sympy as sp

import symact
from symact.analyze import limit_at
from symact.compile import available_backends
from symact.compile.accuracy import reference, ulp_error
from symact.stable import STABLE_LOSS, stable_loss

from .conftest import (
    LOSSES,
    SCALAR_ACTIVATIONS,
    VECTOR_ACTIVATIONS,
    cross_entropy_reference,
    ids,
    log_softmax_reference,
    mp_function,
)

RNG = np.random.default_rng(7)
LEARNABLE = [e for e in SCALAR_ACTIVATIONS if any(p.learnable for p in e.params)]


def _close(a, b, rel=1e-9, abs_=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rel, atol=abs_)


def _loss_points(entry, n_rows, classes):
    (plo, phi), (tlo, thi) = entry.domain
    if classes:
        pred = RNG.uniform(plo, phi, (n_rows, classes))
        target = RNG.dirichlet(np.ones(classes), n_rows)  # soft targets: no 0·log 0 for the reference to trip on
        return pred, target, target
    pred = RNG.uniform(plo, phi, n_rows)
    target = RNG.uniform(tlo, thi, n_rows)
    return pred, target, target


@pytest.mark.parametrize("entry", LOSSES, ids=ids(LOSSES))
def test_loss_kernel_matches_the_definition_and_its_gradient(entry):
    classes = 3 if entry.vector else 0
    fn = symact.loss(entry.name, size=classes or None)
    k = symact.compile(fn, dtype="float64")
    pred, target, dense = _loss_points(entry, 6, classes)
    value, grad = k(pred, target)
    args = (*fn.inputs, *fn.targets)
    L = mp_function(args, fn.bind())
    dL = [mp_function(args, fn.bind(fn.derivative(wrt=s))) for s in fn.inputs]
    rows = [(p if classes else [p], t if classes else [t]) for p, t in zip(pred, dense)]
    per = [float(L(*p, *t)) for p, t in rows]
    grads = np.array([[float(d(*p, *t)) for d in dL] for p, t in rows]).reshape(grad.shape)
    mean = np.mean(per)
    if entry.reduction == "sqrt_mean":
        _close(value, np.sqrt(mean))
        _close(grad, grads / (len(per) * 2 * np.sqrt(mean)))
    else:
        _close(value, mean)
        _close(grad, grads / len(per))


ELEMENTWISE_LOSSES = [e for e in LOSSES if not e.vector]


@pytest.mark.parametrize("where", ["pred", "target"])
@pytest.mark.parametrize("entry", LOSSES, ids=ids(LOSSES))
def test_loss_kernel_nan_in_gives_nan_out(entry, where):
    """One NaN makes the mean loss NaN and its own gradient entry NaN (every entry, for RMSE, whose gradient
    divides by the root), and leaves the other samples' gradients as they were. The hinge's kink, and the
    0·log 0 convention where the target is 0, once chose a branch for NaN and returned a finite gradient
    there (cross-entropy and KL even a finite loss)."""
    classes = 3 if entry.vector else 0
    k = symact.compile(symact.loss(entry.name, size=classes or None), dtype="float64")
    pred, target, _ = _loss_points(entry, 4, classes)
    if classes:
        target[0] = [0.0, 0.5, 0.5]  # a zero target where the NaN goes: the 0·log 0 convention
    clean = k(pred, target)[1]
    (pred if where == "pred" else target)[(0, 0) if classes else 0] = np.nan
    value, grad = k(pred, target)
    assert np.isnan(value) and np.isnan(grad.flat[0])
    if entry.reduction == "sqrt_mean":
        assert np.isnan(grad).all()
    elif entry.name != "softmax_cross_entropy":  # there a row's gradient is one softmax: the row is NaN
        np.testing.assert_array_equal(grad.ravel()[1:], clean.ravel()[1:])


@pytest.mark.parametrize("entry", ELEMENTWISE_LOSSES, ids=ids(ELEMENTWISE_LOSSES))
def test_loss_terms_are_as_accurate_as_their_conditioning_allows(entry):
    """Each per-element loss and gradient within 4 ULP times its condition number (|ŷ·∂/∂ŷ| + |y·∂/∂y|)/|value|,
    against 40-digit mpmath: what rounding the inputs alone would cost. An expanded (ŷ − y)² failed this by 29×."""
    fn = symact.loss(entry.name)
    yhat, y = fn.inputs[0], fn.targets[0]
    (plo, phi), (tlo, thi) = entry.domain
    rng = np.random.default_rng(8)
    pred, target = rng.uniform(plo, phi, 300), rng.uniform(tlo, thi, 300)
    per, grad = symact.compile(fn, dtype="float64")._term(pred, target)
    for got, expr in ((per, fn.bind()), (grad, fn.bind(fn.derivative(wrt=yhat)))):
        value = mp_function((yhat, y), expr)
        # (a kink's Dirac mass is 0 away from the kink, where the points are)
        slopes = [mp_function((yhat, y), sp.diff(expr, s).replace(sp.DiracDelta, lambda *_: 0)) for s in (yhat, y)]
        for g, p, t in zip(got, pred, target):
            want = value(p, t)
            if want == 0:
                assert g == 0, (p, t)
                continue
            cond = (abs(p * slopes[0](p, t)) + abs(t * slopes[1](p, t))) / abs(want)
            ulps = abs(g - want) / np.spacing(abs(float(want)))
            assert ulps <= 4 * max(1, cond), (entry.name, p, t, float(ulps), float(cond))


@pytest.mark.parametrize("name", ["cross_entropy", "kl_div"])
def test_categorical_losses_take_zero_log_zero_as_zero(name):
    k = symact.compile(name, dtype="float64")
    value, grad = k(np.array([[1.0, 0.0, 0.0]]), np.array([0]))
    assert value == 0.0 and np.all(grad[0, 1:] == 0) and grad[0, 0] == -1.0
    # class indices and one-hot rows are the same target
    pred = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    v1, g1 = k(pred, np.array([1, 0]))
    v2, g2 = k(pred, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    assert v1 == v2 and np.array_equal(g1, g2)


def test_loss_kernel_rejects_mismatched_targets():
    k = symact.compile("mse")
    with pytest.raises(ValueError, match="does not match"):
        k(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="0 … 2"):
        symact.compile("cross_entropy")(np.full((2, 3), 1 / 3), np.array([0, 3]))


@pytest.mark.parametrize("name", sorted(STABLE_LOSS))
def test_stable_loss_is_proven_equal_to_the_definition(name):
    """Each branch of the stable form is proved equal to the definition on all of ℝ (so the cases need no
    proof of their own). Where the prover cannot take the logarithm apart, it proves exp(branch) = exp(definition):
    both sides are real, and exp is injective on ℝ."""
    fn = symact.loss(name)
    stable = stable_loss(fn)
    branches = [e for e, _ in stable.args] if isinstance(stable, sp.Piecewise) else [stable]
    for branch in branches:
        verdict = symact.prove(branch, fn.expr, timeout=20, suggest=False)
        if verdict.status != "proved":
            assert branch.is_extended_real and fn.expr.is_extended_real is not False
            verdict = symact.prove(sp.exp(branch), sp.exp(fn.expr), timeout=20, suggest=False)
        assert verdict.status == "proved", branch


@pytest.mark.parametrize("name", ["bce", "focal"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_and_focal_take_log_1_minus_p_without_rounding_1_minus_p(name, dtype):
    """At y = 0 the loss is −log(1 − ŷ)·ŷ^γ: with 1 − ŷ rounded first, ŷ below 2^-53 gave a loss of 0 (and focal's
    gradient a third of its value), and ŷ ≈ 0.013 in float32 was 14 ULP off. Each sample alone, against mpmath."""
    fn = symact.loss(name)
    yhat, y = fn.inputs[0], fn.targets[0]
    loss = fn.bind()
    value_of = sp.lambdify((yhat, y), loss, "mpmath")
    grad_of = sp.lambdify((yhat, y), sp.diff(loss, yhat), "mpmath")
    kernel = symact.compile(name, dtype=dtype)
    tiny = [1e-30, 1e-300] if dtype == "float64" else [1e-30]
    for p in [*tiny, 1e-10, 0.013329881243407726, 0.3, 0.9]:
        p = np.dtype(dtype).type(p)
        value, grad = kernel(np.array([p]), np.array([0.0]))
        with mpmath.workdps(700):  # 1 − ŷ at ŷ = 10^-300 needs 300 digits before it is not 1
            truth_value, truth_grad = value_of(mpmath.mpf(float(p)), 0), grad_of(mpmath.mpf(float(p)), 0)
            for got, truth in ((value, truth_value), (grad[0], truth_grad)):
                assert abs(mpmath.mpf(float(got)) - truth) <= 4 * float(np.spacing(np.dtype(dtype).type(truth))), p


@pytest.mark.parametrize("gamma", [0.3, 1.5])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_focal_gradient_with_hard_targets_is_accurate_for_any_gamma(gamma, dtype):
    """With y ∈ {0, 1} the gradient's terms have one sign: γ(1 − ŷ)^(γ−1)·log ŷ and −(1 − ŷ)^γ/ŷ at y = 1. The
    kernel once took the derivative as tidied for print, y·(3ŷ·log ŷ + 10ŷ − 10)/(10ŷ(1 − ŷ)^0.7) at γ = 0.3,
    whose 10ŷ − 10 cancels near ŷ = 1: 26 ULP (float64) and 22 (float32) off. Each sample alone, against mpmath."""
    fn = symact.loss("focal", gamma=gamma)
    yhat, y = fn.inputs[0], fn.targets[0]
    value_of, grad_of = (sp.lambdify((yhat, y), e, "mpmath") for e in (fn.bind(), sp.diff(fn.bind(), yhat)))
    kernel = symact.compile(fn, dtype=dtype)
    kind = np.dtype(dtype).type
    rng = np.random.default_rng(9)
    for p, t in zip(rng.uniform(0.02, 0.98, 200).astype(dtype), rng.choice([0.0, 1.0], 200).astype(dtype)):
        value, grad = kernel(np.array([p]), np.array([t]))
        with mpmath.workdps(50):
            args = mpmath.mpf(float(p)), mpmath.mpf(float(t))
            for got, truth in ((value, value_of(*args)), (grad[0], grad_of(*args))):
                assert abs(mpmath.mpf(float(got)) - truth) <= 4 * float(np.spacing(kind(abs(truth)))), (p, t)


@pytest.mark.parametrize("entry", [e for e in LOSSES if not e.vector], ids=ids([e for e in LOSSES if not e.vector]))
def test_loss_gradient_over_a_common_denominator_is_proven_equal_to_the_derived_one(entry):
    """Where ∂ℓ/∂ŷ is summed over a common denominator (Poisson, BCE), each case is proved equal to the same case
    of the gradient derived term by term; every other loss's gradient is left as derived."""
    from symact.compile.loss import _by_convention, over_common_denominator

    fn = symact.loss(entry.name)
    derived = sp.piecewise_fold(_by_convention(fn.bind(stable_loss(fn)), fn, fn.inputs[0], False))
    combined = over_common_denominator(derived, (fn.inputs[0], *fn.targets))
    if entry.name not in ("poisson_nll", "bce"):
        assert combined == derived
        return
    assert isinstance(combined, sp.Piecewise) and combined != derived
    for (got, cond), (want, want_cond) in zip(combined.args, derived.args, strict=True):
        assert cond == want_cond
        assert symact.prove(got, want, timeout=20, suggest=False).status == "proved", (got, want)


@pytest.mark.parametrize("name", ["poisson_nll", "bce"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_loss_gradients_do_not_cancel_where_the_prediction_meets_the_target(name, dtype):
    """Near ŷ = y, where training converges, Poisson's 1 − y/ŷ and BCE's −y/ŷ + (1 − y)/(1 − ŷ) summed as derived
    cancelled: 10^14 ULP at ŷ = y·(1 ± 10^-15) in float64, 10^7 in float32. Over a common denominator, ŷ − y is
    exact there. Soft BCE targets (label smoothing) and Poisson counts, each sample alone, against mpmath."""
    fn = symact.loss(name)
    yhat, y = fn.inputs[0], fn.targets[0]
    grad_of = sp.lambdify((yhat, y), sp.diff(fn.bind(), yhat), "mpmath")
    kernel = symact.compile(name, dtype=dtype)
    kind = np.dtype(dtype).type
    rng = np.random.default_rng(5)
    targets = rng.integers(1, 30, 40).astype(float) if name == "poisson_nll" else rng.uniform(0.01, 0.99, 40)
    offsets = 10.0 ** rng.uniform(-15 if dtype == "float64" else -7, -1, 40) * rng.choice([-1, 1], 40)
    for t, d in zip(targets.astype(dtype), offsets):
        p = kind(t * (1 + d))
        if p == t:
            continue
        _, grad = kernel(np.array([p]), np.array([t]))
        with mpmath.workdps(50):
            truth = grad_of(mpmath.mpf(float(p)), mpmath.mpf(float(t)))
            assert abs(mpmath.mpf(float(grad[0])) - truth) <= 4 * float(np.spacing(kind(abs(truth)))), (p, t)


def test_bce_with_logits_is_stable_for_huge_logits():
    value, grad = symact.compile("bce_with_logits", dtype="float32")(np.array([100.0, -100.0]), np.array([0.0, 1.0]))
    assert value == 100.0 and grad.tolist() == [0.5, -0.5]


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    value, grad = symact.compile("softmax_cross_entropy", dtype="float64")(np.array([[1000.0, 0.0]]), np.array([1]))
    assert value == 1000.0 and grad.tolist() == [[1.0, -1.0]]


@pytest.mark.parametrize(
    "name, pred, target, value, grad",
    [
        ("bce_with_logits", [np.inf, -np.inf], [1.0, 0.0], 0.0, [0.0, 0.0]),  # ŷ(1 − y) and −yŷ were inf·0
        ("bce_with_logits", [np.inf, -np.inf], [0.0, 1.0], np.inf, [0.5, -0.5]),
        ("softmax_cross_entropy", [[-np.inf, 1.0, 0.0]], [[0.0, 1.0, 0.0]], None, None),  # 0·log 0 at z = −∞
        ("softmax_cross_entropy", [[np.inf, 1.0, 0.0]], [[1.0, 0.0, 0.0]], 0.0, [[0.0, 0.0, 0.0]]),
        ("softmax_cross_entropy", [[np.inf, 1.0, 0.0]], [[0.0, 1.0, 0.0]], np.inf, [[1.0, -1.0, 0.0]]),
        ("poisson_nll", [np.inf, np.inf], [0.5, 0.0], np.inf, [0.5, 0.5]),  # ŷ − y log ŷ was inf − inf = NaN
        ("focal", [0.0, 1.0], [0.5, 0.5], np.inf, [-np.inf, np.inf]),  # the gradient's 0·log 0 and ∞ − ∞ were NaN
        # max(0, 1 − yŷ) → −∞·sign(y) for every y, NaN at y = 0, where the limit is 1: taken at that y alone
        ("hinge", [np.inf, -np.inf], [0.0, 0.0], 1.0, [0.0, 0.0]),
        ("squared_hinge", [np.inf, -np.inf, np.inf], [0.0, 0.0, 1.0], 2 / 3, [0.0, 0.0, 0.0]),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_losses_at_infinite_predictions_give_their_limits(name, pred, target, value, grad, dtype):
    """±inf gives the limits, for losses too, and so do the ends of a loss's domain (focal loss at ŷ = 0 and 1;
    in float32 it was NaN, the side's probe 1 − 10⁻⁹ rounded to 1). Where none is written, it is the limit as the
    −∞ logit falls: the loss and gradient of the same row with that class left out."""
    k = symact.compile(name, dtype=dtype)
    v, g = k(np.array(pred), np.array(target))
    if value is None:
        value, grad = k(np.array([pred[0][1:]]), np.array([target[0][1:]]))
        grad = [[0.0, *grad[0]]]
    rtol = 0 if dtype == "float64" else 2**-21  # float32: the row without the class is another sum, within 4 ULP
    np.testing.assert_allclose([v, k.value(np.array(pred), np.array(target))], [value, value], rtol=rtol)
    np.testing.assert_allclose(g, grad, rtol=rtol)


@pytest.mark.parametrize("name", ["bce", "focal", "poisson_nll"])
def test_losses_outside_their_domain_at_infinite_predictions_stay_nan(name):
    """A limit at ŷ = ±∞ only where that is an end of the loss's domain: BCE and focal at ŷ = +∞ (log(1 − ŷ))
    and Poisson at −∞ (log ŷ) stay NaN, where SymPy's limit would give a real number."""
    k = symact.compile(name, dtype="float64")
    pred = np.array([-np.inf if name == "poisson_nll" else np.inf])
    assert np.isnan(k(pred, np.array([0.5]))[0])


def _term_and_domain(name):
    """The per-element loss (a categorical loss's one-class term) and its prediction domain."""
    from symact.compile.loss import prediction_domain
    from symact.fn import Fn

    fn = symact.loss(name)
    term = Fn(fn.entry, size=1) if fn.vector else fn
    return term, prediction_domain(term)


BOUNDED = [e for e in LOSSES if e.name != "softmax_cross_entropy" and _term_and_domain(e.name)[1] != sp.S.Reals]


def test_the_prediction_domains_are_the_definitions():
    """Where a loss is real in ŷ (for a positive target), with its ends: found by SymPy, KL's y·log(y/ŷ) with the
    target's log taken apart."""
    found = {e.name: _term_and_domain(e.name)[1] for e in BOUNDED}
    assert found == {
        "bce": sp.Interval(0, 1),
        "focal": sp.Interval(0, 1),
        "cross_entropy": sp.Interval(0, sp.oo),
        "kl_div": sp.Interval(0, sp.oo),
        "poisson_nll": sp.Interval(0, sp.oo),
    }


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry", BOUNDED, ids=ids(BOUNDED))
def test_a_prediction_outside_the_domain_gives_nan(entry, dtype):
    """BCE at ŷ = 1.9, y = 1 was −log 1.9 < 0 (the 0·log 0 convention drops (1 − y)·log(1 − ŷ)), with a finite
    gradient; at ŷ = 1.5, y = 0.5 the loss was NaN and the gradient −0.22; cross-entropy at ŷ = (−0.5, 1.5),
    y = (0, 1) was −0.41. Outside its domain a loss has no value: NaN for that element, for every target."""
    _, domain = _term_and_domain(entry.name)
    (tlo, thi), k = entry.domain[1], symact.compile(entry.name, dtype=dtype)
    outside = [float(end) + step for end, step in ((domain.inf, -0.5), (domain.sup, 0.5)) if end.is_finite]
    inside = (float(domain.inf) + min(float(domain.sup), float(domain.inf) + 2)) / 2
    for y in (tlo, (tlo + thi) / 2, thi):
        for p in outside:
            pred, target = np.array([[p, inside]]), np.array([[y, y]])
            value, grad = k(pred, target)
            assert np.isnan(value) and np.isnan(grad[0, 0]) and np.isfinite(grad[0, 1]), (p, y, value, grad)
            per, g = k.elementwise(pred, target)
            assert np.isnan(per[0, 0]) and np.isnan(g[0, 0]) and np.isfinite(per[0, 1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry", BOUNDED, ids=ids(BOUNDED))
def test_an_infinite_gradient_at_an_end_of_the_domain_has_its_limits_sign(entry, dtype):
    """BCE's gradient at ŷ = 1, y = 0 was −∞: SymPy's common subexpressions wrote (1 − y)/(1 − ŷ) as
    (y − 1)·1/(ŷ − 1), −1/(+0) there. The loss −log(1 − ŷ) rises to +∞, and so does its slope: the sign at an
    end is the sign just inside it."""
    _, domain = _term_and_domain(entry.name)
    (tlo, thi), k = entry.domain[1], symact.compile(entry.name, dtype=dtype)
    ends = [(float(end), step) for end, step in ((domain.inf, 1e-3), (domain.sup, -1e-3)) if end.is_finite]
    seen = 0
    for end, step in ends:
        for y in (tlo, (tlo + thi) / 2, thi):
            _, g = k.elementwise(np.array([[end, end + step]]), np.array([[y, y]]))
            if np.isinf(g[0, 0]):
                seen += 1
                assert np.sign(g[0, 0]) == np.sign(g[0, 1]), (end, y, g)
    assert seen


def test_bce_gradient_at_the_ends():
    """The four infinite slopes of BCE, and the finite ones where the target matches the end."""
    k = symact.compile("bce", dtype="float64")
    _, grad = k.elementwise(np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.5, 0.5, 0.0, 1.0]))
    np.testing.assert_array_equal(grad, [np.inf, -np.inf, np.inf, -np.inf, 1.0, -1.0])


@pytest.mark.parametrize(
    "text, value, grad",
    [
        # CSE shares 1 − ŷ as −(ŷ − 1), and the gradient y/(1 − ŷ) was y/(−0) = −∞ at ŷ = 1
        ("(yhat - 1)**2*log(yhat) - y*log(1 - yhat)", np.inf, np.inf),
        # a pole inside the domain: +∞ from the left, −∞ from the right, so no limit (was −∞); f′ → +∞ on both
        ("(1 - y)*yhat**2/(1 - yhat) + (yhat - 1)**2", np.nan, np.inf),
    ],
)
def test_an_infinite_value_at_a_finite_prediction_has_the_sign_of_its_limit(text, value, grad):
    fn = symact.define("signed_pole", text, kind="loss")
    per, g = symact.compile(fn, dtype="float64").elementwise(np.array([1.0]), np.array([0.5]))
    np.testing.assert_array_equal([per[0], g[0]], [value, grad])


@pytest.mark.parametrize(
    "call, message",
    [
        # was "Kernel.__call__() got an unexpected keyword argument 'alpha'"
        (lambda: symact.compile("prelu")(np.array([-1.0]), alpha=0.1), "compile with learn=('alpha',)"),
        # was "a parameter value must be a number, got ndarray"
        (lambda: symact.compile("prelu", alpha=np.array([0.1, 0.2])), "compile with learn=('alpha',)"),
        (
            lambda: symact.compile("huber")(np.array([1.0]), np.array([0.0]), delta=2.0),
            "symact.compile('huber', delta=…)",
        ),
        (lambda: symact.compile("huber", delta=np.array([1.0, 2.0])), "symact.compile('huber', delta=…))"),
        (lambda: symact.compile("softmax")(np.array([1.0, 2.0]), beta=2.0), "fixed when it is compiled"),
        (lambda: symact.compile("huber", learn=("delta",)), "learn= takes an elementwise activation's parameters"),
    ],
)
def test_parameters_in_the_wrong_place_say_where_they_belong(call, message):
    """learn= on a loss was ignored; parameters given to a call, or as arrays to compile, were Python's own
    TypeErrors, which did not say where they go."""
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        call()


def test_limits_at_infinite_predictions_leave_the_finite_entries_alone():
    """The limits are taken again only at ±∞ (the where per term costs 40% on every call otherwise): in a
    batch that mixes them, the finite entries keep the values of a batch without the infinite ones."""
    k = symact.compile("bce_with_logits", dtype="float64")
    pred, target = np.array([[np.inf, 0.5], [-np.inf, 2.0]]), np.array([[1.0, 0.3], [0.0, 0.9]])
    value, grad = k(pred, target)
    finite_value, finite_grad = k(pred[:, 1], target[:, 1])
    assert value == finite_value / 2 and np.array_equal(grad[:, 1], finite_grad / 2)
    assert np.array_equal(grad[:, 0], [0.0, 0.0])


@pytest.mark.parametrize("dtype, scale", [("float64", 2.0**600), ("float64", 2.0**-600), ("float32", 2.0**80)])
def test_rmse_takes_its_root_without_overflow_or_underflow(dtype, scale):
    """RMSE's squares overflow past |ŷ − y| ≈ 1.3e154 (float32 1.8e19), and sink into the subnormals below the
    reciprocal: RMSE of [3, −4]·2^600 was +inf with gradient 0. Scaled by a power of 2, RMSE scales with it and
    its gradient not at all."""
    k = symact.compile("rmse", dtype=dtype)
    pred, target = np.array([3.0, -4.0, 1.0]), np.array([0.0, 0.0, 1.0])
    value, grad = k(pred, target)
    big, big_grad = k(pred * scale, target * scale)
    assert big == value * scale and np.array_equal(big_grad, grad)
    with np.errstate(over="ignore"):
        v, g = k(np.array([np.inf, 1.0]), np.array([0.0, 0.0]))  # one residual infinite: the limits as it grows
    assert v == np.inf and g.tolist() == [np.float32(0.5**0.5) if dtype == "float32" else 0.5**0.5, 0.0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rmse_at_a_perfect_fit_is_0_with_gradient_0(dtype):
    """Every residual 0 is RMSE's kink, where the derivative is taken as 0 (as at ŷ = y = 0). Away from 0 the
    inputs were rescaled first, and the gradient was 0/0 = NaN there: a perfect fit gave NaN weights."""
    k = symact.compile("rmse", dtype=dtype)
    for pred in (np.array([1.0, -2.0, 0.5]), np.zeros(3), np.array([2.0**600 if dtype == "float64" else 2.0**100])):
        value, grad = k(pred, pred.copy())
        assert value == 0 and grad.dtype == np.dtype(dtype) and np.array_equal(grad, np.zeros_like(grad))


#: The limits of each vector activation at a row with one +∞ entry, as that entry grows: one-hot.
LONE_INFINITY_LIMITS = {
    "softmax": [1.0, 0.0, 0.0],
    "log_softmax": [0.0, -np.inf, -np.inf],
    "sparsemax": [1.0, 0.0, 0.0],
}


@pytest.mark.parametrize("entry", VECTOR_ACTIVATIONS, ids=ids(VECTOR_ACTIVATIONS))
def test_vector_kernels_at_one_infinite_entry_give_the_limits(entry):
    """±inf gives the limits, as for sigmoid(+∞) = 1: a row [+∞, 1, 0] is its limit as the first entry grows
    (it was NaN there: inf − inf in the shift), and so is its vjp, the derived Jacobian's limit applied to g.
    Two +∞ entries have no limit (it depends on how they grow): NaN there."""
    k = symact.compile(entry.name, dtype="float64")
    x = np.array([[np.inf, 1.0, 0.0], [0.0, np.inf, -np.inf], [np.inf, np.inf, 0.0]])
    g = np.array([[1.0, 2.0, 3.0]] * 3)
    y = k(x)
    assert y[0].tolist() == LONE_INFINITY_LIMITS[entry.name]
    assert y[1].tolist() == [LONE_INFINITY_LIMITS[entry.name][i] for i in (1, 0, 2)]
    assert np.isnan(y[2, :2]).all()
    fn = symact.activation(entry.name, size=3)
    a = sp.Symbol("a", positive=True)
    at_row = fn.jacobian().subs(dict(zip(fn.inputs, (a, 1, 0))))  # the derived Jacobian at [a, 1, 0]
    jacobian = at_row.applyfunc(lambda e: limit_at(e, a, sp.oo))
    assert k.vjp(x, g)[0].tolist() == [float(v) for v in sp.Matrix([[1, 2, 3]]) * jacobian]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vector_and_cross_entropy_kernels_work_in_their_own_arrays_not_the_callers(dtype):
    """softmax, log_softmax and softmax cross-entropy finish in place (in the arrays of their shift and exp, one
    exp for both in the loss): the caller's logits, targets and g are left as they were, and the values are
    those of the separate functions."""
    rng = np.random.default_rng(2)
    z = (rng.standard_normal((64, 7)) * 4).astype(dtype)
    z[0, 3], z[1, 2] = np.inf, -np.inf
    y = np.eye(7, dtype=dtype)[rng.integers(0, 7, 64)]
    g = rng.standard_normal((64, 7)).astype(dtype)
    before = [a.copy() for a in (z, y, g)]
    softmax, log_softmax = symact.compile("softmax", dtype=dtype), symact.compile("log_softmax", dtype=dtype)
    s, ls = softmax(z), log_softmax(z)
    softmax.vjp(z, g), log_softmax.vjp(z, g)
    value, grad = symact.compile("softmax_cross_entropy", dtype=dtype)(z, y)
    for a, b in zip((z, y, g), before):
        np.testing.assert_array_equal(a, b)
    with np.errstate(invalid="ignore"):  # 0·(−∞) where y = 0: the term is 0 by the convention
        assert np.isclose(value, -np.sum(np.where(y == 0, 0, y * ls)) / 64)
    np.testing.assert_array_equal(grad, (s * y.sum(axis=1, keepdims=True) - y) / np.dtype(dtype).type(64))


@pytest.mark.parametrize("entry", VECTOR_ACTIVATIONS, ids=ids(VECTOR_ACTIVATIONS))
def test_vector_kernels_are_shift_invariant_up_to_the_float_range(entry):
    """f(x) = f(x − c): rows near the float's top give the values of the same rows shifted down, exactly
    (sparsemax's cumulative sums once overflowed: [1e308, 1e308, −1e308] gave [0, 0, 0])."""
    k = symact.compile(entry.name, dtype="float64")
    huge = np.array([[1e308, 1e308, -1e308], [1e308, -1e308, 0.0], [1.7e308, 1.7e308 - 2**971, 0.0]])
    with np.errstate(over="ignore"):
        shifted = huge - huge.max(axis=1, keepdims=True)  # −1e308 − 1e308 = −inf: its exp and share are 0
    np.testing.assert_array_equal(k(huge), k(shifted))
    np.testing.assert_array_equal(k.vjp(huge, np.ones_like(huge)), k.vjp(shifted, np.ones_like(huge)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_is_accurate_in_every_entry_including_the_maximum(dtype):
    """Every entry within 4 ULP of log_softmax at 50 digits, the row's maximum too: with one maximum and the rest
    of Σe below 1, log Σe is log1p of the rest, where log(fl(1 + rest)) lost it (float32 x = [0, −20] gave 0 for
    −2.06e-9, float64 [0, −40] 0 for −4.3e-18)."""
    k = symact.compile("log_softmax", dtype=dtype)
    rows = np.concatenate([RNG.normal(0, s, (60, 6)) for s in (1, 8, 30)]).astype(dtype)
    rows[:4] = [
        [0, -20, -21, -22, -30, -40],
        [0, -40, -45, -50, -60, -70],
        [5, 5, -3, -9, 1, 2],
        [104, -43, 1.8, 0, -74, -14],
    ]
    got = k(rows)
    tiny = np.finfo(dtype).tiny
    for row, values in zip(rows, got):
        want = np.array(log_softmax_reference(row))
        normal = np.abs(want) >= tiny
        ulps = np.abs(values.astype(float) - want)[normal] / np.spacing(np.abs(want[normal]).astype(dtype))
        assert ulps.max() <= 4, (row, values, want)


def _confident_batches(dtype, rng):
    """(name, logits, targets): single rows, and batches whose every row is confident, from N(0, s²) logits with
    the target on the max (one-hot) or mostly there (soft); and a batch with one row of loss O(1)."""
    for s in (5, 15, 30, 60):
        for rows, soft in [(1, False)] * 20 + [(1, True), (40, False), (40, True)]:
            z = (rng.standard_normal((rows, 8)) * s).astype(dtype)
            y = np.full_like(z, 1e-3 if soft else 0)
            y[np.arange(rows), np.argmax(z, 1)] = 1
            yield f"s={s}, {rows} rows{', soft' if soft else ''}", z, y / y.sum(axis=1, keepdims=True)
    z = (rng.standard_normal((40, 8)) * 30).astype(dtype)
    y = np.eye(8, dtype=dtype)[np.argmax(z, 1)]
    y[0] = np.eye(8, dtype=dtype)[np.argmin(z[0])]
    yield "one row of large loss", z, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_value_is_accurate_on_confident_rows(dtype):
    """Within 3 ULP of the mean loss at 50 digits. A confident row's loss is log1p(S) ≈ S, S = Σ e^(z − max z)
    less the max's 1, and summed from rounded z − max z it was off by up to half the gap to the next logit, in
    ULP (single rows: 41 ULP in float32 and 22 in float64). The kernel sums S again with z exact where its
    bound asks for it (confident batches), both in the call and in value()."""
    k = symact.compile("softmax_cross_entropy", dtype=dtype)
    rng = np.random.default_rng(3)
    for name, z, y in _confident_batches(dtype, rng):
        with mpmath.workdps(50):
            want = sum(cross_entropy_reference(r, t) for r, t in zip(z, y)) / len(z)
        for got in (k(z, y)[0], k.value(z, y)):
            ulps = abs(got - float(want)) / np.spacing(np.array(abs(float(want)), dtype))
            assert ulps <= 3, (name, got, float(want), ulps)


@pytest.mark.parametrize("entry", VECTOR_ACTIVATIONS, ids=ids(VECTOR_ACTIVATIONS))
def test_vector_kernel_and_vjp_match_the_derived_jacobian(entry):
    # sparsemax's derived Jacobian at n = 4 (15 subsets in its Max) took 50 s here; at n = 3, under 1 s. Its
    # closed form is proved at n = 2 to 4 on its theorem sheet.
    n = 3 if entry.name == "sparsemax" else 4
    fn = symact.activation(entry.name, size=n)
    k = symact.compile(fn, dtype="float64")
    f = mp_function(fn.inputs, fn.expr)
    J = mp_function(fn.inputs, fn.jacobian())
    x = RNG.normal(0, 2, (5, n))
    g = RNG.normal(0, 1, (5, n))
    y, v = k(x), k.vjp(x, g)
    for row in range(5):
        _close(y[row], np.array(f(*x[row]).tolist(), dtype=float).ravel())
        _close(v[row], g[row] @ np.array(J(*x[row]).tolist(), dtype=float))
    # along axis 0 it is the same computation transposed
    _close(k(x.T, axis=0), y.T)
    _close(k.vjp(x.T, g.T, axis=0), v.T)


def test_sparsemax_vjp_is_the_proved_closed_form_on_long_rows():
    """Rows of 12: gᵀJ with J = diag(m) − m mᵀ/|S|, m = [p > 0], the form its theorem sheet proves."""
    k = symact.compile("sparsemax", dtype="float64")
    x, g = RNG.normal(0, 2, (20, 12)), RNG.normal(0, 1, (20, 12))
    p, v = k(x), k.vjp(x, g)
    for row in range(20):
        m = (p[row] > 0).astype(float)
        _close(v[row], g[row] @ (np.diag(m) - np.outer(m, m) / m.sum()))


@pytest.mark.parametrize("entry", VECTOR_ACTIVATIONS, ids=ids(VECTOR_ACTIVATIONS))
def test_vector_kernel_edges(entry):
    """NaN anywhere in a row makes the whole row NaN (every output depends on every input: sparsemax's sort
    once dropped the NaN from τ's sum, and its other entries came out finite); an empty axis gives an empty
    result; a 0-d x or an axis out of range is a clear error, not NumPy's reduction error."""
    k = symact.compile(entry.name, dtype="float64")
    x = np.array([[np.nan, 1.0, 0.5], [0.2, 1.0, 0.5]])
    y, v = k(x), k.vjp(x, np.ones_like(x))
    assert np.isnan(y[0]).all() and np.isnan(v[0]).all() and np.isfinite(y[1]).all()
    assert k(np.zeros((2, 0))).shape == (2, 0) and k.vjp(np.zeros(0), np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError, match="at least one dimension"):
        k(1.0)
    with pytest.raises(np.exceptions.AxisError):
        k.vjp(x, x, axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        k(x, axis=(0, 1))


@pytest.mark.parametrize("entry", LEARNABLE, ids=ids(LEARNABLE))
def test_parameter_kernel_matches_the_derived_parameter_derivatives(entry):
    fn = symact.activation(entry.name)
    learn = tuple(p.name for p in entry.params if p.learnable)
    k = symact.compile(fn, learn=learn, dtype="float64")
    x = RNG.uniform(-4, 4, (7, 3))
    theta = {p.name: float(p.default) + RNG.uniform(-0.05, 0.05, 3) for p in entry.params if p.learnable}
    y, dy, dtheta = k(x, **theta)
    syms = (fn.inputs[0], *(fn.param(n) for n in learn))
    checks = [(y, fn.expr), (dy, fn.derivative())] + [(dtheta[n], fn.derivative(wrt=n)) for n in learn]
    for got, expr in checks:
        ref = mp_function(syms, expr)
        want = [[float(ref(x[i, j], *(theta[n][j] for n in learn))) for j in range(3)] for i in range(7)]
        _close(got, want)


@pytest.mark.parametrize("entry", LEARNABLE, ids=ids(LEARNABLE))
def test_parameter_kernel_nan_in_gives_nan_out(entry):
    """NaN in x is NaN in f, f' and every ∂f/∂θ, and only there (PReLU's and APLU's kinks once chose a branch
    for NaN: a finite f', and APLU's ∂f/∂b finite too)."""
    learn = tuple(p.name for p in entry.params if p.learnable)
    k = symact.compile(entry.name, learn=learn, dtype="float32")
    x = np.array([[np.nan, 1.5, -0.5], [-2.0, np.nan, 0.25]])
    theta = {p.name: np.full(3, float(p.default)) for p in entry.params if p.learnable}
    y, dy, dtheta = k(x, **theta)
    for out in (y, dy, *dtheta.values()):
        assert out.shape == x.shape and out.dtype == np.float32
        np.testing.assert_array_equal(np.isnan(out), np.isnan(x))


@pytest.mark.parametrize("entry", LEARNABLE, ids=ids(LEARNABLE))
def test_parameter_kernel_at_infinities_gives_the_limits_and_no_warning(entry):
    """At ±inf (and huge finite x) no RuntimeWarning (pytest makes them errors): the NaN check's sum of +inf and
    −inf, or of huge values, once warned. f and f' there are the plain kernel's, the limits."""
    learn = tuple(p.name for p in entry.params if p.learnable)
    k = symact.compile(entry.name, learn=learn, dtype="float64")
    x = np.array([-np.inf, np.inf, -1e308, 1e308])
    theta = {p.name: np.full(4, float(p.default)) for p in entry.params if p.learnable}
    y, dy, _ = k(x, **theta)
    want_y, want_dy = symact.compile(entry.name, backend="numpy", dtype="float64")(x)
    np.testing.assert_allclose(y, want_y, rtol=1e-15)  # APLU's f'(−∞) = −0.3 is a sum of parameters: an ULP apart
    np.testing.assert_allclose(dy, want_dy, rtol=1e-15)


def test_generated_functions_in_blocks_give_the_values_of_one_call():
    """Loss and parameter kernels evaluate large inputs in blocks of leading rows (symact.compile.numpy.in_blocks):
    every element of every output, across block edges and in the ragged last block, with inf and NaN on the
    edges, is that of one call over the whole input; arguments that broadcast (a scalar, a row, a leading
    axis of one) are passed whole, and inputs with too few rows to split are not split."""
    from symact.compile.numpy import CHUNK

    rows = 2 * CHUNK + 7
    pred = np.linspace(-3, 3, rows)
    pred[[0, CHUNK, CHUNK + 1, -1]] = [np.inf, np.nan, -np.inf, 0.0]
    target = np.linspace(0, 1, rows)
    loss = symact.compile("log_cosh", dtype="float64")._term
    whole = loss.__wrapped__(pred, target)
    for got, want in zip(loss(pred, target), whole):
        assert np.array_equal(got, want, equal_nan=True)
    prelu = symact.compile("prelu", learn=("alpha",), dtype="float64")._fn
    x = np.linspace(-2, 2, 3 * rows).reshape(rows, 3)
    x[CHUNK // 3, 1] = np.nan
    for alpha in (0.25, np.array([0.1, 0.2, 0.3]), np.full((1, 3), 0.2), np.linspace(0, 1, rows)[:, None]):
        want = prelu.__wrapped__(x, alpha)
        got = prelu(x, alpha)
        assert all(g.shape == x.shape and np.array_equal(g, w, equal_nan=True) for g, w in zip(got, want))
    wide = np.linspace(-2, 2, 2 * (CHUNK + 1)).reshape(2, CHUNK + 1)  # more than CHUNK a row: one call
    assert all(np.array_equal(g, w) for g, w in zip(prelu(wide, 0.25), prelu.__wrapped__(wide, 0.25)))


def test_parameter_kernel_wants_exactly_its_parameters():
    k = symact.compile("prelu", learn=("alpha",))
    with pytest.raises(TypeError, match="alpha"):
        k(np.zeros(2))
    with pytest.raises(ValueError, match="no parameter"):
        symact.compile("prelu", learn=("beta",))
    with pytest.raises(ValueError, match="only the numpy backend"):
        symact.compile("mse", backend="c")


def test_zero_target_terms_keep_the_definition_where_the_factor_is_nonzero():
    from symact.compile.loss import target_terms

    fn = symact.loss("bce")
    terms = target_terms(fn.expr, fn.targets)
    assert sp.simplify(sum(t for _, t in terms) - fn.expr) == 0
    assert {c for c, _ in terms} == {fn.targets[0], 1 - fn.targets[0]}


@pytest.mark.parametrize(
    "call",
    [
        lambda: symact.compile("sigmoid", backend="numpy")(np.array([1 + 2j])),
        lambda: symact.compile("prelu", learn=("alpha",))(np.ones(2), alpha=np.array([0.1 + 1j, 0.2])),
        lambda: symact.compile("softmax")(np.array([1j, 2.0])),
        lambda: symact.compile("softmax").vjp(np.ones(2), np.array([1j, 2.0])),
        lambda: symact.compile("mse")(np.array([1j]), np.array([0.0])),
        lambda: symact.compile("mse")(np.array([1.0]), np.array([1j])),
    ],
    ids=["kernel", "parameter", "vector", "vjp", "loss-pred", "loss-target"],
)
def test_complex_input_is_a_type_error(call):
    """Every kernel is a real function: NumPy's conversion would warn (ComplexWarning) and drop the imaginary
    part, and the kernel would answer for another input."""
    with pytest.raises(TypeError, match="real input"):
        call()


@pytest.mark.parametrize(
    "name, params",
    [("softplus", {"beta": -2}), ("softplus", {"beta": 0}), ("celu", {"alpha": 0}), ("selu", {"lamda": -1})],
)
def test_parameters_outside_their_declared_sign_are_refused(name, params):
    """softplus's β, SELU's λ and CELU's α are declared positive, and the stable forms rely on it (SymPy takes
    |βx| as β|x|): SiLU's β, declared so until now, gave SiLU with β = 1.3 for β = −1.3, and CELU with α = 0
    failed to print 1/0."""
    with pytest.raises(ValueError, match="must be > 0"):
        symact.activation(name, **params)
    with pytest.raises(ValueError, match="must be > 0"):
        symact.compile(name, **params)


def test_learnable_parameters_outside_their_declared_sign_are_refused_at_run_time():
    k = symact.compile("softplus", dtype="float64", learn=("beta",))
    x = np.array([1.0, -1.0])
    with pytest.raises(ValueError, match=r"beta must be > 0, got -1.3 \(1 of 2 values\)"):
        k(x, beta=np.array([-1.3, 0.5]))
    y, _, _ = k(x, beta=np.array([np.nan, 0.5]))  # NaN passes through, as NaN in x does
    assert np.isnan(y[0]) and y[1] == pytest.approx(np.log1p(np.exp(-0.5)) / 0.5)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("beta", [-1.3, -0.3, 0.0])
def test_swish_takes_a_beta_of_either_sign(beta, backend):
    """Swish's β is learnable, and training drives some units' β below 0 (in the XOR and moons tests), so it is
    declared real: with β declared positive, SymPy took |βx| as β|x|, and β = −1.3 computed SiLU with β = 1.3."""
    fn = symact.activation("silu", beta=beta)
    for dtype in ("float64", "float32"):
        y, dy = symact.compile(fn, backend=backend, dtype=dtype)(SWISH_POINTS.astype(dtype))
        truth_y, truth_dy = _swish_truth(beta, dtype)
        assert ulp_error(y, truth_y, np.dtype(dtype).type) <= 4
        assert ulp_error(dy, truth_dy, np.dtype(dtype).type) <= 4
    # a learnable β is an array of doubles: the truth is the function of the double nearest −1.3
    truth_y, truth_dy = _swish_truth(sp.Rational(beta), "float64")
    learn = symact.compile("silu", dtype="float64", learn=("beta",))
    y, dy, _ = learn(SWISH_POINTS, beta=np.full(SWISH_POINTS.size, beta))
    assert ulp_error(y, truth_y, np.float64) <= 4 and ulp_error(dy, truth_dy, np.float64) <= 4


SWISH_POINTS = np.r_[np.linspace(-5, 5, 201), -700.0, 700.0, 1e4, -1e4]


@functools.cache
def _swish_truth(beta, dtype: str):
    """SiLU's truth at SWISH_POINTS rounded to ``dtype``, once for every backend."""
    return reference(symact.activation("silu", beta=beta), SWISH_POINTS.astype(dtype).astype(np.float64))


def test_a_user_parameter_that_divides_by_zero_is_refused():
    with pytest.raises(ValueError, match="not defined at a = 0"):
        symact.custom("x/a + x", params={"a": 0})
    with pytest.raises(ValueError, match="not defined at a = 0"):
        symact.custom("log(a)*x + x", params={"a": 0})


@pytest.mark.parametrize("value", [float("inf"), -float("inf"), float("nan")])
def test_parameter_values_must_be_finite(value):
    """β = inf made SiLU x·σ(∞·x), and NaN a NaN function."""
    with pytest.raises(ValueError, match="must be finite"):
        symact.activation("silu", beta=value)
    with pytest.raises(ValueError, match="must be finite"):
        symact.custom("x*a", params={"a": value})

"""Loss functions, each defined once as a per-sample SymPy expression.

A loss is a function of the prediction ``yhat`` and the target ``y`` (vectors
``yhat_1 … yhat_n`` and ``y_1 … y_n`` for categorical losses). The cost is
the mean of the per-sample losses over a batch (RMSE: the square root of
that mean). ``output_activation`` names the activation whose logits turn the
gradient into ŷ − y; the prover checks every such claim.
"""

from __future__ import annotations

import sympy as sp

from ..functions import sigmoid
from .registry import Definition, Entry, Param, real, register, vector

yhat = real("yhat")
y = real("y")
r = yhat - y
delta = real("delta", positive=True)
beta = real("beta", positive=True)
gamma = real("gamma", nonnegative=True)
var = real("var", positive=True)


def scalar(expr: sp.Expr) -> callable:
    return lambda _size: Definition((yhat,), expr, (y,))


def categorical(per_class) -> callable:
    """A loss summed over n classes: per_class(ŷₖ, yₖ) summed over k."""

    def build(n: int) -> Definition:
        p, t = vector("yhat", n), vector("y", n)
        return Definition(p, sum(per_class(pk, tk) for pk, tk in zip(p, t)), t)

    return build


REGRESSION = ((-3.0, 3.0), (-3.0, 3.0))


def one_hot(targets: tuple[sp.Symbol, ...]) -> list[sp.Eq]:
    return [sp.Eq(sum(targets), 1)]


register(
    Entry(
        name="mse",
        kind="loss",
        domain=REGRESSION,
        build=scalar(r**2),
        output_activation="identity",
        latex_name=r"\operatorname{MSE}",
        description="Mean squared error (ŷ − y)².",
        reference="Gauss (1809), Theoria motus corporum coelestium; least squares",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="rmse",
        kind="loss",
        domain=REGRESSION,
        build=scalar(r**2),
        reduction="sqrt_mean",
        output_activation="identity",
        latex_name=r"\operatorname{RMSE}",
        description="Root mean squared error √(mean (ŷ − y)²), in the target's units.",
        reference="https://en.wikipedia.org/wiki/Root_mean_square_deviation",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C0 (at zero error)", "convex": True},
    )
)

register(
    Entry(
        name="mae",
        kind="loss",
        domain=REGRESSION,
        aliases=("l1",),
        build=scalar(sp.Abs(r)),
        output_activation="identity",
        latex_name=r"\operatorname{MAE}",
        description="Mean absolute error |ŷ − y|: robust to outliers.",
        reference="Laplace (1774); least absolute deviations",
        kinks={sp.S.Zero: sp.S.Zero},
        kink_convention="d|r|/dr = sign(r), 0 at r = 0, as in PyTorch",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C0", "convex": True},
    )
)

register(
    Entry(
        name="huber",
        kind="loss",
        domain=REGRESSION,
        output_activation="identity",
        build=scalar(sp.Piecewise((r**2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True))),
        params=(Param(delta, sp.S.One, "width of the quadratic zone"),),
        latex_name=r"\operatorname{Huber}_\delta",
        description="Quadratic for |ŷ − y| ≤ δ, linear beyond.",
        reference="Huber (1964), Robust estimation of a location parameter, Ann. Math. Statist. 35(1)",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C1", "convex": True},
    )
)

register(
    Entry(
        name="smooth_l1",
        kind="loss",
        domain=REGRESSION,
        output_activation="identity",
        build=scalar(sp.Piecewise((r**2 / (2 * beta), sp.Abs(r) < beta), (sp.Abs(r) - beta / 2, True))),
        params=(Param(beta, sp.S.One, "width of the quadratic zone"),),
        latex_name=r"\operatorname{SmoothL1}_\beta",
        description="Huber divided by β: r²/(2β) near 0, |r| − β/2 beyond.",
        reference="Girshick (2015), Fast R-CNN, arXiv:1504.08083",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C1", "convex": True},
    )
)

register(
    Entry(
        name="log_cosh",
        kind="loss",
        domain=REGRESSION,
        build=scalar(sp.log(sp.cosh(r))),
        output_activation="identity",
        latex_name=r"\log\cosh",
        description="log cosh(ŷ − y): r²/2 near 0, |r| − log 2 far out.",
        reference="https://keras.io/api/losses/regression_losses/#logcosh-function",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

_bce = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))

register(
    Entry(
        name="bce",
        kind="loss",
        domain=((0.02, 0.98), (0.0, 1.0)),
        aliases=("binary_crossentropy", "log_loss"),
        build=scalar(_bce),
        output_activation="sigmoid",
        target_encoding="y ∈ {0, 1} (or a probability), ŷ ∈ (0, 1)",
        latex_name=r"\operatorname{BCE}",
        description="Binary cross-entropy −[y log ŷ + (1 − y) log(1 − ŷ)] on probabilities.",
        reference="Cox (1958), The regression analysis of binary sequences, JRSS B 20(2)",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="bce_with_logits",
        kind="loss",
        domain=((-6.0, 6.0), (0.0, 1.0)),
        aliases=("binary_crossentropy_with_logits",),
        build=scalar(_bce.subs(yhat, sigmoid(yhat))),
        output_activation="identity",
        target_encoding="y ∈ {0, 1} (or a probability), ŷ a logit",
        latex_name=r"\operatorname{BCE}_{\mathrm{logits}}",
        description="BCE on a logit: bce(σ(ŷ), y), stable as softplus(ŷ) − yŷ.",
        reference="https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="cross_entropy",
        kind="loss",
        domain=((0.02, 1.0), (0.0, 1.0)),
        vector=True,
        aliases=("categorical_crossentropy",),
        build=categorical(lambda p, t: -t * sp.log(p)),
        output_activation="softmax",
        target_constraints=one_hot,
        target_encoding="one-hot rows (Σ y = 1) or class indices c, where the loss is −log ŷ_c",
        latex_name=r"\operatorname{CE}",
        description="Categorical cross-entropy −Σₖ yₖ log ŷₖ on probabilities.",
        reference="Shannon (1948); Bishop (2006), Pattern Recognition and Machine Learning, §4.3.4",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)


def _softmax_cross_entropy(n: int) -> Definition:
    z, t = vector("yhat", n), vector("y", n)
    lse = sp.log(sum(sp.exp(v) for v in z))
    return Definition(z, -sum(tk * (zk - lse) for zk, tk in zip(z, t)), t)


register(
    Entry(
        name="softmax_cross_entropy",
        kind="loss",
        domain=REGRESSION,
        vector=True,
        build=_softmax_cross_entropy,
        output_activation="identity",
        target_constraints=one_hot,
        target_encoding="one-hot rows (Σ y = 1) or class indices, ŷ logits",
        latex_name=r"\operatorname{CE}\circ\operatorname{softmax}",
        description="Cross-entropy on logits: −Σₖ yₖ log softmax(ŷ)ₖ.",
        reference="https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="kl_div",
        kind="loss",
        domain=((0.02, 1.0), (0.0, 1.0)),
        vector=True,
        aliases=("kl_divergence", "kld"),
        build=categorical(lambda p, t: t * sp.log(t / p)),
        output_activation="softmax",
        target_constraints=one_hot,
        target_encoding="a distribution y (Σ y = 1), with 0·log 0 = 0",
        latex_name=r"D_{\mathrm{KL}}",
        description="Kullback–Leibler divergence Σₖ yₖ log(yₖ/ŷₖ) = CE(y, ŷ) − H(y).",
        reference="Kullback & Leibler (1951), On information and sufficiency, Ann. Math. Statist. 22(1)",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="hinge",
        kind="loss",
        domain=REGRESSION,
        build=scalar(sp.Max(0, 1 - y * yhat)),
        output_activation="identity",
        target_encoding="y ∈ {−1, +1}, ŷ a score",
        latex_name=r"\operatorname{hinge}",
        description="max(0, 1 − yŷ): the SVM's margin loss.",
        reference="Cortes & Vapnik (1995), Support-vector networks, Machine Learning 20",
        kinks={sp.S.One: sp.S.Zero},
        kink_convention="at the margin yŷ = 1 the derivative is 0 (H(0) = 0); kink listed for y = 1",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C0", "convex": True},
    )
)

register(
    Entry(
        name="squared_hinge",
        kind="loss",
        domain=REGRESSION,
        build=scalar(sp.Max(0, 1 - y * yhat) ** 2),
        output_activation="identity",
        target_encoding="y ∈ {−1, +1}, ŷ a score",
        latex_name=r"\operatorname{hinge}^2",
        description="max(0, 1 − yŷ)²: a differentiable margin loss.",
        reference="https://keras.io/api/losses/hinge_losses/#squaredhinge-function",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C1", "convex": True},
    )
)

register(
    Entry(
        name="focal",
        kind="loss",
        domain=((0.02, 0.98), (0.0, 1.0)),
        output_activation="sigmoid",
        build=scalar(-(y * (1 - yhat) ** gamma * sp.log(yhat) + (1 - y) * yhat**gamma * sp.log(1 - yhat))),
        params=(Param(gamma, sp.Integer(2), "focusing parameter; γ = 0 is BCE"),),
        target_encoding="y ∈ {0, 1}, ŷ ∈ (0, 1)",
        latex_name=r"\operatorname{FL}_\gamma",
        description="Binary focal loss: BCE with easy examples down-weighted by (1 − p_t)^γ.",
        reference="Lin, Goyal, Girshick, He & Dollár (2017), Focal loss for dense object detection, arXiv:1708.02002",
        properties={"range": sp.Interval(0, sp.oo), "smoothness": "C∞", "convex": False},
    )
)

register(
    Entry(
        name="poisson_nll",
        kind="loss",
        domain=((0.1, 5.0), (0.0, 5.0)),
        aliases=("poisson",),
        build=scalar(yhat - y * sp.log(yhat)),
        output_activation="exponential",
        target_encoding="counts y ≥ 0, ŷ > 0 a rate (the constant log y! is dropped)",
        latex_name=r"\operatorname{PoissonNLL}",
        description="Poisson negative log-likelihood ŷ − y log ŷ, on the rate.",
        reference="McCullagh & Nelder (1989), Generalized Linear Models, ch. 6; Keras Poisson loss",
        properties={"range": "bounded below by y − y log y", "smoothness": "C∞", "convex": True},
    )
)

register(
    Entry(
        name="gaussian_nll",
        kind="loss",
        domain=REGRESSION,
        build=scalar((sp.log(var) + r**2 / var) / 2),
        output_activation="identity",
        params=(Param(var, sp.S.One, "predicted variance σ², > 0", learnable=True),),
        target_encoding="real y, mean ŷ and variance var (the constant log 2π/2 is dropped)",
        latex_name=r"\operatorname{GaussianNLL}",
        description="Gaussian negative log-likelihood (log σ² + (ŷ − y)²/σ²)/2.",
        reference="Nix & Weigend (1994), Estimating the mean and variance of the target probability distribution",
        properties={"range": "unbounded below as var → 0 with ŷ = y", "smoothness": "C∞", "convex": False},
    )
)

"""The seeds' claims, watched happen: five experiments that print a result and save a plot.

  a  a Dense(1, sigmoid) layer trained with BCE is logistic regression: same coefficients as Newton/IRLS
  b  four linear layers are one linear map (least squares) and fail XOR; a tanh or relu hidden layer solves it
  c  gradient norm per layer in a 10-layer sigmoid network against a relu one (vanishing gradients)
  d  dead ReLUs at a large and a small learning rate, and leaky_relu's fix
  e  every differentiable catalog activation on spirals: epochs to 95 % and final accuracy
  f  every nonlinear activation solves XOR and the moons; the identity does not solve XOR

Run: python scripts/experiments.py [a b c d e] [--out docs/experiments]
(all five also write docs/experiments.md: the printed results and the plots)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symact  # noqa: E402
from symact import nn  # noqa: E402
from symact.nn import plots  # noqa: E402
from symact.nn.reference import end_to_end_linear, least_squares, logistic_regression_irls  # noqa: E402


def experiment_a(out: Path) -> bool:
    """Dense(1, sigmoid) + BCE, trained by full-batch gradient descent, against IRLS."""
    X, y = nn.datasets.load("demand", n=400, seed=0)
    w_ref, b_ref = logistic_regression_irls(X, y)
    model = nn.Sequential([nn.Dense(1, "sigmoid")], dtype="float64")
    model.compile(loss="bce", optimizer="adam", learning_rate=0.05)
    model.fit(X, y, epochs=4000, batch_size=len(X), seed=0, verbose=0, diagnostics=False)
    w, b = model.layers[0].params["W"].ravel(), model.layers[0].params["b"][0]
    gap = max(np.max(np.abs(w - w_ref)), abs(b - b_ref))
    print("(a) logistic regression on the demand data (price, shipping, marketing, material)")
    print(f"    {'':10}{'w_price':>10}{'w_ship':>10}{'w_mkt':>10}{'w_mat':>10}{'b':>10}")
    print(f"    {'network':10}" + "".join(f"{v:10.5f}" for v in (*w, b)))
    print(f"    {'IRLS':10}" + "".join(f"{v:10.5f}" for v in (*w_ref, b_ref)))
    print(f"    max |difference| = {gap:.2e}  (target 1e-4): {'reproduced' if gap < 1e-4 else 'NOT reproduced'}")
    return gap < 1e-4


def experiment_b(out: Path) -> bool:
    """An all-linear 4-layer network is least squares, and fails XOR."""
    X, y = nn.datasets.load("linear", n=200, features=3, noise=0.3, seed=0)
    model = nn.Sequential([nn.Dense(8), nn.Dense(8), nn.Dense(8), nn.Dense(1)], dtype="float64")
    model.compile(loss="mse", optimizer="adam", learning_rate=0.01)
    model.fit(X, y, epochs=3000, batch_size=len(X), seed=0, verbose=0, diagnostics=False)
    W, b = end_to_end_linear(model)
    W_ref, b_ref = least_squares(X, y)
    gap = max(np.max(np.abs(W.ravel() - W_ref)), abs(b[0] - b_ref))
    print("(b) four identity layers 3-8-8-8-1 on noisy linear data")
    print(f"    end-to-end map  W = {np.round(W.ravel(), 5)}, b = {b[0]:.5f}")
    print(f"    least squares   W = {np.round(W_ref, 5)}, b = {b_ref:.5f}")
    print(f"    max |difference| = {gap:.2e}")
    Xx, yx = nn.datasets.load("xor")
    results = {}
    fig_models = []
    for act in ("identity", "tanh", "relu"):
        hidden = [nn.Dense(8, act) for _ in range(3)] if act == "identity" else [nn.Dense(8, act)]
        m = nn.Sequential([*hidden, nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="adam", learning_rate=0.1)
        m.fit(Xx, yx, epochs=500, batch_size=4, seed=0, verbose=0)
        results[act] = m.evaluate(Xx, yx)["accuracy"]
        fig_models.append((act, m))
    print("    XOR accuracy: " + ", ".join(f"{k} {v:.2f}" for k, v in results.items()))
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (act, m) in zip(axes, fig_models):
        plots._boundary_on(ax, m, Xx, yx, 200)
        ax.set_title(f"XOR, hidden {act}: accuracy {results[act]:.2f}")
    fig.tight_layout()
    fig.savefig(out / "b_xor.png", dpi=120)
    ok = gap < 1e-3 and results["identity"] < 1 and results["tanh"] == 1 and results["relu"] == 1
    print(
        f"    {'reproduced' if ok else 'NOT reproduced'}: linear layers collapse to least squares and cannot "
        "solve XOR; one nonlinear hidden layer can"
    )
    return ok


def experiment_c(out: Path) -> bool:
    """Gradient norm per layer, 10 hidden layers, sigmoid vs relu, first epoch."""
    X, y = nn.datasets.load("spirals", n=600, seed=0)
    norms = {}
    for act in ("sigmoid", "relu"):
        m = nn.Sequential([nn.Dense(32, act) for _ in range(10)] + [nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="sgd", learning_rate=0.01)
        h = m.fit(X, y, epochs=1, batch_size=32, seed=0, verbose=0)
        norms[act] = np.array(h["grad_norm"][0][:10])
    print("(c) mean gradient norm ‖∂L/∂W‖ per hidden layer over the first epoch (layer 1 is nearest the input)")
    print("    layer " + "".join(f"{i + 1:>10}" for i in range(10)))
    for act, v in norms.items():
        print(f"    {act:6}" + "".join(f"{x:10.2e}" for x in v))
    ratio = {act: v[0] / v[-1] for act, v in norms.items()}
    print(f"    first/last layer ratio: sigmoid {ratio['sigmoid']:.1e}, relu {ratio['relu']:.1e}")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for act, v in norms.items():
        ax.semilogy(range(1, 11), v, "o-", label=act)
    ax.set_xlabel("hidden layer (1 = nearest the input)")
    ax.set_ylabel("mean ‖∂L/∂W‖, first epoch")
    ax.set_title("vanishing gradients: 10 hidden layers")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "c_gradients.png", dpi=120)
    ok = ratio["sigmoid"] < 1e-3 and ratio["relu"] > 1e-1
    print(
        f"    {'reproduced' if ok else 'NOT reproduced'}: sigmoid's gradient shrinks by orders of magnitude "
        "toward the input, relu's does not"
    )
    return ok


def experiment_d(out: Path) -> bool:
    """Dead ReLU fraction after training at a large and a small learning rate; leaky_relu at the large one."""
    X, y = nn.datasets.load("moons", n=400, seed=0)
    rows = []
    for act, lr in (("relu", 0.2), ("relu", 0.001), ("leaky_relu", 0.2)):
        m = nn.Sequential([nn.Dense(64, act), nn.Dense(64, act), nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="adam", learning_rate=lr)
        h = m.fit(X, y, epochs=50, batch_size=16, seed=0, verbose=0)
        rows.append((act, lr, h["dead_fraction"][-1][:2], h["accuracy"][-1], h))
    print("(d) dead units (f'(z) = 0 on every training sample in the last epoch), 2 hidden layers of 64, Adam")
    print(f"    {'activation':12}{'lr':>6}{'dead L1':>10}{'dead L2':>10}{'accuracy':>10}")
    for act, lr, dead, acc, _ in rows:
        print(f"    {act:12}{lr:>6}{dead[0]:>10.2f}{dead[1]:>10.2f}{acc:>10.3f}")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for act, lr, _, _, h in rows:
        ax.plot(h.epoch, [np.mean(d[:2]) for d in h["dead_fraction"]], label=f"{act}, lr {lr}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("fraction of dead hidden units")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("dying ReLUs")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "d_dead_relu.png", dpi=120)
    big, small, leaky = (np.mean(r[2]) for r in rows)
    ok = big > 0.5 and small < big / 3 and leaky == 0
    print(
        f"    {'reproduced' if ok else 'NOT reproduced'}: a large step kills ReLUs, a small one kills far fewer, "
        "and leaky_relu's units cannot die"
    )
    return ok


def experiment_e(out: Path) -> bool:
    """Every differentiable catalog activation on spirals."""
    X, y = nn.datasets.load("spirals", n=600, noise=0.05, seed=0)
    names = [n for n in symact.names("activation") if n not in ("identity", "step")]
    rows = []
    for name in names:
        start = time.perf_counter()
        m = nn.Sequential([nn.Dense(32, name), nn.Dense(32, name), nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="adam", learning_rate=0.01)
        h = m.fit(X, y, epochs=300, batch_size=32, seed=0, verbose=0, diagnostics=False)
        acc = np.array(h["accuracy"])
        reached = int(np.argmax(acc >= 0.95)) + 1 if np.any(acc >= 0.95) else None
        rows.append((name, reached, float(acc[-1]), time.perf_counter() - start, acc))
    print("(e) spirals (600 points, 2 classes), 2 hidden layers of 32, Adam lr 0.01, batch 32, 300 epochs")
    print(f"    {'activation':14}{'epochs to 95%':>15}{'final accuracy':>16}{'seconds':>9}")
    for name, reached, final, secs, _ in sorted(rows, key=lambda r: (r[1] is None, r[1] or 0)):
        print(f"    {name:14}{reached if reached else '—':>15}{final:>16.3f}{secs:>9.1f}")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, _, _, _, acc in rows:
        ax.plot(range(1, len(acc) + 1), acc, lw=1, label=name)
    ax.axhline(0.95, color="k", lw=0.8, ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training accuracy")
    ax.set_title("spirals: every differentiable activation")
    ax.legend(fontsize=6, ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "e_spirals.png", dpi=120)
    return True


def experiment_f(out: Path) -> bool:
    """Every nonlinear catalog activation on XOR and on held-out moons (the recipes of tests/test_nn.py)."""
    Xx, yx = nn.datasets.load("xor")
    train = nn.datasets.load("moons", n=400, noise=0.1, seed=0)
    test = nn.datasets.load("moons", n=400, noise=0.1, seed=1)
    rows = []
    for name in [n for n in symact.names("activation") if n != "step"]:
        m = nn.Sequential([nn.Dense(16, name), nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="adam", learning_rate=0.1)
        m.fit(Xx, yx, epochs=500, batch_size=4, seed=0, verbose=0, diagnostics=False)
        xor = m.evaluate(Xx, yx)["accuracy"]
        hidden = (16, 16, 16) if name == "log_softmax" else (32,)
        m = nn.Sequential([nn.Dense(h, name) for h in hidden] + [nn.Dense(1, "sigmoid")])
        m.compile(loss="bce", optimizer="adam", learning_rate=0.02)
        m.fit(*train, epochs=300, batch_size=32, seed=0, verbose=0, diagnostics=False)
        rows.append((name, xor, m.evaluate(*test)["accuracy"]))
    print("(f) XOR (Dense(16) + sigmoid, Adam 0.1, 500 epochs) and held-out moons (Dense(32) + sigmoid, Adam 0.02,")
    print("    300 epochs; log_softmax: three layers of 16), seed 0")
    print(f"    {'activation':14}{'XOR':>8}{'moons (test)':>14}")
    for name, xor, moons in rows:
        print(f"    {name:14}{xor:>8.2f}{moons:>14.4f}")
    nonlinear = [r for r in rows if r[0] != "identity"]
    ok = all(x == 1.0 and m >= 0.97 for _, x, m in nonlinear) and dict((r[0], r[1]) for r in rows)["identity"] < 1
    print(
        f"    {'reproduced' if ok else 'NOT reproduced'}: every nonlinear activation solves XOR and reaches 97 % on "
        "the moons; identity does not solve XOR"
    )
    return ok


EXPERIMENTS = {
    "a": experiment_a,
    "b": experiment_b,
    "c": experiment_c,
    "d": experiment_d,
    "e": experiment_e,
    "f": experiment_f,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", nargs="*", default=list(EXPERIMENTS), help="experiments to run (default: all)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "experiments"), help="directory for the plots")
    args = ap.parse_args()
    unknown = [k for k in args.which if k not in EXPERIMENTS]
    if unknown:
        ap.error(f"unknown experiment {', '.join(unknown)} (choose from {', '.join(EXPERIMENTS)})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        results = {k: EXPERIMENTS[k](out) for k in args.which}
    finally:
        sys.stdout = tee.stream
    print(f"plots in {out}")
    if sorted(args.which) == sorted(EXPERIMENTS):
        report = ROOT / "docs" / "experiments.md"
        images = "\n".join(
            f"![{p.stem}]({p.relative_to(report.parent).as_posix()})"
            for p in sorted(out.glob("*.png"))
            if out.resolve().is_relative_to(report.parent.resolve())
        )
        report.write_text(
            "# The seeds' claims, reproduced\n\nOutput of `python scripts/experiments.py` "
            f"(float32 unless stated, seed 0).\n\n```\n{tee.text()}```\n\n{images}\n"
        )
        print(f"report in {report}")
    return 0 if all(results.values()) else 1


class _Tee:
    """stdout that also keeps what was written."""

    def __init__(self, stream):
        self.stream, self.parts = stream, []

    def write(self, text):
        self.parts.append(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()

    def text(self) -> str:
        return "".join(self.parts)


if __name__ == "__main__":
    sys.exit(main())

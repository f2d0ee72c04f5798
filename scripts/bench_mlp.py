"""Train the issue's reference MLP with symact.nn, PyTorch and scikit-learn; print ms/epoch and accuracy.

Setup: 784-256-128-10 ReLU MLP, softmax cross-entropy, SGD lr 0.05, batch 128,
20 000 synthetic float32 samples (a fixed random tanh teacher network labels random
inputs, so the task is learnable and no data is downloaded), the same thread
count for every contender. Writes the table to docs/performance_mlp.md.

Run: python scripts/bench_mlp.py [--threads 2] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2, help="blocks of epochs per contender, taken in turn")
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--out", default=str(ROOT / "docs" / "performance_mlp.md"))
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy loads its BLAS
    import numpy as np

    sys.path.insert(0, str(ROOT))
    X, y, Xt, yt = data(args.samples, np)
    contenders = [Symact(X, y)]
    for peer in (Torch, Sklearn):
        try:
            contenders.append(peer(X, y, args.threads, initial_weights()))
        except ImportError as e:
            print(f"skipping {peer.__name__}: {e} (pip install -e '.[bench]')", file=sys.stderr)
    # In rounds: each contender trains a block of epochs in turn, so a slow spell of the machine is
    # likely to fall on all of them. The first epoch of each block is not timed into the result: it
    # pays for warm-up and for the previous contender's BLAS/OpenMP threads still spinning.
    times = {c.name: [] for c in contenders}
    orders = batch_orders(len(X), args.epochs, np)
    blocks = np.array_split(np.arange(args.epochs), args.rounds)
    for block in blocks:
        for c in contenders:
            for i, e in enumerate(block):
                start = time.perf_counter()
                c.epoch(int(e), orders[e])
                if i > 0:
                    times[c.name].append(time.perf_counter() - start)
    rows = [(c.name, times[c.name], c.accuracy(Xt, yt)) for c in contenders]
    lines = [
        f"# MLP training speed ({args.threads} threads)",
        "",
        f"784-256-128-10 ReLU MLP, softmax cross-entropy, SGD lr 0.05, batch 128, {args.samples} float32 samples, "
        f"{args.epochs} epochs in {args.rounds} rounds (each contender trains a block of epochs in turn); ms/epoch "
        "over each block's epochs after its first (warm-up); accuracy on 4000 held-out samples after the last "
        "epoch.",
        "PyTorch starts from symact's initial weights and sees the same batches in the same order, so the two "
        "accuracies should agree; scikit-learn uses its own initialisation and shuffling.",
        "Reproduce: `python scripts/bench_mlp.py`.",
        "",
        "| contender | ms/epoch (median) | ms/epoch (best) | test accuracy |",
        "|---|---|---|---|",
        *[f"| {name} | {np.median(t) * 1e3:.1f} | {min(t) * 1e3:.1f} | {acc:.4f} |" for name, t, acc in rows],
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


def data(n, np):
    rng = np.random.default_rng(0)
    total = n + 4000
    X = rng.normal(0, 1, (total, 784)).astype(np.float32)
    W1 = rng.normal(0, 1 / 28, (784, 32))
    W2 = rng.normal(0, 1, (32, 10))
    y = np.argmax(np.tanh(X @ W1) @ W2, axis=1)
    return X[:n], y[:n], X[n:], y[n:]


def model():
    from symact import nn

    net = nn.Sequential([nn.Dense(256, "relu"), nn.Dense(128, "relu"), nn.Dense(10, "softmax")])
    net.compile(loss="cross_entropy", optimizer="sgd", learning_rate=0.05)
    return net


def initial_weights():
    """symact's initial weights (seed 0), so PyTorch starts from the same point."""
    net = model()
    net._build(784, seed=0)
    return [(layer.params["W"], layer.params["b"]) for layer in net.layers]


def batch_orders(n, epochs, np):
    """The batch order symact.nn uses with seed 0, so every contender sees the same batches."""
    return [np.random.default_rng([0, e]).permutation(n) for e in range(epochs)]


class Symact:
    def __init__(self, X, y):
        import numpy as np

        self.name, self.X, self.y, self.np = "symact.nn (kernels: C)", X, y, np
        model().fit(X[:256], y[:256], epochs=1, batch_size=128, seed=0, verbose=0)  # compile the kernels once
        self.net = model()

    def epoch(self, e, order):  # fit() draws the same order from seed 0 and the epoch number
        self.net.fit(self.X, self.y, epochs=e + 1, batch_size=128, seed=0, verbose=0, diagnostics=False)

    def accuracy(self, Xt, yt):
        return float(self.np.mean(self.np.argmax(self.net.predict(Xt), axis=1) == yt))


class Torch:
    def __init__(self, X, y, threads, weights):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.net = torch.nn.Sequential(
            torch.nn.Linear(784, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 10),
        )
        with torch.no_grad():
            for layer, (W, b) in zip(self.net[::2], weights):
                layer.weight.copy_(torch.from_numpy(W.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.05)
        self.loss = torch.nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.name = f"PyTorch {torch.__version__}"

    def epoch(self, e, order):
        perm = self.torch.from_numpy(order)
        for i in range(0, len(self.X), 128):
            idx = perm[i : i + 128]
            self.opt.zero_grad()
            self.loss(self.net(self.X[idx]), self.y[idx]).backward()
            self.opt.step()

    def accuracy(self, Xt, yt):
        import numpy as np

        with self.torch.no_grad():
            return float(np.mean(self.net(self.torch.from_numpy(Xt)).argmax(1).numpy() == yt))


class Sklearn:
    def __init__(self, X, y, threads, weights):
        import sklearn
        from sklearn.neural_network import MLPClassifier

        self.clf = MLPClassifier(
            (256, 128),
            solver="sgd",
            learning_rate_init=0.05,
            batch_size=128,
            momentum=0.0,
            alpha=0.0,
            max_iter=1,
            random_state=0,
            warm_start=True,
        )
        self.X, self.y = X, y
        self.name = f"scikit-learn {sklearn.__version__} MLPClassifier (own init and shuffling)"

    def epoch(self, e, order):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one iteration per call "did not converge"
            self.clf.fit(self.X, self.y)

    def accuracy(self, Xt, yt):
        import numpy as np

        return float(np.mean(self.clf.predict(Xt) == yt))


if __name__ == "__main__":
    main()

"""Diagnostics plots: learning curves, per-layer gradient norms, dead and saturated units, decision boundaries.

Each function draws on a new matplotlib figure (Agg backend, so no display is
needed), saves it when given a path, and returns the figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=130, bbox_inches="tight")
    return fig


def history(hist, path: str | Path | None = None, title: str = ""):
    """Loss and accuracy curves, gradient norm per layer (log scale), dead and saturated fractions."""
    plt = _plt()
    h = hist.history
    epochs = hist.epoch
    panels = [p for p in ("loss", "grad_norm", "dead_fraction", "saturated_fraction") if p in h]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, key in zip(axes[0], panels):
        if key == "loss":
            ax.plot(epochs, h["loss"], label="train loss", color="C0")
            if "val_loss" in h:
                ax.plot(epochs, h["val_loss"], label="validation loss", color="C0", ls="--")
            if "accuracy" in h:
                ax2 = ax.twinx()
                ax2.plot(epochs, h["accuracy"], color="C1", label="train accuracy")
                if "val_accuracy" in h:
                    ax2.plot(epochs, h["val_accuracy"], color="C1", ls="--", label="validation accuracy")
                ax2.set_ylim(0, 1.02)
                ax2.set_ylabel("accuracy", color="C1")
            ax.set_ylabel("loss")
            ax.set_title("learning curves")
            ax.legend(loc="center right", fontsize=8)
        else:
            values = np.array([[np.nan if v is None else v for v in row] for row in h[key]], dtype=float)
            for layer in range(values.shape[1]):
                ax.plot(epochs, values[:, layer], label=f"layer {layer + 1}")
            if key == "grad_norm":
                ax.set_yscale("log")
                ax.set_title("gradient norm per layer")
            else:
                ax.set_ylim(-0.02, 1.02)
                ax.set_title(
                    "dead units (f' = 0 on every sample)"
                    if key == "dead_fraction"
                    else "saturated units (f' < 1% of max)"
                )
            ax.legend(fontsize=7, ncol=2)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def decision_boundary(model, X, y, path: str | Path | None = None, title: str = "", resolution: int = 300):
    """The model's predicted class over the plane of 2-D data, with the data on top."""
    plt = _plt()
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("decision boundaries need 2-D inputs")
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    _boundary_on(ax, model, X, y, resolution)
    ax.set_title(title or "decision boundary")
    fig.tight_layout()
    return _save(fig, path)


def _boundary_on(ax, model, X, y, resolution: int) -> None:
    pad = 0.25 * (X.max(0) - X.min(0) + 1e-9)
    lo, hi = X.min(0) - pad, X.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    out = model.predict(np.c_[gx.ravel(), gy.ravel()])
    if out.shape[1] > 1:
        cls = np.argmax(out, axis=1)
    else:
        threshold = 0.5 if model.layers[-1].fn.name in ("sigmoid", "hard_sigmoid") else 0.0
        cls = (out[:, 0] > threshold).astype(int)
    labels = np.argmax(y, axis=1) if y.ndim == 2 else y.astype(int)
    ax.contourf(gx, gy, cls.reshape(gx.shape), levels=np.arange(labels.max() + 2) - 0.5, cmap="coolwarm", alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("decision boundary")


def report(model, hist, X, y, path: str | Path | None = None, title: str = ""):
    """One figure for ``symact train --plot``: the decision boundary (2-D data) beside the history panels."""
    plt = _plt()
    h = hist.history
    keys = [k for k in ("loss", "grad_norm", "dead_fraction") if k in h]
    two_d = np.asarray(X).ndim == 2 and np.asarray(X).shape[1] == 2
    n = len(keys) + two_d
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), squeeze=False)
    axes = list(axes[0])
    if two_d:
        _boundary_on(axes.pop(0), model, np.asarray(X), np.asarray(y), 200)
    for ax, key in zip(axes, keys):
        if key == "loss":
            ax.plot(hist.epoch, h["loss"], label="train")
            if "val_loss" in h:
                ax.plot(hist.epoch, h["val_loss"], ls="--", label="validation")
            ax.set_yscale("log")
            ax.set_title("loss")
        else:
            values = np.array([[np.nan if v is None else v for v in row] for row in h[key]], dtype=float)
            for layer in range(values.shape[1]):
                ax.plot(hist.epoch, values[:, layer], label=f"layer {layer + 1}")
            if key == "grad_norm":
                ax.set_yscale("log")
                ax.set_title("gradient norm per layer")
            else:
                ax.set_ylim(-0.02, 1.02)
                ax.set_title("dead units")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)

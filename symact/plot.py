"""Figures of functions and their derivatives, in the plain style of the seeds' figures.

``symact.plot.plot(["sigmoid", "tanh"], derivative=True, path="out.png")``,
``fn.plot()`` and ``symact plot NAME... -o out.png``. Values come from
symact's NumPy kernels (the stable forms, so the tails are right); a loss is
drawn against ŷ at a fixed target, a vector activation as its first output
over (x, 0, …, 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .calculus import switch_points
from .fn import Fn, function

STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": False,
}


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves(fn: Fn, xs: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, str]:
    """(label, f, f', x-axis label) of ``fn`` over ``xs`` (float64)."""
    from .compile import compile as compile_kernel

    if fn.kind == "loss":
        (tlo, thi) = fn.entry.domain[1] if len(fn.entry.domain) > 1 else (0.0, 1.0)
        target = 1.0 if thi == 1.0 and tlo == 0.0 else 0.0
        kernel = compile_kernel(fn, dtype="float64")
        if kernel.categorical:
            n = fn.size
            pred = np.stack(
                [
                    xs,
                    *[
                        np.full_like(xs, 0.0 if fn.name == "softmax_cross_entropy" else 0.5 / max(n - 1, 1))
                        for _ in range(n - 1)
                    ],
                ],
                axis=1,
            )
            if fn.name != "softmax_cross_entropy":
                pred = np.clip(pred, 1e-12, None)
            t = np.zeros_like(pred)
            t[:, 0] = 1.0
            values, grads = [], []
            for row, trow in zip(pred, t):
                v, g = kernel(row[None, :], trow[None, :])
                values.append(v)
                grads.append(g[0, 0])
            return f"{fn.name}(ŷ, y = e₁)", np.array(values), np.array(grads), "ŷ₁"
        per, grad = kernel.elementwise(xs, np.full_like(xs, target))  # NaN outside the loss's domain
        return f"{fn.name}(ŷ, y = {target:g})", per, grad, "ŷ"
    if fn.vector:
        kernel = compile_kernel(fn, dtype="float64")
        X = np.zeros((xs.size, fn.size))
        X[:, 0] = xs
        y = kernel(X, axis=1)
        g = np.zeros_like(X)
        g[:, 0] = 1.0
        return f"{fn.name}(x, 0, …)₁", y[:, 0], kernel.vjp(X, g, axis=1, y=y)[:, 0], "x"
    y, dy = compile_kernel(fn, backend="numpy", dtype="float64")(xs)
    return fn.name, y, dy, "x"


def _switch_points(fn: Fn, lo: float, hi: float) -> list[float]:
    """Where an elementwise activation's f or f' can switch case inside (lo, hi): where a curve may jump."""
    if fn.kind != "activation" or fn.vector:
        return []
    x = fn.inputs[0]
    points = {float(p) for e in (fn.bind(), fn.bind(fn.derivative())) for p in switch_points(e, x)}
    return sorted(p for p in points if lo < p < hi)


def _broken(xs: np.ndarray, values: np.ndarray, switches: list[float]):
    """(x, y) of a curve with a gap at each jump, and the (x, f(x)) dots at the jumps: relu′ is no vertical line
    from 0 to 1 at 0, but 0 on the left, 1 on the right and a dot at its value there."""
    xs, values, dots = xs.astype(float), values.astype(float), []
    for v in switches:
        i = int(np.searchsorted(xs, v))
        left, right = values[i - 1], values[i + 1]
        if abs(right - left) > 1e-6 * (1 + max(abs(left), abs(right))):
            dots.append((v, values[i]))
            values = values.copy()
            values[i] = np.nan
    return (xs, values), dots


def plot(
    fns,
    *,
    derivative: bool = True,
    xrange: tuple[float, float] | None = None,
    path: str | Path | None = None,
    ax=None,
    title: str | None = None,
):
    """Plot each function (solid) and, with ``derivative``, its derivative (dashed, same colour)."""
    plt = _plt()
    fns = [function(f) if isinstance(f, str) else f for f in ([fns] if isinstance(fns, (str, Fn)) else fns)]
    if not fns:
        raise ValueError("nothing to plot")
    lo, hi = xrange if xrange is not None else fns[0].entry.domain[0]
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"the range must be two finite numbers a < b, got {lo}, {hi}")
    grid = np.linspace(lo, hi, 801)
    with plt.rc_context(STYLE):
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(5.2, 3.4))
        else:
            fig = ax.figure
        xlabel = "x"
        for i, fn in enumerate(fns):
            switches = _switch_points(fn, lo, hi)
            eps = (hi - lo) * 1e-9
            xs = np.union1d(grid, [v + d for v in switches for d in (-eps, 0.0, eps)])
            label, y, dy, xlabel = curves(fn, xs)
            color = f"C{i}"
            series = [(y, dict(lw=1.8, label=label))]
            if derivative:
                series.append((dy, dict(lw=1.4, ls="--", label=f"{label}′" if len(fns) > 1 else "derivative")))
            for values, style in series:
                line, dots = _broken(xs, values, switches)
                ax.plot(*line, color=color, **style)
                if dots:  # the value the catalog's convention takes at a jump
                    ax.plot(*zip(*dots), color=color, marker="o", ms=3, ls="none")
        ax.axhline(0, color="0.3", lw=0.6)
        ax.axvline(0, color="0.3", lw=0.6)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(xlabel)
        ax.legend(fontsize=8)
        ax.set_title(title if title is not None else ", ".join(f.name for f in fns))
        if own:
            fig.tight_layout()
        if path is not None:
            path = Path(path)
            if path.suffix.lower() not in (".png", ".pdf", ".svg"):
                raise ValueError(f"write .png, .pdf or .svg, not {path.suffix or 'no suffix'}")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
            tmp.replace(path)
    return fig

"""Kernels for the vector activations: softmax, log_softmax and sparsemax along an axis.

``k(x, axis=-1)`` returns f; ``k.vjp(x, g, axis=-1)`` returns gᵀJ, the
vector-Jacobian product that backpropagation needs, without forming J. Each
vjp is the catalog's closed-form Jacobian applied to g (tests/test_kernel_kinds.py
checks the closed forms against the derived Jacobians and these kernels
against the symbolic vjp):

- softmax, J = diag(s) − s sᵀ:   gᵀJ = s ⊙ (g − ⟨g, s⟩);
- log_softmax, J = I − 1 sᵀ:     gᵀJ = g − s Σg;
- sparsemax, J = diag(m) − m mᵀ/|S|: gᵀJ = m ⊙ (g − ⟨g, m⟩/|S|).

The forward passes use the shift invariance f(x − c) = f(x) (proved in the
theorem sheet for softmax) with c = max x, so nothing overflows; ±inf and
NaN propagate as the definitions say.

>>> import numpy as np, symact
>>> k = symact.compile("softmax", dtype="float64")
>>> k(np.array([1000.0, 1000.0])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import numpy as np

from ..fn import Fn
from . import as_real


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x − max x along ``axis``. An all −inf row keeps its −inf (every f of it is NaN: its limit depends on how
    the entries fall). A row with one +inf entry becomes its limit as that entry grows: 0 there and −inf
    elsewhere, so softmax is one-hot there, as sigmoid(+inf) = 1 is; with two or more the limit depends on how
    they grow, and the row is NaN (inf − inf)."""
    m = np.max(x, axis=axis, keepdims=True)
    z = x - np.where(np.isfinite(m), m, 0)
    top = m == np.inf
    if not top.any():
        return z
    lone = top & (np.sum(x == np.inf, axis=axis, keepdims=True) == 1)
    return np.where(lone, np.where(x == np.inf, 0, -np.inf), z).astype(x.dtype, copy=False)


def _normalizer(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z = x − max x, e = exp(z) and Σe along ``axis``: what softmax (e/Σe) and log_softmax (z − log Σe) share."""
    z = _shifted(x, axis)
    e = np.exp(z)
    return z, e, np.sum(e, axis=axis, keepdims=True)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    _, e, total = _normalizer(x, axis)
    return np.divide(e, total, out=e)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z, _, total = _normalizer(x, axis)
    return np.subtract(z, np.log(total), out=z)


def softmax_and_log_softmax(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Both from one shift, one exp and one sum (softmax cross-entropy needs the one for its gradient and the
    other for its value): the same values as the two functions. In place, in the two arrays the shift and the
    exp made: four live at once made glibc return the memory and fault it back in at every call (float32,
    10⁴ × 100: 9.9 ms against 2.2)."""
    z, e, total = _normalizer(x, axis)
    return np.divide(e, total, out=e), np.subtract(z, np.log(total), out=z)


def sparsemax(x: np.ndarray, axis: int) -> np.ndarray:
    """Martins & Astudillo's algorithm: sort, find the support size k, threshold τ, clip. On x − max x (τ shifts
    with x), so that the cumulative sums of large entries do not overflow (sparsemax of [1e308, 1e308, −1e308]
    was [0, 0, 0]; it is [0.5, 0.5, 0])."""
    z = np.moveaxis(_shifted(x, axis), axis, -1)
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=x.dtype)
    cumulative = np.cumsum(zs, axis=-1)
    support = 1 + k * zs > cumulative
    size = np.sum(support, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, size - 1, axis=-1) - 1) / size.astype(x.dtype)
    tau = np.where(np.isnan(z).any(axis=-1, keepdims=True), np.nan, tau)  # the sort drops NaN from τ's sum
    return np.moveaxis(np.maximum(z - tau, 0), -1, axis)


FORWARD = {"softmax": softmax, "log_softmax": log_softmax, "sparsemax": sparsemax}


def vjp(name: str, y: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """gᵀJ from the output y = f(x), by the closed forms above."""
    if name == "softmax":
        return y * (g - np.sum(g * y, axis=axis, keepdims=True))
    if name == "log_softmax":
        return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)
    m = (y > 0).astype(y.dtype)
    return m * (g - np.sum(g * m, axis=axis, keepdims=True) / np.sum(m, axis=axis, keepdims=True))


class VectorKernel:
    def __init__(self, fn: Fn, dtype: str):
        if fn.name not in FORWARD:
            raise ValueError(f"{fn.name}: no vector kernel (available: {', '.join(FORWARD)})")
        self.fn, self.dtype, self.backend = fn, np.dtype(dtype), "numpy"

    def __call__(self, x, axis: int = -1) -> np.ndarray:
        x = self._along(x, axis)
        if x.size == 0:  # nothing to normalize (and NumPy's max has no identity for an empty axis)
            return np.empty_like(x)
        with np.errstate(all="ignore"):
            return FORWARD[self.fn.name](x, axis)

    def _along(self, x, axis: int) -> np.ndarray:
        x = as_real(x, self.dtype)
        if x.ndim == 0:
            raise ValueError(f"{self.fn.name} works along an axis: x must have at least one dimension")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an int, not {type(axis).__name__}")
        if not -x.ndim <= axis < x.ndim:
            raise np.exceptions.AxisError(axis, x.ndim)  # "axis 5 is out of bounds for array of dimension 2"
        return x

    def vjp(self, x, g, axis: int = -1, *, y: np.ndarray | None = None) -> np.ndarray:
        """gᵀ·∂f/∂x along ``axis``; pass ``y = f(x)`` when it is already computed."""
        x, g = self._along(x, axis), as_real(g, self.dtype)
        if g.shape != x.shape:
            raise ValueError(f"g has shape {g.shape}, x has {x.shape}")
        if x.size == 0:
            return np.empty_like(x)
        with np.errstate(all="ignore"):
            return vjp(self.fn.name, self(x, axis) if y is None else y, g, axis)

    def __repr__(self) -> str:
        return f"<symact vector kernel {self.fn.name} [numpy, {self.dtype}]>"

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
from . import _per_call, as_real


def _shifted(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x − max x along ``axis``, the max, and where it is (argmax; both with ``keepdims``). An all −inf row keeps
    its −inf (every f of it is NaN: its limit depends on how the entries fall). A row with one +inf entry becomes
    its limit as that entry grows: 0 there and −inf elsewhere, so softmax is one-hot there, as sigmoid(+inf) = 1
    is; with two or more the limit depends on how they grow, and the row is NaN (inf − inf)."""
    top = np.argmax(x, axis=axis, keepdims=True)  # NaN counts as the max, as in np.max
    m = _take(x, top, axis, _flat_top(x, top, axis))
    z = x - np.where(np.isfinite(m), m, 0)
    if not (m == np.inf).any():
        return z, m, top
    lone = (m == np.inf) & (np.sum(x == np.inf, axis=axis, keepdims=True) == 1)
    return np.where(lone, np.where(x == np.inf, 0, -np.inf), z).astype(x.dtype, copy=False), m, top


def _flat_top(a: np.ndarray, top: np.ndarray, axis: int) -> np.ndarray | None:
    """The flat indices of ``top`` (argmax with keepdims) in a C-contiguous ``a`` along its last axis, else None:
    indexing by them costs a third of take_along_axis and put_along_axis on small arrays (128 × 10)."""
    if axis in (-1, a.ndim - 1) and a.flags.c_contiguous:
        return np.arange(0, a.size, a.shape[-1]) + top.reshape(-1)
    return None


def _take(a: np.ndarray, top: np.ndarray, axis: int, flat: np.ndarray | None) -> np.ndarray:
    """a's entries at ``top`` along ``axis`` (keepdims), by ``flat`` (:func:`_flat_top`) where it is given."""
    return np.take_along_axis(a, top, axis=axis) if flat is None else a.reshape(-1)[flat].reshape(top.shape)


def _put(a: np.ndarray, top: np.ndarray, axis: int, flat: np.ndarray | None, values) -> None:
    """a's entries at ``top`` along ``axis`` set to ``values`` (a number, or an array shaped as ``top``)."""
    if flat is None:
        np.put_along_axis(a, top, values, axis=axis)
    else:
        a.reshape(-1)[flat] = values.reshape(-1) if isinstance(values, np.ndarray) else values


def row_sum(a: np.ndarray, axis: int) -> np.ndarray:
    """Σ along ``axis``, with keepdims. Along the last axis of a C-contiguous array, as a product with a vector of
    ones (BLAS): NumPy's reduction over a short inner axis is slow (10⁵ × 10 float32: 1.92 ms against 0.11)."""
    if axis in (-1, a.ndim - 1) and a.flags.c_contiguous and a.shape[-1]:
        return np.matmul(a, np.ones(a.shape[-1], a.dtype))[..., None]
    return np.sum(a, axis=axis, keepdims=True)


def _normalizer(x: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """What softmax (e/Σe) and log_softmax (z − log Σe) share: z = x − max x, e = exp(z), and Σe as S + e_max,
    S summed without the max's e (:func:`log_softmax` needs S itself), with e_max (1; 0 in an all −inf row), the
    max and where it is (argmax), each with ``keepdims``."""
    z, m, top = _shifted(x, axis)
    e = np.exp(z)
    flat = _flat_top(e, top, axis)
    one = _take(e, top, axis, flat)
    _put(e, top, axis, flat, 0)
    rest = row_sum(e, axis)
    _put(e, top, axis, flat, one)
    return z, e, rest, one, m, top


def _log_sum(rest: np.ndarray, one: np.ndarray) -> np.ndarray:
    """log Σe from :func:`_normalizer`'s parts, log1p(S + e_max − 1): e_max is 1, and 0 in an all −inf row."""
    return np.log1p(rest + (one - 1))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    _, e, rest, one, _, _ = _normalizer(x, axis)
    return np.divide(e, rest + one, out=e)


#: Elements per block in :func:`_exact_rest`: small enough for its temporaries to stay in the cache, large enough
#: that NumPy's overhead per call does not dominate (10⁴ × 100 float32, every row near: 2^13 6.2 ms, 2^15 5.0 ms).
BLOCK = 1 << 15


def _exact_rest(x: np.ndarray, z: np.ndarray, e: np.ndarray, c: np.ndarray, top: np.ndarray, rows) -> np.ndarray:
    """Σ_(k ≠ top) e^(x − c) along the last axis of 2-D arrays, for the given rows, c the max, with x − c exact
    where z = fl(x − c) rounds it: a relative error of up to |z|/2 ULP in e^z, 5 to 6 ULP in log_softmax's max
    entry at a gap of 13. float32 (any narrower type) in double, where x − c is exact; float64 as e^z·(1 + δ) to
    first order, δ = x − c − z from a two-sum. e is e^z. Block by block of rows, each taken out
    into small arrays that stay in the cache (copying out the rows whole faulted in 12 MB at every call: 10⁴ × 100
    float32, 15.6 → 7.1 ms, and 4.9 with blocks of 2^15)."""
    rest = np.empty((len(rows), 1))
    step = max(1, BLOCK // max(1, x.shape[1]))
    for i in range(0, len(rows), step):
        r = rows[i : i + step]
        xs, cs = x[r], c[r]
        if x.dtype.itemsize < 8:
            d = np.subtract(xs, cs, dtype=np.float64)
            np.put_along_axis(np.exp(d, out=d), top[r], 0, axis=-1)
            rest[i : i + step] = row_sum(d, -1)
            continue
        zs, es = z[r], e[r]
        d = np.subtract(zs, xs)  # b = z − x; δ = (x − (z − b)) − (b + c)
        b = np.add(d, cs)
        np.subtract(zs, d, out=d)
        np.subtract(xs, d, out=d)
        np.subtract(d, b, out=d)
        np.multiply(d, es, out=d)
        np.put_along_axis(np.add(d, es, out=d), top[r], 0, axis=-1)
        rest[i : i + step] = row_sum(d, -1)
    lost = np.flatnonzero(np.isnan(rest[:, 0]))
    lost = lost[~np.isnan(x[rows[lost]]).any(axis=-1)]  # x = −∞ there: e^z = 0, but δ is NaN
    rest[lost] = np.sum(np.where(z[rows[lost]] < 0, e[rows[lost]], 0), axis=-1, keepdims=True)  # uncorrected
    return rest.astype(x.dtype, copy=False)


def _exact_rest_along(x: np.ndarray, axis: int, near: np.ndarray, parts: tuple[np.ndarray, ...]) -> None:
    """S (:func:`_normalizer`'s rest) taken again with x − max x exact (:func:`_exact_rest`) where ``near``, in
    place; ``parts`` are :func:`_normalizer`'s. As 2-D arrays, (rows, length of the axis): views where the axis
    is the last. rest's axis has length 1, so its flat order is that of the rows."""
    z, e, rest, _, m, top = parts
    x2, z2, e2, m2, t2 = (np.moveaxis(a, axis, -1).reshape(-1, a.shape[axis]) for a in (x, z, e, m, top))
    rows = np.flatnonzero(near)
    np.put(rest, rows, _exact_rest(x2, z2, e2, m2, t2, rows)[:, 0])


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """z − log Σe, z = x − max x, with log Σe = log1p(S) and S = Σe less the max's 1, summed without it (the max's
    e set to 0): log(fl(1 + S)) lost S below an ULP of 1, and the max's own entry, −log1p(S) ≈ −S, came out 0
    or wrong in most digits (x = [0, −20] in float32: 0 for −2.06e-9). Where S < 1 the max's entry is that
    small, and S is taken with x − max x exact (:func:`_exact_rest_along`)."""
    parts = _normalizer(x, axis)
    z, _, rest, one, m, _ = parts
    near = (rest < 1) & np.isfinite(m)  # a finite max: its e is 1, and one max (two make Σe ≥ 2)
    if near.any():
        _exact_rest_along(x, axis, near, parts)
    return np.subtract(z, _log_sum(rest, one), out=z)


def cross_entropy_rows(
    x: np.ndarray, target: np.ndarray, ys: np.ndarray, with_softmax: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """Softmax cross-entropy of (N, K) logits: (softmax(x) where asked, the rows' losses), ys = Σₖ yₖ per row
    (keepdims). A row's loss is Σₖ yₖ·(log1p(S) + max x − xₖ) = ys·log1p(S) + Σₖ yₖ·(−zₖ), two terms ≥ 0 (for
    y ≥ 0): one pass over z and y, no log_softmax array. Where a target is 0 on a logit of −∞, 0·∞ is NaN; the
    caller takes those rows by the convention.

    S as summed carries the rounding of each z = x − max x, up to |z|/2 ULP in its e: a row whose loss is mostly
    log1p(S) (confident, its target on the max) was off by up to half the gap to its next logit, in ULP (41 ULP
    in float32 and 22 in float64, single rows). That part of the error is at most u·Σ ys·S·(|log S| + log(K − 1))
    over the rows with 0 < S < 1 (the e's weighted mean gap is at most |log S| + log(K − 1)); where it could pass
    2 ULP of the summed loss, S is taken again on those rows with z exact (:func:`_exact_rest_along`). That is
    where confident rows carry most of the loss; a batch with a few rows of loss O(1) skips it."""
    parts = _normalizer(x, -1)
    z, e, rest, one, _, _ = parts
    rows = -np.einsum("ij,ij->i", target, z)
    logs = _log_sum(rest, one)[:, 0]
    s = rest[:, 0]  # 0 in a row whose max is not finite, or whose other e's are 0: no rounding to take back
    if s.min(initial=1) < 1:
        near = (s > 0) & (s < 1) & (ys[:, 0] > 0)
        gap = np.log(max(x.shape[-1] - 1, 1)) - np.log(np.where(near, s, 1))
        bound = np.finfo(x.dtype).eps / 2 * np.dot(np.where(near, ys[:, 0] * s, 0), gap)
        if bound > 2 * np.spacing(np.abs(np.sum(rows + ys[:, 0] * logs, dtype=x.dtype))):
            _exact_rest_along(x, -1, near, parts)
            logs = _log_sum(rest, one)[:, 0]
    rows += ys[:, 0] * logs
    return (np.divide(e, rest + one, out=e) if with_softmax else None), rows


def sparsemax(x: np.ndarray, axis: int) -> np.ndarray:
    """Martins & Astudillo's algorithm: sort, find the support size k, threshold τ, clip. On x − max x (τ shifts
    with x), so that the cumulative sums of large entries do not overflow (sparsemax of [1e308, 1e308, −1e308]
    was [0, 0, 0]; it is [0.5, 0.5, 0])."""
    z = np.moveaxis(_shifted(x, axis)[0], axis, -1)
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

    def __call__(self, x, axis: int = -1, **params) -> np.ndarray:
        if params:
            raise TypeError(_per_call(self.fn, params, learnable=False))
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

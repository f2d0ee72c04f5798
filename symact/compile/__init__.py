"""Compiled kernels: activations with their derivatives, vector activations, losses.

``symact.compile(fn, backend="auto"|"c"|"numba"|"numpy", dtype="float32"|"float64")``
returns, by the kind of ``fn``:

- an elementwise activation: a :class:`Kernel`, ``k(x) -> (f(x), f'(x))`` with
  the shape and dtype of x (``grad=False``: f alone);
- the same with ``learn=("alpha",)``: a :class:`~symact.compile.params.ParamKernel`,
  ``k(x, alpha=array) -> (f, f', {"alpha": ∂f/∂α})``;
- a vector activation: a :class:`~symact.compile.vector.VectorKernel`,
  ``k(x, axis=-1)`` and ``k.vjp(x, g, axis=-1)``;
- a loss: a :class:`~symact.compile.loss.LossKernel`,
  ``k(pred, target) -> (mean loss, ∂ mean loss/∂pred)``.

The last three are NumPy kernels. Every backend is generated from the
same stable forms (see :mod:`symact.stable`), each proven equal to the
definition, and shares the edge semantics: NaN in gives NaN out, ±inf gives
the limits, no RuntimeWarnings, and the catalog's convention at kinks.

>>> import numpy as np, symact
>>> k = symact.compile("sigmoid", backend="numpy", dtype="float64")
>>> y, dy = k(np.array([0.0, 40.0]))
>>> float(dy[1])
4.248354255291589e-18
"""

from __future__ import annotations

import functools

import numpy as np

from ..catalog import REGISTRY
from ..fn import Fn, function
from . import fork  # noqa: F401  (watches for fork() from import on: see symact.compile.fork)
from .forms import kernel_forms

BACKENDS = ("c", "numba", "numpy")
DTYPES = {"float32": np.float32, "float64": np.float64}


def as_real(value, dtype, order: str | None = None) -> np.ndarray:
    """``value`` as an array of ``dtype``. Complex input is a TypeError: NumPy would warn and drop the
    imaginary part, and every kernel here is a real function. A float64 value beyond float32's range becomes
    ±inf, as IEEE rounding says, without NumPy's overflow warning (kernels give no RuntimeWarnings)."""
    if np.iscomplexobj(value):
        raise TypeError("symact kernels take real input, not complex")
    with np.errstate(over="ignore"):
        return np.asarray(value, dtype=dtype, order=order)


def nan_where_nan(inputs, outputs) -> list[np.ndarray]:
    """``outputs`` with NaN wherever one of ``inputs`` (which broadcast to their shape) is NaN: NaN in gives
    NaN out, also where a choice (a kink, the 0·log 0 convention) would pick a branch for it. A sum per input
    shows first that there is none, at a fraction of the cost of isnan and where (Huber, 10^7 points: 5 ms
    against 40)."""
    with np.errstate(over="ignore", invalid="ignore"):  # +inf and −inf, or huge values, sum to NaN or ±inf
        if all(np.isfinite(np.sum(a)) for a in inputs):
            return list(outputs)
    nan = functools.reduce(np.logical_or, (np.isnan(a) for a in inputs))
    return [np.where(nan, v.dtype.type(np.nan), v) for v in outputs]


def available_backends() -> list[str]:
    from . import c, numba

    found = []
    if c.compiler() is not None:
        found.append("c")
    if numba.available():
        found.append("numba")
    return found + ["numpy"]


class Kernel:
    """A compiled f (and f'): call it on an array."""

    def __init__(self, fn: Fn, backend: str, dtype: str, grad: bool):
        self.fn, self.backend, self.dtype, self.grad = fn, backend, np.dtype(DTYPES[dtype]), grad
        forms = kernel_forms(fn, dtype, fused=backend in ("c", "numba"))
        if backend == "c":
            from .c import CKernel as impl
        elif backend == "numba":
            from .numba import NumbaKernel as impl
        else:
            from .numpy import NumpyKernel as impl
        self._impl = impl(fn.name, forms, dtype)
        self.source = self._impl.source

    def __call__(self, x, out: tuple[np.ndarray, np.ndarray] | np.ndarray | None = None, **params):
        if params:
            raise TypeError(_per_call(self.fn, params))
        x = as_real(x, self.dtype, order="C")  # not ascontiguousarray, which makes a 0-d x 1-d
        if out is None:
            y = np.empty_like(x)
            dy = np.empty_like(x) if self.grad else None
        else:
            outs = self._outs(out, x)
            if any(np.may_share_memory(x, a) for a in outs):
                # NumPy's rule for ufuncs: the result is as if x and out did not overlap. The compiled loops read
                # x through a restrict pointer and a block at a time, so an out that overlaps x, even x itself,
                # gets a copy of x to read from (exact for these contiguous arrays: bounds are the memory)
                x = x.copy()
            y, dy = outs if self.grad else (outs[0], None)
        self._impl(x, y, dy)
        return (y, dy) if self.grad else y

    def _outs(self, out, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """``out`` checked: one array (grad=False) or a pair (y, dy), each writeable, C-contiguous, of x's shape
        and the kernel's dtype, and the pair not overlapping."""
        want = "a pair (y, dy) of arrays" if self.grad else "one array"
        outs = tuple(out) if self.grad and isinstance(out, (tuple, list)) else (out,)
        if len(outs) != 1 + self.grad or not all(isinstance(a, np.ndarray) for a in outs):
            raise TypeError(f"out must be {want}, not {type(out).__name__}")
        for a in outs:
            if a.shape != x.shape or a.dtype != self.dtype or not a.flags.c_contiguous or not a.flags.writeable:
                raise ValueError(f"out arrays must be writeable, C-contiguous {self.dtype} of shape {x.shape}")
        if self.grad and np.may_share_memory(*outs):
            raise ValueError("out arrays y and dy must not overlap")
        return outs

    @property
    def streaming(self) -> bool | None:
        """C kernels on x86: whether outputs of 2^20 elements or more are written with streaming stores, which
        the first call that large measures (None elsewhere). Assign True or False to choose instead. The choice
        is the compiled library's: the kernels of one function and dtype share it."""
        return getattr(self._impl, "streaming", None)

    @streaming.setter
    def streaming(self, on: bool) -> None:
        if not hasattr(self._impl, "streaming"):
            raise ValueError(f"the {self.backend} backend has no streaming stores to choose")
        self._impl.streaming = on

    def __repr__(self) -> str:
        return f"<symact kernel {self.fn.name} [{self.backend}, {self.dtype}, grad={self.grad}]>"


def _per_call(fn: Fn | str, params: dict, learnable: bool = True) -> str:
    """Where parameters given per call, or as arrays, belong."""
    name = fn if isinstance(fn, str) else fn.name
    names = tuple(params)
    fixed = f"{', '.join(names)}: a kernel's parameters are fixed when it is compiled (symact.compile({name!r}, {names[0]}=…))"
    if not learnable:
        return fixed
    return f"{fixed}; to give them per call or per element, compile with learn={names!r} and call k(x, {names[0]}=…)"


def compile(
    fn: Fn | str,
    *,
    backend: str = "auto",
    dtype: str = "float32",
    grad: bool = True,
    learn: tuple[str, ...] = (),
    **params,
):
    """A kernel for ``fn`` (see the module docstring for what each kind returns).

    Args:
        fn: an :class:`~symact.Fn` or a catalog name; ``params`` bind parameters by name.
        backend: ``"auto"`` (C if a compiler is present, else numba, else NumPy), ``"c"``, ``"numba"``, ``"numpy"``.
            Vector activations, losses and learnable-parameter kernels are NumPy kernels.
        dtype: ``"float32"`` or ``"float64"``.
        grad: also return f'.
        learn: parameter names to take as array inputs, with their derivatives returned.
    """
    if isinstance(fn, str):
        arrays = {k: v for k, v in params.items() if np.ndim(v) > 0}
        if arrays:
            entry = REGISTRY[fn]
            raise TypeError(_per_call(fn, arrays, learnable=entry.kind == "activation" and not entry.vector))
        fn = function(fn, **params)
    elif params:
        raise TypeError("pass parameters to symact.activation(), or a name and parameters here")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    if isinstance(learn, str):
        learn = (learn,)
    if learn and (fn.kind == "loss" or fn.vector):
        raise ValueError(f"{fn.name}: learn= takes an elementwise activation's parameters")
    special = fn.kind == "loss" or fn.vector or bool(learn)
    if special and backend not in ("auto", "numpy"):
        raise ValueError(
            f"{fn.name}: only the numpy backend serves losses, vector activations and learnable parameters"
        )
    if fn.kind == "loss":
        from .loss import LossKernel

        return LossKernel(fn, dtype)
    if fn.vector:
        from .vector import VectorKernel

        return VectorKernel(fn, dtype)
    if learn:
        from .params import ParamKernel

        for name in learn:
            fn.param(name)  # a clear error for a name the function does not have
        return ParamKernel(fn, tuple(learn), dtype)
    choices = available_backends()
    if backend == "auto":
        backend = choices[0]
    elif backend not in BACKENDS:
        raise ValueError(f"backend must be auto or one of {', '.join(BACKENDS)}")
    elif backend not in choices:
        raise RuntimeError(f"backend {backend!r} is not available here (available: {', '.join(choices)})")
    return Kernel(fn, backend, dtype, grad)

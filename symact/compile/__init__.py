"""Compiled kernels for f and f' of elementwise activations.

``symact.compile(fn, backend="auto"|"c"|"numba"|"numpy", dtype="float32"|"float64")``
returns a :class:`Kernel`. ``k(x)`` gives ``(f(x), f'(x))`` with the shape and
dtype of x (``grad=False``: f alone). Every backend is generated from the
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

import numpy as np

from ..fn import Fn, activation
from .forms import kernel_forms

BACKENDS = ("c", "numba", "numpy")
DTYPES = {"float32": np.float32, "float64": np.float64}


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
        forms = kernel_forms(fn)
        if backend == "c":
            from .c import CKernel as impl
        elif backend == "numba":
            from .numba import NumbaKernel as impl
        else:
            from .numpy import NumpyKernel as impl
        self._impl = impl(fn.name, forms, dtype)
        self.source = self._impl.source

    def __call__(self, x, out: tuple[np.ndarray, np.ndarray] | np.ndarray | None = None):
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if out is None:
            y = np.empty_like(x)
            dy = np.empty_like(x) if self.grad else None
        else:
            y, dy = out if self.grad else (out, None)
            for a in (y, dy) if self.grad else (y,):
                if a.shape != x.shape or a.dtype != self.dtype or not a.flags.c_contiguous:
                    raise ValueError(f"out arrays must be C-contiguous {self.dtype} of shape {x.shape}")
        self._impl(x, y, dy)
        return (y, dy) if self.grad else y

    def __repr__(self) -> str:
        return f"<symact kernel {self.fn.name} [{self.backend}, {self.dtype}, grad={self.grad}]>"


def compile(fn: Fn | str, *, backend: str = "auto", dtype: str = "float32", grad: bool = True, **params) -> Kernel:
    """A kernel for an elementwise activation: ``k(x) -> (f(x), f'(x))``.

    Args:
        fn: an :class:`~symact.Fn` or a catalog name; ``params`` bind parameters by name.
        backend: ``"auto"`` (C if a compiler is present, else numba, else NumPy), ``"c"``, ``"numba"``, ``"numpy"``.
        dtype: ``"float32"`` or ``"float64"``.
        grad: also return f'.
    """
    if isinstance(fn, str):
        fn = activation(fn, **params)
    elif params:
        raise TypeError("pass parameters to symact.activation(), or a name and parameters here")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    choices = available_backends()
    if backend == "auto":
        backend = choices[0]
    elif backend not in BACKENDS:
        raise ValueError(f"backend must be auto or one of {', '.join(BACKENDS)}")
    elif backend not in choices:
        raise RuntimeError(f"backend {backend!r} is not available here (available: {', '.join(choices)})")
    return Kernel(fn, backend, dtype, grad)

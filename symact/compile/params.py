"""Kernels with learnable parameters as array inputs: f, f' and ∂f/∂θ in one pass.

``symact.compile("prelu", learn=("alpha",))`` returns a :class:`ParamKernel`;
``k(x, alpha=a)`` broadcasts x against the parameter arrays (one value per
unit, say) and returns ``(f, f', {"alpha": ∂f/∂α})``. Every output comes from
the derived expressions: f and f' from the proven stable form, ∂f/∂θ from
``Fn.derivative(wrt=θ)`` with σ and softplus made stable. These kernels are
generated for NumPy (they serve training, where the parameter arrays change
every step).

NaN in x gives NaN in every output. At x = ±∞, f and f' are the limits, as the
stable forms give them; ∂f/∂θ are the derived forms' IEEE values, not limits
taken in the parameters: PReLU's and APLU's are the limits, but SiLU's ∂f/∂β =
x²·σ(βx)·σ(−βx) is NaN (∞·0) at ±∞ and where x² overflows (|x| > 1.3·10¹⁵⁴),
where its limit is 0.

>>> import numpy as np, symact
>>> k = symact.compile("prelu", learn=("alpha",), dtype="float64")
>>> y, dy, dtheta = k(np.array([[-2.0, 3.0]]), alpha=np.array([0.1, 0.5]))
>>> y.tolist(), dy.tolist(), dtheta["alpha"].tolist()
([[-0.2, 3.0]], [[0.1, 1.0]], [[-2.0, 0.0]])
"""

from __future__ import annotations

import numpy as np

from ..fn import Fn, sign_error
from ..rounding import lo, machine
from ..stable import stabilize_atoms, stable_form
from . import as_real, nan_where_nan
from .forms import irrationals_to_floats, with_default
from .numpy import generated_function


class ParamKernel:
    def __init__(self, fn: Fn, learn: tuple[str, ...], dtype: str):
        if fn.kind != "activation" or fn.vector:
            raise ValueError(f"{fn.name}: learnable-parameter kernels cover elementwise activations")
        self.fn, self.learn, self.dtype = fn, tuple(learn), np.dtype(dtype)
        symbols = tuple(fn.param(name) for name in self.learn)
        fixed = {s: v for s, v in fn.params.items() if s not in symbols}
        sf = stable_form(fn)
        exprs = (sf.f, sf.df, *(stabilize_atoms(fn.derivative(wrt=s)) for s in symbols))
        # a learnable parameter's low part lo(θ) is 0: its array holds the values themselves
        exprs = tuple(
            e.subs(fixed).replace(lambda a: isinstance(a, lo) and not a.args[0].is_number, lambda a: 0) for e in exprs
        )
        exprs = tuple(with_default(irrationals_to_floats(machine(e))) for e in exprs)
        self._fn = generated_function(
            fn.name, (fn.inputs[0], *symbols), exprs, "f, f' and the parameter derivatives " + ", ".join(self.learn)
        )

    def __call__(self, x, **params) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        missing = sorted(set(self.learn) - set(params))
        extra = sorted(set(params) - set(self.learn))
        if missing or extra:
            raise TypeError(f"{self.fn.name} kernel takes the parameters {', '.join(self.learn)}")
        x = as_real(x, self.dtype)
        values = [as_real(params[name], self.dtype) for name in self.learn]
        for name, v in zip(self.learn, values):
            problem = sign_error(self.fn.param(name), np.asarray(v))
            if problem:  # the stable forms take the declared sign as given (softplus's β > 0)
                raise ValueError(f"{self.fn.name}: {problem}")
        f, df, *dtheta = nan_where_nan((x,), self._fn(x, *values))  # PReLU's and APLU's kinks
        return f, df, dict(zip(self.learn, dtheta))

    def __repr__(self) -> str:
        return f"<symact parameter kernel {self.fn.name} [numpy, {self.dtype}, learn={', '.join(self.learn)}]>"

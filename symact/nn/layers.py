"""Dense layers whose activations run on symact's compiled kernels.

A layer computes a = f(x W + b). Its backward pass multiplies the incoming
gradient by f'(z), which the same fused kernel returned with f(z), or applies
the vector-Jacobian product of a vector activation. Learnable activation
parameters (PReLU's α, Swish's β, APLU's hinges) are one value per unit,
trained with the derived ∂f/∂θ.
"""

from __future__ import annotations

import numpy as np

from .. import compile as compile_kernel
from ..fn import Fn
from ..fn import activation as catalog_activation

#: He initialisation (variance 2/fan_in) suits the rectifier family; LeCun (1/fan_in) suits SELU;
#: everything else gets Glorot (2/(fan_in + fan_out)). Biases are uniform in ±1/√fan_in.
HE = {"relu", "leaky_relu", "prelu", "elu", "celu", "gelu", "gelu_tanh", "silu", "mish", "relu6", "aplu", "hard_swish"}
LECUN = {"selu"}


def resolve_activation(act: str | Fn, params: dict) -> Fn:
    if isinstance(act, Fn):
        if params:
            raise TypeError("pass activation parameters to symact.activation() when giving an Fn")
        if act.kind != "activation":
            raise ValueError(f"{act.name} is a loss, not an activation")
        return act
    return catalog_activation(act, **params)


def _positive_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1


def _input_dim(input_dim, input_shape) -> int | None:
    """The input size from Keras's ``input_dim`` or ``input_shape=(n,)``; None when neither is given."""
    if input_shape is not None:
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
        if shape is None or len(shape) != 1 or not _positive_int(shape[0]):
            raise ValueError(
                f"input_shape must be (n,) for a positive integer n (Dense takes vectors), got {input_shape!r}"
            )
        if input_dim is not None and input_dim != shape[0]:
            raise ValueError(f"input_dim={input_dim!r} and input_shape={input_shape!r} disagree")
        input_dim = shape[0]
    if input_dim is not None and not _positive_int(input_dim):
        raise ValueError(f"input_dim must be a positive integer, got {input_dim!r}")
    return None if input_dim is None else int(input_dim)


class Dense:
    """A fully connected layer: ``Dense(units, activation="relu")``.

    Args:
        units: output size.
        activation: a catalog name or alias, or an :class:`~symact.Fn` (user-defined ones too).
        use_bias: add a bias vector.
        train_activation: train the activation's learnable parameters (PReLU α, Swish β, APLU hinges).
        input_dim, input_shape: the input size, ``input_dim=3`` or ``input_shape=(3,)`` as in Keras. Optional:
            the first layer's is otherwise taken from the data at the first fit; declared, it is checked there.
        **activation_params: parameter values for the activation, e.g. ``alpha=0.1``.
    """

    def __init__(
        self,
        units: int,
        activation: str | Fn = "identity",
        *,
        use_bias: bool = True,
        train_activation: bool = True,
        input_dim: int | None = None,
        input_shape: tuple[int] | None = None,
        **activation_params,
    ):
        if not _positive_int(units):
            raise ValueError(f"units must be a positive integer, got {units!r}")
        self.units, self.use_bias = int(units), use_bias
        self.input_dim = _input_dim(input_dim, input_shape)
        self.fn = resolve_activation(activation, activation_params)
        self.train_activation = bool(train_activation)
        self.learn = tuple(p.name for p in self.fn.entry.params if p.learnable) if train_activation else ()
        self.built = False

    def count(self, fan_in: int) -> int:
        """The number of parameters this layer has on ``fan_in`` inputs."""
        return (fan_in + self.use_bias + len(self.learn)) * self.units

    # -- construction ------------------------------------------------------

    def config(self) -> dict:
        return {
            "units": self.units,
            "activation": self.fn.name,
            "params": {s.name: str(v) for s, v in self.fn.params.items()},
            "use_bias": self.use_bias,
            "train_activation": self.train_activation,
        }

    def build(self, fan_in: int, rng: np.random.Generator, dtype: np.dtype) -> None:
        name = self.fn.name
        if name in HE:
            std = np.sqrt(2.0 / fan_in)
            W = rng.normal(0.0, std, (fan_in, self.units))
        elif name in LECUN:
            W = rng.normal(0.0, np.sqrt(1.0 / fan_in), (fan_in, self.units))
        else:
            limit = np.sqrt(6.0 / (fan_in + self.units))
            W = rng.uniform(-limit, limit, (fan_in, self.units))
        self.params = {"W": W.astype(dtype)}
        if self.use_bias:
            # small random biases, as PyTorch draws them: with zero biases an odd activation (tanh) on
            # point-symmetric data gets no bias gradient, and every unit's boundary stays through the origin
            bound = 1.0 / np.sqrt(fan_in)
            self.params["b"] = rng.uniform(-bound, bound, self.units).astype(dtype)
        for p in self.fn.entry.params:
            if p.name in self.learn:
                self.params[p.name] = np.full(self.units, float(self.fn.params[p.symbol]), dtype)
        self.fan_in, self.dtype = fan_in, np.dtype(dtype)
        self._compile()
        self.built = True

    def _compile(self) -> None:
        dtype = str(self.dtype)
        if self.fn.vector:
            self.kernel = compile_kernel(self.fn, dtype=dtype)
        elif self.learn:
            self.kernel = compile_kernel(self.fn, dtype=dtype, learn=self.learn)
        else:
            self.kernel = compile_kernel(self.fn, dtype=dtype)

    # -- passes ------------------------------------------------------------

    def linear(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.params["W"]
        if self.use_bias:
            z += self.params["b"]
        return z

    def forward(self, x: np.ndarray, *, need_grad: bool = True) -> np.ndarray:
        """a = f(xW + b); keeps what backward needs when ``need_grad``."""
        z = self.linear(x)
        if self.fn.vector:
            a = self.kernel(z, axis=-1)
            self._cache = (x, z, a, None, None)
        elif self.learn:
            theta = {n: self.params[n] for n in self.learn}
            a, da, dtheta = self.kernel(z, **theta)
            self._cache = (x, z, a, da, dtheta)
        elif need_grad:
            a, da = self.kernel(z)
            self._cache = (x, z, a, da, None)
        else:
            a = self.kernel(z)[0]
        self.z = z
        return a

    def backward(self, grad_a: np.ndarray | None, *, grad_z: np.ndarray | None = None, need_input_grad: bool = True):
        """Gradients of the parameters (a dict) and of the input, from ∂L/∂a (or ∂L/∂z given directly)."""
        x, z, a, da, dtheta = self._cache
        grads = {}
        if grad_z is None:
            if self.fn.vector:
                grad_z = self.kernel.vjp(z, grad_a, axis=-1, y=a)
            else:
                grad_z = grad_a * da
                for name, d in (dtheta or {}).items():
                    grads[name] = np.einsum("ij,ij->j", grad_a, d)
        grads["W"] = x.T @ grad_z
        if self.use_bias:
            grads["b"] = grad_z.sum(axis=0)
        grad_x = grad_z @ self.params["W"].T if need_input_grad else None
        return grads, grad_x

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.fn.call!r})"

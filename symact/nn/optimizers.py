"""Optimizers: plain SGD, SGD with momentum, RMSprop, Adam and AdamW, updating parameter arrays in place,
with Keras's definitions and defaults.

An optimizer sees a list of (key, parameter, gradient) triples per step, keeps
its state per key, and can hand that state to a checkpoint and take it back.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    learning_rate: float

    def __init__(self):
        self.state: dict[str, np.ndarray] = {}
        self.iterations = 0

    def step(self, triples: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        self.iterations += 1
        for key, p, g in triples:
            self._update(key, p, g)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"iterations": np.array(self.iterations), **{f"state/{k}": v for k, v in self.state.items()}}

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None:
        self.iterations = int(d["iterations"])
        self.state = {k[len("state/") :]: np.array(v) for k, v in d.items() if k.startswith("state/")}

    def config(self) -> dict:
        return {
            "name": type(self).__name__.lower(),
            **{k: v for k, v in vars(self).items() if isinstance(v, (int, float)) and k != "iterations"},
        }


class SGD(Optimizer):
    """p ← p − η g; with momentum μ: v ← μ v − η g, p ← p + v (``nesterov``: p ← p + μ v − η g)."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__()
        _check(learning_rate=learning_rate)
        _check_rates(momentum=momentum)
        self.learning_rate, self.momentum, self.nesterov = float(learning_rate), float(momentum), bool(nesterov)

    def _update(self, key, p, g):
        lr = p.dtype.type(self.learning_rate)
        if self.momentum == 0:
            g *= lr
            p -= g
            return
        v = self.state.get(key)
        if v is None:
            v = self.state[key] = np.zeros_like(p)
        v *= p.dtype.type(self.momentum)
        g *= lr
        v -= g
        if self.nesterov:
            p += p.dtype.type(self.momentum) * v - g
        else:
            p += v


class RMSprop(Optimizer):
    """v ← ρ v + (1 − ρ) g², p ← p − η g/√(v + ε) (Hinton's lecture 6e; ε inside the root, as Keras has it);
    with momentum μ the step goes through a velocity, u ← μ u + η g/√(v + ε), p ← p − u."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7):
        super().__init__()
        _check(learning_rate=learning_rate, epsilon=epsilon)
        _check_rates(rho=rho, momentum=momentum)
        self.learning_rate, self.rho, self.momentum, self.epsilon = map(float, (learning_rate, rho, momentum, epsilon))

    def _update(self, key, p, g):
        v = self.state.setdefault("v/" + key, np.zeros_like(p))
        v *= self.rho
        v += (1 - self.rho) * g * g
        step = (self.learning_rate * g / np.sqrt(v + self.epsilon)).astype(p.dtype, copy=False)
        if self.momentum:
            u = self.state.setdefault("u/" + key, np.zeros_like(p))
            u *= self.momentum
            u += step
            step = u
        p -= step


class Adam(Optimizer):
    """Kingma & Ba (2015), with the bias corrections folded into the step size."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__()
        _check(learning_rate=learning_rate, epsilon=epsilon)
        _check_rates(beta_1=beta_1, beta_2=beta_2)
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = map(
            float, (learning_rate, beta_1, beta_2, epsilon)
        )

    def _update(self, key, p, g):
        m = self.state.setdefault("m/" + key, np.zeros_like(p))
        v = self.state.setdefault("v/" + key, np.zeros_like(p))
        t = self.iterations
        m *= self.beta_1
        m += (1 - self.beta_1) * g
        v *= self.beta_2
        v += (1 - self.beta_2) * g * g
        step = self.learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        p -= (step * m / (np.sqrt(v) + self.epsilon)).astype(p.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p ← p − η λ p, then Adam's step."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        _check(weight_decay=weight_decay)
        self.weight_decay = float(weight_decay)

    def _update(self, key, p, g):
        p -= (self.learning_rate * self.weight_decay * p).astype(p.dtype, copy=False)
        super()._update(key, p, g)


def _check(**values) -> None:
    for name, v in values.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def _check_rates(**values) -> None:
    """Decay rates and momenta lie in [0, 1)."""
    for name, v in values.items():
        if not 0 <= v < 1:
            raise ValueError(f"{name} must lie in [0, 1), got {v}")


NAMES = ("sgd", "momentum", "rmsprop", "adam", "adamw")


def get(optimizer: str | Optimizer, learning_rate: float | None, momentum: float | None = None) -> Optimizer:
    """An optimizer from a name (:data:`NAMES`) or an instance."""
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            raise TypeError("give learning_rate to the optimizer object, not to compile()")
        return optimizer
    name = str(optimizer).lower()
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    if name == "sgd":
        return SGD(momentum=momentum or 0.0, **kwargs)
    if name == "momentum":
        return SGD(momentum=0.9 if momentum is None else momentum, **kwargs)
    if name == "rmsprop":
        return RMSprop(momentum=momentum or 0.0, **kwargs)
    if name in ("adam", "adamw"):
        if momentum is not None:
            raise TypeError("momentum is a setting of SGD and RMSprop; Adam takes beta_1")
        return Adam(**kwargs) if name == "adam" else AdamW(**kwargs)
    raise ValueError(f"unknown optimizer {optimizer!r} (choose {', '.join(NAMES)}, or pass an Optimizer)")

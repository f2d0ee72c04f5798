"""Optimizers: plain SGD, SGD with momentum, and Adam, updating parameter arrays in place.

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
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
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


class Adam(Optimizer):
    """Kingma & Ba (2015), with the bias corrections folded into the step size."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__()
        _check(learning_rate=learning_rate, epsilon=epsilon)
        for name, b in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= b < 1:
                raise ValueError(f"{name} must lie in [0, 1), got {b}")
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


def _check(**values) -> None:
    for name, v in values.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def get(optimizer: str | Optimizer, learning_rate: float | None, momentum: float | None = None) -> Optimizer:
    """An optimizer from a name ("sgd", "momentum", "adam") or an instance."""
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
    if name == "adam":
        if momentum is not None:
            raise TypeError("momentum is an SGD setting; Adam takes beta_1")
        return Adam(**kwargs)
    raise ValueError(f"unknown optimizer {optimizer!r} (choose sgd, momentum, adam, or pass an Optimizer)")

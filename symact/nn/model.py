"""``Sequential``: build, compile, fit, as the seeds teach TensorFlow's three steps.

>>> import symact.nn as nn
>>> X, y = nn.datasets.load("xor")
>>> model = nn.Sequential([nn.Dense(8, "tanh"), nn.Dense(1, "sigmoid")])
>>> model.compile(loss="bce", optimizer="adam", learning_rate=0.05)
>>> history = model.fit(X, y, epochs=300, batch_size=4, seed=0, verbose=0)
>>> model.evaluate(X, y)["accuracy"]
1.0

Where the output activation is the loss's matching one (sigmoid + BCE,
softmax + cross-entropy, identity + MSE) the backward pass starts from the
proven logit gradient, ŷ − y for the first two, instead of chaining ∂L/∂ŷ
through f'; the loss value is then computed on the logits
(BCE-with-logits, softmax cross-entropy), which is the same function and
cannot overflow.
"""

from __future__ import annotations

import json
import numbers
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import compile as compile_kernel
from ..compile.loss import LossKernel, one_hot, paired_gradient
from ..fn import Fn
from ..fn import loss as catalog_loss
from ..progress import Progress
from . import optimizers
from .callbacks import Callback
from .layers import Dense

#: Output activation + loss → the same loss evaluated on the logits.
ON_LOGITS = {("sigmoid", "bce"): "bce_with_logits", ("softmax", "cross_entropy"): "softmax_cross_entropy"}
CLASSIFICATION = {
    "bce",
    "bce_with_logits",
    "focal",
    "cross_entropy",
    "softmax_cross_entropy",
    "kl_div",
    "hinge",
    "squared_hinge",
}


class TrainingError(RuntimeError):
    """Training stopped: a loss or gradient was NaN or infinite. The model keeps its last finite weights."""

    def __init__(self, message: str, epoch: int, batch: int, layer: int | None):
        super().__init__(message)
        self.epoch, self.batch, self.layer = epoch, batch, layer


@dataclass
class History:
    """Per-epoch records: ``history.history["loss"]`` as in Keras, plus diagnostics."""

    history: dict[str, list] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)

    def record(self, epoch: int, **values) -> None:
        self.epoch.append(epoch)
        for k, v in values.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key: str) -> list:
        return self.history[key]


class Sequential:
    """A stack of :class:`Dense` layers; the input size is inferred at the first fit."""

    def __init__(self, layers: list[Dense] | None = None, *, dtype: str = "float32"):
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        if dtype not in ("float32", "float64"):
            raise ValueError("dtype must be float32 or float64")
        self.dtype = np.dtype(dtype)
        self.loss_fn: Fn | None = None
        self.metrics: dict[str, LossKernel] = {}
        self.optimizer: optimizers.Optimizer | None = None
        self.history = History()

    def add(self, layer: Dense) -> None:
        if not isinstance(layer, Dense):
            raise TypeError(f"Sequential takes Dense layers, got {type(layer).__name__}")
        if self.layers and layer.input_dim is not None and layer.input_dim != self.layers[-1].units:
            raise ValueError(
                f"layer {len(self.layers) + 1} declares input_dim={layer.input_dim}, "
                f"but the layer before it has {self.layers[-1].units} units"
            )
        self.layers.append(layer)

    # -- step 2: compile ---------------------------------------------------

    def compile(
        self,
        loss: str | Fn = "mse",
        optimizer: str | optimizers.Optimizer = "sgd",
        *,
        learning_rate: float | None = None,
        momentum: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        metrics: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Choose the loss (a catalog name or Fn) and the optimizer (sgd, momentum, rmsprop, adam, adamw, or an object).

        ``metrics`` as in Keras: "accuracy" (recorded for every classification loss anyway) or catalog losses
        such as "mae" or "rmse", reported per epoch (the mean over its batches; RMSE the root of the mean
        square) and by :meth:`evaluate`, but not trained on.
        """
        if not self.layers:
            raise ValueError("add layers before compile()")
        fn = catalog_loss(loss) if isinstance(loss, str) else loss
        if not isinstance(fn, Fn) or fn.kind != "loss":
            raise ValueError(f"{getattr(fn, 'name', fn)} is not a loss")
        for name, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue)):
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number")
        self.metrics = self._metrics(metrics, fn)
        self.loss_fn = fn
        self.optimizer = optimizers.get(optimizer, learning_rate, momentum)
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        out = self.layers[-1].fn
        self.categorical = len(fn.inputs) > 1
        self._loss = LossKernel(fn, str(self.dtype))
        # ŷ − y is the gradient of the per-sample loss; RMSE's square root of the mean needs the chain rule
        matched = out.name == fn.entry.output_activation and fn.entry.reduction == "mean"
        self._paired = paired_gradient(fn) if matched else None
        logits = ON_LOGITS.get((out.name, fn.name))
        self._logit_loss = compile_kernel(catalog_loss(logits), dtype=str(self.dtype)) if logits else None
        self.classification = fn.name in CLASSIFICATION

    def _metrics(self, names, fn: Fn) -> dict[str, LossKernel]:
        """Each metric's loss kernel by name; accuracy is the classification losses' own."""
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise ValueError(f"metrics must be a list of names, got {names!r}")
        out = {}
        for name in names:
            if name in ("accuracy", "acc"):
                if fn.name not in CLASSIFICATION:
                    raise ValueError(f"accuracy needs a classification loss, not {fn.name}")
                continue
            metric = catalog_loss(name)  # an unknown name: a ValueError with the closest names
            if (len(metric.inputs) > 1) != (len(fn.inputs) > 1):
                raise ValueError(f"metric {name} takes {'class rows' if len(metric.inputs) > 1 else 'one output'}")
            out[metric.name] = LossKernel(metric, str(self.dtype))
        return out

    def _metric_values(self, out: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return {name: kernel.value(out, y) for name, kernel in self.metrics.items()}

    # -- data checks -------------------------------------------------------

    def _check_xy(self, X, y, what: str = "training data") -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what}: X must be 2-D (samples, features), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{what}: X has no samples")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"{what}: X must be numeric, got {X.dtype}")
        X = X.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{what}: X contains NaN or inf")
        if self.layers[0].built and X.shape[1] != self.layers[0].fan_in:
            raise ValueError(f"{what}: X has {X.shape[1]} features, the model was built for {self.layers[0].fan_in}")
        declared = self.layers[0].input_dim
        if declared is not None and X.shape[1] != declared:
            raise ValueError(f"{what}: X has {X.shape[1]} features, the first layer declares input_dim={declared}")
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{what}: X has {X.shape[0]} samples but y has {y.shape[0]}")
        units = self.layers[-1].units
        if self.categorical:
            if y.ndim == 1:
                y = one_hot(y, units, self.dtype)  # checks the labels are integers 0 … units−1
            elif y.shape[1] != units:
                raise ValueError(f"{what}: y has {y.shape[1]} columns but the output layer has {units} units")
        else:
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2 or y.shape[1] != units:
                raise ValueError(f"{what}: y has shape {y.shape}, the output layer gives (N, {units})")
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            raise ValueError(f"{what}: y must be numeric")
        y = y.astype(self.dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{what}: y contains NaN or inf")
        if self.loss_fn.name in ("bce", "bce_with_logits", "focal") and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{what}: {self.loss_fn.name} needs targets in [0, 1], got {y.min()} … {y.max()}")
        return X, y

    def _build(self, fan_in: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.build(fan_in, rng, self.dtype)
            fan_in = layer.units

    # -- passes ------------------------------------------------------------

    def _forward(self, X: np.ndarray, need_grad: bool) -> np.ndarray:
        a = X
        with np.errstate(over="ignore", invalid="ignore"):  # overflow becomes inf/NaN, which fit() reports
            for layer in self.layers:
                a = layer.forward(a, need_grad=need_grad)
        return a

    def _loss_and_grad(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """(loss, ∂L/∂a of the output, or None, ∂L/∂z of the output, or None)."""
        last = self.layers[-1]
        if self._paired is not None:
            samples = out.shape[0] if self.categorical else out.size
            value = self._logit_loss.value(last.z, y) if self._logit_loss is not None else self._loss.value(out, y)
            (g,) = self._paired(out, y)
            g /= samples
            return value, None, g
        value, g = self._loss(out, y)
        return value, g, None

    def _backward(self, grad_a, grad_z) -> list[dict[str, np.ndarray]]:
        grads = [None] * len(self.layers)
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(len(self.layers) - 1, -1, -1):
                grads[i], grad_a = self.layers[i].backward(grad_a, grad_z=grad_z, need_input_grad=i > 0)
                grad_z = None
        return grads

    # -- step 3: fit -------------------------------------------------------

    def fit(
        self,
        X,
        y,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data=None,
        validation_split: float = 0.0,
        seed: int = 0,
        verbose: int = 1,
        shuffle: bool = True,
        diagnostics: bool = True,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        callbacks: list[Callback] | tuple[Callback, ...] = (),
    ) -> History:
        """Train by minibatch gradient descent on the derived gradients.

        Args:
            epochs: how many epochs to train, as in Keras: a second call trains as many more, and two calls of
                3 epochs give bitwise the weights and history of one of 6 (the epochs are numbered on, and the
                first call's seed stays). With ``resume``, the epoch to train up to, counting the checkpoint's:
                the interrupted run's own call, repeated with ``resume``, finishes that run.
            validation_data: ``(X_val, y_val)``, evaluated after every epoch (``val_`` entries in the history).
            validation_split: instead, the fraction of the samples to hold out for that, as Keras takes it: the
                last ones, before any shuffling (so a resumed run holds out the same).
            seed: fixes the initial weights and the shuffling: the same seed gives bitwise-identical results.
            verbose: 0 silent, 1 a progress bar.
            diagnostics: record per-layer gradient norms and dead / saturated unit fractions.
            checkpoint: write an atomic checkpoint here every ``checkpoint_every`` epochs (and at the end).
            resume: continue from a checkpoint, bitwise-identically to an uninterrupted run.
            callbacks: told after every epoch, as in Keras; :class:`~symact.nn.EarlyStopping` ends training
                when the monitored figure stops improving.
        """
        if self.loss_fn is None:
            raise RuntimeError("call compile() before fit()")
        for name, v in (("epochs", epochs), ("batch_size", batch_size), ("checkpoint_every", checkpoint_every)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        split_ok = isinstance(validation_split, numbers.Real) and not isinstance(validation_split, bool)
        if not (split_ok and 0 <= validation_split < 1):  # NaN fails the comparison
            raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if resume is not None:
            self._restore(resume, X)
        X, y = self._check_xy(X, y)
        held_out = int(round(validation_split * X.shape[0]))
        if held_out:
            if held_out == X.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves no training samples of {X.shape[0]}")
            X, y, validation_data = X[:-held_out], y[:-held_out], (X[-held_out:], y[-held_out:])
        logged = {"loss", *(["accuracy"] if self.classification else []), *self.metrics}
        logged |= {f"val_{k}" for k in logged} if validation_data is not None else set()
        for callback in callbacks:  # (before the weights are made: a callback may refuse this fit)
            callback.on_train_begin(self, logged)
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be (X_val, y_val)")
            val = self._check_xy(*validation_data, what="validation data") if self.layers[0].built else None
        if not self.layers[0].built:
            self._build(X.shape[1], seed)
            self.seed = seed
            if validation_data is not None:
                val = self._check_xy(*validation_data, what="validation data")
        elif resume is None and not self.history.epoch:
            self.seed = seed
        start = len(self.history.epoch)
        end = epochs if resume is not None else start + epochs  # a later call trained none where it said "up to"
        n = X.shape[0]
        batches = -(-n // batch_size)
        with Progress((end - start) * batches, "fit", enabled=verbose > 0) as bar:
            for epoch in range(start, end):
                record = self._epoch(X, y, epoch, batch_size, shuffle, diagnostics, bar)
                if validation_data is not None:
                    record.update({f"val_{k}": v for k, v in self.evaluate(*val).items()})
                self.history.record(epoch + 1, **record)
                stop = any([c.on_epoch_end(self, epoch + 1, record) for c in callbacks])  # (each one told)
                if checkpoint is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == end or stop):
                    self.save(checkpoint)
                if stop:
                    break
        for callback in callbacks:
            callback.on_train_end(self)
        return self.history

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's parameters in order (W, b, then any trained activation parameters), as Keras."""
        return [p.copy() for layer in self.layers for p in layer.params.values()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Set the parameters from a list like :meth:`get_weights`'s, checked for count and shapes first."""
        slots = [(layer, k) for layer in self.layers for k in layer.params]
        if not self.layers or not self.layers[0].built:
            raise RuntimeError("the model is not built yet: fit() it or load() one")
        if len(weights) != len(slots):
            raise ValueError(f"expected {len(slots)} arrays, got {len(weights)}")
        for (layer, k), w in zip(slots, weights):
            if np.shape(w) != layer.params[k].shape:
                raise ValueError(f"{k} of {layer!r} has shape {layer.params[k].shape}, got {np.shape(w)}")
        for (layer, k), w in zip(slots, weights):
            layer.params[k] = np.array(w, dtype=layer.params[k].dtype)

    def _epoch(self, X, y, epoch, batch_size, shuffle, diagnostics, bar) -> dict:
        n = X.shape[0]
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if shuffle else np.arange(n)
        started = time.perf_counter()
        snapshot = [{k: v.copy() for k, v in layer.params.items()} for layer in self.layers]
        total, correct, norms, sums = 0.0, 0, np.zeros(len(self.layers)), {}
        active = [np.zeros(layer.units, bool) for layer in self.layers] if diagnostics else None
        saturated = np.zeros(len(self.layers)) if diagnostics else None
        for b, lo in enumerate(range(0, n, batch_size)):
            idx = order[lo : lo + batch_size]
            xb, yb = X[idx], y[idx]
            out = self._forward(xb, need_grad=True)
            value, grad_a, grad_z = self._loss_and_grad(out, yb)
            if not np.isfinite(value):
                self._fail(f"the loss is {value} at epoch {epoch + 1}, batch {b + 1}", epoch, b, None, snapshot)
            grads = self._backward(grad_a, grad_z)
            with np.errstate(over="ignore", invalid="ignore"):
                squares = np.array([sum(float(np.vdot(g, g)) for g in lg.values()) for lg in grads])
            bad = np.flatnonzero(~np.isfinite(squares))
            if bad.size:
                i = int(bad[-1])  # the first layer backpropagation reached with a non-finite gradient
                self._fail(
                    f"a gradient is NaN or inf at epoch {epoch + 1}, batch {b + 1}, layer {i + 1} ({self.layers[i]!r})",
                    epoch,
                    b,
                    i,
                    snapshot,
                )
            self._clip(grads, squares)
            self.optimizer.step(
                [
                    (f"{i}/{k}", layer.params[k], g)
                    for i, (layer, layer_grads) in enumerate(zip(self.layers, grads))
                    for k, g in layer_grads.items()
                ]
            )
            total += value * len(idx)
            for name, v in self._metric_values(out, yb).items():  # (RMSE: sums of squares, rooted below)
                sums[name] = sums.get(name, 0.0) + (v * v if self.metrics[name].fn.rooted else v) * len(idx)
            norms += np.sqrt(squares)
            if self.classification:
                correct += self._correct(out, yb)
            if diagnostics:
                self._diagnose(active, saturated)
            bar.update(1, epoch=epoch + 1, loss=value)
        batches = -(-n // batch_size)
        record = {"loss": total / n, "time": time.perf_counter() - started}
        if self.classification:
            record["accuracy"] = correct / n
        for name, v in sums.items():
            record[name] = float(np.sqrt(v / n)) if self.metrics[name].fn.rooted else v / n
        if diagnostics:
            record["grad_norm"] = (norms / batches).tolist()
            record["dead_fraction"] = [
                float(1 - a.mean()) if not layer.fn.vector else None for a, layer in zip(active, self.layers)
            ]
            record["saturated_fraction"] = (saturated / n).tolist()
        return record

    def _clip(self, grads, squares) -> None:
        if self.clipvalue is not None:
            for layer_grads in grads:
                for g in layer_grads.values():
                    np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            total = float(np.sqrt(sum(float(np.vdot(g, g)) for lg in grads for g in lg.values())))
            if total > self.clipnorm:
                for layer_grads in grads:
                    for g in layer_grads.values():
                        g *= g.dtype.type(self.clipnorm / total)

    def _diagnose(self, active, saturated) -> None:
        for i, layer in enumerate(self.layers):
            da = layer._cache[3]
            if da is None:
                continue
            active[i] |= np.any(da != 0, axis=0)
            threshold = _saturation_threshold(layer)
            if threshold is not None:
                saturated[i] += np.count_nonzero(np.abs(da) < threshold) / layer.units

    def _fail(self, message, epoch, batch, layer, snapshot) -> None:
        finite = all(np.all(np.isfinite(p)) for lyr in self.layers for p in lyr.params.values())
        if not finite:  # the update before this batch overflowed: fall back to the weights at the epoch's start
            for lyr, saved in zip(self.layers, snapshot):
                lyr.params.update(saved)
            message += "; the weights are restored to the start of this epoch"
        else:
            message += "; the model keeps the last weights, before this batch"
        raise TrainingError(
            message + ". Try a smaller learning rate or clipnorm=.",
            epoch + 1,
            batch + 1,
            None if layer is None else layer + 1,
        )

    def _correct(self, out, y) -> int:
        if self.categorical or out.shape[1] > 1:
            return int(np.count_nonzero(np.argmax(out, axis=1) == np.argmax(y, axis=1)))
        threshold = 0.5 if self.layers[-1].fn.name in ("sigmoid", "hard_sigmoid") else 0.0
        if self.loss_fn.name in ("hinge", "squared_hinge"):
            return int(np.count_nonzero((out > 0) == (y > 0)))
        return int(np.count_nonzero((out > threshold) == (y > 0.5)))

    # -- use ---------------------------------------------------------------

    def _outputs(self, X, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """(outputs, output-layer logits) over X in batches."""
        if not self.layers or not self.layers[0].built:
            raise RuntimeError("the model is not built yet: fit() it or load() one")
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.layers[0].fan_in:
            raise ValueError(f"X must have shape (N, {self.layers[0].fan_in}), got {X.shape}")
        outs, logits = [], []
        for i in range(0, len(X), batch_size):
            outs.append(self._forward(X[i : i + batch_size], need_grad=False))
            logits.append(self.layers[-1].z)
        if not outs:
            empty = np.empty((0, self.layers[-1].units), self.dtype)
            return empty, empty
        return np.concatenate(outs), np.concatenate(logits)

    def predict(self, X, *, batch_size: int = 4096) -> np.ndarray:
        """The network's outputs for X (probabilities for a sigmoid or softmax output)."""
        return self._outputs(X, batch_size)[0]

    def evaluate(self, X, y) -> dict[str, float]:
        """Mean loss (and accuracy for classification losses) over the whole set."""
        if self.loss_fn is None:
            raise RuntimeError("call compile() before evaluate()")
        X, y = self._check_xy(X, y, "evaluation data")
        out, z = self._outputs(X)
        value = self._logit_loss.value(z, y) if self._logit_loss is not None else self._loss.value(out, y)
        result = {"loss": value}
        if self.classification:
            result["accuracy"] = self._correct(out, y) / len(X)
        return result | self._metric_values(out, y)

    # -- checkpoints -------------------------------------------------------

    def config(self) -> dict:
        return {
            "dtype": str(self.dtype),
            "layers": [layer.config() for layer in self.layers],
            "fan_in": self.layers[0].fan_in if self.layers and self.layers[0].built else None,
        }

    def save(self, path: str | Path) -> None:
        """Weights, optimizer state, history and seed, written atomically (temp file, fsync, rename)."""
        if not self.layers[0].built:
            raise RuntimeError("nothing to save: the model is not built yet")
        arrays = {f"layer{i}/{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}
        if self.optimizer is not None:
            arrays.update({f"optimizer/{k}": v for k, v in self.optimizer.state_dict().items()})
        meta = {
            "format": "symact.nn/1",
            "config": self.config(),
            "seed": int(self.seed),
            "history": self.history.history,
            "epoch": self.history.epoch,
            "loss": None if self.loss_fn is None else self.loss_fn.name,
            "optimizer": None if self.optimizer is None else self.optimizer.config(),
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        write_npz_atomic(Path(path), arrays)

    def _restore(self, path, X) -> None:
        arrays, meta = read_checkpoint(path)
        if meta["config"]["layers"] != [layer.config() for layer in self.layers]:
            raise ValueError(f"{path}: the checkpoint is for a different architecture")
        if not self.layers[0].built:
            self._build(meta["config"]["fan_in"], meta["seed"])
        self._load_arrays(arrays)
        self.seed = meta["seed"]
        self.history = History(history=meta["history"], epoch=meta["epoch"])

    def _load_arrays(self, arrays) -> None:
        for i, layer in enumerate(self.layers):
            for k in layer.params:
                layer.params[k] = arrays[f"layer{i}/{k}"].copy()
        if self.optimizer is not None:
            state = {k[len("optimizer/") :]: v for k, v in arrays.items() if k.startswith("optimizer/")}
            if state:
                self.optimizer.load_state_dict(state)

    @classmethod
    def load(cls, path: str | Path) -> Sequential:
        """A model saved by :meth:`save` (compile it again to train on, or to evaluate)."""
        arrays, meta = read_checkpoint(path)
        cfg = meta["config"]
        layers = []
        for lc in cfg["layers"]:
            from ..parse import as_expr

            params = {k: as_expr(v) for k, v in lc["params"].items()}
            layers.append(
                Dense(
                    lc["units"],
                    lc["activation"],
                    use_bias=lc["use_bias"],
                    train_activation=lc["train_activation"],
                    **params,
                )
            )
        model = cls(layers, dtype=cfg["dtype"])
        model._build(cfg["fan_in"], meta["seed"])
        model._load_arrays(arrays)
        model.seed = meta["seed"]
        model.history = History(history=meta["history"], epoch=meta["epoch"])
        if meta.get("loss"):
            model.compile(loss=meta["loss"])
        return model

    def summary(self, print_fn=print) -> None:
        """Print the layers with their output sizes and parameter counts (known once built, or with a declared
        ``input_dim``), as Keras does; ``print_fn`` gets the table as one string instead (returning it, the
        method printed nothing in a script and the escaped string in a REPL)."""
        print_fn(self._summary_text())

    def _summary_text(self) -> str:
        lines = [f"{'layer':<34}{'output':>10}{'params':>10}"]
        known = bool(self.layers) and (self.layers[0].built or self.layers[0].input_dim is not None)
        total, fan_in = 0, self.layers[0].input_dim if self.layers else None
        for i, layer in enumerate(self.layers):
            if layer.built:
                count = sum(p.size for p in layer.params.values())
            else:
                count = layer.count(fan_in) if known else None
            total += count or 0
            fan_in = layer.units
            lines.append(f"{i + 1:>2} {layer!r:<31}{layer.units:>10}{'?' if count is None else count:>10}")
        lines.append(f"total parameters: {total if known else '? (built at the first fit)'}")
        return "\n".join(lines)


_THRESHOLDS: dict[str, float | None] = {}


def _saturation_threshold(layer: Dense) -> float | None:
    """1 % of max |f'| for activations whose f' vanishes at both ends (sigmoid, tanh, …); None otherwise."""
    key = layer.fn.name + str(sorted((s.name, str(v)) for s, v in layer.fn.params.items()))
    if key not in _THRESHOLDS:
        _THRESHOLDS[key] = None
        if not layer.fn.vector and not layer.learn:
            grid = np.linspace(-30, 30, 60001, dtype=layer.dtype)
            _, d = layer.kernel(np.concatenate([grid, np.array([-1e4, 1e4], layer.dtype)]))
            if abs(d[-1]) < 1e-12 and abs(d[-2]) < 1e-12 and np.max(np.abs(d)) > 0:
                _THRESHOLDS[key] = 0.01 * float(np.max(np.abs(d[:-2])))
    return _THRESHOLDS[key]


def write_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez to a temporary file in the same directory, fsync, rename, fsync the directory:
    a crash at any point leaves either the old file or the new one, never half of one. (One writer per
    path: a successful write removes the temporary files that killed writers left behind.)"""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a writer that was killed mid-write
        stale.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (ValueError, KeyError, OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a symact checkpoint ({e})") from None
    if meta.get("format") != "symact.nn/1":
        raise ValueError(f"{path} is not a symact checkpoint")
    return arrays, meta

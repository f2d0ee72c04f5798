"""Callbacks for :meth:`Sequential.fit`, as in Keras: ``fit(..., callbacks=[EarlyStopping(patience=10)])``.

A callback is told when training starts and after every epoch, with that
epoch's record (``loss``, ``val_loss``, ``accuracy``, …); returning True from
:meth:`Callback.on_epoch_end` stops training after that epoch.
"""

from __future__ import annotations

import math


class Callback:
    def on_train_begin(self, model, logs_available: set[str]) -> None:
        """Before the first epoch of a fit; ``logs_available``: the keys each epoch's record will have."""

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        """After epoch ``epoch`` (counted from 1); True stops training."""
        return False

    def on_train_end(self, model) -> None:
        """After the last epoch of a fit, stopped early or not."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs; with
    ``restore_best_weights``, a stopped fit ends with the weights of the best epoch (as in Keras, a fit that runs
    its epochs keeps the last). A loss improves downwards, an accuracy upwards (``mode="auto"``).
    ``stopped_epoch`` is the epoch training stopped after (0: it was not stopped), ``best_epoch`` the best's."""

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ):
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError(f"patience must be a whole number of epochs, got {patience!r}")
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be auto, min or max, got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, float(min_delta)
        self.mode = mode if mode != "auto" else ("max" if "accuracy" in monitor else "min")
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, model, logs_available: set[str]) -> None:
        if self.monitor not in logs_available:
            hint = " (give validation_data or validation_split)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which this fit does not record{hint}")
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, 0, 0, 0
        self.best_weights = None

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        value = logs[self.monitor]
        sign = 1 if self.mode == "min" else -1
        if self.best is None or sign * (self.best - value) > self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = model.get_weights()
            return False
        self.wait += 1
        if self.wait >= self.patience:  # Keras's count: patience=2 stops after 2 epochs without improvement
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model) -> None:
        if self.restore_best_weights and self.stopped_epoch and self.best_weights is not None:
            model.set_weights(self.best_weights)

"""Small neural networks trained on symact's derived, compiled kernels.

``Sequential([Dense(16, "relu"), Dense(1, "sigmoid")])``, ``compile(loss="bce")``,
``fit(X, y, epochs=...)``: the three steps of the seeds' TensorFlow examples.
"""

from . import datasets
from .callbacks import Callback, EarlyStopping
from .layers import Dense
from .model import History, Sequential, TrainingError
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop

__all__ = [
    "Adam",
    "AdamW",
    "Callback",
    "Dense",
    "EarlyStopping",
    "History",
    "Optimizer",
    "RMSprop",
    "SGD",
    "Sequential",
    "TrainingError",
    "datasets",
]

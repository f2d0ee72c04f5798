"""Built-in datasets, generated on the spot from a seed (nothing is downloaded), and file loaders.

>>> X, y = load("moons", n=200, seed=1)
>>> X.shape, y.shape, sorted(set(y.tolist()))
((200, 2), (200,), [0, 1])
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

Dataset = tuple[np.ndarray, np.ndarray]


def xor(n: int = 4, noise: float = 0.0, seed: int = 0) -> Dataset:
    """The four XOR points (n = 4), or n noisy copies of them: y = x₁ XOR x₂."""
    base = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    rng = np.random.default_rng(seed)
    idx = np.arange(n) % 4
    X = base[idx] + (rng.normal(0, noise, (n, 2)) if noise else 0.0)
    return X, (base[idx, 0] != base[idx, 1]).astype(np.int64)


def moons(n: int = 400, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's make_moons recipe)."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n - n_out)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)], np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
    y = np.r_[np.zeros(n_out, np.int64), np.ones(n - n_out, np.int64)]
    X += rng.normal(0, noise, X.shape)
    return _shuffled(X, y, rng)


def circles(n: int = 400, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    """A circle inside a circle of radius 1 (inner radius ``factor``)."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n - n_out, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)]])
    y = np.r_[np.zeros(n_out, np.int64), np.ones(n - n_out, np.int64)]
    X += rng.normal(0, noise, X.shape)
    return _shuffled(X, y, rng)


def spirals(n: int = 600, classes: int = 2, noise: float = 0.1, turns: float = 1.25, seed: int = 0) -> Dataset:
    """``classes`` interleaved Archimedean spirals (CS231n's recipe); labels 0 … classes − 1."""
    rng = np.random.default_rng(seed)
    per = n // classes
    Xs, ys = [], []
    for k in range(classes):
        m = per if k < classes - 1 else n - per * (classes - 1)
        r = np.linspace(0.05, 1.0, m)
        t = np.linspace(0, turns * 2 * np.pi, m) + 2 * np.pi * k / classes + rng.normal(0, noise, m)
        Xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(m, k, np.int64))
    return _shuffled(np.concatenate(Xs), np.concatenate(ys), rng)


def blobs(n: int = 300, classes: int = 3, features: int = 2, spread: float = 0.6, seed: int = 0) -> Dataset:
    """Gaussian clusters around centres spaced on a circle (in the first two features)."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = np.zeros((classes, features))
    centres[:, 0], centres[:, 1 % features] = 2.5 * np.cos(angles), 2.5 * np.sin(angles)
    y = np.arange(n) % classes
    X = centres[y] + rng.normal(0, spread, (n, features))
    return _shuffled(X, y.astype(np.int64), rng)


def linear(n: int = 200, features: int = 1, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Noisy linear regression y = X w + b + ε with w = 1, 2, …, b = 0.5."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, features))
    y = X @ np.arange(1, features + 1, dtype=float) + 0.5 + rng.normal(0, noise, n)
    return X, y


def demand(n: int = 400, seed: int = 0) -> Dataset:
    """The seeds' demand-prediction example: is a T-shirt a top seller?

    Features: price, shipping cost, marketing and material quality (standardised).
    Three hidden causes make a seller: affordability (low price + shipping),
    awareness (marketing) and perceived quality (material, and price as a signal).
    """
    rng = np.random.default_rng(seed)
    price, shipping, marketing, material = rng.normal(0, 1, (4, n))
    affordability = 1 / (1 + np.exp(2 * price + 1.5 * shipping))
    awareness = np.maximum(0, marketing + 0.5)
    quality = 1 / (1 + np.exp(-(1.5 * material + 0.5 * price)))
    score = 4 * affordability + 1.5 * awareness + 3 * quality - 4.5
    y = (score + rng.normal(0, 0.3, n) > 0).astype(np.int64)
    return np.c_[price, shipping, marketing, material], y


BUILTIN: dict[str, Callable[..., Dataset]] = {
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "blobs": blobs,
    "linear": linear,
    "demand": demand,
}


def load(name: str, **kwargs) -> Dataset:
    """A built-in dataset by name (``xor``, ``moons``, …), or a ``.csv``/``.npz``/``.npy`` file path."""
    if name in BUILTIN:
        return BUILTIN[name](**kwargs)
    path = Path(name)
    if path.suffix == ".csv":
        return from_csv(path, **kwargs)
    if path.suffix in (".npz", ".npy"):
        return from_numpy(path, **kwargs)
    raise ValueError(f"unknown dataset {name!r}: use one of {', '.join(BUILTIN)}, or a .csv, .npz or .npy file")


def from_numpy(path: str | Path, x_key: str = "X", y_key: str = "y") -> Dataset:
    """X and y from a ``.npz`` (keys ``X`` and ``y``) or a ``.npy`` array whose last column is y."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False)
        if a.ndim != 2 or a.shape[1] < 2:
            raise ValueError(f"{path}: expected a 2-D array whose last column is the target")
        return a[:, :-1], a[:, -1]
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in (x_key, y_key) if k not in data.files]
        if missing:
            raise ValueError(f"{path}: no array named {', '.join(missing)} (has {', '.join(data.files)})")
        return data[x_key], data[y_key]


def from_csv(path: str | Path, target: str | int = -1) -> Dataset:
    """A CSV's features and target (:func:`read_csv`, without the class names)."""
    X, y, _ = read_csv(path, target)
    return X, y


def read_csv(path: str | Path, target: str | int = -1) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(X, y, class names) from a CSV; a header row is detected. ``target`` is the y column (name or index,
    default the last). Features are numbers; targets are numbers (class names None), or text labels, which
    become the class indices 0 … K−1 in sorted order, the names in that order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = None
    if not any(_number(v) for v in rows[0]):  # a header: no number in it (a first row of labels has features)
        header, rows = rows[0], rows[1:]
    width = len(rows[0]) if rows else 0
    if width < 2:
        raise ValueError(f"{path}: need at least two columns (features and a target)")
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"{path}: row {i + 1 + (header is not None)} has {len(r)} columns, expected {width}")
    if isinstance(target, str):
        if header is None or target not in header:
            raise ValueError(f"{path}: no column named {target!r}")
        target = header.index(target)
    col = target % width
    data = np.empty((len(rows), width))
    for i, r in enumerate(rows):
        try:
            data[i] = [0.0 if j == col else float(v) for j, v in enumerate(r)]
        except ValueError as e:
            raise ValueError(f"{path}: row {i + 1 + (header is not None)}: {e}") from None
    labels = [r[col].strip() for r in rows]
    if all(_number(v) for v in labels):
        y, classes = np.array([float(v) for v in labels]), None
        if np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
    else:
        if any(v == "" for v in labels):
            row = labels.index("") + 1 + (header is not None)
            raise ValueError(f"{path}: row {row}: no target")
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels], dtype=np.int64)
    return np.delete(data, col, axis=1), y, classes


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shuffled(X, y, rng) -> Dataset:
    order = rng.permutation(len(y))
    return X[order], y[order]

"""Independent reference solvers the experiments compare trained networks with.

These use no gradient descent and nothing from symact's kernels: logistic
regression by Newton's method (IRLS) and linear least squares by a QR solve.
"""

from __future__ import annotations

import numpy as np


def logistic_regression_irls(X: np.ndarray, y: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100):
    """Maximum-likelihood (w, b) of P(y = 1 | x) = σ(x·w + b) by iteratively reweighted least squares."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    A = np.c_[X, np.ones(len(X))]
    beta = np.zeros(A.shape[1])
    for _ in range(max_iter):
        p = 0.5 * (1 + np.tanh(0.5 * (A @ beta)))  # σ without overflow
        W = p * (1 - p)
        step = np.linalg.solve(A.T @ (A * W[:, None]), A.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    else:
        raise RuntimeError("IRLS did not converge (is the data separable?)")
    return beta[:-1], beta[-1]


def least_squares(X: np.ndarray, y: np.ndarray):
    """(W, b) minimising ‖X W + b − y‖² (y may have several columns)."""
    X = np.asarray(X, dtype=np.float64)
    A = np.c_[X, np.ones(len(X))]
    sol, *_ = np.linalg.lstsq(A, np.asarray(y, dtype=np.float64), rcond=None)
    return sol[:-1], sol[-1]


def end_to_end_linear(model) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map (W, b) that a stack of identity-activation Dense layers computes."""
    W = np.eye(model.layers[0].fan_in)
    b = np.zeros(model.layers[0].fan_in)
    for layer in model.layers:
        if layer.fn.name != "identity":
            raise ValueError(f"{layer!r} is not linear")
        Wl = layer.params["W"].astype(np.float64)
        bl = layer.params.get("b", np.zeros(layer.units)).astype(np.float64)
        W, b = W @ Wl, b @ Wl + bl
    return W, b

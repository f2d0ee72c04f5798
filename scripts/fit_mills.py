"""Fit the rational function behind GELU's kernels: the Mills ratio M(a) = (1 − Φ(a))/φ(a) on [0, A].

Run: python scripts/fit_mills.py [--range 41] [--degree 10]

M is fitted as V(a)/R(a), deg R = deg V + 1, by weighted linear least squares on Chebyshev
nodes at 50 digits, reweighted by the previous denominator (Loeb's iteration), so the error
is nearly equioscillating in relative terms. The coefficients are rounded to doubles, and the
denominator is printed as U = R − a·V (from the unrounded R), the form the kernels evaluate (D = a·V + U, with
no cancellation). symact/mills.py holds the printed tuples; its proof
(symact.mills.mills_bound) bounds the error of exactly these doubles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symact.mills import mills_reference as mills  # noqa: E402


def fit(span: float, p: int, nodes: int = 400, rounds: int = 6):
    q = p + 1
    xs = [span / 2 * (1 - mpmath.cos(mpmath.pi * (k + 0.5) / nodes)) for k in range(nodes)]
    ms = [mills(a) for a in xs]
    weights = [mpmath.mpf(1)] * nodes
    for _ in range(rounds):
        rows, rhs = [], []
        for a, m, w in zip(xs, ms, weights):
            s = 1 / (m * w)
            rows.append([a**i * s for i in range(p + 1)] + [-m * a**j * s for j in range(1, q + 1)])
            rhs.append(m * s)
        sol = mpmath.qr_solve(mpmath.matrix(rows), mpmath.matrix(rhs))[0]
        v = [sol[i] for i in range(p + 1)]
        r = [mpmath.mpf(1)] + [sol[p + j] for j in range(1, q + 1)]
        weights = [mpmath.polyval(r[::-1], a) for a in xs]
    return v, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--range", type=float, default=41.0)
    ap.add_argument("--degree", type=int, default=10)
    args = ap.parse_args()
    mpmath.mp.dps = 50
    v, r = fit(args.range, args.degree)
    v = [float(c) for c in v]
    # U from the unrounded R and the rounded V: rounding R itself would cost ~2^-53 of M, while
    # U's rounding reaches M only through U/D, which is small where U's high terms matter
    u = [float(r[0])] + [float(r[k] - mpmath.mpf(v[k - 1])) for k in range(1, len(r))]
    print("V =", tuple(v))
    print("U =", tuple(u))
    worst = 0
    for k in range(2001):
        a = mpmath.mpf(args.range) * k / 2000
        vv = mpmath.polyval([mpmath.mpf(c) for c in v[::-1]], a)
        d = a * vv + mpmath.polyval([mpmath.mpf(c) for c in u[::-1]], a)
        worst = max(worst, abs(vv / d / mills(a) - 1))
    print(f"max relative error on a 2001-point grid: {float(worst):.3g}")


if __name__ == "__main__":
    main()

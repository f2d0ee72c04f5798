"""Fit the rational functions behind GELU's kernels: the Mills ratio M(a) = (1 − Φ(a))/φ(a) on [0, A].

Run: python scripts/fit_mills.py [--range 41] [--degree 10]
     python scripts/fit_mills.py --single [--range 14] [--degree 5]

M is fitted as V(a)/R(a), deg R = deg V + 1, by weighted linear least squares on Chebyshev
nodes at 50 digits, reweighted by the previous denominator (Loeb's iteration), so the error
is nearly equioscillating in relative terms. The coefficients are rounded to doubles, and the
denominator is printed as U = R − a·V (from the unrounded R), the form the kernels evaluate (D = a·V + U, with
no cancellation). symact/mills.py holds the printed tuples; its proof
(symact.mills.mills_bound) bounds the error of exactly these doubles.

``--single`` fits the float32 kernels' W(a) = (M(a) − M(r))/(a − r), r the double nearest the root of
M(a) = a, as P(a)/Q(a) with deg Q = deg P + 1, weighted so that both M = M(r) + (a − r)·W and
M − a = (M(r) − r) + (a − r)·(W − 1) have a small relative error (symact.mills.single_bound proves it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symact.mills import mills_reference as mills  # noqa: E402
from symact.mills import mills_root  # noqa: E402


def _nodes(span: float, nodes: int) -> list:
    """Chebyshev nodes on [0, span]."""
    return [span / 2 * (1 - mpmath.cos(mpmath.pi * (k + 0.5) / nodes)) for k in range(nodes)]


def _loeb(xs, ys, scale, p: int, rounds: int):
    """Numerator (degree p) and denominator (degree p + 1, constant term 1) of N/R ≈ y at the nodes xs,
    minimizing Σ ((N − y·R)·scale/R_prev)², R_prev the previous round's denominator: Loeb's iteration,
    whose error is nearly equioscillating in (y − N/R)·scale."""
    q = p + 1
    weights = [mpmath.mpf(1)] * len(xs)
    for _ in range(rounds):
        rows, rhs = [], []
        for a, y, o, w in zip(xs, ys, scale, weights):
            s = o / w
            rows.append([a**i * s for i in range(p + 1)] + [-y * a**j * s for j in range(1, q + 1)])
            rhs.append(y * s)
        sol = mpmath.qr_solve(mpmath.matrix(rows), mpmath.matrix(rhs))[0]
        num = [sol[i] for i in range(p + 1)]
        den = [mpmath.mpf(1)] + [sol[p + j] for j in range(1, q + 1)]
        weights = [mpmath.polyval(den[::-1], a) for a in xs]
    return num, den


def fit(span: float, p: int, nodes: int = 400, rounds: int = 6):
    """V and R with V/R ≈ M in relative error."""
    xs = _nodes(span, nodes)
    ms = [mills(a) for a in xs]
    return _loeb(xs, ms, [1 / m for m in ms], p, rounds)


def fit_single(span: float, p: int, nodes: int = 300, rounds: int = 8):
    """P and Q (Q[0] = 1) with P/Q ≈ W, minimizing max |P/Q − W|·max(1, |a − r|/M): the error of W itself, and
    the error it makes in M, relative to M."""
    r = mpmath.mpf(mills_root())
    xs = _nodes(span, nodes)
    ws = [(mills(a) - mills(r)) / (a - r) for a in xs]  # the nodes miss r: no 0/0
    return _loeb(xs, ws, [max(1, abs(a - r) / mills(a)) for a in xs], p, rounds)


def main_single(span: float, degree: int) -> None:
    num, den = fit_single(span, degree)
    r = mpmath.mpf(mills_root())
    print("ROOT =", float(r))
    print("P =", tuple(float(c) for c in num))
    print("Q =", tuple(float(c) for c in den))
    worst = 0
    for k in range(2001):
        a = mpmath.mpf(span) * k / 2000
        w = mpmath.polyval([mpmath.mpf(float(c)) for c in num[::-1]], a) / mpmath.polyval(
            [mpmath.mpf(float(c)) for c in den[::-1]], a
        )
        exact = (mills(a) - mills(r)) / (a - r) if a != r else a * mills(a) - 1
        worst = max(worst, abs(w - exact) * max(1, abs(a - r) / mills(a)))
    print(f"max weighted error on a 2001-point grid: {float(worst):.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--range", type=float, default=None)
    ap.add_argument("--degree", type=int, default=None)
    ap.add_argument(
        "--single", action="store_true", help="fit the float32 kernels' W = P/Q (default range 14, degree 5)"
    )
    args = ap.parse_args()
    mpmath.mp.dps = 50
    if args.single:
        main_single(14.0 if args.range is None else args.range, 5 if args.degree is None else args.degree)
        return
    args.range = 41.0 if args.range is None else args.range
    args.degree = 10 if args.degree is None else args.degree
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

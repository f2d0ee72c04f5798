"""Accuracy of every compiled kernel against mpmath at 50 digits, in ULP; prints a table.

Points: 10^4 log-uniform over ±[1e-8, 1e3] plus ±0, ±1e4, ±inf and NaN (the
kernels issue's protocol). Error is measured in ULP of the true value where
that is a normal number, and as absolute error against the smallest normal
where it is subnormal.

Run: python scripts/accuracy_kernels.py [--points N] [--backends c,numba,numpy] [--names a,b]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symact  # noqa: E402
from symact.catalog import REGISTRY  # noqa: E402
from symact.compile import available_backends  # noqa: E402
from symact.compile.accuracy import points, reference, ulp_error  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--backends", default=",".join(available_backends()))
    parser.add_argument("--names", default="")
    args = parser.parse_args()
    xs = points(args.points)
    names = (
        args.names.split(",")
        if args.names
        else [e.name for e in REGISTRY if e.kind == "activation" and not e.vector and e.reference != "user-defined"]
    )
    print(f"max error in ULP over {len(xs)} points (f / f'), float64 and float32")
    print("| function | " + " | ".join(f"{b} f64 | {b} f32" for b in args.backends.split(",")) + " |")
    print("|---|" + "---|---|" * len(args.backends.split(",")))
    for name in names:
        fn = symact.activation(name)
        ys, dys = reference(fn, xs)
        cells = []
        for backend in args.backends.split(","):
            for dtype in ("float64", "float32"):
                k = symact.compile(fn, backend=backend, dtype=dtype)
                xin = xs.astype(dtype)
                if dtype == "float32":  # compare against the truth at the rounded inputs
                    ys32, dys32 = reference(fn, xin.astype(np.float64))
                y, dy = k(xin)
                truth_y, truth_dy = (ys, dys) if dtype == "float64" else (ys32, dys32)
                cells.append(f"{ulp_error(y, truth_y, dtype):.3g} / {ulp_error(dy, truth_dy, dtype):.3g}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

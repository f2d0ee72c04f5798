"""Error of the float32 C kernels over every finite float32, in ULP of the truth; prints a table.

The reference is the float64 C kernel of the same function on the same inputs, widened to double: it is
within a few float64 ULP of the truth, about 10^-8 of a float32 ULP, so the figures are the float32
kernels' own errors to that precision. Where the truth is subnormal in float32, the error is counted in
units of the smallest normal, as in scripts/accuracy_kernels.py (the accuracy target asks for at most 1
there). It also prints the largest distance of the float build (computed in float, 16 lanes) from the
build computed in double, which tests/test_kernels.py bounds on a dense grid (FLOAT_BUILDS).

Any elementwise activation whose float32 C kernel computes in float can be checked; by default, those whose
stable form has a rewrite for it (the others compute their generic form in float, with libmvec's expf).
2^32 inputs per function, in chunks of 2^24: about 8 minutes per function on 2 cores.

Run: python scripts/exhaustive_float32.py [--names sigmoid,tanh] [--chunk-bits 24]
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
from symact.compile.c import CKernel, _ulp_apart  # noqa: E402
from symact.compile.forms import kernel_forms  # noqa: E402
from symact.progress import Progress  # noqa: E402
from symact.stable import stable_form  # noqa: E402


def with_float_form() -> list[str]:
    """The activations whose stable form has a rewrite computed in float (the default set)."""
    names = [n for n in REGISTRY.names("activation") if not symact.activation(n).vector]
    return [n for n in names if stable_form(symact.activation(n)).float32 is not None]


def errors(got: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|got − truth| in float32 ULP of the truth (units of the smallest normal where it is subnormal). Where
    the truth rounds to ±inf in float32, 0 if got is that infinity, else inf; where it is NaN, 0 if got is
    NaN, else inf (never a NaN error, which a maximum would skip)."""
    info = np.finfo(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):  # the truth past the largest float32 rounds to ±inf
        rounded = truth.astype(np.float32)
        scale = np.minimum(np.spacing(np.abs(rounded)).astype(np.float64), 2.0**104)  # at the largest: its ULP
        scale = np.where(np.abs(truth) < info.tiny, float(info.tiny), scale)
        err = np.abs(got.astype(np.float64) - truth) / scale
    err = np.where(np.isinf(rounded), np.where(got == rounded, 0.0, np.inf), err)
    return np.where(np.isnan(truth) | np.isnan(got), np.where(np.isnan(truth) & np.isnan(got), 0.0, np.inf), err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", default="", help="default: the activations with a float form")
    parser.add_argument("--chunk-bits", type=int, default=24, help="2^k inputs per chunk (default 24)")
    args = parser.parse_args()
    if "c" not in available_backends():
        parser.exit(2, "exhaustive_float32: needs the C backend (gcc), which is not available here\n")
    names = [n for n in args.names.split(",") if n] or with_float_form()
    unknown = [n for n in names if n not in REGISTRY.names("activation") or symact.activation(n).vector]
    if unknown:
        parser.exit(2, f"exhaustive_float32: not an elementwise activation: {', '.join(unknown)}\n")
    in_double = [n for n in names if symact.compile(n, backend="c", dtype="float32")._impl.compute != "float"]
    if in_double:
        parser.exit(2, f"exhaustive_float32: its float32 C kernel computes in double: {', '.join(in_double)}\n")
    if not 16 <= args.chunk_bits <= 28:
        parser.exit(2, "exhaustive_float32: --chunk-bits must be between 16 and 28\n")
    step = 1 << args.chunk_bits
    rows = [
        "| function | f (ULP) | worst x | f' (ULP) | worst x | f, f' from the double build (ULP) |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        fn = symact.activation(name)
        kernel = symact.compile(name, backend="c", dtype="float32")._impl
        double = CKernel.__new__(CKernel)
        double._load(name, kernel_forms(fn, "float32", fused=True), "float32", "double")
        wide = symact.compile(name, backend="c", dtype="float64")
        worst, at, apart = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
        got = [np.empty(step, np.float32), np.empty(step, np.float32)]
        near = [np.empty(step, np.float32), np.empty(step, np.float32)]
        with Progress(1 << (32 - args.chunk_bits), name) as bar:
            for start in range(0, 1 << 32, step):
                x = np.arange(start, start + step, dtype=np.uint64).astype(np.uint32).view(np.float32)
                x = x[np.isfinite(x)]
                g, d = [a[: x.size] for a in got], [a[: x.size] for a in near]
                kernel(x, *g)
                double(x, *d)
                truth = wide(x.astype(np.float64))
                for k in range(2):
                    e = errors(g[k], truth[k])
                    i = int(np.argmax(e)) if e.size else 0
                    if e.size and e[i] > worst[k]:
                        worst[k], at[k] = float(e[i]), float(x[i])
                    with np.errstate(over="ignore"):
                        apart[k] = max(apart[k], _ulp_apart(g[k], d[k], np.float32))
                bar.update(1, f=worst[0], df=worst[1])
        rows.append(
            f"| {name} | {worst[0]:.3g} | {at[0]:.9g} | {worst[1]:.3g} | {at[1]:.9g} | {apart[0]:g}, {apart[1]:g} |"
        )
        print(rows[-1], flush=True)
    print("\n".join(["", *rows]))


if __name__ == "__main__":
    main()

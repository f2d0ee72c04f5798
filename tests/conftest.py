"""Shared helpers: high-precision evaluation of SymPy expressions with mpmath."""

from __future__ import annotations

import os
import random
import tempfile

# Keep the user's own saved functions out of the tests, and the tests' out of theirs.
os.environ["SYMACT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="symact-test-config-")

import mpmath
import numpy as np
import pytest
import sympy as sp

import symact
from symact.catalog import REGISTRY

mpmath.mp.dps = 40

ENTRIES = list(REGISTRY)
ACTIVATIONS = [e for e in ENTRIES if e.kind == "activation"]
SCALAR_ACTIVATIONS = [e for e in ACTIVATIONS if not e.vector]
VECTOR_ACTIVATIONS = [e for e in ACTIVATIONS if e.vector]
LOSSES = [e for e in ENTRIES if e.kind == "loss"]


def ids(entries):
    return [e.name for e in entries]


@pytest.fixture(autouse=True)
def _catalog_as_found():
    """Each test leaves the catalog as it found it: the functions test_user defines were listed by the handbook
    that test_handbook compares with docs/ whenever it ran after them in one process."""
    entries, aliases = dict(REGISTRY._entries), dict(REGISTRY._aliases)
    yield
    REGISTRY._entries.clear()
    REGISTRY._entries.update(entries)
    REGISTRY._aliases.clear()
    REGISTRY._aliases.update(aliases)


def mp_function(args, expr):
    """``expr`` as an mpmath function of ``args`` (40 significant digits).

    Arguments are converted to mpf first: a Python float would make ``x**2``
    a double-precision operation.
    """
    f = sp.lambdify(args, expr, modules="mpmath")
    return lambda *values: f(*(mpmath.mpf(v) for v in values))


def numeric_derivative(f, point, i):
    """∂f/∂(args[i]) at ``point`` by mpmath's high-precision differencing."""

    def partial(t):
        args = list(point)
        args[i] = t
        return f(*args)

    return mpmath.diff(partial, mpmath.mpf(point[i]))


def close(a, b, rel=1e-20):
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= rel * max(1, abs(a), abs(b))


def sample_points(fn: symact.Fn, rng: random.Random, count: int):
    """Random mpf points in the entry's domain, one value per input and target.

    Categorical targets are normalised in 40-digit arithmetic, so Σ y = 1 holds
    to far below the tolerance of the checks.
    """
    entry = fn.entry
    domains = entry.domain
    n_in, n_t = len(fn.inputs), len(fn.targets)
    for _ in range(count):
        lo, hi = domains[0]
        pred = [mpmath.mpf(rng.uniform(lo, hi)) for _ in range(n_in)]
        tgt = [mpmath.mpf(rng.uniform(*domains[min(1, len(domains) - 1)])) for _ in range(n_t)]
        if entry.kind == "loss" and entry.vector and entry.target_constraints is not None:
            tgt = [t / sum(tgt) for t in tgt]
            if entry.output_activation == "softmax":
                pred = [p / sum(pred) for p in pred]
        yield pred + tgt


def far_from_kinks(point, kinks, gap=1e-3):
    return all(abs(point[0] - float(k)) > gap for k in kinks)


@pytest.fixture
def rng():
    return random.Random(20261122)


def cross_entropy_reference(row, target) -> mpmath.mpf:
    """Σₖ yₖ·(log1p(S) + max z − zₖ) for one row at 50 digits, S the rest of Σ e^(z − max z) beyond 1: a confident
    row's loss is log1p(S) ≈ S itself, which max z + log Σe at 50 digits would lose."""
    with mpmath.workdps(50):
        zs = [mpmath.mpf(float(v)) for v in row]
        top = max(zs)
        rest = sum(mpmath.exp(v - top) for v in zs if v < top) + (zs.count(top) - 1)
        return sum(mpmath.mpf(float(t)) * (mpmath.log1p(rest) + (top - v)) for t, v in zip(target, zs))


def log_softmax_reference(row) -> list[float]:
    """log_softmax of one row at 50 digits, each entry rounded once to a double: x − max x − log1p(S), S the rest
    of Σ e^(x − max x) beyond 1 (log(1 + S) at 50 digits keeps only 50 + log10(S) of S's digits)."""
    with mpmath.workdps(50):
        xs = [mpmath.mpf(float(v)) for v in row]
        top = max(xs)
        rest = sum(mpmath.exp(v - top) for v in xs if v < top) + (xs.count(top) - 1)
        return [float(v - top - mpmath.log1p(rest)) for v in xs]


def assert_same_through_near_forms(kernel, x):
    """The C kernel's plain loop takes a block of NEAR_BLOCK inputs within reach through the near forms and one
    with an input beyond (here a NaN at each block's start) through the forms: every other element of f and f'
    is the same either way, to the bit and the sign of zero (symact.compile.near)."""
    from symact.compile.c import NEAR_BLOCK

    beyond = x.copy()
    beyond[::NEAR_BLOCK] = np.nan
    rest = np.arange(x.size) % NEAR_BLOCK != 0
    for near, full in zip(kernel(x), kernel(beyond)):
        assert np.array_equal(near[rest], full[rest], equal_nan=True)
        assert np.array_equal(np.signbit(near[rest]), np.signbit(full[rest]))
    assert_same_streamed(kernel, x)


def assert_same_streamed(kernel, x):
    """From STREAM_MIN inputs on, where the kernel's library has streaming stores, the C kernel's blocks take the
    near forms in the streaming loop (f′ in a loop of its own where STAGE_OPS says): x, repeated past
    STREAM_MIN, gives the plain loop's values there (in chunks under STREAM_MIN), to the bit."""
    from symact.compile.c import STREAM_MIN

    if kernel.streaming is None:
        return  # none here (not x86), or float32 computed in double
    big = np.resize(x, STREAM_MIN + 1234)
    chunks = [big[i : i + STREAM_MIN // 2] for i in range(0, big.size, STREAM_MIN // 2)]
    plain = [np.concatenate(parts) for parts in zip(*(kernel(c) for c in chunks))]
    before = kernel.streaming
    kernel.streaming = True
    try:
        streamed = kernel(big)
    finally:
        kernel.streaming = before
    for got, want in zip(streamed, plain):
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))

"""Time f + f' over N points for every elementwise activation: symact's backends against PyTorch, JAX
and the memory-bandwidth limit, in one process, same data, same thread count. Writes docs/performance.md.

A plain C loop of the textbook formulas (PLAIN_C), vectorized with libmvec, is timed beside them as a reference
for what the hardware does with the simplest code; it is not a peer and enters no ratio.

Run: pip install -e ".[bench]" && python scripts/bench_kernels.py [--n 10000000] [--threads 2] [--repeat 7]
     [--min-time 0.5] [--rounds 3]

A shared machine's speed drifts over tens of seconds (here the same kernel and the same copy vary by up to
2×, in phases), so one pass would judge each function by whichever phase it fell in. The section is therefore
timed in ``--rounds`` passes: the first times every contender, the later ones time again what the ratios
use (symact's best backend, PyTorch, JAX, and the copy after each function), and each figure is the best
of its passes.

The bandwidth limit is one read and two writes at the speed of a large array copy, on the same number of
threads as every contender, timed three ways, and the fastest sets the limit:
- 3/4 of the time to copy 2N elements (np.copyto on one chunk per thread: one thread copies at about half the
  speed of two here, which would double the limit);
- a C loop that copies x into both outputs (the "tee"), with plain stores;
- the tee with streaming stores, which write memory without first reading each line into the cache, as
  symact's kernels do where that is faster.
glibc's memcpy streams only copies larger than a fraction of the last-level cache: on a CPU with 480 MiB of
it, np.copyto read every output line first, and took 1.5-1.8× the time of the streaming tee, so that symact's
identity kernel "beat" a limit set by the copy alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds of runs per timing, at least --repeat")
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="passes over the section; the figures in the ratios are the best of all passes",
    )
    p.add_argument("--names", default="")
    p.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = p.parse_args()
    if args.rounds < 1 or args.repeat < 1 or args.n < 1:
        p.error("--rounds, --repeat and --n must be at least 1")
    return args


ARGS = parse_args()
# Thread counts must be fixed before numpy, numba, torch or jax start their pools.
for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={ARGS.threads}"

import numpy as np  # noqa: E402

import symact  # noqa: E402
from symact.catalog import REGISTRY  # noqa: E402
from symact.compile import available_backends  # noqa: E402

#: A run longer than this (NumPy's GELU: math.erfc element by element, 40 s in float64) is timed twice, not
#: ``repeat`` times: at a hundred times the peers' time, its drift does not change a conclusion.
SLOW_S = 1.0


def best_of(fn, repeat: int) -> float:
    """The best of at least ``repeat`` runs and of as many as fit in ARGS.min_time seconds (at most 500): this
    machine's speed drifts over seconds, and a few runs of a 5 ms kernel would all fall in one phase. Every
    contender, and the copy that sets the bandwidth limit, is timed the same way (a run over SLOW_S: twice)."""
    start = time.perf_counter()
    fn()  # warm-up: compilation, page faults
    if time.perf_counter() - start > SLOW_S:
        repeat = min(repeat, 2)
    times = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start < ARGS.min_time and len(times) < 500):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def cpu_model() -> str:
    """The CPU's name, family/model and widest vector ISA (from /proc/cpuinfo on Linux): the kernels are
    compute-bound, so results depend on it, and a VM may name two generations alike ("AMD EPYC")."""
    try:
        info = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines())
            if key.strip()
        )
        flags = info.get("flags", "").split()
        isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
        family = f"family {info.get('cpu family', '?')} model {info.get('model', '?')}"
        return f"{info['model name']} ({family}, {isa}), {os.cpu_count()} CPUs"
    except (OSError, KeyError):
        pass
    import platform

    return platform.processor() or platform.machine()


def torch_contender(dtype):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(ARGS.threads)
    table = {
        "identity": lambda x: x,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
        "prelu": lambda x: torch.nn.functional.prelu(x, torch.tensor([0.25], dtype=x.dtype)),
        "elu": torch.nn.functional.elu,
        "selu": torch.nn.functional.selu,
        "celu": torch.nn.functional.celu,
        "gelu": torch.nn.functional.gelu,
        "gelu_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
        "silu": torch.nn.functional.silu,
        "mish": torch.nn.functional.mish,
        "softplus": torch.nn.functional.softplus,
        "softsign": torch.nn.functional.softsign,
        "log_sigmoid": torch.nn.functional.logsigmoid,
        "hard_sigmoid": torch.nn.functional.hardsigmoid,
        "hard_swish": torch.nn.functional.hardswish,
        "hard_tanh": torch.nn.functional.hardtanh,
        "relu6": torch.nn.functional.relu6,
        "exponential": torch.exp,
    }

    def make(name, x_np):
        if name not in table:
            return None
        f = table[name]
        x = torch.from_numpy(x_np).requires_grad_(True)
        ones = torch.ones_like(x)

        def run():
            x.grad = None
            y = f(x)
            y.backward(ones)
            return y, x.grad

        return run

    return make


def jax_contender(dtype):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    nn = jax.nn
    table = {
        "identity": lambda x: x,
        "sigmoid": nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": nn.relu,
        "leaky_relu": lambda x: nn.leaky_relu(x, 0.01),
        "prelu": lambda x: jnp.where(x > 0, x, 0.25 * x),
        "elu": nn.elu,
        "selu": nn.selu,
        "celu": nn.celu,
        "gelu": lambda x: nn.gelu(x, approximate=False),
        "gelu_tanh": lambda x: nn.gelu(x, approximate=True),
        "silu": nn.silu,
        "mish": lambda x: x * jnp.tanh(nn.softplus(x)),
        "softplus": nn.softplus,
        "softsign": nn.soft_sign,
        "log_sigmoid": nn.log_sigmoid,
        "hard_sigmoid": nn.hard_sigmoid,
        "hard_swish": nn.hard_swish,
        "hard_tanh": nn.hard_tanh,
        "relu6": nn.relu6,
        "exponential": jnp.exp,
    }

    def make(name, x_np):
        if name not in table:
            return None
        f = jax.jit(jax.vmap(jax.value_and_grad(table[name])))
        x = jnp.asarray(x_np)

        def run():
            y, dy = f(x)
            dy.block_until_ready()
            return y, dy

        return run

    return make


#: The plain C loop the speed targets were set against: the textbook formulas for f and f', vectorized by gcc
#: with libmvec's exp, tanh and erfc, with symact's own flags (no fast-math). Less accurate than symact's
#: kernels (σ(1 − σ) is 0 at x = 40 where σ' is 4e-18; SiLU and GELU give −∞·0 = NaN at −∞), so it is a
#: reference for what the hardware does with the simplest loop, not a contender.
PLAIN_C = {
    "sigmoid": "const T s = 1 / (1 + EXP(-x)); y = s; dy = s * (1 - s);",
    "tanh": "const T t = TANH(x); y = t; dy = 1 - t * t;",
    "relu": "y = x > 0 ? x : 0; dy = x > 0;",
    "leaky_relu": "y = x > 0 ? x : (T)0.01 * x; dy = x > 0 ? 1 : (T)0.01;",
    "silu": "const T s = 1 / (1 + EXP(-x)); y = x * s; dy = s * (1 + x * (1 - s));",
    "gelu": "const T p = (T)0.5 * ERFC(-x * (T)0.70710678118654752); y = x * p;"
    " dy = p + x * (T)0.39894228040143268 * EXP((T)-0.5 * x * x);",
}


def _c_library(lines: list[str], what: str):
    """The C source ``lines`` compiled with symact's flags into a temporary directory and loaded, or None (with
    a message) where there is no compiler or the build fails."""
    import ctypes
    import subprocess
    import tempfile

    from symact.compile import c

    if c.compiler() is None:
        return None
    with tempfile.TemporaryDirectory(prefix="symact-bench-") as folder:  # a loaded library outlives its file
        (Path(folder) / "lib.c").write_text("\n".join(lines) + "\n")
        proc = subprocess.run(
            [c.compiler(), *c.FLAGS, "lib.c", "-o", "lib.so", "-lm"], cwd=folder, capture_output=True, text=True
        )
        if proc.returncode != 0:  # e.g. no libmvec: the table is written without it
            print(f"{what} left out: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        return ctypes.CDLL(str(Path(folder) / "lib.so"))


def _c_run(loop, x: np.ndarray, out: tuple):
    """A run of a C loop (X, Y, DY, n) over x into out."""
    import ctypes

    args = (*(ctypes.c_void_p(a.ctypes.data) for a in (x, *out)), ctypes.c_ssize_t(x.size))

    def run():
        loop(*args)
        return out  # which also keeps the arrays alive as long as the run: args holds bare addresses

    return run


def _c_type(dtype) -> str:
    return "float" if dtype == "float32" else "double"


def plain_c_contender(dtype):
    """The PLAIN_C loops, compiled once per dtype into a temporary directory, or None without a compiler."""

    from symact.compile import c

    t, suffix = _c_type(dtype), "f" if dtype == "float32" else ""
    lines = ["#include <math.h>", "#include <stddef.h>", f"typedef {t} T;", c.vector_math_declarations(t)]
    lines += [f"#define {fn.upper()} {fn}{suffix}" for fn in ("exp", "tanh", "erfc")]
    for name, body in PLAIN_C.items():
        lines += [
            f"void plain_{name}(const T *restrict X, T *restrict Y, T *restrict DY, ptrdiff_t n) {{",
            "    #pragma omp parallel for simd schedule(static)",
            f"    for (ptrdiff_t i = 0; i < n; ++i) {{ const T x = X[i]; T y, dy; {body} Y[i] = y; DY[i] = dy; }}",
            "}",
        ]
    lib = _c_library(lines, "plain C reference")
    if lib is None:
        return None

    outputs = {}  # one pair for every loop, as symact's kernels share one: not 2N elements more per function

    def make(name, x):
        if name not in PLAIN_C:
            return None
        return _c_run(
            getattr(lib, f"plain_{name}"), x, outputs.setdefault(x.size, (np.empty_like(x), np.empty_like(x)))
        )

    return make


#: One read and two writes, nothing computed: x copied into both outputs, with plain stores and, on x86, with
#: streaming stores 64 bytes at a time (symact's own helper); the outputs are 64-byte aligned (aligned_empty).
TEE = """
void tee_plain(const T *restrict X, T *restrict Y, T *restrict DY, ptrdiff_t n) {
    #pragma omp parallel for simd schedule(static)
    for (ptrdiff_t i = 0; i < n; ++i) { Y[i] = X[i]; DY[i] = X[i]; }
}
#ifdef SYMACT_STREAM
void tee_stream(const T *restrict X, T *restrict Y, T *restrict DY, ptrdiff_t n) {
    const ptrdiff_t line = 64 / sizeof(T), end = n / line * line;
    #pragma omp parallel
    {
        #pragma omp for schedule(static) nowait
        for (ptrdiff_t i = 0; i < end; i += line) {
            symact_stream_line((char *)(Y + i), (const char *)(X + i));
            symact_stream_line((char *)(DY + i), (const char *)(X + i));
        }
        _mm_sfence();
    }
    for (ptrdiff_t i = end; i < n; ++i) { Y[i] = X[i]; DY[i] = X[i]; }
}
#endif
"""


def aligned_empty(n: int, dtype) -> np.ndarray:
    """An empty array of n elements whose data starts on a 64-byte boundary (a cache line, a streaming store)."""
    item = np.dtype(dtype).itemsize
    raw = np.empty(n * item + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + n * item].view(dtype)


def bandwidth_runs(x: np.ndarray) -> dict:
    """The ways of timing one read and two writes of x's size (see the module's docstring): label -> (a run,
    the factor that turns its time into the limit's)."""

    from symact.compile import c

    src = np.concatenate([x, x])  # 2N elements: the copy reads 2N and writes 2N
    dst = np.empty_like(src)
    bounds = np.linspace(0, src.size, ARGS.threads + 1).astype(int)
    chunks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    pool = ThreadPoolExecutor(ARGS.threads)  # lives as long as the run, which the bench keeps to its end
    runs = {"copy of 2N × 3/4": (lambda: list(pool.map(lambda s: np.copyto(dst[s], src[s]), chunks)), 3 / 4)}
    lib = _c_library(["#include <stddef.h>", c.STREAMING, f"typedef {_c_type(x.dtype)} T;", TEE], "the C tee copy")
    if lib is None:
        return runs
    out = (aligned_empty(x.size, x.dtype), aligned_empty(x.size, x.dtype))
    for label in ("plain", "stream"):
        loop = getattr(lib, f"tee_{label}", None)  # no streaming tee off x86
        if loop is not None:
            runs[f"tee {label}"] = (_c_run(loop, x, out), 1.0)
    return runs


def _kernel_run(kernel, x, out):
    return lambda: kernel(x, out=out)


def _best(times: dict, backends) -> str:
    """symact's fastest backend so far."""
    return min(backends, key=lambda b: times.get(b, float("inf")))


def main() -> None:
    elementwise = [
        e.name for e in REGISTRY if e.kind == "activation" and not e.vector and e.reference != "user-defined"
    ]
    names = ARGS.names.split(",") if ARGS.names else elementwise
    unknown = [name for name in names if name not in elementwise]
    if unknown:
        print(f"error: not an elementwise activation of the catalog: {', '.join(unknown)}", file=sys.stderr)
        sys.exit(2)
    backends = available_backends()
    rng = np.random.default_rng(0)
    lines = [
        "# Kernel performance",
        "",
        f"f + f' over N = {ARGS.n:,} points, best of at least {ARGS.repeat} runs (2 where one takes over"
        f" {SLOW_S:g} s) and {ARGS.min_time} s"
        f" in each of {ARGS.rounds} passes over the section, {ARGS.threads} threads for every contender,",
        "one process, the same input array. Times in ms; the last columns are symact's best against the",
        "faster of PyTorch (CPU autograd) and JAX (jit(vmap(value_and_grad))), and against the bandwidth limit.",
        "*plain C* is a reference, not a peer: the textbook formulas in one loop, vectorized by gcc with libmvec",
        "and symact's flags, less accurate than symact's kernels (scripts/bench_kernels.py, PLAIN_C).",
        f"Generated by `python scripts/bench_kernels.py` on {cpu_model()}.",
        "",
    ]
    for dtype in ("float32", "float64"):
        x = rng.standard_normal(ARGS.n).astype(dtype) * 4
        # The copies' speed drifts too: each is timed again after every function in every pass, and the fastest
        # of the section sets the limit, so no kernel is judged by a slow one.
        limits = bandwidth_runs(x)
        copies = {label: [best_of(run, ARGS.repeat) * factor] for label, (run, factor) in limits.items()}
        contenders = {"torch": torch_contender(dtype), "jax": jax_contender(dtype)}
        references = {"plain C": plain_c_contender(dtype)}  # timed as the peers are, but not a peer
        timed = {**contenders, **references}
        header = ["function", *backends, *[k for k, v in timed.items() if v], "best/peer", "best/bandwidth"]
        out = (np.empty_like(x), np.empty_like(x))  # one pair of outputs for every symact kernel
        runs = {}  # name -> {contender: a callable, or None where the peer has no such function}
        for name in names:
            fn = symact.activation(name)
            runs[name] = {b: _kernel_run(symact.compile(fn, backend=b, dtype=dtype), x, out) for b in backends}
            for run in runs[name].values():  # warm, and where the C kernel first meets 10^7 points, it measures
                run()  # once whether to stream (CKernel.calibrate): here, before any peer's threads run
            runs[name].update({label: make(name, x) for label, make in timed.items() if make})
        times = {name: {} for name in names}
        for round_ in range(ARGS.rounds):
            for name in names:
                for label, run in runs[name].items():
                    mine = times[name]
                    if run is None or (round_ and label in backends and label != _best(mine, backends)):
                        continue
                    ms = best_of(run, ARGS.repeat)
                    mine[label] = min(ms, mine.get(label, ms))
                for label, (run, factor) in limits.items():
                    copies[label].append(best_of(run, ARGS.repeat) * factor)
                timings = " | ".join(f"{k} {v:.1f}" for k, v in times[name].items())
                print(f"{dtype} pass {round_ + 1}/{ARGS.rounds} {name}: {timings}", flush=True)
        rows = []
        for name in names:
            mine = times[name]
            best = mine[_best(mine, backends)]
            peer = min((mine[k] for k in contenders if k in mine), default=float("nan"))
            row = [name, *(f"{mine[b]:.1f}" for b in backends)]
            row += [f"{mine[k]:.1f}" if k in mine else "—" for k, v in timed.items() if v]
            row.append(f"{best / peer:.2f}" if peer == peer else "—")
            rows.append((row, best))
        bandwidth_ms = min(min(v) for v in copies.values())
        ranges = "; ".join(f"{label} {min(v):.1f} to {max(v):.1f}" for label, v in copies.items())
        lines += [
            f"## {dtype} (bandwidth limit {bandwidth_ms:.1f} ms)",
            "",
            f"The limit's measures, in ms for one read and two writes, over the passes: {ranges}.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        lines += ["| " + " | ".join([*row, f"{best / bandwidth_ms:.2f}"]) + " |" for row, best in rows]
        print("\n".join(lines[-len(rows) - 4 :]), flush=True)
        lines.append("")
    Path(ARGS.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {ARGS.out}")


if __name__ == "__main__":
    main()

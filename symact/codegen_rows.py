"""Code generation for the row functions: softmax, log_softmax, sparsemax and softmax cross-entropy.

These act on a whole row (the last axis), so they are not printed term by term
like the elementwise functions in :mod:`symact.codegen`. Each derivative is the
catalog's closed-form Jacobian, which the theorem sheet and tests/test_derivatives.py
prove equal to the derived Jacobian:

- softmax, J = diag(s) − s sᵀ (symmetric): gᵀJ = J g = s ⊙ (g − ⟨g, s⟩);
- log_softmax, J = I − 1 sᵀ: gᵀJ = g − s Σg, and J t = t − ⟨s, t⟩;
- sparsemax, J = diag(m) − m mᵀ/|S| (symmetric, m the support): m ⊙ (g − ⟨g, m⟩/|S|);
- softmax cross-entropy L = Σy·log Σ exp(z) − ⟨y, z⟩: ∂L/∂z = softmax(z)·Σy − y, ∂L/∂y = log_softmax(z)·(−1) … per class.

The forward passes subtract the row maximum first (softmax(z − c) = softmax(z), proved in the theorem sheet).
Python targets define ``NAME(x)`` and ``NAME_grad(x, g)`` (the vector-Jacobian product); softmax
cross-entropy defines ``NAME(z, y)`` (a loss per row) and ``NAME_grad(z, y)`` (∂L/∂z). C and CUDA take
``rows`` rows of length ``n``. float32 rows are computed in float64, and the results rounded
(:mod:`symact.codegen`).
"""

from __future__ import annotations

import textwrap

from .codegen import _FLOAT_ARRAY, _WIDE, _camel, c_header
from .fn import Fn

# NumPy and JAX share the array API; PyTorch names dims and dtypes differently.
_NUMPY_API = """

def _sum(a):
    return xp.sum(a, axis=-1, keepdims=True)


def _rowmax(a):
    return xp.max(a, axis=-1, keepdims=True)


def _sort_desc(a):
    return -xp.sort(-a, axis=-1)


def _cumsum(a):
    return xp.cumsum(a, axis=-1)


def _take(a, index):
    return xp.take_along_axis(a, index, axis=-1)


def _arange(n, like):
    return xp.arange(1, n + 1, dtype=like.dtype)


def _as(mask, like):
    return mask.astype(like.dtype)


def _index(a):
    return a.astype(int)
"""

_ARRAY_PRELUDE = {
    "numpy": "import numpy as xp\n" + _FLOAT_ARRAY + _NUMPY_API,
    "torch": """import torch
import torch as xp
"""
    + _WIDE["torch"]
    + """

def _sum(a):
    return xp.sum(a, dim=-1, keepdim=True)


def _rowmax(a):
    return xp.amax(a, dim=-1, keepdim=True)


def _sort_desc(a):
    return xp.sort(a, dim=-1, descending=True).values


def _cumsum(a):
    return xp.cumsum(a, dim=-1)


def _take(a, index):
    return xp.gather(a, -1, index)


def _arange(n, like):
    return xp.arange(1, n + 1, dtype=like.dtype)


def _as(mask, like):
    return mask.to(like.dtype)


def _index(a):
    return a.long()
""",
    "jax": "import warnings\n\nimport jax\nimport jax.numpy as xp\n" + _WIDE["jax"] + _NUMPY_API,
}

# The forward passes and vector-Jacobian products, shared by NumPy, PyTorch and JAX.
_ROWS = '''
def _shifted(x):
    m = _rowmax(x)
    return x - xp.where(xp.isfinite(m), m, 0 * m)  # shift invariance; an all −inf or ±inf row keeps its meaning


def _softmax(x):
    """e/Σe with Σe as the sum without the max's 1, plus it: the kernels' order of summation."""
    z = _shifted(x)
    e = xp.exp(z)
    top = _as(z == 0, z)
    return e / (_sum(e - top) + _sum(top))


def _log_sum(x):
    """(z, log Σe), z = x − max x, with log Σe = log1p(Σe less the max's 1, summed without it): log(1 + S) loses S
    below an ULP of 1, and with it log_softmax's max entry and a confident row's cross-entropy, −log1p(S) and
    log1p(S). Each e^(x − m) as e^z·(1 + d), d = x − m − z exactly (a two-sum): z's rounding would cost them up to
    |z|/2 ULP."""
    m = _rowmax(x)
    m = xp.where(xp.isfinite(m), m, 0 * m)
    z = x - m
    b = z - x
    d = (x - (z - b)) - (b + m)
    e = xp.exp(z)
    e = xp.where(xp.isfinite(d), e + e * d, e)
    top = _as(z == 0, z)
    return z, xp.log1p(_sum(e - top) + (_sum(top) - 1))


def _log_softmax(x):
    z, ls = _log_sum(x)
    return z - ls


def _sparsemax(x):
    """Martins & Astudillo (2016): sort, find the support size k, threshold tau, clip."""
    zs = _sort_desc(x)
    k = _arange(x.shape[-1], x)
    cs = _cumsum(zs)
    size = _sum(_as(1 + k * zs > cs, cs))
    tau = (_take(cs, _index(size) - 1) - 1) / size
    return xp.where(x - tau > 0, x - tau, xp.zeros_like(x))


def _softmax_vjp(s, g):
    return s * (g - _sum(g * s))


def _log_softmax_vjp(y, g):
    return g - xp.exp(y) * _sum(g)


def _log_softmax_jvp(y, t):
    return t - _sum(xp.exp(y) * t)


def _sparsemax_vjp(p, g):
    m = (p > 0) * 1.0 + 0 * p
    return m * (g - _sum(g * m) / _sum(m))
'''

_FORWARD = {"softmax": "_softmax", "log_softmax": "_log_softmax", "sparsemax": "_sparsemax"}
_VJP = {"softmax": "_softmax_vjp", "log_softmax": "_log_softmax_vjp", "sparsemax": "_sparsemax_vjp"}
_JVP = {"softmax": "_softmax_vjp", "log_softmax": "_log_softmax_jvp", "sparsemax": "_sparsemax_vjp"}


def _python(fn: Fn, lang: str, grad: bool, head: str) -> str:
    name = fn.name
    out = [head, "", _ARRAY_PRELUDE[lang], _ROWS]
    if name == "softmax_cross_entropy":
        out.append('''
def _loss(z, y):
    """Σₖ yₖ·(log Σ exp(z − max z) − (zₖ − max z)) per row: terms of one sign, where Σy·lse − ⟨y, z⟩ cancelled (14
    ULP), each 0 where yₖ = 0 (0·log 0); log Σ as _log_sum takes it (a confident row's loss is log1p(S))."""
    zm, ls = _log_sum(z)
    return _sum(xp.where(y == 0, 0 * zm, y * (ls - zm)))[..., 0]


def _loss_grad(z, y):
    return _softmax(z) * _sum(y) - y


def _loss_grad_target(z, y):
    return -_log_softmax(z)
''')
        if lang == "numpy":
            out.append(f'''
def {name}(z, y):
    """Per-row loss Σy·log Σ exp(z) − ⟨y, z⟩ over the last axis."""
    with xp.errstate(all="ignore"):
        return _loss(_float_array(z), _float_array(y)).astype(_float_dtype(z))
''')
            if grad:
                out.append(f"""
def {name}_grad(z, y):
    with xp.errstate(all="ignore"):
        return _loss_grad(_float_array(z), _float_array(y)).astype(_float_dtype(z))
""")
        elif lang == "torch":
            out.append(f'''
class {_camel(name)}(torch.autograd.Function):
    """{name} with ∂L/∂z = softmax(z)·Σy − y as its backward."""

    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        return _loss(_wide(z), _wide(y)).to(_dtype(z))

    @staticmethod
    def backward(ctx, g):
        z, y = ctx.saved_tensors
        g = g.unsqueeze(-1)
        z, y = _wide(z), _wide(y)
        return g * _loss_grad(z, y).to(g.dtype), g * _loss_grad_target(z, y).to(g.dtype)


def {name}(z, y):
    return {_camel(name)}.apply(z, y)
''')
            if grad:
                out.append(f"\ndef {name}_grad(z, y):\n    return _loss_grad(_wide(z), _wide(y)).to(_dtype(z))\n")
        else:
            out.append(f"""
@jax.custom_jvp
def {name}(z, y):
    return _loss(_wide(z), _wide(y)).astype(_dtype(z))


@{name}.defjvp
def _{name}_jvp(primals, tangents):
    (z, y), (t, t_target) = primals, tangents
    dtype, z, y = _dtype(z), _wide(z), _wide(y)
    tangent = _sum(_loss_grad(z, y) * t + _loss_grad_target(z, y) * t_target)[..., 0]
    return _loss(z, y).astype(dtype), tangent.astype(dtype)
""")
            if grad:
                out.append(f"\ndef {name}_grad(z, y):\n    return _loss_grad(_wide(z), _wide(y)).astype(_dtype(z))\n")
        return "\n".join(out).rstrip() + "\n"
    forward, vjp, jvp = _FORWARD[name], _VJP[name], _JVP[name]
    if lang == "numpy":
        out.append(f'''
def {name}(x):
    """{name} over the last axis."""
    with xp.errstate(all="ignore"):
        return {forward}(_float_array(x)).astype(_float_dtype(x))
''')
        if grad:
            out.append(f'''
def {name}_grad(x, g):
    """gᵀJ, the vector-Jacobian product, over the last axis."""
    dtype, x, g = _float_dtype(x), _float_array(x), _float_array(g)
    with xp.errstate(all="ignore"):
        return {vjp}({forward}(x), g).astype(dtype)
''')
    elif lang == "torch":
        out.append(f'''
class {_camel(name)}(torch.autograd.Function):
    """{name} over the last dimension, with the closed-form Jacobian as its backward."""

    @staticmethod
    def forward(ctx, x):
        y = {forward}(_wide(x))
        ctx.save_for_backward(y)
        return y.to(_dtype(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return {vjp}(y, _wide(g)).to(g.dtype)


def {name}(x):
    return {_camel(name)}.apply(x)
''')
        if grad:
            out.append(f"\ndef {name}_grad(x, g):\n    return {vjp}({forward}(_wide(x)), _wide(g)).to(_dtype(x))\n")
    else:
        out.append(f"""
@jax.custom_jvp
def {name}(x):
    return {forward}(_wide(x)).astype(_dtype(x))


@{name}.defjvp
def _{name}_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = {forward}(_wide(x))
    return y.astype(_dtype(x)), {jvp}(y, _wide(t)).astype(_dtype(x))
""")
        if grad:
            out.append(f"\ndef {name}_grad(x, g):\n    return {vjp}({forward}(_wide(x)), _wide(g)).astype(_dtype(x))\n")
    return "\n".join(out).rstrip() + "\n"


# -- numba and C: loops over rows ---------------------------------------------------

_C_ROW = {
    "softmax": """    double m = -INFINITY;
    for (size_t k = 0; k < n; ++k) if (x[k] > m) m = x[k];
    if (!isfinite(m)) m = 0.0;
    double s = 0.0;
    for (size_t k = 0; k < n; ++k) s += exp(x[k] - m);
    for (size_t k = 0; k < n; ++k) y[k] = ({T})(exp(x[k] - m) / s);""",
    "log_softmax": """    double m = -INFINITY;
    size_t top = 0;
    for (size_t k = 0; k < n; ++k) if (x[k] > m) { m = x[k]; top = k; }
    if (!isfinite(m)) m = 0.0;
    /* log Σe = log1p(S), S = Σe without the max's 1 (log(1 + S) loses S below an ULP of 1), each e^(x − m)
       as e^z·(1 + d), d = x − m − z exactly (a two-sum; 0 for float data) */
    double s = 0.0;
    for (size_t k = 0; k < n; ++k) if (k != top) {
        const double z = x[k] - m, b = z - x[k], d = (x[k] - (z - b)) - (b + m), e = exp(z);
        s += isfinite(d) ? e + e * d : e;
    }
    const double ls = log1p(s + (exp(x[top] - m) - 1.0));
    for (size_t k = 0; k < n; ++k) y[k] = ({T})(x[k] - m - ls);""",
    "sparsemax": """    /* coordinate j is in the support iff 1 + k_j x_j > s_j, with k_j and s_j the count and the sum
       of the coordinates >= x_j (the sorted algorithm without a sort: O(n^2), no scratch memory) */
    size_t size = 0;
    double total = 0.0;
    for (size_t j = 0; j < n; ++j) {
        size_t kj = 0;
        double sj = 0.0;
        for (size_t i = 0; i < n; ++i) if (x[i] >= x[j]) { kj += 1; sj += x[i]; }
        if (1.0 + kj * (double)x[j] > sj && kj > size) { size = kj; total = sj; }
    }
    const double tau = (total - 1.0) / (double)size;
    for (size_t k = 0; k < n; ++k) y[k] = ({T})(x[k] - tau > 0 ? x[k] - tau : 0.0);""",
}

_C_VJP = {
    "softmax": """    double dot = 0.0;
    for (size_t k = 0; k < n; ++k) dot += g[k] * y[k];
    for (size_t k = 0; k < n; ++k) dx[k] = ({T})(y[k] * (g[k] - dot));""",
    "log_softmax": """    double total = 0.0;
    for (size_t k = 0; k < n; ++k) total += g[k];
    for (size_t k = 0; k < n; ++k) dx[k] = ({T})(g[k] - exp(y[k]) * total);""",
    "sparsemax": """    double dot = 0.0, size = 0.0;
    for (size_t k = 0; k < n; ++k) if (y[k] > 0) { dot += g[k]; size += 1.0; }
    for (size_t k = 0; k < n; ++k) dx[k] = ({T})(y[k] > 0 ? g[k] - dot / size : 0.0);""",
}

_C_SCE = """    double m = -INFINITY, ys = 0.0;
    size_t top = 0;
    for (size_t k = 0; k < n; ++k) { if (z[k] > m) { m = z[k]; top = k; } ys += y[k]; }
    if (!isfinite(m)) m = 0.0;
    /* s: Σ exp(z − m) without the max's 1, whose log log_softmax takes as log1p(s + e_max − 1) */
    double s = 0.0;"""

# The loss row's s: each e^(z − m) as e^d·(1 + δ), d = z − m rounded, δ its rounding (a two-sum; 0 for float
# data): a confident row's loss is log1p(s), which d's rounding would cost up to |d|/2 ULP. The gradient's
# softmax needs s to a relative error only, and sums it plainly.
_C_SCE_EXACT_SUM = """
    for (size_t k = 0; k < n; ++k) if (k != top) {
        const double d = z[k] - m, b = d - z[k], delta = (z[k] - (d - b)) - (b + m), e = exp(d);
        s += isfinite(delta) ? e + e * delta : e;
    }"""
_C_SCE_SUM = """
    for (size_t k = 0; k < n; ++k) if (k != top) s += exp(z[k] - m);"""


def _c(fn: Fn, grad: bool, T: str, header: bool, cuda: bool, head: str) -> str:
    name = fn.name
    sce = name == "softmax_cross_entropy"
    if sce:
        sig = f"void {name}(const {T} *z, const {T} *y, {T} *out, size_t rows, size_t n)"
        gsig = f"void {name}_grad(const {T} *z, const {T} *y, {T} *dz, size_t rows, size_t n)"
    else:
        sig = f"void {name}(const {T} *x, {T} *y, size_t rows, size_t n)"
        gsig = f"void {name}_grad(const {T} *x, const {T} *g, {T} *dx, size_t rows, size_t n)"
    if header:
        return c_header(head, name, [sig, gsig] if grad else [sig])
    if sce:
        # Σ y·(ls − (z − m)): terms of one sign, where ys·lse − ⟨y, z⟩ cancelled; 0 where y = 0 (0·log 0)
        row = (
            _C_SCE
            + _C_SCE_EXACT_SUM
            + (
                "\n    const double ls = log1p(s + (exp(z[top] - m) - 1.0));"
                "\n    double v = 0.0;\n    for (size_t k = 0; k < n; ++k) if (y[k] != 0) v += y[k] * (ls - (z[k] - m));"
                f"\n    out[0] = ({T})v;"
            )
        )
        grow = (
            _C_SCE
            + _C_SCE_SUM
            # softmax·Σy − y with softmax = e/(S + e_max), as the kernel computes it
            + "\n    const double total = s + exp(z[top] - m);"
            + f"\n    for (size_t k = 0; k < n; ++k) dz[k] = ({T})(exp(z[k] - m) / total * ys - y[k]);"
        )
        row_args, grow_args = "z + r * n, y + r * n, out + r", "z + r * n, y + r * n, dz + r * n"
        row_params = f"const {T} *z, const {T} *y, {T} *out, size_t n"
        grow_params = f"const {T} *z, const {T} *y, {T} *dz, size_t n"
    else:
        row = _C_ROW[name].replace("{T}", T)
        # the vjp needs y = f(x): compute it into dx, then overwrite dx elementwise (each k reads y[k] first)
        grow = (
            _C_ROW[name].replace("{T}", T).replace("y[k] = ", "dx[k] = ")
            + "\n    {\n    const "
            + T
            + " *y = dx;\n"
            + _C_VJP[name].replace("{T}", T)
            + "\n    }"
        )
        row_args, grow_args = "x + r * n, y + r * n", "x + r * n, g + r * n, dx + r * n"
        row_params = f"const {T} *x, {T} *y, size_t n"
        grow_params = f"const {T} *x, const {T} *g, {T} *dx, size_t n"
    q = "__device__ " if cuda else "static "
    parts = [head, "#include <math.h>", "#include <stddef.h>", "", f"{q}void {name}_row({row_params})\n{{\n{row}\n}}\n"]
    if grad:
        parts.append(f"{q}void {name}_grad_row({grow_params})\n{{\n{grow}\n}}\n")
    targets = [(sig, f"{name}_row", row_args)] + ([(gsig, f"{name}_grad_row", grow_args)] if grad else [])
    for signature, rowfn, args in targets:
        if cuda:
            kernel = signature.replace("void ", "__global__ void ", 1).replace("(", "_kernel(", 1)
            parts.append(
                f"{kernel}\n{{\n    const size_t r = (size_t)blockIdx.x * blockDim.x + threadIdx.x;\n"
                f"    if (r < rows) {rowfn}({args}, n);\n}}\n"
            )
        else:
            parts.append(f"{signature}\n{{\n    for (size_t r = 0; r < rows; ++r) {rowfn}({args}, n);\n}}\n")
    return "\n".join(parts)


_PY_MAX_AND_SUM = """m = -math.inf
for k in range(n):
    m = max(m, x[k])
if not math.isfinite(m):
    m = 0.0
s = 0.0
for k in range(n):
    s += math.exp(x[k] - m)
"""  # the row's max m and Σ exp(x − m), for softmax

_PY_ROW = {  # the C loops above, one row, for numba
    "softmax": _PY_MAX_AND_SUM
    + """for k in range(n):
    y[k] = math.exp(x[k] - m) / s""",
    "log_softmax": """m = -math.inf
top = 0
for k in range(n):
    if x[k] > m:
        m = x[k]
        top = k
if not math.isfinite(m):
    m = 0.0
s = 0.0
for k in range(n):
    if k != top:  # log Σe = log1p(S), S = Σe without the max's 1, each e^(x − m) with x − m exact (two-sum)
        z = x[k] - m
        b = z - x[k]
        d = (x[k] - (z - b)) - (b + m)
        e = math.exp(z)
        s += e + e * d if math.isfinite(d) else e
ls = math.log1p(s + (math.exp(x[top] - m) - 1.0))
for k in range(n):
    y[k] = x[k] - m - ls""",
    "sparsemax": """size = 0
total = 0.0
for j in range(n):
    kj = 0
    sj = 0.0
    for i in range(n):
        if x[i] >= x[j]:
            kj += 1
            sj += x[i]
    if 1.0 + kj * x[j] > sj and kj > size:
        size = kj
        total = sj
tau = (total - 1.0) / size
for k in range(n):
    y[k] = max(x[k] - tau, 0.0)""",
}

_PY_VJP = {
    "softmax": """dot = 0.0
for k in range(n):
    dot += g[k] * y[k]
for k in range(n):
    dx[k] = y[k] * (g[k] - dot)""",
    "log_softmax": """total = 0.0
for k in range(n):
    total += g[k]
for k in range(n):
    dx[k] = g[k] - math.exp(y[k]) * total""",
    "sparsemax": """dot = 0.0
size = 0.0
for k in range(n):
    if y[k] > 0:
        dot += g[k]
        size += 1.0
for k in range(n):
    dx[k] = g[k] - dot / size if y[k] > 0 else 0.0""",
}


def _numba(fn: Fn, grad: bool, head: str) -> str:
    """One row at a time over a 2-D (rows, n) array; a 1-D array is one row."""
    name = fn.name
    lines = [head, "", "import math", "", "import numba", "import numpy as np", "import numpy as xp", _FLOAT_ARRAY]
    if name == "softmax_cross_entropy":
        lines.append(f"""
@numba.njit(cache=True)
def _rows(z, y, out, dz, with_grad):
    rows, n = z.shape
    for r in range(rows):
        m = -math.inf
        top = 0
        ys = 0.0
        for k in range(n):
            if z[r, k] > m:
                m = z[r, k]
                top = k
            ys += y[r, k]
        if not math.isfinite(m):
            m = 0.0
        s = 0.0  # log Σ exp(z − m) as log1p of the sum without the max's 1, with z − m exact, as log_softmax
        for k in range(n):
            if k != top:
                d = z[r, k] - m
                b = d - z[r, k]
                delta = (z[r, k] - (d - b)) - (b + m)
                e = math.exp(d)
                s += e + e * delta if math.isfinite(delta) else e
        e_top = math.exp(z[r, top] - m)
        ls = math.log1p(s + (e_top - 1.0))
        total = s + e_top
        v = 0.0  # Σ y·(ls − (z − m)): terms of one sign, where ys·lse − ⟨y, z⟩ cancelled; 0 where y = 0
        for k in range(n):
            if y[r, k] != 0:
                v += y[r, k] * (ls - (z[r, k] - m))
        out[r] = v
        if with_grad:
            for k in range(n):
                dz[r, k] = math.exp(z[r, k] - m) / total * ys - y[r, k]  # softmax·Σy − y, as the kernel


def _prepare(z, y):
    z, y = np.atleast_2d(np.asarray(z, dtype=np.float64)), np.atleast_2d(np.asarray(y, dtype=np.float64))
    return z, y, np.empty(z.shape[0]), np.empty_like(z)


def {name}(z, y):
    z2, y2, out, dz = _prepare(z, y)
    _rows(z2, y2, out, dz, False)
    return (out if np.ndim(z) > 1 else out[0]).astype(_float_dtype(z))
""")
        if grad:
            lines.append(f"""
def {name}_grad(z, y):
    z2, y2, out, dz = _prepare(z, y)
    _rows(z2, y2, out, dz, True)
    return dz.reshape(np.shape(z)).astype(_float_dtype(z))
""")
        return "\n".join(lines).rstrip() + "\n"
    lines.append(f"""
@numba.njit(cache=True)
def _row(x, y, n):
{textwrap.indent(_PY_ROW[name], "    ")}


@numba.njit(cache=True)
def _row_vjp(y, g, dx, n):
{textwrap.indent(_PY_VJP[name], "    ")}


@numba.njit(cache=True)
def _rows(x, g, y, dx, with_grad):
    n = x.shape[1]
    for r in range(x.shape[0]):
        _row(x[r], y[r], n)
        if with_grad:
            _row_vjp(y[r], g[r], dx[r], n)


def {name}(x):
    x2 = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.empty_like(x2)
    _rows(x2, x2, y, y, False)
    return y.reshape(np.shape(x)).astype(_float_dtype(x))
""")
    if grad:
        lines.append(f'''
def {name}_grad(x, g):
    """gᵀJ, the vector-Jacobian product, over the last axis."""
    x2 = np.atleast_2d(np.asarray(x, dtype=np.float64))
    g2 = np.atleast_2d(np.asarray(g, dtype=np.float64))
    y, dx = np.empty_like(x2), np.empty_like(x2)
    _rows(x2, g2, y, dx, True)
    return dx.reshape(np.shape(x)).astype(_float_dtype(x))
''')
    return "\n".join(lines).rstrip() + "\n"


def rows(fn: Fn, lang: str, *, grad: bool, ctype: str, header: bool, describe: list[str]) -> str:
    if lang in ("c", "cuda"):
        head = "/*\n" + "\n".join(" * " + line for line in describe) + "\n */"
        return _c(fn, grad, ctype, header, lang == "cuda", head)
    head = "\n".join("# " + line for line in describe)
    if lang == "numba":
        return _numba(fn, grad, head)
    return _python(fn, lang, grad, head)

"""symact codegen: every elementwise catalog function, in every target whose toolchain is here, against symact.

C needs gcc; torch and jax are optional (the ``bench`` extra); CUDA is checked
with ``nvcc -ptx`` (compile only) where nvcc exists. Values must agree with
symact's own kernels within 4 ULP in float64; torch's autograd through the
generated Function passes ``gradcheck``; ``jax.grad`` of the generated
custom_jvp function equals the generated derivative.
"""

import ctypes
import importlib.util
import shutil
import subprocess

import numpy as np
import pytest

import symact
from symact.codegen import LANGS, c_name, codegen
from symact.compile.accuracy import points

from .conftest import ACTIVATIONS, LOSSES, SCALAR_ACTIVATIONS, ids

ELEMENTWISE = SCALAR_ACTIVATIONS + [e for e in LOSSES if not e.vector]
HAVE = {
    "c": shutil.which("gcc") is not None,
    "numpy": True,
    "numba": importlib.util.find_spec("numba") is not None,
    "torch": importlib.util.find_spec("torch") is not None,
    "jax": importlib.util.find_spec("jax") is not None,
    "cuda": shutil.which("nvcc") is not None,
}
if HAVE["jax"]:
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 comparisons; must precede any jax computation

# Kernels whose float64 error is measured above 4 ULP (tests/test_kernels.py), if any: two implementations
# of the same form may differ by up to those bounds.
from .test_kernels import F64_SHORTFALL  # noqa: E402

# Measured misses of the 4-ULP agreement, by target: (bound met, why).
TARGET_SHORTFALL = {
    ("jax", "log_cosh"): (8, "XLA's CPU expm1 and log1p are up to ~4 ULP from the truth where glibc's are within 1"),
    ("jax", "tanh"): (6, "XLA's CPU expm1, from which tanh is formed, is up to ~4 ULP from the truth"),
    ("jax", "gelu"): (1000, "jax.scipy.special.erfc is up to 33 ULP off for 5 < z < 10 and ~130 for 15 < z < 20"),
}

MISSING = {
    "c": "gcc",
    "numba": "numba",
    "torch": "torch (pip install -e '.[bench]')",
    "jax": "jax (pip install -e '.[bench]')",
    "cuda": "nvcc",
}


def _ulps(got, want):
    """Largest error in ULP of ``want``; where ``want`` is subnormal, an absolute error up to the smallest normal
    number counts as 0 (the accuracy target's rule; XLA on CPU flushes subnormals to zero)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        same |= (np.abs(want) < tiny) & (np.abs(got - want) <= tiny)
    spacing = np.spacing(np.maximum(np.abs(want), np.finfo(np.float64).tiny))
    with np.errstate(invalid="ignore"):
        err = np.where(same, 0.0, np.abs(got - want) / spacing)
    return float(np.nanmax(np.where(np.isnan(err), np.inf, err)))


def _inputs(entry, lang):
    """(arguments, reference values, reference derivatives) from symact's own kernels: the C kernel for C-family
    targets (the same printing of constants: x·(1/6) is not x/6 to the last bit), else the NumPy kernel."""
    if entry.kind == "activation":
        xs = points(1500, seed=3)
        backend = "c" if lang in ("c", "numba") and HAVE["c"] else "numpy"
        y, dy = symact.compile(entry.name, backend=backend, dtype="float64")(xs)
        return (xs,), y, dy
    rng = np.random.default_rng(4)
    (plo, phi), (tlo, thi) = entry.domain
    pred, target = rng.uniform(plo, phi, 600), rng.uniform(tlo, thi, 600)
    if entry.name in ("bce", "focal"):
        target[:50] = np.round(target[:50])  # exact 0/1 targets: the 0·log 0 convention
    kernel = symact.compile(entry.name, dtype="float64")
    per, grad = kernel._term(pred, target)
    return (pred, target), per, grad


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ptx(src, name, tmp_path) -> str:
    """Compile CUDA source with ``nvcc -ptx`` and return the PTX."""
    path = tmp_path / f"{name}.cu"
    path.write_text(src)
    ptx = tmp_path / f"{name}.ptx"
    proc = subprocess.run(["nvcc", "-ptx", str(path), "-o", str(ptx)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ptx.read_text()


def _shared_library(src, name, tmp_path, header: str | None = None, flags=("-O2", "-std=c99")):
    """Compile C source with gcc -Wall -Werror (its header force-included, when given) and load it."""
    path = tmp_path / f"{name}.c"
    path.write_text(src)
    include = []
    if header is not None:
        (tmp_path / f"{name}.h").write_text(header)
        include = ["-include", str(tmp_path / f"{name}.h")]
    lib = tmp_path / f"lib{name}.so"
    cmd = ["gcc", *flags, "-Wall", "-Werror", *include, "-shared", "-fPIC", str(path), "-o", str(lib)]
    proc = subprocess.run([*cmd, "-lm"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ctypes.CDLL(str(lib))


@pytest.mark.skipif(not HAVE["c"], reason="gcc is not installed here")
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh"])
def test_compensated_c_is_exact_with_gcc_default_contraction(name, tmp_path):
    """GNU C contracts a·b + c into an fma by default, which would falsify the error terms; the generated
    file turns contraction off itself, so -O3 -march=native in GNU mode gives the kernel's values bit for bit."""
    so = _shared_library(codegen(name, lang="c"), name, tmp_path, flags=("-O3", "-march=native"))
    xs = points(1000, seed=5)
    xs = xs[np.isfinite(xs)]
    got = {}
    for fname in (name, f"{name}_grad"):
        out = np.empty_like(xs)
        getattr(so, fname)(
            *(a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in (xs, out)), ctypes.c_size_t(xs.size)
        )
        got[fname] = out
    y, dy = symact.compile(name, backend="c", dtype="float64")(xs)
    assert np.array_equal(got[name], y) and np.array_equal(got[f"{name}_grad"], dy)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", ELEMENTWISE, ids=ids(ELEMENTWISE))
def test_generated_code_agrees_with_symact(entry, lang, tmp_path):
    if not HAVE[lang]:
        pytest.skip(f"{MISSING[lang]} is not installed here")
    name = entry.name
    src = codegen(name, lang=lang, grad=True)
    assert f"{name}: generated by symact {symact.__version__}" in "\n".join(src.splitlines()[:2])
    args, want_f, want_df = _inputs(entry, lang)
    if lang == "cuda":
        assert f"{c_name(name)}_grad_kernel" in _ptx(src, name, tmp_path)
        return
    if lang == "c":
        so = _shared_library(src, name, tmp_path, header=codegen(name, lang="c", header=True))
        outs = []
        for fname in (c_name(name), f"{c_name(name)}_grad"):
            out = np.empty_like(args[0])
            ptrs = [a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in (*args, out)]
            getattr(so, fname)(*ptrs, ctypes.c_size_t(out.size))
            outs.append(out)
        got_f, got_df = outs
    else:
        path = tmp_path / f"gen_{name}_{lang}.py"
        path.write_text(src)
        module = _import(path, path.stem)
        f, df = getattr(module, name), getattr(module, f"{name}_grad")
        if lang == "torch":
            import torch

            targs = [torch.from_numpy(a) for a in args]
            got_f, got_df = f(*targs).detach().numpy(), df(*targs).numpy()
        elif lang == "jax":
            with np.errstate(all="ignore"):  # jax folds NumPy inputs with NumPy: inf/inf before where() masks it
                got_f, got_df = np.asarray(f(*args)), np.asarray(df(*args))
        else:
            with np.errstate(all="ignore"):  # numba's ufuncs, like NumPy's own, flag overflow as exp(1e3) does
                got_f, got_df = f(*args), df(*args)
    bound = max(F64_SHORTFALL.get(name, (4,))[0], TARGET_SHORTFALL.get((lang, name), (4,))[0])
    assert _ulps(got_f, want_f) <= bound, f"{name} value, {lang}"
    assert _ulps(got_df, want_df) <= bound, f"{name} derivative, {lang}"


@pytest.mark.skipif(not HAVE["torch"], reason="torch is not installed here (pip install -e '.[bench]')")
@pytest.mark.parametrize("entry", ELEMENTWISE, ids=ids(ELEMENTWISE))
def test_torch_autograd_through_the_generated_function(entry, tmp_path):
    import torch

    path = tmp_path / f"gen_{entry.name}_torch_ag.py"
    path.write_text(codegen(entry.name, lang="torch"))
    f = getattr(_import(path, path.stem), entry.name)
    rng = np.random.default_rng(5)
    lo, hi = entry.domain[0]
    x = rng.uniform(lo, hi, 12)
    kinks = np.array([float(k) for k in entry.kinks], dtype=float)
    if kinks.size:  # keep finite differences off the kinks
        x = np.where(np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) < 1e-3, x + 0.01, x)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    if entry.kind == "activation":
        assert torch.autograd.gradcheck(f, (xt,))
    else:
        tlo, thi = entry.domain[1]
        yt = torch.tensor(rng.uniform(tlo, thi, 12), dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(f, (xt, yt))


@pytest.mark.skipif(not HAVE["jax"], reason="jax is not installed here (pip install -e '.[bench]')")
@pytest.mark.parametrize("entry", SCALAR_ACTIVATIONS, ids=ids(SCALAR_ACTIVATIONS))
def test_jax_grad_of_the_generated_function_is_its_derivative(entry, tmp_path):
    path = tmp_path / f"gen_{entry.name}_jax_ag.py"
    path.write_text(codegen(entry.name, lang="jax"))
    module = _import(path, path.stem)
    f, df = getattr(module, entry.name), getattr(module, f"{entry.name}_grad")
    xs = np.linspace(-4.3, 4.7, 25)
    grads = np.array([float(jax.grad(f)(x)) for x in xs])
    assert _ulps(grads, np.asarray(df(xs))) <= 1  # scalar and vector evaluation of pow may differ in the last bit


def test_codegen_refuses_what_it_cannot_generate():
    with pytest.raises(ValueError, match="lang must be"):
        codegen("relu", lang="rust")
    with pytest.raises(ValueError, match="header"):
        codegen("relu", lang="numpy", header=True)


@pytest.mark.parametrize("name", ["gelu", "mse", "kl_div", "softmax", "sparsemax", "softmax_cross_entropy"])
def test_float32_c_variant_and_header_compile(name, tmp_path):
    if not HAVE["c"]:
        pytest.skip("gcc is not installed here")
    src = codegen(name, lang="c", dtype="float32")
    assert "const float *" in src and "double *" not in src
    (tmp_path / "g.c").write_text(src)
    (tmp_path / "g.h").write_text(codegen(name, lang="c", dtype="float32", header=True))
    cmd = ["gcc", "-std=c99", "-Wall", "-Werror", "-include", str(tmp_path / "g.h"), "-c", str(tmp_path / "g.c")]
    proc = subprocess.run([*cmd, "-o", str(tmp_path / "g.o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# -- row functions: softmax-like activations and categorical losses --------------------------------------

ROWS = [e for e in ACTIVATIONS if e.vector] + [e for e in LOSSES if e.vector]
RNG = np.random.default_rng(9)


def _row_reference(entry):
    """(inputs, value, derivative) from symact's own kernels, over 40 rows of 5."""
    if entry.kind == "activation":
        x = RNG.normal(0, 3, (40, 5))
        x[0] = [1000.0, 999.0, -1000.0, 0.0, 3.0]  # the max shift must keep this finite
        g = RNG.normal(0, 1, (40, 5))
        k = symact.compile(entry.name, dtype="float64")
        return (x, g), k(x), k.vjp(x, g)
    yhat = RNG.normal(0, 2, (40, 5)) if entry.name == "softmax_cross_entropy" else RNG.dirichlet(np.ones(5), 40)
    y = RNG.dirichlet(np.ones(5), 40)
    y[:10] = np.eye(5)[RNG.integers(0, 5, 10)]  # one-hot rows: 0·log 0 terms
    k = symact.compile(entry.name, dtype="float64")
    per_row = [k(yhat[i : i + 1], y[i : i + 1]) for i in range(40)]
    return (yhat, y), np.array([v for v, _ in per_row]), np.concatenate([g for _, g in per_row])


def _kind(name: str) -> str:
    return symact.REGISTRY[name].kind


def _row_call(lang, src, name, inputs, tmp_path):
    """(value, derivative) of the generated code in ``lang`` on ``inputs``."""
    if lang == "c":
        so = _shared_library(src, name, tmp_path)
        a, b = inputs
        rows, n = a.shape
        sizes = ctypes.c_size_t(rows), ctypes.c_size_t(n)
        value, grad = np.empty_like(a), np.empty_like(a)
        ptr = lambda arr: arr.ctypes.data_as(ctypes.POINTER(ctypes.c_double))  # noqa: E731
        if _kind(name) == "activation":
            getattr(so, name)(ptr(a), ptr(value), *sizes)
        else:  # a loss: one value per row
            value = np.empty(rows)
            getattr(so, name)(ptr(a), ptr(b), ptr(value), *sizes)
        getattr(so, f"{name}_grad")(ptr(a), ptr(b), ptr(grad), *sizes)
        return value, grad
    path = tmp_path / f"gen_rows_{name}_{lang}.py"
    path.write_text(src)
    module = _import(path, path.stem)
    f, df = getattr(module, name), getattr(module, f"{name}_grad")
    if lang == "torch":
        import torch

        t = [torch.from_numpy(a) for a in inputs]
        value = f(t[0]) if _kind(name) == "activation" else f(*t)
        return value.detach().numpy(), df(*t).numpy()
    with np.errstate(all="ignore"):
        value = f(inputs[0]) if _kind(name) == "activation" else f(*inputs)
        return np.asarray(value), np.asarray(df(*inputs))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", ROWS, ids=ids(ROWS))
def test_generated_row_code_agrees_with_symact(entry, lang, tmp_path):
    if not HAVE[lang]:
        pytest.skip(f"{MISSING[lang]} is not installed here")
    name = entry.name
    src = codegen(name, lang=lang, grad=True)
    assert f"{name}: generated by symact {symact.__version__}" in "\n".join(src.splitlines()[:2])
    if lang == "cuda":
        assert f"{name}_grad_kernel" in _ptx(src, name, tmp_path)
        return
    inputs, want, want_grad = _row_reference(entry)
    got, got_grad = _row_call(lang, src, name, inputs, tmp_path)
    # Normwise: within 4 ULP of the row's largest value (a near-tie in sparsemax, log_softmax near 0 or a vjp's
    # g − ⟨g, s⟩ cancel, so elementwise relative error is not meaningful there); a loss's gradient s·Σy − y and a
    # vjp are measured against the larger of their terms (y, or g).
    bound = TARGET_SHORTFALL.get((lang, name), (4,))[0]
    row_scale = np.max(np.abs(want), axis=-1, keepdims=True) if want.ndim == 2 else np.abs(want)
    assert np.all(np.abs(got - want) <= bound * np.spacing(row_scale)), f"{name} value, {lang}"
    gscale = np.maximum(
        np.max(np.abs(want_grad), axis=-1, keepdims=True), np.max(np.abs(inputs[1]), axis=-1, keepdims=True)
    )
    assert np.all(np.abs(got_grad - want_grad) <= bound * np.spacing(gscale)), f"{name} derivative, {lang}"


@pytest.mark.skipif(not HAVE["torch"], reason="torch is not installed here (pip install -e '.[bench]')")
@pytest.mark.parametrize("entry", ROWS, ids=ids(ROWS))
def test_torch_autograd_through_generated_row_functions(entry, tmp_path):
    import torch

    path = tmp_path / f"gen_rows_{entry.name}_torch_ag.py"
    path.write_text(codegen(entry.name, lang="torch"))
    f = getattr(_import(path, path.stem), entry.name)
    x = torch.tensor(RNG.normal(0, 1, (3, 4)), requires_grad=True)
    if entry.kind == "activation":
        assert torch.autograd.gradcheck(f, (x,))
    else:
        p = (
            x
            if entry.name == "softmax_cross_entropy"
            else torch.tensor(RNG.dirichlet(np.ones(4), 3), requires_grad=True)
        )
        y = torch.tensor(RNG.dirichlet(np.ones(4), 3), requires_grad=True)
        assert torch.autograd.gradcheck(f, (p, y))

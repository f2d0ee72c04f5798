"""User-defined functions: define, save and reload, and use like catalog names."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symact
from symact.cli import main
from symact.compile import available_backends
from symact.compile.accuracy import points, reference, ulp_error
from symact.stable import recognize_atoms
from symact.user import user_file


def test_define_registers_everywhere(capsys):
    fn = symact.define("test_leaky", "max(0, x) + alpha*min(0, x)", params={"alpha": 0.1})
    assert "test_leaky" in symact.names("activation")
    assert symact.activation("test_leaky").params[fn.param("alpha")] == fn.params[fn.param("alpha")]
    assert main(["derive", "test_leaky", "--wrt", "alpha"]) == 0
    assert main(["prove", "test_leaky(x) == leaky_relu(x) + 0.09*min(0, x)"]) == 0
    capsys.readouterr()
    with pytest.raises(ValueError, match="already"):
        symact.define("test_leaky", "x")


def test_define_rejects_unknown_symbols_and_constant_functions():
    with pytest.raises(symact.ExpressionError, match="unknown symbol"):
        symact.custom("x + z")
    with pytest.raises(symact.ExpressionError, match="does not depend"):
        symact.custom("alpha", params={"alpha": 1})


def test_user_loss():
    fn = symact.custom("(yhat - y)**4", kind="loss")
    assert fn.gradient() == 4 * (fn.inputs[0] - fn.targets[0]) ** 3


def test_saved_definition_is_loaded_on_later_runs(tmp_path):
    env = {"SYMACT_CONFIG_DIR": str(tmp_path), "PATH": ""}
    define = [sys.executable, "-m", "symact.cli", "define", "my_mish", "x*tanh(softplus(x))", "--save"]
    assert subprocess.run(define, env=env, capture_output=True, text=True).returncode == 0
    assert (tmp_path / "functions.toml").exists()
    later = subprocess.run(
        [sys.executable, "-m", "symact.cli", "prove", "my_mish(x) == mish(x)"], env=env, capture_output=True, text=True
    )
    assert later.returncode == 0 and "proved" in later.stdout


def test_corrupt_config_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMACT_CONFIG_DIR", str(tmp_path))
    user_file().write_text("this is [not toml")
    with pytest.warns(UserWarning, match="could not read"):
        assert symact.load_saved() == []


#: The logistic function, softplus, tanh and log cosh as a user may write them, with exp: the compiled kernels
#: are finite and within a few ULP where the literal formulas overflow (softplus at x = 800: inf, its
#: derivative inf/inf) or cancel (σ' = σ(1 − σ) is 0 at x = 40, 2σ(2x) − 1 is 0 at x = 10⁻¹⁰).
EXP_FORMS = [
    "log(1 + exp(x))",
    "x/(1 + exp(-x))",
    "exp(x)/(1 + exp(x))",
    "1 - 1/(1 + exp(-x))",
    "2/(1 + exp(-2*x)) - 1",
    "log(cosh(x))",
]


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("text", EXP_FORMS)
def test_functions_written_with_exp_compile_to_stable_kernels(text, backend):
    fn = symact.custom(text)
    recognized = recognize_atoms(fn.expr)  # then σ and softplus as proved stable (tests/test_kernels.py)
    branches = [e for e, _ in recognized.args] if isinstance(recognized, sp.Piecewise) else [recognized]
    for branch in branches:  # each branch equal on all of ℝ; log cosh's through exp, as for the log_cosh loss
        verdict = symact.prove(branch, fn.expr, timeout=30, suggest=False)
        if verdict.status != "proved":
            verdict = symact.prove(sp.exp(branch), sp.exp(fn.expr), timeout=30, suggest=False)
        assert verdict.status == "proved", branch
    xs = np.r_[-1e4, -800.0, -40.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 40.0, 800.0, 1e4, points(200)]
    truth_y, truth_dy = reference(fn, xs)
    y, dy = symact.compile(fn, backend=backend, dtype="float64")(xs)
    assert ulp_error(y, truth_y, np.float64) <= 4
    assert ulp_error(dy, truth_dy, np.float64) <= 4

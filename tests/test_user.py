"""User-defined functions: define, save and reload, and use like catalog names."""

import subprocess
import sys

import pytest

import symact
from symact.cli import main
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

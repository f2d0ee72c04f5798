"""The symact command: readable derivatives, JSON listing, clean errors."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

import symact
from symact.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_sigmoid_prints_output_form(capsys):
    code, out, _ = run(capsys, "derive", "sigmoid")
    assert code == 0
    assert "σ(x)·(1 − σ(x))" in out
    assert "y·(1 − y)" in out


def test_derive_tanh_prints_one_minus_tanh_squared(capsys):
    code, out, _ = run(capsys, "derive", "tanh")
    assert code == 0 and "1 − tanh²(x)" in out


def test_derive_a_high_order_has_a_time_limit(capsys):
    """An order that cannot finish (10^6) ends at --timeout with a clear error, exit 2, instead of running
    forever; a high order that can (σ⁽³⁰⁾, a polynomial in σ) prints."""
    code, _, err = run(capsys, "derive", "sigmoid", "--order", "1000000", "--timeout", "1")
    assert code == 2 and "did not finish" in err and "Traceback" not in err
    code, out, _ = run(capsys, "derive", "sigmoid", "--order", "30", "--timeout", "120")
    assert code == 0 and "sigmoid⁽³⁰⁾(x) = " in out


def test_list_json_lists_every_catalog_name(capsys):
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    assert {row["name"] for row in json.loads(out)} == set(symact.names())


def test_list_by_kind(capsys):
    _, out, _ = run(capsys, "list", "--kind", "loss", "--json")
    assert {row["kind"] for row in json.loads(out)} == {"loss"}


@pytest.mark.parametrize("fmt", ["text", "latex", "json", "unicode"])
def test_derive_formats(capsys, fmt):
    code, out, _ = run(capsys, "derive", "silu", "--format", fmt)
    assert code == 0 and out.strip()
    if fmt == "json":
        assert json.loads(out)["derivative"]["text"].count("sigmoid") >= 1
    if fmt == "latex":
        assert r"\sigma" in out


def test_derive_with_respect_to_a_parameter_and_order(capsys):
    code, out, _ = run(capsys, "derive", "prelu", "--wrt", "alpha")
    assert code == 0 and "x otherwise" in out and out.startswith("∂prelu/∂α = ")  # (it said ∂prelu/∂alpha)
    code, out, _ = run(capsys, "derive", "sigmoid", "--order", "2")
    assert code == 0 and "σ(x)" in out


def test_show_every_function(capsys):
    """Every line after the title is indented under it: a matrix's rows (softmax's Jacobian, sparsemax's
    definition) began at column 0."""
    for name in symact.names():
        code, out, _ = run(capsys, "show", name)
        assert code == 0 and "reference:" in out, name
        assert all(line.startswith("  ") for line in out.splitlines()[1:]), (name, out)
        # properties in words, each value in the column of the others: it said "zero_centered: False"
        words = [line for line in out.splitlines()[1:] if re.match(r"  [\w-]+:", line)]  # range:, odd:, …
        assert all(line[15] == " " != line[16] and "_" not in line[:16] for line in words), (name, words)
        assert not re.search(r":\s+(True|False)$", out, re.M), (name, out)
    code, out, _ = run(capsys, "show", "identity")
    assert code == 0 and "  range:        ℝ\n" in out and "  odd:          yes\n" in out  # range: Reals


def test_show_writes_vectors_by_their_ith_component(capsys):
    code, out, _ = run(capsys, "show", "softmax")
    assert code == 0 and "  definition:   softmax(x ∈ ℝ^3)ᵢ = exp(xᵢ)/Σⱼ₌₁³ exp(xⱼ)   (i = 1, …, 3)" in out.splitlines()
    code, out, _ = run(capsys, "show", "cross_entropy")
    assert code == 0 and out.splitlines()[4:7] == [
        "  ∂L/∂ŷᵢ:       −yᵢ/ŷᵢ   (i = 1, …, 3)",
        "  with ŷ = softmax(z):  ∂L/∂zᵢ = exp(zᵢ)/Σⱼ₌₁³ exp(zⱼ) − yᵢ   (i = 1, …, 3)",
        "                               = ŷᵢ − yᵢ   (i = 1, …, 3)",
    ]
    code, out, _ = run(capsys, "show", "mse")  # identity output: no "with ŷ = identity(z)" line
    assert code == 0 and "identity(z)" not in out


def test_derive_loss_shows_matched_gradient(capsys):
    """A gradient vector whose components are one expression in the index prints as its i-th component; it
    printed as a column, [[ŷ₁ − y₁],⏎ [ŷ₂ − y₂],⏎ …], its second form's "=" under nothing."""
    code, out, _ = run(capsys, "derive", "cross_entropy")
    assert code == 0 and out.splitlines() == [
        "∂cross_entropy/∂ŷᵢ = −yᵢ/ŷᵢ   (i = 1, …, 3)",
        "with ŷ = softmax(z): ∂cross_entropy/∂zᵢ = exp(zᵢ)/Σⱼ₌₁³ exp(zⱼ) − yᵢ   (i = 1, …, 3)",
        "                                        = ŷᵢ − yᵢ   (i = 1, …, 3)",
    ]
    code, out, _ = run(capsys, "derive", "cross_entropy", "--format", "latex")  # its logit line kept its label
    assert code == 0 and out.splitlines()[1].startswith(r"with ŷ = softmax(z): ∂cross_entropy/∂zᵢ = \frac{e^{z_{i}}}")
    code, out, _ = run(capsys, "derive", "bce")
    first, second = out.splitlines()[1:3]
    assert code == 0 and first.index(" = σ(z) − y") == second.index(" = ŷ − y") and second.strip() == "= ŷ − y"
    # logits in: the gradient for any y, one line per component, then with Σ y = 1 the softmax's
    code, out, _ = run(capsys, "derive", "softmax_cross_entropy")
    lines = out.splitlines()
    assert code == 0 and [line[:29] for line in lines[:3]] == [f"∂softmax_cross_entropy/∂ŷ{k} = " for k in "₁₂₃"]
    assert lines[3] == "with Σ y = 1: ∂softmax_cross_entropy/∂ŷᵢ = exp(ŷᵢ)/Σⱼ₌₁³ exp(ŷⱼ) − yᵢ   (i = 1, …, 3)"


def test_rmse_is_shown_as_its_cost_with_the_costs_gradient(capsys):
    """No sample has an RMSE: its definition is the root of the mean, and its gradient the cost's. Both used to
    read as the squared error's, rmse(ŷ, y) = (ŷ − y)² and ∂rmse/∂ŷ = 2·(ŷ − y)."""
    code, out, _ = run(capsys, "derive", "rmse")
    assert code == 0 and out.strip() == "∂rmse/∂ŷ[i] = (ŷ[i] − y[i])/(N·rmse)"
    code, out, _ = run(capsys, "show", "rmse")
    assert code == 0 and "rmse(ŷ, y) = √(mean of (ŷ − y)² over the samples)" in out and "2·(ŷ − y)" not in out
    code, _, err = run(capsys, "derive", "rmse", "--order", "2")
    assert code == 2 and "order=1 only" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["derive", "sigmod"], "did you mean sigmoid"),
        (["derive", "relu", "--wrt", "alpha"], "no parameter"),
        (["derive", "leaky_relu", "-p", "alpha"], "NAME=VALUE"),
        (["derive", "leaky_relu", "-p", "alpha=big"], "not a number"),
        (["derive", "sigmoid", "--order", "0"], "--order"),
        (["show", "relu", "--size", "4"], "takes no size"),
        (["derive", "softmax", "--size", "100000"], "at most 256"),  # n² entries: it never finished
        (["derive", "sparsemax", "--size", "6"], "at most 5"),  # 2^n − 1 subsets: a minute to build
        (["derive", "softmax", "--size", "8", "--timeout", "0.5"], "ask for a smaller --size"),
        (["show", "softmax", "--size", "8", "--timeout", "0.5"], "ask for a smaller --size"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["prove", "sigmoid(x) == sigmoid(x)", "--timeout", "nan"], "--timeout: must be a positive, finite"),
        (["prove", "sigmoid(x) == sigmoid(x)", "--timeout", "inf"], "--timeout: must be a positive, finite"),
        (["check", "sigmoid", "--timeout", "-5"], "--timeout: must be a positive, finite"),
        (["derive", "sigmoid", "--timeout", "0"], "--timeout: must be a positive, finite"),
        (["train", "--samples", "-5"], "--samples: must be an integer >= 1"),
        (["train", "--seed", "-1"], "--seed: must be an integer >= 0"),
        (["train", "--data-seed", "x"], "--data-seed: 'x' is not an integer"),
        (["train", "--val-split", "1.5"], "--val-split: must lie in [0, 1)"),
        (["train", "--val-split", "nan"], "--val-split: must lie in [0, 1)"),
        (["accuracy", "relu", "--points", "-1"], "--points: must be an integer >= 0"),
    ],
)
def test_bad_numbers_are_refused_by_the_parser_with_exit_2(capsys, argv, message):
    """Numbers are checked where they are read: --timeout nan or inf was a traceback from deep in
    multiprocessing, -1 an unknown verdict; --val-split 1.5 said "X has no samples"."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err


def test_show_prints_nothing_when_the_jacobian_runs_out_of_time(capsys):
    code, out, err = run(capsys, "show", "softmax", "--size", "8", "--timeout", "0.5")
    assert code == 2 and out == "" and "did not finish" in err


def test_console_script_exit_code_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "symact.cli", "derive", "tanhh"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "tanh" in proc.stderr and "Traceback" not in proc.stderr


# -- train ------------------------------------------------------------------


def test_train_reports_the_metrics_asked_for(capsys):
    code, out, _ = run(capsys, "train", "--data", "linear", "--metrics", "mae,rmse", "--epochs", "3", "--quiet")
    last = out.strip().splitlines()[-1]
    assert code == 0 and all(f" {k} " in f" {last} " for k in ("mae", "rmse", "val_mae", "val_rmse"))
    code, _, err = run(capsys, "train", "--data", "linear", "--metrics", "maee", "--epochs", "1", "--quiet")
    assert code == 2 and "did you mean mae" in err


def test_train_moons_prints_metrics_and_writes_plot_and_model(capsys, tmp_path):
    plot, saved = tmp_path / "m.png", tmp_path / "m.npz"
    code, out, _ = run(
        capsys,
        "train",
        "--data",
        "moons",
        "--layers",
        "16,16",
        "--activation",
        "relu",
        "--loss",
        "bce",
        "--epochs",
        "60",
        "--plot",
        str(plot),
        "--save",
        str(saved),
        "-q",
    )
    assert code == 0, out
    assert "val_accuracy" in out
    accuracy = float(out.split("val_accuracy")[1].split()[0])
    assert accuracy >= 0.97
    assert plot.stat().st_size > 10_000
    model = symact.nn.Sequential.load(saved)
    assert [layer.units for layer in model.layers] == [16, 16, 1]


def test_train_json_and_default_loss_for_three_classes(capsys):
    code, out, _ = run(capsys, "train", "--data", "blobs", "--epochs", "20", "--json", "-q")
    assert code == 0
    assert json.loads(out)["val_accuracy"] >= 0.9


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--layers", "16,x"], "--layers"),
        (["--activation", "relux"], "relu"),
        (["--activation", "x*tanh(softplus(x))"], "symact define NAME 'x*tanh(softplus(x))' --save"),
        (["--loss", "sigmoid"], "not a loss"),
        (["--data", "nosuchdata"], "unknown dataset"),
        (["--data", "linear", "--loss", "cross_entropy"], "class labels"),
    ],
)
def test_train_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, "train", "--epochs", "1", "-q", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_train_reports_divergence_with_exit_1(capsys):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        "linear",
        "--activation",
        "exponential",
        "--layers",
        "16,16",
        "--optimizer",
        "sgd",
        "--lr",
        "10",
        "--epochs",
        "50",
        "-q",
    )
    assert code == 1 and "training stopped" in err and "epoch" in err


README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("block", range(len(re.findall(r"```python\n", README.read_text(encoding="utf-8")))))
def test_readme_python_examples_run(block, tmp_path):
    """Each ```python block of the README runs as it stands, in a fresh interpreter (one had used names it
    never defined)."""
    code = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[block]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def _readme_shell_blocks():
    """The README's ```sh blocks that run symact, each as its list of commands (comments dropped), in order."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    lines = [[re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()] for block in blocks]
    commands = [[line for line in block if line.startswith("symact ")] for block in lines]
    return [block for block in commands if block]


def test_readme_start_prints_what_the_readme_shows(capsys):
    """The first command a newcomer runs prints what the README says it prints."""
    start = README.read_text(encoding="utf-8").split("## Start", 1)[1]
    shown = next(body for lang, body in re.findall(r"```(\w*)\n(.*?)```", start, re.S) if not lang)
    code, out, _ = run(capsys, "derive", "sigmoid")
    assert code == 0 and out == shown


@pytest.mark.parametrize("block", range(len(_readme_shell_blocks())))
def test_readme_commands_run(block, capsys, tmp_path, monkeypatch):
    """Each `symact …` line of the README's shell blocks runs, in order within its block (a saved definition is
    used by the next line), and exits with 0, or with 1 where its comment says it is disproved. `symact docs`
    is left to tests/test_handbook.py, which builds the same handbook (about 50 s a format)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMACT_CONFIG_DIR", str(tmp_path / "config"))
    text = README.read_text(encoding="utf-8")
    for command in _readme_shell_blocks()[block]:
        if command.startswith("symact docs"):
            continue
        line = next(line for line in text.splitlines() if line.strip().startswith(command))
        expected = 1 if re.search(r"#\s*disproved", line) else 0
        code, _, err = run(capsys, *shlex.split(command)[1:])
        assert code == expected, (command, err[-2000:])


def test_gelu_is_shown_and_derived_in_the_standard_normal(capsys):
    code, out, _ = run(capsys, "derive", "gelu")
    assert code == 0 and "in the standard normal's cdf Φ and pdf φ: Φ(x) + x·φ(x)" in out
    code, out, _ = run(capsys, "show", "gelu")
    assert code == 0 and "= x·Φ(x)" in out and "in Φ and φ:   Φ(x) + x·φ(x)" in out
    code, out, _ = run(capsys, "derive", "sigmoid")
    assert "Φ" not in out
    code, out, _ = run(capsys, "derive", "--expr", "x*varphi(x)")  # Φ and φ parse, as printed
    assert code == 0 and "φ(x)·(1 − x²)" in out


@pytest.mark.parametrize(
    "argv, line",
    [
        (["sigmoid", "--at", "0"], "at x = 0: 1/4"),
        (["sigmoid", "--at", "1"], "at x = 1: σ(1)·(1 − σ(1)) ≈ 0.1966119332"),
        (["relu", "--at", "0"], "at x = 0: 0"),  # the catalog's convention at the kink
        (["elu", "-p", "alpha=0.5", "--at", "-1"], "at x = −1: exp(−1)/2 ≈ 0.1839397206"),
        (["bce", "--at", "yhat=3/10", "--at", "y=1"], "at ŷ = 3/10, y = 1: −10/3"),
        (["bce", "--at", "yhat=1.5", "--at", "y=0.5"], "at ŷ = 3/2, y = 1/2: undefined: bce is not real there"),
        (["--expr", "1/x", "--at", "0"], "at x = 0: undefined (not a real number)"),
        # a removable singularity: the limit, which the kernels take there (was "undefined")
        (
            ["--expr", "x/tanh(x)", "--at", "0"],
            "at x = 0: 0, the limit there (the form is 0/0: a removable singularity)",
        ),
        (
            ["--expr", "sin(x)/x", "-k", "2", "--at", "0"],
            "at x = 0: −1/3, the limit there (the form is 0/0: a removable singularity)",
        ),
        (
            ["--expr", "x/(exp(x) - 1)", "--at", "0"],
            "at x = 0: −1/2, the limit there (the form is 0/0: a removable singularity)",
        ),
        (["--expr", "sqrt(x)", "--at", "0"], "at x = 0: undefined (not a real number)"),  # +∞ from the right
    ],
)
def test_derive_at_a_point(capsys, argv, line):
    code, out, _ = run(capsys, "derive", *argv)
    assert code == 0 and line in out.splitlines()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bce", "--at", "0.3"], "--at: give y too"),
        (["sigmoid", "--at", "z=1"], "sigmoid is a function of x"),
        (["sigmoid", "--at", "inf"], "limits at ±∞: symact analyze"),
        (["softmax", "--at", "1"], "--at takes an elementwise function"),
        (["rmse", "--at", "yhat=1", "--at", "y=0"], "depends on the whole batch"),  # printed ŷ[i] − y[i] unchanged
    ],
)
def test_derive_at_a_bad_point_is_a_usage_error(capsys, argv, message):
    code, _, err = run(capsys, "derive", *argv)
    assert code == 2 and message in err


def test_derive_at_a_point_in_json(capsys):
    code, out, _ = run(capsys, "derive", "bce", "--at", "yhat=0.3", "--at", "y=1", "--format", "json")
    at = json.loads(out)["at_point"]
    assert code == 0 and at["point"] == {"yhat": "3/10", "y": "1"} and at["value"] == "-10/3"
    assert at["float"] == -10 / 3


def test_derive_of_log1p_has_no_output_form_and_no_traceback(capsys):
    """y = log1p(t) has no inverse in SymPy's solve (NotImplementedError): derive ended in a traceback."""
    code, out, _ = run(capsys, "derive", "--expr", "log1p(exp(x))")
    assert code == 0 and out.startswith("custom′(x) = exp(x)/(1 + exp(x))")


def test_derive_sparsemax_states_its_proved_closed_form(capsys):
    """The derived Jacobian of sparsemax is a Piecewise of nested maxima; its closed form in the support is proved
    on the theorem sheet, and derive says so, as it gives softmax's diag(s) − s sᵀ."""
    code, out, _ = run(capsys, "derive", "sparsemax")
    assert code == 0
    assert "in the output: J = diag(m) − m mᵀ/|S|" in out and "(proved against the derived Jacobian" in out


def test_derive_sparsemax_prints_its_long_jacobian_in_x_on_request(capsys):
    """At n = 3 each entry of the Jacobian in x repeats the threshold's max over all seven subsets: 6000
    characters, which buried the closed form. It is counted, and printed with --expanded or where short (n = 2)."""
    code, out, _ = run(capsys, "derive", "sparsemax")
    assert code == 0 and len(out) < 400 and "in x: 9 entries" in out and "--expanded" in out and "max(" not in out
    code, full, _ = run(capsys, "derive", "sparsemax", "--expanded")
    assert code == 0 and full.startswith(out.splitlines()[0]) and full.count("\n [") == 2 and "max(x₁ − 1" in full
    code, out, _ = run(capsys, "derive", "sparsemax", "--size", "2")
    assert code == 0 and "in x:\n[[" in out and "x₁/2 + x₂/2 − 1/2" in out


def test_derive_writes_orders_as_superscripts_in_unicode(capsys):
    """∂^2mse/∂ŷ^2 and gelu^(4) in the Unicode output, where σ′′′ already had primes; the text format keeps ^."""
    expected = [
        (["mse", "--order", "2"], "∂²mse/∂ŷ² = 2"),
        (["silu", "--wrt", "beta", "--order", "2"], "∂²silu/∂β² = "),
        (["gelu", "--order", "4"], "gelu⁽⁴⁾(x) = "),
        (["mse", "--order", "2", "--format", "text"], "∂^2mse/∂ŷ^2 = 2"),
        (["gelu", "--order", "4", "--format", "text"], "gelu^(4)(x) = "),
    ]
    for args, start in expected:
        code, out, _ = run(capsys, "derive", *args)
        assert code == 0 and out.startswith(start), (args, out)


def test_show_spells_out_a_definition_in_atoms(capsys):
    """sigmoid(x) = σ(x) said nothing: show gives the exponentials too, as the handbook does."""
    code, out, _ = run(capsys, "show", "sigmoid")
    assert code == 0 and "definition:   sigmoid(x) = σ(x) = 1/(1 + exp(−x))" in out
    code, out, _ = run(capsys, "show", "relu")
    assert "definition:   relu(x) = max(0, x)\n" in out
    code, out, _ = run(capsys, "show", "tanh")  # not tanh(x) = tanh(x) = …
    assert "definition:   tanh(x) = (exp(x) − exp(−x))/(exp(x) + exp(−x))\n" in out


def test_each_seed_mistake_is_refuted_by_its_check(capsys):
    """docs/seeds.md gives one command per mistake of the seed tutorials: each runs and refutes the claim. Its
    `symact analyze sigmoid` printed the range as [0 (exact), 1 (exact)], the seed's own mistake, where the
    table says (0, 1)."""
    table = (Path(__file__).parent.parent / "docs" / "seeds.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\|.*`(symact [^`]+)` \|$", table, flags=re.MULTILINE)
    assert len(commands) >= 6
    for command in commands:
        args = shlex.split(command)[1:]
        code, out = main(args), capsys.readouterr().out
        if args[0] == "prove":  # the seed's claim, as written, is false
            assert code == 1 and out.startswith("disproved"), (command, out)
        elif args == ["analyze", "sigmoid"]:
            assert code == 0 and re.search(r"^  range: +\(0, 1\)$", out, flags=re.MULTILINE), (command, out)
        elif args == ["derive", "relu"]:  # not constantly 1: 0 for x ≤ 0
            assert code == 0 and out.startswith("relu′(x) = {1 if x > 0; 0 otherwise}"), (command, out)
        elif args == ["derive", "relu", "--at", "-1"]:  # differentiable below 0, with derivative 0
            assert code == 0 and "at x = −1: 0" in out.splitlines(), (command, out)
        else:
            pytest.fail(f"docs/seeds.md has a check this test does not know: {command}")


def test_derive_gives_the_derivative_at_the_parameter_values_given(capsys):
    """-p alpha=0.2 had no effect on derive: the general derivative was printed and the value dropped. It is now
    followed by the derivative at the values given, where it depends on them."""
    code, out, _ = run(capsys, "derive", "leaky_relu", "-p", "alpha=0.2")
    assert code == 0 and out.splitlines()[1] == "at α = 0.2: {1 if x > 0; 1/5 otherwise}"
    code, out, _ = run(capsys, "derive", "silu", "--wrt", "beta", "-p", "beta=2")
    assert code == 0 and "at β = 2: x²·σ(2·x)·(1 − σ(2·x))" in out
    code, out, _ = run(capsys, "derive", "huber", "-p", "delta=2")
    assert code == 0 and "at δ = 2: {ŷ − y if |ŷ − y| ≤ 2; 2·sign(ŷ − y) otherwise}" in out
    code, out, _ = run(capsys, "derive", "leaky_relu")  # defaults: the general form only
    assert code == 0 and "at α" not in out
    code, out, _ = run(capsys, "derive", "prelu", "--wrt", "alpha", "-p", "alpha=0.3")  # ∂/∂α has no α in it
    assert code == 0 and "at α" not in out
    code, out, _ = run(capsys, "derive", "elu", "-p", "alpha=2", "--format", "json")
    bound = json.loads(out)["at_params"]
    assert (
        bound["params"] == {"alpha": "2"} and bound["derivative"]["text"] == "Piecewise((1, x > 0), (2*exp(x), True))"
    )


@pytest.mark.parametrize(
    "flag, name, message",
    [
        ("--save", "missing/m.npz", "no directory"),
        ("--checkpoint", "missing/c.npz", "no directory"),
        ("--plot", "missing/p.png", "no directory"),
        ("--plot", "p.txt", "write .png, .pdf or .svg"),
        ("--save", ".", "is a directory"),
    ],
)
def test_train_refuses_an_output_it_cannot_write_before_training(capsys, tmp_path, flag, name, message):
    """--save and --plot to a missing directory trained first, then created it; a bad --plot suffix failed only
    after the training. They are refused at once (exit 2), as -o is, and nothing is created."""
    path = tmp_path / name
    code, out, err = run(capsys, "train", "--data", "xor", "--epochs", "1", "-q", flag, str(path))
    assert code == 2 and message in err and "epoch" not in out
    assert not (tmp_path / "missing").exists()


def test_train_says_epoch_for_one(capsys):
    code, out, _ = run(capsys, "train", "--data", "xor", "--epochs", "1", "-q")
    assert code == 0 and "after 1 epoch: loss" in out


def test_show_gives_a_numeric_range_end_as_approximate(capsys):
    """show printed GELU's range as [−0.16997120747990836, ∞), a float carried to 17 digits as if exact, and
    SELU's as a line of erfc; they read as analyze prints them."""
    for name, shown in [
        ("gelu", "[≈ −0.1699712075, ∞)"),
        ("selu", "(−α·λ ≈ −1.758099341, ∞)"),
        ("silu", "[−W(exp(−1)) ≈ −0.2784645428, ∞)"),
        ("hard_swish", "[−3/8, ∞)"),
        ("sigmoid", "(0, 1)"),
    ]:
        code, out, _ = run(capsys, "show", name)
        assert code == 0 and f"  range:        {shown}\n" in out, (name, out)


def test_accuracy_measures_each_kernel_against_mpmath(capsys):
    code, out, _ = run(capsys, "accuracy", "sigmoid", "-b", "numpy", "--points", "100", "--dense", "101")
    assert code == 0
    rows = {tuple(line.split()[:2]): line for line in out.splitlines() if line.startswith("  numpy")}
    assert set(rows) == {("numpy", "float64"), ("numpy", "float32")}
    for line in rows.values():  # the catalog's kernels: within 4 ULP, so nothing marked
        assert "*" not in line
        assert 0 < float(line.split()[2]) <= 4


def _near_a_root_of_the_slope(at: float) -> bool:
    """Whether ``at`` is within 0.01 of a root of x·sin x's f′ = sin x + x·cos x, beyond |x| = 8."""
    with mpmath.workdps(30):
        root = mpmath.findroot(lambda t: mpmath.sin(t) + t * mpmath.cos(t), at)
    return abs(at) > 8 and abs(at - float(root)) < 0.01


def test_accuracy_marks_a_user_function_above_four_ulp_and_says_where(capsys):
    """x·sin x has f′ = sin x + x·cos x, whose terms cancel at its roots (tan x = −x); symact's Taylor windows
    about roots reach |x| = 8, and beyond them f′ is 13 ULP off (Snake, x + sin²x, was the example here, 5·10⁵ ULP
    at the double roots of 1 + sin 2x, until its slope was written as a square)."""
    argv = ["accuracy", "--expr", "x*sin(x)", "-b", "numpy", "--dtype", "float64", "--points", "0"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("  numpy")]
    df = line.split("  ")[-1]
    assert df.split()[1] == "*" and float(df.split()[0]) > 4
    assert _near_a_root_of_the_slope(float(df.split("x = ")[1]))
    code, out, _ = run(capsys, *argv, "--json")
    (kernel,) = json.loads(out)["kernels"]
    assert kernel["df"]["ulp"] > 4 and _near_a_root_of_the_slope(kernel["df"]["at"])
    assert kernel["compared"] == json.loads(out)["points"] - 3  # all but ±inf and NaN


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["softmax"], "softmax is not one"),
        (["mse"], "mse is not one"),
        (["relu", "-b", "fortran"], "backend 'fortran' is not available here"),
        (["relu", "--range", "3", "1"], "--range needs finite A < B"),
        (["relu", "--range", "0", "inf"], "--range needs finite A < B"),
    ],
)
def test_accuracy_refuses_bad_input_in_one_line(capsys, argv, message):
    code, out, err = run(capsys, "accuracy", *argv)
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_train_holds_out_nothing_from_xors_four_points_unless_asked(capsys):
    """Of XOR's four points, 0.2 held out one, a row of the truth table the other three cannot give: every run
    ended at val_accuracy 0 and val_loss 10.8. Fewer than 20 samples now all train, and the run says so."""
    code, out, _ = run(capsys, "train", "--data", "xor", "--epochs", "50", "-q")
    assert code == 0 and "4 samples: all train, none held out" in out and "val_loss" not in out
    code, out, _ = run(capsys, "train", "--data", "xor", "--epochs", "5", "-q", "--val-split", "0.25")
    assert code == 0 and "val_loss" in out and "none held out" not in out
    code, out, _ = run(capsys, "train", "--data", "moons", "--epochs", "1", "-q")
    assert code == 0 and "val_loss" in out  # 400 samples: 0.2 held out, as before


def test_train_json_is_the_only_output_and_names_text_classes(capsys, tmp_path):
    """With --json a CSV's text labels printed "classes: 0 = no, 1 = yes" before the JSON, which then did not
    parse; the names are in the JSON now."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n0,0,no\n0,1,yes\n1,0,yes\n1,1,no\n0.1,0.1,no\n0.9,0.1,yes\n")
    code, out, _ = run(capsys, "train", "--data", str(path), "--epochs", "2", "--json")
    assert code == 0 and json.loads(out)["classes"] == ["no", "yes"]


def test_accuracy_and_codegen_take_functions_that_are_not_real_or_defined_everywhere(capsys):
    """log x is complex for x < 0, and sin(x)/x 0/0 at 0: the truth's evaluation raised ValueError and
    ZeroDivisionError, and codegen of √x a TypeError, all as tracebacks. Points without a real value are left
    out, and the output says how many; at 0/0 the truth is the definition's limit."""
    code, out, _ = run(capsys, "accuracy", "--expr", "log(x)", "-b", "numpy", "--points", "50", "--dense", "51")
    assert code == 0 and "(compared at 53 of those 105: elsewhere f or f' has no finite real value)" in out
    code, out, _ = run(capsys, "accuracy", "--expr", "sin(x)/x", "-b", "numpy", "--points", "50", "--dense", "51")
    assert code == 0 and "compared at" not in out  # at x = ±0, and 0 on the grid, the truth is the limit, 1
    code, out, _ = run(capsys, "codegen", "--expr", "sqrt(x)", "--lang", "numpy", "--grad")
    assert code == 0 and "def custom_grad(x):" in out

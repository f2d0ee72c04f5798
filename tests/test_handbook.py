"""The handbook, plots and codegen CLI: generated from the catalog, typeset without errors, and up to date in docs/.

The PDF test needs pdflatex (Debian: texlive-latex-recommended, latexmk); .ci/run
installs it, and where it cannot the test is skipped with that reason.
"""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symact
import symact.plot  # its module, which only some other test imported before this file ran
from symact import handbook
from symact.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sections():
    return handbook._sections(progress=False)


def test_latex_printer_prints_a_reciprocal_as_a_fraction():
    x = sp.Symbol("x", real=True)
    assert symact.latex(1 / (1 + sp.exp(-x))) == r"\frac{1}{1 + e^{- x}}"


def test_tex_text_turns_unicode_math_into_ascii_latex():
    out = handbook.tex_text("σ′ = σ(1 − σ) ≤ 1/4, e^(−x), 0·log 0 & 5% of x_1")
    assert out.isascii()
    assert r"\(\sigma'" in out and r"\textsuperscript{\(-\)x}" in out and r"\&" in out and r"\%" in out


def test_markdown_in_docs_is_up_to_date(sections, tmp_path):
    path = handbook.write_markdown(tmp_path, sections)
    committed = ROOT / "docs" / "handbook" / "handbook.md"
    assert committed.read_text() == path.read_text(), (
        "docs/handbook is stale: run `symact docs --format markdown -o docs/handbook`"
    )
    for figure in re.findall(r"\]\((fig/[^)]+)\)", path.read_text()):
        assert (ROOT / "docs" / "handbook" / figure).is_file(), figure


def test_every_catalog_function_has_a_section_with_formulas_verdicts_and_figure(sections, tmp_path):
    text = handbook.write_markdown(tmp_path, sections).read_text()
    for name in symact.names():
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert "**Definition.**" in section and f"![{name} and its derivative]" in section
        assert "Reference:" in section
        assert (tmp_path / "fig" / f"{name}.png").stat().st_size > 5000
    assert text.count(": **proved**") >= 80


@pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (apt-get install "
    "texlive-latex-recommended latexmk lmodern); the LaTeX source is still tested",
)
def test_latex_handbook_builds_a_pdf_with_a_section_per_function(sections, tmp_path):
    tex = handbook.write_latex(tmp_path, sections)
    assert tex.read_text().isascii()
    pdf = handbook.build_pdf(tex)  # raises on LaTeX errors and on undefined references
    assert pdf.stat().st_size > 100_000
    toc = tex.with_suffix(".toc").read_text()
    for name in symact.names():
        assert r"\texttt {" + name.replace("_", r"\_") + "}" in toc, name


def test_latex_source_is_ascii_without_pdflatex(sections, tmp_path):
    tex = handbook.write_latex(tmp_path, sections)
    text = tex.read_text()
    assert text.isascii() and text.count(r"\section{") == len(symact.names()) + 1  # + the comparison


def test_docs_cli_refuses_pdf_for_markdown(capsys, tmp_path):
    assert main(["docs", "--format", "markdown", "--pdf", "-o", str(tmp_path)]) == 2
    assert "--pdf needs --format latex" in capsys.readouterr().err


def test_plot_cli_writes_each_format(capsys, tmp_path):
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"f.{suffix}"
        assert main(["plot", "sigmoid", "tanh", "bce", "softmax", "-d", "--range", "-4", "4", "-o", str(out)]) == 0
        assert out.stat().st_size > 3000
    assert main(["plot", "sigmoid", "-o", str(tmp_path / "f.txt")]) == 2
    assert main(["plot", "sigmoid", "--range", "3", "1", "-o", str(tmp_path / "g.png")]) == 2
    assert not (tmp_path / "g.png").exists()
    assert "range" in capsys.readouterr().err


def test_plot_cli_draws_functions_given_as_text(capsys, tmp_path, monkeypatch):
    """`symact plot --expr TEXT` (plot took catalog names only): drawn as f, g, … with their definitions in the
    title, beside catalog functions."""
    import matplotlib.figure

    saved = []
    monkeypatch.setattr(
        matplotlib.figure.Figure, "savefig", lambda fig, path, **kw: saved.append(fig) or open(path, "w")
    )
    out = tmp_path / "text.png"
    assert main(["plot", "silu", "--expr", "x + sin(x)**2", "--expr", "atan(x)", "-d", "-o", str(out)]) == 0
    ax = saved[0].axes[0]
    assert ax.get_title() == "silu, f(x) = x + sin²(x), g(x) = atan(x)"
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")] == [
        "silu",
        "silu′",
        "f",
        "f′",
        "g",
        "g′",
    ]
    assert main(["plot", "-o", str(out)]) == 2 and "give NAMEs to plot, or --expr TEXT" in capsys.readouterr().err
    assert main(["plot", "--expr", "foo(x)", "-o", str(tmp_path / "bad.png")]) == 2
    assert not (tmp_path / "bad.png").exists()


def test_fn_plot_returns_a_figure(tmp_path):
    fig = symact.activation("gelu").plot(path=tmp_path / "g.png")
    assert len(fig.axes[0].lines) >= 2 and (tmp_path / "g.png").is_file()


def test_a_plotted_jump_is_a_gap_with_a_dot_at_the_conventions_value():
    """relu′ was drawn as a vertical line from 0 to 1 at x = 0; it is now 0 up to 0, 1 after, and a dot at
    relu′(0) = 0. Smooth curves (sigmoid) and continuous kinks (relu itself) are unbroken."""
    fig = symact.plot.plot(["relu", "sigmoid"], derivative=True)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    xs, dys = (np.asarray(v, float) for v in lines["relu′"].get_data())
    assert np.isnan(dys[xs == 0]).all() and np.isnan(dys).sum() == 1
    assert dys[xs < 0].max() == 0 and dys[xs > 0].min() == 1
    dots = [line.get_xydata().tolist() for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert dots == [[[0.0, 0.0]]]
    for label in ("relu", "sigmoid", "sigmoid′"):
        assert not np.isnan(np.asarray(lines[label].get_ydata(), float)).any()


def test_codegen_cli_writes_a_file_and_refuses_bad_requests(capsys, tmp_path):
    out = tmp_path / "relu.py"
    assert main(["codegen", "relu", "--lang", "numpy", "--grad", "-o", str(out)]) == 0
    assert "def relu_grad(x):" in out.read_text()
    assert main(["codegen", "--expr", "x*sigmoid(x)", "--lang", "torch"]) == 0
    assert "torch.autograd.Function" in capsys.readouterr().out
    assert main(["codegen", "softmax", "--lang", "c", "--grad"]) == 0
    assert "void softmax_grad(const double *x, const double *g, double *dx, size_t rows, size_t n)" in (
        capsys.readouterr().out
    )
    for argv in (
        ["softmax", "--lang", "c", "-o", str(tmp_path)],
        ["relu", "--lang", "numpy", "--header"],
        ["nope", "--lang", "c"],
        ["relu", "--lang", "c", "-o", str(tmp_path / "missing" / "x.c")],
    ):
        assert main(["codegen", *argv]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, definition",
    [
        ("sigmoid", r"\sigma\left(x\right) = \frac{1}{1 + e^{- x}}"),
        ("tanh", r"\tanh\left(x\right) = \frac{e^{x} - e^{- x}}{e^{x} + e^{- x}}"),
        ("exponential", r"\exp\left(x\right) = e^{x}"),  # its only form: kept
        ("gelu", r"\frac{x \left(1 + \operatorname{erf}{\left(\frac{\sqrt{2} x}{2} \right)}\right)}{2} = x \Phi"),
    ],
)
def test_a_definition_in_latex_does_not_repeat_its_name(name, definition, capsys):
    """The handbook, show --latex and a notebook's display gave σ(x) = σ(x) = 1/(1 + e^(−x)) and
    tanh(x) = tanh(x) = …: the definition σ(x) is the name itself."""
    fn = symact.activation(name)
    assert definition in fn.latex() and fn._repr_latex_() == f"${fn.latex()}$"
    assert main(["show", name, "--latex"]) == 0
    assert f"definition:   {fn.latex()}\n" in capsys.readouterr().out


def test_a_loss_is_drawn_only_where_it_is_defined():
    """bce(ŷ, y = 1) was drawn as −log ŷ up to ŷ = 3, below 0 beyond 1: the kernel drops the (1 − y)·log(1 − ŷ)
    term at y = 1, but BCE has no value outside 0 < ŷ < 1. Poisson's starts at ŷ > 0; MSE is drawn throughout."""
    fig = symact.plot.plot(["mse", "bce", "poisson_nll"], derivative=True, xrange=(-3, 3))
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    for label, lo, hi in [
        ("bce(ŷ, y = 1)", 0, 1),
        ("poisson_nll(ŷ, y = 0)", 0, np.inf),
        ("mse(ŷ, y = 0)", -np.inf, np.inf),
    ]:
        for name in (label, f"{label}′"):
            xs, ys = (np.asarray(v, float) for v in lines[name].get_data())
            drawn = xs[np.isfinite(ys)]
            assert drawn.size > 100 and lo <= drawn.min() and drawn.max() <= hi, (name, drawn.min(), drawn.max())
    assert np.isfinite(np.asarray(lines["bce(ŷ, y = 1)"].get_ydata(), float)).any()

"""The handbook: every catalog function, typeset from the catalog itself (LaTeX → PDF, or Markdown).

``symact docs --format latex -o DIR [--pdf]`` and ``--format markdown``. Every
formula is printed from the registry's SymPy expressions and their derived
derivatives, every verdict comes from running the theorem sheet, every
property from the catalog and from :func:`symact.analyze.analyze`, every
figure from the kernels. Nothing is written by hand per function, so the
handbook cannot drift from the math; tests/test_handbook.py checks that the
Markdown in ``docs/handbook`` is what the catalog generates now.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from . import __version__
from .analyze import analyze, shown
from .catalog import REGISTRY
from .fn import Fn
from .printing import latex
from .progress import Progress
from .theorems import sheet

FRONT = [
    (
        "What activation and loss functions are for",
        "A neuron computes z = w·x + b and passes it through an activation g. Without g, or with g(z) = z, "
        "a stack of layers is one linear map: the network is linear regression however deep it is (the theorem "
        "sheet of identity proves this for any depth), and with a sigmoid output it is logistic regression. "
        "A nonlinear g is what lets hidden layers build new features. The loss L(ŷ, y) measures how far the "
        "prediction ŷ is from the target y; training follows −∂L/∂w, which backpropagation computes from g′ "
        "and ∂L/∂ŷ, the derivatives this handbook lists for every function.",
    ),
    (
        "Vanishing gradients",
        "Backpropagation multiplies one factor g′(z) per layer. The sigmoid's derivative σ′ = σ(1 − σ) is at "
        "most 1/4 (at z = 0), so through 10 sigmoid layers the gradient can shrink by (1/4)^10 ≈ 9.5e-7 before "
        "the weights even enter; tanh′ = 1 − tanh² reaches 1 only at 0 and saturates on both sides. ReLU's "
        "derivative is exactly 1 for z > 0, which is why deep networks train with it, at the price of units "
        "that can die: a unit whose z is negative on every input has ReLU′ = 0 and never recovers. Leaky ReLU, "
        "PReLU, ELU and GELU keep a nonzero slope for z < 0. Each function's section gives the maximum of f′ "
        "and the bound (max f′)^10.",
    ),
    (
        "Choosing the output activation",
        "The output activation follows the target. A binary target (y ∈ {0, 1}) takes a sigmoid output with "
        "binary cross-entropy; a real-valued target that may be negative takes the identity (linear) output with "
        "mean squared error; a non-negative target (a price, a count) takes a ReLU output (or exponential with "
        "the Poisson loss); one of K classes takes softmax with cross-entropy. With the matching pair the "
        "gradient at the logits is ŷ − y, proved in the loss sections below.",
    ),
]


@dataclass
class Section:
    fn: Fn
    theorems: list[tuple[str, str, str]]  # (title, status, method)
    analysis: object | None
    logit_gradient: sp.Expr | None = None  # a loss's ∂L/∂z (class k), in ŷ where it has such a form


def _class_k(fn: Fn, expr: sp.Expr) -> sp.Expr:
    """A categorical loss's class-1 expression written for class k."""
    return expr.subs({fn.inputs[0]: sp.Symbol("yhat_k"), fn.targets[0]: sp.Symbol("y_k")})


def _shown_logit_gradient(fn: Fn) -> sp.Expr:
    in_z, in_yhat = fn.logit_gradient()
    shown = in_yhat if in_yhat is not None else in_z
    return _class_k(fn, shown[0]) if isinstance(shown, sp.MatrixBase) else shown


def _max_derivative(s: Section) -> str:
    return shown(s.analysis.derivative_max, 4, s.analysis.params) if s.analysis else "see Jacobian"


def _sections(progress: bool) -> list[Section]:
    out = []
    entries = list(REGISTRY)
    with Progress(len(entries), "handbook", enabled=progress) as bar:
        for entry in entries:
            fn = Fn(entry)
            results = []
            for t in sheet(entry.name):
                v = t.check(timeout=10)
                results.append((t.title, v.status, v.method))
            analysis = analyze(fn) if entry.kind == "activation" and not entry.vector else None
            logit = _shown_logit_gradient(fn) if entry.kind == "loss" else None
            out.append(Section(fn, results, analysis, logit))
            bar.update(1, function=entry.name)
    return out


# -- LaTeX text ----------------------------------------------------------------

_MATH = {
    "±": r"\pm",
    "²": "^{2}",
    "³": "^{3}",
    "·": r"\cdot",
    "ŷ": r"\hat{y}",
    "ˣ": "^{x}",
    "Σ": r"\Sigma",
    "Φ": r"\Phi",
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "λ": r"\lambda",
    "π": r"\pi",
    "σ": r"\sigma",
    "φ": r"\varphi",
    "θ": r"\theta",
    "τ": r"\tau",
    "ᵀ": r"^{\top}",
    "ᵢ": "_{i}",
    "ᶻ": "^{z}",
    "‖": r"\|",
    "₁": "_{1}",
    "ₖ": "_{k}",
    "ₛ": "_{s}",
    "ⱼ": "_{j}",
    "→": r"\to",
    "∂": r"\partial",
    "∈": r"\in",
    "−": "-",
    "√": r"\surd ",
    "∞": r"\infty",
    "≈": r"\approx",
    "≤": r"\le",
    "≥": r"\ge",
    "′": "'",
    "∓": r"\mp",
    "≳": r"\gtrsim",
    "⊙": r"\odot",
    "⁻": "^{-}",
    "¹": "^{1}",
    "⁰": "^{0}",
    "₀": "_{0}",
    "∘": r"\circ",
}
_TEXT = {
    "§": r"\S{}",
    "á": r"\'a",
    "é": r"\'e",
    "ü": r"\"u",
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "“": "``",
    "”": "''",
    "’": "'",
}
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "$": r"\$",
}


_POWER = re.compile(r"\^(\([^()]*\)|[\w.]+)")


def tex_text(text: str) -> str:
    """Plain text with Unicode math → LaTeX that pdflatex typesets (ASCII only); a^(b) becomes a superscript."""
    parts, last = [], 0
    for m in _POWER.finditer(text):
        exponent = m.group(1)
        if exponent.startswith("("):
            exponent = exponent[1:-1]
        parts.append(_tex_chars(text[last : m.start()]) + r"\textsuperscript{" + _tex_chars(exponent) + "}")
        last = m.end()
    return "".join(parts) + _tex_chars(text[last:])


def _tex_chars(text: str) -> str:
    out = []
    for ch in text:
        if ch in _MATH:
            out.append(r"\(" + _MATH[ch] + r"\)")
        elif ch in _TEXT:
            out.append(_TEXT[ch])
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            raise ValueError(f"no LaTeX for the character {ch!r} in {text!r}; add it to symact.handbook")
    return "".join(out).replace(r"\)\(", "")


_URL = re.compile(r"https?://\S+")


def _reference(text: str) -> str:
    """A reference with its URLs as \\url (which breaks lines at slashes), the rest as text."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out.append(tex_text(text[last : m.start()]) + r"\url{" + m.group(0) + "}")
        last = m.end()
    return "".join(out) + tex_text(text[last:])


def _tt(name: str) -> str:
    return r"\texttt{" + name.replace("_", r"\_") + "}"


def _short(v: sp.Basic) -> sp.Basic:
    """Long closed forms (SELU's range) and 20-digit floats shown to 4 significant digits."""
    if isinstance(v, sp.Interval) and not isinstance(v, sp.Reals.__class__):
        ends = [
            e if e.is_infinite or e.is_Rational or len(str(e)) < 12 else sp.Float(e.evalf(4), 4)
            for e in (v.start, v.end)
        ]
        return sp.Interval(*ends, bool(v.left_open), bool(v.right_open))
    return v


def _value_tex(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, sp.Basic):
        return r"\(" + latex(_short(v)) + r"\)"
    return tex_text(str(v))


def _value_text(v) -> str:
    """A Markdown table cell: math in $…$, with | spelled \\vert so it cannot end the cell."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, sp.Basic):
        return _cell_math(latex(_short(v)))
    return str(v).replace("|", "\\|")


def _cell_math(tex: str) -> str:
    return "$" + tex.replace("|", r"\vert ") + "$"


# -- per-function facts (shared by both formats) ------------------------------


def _vector_definition(fn: Fn) -> str:
    """The first component of a vector activation (the others are its permutations), or a categorical loss,
    at n = 3, or at n = 2 where n = 3 would not fit a line legibly (sparsemax's threshold has 2ⁿ − 1 cases)."""
    e = fn.entry
    for n in (3, 2):
        small = Fn(e, size=n)
        if e.kind == "activation":
            text = r"%s\left(\mathbf{x}\right)_1 = %s \qquad (n = %d)" % (e.latex_name, latex(small.expr[0]), n)
        else:
            text = r"%s\left(\hat{\mathbf{y}}, \mathbf{y}\right) = %s \qquad (n = %d)" % (
                e.latex_name,
                latex(small.expr),
                n,
            )
        if len(text) < 260:
            break
    return text


#: The label of a derivative written in the standard normal's cdf and pdf (GELU's).
_NORMAL_LABEL = "In the standard normal's cdf Φ and pdf φ"


def _formulas(section: Section) -> list[tuple[str, str]]:
    """(label, LaTeX display formula) pairs: definition and derivatives."""
    fn, e = section.fn, section.fn.entry
    definition = _vector_definition(fn) if e.vector else fn.latex()  # with its other forms: x·Φ(x), …
    out = [("Definition", definition)]
    if e.kind == "activation" and not e.vector:
        d = fn.derivative()
        out.append(("Derivative", r"%s'(x) = %s" % (e.latex_name, latex(d))))
        y_form = fn.derivative(form="output")
        if y_form is not None and y_form != d:
            out.append(("In the output y = f(x)", r"%s'(x) = %s" % (e.latex_name, latex(y_form))))
        normal = fn.derivative(form="normal")
        if normal is not None:
            out.append((_NORMAL_LABEL, r"%s'(x) = %s" % (e.latex_name, latex(normal))))
        for p in e.params:
            out.append(
                (
                    f"With respect to {p.name}",
                    r"\frac{\partial f}{\partial %s} = %s" % (latex(p.symbol), latex(fn.derivative(wrt=p.name))),
                )
            )
    elif e.kind == "activation":
        if e.closed_form:
            out.append(("Jacobian", e.closed_form[1]))
    else:
        grad = fn.gradient()
        if isinstance(grad, sp.MatrixBase):
            out.append(
                (
                    "Gradient (class k)",
                    r"\frac{\partial L}{\partial \hat{y}_k} = %s" % latex(_class_k(fn, grad[0])),
                )
            )
        else:
            of = (e.latex_name, r"\hat{y}_i") if fn.rooted else ("L", r"\hat{y}")
            out.append(("Gradient", r"\frac{\partial %s}{\partial %s} = %s" % (*of, latex(grad))))
        if e.output_activation and e.output_activation != "identity" or e.name in ("mse", "bce"):
            shown = section.logit_gradient
            if e.vector:
                out.append(
                    (
                        f"At the logits of a {e.output_activation} output (class k)",
                        r"\frac{\partial L}{\partial z_k} = %s" % latex(shown),
                    )
                )
            else:
                out.append(
                    (
                        f"At the logit of a {e.output_activation} output",
                        r"\frac{\partial L}{\partial z} = %s" % latex(shown),
                    )
                )
    return out


def _properties(section: Section) -> list[tuple[str, object]]:
    e = section.fn.entry
    rows = [(k.replace("_", "-").replace("zero-centered", "zero-centred (odd)"), v) for k, v in e.properties.items()]
    a = section.analysis
    if a is not None:
        dmax = a.derivative_max
        rows.append(("max f'", shown(dmax, 4, a.params)))  # as symact analyze prints it, to 4 figures
        bound = a.vanishing_bound(10)
        if bound.is_finite:
            rows.append(("gradient bound over 10 layers", f"{float(bound):.3g}"))
    if e.kinks:
        rows.append(("at kinks", e.kink_convention))
    if e.kind == "loss":
        rows.append(("reduction", "mean over samples" if e.reduction == "mean" else "square root of the mean"))
        if e.output_activation:
            rows.append(("matching output activation", e.output_activation))
        if getattr(e, "target_encoding", ""):
            rows.append(("targets", e.target_encoding))
    return rows


# -- LaTeX ---------------------------------------------------------------------

PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage[margin=2.3cm]{geometry}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
% a display formula, scaled down to the line width when it is longer (sparsemax at n = 3 is)
\newsavebox\formulabox
\newcommand\fitformula[1]{\sbox\formulabox{$\displaystyle #1$}%
  \ifdim\wd\formulabox>\linewidth\resizebox{\linewidth}{!}{\usebox\formulabox}\else\usebox\formulabox\fi}
\setlength{\parskip}{0.5em}
\title{The symact handbook\\[0.3em]\large Activation and loss functions, derived and proved}
\author{Generated by symact @VERSION@ from its catalog}
\date{}
\begin{document}
\maketitle
\tableofcontents
\clearpage
"""


def _latex_section(s: Section, figure: str) -> str:
    e = s.fn.entry
    lines = [r"\section{%s}\label{fn:%s}" % (_tt(e.name), e.name)]
    if e.aliases:
        lines.append(r"\textit{Also called} " + ", ".join(_tt(a) for a in e.aliases) + ".")
    lines.append(tex_text(e.description))
    for label, formula in _formulas(s):
        lines.append(r"\textbf{%s.}" % tex_text(label))
        lines.append(r"\begin{center}\fitformula{" + formula + "}\\end{center}")
    if e.params:
        lines.append(r"\textbf{Parameters.}")
        lines.append(r"\begin{tabular}{lll}\toprule name & default & meaning\\\midrule")
        for p in e.params:
            learn = " (learnable)" if p.learnable else ""
            lines.append(
                r"\(%s\) & \(%s\) & %s%s\\" % (latex(p.symbol), latex(p.default), tex_text(p.description), learn)
            )
        lines.append(r"\bottomrule\end{tabular}")
    rows = "\n".join(r"%s & %s\\" % (tex_text(k), _value_tex(v)) for k, v in _properties(s))
    lines.append(  # one paragraph: the properties beside the figure
        r"\noindent\begin{minipage}[t]{0.46\textwidth}\vspace{0pt}\textbf{Properties.}\par\small"
        r"\begin{tabular}{@{}p{0.34\linewidth}p{0.6\linewidth}@{}}\toprule" + "\n" + rows + "\n"
        r"\bottomrule\end{tabular}\end{minipage}\hfill"
        r"\begin{minipage}[t]{0.5\textwidth}\vspace{0pt}\includegraphics[width=\linewidth]{%s}\end{minipage}" % figure
    )
    if s.theorems:
        lines.append(r"\textbf{Theorem sheet} (run by \texttt{symact check %s}):" % e.name.replace("_", r"\_"))
        lines.append(r"\begin{itemize}")
        for title, status, method in s.theorems:
            lines.append(
                r"\item %s: \textbf{%s}%s" % (tex_text(title), status, f" ({tex_text(method)})" if method else "")
            )
        lines.append(r"\end{itemize}")
    lines.append(r"{\raggedright\textbf{Reference.} " + _reference(e.reference) + r"\par}")
    return "\n\n".join(lines) + "\n\\clearpage\n"


def _comparison_latex(sections: list[Section]) -> str:
    lines = [
        r"\section{Comparison}",
        r"\subsection{Activations}",
        r"{\small",
        r"\begin{longtable}{@{}lp{4.1cm}llp{2.1cm}p{3.6cm}@{}}\toprule function & range & monotonic & odd & "
        r"smoothness & max \(f'\)\\\midrule\endhead",
    ]
    for s in sections:
        e = s.fn.entry
        if e.kind != "activation":
            continue
        p = e.properties
        dmax = _max_derivative(s)
        lines.append(
            r"\hyperref[fn:%s]{%s} & %s & %s & %s & %s & %s\\"
            % (
                e.name,
                _tt(e.name),
                _value_tex(p.get("range", "")) if not e.vector else "a simplex (see section)",
                _value_tex(p.get("monotonic", "")),
                _value_tex(p.get("zero_centered", "")),
                tex_text(str(p.get("smoothness", ""))),
                _value_tex(dmax),
            )
        )
    lines.append(r"\bottomrule\end{longtable}}")
    lines += [
        r"\subsection{Losses}",
        r"{\small",
        r"\begin{longtable}{@{}lllp{7.5cm}@{}}\toprule loss & output activation & convex & gradient at the logits"
        r"\\\midrule\endhead",
    ]
    for s in sections:
        e = s.fn.entry
        if e.kind != "loss":
            continue
        g = s.logit_gradient
        lines.append(
            r"\hyperref[fn:%s]{%s} & %s & %s & \(%s\)\\"
            % (
                e.name,
                _tt(e.name),
                _tt(e.output_activation or "identity"),
                _value_tex(e.properties.get("convex", "")),
                latex(g),
            )
        )
    lines.append(r"\bottomrule\end{longtable}}")
    return "\n".join(lines) + "\n\\clearpage\n"


def write_latex(out: Path, sections: list[Section]) -> Path:
    from .plot import plot

    (out / "fig").mkdir(parents=True, exist_ok=True)
    body = [PREAMBLE.replace("@VERSION@", __version__)]
    for title, text in FRONT:
        body.append(r"\section*{%s}\addcontentsline{toc}{section}{%s}" % (title, title))
        body.append(tex_text(text) + "\n")
    body.append(r"\clearpage")
    body.append(_comparison_latex(sections))
    for kind, heading in (("activation", "Activation functions"), ("loss", "Loss functions")):
        body.append(r"\part{%s}" % heading)
        for s in sections:
            if s.fn.kind == kind:
                fig = f"fig/{s.fn.name}.pdf"
                _figure(s.fn, out / fig, plot)
                body.append(_latex_section(s, fig))
    body.append(r"\end{document}")
    path = out / "handbook.tex"
    _write(path, "\n".join(body))
    return path


def _figure(fn: Fn, path: Path, plot) -> None:
    import matplotlib.pyplot as plt

    fig = plot([fn], derivative=True, path=path, title=f"{fn.name} and its derivative")
    plt.close(fig)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def build_pdf(tex: Path) -> Path:
    """latexmk (or pdflatex twice) in the handbook's directory; raises with the log's errors on failure."""
    if shutil.which("latexmk"):
        cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    elif shutil.which("pdflatex"):
        cmd = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    else:
        raise RuntimeError(
            "--pdf needs latexmk or pdflatex (Debian: apt-get install texlive-latex-recommended latexmk)"
        )
    runs = 1 if cmd[0] == "latexmk" else 2
    for _ in range(runs):
        proc = subprocess.run(cmd, cwd=tex.parent, capture_output=True, text=True)
        if proc.returncode != 0:
            errors = [line for line in proc.stdout.splitlines() if line.startswith("!")]
            raise RuntimeError("LaTeX failed: " + ("; ".join(errors[:5]) or proc.stdout[-1500:]))
    log = tex.with_suffix(".log").read_text(errors="replace")
    if "undefined references" in log or "Reference `" in log:
        raise RuntimeError("LaTeX reports undefined references; see " + str(tex.with_suffix(".log")))
    return tex.with_suffix(".pdf")


# -- Markdown ------------------------------------------------------------------


def write_markdown(out: Path, sections: list[Section]) -> Path:
    from .plot import plot

    (out / "fig").mkdir(parents=True, exist_ok=True)
    md = [
        f"# The symact handbook\n\nGenerated by symact {__version__} from its catalog with "
        "`symact docs --format markdown -o docs/handbook`. Do not edit: regenerate.\n"
    ]
    for title, text in FRONT:
        md.append(f"## {title}\n\n{text}\n")
    md.append(
        "## Activations at a glance\n\n| function | range | monotonic | odd | smoothness | max f′ |\n"
        "|---|---|---|---|---|---|"
    )
    for s in sections:
        e = s.fn.entry
        if e.kind == "activation":
            p = e.properties
            dmax = _max_derivative(s)
            md.append(
                f"| [{e.name}](#{e.name}) | {_value_text(p.get('range', ''))} | "
                f"{_value_text(p.get('monotonic', ''))} | {_value_text(p.get('zero_centered', ''))} | "
                f"{p.get('smoothness', '')} | {_value_text(dmax)} |"
            )
    md.append("\n## Losses at a glance\n\n| loss | output activation | gradient at the logits |\n|---|---|---|")
    for s in sections:
        e = s.fn.entry
        if e.kind == "loss":
            md.append(
                f"| [{e.name}](#{e.name}) | {e.output_activation or 'identity'} | {_cell_math(latex(s.logit_gradient))} |"
            )
    for s in sections:
        fn, e = s.fn, s.fn.entry
        md.append(f"\n## {e.name}\n")
        if e.aliases:
            md.append("Also called " + ", ".join(f"`{a}`" for a in e.aliases) + ".\n")
        md.append(e.description + "\n")
        for label, formula in _formulas(s):
            md.append(f"**{label}.**\n\n$$\n{formula}\n$$\n")
        if e.params:
            md.append("| parameter | default | meaning |\n|---|---|---|")
            for p in e.params:
                md.append(
                    f"| {_cell_math(latex(p.symbol))} | {_cell_math(latex(p.default))} | {p.description}"
                    f"{' (learnable)' if p.learnable else ''} |"
                )
            md.append("")
        md.append("| property | value |\n|---|---|")
        for k, v in _properties(s):
            md.append(f"| {k} | {_value_text(v)} |")
        if s.theorems:
            md.append(f"\nTheorem sheet (`symact check {e.name}`):\n")
            md += [f"- {t}: **{status}**" + (f" ({method})" if method else "") for t, status, method in s.theorems]
        fig = f"fig/{e.name}.png"
        _figure(fn, out / fig, plot)
        md.append(f"\n![{e.name} and its derivative]({fig})\n\nReference: {e.reference}")
    path = out / "handbook.md"
    _write(path, "\n".join(md) + "\n")
    return path


def generate(out: str | Path, fmt: str = "latex", *, pdf: bool = False, progress: bool = True) -> Path:
    """Write the handbook into ``out``; returns the .tex, .pdf or .md path."""
    if fmt not in ("latex", "markdown"):
        raise ValueError("format must be latex or markdown")
    if pdf and fmt != "latex":
        raise ValueError("--pdf needs --format latex")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    sections = _sections(progress)
    if fmt == "markdown":
        return write_markdown(out, sections)
    tex = write_latex(out, sections)
    return build_pdf(tex) if pdf else tex


__all__ = ["generate", "build_pdf", "tex_text", "write_latex", "write_markdown"]

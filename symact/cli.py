"""The ``symact`` command line: list, show and derive catalog functions.

Bad input (an unknown name, a parameter the function lacks) prints one line
to stderr and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import sympy as sp

from . import __version__, calculus
from .catalog import REGISTRY, UnknownFunctionError
from .fn import Fn, function
from .printing import as_decimal, componentwise, latex, superscript, unicode

FORMATS = ("unicode", "text", "latex", "json")


class UsageError(Exception):
    """Bad user input: reported in one line, exit code 2."""


def render(expr, fmt: str) -> str:
    if expr is None:
        return "—"
    if fmt == "latex":
        return latex(expr)
    if fmt == "text":
        return sp.sstr(expr)
    return unicode(expr)


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        try:
            params[name.strip()] = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise UsageError(f"--param {name}: {value!r} is not a number") from None
    return params


def _one_line(error: Exception) -> str:
    return str(error).splitlines()[0]


def _function(args) -> Fn:
    from .user import custom

    params = _parse_params(getattr(args, "param", []))
    try:
        if getattr(args, "expr", None) is not None:
            if args.name:
                raise UsageError("give a NAME or --expr TEXT, not both")
            return custom(args.expr, params=params, kind=args.kind)
        if not args.name:
            raise UsageError("give a catalog NAME or --expr TEXT")
        return function(args.name, size=getattr(args, "size", None), **params)
    except (UnknownFunctionError, TypeError, ValueError) as e:  # ExpressionError is a ValueError
        raise UsageError(_one_line(e)) from None


# -- list --------------------------------------------------------------------


def cmd_list(args) -> int:
    entries = [e for e in REGISTRY if args.kind is None or e.kind == args.kind]
    if args.json:
        rows = [
            {
                "name": e.name,
                "kind": e.kind,
                "aliases": list(e.aliases),
                "params": {p.name: sp.sstr(p.default) for p in e.params},
                "vector": e.vector,
                "description": e.description,
                "reference": e.reference,
            }
            for e in entries
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    width = max(len(e.name) for e in entries)
    for kind in ("activation", "loss"):
        group = [e for e in entries if e.kind == kind]
        if not group:
            continue
        print(f"{'activations' if kind == 'activation' else 'losses'} ({len(group)})")
        for e in group:
            aka = f" (alias: {', '.join(e.aliases)})" if e.aliases else ""
            print(f"  {e.name:<{width}}  {e.description}{aka}")
    return 0


# -- show --------------------------------------------------------------------


def _definition_line(fn: Fn, fmt: str) -> str:
    args = ", ".join(render(s, fmt) for s in (*fn.inputs, *fn.targets))
    name = fn.entry.latex_name if fmt == "latex" else fn.name
    if fn.vector and fn.kind == "activation":
        args = f"x ∈ ℝ^{fn.size}" if fmt != "latex" else r"\mathbf{x} \in \mathbb{R}^{%d}" % fn.size
    if fn.rooted:  # no sample has a loss of its own: (ŷ − y)² is not RMSE
        if fmt == "latex":
            return fn.latex()
        return f"{name}({args}) = √(mean of {render(fn.expr, fmt)} over the samples)"
    if fmt == "latex" and not fn.vector:
        return fn.latex()  # \sigma\left(x\right) = \frac{1}{1 + e^{- x}}, as the handbook gives it
    head = f"{name}({args})"
    component = _component(fn.expr, fmt) if fmt != "latex" else None
    if component is not None:  # softmax(x ∈ ℝ^3)ᵢ = exp(xᵢ)/Σⱼ₌₁³ exp(xⱼ), not a column of three rows
        return f"{head}ᵢ = {component}"
    forms = [render(f, fmt) for f in (fn.expr, *fn.other_forms())]
    return " = ".join([head, *(f for f in forms if f != head)])  # tanh(x) = (exp(x) − exp(−x))/…, not tanh(x) = tanh(x)


#: show's labels for the catalog's property keys, where the key is not already the word
PROPERTY_LABELS = {"zero_centered": "odd"}


def cmd_show(args) -> int:
    fn = _function(args)
    fmt = "latex" if args.latex else "unicode"
    e = fn.entry
    if fn.vector and e.kind == "activation":  # before any output: a time limit ends it with nothing printed
        _, jacobian_out, _, _ = _limited_derivatives(fn, 1, None, args.timeout)
    print(f"{fn.name} ({e.kind}) — {e.description}")
    if e.aliases:
        print(f"  aliases:      {', '.join(e.aliases)}")
    print(_block(f"  definition:   {_definition_line(fn, fmt)}"))
    for p in e.params:
        tag = ", learnable" if p.learnable else ""
        value = fn.params[p.symbol]
        approx = "" if value.is_Rational else f" ≈ {float(value):.10g}"
        shown = as_decimal(value, parameter=True) or render(value, fmt)  # α = 0.3 as typed, not 3/10
        print(f"  parameter:    {render(p.symbol, fmt)} = {shown}{approx}  ({p.description}{tag})")
    if e.kind == "activation" and not fn.vector:
        print(f"  derivative:   {render(fn.derivative(), fmt)}")
        out = fn.derivative(form="output")
        if out is not None:
            print(f"  in y = f(x):  {render(out, fmt)}")
        normal = fn.derivative(form="normal")
        if normal is not None:
            print(f"  in Φ and φ:   {render(normal, fmt)}  ({NORMAL_NAMES})")
    elif e.kind == "activation":
        print(f"  Jacobian:     {e.closed_form[1] if args.latex else e.closed_form[0]}  (n = {fn.size} below)")
        if jacobian_out is not None:
            print(_block(f"                {render(jacobian_out, fmt)}"))
    else:
        _show_loss_gradients(fn, fmt)
    print(f"  at kinks:     {e.kink_convention}")
    for key, value in e.properties.items():  # odd: yes, as the handbook says, not zero_centered: True
        label = PROPERTY_LABELS.get(key, key) + ":"
        text = ("yes" if value else "no") if isinstance(value, bool) else value
        if isinstance(value, sp.Interval) and value != sp.S.Reals and fmt != "latex":  # (ℝ prints as ℝ)
            text = _interval_text(value, fn.params)
        elif isinstance(value, sp.Basic):
            text = render(value, fmt)
        print(f"  {label:<13} {text}")
    if e.target_encoding:
        print(f"  targets:      {e.target_encoding}")
    print(f"  reference:    {e.reference}")
    return 0


def _interval_text(interval: sp.Interval, params: dict) -> str:
    """A range as analyze prints its ends: GELU's minimum ≈ −0.1699712075 (a float the catalog carries to 17
    digits, printed in full as if exact), SELU's −α·λ ≈ −1.758099341 (a line of erfc)."""
    from .analyze import decimal, value_text

    ends = [
        f"≈ {decimal(v)}" if isinstance(v, sp.Float) else value_text(v, params=params)
        for v in (interval.start, interval.end)
    ]
    return f"{'(' if interval.left_open else '['}{ends[0]}, {ends[1]}{')' if interval.right_open else ']'}"


def _block(text: str, column: int = 16) -> str:
    """A show line whose value runs over several lines (a matrix's rows), those lines indented to the value's
    column: they began at column 0, under the labels."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * column + line for line in rest)])


def _show_loss_gradients(fn: Fn, fmt: str) -> None:
    print(f"  cost:         {render(fn.cost(), fmt)}")
    gradient = fn.gradient()
    component = _component(gradient, fmt) if fmt != "latex" else None
    label = f"∂{fn.name}/∂ŷ[i]:" if fn.rooted else "∂L/∂ŷᵢ:" if component is not None else "∂L/∂ŷ:"
    print(_block(f"  {label:<13} {component or render(gradient, fmt)}"))
    lines = _logit_lines(fn, "L", fmt, "  ", "  ")
    if lines:
        print(lines)


# -- derive ------------------------------------------------------------------


#: What Φ and φ stand for, wherever a derivative is printed in them.
NORMAL_NAMES = "the standard normal's cdf Φ and pdf φ"


def _derivatives(fn, order: int, wrt: str | None):
    """The derivative, its output form (a vector activation's Jacobian in its outputs) and its form in the
    standard normal's Φ and φ, or the message of a ValueError (a child process returns it)."""
    out = normal = None
    try:
        d = fn.derivative(order=order, wrt=wrt)
        if fn.vector and fn.kind == "activation":
            out = fn.jacobian(form="output")
        elif fn.kind == "activation":
            out = fn.derivative(order=order, wrt=wrt, form="output") if wrt is None else None
            normal = fn.derivative(order=order, wrt=wrt, form="normal")
    except ValueError as e:
        return None, None, None, str(e)
    return d, out, normal, None


#: Orders up to this are computed in the process; higher ones in a child with --timeout, since expressions
#: can grow with each order (GELU-tanh's 16th: 20 000 operations in a minute) and an order of 10^6 never ends.
DIRECT_ORDER = 3
#: Vector sizes up to this likewise: a Jacobian has n² entries, each simplified (derive softmax at n = 8: 6 s,
#: at n = 16 it ran over 100 s; sparsemax's cases grow faster still: n = 4, 19 s).
DIRECT_SIZE = 3


def _limited_derivatives(fn, order: int, wrt: str | None, seconds: float):
    """:func:`_derivatives`, in a child under ``seconds`` where the work can grow without bound."""
    if order <= DIRECT_ORDER and not (fn.vector and fn.size > DIRECT_SIZE):
        return _derivatives(fn, order, wrt)
    from .sandbox import LimitExceeded, run_limited

    try:
        return run_limited(_derivatives, fn, order, wrt, limit_seconds=seconds, limit_mb=4096)
    except LimitExceeded as e:
        ask = "a lower order" if order > DIRECT_ORDER else "a smaller --size"
        what = f"the derivative of order {order}" if order > DIRECT_ORDER else f"the Jacobian at n = {fn.size}"
        raise UsageError(f"{what} did not finish ({e}): ask for {ask}, or more --timeout") from None


def _checked(convert, accept, must: str):
    """An argparse type: ``convert(text)`` (int or float), refused with "``must``, got …" unless ``accept``s it."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if convert is int else 'a number'}"
            ) from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{must}, got {text}")
        return value

    return parse


#: A time limit (NaN fails the comparison too), a fraction held out, and a count of at least ``least``.
_seconds = _checked(float, lambda v: 0 < v < math.inf, "must be a positive, finite number of seconds")
_fraction = _checked(float, lambda v: 0 <= v < 1, "must lie in [0, 1)")


def _count(least: int):
    return _checked(int, lambda v: v >= least, f"must be an integer >= {least}")


#: Characters beyond which a Jacobian in x that has a closed form in the output is printed only with --expanded.
LONG_JACOBIAN = 2000


def _point(fn: Fn, items: list[str]) -> dict:
    """--at items as {input symbol: exact value}: a bare number is the input; NAME=VALUE names an input or a
    target (x, yhat, y). Every one of them must be given."""
    from .parse import ExpressionError, as_expr

    if fn.vector:
        raise UsageError("--at takes an elementwise function (a Jacobian's value: symact.compile)")
    if fn.rooted:
        raise UsageError(f"--at: {fn.name}'s gradient depends on the whole batch (N and the cost), not on one sample")
    variables = {s.name: s for s in (*fn.inputs, *fn.targets)}
    point = {}
    for item in items:
        name, sep, text = item.rpartition("=") if "=" in item else ("", "", item)
        name = name.strip() or fn.inputs[0].name
        if name not in variables:
            raise UsageError(f"--at {item!r}: {fn.name} is a function of {', '.join(variables)}")
        try:
            value = as_expr(text)
        except ExpressionError as e:
            raise UsageError(f"--at {item!r}: {_one_line(e)}") from None
        if not (value.is_number and value.is_real):
            limits = " (limits at ±∞: symact analyze)" if value.is_infinite else ""
            raise UsageError(f"--at {item!r}: {text!r} is not a real number{limits}")
        point[variables[name]] = value
    missing = [n for n, s in variables.items() if s not in point]
    if missing:
        raise UsageError(f"--at: give {' and '.join(missing)} too, e.g. --at {missing[0]}=1")
    return point


def _value_at(d: sp.Expr, fn: Fn, point: dict) -> tuple[sp.Expr, str]:
    """The derivative at the point, at the function's parameter values: (exact value, text with its decimal)."""
    from .analyze import value_text

    f = fn.expr.subs(fn.params).subs(point)
    if f.has(sp.I) or (f.is_extended_real is False and not f.has(sp.zoo, sp.nan)):  # bce at ŷ = 3/2: log(−1/2)
        return sp.nan, f"undefined: {fn.name} is not real there"
    v = sp.simplify(d.subs(fn.params).subs(point))
    if v.free_symbols:  # (every input, target and parameter has a value)
        raise UsageError(f"--at: the derivative still depends on {', '.join(sorted(map(str, v.free_symbols)))}")
    if v.is_real is False or v.has(sp.I, sp.zoo, sp.nan):
        limit = _removable_limit(d.subs(fn.params), point)
        if limit is None:
            return sp.nan, "undefined (not a real number)"
        return limit, f"{value_text(limit)}, the limit there (the form is 0/0: a removable singularity)"
    return v, value_text(v)


def _removable_limit(d: sp.Expr, point: dict) -> sp.Expr | None:
    """d's limit at a point of one input where both sides agree and it is finite (the slope of sin(x)/x at 0: 0),
    the value the compiled kernels take there; else None."""
    from .analyze import removable_limit

    if len(point) != 1:
        return None
    ((x, at),) = point.items()
    return removable_limit(d, x, at)


def cmd_derive(args) -> int:
    fn = _function(args)
    if args.order < 1:
        raise UsageError("--order must be >= 1")
    point = _point(fn, args.at) if args.at else None
    d, out, normal, error = _limited_derivatives(fn, args.order, args.wrt, args.timeout)
    if error is not None:
        raise UsageError(error)
    at = None if point is None else _value_at(d, fn, point)
    where = "" if point is None else ", ".join(f"{unicode(s)} = {unicode(v)}" for s, v in point.items())
    if args.wrt:
        var = unicode(sp.Symbol(args.wrt))  # ∂silu/∂β, not ∂silu/∂beta
    elif fn.vector:
        var = "ŷ" if fn.kind == "loss" else "x"
    else:
        var = unicode(fn.inputs[0]) + ("[i]" if fn.rooted and args.order == 1 else "")
    logit = fn.logit_gradient() if fn.kind == "loss" and args.wrt is None and args.order == 1 else None
    # the derivative at the parameter values given with -p, where it depends on them: the line above is general
    given = {s: v for s, v in fn.params.items() if s.name in _parse_params(args.param)}
    bound = d.subs(given) if given and not fn.vector and d.has(*given) else None
    values = ", ".join(f"{unicode(s)} = {as_decimal(v, parameter=True) or unicode(v)}" for s, v in given.items())
    if args.format == "json":
        payload = {
            "name": fn.name,
            "kind": fn.kind,
            "order": args.order,
            "wrt": args.wrt or var,  # the parameter's name as typed: beta, not β
            "derivative": {f: render(d, f) for f in ("text", "unicode", "latex")},
            "output_form": None if out is None else {f: render(out, f) for f in ("text", "unicode", "latex")},
            "normal_form": None if normal is None else {f: render(normal, f) for f in ("text", "unicode", "latex")},
            "at_params": None
            if bound is None
            else {
                "params": {s.name: render(v, "text") for s, v in given.items()},
                "derivative": {f: render(bound, f) for f in ("text", "unicode", "latex")},
            },
        }
        if at is not None:
            payload["at_point"] = {
                "point": {s.name: render(v, "text") for s, v in point.items()},
                "value": render(at[0], "text"),
                "float": float(at[0]) if at[0].is_real and at[0].is_finite else None,
                "text": at[1],
            }
        if logit is not None:
            payload["logit_gradient"] = {
                "activation": fn.entry.output_activation,
                "in_logits": render(logit[0], "text"),
                "in_prediction": None if logit[1] is None else render(logit[1], "text"),
            }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    fmt = args.format
    # σ′′′, gelu⁽⁴⁾ and ∂²mse/∂ŷ² in Unicode; plain text keeps ^: gelu^(4), ∂^2mse/∂ŷ^2
    sup = superscript if fmt == "unicode" else (lambda k: f"^{k}")
    prime = "′" * args.order if args.order <= 3 else f"⁽{sup(args.order)}⁾" if fmt == "unicode" else f"^({args.order})"
    if fn.vector and fn.kind == "activation":
        jacobian = render(d, fmt)
        closed = fn.entry.closed_form and fn.entry.closed_form[fmt == "latex"]
        if out is not None:
            print(f"J = ∂{fn.name}/∂x (n = {fn.size}):\n{jacobian}\nin the output: {closed}\n{render(out, fmt)}")
        elif closed:  # sparsemax: its support's cases are proved on the theorem sheet, not derived here
            from .theorems import closed_form_status

            # its Jacobian in x repeats the threshold's max over every subset in each entry (6000 characters at
            # n = 3): the form in the output comes first, and the entries only on request
            print(f"J = ∂{fn.name}/∂x (n = {fn.size}), in the output: {closed}\n({closed_form_status(fn.name)})")
            if args.expanded or fmt == "latex" or len(jacobian) <= LONG_JACOBIAN:
                print(f"in x:\n{jacobian}")
            else:
                print(f"in x: {fn.size**2} entries, {len(jacobian)} characters (--expanded prints them)")
        else:
            print(f"J = ∂{fn.name}/∂x (n = {fn.size}):\n{jacobian}")
        return 0
    if args.wrt is None and fn.kind == "activation":
        label = f"{fn.name}{prime}({var})" if fmt != "latex" else ""
    else:
        power = "" if args.order == 1 else sup(args.order)
        label = f"∂{power}{fn.name}/∂{var}{power}" if fmt != "latex" else ""
    print(_vector_lines(label, d, fmt))
    if bound is not None:
        print(f"at {values}: {render(bound, fmt)}" if fmt != "latex" else render(bound, fmt))
    if at is not None:
        print(f"at {where}: {at[1]}" if fmt != "latex" else render(at[0], fmt))
    if out is not None:
        print(f"with y = {fn.name}({var}): {render(out, fmt)}" if fmt != "latex" else render(out, fmt))
    if normal is not None:
        print(f"in {NORMAL_NAMES}: {render(normal, fmt)}" if fmt != "latex" else render(normal, fmt))
    lines = _logit_lines(fn, fn.name, fmt, logit=logit) if logit is not None else None
    if lines:
        print(lines)
    return 0


def _logit_lines(fn: Fn, name: str, fmt: str, indent: str = "", gap: str = " ", logit=None) -> str | None:
    """A loss's gradient at the logits (``logit``: Fn.logit_gradient(), computed if not given): 'with ŷ = σ(z):
    ∂L/∂z = …' and its form in ŷ; for logits in (softmax cross-entropy), where the gradient already printed holds
    for any y, 'with Σ y = 1: …', softmax − y. None where there is no output activation but the identity."""
    act = fn.entry.output_activation
    if act is None or act == "identity" and fn.entry.target_constraints is None:
        return None
    logit = logit or fn.logit_gradient()
    if act == "identity":
        return _vector_lines(f"∂{name}/∂ŷ", logit[1], fmt, f"{indent}with Σ y = 1:{gap}")
    return _gradient_lines(f"{indent}with ŷ = {act}(z):{gap}", f"∂{name}/∂z", *logit, fmt)


def _gradient_lines(head: str, label: str, value, then, fmt: str) -> str:
    """'head label = value', and ``then`` (the same value written in ŷ, or None) on the next line, its '='
    under the first one's: ∂bce/∂z = σ(z) − y, then = ŷ − y."""
    first = _vector_lines(label, value, fmt, head)
    if then is None:
        return first
    second = _vector_lines(label, then, fmt)
    if "\n" in first or "\n" in second:  # one line per component: each line labelled
        return first + "\n" + "\n".join(" " * len(head) + line for line in second.splitlines())
    return first + "\n" + " " * (first.index(" = ", len(head)) + 1) + second[second.index(" = ") + 1 :]


def _subscript(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))


def _component(value, fmt: str, alone: bool = False) -> str | None:
    """A column vector whose components are one expression in their index (printing.componentwise) as its i-th
    component, 'ŷᵢ − yᵢ   (i = 1, …, 3)'; None for anything else. LaTeX ``alone`` (a formula on its own line,
    as derive prints it) writes the range in LaTeX too."""
    generic = componentwise(value) if isinstance(value, sp.MatrixBase) and value.cols == 1 else None
    if generic is None:
        return None
    if fmt == "latex" and alone:
        return render(generic, fmt) + r" \quad (i = 1, \dots, %d)" % value.rows
    return f"{render(generic, fmt)}   (i = 1, …, {value.rows})"


def _vector_lines(label: str, value, fmt: str, head: str = "") -> str:
    """'head label = value'. A gradient vector whose components are one expression in their index is written as
    its i-th component, ∂L/∂zᵢ = ŷᵢ − yᵢ (i = 1, …, n), not as a column of n rows; any other vector gives one
    line per component (LaTeX keeps its matrix). An empty label (derive's LaTeX) gives the value alone."""
    component = _component(value, fmt, alone=not label)
    if component is not None:
        return f"{head}{label}ᵢ = {component}" if label else component
    if not (isinstance(value, sp.MatrixBase) and value.cols == 1) or fmt == "latex":
        return f"{head}{label} = {render(value, fmt)}" if label else render(value, fmt)
    indent = " " * len(head)
    return "\n".join(
        f"{head if k == 0 else indent}{label}{_subscript(k + 1)} = {render(c, fmt)}" for k, c in enumerate(value)
    )


# -- prove and check ---------------------------------------------------------

PROVE_EXIT = {"proved": 0, "verified": 0, "disproved": 1, "unknown": 3}


def cmd_prove(args) -> int:
    from .parse import ExpressionError
    from .prove import prove

    try:
        verdict = prove(args.claim, assumptions=args.assume, timeout=args.timeout, isolate=True)
    except (ExpressionError, TypeError) as e:
        raise UsageError(_one_line(e)) from None
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    elif args.latex:
        print(verdict.to_latex())
    else:
        print(verdict)
    return PROVE_EXIT[verdict.status]


def cmd_check(args) -> int:
    from .theorems import sheet

    try:
        theorems = sheet(args.name) if args.name else sheet()
    except UnknownFunctionError as e:
        raise UsageError(str(e)) from None
    if not theorems:  # a user's function: the sheet is the catalog's (this was a traceback from max())
        raise UsageError(f"the theorem sheet has nothing on {args.name}: prove claims about it with symact prove")
    rows, failed = [], 0
    for i, theorem in enumerate(theorems, 1):
        if not args.json and sys.stderr.isatty():
            print(f"\r  checking {i}/{len(theorems)} …", end="", file=sys.stderr, flush=True)
        v = theorem.check(timeout=args.timeout)
        failed += v.status in ("disproved", "unknown") or (v.status == "verified" and theorem.numeric is None)
        rows.append((theorem, v))
    if not args.json and sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                [{"function": t.function, "theorem": t.title, **v.to_dict()} for t, v in rows],
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        width = max(len(t.function) for t, _ in rows)
        for t, v in rows:
            print(f"{v.status:<10} {t.function:<{width}}  {t.title}  [{v.method}, {v.seconds:.2f}s]")
        counts = {s: sum(v.status == s for _, v in rows) for s in ("proved", "verified", "disproved", "unknown")}
        print(
            ", ".join(f"{n} {s}" for s, n in counts.items())
            + f" of {len(rows)} theorems"
            + " (verified = numeric by nature)" * bool(counts["verified"])
        )
    return 1 if failed else 0


def cmd_analyze(args) -> int:
    from .analyze import analyze, value_text
    from .sandbox import LimitExceeded, run_limited

    fn = _function(args)
    if fn.kind != "activation" or fn.vector:
        raise UsageError(f"analyze works on elementwise activations; {fn.name} is not one")
    try:  # limits and solving can blow up on user input: bound them hard
        result = run_limited(analyze, fn, limit_seconds=60, limit_mb=1024)
    except (LimitExceeded, RuntimeError) as e:
        refused = str(e).removeprefix("ValueError: ")  # analyze() refusing the function: say only why
        raise UsageError(refused if refused != str(e) else f"analysis stopped: {e}") from None
    if args.json:
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    # (it said "default parameters" for leaky_relu -p alpha=2 too)
    defaults = all(fn.params[p.symbol] == p.default for p in fn.entry.params if p.symbol in fn.params)
    texts = {s: value_text(v) for s, v in fn.params.items()}  # SELU's λ and α: ≈ their decimals
    values = ", ".join(f"{render(s, 'unicode')} {t if t.startswith('≈') else '= ' + t}" for s, t in texts.items())
    shown = f" at {values}" + (f" (the default{'s' if len(fn.params) > 1 else ''})" if defaults else "")
    print(f"{fn.name}: derived properties" + (shown if values else ""))
    print(result.table())
    return 0


def cmd_accuracy(args) -> int:
    import numpy as np

    from .compile import available_backends
    from .compile.accuracy import measure, points
    from .progress import Progress

    fn = _function(args)
    if fn.kind != "activation" or fn.vector:
        raise UsageError(f"accuracy measures elementwise activations' kernels; {fn.name} is not one")
    available = available_backends()
    backends = args.backend.split(",") if args.backend else available
    unknown = [b for b in backends if b not in available]
    if unknown:
        raise UsageError(f"backend {unknown[0]!r} is not available here; choose from {', '.join(available)}")
    dtypes = [args.dtype] if args.dtype else ["float64", "float32"]
    lo, hi = args.range
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise UsageError(f"--range needs finite A < B, got {lo:g} {hi:g}")
    xs = np.concatenate([points(args.points, seed=args.seed), np.linspace(lo, hi, args.dense)])
    with Progress(len(dtypes) * (1 + len(backends)), "accuracy", enabled=not args.json) as bar:
        try:
            rows = measure(fn, xs, backends, dtypes, done=bar.update)
        except (ValueError, TypeError) as e:  # a kernel this function cannot have: say why, in one line
            raise UsageError(_one_line(e)) from None
    if args.json:
        out = [
            {
                "backend": r.backend,
                "dtype": r.dtype,
                "compared": r.compared,
                "f": {"ulp": _finite_or_text(r.f), "at": r.f_at},
                "df": {"ulp": _finite_or_text(r.df), "at": r.df_at},
            }
            for r in rows
        ]
        print(json.dumps({"name": fn.name, "points": len(xs), "kernels": out}, indent=2, allow_nan=False))
        return 0

    def cell(ulp, at):
        return f"{ulp:.3g}{' *' if ulp > ACCURACY_TARGET else ''}" + ("" if at is None else f" at x = {at:.6g}")

    label = f"f(x) = {unicode(fn.expr)}" if args.expr is not None else fn.name
    print(f"{label}: the largest error of each compiled kernel in ULP, against mpmath at 50 digits,")
    print(f"  at {args.points} points log-uniform over ±[1e-8, 1e3], {args.dense} evenly spaced on [{lo:g}, {hi:g}],")
    print("  ±0 and ±1e4; where the truth is subnormal, the absolute error in units of the smallest normal")
    finite = ~np.isnan(xs) & ~np.isinf(xs)
    if any(r.compared < np.count_nonzero(finite) for r in rows):
        least = min(r.compared for r in rows)
        print(
            f"  (compared at {least} of those {np.count_nonzero(finite)}: elsewhere f or f' has no finite real value)"
        )
    table = [("backend", "dtype", "f", "f'")] + [
        (r.backend, r.dtype, cell(r.f, r.f_at), cell(r.df, r.df_at)) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    if any(max(r.f, r.df) > ACCURACY_TARGET for r in rows):
        print(
            f"* above {ACCURACY_TARGET} ULP, the catalog kernels' target: where a sum cancels (near a root of f or f'),"
            " or the roundings of several factors add up (docs/kernels.md)"
        )
    return 0


def _finite_or_text(v: float) -> float | str:
    """A float for JSON, or "inf" (a kernel's NaN or ∞ where the truth is finite), which JSON has no number for."""
    return v if math.isfinite(v) else str(v)


#: The catalog kernels' accuracy target in ULP (the kernels issue): ``symact accuracy`` marks what exceeds it.
ACCURACY_TARGET = 4


def cmd_define(args) -> int:
    from .stable import catalog_equivalent, catalog_multiple
    from .user import define, saved_names, user_file

    try:
        fn = define(
            args.name, args.text, params=_parse_params(args.param), kind=args.kind, save=args.save, replace=args.replace
        )
    except (TypeError, ValueError) as e:
        raise UsageError(_one_line(e)) from None
    print(f"defined {_definition_line(fn, 'unicode')}")
    d = fn.derivative() if fn.kind == "activation" else fn.gradient()
    normal = calculus.normal_form(d)
    print(f"derivative: {render(d, 'unicode')}" + ("" if normal is None else f" = {render(normal, 'unicode')}"))
    elementwise = fn.kind == "activation" and not fn.vector
    known, scale = (catalog_equivalent(fn) if elementwise else None), None
    if known is None and elementwise and (multiple := catalog_multiple(fn)) is not None:
        known, scale = multiple
    if known is not None:
        values = ", ".join(f"{render(s, 'unicode')} = {render(v, 'unicode')}" for s, v in known.params.items())
        times = "" if scale is None else "−" if scale == -1 else f"{render(scale, 'unicode')}·"
        print(
            f"proved equal to {times}{known.name}{f' with {values}' if values else ''}, and so is its derivative: "
            f"compiled kernels use {known.name}'s stable form{'' if scale is None else ', times ' + render(scale, 'unicode')}"
        )
    if args.save:
        print(f"saved to {user_file()}")
    elif args.replace and args.name in saved_names():
        print(f"for this run only: {user_file()} keeps the saved definition (--save replaces it there)")
    return 0


def cmd_undefine(args) -> int:
    from .user import undefine, user_file

    try:
        saved = undefine(args.name)
    except (UnknownFunctionError, ValueError) as e:
        raise UsageError(_one_line(e)) from None
    print(f"removed {args.name} from {user_file()}" if saved else f"{args.name} was not saved: nothing to remove")
    return 0


# -- train -------------------------------------------------------------------


#: The fraction of the samples ``symact train`` holds out for validation, where it has at least MIN_VALIDATED.
DEFAULT_VAL_SPLIT = 0.2
MIN_VALIDATED = 20


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--layers expects sizes like 16,16, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise UsageError("--layers sizes must be positive")
    return sizes


def cmd_train(args) -> int:
    import numpy as np

    from . import nn
    from .catalog import REGISTRY

    sizes = _layers(args.layers)
    for flag, text in (("--activation", args.activation), ("--output", args.output)):
        if text and not text.isidentifier():  # a formula: the layers take a function by name, saved models too
            raise UsageError(
                f"{flag} takes a function's name; to train with {text!r}, define it first: "
                f"symact define NAME '{text}' --save, then {flag} NAME"
            )
    # before training: a run of minutes is not to end in "no directory" (the library's save() would create one)
    for flag, path, suffixes in (
        ("--save", args.save, ()),
        ("--checkpoint", args.checkpoint, ()),
        ("--plot", args.plot, FIGURE_SUFFIXES),
    ):
        if path:
            _output_path(flag, path, suffixes)
    try:
        kwargs = {"seed": args.data_seed}
        if args.samples is not None:
            kwargs["n"] = args.samples
        if args.data in nn.datasets.BUILTIN:
            (X, y), names = nn.datasets.load(args.data, **kwargs), None
        elif args.data.endswith(".csv"):  # with the names of text labels, to say which class is which
            X, y, names = nn.datasets.read_csv(args.data)
        else:
            (X, y), names = nn.datasets.load(args.data), None
    except (ValueError, FileNotFoundError, TypeError) as e:
        raise UsageError(_one_line(e)) from None
    if names and not args.json:  # (with --json, they are in its output)
        print("classes: " + ", ".join(f"{i} = {name}" for i, name in enumerate(names)))
    y = np.asarray(y)
    integer_labels = np.issubdtype(y.dtype, np.integer)
    classes = int(y.max()) + 1 if integer_labels and y.ndim == 1 and y.size else 0
    loss = args.loss or ("bce" if classes == 2 else "cross_entropy" if classes > 2 else "mse")
    try:
        entry = REGISTRY[loss]
        if entry.kind != "loss":
            raise UsageError(f"{loss} is an activation, not a loss")
        output = args.output or entry.output_activation
        categorical = entry.vector
        units = classes if categorical else (1 if y.ndim == 1 else y.shape[1])
        if categorical and not classes:
            raise UsageError(f"{entry.name} needs integer class labels")
        model = nn.Sequential([nn.Dense(k, args.activation) for k in sizes] + [nn.Dense(units, output)])
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else []
        model.compile(
            loss=entry.name, optimizer=args.optimizer, learning_rate=args.lr, clipnorm=args.clipnorm, metrics=metrics
        )
        rng = np.random.default_rng(args.seed)
        order = rng.permutation(len(X))
        split = args.val_split
        if split is None:  # xor's 4 points: one held out is a row of the truth table the others cannot give
            split = DEFAULT_VAL_SPLIT if len(X) >= MIN_VALIDATED else 0.0
            if not split and not args.json:
                print(f"{len(X)} samples: all train, none held out for validation (--val-split holds some out)")
        n_val = int(round(split * len(X)))
        val, train = order[:n_val], order[n_val:]
        validation = (X[val], y[val]) if n_val else None
        if args.early_stopping is not None and not n_val:
            raise UsageError("--early-stopping watches val_loss: give a --val-split above 0")
        stopping = (
            [nn.EarlyStopping("val_loss", patience=args.early_stopping, restore_best_weights=True)]
            if args.early_stopping is not None
            else []
        )
        hist = model.fit(
            X[train],
            y[train],
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            validation_data=validation,
            verbose=0 if args.quiet else 1,
            checkpoint=args.checkpoint,
            resume=args.resume,
            callbacks=stopping,
        )
    except UnknownFunctionError as e:
        raise UsageError(_one_line(e)) from None
    except nn.TrainingError as e:
        print(f"symact: training stopped: {e}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, FileNotFoundError) as e:
        raise UsageError(_one_line(e)) from None
    shown = ("loss", "accuracy", *model.metrics)
    last, stopped = len(hist.epoch) - 1, stopping and stopping[0].stopped_epoch
    if stopped:  # the figures of the best epoch, whose weights the model has
        last = hist.epoch.index(stopping[0].best_epoch)
    final = {k: v[last] for k, v in hist.history.items() if k.removeprefix("val_") in shown}
    done = hist.epoch[last] if hist.epoch else 0
    if args.json:
        extra = {"stopped_after": stopped} if stopped else {}
        print(json.dumps({"epochs": done, **final, **extra, **({"classes": list(names)} if names else {})}))
    else:
        if stopped:
            print(
                f"stopped early after epoch {stopped}: val_loss last improved at epoch {done}, whose weights are kept"
            )
        model.summary()
        shown = "  ".join(f"{k} {v:.4f}" for k, v in final.items())
        print(f"after {done} epoch{'' if done == 1 else 's'}: {shown}")
    if args.plot:
        from .nn import plots

        plots.report(model, hist, X, y, args.plot, title=f"{args.data}: {args.layers} {args.activation}, {entry.name}")
        print(f"plot written to {args.plot}")
    if args.save:
        model.save(args.save)
        print(f"model saved to {args.save}")
    return 0


# -- codegen, plot, docs -----------------------------------------------------


#: The figure formats symact writes.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def _output_path(flag: str, path: str, suffixes: tuple[str, ...] = ()) -> Path:
    """A file to be written, refused before any work is done: a directory, a missing parent directory, or
    a format symact does not write."""
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {path}: write {', '.join(suffixes[:-1])} or {suffixes[-1]}")
    if target.is_dir():
        raise UsageError(f"{flag} {path}: is a directory")
    if not target.parent.exists():
        raise UsageError(f"{flag} {path}: no directory {target.parent}")
    return target


def _write_output(path: str | None, text: str) -> None:
    """Print, or write atomically (a temporary file renamed into place: never half a file)."""
    if path is None:
        sys.stdout.write(text)
        return
    target = _output_path("-o", path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text)
    tmp.replace(target)
    print(f"wrote {path}", file=sys.stderr)


def cmd_codegen(args) -> int:
    from .codegen import codegen

    fn = _function(args)
    try:
        text = codegen(fn, lang=args.lang, grad=args.grad, dtype=args.dtype, header=args.header)
    except ValueError as e:
        raise UsageError(_one_line(e)) from None
    _write_output(args.output, text)
    return 0


#: The names --expr functions are plotted under: f, g, h, … as on paper (their definitions make the title).
EXPR_NAMES = ("f", "g", "h", "p", "q", "r", "u", "v", "w")


def cmd_plot(args) -> int:
    from .parse import ExpressionError
    from .plot import plot
    from .user import custom

    if not args.names and not args.expr:
        raise UsageError("give NAMEs to plot, or --expr TEXT")
    if len(args.expr) > len(EXPR_NAMES):
        raise UsageError(f"at most {len(EXPR_NAMES)} --expr functions in one figure")
    params = _parse_params(args.param)
    try:
        fns = [function(name, **params) for name in args.names]
        texts = [custom(text, params=params, name=n) for text, n in zip(args.expr, EXPR_NAMES)]
    except (UnknownFunctionError, ExpressionError, TypeError, ValueError) as e:
        raise UsageError(_one_line(e)) from None
    out = _output_path("-o", args.output, FIGURE_SUFFIXES)
    title = ", ".join([*(f.name for f in fns), *(f"{f.name}(x) = {unicode(f.expr)}" for f in texts)])
    try:
        plot(
            fns + texts,
            derivative=args.derivative,
            xrange=tuple(args.range) if args.range else None,
            path=out,
            title=title,
        )
    except ValueError as e:
        raise UsageError(_one_line(e)) from None
    print(f"wrote {out}")
    return 0


def cmd_docs(args) -> int:
    from . import handbook

    if args.pdf and args.format != "latex":
        raise UsageError("--pdf needs --format latex")
    try:
        path = handbook.generate(args.output, args.format, pdf=args.pdf, progress=not args.quiet)
    except ValueError as e:
        raise UsageError(_one_line(e)) from None
    except RuntimeError as e:  # no LaTeX here, or LaTeX failed: the .tex is written, say so
        print(f"symact: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


# -- entry point -------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symact",
        description="Activation and loss functions as SymPy expressions: derive, prove, compile.",
    )
    parser.add_argument("--version", action="version", version=f"symact {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the catalog")
    p.add_argument("--kind", choices=("activation", "loss"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_list)

    def add_function_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", nargs="?", help="catalog name or alias, e.g. sigmoid, swish, huber")
        p.add_argument(
            "--expr", metavar="TEXT", help='a function given as text instead of a NAME, e.g. "x*tanh(softplus(x))"'
        )
        p.add_argument(
            "--kind",
            choices=("activation", "loss"),
            default="activation",
            help="with --expr: activation in x (default) or loss in yhat and y",
        )
        p.add_argument(
            "--param",
            "-p",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="parameter value, e.g. -p alpha=0.2 (repeatable)",
        )
        p.add_argument("--size", "-n", type=int, help="vector length for softmax-like functions (default 3)")

    p = sub.add_parser("show", help="definition, parameters, derivatives, properties and reference")
    add_function_args(p)
    p.add_argument("--latex", action="store_true", help="print the math as LaTeX")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        help=f"seconds for a Jacobian at --size above {DIRECT_SIZE} (default 60)",
    )
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("derive", help="derivative, Jacobian or loss gradient")
    add_function_args(p)
    p.add_argument("--order", "-k", type=int, default=1, help="derivative order (default 1)")
    p.add_argument("--wrt", help="differentiate with respect to this parameter (default: the input)")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        help=f"seconds for orders above {DIRECT_ORDER} or a Jacobian at --size above {DIRECT_SIZE} (default 60)",
    )
    p.add_argument("--format", "-f", choices=FORMATS, default="unicode")
    p.add_argument("--latex", dest="format", action="store_const", const="latex", help="same as --format latex")
    p.add_argument(
        "--expanded", action="store_true", help="print a Jacobian in x in full even where it is long (sparsemax)"
    )
    p.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="POINT",
        help="also the derivative's value there, exact and in decimals: --at 0 (x = 0), or for a loss "
        "--at yhat=0.3 --at y=1 (repeatable)",
    )
    p.set_defaults(run=cmd_derive)

    p = sub.add_parser(
        "prove",
        help='prove or disprove an identity, e.g. "tanh(x) == 2*sigmoid(2*x) - 1"',
        description="Exit code: 0 proved or verified, 1 disproved, 3 unknown, 2 bad input.",
    )
    p.add_argument(
        "claim", help='an identity "LHS == RHS"; catalog functions, diff(expr, x[, n]), exp, log, erf, Phi, varphi, ...'
    )
    p.add_argument("--assume", action="append", default=[], metavar="COND", help='e.g. --assume "x > 0" (repeatable)')
    p.add_argument("--timeout", type=_seconds, default=5.0, help="seconds (default 5)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--latex", action="store_true")
    p.set_defaults(run=cmd_prove)

    p = sub.add_parser("analyze", help="derived properties: limits, range, max of f', Lipschitz constant")
    add_function_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_analyze)

    p = sub.add_parser("accuracy", help="the largest error of the compiled kernels of f and f' in ULP, against mpmath")
    add_function_args(p)
    p.add_argument("--backend", "-b", help="comma-separated, e.g. c,numpy (default: every one available here)")
    p.add_argument("--dtype", choices=("float64", "float32"), help="default: both")
    p.add_argument("--points", type=_count(0), default=2000, help="log-uniform points over ±[1e-8, 1e3] (default 2000)")
    p.add_argument("--dense", type=_count(0), default=2001, help="evenly spaced points on --range (default 2001)")
    p.add_argument("--range", nargs=2, type=float, default=(-12.0, 12.0), metavar=("A", "B"), help="default: -12 12")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the log-uniform points (default 0)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_accuracy)

    p = sub.add_parser("define", help="define a function from text (and --save it for later runs)")
    p.add_argument("name", help="snake_case name for the new function")
    p.add_argument("text", help='its definition, e.g. "max(0, x) + alpha*min(0, x)"')
    p.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a parameter and its default"
    )
    p.add_argument("--kind", choices=("activation", "loss"), default="activation")
    p.add_argument("--save", action="store_true", help="keep the definition in the user config directory")
    p.add_argument("--replace", action="store_true", help="redefine a user function of that name (and its saved text)")
    p.set_defaults(run=cmd_define)

    p = sub.add_parser("undefine", help="remove a user function, and its saved definition")
    p.add_argument("name", help="a name symact define made")
    p.set_defaults(run=cmd_undefine)

    p = sub.add_parser("check", help="prove the theorem sheet of one function or of the whole catalog")
    p.add_argument("name", nargs="?", help="catalog name (default: every function)")
    p.add_argument("--timeout", type=_seconds, default=5.0, help="seconds per theorem (default 5)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("codegen", help="source code for a function and its derivative (c, numpy, numba, torch, ...)")
    add_function_args(p)
    p.add_argument("--lang", "-l", required=True, choices=("c", "numpy", "numba", "torch", "jax", "cuda"))
    p.add_argument("--grad", action="store_true", help="also define NAME_grad")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="C and CUDA element type")
    p.add_argument("--header", action="store_true", help="with --lang c: print the header instead")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(run=cmd_codegen)

    p = sub.add_parser("plot", help="plot functions and their derivatives")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument(
        "--expr",
        action="append",
        default=[],
        metavar="TEXT",
        help='a function of x given as text, e.g. "x + sin(x)**2" (repeatable; drawn as f, g, …)',
    )
    p.add_argument("--derivative", "-d", action="store_true", help="also plot the derivative (dashed)")
    p.add_argument("--range", nargs=2, type=float, metavar=("A", "B"), help="x range (default: the catalog's)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help=".png, .pdf or .svg")
    p.set_defaults(run=cmd_plot)

    p = sub.add_parser("docs", help="the handbook of the whole catalog, as LaTeX (and PDF) or Markdown")
    p.add_argument("--format", choices=("latex", "markdown"), default="latex")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--pdf", action="store_true", help="compile with latexmk or pdflatex")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_docs)

    p = sub.add_parser("train", help="train a small network on a built-in dataset or a file")
    p.add_argument(
        "--data", default="moons", help="xor, moons, circles, spirals, blobs, linear, demand, or a .csv/.npz"
    )
    p.add_argument("--samples", type=_count(1), help="size of a built-in dataset")
    p.add_argument("--data-seed", type=_count(0), default=0, help="seed of a built-in dataset (default 0)")
    p.add_argument("--layers", default="16,16", help="hidden layer sizes (default 16,16)")
    p.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    p.add_argument("--output", help="output activation (default: the loss's matching one)")
    p.add_argument("--loss", help="default: bce for 2 classes, cross_entropy for more, mse for real targets")
    p.add_argument("--metrics", help="catalog losses to report as well, e.g. mae,rmse (not trained on)")
    p.add_argument("--optimizer", default="adam", choices=("sgd", "momentum", "rmsprop", "adam", "adamw"))
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument(
        "--epochs", type=int, default=200, help="epochs to train (default 200); with --resume, the epoch to train up to"
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--val-split",
        type=_fraction,
        help=f"fraction held out for validation (default {DEFAULT_VAL_SPLIT}; none for fewer than {MIN_VALIDATED} "
        "samples, as xor's 4)",
    )
    p.add_argument(
        "--early-stopping",
        type=_count(0),
        metavar="PATIENCE",
        help="stop when val_loss has not improved for PATIENCE epochs, and keep the best epoch's weights",
    )
    p.add_argument("--clipnorm", type=float, help="clip the global gradient norm")
    p.add_argument("--seed", type=_count(0), default=0)
    p.add_argument("--plot", metavar="FILE", help="write a figure (.png, .pdf, .svg)")
    p.add_argument("--save", metavar="FILE", help="save the trained model (.npz)")
    p.add_argument("--checkpoint", metavar="FILE", help="write an atomic checkpoint every epoch")
    p.add_argument("--resume", metavar="FILE", help="continue from a checkpoint")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as e:
        print(f"symact: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symact: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `symact show softmax | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

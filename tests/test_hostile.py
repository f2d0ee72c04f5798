"""Hostile text: every input is refused with ExpressionError, fast, small, and without running code."""

import ast
import pathlib

import pytest
import sympy as sp

import symact
from symact.calculus import kink_convention
from symact.cli import main
from symact.parse import ExpressionError, as_expr, parse
from symact.sandbox import run_limited

CANARY = pathlib.Path("/tmp/symact-canary-hostile")
C = str(CANARY)

CODE_EXECUTION = [
    f"__import__('os').system('touch {C}')",
    f"open('{C}', 'w')",
    f"exec(\"open('{C}','w')\")",
    f"eval(\"open('{C}','w')\")",
    "compile('1', 'f', 'eval')",
    "globals()",
    "locals()",
    "vars()",
    "getattr(x, '__class__')",
    "x.__class__.__mro__",
    "x.__class__.__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "(1).__class__",
    "x.func",
    "sigmoid.__globals__",
    "[].__class__",
    "lambda: 0",
    "(lambda f: f)(x)",
    "[open('{C}') for _ in 'a']",
    "{k: 1 for k in 'ab'}",
    "{1, 2}",
    "(i for i in ())",
    "(y := 1)",
    "f'{x}'",
    "f\"{__import__('os')}\"",
    "'abc'",
    "b'abc'",
    "x if x else 0",
    "x[0]",
    "x[1:2]",
    "*x",
    "sigmoid(*[x])",
    "exp(x, **{})",
    "exp(x=1)",
    "await x",
    "yield x",
    "import os",
    "x = 1",
    "del x",
    "breakpoint()",
    "help()",
    "input()",
    "print(x)",
    "__builtins__",
    "__debug__ + x",
    "_x + 1",
    "x.real",
    "ｅｘｅｃ('1')",  # full-width look-alike, which Python's parser would normalise to exec
    "еxp(x)",  # Cyrillic е
    "x\u200b + 1",  # zero-width space
    "exp(x)\x00",
    "True + x",
    "None",
    "Ellipsis",
    "...",
    "x @ x",
    "x // 2",
    "x % 2",
    "x << 2",
    "x | 1",
    "~x",
    "not x",
    "x < 1",
    "x and 1",
    "Symbol('x')",
    "factorial(10**6)",
    "gamma(10**6)",
]
RESOURCE_BOMBS = [
    "10**10**10",
    "9**9**9**9",
    "2**2**2**2**2**2",
    "(10**999)**10",
    "2**(10**6)",
    "10**1000 * 10**1000",
    "x**(10**9)",
    "x**100000",
    "exp(x)**(10**7)",
    "(" * 5000 + "x" + ")" * 5000,
    "-" * 100000 + "x",
    "x+" * 300000 + "x",
    "x" * 1_000_000,
    "1" * 1_000_000,
    "sigmoid(" * 100 + "x" + ")" * 100,
]
HOSTILE = CODE_EXECUTION + RESOURCE_BOMBS


def _attempt(text):
    try:
        parse(text)
    except ExpressionError as e:
        return "refused", str(e).splitlines()[0]
    return "accepted", text[:40]


def test_corpus_size():
    assert len(HOSTILE) >= 60


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:30]) for t in HOSTILE])
def test_hostile_input_is_refused_within_limits(text):
    CANARY.unlink(missing_ok=True)
    outcome, message = run_limited(_attempt, text, limit_seconds=2.0, limit_mb=512)
    assert outcome == "refused", message
    assert message and "\n" not in message
    assert not CANARY.exists(), "hostile input ran code"


@pytest.mark.parametrize("name", ["x; import os", "__class__", "lambda", "x y", "é", "os.system", "_private"])
def test_malicious_symbol_names_never_reach_codegen(name):
    with pytest.raises(ExpressionError):
        as_expr(sp.Symbol(name) + 1)
    with pytest.raises((ExpressionError, ValueError)):
        symact.define(name, "x")
    with pytest.raises(ExpressionError):
        symact.prove(sp.Symbol(name), 0)


@pytest.mark.parametrize("text", [HOSTILE[0], "10**10**10", "x.__class__"])
def test_cli_refuses_hostile_input_with_exit_2(capsys, text):
    for argv in (["prove", text], ["derive", "--expr", text], ["define", "evil", text]):
        assert main(argv) == 2
        _, err = capsys.readouterr()
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not CANARY.exists()


FORBIDDEN_CALLS = {"eval", "exec", "sympify", "parse_expr", "S"}


def test_no_eval_sympify_or_parse_expr_in_the_package():
    """A static check: the package never calls eval, exec, sympify, parse_expr or S(...)."""
    root = pathlib.Path(symact.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name in FORBIDDEN_CALLS:
                    offenders.append(f"{path.name}:{node.lineno} {name}")
    assert offenders == []


@pytest.mark.parametrize(
    "text, params",
    [
        ("x*tanh(softplus(x))", {}),
        ("max(0, x) + alpha*min(0, x)", {"alpha": 0.25}),
        ("x*sigmoid(beta*x)", {"beta": 1.0}),
    ],
)
def test_benign_text_works_through_the_pipeline(text, params):
    fn = symact.custom(text, params=params)
    d = fn.derivative()
    assert d.has(fn.inputs[0]) or d.is_number or isinstance(d, sp.Piecewise)
    for name in params:
        assert fn.derivative(wrt=name) != 0
    # the tidied derivative is proved equal to SymPy's raw diff (under the same kink convention)
    raw = kink_convention(sp.diff(fn.bind(), fn.inputs[0]))
    assert symact.prove(fn.bind(d), raw).status == "proved"
    from symact.analyze import analyze

    assert analyze(fn).limits["oo"] == sp.oo

"""symact: activation and loss functions as SymPy expressions, derived, proved and compiled.

>>> import symact
>>> print(symact.unicode(symact.activation("sigmoid").derivative()))
σ(x)·(1 − σ(x))
"""

__version__ = "0.1.0"  # first: submodules stamp it into generated code and cache keys

from .catalog import REGISTRY, UnknownFunctionError
from .codegen import codegen
from .compile import compile  # noqa: A004  (symact.compile, like jax.jit: the name users expect)
from .fn import Fn, activation, function, loss, names
from .functions import sigmoid, softplus
from .parse import ExpressionError, parse
from .printing import latex, unicode
from .prove import Verdict, prove
from .user import custom, define, load_entry_points, load_saved

load_entry_points()
load_saved()

__all__ = [
    "REGISTRY",
    "ExpressionError",
    "Fn",
    "Verdict",
    "UnknownFunctionError",
    "activation",
    "codegen",
    "compile",
    "custom",
    "define",
    "function",
    "latex",
    "loss",
    "names",
    "parse",
    "prove",
    "sigmoid",
    "softplus",
    "unicode",
    "__version__",
]

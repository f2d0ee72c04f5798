"""The registry: the single source of truth for every function symact knows.

An :class:`Entry` is pure data: a SymPy definition plus the facts a user needs
(parameters, reference, kink convention, known properties). Tests, the CLI,
the docs and the plots all iterate over :data:`REGISTRY`, so adding a
function is one ``register(Entry(...))`` call in ``activations.py`` or
``losses.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

Kind = Literal["activation", "loss"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """A named hyperparameter: its SymPy symbol and its default value."""

    symbol: sp.Symbol
    default: sp.Expr
    description: str = ""
    learnable: bool = False

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Definition:
    """A concrete definition: the expression and the symbols it is a function of.

    ``expr`` is a scalar expression for elementwise functions and a column
    ``Matrix`` for vector functions. For a loss, ``inputs`` holds the
    prediction symbols and ``targets`` the target symbols.
    """

    inputs: tuple[sp.Symbol, ...]
    expr: sp.Expr | sp.Matrix
    targets: tuple[sp.Symbol, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One catalog function.

    ``build(size)`` returns the :class:`Definition`; ``size`` is the vector
    length n for vector functions and the hinge count S for APLU, and is
    ignored by scalar functions.
    """

    name: str
    kind: Kind
    build: Callable[[int], Definition]
    latex_name: str
    description: str
    reference: str
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    #: Kink points and the derivative value symact uses there (with default params).
    kinks: dict[sp.Expr, sp.Expr] = field(default_factory=dict)
    kink_convention: str = "differentiable everywhere"
    #: Known properties, as claims that the tests and the prover check:
    #: range (a SymPy Interval), monotonic, zero_centered, bounded, smooth, saturating.
    properties: dict[str, object] = field(default_factory=dict)
    vector: bool = False
    default_size: int = 3
    #: The largest size whose symbolic form builds in seconds (softmax's C code at n = 256: 1 s; a NumPy
    #: log_softmax gradient at n = 1024 takes minutes). Compiled kernels take rows of any length.
    max_size: int = 256
    #: Where the function is defined and interesting, for numeric checks and
    #: plots: one (low, high) interval per input group (prediction, target).
    domain: tuple[tuple[float, float], ...] = ((-6.0, 6.0),)
    #: General-n closed form of the Jacobian in output form, as text and LaTeX.
    closed_form: tuple[str, str] | None = None
    #: Losses: the reduction of per-sample losses to a cost, and the output
    #: activation whose logits give the simple gradient ŷ − y.
    reduction: Literal["mean", "sqrt_mean"] = "mean"
    output_activation: str | None = None
    #: Losses: facts about the targets (e.g. one-hot rows sum to 1) as SymPy equalities.
    target_constraints: Callable[[tuple[sp.Symbol, ...]], list[sp.Eq]] | None = None
    target_encoding: str = ""

    def __post_init__(self) -> None:
        for n in (self.name, *self.aliases):
            if not _NAME.match(n):
                raise ValueError(f"catalog name {n!r} is not snake_case")

    def definition(self, size: int | None = None) -> Definition:
        return self.build(self.default_size if size is None else size)


class UnknownFunctionError(KeyError, ValueError):
    """Raised for a name that is not in the catalog; carries close matches."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown function {name!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


class Registry:
    """Name → :class:`Entry`, with aliases and close-match suggestions."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(self, entry: Entry) -> Entry:
        for n in (entry.name, *entry.aliases):
            if n in self._entries or n in self._aliases:
                raise ValueError(f"{n!r} is already registered")
        self._entries[entry.name] = entry
        self._aliases.update({a: entry.name for a in entry.aliases})
        return entry

    def unregister(self, name: str) -> Entry:
        """Remove an entry and its aliases (symact.user.undefine and define(replace=True) use it)."""
        entry = self[name]
        del self._entries[entry.name]
        for alias in entry.aliases:
            self._aliases.pop(alias, None)
        return entry

    def __getitem__(self, name: str) -> Entry:
        key = name.strip().lower().replace("-", "_")
        key = self._aliases.get(key, key)
        if key not in self._entries:
            pool = [*self._entries, *self._aliases]
            raise UnknownFunctionError(name, difflib.get_close_matches(key, pool, n=3, cutoff=0.5))
        return self._entries[key]

    def __contains__(self, name: str) -> bool:
        try:
            self[name]
        except UnknownFunctionError:
            return False
        return True

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, kind: Kind | None = None) -> list[str]:
        return [e.name for e in self if kind is None or e.kind == kind]


REGISTRY = Registry()
#: The ``reference`` of every user-defined entry (:mod:`symact.user`): the catalog's own entries cite a source.
USER_DEFINED = "user-defined"
register = REGISTRY.register


def real(name: str, **assumptions) -> sp.Symbol:
    """A real symbol: free symbols in symact are real unless stated otherwise."""
    return sp.Symbol(name, real=True, **assumptions)


def vector(name: str, n: int, **assumptions) -> tuple[sp.Symbol, ...]:
    """Real symbols ``name_1 … name_n``."""
    return tuple(real(f"{name}_{i}", **assumptions) for i in range(1, n + 1))

"""User-defined functions: from safe text to a registry entry that works everywhere.

``define("my_mish", "x*tanh(softplus(x))")`` parses the text with the safe
parser and registers an :class:`Entry`, so derive, prove, analyze and the CLI
accept the name like a catalog one. ``save=True`` keeps the definition in
``functions.toml`` under the user's config directory, loaded on later runs.
Packages can ship functions through the entry point group ``symact.functions``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import sympy as sp

from .catalog import REGISTRY, Definition, Entry, Param
from .catalog.registry import _NAME, USER_DEFINED, real
from .fn import Fn, _exact
from .parse import CONSTANTS, FUNCTIONS, ExpressionError, parse, valid_symbol_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENTRY_POINT_GROUP = "symact.functions"


def config_dir() -> Path:
    """``$SYMACT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/symact``, else ``~/.config/symact``."""
    if os.environ.get("SYMACT_CONFIG_DIR"):
        return Path(os.environ["SYMACT_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "symact"


def user_file() -> Path:
    return config_dir() / "functions.toml"


def custom(text: str, *, params: dict[str, float] | None = None, kind: str = "activation", name: str = "custom") -> Fn:
    """An unregistered function from text: ``x`` for activations, ``yhat`` and ``y`` for losses."""
    return Fn(_entry(name, text, params or {}, kind))


def define(
    name: str,
    text: str,
    *,
    params: dict[str, float] | None = None,
    kind: str = "activation",
    description: str = "",
    save: bool = False,
    replace: bool = False,
) -> Fn:
    """Register a user function under ``name``; from then on it works wherever a catalog name does.

    Args:
        name: snake_case, not already in the catalog.
        text: the definition, in ``x`` (activation) or ``yhat`` and ``y`` (loss).
        params: parameter names and default values, e.g. ``{"alpha": 0.25}``.
        kind: ``"activation"`` or ``"loss"``.
        save: also store it in ``functions.toml`` for later runs.
        replace: redefine a user function of that name (never a catalog one), and its saved text with ``save``.
    """
    if not isinstance(name, str) or not _NAME.match(name) or not valid_symbol_name(name):
        raise ExpressionError(f"{name!r} is not a valid function name (snake_case identifier)")
    old = REGISTRY[name] if name in REGISTRY else None
    if old is not None and old.reference != USER_DEFINED:
        raise ValueError(f"{name!r} is a catalog function: choose another name")
    if name in FUNCTIONS or name in CONSTANTS or name == "diff":  # text would read the built-in, not this
        what = "constant" if name in CONSTANTS else "function"
        raise ExpressionError(f"{name!r} is a built-in {what} of the text syntax: choose another name")
    if old is not None and not replace:
        raise ValueError(f"{name!r} is already defined: replace it with replace=True (symact define --replace)")
    entry = _entry(name, text, params or {}, kind, description)  # checked before anything is replaced
    if save:
        _save(name, text, params or {}, kind, description)
    if old is not None:
        REGISTRY.unregister(old.name)
    REGISTRY.register(entry)
    return Fn(entry)


def undefine(name: str) -> bool:
    """Remove a user function from this session and from ``functions.toml``; True where it had been saved.

    Raises:
        UnknownFunctionError: no function of that name.
        ValueError: a catalog function, or one a package ships.
    """
    entry = REGISTRY[name]
    if entry.reference != USER_DEFINED:
        raise ValueError(f"{entry.name!r} is not a user function: only what symact define made can be removed")
    saved = _read(user_file())
    was_saved = entry.name in saved
    if was_saved:
        del saved[entry.name]
        _write(saved)
    REGISTRY.unregister(entry.name)
    return was_saved


#: What can make a kink or a jump in text: without them a definition is differentiable wherever it is defined.
_KINKS = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise)


def _entry(name: str, text: str, params: dict, kind: str, description: str = "") -> Entry:
    if kind not in ("activation", "loss"):
        raise ValueError("kind must be 'activation' or 'loss'")
    expr = parse(text, params=params)
    symbols = {n: real(n) for n in params}
    inputs, targets = ((real("x"),), ()) if kind == "activation" else ((real("yhat"),), (real("y"),))
    allowed = {s.name for s in (*inputs, *targets)} | set(symbols)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in allowed)
    if unknown:
        expected = "x" if kind == "activation" else "yhat and y"
        raise ExpressionError(f"unknown symbol(s) {', '.join(unknown)}: use {expected}, or declare parameters")
    if not expr.has(*inputs):
        raise ExpressionError(f"the definition does not depend on {inputs[0]}")
    expr = expr.xreplace({s: real(s.name) for s in expr.free_symbols})
    return Entry(
        name=name,
        kind=kind,
        build=lambda _size: Definition(inputs, expr, targets),
        params=tuple(Param(symbols[n], _exact(v), "user parameter", learnable=True) for n, v in params.items()),
        latex_name=r"\operatorname{%s}" % name.replace("_", r"\_"),
        description=description or f"user-defined: {text}",
        reference=USER_DEFINED,
        kink_convention=(
            "H(0) = 0 at max/min kinks, as for relu" if expr.has(*_KINKS) else Entry.kink_convention  # (its default)
        ),
        output_activation="identity" if kind == "loss" else None,
    )


def _save(name: str, text: str, params: dict, kind: str, description: str) -> None:
    """Add (or replace) the definition in functions.toml."""
    saved = _read(user_file())
    saved[name] = {
        "kind": kind,
        "text": text,
        "params": {k: float(v) for k, v in params.items()},
        "description": description,
    }
    _write(saved)


def _write(saved: dict) -> None:
    """functions.toml with these definitions, written atomically (temp file, fsync, rename)."""
    path = user_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, item in saved.items():
        lines.append(f"[functions.{key}]")
        for field in ("kind", "text", "description"):
            lines.append(f"{field} = {json.dumps(item.get(field, ''), ensure_ascii=False)}")
        pairs = ", ".join(f"{k} = {float(v)!r}" for k, v in item.get("params", {}).items())
        lines.append(f"params = {{ {pairs} }}\n")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".functions.", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def saved_names() -> list[str]:
    """The names functions.toml holds."""
    return list(_read(user_file()))


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f).get("functions", {})


def load_saved() -> list[str]:
    """Register the functions saved in functions.toml; a bad entry is skipped with a warning."""
    try:
        saved = _read(user_file())
    except (OSError, tomllib.TOMLDecodeError) as e:
        warnings.warn(f"symact: could not read {user_file()}: {e}", stacklevel=2)
        return []
    loaded = []
    for name, item in saved.items():
        if name in REGISTRY:
            continue
        try:
            define(
                name,
                item["text"],
                params=item.get("params", {}),
                kind=item.get("kind", "activation"),
                description=item.get("description", ""),
            )
            loaded.append(name)
        except (ExpressionError, ValueError, TypeError, KeyError) as e:
            warnings.warn(f"symact: skipping saved function {name!r}: {e}", stacklevel=2)
    return loaded


def load_entry_points() -> list[str]:
    """Register Entry objects shipped by packages under the ``symact.functions`` entry point group."""
    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            entries = obj() if callable(obj) and not isinstance(obj, Entry) else obj
            for entry in [entries] if isinstance(entries, Entry) else entries:
                if entry.name not in REGISTRY:
                    REGISTRY.register(entry)
                    loaded.append(entry.name)
        except Exception as e:  # a broken plugin must not break symact
            warnings.warn(f"symact: entry point {ep.name!r} failed: {e}", stacklevel=2)
    return loaded

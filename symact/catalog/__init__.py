"""The catalog: every activation and loss, registered once in :data:`REGISTRY`."""

from . import activations, losses  # noqa: F401  (importing registers the entries)
from .registry import REGISTRY, Definition, Entry, Param, UnknownFunctionError

__all__ = ["REGISTRY", "Definition", "Entry", "Param", "UnknownFunctionError"]

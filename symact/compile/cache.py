"""Where generated kernels live: one directory, files named by the hash of what made them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import sys
from pathlib import Path
from types import ModuleType


def cache_dir() -> Path:
    """``$SYMACT_CACHE_DIR``, else ``$XDG_CACHE_HOME/symact``, else ``~/.cache/symact``."""
    if os.environ.get("SYMACT_CACHE_DIR"):
        root = Path(os.environ["SYMACT_CACHE_DIR"])
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symact"
    root.mkdir(parents=True, exist_ok=True)
    return root


def digest(*parts: str) -> str:
    """A short hash of the source and everything else that changes the build (compiler, machine)."""
    h = hashlib.sha256()
    for part in (*parts, platform.machine(), platform.python_version()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def import_generated(kind: str, name: str, source: str) -> ModuleType:
    """Write generated Python ``source`` to the cache (once) and import it as a real, registered module.

    numba's on-disk cache re-imports a module by name, so registering it in
    sys.modules is what lets ``cache=True`` work for generated kernels.
    """
    path = cache_dir() / f"{name}_{kind}_{digest(source)}.py"
    if not path.exists():
        write_atomic(path, source)
    if path.stem not in sys.modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    return sys.modules[path.stem]

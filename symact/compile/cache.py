"""Where generated kernels live: one directory, files named by the hash of what made them."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path


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

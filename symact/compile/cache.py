"""Where generated kernels live: one directory, files named by the hash of what made them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType


def cache_dir() -> Path:
    """``$SYMACT_CACHE_DIR``, else ``$XDG_CACHE_HOME/symact``, else ``~/.cache/symact``; where that cannot be
    written (a read-only home, say), a directory of the user's own under the system's temporary directory,
    with a warning once a process."""
    if os.environ.get("SYMACT_CACHE_DIR"):
        root = Path(os.environ["SYMACT_CACHE_DIR"])
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symact"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK | os.X_OK):
            return root
    except OSError:
        pass
    if root not in _FALLBACK:
        _FALLBACK[root] = _private_temporary()
        warnings.warn(f"symact: cannot write the kernel cache {root}; using {_FALLBACK[root]}", stacklevel=2)
    return _FALLBACK[root]


#: cache directories that could not be written, and the temporary ones used instead in this process
_FALLBACK: dict[Path, Path] = {}


def _private_temporary() -> Path:
    """symact-cache-UID under the temporary directory, kept between runs; if another user owns it or may write
    in it, their libraries are not loaded: a new directory of this process's own."""
    folder = Path(tempfile.gettempdir()) / f"symact-cache-{getattr(os, 'getuid', lambda: 'user')()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        mine = folder.stat()
        if not hasattr(os, "getuid") or (mine.st_uid == os.getuid() and not mine.st_mode & 0o022):
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="symact-cache-"))


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

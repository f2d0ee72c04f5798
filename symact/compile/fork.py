"""Whether this process is the child of a fork().

GNU OpenMP's threads do not survive fork(): after a parallel loop in the parent, the child's first parallel loop
waits for them forever (the C kernels), and numba's OpenMP threading layer ends the child instead. Kernels in
a child therefore run on the calling thread, as PyTorch's DataLoader workers do (several processes are the
parallelism there). The flag is set for any fork after symact is imported, whichever backend the parent used:
both backends share the one OpenMP runtime.
"""

from __future__ import annotations

import os

_forked = False


def forked() -> bool:
    return _forked


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

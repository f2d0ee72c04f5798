"""Run heavy symbolic work in a child process with a time and a memory limit.

simplify, solve and limit can take minutes or gigabytes on a pathological
input. ``run_limited`` forks, caps the child's address space with
RLIMIT_AS and its wall-clock time, and turns either limit into
:class:`LimitExceeded`, so the caller reports "unknown" instead of hanging.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable


class LimitExceeded(RuntimeError):
    """The child ran out of time or memory."""


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn, func, args, kwargs, extra_bytes):
    limit = _address_space_bytes() + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(("ok", func(*args, **kwargs)))
    except MemoryError:
        conn.send(("memory", None))
    except Exception as e:  # reported to the parent, which re-raises it as one line
        conn.send(("error", (type(e).__name__, str(e))))
    finally:
        conn.close()


def run_limited(func: Callable, *args, limit_seconds: float = 10.0, limit_mb: int = 512, **kwargs):
    """``func(*args, **kwargs)`` in a forked child: at most ``limit_seconds`` and ``limit_mb`` MB more memory.

    Raises:
        LimitExceeded: the child hit a limit.
        RuntimeError: the child raised; the message names the original exception.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, func, args, kwargs, limit_mb * 2**20), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(limit_seconds):
            raise LimitExceeded(f"time limit of {limit_seconds:g} s exceeded")
        try:
            status, payload = receiver.recv()
        except EOFError:
            raise LimitExceeded(f"the worker died (memory limit of {limit_mb} MB?)") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
    if status == "ok":
        return payload
    if status == "memory":
        raise LimitExceeded(f"memory limit of {limit_mb} MB exceeded")
    name, message = payload
    raise RuntimeError(f"{name}: {message}")

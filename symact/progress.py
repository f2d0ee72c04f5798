"""A dependency-free progress bar on stderr, quiet when stderr is not a terminal unless asked."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "train") as bar: bar.update(1, loss=0.3)``."""

    def __init__(self, total: int, label: str = "", *, enabled: bool = True, stream=None, width: int = 28):
        self.total, self.label, self.width = max(total, 1), label, width
        self.stream = stream or sys.stderr
        self.enabled = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done, self.start, self._last = 0, time.monotonic(), 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def update(self, n: int = 1, **info) -> None:
        self.done = min(self.done + n, self.total)
        self.info = info
        if self.enabled:
            self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        filled = int(self.width * self.done / self.total)
        elapsed = now - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        extra = "  ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in getattr(self, "info", {}).items()
        )
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}  {elapsed:5.1f}s<{eta:4.0f}s  {extra}"
        self.stream.write(line)
        self.stream.flush()

"""A small progress bar with elapsed time and an estimate of the time left, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Progress of one long step: ``label [#####-----] done/total  elapsed  ~left``.

    The time left is estimated from the rate since the first report (from the start at the
    first report itself), so neither compilation nor units done before a resume inflate it.

    On a terminal the bar is redrawn in place; elsewhere (logs, CI) a line is printed at most
    every ``min_interval`` seconds and at the end. ``enabled=False`` prints nothing.
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None,
                 enabled: bool = True, width: int = 24, min_interval: float = 2.0):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self._last_print = -float("inf")
        self._first: tuple[float, int] | None = None
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, done: int, info: str = "") -> None:
        """Report that ``done`` of ``total`` units are finished."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._first is None:
            self._first = (now, done)
        finished = done >= self.total
        if not finished and not self._tty and now - self._last_print < self.min_interval:
            return
        self._last_print = now
        elapsed = now - self.start
        t0, d0 = self._first
        if done > d0:  # rate since the first report: excludes compiling, and work resumed from a checkpoint
            left = (now - t0) / (done - d0) * (self.total - done)
        else:
            left = elapsed / done * (self.total - done) if done else float("nan")
        filled = int(self.width * min(done, self.total) / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        eta = "" if finished or left != left else f"  ~{_fmt_seconds(left)} left"
        text = f"{self.label} [{bar}] {done}/{self.total}  {_fmt_seconds(elapsed)}{eta}"
        if info:
            text += f"  {info}"
        if self._tty:
            self.stream.write("\r" + text + ("\n" if finished else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def callback(self):
        """An ``(done, total, loss)`` callback for :func:`shallownet.training.train`."""
        def show(done: int, total: int, loss: float) -> None:
            self.total = max(int(total), 1)
            self.update(done, f"loss {loss:.4f}")
        return show


def _fmt_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"

"""Progress lines on the terminal while a benchmark runs (stderr, so JSON on stdout stays clean)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`[ 3/12] <what> (41 s)`: one line a step, with the time since the run began."""

    def __init__(self, total: int, title: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self._start = time.perf_counter()
        self._say(f"{title}: {total} steps")

    def step(self, what: str) -> None:
        self.done += 1
        width = len(str(self.total))
        elapsed = time.perf_counter() - self._start
        self._say(f"[{self.done:>{width}}/{self.total}] {what} ({elapsed:.0f} s)")

    def note(self, what: str) -> None:
        self._say(f"  {what}")

    def _say(self, line: str) -> None:
        stream = self.stream or sys.stderr
        print(line, file=stream, flush=True)

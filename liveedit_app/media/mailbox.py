"""A small, latest-wins hand-over between a producer thread and a consumer thread.

The source produces frames at its own pace; the editor takes them at its (often slower) pace. A
queue between them would grow without bound and show ever older pictures, so the mailbox keeps only
the newest `keep` items: putting into a full mailbox pushes out the oldest waiting item and counts
it as dropped. `keep` is 1 for a consumer that wants the freshest picture; an editor that works in
chunks of N frames keeps N, so the frames of its next chunk gather while it computes this one
(with one slot it would wait N-1 frame periods after every chunk, idle).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestMailbox(Generic[T]):
    def __init__(self, keep: int = 1) -> None:
        self._cond = threading.Condition()
        self._items: deque[T] = deque()
        self._keep = max(1, keep)
        self._closed = False
        self.dropped = 0  # items pushed out before anyone took them

    @property
    def keep(self) -> int:
        return self._keep

    @keep.setter
    def keep(self, keep: int) -> None:
        with self._cond:
            self._keep = max(1, keep)
            self._trim()

    def put(self, item: T) -> None:
        with self._cond:
            if self._closed:
                return
            self._items.append(item)
            self._trim()
            self._cond.notify()

    def take(self, timeout: float | None = None) -> T | None:
        """The oldest kept item, waiting up to `timeout` seconds; None on timeout or once closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            if not self._items:
                return None
            return self._items.popleft()

    def close(self) -> None:
        """Wake every waiting `take` and refuse further items."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()

    def _trim(self) -> None:
        while len(self._items) > self._keep:
            self._items.popleft()
            self.dropped += 1

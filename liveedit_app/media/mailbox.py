"""A one-slot, latest-wins hand-over between a producer thread and a consumer thread.

The source produces frames at its own pace; the editor takes them at its (often slower) pace. A
queue between them would grow without bound and show ever older pictures, so the mailbox keeps only
the newest item: putting into a full slot replaces the waiting item and counts it as dropped.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestMailbox(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.dropped = 0  # items replaced before anyone took them

    def put(self, item: T) -> None:
        with self._cond:
            if self._closed:
                return
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._cond.notify()

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout` seconds; None on timeout or once closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._full or self._closed, timeout)
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake every waiting `take` and refuse further items."""
        with self._cond:
            self._closed = True
            self._item, self._full = None, False
            self._cond.notify_all()

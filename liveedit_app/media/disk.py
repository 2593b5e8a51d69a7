"""Free-space rules for recording: refuse to start on a nearly full disk, stop before it fills."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from liveedit_app.errors import DiskFullError

MB = 1024 * 1024
MIN_FREE_TO_START = 200 * MB
# Stop while this much is left: the trailer, the other open files and the OS need room too.
MIN_FREE_WHILE_RECORDING = 64 * MB


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def describe_size(n_bytes: float) -> str:
    if n_bytes >= 1024 * MB:
        return f"{n_bytes / (1024 * MB):.1f} GB"
    return f"{n_bytes / MB:.0f} MB"


class DiskGuard:
    """Asks the file system for free space at most once per `interval_s`.

    `free_space` is injectable so tests can pretend the disk fills up.
    """

    def __init__(
        self,
        folder: Path,
        *,
        free_space: Callable[[Path], int] = free_bytes,
        interval_s: float = 1.0,
        min_to_start: int = MIN_FREE_TO_START,
        min_while_recording: int = MIN_FREE_WHILE_RECORDING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.free_space = free_space
        self.interval_s = interval_s
        self.min_to_start = min_to_start
        self.min_while_recording = min_while_recording
        self._clock = clock
        self._last_check = -float("inf")
        self.last_free: int | None = None

    def check_can_start(self) -> None:
        free = self.free_space(self.folder)
        self.last_free = free
        if free < self.min_to_start:
            raise DiskFullError(
                f"Not enough free space to record: {describe_size(free)} left, "
                f"at least {describe_size(self.min_to_start)} needed. Free some space or choose "
                "another recordings folder.",
                details=f"{self.folder}: {free} bytes free, {self.min_to_start} required",
            )

    def running_out(self) -> bool:
        """True when the disk is nearly full; cheap to call for every frame."""
        now = self._clock()
        if now - self._last_check < self.interval_s:
            return False
        self._last_check = now
        self.last_free = self.free_space(self.folder)
        return self.last_free < self.min_while_recording

    def has_room_for(self, n_bytes: int) -> bool:
        return self.free_space(self.folder) - n_bytes > self.min_while_recording

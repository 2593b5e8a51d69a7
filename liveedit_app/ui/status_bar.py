"""The status bar: source FPS, edit FPS, latency, dropped frames, device, recording time, free disk.

Bound to `StreamStatus`; the recorder sets `status.recording_s` and the bar shows it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from liveedit_app.ui.state import StreamStatus


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def format_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class StatusBar(QStatusBar):
    FIELDS = ("source", "source_fps", "edit_fps", "latency_ms", "dropped", "device",
              "recording_s", "free_disk_bytes")

    def __init__(self, status: StreamStatus, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = status
        self.labels = {name: QLabel() for name in self.FIELDS}
        for name in self.FIELDS:
            self.labels[name].setObjectName(f"status_{name}")
            self.addPermanentWidget(self.labels[name])
        status.changed.connect(self._refresh)
        self._refresh()

    def _refresh(self, _name: str = "") -> None:
        s = self.status
        self.labels["source"].setText(s.source or "No source")
        self.labels["source_fps"].setText(f"Source {s.source_fps:.1f} fps")
        if s.editing:
            self.labels["edit_fps"].setText(f"Edit {s.edit_fps:.1f} fps")
            self.labels["latency_ms"].setText(f"{s.latency_ms:.0f} ms")
        else:
            self.labels["edit_fps"].setText("Not editing")
            self.labels["latency_ms"].setText("")
        self.labels["dropped"].setText(f"{s.dropped} dropped")
        self.labels["device"].setText(s.device or "no model")
        recording = s.recording_s is not None
        self.labels["recording_s"].setVisible(recording)
        if recording:
            self.labels["recording_s"].setText(f"● REC {format_duration(s.recording_s)}")
        disk = s.free_disk_bytes
        self.labels["free_disk_bytes"].setText("" if disk is None else f"{format_bytes(disk)} free")

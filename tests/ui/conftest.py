"""Test doubles for the window's tests: an editor with the engine's contract, a camera that can be
unplugged, and a window fixture that runs on them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from liveedit_app.contract import EditedFrame, EditorStats, EditSettings, Frame
from liveedit_app.errors import CameraError
from liveedit_app.media.camera import CameraInfo


class FakeEditor:
    """Inverts the picture inside the mask (everywhere without one) after `delay_s`; remembers
    every prompt, mask and setting it was given and every frame index it was pushed."""

    def __init__(self, delay_s: float = 0.0, fail_on: set[int] | None = None):
        self.delay_s = delay_s
        self.fail_on = fail_on or set()
        self.stats = EditorStats(device="fake")
        self.prompts: list[str] = []
        self.masks: list[np.ndarray | None] = []
        self.settings: list[EditSettings] = []
        self.pushed: list[int] = []
        self.prompt_at_push: list[str] = []
        self.resets = 0
        self._mask: np.ndarray | None = None

    def set_prompt(self, prompt: str) -> None:
        self.prompts.append(prompt)

    def set_mask(self, mask: np.ndarray | None) -> None:
        self.masks.append(mask)
        self._mask = mask

    def configure(self, settings: EditSettings) -> None:
        self.settings.append(settings)

    def push(self, frame: Frame) -> list[EditedFrame]:
        self.pushed.append(frame.index)
        self.prompt_at_push.append(self.prompts[-1] if self.prompts else "")
        if self.delay_s:
            time.sleep(self.delay_s)
        if frame.index in self.fail_on:
            raise RuntimeError("CUDA error: an illegal memory access (fake)")
        inverted = 255 - frame.rgb
        if self._mask is not None and self._mask.shape == frame.rgb.shape[:2]:
            alpha = self._mask[..., None]
            inverted = (inverted * alpha + frame.rgb * (1 - alpha)).astype(np.uint8)
        self.stats.frames_out += 1
        return [EditedFrame(rgb=inverted, source=frame.rgb, pts=frame.pts, index=frame.index)]

    def flush(self) -> list[EditedFrame]:
        return []

    def reset(self) -> None:
        self.resets += 1


class FakeCamera:
    """One camera that tests can unplug and plug back; frames are flat grey with the index."""

    def __init__(self, camera_id: str = "usb-1", present: bool = True, busy: bool = False):
        self.camera_id = camera_id
        self.present = present
        self.busy = busy
        self.opens = 0
        self.watchers = []
        self._count = 0
        self._lock = threading.Lock()

    def list_cameras(self) -> list[CameraInfo]:
        if not self.present:
            return []
        return [CameraInfo(self.camera_id, "Fake Cam", [(64, 48)], True)]

    def describe(self, camera_id: str) -> str:
        return "Fake Cam"

    def watch(self, on_change) -> None:
        self.watchers.append(on_change)

    def plug(self, present: bool) -> None:
        self.present = present
        for call in self.watchers:
            call()

    def open(self, camera_id: str, size):
        if not self.present or camera_id != self.camera_id:
            raise CameraError("That camera is not connected.")
        if self.busy:
            raise CameraError("Fake Cam is in use by another app.")
        self.opens += 1
        return _FakeStream(self)


class _FakeStream:
    def __init__(self, camera: FakeCamera):
        self.camera = camera

    def read(self, timeout: float) -> np.ndarray:
        time.sleep(0.01)
        if not self.camera.present:
            raise CameraError("Fake Cam was unplugged.")
        with self.camera._lock:
            self.camera._count += 1
            value = self.camera._count % 256
        return np.full((48, 64, 3), value, np.uint8)

    def close(self) -> None:
        pass


@pytest.fixture
def fake_editor():
    return FakeEditor()


@pytest.fixture
def window(qtbot, fake_editor):
    """The main window on the test pattern, editing with `fake_editor`; closed afterwards."""
    from liveedit_app.ui.main_window import MainWindow

    win = MainWindow(editor_factory=lambda name, device: fake_editor, camera_backend=FakeCamera(),
                     models=["liveedit-tiny"])
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    win.start("pattern")
    yield win
    win.close()

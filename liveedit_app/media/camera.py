"""Cameras through QtMultimedia: list them by stable id with their resolutions, open one as a
stream of RGB pictures.

This is the one module of `media/` that touches Qt, and only QtMultimedia (no widgets), imported
when a camera is first used: cameras on every desktop platform come from there, and the command line
lists them too. `CameraBackend` is the seam the camera source uses, so tests can stand in a camera
that is missing, busy, or unplugged and plugged back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from liveedit_app.errors import CameraError
from liveedit_app.media.mailbox import LatestMailbox


@dataclass(frozen=True, slots=True)
class CameraInfo:
    id: str  # stable across runs and replugging (the device path or USB id the OS gives)
    name: str
    resolutions: list[tuple[int, int]] = field(
        default_factory=list
    )  # (width, height), largest first
    is_default: bool = False


class CameraStream(Protocol):
    def read(self, timeout: float) -> np.ndarray:
        """The next picture, [H, W, 3] uint8 RGB; `CameraError` if the device stopped or left."""
        ...

    def close(self) -> None: ...


class CameraBackend(Protocol):
    def list_cameras(self) -> list[CameraInfo]: ...

    def describe(self, camera_id: str) -> str:
        """A short name for the status bar."""
        ...

    def open(self, camera_id: str, size: tuple[int, int] | None) -> CameraStream:
        """Start the camera; `CameraError` if it is missing or busy."""
        ...

    def watch(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` (on the Qt main thread) when a camera is plugged in or out.
        Optional: a backend without it is simply not watched."""
        ...


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """One capture format a camera offers (QCameraFormat, as plain values)."""

    width: int
    height: int
    max_fps: float
    compressed: bool = False  # MJPEG: decoded on the CPU, but the only way to 30 fps over USB 2


PREFERRED_SIZE = (1280, 720)  # sharp enough to record; the model works at 256 or 480 px anyway
MIN_FPS = 24.0


def pick_format(formats: list[FormatInfo], size: tuple[int, int] | None = None) -> int | None:
    """The index of the format to capture with, or None to leave the camera's default.

    With `size` (width, height): that size at its highest frame rate. Otherwise the size nearest
    1280x720 among formats that reach 24 fps (a camera's default is often 5 fps at full size or
    640x480), uncompressed before MJPEG at equal size and rate."""
    # a driver may list a format without a size; it can be neither compared nor asked for
    indexed = [(i, f) for i, f in enumerate(formats) if f.width > 0 and f.height > 0]
    if not indexed:
        return None
    if size is not None:
        same = [(i, f) for i, f in indexed if (f.width, f.height) == tuple(size)]
        return max(same, key=lambda p: p[1].max_fps)[0] if same else None
    fluent = [(i, f) for i, f in indexed if f.max_fps >= MIN_FPS] or indexed
    want = PREFERRED_SIZE[0] * PREFERRED_SIZE[1]

    def cost(pair: tuple[int, FormatInfo]) -> tuple[float, float, bool]:
        f = pair[1]
        area = f.width * f.height
        # a little larger is better than a little smaller: the picture is only ever scaled down
        distance = (area / want) if area >= want else 1.5 * (want / area)
        return (distance, -min(f.max_fps, 60.0), f.compressed)

    return min(fluent, key=cost)[0]


def default_backend() -> CameraBackend:
    return QtCameraBackend()


def list_cameras() -> list[CameraInfo]:
    return default_backend().list_cameras()


def _ensure_qt_app():
    from PySide6.QtCore import QCoreApplication

    # QMediaDevices needs an application object; the command line has none of its own
    return QCoreApplication.instance() or QCoreApplication([])


class QtCameraBackend:
    def __init__(self) -> None:
        self._devices = None  # the QMediaDevices whose signal `watch` listens to

    def watch(self, on_change: Callable[[], None]) -> None:
        from PySide6.QtMultimedia import QMediaDevices

        _ensure_qt_app()
        if self._devices is None:
            self._devices = QMediaDevices()
        self._devices.videoInputsChanged.connect(on_change)

    def list_cameras(self) -> list[CameraInfo]:
        from PySide6.QtMultimedia import QMediaDevices

        _ensure_qt_app()
        cameras = []
        for device in QMediaDevices.videoInputs():
            sizes = {
                (f.resolution().width(), f.resolution().height()) for f in device.videoFormats()
            }
            cameras.append(
                CameraInfo(
                    id=bytes(device.id()).decode("utf-8", "replace"),
                    name=device.description(),
                    resolutions=sorted(sizes, key=lambda s: s[0] * s[1], reverse=True),
                    is_default=device.isDefault(),
                )
            )
        return cameras

    def describe(self, camera_id: str) -> str:
        for info in self.list_cameras():
            if info.id == camera_id:
                return info.name
        return f"Camera {camera_id}"

    def open(self, camera_id: str, size: tuple[int, int] | None) -> CameraStream:
        from PySide6.QtMultimedia import QMediaDevices

        _ensure_qt_app()
        devices = QMediaDevices.videoInputs()
        if not devices:
            raise CameraError(
                "No camera is connected.", details="QMediaDevices.videoInputs() is empty"
            )
        for device in devices:
            if bytes(device.id()).decode("utf-8", "replace") == camera_id:
                return _QtCameraStream(device, size)
        raise CameraError(
            "That camera is not connected (unplugged, or in use by another app).",
            details=f"no video input with id {camera_id!r}; present: "
            + ", ".join(bytes(d.id()).decode("utf-8", "replace") for d in devices),
        )


class _QtCameraStream:
    """A started QCamera whose pictures land in a latest-frame mailbox.

    The QCamera lives on the Qt main thread (it needs that thread's event loop); `read` is called
    from the source thread and only waits on the mailbox.
    """

    def __init__(self, device, size: tuple[int, int] | None):
        self._frames: LatestMailbox[np.ndarray] = LatestMailbox()
        self._error: CameraError | None = None
        self._name = device.description()
        _on_main_thread(lambda: self._start(device, size))
        if self._error is not None:
            raise self._error

    def _start(self, device, size: tuple[int, int] | None) -> None:
        from PySide6.QtMultimedia import (
            QCamera,
            QMediaCaptureSession,
            QVideoFrameFormat,
            QVideoSink,
        )

        self._camera = QCamera(device)
        formats = list(device.videoFormats())
        chosen = pick_format([
            FormatInfo(f.resolution().width(), f.resolution().height(), f.maxFrameRate(),
                       f.pixelFormat() == QVideoFrameFormat.PixelFormat.Format_Jpeg)
            for f in formats], size)
        if chosen is not None:
            self._camera.setCameraFormat(formats[chosen])
        self._sink = QVideoSink()
        self._session = QMediaCaptureSession()
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._sink)
        self._sink.videoFrameChanged.connect(self._on_frame)
        self._camera.errorOccurred.connect(self._on_error)
        self._camera.start()

    def _on_frame(self, video_frame) -> None:
        from PySide6.QtGui import QImage

        image = video_frame.toImage().convertToFormat(QImage.Format.Format_RGB888)
        if image.isNull():
            return
        h, w, stride = image.height(), image.width(), image.bytesPerLine()
        rows = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
        self._frames.put(rows[:, : w * 3].reshape(h, w, 3).copy())  # [H, W, 3]

    def _on_error(self, _code, text: str) -> None:
        self._error = CameraError(
            f"{self._name} stopped: it was unplugged or another app is using it.", details=text
        )
        self._frames.close()

    def read(self, timeout: float) -> np.ndarray:
        rgb = self._frames.take(timeout)
        if self._error is not None:
            raise self._error
        if rgb is None:
            raise CameraError(
                f"{self._name} stopped sending pictures.",
                details=f"no frame for {timeout:.1f} s",
            )
        return rgb

    def close(self) -> None:
        self._frames.close()
        _on_main_thread(self._stop)

    def _stop(self) -> None:
        self._camera.stop()
        self._session.setCamera(None)


def _on_main_thread(fn) -> None:
    """Run `fn` on the Qt application's thread and wait for it (QCamera needs that event loop)."""
    from PySide6.QtCore import QThread, QTimer

    app = _ensure_qt_app()
    if QThread.currentThread() == app.thread():
        fn()
        return
    done = threading.Event()

    def call() -> None:
        try:
            fn()
        finally:
            done.set()

    QTimer.singleShot(0, app, call)
    if not done.wait(5.0):
        raise CameraError("The camera did not answer.", details="timed out waiting for Qt thread")

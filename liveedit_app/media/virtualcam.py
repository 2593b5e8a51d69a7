"""The edited picture as a virtual webcam (optional output), through pyvirtualcam.

Works where the platform has a backend: OBS's virtual camera on Windows and macOS, a v4l2loopback
device on Linux. Where there is none, `VirtualCamera.start()` raises a `LiveEditError` that says
what to install; nothing else in the app depends on it.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from liveedit_app.errors import LiveEditError

_HOW_TO_GET_ONE = {
    "linux": "load the v4l2loopback kernel module ('sudo modprobe v4l2loopback exclusive_caps=1')",
    "darwin": "install OBS Studio and start its virtual camera once",
    "win32": "install OBS Studio (it brings the virtual camera driver)",
}


class VirtualCamera:
    """Sends [H, W, 3] uint8 RGB pictures to a virtual camera of a fixed size."""

    def __init__(self, width: int, height: int, fps: float = 30.0, device: str | None = None):
        self.width, self.height, self.fps, self.device = width, height, fps, device
        self._camera = None

    @property
    def running(self) -> bool:
        return self._camera is not None

    @property
    def name(self) -> str:
        return self._camera.device if self._camera is not None else ""

    def start(self) -> None:
        try:
            import pyvirtualcam
        except ImportError as err:
            raise LiveEditError(
                "The virtual camera is not available: the pyvirtualcam package is missing.",
                details=str(err),
            ) from err
        try:
            self._camera = pyvirtualcam.Camera(
                self.width,
                self.height,
                self.fps,
                fmt=pyvirtualcam.PixelFormat.RGB,
                device=self.device,
            )
        except (RuntimeError, ValueError, OSError) as err:
            how = _HOW_TO_GET_ONE.get(sys.platform, "install a virtual camera driver")
            raise LiveEditError(
                f"No virtual camera is available on this computer: {how}, then try again.",
                details=str(err),
            ) from err

    def send(self, rgb: np.ndarray) -> None:
        """Show `rgb` on the virtual camera (scaled to its size); ignored when not started."""
        if self._camera is None:
            return
        if rgb.shape[:2] != (self.height, self.width):
            rgb = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self._camera.send(np.ascontiguousarray(rgb))

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.close()
            self._camera = None

import numpy as np
import pytest
import pyvirtualcam

from liveedit_app.errors import LiveEditError
from liveedit_app.media.virtualcam import VirtualCamera


class FakeCamera:
    def __init__(self, width, height, fps, fmt, device):
        self.width, self.height, self.device = width, height, device or "/dev/video9"
        self.sent = []
        self.closed = False

    def send(self, rgb):
        self.sent.append(rgb.shape)

    def close(self):
        self.closed = True


def test_without_a_backend_start_says_what_to_install(monkeypatch):
    def no_device(*args, **kwargs):
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found")

    monkeypatch.setattr(pyvirtualcam, "Camera", no_device)
    monkeypatch.setattr("sys.platform", "linux")
    camera = VirtualCamera(160, 120)
    with pytest.raises(LiveEditError, match="No virtual camera is available.*v4l2loopback") as err:
        camera.start()
    assert "No v4l2 loopback device" in err.value.details
    assert not camera.running
    camera.send(np.zeros((120, 160, 3), np.uint8))  # ignored, no error


def test_frames_are_scaled_to_the_camera_size(monkeypatch):
    monkeypatch.setattr(pyvirtualcam, "Camera", FakeCamera)
    camera = VirtualCamera(320, 240)
    camera.start()
    camera.send(np.zeros((120, 160, 3), np.uint8))
    camera.send(np.zeros((240, 320, 3), np.uint8))
    fake = camera._camera
    assert camera.name == "/dev/video9"
    assert fake.sent == [(240, 320, 3), (240, 320, 3)]
    camera.stop()
    assert fake.closed and not camera.running

"""Sources: the test pattern, files, stills and cameras; a source that cannot open falls back to the
pattern with a message; a camera unplugged mid-stream comes back by itself."""

import threading

import av
import cv2
import numpy as np
import pytest
from conftest import FakeCamera

from liveedit_app.contract import Frame
from liveedit_app.errors import CameraError, VideoFileError
from liveedit_app.media.sources import (
    CameraSource,
    SourcePump,
    StillImageSource,
    TestPatternSource,
    VideoFileSource,
    open_source,
    paced,
)


def write_clip(path, frames=12, fps=100, size=(32, 32)):
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            rgb = np.full((size[1], size[0], 3), i * 20, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def take(source, n):
    stop = threading.Event()
    frames = []
    for f in source.frames(stop):
        frames.append(f)
        if len(frames) == n:
            stop.set()
    return frames


def test_pattern_moves_and_is_textured():
    pattern = TestPatternSource(width=160, height=90)
    first, later = take(pattern, 2)[0].rgb, pattern.render(15)
    assert first.shape == (90, 160, 3) and first.dtype == np.uint8
    assert np.abs(first.astype(int) - later).mean() > 5  # things move
    assert cv2.Laplacian(cv2.cvtColor(first, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() > 50
    assert pattern.ball_mask(15).sum() > 0.02 * 160 * 90


class FakeTime(threading.Event):
    """A stop event whose waits advance a fake clock instead of sleeping."""

    def __init__(self):
        super().__init__()
        self.now, self.waits = 0.0, []

    def clock(self):
        return self.now

    def wait(self, timeout=None):
        self.waits.append(round(timeout, 6))
        self.now += timeout
        return self.is_set()


def test_paced_waits_until_each_pts_and_reanchors_after_a_stall():
    time = FakeTime()
    frames = [Frame(np.zeros((1, 1, 3), np.uint8), pts=i * 0.1, index=i) for i in range(6)]
    out = []
    for f in paced(frames, time, time.clock):
        out.append(f.index)
        if f.index == 2:
            time.now += 2.0  # decoding stalled for two seconds
    assert out == [0, 1, 2, 3, 4, 5]
    # 0.1 s between frames; after the stall no rush to catch up, then 0.1 s again
    assert time.waits == [0.1, 0.1, 0.1, 0.1]


def test_video_file_loops_with_increasing_pts(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4")
    source = VideoFileSource(clip, loop=True)
    frames = take(source, 30)
    source.close()
    assert [f.index for f in frames] == list(range(30))
    pts = [f.pts for f in frames]
    assert all(b > a for a, b in zip(pts, pts[1:], strict=False))
    assert pts[12] == pytest.approx(0.12, abs=0.011)  # second pass starts after the first


def test_video_file_without_loop_ends(tmp_path):
    source = VideoFileSource(write_clip(tmp_path / "clip.mp4"), loop=False)
    assert len(list(source.frames(threading.Event()))) == 12


def test_bad_files_are_refused_with_a_sentence(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoFileError, match="empty"):
        open_source(str(empty))
    with pytest.raises(VideoFileError, match="does not exist"):
        open_source(str(tmp_path / "gone.png"))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")
    with pytest.raises(VideoFileError, match="not a picture"):
        open_source(str(junk))


def test_still_image_repeats_its_picture(tmp_path):
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 200
    cv2.imwrite(str(tmp_path / "still.png"), rgb[..., ::-1])
    source = open_source(str(tmp_path / "still.png"))
    assert isinstance(source, StillImageSource)
    frames = take(source, 3)
    assert [f.index for f in frames] == [0, 1, 2]
    assert (frames[2].rgb[..., 0] == 200).all() and (frames[2].rgb[..., 2] == 0).all()


def test_missing_or_busy_camera_is_refused_with_a_sentence():
    with pytest.raises(CameraError, match="not connected"):
        CameraSource("usb-1", backend=FakeCamera(present=False))
    with pytest.raises(CameraError, match="in use"):
        CameraSource("usb-1", backend=FakeCamera(busy=True))


def test_unplugged_camera_reports_and_resumes_when_back(qtbot):
    camera = FakeCamera()
    source = CameraSource("usb-1", backend=camera, retry_s=0.02)
    frames, problems = [], []
    pump = SourcePump(source, frames.append, problems.append)
    pump.start()
    try:
        qtbot.waitUntil(lambda: len(frames) >= 3, timeout=3000)
        camera.present = False
        qtbot.waitUntil(lambda: len(problems) >= 1, timeout=3000)
        assert isinstance(problems[0], CameraError)
        assert problems[0].message == "Fake Cam was unplugged."
        stalled = len(frames)
        qtbot.wait(100)
        assert len(frames) == stalled  # no pictures while it is gone
        camera.present = True
        qtbot.waitUntil(lambda: len(frames) >= stalled + 3, timeout=3000)
        assert problems[-1] is None  # "it is back"
        assert camera.opens >= 2
        assert [f.index for f in frames] == list(range(len(frames)))
    finally:
        pump.stop()
    assert not pump.running


def test_a_camera_captures_near_720p_at_a_fluent_rate_unless_a_size_is_asked():
    from liveedit_app.media.camera import FormatInfo, pick_format

    webcam = [
        FormatInfo(1920, 1080, 5.0),  # full size, uncompressed: 5 fps over USB 2
        FormatInfo(640, 480, 30.0),
        FormatInfo(1920, 1080, 30.0, compressed=True),
        FormatInfo(1280, 720, 10.0),
        FormatInfo(1280, 720, 30.0, compressed=True),
        FormatInfo(1024, 576, 30.0),
    ]
    assert pick_format(webcam) == 4  # 1280x720 at 30 fps, MJPEG being the only way there
    assert pick_format(webcam + [FormatInfo(1280, 720, 30.0)]) == 6  # uncompressed at a tie
    assert pick_format(webcam, size=(1920, 1080)) == 2  # that size, at its best rate
    assert pick_format(webcam, size=(800, 600)) is None  # not offered: the camera's default
    slow = [FormatInfo(3840, 2160, 15.0), FormatInfo(1600, 900, 15.0)]
    assert pick_format(slow) == 1  # nothing reaches 24 fps: still the size nearest 720p
    assert pick_format([]) is None
    assert pick_format([FormatInfo(0, 0, 30.0), *slow]) == 2  # a format without a size is passed
    assert pick_format([FormatInfo(0, 0, 30.0)]) is None

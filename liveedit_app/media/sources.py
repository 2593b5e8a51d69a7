"""Where pictures come from: a test pattern, a still image, a video file or a camera.

Every source is a `FrameSource`: `frames(stop)` yields `contract.Frame`s in real time (a file is
paced by its pts, the pattern and a still by their frame rate, a camera by the device) until `stop`
is set or the stream ends. `open_source(spec)` turns what a creator picked ("pattern",
"camera:<id>", a path) into a source; `SourcePump` runs one on a thread, frames to a callback.

A camera that is unplugged or taken by another app mid-stream does not end the stream: the camera
source reports the problem, waits, reopens the device when it is back, and goes on.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from liveedit_app.contract import Frame
from liveedit_app.errors import CameraError, LiveEditError, SourceError, VideoFileError
from liveedit_app.media.camera import CameraBackend, CameraStream, default_backend

PATTERN = "pattern"
CAMERA_PREFIX = "camera:"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
# A source falling further behind its clock than this re-anchors instead of rushing to catch up.
_MAX_LAG_S = 0.5

ProblemCallback = Callable[[LiveEditError | None], None]


class FrameSource:
    """A stream of pictures. `label` is what the source picker and status bar show."""

    label: str = "source"
    fps: float = 30.0

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release files and devices; safe to call more than once."""

    # Set by whoever runs the source: called with an error while the stream is interrupted
    # (a camera that went away) and with None once pictures flow again.
    on_problem: ProblemCallback = staticmethod(lambda err: None)


def paced(
    frames: Iterable[Frame],
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Frame]:
    """Yield each frame when the wall clock reaches its pts (relative to the first frame)."""
    anchor: float | None = None
    for frame in frames:
        if stop.is_set():
            return
        now = clock()
        if anchor is None:
            anchor = now - frame.pts
        wait = anchor + frame.pts - now
        if wait > 0:
            if stop.wait(wait):
                return
        elif wait < -_MAX_LAG_S:
            anchor -= wait  # decoding fell behind: continue from here at normal speed
        yield frame


class TestPatternSource(FrameSource):
    """A moving, textured scene drawn in numpy, so the app runs without a camera or a file.

    A panning landscape with two textured objects: a striped ball that travels a looping path and a
    patterned card that sways. `ball_mask(index)` is the ball's exact silhouette, which makes the
    pattern a clip with a known true mask for the mask tracker's tests and benchmark.
    """

    __test__ = False  # not a pytest class, despite the name
    label = "Test pattern"

    def __init__(self, width: int = 640, height: int = 360, fps: float = 30.0, seed: int = 7):
        self.width, self.height, self.fps = width, height, fps
        rng = np.random.default_rng(seed)
        self._background = _landscape(width * 2, height, rng)  # [H, 2W, 3], panned horizontally
        self._ball_r = max(8, round(min(width, height) * 0.14))
        self._ball = _striped_ball(self._ball_r, rng)  # [2r, 2r, 4] RGBA
        card_h = max(8, round(height * 0.3))
        self._card = _patterned_card(round(card_h * 0.75), card_h, rng)  # [h, w, 4] RGBA
        self._yy, self._xx = np.mgrid[0:height, 0:width]

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        index = 0

        def endless() -> Iterator[Frame]:
            nonlocal index
            while True:
                yield Frame(rgb=self.render(index), pts=index / self.fps, index=index)
                index += 1

        yield from paced(endless(), stop)

    def render(self, index: int) -> np.ndarray:
        t = index / self.fps
        w, h = self.width, self.height
        pan = int(abs((t * 12) % (2 * w) - w))  # back and forth: the landscape does not tile
        rgb = self._background[:, pan : pan + w].copy()  # [H, W, 3]
        cx, cy = self._card_position(t)
        _blend(rgb, self._card, cx, cy)
        bx, by = self.ball_center(index)
        r = self._ball_r
        _blend(rgb, self._ball, round(bx) - r, round(by) - r)
        cv2.putText(
            rgb,
            f"LiveEdit test pattern  {t:7.2f}s",
            (12, h - 14),
            cv2.FONT_HERSHEY_SIMPLEX,
            max(0.35, h / 900),
            (245, 245, 240),
            1,
            cv2.LINE_AA,
        )
        return rgb

    def ball_center(self, index: int) -> tuple[float, float]:
        t = index / self.fps
        w, h, r = self.width, self.height, self._ball_r
        x = w / 2 + (w / 2 - r - 4) * np.sin(t * 0.9)
        y = h / 2 + (h / 2 - r - 4) * 0.8 * np.sin(t * 1.3 + 0.6)
        return float(x), float(y)

    def ball_mask(self, index: int) -> np.ndarray:
        """[H, W] bool: where the ball is in frame `index` (its alpha above one half)."""
        mask = np.zeros((self.height, self.width), bool)
        r = self._ball_r
        bx, by = self.ball_center(index)
        _paste(mask, self._ball[..., 3] > 127, round(bx) - r, round(by) - r)
        return mask

    def _card_position(self, t: float) -> tuple[int, int]:
        ch, cw = self._card.shape[:2]
        x = self.width * 0.62 + self.width * 0.12 * np.sin(t * 0.5) - cw / 2
        y = self.height * 0.35 + self.height * 0.08 * np.cos(t * 0.7) - ch / 2
        return round(x), round(y)


class StillImageSource(FrameSource):
    """One picture, repeated at `fps` so the editor sees a steady stream."""

    def __init__(self, path: str | Path, fps: float = 30.0):
        self.path = Path(path)
        self.fps = fps
        self.label = self.path.name
        self.rgb = read_image(self.path)

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        def endless() -> Iterator[Frame]:
            index = 0
            while True:
                yield Frame(rgb=self.rgb, pts=index / self.fps, index=index)
                index += 1

        yield from paced(endless(), stop)


class VideoFileSource(FrameSource):
    """A video file played in real time by its pts, from the start again at the end if `loop`.

    The file is opened (and its first picture decoded) on construction, so a bad file is refused
    before the stream starts.
    """

    def __init__(self, path: str | Path, loop: bool = True):
        from liveedit_app.media import video_io

        self._video_io = video_io
        self.path = Path(path)
        self.loop = loop
        self.label = self.path.name
        self._reader = video_io.VideoReader(self.path)
        self.info = self._reader.info
        self.fps = self.info.fps

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        yield from paced(self._looped(), stop)

    def _looped(self) -> Iterator[Frame]:
        offset, index = 0.0, 0
        reader = self._reader
        while True:
            last_pts = 0.0
            for frame in reader.frames():
                last_pts = frame.pts
                yield Frame(rgb=frame.rgb, pts=offset + frame.pts, index=index)
                index += 1
            reader.close()
            if not self.loop:
                return
            offset += max(last_pts + 1.0 / self.fps, self.info.duration_s)
            reader = self._reader = self._video_io.VideoReader(self.path)

    def close(self) -> None:
        self._reader.close()


class CameraSource(FrameSource):
    """A camera by its stable id. Problems mid-stream are reported through `on_problem` and the
    device is reopened every `retry_s` seconds until it answers again."""

    def __init__(
        self,
        camera_id: str,
        backend: CameraBackend | None = None,
        size: tuple[int, int] | None = None,
        retry_s: float = 1.0,
        frame_timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.camera_id = camera_id
        self.backend = backend or default_backend()
        self.size = size
        self.retry_s = retry_s
        self.frame_timeout_s = frame_timeout_s
        self.clock = clock
        self.label = self.backend.describe(camera_id)
        self._stream: CameraStream | None = self.backend.open(camera_id, size)

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        start = self.clock()
        index = 0
        interrupted = False
        while not stop.is_set():
            if self._stream is None:
                try:
                    self._stream = self.backend.open(self.camera_id, self.size)
                except CameraError as err:
                    self.on_problem(err)
                    stop.wait(self.retry_s)
                    continue
            try:
                rgb = self._stream.read(self.frame_timeout_s)
            except CameraError as err:
                self._stream.close()
                self._stream = None
                interrupted = True
                self.on_problem(err)
                stop.wait(self.retry_s)
                continue
            if interrupted:
                interrupted = False
                self.on_problem(None)
            yield Frame(rgb=rgb, pts=self.clock() - start, index=index)
            index += 1

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def open_source(
    spec: str, *, loop: bool = True, backend: CameraBackend | None = None
) -> FrameSource:
    """The source a creator picked: "pattern", "camera:<id>", or the path of a video or image."""
    if spec == PATTERN:
        return TestPatternSource()
    if spec.startswith(CAMERA_PREFIX):
        return CameraSource(spec[len(CAMERA_PREFIX) :], backend=backend)
    path = Path(spec).expanduser()
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return StillImageSource(path)
    return VideoFileSource(path, loop=loop)


def read_image(path: Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB from an image file, or a `VideoFileError` saying why not."""
    if not path.is_file():
        raise VideoFileError(f"{path.name} does not exist.", details=str(path))
    # imdecode from bytes: cv2.imread cannot open non-ASCII paths on Windows
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise VideoFileError(
            f"{path.name} is not a picture LiveEdit can read.",
            details=f"{path}: OpenCV could not decode {data.size} bytes",
        )
    return np.ascontiguousarray(bgr[..., ::-1])


class SourcePump:
    """Runs a source on a thread: every frame goes to `on_frame`; an error that ends the stream goes
    to `on_problem` (so do the camera's interruptions); `on_end` runs when the thread finishes.

    `pause()` holds the stream where it is: a file or the pattern goes on from the same picture on
    `resume()` (the pacing re-anchors), a camera's pictures meanwhile are dropped by the device.
    """

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[Frame], None],
        on_problem: ProblemCallback,
        on_end: Callable[[], None] = lambda: None,
    ):
        self.source = source
        self._on_frame = on_frame
        self._on_problem = on_problem
        self._on_end = on_end
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"source:{source.label}", daemon=True
        )
        source.on_problem = on_problem

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            for frame in self.source.frames(self._stop):
                while self._paused.is_set() and not self._stop.wait(0.05):
                    pass
                if self._stop.is_set():
                    return
                self._on_frame(frame)
        except LiveEditError as err:
            self._on_problem(err)
        except Exception as err:  # a source must never take the app down
            self._on_problem(
                SourceError(
                    f"{self.source.label} stopped unexpectedly.",
                    details=f"{err!r}\n{traceback.format_exc()}",
                )
            )
        finally:
            self.source.close()
            self._on_end()


def _landscape(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """[H, W, 3] uint8: sky gradient, two rows of noisy hills, grass texture."""
    yy = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xx = np.linspace(0.0, 2 * np.pi, width, endpoint=False, dtype=np.float32)[None, :]
    sky = np.stack([110 + 90 * yy, 150 + 70 * yy, 220 + 20 * yy], -1) * np.ones((1, width, 1))
    img = sky.astype(np.float32)
    for base, amp, color in ((0.55, 0.08, (70, 110, 90)), (0.72, 0.06, (60, 130, 60))):
        ridge = base + amp * (
            np.sin(xx * 3) * 0.6 + np.sin(xx * 7 + 1.0) * 0.3 + np.sin(xx * 13) * 0.1
        )
        below = yy > ridge  # [H, W]
        img[below] = color
    noise = _smooth_noise(height, width, rng, scale=6)  # [H, W] in [-1, 1]
    detail = _smooth_noise(height, width, rng, scale=2)
    ground = (yy > 0.5).astype(np.float32)
    img += (noise * 25 + detail * 18)[..., None] * ground[..., None]
    img += (noise * 8)[..., None] * (1 - ground[..., None])
    return np.clip(img, 0, 255).astype(np.uint8)


def _smooth_noise(height: int, width: int, rng: np.random.Generator, scale: int) -> np.ndarray:
    """[H, W] float32 in about [-1, 1]: noise blurred to features of about `scale` pixels."""
    small = rng.standard_normal((max(2, height // scale), max(2, width // scale))).astype(
        np.float32
    )
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(big / 2.0, -1, 1)


def _striped_ball(r: int, rng: np.random.Generator) -> np.ndarray:
    """[2r, 2r, 4] uint8 RGBA: a shaded ball with broad bands and a mottled surface (like fabric
    seen from afar: texture in every direction, which is what optical flow needs)."""
    yy, xx = np.mgrid[-r:r, -r:r].astype(np.float32) + 0.5
    d = np.sqrt(xx**2 + yy**2) / r
    bands = np.clip(np.sin((xx + 0.5 * yy) * (5.0 / r)) * 3, -1, 1) * 0.5 + 0.5
    mottle = _smooth_noise(2 * r, 2 * r, rng, scale=3)
    light = np.sqrt((xx + r * 0.4) ** 2 + (yy + r * 0.4) ** 2) / r
    shade = np.clip(1.15 - 0.55 * light, 0.4, 1.0) * (0.85 + 0.15 * mottle)
    base = (
        np.array([215, 60, 45], np.float32) * (1 - bands[..., None])
        + np.array([245, 200, 70], np.float32) * bands[..., None]
    )
    rgb = base * shade[..., None]
    alpha = np.clip((1.0 - d) * r, 0, 1) * 255  # one-pixel anti-aliased edge
    return np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)


def _patterned_card(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """[h, w, 4] uint8 RGBA: a checkered card with a noisy tint and a dark frame."""
    yy, xx = np.mgrid[0:h, 0:w]
    cell = max(4, w // 6)
    checks = ((xx // cell + yy // cell) % 2).astype(np.float32)
    rgb = np.stack([60 + 150 * checks, 80 + 60 * checks, 160 - 60 * checks], -1)
    rgb += rng.normal(0, 12, size=rgb.shape)
    border = max(2, w // 20)
    edge = (xx < border) | (yy < border) | (xx >= w - border) | (yy >= h - border)
    rgb[edge] = (30, 30, 40)
    alpha = np.full((h, w), 255.0)
    return np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)


def _clip_box(shape: tuple[int, int], sprite: tuple[int, int], x: int, y: int):
    h, w = shape
    sh, sw = sprite
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + sw, w), min(y + sh, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))


def _blend(rgb: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend an RGBA sprite onto `rgb` in place with its top-left corner at (x, y)."""
    box = _clip_box(rgb.shape[:2], sprite.shape[:2], x, y)
    if box is None:
        return
    dst, src = box
    part = sprite[src].astype(np.float32)
    alpha = part[..., 3:] / 255.0
    rgb[dst] = (part[..., :3] * alpha + rgb[dst].astype(np.float32) * (1 - alpha)).astype(np.uint8)


def _paste(canvas: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    box = _clip_box(canvas.shape, sprite.shape, x, y)
    if box is not None:
        dst, src = box
        canvas[dst] = sprite[src]

"""Offline export: a clip re-rendered with an editor, prompt and (tracked) mask into a new file.

One code path for the export dialog and `liveedit edit`. The editor is anything implementing
`contract.EditorProtocol`; it may hand frames back in chunks, so outputs are encoded as they come
and `flush()` collects the rest. Timestamps are the source's. The source's sound is re-encoded for
the preset's container and trimmed to the picture, so both end together. The file is written under
a hidden temporary name and renamed at the very end: a cancelled or failed export leaves nothing.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from liveedit_app.contract import EditedFrame, EditorProtocol, EditSettings, Frame
from liveedit_app.errors import Cancelled, InputError, LiveEditError
from liveedit_app.media.tracking import MaskTracker
from liveedit_app.media.video_io import VideoInfo, VideoReader


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    label: str
    codec: str
    pix_fmt: str
    options: dict[str, str]
    suffixes: tuple[str, ...]  # containers it may go into; the first is the default
    audio_codec: dict[str, str]  # container suffix -> audio codec

    @property
    def available(self) -> bool:
        return self.codec in av.codecs_available


_AAC = {".mp4": "aac", ".mov": "aac", ".mkv": "aac"}
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "h264", "H.264 (MP4, plays everywhere)", "libx264", "yuv420p",
            {"crf": "18", "preset": "medium"}, (".mp4", ".mov", ".mkv"), _AAC,
        ),
        Preset(
            "hevc", "HEVC / H.265 (MP4, smaller files)", "libx265", "yuv420p",
            {"crf": "22", "preset": "medium", "x265-params": "log-level=error"},
            (".mp4", ".mov", ".mkv"), _AAC,
        ),
        Preset(
            "prores", "ProRes 422 HQ (MOV, for editing software)", "prores_ks", "yuv422p10le",
            {"profile": "3"}, (".mov", ".mkv"), {".mov": "pcm_s16le", ".mkv": "pcm_s16le"},
        ),
        Preset(
            "ffv1", "FFV1 lossless (MKV, archival)", "ffv1", "yuv444p",
            {"level": "3", "slicecrc": "1"}, (".mkv",), {".mkv": "pcm_s16le"},
        ),
    )
}


def available_presets() -> list[Preset]:
    return [p for p in PRESETS.values() if p.available]


@dataclass(slots=True)
class ExportRequest:
    input: Path
    output: Path
    prompt: str
    mask: np.ndarray | None = None  # [H, W] float32 in [0, 1] for the first frame; None: global
    track_mask: bool = True  # carry the mask along with the subject (DIS optical flow)
    settings: EditSettings = field(default_factory=EditSettings)
    preset: str = "h264"
    keep_audio: bool = True
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class ExportProgress:
    frames_done: int
    frames_total: int  # the file's estimate; done may pass it by a frame or two
    elapsed_s: float
    eta_s: float | None  # None until a frame was done

    @property
    def fraction(self) -> float:
        return min(1.0, self.frames_done / max(1, self.frames_total))

    @property
    def fps(self) -> float:
        return self.frames_done / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    frames: int
    duration_s: float
    audio_duration_s: float | None
    elapsed_s: float


def format_clock(seconds: float) -> str:
    """1:05 or 1:02:05, for ETAs and durations."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def load_mask_png(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask image as [H, W] float32 in [0, 1] (white = edit): its alpha channel when it has a
    real one, else its brightness; resized to `size` (width, height) if given."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"The mask {path} is a folder, not an image.")
    if not path.is_file():  # before OpenCV, which would print its own warning
        raise InputError(f"The mask {path} does not exist.")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(f"The mask {path.name} could not be read as an image.", details=str(path))
    if image.ndim == 3 and image.shape[2] == 4 and image[..., 3].min() < 255:
        plane = image[..., 3]
    elif image.ndim == 3:
        plane = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    else:
        plane = image
    scale = 65535.0 if plane.dtype == np.uint16 else 255.0
    mask = plane.astype(np.float32) / scale
    if size is not None and (mask.shape[1], mask.shape[0]) != size:
        # another resolution of the same picture is fine; another shape would be stretched
        if abs(mask.shape[1] / mask.shape[0] - size[0] / size[1]) > 0.02 * size[0] / size[1]:
            raise InputError(
                f"The mask {path.name} is {mask.shape[1]}x{mask.shape[0]} but the video is "
                f"{size[0]}x{size[1]}: draw the mask on a frame of this video."
            )
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0)


def check_request(request: ExportRequest) -> Preset:
    """The request's preset, after checking what can be checked before any work starts."""
    preset = PRESETS.get(request.preset)
    if preset is None:
        raise InputError(
            f"Unknown export preset {request.preset!r}: choose one of {', '.join(PRESETS)}."
        )
    if not preset.available:
        raise InputError(
            f"{preset.label} is not available in this build (no {preset.codec} encoder).",
            details=f"av.codecs_available lacks {preset.codec}",
        )
    suffix = request.output.suffix.lower()
    if suffix not in preset.suffixes:
        raise InputError(
            f"{preset.label} cannot be written as {suffix or 'a file without extension'}: "
            f"use {' or '.join(preset.suffixes)}.",
        )
    if request.output.resolve() == request.input.resolve():
        raise InputError("The export must not overwrite its own input: choose another name.")
    if request.output.exists() and not request.overwrite:
        raise InputError(f"{request.output} already exists: choose another name, or replace it "
                         "(-y with liveedit edit).")
    if not request.output.parent.is_dir():
        raise InputError(f"The folder {request.output.parent} does not exist.")
    return preset


def export_clip(
    request: ExportRequest,
    editor: EditorProtocol,
    *,
    progress: Callable[[ExportProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> ExportResult:
    """Render `request.input` through `editor` into `request.output`. Raises `Cancelled` when
    `cancel` is set (nothing is left behind), `VideoFileError` for an unusable input, and
    `LiveEditError` when the disk fills up (nothing is left behind either)."""
    preset = check_request(request)
    started = time.monotonic()
    target = request.output  # the container format follows the suffix, so it stays last
    tmp = target.with_name(f".{target.stem}.exporting-{os.getpid()}{target.suffix}")
    with VideoReader(request.input) as reader:
        info = reader.info
        try:
            with _OutputFile(tmp, preset, info.fps) as out:
                audio = None
                if request.keep_audio and reader.audio_stream is not None:
                    audio = _AudioPassThrough(request.input, out.container, preset, tmp.suffix)
                frames = _edited_frames(request, editor, reader.frames(), info, cancel)
                for done, edited in enumerate(frames, start=1):
                    out.write(edited.rgb, edited.pts)
                    if audio is not None:
                        audio.write_until(edited.pts)
                    if progress is not None:
                        progress(_progress(done, info.frame_count, started))
                if out.frames == 0:
                    raise LiveEditError(f"The editor returned no frames for {info.path.name}.")
                duration = out.end_s
                audio_duration = audio.finish(duration) if audio is not None else None
            os.replace(tmp, request.output)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            if err.errno == errno.ENOSPC:
                raise LiveEditError(f"The disk is full: {request.output.name} was not written.",
                                    details=repr(err)) from err
            raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return ExportResult(
        path=request.output,
        frames=out.frames,
        duration_s=duration,
        audio_duration_s=audio_duration,
        elapsed_s=time.monotonic() - started,
    )


def _progress(done: int, total: int, started: float) -> ExportProgress:
    elapsed = time.monotonic() - started
    total = max(total, done)
    eta = elapsed / done * (total - done) if done else None
    return ExportProgress(frames_done=done, frames_total=total, elapsed_s=elapsed, eta_s=eta)


def _edited_frames(
    request: ExportRequest,
    editor: EditorProtocol,
    frames: Iterator[Frame],
    info: VideoInfo,
    cancel: threading.Event | None,
) -> Iterator[EditedFrame]:
    """Every source frame through the editor, the mask carried along; outputs as they come."""
    editor.reset()
    editor.configure(request.settings)
    editor.set_prompt(request.prompt)
    mask = request.mask
    if mask is not None and mask.shape != (info.height, info.width):
        mask = cv2.resize(mask.astype(np.float32), (info.width, info.height))
    editor.set_mask(mask)
    tracker = MaskTracker() if (mask is not None and request.track_mask) else None
    for frame in frames:
        if cancel is not None and cancel.is_set():
            raise Cancelled("Export cancelled: no file was written.")
        if tracker is not None:
            if frame.index == 0:
                tracker.update(frame.rgb)
                tracker.set_mask(mask)
            else:
                editor.set_mask(tracker.update(frame.rgb))
        yield from editor.push(frame)
    yield from editor.flush()


class _OutputFile:
    """The export's video stream in its container, timestamps from the frames (kept increasing)."""

    def __init__(self, path: Path, preset: Preset, fps: float) -> None:
        self.path = path
        self.preset = preset
        self.fps = fps
        fmt = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}[path.suffix.lower()]
        options = {"movflags": "faststart"} if fmt in ("mp4", "mov") else {}
        self.container = av.open(str(path), mode="w", format=fmt, options=options)
        self.time_base = Fraction(1, 1000) if fmt == "matroska" else Fraction(1, 90_000)
        self.video = None
        self.frames = 0
        self._first_pts: float | None = None
        self._last_tick = -1
        self._last_t = 0.0
        self._step = 1.0 / fps

    def __enter__(self) -> _OutputFile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and self.video is not None:
                for packet in self.video.encode(None):
                    self.container.mux(packet)
        finally:
            self.container.close()

    @property
    def end_s(self) -> float:
        """Where the picture ends: the last frame's time plus one frame."""
        return self._last_t + self._step if self.frames else 0.0

    def write(self, rgb: np.ndarray, pts: float) -> None:
        if self.video is None:
            self._open_stream(rgb.shape[1], rgb.shape[0])
        if self._first_pts is None:
            self._first_pts = pts
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if (frame.width, frame.height) != (self.video.width, self.video.height):
            frame = frame.reformat(width=self.video.width, height=self.video.height)
        tick = max(round((pts - self._first_pts) / self.time_base), self._last_tick + 1)
        if self.frames:
            self._step = max(float(self.time_base), tick * float(self.time_base) - self._last_t)
        self._last_tick = tick
        self._last_t = tick * float(self.time_base)
        frame.pts, frame.time_base = tick, self.time_base
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def _open_stream(self, width: int, height: int) -> None:
        preset = self.preset
        rate = Fraction(self.fps).limit_denominator(1001)
        self.video = self.container.add_stream(preset.codec, rate=rate, options=preset.options)
        even = preset.pix_fmt.startswith(("yuv420", "yuv422"))
        self.video.width = width - width % 2 if even else width
        self.video.height = height - height % 2 if even else height
        self.video.pix_fmt = preset.pix_fmt
        self.video.time_base = self.time_base
        self.video.codec_context.time_base = self.time_base
        if preset.codec == "libx265" and self.path.suffix.lower() in (".mp4", ".mov"):
            self.video.codec_tag = "hvc1"  # what Apple players need to recognise HEVC


class _AudioPassThrough:
    """The input's first sound track, decoded and re-encoded alongside the picture.

    Sample times are taken relative to the video stream's start, so sound and picture keep the
    relation they had in the source; sound before the picture or after its end is cut off.
    """

    def __init__(
        self, source: Path, container: av.container.OutputContainer, preset: Preset, suffix: str
    ) -> None:
        self._input = av.open(str(source))
        in_audio = self._input.streams.audio[0]
        video = self._input.streams.video[0]
        self._video_start = float(video.start_time * video.time_base) if video.start_time else 0.0
        self.rate = in_audio.codec_context.sample_rate
        self.layout = "mono" if in_audio.codec_context.channels == 1 else "stereo"
        self.channels = 1 if self.layout == "mono" else 2
        codec = preset.audio_codec[suffix.lower()]
        self.stream = container.add_stream(codec, rate=self.rate, layout=self.layout)
        self._container = container
        self._to_s16 = av.AudioResampler(format="s16", layout=self.layout, rate=self.rate)
        self._decoded = self._samples()
        self._written = 0  # samples written, from picture time 0
        self._pending: np.ndarray | None = None  # [n, ch] int16 decoded but not yet written

    def write_until(self, t: float) -> None:
        target = round(t * self.rate)
        while self._written < target:
            if self._pending is None or len(self._pending) == 0:
                self._pending = next(self._decoded, None)
                if self._pending is None:
                    return
            take = min(len(self._pending), target - self._written)
            self._encode(self._pending[:take])
            self._pending = self._pending[take:]

    def finish(self, end_s: float) -> float:
        """Write sound up to `end_s` (silence where the source's ran out first); returns the
        sound's duration in seconds."""
        self.write_until(end_s)
        missing = round(end_s * self.rate) - self._written
        if missing > 0:
            self._encode(np.zeros((missing, self.channels), np.int16))
        frame_size = self.stream.codec_context.frame_size
        if frame_size:  # the encoder drops a partial last frame: pad it to a whole one
            tail = -self._written % frame_size
            if tail:
                self._encode(np.zeros((tail, self.channels), np.int16))
        for packet in self.stream.encode(None):
            self._container.mux(packet)
        self._input.close()
        return self._written / self.rate

    def _encode(self, pcm: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=self.layout)
        frame.sample_rate = self.rate
        frame.pts, frame.time_base = self._written, Fraction(1, self.rate)
        self._written += len(pcm)
        for packet in self.stream.encode(frame):
            self._container.mux(packet)

    def _samples(self) -> Iterator[np.ndarray]:
        """Decoded sound as [n, ch] int16 blocks, starting exactly at picture time 0."""
        position = None  # sample index (picture time) of the next sample to yield
        for frame in self._input.decode(audio=0):
            for out in self._to_s16.resample(frame):
                pcm = out.to_ndarray().reshape(-1, self.channels)
                if position is None:
                    start_s = (frame.time or 0.0) - self._video_start
                    position = round(start_s * self.rate)
                    if position > 0:  # the sound starts after the picture: lead in with silence
                        yield np.zeros((position, self.channels), np.int16)
                        position = 0
                if position < 0:
                    skip = min(len(pcm), -position)
                    pcm, position = pcm[skip:], position + skip
                position += len(pcm)
                if len(pcm):
                    yield pcm

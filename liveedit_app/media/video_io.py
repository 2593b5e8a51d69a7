"""Reading video files with PyAV: probe a file's metadata, iterate its frames as `contract.Frame`.

Shared by the app's file source and the exporter. Every way a file can be unusable (missing, empty,
truncated, corrupt, audio only, a codec we cannot decode) becomes a `VideoFileError` whose message a
creator understands; the FFmpeg text goes into `details`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from liveedit_app.contract import Frame
from liveedit_app.errors import VideoFileError

_FALLBACK_FPS = 30.0
_INCOMPLETE = (
    "{name} is incomplete or damaged: it was probably cut off while being written "
    "(an interrupted LiveEdit recording can be recovered from the Recording menu)."
)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a creator (and the exporter) needs to know about a video file before reading it.

    `width`/`height` are as displayed, i.e. after `rotation` is applied; `rotation` is the clockwise
    turn (0, 90, 180, 270) the stored pictures need to stand upright. `frame_count` is exact when
    the container says so and `duration_s * fps` otherwise.
    """

    path: Path
    width: int
    height: int
    fps: float
    duration_s: float
    frame_count: int
    has_audio: bool
    rotation: int
    video_codec: str
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None


def probe(path: str | Path) -> VideoInfo:
    """Open `path`, check that its first picture decodes, and describe it."""
    with VideoReader(path) as reader:
        return reader.info


def iter_frames(path: str | Path, *, max_frames: int | None = None) -> Iterator[Frame]:
    """Every picture of `path` in display order, upright, as RGB `Frame`s with pts in seconds."""
    with VideoReader(path) as reader:
        yield from reader.frames(max_frames=max_frames)


class VideoReader:
    """An open video file. Use as a context manager; `info` is ready after construction.

    `frames()` can be called once per reader; pts are seconds from the video stream's start, so the
    first frame of a normal file has pts 0.0 and gaps in a variable-frame-rate file are kept.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._container = _open_container(self.path)
        try:
            self._video = self._pick_video_stream()
            self._video.thread_type = "AUTO"
            self._first = self._decode_first_frame()
            self.info = self._describe()
        except BaseException:
            self._container.close()
            raise

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    @property
    def audio_stream(self) -> av.audio.stream.AudioStream | None:
        return self._container.streams.audio[0] if self._container.streams.audio else None

    def frames(self, *, max_frames: int | None = None) -> Iterator[Frame]:
        quarter_turns = (-self.info.rotation // 90) % 4  # np.rot90 turns counter-clockwise
        start = self._stream_start_s()
        index = 0
        for av_frame in self._decoded_frames():
            if max_frames is not None and index >= max_frames:
                return
            rgb = av_frame.to_ndarray(format="rgb24")  # [H, W, 3] uint8
            if quarter_turns:
                rgb = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))
            time_s = av_frame.time
            pts = index / self.info.fps if time_s is None else max(0.0, time_s - start)
            yield Frame(rgb=rgb, pts=pts, index=index)
            index += 1

    def _decoded_frames(self) -> Iterator[av.VideoFrame]:
        yield self._first
        count = 1
        try:
            for av_frame in self._decoder:
                count += 1
                yield av_frame
        except av.error.FFmpegError as err:
            raise VideoFileError(
                f"{self.path.name} is damaged after frame {count}: the rest cannot be read.",
                details=f"{self.path}: {err}",
            ) from err

    def _pick_video_stream(self) -> av.video.stream.VideoStream:
        streams = self._container.streams
        if streams.video:
            stream = streams.video[0]
            if stream.codec_context is None or stream.codec_context.name in ("", "none"):
                raise VideoFileError(
                    f"{self.path.name} uses a video format LiveEdit cannot decode.",
                    details=f"{self.path}: no decoder for its video stream",
                )
            return stream
        if streams.audio:
            raise VideoFileError(
                f"{self.path.name} holds only sound, no pictures: choose a video file.",
                details=f"{self.path}: {len(streams.audio)} audio stream(s), no video stream",
            )
        raise VideoFileError(
            _INCOMPLETE.format(name=self.path.name),
            details=f"{self.path}: the container opened but lists no streams",
        )

    def _decode_first_frame(self) -> av.VideoFrame:
        # the decoder stays open so frames() goes on from the second picture without a seek
        self._decoder = self._container.decode(self._video)
        try:
            for av_frame in self._decoder:
                return av_frame
        except av.error.FFmpegError as err:
            raise VideoFileError(
                f"{self.path.name} is damaged: its pictures cannot be decoded.",
                details=f"{self.path}: {err}",
            ) from err
        raise VideoFileError(
            f"{self.path.name} has a video track with no pictures in it (it is empty or cut off).",
            details=f"{self.path}: the video stream decoded to zero frames",
        )

    def _stream_start_s(self) -> float:
        stream = self._video
        if stream.start_time is not None and stream.time_base is not None:
            return float(stream.start_time * stream.time_base)
        return self._first.time or 0.0

    def _describe(self) -> VideoInfo:
        stream = self._video
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else _FALLBACK_FPS
        duration_s = self._duration_s(fps)
        frame_count = stream.frames if stream.frames > 0 else max(1, round(duration_s * fps))
        rotation = (-round(self._first.rotation or 0)) % 360
        height, width = self._first.height, self._first.width
        if rotation in (90, 270):
            width, height = height, width
        audio = self.audio_stream
        return VideoInfo(
            path=self.path,
            width=width,
            height=height,
            fps=fps,
            duration_s=duration_s,
            frame_count=int(frame_count),
            has_audio=audio is not None,
            rotation=rotation,
            video_codec=stream.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            audio_channels=audio.codec_context.channels if audio is not None else None,
        )

    def _duration_s(self, fps: float) -> float:
        stream = self._video
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if self._container.duration is not None:
            return float(Fraction(self._container.duration, av.time_base))
        if stream.frames > 0:
            return stream.frames / fps
        return 0.0


def _open_container(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VideoFileError(f"{path.name} does not exist.", details=str(path))
    if path.is_dir():
        raise VideoFileError(f"{path.name} is a folder, not a video file.", details=str(path))
    if path.stat().st_size == 0:
        raise VideoFileError(f"{path.name} is empty (0 bytes).", details=str(path))
    try:
        return av.open(str(path), mode="r")
    except PermissionError as err:
        raise VideoFileError(f"LiveEdit may not read {path.name}.", details=str(err)) from err
    except av.error.FFmpegError as err:
        if _starts_like_a_video(path):
            raise VideoFileError(
                _INCOMPLETE.format(name=path.name), details=f"{path}: {err}"
            ) from err
        raise VideoFileError(
            f"{path.name} is not a video LiveEdit can read: it is damaged or in an unknown format.",
            details=f"{path}: {err}",
        ) from err


def _starts_like_a_video(path: Path) -> bool:
    """An MP4/MOV or Matroska header: a file that begins right but fails to open was cut off."""
    with path.open("rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"

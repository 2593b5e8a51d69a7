"""The recorder: edited frames (and microphone sound) into a take that survives a crash.

Frames arrive from the inference worker with their source pts; a thread of our own encodes them
(H.264: a hardware encoder when one opens, libx264 otherwise) into a Matroska part file in which
every packet is its own cluster and is flushed to the OS at once, so a killed process leaves a file
that plays up to its last frame. The timestamps written are the frames' own (variable frame
rate stays honest); a pause cuts the gap out. On a clean stop the part file is remuxed into a
normal MP4 (kept as .mkv when the disk has no room for the copy); when the disk fills, the camera
goes away or a write fails, what was written is finalized and the result says why. The raw source
can be written as a second file for re-rendering.
"""

from __future__ import annotations

import enum
import errno
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from liveedit_app import paths
from liveedit_app.contract import EditedFrame
from liveedit_app.errors import RecordingError
from liveedit_app.media import recovery
from liveedit_app.media.audio import AacWriter, AudioAligner
from liveedit_app.media.disk import DiskGuard, describe_size, free_bytes

# Matroska counts in milliseconds; pts are kept at that precision.
TIME_BASE = Fraction(1, 1000)
# One block per cluster, every packet flushed to the OS at once: 148 of 150 frames survive kill -9
# (146 with a microphone track; benchmarks/recorder.json "crash").
# A fragmented MP4 survives as well, but with an AAC track its first frames come out mistimed
# (measured: frame 1 lost, the rest shifted by the AAC priming), so takes are written as MKV and
# remuxed to MP4 at the end (docs/recording.md).
_CRASH_SAFE_MKV = {
    "cluster_size_limit": "1",
    "flush_packets": "1",
    # a silent microphone track would otherwise hold video back in the muxer for up to 10 s
    "max_interleave_delta": "200000",
}
# Hardware H.264 encoders PyAV may have, with settings that emit each frame at once (no B-frames,
# no lookahead): a frame held inside the encoder is a frame lost in a crash.
_HARDWARE_H264 = {
    "h264_videotoolbox": {"realtime": "1", "bf": "0"},
    "h264_nvenc": {"tune": "ll", "zerolatency": "1", "bf": "0", "delay": "0"},
    "h264_qsv": {"async_depth": "1", "bf": "0", "look_ahead": "0"},
    "h264_amf": {"usage": "ultralowlatency", "bf": "0"},
}
_opens_cache: dict[tuple[str, int, int], bool] = {}


class StopReason(enum.Enum):
    USER = "stopped"
    DISK_FULL = "disk full"
    CAMERA_LOST = "camera lost"
    WRITE_ERROR = "write error"


class RecorderState(enum.Enum):
    IDLE = "idle"
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"


@dataclass(slots=True)
class RecorderConfig:
    folder: Path | None = None  # None: paths.recordings_dir()
    record_source: bool = False  # also write the unedited source as "<name> (source).mp4"
    audio: bool = False  # an AAC track for `submit_audio` chunks
    sample_rate: int = 48_000
    channels: int = 1
    audio_offset_s: float = 0.0  # manual sync: positive plays the sound later
    fps_hint: float = 30.0  # for the encoder's rate control; timestamps come from the frames
    crf: int = 20
    # ultrafast keeps 1080p30 above 1.5x real time on two cores (benchmarks/recorder.json)
    x264_preset: str = "ultrafast"
    prefer_hardware: bool = True
    # frames waiting for the encoder before new ones count as dropped: 3 s at 30 fps, fewer when
    # that many pictures would take more than `queue_bytes` of memory (1080p: 21 frames)
    queue_frames: int = 90
    queue_bytes: int = 256 * 1024 * 1024
    name_prefix: str = "LiveEdit"


@dataclass(frozen=True, slots=True)
class RecordingResult:
    path: Path | None  # the edited take; None when not a single frame was recorded
    source_path: Path | None
    frames: int
    duration_s: float
    dropped_frames: int
    reason: StopReason
    message: str  # "Saved to ...", with the reason first when the stop was not the user's
    encoder: str = ""


def pick_h264_encoder(width: int, height: int, prefer_hardware: bool = True) -> str:
    """The first hardware H.264 encoder that actually opens at this size, else libx264."""
    if prefer_hardware:
        for name in _HARDWARE_H264:
            if name in av.codecs_available and _encoder_opens(name, width, height):
                return name
    return "libx264"


def _encoder_opens(name: str, width: int, height: int) -> bool:
    key = (name, width, height)
    if key not in _opens_cache:
        try:
            ctx = av.CodecContext.create(name, "w")
            ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
            ctx.time_base = TIME_BASE
            ctx.framerate = Fraction(30)
            ctx.open()
            _opens_cache[key] = True
        except (av.error.FFmpegError, ValueError, OSError):
            _opens_cache[key] = False
    return _opens_cache[key]


def _open_raw(path: Path) -> BinaryIO:
    # unbuffered: every flushed packet is in the OS's hands before the next frame
    return open(path, "xb", buffering=0)


class _TakeWriter:
    """One crash-safe Matroska file: H.264 video and, optionally, AAC sound."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        config: RecorderConfig,
        with_audio: bool,
        open_file: Callable[[Path], BinaryIO],
    ) -> None:
        self.path = path
        self.width, self.height = width, height
        self._file = open_file(path)
        self.container = av.open(self._file, mode="w", format="matroska", options=_CRASH_SAFE_MKV)
        self.encoder = pick_h264_encoder(width, height, config.prefer_hardware)
        options = dict(_HARDWARE_H264.get(self.encoder, {}))
        if self.encoder == "libx264":
            options = {"preset": config.x264_preset, "tune": "zerolatency", "crf": str(config.crf)}
        self.video = self.container.add_stream(
            self.encoder, rate=round(config.fps_hint), options=options
        )
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.time_base = TIME_BASE
        self.video.codec_context.time_base = TIME_BASE
        self.video.codec_context.gop_size = max(1, round(2 * config.fps_hint))
        self.audio = (
            AacWriter(self.container, config.sample_rate, config.channels) if with_audio else None
        )
        self._last_pts = -1

    def write_video(self, rgb: np.ndarray, t: float) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if (frame.width, frame.height) != (self.width, self.height):
            frame = frame.reformat(width=self.width, height=self.height)
        pts = max(round(t / TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        frame.pts, frame.time_base = pts, TIME_BASE
        for packet in self.video.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoders and write the trailer; the file is closed even if that fails."""
        try:
            for packet in self.video.encode(None):
                self.container.mux(packet)
            if self.audio is not None:
                self.audio.flush()
        finally:
            try:
                self.container.close()
            finally:
                self._file.close()


class Recorder:
    """Record / pause / resume / stop a take on a thread of its own.

    `submit(frame)` and `submit_audio(pcm, capture_s)` return at once (a full queue counts the
    frame as dropped); `stop()` finalizes and returns the `RecordingResult`, which also goes to
    `on_finished` (called on the recorder thread) however the take ended. `camera_lost()` and a
    nearly full disk end the take from the inside. `open_file` and `free_space` are injectable so
    tests can make the disk fail.
    """

    def __init__(
        self,
        config: RecorderConfig | None = None,
        *,
        on_finished: Callable[[RecordingResult], None] | None = None,
        open_file: Callable[[Path], BinaryIO] = _open_raw,
        free_space: Callable[[Path], int] = free_bytes,
        disk_check_interval_s: float = 1.0,
    ) -> None:
        self.config = config or RecorderConfig()
        self.folder = Path(self.config.folder or paths.recordings_dir())
        self.on_finished = on_finished
        self._open_file = open_file
        self._guard = DiskGuard(
            self.folder, free_space=free_space, interval_s=disk_check_interval_s
        )
        self.state = RecorderState.IDLE
        self.result: RecordingResult | None = None
        self.frames_written = 0
        self.dropped_frames = 0
        self.video_time_s = 0.0
        self._queue: queue.Queue = queue.Queue()
        self._queued_frames = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._writers: list[_TakeWriter] = []
        self._aligner: AudioAligner | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def start(self, name: str | None = None) -> Path:
        """Check the disk, claim the take's file names and start the writer thread; returns the
        path the finished take will have."""
        if self.state is not RecorderState.IDLE:
            raise RecordingError("This recorder is already in use.", details=str(self.state))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._guard.check_can_start()
        stem = name or f"{self.config.name_prefix} {datetime.now():%Y-%m-%d %H-%M-%S}"
        self.final_path = recovery.unused_name(self.folder / f"{stem}.mp4")
        self._part = recovery.part_path(self.final_path)
        parts = [self._part]
        self._source_part = None
        if self.config.record_source:
            self._source_part = recovery.part_path(
                self.final_path.with_name(f"{self.final_path.stem} (source).mp4")
            )
            parts.append(self._source_part)
        self._manifest = self.final_path.with_name(self.final_path.stem + recovery.MANIFEST_SUFFIX)
        recovery.write_manifest(self._manifest, parts, started=time.time())
        if self.config.audio:
            self._aligner = AudioAligner(
                self.config.sample_rate, self.config.channels, offset_s=self.config.audio_offset_s
            )
        self.state = RecorderState.RECORDING
        self._thread = threading.Thread(target=self._run, name="liveedit-recorder", daemon=True)
        self._thread.start()
        return self.final_path

    def submit(self, frame: EditedFrame, arrival_s: float | None = None) -> bool:
        """Queue an edited frame; False when it was not taken (paused, stopped, or dropped)."""
        if self.state is not RecorderState.RECORDING:
            return False
        with self._lock:
            if self._queued_frames >= self._queue_limit(frame):
                self.dropped_frames += 1
                return False
            self._queued_frames += 1
        self._queue.put(("video", frame, time.monotonic() if arrival_s is None else arrival_s))
        return True

    def _queue_limit(self, frame: EditedFrame) -> int:
        per_frame = frame.rgb.nbytes + (frame.source.nbytes if self.config.record_source else 0)
        return max(2, min(self.config.queue_frames, self.config.queue_bytes // max(1, per_frame)))

    def submit_audio(self, pcm: np.ndarray, capture_s: float) -> None:
        """Queue microphone samples [n, channels] int16 whose first was taken at `capture_s`
        (time.monotonic clock)."""
        if self.state is RecorderState.RECORDING and self._aligner is not None:
            self._queue.put(("audio", pcm, capture_s))

    def pause(self) -> None:
        if self.state is RecorderState.RECORDING:
            self.state = RecorderState.PAUSED

    def resume(self) -> None:
        if self.state is RecorderState.PAUSED:
            self._queue.put(("resume",))
            self.state = RecorderState.RECORDING

    def camera_lost(self) -> None:
        """The source went away: finalize what was recorded (returns at once)."""
        self._request_stop(StopReason.CAMERA_LOST)

    def stop(self, timeout_s: float | None = None) -> RecordingResult | None:
        """Finalize and wait for the result (None if `timeout_s` ran out first)."""
        self._request_stop(StopReason.USER)
        if self._thread is not None:
            self._thread.join(timeout_s)
        return self.result

    @property
    def running(self) -> bool:
        return self.state in (RecorderState.RECORDING, RecorderState.PAUSED)

    def _request_stop(self, reason: StopReason) -> None:
        if self.running:
            self.state = RecorderState.STOPPING
            self._queue.put(("stop", reason))

    # -- the writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        reason, error = StopReason.USER, None
        self._origin_pts: float | None = None
        self._gap_s = 0.0
        self._resumed = False
        self._last_t = -1.0
        self._intervals: deque[float] = deque(maxlen=30)
        while True:
            try:
                item = self._queue.get(timeout=0.25)
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    if item[0] == "stop":
                        reason = item[1]
                        break
                    self._handle(item)
                if self._guard.running_out():
                    reason = StopReason.DISK_FULL
                    break
            except OSError as err:
                reason = (
                    StopReason.DISK_FULL if err.errno == errno.ENOSPC else StopReason.WRITE_ERROR
                )
                error = err
                break
            except Exception as err:  # an encoder failure must still finalize the take
                reason, error = StopReason.WRITE_ERROR, err
                break
        self.state = RecorderState.STOPPING
        self.result = self._finalize(reason, error)
        self.state = RecorderState.STOPPED
        if self.on_finished is not None:
            self.on_finished(self.result)

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "video":
            with self._lock:
                self._queued_frames -= 1
            self._write_frame(item[1], item[2])
        elif kind == "audio" and self._aligner is not None:
            self._aligner.push(item[1], item[2])
        elif kind == "resume":
            self._resumed = True

    def _frame_interval(self) -> float:
        return statistics.median(self._intervals) if self._intervals else 1 / self.config.fps_hint

    def _write_frame(self, frame: EditedFrame, arrival_s: float) -> None:
        if not self._writers:
            self._open_writers(frame)
        if self._origin_pts is None:
            self._origin_pts = frame.pts
        if self._resumed:  # continue one frame after the last one written: the pause is cut out
            self._resumed = False
            self._gap_s = frame.pts - self._origin_pts - (self._last_t + self._frame_interval())
            if self._aligner is not None:
                self._aligner.new_segment()
        t = frame.pts - self._origin_pts - self._gap_s
        if t <= self._last_t:  # a repeated or backwards pts: nudge it, never write it twice
            t = self._last_t + float(TIME_BASE)
        elif self._last_t >= 0:
            self._intervals.append(t - self._last_t)
        edited = self._writers[0]
        edited.write_video(frame.rgb, t)
        if self._source_part is not None:
            self._writers[1].write_video(frame.source, t)
        self._last_t = t
        self.video_time_s = t
        self.frames_written += 1
        if self._aligner is not None:
            self._aligner.on_video(t, arrival_s, frame.latency_s)
            edited.audio.write(self._aligner.pop_ready(t))

    def _open_writers(self, frame: EditedFrame) -> None:
        height, width = frame.rgb.shape[:2]
        width, height = width - width % 2, height - height % 2  # 4:2:0 needs even sizes
        self._writers.append(
            _TakeWriter(self._part, width, height, self.config, self.config.audio, self._open_file)
        )
        if self._source_part is not None:
            s_height, s_width = frame.source.shape[:2]
            self._writers.append(
                _TakeWriter(
                    self._source_part,
                    s_width - s_width % 2,
                    s_height - s_height % 2,
                    self.config,
                    False,
                    self._open_file,
                )
            )

    def _finalize(self, reason: StopReason, error: BaseException | None) -> RecordingResult:
        duration = self._last_t + self._frame_interval() if self.frames_written else 0.0
        close_errors = []
        for i, writer in enumerate(self._writers):
            try:
                if i == 0 and writer.audio is not None and self._aligner is not None:
                    writer.audio.write(
                        self._aligner.pop_ready(None)[: self._samples_until(duration)]
                    )
                writer.close()
            except Exception as err:  # a full disk fails the trailer too; the fragments remain
                close_errors.append(err)
                if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                    reason = StopReason.DISK_FULL
        final = self._publish(self._part, self.final_path, reason)
        source_final = None
        if self._source_part is not None:
            source_final = self._publish(
                self._source_part, recovery.final_path(self._source_part), reason
            )
        self._manifest.unlink(missing_ok=True)
        encoder = self._writers[0].encoder if self._writers else ""
        message = self._message(reason, final, error or (close_errors[0] if close_errors else None))
        return RecordingResult(
            path=final,
            source_path=source_final,
            frames=self.frames_written,
            duration_s=duration,
            dropped_frames=self.dropped_frames,
            reason=reason,
            message=message,
            encoder=encoder,
        )

    def _samples_until(self, duration_s: float) -> int:
        return max(0, round(duration_s * self.config.sample_rate) - self._aligner.next_sample)

    def _publish(self, part: Path, final: Path, reason: StopReason) -> Path | None:
        """Part file -> final MP4 when there is room for the copy; else the part is renamed to
        `<name>.mkv` (Matroska plays as it is)."""
        if not part.exists():
            return None
        if self.frames_written == 0:
            part.unlink()
            return None
        if final.exists():
            final = recovery.unused_name(final, mind_parts=False)
        size = part.stat().st_size
        if reason is not StopReason.DISK_FULL and self._guard.has_room_for(2 * size):
            try:
                recovery.remux(part, final)
                part.unlink()
                return final
            except RecordingError:
                pass
        return recovery.keep_as_mkv(part)

    def _message(self, reason: StopReason, final: Path | None, error: BaseException | None) -> str:
        if final is None:
            return "Nothing was recorded: no frame reached the recorder."
        saved = f"Saved to {final}."
        if reason is StopReason.USER:
            return saved
        if reason is StopReason.DISK_FULL:
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:
                return f"Recording stopped: the disk is full. {saved}"
            free = self._guard.last_free
            left = f" ({describe_size(free)} left)" if free is not None else ""
            return f"Recording stopped: the disk is almost full{left}. {saved}"
        if reason is StopReason.CAMERA_LOST:
            return (
                "Recording stopped: the camera went away. Everything recorded until then is "
                f"saved to {final}."
            )
        return f"Recording stopped: the file could not be written ({error}). {saved}"

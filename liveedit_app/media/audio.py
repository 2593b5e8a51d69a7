"""Microphone sound for recordings: capture (QtMultimedia), alignment to the edited picture, AAC.

The edited picture reaches the recorder one pipeline latency after the camera saw it, while the
microphone's samples arrive almost at once. `AudioAligner` places each sample at the video time of
the frame the camera took at the same instant: it measures, from the first frames of each recorded
segment, the wall-clock moment that video time 0 of the segment was captured (arrival minus the
editor's measured latency), and holds sound back until the picture for it has arrived. It is plain
numpy, driven by explicit timestamps, so tests feed it synthetic PCM. Only `MicrophoneCapture`
touches Qt (QAudioSource, no widgets).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np

# Re-read capture timestamps when the running sample count disagrees by more than this (a dropout
# or clock drift); smaller differences are jitter of the capture callback and are ignored.
_RESYNC_S = 0.05


class AudioAligner:
    """Turns timestamped microphone chunks into one gap-free stream of samples in video time.

    Call `on_video(video_t, arrival_s, latency_s)` for every written frame (video_t: seconds in the
    recording), `push(pcm, capture_s)` for every microphone chunk (capture_s: monotonic time of its
    first sample, the same clock as arrival_s), `new_segment()` on resume after a pause, and
    `pop_ready(until_t)` to take the samples whose time is below `until_t`. `offset_s` is the manual
    sync setting: positive plays the sound later.
    """

    def __init__(
        self, sample_rate: int, channels: int, *, offset_s: float = 0.0, anchor_frames: int = 8
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.offset_s = offset_s
        self.anchor_frames = anchor_frames
        self.next_sample = 0  # index of the next sample to hand out, in recording time
        self._pending: list[tuple[np.ndarray, float]] = []  # (pcm [n, ch], capture_s)
        self._placed: list[tuple[int, np.ndarray]] = []  # (start sample, pcm [n, ch])
        self._anchor_samples: list[float] = []
        self._capture_at_zero: float | None = None  # capture clock time of recording time 0
        self._segment_expected: int | None = None  # where the next chunk continues, if contiguous
        self.latencies: list[float] = []

    @property
    def measured_latency_s(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    def new_segment(self) -> None:
        """After a pause the picture resumes at a new video time: measure the anchor again."""
        self._anchor_samples = []
        self._capture_at_zero = None
        self._segment_expected = None

    def on_video(self, video_t: float, arrival_s: float, latency_s: float) -> None:
        self.latencies.append(latency_s)
        if len(self._anchor_samples) < self.anchor_frames:
            self._anchor_samples.append(arrival_s - latency_s - video_t)
            self._capture_at_zero = statistics.median(self._anchor_samples)
            if len(self._anchor_samples) == self.anchor_frames:
                self._place_pending()

    def push(self, pcm: np.ndarray, capture_s: float) -> None:
        pcm = np.asarray(pcm).reshape(-1, self.channels)
        self._pending.append((pcm, capture_s))
        if self._capture_at_zero is not None and len(self._anchor_samples) >= self.anchor_frames:
            self._place_pending()

    def pop_ready(self, until_t: float | None) -> np.ndarray:
        """Samples from `next_sample` up to (not including) time `until_t` (None: all that are
        placed), as [n, channels]; gaps are filled with silence, overlaps dropped."""
        if until_t is None:  # the end: place what waits, even on a partly measured anchor
            self._place_pending()
        limit = None if until_t is None else int(round(until_t * self.sample_rate))
        out: list[np.ndarray] = []
        keep: list[tuple[int, np.ndarray]] = []
        for start, pcm in self._placed:
            if start < self.next_sample:  # overlaps what was already handed out
                pcm = pcm[self.next_sample - start :]
                start = self.next_sample
            if len(pcm) == 0:
                continue
            if limit is not None and start >= limit:
                keep.append((start, pcm))
                continue
            if start > self.next_sample:
                out.append(np.zeros((start - self.next_sample, self.channels), pcm.dtype))
            take = len(pcm) if limit is None else min(len(pcm), limit - start)
            out.append(pcm[:take])
            self.next_sample = start + take
            if take < len(pcm):
                keep.append((start + take, pcm[take:]))
        self._placed = keep
        if not out:
            return np.zeros((0, self.channels), np.int16)
        return np.concatenate(out)

    def _place_pending(self) -> None:
        if self._capture_at_zero is None:
            return
        for pcm, capture_s in self._pending:
            start = int(
                round((capture_s - self._capture_at_zero + self.offset_s) * self.sample_rate)
            )
            expected = self._segment_expected
            if expected is not None and abs(start - expected) <= _RESYNC_S * self.sample_rate:
                start = expected
            self._segment_expected = start + len(pcm)
            self._placed.append((start, pcm))
        self._pending = []


class AacWriter:
    """An AAC stream in an open output container, fed gap-free int16 samples."""

    def __init__(
        self, container: av.container.OutputContainer, sample_rate: int, channels: int
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        layout = "mono" if channels == 1 else "stereo"
        self.stream = container.add_stream("aac", rate=sample_rate, layout=layout)
        self.stream.bit_rate = 128_000 * channels
        self._container = container
        self._written = 0

    @property
    def duration_s(self) -> float:
        return self._written / self.sample_rate

    def write(self, pcm: np.ndarray) -> None:
        if len(pcm) == 0:
            return
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm.reshape(1, -1)),  # packed s16: samples interleaved
            format="s16",
            layout=self.stream.layout.name,
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self._written
        frame.time_base = Fraction(1, self.sample_rate)
        self._written += len(pcm)
        for packet in self.stream.encode(frame):
            self._container.mux(packet)

    def flush(self) -> None:
        # the encoder drops a last partial frame: pad it with silence so no sound is cut off
        frame_size = self.stream.codec_context.frame_size or 1024
        tail = -self._written % frame_size
        if tail:
            self.write(np.zeros((tail, self.channels), np.int16))
        for packet in self.stream.encode(None):
            self._container.mux(packet)


class MicrophoneCapture:
    """The default (or a named) microphone through QAudioSource, delivering int16 chunks.

    `on_chunk(pcm [n, channels] int16, capture_s)` is called on the Qt thread that owns this
    object, with `capture_s` the monotonic time of the chunk's first sample. Needs a running Qt
    event loop. `start()` raises `RecordingError` when there is no microphone.
    """

    def __init__(
        self,
        on_chunk: Callable[[np.ndarray, float], None],
        *,
        sample_rate: int = 48_000,
        channels: int = 1,
        device_name: str | None = None,
    ) -> None:
        self.on_chunk = on_chunk
        self.sample_rate = sample_rate
        self.channels = channels
        self.device_name = device_name
        self._source = None
        self._io = None

    @staticmethod
    def available_devices() -> list[str]:
        from PySide6.QtMultimedia import QMediaDevices

        return [d.description() for d in QMediaDevices.audioInputs()]

    def start(self) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices

        from liveedit_app.errors import RecordingError

        devices = QMediaDevices.audioInputs()
        device = next((d for d in devices if d.description() == self.device_name), None)
        device = device or QMediaDevices.defaultAudioInput()
        if device.isNull():
            raise RecordingError(
                "No microphone found: recording without sound.",
                details=f"QMediaDevices.audioInputs() = {[d.description() for d in devices]}",
            )
        fmt = QAudioFormat()
        fmt.setSampleRate(self.sample_rate)
        fmt.setChannelCount(self.channels)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._source = QAudioSource(device, fmt)
        self._io = self._source.start()
        if self._io is None:
            raise RecordingError(
                f"The microphone {device.description()} could not be opened.",
                details=f"QAudioSource error {self._source.error()}",
            )
        self._io.readyRead.connect(self._read)

    def stop(self) -> None:
        if self._source is not None:
            self._source.stop()
        self._source = None
        self._io = None

    def _read(self) -> None:
        data = bytes(self._io.readAll())
        now = time.monotonic()
        pcm = np.frombuffer(data, np.int16)
        pcm = pcm[: len(pcm) - len(pcm) % self.channels].reshape(-1, self.channels)
        if len(pcm):
            # the chunk ended about now; its first sample was taken len/rate earlier
            self.on_chunk(pcm, now - len(pcm) / self.sample_rate)

"""Tiny synthetic clips (160x120, a few seconds) for the media tests (imported by name: the test
folder has no __init__.py, so pytest puts it on sys.path)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from liveedit_app.contract import EditedFrame, EditorStats

W, H, FPS, RATE = 160, 120, 30, 48_000


def gradient(i: int) -> np.ndarray:
    """[H, W, 3] uint8: a gradient moving with `i`, mid-grey on average (never a flash)."""
    y, x = np.mgrid[0:H, 0:W]
    planes = [(x * 2 + i * 3) % 256, (y * 2) % 256, np.full_like(x, 60)]
    return np.stack(planes, -1).astype(np.uint8)


def write_clip(
    path: Path,
    seconds: float = 2.0,
    *,
    audio: bool = True,
    flash_at: float | None = None,
    click_at: float | None = None,
    rotation: int | None = None,
) -> Path:
    """An H.264 (+ AAC) MP4. A flash is a white frame; a click is one loud sample."""
    n = round(seconds * FPS)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=RATE, layout="mono") if audio else None
        for i in range(n):
            rgb = gradient(i)
            if flash_at is not None and i == round(flash_at * FPS):
                rgb = np.full_like(rgb, 255)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            pcm = (np.sin(np.arange(round(seconds * RATE)) * 0.05) * 3000).astype(np.int16)
            if click_at is not None:
                pcm[round(click_at * RATE)] = 30000
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
            for packet in sound.encode(frame):
                out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, round(seconds * RATE)), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = RATE, 0
        for packet in sound.encode(frame):
            out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    return path


def decoded_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [f.time for f in container.decode(video=0)]


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return sum(f.samples for f in container.decode(audio=0)) / container.streams.audio[0].rate


class ChunkEditor:
    """A test double: inverts the picture where the mask is set, hands frames back 4 at a time."""

    def __init__(self, chunk: int = 4):
        self.chunk = chunk
        self.stats = EditorStats()
        self.mask = None
        self.masks_seen = []
        self.prompt = None
        self.settings = None
        self._held = []

    def set_prompt(self, prompt):
        self.prompt = prompt

    def set_mask(self, mask):
        self.mask = mask
        self.masks_seen.append(None if mask is None else float(mask.mean()))

    def configure(self, settings):
        self.settings = settings

    def reset(self):
        self._held = []

    def push(self, frame):
        weight = 1.0 if self.mask is None else self.mask[..., None]
        rgb = (frame.rgb * (1 - weight) + (255 - frame.rgb) * weight).astype(np.uint8)
        self._held.append(EditedFrame(rgb, frame.rgb, frame.pts, frame.index))
        if len(self._held) < self.chunk:
            return []
        out, self._held = self._held, []
        return out

    def flush(self):
        out, self._held = self._held, []
        return out

"""Run one editor over one clip the way a stream would, and time it.

Frames are pushed as fast as the editor takes them (no real-time pacing), so every time here is
compute time. A push that returns frames completed a chunk: its duration is that chunk's latency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from liveedit_app.bench.cases import BenchCase
from liveedit_app.contract import EditedFrame, EditorProtocol, Frame
from liveedit_app.errors import BenchmarkError


@dataclass
class ClipRun:
    frames: np.ndarray  # [T, H, W, 3] uint8, the edited clip in source order
    wall_s: float  # from the first push to the last output
    first_frame_s: float  # from the first push to the first edited frame
    chunk_latencies_s: list[float] = field(default_factory=list)
    recompute_share: float = 1.0

    @property
    def fps(self) -> float:
        return len(self.frames) / self.wall_s if self.wall_s > 0 else 0.0


def stream_clip(
    editor: EditorProtocol, case: BenchCase, *, each_frame_alone: bool = False
) -> ClipRun:
    """Edit `case` as one stream from a fresh editor state. With `each_frame_alone` the editor
    is reset and flushed around every frame, so no frame sees another (no temporal context)."""
    editor.reset()
    editor.set_prompt(case.instruction)
    outputs: list[EditedFrame] = []
    latencies: list[float] = []
    shares: list[float] = []
    first_frame_s = None
    start = time.perf_counter()
    mask_set = None
    for index, rgb in enumerate(case.source):
        mask = None if case.mask is None else case.mask[index]
        if each_frame_alone and index:
            editor.reset()
        if index == 0 or each_frame_alone or not _same(mask, mask_set):
            editor.set_mask(mask)
            mask_set = mask
        frame = Frame(rgb=rgb, pts=index / case.fps, index=index)
        push_start = time.perf_counter()
        done = editor.push(frame)
        if each_frame_alone:
            done = done + editor.flush()
        if done:
            latencies.append(time.perf_counter() - push_start)
            shares.append(editor.stats.recompute_share)
            if first_frame_s is None:
                first_frame_s = time.perf_counter() - start
        outputs.extend(done)
    flush_start = time.perf_counter()
    tail = editor.flush()
    if tail:
        latencies.append(time.perf_counter() - flush_start)
        shares.append(editor.stats.recompute_share)
        outputs.extend(tail)
    wall_s = time.perf_counter() - start
    return ClipRun(
        frames=_in_source_order(outputs, case),
        wall_s=wall_s,
        first_frame_s=wall_s if first_frame_s is None else first_frame_s,
        chunk_latencies_s=latencies,
        recompute_share=float(np.mean(shares)) if shares else 1.0,
    )


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return np.array_equal(a, b)


def _in_source_order(outputs: list[EditedFrame], case: BenchCase) -> np.ndarray:
    by_index = {out.index: out.rgb for out in outputs}
    missing = [i for i in range(len(case.source)) if i not in by_index]
    if missing:
        raise BenchmarkError(
            f"The editor returned {len(by_index)} of {len(case.source)} frames of {case.name}.",
            details=f"missing frame indices: {missing[:20]}",
        )
    frames = np.stack([by_index[i] for i in range(len(case.source))])
    if frames.shape != case.source.shape:
        raise BenchmarkError(
            f"The editor returned frames of another size than {case.name}'s source.",
            details=f"source {case.source.shape}, edited {frames.shape}",
        )
    return frames

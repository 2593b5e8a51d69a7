"""`bench speed`: how fast an editor streams, how long a creator waits, how much memory it takes.

Each configuration is loaded fresh, streams a short warm-up clip (its first-frame time is the cold
start a creator sees after choosing a model), is reset, then streams the measured clip a few times
(medians, so a burst of other work on a shared machine moves the numbers less).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveedit_app.bench.cases import BenchCase
from liveedit_app.bench.progress import Progress
from liveedit_app.bench.runner import stream_clip
from liveedit_app.contract import EditorProtocol

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class SpeedTarget:
    model: str
    device: str
    mode: str  # e.g. "mask cache on"
    load: Callable[[], EditorProtocol]


def reset_peak_memory(device: str) -> None:
    """Start a new peak: the GPU allocator's counter, or the process's resident-set high-water
    mark (Linux lets a process reset it by writing 5 to clear_refs)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return
    try:
        _PROC_CLEAR_REFS.write_text("5")
    except OSError:
        pass  # not Linux: the peak then counts from process start (ru_maxrss)


def peak_memory_mb(device: str) -> float:
    """Peak memory since `reset_peak_memory`: torch.cuda.max_memory_allocated on a GPU, the peak
    resident set (VmHWM) of this process on the CPU."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(target: SpeedTarget, clip: BenchCase, warmup: BenchCase, repeats: int = 3) -> dict:
    """Load, warm up, then stream `clip` `repeats` times (reset between): rates and first-frame
    times are medians over the passes, latency percentiles run over every chunk of every pass."""
    reset_peak_memory(target.device)
    start = time.perf_counter()
    editor = target.load()
    load_s = time.perf_counter() - start
    cold = stream_clip(editor, warmup)
    runs = [stream_clip(editor, clip) for _ in range(repeats)]
    latencies_ms = np.concatenate([r.chunk_latencies_s for r in runs]) * 1000.0
    return {
        "model": target.model,
        "device": target.device,
        "mode": target.mode,
        "frames": len(clip.source),
        "height": int(clip.source.shape[1]),
        "width": int(clip.source.shape[2]),
        "chunks": len(runs[0].chunk_latencies_s),
        "repeats": repeats,
        "fps": float(np.median([r.fps for r in runs])),
        "fps_each": [r.fps for r in runs],
        "chunk_latency_p50_ms": float(np.percentile(latencies_ms, 50)),
        "chunk_latency_p95_ms": float(np.percentile(latencies_ms, 95)),
        "first_frame_ms": float(np.median([r.first_frame_s for r in runs])) * 1000.0,
        "first_frame_cold_ms": cold.first_frame_s * 1000.0,
        "load_s": load_s,
        "peak_memory_mb": peak_memory_mb(target.device),
        "memory_kind": "cuda max_memory_allocated"
        if target.device.startswith("cuda")
        else "process peak RSS",
        "recompute_share": float(np.mean([r.recompute_share for r in runs])),
    }


def run_speed(
    targets: list[SpeedTarget],
    clip: BenchCase,
    *,
    warmup_frames: int = 8,
    repeats: int = 3,
    settings: dict | None = None,
    progress: Progress | None = None,
) -> dict:
    """One row per target, in order, as a JSON-ready dict."""
    progress = progress or Progress(len(targets), "bench speed")
    warmup = BenchCase(
        name=f"{clip.name}-warmup",
        instruction=clip.instruction,
        source=clip.source[:warmup_frames],
        mask=None if clip.mask is None else clip.mask[:warmup_frames],
        target=None,
        edit_key=clip.edit_key,
        fps=clip.fps,
    )
    rows = []
    for target in targets:
        row = measure(target, clip, warmup, repeats)
        rows.append(row)
        progress.step(
            f"{target.model} · {target.device} · {target.mode}: {row['fps']:.2f} frames/s, "
            f"chunk p50 {row['chunk_latency_p50_ms']:.0f} ms"
        )
    return {
        "kind": "speed",
        "settings": settings or {},
        "clip": {"name": clip.name, "instruction": clip.instruction, "frames": len(clip.source)},
        "rows": rows,
    }

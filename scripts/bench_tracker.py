"""How well and how fast the mask tracker follows a moving textured object.

The last row turns the colour refinement off (flow alone) to show what it is for.

The clip is the app's test pattern at 512x512: a striped ball travels a looping path over a panning
landscape, and the pattern knows the ball's true silhouette in every frame. The tracker gets the
true mask of frame 0 (as a creator would paint it) and nothing else; after each frame the tracked
mask (thresholded at 0.5) is compared with the truth.

    python scripts/bench_tracker.py [--frames 150] [--size 512] [--out benchmarks/tracker-cpu.json]

Goals (issue 2): IoU after 150 frames >= 0.8, tracker >= 60 FPS at 512x512 on the dev CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from liveedit_app.media.sources import TestPatternSource
from liveedit_app.media.tracking import MaskTracker

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def run(frames: int, size: int, preset: str, color_gain: float = 1.5) -> dict:
    cv2.setNumThreads(2)
    pattern = TestPatternSource(width=size, height=size)
    clip = [pattern.render(i) for i in range(frames + 1)]  # rendered first: time only the tracker
    truth = [pattern.ball_mask(i) for i in range(frames + 1)]
    tracker = MaskTracker(preset=PRESETS[preset], color_gain=color_gain)
    tracker.update(clip[0])
    tracker.set_mask(truth[0].astype(np.float32))
    ious, times_ms = [], []
    for i in range(1, frames + 1):
        start = time.perf_counter()
        mask = tracker.update(clip[i])
        times_ms.append((time.perf_counter() - start) * 1000)
        ious.append(iou(mask > 0.5, truth[i]))
    median_ms = statistics.median(times_ms)
    return {
        "preset": preset,
        "color_gain": color_gain,
        "size": [size, size],
        "frames": frames,
        "iou_final": round(ious[-1], 4),
        "iou_min": round(min(ious), 4),
        "iou_mean": round(statistics.fmean(ious), 4),
        "ms_per_frame_median": round(median_ms, 3),
        "ms_per_frame_p90": round(sorted(times_ms)[int(0.9 * len(times_ms))], 3),
        "fps_median": round(1000 / median_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/tracker-cpu.json"))
    args = parser.parse_args()
    results = [run(args.frames, args.size, preset) for preset in PRESETS]
    results.append(run(args.frames, args.size, "fast", color_gain=0.0))  # flow alone, for contrast
    for r in results:
        print(f"{r['preset']:>9} colour gain {r['color_gain']}: IoU after {r['frames']} frames "
              f"{r['iou_final']:.3f} (min {r['iou_min']:.3f}), "
              f"{r['ms_per_frame_median']:.2f} ms/frame median = {r['fps_median']:.0f} FPS")
    report = {
        "what": "MaskTracker on the test pattern's moving ball, true mask given at frame 0",
        "command": f"python scripts/bench_tracker.py --frames {args.frames} --size {args.size}",
        "machine": f"{platform.machine()}, cv2 {cv2.__version__}, 2 threads",
        "default_preset": "fast",
        "goals": {"iou_final": 0.8, "fps": 60},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""How well and how fast the mask tracker follows a moving textured object.

A second clip is QA's 320x240 clip (issue 2's ghost): a still backdrop (a smooth colour gradient)
and a flat yellow ball (radius 30) crossing it once in 72 frames, then standing still; there a
loose stroke used to leave a ghost where the ball started. On the same clip a stroke painted on the
backdrop across the ball's path checks that the ball does not drag the stroke along.

The "loose" rows give a stroke 6 px wider than the ball all round (as a creator paints it); the
last row turns the colour refinement off (flow alone) to show what it is for.

The clip is the app's test pattern at 512x512: a striped ball travels a looping path over a panning
landscape, and the pattern knows the ball's true silhouette in every frame. The tracker gets the
true mask of frame 0 (as a creator would paint it) and nothing else; after each frame the tracked
mask (thresholded at 0.5) is compared with the truth: IoU, and the ghost area (selected pixels
more than 10 px from the true ball, as a share of the frame).

    python scripts/bench_tracker.py [--frames 150] [--size 512] [--out benchmarks/tracker-cpu.json]

Goals: IoU after 150 frames >= 0.8, tracker >= 60 FPS at 512x512 on the dev CPU (issue 2), ghost
area after 150 frames < 2% of the frame.
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


GHOST_PX = 10
LOOSE_PX = 6


def ghost_area(mask: np.ndarray, truth: np.ndarray) -> int:
    """Selected pixels farther than GHOST_PX from the true silhouette."""
    distance = cv2.distanceTransform((~truth).astype(np.uint8), cv2.DIST_L2, 5)
    return int((mask & (distance > GHOST_PX)).sum())


def loose(mask: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * LOOSE_PX + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


class StillBackdrop:
    """QA's clip: a flat ball crossing a still gradient once, left to right, in 72 frames."""

    width, height, r, crossing = 320, 240, 30, 72

    def __init__(self):
        yy, xx = np.mgrid[0 : self.height, 0 : self.width]
        self._yx = yy, xx
        w, h = self.width, self.height
        self._backdrop = np.dstack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 120)])

    def ball_mask(self, i: int) -> np.ndarray:
        yy, xx = self._yx
        cx = 40 + (self.width - 80) * min(i, self.crossing) // self.crossing
        return (xx - cx) ** 2 + (yy - self.height // 2) ** 2 < self.r**2

    def render(self, i: int) -> np.ndarray:
        rgb = self._backdrop.astype(np.uint8)
        rgb[self.ball_mask(i)] = (230, 230, 60)
        return rgb


def run(
    frames: int, size: int, preset: str, color_gain: float = 1.5, stroke: str = "exact",
    clip_name: str = "test pattern",
) -> dict:
    cv2.setNumThreads(2)
    if clip_name == "test pattern":
        pattern = TestPatternSource(width=size, height=size)
    else:
        pattern = StillBackdrop()
    clip = [pattern.render(i) for i in range(frames + 1)]  # rendered first: time only the tracker
    truth = [pattern.ball_mask(i) for i in range(frames + 1)]
    tracker = MaskTracker(preset=PRESETS[preset], color_gain=color_gain)
    tracker.update(clip[0])
    painted = truth[0] if stroke == "exact" else loose(truth[0])
    tracker.set_mask(painted.astype(np.float32))
    ious, ghosts, times_ms = [], [], []
    for i in range(1, frames + 1):
        start = time.perf_counter()
        mask = tracker.update(clip[i])
        times_ms.append((time.perf_counter() - start) * 1000)
        ious.append(iou(mask > 0.5, truth[i]))
        ghosts.append(ghost_area(mask > 0.5, truth[i]))
    median_ms = statistics.median(times_ms)
    return {
        "clip": clip_name,
        "preset": preset,
        "color_gain": color_gain,
        "stroke": stroke,
        "size": [pattern.height, pattern.width],
        "frames": frames,
        "iou_final": round(ious[-1], 4),
        "iou_min": round(min(ious), 4),
        "iou_mean": round(statistics.fmean(ious), 4),
        "ghost_px_final": ghosts[-1],
        "ghost_frac_final": round(ghosts[-1] / truth[0].size, 5),
        "ghost_frac_max": round(max(ghosts) / truth[0].size, 5),
        "ms_per_frame_median": round(median_ms, 3),
        "ms_per_frame_p90": round(sorted(times_ms)[int(0.9 * len(times_ms))], 3),
        "fps_median": round(1000 / median_ms, 1),
    }


def still_stroke(frames: int) -> dict:
    """A vertical stroke on the still backdrop in the middle of the ball's path: how much of it is
    where it was painted, and how much is selected elsewhere, after the ball has passed."""
    clip = StillBackdrop()
    stroke = np.zeros((clip.height, clip.width), np.float32)
    cv2.line(stroke, (150, 100), (150, 140), 1.0, 12)
    tracker = MaskTracker()
    tracker.update(clip.render(0))
    tracker.set_mask(stroke)
    painted = stroke > 0.5
    elsewhere = []
    for i in range(1, frames + 1):
        mask = tracker.update(clip.render(i)) > 0.5
        elsewhere.append(int((mask & ~painted).sum()))
    return {
        "clip": "still backdrop, stroke across the ball's path",
        "stroke_px": int(painted.sum()),
        "kept_in_place_final": round(float((mask & painted).sum() / painted.sum()), 4),
        "selected_elsewhere_px_final": elsewhere[-1],
        "selected_elsewhere_px_max": max(elsewhere),
        "area_ratio_final": round(float(mask.sum() / painted.sum()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/tracker-cpu.json"))
    args = parser.parse_args()
    results = [run(args.frames, args.size, preset) for preset in PRESETS]
    results += [run(args.frames, args.size, preset, stroke="loose") for preset in PRESETS]
    results.append(run(args.frames, args.size, "fast", color_gain=0.0))  # flow alone, for contrast
    results += [run(args.frames, args.size, "fast", stroke=stroke, clip_name="still backdrop")
                for stroke in ("exact", "loose")]
    stroke = still_stroke(args.frames)
    for r in results:
        print(f"{r['clip']}, {r['preset']:>9} {r['stroke']} colour gain {r['color_gain']}: "
              f"IoU after {r['frames']} frames {r['iou_final']:.3f} (min {r['iou_min']:.3f}), "
              f"ghost {100 * r['ghost_frac_final']:.2f}% of the frame, "
              f"{r['ms_per_frame_median']:.2f} ms/frame median = {r['fps_median']:.0f} FPS")
    print(f"still stroke: {100 * stroke['kept_in_place_final']:.0f}% kept in place, "
          f"{stroke['selected_elsewhere_px_final']} px selected elsewhere "
          f"(at most {stroke['selected_elsewhere_px_max']}), "
          f"area x{stroke['area_ratio_final']:.2f}")
    report = {
        "what": "MaskTracker on the test pattern's moving ball, true mask given at frame 0",
        "command": f"python scripts/bench_tracker.py --frames {args.frames} --size {args.size}",
        "machine": f"{platform.machine()}, cv2 {cv2.__version__}, 2 threads",
        "default_preset": "fast",
        "goals": {"iou_final": 0.8, "fps": 60, "ghost_frac_final": 0.02},
        "results": results,
        "still_stroke": stroke,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

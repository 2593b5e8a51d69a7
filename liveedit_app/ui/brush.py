"""Brush arithmetic on a mask: numpy only, so it is tested without a window.

A stroke segment is painted in one go as a capsule: each pixel's distance to the segment decides
its coverage, so a fast drag leaves a continuous line however far apart the mouse events are.
"""

from __future__ import annotations

import numpy as np


def coverage(distance: np.ndarray, radius: float, hardness: float) -> np.ndarray:
    """How much a pixel at `distance` from the brush centre is painted, in [0, 1].

    Full inside `hardness * radius`, then a smooth fall to zero at `radius`; a fall shorter than a
    pixel becomes a one-pixel anti-aliased edge centred on `radius`.
    """
    inner, outer = radius * min(max(hardness, 0.0), 1.0), radius
    if outer - inner < 1.0:
        inner, outer = radius - 0.5, radius + 0.5
    t = np.clip((outer - distance) / (outer - inner), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)  # smoothstep


def paint_segment(
    mask: np.ndarray,
    start: tuple[float, float],
    end: tuple[float, float],
    size: float,
    hardness: float,
    erase: bool = False,
) -> None:
    """Paint (or erase) a brush of diameter `size` from `start` to `end` (x, y in mask pixels) into
    `mask` ([H, W] float32 in [0, 1]) in place."""
    radius = max(size / 2.0, 0.5)
    h, w = mask.shape
    (x0, y0), (x1, y1) = start, end
    left = max(int(np.floor(min(x0, x1) - radius)), 0)
    right = min(int(np.ceil(max(x0, x1) + radius)) + 1, w)
    top = max(int(np.floor(min(y0, y1) - radius)), 0)
    bottom = min(int(np.ceil(max(y0, y1) + radius)) + 1, h)
    if left >= right or top >= bottom:
        return
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
    # pixel centres sit at +0.5; distance from each to the nearest point of the segment
    px, py = xs + 0.5 - x0, ys + 0.5 - y0
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
    distance = np.hypot(px - t * dx, py - t * dy)
    alpha = coverage(distance, radius, hardness)
    box = mask[top:bottom, left:right]
    if erase:
        np.minimum(box, 1.0 - alpha, out=box)
    else:
        np.maximum(box, alpha, out=box)

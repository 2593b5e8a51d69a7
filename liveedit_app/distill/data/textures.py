"""Procedural textures (noise, stripes, checks, cells) for backgrounds and object skins."""

from __future__ import annotations

import cv2
import numpy as np


def _fbm(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    """Fractal value noise in [0, 1], [h, w]."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    cells = int(rng.integers(2, 5))
    for _ in range(octaves):
        grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.55
        cells *= 2
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def _palette(rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    """Map a [h, w] field in [0, 1] through a random 3-colour ramp -> [h, w, 3]."""
    stops = rng.random((3, 3), dtype=np.float32)
    v = value[..., None]
    low = stops[0] * (1 - 2 * v) + stops[1] * 2 * v
    high = stops[1] * (2 - 2 * v) + stops[2] * (2 * v - 1)
    return np.clip(np.where(v < 0.5, low, high), 0, 1)


def texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random procedural texture, float32 [h, w, 3] in [0, 1]."""
    kind = int(rng.integers(4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    warp = (_fbm(rng, h, w, 3) - 0.5) * float(rng.uniform(5, 30))
    if kind == 0:
        field = _fbm(rng, h, w)
    elif kind == 1:
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(8, 40)
        phase = (xx * np.cos(angle) + yy * np.sin(angle) + warp) / period
        field = 0.5 + 0.5 * np.sin(2 * np.pi * phase)
    elif kind == 2:
        period = rng.uniform(10, 48)
        field = ((np.floor((xx + warp) / period) + np.floor((yy - warp) / period)) % 2)
        field = cv2.GaussianBlur(field.astype(np.float32), (0, 0), 1.0)
    else:
        n = int(rng.integers(12, 40))
        pts = rng.random((n, 2)) * (w, h)
        dist = np.min(
            (xx[..., None] - pts[:, 0]) ** 2 + (yy[..., None] - pts[:, 1]) ** 2, axis=-1
        )
        field = np.sqrt(dist)
        field = field / max(float(field.max()), 1e-6)
    field = 0.7 * field.astype(np.float32) + 0.3 * _fbm(rng, h, w)
    return _palette(rng, np.clip(field, 0, 1)).astype(np.float32)

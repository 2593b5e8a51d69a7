"""The edits: global styles that repaint the whole frame, and region edits that act inside the
subject's mask. Each maps a `Scene` to its target clip, float32 [F, H, W, 3] in [0, 1].

Styles read the noise-free frames (the target carries no sensor noise); region edits keep the
*source* pixels outside the mask, so "outside the mask equals the source" holds for the targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from liveedit_app.distill.data.scene import Scene

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _lum(frames: np.ndarray) -> np.ndarray:
    return frames @ _LUMA  # [F, H, W]


def _vignette(h: int, w: int, strength: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2) * 2
    return (1 - strength * r2)[..., None]  # [H, W, 1]


def _per_frame(frames: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([fn(f) for f in frames]).astype(np.float32)


# ---- global styles ------------------------------------------------------------------------------

def pencil_sketch(s: Scene) -> np.ndarray:
    def one(frame: np.ndarray) -> np.ndarray:
        gray = frame @ _LUMA
        blur = cv2.GaussianBlur(1 - gray, (0, 0), 3.0)
        sketch = np.clip(gray / np.maximum(1 - blur, 1e-3), 0, 1) ** 2.2
        return sketch[..., None] * np.array([0.96, 0.95, 0.91], np.float32)
    return _per_frame(s.clean, one)


def cartoon(s: Scene) -> np.ndarray:
    def one(frame: np.ndarray) -> np.ndarray:
        u8 = (frame * 255).astype(np.uint8)
        smooth = cv2.bilateralFilter(u8, 7, 60, 7).astype(np.float32) / 255
        flat = (np.floor(smooth * 5) + 0.5) / 5
        gray = cv2.GaussianBlur(cv2.cvtColor(u8, cv2.COLOR_RGB2GRAY), (0, 0), 1.2)
        edges = cv2.dilate(cv2.Canny(gray, 40, 100), np.ones((2, 2), np.uint8))
        return flat * (1 - 0.9 * (edges[..., None] > 0))
    return np.clip(_per_frame(s.clean, one), 0, 1)


def noir(s: Scene) -> np.ndarray:
    f, h, w = s.clean.shape[:3]
    g = np.clip((_lum(s.clean) - 0.5) * 1.7 + 0.45, 0, 1)
    g = g * g * (3 - 2 * g)
    return np.clip(g[..., None] * _vignette(h, w, 0.8), 0, 1).repeat(3, -1)


def vintage_film(s: Scene) -> np.ndarray:
    f, h, w = s.clean.shape[:3]
    sepia = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
                     np.float32)
    out = s.clean @ sepia.T
    out = 0.09 + 0.8 * out * _vignette(h, w, 0.6)
    return np.clip(out * np.array([1.0, 0.95, 0.82], np.float32), 0, 1)


def night(s: Scene) -> np.ndarray:
    mixed = 0.3 * s.clean + 0.7 * _lum(s.clean)[..., None]
    return np.clip((mixed ** 1.6) * np.array([0.35, 0.5, 0.95], np.float32), 0, 1)


def golden_hour(s: Scene) -> np.ndarray:
    f, h, w = s.clean.shape[:3]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sun = np.exp(-(((xx / w - 0.85) ** 2 + (yy / h - 0.1) ** 2) / 0.25))[..., None]
    warm = s.clean ** 0.85 * np.array([1.18, 0.92, 0.62], np.float32)
    return np.clip(warm + 0.35 * sun * np.array([1.0, 0.6, 0.2], np.float32), 0, 1)


def thermal(s: Scene) -> np.ndarray:
    def one(frame: np.ndarray) -> np.ndarray:
        heat = cv2.GaussianBlur(frame @ _LUMA, (0, 0), 2.0)
        u8 = (np.clip(heat, 0, 1) * 255).astype(np.uint8)
        return cv2.cvtColor(cv2.applyColorMap(u8, cv2.COLORMAP_INFERNO),
                            cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    return _per_frame(s.clean, one)


_POP = np.array([[0.12, 0.05, 0.45], [0.95, 0.1, 0.55], [1.0, 0.85, 0.1], [0.25, 0.9, 0.95]],
                np.float32)


def pop_art(s: Scene) -> np.ndarray:
    g = _lum(np.stack([cv2.GaussianBlur(f, (0, 0), 1.0) for f in s.clean]))
    band = np.clip((g * 4).astype(np.int64), 0, 3)
    return _POP[band]


# ---- region edits -------------------------------------------------------------------------------

NAMED_COLORS = {
    "red": (0.9, 0.1, 0.1),
    "blue": (0.1, 0.25, 0.95),
    "green": (0.1, 0.8, 0.2),
    "yellow": (0.95, 0.85, 0.1),
    "purple": (0.55, 0.15, 0.8),
    "orange": (1.0, 0.5, 0.05),
}


def _in_mask(s: Scene, edited: np.ndarray) -> np.ndarray:
    m = s.mask[..., None]
    return np.clip(s.source * (1 - m) + edited * m, 0, 1).astype(np.float32)


def recolor(color: str) -> Callable[[Scene], np.ndarray]:
    rgb = np.array(NAMED_COLORS[color], np.float32)

    def apply(s: Scene) -> np.ndarray:
        return _in_mask(s, np.clip(rgb * (0.3 + 1.3 * _lum(s.clean)[..., None]), 0, 1))
    apply.__name__ = f"recolor_{color}"
    return apply


def blur(s: Scene) -> np.ndarray:
    side = s.clean.shape[2]
    return _in_mask(s, _per_frame(s.clean, lambda f: cv2.GaussianBlur(f, (0, 0), side / 50)))


def pixelate(s: Scene) -> np.ndarray:
    h, w = s.clean.shape[1:3]
    block = max(2, w // 16)  # 16 px at 256: on the 8-px latent grid and the 16-px DiT tokens

    def one(frame: np.ndarray) -> np.ndarray:
        small = cv2.resize(frame, (w // block, h // block), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return _in_mask(s, _per_frame(s.clean, one))


def glow(s: Scene) -> np.ndarray:
    side = s.clean.shape[2]
    rim = np.stack([m - cv2.erode(m, np.ones((5, 5), np.uint8)) for m in s.mask])
    rim = np.stack([cv2.GaussianBlur(r, (0, 0), side / 100) for r in rim])[..., None]
    lit = 1 - (1 - s.clean) * (1 - 0.6 * np.array([1.0, 0.95, 0.6], np.float32))
    return _in_mask(s, np.clip(lit + 0.6 * rim, 0, 1))


def metallic(s: Scene) -> np.ndarray:
    g = _lum(s.clean)
    bands = 0.5 + 0.5 * np.sin(g * 3 * np.pi * 2)
    shine = 0.2 + 0.55 * g + 0.25 * bands
    spec = np.clip((g - 0.7) * 3, 0, 1)
    metal = shine[..., None] * np.array([0.8, 0.83, 0.9], np.float32) + spec[..., None] * 0.3
    return _in_mask(s, np.clip(metal, 0, 1))


def remove(s: Scene) -> np.ndarray:
    return _in_mask(s, s.without_subject)


@dataclass(frozen=True)
class Edit:
    key: str
    region: bool  # True: acts inside the mask; False: restyles the whole frame
    apply: Callable[[Scene], np.ndarray]


GLOBAL_EDITS = tuple(Edit(fn.__name__, False, fn) for fn in (
    pencil_sketch, cartoon, noir, vintage_film, night, golden_hour, thermal, pop_art))
REGION_EDITS = tuple(
    [Edit(f"recolor_{c}", True, recolor(c)) for c in NAMED_COLORS]
    + [Edit(fn.__name__, True, fn) for fn in (blur, pixelate, glow, metallic, remove)])
EDITS = GLOBAL_EDITS + REGION_EDITS
EDIT_KEYS = tuple(e.key for e in EDITS)
EDITS_BY_KEY = {e.key: e for e in EDITS}

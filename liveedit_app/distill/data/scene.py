"""A moving scene seen through a moving camera: the raw material every edit example is made from.

The world is a photo (cropped, warped, colour-jittered) or a procedural texture, larger than the
view. One to three textured objects move over it in depth order, so they occlude each other; one
of them is the *subject* that region edits act on. The camera pans, zooms, rolls and shakes, the
light drifts in strength, direction and colour, and the sensor adds noise. Besides the footage the
scene keeps what edits need: the frames without noise, the frames without the subject (what
"remove it" must reveal) and the subject's visible mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from liveedit_app.distill.data.photos import load_photo_bank
from liveedit_app.distill.data.textures import texture

WORLD_SCALE = 1.6  # world side / view side: room for the camera to move


@dataclass
class Scene:
    clean: np.ndarray  # [F, H, W, 3] float32 in [0, 1], lit, no sensor noise
    source: np.ndarray  # [F, H, W, 3] float32, clean + sensor noise, quantised to 8 bits
    without_subject: np.ndarray  # [F, H, W, 3] float32, clean frames with the subject removed
    mask: np.ndarray  # [F, H, W] float32 in [0, 1], the subject's visible (unoccluded) alpha


def _jitter(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Colour jitter of a float [h, w, 3] image: hue rotation, saturation, gamma, contrast."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-40, 40)) % 360
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.4), 0, 1)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    img = np.clip(img, 0, 1) ** rng.uniform(0.75, 1.3)
    mean = img.mean()
    return np.clip((img - mean) * rng.uniform(0.8, 1.25) + mean, 0, 1)


def _photo_patch(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random crop of a random bank photo, perspective-warped and jittered -> [h, w, 3]."""
    photos = load_photo_bank()
    photo = photos[int(rng.integers(len(photos)))]
    ph, pw = photo.shape[:2]
    side = rng.uniform(0.45, 1.0) * min(ph, pw)
    ch, cw = side * min(1.0, h / w), side * min(1.0, w / h)
    y0 = rng.uniform(0, ph - ch)
    x0 = rng.uniform(0, pw - cw)
    src = np.float32([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
    src += rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * side
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    warp = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(photo, warp, (w, h), borderMode=cv2.BORDER_REFLECT)
    out = out.astype(np.float32) / 255.0
    if rng.random() < 0.5:
        out = out[:, ::-1].copy()
    if np.abs(out[..., 0] - out[..., 2]).mean() < 0.01:  # a grey photo: tint it
        out = out * rng.uniform(0.5, 1.0, 3).astype(np.float32) + rng.uniform(0, 0.2, 3)
    return _jitter(rng, np.clip(out, 0, 1).astype(np.float32))


def _skin(rng: np.random.Generator, size: int) -> np.ndarray:
    """An object's surface: a photo patch, a texture or a flat paint -> [size, size, 3]."""
    kind = rng.random()
    if kind < 0.45:
        return _photo_patch(rng, size, size)
    if kind < 0.8:
        return texture(rng, size, size)
    flat = np.empty((size, size, 3), np.float32)
    flat[:] = rng.uniform(0.05, 0.95, 3)
    return flat


def _silhouette(rng: np.random.Generator, size: int) -> np.ndarray:
    """An anti-aliased object shape, float32 alpha [size, size]."""
    canvas = np.zeros((size * 4, size * 4), np.uint8)  # drawn at 4x, then reduced: smooth edges
    c, r = size * 2, size * 2 - 4
    kind = int(rng.integers(4))
    if kind == 0:
        axes = (int(r * rng.uniform(0.55, 1.0)), int(r * rng.uniform(0.55, 1.0)))
        cv2.ellipse(canvas, (c, c), axes, rng.uniform(0, 180), 0, 360, 255, -1)
    elif kind == 1:
        hw, hh = r * rng.uniform(0.5, 0.9), r * rng.uniform(0.5, 0.9)
        rad = int(min(hw, hh) * rng.uniform(0.1, 0.5))
        x0, y0, x1, y1 = int(c - hw), int(c - hh), int(c + hw), int(c + hh)
        cv2.rectangle(canvas, (x0 + rad, y0), (x1 - rad, y1), 255, -1)
        cv2.rectangle(canvas, (x0, y0 + rad), (x1, y1 - rad), 255, -1)
        for cx, cy in ((x0 + rad, y0 + rad), (x1 - rad, y0 + rad), (x0 + rad, y1 - rad),
                       (x1 - rad, y1 - rad)):
            cv2.circle(canvas, (cx, cy), rad, 255, -1)
    else:
        n = int(rng.integers(5, 9)) * (2 if kind == 2 else 1)
        ang = np.sort(rng.uniform(0, 2 * np.pi, n)) if kind == 3 else np.linspace(0, 2 * np.pi, n,
                                                                                 endpoint=False)
        rad = r * (np.where(np.arange(n) % 2 == 0, 1.0, rng.uniform(0.4, 0.6)) if kind == 2
                   else rng.uniform(0.55, 1.0, n))
        pts = np.stack([c + rad * np.cos(ang), c + rad * np.sin(ang)], 1).astype(np.int32)
        if kind == 3:  # a blob: smooth the polygon
            cv2.fillPoly(canvas, [pts], 255)
            canvas = cv2.GaussianBlur(canvas, (0, 0), size * 0.25)
            canvas = np.where(canvas > 127, 255, 0).astype(np.uint8)
        else:
            cv2.fillPoly(canvas, [pts], 255)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _shade(rng: np.random.Generator, skin: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Give a flat skin some volume: a soft light from one side and a darker rim."""
    size = skin.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    ang = rng.uniform(0, 2 * np.pi)
    light = 1.0 + 0.35 * (xx * np.cos(ang) + yy * np.sin(ang))
    rim = cv2.GaussianBlur(alpha, (0, 0), size * 0.06)
    return np.clip(skin * (light * (0.65 + 0.35 * rim))[..., None], 0, 1)


@dataclass
class _Mover:
    sprite: np.ndarray  # [s, s, 4] float32 RGBA
    pos: np.ndarray  # world position at t=0
    vel: np.ndarray  # world px per frame
    wobble: np.ndarray  # amplitude of a sinusoidal path
    freq: float
    phase: float
    angle: float
    spin: float  # degrees per frame
    scale: float
    grow: float  # relative scale change per frame

    def sprite_to_world(self, t: int) -> np.ndarray:
        s = self.sprite.shape[0]
        center = self.pos + self.vel * t + self.wobble * np.sin(self.freq * t + self.phase)
        rot = cv2.getRotationMatrix2D((s / 2, s / 2), self.angle + self.spin * t,
                                      self.scale * (1 + self.grow * t))
        rot[:, 2] += center - s / 2
        return rot


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer ∘ inner for 2x3 affine matrices."""
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


def render_scene(rng: np.random.Generator, height: int, width: int, frames: int) -> Scene:
    world_w, world_h = int(width * WORLD_SCALE), int(height * WORLD_SCALE)
    world = (_photo_patch(rng, world_h, world_w) if rng.random() < 0.7
             else texture(rng, world_h, world_w))

    # Camera: view = zoom * roll * (world - centre) + view centre, plus shake.
    c0 = np.array([world_w / 2, world_h / 2]) + rng.uniform(-0.1, 0.1, 2) * (world_w, world_h)
    pan = rng.uniform(-1, 1, 2) * 0.12 * width / max(frames - 1, 1) * rng.choice([0, 1, 1])
    zoom0 = rng.uniform(1.0, 1.25)
    zoom_rate = rng.uniform(-0.012, 0.02) * rng.choice([0, 1])
    roll_rate = rng.uniform(-0.6, 0.6) * rng.choice([0, 1])
    shake = rng.normal(0, rng.uniform(0, 2.0), (frames, 2)).cumsum(0) * 0.5

    movers: list[_Mover] = []
    n_obj = int(rng.integers(1, 4))
    for _ in range(n_obj):
        size = int(min(width, height) * rng.uniform(0.3, 0.55))
        alpha = _silhouette(rng, size)
        skin = _shade(rng, _skin(rng, size), alpha)
        start = c0 + rng.uniform(-0.3, 0.3, 2) * (width, height)
        movers.append(_Mover(
            sprite=np.dstack([skin, alpha]).astype(np.float32),
            pos=start,
            vel=rng.uniform(-1, 1, 2) * width * 0.02,
            wobble=rng.uniform(0, 0.06, 2) * width,
            freq=float(rng.uniform(0.1, 0.5)),
            phase=float(rng.uniform(0, 2 * np.pi)),
            angle=float(rng.uniform(0, 360)),
            spin=float(rng.uniform(-4, 4)),
            scale=1.0,
            grow=float(rng.uniform(-0.01, 0.01)),
        ))
    subject = int(rng.integers(n_obj))

    # Light: overall gain ramp, a directional gradient that turns, a colour temperature drift.
    # (python floats: numpy scalars would promote the float32 frames to float64)
    gain0, gain1 = float(rng.uniform(0.8, 1.1)), float(rng.uniform(0.8, 1.1))
    light_ang0, light_turn = float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(-0.05, 0.05))
    light_strength = float(rng.uniform(0, 0.35))
    warm0, warm1 = (float(w) for w in rng.uniform(-0.06, 0.06, 2))
    noise_sigma = float(rng.uniform(0.003, 0.02))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy, xx = yy / height - 0.5, xx / width - 0.5

    clean = np.empty((frames, height, width, 3), np.float32)
    without = np.empty_like(clean)
    mask = np.empty((frames, height, width), np.float32)
    for t in range(frames):
        zoom = zoom0 * (1 + zoom_rate * t)
        centre = c0 + pan * t + shake[t]
        view = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), roll_rate * t, zoom)
        view[:, 2] += np.array([width / 2, height / 2]) - centre
        frame = cv2.warpAffine(world, view, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        behind = frame.copy()
        visible = np.zeros((height, width), np.float32)
        for i, mover in enumerate(movers):
            rgba = cv2.warpAffine(mover.sprite, _compose(view, mover.sprite_to_world(t)),
                                  (width, height), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT)
            a = rgba[..., 3:4]
            frame = frame * (1 - a) + rgba[..., :3] * a
            if i == subject:
                visible = a[..., 0].copy()
            else:
                behind = behind * (1 - a) + rgba[..., :3] * a
                visible *= 1 - a[..., 0]
        s = t / max(frames - 1, 1)
        ang = light_ang0 + light_turn * t
        light = (gain0 + (gain1 - gain0) * s) * (
            1 + light_strength * (xx * math.cos(ang) + yy * math.sin(ang)))
        warm = warm0 + (warm1 - warm0) * s
        tint = np.array([1 + warm, 1.0, 1 - warm], np.float32)
        lit = light[..., None] * tint
        clean[t] = np.clip(frame * lit, 0, 1)
        without[t] = np.clip(behind * lit, 0, 1)
        mask[t] = visible

    noise = rng.standard_normal(clean.shape, dtype=np.float32) * noise_sigma
    source = np.round(np.clip(clean + noise, 0, 1) * 255) * np.float32(1 / 255)
    return Scene(clean=clean, source=source, without_subject=without,
                 mask=mask)

"""The benchmark's metrics, one small function each; `docs/benchmark.md` defines every one.

Clips are [T, H, W, 3] uint8 RGB, regions are [T, H, W] bool (True = counted). Every metric
runs offline on numpy, OpenCV and scikit-image: no network model, no CLIP.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.feature import hog
from skimage.metrics import structural_similarity

from liveedit_app.distill.metrics import psnr as card_psnr

PSNR_CAP_DB = 100.0  # identical pictures have infinite PSNR; JSON needs a number
FLOW_EPS = 0.5  # grey levels added to both warp errors so a still source gives a finite ratio
DYNAMIC_THRESHOLD = 6.0  # VBench's threshold on the top-5% flow magnitude at a 256-px short side
FEATURE_SIZE = 64  # frames are resized to this square before HOG


def psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float | None:
    """PSNR in dB between two clips over the pixels in `region` (all pixels when None), capped at
    PSNR_CAP_DB: the model card's own measure (`distill.metrics.psnr`). None when the region is
    empty."""
    value = card_psnr(a, b, region)
    return None if math.isnan(value) else value


def ssim(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float | None:
    """Mean of the per-pixel SSIM map (7x7 window, colour) over `region`; None when it is empty."""
    if region is not None and not region.any():
        return None
    values = []
    for t in range(len(a)):
        _, ssim_map = structural_similarity(
            a[t], b[t], channel_axis=2, data_range=255, full=True, win_size=7
        )
        ssim_map = ssim_map.mean(axis=-1)  # [H, W]
        values.append(ssim_map[region[t]] if region is not None else ssim_map.ravel())
    return float(np.concatenate(values).mean())


def dis_flows(clip: np.ndarray) -> list[np.ndarray]:
    """DIS optical flow (OpenCV, MEDIUM preset) from each frame t >= 1 back to frame t - 1:
    frame_t(x) ~ frame_{t-1}(x + flow_t(x)). T - 1 arrays of [H, W, 2] float32."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in clip]
    return [dis.calc(grey[t], grey[t - 1], None) for t in range(1, len(grey))]


def _warp_previous(previous: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`previous` moved onto the current frame along `flow`, and where that was inside the
    picture."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x + flow[..., 0]
    map_y = grid_y + flow[..., 1]
    warped = cv2.remap(previous, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    return warped, inside


def warp_error(
    clip: np.ndarray, flows: list[np.ndarray], region: np.ndarray | None = None
) -> float:
    """Mean absolute difference (grey levels, 0..255, over RGB) between each frame t >= 1 and
    frame t - 1 warped along `flows`, over the pixels of `region[t]` whose source lies inside
    the picture."""
    total, count = 0.0, 0
    for t in range(1, len(clip)):
        warped, inside = _warp_previous(clip[t - 1], flows[t - 1])
        counted = inside if region is None else inside & region[t]
        if not counted.any():
            continue
        diff = np.abs(clip[t].astype(np.float32) - warped.astype(np.float32)).mean(axis=-1)
        total += float(diff[counted].sum())
        count += int(counted.sum())
    return total / count if count else 0.0


def temporal_instability(
    output: np.ndarray,
    source: np.ndarray,
    flows: list[np.ndarray],
    region: np.ndarray | None = None,
) -> float:
    """The output's warp error relative to the source's own, both along the SOURCE's flow:
    1.0 = as steady as the source, 2.0 = twice the flicker."""
    return (warp_error(output, flows, region) + FLOW_EPS) / (
        warp_error(source, flows, region) + FLOW_EPS
    )


def edit_descriptor(clip: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """What an edit made of the edited region, comparable across clips of any content: a 4x4x4
    RGB histogram (64 bins) and an 8-bin gradient-magnitude histogram, each summing to 1."""
    pixels = clip if region is None else clip[region]  # [..., 3]
    pixels = pixels.reshape(-1, 3)
    if len(pixels) == 0:
        return np.zeros(72)
    bins = (pixels // 64).astype(np.int64)
    colour = np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64)
    grads = []
    for t in range(len(clip)):
        grey = cv2.cvtColor(clip[t], cv2.COLOR_RGB2GRAY).astype(np.float32)
        dx, dy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        magnitude = cv2.magnitude(dx, dy)
        grads.append(magnitude if region is None else magnitude[region[t]])
    gradient = np.histogram(np.concatenate([g.ravel() for g in grads]), bins=8, range=(0, 400))[0]
    return np.concatenate([colour / colour.sum(), gradient / max(gradient.sum(), 1)])


def nearest_target_is_right(
    output_descriptors: list[np.ndarray], target_descriptors: list[np.ndarray], edit_keys: list[str]
) -> list[bool]:
    """For each output i: is the target nearest to it (L1 between edit descriptors) one of the
    same edit as i (edit_keys equal)? Ties go against the output."""
    targets = np.stack(target_descriptors)  # [N, D]
    keys = np.array(edit_keys)
    right = []
    for i, descriptor in enumerate(output_descriptors):
        distances = np.abs(targets - descriptor).sum(axis=1)  # [N]
        nearest = np.flatnonzero(distances == distances.min())
        right.append(bool((keys[nearest] == edit_keys[i]).all()))
    return right


def frame_features(frame: np.ndarray) -> np.ndarray:
    """An offline stand-in for a CLIP/DINO image feature: HOG of the grey frame at 64x64
    (8x8 cells) joined with a 4x4x4 RGB histogram, centred so unrelated frames score near 0."""
    small = cv2.resize(frame, (FEATURE_SIZE, FEATURE_SIZE), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    shape = hog(grey, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    bins = (small.reshape(-1, 3) // 64).astype(np.int64)
    colour = np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64)
    colour = colour / colour.sum()
    parts = [shape - shape.mean(), colour - colour.mean()]
    return np.concatenate([p / (np.linalg.norm(p) + 1e-8) for p in parts])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-8))


def background_consistency(clip: np.ndarray) -> float:
    """VBench's Background Consistency formula on `frame_features`: the mean over frames t >= 1
    of the average of cos(f_t, f_0) and cos(f_t, f_{t-1}). 1.0 for a still clip."""
    features = [frame_features(frame) for frame in clip]
    if len(features) < 2:
        return 1.0
    scores = [
        0.5 * (_cosine(features[t], features[0]) + _cosine(features[t], features[t - 1]))
        for t in range(1, len(features))
    ]
    return float(np.mean(scores))


def motion_score(clip: np.ndarray) -> float:
    """VBench's Dynamic Degree statistic with DIS flow in place of RAFT: the mean over
    consecutive pairs of the mean of the top 5% flow magnitudes, in pixels scaled to a 256-px
    short side."""
    if len(clip) < 2:
        return 0.0
    scale = 256.0 / min(clip.shape[1:3])
    flows = dis_flows(clip)
    tops = []
    for flow in flows:
        magnitude = np.linalg.norm(flow, axis=-1).ravel()
        count = max(1, int(round(0.05 * magnitude.size)))
        tops.append(float(np.sort(magnitude)[-count:].mean()))
    return float(np.mean(tops)) * scale


def is_dynamic(score: float) -> bool:
    """Whether a clip counts as moving for Dynamic Degree (the share of such clips)."""
    return score > DYNAMIC_THRESHOLD

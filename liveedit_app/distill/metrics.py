"""Edit-quality numbers for the model card, on uint8 clips [F, H, W, 3] (numpy, no torch)."""

from __future__ import annotations

import math

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    """PSNR in dB between uint8 arrays, over the pixels where `where` [F, H, W] is True; capped at
    100 dB (identical pictures), nan for an empty region. The benchmark uses it too."""
    diff = (a.astype(np.float32) - b.astype(np.float32)) / 255
    err = diff ** 2
    if where is not None:
        if not where.any():
            return math.nan
        err = err[where]
    mse = float(err.mean())
    return 10 * math.log10(1 / max(mse, 1e-10))


def nearest_edit(output: np.ndarray, targets: dict[str, np.ndarray]) -> str:
    """The edit whose target clip is closest to the output (mean squared error)."""
    out = output.astype(np.float32)
    return min(targets, key=lambda k: float(((out - targets[k]) ** 2).mean()))


def flicker(clip: np.ndarray) -> float:
    """Mean absolute frame-to-frame change, in 8-bit levels."""
    return float(np.abs(np.diff(clip.astype(np.float32), axis=0)).mean())


def outside_equal_share(output: np.ndarray, source: np.ndarray, mask: np.ndarray) -> float:
    """Share of pixels outside the mask [F, H, W] (== 0) that equal the source exactly."""
    outside = mask == 0
    if not outside.any():
        return math.nan
    same = (output == source).all(axis=-1)
    return float(same[outside].mean())


def edit_region(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """Where an edit acts: the object (mask > 0.5) for region edits, everywhere for styles."""
    if mask is None:
        return np.ones(shape[:3], bool)
    return mask > 0.5


def summarize(rows: list[dict]) -> dict:
    """Averages over examples, overall and per edit."""
    def avg(values):
        values = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
        return round(float(np.mean(values)), 4) if values else None

    keys = [k for k in rows[0] if k not in ("edit", "instruction", "seed")]
    out = {k: avg([r[k] for r in rows]) for k in keys}
    out["examples"] = len(rows)
    out["per_edit"] = {}
    for edit in sorted({r["edit"] for r in rows}):
        mine = [r for r in rows if r["edit"] == edit]
        out["per_edit"][edit] = {k: avg([r[k] for r in mine]) for k in keys}
        out["per_edit"][edit]["examples"] = len(mine)
    return out

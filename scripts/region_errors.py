"""Where the shipped model's region PSNR is lost: held-out clips through `StreamEditor` (as the
app streams them), the error inside the edited region split by kind. Prints a table per edit and
writes JSON.

    python scripts/region_errors.py [--model liveedit-tiny[,FOLDER...]] [--config configs/tiny.toml]
        [--clips 96] [--band 8] [--out benchmarks/region-errors-cpu.json]

Per clip: `correct`, whether the output is nearest its own edit's target (the card's nearest
edit), and in dB against the target, inside the region the model card scores (the object for
region edits, the frame for styles):

* `psnr`: as the card (all of the region);
* `interior` / `rim`: the region eroded by `--band` pixels, and the band it lost (objects
  narrower than twice the band have no interior and count only in `rim`);
* `mean_fixed`: after adding, frame by frame, the mean colour difference to the output (what
  is left once a uniform colour cast inside the region is corrected);
* `affine_fixed`: after the best per-channel affine map of the output, fitted frame by frame on
  the target (what a colour-map error leaves: shape and texture errors);
* `source_affine`: the best per-channel affine map of the *source* (an oracle that knows the
  target; a yardstick for colour-map edits, not a model);
* `composite_ceiling`: the *target* put through the editor's own compositing (the chunk's mask,
  feathered inward): what a perfect model would score through the app.

If `mean_fixed` or `affine_fixed` sit far above `psnr`, the model gets the colours wrong but the
picture right; if `rim` sits far below `interior`, the edges are what cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch

from liveedit_app.distill.config import load_config
from liveedit_app.distill.evaluate import (
    _pixel_chunk_mask,
    _small,
    held_out_cases,
    stream_case,
)
from liveedit_app.distill.metrics import edit_region, nearest_edit, psnr
from liveedit_app.engine.editor import StreamEditor

KINDS = ("correct", "psnr", "interior", "rim", "mean_fixed", "affine_fixed", "source_affine",
         "composite_ceiling")


def erode(region: np.ndarray, band: int) -> np.ndarray:
    """[F, H, W] bool -> the region shrunk by `band` pixels; a whole-frame region stays whole."""
    if region.all():
        return region
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    return np.stack([cv2.erode(r.astype(np.uint8), kernel, borderValue=1) > 0 for r in region])


def _fit(x: np.ndarray, y: np.ndarray, region: np.ndarray, affine: bool) -> np.ndarray:
    """x mapped per frame and channel to best match y inside the region (least squares): an
    offset only, or gain and offset. uint8 in, uint8 out."""
    out = x.astype(np.float32).copy()
    for f in range(len(x)):
        where = region[f]
        if not where.any():
            continue
        a, b = x[f][where].astype(np.float32), y[f][where].astype(np.float32)  # [N, 3]
        for c in range(3):
            if affine and a[:, c].std() > 1e-3:
                gain, offset = np.polyfit(a[:, c], b[:, c], 1)
            else:
                gain, offset = 1.0, float((b[:, c] - a[:, c]).mean())
            out[f, ..., c] = out[f, ..., c] * gain + offset
    return out.clip(0, 255).round().astype(np.uint8)


def composited_target(editor: StreamEditor, case: dict) -> np.ndarray:
    """The target put through the editor's own compositing, frame by frame, with the mask it
    holds for each chunk."""
    mask = _pixel_chunk_mask(case["mask"], editor.frames_per_chunk)
    if mask is None:
        return case["target"]
    return np.stack([editor._composite(src, tgt, m.astype(np.float32))
                     for src, tgt, m in zip(case["source"], case["target"], mask, strict=True)])


def row(case: dict, edited: np.ndarray, band: int, ceiling: np.ndarray) -> dict:
    target, source = case["target"], case["source"]
    region = edit_region(case["mask"], source.shape)
    inner = erode(region, band)
    return {
        "edit": case["edit"],
        "correct": float(nearest_edit(_small(edited), case["small"]) == case["edit"]),
        "psnr": psnr(edited, target, region),
        "interior": psnr(edited, target, inner),
        "rim": psnr(edited, target, region & ~inner),
        "mean_fixed": psnr(_fit(edited, target, region, False), target, region),
        "affine_fixed": psnr(_fit(edited, target, region, True), target, region),
        "source_affine": psnr(_fit(source, target, region, True), target, region),
        "composite_ceiling": psnr(ceiling, target, region),
        "region_share": float(region.mean()),
        "interior_share_of_region": float(inner.sum() / max(region.sum(), 1)),
    }


def _mean(values, digits: int = 2) -> float | None:
    values = [v for v in values if isinstance(v, float) and math.isfinite(v)]
    return round(statistics.fmean(values), digits) if values else None


def summarize(rows: list[dict]) -> dict:
    groups = {"all": rows, **{e: [r for r in rows if r["edit"] == e]
                              for e in sorted({r["edit"] for r in rows})}}  # fmt: skip
    return {name: {**{k: _mean((r[k] for r in mine), 4 if k == "correct" else 2)
                      for k in KINDS}, "clips": len(mine),
                   "interior_share_of_region": _mean(r["interior_share_of_region"]
                                                     for r in mine)}
            for name, mine in groups.items()}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="liveedit-tiny",
                    help="a model name or folder, or several, comma-separated (same clips)")
    ap.add_argument("--config", default="configs/tiny.toml")
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--band", type=int, default=8, help="rim width in pixels")
    ap.add_argument("--feather", type=float, default=None,
                    help="the editor's mask_feather_px (default: its own default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="benchmarks/region-errors-cpu.json")
    args = ap.parse_args()
    cfg = load_config(args.config)
    cfg.eval.clips = args.clips
    began = time.perf_counter()
    cases = held_out_cases(cfg)
    tables = {}
    for model in args.model.split(","):
        editor = StreamEditor.load(model, device=args.device)
        if args.feather is not None:
            editor.configure(replace(editor.settings, mask_feather_px=args.feather))
        rows = [row(case, stream_case(editor, case), args.band, composited_target(editor, case))
                for case in cases]  # fmt: skip
        tables[model] = table = summarize(rows)
        print(f"\n{model}\n{'edit':<16}" + "".join(f"{k:>14}" for k in KINDS) + "  clips")
        for name, r in table.items():
            print(f"{name:<16}" + "".join(f"{'-' if r[k] is None else r[k]:>14}" for k in KINDS)
                  + f"  {r['clips']}", flush=True)  # fmt: skip
    report = {
        "what": "where the region PSNR is lost: held-out app outputs, error split by kind "
                "(see the script's docstring)",
        "command": "python scripts/region_errors.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "seconds": round(time.perf_counter() - began, 1),
        "models": tables,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

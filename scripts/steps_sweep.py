"""How the shipped model edits with fewer denoising steps or without the refresh pass: the
held-out evaluation's app numbers (nearest edit, region PSNR) and the editing speed on this
machine, for each setting, in one run. Prints a table and writes JSON.

    python scripts/steps_sweep.py [--config configs/tiny.toml] [--clips 96]
        [--settings 4,4:norefresh,3,2] [--out benchmarks/steps-sweep-cpu.json]

A setting is a step count (the model's own schedule at its trained count, else evenly spaced
from t=1000), optionally with ":norefresh" (no clean pass after each chunk).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from liveedit_app.contract import EditSettings
from liveedit_app.distill.config import load_config
from liveedit_app.distill.evaluate import _app_row, held_out_cases, push_case, start_case
from liveedit_app.distill.metrics import edit_region, flicker, psnr
from liveedit_app.engine.editor import StreamEditor


def run_setting(editor: StreamEditor, cases: list[dict], steps: int, refresh: bool,
                chunk_latents: int) -> dict:
    editor.configure(EditSettings(steps=steps))
    editor.set_refresh(refresh)
    rows, seconds, frames_done = [], 0.0, 0
    for case in cases:
        start_case(editor, case)
        began = time.perf_counter()
        edited = push_case(editor, case)
        seconds += time.perf_counter() - began
        frames_done += len(edited)
        row = _app_row(case, edited, chunk_latents)
        row["flicker_ratio"] = flicker(edited) / max(flicker(case["target"]), 1e-6)
        half = len(edited) // 2  # the stream's second half: drift shows there first
        region = edit_region(case["mask"], case["source"].shape)
        row["late_psnr_db"] = psnr(edited[half:], case["target"][half:], region[half:])
        rows.append(row)
    psnrs = [r["app_psnr_region_db"] for r in rows if math.isfinite(r["app_psnr_region_db"])]
    return {"steps": steps, "refresh": refresh,
            "nearest_edit": round(statistics.fmean(r["app_correct"] for r in rows), 4),
            "psnr_region_db": round(statistics.fmean(psnrs), 3),
            "psnr_second_half_db": round(statistics.fmean(
                r["late_psnr_db"] for r in rows if math.isfinite(r["late_psnr_db"])), 3),
            "flicker_ratio": round(statistics.fmean(r["flicker_ratio"] for r in rows), 4),
            "fps": round(frames_done / seconds, 2), "clips": len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/tiny.toml")
    ap.add_argument("--model", default="liveedit-tiny")
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--frames", type=int, default=0, help="clip length (default: the config's)")
    ap.add_argument("--settings", default="4,4:norefresh,3,2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="benchmarks/steps-sweep-cpu.json")
    args = ap.parse_args()
    cfg = load_config(args.config)
    cfg.eval.clips = args.clips
    if args.frames:
        cfg.data.latent_frames = args.frames
    began = time.perf_counter()
    cases = held_out_cases(cfg)
    cases_s = time.perf_counter() - began
    editor = StreamEditor.load(args.model, device=args.device)
    results = []
    for spec in args.settings.split(","):
        steps, _, flag = spec.partition(":")
        row = run_setting(editor, cases, int(steps), flag != "norefresh",
                          cfg.model.sampler.chunk_frames)
        results.append(row)
        print(f"steps {row['steps']} refresh {row['refresh']!s:5}  nearest "
              f"{row['nearest_edit']:.3f}  region PSNR {row['psnr_region_db']:.2f} dB "
              f"(2nd half {row['psnr_second_half_db']:.2f})  flicker {row['flicker_ratio']:.3f}"
              f"  {row['fps']:.1f} fps", flush=True)
    report = {
        "what": "held-out app numbers of the shipped model per step count / refresh, one run",
        "command": "python scripts/steps_sweep.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   f"threads {torch.get_num_threads()}",
        "model": args.model, "cases_seconds": round(cases_s, 1), "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Engine speed benchmark (not a test): FPS and per-chunk latency of StreamEditor end to end
(resize, encode, DiT, decode, composite) for each config, with and without each mask cache and
the refresh pass, plus how far each cache's output moves from full compute.

    python scripts/bench_engine.py                       # CPU, tiny + small -> engine-cpu.json
    python scripts/bench_engine.py --device cuda --out benchmarks/engine-h100.json --wan-dit
    python scripts/bench_engine.py --model liveedit-tiny --full-every 0,2,4,8 \
        --out benchmarks/engine-cpu-fullevery.json   # static skip's periodic full chunk

Weights are random (speed does not depend on them) unless --model names a trained model; the
"quality loss" of a cache is the PSNR of its output against full compute on the same clip, seed
and noise. The clip is synthetic and
webcam-like: a fixed textured background with sensor noise and a moving disc; the user mask is a
centred rectangle covering a quarter of the frame.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liveedit_app.contract import EditSettings, Frame  # noqa: E402
from liveedit_app.distill.metrics import psnr  # noqa: E402  (capped at 100 dB: valid JSON)
from liveedit_app.engine.config import model_config  # noqa: E402
from liveedit_app.engine.editor import StreamEditor  # noqa: E402

SCENARIOS = [
    # (name, mask cache, refresh, user mask)
    ("full", "off", False, False),
    ("full+refresh", "off", True, False),
    ("reference-cache", "reference", False, False),
    ("full, masked", "off", False, True),
    ("static-skip, masked", "static", False, True),
    ("static-skip, masked +refresh", "static", True, True),
]


def clip(n: int, h: int, w: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.stack([128 + 60 * np.sin(xx / 17 + c) * np.cos(yy / 23 - c) for c in range(3)], -1)
    frames = []
    for i in range(n):
        img = bg + rng.normal(0, 1.5, bg.shape)  # sensor noise
        cx = w * (0.5 + 0.3 * np.sin(i / 12)); cy = h * (0.5 + 0.2 * np.cos(i / 9))  # noqa: E702
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < (0.12 * min(h, w)) ** 2
        img[disc] = (220, 60, 40)
        frames.append(img.clip(0, 255).astype(np.uint8))
    return frames


def user_mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    m[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1.0
    return m


def run(editor: StreamEditor, frames: list[np.ndarray], warm_chunks: int, sync) -> dict:
    """Push every frame; time each push that completes a chunk."""
    chunk_s, outputs = [], []
    per_chunk = editor.frames_per_chunk
    start = None
    for i, rgb in enumerate(frames):
        if i == warm_chunks * per_chunk:
            sync()
            start = time.perf_counter()
        t0 = time.perf_counter()
        out = editor.push(Frame(rgb, pts=i / 30, index=i))
        if out:
            sync()
            if i >= warm_chunks * per_chunk:
                chunk_s.append(time.perf_counter() - t0)
            outputs += out
    sync()
    total = time.perf_counter() - start
    timed = len(frames) - warm_chunks * per_chunk
    p50 = statistics.median(chunk_s)
    return {"fps": timed / total, "fps_at_p50_chunk": per_chunk / p50,
            "chunk_ms_p50": 1000 * p50,
            "chunk_ms_p95": 1000 * float(np.percentile(chunk_s, 95)),
            "chunk_ms_mean": 1000 * statistics.fmean(chunk_s),
            "recompute_share": editor.stats.recompute_share,
            "outputs": [o.rgb for o in outputs]}


def make_editor(cfg, model: str | None, device: str, compile: bool, cache: str,
                full_every: int | None = None) -> StreamEditor:
    """A trained model by name or folder, else random weights of `cfg`."""
    extra = {} if full_every is None else {"full_every": full_every}
    if model:
        return StreamEditor.load(model, device=device, compile=compile, mask_cache=cache, **extra)
    return StreamEditor.from_config(cfg, device=device, mask_cache=cache, compile=compile, **extra)


def bench_config(name: str, device: str, n_frames: int, warm: int, steps: int,
                 compile: bool, model: str | None = None) -> list[dict]:
    """`name` is a config (random weights) or, with `model`, the label of a trained model."""
    cfg = StreamEditor.load(model, device=device).cfg if model else model_config(name)
    h, w = cfg.resolution
    frames = clip(n_frames, h, w)
    mask = user_mask(h, w)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    rows, baseline = [], {}
    for label, cache, refresh, masked in SCENARIOS:
        editor = make_editor(cfg, model, device, compile, cache)
        editor.configure(EditSettings(steps=steps, seed=0))
        editor.set_refresh(refresh)
        editor.set_prompt("make the disc glow blue")
        editor.set_mask(mask if masked else None)
        res = run(editor, frames, warm, sync)
        outs = res.pop("outputs")
        key = (masked, refresh)
        if cache == "off":
            baseline[key] = outs
        ref = baseline.get(key)
        region = mask > 0 if masked else np.ones((h, w), bool)
        quality = (min(psnr(a[region], b[region]) for a, b in zip(outs, ref, strict=True))
                   if ref is not None and cache != "off" else None)
        row = {"config": name, "scenario": label, "compile": compile, "resolution": [h, w],
               "steps": steps,
               "mask_cache": cache, "refresh": refresh, "user_mask": masked,
               "chunk_frames": editor.frames_per_chunk, "frames_timed": n_frames - warm *
               editor.frames_per_chunk, **res, "min_psnr_vs_full_db": quality}
        rows.append(row)
        print(f"{name:6s} {label:30s} {res['fps']:7.1f} FPS ({res['fps_at_p50_chunk']:6.1f} at p50)"
              f"  chunk p50 {res['chunk_ms_p50']:7.1f}"
              f" ms  p95 {res['chunk_ms_p95']:7.1f} ms  share {res['recompute_share']:.2f}"
              f"  PSNR vs full {quality if quality is None else round(quality, 1)}", flush=True)
    return rows


def bench_full_every(name: str, device: str, n_frames: int, warm: int, steps: int,
                     compile: bool, model: str | None, values: list[int]) -> list[dict]:
    """Static skip with a full chunk every N chunks against full compute, quarter-frame mask:
    the worst and median frame's PSNR inside the mask, the worst frame of each chunk, speed."""
    cfg = StreamEditor.load(model, device=device).cfg if model else model_config(name)
    h, w = cfg.resolution
    frames = clip(n_frames, h, w)
    mask = user_mask(h, w)
    region = mask > 0
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    rows, full = [], None
    for n in [None, *values]:  # None: the full-compute baseline
        editor = make_editor(cfg, model, device, compile, "off" if n is None else "static", n)
        editor.configure(EditSettings(steps=steps, seed=0))
        editor.set_refresh(False)
        editor.set_prompt("make the disc glow blue")
        editor.set_mask(mask)
        res = run(editor, frames, warm, sync)
        outs = res.pop("outputs")
        row = {"config": name, "mask_cache": "off" if n is None else "static", "full_every": n,
               "resolution": [h, w], "steps": steps, "frames": n_frames, **res}
        if n is None:
            full = outs
        else:
            per_frame = [psnr(a[region], b[region]) for a, b in zip(outs, full, strict=True)]
            per = editor.frames_per_chunk
            row.update(min_psnr_vs_full_db=min(per_frame),
                       median_psnr_vs_full_db=statistics.median(per_frame),
                       chunk_min_psnr_vs_full_db=[min(per_frame[i:i + per])
                                                  for i in range(0, len(per_frame), per)])
        rows.append(row)
        quality = ("baseline" if n is None else
                   f"PSNR vs full worst {row['min_psnr_vs_full_db']:.1f} "
                   f"median {row['median_psnr_vs_full_db']:.1f} dB")
        print(f"{name} full_every {n}: {res['fps']:5.1f} FPS  chunk p50 "
              f"{res['chunk_ms_p50']:6.1f} ms mean {res['chunk_ms_mean']:6.1f} ms  share "
              f"{res['recompute_share']:.2f}  {quality}", flush=True)
    return rows


def bench_wan_dit(device: str, chunks: int = 7) -> dict:
    """DiT only at the reference's size: 21 latent frames of 60x104 in chunks of 3, 4 steps +
    refresh, random weights and context (what reference-speed.md measured at 447 ms/chunk)."""
    from liveedit_app.engine.dit import CausalDiT
    from liveedit_app.engine.sampler import FlowSampler
    from liveedit_app.engine.stream import StreamState, generate_chunk

    cfg = model_config("wan-1.3b")
    torch.manual_seed(0)
    dit = CausalDiT(cfg.dit).to(device=device, dtype=torch.bfloat16).eval()
    ctx = torch.randn(1, 512, 4096, device=device)
    sampler = FlowSampler(cfg.sampler.steps)
    times = []
    for _ in range(2):  # the first pass builds kernels for every cache length
        state = StreamState.create(dit, ctx, tokens_per_frame=cfg.tokens_per_frame,
                                   window_frames=21)
        times = []
        with torch.no_grad():
            for _ in range(chunks):
                y = torch.randn(1, 3, 16, 60, 104, device=device, dtype=torch.bfloat16)
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                generate_chunk(dit, sampler, state, torch.randn_like(y), y, refresh=True)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t0)
    ms = [1000 * t for t in times]
    row = {"config": "wan-1.3b (DiT only)", "chunk_ms": ms,
           "chunk_ms_median": statistics.median(ms), "dit_fps": 12 * chunks / sum(times),
           "passes_per_chunk": 5}
    print(f"wan-1.3b DiT only: median {row['chunk_ms_median']:.0f} ms/chunk "
          f"({row['dit_fps']:.1f} FPS of 4x-upsampled frames)", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="tiny,small")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--warm-chunks", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wan-dit", action="store_true", help="also time the wan-1.3b DiT (GPU)")
    ap.add_argument("--compile", action="store_true", help="torch.compile every DiT block")
    ap.add_argument("--model", help="a trained model (name or folder) instead of --configs")
    ap.add_argument("--full-every", help="instead of the scenarios: static skip with a full "
                    "chunk every N chunks for each N of this comma list (0 = never) vs full")
    ap.add_argument("--out", default="benchmarks/engine-cpu.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    rows = []
    names = [Path(args.model).name] if args.model else args.configs.split(",")
    for name in names:
        common = (name, args.device, args.frames, args.warm_chunks, args.steps, args.compile,
                  args.model)
        if args.full_every:
            rows += bench_full_every(*common, [int(v) for v in args.full_every.split(",")])
        else:
            rows += bench_config(*common)
    wan = bench_wan_dit(args.device) if args.wan_dit else None
    machine = {"platform": platform.platform(), "processor": platform.processor(),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "device": (torch.cuda.get_device_name() if args.device.startswith("cuda")
                          else "cpu"),
               "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    report = {"command": "python " + " ".join(sys.argv), "machine": machine, "results": rows,
              "wan_dit": wan}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"load average before {load_before}, after {machine['loadavg_after']}; "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()

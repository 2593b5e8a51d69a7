"""Does the DiT's width limit the edit? Train stage 1 for the same minutes per variant (width x
heads x layers) on the same clips and the same autoencoder, then score each bidirectional
teacher on held-out clips: region PSNR and nearest edit with and without guidance, plus the
training loss at equal steps. A quick, small-size comparison for choosing the next model's DiT
(the question stop 15 asked: can 128 numbers a token carry a 2x2 patch of 16 latent channels,
its source and its mask, 132 numbers?), not a trained model. Prints a table and writes JSON.

    python scripts/dit_capacity.py [--size 128] [--minutes 15] [--variants 128x2x4,256x4x4]
        [--out benchmarks/dit-capacity-cpu.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIG = """model = "tiny"
seed = 0
device = "cpu"
precision = "bf16"

[model_overrides]
resolution = [{size}, {size}]
autoencoder_params = {{ latent_channels = 16, width = 32 }}

[model_overrides.dit]
latent_channels = 16
dim = {dim}
ffn_dim = {ffn}
heads = {heads}
layers = {layers}
pooled_text = {pooled}

[data]
height = {size}
width = {size}
latent_frames = 12
clips = {clips}
ae_clips = {ae_clips}
workers = -1
edits_per_scene = 4
region_share = 0.5
photo_bank = "{photos}"
text_table = "{prompts}"

[ae]
minutes = {ae_minutes}
steps = 100000
batch = 16
lr = 1e-3
warmup = 100
log_every = 100
save_every = 100000

[stage1]
minutes = {minutes}
steps = 1000000
batch = {batch}
lr = 5e-4
warmup = 100
shift = 3.0
mask_weight = 4.0
cfg_dropout = 0.1
log_every = 25
save_every = 1000000
lr_final = 0.2

[eval]
clips = {heldout}
teacher_steps = {ode_steps}
batch = 8
"""


def train(stage: str, toml: Path, run: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "liveedit_app.cli.train", stage, "--config",
                           str(toml), "--out", str(run)], capture_output=True, text=True,
                          cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{run.name}: {stage} failed:\n{done.stderr[-2000:]}")


def losses(run: Path) -> list[tuple[int, float]]:
    """(step, training loss) from the stage-1 log."""
    out = []
    for path in sorted((run / "stage1").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if "loss" in row and "step" in row:
                out.append((int(row["step"]), float(row["loss"])))
    return out


def loss_at(curve: list[tuple[int, float]], step: int, span: int = 4) -> float | None:
    """Mean of the `span` logged losses ending at `step` (the log is noisy)."""
    near = [loss for s, loss in curve if s <= step][-span:]
    return round(float(np.mean(near)), 4) if near else None


@torch.no_grad()
def score_teacher(toml: Path, run: Path, cases: list[dict]) -> dict:
    """Region PSNR and nearest edit of the bidirectional teacher (ODE, unguided and guidance 2)."""
    from liveedit_app.distill.config import load_config
    from liveedit_app.distill.evaluate import (
        _pixel_chunk_mask,
        _small,
        _to_uint8,
        case_batch,
        composite,
    )
    from liveedit_app.distill.flow import ode_sample
    from liveedit_app.distill.flow_training import DIT_WEIGHTS, load_dit
    from liveedit_app.distill.metrics import edit_region, nearest_edit, psnr
    from liveedit_app.distill.prompts import prompt_embeddings
    from liveedit_app.distill.stage0_autoencoder import load_autoencoder
    from liveedit_app.distill.stage3_dmd import guided_velocity
    from liveedit_app.distill.trainer import autocast

    cfg = load_config(toml)
    device = torch.device("cpu")
    ae = load_autoencoder(cfg, run, device)
    teacher = load_dit(cfg, run / "stage1" / DIT_WEIGHTS, device).eval()
    prompts = prompt_embeddings(cfg.data.text_table, cfg.model.dit.text_len)
    chunk = cfg.model.sampler.chunk_frames
    out = {}
    for guidance in (1.0, 2.0):
        torch.manual_seed(cfg.seed + 12345)
        rows = []
        for s in range(0, len(cases), cfg.eval.batch):
            part = cases[s:s + cfg.eval.batch]
            batch = case_batch(part, ae, prompts, chunk, device)
            def velocity(x, t, b=batch, g=guidance):
                return guided_velocity(teacher, b, x, t, g)

            with autocast(device, cfg.precision):
                x = ode_sample(velocity,
                               torch.randn_like(batch.source), cfg.eval.teacher_steps,
                               cfg.stage1.shift)
            for case, pixels in zip(part, _to_uint8(ae.decode(x.float())), strict=True):
                img = composite(case["source"], pixels, _pixel_chunk_mask(case["mask"], chunk))
                region = edit_region(case["mask"], case["source"].shape)
                rows.append((psnr(img, case["target"], region),
                             float(nearest_edit(_small(img), case["small"]) == case["edit"])))
        rows = np.array(rows)
        out[f"guidance_{guidance:g}"] = {"psnr_region_db": round(float(rows[:, 0].mean()), 2),
                                         "correct": round(float(rows[:, 1].mean()), 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--minutes", type=float, default=15.0, help="stage 1, per variant")
    ap.add_argument("--ae-minutes", type=float, default=4.0)
    ap.add_argument("--clips", type=int, default=1200, help="training clips")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--heldout", type=int, default=48)
    ap.add_argument("--ode-steps", type=int, default=20)
    ap.add_argument("--variants", default="128x2x4,256x4x4",
                    help="WIDTHxHEADSxLAYERS[p],... (p: the pooled-prompt branch)")
    ap.add_argument("--out", default="benchmarks/dit-capacity-cpu.json")
    args = ap.parse_args()
    from liveedit_app.distill import distributed
    from liveedit_app.distill.batches import ensure_latent_set
    from liveedit_app.distill.config import load_config
    from liveedit_app.distill.evaluate import held_out_cases
    from liveedit_app.engine.dit import CausalDiT

    def config(dim: int, heads: int, layers: int, pooled: bool = False) -> str:
        return CONFIG.format(
            size=args.size, dim=dim, ffn=3 * dim, heads=heads, layers=layers,
            pooled=str(pooled).lower(), clips=args.clips,
            ae_clips=min(args.clips, 300), ae_minutes=args.ae_minutes, minutes=args.minutes,
            batch=args.batch, heldout=args.heldout, ode_steps=args.ode_steps,
            photos=REPO / ".scratch" / "photo_bank.npz",
            prompts=REPO / ".scratch" / "prompts.safetensors")

    work = Path(tempfile.mkdtemp(prefix="dit-capacity-"))
    base = work / "base"
    base.mkdir()
    (base / "config.toml").write_text(config(128, 2, 4))
    began = time.perf_counter()
    train("ae", base / "config.toml", base)
    ae_metrics = json.loads((base / "ae" / "metrics.json").read_text())
    cfg = load_config(base / "config.toml")
    ensure_latent_set(cfg, base, distributed.setup("cpu"))
    cases = held_out_cases(cfg)
    print(f"autoencoder {ae_metrics.get('psnr_heldout_db')} dB held-out, {args.clips} clips, "
          f"{time.perf_counter() - began:.0f} s", flush=True)

    results = []
    for variant in args.variants.split(","):
        pooled = variant.endswith("p")  # 128x2x4p: with the pooled-prompt branch
        dim, heads, layers = (int(v) for v in variant.rstrip("p").split("x"))
        run = work / variant
        run.mkdir()
        for shared in ("ae", "latents"):
            shutil.copytree(base / shared, run / shared)
        toml = run / "config.toml"
        toml.write_text(config(dim, heads, layers, pooled))
        t0 = time.perf_counter()
        train("stage1", toml, run)
        train_s = time.perf_counter() - t0
        curve = losses(run)
        steps = curve[-1][0] if curve else 0
        params = sum(p.numel() for p in CausalDiT(load_config(toml).model.dit).parameters())
        row = {"variant": variant, "dim": dim, "heads": heads, "layers": layers,
               "pooled_text": pooled,
               "params": params, "steps": steps, "train_s": round(train_s, 1),
               "step_ms": round(1000 * args.minutes * 60 / max(steps, 1), 1),
               "final_loss": loss_at(curve, steps), "curve": curve,
               "teacher": score_teacher(toml, run, cases)}
        results.append(row)
        print(f"{variant}: {params / 1e6:.2f} M params, {steps} steps "
              f"({row['step_ms']} ms), loss {row['final_loss']}, teacher {row['teacher']}",
              flush=True)
    # the training loss of every variant at the fewest steps any variant reached
    common = min(r["steps"] for r in results)
    for r in results:
        r["loss_at_common_steps"] = loss_at(r["curve"], common)
    report = {"what": __doc__.split("\n\n")[0], "command": " ".join(sys.argv),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch "
                         f"{torch.__version__}",
              "size": args.size, "minutes_each": args.minutes, "clips": args.clips,
              "heldout_clips": args.heldout, "ode_steps": args.ode_steps,
              "autoencoder_psnr_heldout_db": ae_metrics.get("psnr_heldout_db"),
              "common_steps": common, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    for r in results:
        print(f"{r['variant']}: loss at {common} steps {r['loss_at_common_steps']}")


if __name__ == "__main__":
    main()

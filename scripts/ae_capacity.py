"""How much of each edit an autoencoder can carry: train stage 0 for a few minutes per variant
(latent channels, width) on the same frames, then decode every edit's held-out target through it
(the per-edit ceiling no DiT can beat). A quick, small-size comparison for choosing the next
model's autoencoder, not a trained model. Prints a table and writes JSON.

    python scripts/ae_capacity.py [--size 128] [--minutes 5] [--variants 8x32,16x32,8x48]
        [--out benchmarks/ae-capacity-cpu.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
CONFIG = """model = "tiny"
seed = 0
device = "cpu"
precision = "bf16"

[model_overrides]
resolution = [{size}, {size}]
autoencoder_params = {{ latent_channels = {channels}, width = {width} }}

[model_overrides.dit]
latent_channels = {channels}

[data]
height = {size}
width = {size}
latent_frames = 12
clips = 8
ae_clips = {clips}
workers = -1
photo_bank = "{photos}"
text_table = "{prompts}"

[ae]
minutes = {minutes}
steps = 100000
batch = 32
lr = 1e-3
warmup = 100
log_every = 100
save_every = 100000
"""


@torch.no_grad()
def ceilings(cfg, out: Path, clips: int) -> dict[str, float]:
    """PSNR of encode -> decode of every edit's target over `clips` held-out scenes."""
    from liveedit_app.distill.data.edits import EDITS
    from liveedit_app.distill.data.generator import EditExampleGenerator, to_uint8
    from liveedit_app.distill.stage0_autoencoder import load_autoencoder

    ae = load_autoencoder(cfg, out, torch.device("cpu"))
    gen = EditExampleGenerator(cfg.data.height, cfg.data.width, 4, "heldout")
    err: dict[str, list[float]] = {e.key: [] for e in EDITS}
    for i in range(clips):
        scene = gen.scene(i)
        for e in EDITS:
            target = torch.from_numpy(to_uint8(e.apply(scene))).permute(0, 3, 1, 2).float() / 255
            rec = ae.decode(ae.encode(target[:, None]))[:, 0].float().clamp(0, 1)
            err[e.key].append(float(((rec - target) ** 2).mean()))
    return {k: round(10 * math.log10(1 / max(sum(v) / len(v), 1e-10)), 2) for k, v in err.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--clips", type=int, default=200, help="training clips (sources + targets)")
    ap.add_argument("--heldout", type=int, default=12, help="held-out scenes for the ceilings")
    ap.add_argument("--variants", default="8x32,16x32,8x48", help="CHANNELSxWIDTH,...")
    ap.add_argument("--out", default="benchmarks/ae-capacity-cpu.json")
    args = ap.parse_args()
    from liveedit_app.distill.config import load_config
    from liveedit_app.distill.stage0_autoencoder import new_autoencoder

    results = []
    work = Path(tempfile.mkdtemp(prefix="ae-capacity-"))
    for variant in args.variants.split(","):
        channels, width = (int(v) for v in variant.split("x"))
        run = work / variant
        run.mkdir()
        toml = run / "config.toml"
        toml.write_text(CONFIG.format(
            size=args.size, channels=channels, width=width, clips=args.clips,
            minutes=args.minutes, photos=REPO / ".scratch" / "photo_bank.npz",
            prompts=REPO / ".scratch" / "prompts.safetensors"))
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "liveedit_app.cli.train", "ae", "--config",
                               str(toml), "--out", str(run)], capture_output=True, text=True,
                              cwd=REPO)
        if done.returncode != 0:
            raise SystemExit(f"{variant}: stage 0 failed:\n{done.stderr[-2000:]}")
        metrics = json.loads((run / "ae" / "metrics.json").read_text())
        cfg = load_config(toml)
        per_edit = ceilings(cfg, run, args.heldout)
        params = sum(p.numel() for p in new_autoencoder(cfg).parameters())
        row = {"latent_channels": channels, "width": width, "params": params,
               "steps": metrics.get("steps"), "heldout_psnr_db": metrics.get("psnr_heldout_db"),
               "mean_target_ceiling_db": round(float(np.mean(list(per_edit.values()))), 2),
               "per_edit_ceiling_db": per_edit,
               "wall_s": round(time.perf_counter() - began, 1)}
        results.append(row)
        worst = sorted(per_edit.items(), key=lambda kv: kv[1])[:4]
        print(f"{variant}: {params / 1e6:.2f} M params, {row['steps']} steps, held-out "
              f"{row['heldout_psnr_db']} dB, targets {row['mean_target_ceiling_db']} dB, "
              f"worst {worst}", flush=True)
    report = {"what": __doc__.split("\n\n")[0], "command": " ".join(sys.argv),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch "
                         f"{torch.__version__}",
              "size": args.size, "minutes_each": args.minutes, "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Stage 0: train the image autoencoder on procedural frames (sources and edit targets), then
fix its latent statistics so the DiT sees zero-mean, unit-variance latents.

Output: `<out>/ae/autoencoder.safetensors` and `<out>/ae/metrics.json` (held-out PSNR).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from liveedit_app.distill import distributed
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.data.pool import generate_pool
from liveedit_app.distill.trainer import Meter, Run, adamw, clip_and_step, set_lr
from liveedit_app.engine.autoencoder import LiveEditAE

WEIGHTS = "autoencoder.safetensors"


class _Reconstruct(nn.Module):
    """encode_raw → decode_raw as one forward, so DDP can wrap it."""

    def __init__(self, ae: LiveEditAE) -> None:
        super().__init__()
        self.ae = ae

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.ae.encode_raw(x)
        return self.ae.decode_raw(z), z


def new_autoencoder(cfg: TrainConfig) -> LiveEditAE:
    return LiveEditAE(**cfg.model.autoencoder_params)


def load_autoencoder(cfg: TrainConfig, out: str | Path, device: torch.device) -> LiveEditAE:
    ae = new_autoencoder(cfg)
    ae.load_state_dict(load_file(str(Path(out) / "ae" / WEIGHTS)))
    return ae.to(device).eval().requires_grad_(False)


def _frames(cfg: TrainConfig, count: int, split: str, start: int = 0) -> torch.Tensor:
    """Every source and target frame of `count` clips: uint8 [N, 3, H, W]."""
    d = cfg.data
    workers = None if d.workers < 0 else d.workers
    pool = generate_pool(count, height=d.height, width=d.width, frames=d.latent_frames,
                         split=split, start=start, workers=workers)
    both = np.concatenate([pool.source, pool.target]).reshape(-1, d.height, d.width, 3)
    return torch.from_numpy(both).permute(0, 3, 1, 2).contiguous()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = F.mse_loss(a.float().clamp(0, 1), b.float()).item()
    return 10 * math.log10(1 / max(mse, 1e-10))


@torch.no_grad()
def evaluate(ae: LiveEditAE, frames: torch.Tensor, device: torch.device) -> float:
    """PSNR (dB) of encode → decode over uint8 frames [N, 3, H, W]."""
    mse = []
    for i in range(0, len(frames), 32):
        x = frames[i:i + 32].to(device).float() / 255
        rec = ae.decode(ae.encode(x[:, None]))[:, 0]
        mse.append(F.mse_loss(rec.float(), x, reduction="none").mean((1, 2, 3)))
    return 10 * math.log10(1 / max(torch.cat(mse).mean().item(), 1e-10))


def run(cfg: TrainConfig, out: str | Path) -> dict:
    r = Run(cfg, out, "ae")
    s = r.scfg
    if r.dist.main:  # written again at the end: until then a generator must not encode with it
        (r.folder / "metrics.json").unlink(missing_ok=True)
    # clips first: the generator forks worker processes, which is safest before CUDA starts
    per_rank = math.ceil(cfg.data.ae_clips / r.dist.world)
    frames = _frames(cfg, per_rank, "train", start=r.dist.rank * per_rank)  # this rank's shard
    held = _frames(cfg, max(8, cfg.data.ae_clips // 16), "heldout") if r.dist.main else None
    # every rank trains on the same set, in one process's order: [source | target][clip, frame]
    frames = distributed.gather_rows(frames, r.dist)
    frames = frames.unflatten(0, (r.dist.world, 2, -1)).transpose(0, 1).flatten(0, 2)
    ae = new_autoencoder(cfg).to(r.device)
    model = distributed.wrap(_Reconstruct(ae), r.dist)
    opt = adamw(model.parameters(), s.lr, s)
    step, _ = r.resume({"autoencoder": ae}, {"opt": opt})
    if r.dist.main:
        print(f"[ae] {len(frames)} training frames", flush=True)
    meter = Meter()
    while step < s.steps and not r.out_of_time():
        idx = r.local(torch.randint(len(frames), (s.batch,), generator=r.generator))
        x = frames[idx].to(r.device).float() / 255
        set_lr(opt, s.lr, step, s.warmup, r.progress(step), s.lr_final)
        with r.autocast():
            rec, z = model(x)
        rec = rec.float()
        l1 = (rec - x).abs().mean()
        mse = F.mse_loss(rec, x)
        # keep latents near unit scale so the normalisation below is mild
        reg = 1e-4 * z.float().pow(2).mean()
        loss = l1 + mse + reg
        loss.backward()
        clip_and_step(opt, model, s.grad_clip)
        meter.add(loss=loss, mse=mse)
        step += 1
        if r.should_log(step):
            means = meter.flush(r.dist)
            r.log.log(step, loss=means["loss"], psnr=10 * math.log10(1 / max(means["mse"], 1e-10)))
        if r.should_save(step):
            r.save(step, {"autoencoder": ae}, {"opt": opt})
    if not r.should_save(step):  # stopped by the minute budget between saves
        r.save(step, {"autoencoder": ae}, {"opt": opt})

    ae.eval()
    with torch.no_grad():
        sample = frames[torch.randperm(len(frames), generator=r.generator)[:512]]
        z = torch.cat([ae.encode_raw(sample[i:i + 64].to(r.device).float() / 255)
                       for i in range(0, len(sample), 64)])
        ae.set_latent_stats(z.mean((0, 2, 3)), z.std((0, 2, 3)))
    metrics = {}
    if r.dist.main:
        metrics = {"psnr_heldout_db": round(evaluate(ae, held, r.device), 2),
                   "steps": step, "train_frames": len(frames)}
        save_file({k: v.detach().cpu().contiguous() for k, v in ae.state_dict().items()},
                  str(r.folder / WEIGHTS))
        (r.folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
        print(f"[ae] held-out reconstruction PSNR {metrics['psnr_heldout_db']} dB", flush=True)
    r.finish()
    return metrics

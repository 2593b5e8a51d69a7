"""Training batches for stages 1-3: the encoded latent set plus prompt embeddings.

The latent set is built once per run folder (`<out>/latents/train.safetensors`, by rank 0) and
reused by every later stage. Each rank draws its own random examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from liveedit_app.distill import distributed
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.latents import LatentSet, absorb_blocks, build_latent_set, concat
from liveedit_app.distill.prompts import prompt_embeddings
from liveedit_app.distill.stage0_autoencoder import load_autoencoder


@dataclass
class Batch:
    source: torch.Tensor  # [B, F, C, h, w]
    target: torch.Tensor  # [B, F, C, h, w]
    mask: torch.Tensor  # [B, F, 1, h, w], ones for global styles
    region: torch.Tensor  # [B] bool
    ctx: torch.Tensor  # [B, L, text_dim]; zeros where the prompt was dropped
    edit: torch.Tensor  # [B] long


def latent_set_path(out: str | Path, split: str = "train") -> Path:
    return Path(out) / "latents" / f"{split}.safetensors"


def pixel_blocks_dir(out: str | Path) -> Path:
    """Where `liveedit train data` leaves generated clips for the trainer."""
    return Path(out) / "pixels"


def ensure_latent_set(cfg: TrainConfig, out: str | Path, d: distributed.Dist) -> LatentSet:
    """The encoded training clips: those encoded by earlier stages, plus every block a
    background generator has finished since (waiting until `data.clips_min` are in hand), or,
    with no generator, `data.clips` clips generated here."""
    path = latent_set_path(out)
    if d.main:
        parts = [LatentSet.load(path)] if path.is_file() else []
        blocks = pixel_blocks_dir(out)
        fresh = []
        if blocks.is_dir():
            ae = load_autoencoder(cfg, out, d.device)
            have = sum(len(p) for p in parts)
            fresh = absorb_blocks(ae, blocks, d.device, have, cfg.data.clips_min or
                                  cfg.data.clips)
        elif not parts:
            ae = load_autoencoder(cfg, out, d.device)
            fresh = [build_latent_set(ae, cfg.data, count=cfg.data.clips, split="train",
                                      device=d.device)]
        if fresh:
            path.parent.mkdir(parents=True, exist_ok=True)
            concat(parts + fresh).save(path)
    distributed.barrier(d)
    return LatentSet.load(path)


class Batches:
    def __init__(self, cfg: TrainConfig, out: str | Path, d: distributed.Dist,
                 generator: torch.Generator) -> None:
        self.data = ensure_latent_set(cfg, out, d).to(d.device)
        self.prompts = prompt_embeddings(cfg.data.text_table,
                                         cfg.model.dit.text_len).to(d.device)
        self.generator = generator
        self.dist = d
        self.device = d.device
        self.chunk_frames = cfg.model.sampler.chunk_frames

    def sample(self, batch: int, cfg_dropout: float = 0.0) -> Batch:
        """This rank's rows of a global batch of `batch` examples (all of it in one process)."""
        idx = torch.randint(len(self.data), (batch,), generator=self.generator)
        ex = self.data.take(distributed.local(idx, self.dist))
        ctx = self.prompts[ex.instruction]
        if cfg_dropout > 0:
            keep = torch.rand(batch, generator=self.generator) >= cfg_dropout
            keep = distributed.local(keep, self.dist)
            ctx = ctx * keep.to(self.device, ctx.dtype)[:, None, None]
        grow = int(torch.randint(2, (1,), generator=self.generator))
        mask = chunk_mask(ex.mask.float(), self.chunk_frames, grow)
        return Batch(ex.source.float(), ex.target.float(), mask, ex.region, ctx, ex.edit)


def chunk_mask(mask: torch.Tensor, chunk_frames: int, grow: int = 0) -> torch.Tensor:
    """The mask a streaming editor is given: one mask per chunk (the union of the object's
    masks over the chunk's frames, as a user's brush or a tracker provides), grown by `grow`
    latent pixels. [B, F, 1, h, w] -> same shape. The edit target still covers only the object,
    so the model learns to find it inside a rough mask."""
    b, f = mask.shape[:2]
    pad = -f % chunk_frames
    m = torch.cat([mask, mask[:, -1:].expand(-1, pad, -1, -1, -1)], 1) if pad else mask
    m = m.unflatten(1, (-1, chunk_frames)).amax(dim=2, keepdim=True)
    m = m.expand(-1, -1, chunk_frames, -1, -1, -1).flatten(1, 2)[:, :f]
    if grow:
        k = 2 * grow + 1
        m = torch.nn.functional.max_pool2d(m.flatten(0, 1), k, stride=1, padding=grow)
        m = m.unflatten(0, (b, f))
    return m

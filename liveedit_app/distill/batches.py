"""Training batches for stages 1-3: the encoded latent set plus prompt embeddings.

The latent set is built per run folder by rank 0 (`<out>/latents/train.safetensors`, then one
`train_NNNNN.safetensors` per later take of generator blocks) and reused by every later stage.
Each rank draws its own random examples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from liveedit_app.distill import distributed
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.data.blocks import produce
from liveedit_app.distill.latents import (
    LatentSet,
    absorb_blocks,
    build_latent_set,
    concat,
    encode_pool,
)
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


def latents_dir(out: str | Path) -> Path:
    return Path(out) / "latents"


def latent_parts(out: str | Path) -> list[Path]:
    """The encoded training clips of a run folder, one file per absorb (append-only)."""
    return sorted(latents_dir(out).glob("train*.safetensors"))


def save_part(out: str | Path, part: LatentSet) -> None:
    folder = latents_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(latent_parts(out))
    path = folder / ("train.safetensors" if n == 0 else f"train_{n:05d}.safetensors")
    tmp = path.with_suffix(".tmp")
    part.save(tmp)
    tmp.replace(path)


def pixel_blocks_dir(out: str | Path) -> Path:
    """Where `liveedit train data` leaves generated clips for the trainer."""
    return Path(out) / "pixels"


def block_encoder(cfg: TrainConfig, out: str | Path):
    """The background generator's encoder: latents once stage 0 has finished (its metrics file
    is written last), None (pixel blocks) before."""
    ready, loaded = Path(out) / "ae" / "metrics.json", {}

    def encode(pool):
        if not loaded:
            if not ready.is_file():
                return None
            loaded["device"] = distributed.pick_device(cfg.device)
            loaded["ae"] = load_autoencoder(cfg, out, loaded["device"])
        return encode_pool(loaded["ae"], pool, loaded["device"])

    return encode


def generate_blocks(cfg: TrainConfig, out: str | Path) -> None:
    """`liveedit train data`: make every training clip of the config as block files for the
    stages to take in, encoding them once the autoencoder exists."""
    d = cfg.data
    produce(pixel_blocks_dir(out), total=d.clips, block=d.block, max_pending=d.max_pending,
            height=d.height, width=d.width, frames=d.latent_frames,
            workers=None if d.workers < 0 else d.workers, edits_per_scene=d.edits_per_scene,
            encode=block_encoder(cfg, out))


def ensure_latent_set(cfg: TrainConfig, out: str | Path, d: distributed.Dist) -> LatentSet:
    """The encoded training clips: those encoded by earlier stages, plus every block a
    background generator has finished since (waiting until `data.clips_min` are in hand), or,
    with no generator, `data.clips` clips generated here."""
    if d.main:
        have = sum(LatentSet.clips_in(p) for p in latent_parts(out))
        blocks = pixel_blocks_dir(out)
        fresh = None
        if blocks.is_dir():
            ae = load_autoencoder(cfg, out, d.device)
            fresh = absorb_blocks(ae, blocks, d.device, have, cfg.data.clips_min or
                                  cfg.data.clips)
        elif not have:
            ae = load_autoencoder(cfg, out, d.device)
            fresh = build_latent_set(ae, cfg.data, count=cfg.data.clips, split="train",
                                     device=d.device)
        if fresh is not None:
            save_part(out, fresh)
    distributed.barrier(d)
    return concat([LatentSet.load(p) for p in latent_parts(out)])


class Batches:
    def __init__(self, cfg: TrainConfig, out: str | Path, d: distributed.Dist,
                 generator: torch.Generator) -> None:
        self.data = ensure_latent_set(cfg, out, d).to(d.device)
        self.cfg, self.out = cfg, out
        self.absorbed_at = time.monotonic()
        self.ae = None
        self.prompts = prompt_embeddings(cfg.data.text_table,
                                         cfg.model.dit.text_len).to(d.device)
        self.generator = generator
        self.dist = d
        self.device = d.device
        self.chunk_frames = cfg.model.sampler.chunk_frames

    def absorb(self) -> int:
        """Take in the blocks a background generator finished since the stage began (one
        process only: ranks would disagree on the set). Returns the clips added."""
        self.absorbed_at = time.monotonic()
        blocks = pixel_blocks_dir(self.out)
        if self.dist.world > 1 or not blocks.is_dir():
            return 0
        if self.ae is None:
            self.ae = load_autoencoder(self.cfg, self.out, self.device)
        part = absorb_blocks(self.ae, blocks, self.device, 0, 0, log=lambda *_: None)
        if part is None:
            return 0
        save_part(self.out, part)
        self.data = concat([self.data, part.to(self.device)])
        return len(part)

    def sample(self, batch: int, cfg_dropout: float = 0.0,
               generator: torch.Generator | None = None) -> Batch:
        """This rank's rows of a global batch of `batch` examples (all of it in one process).
        `generator`: draw with it instead of the run's (a batch outside the training stream)."""
        gen = generator or self.generator
        every = self.cfg.data.absorb_seconds
        if generator is None and every > 0 and time.monotonic() - self.absorbed_at > every:
            self.absorb()
        idx = torch.randint(len(self.data), (batch,), generator=gen)
        ex = self.data.take(distributed.local(idx, self.dist))
        ctx = self.prompts[ex.instruction]
        if cfg_dropout > 0:
            keep = torch.rand(batch, generator=gen) >= cfg_dropout
            keep = distributed.local(keep, self.dist)
            ctx = ctx * keep.to(self.device, ctx.dtype)[:, None, None]
        grow = int(torch.randint(2, (1,), generator=gen))
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

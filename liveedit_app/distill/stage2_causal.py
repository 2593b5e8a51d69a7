"""Stage 2: causal adaptation with real teacher forcing (brief §7, which the reference names but
does not do). Starting from stage 1, every chunk of `chunk_frames` latent frames is denoised at
its own timestep while attending, through the block-causal mask, to the *clean target* latents
of the earlier chunks, exactly the context a streaming KV cache holds after the refresh pass."""

from __future__ import annotations

from pathlib import Path

import torch

from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.flow import sample_timesteps
from liveedit_app.distill.flow_training import DIT_WEIGHTS, train_flow


def run(cfg: TrainConfig, out: str | Path) -> dict:
    shift = cfg.stage2.shift
    chunk = cfg.model.sampler.chunk_frames

    def timesteps(b: int, f: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        chunks = -(-f // chunk)
        t = sample_timesteps((b, chunks), shift, gen, device)  # independent t per chunk
        return t.repeat_interleave(chunk, dim=1)[:, :f]

    def forward(model, batch, x_t, t):
        return model(x_t, batch.source, t, batch.ctx, mask=batch.mask, attn="block_causal",
                     chunk_frames=chunk, clean_x=batch.target)

    return train_flow(cfg, out, "stage2", forward=forward, timesteps=timesteps,
                      init=Path(out) / "stage1" / DIT_WEIGHTS,
                      description="Stage-2 causal editor (block-causal, teacher forcing).")

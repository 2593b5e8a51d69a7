"""Stage 1: the bidirectional editor. Full attention over the whole clip, one timestep per clip,
flow matching on the edit pairs; prompts dropped now and then so it can guide itself (CFG).
It becomes the frozen teacher (real score) and the critic's start in stage 3."""

from __future__ import annotations

from pathlib import Path

import torch

from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.flow import sample_timesteps
from liveedit_app.distill.flow_training import train_flow


def run(cfg: TrainConfig, out: str | Path) -> dict:
    shift = cfg.stage1.shift

    def timesteps(b: int, f: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        return sample_timesteps((b, 1), shift, gen, device).expand(b, f)

    def forward(model, batch, x_t, t):
        return model(x_t, batch.source, t, batch.ctx, mask=batch.mask, attn="full")

    return train_flow(cfg, out, "stage1", forward=forward, timesteps=timesteps, init=None,
                      description="Stage-1 bidirectional teacher (full attention; not for "
                                  "streaming).")

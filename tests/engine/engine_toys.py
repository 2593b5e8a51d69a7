"""Toy-sized models shared by the engine tests."""

from __future__ import annotations

import torch

from liveedit_app.engine.config import DiTConfig
from liveedit_app.engine.dit import CausalDiT

TOY = DiTConfig(dim=64, ffn_dim=128, heads=2, layers=2, latent_channels=4, text_dim=16,
                text_len=8)


def toy_dit(cfg: DiTConfig = TOY, seed: int = 0) -> CausalDiT:
    torch.manual_seed(seed)
    return CausalDiT(cfg).eval()


def toy_inputs(frames: int, size: int = 8, cfg: DiTConfig = TOY, seed: int = 1):
    """x_t, y_src [1, F, C, size, size], ctx [1, L, text_dim]."""
    g = torch.Generator().manual_seed(seed)
    c = cfg.latent_channels
    x = torch.randn(1, frames, c, size, size, generator=g)
    y = torch.randn(1, frames, c, size, size, generator=g)
    ctx = torch.randn(1, cfg.text_len, cfg.text_dim, generator=g)
    return x, y, ctx

"""Wan2.1 latent normalisation (brief §6): z = (mu − mean) / std per latent channel.

The DiT and the tiny autoencoder work on normalised latents; the full Wan VAE produces and consumes
raw ones, so only the Wan VAE path goes through these two functions.
"""

from __future__ import annotations

import torch

WAN_LATENT_MEAN = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)  # fmt: skip
WAN_LATENT_STD = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)  # fmt: skip


def _per_channel(values, like: torch.Tensor, channel_dim: int) -> torch.Tensor:
    shape = [1] * like.ndim
    shape[channel_dim] = len(values)
    return torch.tensor(values, dtype=torch.float32, device=like.device).view(shape)


def normalize(mu: torch.Tensor, channel_dim: int = 2) -> torch.Tensor:
    """Raw Wan VAE latent → normalised latent; channel_dim 2 for [B, T, C, H, W]."""
    mean = _per_channel(WAN_LATENT_MEAN, mu, channel_dim)
    std = _per_channel(WAN_LATENT_STD, mu, channel_dim)
    return ((mu.float() - mean) / std).to(mu.dtype)


def denormalize(z: torch.Tensor, channel_dim: int = 2) -> torch.Tensor:
    """Normalised latent → raw Wan VAE latent (the input of the Wan VAE decoder)."""
    mean = _per_channel(WAN_LATENT_MEAN, z, channel_dim)
    std = _per_channel(WAN_LATENT_STD, z, channel_dim)
    return (z.float() * std + mean).to(z.dtype)

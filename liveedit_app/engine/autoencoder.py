"""The project's own image autoencoder ("liveedit-ae"): 8x spatial, no temporal compression, so
every video frame is one latent frame and a chunk of frames encodes and decodes as one batch.

Lean enough for a laptop CPU at 256x256: pixel (un)shuffle does the first and last 2x, plain
3x3 convolutions with ReLU the rest. Trained by the distillation pipeline (stage 0) with
`encode_raw`/`decode_raw`; after training, `set_latent_stats` makes `encode` return latents with
zero mean and unit variance per channel (what the DiT is trained on).

Pixels are in [0, 1]; frames are [B, F, 3, H, W] at the boundary, H and W multiples of 8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv1 = _conv(ch, ch)
        self.conv2 = _conv(ch, ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class Encoder(nn.Module):
    """[N, 3, H, W] -> [N, C, H/8, W/8]."""

    def __init__(self, latent_channels: int, width: int) -> None:
        super().__init__()
        w = width
        self.stem = _conv(12, w)  # after pixel_unshuffle(2): H/2
        self.down1 = _conv(w, 2 * w, stride=2)  # H/4
        self.down2 = _conv(2 * w, 4 * w, stride=2)  # H/8
        self.res = ResBlock(4 * w)
        self.out = nn.Conv2d(4 * w, latent_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(F.pixel_unshuffle(x, 2)))
        x = F.relu(self.down1(x))
        x = F.relu(self.down2(x))
        return self.out(self.res(x))


class Decoder(nn.Module):
    """[N, C, h, w] -> [N, 3, 8h, 8w] (unclamped)."""

    def __init__(self, latent_channels: int, width: int) -> None:
        super().__init__()
        w = width
        self.stem = _conv(latent_channels, 4 * w)
        self.res = ResBlock(4 * w)
        self.up1 = _conv(4 * w, 4 * 2 * w)  # pixel_shuffle -> 2w at 2h
        self.mid = _conv(2 * w, 2 * w)
        self.up2 = _conv(2 * w, 4 * w)  # pixel_shuffle -> w at 4h
        self.out = _conv(w, 12)  # pixel_shuffle -> 3 at 8h

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.res(F.relu(self.stem(z)))
        x = F.relu(F.pixel_shuffle(self.up1(x), 2))
        x = F.relu(self.mid(x))
        x = F.relu(F.pixel_shuffle(self.up2(x), 2))
        return F.pixel_shuffle(self.out(x), 2)


class LiveEditAE(nn.Module):
    spatial_factor = 8
    temporal_factor = 1

    def __init__(self, latent_channels: int = 8, width: int = 32) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        self.width = width
        self.encoder = Encoder(latent_channels, width)
        self.decoder = Decoder(latent_channels, width)
        self.register_buffer("latent_mean", torch.zeros(latent_channels))
        self.register_buffer("latent_std", torch.ones(latent_channels))

    @property
    def params(self) -> dict[str, int]:
        return {"latent_channels": self.latent_channels, "width": self.width}

    def set_latent_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.latent_mean.copy_(mean)
        self.latent_std.copy_(std.clamp_min(1e-6))

    def encode_raw(self, images: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] in [0, 1] -> [N, C, H/8, W/8], unnormalised."""
        return self.encoder(images * 2 - 1)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """[N, C, h, w] unnormalised -> [N, 3, 8h, 8w], roughly [0, 1], unclamped."""
        return self.decoder(z) * 0.5 + 0.5

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """[B, F, 3, H, W] in [0, 1] -> normalised latents [B, F, C, H/8, W/8]."""
        b, f = frames.shape[:2]
        dtype = self.latent_mean.dtype
        z = self.encode_raw(frames.flatten(0, 1).to(self.encoder.stem.weight.dtype)).to(dtype)
        z = (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]
        return z.unflatten(0, (b, f))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents [B, F, C, h, w] -> [B, F, 3, 8h, 8w] clamped to [0, 1]."""
        b, f = z.shape[:2]
        z = z.flatten(0, 1).to(self.latent_std.dtype)
        z = z * self.latent_std[:, None, None] + self.latent_mean[:, None, None]
        out = self.decode_raw(z.to(self.decoder.stem.weight.dtype)).clamp(0, 1)
        return out.unflatten(0, (b, f))

    def reset(self) -> None:
        """No streaming state: every frame is coded on its own."""

"""The full Wan2.1 video VAE (brief §6), the quality option next to the tiny autoencoder.

Causal 3D convolutions; base width 96 with multipliers [1, 2, 4, 4], 2 residual blocks per stage
(3 in the decoder), one single-head spatial attention in the middle, no attention elsewhere.
4× in time (frame 0 alone, then groups of 4), 8× in space, 16 latent channels; the encoder's
32-channel head gives mu and log-variance and mu is used. Module names equal the published
`Wan2.1_VAE.pth`, so its state dict loads strictly.

Streaming: every causal convolution with a temporal kernel of 3 keeps the last two frames of its
input; a chunk of frames then gives exactly what the whole clip gives. Two rules make frame 0
special, as in the reference: the encoder's temporal downsamplers pass the first call through
without their time convolution, and the decoder's temporal upsamplers turn the first latent into
one frame (no time convolution) and see zeros as history on the second. Pixels are in [0, 1] on
the way in and clamped to [0, 1] on the way out (brief §1: no rescaling).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from liveedit_app.engine.checkpoint import load_state_strict
from liveedit_app.engine.wan.normalization import denormalize, normalize

Cache = dict[nn.Module, object]  # per causal module: its last input frames, or a first-call mark


class CausalConv3d(nn.Conv3d):
    """Conv3d whose time padding is all in the past; with a cache, the past is the previous
    call's last input frames instead of zeros."""

    def __init__(self, n_in: int, n_out: int, kernel, stride=1, padding=0) -> None:
        kernel = (kernel,) * 3 if isinstance(kernel, int) else tuple(kernel)
        padding = (padding,) * 3 if isinstance(padding, int) else tuple(padding)
        super().__init__(n_in, n_out, kernel, stride=stride, padding=(0, padding[1], padding[2]))
        self.history = 2 * padding[0]  # frames of past the time kernel needs

    def forward(self, x: torch.Tensor, cache: Cache | None = None) -> torch.Tensor:
        # x [B, C, T, H, W]
        if self.history == 0:
            return super().forward(x)
        past = cache.get(self) if cache is not None else None
        if past is None:
            past = x.new_zeros(*x.shape[:2], self.history, *x.shape[3:])
        x = torch.cat([past, x], 2)
        if cache is not None:
            cache[self] = x[:, :, -self.history :].clone()
        return super().forward(x)


class RMSNorm(nn.Module):
    """Unit L2 norm over channels, times sqrt(C) and a learned per-channel gain."""

    def __init__(self, dim: int, images: bool = True) -> None:
        super().__init__()
        self.scale = dim**0.5
        self.gamma = nn.Parameter(torch.ones(dim, 1, 1) if images else torch.ones(dim, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) * self.scale * self.gamma


class ResidualBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            RMSNorm(n_in, images=False), nn.SiLU(), CausalConv3d(n_in, n_out, 3, padding=1),
            RMSNorm(n_out, images=False), nn.SiLU(), nn.Dropout(0.0),
            CausalConv3d(n_out, n_out, 3, padding=1),
        )  # fmt: skip
        self.shortcut = CausalConv3d(n_in, n_out, 1) if n_in != n_out else nn.Identity()

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        h = self.shortcut(x)
        for layer in self.residual:
            x = layer(x, cache) if isinstance(layer, CausalConv3d) else layer(x)
        return x + h


class AttentionBlock(nn.Module):
    """Single-head self-attention over the pixels of each frame."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = RMSNorm(dim)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor, cache: Cache | None = None) -> torch.Tensor:
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        qkv = self.to_qkv(self.norm(frames)).view(b * t, 3 * c, h * w).transpose(1, 2)
        q, k, v = qkv.unsqueeze(1).chunk(3, dim=-1)  # [BT, 1, HW, C] each
        y = F.scaled_dot_product_attention(q, k, v).squeeze(1).transpose(1, 2)
        y = self.proj(y.reshape(b * t, c, h, w))
        return x + y.view(b, t, c, h, w).transpose(1, 2)


def _per_frame(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A 2D module over every frame of [B, C, T, H, W]."""
    b, _, t = x.shape[:3]
    y = module(x.transpose(1, 2).flatten(0, 1))
    return y.unflatten(0, (b, t)).transpose(1, 2)


class Resample(nn.Module):
    """2× spatial up/downsampling, with 2× temporal up/downsampling in the '3d' modes."""

    def __init__(self, dim: int, mode: str) -> None:
        super().__init__()
        self.mode = mode
        if mode.startswith("upsample"):
            self.resample = nn.Sequential(
                nn.Upsample(scale_factor=(2.0, 2.0), mode="nearest-exact"),
                nn.Conv2d(dim, dim // 2, 3, padding=1),
            )
        else:
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, 2))
        if mode == "upsample3d":
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode == "downsample3d":
            self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1))

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        if self.mode == "upsample3d":
            x = self._grow_time(x, cache)
        x = _per_frame(self.resample, x)
        if self.mode == "downsample3d":
            x = self._pool_time(x, cache)
        return x

    def _grow_time(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        """[B, C, T, H, W] → [B, C, 2T, H, W]; a stream's first latent stays one frame."""
        first = None
        if cache is not None and self not in cache:
            cache[self] = True  # the first latent has been seen
            first, x = x[:, :, :1], x[:, :, 1:]
            if x.shape[2] == 0:
                return first
        b, c, t, h, w = x.shape
        y = self.time_conv(x, cache).view(b, 2, c, t, h, w)
        y = torch.stack((y[:, 0], y[:, 1]), 3).reshape(b, c, 2 * t, h, w)
        return y if first is None else torch.cat([first, y], 2)

    def _pool_time(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        """[B, C, 1 + 2k, H, W] (stream start) → 1 + k frames; later [B, C, 2k, H, W] → k.
        The stream's first frame passes through and is the history of the next two."""
        past = cache.get(self) if cache is not None else None
        if cache is not None:
            cache[self] = x[:, :, -1:].clone()
        if past is None:
            first = x[:, :, :1]
            return first if x.shape[2] == 1 else torch.cat([first, self.time_conv(x)], 2)
        return self.time_conv(torch.cat([past, x], 2))


class Encoder3d(nn.Module):
    def __init__(self, dim=96, z_dim=32, mult=(1, 2, 4, 4), blocks=2, down=(False, True, True)):
        super().__init__()
        dims = [dim * m for m in (1, *mult)]
        self.conv1 = CausalConv3d(3, dims[0], 3, padding=1)
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            for _ in range(blocks):
                layers.append(ResidualBlock(n_in, n_out))
                n_in = n_out
            if i != len(mult) - 1:
                layers.append(Resample(n_out, "downsample3d" if down[i] else "downsample2d"))
        self.downsamples = nn.Sequential(*layers)
        top = dims[-1]
        self.middle = nn.Sequential(ResidualBlock(top, top), AttentionBlock(top),
                                    ResidualBlock(top, top))  # fmt: skip
        self.head = nn.Sequential(RMSNorm(top, images=False), nn.SiLU(),
                                  CausalConv3d(top, z_dim, 3, padding=1))  # fmt: skip

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        x = self.conv1(x, cache)
        for layer in (*self.downsamples, *self.middle):
            x = layer(x, cache)
        x = self.head[1](self.head[0](x))
        return self.head[2](x, cache)


class Decoder3d(nn.Module):
    def __init__(self, dim=96, z_dim=16, mult=(1, 2, 4, 4), blocks=2, up=(True, True, False)):
        super().__init__()
        dims = [dim * m for m in (mult[-1], *mult[::-1])]
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        top = dims[0]
        self.middle = nn.Sequential(ResidualBlock(top, top), AttentionBlock(top),
                                    ResidualBlock(top, top))  # fmt: skip
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            n_in = n_in // 2 if i > 0 else n_in  # the previous upsampler halved the channels
            for _ in range(blocks + 1):
                layers.append(ResidualBlock(n_in, n_out))
                n_in = n_out
            if i != len(mult) - 1:
                layers.append(Resample(n_out, "upsample3d" if up[i] else "upsample2d"))
        self.upsamples = nn.Sequential(*layers)
        self.head = nn.Sequential(RMSNorm(dims[-1], images=False), nn.SiLU(),
                                  CausalConv3d(dims[-1], 3, 3, padding=1))  # fmt: skip

    def forward(self, x: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        x = self.conv1(x, cache)
        for layer in (*self.middle, *self.upsamples):
            x = layer(x, cache)
        x = self.head[1](self.head[0](x))
        return self.head[2](x, cache)


class WanVAE(nn.Module):
    """Module tree of `Wan2.1_VAE.pth`: encoder, conv1 (mu | logvar), conv2, decoder."""

    def __init__(self, z_dim: int = 16, dim: int = 96) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.encoder = Encoder3d(dim=dim, z_dim=2 * z_dim)
        self.conv1 = CausalConv3d(2 * z_dim, 2 * z_dim, 1)
        self.conv2 = CausalConv3d(z_dim, z_dim, 1)
        self.decoder = Decoder3d(dim=dim, z_dim=z_dim)

    def load_published(self, state: dict[str, torch.Tensor],
                       source: str = "the Wan2.1 VAE file") -> None:
        """Strict load of a `Wan2.1_VAE.pth`-layout state dict; the first mismatch is named."""
        load_state_strict(self, state, source)

    def encode_mu(self, x: torch.Tensor, cache: Cache) -> torch.Tensor:
        """[B, 3, T, H, W] → raw mu [B, 16, T', H/8, W/8]. LiveEdit feeds [0, 1] pixels."""
        return self.conv1(self.encoder(x, cache))[:, : self.z_dim]

    def decode_raw(self, z: torch.Tensor, cache: Cache) -> torch.Tensor:
        """Raw latents [B, 16, T, h, w] → [B, 3, T', 8h, 8w] unclamped."""
        return self.decoder(self.conv2(z), cache)


class WanVAEAutoencoder(nn.Module):
    """The engine's autoencoder interface ("wan-vae" kind) over one stream.

    `encode` takes the stream's next frames and returns the latents they completed (frame 0
    alone, then one per 4 frames); `decode` takes the next normalised latents and returns their
    frames (1 for the stream's first latent, 4 for every other). `reset` starts a new stream.
    Pixels: [B, T, 3, H, W] in [0, 1]; latents: [B, T, 16, h, w], normalised (brief §6).
    """

    spatial_factor = 8
    temporal_factor = 4

    def __init__(self, model: WanVAE | None = None) -> None:
        super().__init__()
        self.model = model if model is not None else WanVAE()
        self.latent_channels = self.model.z_dim
        self.reset()

    def reset(self) -> None:
        self._enc_cache: Cache = {}
        self._dec_cache: Cache = {}
        self._pending: torch.Tensor | None = None
        self._encoded_frames = 0

    @property
    def _dtype(self) -> torch.dtype:
        return self.model.conv2.weight.dtype

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        if self._pending is not None:
            frames = torch.cat([self._pending, frames], 1)
        head = 1 if self._encoded_frames == 0 else 0
        usable = head + (frames.shape[1] - head) // 4 * 4 if frames.shape[1] >= head else 0
        self._pending = frames[:, usable:] if usable < frames.shape[1] else None
        b, _, _, h, w = frames.shape
        if usable == 0:
            return frames.new_zeros(b, 0, self.latent_channels, h // 8, w // 8)
        self._encoded_frames += usable
        x = frames[:, :usable].to(self._dtype).transpose(1, 2)  # [B, 3, T, H, W] in [0, 1]
        mu = self.model.encode_mu(x, self._enc_cache)
        return normalize(mu.transpose(1, 2), channel_dim=2)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raw = denormalize(z.to(self._dtype), channel_dim=2).transpose(1, 2)  # [B, 16, T, h, w]
        out = self.model.decode_raw(raw, self._dec_cache)
        return out.clamp(0, 1).transpose(1, 2)

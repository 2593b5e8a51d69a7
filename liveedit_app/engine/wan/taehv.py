"""A tiny streaming video autoencoder with the key layout of the public TAEHV weights
(`taew2_1.pth`, madebyollin/taehv), for real-time decoding of Wan2.1 latents.

Facts (brief §6): it works in the normalised Wan latent space and on pixels in [0, 1]. 4× in time,
8× in space, 16 latent channels. The encoder pools time by 2 in its first two stages; the decoder
grows time by 2 in its last two stages, and its first three output frames are trimmed so that 21
latents give 81 frames. Every MemBlock mixes a frame with the previous frame's input to that block,
so the model is causal: it can run over a whole clip at once or one chunk at a time with the same
result, given the last input of every MemBlock (`TAEHVStream`).

The module tree is two `nn.Sequential`s so that the state-dict keys are `encoder.<i>.…` and
`decoder.<i>.…` exactly as published.
"""

from __future__ import annotations

import torch
from torch import nn

from liveedit_app.errors import CheckpointError


def _conv(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class Clamp(nn.Module):
    """Soft clamp of latents to ±3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class MemBlock(nn.Module):
    """Residual block over [this frame, the previous frame's input to this block]."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv(2 * n, n), nn.ReLU(inplace=True), _conv(n, n), nn.ReLU(inplace=True), _conv(n, n)
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        # x, past: [N*T, C, H, W]
        return self.act(self.conv(torch.cat([x, past], 1)) + x)


class TPool(nn.Module):
    """`stride` consecutive frames → one frame (frames stacked on channels, earliest first)."""

    def __init__(self, n: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(n * stride, n, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape  # [N*T, C, H, W] → [N*T/stride, C, H, W]
        return self.conv(x.reshape(nt // self.stride, self.stride * c, h, w))


class TGrow(nn.Module):
    """One frame → `stride` consecutive frames (channel groups in time order)."""

    def __init__(self, n: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(n, n * stride, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape  # [N*T, C, H, W] → [N*T*stride, C, H, W]
        return self.conv(x).reshape(nt * self.stride, c, h, w)


def run_layers(layers: nn.Sequential, x: torch.Tensor, memory: list | None) -> torch.Tensor:
    """Apply `layers` to frames x [N, T, C, H, W] in parallel over time.

    `memory[i]` is the last input frame of MemBlock i from the previous call ([N, 1, C, H, W]) or
    None at the start of a stream (zeros: empty memory); it is updated in place. With memory None
    the call is a whole clip.
    """
    n = x.shape[0]
    x = x.flatten(0, 1)
    for i, layer in enumerate(layers):
        if isinstance(layer, MemBlock):
            frames = x.unflatten(0, (n, -1))  # [N, T, C, H, W]
            prev = memory[i] if memory is not None and memory[i] is not None else None
            if prev is None:
                prev = torch.zeros_like(frames[:, :1])
            past = torch.cat([prev, frames[:, :-1]], 1).flatten(0, 1)
            if memory is not None:
                memory[i] = frames[:, -1:].clone()
            x = layer(x, past)
        else:
            x = layer(x)
    return x.unflatten(0, (n, -1))


class TAEHV(nn.Module):
    """Encoder: [N, T, 3, H, W] in [0, 1] → [N, ceil(T/4), 16, H/8, W/8] (normalised Wan latents).
    Decoder: [N, T, 16, h, w] → [N, 4T − 3, 3, 8h, 8w] in [0, 1]."""

    def __init__(
        self,
        latent_channels: int = 16,
        encoder_time_downscale: tuple[bool, bool, bool] = (True, True, False),
        decoder_time_upscale: tuple[bool, bool, bool] = (False, True, True),
    ) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        enc: list[nn.Module] = [_conv(3, 64), nn.ReLU(inplace=True)]
        for pool in encoder_time_downscale:
            enc += [TPool(64, 2 if pool else 1), _conv(64, 64, stride=2, bias=False)]
            enc += [MemBlock(64), MemBlock(64), MemBlock(64)]
        enc.append(_conv(64, latent_channels))
        self.encoder = nn.Sequential(*enc)

        widths = (256, 128, 64, 64)
        dec: list[nn.Module] = [Clamp(), _conv(latent_channels, widths[0]), nn.ReLU(inplace=True)]
        for stage, grow in enumerate(decoder_time_upscale):
            n = widths[stage]
            dec += [MemBlock(n), MemBlock(n), MemBlock(n), nn.Upsample(scale_factor=2)]
            dec += [TGrow(n, 2 if grow else 1), _conv(n, widths[stage + 1], bias=False)]
        dec += [nn.ReLU(inplace=True), _conv(widths[-1], 3)]
        self.decoder = nn.Sequential(*dec)

        self.t_downscale = 2 ** sum(m.stride == 2 for m in self.encoder if isinstance(m, TPool))
        self.t_upscale = 2 ** sum(m.stride == 2 for m in self.decoder if isinstance(m, TGrow))
        self.frames_to_trim = self.t_upscale - 1
        self.space_scale = 8

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """A whole clip; time is padded to a multiple of 4 with the last frame."""
        short = -frames.shape[1] % self.t_downscale
        if short:
            frames = torch.cat([frames, frames[:, -1:].expand(-1, short, -1, -1, -1)], 1)
        return run_layers(self.encoder, frames, None)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """A whole clip; the first `frames_to_trim` frames are dropped."""
        return run_layers(self.decoder, latents, None).clamp(0, 1)[:, self.frames_to_trim :]

    def load_published(self, state: dict[str, torch.Tensor]) -> None:
        """Strict load of a state dict in the published layout.

        A published TGrow may hold more output channels than this config's stride uses (a file
        trained with time upscaling where this config has none): the last frame's rows are kept.
        """
        own = self.state_dict()
        state = dict(state)
        for key, value in own.items():
            got = state.get(key)
            if key.endswith("conv.weight") and got is not None and got.shape[0] > value.shape[0]:
                layer = self.decoder[int(key.split(".")[1])] if key.startswith("decoder.") else None
                if isinstance(layer, TGrow) and got.shape[1:] == value.shape[1:]:
                    state[key] = got[-value.shape[0] :]
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        bad = [k for k in own if k in state and state[k].shape != own[k].shape]
        if missing or unexpected or bad:
            first = (missing or unexpected or bad)[0]
            shape = tuple(state[first].shape) if first in state else None
            raise CheckpointError(
                "This tiny autoencoder file does not fit the TAEHV layout.",
                f"first mismatch: {first!r} (file shape {shape}, expected "
                f"{tuple(own[first].shape) if first in own else None}); "
                f"{len(missing)} missing, {len(unexpected)} unexpected, {len(bad)} wrong shape",
            )
        self.load_state_dict(state, strict=True)


class TAEHVStream:
    """Chunk-by-chunk encoding and decoding of one stream with exactly the whole-clip result.

    `encode` takes any number of new frames and returns the latents that became complete
    (4 frames each); `decode` takes any number of new latents and returns their frames, minus the
    three leading frames of the stream.
    """

    def __init__(self, model: TAEHV) -> None:
        self.model = model
        self.run = run_layers  # accelerate.compile_autoencoder puts a compiled one here
        self.reset()

    def reset(self) -> None:
        self._enc_memory: list = [None] * len(self.model.encoder)
        self._dec_memory: list = [None] * len(self.model.decoder)
        self._pending: torch.Tensor | None = None  # frames waiting for a full group of 4
        self._to_trim = self.model.frames_to_trim

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [N, T, 3, H, W] → latents [N, k, C, H/8, W/8], k ≥ 0."""
        if self._pending is not None:
            frames = torch.cat([self._pending, frames], 1)
        whole = frames.shape[1] - frames.shape[1] % self.model.t_downscale
        self._pending = frames[:, whole:] if whole < frames.shape[1] else None
        if whole == 0:
            n, _, _, h, w = frames.shape
            s = self.model.space_scale
            return frames.new_zeros(n, 0, self.model.latent_channels, h // s, w // s)
        return self.run(self.model.encoder, frames[:, :whole], self._enc_memory)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [N, T, C, h, w] → frames [N, 4T (− 3 on the first call), 3, 8h, 8w]."""
        frames = self.run(self.model.decoder, latents, self._dec_memory).clamp(0, 1)
        trim = min(self._to_trim, frames.shape[1])
        self._to_trim -= trim
        return frames[:, trim:]


class TAEHVAutoencoder(nn.Module):
    """The engine's autoencoder interface ("taehv" kind) over one stream.

    `encode` takes the next frames of the stream and returns the latents they completed (one per
    4 frames); `decode` takes the next latents and returns their frames (the stream's first
    decode returns 3 frames fewer: 21 latents → 81 frames). `reset` starts a new stream.
    """

    spatial_factor = 8
    temporal_factor = 4

    def __init__(self, model: TAEHV | None = None) -> None:
        super().__init__()
        self.model = model if model is not None else TAEHV()
        self.latent_channels = self.model.latent_channels
        self.stream = TAEHVStream(self.model)

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """[B, F, 3, H, W] in [0, 1] → normalised latents [B, k, 16, H/8, W/8]."""
        return self.stream.encode(frames.to(self.model.encoder[0].weight.dtype))

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents [B, F, 16, h, w] → [B, 4F (− 3 first), 3, 8h, 8w] in [0, 1]."""
        return self.stream.decode(z.to(self.model.decoder[1].weight.dtype))

    def reset(self) -> None:
        self.stream.reset()

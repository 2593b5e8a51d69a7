"""Bounded self-attention caches for streaming: a rolling window of latent frames per layer.

Layout: one preallocated buffer per K and V, [layers, B, heads, capacity, head_dim], capacity =
window_frames * tokens_per_frame, so memory is fixed for any stream length and SDPA reads a prefix
view of it without copies.

Frame f lives in frame slot `f` while the window fills, then sink frames keep slots [0, sink) and
the remaining slots form a ring: slot = sink + (f - sink) mod (window - sink). Attention does not
care about key order (positions are in the rotated keys), so the ring never moves data; the valid
keys are always the prefix of min(frames seen, window) frame slots.

Keys are stored rotated with RoPE at their position `f - offset`. On endless streams the position
would leave the RoPE table; `rebase` then rotates every cached key back by the same delta, which
keeps all relative distances (and so the attention scores) unchanged.
"""

from __future__ import annotations

import torch

from liveedit_app.engine.rope import full_width, rotate


class KVCache:
    def __init__(self, *, layers: int, batch: int, heads: int, head_dim: int,
                 tokens_per_frame: int, window_frames: int, sink_frames: int = 0,
                 dtype: torch.dtype = torch.bfloat16, device: torch.device | str = "cpu") -> None:
        if window_frames <= sink_frames:
            raise ValueError("window_frames must exceed sink_frames")
        self.tokens_per_frame = tokens_per_frame
        self.window_frames = window_frames
        self.sink_frames = sink_frames
        cap = window_frames * tokens_per_frame
        self.k = torch.zeros(layers, batch, heads, cap, head_dim, dtype=dtype, device=device)
        self.v = torch.zeros_like(self.k)
        self.frames_seen = 0  # absolute index one past the newest frame written
        self.offset = 0  # absolute frame index - RoPE position
        self._slot_cache: dict[tuple[int, int], torch.Tensor] = {}

    @property
    def capacity(self) -> int:
        return self.k.shape[3]

    def reset(self) -> None:
        self.k.zero_()
        self.v.zero_()
        self.frames_seen = 0
        self.offset = 0

    def frame_slot(self, f: int) -> int:
        ring = self.window_frames - self.sink_frames
        if f < self.window_frames:
            return f
        return self.sink_frames + (f - self.sink_frames) % ring

    def chunk_slots(self, frame_start: int, frames: int) -> torch.Tensor:
        """[frames, tokens_per_frame] token slots of a chunk (long, on the cache's device)."""
        # the ring successor of every slot is fixed, so the first slot names the whole list
        key = (self.frame_slot(frame_start), frames)
        slots = self._slot_cache.get(key)
        if slots is None:
            t = self.tokens_per_frame
            base = torch.tensor([self.frame_slot(frame_start + i) * t for i in range(frames)])
            slots = (base[:, None] + torch.arange(t)[None, :]).to(self.k.device)
            self._slot_cache[key] = slots
        return slots

    def chunk_span(self, frame_start: int, frames: int) -> tuple[int, int] | None:
        """The chunk's token slots as one (start, stop) range when its frame slots are
        consecutive (always, when the ring length is a multiple of the chunk), else None."""
        first = self.frame_slot(frame_start)
        if any(self.frame_slot(frame_start + i) != first + i for i in range(frames)):
            return None
        t = self.tokens_per_frame
        return first * t, (first + frames) * t

    def valid_tokens(self, frame_end: int) -> int:
        """Keys a query of a chunk ending at `frame_end` sees: the filled prefix."""
        return min(frame_end, self.window_frames) * self.tokens_per_frame

    def write(self, layer: int, slots: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              span: tuple[int, int] | None = None) -> None:
        """k, v [B, H, n, D] into token slots [n]; `span` (start, stop) when the slots are that
        contiguous range (`chunk_span`): a plain slice copy instead of an index copy."""
        if span is not None:
            self.k[layer][:, :, span[0]:span[1]].copy_(k)
            self.v[layer][:, :, span[0]:span[1]].copy_(v)
            return
        self.k[layer].index_copy_(2, slots, k)
        self.v[layer].index_copy_(2, slots, v)

    def rebase(self, delta: int, cos: torch.Tensor, sin: torch.Tensor) -> None:
        """Rotate every cached key by -delta time positions (cos/sin [D/2]: Rope3D.time_shift)."""
        n = self.valid_tokens(self.frames_seen)
        keys = self.k[:, :, :, :n]  # [L, B, H, n, D]
        c, s = full_width(cos, sin, torch.float32)
        keys.copy_(rotate(keys, c, s))  # [D] tables broadcast over [L, B, H, n, D]
        self.offset += delta

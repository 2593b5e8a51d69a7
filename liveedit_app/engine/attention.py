"""Attention layers of the Wan-layout DiT and the two ways self-attention gets its keys.

* `ParallelKeys`: the training forward; keys are the sequence itself, restricted by an optional
  boolean mask (see `block_causal_mask`).
* `CachedKeys`: streaming; the chunk's rotated K/V are written into their KV-cache slots and the
  queries read the cache's filled prefix (past chunks + the chunk itself). With autograd on, the
  keys are assembled out of place so the in-place cache writes of later passes never invalidate
  the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from liveedit_app.engine import split_attention
from liveedit_app.engine.kv_cache import KVCache
from liveedit_app.engine.rope import rotate


class RMSNorm(nn.Module):
    """RMS over the last dim with an fp32 statistic, then the weight (Wan's WanRMSNorm). The
    norm is reduced in fp32 without an fp32 copy of x; the scaling runs in x's dtype."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ms = torch.linalg.vector_norm(x, dim=-1, keepdim=True, dtype=torch.float32).square()
        scale = torch.rsqrt(ms / x.shape[-1] + self.eps)  # [..., 1] fp32
        return x * scale.to(x.dtype) * self.weight


class LayerNorm32(nn.LayerNorm):
    """LayerNorm with fp32 statistics (Wan's WanLayerNorm); affine only where the reference
    has it. torch's kernel accumulates bf16 input in fp32, so no fp32 copy is made."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


def block_causal_mask(frames: int, chunk_frames: int, tokens_per_frame: int, *,
                      teacher_forcing: bool = False, device: torch.device | str = "cpu"
                      ) -> torch.Tensor:
    """Boolean [N, N] mask, True = may attend, for the parallel forward.

    Chunk of frame f: c(f) = f // chunk_frames.
    * Plain: a query in chunk c sees keys in chunks <= c.
    * Teacher forcing (sequence = [clean frames 0..F-1 ; noisy frames 0..F-1], N = 2*F*T):
      a clean query in chunk c sees clean keys in chunks <= c; a noisy query in chunk c sees clean
      keys in chunks < c and noisy keys in chunk c only. Nothing sees another chunk's noisy keys.
    """
    c = torch.arange(frames, device=device) // chunk_frames
    causal = c[None, :] <= c[:, None]  # [Fq, Fk]
    if teacher_forcing:
        earlier = c[None, :] < c[:, None]
        same = c[None, :] == c[:, None]
        never = torch.zeros_like(causal)
        top = torch.cat([causal, never], dim=1)
        bottom = torch.cat([earlier, same], dim=1)
        causal = torch.cat([top, bottom], dim=0)
    return causal.repeat_interleave(tokens_per_frame, 0).repeat_interleave(tokens_per_frame, 1)


@dataclass
class ParallelKeys:
    """Self-attention over the sequence itself. cos/sin [N, 1, D] full-width RoPE rows
    (rope.full_width) for queries and keys alike; mask [N, N] bool or None."""

    cos: torch.Tensor
    sin: torch.Tensor
    mask: torch.Tensor | None = None

    @property
    def q_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos, self.sin

    @property
    def kv_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos, self.sin

    def attend(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
               ) -> torch.Tensor:
        """q, k, v [B, H, N, D] (rotated) -> [B, H, N, D]."""
        return F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask)


@dataclass
class CachedKeys:
    """Self-attention of one chunk pass against the KV cache.

    q_cos/q_sin [Nq, 1, D] (rope.full_width rows) belong to the query tokens; kv_cos/kv_sin
    [Nk, 1, D] and slots [Nk] to the tokens whose K/V this pass writes (the same tokens unless a
    mask cache computes queries for fewer). kv_len: the cache prefix the queries read. key_mask
    [kv_len] bool (True = visible) hides chunk slots that this pass does not rewrite.
    slot_range (start, stop): set when `slots` is that contiguous range (KVCache.chunk_span)."""

    cache: KVCache
    q_cos: torch.Tensor
    q_sin: torch.Tensor
    kv_cos: torch.Tensor
    kv_sin: torch.Tensor
    slots: torch.Tensor
    kv_len: int
    key_mask: torch.Tensor | None = None
    slot_range: tuple[int, int] | None = None

    @property
    def q_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.q_cos, self.q_sin

    @property
    def kv_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.kv_cos, self.kv_sin

    # a compiler boundary (see seal_compiler_boundaries): compiled code must not take over the
    # in-place writes into the 3 GB cache, and the growing kv_len would give it a new shape
    # every chunk
    def attend(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
               ) -> torch.Tensor:
        """q [B, H, Nq, D], k, v [B, H, Nk, D] (rotated) -> [B, H, Nq, D]."""
        if torch.is_grad_enabled() and (k.requires_grad or v.requires_grad):
            keys = self.cache.k[layer][:, :, :self.kv_len].index_copy(2, self.slots, k)
            vals = self.cache.v[layer][:, :, :self.kv_len].index_copy(2, self.slots, v)
            self.cache.write(layer, self.slots, k.detach(), v.detach())
        else:
            self.cache.write(layer, self.slots, k, v, self.slot_range)
            keys = self.cache.k[layer][:, :, :self.kv_len]
            vals = self.cache.v[layer][:, :, :self.kv_len]
        if self.key_mask is None and not torch.is_grad_enabled():
            return split_attention.attend(q, keys, vals)
        mask = None if self.key_mask is None else self.key_mask[None, :]  # [1, kv_len] broadcasts
        return F.scaled_dot_product_attention(q, keys, vals, attn_mask=mask)


def seal_compiler_boundaries() -> None:
    """Keep torch.compile out of `CachedKeys.attend`. Every compile path calls this first; it is
    not a decorator because torch.compiler.disable imports the compiler (~2 s at every start
    of the app, which never compiles a small model)."""
    attend = CachedKeys.attend
    if not getattr(attend, "_sealed", False):
        sealed = torch.compiler.disable(attend)
        sealed._sealed = True
        CachedKeys.attend = sealed


class _Projections(nn.Module):
    """q, k, v, o and the q/k RMSNorms, named as in Wan's attention layers."""

    def __init__(self, dim: int, heads: int, qk_norm: bool, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = RMSNorm(dim, eps) if qk_norm else nn.Identity()
        self.norm_k = RMSNorm(dim, eps) if qk_norm else nn.Identity()


class SelfAttention(_Projections):
    """Projections and RoPE (`query`, `key_value`: pure tensor functions, which
    wan/accelerate.py compiles) around the keys' `attend` (cache write + SDPA)."""

    def forward(self, x: torch.Tensor, keys: ParallelKeys | CachedKeys, layer: int,
                x_kv: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, N, C] -> [B, N, C]; K/V from x_kv [B, M, C] when given, else from x."""
        q = self.query(x, *keys.q_rows)
        k, v = self.key_value(x if x_kv is None else x_kv, *keys.kv_rows)
        out = keys.attend(layer, q, k, v)  # [B, H, N, D]
        return self.o(out.transpose(1, 2).flatten(2))

    def query(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """x [B, N, C], RoPE rows [N, 1, D] -> rotated q [B, H, N, D]."""
        b, n, _ = x.shape
        q = self.norm_q(self.q(x)).view(b, n, self.heads, -1)
        return rotate(q, cos, sin).transpose(1, 2)

    def key_value(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, M, C], RoPE rows [M, 1, D] -> rotated k, v [B, H, M, D]."""
        b, m, _ = x.shape
        k = self.norm_k(self.k(x)).view(b, m, self.heads, -1)
        v = self.v(x).view(b, m, self.heads, -1)
        return rotate(k, cos, sin).transpose(1, 2), v.transpose(1, 2)


class CrossAttention(_Projections):
    """Ungated text cross-attention; no key mask (all text slots, padding included, are seen)."""

    def context_kv(self, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ctx [B, L, C] -> k, v [B, H, L, D] (what the per-prompt cross-attention cache holds)."""
        b, n, _ = ctx.shape
        k = self.norm_k(self.k(ctx)).view(b, n, self.heads, -1).transpose(1, 2)
        v = self.v(ctx).view(b, n, self.heads, -1).transpose(1, 2)
        return k, v

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """x [B, N, C] -> [B, N, C]."""
        b, n, _ = x.shape
        q = self.norm_q(self.q(x)).view(b, n, self.heads, -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, kv[0], kv[1])
        return self.o(out.transpose(1, 2).flatten(2))

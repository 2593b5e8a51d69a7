"""The causal DiT in the Wan2.1 layout (brief §2), one implementation for every size.

Inputs are channel-concatenated [noisy latent ; source latent ; (mask)] per latent frame, patched
(1, 2, 2) into tokens in (frame, row, column) raster order. Per-frame timesteps drive the adaLN
modulation (shift, scale, gate) x 2 of every block; the head uses the time embedding itself.
With `pooled_text` (our models, not Wan's) the prompt's mean embedding, through its own MLP whose
last layer starts at zero, is added to that time embedding.
Module and parameter names equal Wan's, so `state_dict()` keys are the reference's.

Two entry points:
* `forward(...)`: the whole clip at once (training): full, block-causal or teacher-forcing
  attention through a boolean mask.
* `forward_chunk(...)`: one pass over one chunk while streaming, against a `KVCache`; the mask
  caches steer it through a `TokenPlan`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from liveedit_app.engine.attention import (
    CachedKeys,
    CrossAttention,
    LayerNorm32,
    ParallelKeys,
    SelfAttention,
    block_causal_mask,
)
from liveedit_app.engine.config import DiTConfig
from liveedit_app.engine.kv_cache import KVCache
from liveedit_app.engine.rope import Rope3D, full_width
from liveedit_app.engine.token_plan import TokenPlan, put, take


class ContextKV(list):
    """The per-prompt cache: per layer cross-attention (k, v) [B, H, L, D], and `pooled`
    [B, dim] (models with `pooled_text`: what the prompt adds to the time embedding)."""

    pooled: torch.Tensor | None = None


def pool_prompt(ctx: torch.Tensor) -> torch.Tensor:
    """[B, L, text_dim] -> [B, text_dim]: the mean of the prompt's rows that are not all zero
    (padding and dropped prompts are zeros; an all-zero prompt pools to zeros)."""
    used = (ctx != 0).any(-1, keepdim=True).to(ctx.dtype)  # [B, L, 1]
    return (ctx * used).sum(1) / used.sum(1).clamp(min=1)


def timestep_sinusoid(t: torch.Tensor, dim: int, precise: bool = False) -> torch.Tensor:
    """[N] raw timesteps -> [N, dim] as [cos | sin] with frequencies 10000^(-k/(dim/2))."""
    work = torch.float64 if precise else torch.float32
    half = dim // 2
    freqs = torch.pow(10000.0, -torch.arange(half, dtype=work, device=t.device) / half)
    ang = torch.outer(t.to(work), freqs)
    return torch.cat([ang.cos(), ang.sin()], dim=1)


class DiTBlock(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        dim = cfg.dim
        self.norm1 = LayerNorm32(dim, eps=cfg.eps, elementwise_affine=False)
        self.self_attn = SelfAttention(dim, cfg.heads, cfg.qk_norm, cfg.eps)
        self.norm3 = (LayerNorm32(dim, eps=cfg.eps, elementwise_affine=True)
                      if cfg.cross_attn_norm else nn.Identity())
        self.cross_attn = CrossAttention(dim, cfg.heads, cfg.qk_norm, cfg.eps)
        self.norm2 = LayerNorm32(dim, eps=cfg.eps, elementwise_affine=False)
        self.ffn = nn.Sequential(nn.Linear(dim, cfg.ffn_dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(cfg.ffn_dim, dim))
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / math.sqrt(dim))

    def forward(self, x: torch.Tensor, e0: torch.Tensor, ctx_kv: tuple[torch.Tensor, torch.Tensor],
                keys: ParallelKeys | CachedKeys, layer: int, plan: TokenPlan | None = None
                ) -> torch.Tensor:
        """x [B, F, T, C], e0 [B, F, 6, C] -> [B, F, T, C]. `plan` (streaming only) restricts
        which tokens compute what; see TokenPlan."""
        b, f, t, c = x.shape
        h, g1, sh2, sc2, g2 = self.modulate(x, e0)
        if plan is None or (plan.attend is None and plan.run is None):
            y = self.self_attn(h.flatten(1, 2), keys, layer).view(b, f, t, c)
            if plan is not None and plan.save_attn:
                plan.attn_store[layer].copy_(y)
            out = self._rest(x, y, g1, sh2, sc2, g2, ctx_kv)
            if plan is not None and plan.save_delta:
                plan.delta_store[layer].copy_(out - x)
            return out
        if plan.attend is not None:
            ya = self.self_attn(take(h, plan.attend).flatten(1, 2), keys, layer)
            y = put(plan.attn_store[layer], plan.attend, ya.view(b, f, -1, c))
            return self._rest(x, y, g1, sh2, sc2, g2, ctx_kv)
        run = plan.run
        ys = self.self_attn(take(h, run).flatten(1, 2), keys, layer, x_kv=h.flatten(1, 2))
        xs = take(x, run)
        xs_out = self._rest(xs, ys.view(b, f, -1, c), g1, sh2, sc2, g2, ctx_kv)
        delta = plan.delta_store[layer]
        if plan.save_delta:
            delta.copy_(put(delta, run, xs_out - xs))
        return put(x + delta, run, xs_out)

    def modulate(self, x: torch.Tensor, e0: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x [B, F, T, C], e0 [B, F, 6, C] -> the modulated self-attention input h [B, F, T, C]
        and the gate, shift, scale, gate [B, F, 1, C] the rest of the block uses."""
        sh1, sc1, g1, sh2, sc2, g2 = (m.unsqueeze(2) for m in
                                      (self.modulation.unsqueeze(1) + e0).unbind(2))
        return self.norm1(x) * (1 + sc1) + sh1, g1, sh2, sc2, g2

    def _rest(self, x: torch.Tensor, y: torch.Tensor, g1: torch.Tensor, sh2: torch.Tensor,
              sc2: torch.Tensor, g2: torch.Tensor, ctx_kv: tuple[torch.Tensor, torch.Tensor]
              ) -> torch.Tensor:
        """Gated self-attention residual, cross-attention, FFN. x, y [B, F, K, C]."""
        b, f, k, c = x.shape
        x = x + y * g1
        x = x + self.cross_attn(self.norm3(x).flatten(1, 2), ctx_kv).view(b, f, k, c)
        return x + self.ffn(self.norm2(x) * (1 + sc2) + sh2) * g2


class Head(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.norm = LayerNorm32(cfg.dim, eps=cfg.eps, elementwise_affine=False)
        self.head = nn.Linear(cfg.dim, cfg.out_dim * math.prod(cfg.patch))
        self.modulation = nn.Parameter(torch.randn(1, 2, cfg.dim) / math.sqrt(cfg.dim))

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """x [B, F, T, C], e [B, F, C] -> [B, F, T, out_dim * 4]."""
        shift, scale = (self.modulation.unsqueeze(1) + e.unsqueeze(2)).unbind(2)
        return self.head(self.norm(x) * (1 + scale.unsqueeze(2)) + shift.unsqueeze(2))


class CausalDiT(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dim = cfg.dim
        self.patch_embedding = nn.Conv3d(cfg.in_dim, dim, kernel_size=cfg.patch, stride=cfg.patch)
        self.text_embedding = nn.Sequential(nn.Linear(cfg.text_dim, dim),
                                            nn.GELU(approximate="tanh"), nn.Linear(dim, dim))
        self.time_embedding = nn.Sequential(nn.Linear(cfg.freq_dim, dim), nn.SiLU(),
                                            nn.Linear(dim, dim))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        if cfg.pooled_text:
            self.text_pooling = nn.Sequential(nn.Linear(cfg.text_dim, dim), nn.SiLU(),
                                              nn.Linear(dim, dim))
            nn.init.zeros_(self.text_pooling[2].weight)  # starts as a model without it
            nn.init.zeros_(self.text_pooling[2].bias)
        self.blocks = nn.ModuleList(DiTBlock(cfg) for _ in range(cfg.layers))
        self.head = Head(cfg)
        self.rope = Rope3D(cfg)
        # float64 sinusoid and RoPE, as the reference does; off by default (fp32 is enough and fast)
        self.precise = False
        self._masks: dict[tuple, torch.Tensor] = {}

    def _apply(self, fn, recurse=True):  # noqa: ANN001 - nn.Module signature
        out = super()._apply(fn, recurse)
        self.rope.to(self.patch_embedding.weight.device)
        return out

    @property
    def dtype(self) -> torch.dtype:
        return self.patch_embedding.weight.dtype

    # -- pieces shared by both entry points ---------------------------------------------------

    def embed(self, x_t: torch.Tensor, y_src: torch.Tensor, mask: torch.Tensor | None
              ) -> torch.Tensor:
        """[B, F, C, h, w] x2 (+ mask [B, F, 1, h, w]) -> tokens [B, F, T, dim]."""
        parts = [x_t, y_src]
        if self.cfg.mask_channel:
            parts.append(mask if mask is not None else torch.ones_like(x_t[:, :, :1]))
        elif mask is not None:
            raise ValueError("this model has no mask channel")
        inp = torch.cat(parts, dim=2).to(self.dtype)
        b, f, c, h, w = inp.shape
        _, ph, pw = self.cfg.patch
        gh, gw = h // ph, w // pw
        # a (1, ph, pw) stride-equal Conv3d is a matmul over patches ordered (c, ph, pw)
        patches = inp.view(b, f, c, gh, ph, gw, pw).permute(0, 1, 3, 5, 2, 4, 6)
        patches = patches.reshape(b, f, gh * gw, c * ph * pw)
        weight = self.patch_embedding.weight.view(self.cfg.dim, -1)
        return torch.nn.functional.linear(patches, weight, self.patch_embedding.bias)

    def time(self, t: torch.Tensor, pooled: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """t [B, F] (+ the prompt's `ContextKV.pooled` [B, dim]) -> e [B, F, dim],
        e0 [B, F, 6, dim]."""
        b, f = t.shape
        sin = timestep_sinusoid(t.flatten(), self.cfg.freq_dim, self.precise).to(self.dtype)
        e = self.time_embedding(sin).view(b, f, -1)
        if pooled is not None:
            e = e + pooled[:, None].to(e.dtype)
        e0 = self.time_projection(e).view(b, f, 6, self.cfg.dim)
        return e, e0

    def context_kv(self, ctx: torch.Tensor) -> ContextKV:
        """ctx [B, L, text_dim] -> per layer cross-attention (k, v), and the pooled prompt for
        models with `pooled_text`: the per-prompt cache."""
        ctx = ctx.to(self.dtype)
        emb = self.text_embedding(ctx)
        out = ContextKV([blk.cross_attn.context_kv(emb) for blk in self.blocks])
        if self.cfg.pooled_text:
            out.pooled = self.text_pooling(pool_prompt(ctx))
        return out

    def unpatchify(self, out: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """[B, F, T, 4*C] with (ph, pw, c) c fastest -> [B, F, C, h, w]."""
        b, f = out.shape[:2]
        _, ph, pw = self.cfg.patch
        c = self.cfg.out_dim
        gh, gw = h // ph, w // pw
        out = out.view(b, f, gh, gw, ph, pw, c).permute(0, 1, 6, 2, 4, 3, 5)
        return out.reshape(b, f, c, h, w)

    # -- training / parallel -----------------------------------------------------------------

    def forward(self, x_t: torch.Tensor, y_src: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor,
                *, mask: torch.Tensor | None = None, attn: str = "full",
                chunk_frames: int | None = None, clean_x: torch.Tensor | None = None,
                frame_start: int = 0) -> torch.Tensor:
        """Velocity for a whole clip. x_t, y_src [B, F, C, h, w]; t [B, F] in 0..1000;
        ctx [B, L, text_dim]; mask [B, F, 1, h, w] or None (global edit).

        attn="full": every token sees every token. attn="block_causal": chunks of `chunk_frames`
        see themselves and earlier chunks. clean_x (teacher forcing, implies block-causal): the
        sequence becomes [clean_x at t=0 ; x_t], see `block_causal_mask` for who sees what; only
        the noisy half's velocity is returned."""
        b, f, _, h, w = x_t.shape
        if attn not in ("full", "block_causal"):
            raise ValueError(f"attn must be 'full' or 'block_causal', not {attn!r}")
        tokens = self.embed(x_t, y_src, mask)  # [B, F, T, dim]
        ctx_kv = self.context_kv(ctx)
        e, e0 = self.time(t, ctx_kv.pooled)
        positions = torch.arange(frame_start, frame_start + f)
        teacher = clean_x is not None
        if teacher or attn == "block_causal":
            if chunk_frames is None:
                raise ValueError("block-causal attention needs chunk_frames")
        if teacher:
            clean = self.embed(clean_x, y_src, mask)
            _, e0_clean = self.time(torch.zeros_like(t), ctx_kv.pooled)
            tokens = torch.cat([clean, tokens], dim=1)
            e0 = torch.cat([e0_clean, e0], dim=1)
            positions = torch.cat([positions, positions])
        t_tok = tokens.shape[2]
        attn_mask = None
        if teacher or attn == "block_causal":
            attn_mask = self._mask(f, chunk_frames, t_tok, teacher, tokens.device)
        cos, sin = self.rope.tables(positions, h // self.cfg.patch[1], w // self.cfg.patch[2])
        keys = ParallelKeys(*self._rope_rows(cos.flatten(0, 1), sin.flatten(0, 1)), attn_mask)
        x = tokens
        for i, blk in enumerate(self.blocks):
            x = blk(x, e0, ctx_kv[i], keys, i)
        if teacher:
            x = x[:, f:]
        return self.unpatchify(self.head(x, e), h, w)

    def _rope_rows(self, cos: torch.Tensor, sin: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """[N, D/2] half tables -> [N, 1, D] full-width rows in the rotation's dtype."""
        c, s = full_width(cos, sin, torch.float64 if self.precise else self.dtype)
        return c[:, None, :], s[:, None, :]

    def _mask(self, frames: int, chunk: int, tokens: int, teacher: bool,
              device: torch.device) -> torch.Tensor:
        key = (frames, chunk, tokens, teacher, str(device))
        if key not in self._masks:
            self._masks = {key: block_causal_mask(frames, chunk, tokens, teacher_forcing=teacher,
                                                  device=device)}
        return self._masks[key]

    # -- streaming ---------------------------------------------------------------------------

    def new_cache(self, *, batch: int, tokens_per_frame: int, window_frames: int,
                  sink_frames: int = 0) -> KVCache:
        w = self.patch_embedding.weight
        return KVCache(layers=self.cfg.layers, batch=batch, heads=self.cfg.heads,
                       head_dim=self.cfg.head_dim, tokens_per_frame=tokens_per_frame,
                       window_frames=window_frames, sink_frames=sink_frames, dtype=w.dtype,
                       device=w.device)

    def forward_chunk(self, x_t: torch.Tensor, y_src: torch.Tensor, t: torch.Tensor,
                      ctx_kv: ContextKV, cache: KVCache, frame_start: int, *,
                      mask: torch.Tensor | None = None, plan: TokenPlan | None = None
                      ) -> torch.Tensor:
        """One streaming pass over the chunk of latent frames [frame_start, frame_start + F).

        x_t, y_src [B, F, C, h, w]; t [B, F]; ctx_kv from `context_kv`. Writes the chunk's
        rotated K/V into its cache slots (overwriting the previous pass of the same chunk) and
        attends to the filled window. Returns the velocity [B, F, C, h, w]."""
        b, f, _, h, w = x_t.shape
        gh, gw = h // self.cfg.patch[1], w // self.cfg.patch[2]
        tokens = self.embed(x_t, y_src, mask)  # [B, F, T, dim]
        e, e0 = self.time(t, getattr(ctx_kv, "pooled", None))

        if frame_start + f - cache.offset > self.cfg.rope_positions:
            delta = frame_start - cache.offset - cache.window_frames
            cache.rebase(delta, *self.rope.time_shift(delta, tokens.device))
        pos = frame_start - cache.offset
        cos, sin = self.rope.tables(torch.arange(pos, pos + f), gh, gw)  # [F, T, D/2]
        slots = cache.chunk_slots(frame_start, f)  # [F, T]
        kv_len = cache.valid_tokens(frame_start + f)
        q_cos, q_sin = kv_cos, kv_sin = cos.flatten(0, 1), sin.flatten(0, 1)
        key_mask = None
        if plan is not None and plan.attend is not None:
            q_cos, q_sin = _rows(cos, plan.attend), _rows(sin, plan.attend)
            kv_cos, kv_sin = q_cos, q_sin
            key_mask = torch.ones(kv_len, dtype=torch.bool, device=tokens.device)
            key_mask[slots.flatten()] = False
            slots = slots.gather(1, plan.attend)
            key_mask[slots.flatten()] = True
        elif plan is not None and plan.run is not None:
            q_cos, q_sin = _rows(cos, plan.run), _rows(sin, plan.run)
        q_rows = self._rope_rows(q_cos, q_sin)
        kv_rows = q_rows if kv_cos is q_cos else self._rope_rows(kv_cos, kv_sin)
        keys = CachedKeys(cache, *q_rows, *kv_rows, slots.flatten(), kv_len, key_mask,
                          None if key_mask is not None else cache.chunk_span(frame_start, f))
        x = tokens
        for i, blk in enumerate(self.blocks):
            x = blk(x, e0, ctx_kv[i], keys, i, plan)
        cache.frames_seen = max(cache.frames_seen, frame_start + f)
        return self.unpatchify(self.head(x, e), h, w)


def _rows(table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """table [F, T, D], idx [F, K] -> [F*K, D]."""
    return table.gather(1, idx[..., None].expand(-1, -1, table.shape[-1])).flatten(0, 1)

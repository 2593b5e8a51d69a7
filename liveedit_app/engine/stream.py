"""One streaming session's state and the per-chunk generation (brief §3), shared by the editor
and by the distillation's self-forcing rollout.

Per chunk: for each timestep, v = DiT(x, t, source, caches), x0 = x − σ·v, re-noise with fresh
noise unless last; then (optionally) one clean pass at t = context_noise on x0 that only rewrites
the chunk's K/V, so later chunks attend to clean context.

Only the next chunk reads what the clean pass writes, so `generate_chunk(..., defer_refresh=True)`
returns x0 without it and leaves it in `state.pending_refresh`; `run_pending_refresh` runs it
(the live editor does so while the next chunk's frames arrive, so a chunk's frames are out one DiT
pass sooner), and the next `generate_chunk` runs it first if nobody has. The result is the same
as running it at once: the pass keeps its chunk's prompt, mask, timestep and noise draw.

Gradients (self-forcing, brief §7): `generate_chunk(..., exit_step=j, grad=True)` runs steps
0..j-1 without autograd, step j with it, and returns that step's x0 (the rollout exits there).
The KV cache only ever receives detached K/V, and the refresh pass runs without autograd on
x0.detach(), so the graph covers exactly the exit step of the current chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from liveedit_app.engine.dit import CausalDiT, ContextKV
from liveedit_app.engine.kv_cache import KVCache
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.token_plan import TokenPlan


class ChunkPlanner(Protocol):
    """A mask cache: decides per denoising step which tokens compute (see mask_cache.py)."""

    def begin_chunk(self, y_src: torch.Tensor, user_mask: torch.Tensor | None) -> None: ...

    def plan(self, step: int, steps: int) -> TokenPlan | None: ...

    def end_chunk(self, x0: torch.Tensor, y_src: torch.Tensor) -> None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class PendingRefresh:
    """A chunk's clean pass, not run yet: its inputs as `generate_chunk` had them."""

    clean: torch.Tensor  # [B, F, C, h, w] x0 (re-noised to context_noise if that is set)
    y_src: torch.Tensor
    t: torch.Tensor  # [B, F]
    frame: int  # the chunk's first latent frame
    mask: torch.Tensor | None
    ctx_kv: ContextKV  # the chunk's prompt, even if a new one has been set since


@dataclass
class StreamState:
    """KV cache, per-prompt cross-attention cache, the next latent frame index and a deferred
    clean pass of the last chunk, if any."""

    cache: KVCache
    ctx_kv: ContextKV
    frame: int = 0
    pending_refresh: PendingRefresh | None = None

    @classmethod
    def create(cls, dit: CausalDiT, ctx: torch.Tensor, *, tokens_per_frame: int,
               window_frames: int, sink_frames: int = 0) -> StreamState:
        """ctx [B, L, text_dim]: the prompt embedding (its batch size is the stream's)."""
        cache = dit.new_cache(batch=ctx.shape[0], tokens_per_frame=tokens_per_frame,
                              window_frames=window_frames, sink_frames=sink_frames)
        with torch.no_grad():
            ctx_kv = dit.context_kv(ctx)
        return cls(cache, ctx_kv)

    def set_context(self, dit: CausalDiT, ctx: torch.Tensor) -> None:
        """A new prompt: refill the cross-attention cache; the stream goes on."""
        with torch.no_grad():
            self.ctx_kv = dit.context_kv(ctx)

    def reset(self) -> None:
        self.cache.reset()
        self.frame = 0
        self.pending_refresh = None


def run_pending_refresh(dit: CausalDiT, state: StreamState) -> bool:
    """Run the last chunk's deferred clean pass; False when there was none."""
    job = state.pending_refresh
    if job is None:
        return False
    state.pending_refresh = None
    with torch.no_grad():
        dit.forward_chunk(job.clean, job.y_src, job.t, job.ctx_kv, state.cache, job.frame,
                          mask=job.mask)
    return True


def generate_chunk(dit: CausalDiT, sampler: FlowSampler, state: StreamState,
                   noise: torch.Tensor, y_src: torch.Tensor, *,
                   mask: torch.Tensor | None = None, refresh: bool = True,
                   context_noise: int = 0, generator: torch.Generator | None = None,
                   planner: ChunkPlanner | None = None, exit_step: int | None = None,
                   grad: bool = False, defer_refresh: bool = False) -> torch.Tensor:
    """Denoise the next chunk. noise, y_src [B, F, C, h, w]; mask [B, F, 1, h, w] or None (the
    user mask at latent resolution: input of mask-channel models, and what the planner's static
    skip keys on for every model). Returns x0 [B, F, C, h, w]; advances `state` by F frames.
    defer_refresh: leave the clean pass in `state.pending_refresh` (see the module's note)."""
    run_pending_refresh(dit, state)
    b, f = noise.shape[:2]
    steps = sampler.steps
    last = len(steps) - 1 if exit_step is None else exit_step
    if planner is not None:
        planner.begin_chunk(y_src, mask)
    if not dit.cfg.mask_channel:
        mask = None
    x = noise.to(dit.dtype)
    x0 = x
    for j in range(last + 1):
        t = torch.full((b, f), float(steps[j]), device=x.device)
        plan = planner.plan(j, len(steps)) if planner is not None else None
        with torch.set_grad_enabled(grad and j == last):
            v = dit.forward_chunk(x, y_src, t, state.ctx_kv, state.cache, state.frame,
                                  mask=mask, plan=plan)
            x0 = sampler.to_x0(x, v, sampler.sigmas[j])
        if j < last:
            eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = sampler.renoise(x0, sampler.sigmas[j + 1], eps)
    if refresh:
        with torch.no_grad():
            clean = x0.detach()
            if context_noise > 0:
                eps = torch.randn(clean.shape, generator=generator, device=clean.device,
                                  dtype=clean.dtype)
                clean = sampler.renoise(clean, sampler.sigma(context_noise), eps)
            t = torch.full((b, f), float(context_noise), device=x.device)
            state.pending_refresh = PendingRefresh(clean, y_src, t, state.frame, mask,
                                                   state.ctx_kv)
        if not defer_refresh:
            run_pending_refresh(dit, state)
    if planner is not None:
        planner.end_chunk(x0.detach(), y_src)
    state.frame += f
    return x0

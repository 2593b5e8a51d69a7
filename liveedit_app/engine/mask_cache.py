"""Mask caches: per-chunk decisions about which tokens need fresh compute (`ChunkPlanner`s).

`ReferenceMaskCache` is the reference's AR-oriented mask cache (brief §4): the tokens whose
edited output differed most from the source in the previous chunk keep computing
self-attention on the pruned steps; the others reuse their self-attention output of the last
full step of the same chunk.

`StaticSkipCache` is ours: a token outside the user's mask whose source latent has barely changed
since it was last computed skips whole blocks on every denoising step and adds the block's
residual stored at that time (same frame slot of the chunk, same step, same layer). It still
writes K/V, so the cache stays complete for the tokens that do compute. Without a user mask the
edit is global and nothing is skipped. Every `full_every`-th chunk recomputes every token: the
stored residuals were computed against an older KV cache and older noise, and on a trained model
the difference from full compute grows chunk after chunk until something recomputes them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.token_plan import TokenPlan

# liveedit-tiny, quarter-frame mask, 96 frames (benchmarks/engine-cpu-fullevery.json): the worst
# frame inside the mask is 22 dB from full compute without full chunks, 32 dB with every 3rd
# (every 4th: 25 dB, every 2nd: 32 dB at more cost); see docs/performance.md
FULL_EVERY = 3


def _first_tokens(prefer: torch.Tensor, count: int) -> torch.Tensor:
    """prefer [F, T] bool -> [F, count] token indices per frame, in raster order: the preferred
    tokens with the lowest indices first, then (if a frame has fewer) the others likewise."""
    t = prefer.shape[1]
    ar = torch.arange(t, device=prefer.device)
    picked = torch.where(prefer, ar - t, ar).sort(dim=1).values[:, :count]
    return torch.where(picked < 0, picked + t, picked).sort(dim=1).values


class _Stores:
    """Per-layer [B, F, T, C] tensors, reallocated when the chunk shape changes."""

    def __init__(self, dit: CausalDiT, copies: int) -> None:
        self.layers = dit.cfg.layers
        self.dim = dit.cfg.dim
        self.copies = copies
        self.shape: tuple[int, ...] | None = None
        self.data: list[list[torch.Tensor]] = []

    def ensure(self, b: int, f: int, t: int, like: torch.Tensor, dtype: torch.dtype) -> bool:
        """Allocate zeros for this shape; True if they were (re)allocated."""
        shape = (b, f, t)
        if shape == self.shape:
            return False
        self.shape = shape
        self.data = [[torch.zeros(b, f, t, self.dim, dtype=dtype, device=like.device)
                      for _ in range(self.layers)] for _ in range(self.copies)]
        return True

    def clear(self) -> None:
        self.shape = None
        self.data = []


class ReferenceMaskCache:
    """Brief §4: keep-ratio of latent pixels per frame, pruned steps, self-attention reuse."""

    def __init__(self, dit: CausalDiT, keep_ratio: float = 0.3,
                 pruned_steps: tuple[int, ...] = (1, 2), bucket: int = 1) -> None:
        """bucket > 1 rounds the kept count up to a multiple (adding the lowest-index unkept
        tokens): a deviation from the reference that gives GPU attention kernels a few fixed
        shapes instead of a new one per chunk."""
        if not 0.0 < keep_ratio <= 1.0:
            raise ValueError("keep_ratio must be in (0, 1]")
        self.dit = dit
        self.keep_ratio = keep_ratio
        self.pruned_steps = tuple(pruned_steps)
        self.bucket = bucket
        self.stores = _Stores(dit, 1)
        self.prev_keep: torch.Tensor | None = None  # [F, h, w] bool from the previous chunk
        self.kept: torch.Tensor | None = None  # [F, K] for the current chunk, None = all
        self.share = 1.0  # share of self-attention token-steps computed in the last chunk
        self._computed = 0
        self._total = 0

    def reset(self) -> None:
        self.prev_keep = None
        self.kept = None
        self.stores.clear()

    def begin_chunk(self, y_src: torch.Tensor, user_mask: torch.Tensor | None) -> None:
        b, f, _, h, w = y_src.shape
        ph, pw = self.dit.cfg.patch[1:]
        t = (h // ph) * (w // pw)
        self.stores.ensure(b, f, t, y_src, self.dit.dtype)
        self.kept = None
        self._computed = self._total = 0
        if self.prev_keep is None or self.prev_keep.shape[0] != f:
            return  # chunk 0 (or a differently sized chunk): every token kept
        pooled = F.avg_pool2d(self.prev_keep.float()[:, None], (ph, pw))[:, 0]  # [F, h/2, w/2]
        keep = (pooled > 0.5).flatten(1)  # at least 3 of 4 pixels kept
        count = int(keep.sum(1).min())
        count = min(t, -(-count // self.bucket) * self.bucket)
        if 0 < count < t:
            self.kept = _first_tokens(keep, count)

    def plan(self, step: int, steps: int) -> TokenPlan | None:
        store = self.stores.data[0]
        t = self.stores.shape[2]
        self._total += t
        if step in self.pruned_steps and self.kept is not None:
            self._computed += self.kept.shape[1]
            return TokenPlan(attend=self.kept, attn_store=store)
        self._computed += t
        if any(p > step for p in self.pruned_steps):
            return TokenPlan(attn_store=store, save_attn=True)
        return None

    def end_chunk(self, x0: torch.Tensor, y_src: torch.Tensor) -> None:
        self.share = self._computed / max(1, self._total)
        imp = (x0.float() - y_src.float()).pow(2).mean(2)[0]  # [F, h, w] (batch 0 decides)
        lo, hi = imp.min(), imp.max()
        imp = (imp - lo) / (hi - lo).clamp_min(1e-12)
        f, h, w = imp.shape
        n = max(1, int(self.keep_ratio * h * w))
        flat = imp.flatten(1)
        thresh = flat.kthvalue(h * w - n + 1, dim=1, keepdim=True).values
        keep = flat >= thresh  # ties kept
        count = int(keep.sum(1).min())
        idx = _first_tokens(keep, count)  # same count per frame, lowest raster first
        trimmed = torch.zeros_like(keep)
        trimmed.scatter_(1, idx, True)
        self.prev_keep = trimmed.view(f, h, w)


class StaticSkipCache:
    """Ours: tokens outside the user mask whose source is unchanged skip whole blocks."""

    def __init__(self, dit: CausalDiT, steps: int, threshold: float = 0.02,
                 dilate_tokens: int = 1, bucket: int = 1, full_every: int = FULL_EVERY) -> None:
        """bucket > 1 rounds the count of computed tokens up to a multiple, so compiled or
        cuDNN kernels see a few shapes rather than a new one per chunk. full_every N > 0: the
        chunks 0, N, 2N, ... since the stores were filled compute every token (1 = always full
        compute); 0 = only when the source changes."""
        if full_every < 0:
            raise ValueError("full_every must be 0 (never) or a positive chunk count")
        self.dit = dit
        self.full_every = full_every
        self.chunk = 0  # chunks planned since the stores were (re)filled
        self.bucket = bucket
        self.threshold = threshold
        self.dilate = dilate_tokens
        self.stores = _Stores(dit, steps)
        self.y_ref: torch.Tensor | None = None  # [B, F, C, h, w] source when last computed
        self.valid: torch.Tensor | None = None  # [F, T] bool: token has stored residuals
        self.run: torch.Tensor | None = None  # [F, K] or None = all
        self.run_mask: torch.Tensor | None = None  # [F, T] bool
        self.share = 1.0
        self.active = False

    def reset(self) -> None:
        self.stores.clear()
        self.y_ref = None
        self.valid = None
        self.run = None
        self.active = False

    def begin_chunk(self, y_src: torch.Tensor, user_mask: torch.Tensor | None) -> None:
        b, f, _, h, w = y_src.shape
        ph, pw = self.dit.cfg.patch[1:]
        t = (h // ph) * (w // pw)
        self.run = None
        self.run_mask = None
        self.active = user_mask is not None
        if not self.active:
            self.share = 1.0
            return
        if self.stores.ensure(b, f, t, y_src, self.dit.dtype) or self.y_ref is None:
            self.valid = torch.zeros(f, t, dtype=torch.bool, device=y_src.device)
            self.y_ref = y_src.clone()
            self.chunk = 0
        due = self.full_every > 0 and self.chunk % self.full_every == 0
        self.chunk += 1
        inside = F.max_pool2d(user_mask[0].float(), (ph, pw))  # [F, 1, h/2, w/2]
        if self.dilate:
            k = 2 * self.dilate + 1
            inside = F.max_pool2d(inside, k, stride=1, padding=self.dilate)
        inside = inside.flatten(1) > 0.01  # [F, T]
        change = (y_src.float() - self.y_ref.float()).pow(2).mean(2).amax(0)  # [F, h, w]
        change = F.max_pool2d(change[:, None], (ph, pw)).flatten(1)  # [F, T]
        skip = self.valid & ~inside & (change < self.threshold)
        run = torch.ones_like(skip) if due else ~skip
        count = int(run.sum(1).max())
        count = min(t, -(-count // self.bucket) * self.bucket)
        self.share = count / t
        if count == t:
            self.run_mask = torch.ones_like(run)
            return
        # equal count per frame: frames with fewer tokens to run recompute a few extra
        self.run = _first_tokens(run, count)
        self.run_mask = torch.zeros_like(run).scatter_(1, self.run, True)

    def plan(self, step: int, steps: int) -> TokenPlan | None:
        if not self.active:
            return None
        store = self.stores.data[step]
        return TokenPlan(run=self.run, delta_store=store, save_delta=True)

    def end_chunk(self, x0: torch.Tensor, y_src: torch.Tensor) -> None:
        if not self.active or self.run_mask is None:
            return
        ph, pw = self.dit.cfg.patch[1:]
        f, _ = self.run_mask.shape
        h, w = y_src.shape[-2:]
        fresh = self.run_mask.view(f, h // ph, w // pw)
        fresh = fresh.repeat_interleave(ph, 1).repeat_interleave(pw, 2)  # [F, h, w]
        self.y_ref = torch.where(fresh[None, :, None], y_src, self.y_ref)
        self.valid = self.valid | self.run_mask

"""Which tokens of a chunk pass compute what: the interface between the mask caches
(`mask_cache.py`, which decide) and the DiT (`dit.py`, which obeys). The two caches are
alternatives; a plan uses one of them.

Selections are per frame with the same count in every frame ([F, K] token indices within a frame),
so the per-frame adaLN modulation keeps its cheap [B, F, K, C] broadcast layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x [B, F, T, C], idx [F, K] -> [B, F, K, C]."""
    b, f, _, c = x.shape
    return x.gather(2, idx[None, :, :, None].expand(b, f, idx.shape[1], c))


def put(x: torch.Tensor, idx: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """Out of place: x [B, F, T, C] with rows idx [F, K] replaced by src [B, F, K, C]."""
    b, f, _, c = x.shape
    return x.scatter(2, idx[None, :, :, None].expand(b, f, idx.shape[1], c), src)


@dataclass
class TokenPlan:
    """One chunk pass's token selection and the per-layer stores it reads and writes.

    attend (reference mask cache, brief §4): only these tokens compute self-attention and write
        their K/V; the chunk's other cache slots are hidden from the queries; the other tokens
        take `attn_store`, the self-attention output of the last full step. Cross-attention and
        FFN run for all tokens.
    run (our static-skip extension): only these tokens run the block; the others add
        `delta_store`, the block's residual from the last time they ran, and still write K/V
        (from their reused hidden state) so the cache stays complete.
    save_attn / save_delta: write this pass's outputs into the stores (full passes).
    """

    attend: torch.Tensor | None = None  # [F, K]
    run: torch.Tensor | None = None  # [F, K]
    attn_store: list[torch.Tensor] | None = None  # per layer [B, F, T, C]
    delta_store: list[torch.Tensor] | None = None  # per layer [B, F, T, C]
    save_attn: bool = False
    save_delta: bool = False

    def __post_init__(self) -> None:
        if self.attend is not None and self.run is not None:
            raise ValueError("a plan uses either the reference cache (attend) or static skip (run)")

"""GPU speed settings for a Wan-size streaming editor; each was measured on an H100 with
`scripts/gpu_speed_wan.py` (docs/performance.md, "Wan2.1-1.3B on one H100"). None of them changes
results beyond bf16 rounding, and all are no-ops on a CPU.

* `compile_for_streaming`: torch.compile every DiT block and the head. The KV-cache write and the
  attention call stay eager (the engine marks `CachedKeys.attend` as a compiler boundary): the
  compiled graphs then fuse the norms, modulation and GELU, and never copy the cache. Bought
  32.0–32.2 → 35.1–35.6 FPS (81-frame video) on the H100.
* `tune_autoencoder`: cuDNN autotuning for the fixed chunk shapes. Channels-last layouts were
  measured and are not used: 1.5× slower for the full Wan VAE, slower for the tiny one.

SDPA needs no setting: at these shapes PyTorch already picks cuDNN attention (1.7× the flash
backend, measured).
"""

from __future__ import annotations

import torch

from liveedit_app.engine.dit import CausalDiT


def _on_cuda(module: torch.nn.Module) -> bool:
    return next(module.parameters()).device.type == "cuda"


def compile_for_streaming(dit: CausalDiT) -> CausalDiT:
    """Compile the blocks and the head in place (first chunks of a stream pay the compile)."""
    if not _on_cuda(dit):
        return dit
    # one graph serves every block; kv length and layer index become dynamic after a recompile
    torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    for block in dit.blocks:
        block.compile()
    dit.head.compile()
    return dit


def tune_autoencoder(ae: torch.nn.Module) -> torch.nn.Module:
    """cuDNN autotuning: every chunk has the same shapes, so the first chunk's search pays off."""
    if _on_cuda(ae):
        torch.backends.cudnn.benchmark = True
    return ae

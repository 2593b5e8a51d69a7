"""GPU speed settings for a Wan-size streaming editor; each was measured on an H100 with
`scripts/gpu_speed_wan.py` (docs/performance.md, "Wan2.1-1.3B on one H100", and
benchmarks/wan-speed-notes.md). All are no-ops on a CPU unless a test asks for a backend.

* `compile_for_streaming` (the editor's compile path on CUDA): torch.compile of the pure tensor
  stages of every block (modulation + norm, q / k,v projections + qk-norm + RoPE + head
  transposes, the rest of the block) and of the head, with the FFN's bias + tanh-GELU in the
  first GEMM's cuBLASLt epilogue. The glue between the stages stays eager: the mask caches'
  gathers and stores, the KV-cache write and the SDPA call over the growing cache
  (`CachedKeys.attend`). So a compiled graph never sees a layer index, a plan or the cache
  length, only tensors; the token dimension is marked dynamic, so one graph per stage serves
  every chunk, every layer and every kept-token count of the mask caches. (Compiling whole
  blocks specialised on `layer` through the plans' per-layer stores: a graph per layer and plan,
  and mid-stream recompiles with the static-skip cache.) H100, run 4, 81-frame video: eager
  32.7 FPS, staged 38.6, + GELU epilogue 40.3 (same 7.3e-3 rel err vs eager as plain compile).
* `compile_autoencoder` (the editor calls it next to `compile_for_streaming` on CUDA):
  torch.compile of the tiny autoencoder's streaming encoder and decoder (inductor picks the conv
  layout and fuses ReLU, residual adds and the MemBlock concatenations). H100, run 5, per chunk:
  encode 9.96 -> 5.54 ms, decode 14.34 -> 7.70 ms (rel err 1.2e-3 vs eager); end to end 37.7 ->
  38.5 FPS in run 6 (alone on the machine; run 5's 35.2 -> 37.7 had a CPU load beside it).
  Running the AE on a second CUDA stream beside the DiT was measured (run 5) and is not used:
  35.2 -> 34.7 eager, 37.7 -> 35.8 compiled (the DiT keeps the GPU ~97% busy
  with kernels, so the AE's kernels only slow the DiT's, and the first frames come later).
* `tune_autoencoder`: cuDNN autotuning for the fixed chunk shapes. Channels-last layouts were
  measured and are not used: 1.5x slower for the full Wan VAE, slower for the tiny one.

Measured and removed (run 4, H100): FP8 e4m3 linears with per-row / per-token scales (33.9 FPS
against 40.3 bf16, 2.5e-2 rel err: the GEMMs are only 84 of 404 ms a chunk and the per-token
quantisation ate the gain); the full Wan VAE's 3-frame causal convs as 2D convs over
tap-stacked frames (decode 259 ms against 202 ms for cuDNN's 3D convs; 449 ms channels-last).

SDPA needs no setting: at these shapes PyTorch already picks cuDNN attention (1.7x the flash
backend, measured). Self-attention over the cache with few queries splits its keys on its own
(`engine/split_attention.py`; H200: the static-skip cache's chunks 8-18 % faster).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from liveedit_app.engine.attention import seal_compiler_boundaries
from liveedit_app.engine.dit import CausalDiT

# (owner, method, token dim of each positional tensor argument or None): the compiled stages
_STAGES = (
    ("block", "modulate", (None, None)),
    ("self_attn", "query", (1, 0, 0)),
    ("self_attn", "key_value", (1, 0, 0)),
    ("block", "_rest", (2, 2)),
)


def _on_cuda(module: nn.Module) -> bool:
    return next(module.parameters()).device.type == "cuda"


def _stage(fn: Callable, token_dims: tuple, backend: str | Callable, mode: str | None
           ) -> Callable:
    compiled = torch.compile(fn, backend=backend, mode=mode)

    def call(*args):  # noqa: ANN002, ANN202 - the stage's own signature
        for arg, dim in zip(args, token_dims, strict=False):
            if dim is not None:
                torch._dynamo.maybe_mark_dynamic(arg, dim)
        return compiled(*args)

    return call


def compile_for_streaming(dit: CausalDiT, *, backend: str | Callable | None = None,
                          mode: str | None = None, dynamic_tokens: bool = True,
                          gelu_epilogue: bool = True) -> CausalDiT:
    """Compile the blocks' stages and the head in place (the first chunk pays the compile), with
    the GELU epilogue unless told not to. backend None: inductor on CUDA, nothing on a CPU; tests
    pass a backend to run it anywhere. dynamic_tokens=False leaves the token dims static (a
    measurement: the mask caches' counts would then recompile)."""
    if backend is None:
        if not _on_cuda(dit):
            return dit
        backend = "inductor"
    seal_compiler_boundaries()
    fuse_gelu_epilogue(dit, on=gelu_epilogue)
    # every block shares each stage's graphs; the limit only matters when settings change
    torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    undo_compile(dit)
    for block in dit.blocks:
        for owner, name, dims in _STAGES:
            obj = block if owner == "block" else block.self_attn
            marks = dims if dynamic_tokens else (None,) * len(dims)
            setattr(obj, name, _stage(getattr(obj, name), marks, backend, mode))
    dit.head.compile(backend=backend, mode=mode)
    return dit


def undo_compile(dit: CausalDiT) -> CausalDiT:
    """Back to eager stages (compiled graphs stay in dynamo's cache for a later compile)."""
    for block in dit.blocks:
        for owner, name, _ in _STAGES:
            obj = block if owner == "block" else block.self_attn
            obj.__dict__.pop(name, None)
        block._compiled_call_impl = None
    dit.head._compiled_call_impl = None
    return dit


class GeluEpilogueFFN(nn.Sequential):
    """The block's FFN (Linear, tanh-GELU, Linear; same modules and state-dict keys) with bias +
    GELU computed in the first GEMM's cuBLASLt epilogue on CUDA. Elsewhere it is the plain
    Sequential (the CPU kernel of that fused op uses the erf GELU)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up, _, down = self
        if x.device.type != "cuda":
            return super().forward(x)
        rows = x.reshape(-1, x.shape[-1])  # [N, C]
        hidden = torch._addmm_activation(up.bias, rows, up.weight.t(), use_gelu=True)
        return down(hidden).view(*x.shape[:-1], -1)


def fuse_gelu_epilogue(dit: CausalDiT, on: bool = True) -> CausalDiT:
    """Swap every block's FFN for the epilogue one (on) or back to the plain Sequential; the
    modules, keys and (on a CPU) outputs are the same. H100 run 4: 413 -> 404 ms a steady
    chunk, 38.6 -> 40.3 FPS for the 81-frame video."""
    for block in dit.blocks:
        block.ffn = (GeluEpilogueFFN if on else nn.Sequential)(*block.ffn)
    return dit


def tune_autoencoder(ae: nn.Module) -> nn.Module:
    """cuDNN autotuning: every chunk has the same shapes, so the first chunk's search pays off."""
    if _on_cuda(ae):
        torch.backends.cudnn.benchmark = True
    return ae


def compile_autoencoder(ae: nn.Module, *, backend: str | Callable | None = None) -> nn.Module:
    """Compile the tiny autoencoder's streaming encoder and decoder in place (a `TAEHVAutoencoder`;
    any other autoencoder is returned as is): one graph each, for every chunk after a stream's
    first (whose empty MemBlock memory would need graphs of its own: it runs eager, ≈ 10 ms more
    once). Shapes are static: a chunk is always 12 frames or 3 latents. backend None: inductor
    on CUDA, nothing on a CPU."""
    from liveedit_app.engine.wan.taehv import TAEHVAutoencoder, run_layers

    if not isinstance(ae, TAEHVAutoencoder):
        return ae
    if backend is None:
        if not _on_cuda(ae):
            return ae
        backend = "inductor"
    torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    compiled = torch.compile(run_layers, backend=backend, dynamic=False)

    def run(layers: nn.Sequential, x: torch.Tensor, memory: list) -> torch.Tensor:
        first = all(m is None for m in memory)
        return (run_layers if first else compiled)(layers, x, memory)

    ae.stream.run = run
    return ae

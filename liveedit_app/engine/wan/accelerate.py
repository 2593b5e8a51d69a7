"""GPU speed settings for a Wan-size streaming editor; each was measured on an H100 with
`scripts/gpu_speed_wan.py` (docs/performance.md, "Wan2.1-1.3B on one H100", and
benchmarks/wan-speed-notes.md). All are no-ops on a CPU unless a test asks for a backend.

* `compile_for_streaming`: torch.compile of the pure tensor stages of every block (modulation +
  norm, q / k,v projections + qk-norm + RoPE + head transposes, the rest of the block) and of the
  head. The glue between them stays eager: the mask caches' gathers and stores, the KV-cache write
  and the SDPA call over the growing cache (`CachedKeys.attend`). So a compiled graph never sees a
  layer index, a plan or the cache length, only tensors; the token dimension is marked dynamic,
  so one graph per stage serves every chunk, every layer and every kept-token count of the mask
  caches. (Compiling whole blocks specialised on `layer` through the plans' per-layer stores:
  a graph per layer and plan, and mid-stream recompiles with the static-skip cache.)
* `fuse_gelu_epilogue` (opt-in): the FFN's first GEMM applies bias + tanh-GELU in its cuBLASLt
  epilogue instead of a separate pass over the [tokens, 8960] activation.
* `to_fp8` (opt-in, changes results): the blocks' big Linear layers in float8 e4m3 with one scale
  per weight row and per token (torch._scaled_mm); bf16 stays the default.
* `conv3d_as_conv2d` (experiment): the full Wan VAE's 3x3x3 causal convs as 2D convs over
  frames with the 3 time taps stacked in the channels.
* `tune_autoencoder`: cuDNN autotuning for the fixed chunk shapes. Channels-last layouts were
  measured and are not used: 1.5x slower for the full Wan VAE, slower for the tiny one.

SDPA needs no setting: at these shapes PyTorch already picks cuDNN attention (1.7x the flash
backend, measured).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from liveedit_app.engine.dit import CausalDiT

FP8 = torch.float8_e4m3fn
FP8_MAX = 448.0

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
                          mode: str | None = None, dynamic_tokens: bool = True) -> CausalDiT:
    """Compile the blocks' stages and the head in place (the first chunk pays the compile).
    backend None: inductor on CUDA, nothing on a CPU; tests pass a backend to run it anywhere.
    dynamic_tokens=False leaves the token dims static (a measurement: the mask caches' counts
    would then recompile)."""
    if backend is None:
        if not _on_cuda(dit):
            return dit
        backend = "inductor"
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
    for block in dit.blocks:
        block.ffn = (GeluEpilogueFFN if on else nn.Sequential)(*block.ffn)
    return dit


class Fp8Linear(nn.Module):
    """y = x Wᵀ + b with W and x in float8 e4m3: W scaled per output row once, x per token row
    on every call, the product rescaled by torch._scaled_mm into x's dtype. Inference only."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        w = linear.weight.detach().float()
        scale = w.abs().amax(1, keepdim=True).clamp_min(1e-12) / FP8_MAX  # [out, 1]
        self.register_buffer("weight_fp8", (w / scale).to(FP8))  # [out, in]
        self.register_buffer("weight_scale", scale.t().contiguous())  # [1, out] fp32
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])  # [N, in]
        scale = rows.abs().amax(1, keepdim=True).float().clamp_min(1e-12) / FP8_MAX  # [N, 1]
        q = (rows.float() / scale).to(FP8)
        y = torch._scaled_mm(q, self.weight_fp8.t(), scale_a=scale, scale_b=self.weight_scale,
                             out_dtype=x.dtype)  # fmt: skip
        if self.bias is not None:
            y = y + self.bias
        return y.view(*x.shape[:-1], -1)


def to_fp8(dit: CausalDiT) -> int:
    """Swap every block's per-token Linear (self-attention q, k, v, o; cross-attention q, o;
    FFN) for an Fp8Linear in place; returns how many. The cross-attention k, v run once per
    prompt and stay bf16. Irreversible: copy the model first to keep a bf16 one."""
    swapped = 0
    for block in dit.blocks:
        for attn, names in ((block.self_attn, "qkvo"), (block.cross_attn, "qo")):
            for name in names:
                setattr(attn, name, Fp8Linear(getattr(attn, name)))
                swapped += 1
        for i in (0, 2):
            block.ffn[i] = Fp8Linear(block.ffn[i])
            swapped += 1
    return swapped


def conv3d_as_conv2d(model: nn.Module, channels_last: bool = False, on: bool = True) -> int:
    """Experiment for the full Wan VAE: every causal conv with a 3-frame time kernel and time
    stride 1 runs as ONE 2D convolution over frames whose channels stack the 3 time taps
    (weight [Cout, Cin, 3, kh, kw] -> [Cout, 3·Cin, kh, kw]): cuDNN's 2D kernels instead of its
    3D ones. Same arithmetic up to summation order. Returns how many convs were switched;
    on=False switches them back."""
    from liveedit_app.engine.wan.vae import CausalConv3d

    count = 0
    for conv in model.modules():
        if isinstance(conv, CausalConv3d) and conv.kernel_size[0] == 3 and conv.stride[0] == 1:
            conv.__dict__.pop("_conv_forward", None)
            if on:
                conv._conv_forward = _taps_as_channels(conv, channels_last)
            count += 1
    return count


def _taps_as_channels(conv: nn.Conv3d, channels_last: bool) -> Callable:
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
                ) -> torch.Tensor:
        b, c, t, _, _ = x.shape  # history already prepended by CausalConv3d
        kt = weight.shape[2]
        n = t - kt + 1
        # [B, n, kt·C, H, W], tap-major channels: one copy of the input
        taps = torch.cat([x[:, :, i : i + n].transpose(1, 2) for i in range(kt)], 2)
        frames = taps.flatten(0, 1).contiguous(memory_format=fmt)
        w2 = weight.transpose(1, 2).flatten(1, 2).contiguous(memory_format=fmt)
        y = torch.nn.functional.conv2d(frames, w2, bias, conv.stride[1:], conv.padding[1:])
        return y.unflatten(0, (b, n)).transpose(1, 2).contiguous()  # [B, Cout, n, H, W]

    return forward


def tune_autoencoder(ae: nn.Module) -> nn.Module:
    """cuDNN autotuning: every chunk has the same shapes, so the first chunk's search pays off."""
    if _on_cuda(ae):
        torch.backends.cudnn.benchmark = True
    return ae

"""Where the model runs and in which precision: CUDA, then Apple MPS, then the CPU, unless the
user names one. bf16 on CPUs (fp16 is unusably slow there) and on NVIDIA GPUs that compute in it
(Ampere and later); fp16 on older NVIDIA GPUs (Turing, Pascal: bf16 is emulated there, many times
slower) and on MPS."""

from __future__ import annotations

import torch

from liveedit_app.errors import InputError

_KNOWN = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' -> an available torch.device."""
    text = str(name)
    kind = text.split(":")[0]
    if kind not in _KNOWN:
        raise InputError(f"Unknown compute device '{text}'.",
                         details=f"use one of {', '.join(_KNOWN)} (or cuda:N)")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise InputError("This computer has no usable NVIDIA GPU; choose the CPU instead.",
                         details="torch.cuda.is_available() is False")
    if kind == "mps" and not _mps_available():
        raise InputError("Apple GPU acceleration (MPS) is not available here.")
    return torch.device(text)


def pick_dtype(device: torch.device) -> torch.dtype:
    if device.type == "mps":
        return torch.float16
    if device.type == "cuda":
        with torch.cuda.device(device):
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        return torch.bfloat16 if native else torch.float16
    return torch.bfloat16

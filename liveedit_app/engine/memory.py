"""Running out of memory, said in a sentence: the check before a model is loaded onto a GPU that
cannot hold it, and the translation of an out-of-memory failure while loading or editing.

A creator's GPU may have 6 GB, or share its memory with a game; the model card's `vram_gb` says
what a model needs, and `torch.cuda.mem_get_info` what the GPU has free."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from liveedit_app.errors import GPUMemoryError

_GB = 1024**3


def is_out_of_memory(err: BaseException) -> bool:
    """A CUDA/MPS allocation failure, or the CPU allocator's."""
    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text)


def free_cached(device: torch.device) -> None:
    """Give what the allocator holds back, so that the next attempt starts from a clean slate."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "the Apple GPU" if device.type == "mps" else "this computer"


def check_fits(model: str, need_gb: float | None, device: torch.device,
               free_bytes: Callable[[torch.device], int] | None = None,
               device_name: Callable[[torch.device], str] = _device_name) -> None:
    """Refuse to load `model` (needing `need_gb` GB, from its card) onto a CUDA GPU with less
    free memory than that; a CPU or an unknown need is not checked."""
    if need_gb is None or device.type != "cuda":
        return
    free = (free_bytes or (lambda d: torch.cuda.mem_get_info(d)[0]))(device) / _GB
    if free >= need_gb:
        return
    raise GPUMemoryError(
        f"The model {model} needs about {need_gb:.1f} GB of GPU memory, but "
        f"{device_name(device)} has {free:.1f} GB free. Close other programs that use the GPU, "
        "or choose a smaller model.",
        details=f"device {device}: {free:.2f} GB free, card says vram_gb={need_gb}")


@contextmanager
def out_of_memory_as(message: str, device: torch.device) -> Iterator[None]:
    """Turn an allocation failure inside the block into a GPUMemoryError with `message`, after
    freeing what the failed attempt left behind."""
    try:
        yield
    except Exception as err:
        if not is_out_of_memory(err):
            raise
        free_cached(device)
        raise GPUMemoryError(message, details=f"{device}: {err}") from err

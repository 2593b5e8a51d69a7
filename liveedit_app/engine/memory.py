"""Running out of memory, said in a sentence: the check before a model is loaded onto a GPU that
cannot hold it, and the translation of an out-of-memory failure while loading or editing.

A creator's GPU may have 6 GB, or share its memory with a game. What a model needs is estimated
from its own weight files and its KV cache (`estimate_gb`, also the `vram_gb` the Wan importer
writes into the card); `torch.cuda.mem_get_info` says what the GPU has free."""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from liveedit_app.engine.config import ModelConfig
from liveedit_app.errors import GPUMemoryError

_GB = 1024**3
WORKING_GB = 1.5  # activations of one chunk, the autoencoder's and the allocator's slack


def kv_cache_bytes(cfg: ModelConfig, bytes_per_value: int = 2) -> int:
    """K and V of every layer over the attention window (bf16)."""
    tokens = cfg.sampler.window_frames * cfg.tokens_per_frame
    return 2 * cfg.dit.layers * tokens * cfg.dit.dim * bytes_per_value


def estimate_gb(cfg: ModelConfig, weight_bytes: int) -> float:
    """GPU memory to stream with `cfg` whose GPU-side weights (DiT and autoencoder, bf16; the
    text encoder runs on the CPU) take `weight_bytes`."""
    return round((weight_bytes + kv_cache_bytes(cfg)) / _GB + WORKING_GB, 1)


def folder_weight_bytes(folder: Path) -> int:
    """The model folder's own weight files (its subfolders hold the text encoder or a teacher)."""
    return sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))


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


def holder(device: torch.device) -> str:
    """What holds the model's memory, in a sentence: "this computer" or "the GPU"."""
    return "this computer" if device.type == "cpu" else "the GPU"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "the Apple GPU" if device.type == "mps" else "this computer"


def check_fits(model: str, need_gb: float | None, device: torch.device,
               free_bytes: Callable[[torch.device], int] | None = None,
               device_name: Callable[[torch.device], str] = _device_name) -> None:
    """Refuse to load `model` (needing `need_gb` GB, see `estimate_gb`) onto a CUDA GPU with
    less free memory than that; a CPU or an unknown need is not checked."""
    if need_gb is None or device.type != "cuda":
        return
    free = (free_bytes or (lambda d: torch.cuda.mem_get_info(d)[0]))(device) / _GB
    if free >= need_gb:
        return
    raise GPUMemoryError(
        f"The model {model} needs about {need_gb:.1f} GB of GPU memory, but "
        f"{device_name(device)} has {free:.1f} GB free. Close other programs that use the GPU, "
        "or choose a smaller model.",
        details=f"device {device}: {free:.2f} GB free, about {need_gb} GB needed (weights, "
                f"KV cache and {WORKING_GB} GB to work in)")


@contextmanager
def out_of_memory_as(message: str, device: torch.device) -> Iterator[None]:
    """Turn an allocation failure inside the block into a GPUMemoryError with `message`, after
    freeing what the failed attempt left behind."""
    try:
        yield
    except Exception as err:
        if not is_out_of_memory(err):
            raise
        # the finished frames of the failed attempt hold its tensors for as long as the error
        # lives (the window keeps it on show): without this nothing would be freed
        traceback.clear_frames(err.__traceback__)
        free_cached(device)
        raise GPUMemoryError(message, details=f"{device}: {err}") from err

"""The training set of stages 1-3: procedural clips encoded once by the stage-0 autoencoder.

Clips are generated in worker processes in blocks, encoded on the training device, and kept as
latents (bf16) with the mask at latent resolution, the instruction index and the edit index.
Prompt embeddings come from a prompt table (every phrasing, see `prompts.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from liveedit_app.distill.config import DataConfig
from liveedit_app.distill.data.blocks import finished, mark_used, ready_blocks, take_block
from liveedit_app.distill.data.pool import Pool, generate_pool

BLOCK = 256  # clips generated and encoded at a time


@dataclass
class LatentSet:
    source: torch.Tensor  # [N, F, C, h, w] bf16
    target: torch.Tensor  # [N, F, C, h, w] bf16
    mask: torch.Tensor  # [N, F, 1, h, w] bf16 in [0, 1]; ones for global styles
    region: torch.Tensor  # [N] bool
    instruction: torch.Tensor  # [N] long, index into all_instructions()
    edit: torch.Tensor  # [N] long, index into EDIT_KEYS

    def __len__(self) -> int:
        return self.source.shape[0]

    def to(self, device: torch.device) -> LatentSet:
        return LatentSet(*(getattr(self, k).to(device) for k in self.__dataclass_fields__))

    def take(self, index: torch.Tensor) -> LatentSet:
        return LatentSet(*(getattr(self, k)[index.to(getattr(self, k).device)]
                           for k in self.__dataclass_fields__))

    def save(self, path: str | Path) -> None:
        save_file({k: getattr(self, k).contiguous() for k in self.__dataclass_fields__},
                  str(path))

    @classmethod
    def load(cls, path: str | Path) -> LatentSet:
        data = load_file(str(path))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @staticmethod
    def clips_in(path: str | Path) -> int:
        """How many clips a saved set holds, read from its header (the tensors stay on disk)."""
        with safe_open(str(path), "pt") as f:
            return f.get_slice("region").get_shape()[0]


def mask_to_latent(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """Pixel masks [B, F, H, W] in [0, 1] -> [B, F, 1, H/factor, W/factor] (area average)."""
    b, f, h, w = mask.shape
    small = F.avg_pool2d(mask.reshape(b * f, 1, h, w), factor)
    return small.reshape(b, f, 1, h // factor, w // factor)


def pixels_to_tensor(frames, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 numpy [B, F, H, W, 3] -> float [B, F, 3, H, W] in [0, 1] on `device` (moved as
    uint8 and converted there: a quarter of the bytes, and no float pass on the CPU)."""
    x = torch.from_numpy(frames).to(device)
    return x.permute(0, 1, 4, 2, 3).float() / 255


@torch.no_grad()
def encode_clips(ae, frames, device: torch.device, batch: int = 16) -> torch.Tensor:
    """uint8 numpy [N, F, H, W, 3] -> latents [N, F, C, h, w] bf16 on the CPU."""
    out = []
    for i in range(0, len(frames), batch):
        x = pixels_to_tensor(frames[i:i + batch], device)
        out.append(ae.encode(x).to(torch.bfloat16).cpu())
    return torch.cat(out)


def encode_pool(ae, pool: Pool, device: torch.device) -> LatentSet:
    mask = torch.from_numpy(pool.mask).to(device).float() / 255
    return LatentSet(
        source=encode_clips(ae, pool.source, device),
        target=encode_clips(ae, pool.target, device),
        mask=mask_to_latent(mask, ae.spatial_factor).to(torch.bfloat16).cpu(),
        region=torch.from_numpy(pool.region),
        instruction=torch.from_numpy(pool.instruction),
        edit=torch.from_numpy(pool.edit),
    )


def concat(parts: list[LatentSet]) -> LatentSet:
    return LatentSet(*(torch.cat([getattr(p, k) for p in parts])
                       for k in LatentSet.__dataclass_fields__))


def build_latent_set(ae, data: DataConfig, *, count: int, split: str, device: torch.device,
                     start: int = 0, log=print) -> LatentSet:
    """`count` clips of `split` (indices start..), generated and encoded block by block."""
    parts: list[LatentSet] = []
    ae = ae.eval()
    workers = None if data.workers < 0 else data.workers
    for first in range(start, start + count, BLOCK):
        n = min(BLOCK, start + count - first)
        pool = generate_pool(n, height=data.height, width=data.width, frames=data.latent_frames,
                             split=split, start=first, workers=workers,
                             edits_per_scene=data.edits_per_scene)
        log(f"latents: {first - start + n}/{count} clips ({n / pool.seconds:.1f} clips/s "
            f"generated)")
        parts.append(encode_pool(ae, pool, device))
    return concat(parts)


def absorb_blocks(ae, folder: Path, device: torch.device, have: int, want: int,
                  log=print) -> LatentSet | None:
    """Encode the ready blocks of a background generator; wait for more while fewer than
    `want` clips are in hand (counting `have`) and the generator is still running. None when
    no block was ready."""
    parts: list[LatentSet] = []
    began = time.perf_counter()
    while True:
        for path in ready_blocks(folder):
            if path.suffix == ".safetensors":  # encoded by the generator already
                parts.append(LatentSet.load(path))
                mark_used(path)
            else:
                parts.append(encode_pool(ae, take_block(path), device))
            have += len(parts[-1])
        if have >= want or finished(folder) and not ready_blocks(folder):
            break
        time.sleep(1.0)
    log(f"latents: {have} clips in hand (waited {time.perf_counter() - began:.0f}s)")
    return concat(parts) if parts else None

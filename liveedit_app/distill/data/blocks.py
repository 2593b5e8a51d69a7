"""Clips handed from a background generator process to the trainer as block files.

On a GPU machine the generator (`liveedit train data`) runs on every CPU core while the
autoencoder trains; later stages take in whatever blocks are ready and delete them. Until the
autoencoder exists a block holds pixels (`block_NNNNN.npz`, 5.5 MB a 256x256 clip of 12 frames,
encoded by the trainer); afterwards the generator encodes each block itself and writes latents
(`latent_NNNNN.safetensors`, 14x smaller), so the trainer only reads them. A block is written to a
temporary name and renamed, so a reader never sees half of one; at most `max_pending` blocks wait
on disk at a time.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from liveedit_app.distill.data.pool import Pool, generate_pool, worker_pool

FINISHED = "finished"

# a generated block -> something with .save(path) (the encoded latents), or None for pixels
Encoder = Callable[[Pool], Any]


def block_path(folder: Path, index: int) -> Path:
    return folder / f"block_{index:05d}.npz"


def latent_block_path(folder: Path, index: int) -> Path:
    return folder / f"latent_{index:05d}.safetensors"


def block_index(path: Path) -> int:
    return int(re.search(r"_(\d+)\.", path.name).group(1))


def ready_blocks(folder: Path) -> list[Path]:
    """Pixel and latent blocks waiting, oldest first."""
    found = [*folder.glob("block_*.npz"), *folder.glob("latent_*.safetensors")]
    return sorted(found, key=block_index)


def finished(folder: Path) -> bool:
    return (folder / FINISHED).is_file()


def mark_used(path: Path) -> None:
    """Delete a block the trainer has taken in, leaving a marker so it is never made again."""
    path.unlink()
    (path.parent / f"used_{block_index(path):05d}").touch()


def produce(folder: str | Path, *, total: int, block: int, max_pending: int, height: int,
            width: int, frames: int, split: str = "train", workers: int | None = None,
            edits_per_scene: int = 1, encode: Encoder | None = None, log=print) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    settings = dict(height=height, width=width, frames=frames, split=split,
                    edits_per_scene=edits_per_scene)
    with worker_pool(workers=workers, **settings) as procs:  # forked before `encode` starts CUDA
        for i, start in enumerate(range(0, total, block)):
            if any(p.exists() for p in (folder / f"used_{i:05d}", block_path(folder, i),
                                        latent_block_path(folder, i))):
                continue  # made by an earlier run
            while len(ready_blocks(folder)) >= max_pending:
                time.sleep(0.5)
            pool = generate_pool(min(block, total - start), start=start, workers=workers,
                                 procs=procs, **settings)
            latents = encode(pool) if encode else None
            if latents is None:
                tmp, path = folder / f"tmp_{i:05d}.npz", block_path(folder, i)
                np.savez(tmp, source=pool.source, target=pool.target, mask=pool.mask,
                         region=pool.region, edit=pool.edit, instruction=pool.instruction)
            else:
                tmp, path = folder / f"tmp_{i:05d}.safetensors", latent_block_path(folder, i)
                latents.save(tmp)
            os.replace(tmp, path)
            log(f"data: block {i} ({start + len(pool)}/{total} clips, "
                f"{len(pool) / pool.seconds:.1f} clips/s, {time.perf_counter() - began:.0f}s"
                f"{', encoded' if latents is not None else ''})")
    (folder / FINISHED).touch()


def take_block(path: Path) -> Pool:
    """Read a pixel block and mark it used (the file is deleted)."""
    with np.load(path) as z:
        pool = Pool(z["source"], z["target"], z["mask"], z["region"], z["edit"],
                    z["instruction"], 0.0)
    mark_used(path)
    return pool

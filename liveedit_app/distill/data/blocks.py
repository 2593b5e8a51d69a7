"""Clips handed from a background generator process to the trainer as block files.

On a GPU machine the generator (`liveedit train data`) runs on every CPU core while the
autoencoder trains; later stages encode whatever blocks are ready and delete them. A block is
written to a temporary name and renamed, so a reader never sees half of one; at most
`max_pending` blocks wait on disk at a time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from liveedit_app.distill.data.pool import Pool, generate_pool

FINISHED = "finished"


def block_path(folder: Path, index: int) -> Path:
    return folder / f"block_{index:05d}.npz"


def ready_blocks(folder: Path) -> list[Path]:
    return sorted(folder.glob("block_*.npz"))


def finished(folder: Path) -> bool:
    return (folder / FINISHED).is_file()


def produce(folder: str | Path, *, total: int, block: int, max_pending: int, height: int,
            width: int, frames: int, split: str = "train", workers: int | None = None,
            edits_per_scene: int = 1, log=print) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    for i, start in enumerate(range(0, total, block)):
        if (folder / f"used_{i:05d}").exists() or block_path(folder, i).exists():
            continue  # made by an earlier run
        while len(ready_blocks(folder)) >= max_pending:
            time.sleep(0.5)
        pool = generate_pool(min(block, total - start), height=height, width=width,
                             frames=frames, split=split, start=start, workers=workers,
                             edits_per_scene=edits_per_scene)
        tmp = folder / f"tmp_{i:05d}.npz"
        np.savez(tmp, source=pool.source, target=pool.target, mask=pool.mask,
                 region=pool.region, edit=pool.edit, instruction=pool.instruction)
        os.replace(tmp, block_path(folder, i))
        log(f"data: block {i} ({start + len(pool)}/{total} clips, "
            f"{len(pool) / pool.seconds:.1f} clips/s, {time.perf_counter() - began:.0f}s)")
    (folder / FINISHED).touch()


def take_block(path: Path) -> Pool:
    """Read a block and mark it used (the file is deleted)."""
    with np.load(path) as z:
        pool = Pool(z["source"], z["target"], z["mask"], z["region"], z["edit"],
                    z["instruction"], 0.0)
    path.unlink()
    (path.parent / path.name.replace("block_", "used_").replace(".npz", "")).touch()
    return pool

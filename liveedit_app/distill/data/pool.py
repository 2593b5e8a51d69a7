"""Many examples at once, generated in worker processes into flat arrays (what training reads)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass

import numpy as np

from liveedit_app.distill.data.edits import EDIT_KEYS
from liveedit_app.distill.data.generator import EditExampleGenerator
from liveedit_app.distill.data.phrasings import all_instructions


@dataclass
class Pool:
    source: np.ndarray  # [N, F, H, W, 3] uint8
    target: np.ndarray  # [N, F, H, W, 3] uint8
    mask: np.ndarray  # [N, F, H, W] uint8, 0..255; all 255 for global styles
    region: np.ndarray  # [N] bool: a region edit (mask used) or a global style
    edit: np.ndarray  # [N] int64 index into EDIT_KEYS
    instruction: np.ndarray  # [N] int64 index into all_instructions()
    seconds: float  # wall time it took

    def __len__(self) -> int:
        return len(self.edit)


_GEN: EditExampleGenerator | None = None


def _init(height: int, width: int, frames: int, split: str) -> None:
    import cv2

    cv2.setNumThreads(1)
    global _GEN
    _GEN = EditExampleGenerator(height, width, frames, split)


def _one(index: int) -> tuple:
    ex = _GEN.example(index)
    mask = (np.full(ex.source.shape[:3], 255, np.uint8) if ex.mask is None
            else np.round(ex.mask * 255).astype(np.uint8))
    return ex.source, ex.target, mask, ex.mask is not None, ex.edit, ex.instruction


def generate_pool(count: int, *, height: int, width: int, frames: int, split: str = "train",
                  start: int = 0, workers: int | None = None) -> Pool:
    """Examples `start .. start+count-1` of `split`, made by `workers` processes (all cores by
    default; 0 = in this process)."""
    workers = os.cpu_count() if workers is None else workers
    began = time.perf_counter()
    source = np.empty((count, frames, height, width, 3), np.uint8)
    target = np.empty_like(source)
    mask = np.empty((count, frames, height, width), np.uint8)
    region = np.empty(count, bool)
    edit = np.empty(count, np.int64)
    instruction = np.empty(count, np.int64)
    text_index = {t: i for i, t in enumerate(all_instructions())}
    indices = range(start, start + count)
    if workers:
        ctx = mp.get_context("fork")
        with ctx.Pool(workers, _init, (height, width, frames, split)) as procs:
            results = procs.imap(_one, indices, chunksize=4)
            for i, r in enumerate(results):
                source[i], target[i], mask[i], region[i] = r[:4]
                edit[i], instruction[i] = EDIT_KEYS.index(r[4]), text_index[r[5]]
    else:
        _init(height, width, frames, split)
        for i, index in enumerate(indices):
            r = _one(index)
            source[i], target[i], mask[i], region[i] = r[:4]
            edit[i], instruction[i] = EDIT_KEYS.index(r[4]), text_index[r[5]]
    return Pool(source, target, mask, region, edit, instruction, time.perf_counter() - began)

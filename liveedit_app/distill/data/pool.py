"""Many examples at once, generated in worker processes into flat arrays (what training reads)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from dataclasses import dataclass

import numpy as np

from liveedit_app.distill.data.edits import EDIT_KEYS
from liveedit_app.distill.data.generator import EditExampleGenerator, Example
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
_PER_SCENE = 1


def _init(height: int, width: int, frames: int, split: str, per_scene: int = 1) -> None:
    import cv2

    cv2.setNumThreads(1)
    global _GEN, _PER_SCENE
    _GEN = EditExampleGenerator(height, width, frames, split)
    _PER_SCENE = per_scene


def _row(ex: Example) -> tuple:
    mask = (np.full(ex.source.shape[:3], 255, np.uint8) if ex.mask is None
            else np.round(ex.mask * 255).astype(np.uint8))
    return ex.source, ex.target, mask, ex.mask is not None, ex.edit, ex.instruction


def _scene(index: int) -> list[tuple]:
    return [_row(ex) for ex in _GEN.examples(index, _PER_SCENE)]


@contextlib.contextmanager
def worker_pool(*, height: int, width: int, frames: int, split: str = "train",
                workers: int | None = None, edits_per_scene: int = 1):
    """Generator processes kept for many `generate_pool` calls (pass it as `procs`, with the
    same settings); None with `workers` 0. Forked once, before the caller starts CUDA."""
    workers = os.cpu_count() if workers is None else workers
    if not workers:
        yield None
        return
    args = (height, width, frames, split, edits_per_scene)
    with mp.get_context("fork").Pool(workers, _init, args) as procs:
        yield procs


def generate_pool(count: int, *, height: int, width: int, frames: int, split: str = "train",
                  start: int = 0, workers: int | None = None, edits_per_scene: int = 1,
                  procs=None) -> Pool:
    """Examples `start .. start+count-1` of `split`, made by `workers` processes (all cores by
    default; 0 = in this process), or by `procs` from `worker_pool` (made with the same
    settings). With `edits_per_scene` k, example i is edit i % k of scene i // k (one render
    serves k examples)."""
    workers = os.cpu_count() if workers is None else workers
    k = edits_per_scene
    began = time.perf_counter()
    source = np.empty((count, frames, height, width, 3), np.uint8)
    target = np.empty_like(source)
    mask = np.empty((count, frames, height, width), np.uint8)
    region = np.empty(count, bool)
    edit = np.empty(count, np.int64)
    instruction = np.empty(count, np.int64)
    text_index = {t: i for i, t in enumerate(all_instructions())}

    def fill(rows, skip: int, n: int) -> None:
        for j, r in enumerate(rows):
            i = j - skip
            if 0 <= i < n:
                source[i], target[i], mask[i], region[i] = r[:4]
                edit[i], instruction[i] = EDIT_KEYS.index(r[4]), text_index[r[5]]

    scenes = range(start // k, (start + count - 1) // k + 1)
    if procs is not None or workers:
        with contextlib.ExitStack() as stack:
            if procs is None:
                procs = stack.enter_context(worker_pool(
                    height=height, width=width, frames=frames, split=split, workers=workers,
                    edits_per_scene=k))
            groups = procs.imap(_scene, scenes, chunksize=max(1, 4 // k))
            fill((r for g in groups for r in g), start - scenes[0] * k, count)
    else:
        _init(height, width, frames, split, k)
        fill((r for s in scenes for r in _scene(s)), start - scenes[0] * k, count)
    return Pool(source, target, mask, region, edit, instruction, time.perf_counter() - began)

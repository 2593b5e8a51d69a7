"""One streaming-edit example per (split, index): deterministic, and held-out seeds never overlap
the training seeds (training uses even seeds, held-out odd ones)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveedit_app.distill.data.edits import EDITS, EDITS_BY_KEY, Edit
from liveedit_app.distill.data.phrasings import phrasings
from liveedit_app.distill.data.scene import Scene, render_scene

SPLITS = ("train", "heldout")


@dataclass
class Example:
    source: np.ndarray  # [F, H, W, 3] uint8
    target: np.ndarray  # [F, H, W, 3] uint8
    mask: np.ndarray | None  # [F, H, W] float32 in [0, 1] for region edits, None for styles
    instruction: str
    edit: str
    seed: int


def to_uint8(frames: np.ndarray) -> np.ndarray:
    return np.round(np.clip(frames, 0, 1) * 255).astype(np.uint8)


class EditExampleGenerator:
    """Examples of `frames` frames at `height`x`width`; `split` picks seeds and phrasings."""

    def __init__(self, height: int = 256, width: int = 256, frames: int = 12,
                 split: str = "train", region_share: float = 0.5) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
        self.height, self.width, self.frames = height, width, frames
        self.split = split
        self.region_share = region_share

    def seed(self, index: int) -> int:
        return 2 * index + (1 if self.split == "heldout" else 0)

    def scene(self, index: int) -> Scene:
        rng = np.random.default_rng([self.seed(index), 0])
        return render_scene(rng, self.height, self.width, self.frames)

    def pick_edit(self, index: int) -> tuple[Edit, str]:
        """The edit and the phrasing that example `index` uses."""
        rng = np.random.default_rng([self.seed(index), 1])
        region = rng.random() < self.region_share
        pool = [e for e in EDITS if e.region == region]
        edit = pool[int(rng.integers(len(pool)))]
        options = phrasings(edit.key, self.split)
        return edit, options[int(rng.integers(len(options)))]

    def examples(self, index: int, count: int) -> list[Example]:
        """`count` different edits of scene `index`, rendered once. Training on several edits of
        the same footage makes the instruction the only thing that tells the targets apart, and
        the scene render (most of the cost) is shared."""
        if count == 1:
            return [self.example(index)]
        rng = np.random.default_rng([self.seed(index), 3])
        scene = self.scene(index)
        chosen: list[Edit] = []
        for _ in range(min(count, len(EDITS))):
            region = rng.random() < self.region_share
            pool = [e for e in EDITS if e.region == region and e not in chosen]
            pool = pool or [e for e in EDITS if e not in chosen]
            chosen.append(pool[int(rng.integers(len(pool)))])
        out = []
        for edit in chosen:
            options = phrasings(edit.key, self.split)
            out.append(Example(
                source=to_uint8(scene.source),
                target=to_uint8(edit.apply(scene)),
                mask=scene.mask.copy() if edit.region else None,
                instruction=options[int(rng.integers(len(options)))],
                edit=edit.key,
                seed=self.seed(index),
            ))
        return out

    def example(self, index: int, edit_key: str | None = None) -> Example:
        edit, instruction = self.pick_edit(index)
        if edit_key is not None and edit_key != edit.key:
            edit = EDITS_BY_KEY[edit_key]
            rng = np.random.default_rng([self.seed(index), 2])
            options = phrasings(edit.key, self.split)
            instruction = options[int(rng.integers(len(options)))]
        scene = self.scene(index)
        return Example(
            source=to_uint8(scene.source),
            target=to_uint8(edit.apply(scene)),
            mask=scene.mask.copy() if edit.region else None,
            instruction=instruction,
            edit=edit.key,
            seed=self.seed(index),
        )

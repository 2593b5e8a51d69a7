"""One benchmark case: a source clip, what to do to it, where, and (when known) the right answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveedit_app.distill.metrics import edit_region


@dataclass(frozen=True)
class BenchCase:
    name: str
    instruction: str
    source: np.ndarray  # [T, H, W, 3] uint8
    mask: np.ndarray | None  # [T, H, W] float32 in [0, 1]; None = the edit covers the frame
    target: np.ndarray | None  # [T, H, W, 3] uint8, the right edit of `source`, when known
    edit_key: str  # cases with equal keys ask for the same edit (instruction accuracy)
    fps: float = 16.0

    @property
    def edit_region(self) -> np.ndarray:
        """[T, H, W] bool: the pixels the edit may change (the model card's definition)."""
        return edit_region(self.mask, self.source.shape)

    @property
    def outside_region(self) -> np.ndarray | None:
        """[T, H, W] bool: the pixels that must stay the source's; None for a global edit."""
        return None if self.mask is None else ~self.edit_region

"""The types that cross part boundaries: frames in, edited frames out, editor statistics.

numpy only, so `media/` (no torch) and `ui/` (no engine internals) can share them with `engine/`.
`EditorProtocol` is what the window, the exporter and the benchmark need of an editor;
`liveedit_app.engine.editor.StreamEditor` is the real one, test doubles implement the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One source picture. `rgb` is [H, W, 3] uint8, `pts` seconds since the stream began."""

    rgb: np.ndarray
    pts: float
    index: int


@dataclass(frozen=True, slots=True)
class EditedFrame:
    """One edited picture, with the source it came from and the same pts and index."""

    rgb: np.ndarray  # [H, W, 3] uint8, composited with the source outside the mask
    source: np.ndarray  # [H, W, 3] uint8
    pts: float
    index: int
    latency_s: float = 0.0  # from push() of this frame to its output


@dataclass(slots=True)
class EditorStats:
    fps: float = 0.0  # edited frames per second over a recent window
    latency_ms: float = 0.0  # median push-to-output latency over a recent window
    recompute_share: float = 1.0  # share of DiT tokens computed (1.0 = no reuse)
    dropped_frames: int = 0
    frames_out: int = 0
    device: str = "cpu"
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class EditSettings:
    """What a creator sets besides the prompt and the mask."""

    steps: int = 4
    seed: int = 0
    strength: float = 1.0  # 0 = source, 1 = full edit (blended in the composite)
    mask_feather_px: float = 2.0


class EditorProtocol(Protocol):
    stats: EditorStats

    def set_prompt(self, prompt: str) -> None: ...

    def set_mask(self, mask: np.ndarray | None) -> None: ...

    def configure(self, settings: EditSettings) -> None: ...

    def push(self, frame: Frame) -> list[EditedFrame]: ...

    def flush(self) -> list[EditedFrame]: ...

    def reset(self) -> None: ...

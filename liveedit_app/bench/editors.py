"""The engine's editors as benchmark variants and speed targets: which models are installed, on
which devices, and the baselines built from one model's weights."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from liveedit_app.bench.cases import BenchCase
from liveedit_app.bench.heldout import heldout_case
from liveedit_app.bench.runner import ClipRun
from liveedit_app.bench.speed import SpeedTarget
from liveedit_app.bench.variants import (
    Variant,
    identity_variant,
    skipped_variant,
    streaming_variant,
    target_variant,
)
from liveedit_app.modelstore.store import ModelStore

# the engine's mask cache each streaming baseline runs with; per frame, nothing is cached
MASK_CACHE_OF = {"student": "static", "student-no-mask-cache": "off", "student-per-frame": "off"}
SPEED_MASK_CACHES = ("static", "reference", "off")
TEACHER_FOLDER = "teacher"  # the stage-1 model folder inside a student's model folder
LABELS = {
    "student": "student (streaming, mask cache)",
    "student-no-mask-cache": "student without mask cache",
    "student-per-frame": "student, each frame alone",
    "teacher-offline": "bidirectional teacher (offline)",
}


def installed_models() -> list[str]:
    return [model.name for model in ModelStore().list()]


def available_devices() -> list[str]:
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def working_resolution(name_or_folder: str) -> tuple[int, int]:
    """(H, W) in pixels that the model edits at."""
    from liveedit_app.engine.checkpoint import read_card
    from liveedit_app.engine.editor import find_model

    return tuple(read_card(find_model(name_or_folder))[2].resolution)


def load_editor(name_or_folder: str, device: str, *, mask_cache: str = "static"):
    from liveedit_app.engine.editor import StreamEditor

    return StreamEditor.load(name_or_folder, device=device, mask_cache=mask_cache)


def quality_variants(
    name_or_folder: str,
    device: str,
    names: list[str],
    *,
    teacher: str | None = None,
    teacher_steps: int = 50,
) -> list[Variant]:
    """The requested baselines of one model, in `names` order. The teacher is `teacher` or the
    stage-1 model folder shipped inside the model's folder as `teacher/`."""
    variants = []
    for name in names:
        if name == "identity":
            variants.append(identity_variant())
        elif name == "target":
            variants.append(target_variant())
        elif name == "teacher-offline":
            variants.append(teacher_variant(name_or_folder, device, teacher, teacher_steps))
        else:
            editor = load_editor(name_or_folder, device, mask_cache=MASK_CACHE_OF[name])
            alone = name == "student-per-frame"
            variants.append(streaming_variant(name, LABELS[name], editor, each_frame_alone=alone))
    return variants


def teacher_variant(name_or_folder: str, device: str, teacher: str | None, steps: int) -> Variant:
    from liveedit_app.engine.editor import find_model

    folder = Path(teacher) if teacher else find_model(name_or_folder).parent / TEACHER_FOLDER
    if not (folder / "model.json").is_file():
        reason = f"no bidirectional teacher found (looked for {folder / 'model.json'})"
        return skipped_variant("teacher-offline", LABELS["teacher-offline"], reason)
    label = f"{LABELS['teacher-offline']}, {steps} steps"
    return Variant("teacher-offline", label, partial(_run_teacher, folder, device, steps))


def _run_teacher(folder: Path, device: str, steps: int, case: BenchCase) -> ClipRun:
    """The whole clip at once: its first frame is ready only when every frame is."""
    from liveedit_app.distill.teacher import teacher_edit

    start = time.perf_counter()
    frames = teacher_edit(
        folder, case.source, case.instruction, case.mask, steps=steps, device=device
    )
    wall_s = time.perf_counter() - start
    return ClipRun(frames=frames, wall_s=wall_s, first_frame_s=wall_s, chunk_latencies_s=[wall_s])


def speed_targets(
    models: list[str], devices: list[str], caches: list[str] = SPEED_MASK_CACHES
) -> list[SpeedTarget]:
    """Every model on every device with each of `caches` (the engine's mask cache modes)."""
    return [
        SpeedTarget(
            model,
            device,
            f"mask cache {cache}",
            partial(load_editor, model, device, mask_cache=cache),
        )
        for model in models
        for device in devices
        for cache in caches
    ]


def speed_clip(name_or_folder: str, frames: int) -> BenchCase:
    """Held-out example 0 recoloured at the model's resolution, with one still mask (the union
    of the subject's masks), as when a creator paints a region once: the mask cache's case."""
    height, width = working_resolution(name_or_folder)
    case = heldout_case(0, "recolor_red", height=height, width=width, frames=frames)
    still = np.repeat(case.mask.max(axis=0, keepdims=True), len(case.mask), axis=0)
    return replace(case, mask=still, target=None)

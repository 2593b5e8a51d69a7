"""The engine's editors as benchmark variants and speed targets: which models are installed, on
which devices, and the baselines built from one model's weights."""

from __future__ import annotations

from pathlib import Path

from liveedit_app.bench.cases import BenchCase
from liveedit_app.bench.heldout import heldout_case
from liveedit_app.bench.speed import SpeedTarget
from liveedit_app.bench.variants import (
    Variant,
    identity_variant,
    skipped_variant,
    streaming_variant,
)
from liveedit_app.engine.config import ModelConfig
from liveedit_app.errors import BenchmarkError
from liveedit_app.modelstore.card import ModelCard
from liveedit_app.modelstore.store import ModelStore

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


def model_folder(name_or_folder: str) -> Path:
    path = Path(name_or_folder)
    return path if path.is_dir() else ModelStore().find(name_or_folder)


def model_config(name_or_folder: str) -> ModelConfig:
    card = ModelCard.read(model_folder(name_or_folder))
    if "config" not in card.raw:
        raise BenchmarkError(f"The model {card.name} has no engine configuration in its card.")
    return ModelConfig.from_dict(card.raw["config"])


def working_resolution(name_or_folder: str) -> tuple[int, int]:
    """(H, W) in pixels that the model edits at."""
    return tuple(model_config(name_or_folder).resolution)


def load_editor(name_or_folder: str, device: str, *, mask_cache: bool = True):
    from liveedit_app.engine.editor import StreamEditor

    return StreamEditor.load(name_or_folder, device=device, mask_cache=mask_cache)


def quality_variants(name_or_folder: str, device: str, names: list[str]) -> list[Variant]:
    """The requested baselines of one model, in `names` order."""
    variants = []
    for name in names:
        if name == "identity":
            variants.append(identity_variant())
        elif name == "teacher-offline":
            variants.append(_teacher_variant(name_or_folder, device))
        else:
            editor = load_editor(name_or_folder, device, mask_cache=name == "student")
            alone = name == "student-per-frame"
            variants.append(streaming_variant(name, LABELS[name], editor, each_frame_alone=alone))
    return variants


def _teacher_variant(name_or_folder: str, device: str) -> Variant:
    return skipped_variant(
        "teacher-offline",
        LABELS["teacher-offline"],
        "the distillation pipeline has not published an offline teacher API yet",
    )


def speed_targets(models: list[str], devices: list[str]) -> list[SpeedTarget]:
    targets = []
    for model in models:
        for device in devices:
            for mask_cache in (True, False):
                mode = "mask cache on" if mask_cache else "mask cache off"
                targets.append(
                    SpeedTarget(
                        model,
                        device,
                        mode,
                        lambda m=model, d=device, c=mask_cache: load_editor(m, d, mask_cache=c),
                    )
                )
    return targets


def speed_clip(name_or_folder: str, frames: int) -> BenchCase:
    """Held-out example 0 recoloured at the model's resolution: a moving subject, its mask."""
    height, width = working_resolution(name_or_folder)
    return heldout_case(0, "recolor_red", height=height, width=width, frames=frames)

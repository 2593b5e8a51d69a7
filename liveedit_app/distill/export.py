"""Write a trained DiT + autoencoder as a model folder that `StreamEditor.load` opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.data.edits import GLOBAL_EDITS, NAMED_COLORS, REGION_EDITS
from liveedit_app.distill.data.phrasings import HELDOUT_SHARE, example_prompts
from liveedit_app.engine.checkpoint import save_model


def data_recipe(cfg: TrainConfig) -> dict[str, Any]:
    """What the model was trained on, for its card."""
    d = cfg.data
    return {
        "generator": "liveedit_app.distill.data (procedural, deterministic per seed)",
        "clip": {"height": d.height, "width": d.width, "frames": d.latent_frames},
        "training_clips": d.clips,
        "autoencoder_clips": d.ae_clips,
        "region_share": d.region_share,
        "sources": "photos shipped by scikit-image, scikit-learn and matplotlib (cropped, "
                   "perspective-warped, colour-jittered) and procedural textures; 1-3 moving "
                   "textured objects with occlusion; camera pan/zoom/roll/shake; drifting light; "
                   "sensor noise",
        "global_styles": [e.key for e in GLOBAL_EDITS],
        "region_edits": [e.key for e in REGION_EDITS],
        "named_colors": list(NAMED_COLORS),
        "heldout": f"{HELDOUT_SHARE:.0%} of each edit's phrasings and every odd seed are never "
                   "trained on",
    }


def export_model(folder: str | Path, cfg: TrainConfig, dit: torch.nn.Module, ae: torch.nn.Module,
                 *, training: dict[str, Any], description: str,
                 benchmarks: dict[str, Any] | None = None) -> Path:
    training = {**training, "data": data_recipe(cfg), "size": cfg.size}
    return save_model(folder, cfg.model, dit, autoencoder=ae, training=training,
                      benchmarks=benchmarks or {}, description=description,
                      dtype=torch.bfloat16, extra={"prompts": example_prompts()})

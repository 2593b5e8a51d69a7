"""Registers the Wan parts as engine components (imported by `engine.components` on first need).

Files in a model folder:
* "taehv": `taew2_1.safetensors` (or the published `taew2_1.pth`, read with weights_only=True);
  params {"file": name} picks another file.
* "umt5": the folder `text_encoder/` (params {"folder": name}), see `umt5.UMT5TextEncoder`.
* "wan-vae": `Wan2.1_VAE.safetensors` / `Wan2.1_VAE.pth`, see `vae.py`.
Without a folder a component gets random weights (tests and speed runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveedit_app.engine.components import register_autoencoder, register_text_encoder
from liveedit_app.engine.wan.weights import read_weights
from liveedit_app.errors import CheckpointError


def _taehv(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.wan.taehv import TAEHV, TAEHVAutoencoder

    model = TAEHV()
    if folder is not None:
        names = (params["file"],) if "file" in params else ("taew2_1.safetensors", "taew2_1.pth")
        model.load_published(read_weights(folder, names))
    return TAEHVAutoencoder(model.eval())


def _umt5(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.wan.umt5 import UMT5TextEncoder

    if folder is None:
        raise CheckpointError("The umT5 text encoder needs its model folder.", "folder is None")
    return UMT5TextEncoder.from_folder(folder / params.get("folder", "text_encoder"))


register_autoencoder("taehv", _taehv)
register_text_encoder("umt5", _umt5)


def _wan_vae(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

    model = WanVAE(dim=params.get("dim", 96))
    if folder is not None:
        names = (params["file"],) if "file" in params else ("Wan2.1_VAE.safetensors",
                                                            "Wan2.1_VAE.pth")  # fmt: skip
        model.load_published(read_weights(folder, names))
    return WanVAEAutoencoder(model.eval())


register_autoencoder("wan-vae", _wan_vae)

"""Turn the released LiveEdit checkpoint and the Wan2.1 files it needs into an installed model.

Inputs (all local files; nothing is downloaded): the training checkpoint (`ar-forcing_002000.pt`:
`generator` / `generator_ema`, `model.` keys, FSDP segments; read with weights_only), the umT5
text-encoder folder, and one or both autoencoders (`taew2_1.pth` for real time, `Wan2.1_VAE.pth`
for quality). Every part is checked strictly against its layout before anything is written; the
folder is built in a hidden staging folder and moved into the user's models only when complete,
with a sha256 for every file in its model.json.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import save_file

from liveedit_app.engine import memory
from liveedit_app.engine.checkpoint import (
    DIT_FILE,
    FORMAT,
    check_state_dict,
    import_reference_checkpoint,
)
from liveedit_app.engine.config import ModelConfig, model_config
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.wan.taehv import TAEHV
from liveedit_app.engine.wan.vae import WanVAE
from liveedit_app.engine.wan.weights import read_weights
from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.card import CARD_NAME, ModelCard, file_entry
from liveedit_app.modelstore.store import InstalledModel, ModelStore

TAEHV_FILE = "taew2_1.safetensors"
WAN_VAE_FILE = "Wan2.1_VAE.safetensors"
TEXT_DIR = "text_encoder"
# measured on one H100 with random weights, the editor's default CUDA path, 81-frame video FPS:
# tiny AE encode + DiT + decode with DiT and AE compiled (run 6, nothing else on the machine);
# DiT + full Wan VAE decode, the reference's 16.3 FPS setting (run 4; the Wan VAE is not compiled)
MEASURED_SPEED = {
    "taehv": (38.5, "benchmarks/wan-h100-run6.json"),
    "wan-vae": (23.8, "benchmarks/wan-h100-run4.json"),
}


def _save(state: dict[str, torch.Tensor], path: Path, dtype: torch.dtype | None = None) -> int:
    """Write a state dict as safetensors; returns its parameter count."""
    out = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
           for k, v in state.items()}  # fmt: skip
    save_file(out, str(path))
    return sum(v.numel() for v in out.values())


def _check_text_encoder(folder: Path) -> None:
    tok = folder / "tokenizer" if (folder / "tokenizer").is_dir() else folder
    has_tokenizer = any((tok / n).is_file() for n in ("tokenizer.json", "spiece.model"))
    has_model = (folder / "config.json").is_file() or any(folder.glob("models_t5_umt5-xxl-enc*"))
    if not (folder.is_dir() and has_tokenizer and has_model):
        raise CheckpointError(
            "This folder is not a umT5 text encoder (tokenizer and weights are needed).",
            f"{folder}: tokenizer {'found' if has_tokenizer else 'missing'}, "
            f"weights/config {'found' if has_model else 'missing'}",
        )


def import_released_checkpoint(
    checkpoint: Path,
    *,
    text_encoder: Path,
    taehv: Path | None = None,
    wan_vae: Path | None = None,
    autoencoder: str | None = None,
    use_ema: bool = False,
    name: str = "liveedit-wan-1.3b",
    store: ModelStore | None = None,
    replace_existing: bool = False,
    cfg: ModelConfig | None = None,
    vae_dim: int = 96,
) -> InstalledModel:
    """Build and install the model folder. `autoencoder` ("taehv" or "wan-vae") is the one the
    editor uses; default: the tiny one when given. `cfg` and `vae_dim` exist for small tests."""
    store = store or ModelStore()
    if taehv is None and wan_vae is None:
        raise CheckpointError("An autoencoder file is needed: taew2_1.pth or Wan2.1_VAE.pth.")
    autoencoder = autoencoder or ("taehv" if taehv is not None else "wan-vae")
    if (autoencoder == "taehv" and taehv is None) or (autoencoder == "wan-vae" and wan_vae is None):
        raise CheckpointError(f"The {autoencoder} autoencoder was chosen but its file not given.")
    base = cfg or model_config("wan-1.3b")
    params = {"dim": vae_dim} if autoencoder == "wan-vae" and vae_dim != 96 else {}
    cfg = replace(base, name=name, autoencoder=autoencoder, autoencoder_params=params,
                  text_encoder="umt5", text_encoder_params={"folder": TEXT_DIR})  # fmt: skip

    state = import_reference_checkpoint(checkpoint, use_ema=use_ema)
    with torch.device("meta"):
        check_state_dict(CausalDiT(cfg.dit), state, str(checkpoint))
    _check_text_encoder(Path(text_encoder))
    staging = store.user_dir / f".import-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        weights = 2 * _save(state, staging / DIT_FILE, torch.bfloat16)
        del state
        if taehv is not None:
            model = TAEHV()
            model.load_published(read_weights(Path(taehv).parent, (Path(taehv).name,)))
            weights += 2 * _save(model.state_dict(), staging / TAEHV_FILE)
        if wan_vae is not None:
            model = WanVAE(dim=vae_dim)
            model.load_published(read_weights(Path(wan_vae).parent, (Path(wan_vae).name,)))
            weights += 2 * _save(model.state_dict(), staging / WAN_VAE_FILE)
        shutil.copytree(text_encoder, staging / TEXT_DIR)  # runs on the CPU: not in vram_gb
        files = {
            p.relative_to(staging).as_posix(): file_entry(p)
            for p in sorted(staging.rglob("*")) if p.is_file()
        }  # fmt: skip
        card = {
            "name": name,
            "description": "LiveEdit student on Wan2.1-T2V-1.3B (released checkpoint"
                           f"{', EMA weights' if use_ema else ''}), {autoencoder} decoding.",
            "format": FORMAT,
            "config": cfg.to_dict(),
            "files": files,
            "vram_gb": memory.estimate_gb(cfg, weights),
            "vram_note": "estimate: DiT and autoencoder weights + KV cache + "
                         f"{memory.WORKING_GB} GB (the text encoder runs on the CPU)",
            "source": {"checkpoint": Path(checkpoint).name, "ema": use_ema},
        }  # fmt: skip
        if base.name == model_config("wan-1.3b").name and base.dit == model_config("wan-1.3b").dit:
            card["speed"] = {
                "fps": MEASURED_SPEED[autoencoder][0], "device": "H100",
                "resolution": list(cfg.resolution),
                "measured": f"{MEASURED_SPEED[autoencoder][1]}, random weights",
            }  # fmt: skip
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2))
        return store.commit_staged(staging, ModelCard.parse(card, name), replace=replace_existing)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

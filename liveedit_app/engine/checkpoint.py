"""Model folders and weight files: safetensors + a `model.json` card; the reference import.

Folder layout:
    model.json                 {"name", "description", "format": "liveedit-model/1",
                                "config": ModelConfig.to_dict(), "training": {...},
                                "benchmarks": {...}, "files": {file: {"sha256", "bytes"}}}
    dit.safetensors            CausalDiT.state_dict()
    autoencoder.safetensors    the autoencoder's state_dict (our "liveedit-ae" models)

Loading is strict: the first missing or unexpected key and every shape mismatch is named.
The released LiveEdit checkpoint (brief §2) is a pickle holding {"generator", "generator_ema",
...} with keys `model.<Wan key>` (FSDP wrapper segments possible); it is read only with
`torch.load(weights_only=True)`, never unpickled freely.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from liveedit_app.engine.config import ModelConfig
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.card import CARD_NAME, file_entry

FORMAT = "liveedit-model/1"
DIT_FILE = "dit.safetensors"
AE_FILE = "autoencoder.safetensors"
_FSDP = "._fsdp_wrapped_module."


def check_state_dict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise CheckpointError unless `state` has exactly the module's keys and shapes."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: file has {list(state[k].shape)}, model needs {list(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if not (missing or unexpected or wrong):
        return
    problems = []
    if missing:
        problems.append(f"missing key {missing[0]} ({len(missing)} missing in all)")
    if unexpected:
        problems.append(f"unexpected key {unexpected[0]} ({len(unexpected)} unexpected in all)")
    problems.extend(f"shape mismatch {w}" for w in wrong[:5])
    if len(wrong) > 5:  # a wrong model.json mismatches every layer: the first few say enough
        problems.append(f"and {len(wrong) - 5} more shape mismatches")
    first = problems[0]
    raise CheckpointError(f"The weights in {Path(source).name} do not fit this model: {first}.",
                          details=f"{source}:\n" + "\n".join(problems))


def load_state_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Strict, shape-checked load. A module on the meta device takes the tensors as they are
    (assign), so a full-size model can be checked without allocating its weights."""
    check_state_dict(module, state, source)
    on_meta = next(module.parameters()).is_meta
    module.load_state_dict(state, strict=True, assign=on_meta)


def load_module_weights(module: nn.Module, path: Path) -> None:
    try:
        state = load_file(str(path))
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:  # truncated file: the last
        raise CheckpointError(f"The weight file {path.name} cannot be read: it is damaged or "
                              "incomplete (`liveedit models verify` checks every model).",
                              details=f"{path}: {exc}") from exc
    load_state_strict(module, state, str(path))


# -- the released reference checkpoint -------------------------------------------------------

def reference_state_dict(raw: dict[str, Any], use_ema: bool = False) -> dict[str, torch.Tensor]:
    """The Wan-key state dict inside a LiveEdit training checkpoint (brief §2): pick
    `generator_ema` (use_ema) or `generator`, else treat `raw` as the state dict; rewrite FSDP
    segments to `model.` + the rest; strip the `model.` prefix."""
    key = "generator_ema" if use_ema else "generator"
    if key in raw:
        raw = raw[key]
    elif use_ema:
        raise CheckpointError("This checkpoint has no EMA weights (generator_ema).",
                              details=f"top-level keys: {sorted(raw)[:10]}")
    out = {}
    for k, v in raw.items():
        if not isinstance(v, torch.Tensor):
            raise CheckpointError("This checkpoint does not hold plain weights.",
                                  details=f"{k} is a {type(v).__name__}")
        if _FSDP in k:
            k = "model." + k.rsplit(_FSDP, 1)[1]
        out[k.removeprefix("model.")] = v
    return out


def import_reference_checkpoint(path: str | Path, use_ema: bool = False,
                                map_location: str = "cpu") -> dict[str, torch.Tensor]:
    """Read a reference `.pt/.pth` (weights_only, memory-mapped) or `.safetensors` file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"The checkpoint {path.name} does not exist.", details=str(path))
    try:
        if path.suffix == ".safetensors":
            raw = load_file(str(path), device=map_location)
        else:
            raw = torch.load(path, map_location=map_location, weights_only=True, mmap=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError,
            SafetensorError) as exc:
        raise CheckpointError(f"The checkpoint {path.name} cannot be read safely.",
                              details=f"{path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(raw, dict):
        raise CheckpointError(f"The checkpoint {path.name} does not hold a state dict.")
    return reference_state_dict(raw, use_ema)


# -- model folders ---------------------------------------------------------------------------

def resolve_card(path: str | Path) -> Path:
    """A folder or a model.json path -> the model.json path (must exist)."""
    path = Path(path)
    card = path / CARD_NAME if path.is_dir() else path
    if not card.is_file():
        raise CheckpointError("This folder holds no model (model.json is missing).",
                              details=str(card))
    return card


def read_card(path: str | Path) -> tuple[Path, dict[str, Any], ModelConfig]:
    """-> (folder, card dict, ModelConfig)."""
    card_path = resolve_card(path)
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError("The model card (model.json) cannot be read.",
                              details=f"{card_path}: {exc}") from exc
    if "config" not in card:
        raise CheckpointError("The model card has no configuration.", details=str(card_path))
    return card_path.parent, card, ModelConfig.from_dict(card["config"])


def load_dit(folder: Path, cfg: ModelConfig, *, device: str | torch.device = "cpu",
             dtype: torch.dtype = torch.bfloat16) -> CausalDiT:
    path = folder / DIT_FILE
    if not path.is_file():
        raise CheckpointError(f"The model {cfg.name} is missing its weights ({DIT_FILE}).",
                              details=str(path))
    with torch.device("meta"):
        dit = CausalDiT(cfg.dit)
    load_module_weights(dit, path)
    return dit.to(device=device, dtype=dtype).eval()


def save_model(folder: str | Path, cfg: ModelConfig, dit: CausalDiT, *,
               autoencoder: nn.Module | None = None, training: dict[str, Any] | None = None,
               benchmarks: dict[str, Any] | None = None, description: str = "",
               dtype: torch.dtype = torch.bfloat16,
               extra: dict[str, Any] | None = None) -> Path:
    """Write weights (safetensors) and model.json with a sha256 per file. Returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {DIT_FILE: dit}
    if autoencoder is not None:
        files[AE_FILE] = autoencoder
    entries = {}
    for name, module in files.items():
        state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype)
                 .contiguous() for k, v in module.state_dict().items()}
        save_file(state, str(folder / name))
        entries[name] = file_entry(folder / name)
    card = {
        "name": cfg.name,
        "description": description,
        "format": FORMAT,
        "config": cfg.to_dict(),
        "training": training or {},
        "benchmarks": benchmarks or {},
        "files": entries,
        **(extra or {}),
    }
    (folder / CARD_NAME).write_text(json.dumps(card, indent=2))
    return folder

"""Resumable training checkpoints: module weights and optimizer state as safetensors, the step
and other plain values as JSON. Nothing is pickled.

Layout of a checkpoint folder:
    state.json                 {"step", "extra", "optimizers": {name: param_groups + scalars}}
    <module>.safetensors       one per module (state_dict)
    <optimizer>.optim.safetensors   the optimizer's per-parameter tensors, keys "<index>.<name>"
A checkpoint is written to a temporary folder and renamed, so a crash never leaves half of one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from liveedit_app.errors import TrainingError


def _optimizer_split(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in sd["state"].items():
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_join(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, entries in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    return {"state": state, "param_groups": meta["param_groups"]}


def save(folder: str | Path, step: int, modules: dict[str, nn.Module],
         optimizers: dict[str, torch.optim.Optimizer], extra: dict[str, Any] | None = None
         ) -> Path:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, module in modules.items():
        sd = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
        save_file(sd, tmp / f"{name}.safetensors")
    metas = {}
    for name, opt in optimizers.items():
        tensors, metas[name] = _optimizer_split(opt)
        save_file(tensors, tmp / f"{name}.optim.safetensors")
    state = {"step": step, "extra": extra or {}, "optimizers": metas}
    (tmp / "state.json").write_text(json.dumps(state, indent=1))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def exists(folder: str | Path) -> bool:
    return (Path(folder) / "state.json").is_file()


def load_module(folder: str | Path, name: str, module: nn.Module) -> None:
    path = Path(folder) / f"{name}.safetensors"
    if not path.is_file():
        raise TrainingError(f"The checkpoint has no '{name}' weights.", details=str(path))
    module.load_state_dict(load_file(path))


def load(folder: str | Path, modules: dict[str, nn.Module],
         optimizers: dict[str, torch.optim.Optimizer]) -> tuple[int, dict[str, Any]]:
    """Restore modules and optimizers in place; returns (step, extra)."""
    folder = Path(folder)
    if not exists(folder):
        raise TrainingError("There is no checkpoint to resume from.", details=str(folder))
    state = json.loads((folder / "state.json").read_text())
    for name, module in modules.items():
        load_module(folder, name, module)
    for name, opt in optimizers.items():
        tensors = load_file(folder / f"{name}.optim.safetensors")
        opt.load_state_dict(_optimizer_join(tensors, state["optimizers"][name]))
    return int(state["step"]), state["extra"]

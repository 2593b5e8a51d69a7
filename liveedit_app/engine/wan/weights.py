"""Reading a Wan part's weight file: safetensors, or a published `.pth` read with
`torch.load(weights_only=True)` (tensors only, never arbitrary pickled objects)."""

from __future__ import annotations

from pathlib import Path

import torch

from liveedit_app.errors import CheckpointError


def read_weights(folder: Path, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """The first of `names` present in folder: safetensors, or a .pth read without unpickling."""
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        try:
            if path.suffix == ".safetensors":
                from safetensors.torch import load_file

                return load_file(str(path))
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any reader failure is a bad file for the user
            raise CheckpointError(
                "A weight file of this model cannot be read.", f"{path}: {err}"
            ) from err
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise CheckpointError(
                "A weight file of this model holds something other than named weights.",
                f"{path}: a {type(state).__name__}, not a dict of tensors",
            )
        return state
    raise CheckpointError(
        "A weight file of this model is missing.", f"none of {list(names)} in {folder}"
    )

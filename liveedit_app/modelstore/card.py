"""What the model manager reads from a model folder's `model.json`.

Keys used here: `name`, `description`, `files` ({file name: {"sha256": hex, "bytes": n}}),
`vram_gb`, `speed` ({"fps": x, "device": "...", ...}), `prompts` ({"whole": [...], "region":
[...]}: prompts the model was trained to follow, best first, for the app's presets; "region" ones
need a painted mask). Every other key (the engine's `config`, training notes) is kept untouched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from liveedit_app.errors import CheckpointError

CARD_NAME = "model.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    """The `files` entry for one weight file: what a model's author writes into model.json."""
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


@dataclass(frozen=True)
class FileSpec:
    name: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class ModelCard:
    name: str
    description: str = ""
    files: tuple[FileSpec, ...] = ()
    vram_gb: float | None = None
    speed: dict[str, Any] = field(default_factory=dict)
    whole_prompts: tuple[str, ...] = ()  # example prompts that need no mask, best first
    region_prompts: tuple[str, ...] = ()  # example prompts for a painted region
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def fps(self) -> float | None:
        value = self.speed.get("fps")
        return float(value) if value is not None else None

    @classmethod
    def parse(cls, data: dict[str, Any], fallback_name: str) -> ModelCard:
        files = []
        for name, spec in (data.get("files") or {}).items():
            _check_relative(name)
            if isinstance(spec, str):
                files.append(FileSpec(name, spec.lower(), None))
            elif isinstance(spec, dict):
                sha = spec.get("sha256")
                files.append(FileSpec(name, sha.lower() if sha else None, spec.get("bytes")))
            else:
                raise CheckpointError(
                    "The model card lists a file it does not describe.", f"files[{name!r}]={spec!r}"
                )
        vram = data.get("vram_gb")
        prompts = data.get("prompts") if isinstance(data.get("prompts"), dict) else {}
        return cls(
            name=str(data.get("name") or fallback_name),
            description=str(data.get("description", "")),
            files=tuple(files),
            vram_gb=float(vram) if vram is not None else None,
            speed=dict(data.get("speed") or {}),
            whole_prompts=_texts(prompts.get("whole")),
            region_prompts=_texts(prompts.get("region")),
            raw=data,
        )

    @classmethod
    def read(cls, folder: Path) -> ModelCard:
        path = folder / CARD_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise CheckpointError(
                "This folder is not a model: it has no model.json.", str(path)
            ) from err
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CheckpointError(
                "The model card (model.json) cannot be read.", f"{path}: {err}"
            ) from err
        if not isinstance(data, dict):
            raise CheckpointError("The model card (model.json) is not a JSON object.", str(path))
        return cls.parse(data, folder.name)


def _check_relative(name: str) -> None:
    """File names come from a downloaded card: refuse anything that could leave the folder."""
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
        raise CheckpointError("The model card names a file outside its folder.", repr(name))


def _texts(value: Any) -> tuple[str, ...]:
    """A card's list of prompts; anything that is not a list of texts reads as none."""
    if not isinstance(value, list):
        return ()
    return tuple(t.strip() for t in value if isinstance(t, str) and t.strip())

"""Benchmark cases from a user's folder, described by a JSON list in the reference's format.

`[{"instruction": "...", "source_path": "clip.mp4", "mask_path": "mask.png", "target_path":
"edited.mp4"}, ...]`; paths are relative to the JSON file. `edited_path` (the reference's name) is
read as `target_path`. Sources and targets are videos or still images; a mask is a still image
(the same for every frame) or a video (one mask a frame), white = edit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from liveedit_app.bench.cases import BenchCase
from liveedit_app.errors import BenchmarkError, VideoFileError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
DESCRIPTION_NAME = "bench.json"
EXAMPLE = '[{"instruction": "make the jacket red", "source_path": "clip.mp4"}]'


def find_description(path: str | Path) -> Path:
    """The JSON file itself, or the one JSON description inside a folder."""
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"There is no benchmark folder or file at {path}.", details=str(path))
    if path.is_file():
        return path
    if (path / DESCRIPTION_NAME).is_file():
        return path / DESCRIPTION_NAME
    found = sorted(path.glob("*.json"))
    if not found:
        raise BenchmarkError(
            f"The folder {path.name} has no .json file describing its clips. "
            f"Add {DESCRIPTION_NAME} holding a list like {EXAMPLE}.",
            details=str(path),
        )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise BenchmarkError(
            f"The folder {path.name} has several .json files ({names}): "
            f"name the one to use, or call it {DESCRIPTION_NAME}.",
            details=str(path),
        )
    return found[0]


def load_folder(
    path: str | Path, *, max_frames: int | None = None, max_side: int | None = None
) -> list[BenchCase]:
    """Every case a description lists, with clips read, cut to a common length and, when
    `max_side` is given, shrunk so no side is longer."""
    description = find_description(path)
    entries = _read_entries(description)
    cases = []
    for number, entry in enumerate(entries, start=1):
        where = f"Entry {number} of {description.name}"
        try:
            case = _load_case(entry, description.parent, where, max_frames, max_side)
        except VideoFileError as err:
            raise BenchmarkError(f"{where}: {err.message}", details=err.details) from err
        taken = {c.name for c in cases}
        if case.name in taken:  # several edits of one clip: names key the report's strips
            case = replace(case, name=f"{case.name}-{number}")
        cases.append(case)
    return cases


def _read_entries(description: Path) -> list[dict]:
    try:
        entries = json.loads(description.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise BenchmarkError(
            f"{description.name} is not a text file; it should hold a JSON list like {EXAMPLE}.",
            details=f"{description}: {err}",
        ) from err
    except json.JSONDecodeError as err:
        raise BenchmarkError(
            f"{description.name} is not valid JSON (line {err.lineno}, column {err.colno}: "
            f"{err.msg}).",
            details=str(description),
        ) from err
    if not isinstance(entries, list) or not entries:
        raise BenchmarkError(
            f"{description.name} must hold a non-empty list of clips, like {EXAMPLE}.",
            details=f"{description}: found {type(entries).__name__}",
        )
    for number, entry in enumerate(entries, start=1):
        where = f"Entry {number} of {description.name}"
        if not isinstance(entry, dict):
            raise BenchmarkError(f"{where} is not an object like {EXAMPLE}.", str(description))
        for key in ("instruction", "source_path"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise BenchmarkError(f'{where} needs a "{key}" text.', details=str(description))
        for key in ("mask_path", "target_path", "edited_path", "name"):
            if key in entry and not isinstance(entry[key], str):
                raise BenchmarkError(f'{where}: "{key}" must be a text.', details=str(description))
    return entries


def _load_case(
    entry: dict, root: Path, where: str, max_frames: int | None, max_side: int | None
) -> BenchCase:
    source = _read_clip(root / entry["source_path"], where, "source", max_frames)
    source = _shrink(source, max_side)
    size = source.shape[1:3]
    target_path = entry.get("target_path", entry.get("edited_path"))
    target = mask = None
    if target_path:
        target = _fit(_read_clip(root / target_path, where, "target", max_frames), size)
    if entry.get("mask_path"):
        mask_clip = _fit(_read_clip(root / entry["mask_path"], where, "mask", max_frames), size)
        mask = mask_clip.astype(np.float32).mean(axis=-1) / 255.0  # [T, H, W]
        if len(mask) == 1:
            mask = np.repeat(mask, len(source), axis=0)
    length = min(len(c) for c in (source, target, mask) if c is not None)
    instruction = entry["instruction"].strip()
    return BenchCase(
        name=entry.get("name") or Path(entry["source_path"]).stem,
        instruction=instruction,
        source=source[:length],
        mask=None if mask is None else mask[:length],
        target=None if target is None else target[:length],
        edit_key=instruction.lower(),
    )


def _read_clip(path: Path, where: str, role: str, max_frames: int | None) -> np.ndarray:
    """[T, H, W, 3] uint8 RGB from a video or a still image."""
    if not path.is_file():
        raise BenchmarkError(f"{where}: the {role} file {path.name} does not exist.", str(path))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise BenchmarkError(
                f"{where}: the {role} image {path.name} cannot be read.", str(path)
            )
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[None]
    from liveedit_app.media.video_io import iter_frames  # PyAV only when a video is read

    return np.stack([frame.rgb for frame in iter_frames(path, max_frames=max_frames)])


def _shrink(clip: np.ndarray, max_side: int | None) -> np.ndarray:
    height, width = clip.shape[1:3]
    if max_side is None or max(height, width) <= max_side:
        return clip
    scale = max_side / max(height, width)
    size = (max(2, round(height * scale / 2) * 2), max(2, round(width * scale / 2) * 2))
    return _fit(clip, size)


def _fit(clip: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`clip` resized to `size` (H, W) when it differs."""
    if clip.shape[1:3] == tuple(size):
        return clip
    height, width = size
    return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in clip])

"""The creator's persisted choices: one JSON file, `settings.json`, in `paths.config_dir()`.

`Settings` holds the app's own keys as typed fields. Other parts keep a few keys of their own
(the audio sync offset, the last export folder, ...) through `get(key, default)` and
`set(key, value)`: the type of `default` is the type you get back, so a hand-edited or stale file
never hands a string to code that wants a number. A missing or unreadable file gives the
defaults; saving is atomic.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from liveedit_app import paths

FILE_NAME = "settings.json"
PROMPT_HISTORY_LIMIT = 30
PREVIEW_MODES = ("edited", "source", "side_by_side", "wipe")
DEVICES = ("auto", "cpu", "cuda")
THEMES = ("dark", "light")

T = TypeVar("T")


@dataclass
class Settings:
    source: str = "pattern"  # "pattern", "camera:<id>" or a file path
    model: str = "liveedit-tiny"
    device: str = "auto"
    preview_mode: str = "side_by_side"
    theme: str = "dark"
    loop_video: bool = True
    prompt: str = ""
    prompt_history: list[str] = field(default_factory=list)
    strength: float = 1.0
    seed: int = 0
    steps: int = 4
    brush_size: float = 48.0  # diameter in source pixels
    brush_hardness: float = 0.6
    mask_feather_px: float = 2.0
    overlay_visible: bool = True
    overlay_opacity: float = 0.45
    track_mask: bool = True
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState() (docks, toolbar)
    extra: dict[str, Any] = field(default_factory=dict)  # keys owned by other parts

    @classmethod
    def path(cls) -> Path:
        return paths.config_dir() / FILE_NAME

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """The saved settings; a key that is missing, of the wrong type or out of range keeps its
        default, so one bad value never costs the creator the rest."""
        path = path or cls.path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        settings = cls()
        for f in fields(cls):
            if f.name in raw and _same_type(raw[f.name], getattr(settings, f.name)):
                setattr(settings, f.name, raw[f.name])
        settings._clamp()
        return settings

    def save(self, path: Path | None = None) -> None:
        path = path or self.path()
        self._clamp()
        text = json.dumps(asdict(self), indent=2, sort_keys=True)
        # write-then-rename: a crash mid-save leaves the previous file, never half a file
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)

    def get(self, key: str, default: T) -> T:
        """A key another part owns; `default` when unset or of another type."""
        value = self.extra.get(key, default)
        return value if _same_type(value, default) else default

    def set(self, key: str, value: Any) -> None:
        self.extra[key] = value

    def _clamp(self) -> None:
        if self.preview_mode not in PREVIEW_MODES:
            self.preview_mode = "side_by_side"
        if self.device not in DEVICES:
            self.device = "auto"
        if self.theme not in THEMES:
            self.theme = "dark"
        self.prompt_history = [p for p in self.prompt_history if isinstance(p, str)]
        self.prompt_history = self.prompt_history[:PROMPT_HISTORY_LIMIT]
        self.brush_size = min(max(float(self.brush_size), 1.0), 1000.0)
        self.brush_hardness = min(max(float(self.brush_hardness), 0.0), 1.0)
        self.overlay_opacity = min(max(float(self.overlay_opacity), 0.0), 1.0)
        self.strength = min(max(float(self.strength), 0.0), 1.0)
        self.steps = min(max(int(self.steps), 1), 50)


def with_prompt(history: list[str], prompt: str) -> list[str]:
    """`history` with `prompt` on top (once), the oldest dropped past the limit."""
    prompt = prompt.strip()
    if not prompt:
        return list(history)
    return [prompt, *(p for p in history if p != prompt)][:PROMPT_HISTORY_LIMIT]


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))

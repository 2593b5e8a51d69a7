"""The window's state as plain objects with change signals; widgets only bind to them.

Each state object emits `changed(name)` when one of its fields gets a new value, so a dock, the
preview, the session and the settings file can all follow the same value without knowing about
each other. `MaskDocument` holds the painted mask itself.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from liveedit_app.contract import EditSettings
from liveedit_app.settings import Settings
from liveedit_app.ui.brush import paint_segment


class Field:
    """An attribute of a `State` that emits `changed(name)` when set to a different value."""

    def __init__(self, default: Any):
        self.default = default

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.name, self.default)

    def __set__(self, obj, value) -> None:
        if obj.__dict__.get(self.name, self.default) != value:
            obj.__dict__[self.name] = value
            obj.changed.emit(self.name)


class State(QObject):
    changed = Signal(str)


class ViewState(State):
    mode = Field("side_by_side")  # one of settings.PREVIEW_MODES
    overlay_visible = Field(True)
    overlay_opacity = Field(0.45)
    wipe = Field(0.5)  # divider position, share of the picture's width
    theme = Field("dark")


class BrushState(State):
    size = Field(48.0)  # diameter in source pixels
    hardness = Field(0.6)
    eraser = Field(False)


_EDIT_DEFAULTS = EditSettings()  # the engine's defaults are the window's


class EditState(State):
    prompt = Field("")
    strength = Field(_EDIT_DEFAULTS.strength)
    seed = Field(_EDIT_DEFAULTS.seed)
    steps = Field(_EDIT_DEFAULTS.steps)
    feather = Field(_EDIT_DEFAULTS.mask_feather_px)
    model = Field("liveedit-tiny")
    device = Field("auto")
    paused = Field(False)  # editing paused: the source is shown unedited
    track_mask = Field(True)
    history = Field(())  # recent prompts, newest first

    def edit_settings(self) -> EditSettings:
        return EditSettings(steps=int(self.steps), seed=int(self.seed),
                            strength=float(self.strength), mask_feather_px=float(self.feather))


class StreamStatus(State):
    """What the status bar and the preview's banner show."""

    source = Field("")  # label of the running source
    playing = Field(True)
    source_fps = Field(0.0)
    editing = Field(False)  # frames go through the editor (a model is loaded, not paused)
    edit_fps = Field(0.0)
    latency_ms = Field(0.0)
    dropped = Field(0)
    device = Field("")
    model_loaded = Field(False)
    loading = Field(False)
    warming_up = Field(False)  # a compiled editor has not edited its first chunk yet
    recording_s = Field(None)  # seconds recorded, None when not recording
    free_disk_bytes = Field(None)
    banner = Field("")  # a line over the edited picture: why it is not being edited


class MaskDocument(QObject):
    """The mask a creator paints: [H, W] float32 in [0, 1] at the source size, or None.

    `changed` after every change (redraw); `painted` as well when the creator changed it (a
    stroke, clear, invert: the editor must hear about it), not when the tracker moved it (the
    editor already knows). No bool argument: PySide6 6.12 on Python 3.11 loses a reference to
    True for every Python bool emitted through a signal, and the process dies at exit.
    """

    changed = Signal()
    painted = Signal()

    def __init__(self):
        super().__init__()
        self.mask: np.ndarray | None = None
        self.size: tuple[int, int] | None = None  # (H, W) of the source

    def fit(self, height: int, width: int) -> None:
        """Follow the source's size; a painted mask is stretched along."""
        if self.size == (height, width):
            return
        self.size = (height, width)
        if self.mask is not None:
            self.mask = cv2.resize(self.mask, (width, height), interpolation=cv2.INTER_LINEAR)
            self._painted()

    def stroke(self, start: tuple[float, float], end: tuple[float, float], brush: BrushState,
               invert: bool = False) -> None:
        """Paint from `start` to `end` (x, y in source pixels); `invert` swaps brush and eraser."""
        if self.size is None:
            return
        if self.mask is None:
            self.mask = np.zeros(self.size, np.float32)
        paint_segment(self.mask, start, end, brush.size, brush.hardness,
                      erase=brush.eraser != invert)
        self._painted()

    def clear(self) -> None:
        if self.mask is not None:
            self.mask = None
            self._painted()

    def invert(self) -> None:
        if self.size is None:
            return
        self.mask = 1.0 - (self.mask if self.mask is not None else np.zeros(self.size, np.float32))
        self._painted()

    def _painted(self) -> None:
        self.painted.emit()
        self.changed.emit()

    def follow(self, mask: np.ndarray) -> None:
        """The tracker's version of the mask for the newest frame."""
        self.mask = mask
        self.changed.emit()


def load_states(settings: Settings) -> tuple[ViewState, BrushState, EditState]:
    view, brush, edit = ViewState(), BrushState(), EditState()
    view.mode, view.theme = settings.preview_mode, settings.theme
    view.overlay_visible, view.overlay_opacity = settings.overlay_visible, settings.overlay_opacity
    brush.size, brush.hardness = settings.brush_size, settings.brush_hardness
    edit.prompt, edit.history = settings.prompt, tuple(settings.prompt_history)
    edit.strength, edit.seed, edit.steps = settings.strength, settings.seed, settings.steps
    edit.feather, edit.track_mask = settings.mask_feather_px, settings.track_mask
    edit.model, edit.device = settings.model, settings.device
    return view, brush, edit


def store_states(settings: Settings, view: ViewState, brush: BrushState, edit: EditState) -> None:
    settings.preview_mode, settings.theme = view.mode, view.theme
    settings.overlay_visible, settings.overlay_opacity = view.overlay_visible, view.overlay_opacity
    settings.brush_size, settings.brush_hardness = float(brush.size), float(brush.hardness)
    settings.prompt, settings.prompt_history = edit.prompt, list(edit.history)
    settings.strength, settings.seed, settings.steps = edit.strength, edit.seed, edit.steps
    settings.mask_feather_px, settings.track_mask = edit.feather, edit.track_mask
    settings.model, settings.device = edit.model, edit.device

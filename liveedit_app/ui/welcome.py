"""The first-run page: what the app found on this machine and how to make a first edit.

It lists the cameras (or offers the moving test pattern when there is none), says which compute
device will run the model and what that means for speed, names the active model, and suggests a
first prompt. `maybe_show_welcome` shows it once per user (a flag in the settings file); Help →
"Welcome" opens it again with `WelcomeDialog(...).open()`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from liveedit_app.diagnostics import ComputeDevice, compute_device
from liveedit_app.errors import ModelNotFoundError
from liveedit_app.media.camera import CameraInfo, list_cameras
from liveedit_app.modelstore.store import ModelStore, describe_speed
from liveedit_app.settings import Settings
from liveedit_app.ui.editor_factory import model_prompts

log = logging.getLogger(__name__)
SEEN_KEY = "welcome_shown"
PATTERN_SOURCE = "pattern"
CAMERA_PREFIX = "camera:"
FIRST_PROMPTS = 3  # whole-picture prompts offered (the model's best first: no painting needed)


def model_summary(name: str) -> str:
    """One line about an installed model, from its card; says so when it is not installed."""
    try:
        model = ModelStore().get(name)
    except ModelNotFoundError:
        return f"{name} (not installed: pick another model in the model manager)"
    # where the speed was measured matters: the card of liveedit-tiny holds a 2-core CPU's
    speed = f" Measured: {describe_speed(model)}." if model.fps else ""
    text = model.card.description.strip()
    about = f": {text}" if text else ""
    stop = "" if about.endswith((".", "!", "?")) or not speed else "."
    return f"{name}{about}{stop}{speed}"


class WelcomeDialog(QDialog):
    """Emits what the creator picked; the main window applies it (source, prompt)."""

    source_chosen = Signal(str)  # "pattern" or "camera:<id>", as Settings.source
    prompt_chosen = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        model_name: str = "liveedit-tiny",
        cameras: list[CameraInfo] | None = None,
        device: ComputeDevice | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to LiveEdit Studio")
        self.cameras = list_cameras_safely() if cameras is None else cameras
        self.device = device or compute_device()
        whole, region = model_prompts(model_name)
        self.first_prompts = whole[:FIRST_PROMPTS]
        self.region_example = region[0]

        title = QLabel("<h2>Welcome to LiveEdit Studio</h2>")
        intro = QLabel(
            "Type what to change, paint where, and watch the edit live. "
            "Here is what this computer offers:"
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self._camera_box())
        layout.addWidget(self._device_box())
        layout.addWidget(self._model_box(model_name))
        layout.addWidget(self._prompt_box())
        buttons = QDialogButtonBox()
        start = buttons.addButton("Start editing", QDialogButtonBox.ButtonRole.AcceptRole)
        start.setObjectName("startButton")
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        # wrapped labels make Qt size the window shorter than its hint, squashing the prompt rows
        self.setMinimumSize(self.sizeHint())

    def _camera_box(self) -> QGroupBox:
        box = QGroupBox("Camera")
        row = QVBoxLayout(box)
        if self.cameras:
            found = len(self.cameras)
            row.addWidget(QLabel(f"Found {found} camera{'s' if found > 1 else ''}."))
            self.camera_combo = QComboBox()
            for camera in self.cameras:
                self.camera_combo.addItem(camera.name, camera.id)
            default = next((i for i, c in enumerate(self.cameras) if c.is_default), 0)
            self.camera_combo.setCurrentIndex(default)
            use = QPushButton("Use this camera")
            use.setObjectName("useCameraButton")
            use.clicked.connect(
                lambda: self.source_chosen.emit(CAMERA_PREFIX + self.camera_combo.currentData())
            )
            line = QHBoxLayout()
            line.addWidget(self.camera_combo, 1)
            line.addWidget(use)
            row.addLayout(line)
        else:
            note = QLabel(
                "No camera found. Start with the moving test pattern: everything works the same, "
                "and you can switch to a camera or a video file at any time from the Source menu."
            )
            note.setWordWrap(True)
            row.addWidget(note)
        pattern = QPushButton("Use the test pattern")
        pattern.setObjectName("usePatternButton")
        pattern.clicked.connect(lambda: self.source_chosen.emit(PATTERN_SOURCE))
        row.addWidget(pattern, 0, Qt.AlignmentFlag.AlignLeft)
        return box

    def _device_box(self) -> QGroupBox:
        box = QGroupBox("Compute device")
        row = QVBoxLayout(box)
        label = QLabel(f"<b>{self.device.kind.upper()}</b>: {self.device.speed}")
        label.setObjectName("deviceLabel")
        label.setWordWrap(True)
        row.addWidget(label)
        return box

    def _model_box(self, model_name: str) -> QGroupBox:
        box = QGroupBox("Active model")
        row = QVBoxLayout(box)
        label = QLabel(model_summary(model_name))
        label.setObjectName("modelLabel")
        label.setWordWrap(True)
        row.addWidget(label)
        return box

    def _prompt_box(self) -> QGroupBox:
        box = QGroupBox("A first edit")
        row = QVBoxLayout(box)
        row.addWidget(QLabel("Try one of these prompts (no painting needed):"))
        for prompt in self.first_prompts:
            button = QPushButton(f"“{prompt}”")
            button.setObjectName("promptButton")
            button.clicked.connect(lambda _=False, p=prompt: self.prompt_chosen.emit(p))
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        tip = QLabel(
            "Then paint over one thing with the brush and ask for a local edit, "
            f"such as “{self.region_example}”."
        )
        tip.setWordWrap(True)
        row.addWidget(tip)
        return box


def list_cameras_safely() -> list[CameraInfo]:
    """No camera rather than a failed start when the camera system itself is unavailable."""
    try:
        return list_cameras()
    except Exception:  # missing system library, no permission: the page offers the pattern
        return []


def should_show_welcome(settings: Settings) -> bool:
    return not settings.get(SEEN_KEY, False)


def maybe_show_welcome(parent: QWidget | None, settings: Settings) -> WelcomeDialog | None:
    """Open the page on the first start and remember that it was shown (saved at once, so a
    crash later in the first session does not bring it back). Returns the open dialog, or None."""
    if not should_show_welcome(settings):
        return None
    dialog = WelcomeDialog(parent, model_name=settings.model)
    settings.set(SEEN_KEY, True)
    settings.save()
    dialog.open()
    log.info("first-run page shown")
    return dialog

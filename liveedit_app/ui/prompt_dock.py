"""The prompt dock: what to change (with history and presets), strength, seed, steps, model,
device, and pause/resume editing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QToolButton,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from liveedit_app.settings import DEVICES, with_prompt
from liveedit_app.ui.bind import bind
from liveedit_app.ui.editor_factory import model_prompts
from liveedit_app.ui.state import EditState


class PromptDock(QDockWidget):
    def __init__(self, edit: EditState, actions: dict[str, QAction], models: list[str],
                 parent: QWidget | None = None):
        super().__init__("Prompt", parent)
        self.setObjectName("promptDock")
        self.edit = edit
        body = QWidget()
        form = QFormLayout(body)

        self.prompt = QComboBox(editable=True)
        self.prompt.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.prompt.lineEdit().setPlaceholderText("What to change, e.g. make the jacket red")
        self.prompt.lineEdit().setClearButtonEnabled(True)
        self.prompt.lineEdit().returnPressed.connect(self.apply)
        self.prompt.activated.connect(lambda _i: self.apply())
        self._fill_history()
        self.prompt.setEditText(edit.prompt)
        apply_button = QToolButton()
        apply_button.setDefaultAction(actions["apply_prompt"])
        row = QHBoxLayout()
        row.addWidget(self.prompt, 1)
        row.addWidget(apply_button)
        form.addRow("Prompt", row)

        self.presets = QComboBox()
        self.presets.setToolTip("Prompts the chosen model was trained to follow, its best first")
        self._fill_presets()
        self.presets.activated.connect(self._use_preset)
        form.addRow("", self.presets)

        self.strength = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0.0, 1.0)
        self.strength.setDecimals(2)
        bind(edit, "strength", self.strength.valueChanged, self.strength.value,
             self.strength.setValue, float)
        form.addRow("Strength", self.strength)
        self.strength.setToolTip("How much of the edit to show: 0 is the source, 1 the full edit")
        self.seed = QSpinBox(maximum=2**31 - 1)
        bind(edit, "seed", self.seed.valueChanged, self.seed.value, self.seed.setValue, int)
        form.addRow("Seed", self.seed)
        self.seed.setToolTip("Another seed gives another take on the same prompt")
        self.steps = QSpinBox(minimum=1, maximum=8)
        bind(edit, "steps", self.steps.valueChanged, self.steps.value, self.steps.setValue, int)
        form.addRow("Steps", self.steps)
        self.steps.setToolTip("Denoising steps per chunk: fewer is faster and a little less "
                              "faithful (the model was trained for 4)")

        self.model = QComboBox()
        self.model.addItems(sorted({*models, edit.model}))
        bind(edit, "model", self.model.currentTextChanged, self.model.currentText,
             self.model.setCurrentText, str)
        form.addRow("Model", self.model)
        self.model.setToolTip("The editing model (File ▸ Models… installs more)")
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        bind(edit, "device", self.device.currentTextChanged, self.device.currentText,
             self.device.setCurrentText, str)
        form.addRow("Device", self.device)
        self.device.setToolTip("Where the model runs: auto picks the GPU when there is one")

        pause = QToolButton()
        pause.setDefaultAction(actions["pause_editing"])
        form.addRow("", pause)
        edit.changed.connect(self._on_edit_changed)
        self.setWidget(body)

    def apply(self) -> None:
        """Send the typed prompt to the editor and put it on top of the history."""
        text = self.prompt.currentText().strip()
        self.edit.prompt = text
        self.edit.history = tuple(with_prompt(list(self.edit.history), text))

    def _fill_presets(self) -> None:
        """The chosen model's own prompts: whole-picture ones, then those for a painted region."""
        whole, region = model_prompts(self.edit.model)
        self.presets.clear()
        self.presets.addItem("Presets…")
        self.presets.addItems(whole)
        self.presets.insertSeparator(self.presets.count())
        for prompt in region:
            self.presets.addItem(f"{prompt}  (paint it first)", prompt)

    def _use_preset(self, index: int) -> None:
        prompt = self.presets.itemData(index) or (self.presets.itemText(index) if index else "")
        if prompt:
            self.prompt.setEditText(prompt)
            self.apply()
        self.presets.setCurrentIndex(0)

    def _fill_history(self) -> None:
        text = self.prompt.currentText()
        self.prompt.blockSignals(True)
        self.prompt.clear()
        self.prompt.addItems(list(self.edit.history))
        self.prompt.setEditText(text)
        self.prompt.blockSignals(False)

    def _on_edit_changed(self, name: str) -> None:
        if name == "history":
            self._fill_history()
        elif name == "model":
            self._fill_presets()
        elif name == "prompt" and self.prompt.currentText() != self.edit.prompt:
            self.prompt.setEditText(self.edit.prompt)

"""The mask dock: brush or eraser, size, hardness, feather, overlay, follow subject, invert,
clear."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QToolButton,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from liveedit_app.ui.bind import bind, bind_check
from liveedit_app.ui.state import BrushState, EditState, ViewState


def _slider(low: float, high: float, decimals: int = 0) -> QLabeledDoubleSlider:
    slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setDecimals(decimals)
    return slider


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class MaskDock(QDockWidget):
    def __init__(self, brush: BrushState, edit: EditState, view: ViewState,
                 actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__("Mask", parent)
        self.setObjectName("maskDock")
        body = QWidget()
        form = QFormLayout(body)

        tools = QHBoxLayout()
        for name in ("brush", "eraser", "invert_mask", "clear_mask"):
            tools.addWidget(_button(actions[name]))
        tools.addStretch(1)
        form.addRow(tools)

        self.size = _slider(2, 400)
        bind(brush, "size", self.size.valueChanged, self.size.value, self.size.setValue, float)
        form.addRow("Size", self.size)
        self.size.setToolTip("Brush diameter in picture pixels ( [ and ] )")
        self.hardness = _slider(0, 1, 2)
        bind(brush, "hardness", self.hardness.valueChanged, self.hardness.value,
             self.hardness.setValue, float)
        form.addRow("Hardness", self.hardness)
        self.hardness.setToolTip("1 paints a hard edge, 0 fades out from the brush's centre")
        self.feather = _slider(0, 32, 1)
        bind(edit, "feather", self.feather.valueChanged, self.feather.value,
             self.feather.setValue, float)
        form.addRow("Feather", self.feather)
        self.feather.setToolTip("Width in pixels of the soft edge where the edit fades into the "
                                "source")
        self.opacity = _slider(0, 1, 2)
        bind(view, "overlay_opacity", self.opacity.valueChanged, self.opacity.value,
             self.opacity.setValue, float)
        form.addRow("Overlay", self.opacity)
        self.opacity.setToolTip("How strongly the painted mask is tinted over the preview")

        self.show_overlay = QCheckBox("Show mask")
        bind_check(view, "overlay_visible", self.show_overlay)
        self.follow = QCheckBox("Follow the subject")
        bind_check(edit, "track_mask", self.follow)
        form.addRow(self.show_overlay)
        form.addRow(self.follow)
        self.follow.setToolTip("Move the mask along with what you painted as it moves")
        self.setWidget(body)

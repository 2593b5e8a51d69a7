"""The one place errors appear: a short line above the preview, the full text one click away."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

from liveedit_app.errors import LiveEditError

log = logging.getLogger(__name__)


class ErrorBar(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("errorBar")
        self.error: LiveEditError | None = None
        self.count = 0  # errors shown since the bar was last dismissed
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        self.details_button = QToolButton(text="Details…")
        self.details_button.clicked.connect(self.show_details)
        close = QToolButton(text="✕", toolTip="Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(close)
        self.hide()

    def show_error(self, err: LiveEditError) -> None:
        log.info("shown: %s%s", err.message, f"\n{err.details}" if err.details else "")
        self.error = err
        self.count += 1
        more = f"  (+{self.count - 1} earlier)" if self.count > 1 else ""
        self.label.setText(err.message + more)
        self.details_button.setVisible(bool(err.details))
        self.show()

    def dismiss(self) -> None:
        self.error, self.count = None, 0
        self.hide()

    def show_details(self) -> None:
        if self.error is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "LiveEdit Studio", self.error.message,
                          QMessageBox.StandardButton.Close, self)
        box.setDetailedText(self.error.details or self.error.message)
        box.open()

"""Start the window: the Qt application (HiDPI, theme), the main window, the event loop."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from liveedit_app import __version__
from liveedit_app.settings import Settings
from liveedit_app.ui.main_window import MainWindow
from liveedit_app.ui.models_dialog import attach_models_action
from liveedit_app.ui.recording import attach_recording
from liveedit_app.ui.support import attach_support
from liveedit_app.ui.theme import apply_theme


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is not None:
        return app
    # fractional scale factors (125 %, 150 %) as they are, not rounded: the preview stays sharp
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("LiveEdit Studio")
    app.setOrganizationName("liveedit")
    app.setApplicationVersion(__version__)
    return app


def run_app(source: str | None = None, model: str | None = None, device: str | None = None,
            quit_after: float | None = None) -> int:
    """Open the window on `source` (default: the last one) and run until it is closed (or for
    `quit_after` seconds: a smoke test of an installed app)."""
    app = create_application()
    settings = Settings.load()
    if model:
        settings.model = model
    if device:
        settings.device = device
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    app.aboutToQuit.connect(window.session.shutdown)  # threads end even if the loop is quit
    window.show()
    attach_support(window)  # crash dialog, first-run page, Help's diagnostics and logs
    attach_models_action(window)  # File ▸ Models…: install, download, verify, remove
    attach_recording(window)  # Record/Pause, Recording menu, export, recovery, virtual camera
    window.start(source)
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), window.close)
    return app.exec()

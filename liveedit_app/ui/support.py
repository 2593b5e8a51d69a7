"""Looking after the app from the window: its icon, the crash dialog, the first-run page, and the
Help menu's Welcome, Collect Diagnostics and Open Log Folder commands.

`attach_support(window)` is the one call the window's start-up makes once the window is shown.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from liveedit_app import paths
from liveedit_app.diagnostics import collect_diagnostics
from liveedit_app.errors import LiveEditError
from liveedit_app.ui.crash import CrashReporter, install_crash_dialog
from liveedit_app.ui.welcome import WelcomeDialog, maybe_show_welcome

log = logging.getLogger(__name__)
HELP_ACTIONS = ("welcome", "collect_diagnostics", "open_log_folder")


def attach_support(window: QMainWindow) -> CrashReporter:
    """`window` is the main window: its `actions`, `settings`, `edit` (the prompt state),
    `open_source(spec)` and `errors.show_error(err)` are what this uses."""
    QApplication.setWindowIcon(app_icon())
    window.crash_reporter = install_crash_dialog(window)
    actions = window.actions
    actions["welcome"].triggered.connect(lambda: open_welcome(window))
    actions["collect_diagnostics"].triggered.connect(lambda: save_diagnostics(window))
    actions["open_log_folder"].triggered.connect(open_log_folder)
    help_menu = next(
        (a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"),
        None,
    ) or window.menuBar().addMenu("&Help")
    help_menu.addSeparator()
    for name in HELP_ACTIONS:
        help_menu.addAction(actions[name])
    dialog = maybe_show_welcome(window, window.settings)
    if dialog is not None:
        _connect_welcome(window, dialog)
    # logged once the event loop runs, i.e. when the window is really on screen
    QTimer.singleShot(0, lambda: log.info("main window shown"))
    return window.crash_reporter


def app_icon() -> QIcon:
    """The shipped icon: the SVG, and PNGs for a Qt without the SVG icon plugin."""
    icon = QIcon()
    folder = paths.resources_dir() / "icons"
    for name in ("liveedit.svg", "liveedit-256.png", "liveedit-32.png"):
        if (folder / name).is_file():
            icon.addFile(str(folder / name))
    return icon


def open_welcome(window: QMainWindow) -> WelcomeDialog:
    dialog = WelcomeDialog(window, model_name=window.settings.model)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _connect_welcome(window, dialog)
    dialog.open()
    return dialog


def _connect_welcome(window: QMainWindow, dialog: WelcomeDialog) -> None:
    dialog.source_chosen.connect(window.open_source)
    dialog.prompt_chosen.connect(lambda prompt: setattr(window.edit, "prompt", prompt))


def save_diagnostics(window: QMainWindow) -> QMessageBox | None:
    """Write the zip and say where it is, with a button that opens its folder."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        target = collect_diagnostics()
    except OSError as err:
        window.errors.show_error(
            LiveEditError("The diagnostics could not be saved (is the disk full?).", str(err))
        )
        return None
    finally:
        QApplication.restoreOverrideCursor()
    log.info("diagnostics saved to %s", target)
    box = QMessageBox(window)
    box.setObjectName("diagnosticsSaved")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Diagnostics saved")
    box.setText("The diagnostics were saved. Attach this file to your bug report:")
    box.setInformativeText(str(target))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    folder = box.addButton("Open Folder", QMessageBox.ButtonRole.ActionRole)
    folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(target.parent))))
    box.addButton(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    box.path = target
    return box


def open_log_folder() -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))

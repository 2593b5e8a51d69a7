"""An uncaught exception in the window shows a dialog instead of the app vanishing.

`install_crash_dialog(parent)` replaces the headless hook from `liveedit_app.logs`: the report is
still saved and logged, and the creator sees the short message with the full traceback one click
away ("Show Details...") and the report's path. Exceptions from any thread reach the dialog through
a queued signal, so it always opens on the GUI thread.
"""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from liveedit_app import logs


class CrashDialog(QMessageBox):
    """Short message first; the traceback behind "Show Details..."; the report a click away."""

    def __init__(
        self, message: str, details: str, report: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("LiveEdit Studio: unexpected error")
        self.setText(f"Something went wrong that LiveEdit Studio did not expect:\n{message}")
        where = (
            f"A report was saved to:\n{report}\n\nPlease attach it to a bug report. "
            if report
            else "The report could not be saved (is the disk full?). "
        )
        self.setInformativeText(
            where + "You can keep working; if something looks wrong, save and restart."
        )
        self.setDetailedText(details)
        self.report = report
        if report is not None:
            folder = self.addButton("Open report folder", QMessageBox.ButtonRole.ActionRole)
            folder.clicked.disconnect()  # an action button would otherwise close the dialog
            folder.clicked.connect(self._open_folder)
        self.addButton(QMessageBox.StandardButton.Close)

    def _open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.parent)))


class CrashReporter(QObject):
    """Owns the hooks and the dialog. One dialog at a time: exceptions raised while it is open
    (a failing paint event repeats every frame) are logged, not stacked into more dialogs."""

    crashed = Signal(str, str, str)  # short message, traceback, report path ("" if none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent = parent
        self.dialog: CrashDialog | None = None
        self.reports: list[Path] = []
        self.crashed.connect(self._show)

    def handle(self, exc_info: logs.ExcInfo, thread_name: str | None = None) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            logs.log.critical(
                "uncaught exception (dialog already open)",
                exc_info=exc_info,
                extra={"console": False},
            )
            return
        report = logs.handle_uncaught(exc_info, thread_name)
        if report is not None:
            self.reports.append(report)
        details = "".join(traceback.format_exception(*exc_info))
        self.crashed.emit(logs.short_message(exc_info[1]), details, str(report or ""))

    @Slot(str, str, str)
    def _show(self, message: str, details: str, report: str) -> None:
        self.dialog = CrashDialog(message, details, Path(report) if report else None, self._parent)
        self.dialog.open()

    def excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handle((exc_type, exc, tb))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else None
        self.handle((args.exc_type, args.exc_value, args.exc_traceback), name)


def install_crash_dialog(parent: QWidget | None = None) -> CrashReporter:
    """Call once the QApplication exists (after `logs.setup_logging()`); keep the returned object
    alive as long as the window (it is parented to `parent`)."""
    reporter = CrashReporter(parent)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    return reporter

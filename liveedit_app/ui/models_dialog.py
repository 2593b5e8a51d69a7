"""The Models dialog: installed models with size, VRAM need and measured speed; install from a
folder, download from Hugging Face (only when the user asks), verify, remove.

A thin view over `modelstore.ModelStore`; copying, downloading and verifying run on a QThread so
the window stays responsive, with progress shown under the table. Errors appear as a short line
with the technical text one click away.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from liveedit_app.errors import LiveEditError
from liveedit_app.modelstore.store import InstalledModel, ModelStore, describe_speed, human_size

COLUMNS = ("Name", "Source", "Size", "VRAM", "Speed")


class StoreJob(QThread):
    """Runs one store operation off the UI thread; reports (file, done, total) progress."""

    progress = Signal(str, int, int)  # total -1 when unknown
    succeeded = Signal(object)
    failed = Signal(object)  # LiveEditError

    def __init__(self, work: Callable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._work = work

    def report(self, name: str, done: int, total: int | None) -> None:
        self.progress.emit(name, done, -1 if total is None else total)

    def run(self) -> None:
        try:
            self.succeeded.emit(self._work(self.report))
        except LiveEditError as err:
            self.failed.emit(err)
        except OSError as err:
            self.failed.emit(LiveEditError("The model folder could not be written.", str(err)))


class ModelsDialog(QDialog):
    def __init__(self, store: ModelStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(720, 360)
        self.store = store or ModelStore()
        self.job: StoreJob | None = None
        self.last_error: LiveEditError | None = None
        # asks the user to confirm a removal; replaced in tests
        self.confirm: Callable[[str], bool] = self._ask

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.install_button = QPushButton("Install from folder…")
        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Download a model from Hugging Face (owner/name)")
        self.verify_button = QPushButton("Verify")
        self.remove_button = QPushButton("Remove")
        close = QPushButton("Close")
        self.install_button.clicked.connect(self._pick_folder)
        self.download_button.clicked.connect(self._ask_repo)
        self.verify_button.clicked.connect(self.verify_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        close.clicked.connect(self.accept)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.details_button = QPushButton("Details…")
        self.details_button.clicked.connect(self._show_details)
        self.details_button.hide()
        self.progress = QProgressBar()
        self.progress.hide()

        buttons = QHBoxLayout()
        for b in (self.install_button, self.download_button, self.verify_button,
                  self.remove_button):  # fmt: skip
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        status = QHBoxLayout()
        status.addWidget(self.status, 1)
        status.addWidget(self.details_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addLayout(status)
        layout.addLayout(buttons)
        self.refresh()

    # -- state -------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.models: list[InstalledModel] = self.store.list()
        self.table.setRowCount(len(self.models))
        for row, m in enumerate(self.models):
            vram = f"{m.vram_gb:g} GB" if m.vram_gb is not None else "–"
            cells = (m.name, m.source, human_size(m.size_bytes), vram, describe_speed(m))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(m.path) if col == 0 else text)
                self.table.setItem(row, col, item)
        self._update_buttons()

    def selected(self) -> InstalledModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        for row, m in enumerate(self.models):
            if m.name == name:
                self.table.selectRow(row)

    def _update_buttons(self) -> None:
        model = self.selected()
        busy = self.job is not None
        for b in (self.install_button, self.download_button):
            b.setEnabled(not busy)
        self.verify_button.setEnabled(model is not None and not busy)
        self.remove_button.setEnabled(model is not None and model.source == "user" and not busy)

    def _say(self, text: str, error: LiveEditError | None = None) -> None:
        self.last_error = error
        self.status.setText(text)
        self.details_button.setVisible(bool(error is not None and error.details))

    # -- actions -----------------------------------------------------------------------------

    def install_folder(self, folder: Path) -> None:
        self._start(f"Installing {Path(folder).name}…",
                    lambda report: self.store.install_folder(Path(folder)),
                    lambda m: f"Installed {m.name} ({human_size(m.size_bytes)}).")  # fmt: skip

    def download(self, repo_id: str, endpoint: str | None = None) -> None:
        self._start(f"Downloading {repo_id}…",
                    lambda report: self.store.install_repo(repo_id, endpoint=endpoint,
                                                           progress=report),
                    lambda m: f"Downloaded and installed {m.name}.")  # fmt: skip

    def verify_selected(self) -> None:
        model = self.selected()
        if model is None:
            return

        def done(report) -> str:
            if report.ok:
                return f"{model.name}: all {len(report.checks)} files are intact."
            bad = ", ".join(f"{c.name} ({c.status})" for c in report.problems())
            return f"{model.name} is damaged: {bad}. Remove it and install it again."

        self._start(f"Checking {model.name}…", lambda report: self.store.verify(model.name), done)

    def remove_selected(self) -> None:
        model = self.selected()
        if model is None or model.source != "user":
            return
        if not self.confirm(model.name):
            return
        try:
            self.store.remove(model.name)
        except LiveEditError as err:
            self._say(err.message, err)
            return
        self._say(f"Removed {model.name}.")
        self.refresh()

    def _start(self, text: str, work: Callable, done: Callable[[object], str]) -> None:
        self._say(text)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.job = StoreJob(work, self)
        self.job.progress.connect(self._on_progress)
        self.job.succeeded.connect(lambda result: self._finish(done(result), None))
        self.job.failed.connect(lambda err: self._finish(err.message, err))
        self.job.start()
        self._update_buttons()

    def _on_progress(self, name: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
        self.status.setText(f"{name}: {human_size(done)}"
                            + (f" of {human_size(total)}" if total > 0 else ""))  # fmt: skip

    def _finish(self, text: str, error: LiveEditError | None) -> None:
        if self.job is not None:
            self.job.wait()
        self.job = None
        self.progress.hide()
        self.refresh()
        self._say(text, error)

    # -- dialogs -----------------------------------------------------------------------------

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Install a model from a folder")
        if folder:
            self.install_folder(Path(folder))

    def _ask_repo(self) -> None:
        repo, ok = QInputDialog.getText(
            self, "Download a model",
            "Hugging Face repository (owner/name). The files are downloaded now and checked "
            "against the checksums in its model.json:",
        )  # fmt: skip
        if ok and repo.strip():
            self.download(repo.strip())

    def _ask(self, name: str) -> bool:
        answer = QMessageBox.question(self, "Remove model",
                                      f"Delete the model '{name}' from this computer?")  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _show_details(self) -> None:
        if self.last_error is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Models", self.last_error.message,
                          QMessageBox.StandardButton.Close, self)  # fmt: skip
        box.setDetailedText(self.last_error.details or self.last_error.message)
        box.open()


def attach_models_action(window: QMainWindow) -> QAction:
    """File ▸ Models… in the main window (before Quit); the dialog is built when opened."""
    action = QAction("&Models…", window)
    action.setStatusTip("Installed models: install, download, verify, remove")

    def open_dialog() -> None:
        window.models_dialog = ModelsDialog(parent=window)
        window.models_dialog.open()

    action.triggered.connect(open_dialog)
    file_menu = window.menuBar().actions()[0].menu()
    quit_action = next((a for a in file_menu.actions() if "quit" in a.text().lower()), None)
    if quit_action is not None:
        file_menu.insertAction(quit_action, action)
    else:
        file_menu.addAction(action)
    return action

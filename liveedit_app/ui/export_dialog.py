"""The export dialog: pick a clip, a prompt, a preset and more steps if wanted, then render it
offline with progress, ETA and cancel. The work is `media.exporter.export_clip` (the same code
`liveedit edit` runs) on an `ExportJob` QThread, which also loads the model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from liveedit_app.contract import EditorProtocol, EditSettings
from liveedit_app.errors import Cancelled, LiveEditError
from liveedit_app.media.exporter import (
    ExportProgress,
    ExportRequest,
    ExportResult,
    available_presets,
    export_clip,
    format_clock,
)
from liveedit_app.ui.editor_factory import load_editor

VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.webm *.avi *.m4v);;All files (*)"

EditorFactory = Callable[[str, str], EditorProtocol]


class ExportJob(QThread):
    """Loads the editor and runs one export; exactly one of done / failed / cancelled follows."""

    progress = Signal(object)  # ExportProgress
    done = Signal(object)  # ExportResult
    failed = Signal(object)  # LiveEditError
    cancelled = Signal()

    def __init__(self, request: ExportRequest, model: str, device: str, factory: EditorFactory):
        super().__init__()
        self.request, self.model, self.device, self.factory = request, model, device, factory
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        try:
            editor = self.factory(self.model, self.device)
            if self.cancel_event.is_set():
                raise Cancelled("Export cancelled: no file was written.")
            result = export_clip(
                self.request, editor, progress=self.progress.emit, cancel=self.cancel_event
            )
        except Cancelled:
            self.cancelled.emit()
        except LiveEditError as err:
            self.failed.emit(err)
        except Exception as err:  # an engine bug must reach the creator, not kill the thread
            self.failed.emit(LiveEditError("The export failed.", details=repr(err)))
        else:
            self.done.emit(result)


class ExportDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        input_path: Path | None = None,
        prompt: str = "",
        mask: np.ndarray | None = None,
        model: str = "liveedit-tiny",
        device: str = "auto",
        steps: int = 4,
        editor_factory: EditorFactory = load_editor,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export Clip")
        self.setObjectName("exportDialog")
        self.model, self.device, self.mask = model, device, mask
        self.editor_factory = editor_factory
        self.job: ExportJob | None = None
        self.result: ExportResult | None = None

        self.input = QLineEdit(str(input_path or ""))
        self.output = QLineEdit(str(_suggest_output(input_path)) if input_path else "")
        self.prompt = QLineEdit(prompt)
        self.preset = QComboBox()
        for preset in available_presets():
            self.preset.addItem(preset.label, preset.name)
        self.preset.currentIndexChanged.connect(self._fit_suffix)
        self.steps = QSpinBox(minimum=1, maximum=50, value=steps)
        self.steps.setToolTip("More steps: finer detail, slower export")
        self.use_mask = QCheckBox("Only where the mask is painted", checked=mask is not None)
        self.use_mask.setEnabled(mask is not None)
        self.track = QCheckBox("Mask follows the subject", checked=True)
        self.keep_audio = QCheckBox("Keep the sound", checked=True)
        self.progress = QProgressBar(minimum=0, maximum=1000, value=0)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("exportProgressLabel")
        self.progress_label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        form = QFormLayout()
        form.addRow("Clip", _with_button(self.input, "Browse…", self._browse_input))
        form.addRow("Prompt", self.prompt)
        form.addRow("Format", self.preset)
        form.addRow("Steps", self.steps)
        form.addRow("", self.use_mask)
        form.addRow("", self.track)
        form.addRow("", self.keep_audio)
        form.addRow("Save as", _with_button(self.output, "Browse…", self._browse_output))
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel_or_close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.buttons)

    def request(self) -> ExportRequest:
        return ExportRequest(
            input=Path(self.input.text().strip()),
            output=Path(self.output.text().strip()),
            prompt=self.prompt.text().strip(),
            mask=self.mask if self.use_mask.isChecked() else None,
            track_mask=self.track.isChecked(),
            settings=EditSettings(steps=self.steps.value()),
            preset=self.preset.currentData(),
            keep_audio=self.keep_audio.isChecked(),
            overwrite=True,  # the save dialog already asked
        )

    def start(self) -> None:
        if self.job is not None:
            return
        request = self.request()
        if not request.input.name or not request.output.name:
            self._show_message("Choose a clip and where to save the export.")
            return
        self.job = ExportJob(request, self.model, self.device, self.editor_factory)
        self.job.progress.connect(self._on_progress)
        self.job.done.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self.job.finished.connect(self._on_job_finished)
        self._set_running(True)
        self._show_message("Loading the model…")
        self.job.start()

    def cancel_or_close(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._show_message("Cancelling…")
        else:
            self.reject()

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait()
        super().closeEvent(event)

    def _on_progress(self, p: ExportProgress) -> None:
        self.progress.setValue(round(p.fraction * 1000))
        eta = "…" if p.eta_s is None else format_clock(p.eta_s)
        self._show_message(
            f"Frame {p.frames_done} of {p.frames_total} · {p.fps:.1f} fps · {eta} left"
        )

    def _on_done(self, result: ExportResult) -> None:
        self.result = result
        self.progress.setValue(1000)
        folder = QUrl.fromLocalFile(str(result.path.parent)).toString()
        self.progress_label.setText(
            f'Saved to <a href="{folder}">{result.path.name}</a> '
            f"({result.frames} frames in {format_clock(result.elapsed_s)})"
        )

    def _on_failed(self, err: LiveEditError) -> None:
        self._show_message(f"Export failed: {err.message}")
        self.progress_label.setToolTip(err.details)

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self._show_message("Export cancelled: no file was written.")

    def _on_job_finished(self) -> None:
        self.job = None
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        for widget in (
            self.input,
            self.output,
            self.prompt,
            self.preset,
            self.steps,
            self.use_mask,
            self.track,
            self.keep_audio,
            self.export_button,
        ):
            widget.setEnabled(not running)
        self.use_mask.setEnabled(not running and self.mask is not None)
        self.cancel_button.setText("Cancel Export" if running else "Close")

    def _show_message(self, text: str) -> None:
        self.progress_label.setText(text)

    def _browse_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Clip to export", self.input.text(), VIDEO_FILTER
        )
        if path:
            self.input.setText(path)
            if not self.output.text():
                self.output.setText(str(_suggest_output(Path(path), self._suffix())))

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save export as", self.output.text(), f"Video (*{self._suffix()})"
        )
        if path:
            self.output.setText(path)

    def _suffix(self) -> str:
        name = self.preset.currentData()
        return next(p.suffixes[0] for p in available_presets() if p.name == name)

    def _fit_suffix(self) -> None:
        text = self.output.text().strip()
        if text:
            self.output.setText(str(Path(text).with_suffix(self._suffix())))


def _suggest_output(source: Path, suffix: str = ".mp4") -> Path:
    return source.with_name(f"{source.stem} (edited){suffix}")


def _with_button(field: QLineEdit, text: str, slot) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(field, 1)
    button = QPushButton(text)
    button.clicked.connect(slot)
    layout.addWidget(button)
    return row

"""Recording in the window: the Record action drives a `media.recorder.Recorder` fed by the
session's edited frames, with the microphone, the status bar's REC clock, the "saved to" link,
camera-loss handling, recovery of unfinished takes, the export dialog and the virtual camera.

`attach_recording(window)` wires all of it into a `MainWindow` (anything with `actions`, `session`,
`status_state`, `status`, `errors`, `settings`, `mask` and `menuBar()`); the controller itself only
needs the signals and objects it is given, so tests can drive it without a window.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from liveedit_app import paths
from liveedit_app.contract import EditedFrame
from liveedit_app.errors import CameraError, LiveEditError, RecordingError
from liveedit_app.media import recovery
from liveedit_app.media.audio import MicrophoneCapture
from liveedit_app.media.recorder import (
    Recorder,
    RecorderConfig,
    RecorderState,
    RecordingResult,
    StopReason,
)
from liveedit_app.media.virtualcam import VirtualCamera
from liveedit_app.settings import Settings

log = logging.getLogger(__name__)

AUDIO_OFFSET_KEY = "audio_offset_ms"  # manual A/V sync, positive = sound later
RECORD_AUDIO_KEY = "record_audio"
RECORD_SOURCE_KEY = "record_source"


class SavedNotice(QLabel):
    """ "Saved to <file>" in the status bar; the link opens the folder."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("savedNotice")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setOpenExternalLinks(False)
        self.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.hide()

    def show_result(self, result: RecordingResult) -> None:
        if result.path is None:
            self.setText(result.message)
        else:
            folder = QUrl.fromLocalFile(str(result.path.parent)).toString()
            lead = "" if result.reason is StopReason.USER else "⚠ "
            self.setText(f'{lead}Saved to <a href="{folder}">{result.path.name}</a>')
            self.setToolTip(result.message)
        self.show()


class RecordingController(QObject):
    """Start / pause / resume / stop a take from the GUI thread.

    `finished(RecordingResult)` and `problem(LiveEditError)` are emitted on the GUI thread.
    """

    finished = Signal(object)
    problem = Signal(object)
    state_changed = Signal(str)  # "idle", "recording", "paused"
    _finished_from_thread = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        recorder_factory: Callable[[RecorderConfig], Recorder] = Recorder,
        microphone_factory: Callable[..., MicrophoneCapture] = MicrophoneCapture,
        on_clock: Callable[[float | None], None] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.settings = settings
        self.recorder_factory = recorder_factory
        self.microphone_factory = microphone_factory
        self.on_clock = on_clock
        self.recorder: Recorder | None = None
        self.microphone: MicrophoneCapture | None = None
        self.last_result: RecordingResult | None = None
        self._clock = QTimer(self, interval=500)
        self._clock.timeout.connect(self._tick)
        self._finished_from_thread.connect(self._on_finished)

    @property
    def state(self) -> str:
        if self.recorder is None or not self.recorder.running:
            return "idle"
        return "paused" if self.recorder.state is RecorderState.PAUSED else "recording"

    def start(self) -> bool:
        """Begin a take; False (and `problem`) when it cannot start, e.g. on a nearly full disk."""
        if self.state != "idle":
            return True
        want_audio = bool(self.settings.get(RECORD_AUDIO_KEY, True))
        microphone = self._open_microphone() if want_audio else None
        config = RecorderConfig(
            folder=paths.recordings_dir(),
            record_source=bool(self.settings.get(RECORD_SOURCE_KEY, False)),
            audio=microphone is not None,
            audio_offset_s=float(self.settings.get(AUDIO_OFFSET_KEY, 0.0)) / 1000.0,
        )
        recorder = self.recorder_factory(config)
        recorder.on_finished = self._finished_from_thread.emit
        try:
            recorder.start()
        except LiveEditError as err:
            if microphone is not None:
                microphone.stop()
            self.problem.emit(err)
            return False
        self.recorder, self.microphone = recorder, microphone
        log.info("recording started (sound: %s, source too: %s)", microphone is not None,
                 config.record_source)
        self._clock.start()
        self._tick()
        self.state_changed.emit("recording")
        return True

    def submit(self, frame: EditedFrame) -> None:
        """Called on the inference worker's thread."""
        recorder = self.recorder  # the GUI thread may drop it between a check and a use
        if recorder is not None:
            recorder.submit(frame)

    def pause(self) -> None:
        if self.recorder is not None:
            self.recorder.pause()
            self.state_changed.emit(self.state)

    def resume(self) -> None:
        if self.recorder is not None:
            self.recorder.resume()
            self.state_changed.emit(self.state)

    def stop(self, wait: bool = False) -> RecordingResult | None:
        """Finalize the take; `finished` follows when the file is ready (the remux of a long take
        takes a moment, so the window does not wait unless `wait`, e.g. when it closes)."""
        if self.recorder is None:
            return None
        self._stop_inputs()
        return self.recorder.stop(timeout_s=None if wait else 0.0)

    def camera_lost(self) -> None:
        if self.recorder is not None and self.recorder.running:
            self._stop_inputs()
            self.recorder.camera_lost()

    def _open_microphone(self) -> MicrophoneCapture | None:
        microphone = self.microphone_factory(self._on_audio)
        try:
            microphone.start()
        except LiveEditError as err:
            self.problem.emit(err)  # recording goes on without sound
            return None
        return microphone

    def _on_audio(self, pcm, capture_s: float) -> None:
        if self.recorder is not None:
            self.recorder.submit_audio(pcm, capture_s)

    def _stop_inputs(self) -> None:
        if self.microphone is not None:
            self.microphone.stop()
            self.microphone = None

    def _tick(self) -> None:
        if self.on_clock is not None and self.recorder is not None and self.recorder.running:
            self.on_clock(self.recorder.video_time_s)

    def _on_finished(self, result: RecordingResult) -> None:
        log.info("recording finished (%s): %d frames, %.1f s, %d dropped, %s", result.reason.name,
                 result.frames, result.duration_s, result.dropped_frames, result.path)
        self._clock.stop()
        self._stop_inputs()
        self.recorder = None
        self.last_result = result
        if self.on_clock is not None:
            self.on_clock(None)
        self.state_changed.emit("idle")
        self.finished.emit(result)
        if result.reason is not StopReason.USER:
            self.problem.emit(RecordingError(result.message))


class _FinishOnClose(QObject):
    """Closing the window finalizes a running take before the app goes away."""

    def __init__(self, controller: RecordingController, parent: QObject):
        super().__init__(parent)
        self.controller = controller

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and self.controller.state != "idle":
            self.controller.stop(wait=True)
        return False


def offer_recovery(parent: QWidget, folder: Path | None = None) -> QMessageBox | None:
    """Ask about takes a crash left unfinished (non-modal); None when there are none."""
    folder = folder or paths.recordings_dir()
    unfinished = recovery.find_unfinished(folder)
    if not unfinished:
        return None
    names = "\n".join(f"• {u.name}" for u in unfinished)
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unfinished recordings",
        f"LiveEdit found {len(unfinished)} recording(s) that were not finished, probably because "
        f"the app stopped unexpectedly:\n{names}\n\nRecover them as MP4 files?",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setObjectName("recoveryBox")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)

    def answered() -> None:
        clicked = box.clickedButton()
        if clicked is recover:
            written = [p for u in unfinished for p in recovery.recover(u)]
            box.recovered = written
        elif clicked is discard:
            for u in unfinished:
                recovery.discard(u)

    box.recovered = []
    box.finished.connect(answered)
    box.open()
    return box


def attach_recording(window) -> RecordingController:
    """Wire recording, recovery, export and the virtual camera into the main window."""
    status = window.status_state
    controller = RecordingController(
        window.settings, on_clock=lambda s: setattr(status, "recording_s", s), parent=window
    )
    notice = SavedNotice()
    window.status.addWidget(notice)
    record = window.actions["record"]
    record.setEnabled(True)
    extra = _add_actions(window)
    _put_pause_beside_record(window, extra["pause_recording"])
    window.recording = controller
    window.recording_actions = extra

    def on_record(checked: bool) -> None:
        if checked and controller.state == "idle":
            notice.hide()
            if not controller.start():
                record.setChecked(False)
        elif not checked and controller.state != "idle":
            controller.stop()

    def on_state(state: str) -> None:
        record.blockSignals(True)
        record.setChecked(state != "idle")
        record.blockSignals(False)
        extra["pause_recording"].setEnabled(state != "idle")
        extra["pause_recording"].setChecked(state == "paused")
        record.setText("Stop" if state != "idle" else "Record")

    def on_problem(err: LiveEditError) -> None:
        if isinstance(err, CameraError):
            controller.camera_lost()

    record.toggled.connect(on_record)
    controller.state_changed.connect(on_state)
    controller.finished.connect(notice.show_result)
    controller.problem.connect(window.errors.show_error)
    extra["pause_recording"].toggled.connect(
        lambda paused: controller.pause() if paused else controller.resume()
    )
    extra["record_source"].toggled.connect(
        lambda on: window.settings.set(RECORD_SOURCE_KEY, bool(on))
    )
    extra["recover"].triggered.connect(lambda: _recover_now(window))
    extra["open_recordings"].triggered.connect(
        lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.recordings_dir())))
    )
    extra["export"].triggered.connect(lambda: _open_export_dialog(window))
    _attach_virtual_camera(window, extra["virtual_camera"])
    # straight from the worker's thread: Recorder.submit is thread-safe and never blocks, so a
    # busy GUI thread neither delays frames (A/V sync) nor loses them
    window.session.worker.edited.connect(controller.submit, Qt.ConnectionType.DirectConnection)
    window.session.problem.connect(on_problem)
    window.installEventFilter(_FinishOnClose(controller, window))
    on_state("idle")
    QTimer.singleShot(0, lambda: offer_recovery(window))
    return controller


_EXTRA_ACTIONS = (
    ("pause_recording", "Pause Recording", "Ctrl+Shift+R", "Pause or resume the take", True),
    (
        "record_source",
        "Also Record the Source",
        "",
        "Save the unedited picture as a second file",
        True,
    ),
    (
        "export",
        "Export Clip…",
        "Ctrl+Shift+E",
        "Re-render a video with a prompt into a file",
        False,
    ),
    (
        "recover",
        "Recover Unfinished Recordings…",
        "",
        "Turn takes cut off by a crash into MP4s",
        False,
    ),
    (
        "open_recordings",
        "Open Recordings Folder",
        "",
        "Show the recordings in the file manager",
        False,
    ),
    (
        "virtual_camera",
        "Virtual Camera",
        "Ctrl+Shift+V",
        "Send the edited picture to other apps as a webcam",
        True,
    ),
)


def _add_actions(window) -> dict[str, QAction]:
    actions = {}
    menu = window.menuBar().addMenu("&Recording")
    menu.addAction(window.actions["record"])
    for name, text, shortcut, tip, checkable in _EXTRA_ACTIONS:
        action = QAction(text, window)
        action.setObjectName(name)
        action.setCheckable(checkable)
        action.setStatusTip(tip)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        window.addAction(action)
        menu.addAction(action)
        actions[name] = action
    actions["record_source"].setChecked(bool(window.settings.get(RECORD_SOURCE_KEY, False)))
    return actions


def _put_pause_beside_record(window, pause: QAction) -> None:
    toolbar = getattr(window, "toolbar", None)
    if toolbar is None:
        return
    actions = toolbar.actions()
    record = window.actions["record"]
    after = actions.index(record) + 1 if record in actions else len(actions)
    if after < len(actions):
        toolbar.insertAction(actions[after], pause)
    else:
        toolbar.addAction(pause)


def _recover_now(window) -> None:
    if offer_recovery(window) is None:
        window.status.showMessage("No unfinished recordings.", 5000)


def _open_export_dialog(window) -> None:
    from liveedit_app.ui.export_dialog import ExportDialog

    source = window.settings.source
    dialog = ExportDialog(
        window,
        input_path=Path(source) if Path(source).is_file() else None,
        prompt=window.edit.prompt,
        mask=window.mask.mask,
        model=window.edit.model,
        device=window.edit.device,
        steps=int(window.edit.steps),
    )
    dialog.open()


def _attach_virtual_camera(window, action: QAction) -> None:
    state = {"camera": None}

    def send(frame: EditedFrame) -> None:
        camera = state["camera"]
        if camera is not None:
            camera.send(frame.rgb)

    def toggled(on: bool) -> None:
        if not on:
            if state["camera"] is not None:
                state["camera"].stop()
            state["camera"] = None
            return
        size = window.mask.size or (720, 1280)  # (H, W) of the source
        camera = VirtualCamera(width=size[1] - size[1] % 2, height=size[0] - size[0] % 2)
        try:
            camera.start()
        except LiveEditError as err:
            window.errors.show_error(err)
            QTimer.singleShot(0, functools.partial(action.setChecked, False))
            return
        state["camera"] = camera
        window.status.showMessage(f"Virtual camera on: {camera.name}", 5000)

    action.toggled.connect(toggled)
    window.session.edited.connect(send)

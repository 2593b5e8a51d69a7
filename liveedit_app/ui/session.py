"""The live session behind the window: source → mailbox → worker → edited frames, driven by state.

It owns the running source (on its own thread), the latest-frame mailbox and the inference worker,
and keeps them in step with the state objects: a new prompt, settings, model or pause reaches the
worker; a painted mask reaches it after a short quiet spell (strokes are debounced); a mask the
tracker moved comes back into the `MaskDocument`. The window is one client of a session; tests
drive one without any widget.

Everything that goes wrong (a source that cannot open or stops, a model that cannot load, an
engine error) comes out of one signal, `problem`, for the window's one error area.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import cv2
from PySide6.QtCore import QObject, QTimer, Signal

from liveedit_app import paths
from liveedit_app.contract import EditedFrame, Frame
from liveedit_app.errors import LiveEditError, RecordingError
from liveedit_app.media.camera import CameraBackend
from liveedit_app.media.mailbox import LatestMailbox
from liveedit_app.media.sources import PATTERN, FrameSource, SourcePump, open_source
from liveedit_app.ui.editor_factory import DEFAULT_MODEL, load_editor
from liveedit_app.ui.state import BrushState, EditState, MaskDocument, StreamStatus, ViewState
from liveedit_app.ui.worker import EditorFactory, InferenceWorker, WorkerStats

log = logging.getLogger(__name__)

MASK_DEBOUNCE_MS = 150
# Edited frames come in bursts (one chunk at a time); the preview shows them spaced by their pts.
# A burst that starts more than this late is shown from now on instead of being skipped through.
_PLAYOUT_LATE_S = 0.25
# Editing slower than this for this long (a large model on a CPU) is said once, with what helps.
SLOW_FPS = 3.0
SLOW_FOR_S = 8.0
_PLAYOUT_MAX = 64
NO_MODEL = "No model loaded: showing the source unedited"
LOADING = "Loading the model…"
PAUSED = "Editing paused: showing the source"
WARMING_UP = "Preparing the GPU: the first chunk is being compiled (up to a minute, once a start)"
WAITING_FOR_CAMERA = "Waiting for the camera to come back…"


class Session(QObject):
    source_frame = Signal(object)  # contract.Frame, on the GUI thread, every frame of the source
    edited = Signal(object)  # contract.EditedFrame, on the GUI thread, as soon as it is done
    display = Signal(object)  # contract.EditedFrame, when the preview should show it (by pts)
    problem = Signal(object)  # LiveEditError for the error area
    problem_solved = Signal()  # the interruption behind the last problem is over (camera back)
    source_changed = Signal(str)  # the spec now running: "pattern", "camera:<id>" or a path

    # from the source thread; queued onto the GUI thread
    _frame_in = Signal(object)
    _source_problem = Signal(object)
    _source_ended = Signal(object)

    def __init__(
        self,
        view: ViewState,
        brush: BrushState,
        edit: EditState,
        mask: MaskDocument,
        status: StreamStatus,
        editor_factory: EditorFactory = load_editor,
        camera_backend: CameraBackend | None = None,
        loop_video: bool = True,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.view, self.brush, self.edit, self.mask, self.status = view, brush, edit, mask, status
        self.camera_backend = camera_backend
        self.loop_video = loop_video
        self.mailbox: LatestMailbox[Frame] = LatestMailbox()
        self.worker = InferenceWorker(self.mailbox, editor_factory)
        self.spec = ""
        self.last_edited: EditedFrame | None = None
        self._pump: SourcePump | None = None
        self._arrivals: deque[float] = deque(maxlen=60)
        self._mask_generation = 0
        self._painted_on: int | None = None  # index of the frame shown when painting began
        self._source_index: int | None = None
        self._picture_size: tuple[int, ...] | None = None
        self._slow_since: float | None = None
        self._slow_said = False  # once per loaded model
        self._interrupted = False
        self._playout: deque[EditedFrame] = deque(maxlen=_PLAYOUT_MAX)
        self._playout_anchor: float | None = None  # wall clock minus pts of the frames shown

        self._play_timer = QTimer(self, interval=8)
        self._play_timer.timeout.connect(self._play)
        self._mask_timer = QTimer(self, singleShot=True, interval=MASK_DEBOUNCE_MS)
        self._mask_timer.timeout.connect(self._send_mask)
        self._disk_timer = QTimer(self, interval=5000)
        self._disk_timer.timeout.connect(self._measure_disk)

        self._frame_in.connect(self._on_frame)
        self._source_problem.connect(self._on_source_problem)
        self._source_ended.connect(self._on_source_ended)
        self.worker.edited.connect(self._on_edited)
        self.worker.mask_followed.connect(self._on_mask_followed)
        self.worker.stats_changed.connect(self._on_stats)
        self.worker.problem.connect(self.problem)
        self.worker.model_ready.connect(self._on_model_ready)
        self.worker.model_failed.connect(self._on_model_failed)
        self.edit.changed.connect(self._on_edit_changed)
        self.mask.painted.connect(self._on_mask_painted)

    # -- life cycle --------------------------------------------------------------------------

    def start(self, spec: str = PATTERN) -> None:
        """Start the worker, load the chosen model, open `spec` (the pattern if it cannot)."""
        self.worker.configure(self.edit.edit_settings())
        self.worker.set_prompt(self.edit.prompt)
        self.worker.set_tracking(self.edit.track_mask)
        self.worker.set_paused(self.edit.paused)
        self.worker.start()
        self.load_model()
        self.open(spec)
        self._measure_disk()
        self._disk_timer.start()

    def shutdown(self) -> None:
        """Stop the source and the worker; returns when both threads are done."""
        self._disk_timer.stop()
        self._mask_timer.stop()
        self._play_timer.stop()
        self._stop_pump()
        self.worker.stop()

    def load_model(self) -> None:
        self.status.loading = True
        self.status.model_loaded = False
        self._update_banner()
        self.worker.load_model(self.edit.model, self.edit.device)

    # -- sources -----------------------------------------------------------------------------

    def open(self, spec: str) -> bool:
        """Switch to `spec`; on failure say why and fall back to the test pattern."""
        try:
            source = open_source(spec, loop=self.loop_video, backend=self.camera_backend)
        except LiveEditError as err:
            self.problem.emit(err)
            if spec == PATTERN:
                return False
            source, spec = open_source(PATTERN), PATTERN
            ok = False
        else:
            ok = True
        self._run(source, spec)
        return ok

    def set_playing(self, playing: bool) -> None:
        self.status.playing = playing
        if self._pump is not None:
            (self._pump.resume if playing else self._pump.pause)()

    def _run(self, source: FrameSource, spec: str) -> None:
        self._stop_pump()
        self.spec = spec
        log.info("source: %s (%s)", source.label, type(source).__name__)
        self._picture_size = None  # logged again when a source's pictures change size
        self._arrivals.clear()
        self._interrupted = False
        self.worker.reset_stream()
        self.status.source = source.label
        self.status.playing = True
        pump = SourcePump(
            source,
            on_frame=self._from_source_thread,
            on_problem=self._source_problem.emit,
            on_end=lambda: self._source_ended.emit(pump),
        )
        self._pump = pump
        pump.start()
        self._update_banner()
        self.source_changed.emit(spec)

    def _stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.stop()
            self._pump = None

    def _from_source_thread(self, frame: Frame) -> None:
        self.mailbox.put(frame)
        self._frame_in.emit(frame)

    def _on_frame(self, frame: Frame) -> None:
        now = time.monotonic()
        self._arrivals.append(now)
        recent = [t for t in self._arrivals if now - t < 2.0]
        if len(recent) > 1:
            self.status.source_fps = round((len(recent) - 1) / (recent[-1] - recent[0]), 1)
        self._source_index = frame.index
        if frame.rgb.shape[:2] != self._picture_size:
            self._picture_size = frame.rgb.shape[:2]
            log.info("source picture: %dx%d", frame.rgb.shape[1], frame.rgb.shape[0])
        self.mask.fit(*frame.rgb.shape[:2])
        self.source_frame.emit(frame)

    def _on_source_problem(self, err: LiveEditError | None) -> None:
        if err is None:
            self._interrupted = False
            self.problem_solved.emit()
        else:
            self._interrupted = True
            self.problem.emit(err)
        self._update_banner()

    def _on_source_ended(self, pump: SourcePump) -> None:
        if pump is self._pump:
            self.status.playing = False
            self.status.source_fps = 0.0

    # -- state → worker ----------------------------------------------------------------------

    def _on_edit_changed(self, name: str) -> None:
        if name == "prompt":
            self.worker.set_prompt(self.edit.prompt)
        elif name in ("strength", "seed", "steps", "feather"):
            self.worker.configure(self.edit.edit_settings())
        elif name in ("model", "device"):
            self.load_model()
        elif name == "paused":
            self.worker.set_paused(self.edit.paused)
            self._update_banner()
        elif name == "track_mask":
            self.worker.set_tracking(self.edit.track_mask)

    def _on_mask_painted(self) -> None:
        if not self._mask_timer.isActive():
            edited = self.last_edited
            shows_source = self.view.mode == "source" or edited is None
            self._painted_on = self._source_index if shows_source else edited.index
        self._mask_generation += 1
        self._mask_timer.start()  # restarts: one hand-over after the strokes pause

    def _send_mask(self) -> None:
        self.worker.set_mask(self.mask.mask, self._mask_generation, self._painted_on)

    def _on_mask_followed(self, mask, generation: int) -> None:
        # a tracked mask from before the creator's latest strokes would paint over them
        if generation == self._mask_generation and not self._mask_timer.isActive():
            self.mask.follow(mask)

    # -- worker → state ----------------------------------------------------------------------

    def _on_edited(self, out: EditedFrame) -> None:
        self.last_edited = out
        self.edited.emit(out)
        self._playout.append(out)
        if not self._play_timer.isActive():
            self._play_timer.start()
        self._play()

    def _play(self) -> None:
        now = time.monotonic()
        due = None
        while self._playout:
            head = self._playout[0]
            if self._playout_anchor is None or now - (self._playout_anchor + head.pts) > \
                    _PLAYOUT_LATE_S or (due is not None and head.pts < due.pts):
                self._playout_anchor = now - head.pts
            if self._playout_anchor + head.pts > now:
                break
            due = self._playout.popleft()
        if due is not None:
            self.display.emit(due)
        if not self._playout:
            self._play_timer.stop()

    def _on_stats(self, stats: WorkerStats) -> None:
        self.status.editing = stats.editing
        self.status.edit_fps = round(stats.edit_fps, 1)
        self.status.latency_ms = round(stats.latency_ms)
        self.status.dropped = stats.dropped
        if stats.device:
            self.status.device = stats.device
        if stats.warming_up != self.status.warming_up:
            self.status.warming_up = stats.warming_up
            self._update_banner()
        self._watch_speed(stats)

    def _watch_speed(self, stats: WorkerStats) -> None:
        slow = stats.editing and not stats.warming_up and stats.edit_fps < SLOW_FPS
        if not slow or self._slow_said:
            self._slow_since = None
            return
        now = time.monotonic()
        if self._slow_since is None:
            self._slow_since = now
        elif now - self._slow_since >= SLOW_FOR_S:
            self._slow_said = True
            on_cpu = (stats.device or "").startswith("cpu")
            if self.edit.model == DEFAULT_MODEL:
                helps = "close other busy programs" + (", choose a GPU as the Device" if on_cpu
                                                       else "")
            elif on_cpu:
                helps = f"choose a GPU as the Device or the {DEFAULT_MODEL} model"
            else:
                helps = "choose a smaller model"
            self.problem.emit(LiveEditError(
                f"Editing runs at {stats.edit_fps:.1f} frames per second with {self.edit.model} "
                f"on {stats.device or 'this device'}: too slow to follow live. To speed it up, "
                f"{helps}, lower Steps, or paint a smaller region.",
                details=f"{stats.edit_fps:.2f} fps for {now - self._slow_since:.0f} s, "
                        f"latency {stats.latency_ms:.0f} ms"))

    def _on_model_ready(self, name: str, device: str) -> None:
        self._slow_since, self._slow_said = None, False
        self.status.loading = False
        self.status.model_loaded = True
        self.status.device = device
        self._update_banner()

    def _on_model_failed(self, err: LiveEditError) -> None:
        self.status.loading = False
        self.status.model_loaded = False
        self.status.device = ""
        self.problem.emit(err)
        self._update_banner()

    def _update_banner(self) -> None:
        if self._interrupted:
            banner = WAITING_FOR_CAMERA
        elif self.status.loading:
            banner = LOADING
        elif not self.status.model_loaded:
            banner = NO_MODEL
        elif self.edit.paused:
            banner = PAUSED
        elif self.status.warming_up:
            banner = WARMING_UP
        else:
            banner = ""
        self.status.banner = banner

    def _measure_disk(self) -> None:
        try:
            self.status.free_disk_bytes = shutil.disk_usage(paths.recordings_dir()).free
        except OSError:
            self.status.free_disk_bytes = None

    # -- commands ----------------------------------------------------------------------------

    def snapshot(self, folder: Path | None = None) -> Path:
        """Save the newest edited picture as a PNG in the recordings folder."""
        if self.last_edited is None:
            raise RecordingError("There is no picture to save yet.")
        folder = folder or paths.recordings_dir()
        target = folder / f"snapshot-{datetime.now():%Y%m%d-%H%M%S-%f}.png"
        ok, data = cv2.imencode(".png", self.last_edited.rgb[..., ::-1])
        try:
            if not ok:
                raise OSError("PNG encoding failed")
            target.write_bytes(data.tobytes())
        except OSError as err:
            raise RecordingError(f"The snapshot could not be saved in {folder}.",
                                 details=str(err)) from err
        return target

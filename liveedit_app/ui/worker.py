"""The inference worker: a QThread that owns the editor and turns source frames into edited ones.

Frames arrive through a `LatestMailbox` (the newest wait, older ones are dropped and counted), so a
slow editor shows fewer, fresh pictures instead of an ever longer delay. The mailbox holds one
chunk of the editor's frames: they gather while the editor computes the previous chunk. Prompt,
mask and settings changes are handed over under a lock and applied before the next frame is
pushed, so they take effect on the next chunk without restarting the stream. A model loads on a
helper thread, so the stream goes on unedited while it loads. Whatever the editor raises becomes
a `problem` signal: the frame goes out unedited and the stream goes on.

Without an editor (no model loaded) or while editing is paused, frames pass through unedited, and
the mask tracker still runs so the painted selection keeps following the subject.

Public signals (other parts connect to them):

* `edited(EditedFrame)`: every frame the worker finishes, edited or passed through, in stream order,
  pts kept. The recorder records from here.
* `mask_followed(ndarray, generation)`: the tracked mask ([H, W] float32) for the newest frame,
  with the generation of the painted mask it grew from (see `set_mask`).
* `stats_changed(WorkerStats)`: about four times a second.
* `problem(LiveEditError)`: an engine error, once per distinct message until a frame succeeds.
* `model_ready(name, device)` / `model_failed(LiveEditError)`: the outcome of `load_model`.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QThread, Signal

from liveedit_app.contract import EditedFrame, EditorProtocol, EditSettings, Frame
from liveedit_app.errors import LiveEditError
from liveedit_app.media.mailbox import LatestMailbox
from liveedit_app.media.tracking import MaskTracker

log = logging.getLogger(__name__)

EditorFactory = Callable[[str, str], EditorProtocol]
_STATS_EVERY_S = 0.25
_FPS_WINDOW_S = 8.0  # long enough to hold two chunks of a slow CPU editor
# The editor restarts its mask cache on every new mask, so a tracked mask that barely moved (a
# still subject) is not handed over: mean change per pixel below this.
_MASK_MOVED = 1e-3


@dataclass(frozen=True, slots=True)
class WorkerStats:
    edit_fps: float  # frames out per second over the last couple of seconds
    latency_ms: float  # median time from a frame's push to its output
    dropped: int  # frames replaced in the mailbox before the worker took them, plus the editor's
    device: str
    editing: bool  # False while frames pass through unedited
    warming_up: bool = False  # a compiled editor is still compiling: no edited frame yet


class InferenceWorker(QThread):
    edited = Signal(object)  # contract.EditedFrame
    mask_followed = Signal(object, int)  # [H, W] float32, generation
    stats_changed = Signal(object)  # WorkerStats
    problem = Signal(object)  # LiveEditError
    model_ready = Signal(str, str)  # model name, device
    model_failed = Signal(object)  # LiveEditError

    def __init__(self, mailbox: LatestMailbox[Frame], editor_factory: EditorFactory, parent=None):
        super().__init__(parent)
        self.setObjectName("inference-worker")
        self.mailbox = mailbox
        self._factory = editor_factory
        self._lock = threading.Lock()
        self._pending: dict[str, object] = {}
        self._stop = threading.Event()
        self._tracker = MaskTracker()
        # owned by the worker thread from here on
        self._editor: EditorProtocol | None = None
        self._prompt = ""
        self._mask: np.ndarray | None = None
        self._mask_generation = 0
        self._settings = EditSettings()
        self._paused = False
        self._tracking = True
        self._last_problem = ""
        self._tracking_failed = False
        self._out_times: deque[float] = deque(maxlen=240)
        self._since: float | None = None  # first frame taken since the editor (re)started
        self._loads = 0  # model loads asked for; only the newest one's result is used
        self._loaders: list[threading.Thread] = []  # load threads, joined by stop()
        self._latencies: deque[float] = deque(maxlen=30)
        self._last_stats = 0.0

    # -- called from the GUI thread; applied by the worker before its next frame ------------

    def load_model(self, name: str, device: str) -> None:
        self._post("load", (name, device))

    def set_editor(self, editor: EditorProtocol | None) -> None:
        """Use `editor` (already loaded) from the next frame; None passes frames through."""
        self._post("editor", editor)

    def set_prompt(self, prompt: str) -> None:
        self._post("prompt", prompt)

    def set_mask(self, mask: np.ndarray | None, generation: int = 0,
                 painted_on: int | None = None) -> None:
        """A mask the creator painted, [H, W] float32 in [0, 1] at source size, or None.
        `generation` comes back with every tracked mask grown from this one; `painted_on` is the
        index of the frame it was painted on (the tracker carries it from there to now)."""
        copy = None if mask is None else mask.astype(np.float32)  # a copy, in the tracker's type
        self._post("mask", (copy, generation, painted_on))

    def configure(self, settings: EditSettings) -> None:
        self._post("settings", settings)

    def set_paused(self, paused: bool) -> None:
        self._post("paused", paused)

    def set_tracking(self, on: bool) -> None:
        self._post("tracking", on)

    def reset_stream(self) -> None:
        """A new source: empty the editor's caches and the tracker's memory of the last frame."""
        self._post("reset", True)

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Ask the thread to finish and wait for it: by default until the editor's current chunk
        is done (a QThread destroyed while running aborts the process). With `timeout_ms`, False
        if it is still busy then."""
        self._stop.set()
        self.mailbox.close()
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        done = self.wait() if timeout_ms is None else self.wait(timeout_ms)
        # a load still running when Python exits aborts the process ("terminate called without
        # an active exception": torch's C++ is torn down under it), so wait for it as well
        for loader in self._loaders:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            loader.join(left)
            done = done and not loader.is_alive()
        return done

    def _post(self, key: str, value: object) -> None:
        with self._lock:
            self._pending[key] = value

    # -- the worker thread ------------------------------------------------------------------

    def run(self) -> None:
        while not self._stop.is_set():
            self._apply_pending()
            frame = self.mailbox.take(timeout=0.05)
            if frame is None:
                continue
            self._apply_pending()
            arrived = time.monotonic()
            self._follow_mask(frame)
            if self._since is None:
                self._since = arrived
            for out in self._process(frame):
                # the editor knows when each frame of a chunk was pushed; a pass-through does not
                self._latencies.append(out.latency_s or time.monotonic() - arrived)
                self._out_times.append(time.monotonic())
                self.edited.emit(out)
            self._emit_stats()

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        if "load" in pending:
            self._load(*pending["load"])
        if "loaded" in pending:
            self._loaded(*pending["loaded"])
        if {"load", "editor", "reset"} & pending.keys():
            self._restart_counts()
        if "editor" in pending:
            self._editor = pending["editor"]
            self._hand_everything_to_editor()
        if pending.get("reset"):
            self._tracker.reset()
            self._call_editor(lambda e: e.reset())
        if "paused" in pending:
            self._paused = bool(pending["paused"])
        if "tracking" in pending:
            self._tracking = bool(pending["tracking"])
            self._tracker.reset()  # its last frame is stale: start following from the next one
        if "prompt" in pending:
            self._prompt = str(pending["prompt"])
            self._call_editor(lambda e: e.set_prompt(self._prompt))
        if "settings" in pending:
            self._settings = pending["settings"]
            self._call_editor(lambda e: e.configure(self._settings))
        if "mask" in pending:
            mask, self._mask_generation, painted_on = pending["mask"]
            self._tracker.set_mask(mask, painted_on if self._tracking else None)
            self._mask = self._tracker.mask if self._tracking else mask
            self._call_editor(lambda e: e.set_mask(self._mask))
        self._size_mailbox()

    def _size_mailbox(self) -> None:
        """One chunk's frames while editing; only the newest picture while passing through."""
        editing = self._editor is not None and not self._paused
        chunk = getattr(self._editor, "frames_per_chunk", 1) if editing else 1
        self.mailbox.keep = chunk if isinstance(chunk, int) else 1

    def _load(self, name: str, device: str) -> None:
        """Load on a thread of its own, so frames keep flowing (unedited) meanwhile; the result
        comes back through `_post` and is taken up before a later frame."""
        self._editor = None
        self._loads += 1
        ticket = self._loads

        def load() -> None:
            began = time.monotonic()
            try:
                result: object = self._factory(name, device)
            except LiveEditError as err:
                # its frames hold what the load had allocated (a model on the GPU, when the
                # next part did not fit); the error stays on show, that memory must not
                traceback.clear_frames(err.__traceback__)
                result = err
            except Exception as err:  # a broken model must not take the window down
                result = LiveEditError(f"The model {name} could not be loaded.",
                                       details=f"{err!r}\n{traceback.format_exc()}")
            took = time.monotonic() - began
            if isinstance(result, LiveEditError):
                log.info("model %s on %s not loaded after %.1f s: %s", name, device, took,
                         result.message)
            else:
                log.info("model %s loaded on %s in %.1f s", name,
                         getattr(getattr(result, "stats", None), "device", "") or device, took)
            self._post("loaded", (ticket, name, device, result))

        self._loaders = [t for t in self._loaders if t.is_alive()]
        loader = threading.Thread(target=load, name=f"load:{name}", daemon=True)
        self._loaders.append(loader)
        loader.start()

    def _loaded(self, ticket: int, name: str, device: str, result: object) -> None:
        if ticket != self._loads:
            return  # a newer load was asked for meanwhile
        if isinstance(result, LiveEditError):
            self.model_failed.emit(result)
            return
        self._editor = result
        self._restart_counts()
        self._hand_everything_to_editor()
        self.model_ready.emit(name, self._editor.stats.device or device)

    def _hand_everything_to_editor(self) -> None:
        self._call_editor(lambda e: e.configure(self._settings))
        self._call_editor(lambda e: e.set_prompt(self._prompt))
        self._call_editor(lambda e: e.set_mask(self._mask))

    def _follow_mask(self, frame: Frame) -> None:
        if not self._tracking:
            return
        try:
            followed = self._tracker.update(frame.rgb, frame.index)
        except Exception as err:  # following is a help: its failure must not stop the stream
            if not self._tracking_failed:  # said once, until it follows again
                self._tracking_failed = True
                self.problem.emit(LiveEditError(
                    "The selection could not follow the picture; it stays where it was painted.",
                    details=f"{err!r}\n{traceback.format_exc()}"))
            self._tracker.reset()
            return
        self._tracking_failed = False
        if followed is None:
            return
        moved = (self._mask is None or self._mask.shape != followed.shape
                 or cv2.norm(followed, self._mask, cv2.NORM_L1) > _MASK_MOVED * followed.size)
        if moved:
            self._mask = followed
            self._call_editor(lambda e: e.set_mask(followed))
            self.mask_followed.emit(followed, self._mask_generation)

    def _process(self, frame: Frame) -> list[EditedFrame]:
        if self._editor is None or self._paused:
            return [_unedited(frame)]
        try:
            outs = self._editor.push(frame)
        except Exception as err:
            self._report(err, "The editor failed on a frame; showing it unedited.")
            self._call_editor(lambda e: e.reset())
            return [_unedited(frame)]
        self._last_problem = ""
        return outs

    def _call_editor(self, call: Callable[[EditorProtocol], object]) -> None:
        if self._editor is None:
            return
        try:
            call(self._editor)
        except Exception as err:
            self._report(err, "The editor refused a change.")

    def _report(self, err: Exception, fallback: str) -> None:
        if not isinstance(err, LiveEditError):
            err = LiveEditError(fallback, details=f"{err!r}\n{traceback.format_exc()}")
        if err.message != self._last_problem:
            self._last_problem = err.message
            self.problem.emit(err)

    def _restart_counts(self) -> None:
        """Speed and latency of pass-through frames say nothing about a new editor."""
        self._since = None
        self._out_times.clear()
        self._latencies.clear()

    def _emit_stats(self) -> None:
        now = time.monotonic()
        if now - self._last_stats < _STATS_EVERY_S:
            return
        self._last_stats = now
        # frames come a chunk at a time: count over a few seconds, not between neighbours
        window = min(_FPS_WINDOW_S, max(now - (self._since or now), 1.0))
        fps = sum(1 for t in self._out_times if now - t < window) / window
        latency = float(np.median(self._latencies)) * 1000 if self._latencies else 0.0
        editor_dropped = self._editor.stats.dropped_frames if self._editor else 0
        # with no prompt the editor hands back the source: nothing is being edited yet
        editing = self._editor is not None and not self._paused and bool(self._prompt.strip())
        self.stats_changed.emit(WorkerStats(
            edit_fps=fps,
            latency_ms=latency,
            dropped=self.mailbox.dropped + editor_dropped,
            device=self._editor.stats.device if self._editor else "",
            editing=editing,
            warming_up=editing and bool(getattr(self._editor, "compiled", False))
            and self._editor.stats.frames_out == 0,
        ))


def _unedited(frame: Frame) -> EditedFrame:
    return EditedFrame(rgb=frame.rgb, source=frame.rgb, pts=frame.pts, index=frame.index)

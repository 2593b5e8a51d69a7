"""The inference worker: frames round-trip through the editor, a slow editor sees fewer and fresher
frames (never a queue), changes reach the next chunk, engine errors become messages."""

import weakref

import numpy as np
import pytest
from conftest import FakeEditor

from liveedit_app.contract import EditSettings, Frame
from liveedit_app.errors import GPUMemoryError, ModelNotFoundError
from liveedit_app.media.mailbox import LatestMailbox
from liveedit_app.ui.worker import InferenceWorker


def frame(i: int, value: int = 100) -> Frame:
    return Frame(rgb=np.full((8, 8, 3), value, np.uint8), pts=i / 30, index=i)


@pytest.fixture
def make_worker(qtbot):
    workers = []

    def make(editor=None, factory=None):
        mailbox = LatestMailbox()
        worker = InferenceWorker(mailbox, factory or (lambda name, device: editor))
        worker.set_tracking(False)
        workers.append(worker)
        worker.start()
        return worker

    yield make
    for worker in workers:
        assert worker.stop(5000)


def test_mailbox_keeps_only_the_newest_and_counts_the_rest():
    box = LatestMailbox()
    for i in range(5):
        box.put(i)
    assert box.take(0) == 4
    assert box.dropped == 4
    assert box.take(0.01) is None
    box.close()
    box.put(9)
    assert box.take(0.01) is None


def test_mailbox_of_one_chunk_keeps_the_newest_frames_oldest_first():
    box = LatestMailbox(keep=3)
    for i in range(5):
        box.put(i)
    assert [box.take(0) for _ in range(4)] == [2, 3, 4, None]
    assert box.dropped == 2
    box.put(5)
    box.put(6)
    box.keep = 1  # shrinking drops the older ones at once
    assert box.take(0) == 6 and box.dropped == 3


def test_chunk_editor_gets_a_mailbox_of_one_chunk_and_pass_through_of_one(qtbot, make_worker):
    editor = FakeEditor()
    editor.frames_per_chunk = 4
    worker = make_worker()
    worker.set_editor(editor)
    qtbot.waitUntil(lambda: worker.mailbox.keep == 4, timeout=3000)
    worker.set_paused(True)
    qtbot.waitUntil(lambda: worker.mailbox.keep == 1, timeout=3000)


def test_frames_round_trip_through_the_editor(qtbot, make_worker):
    editor = FakeEditor()
    worker = make_worker(factory=lambda name, device: editor)
    with qtbot.waitSignal(worker.model_ready, timeout=3000) as ready:
        worker.load_model("toy", "cpu")
    assert ready.args == ["toy", "fake"]
    received = []
    worker.edited.connect(received.append)
    for i in range(3):
        with qtbot.waitSignal(worker.edited, timeout=3000):
            worker.mailbox.put(frame(i, value=40))
    assert [f.index for f in received] == [0, 1, 2]
    assert [f.pts for f in received] == pytest.approx([0, 1 / 30, 2 / 30])
    assert (received[0].rgb == 215).all()  # inverted by the editor
    assert (received[0].source == 40).all()


def test_slow_editor_drops_stale_frames_instead_of_queueing(qtbot, make_worker):
    editor = FakeEditor(delay_s=0.15)
    worker = make_worker()
    worker.set_editor(editor)
    received = []
    worker.edited.connect(received.append)
    for i in range(30):  # 30 frames at ~100 fps against an editor doing ~7 fps
        worker.mailbox.put(frame(i))
        qtbot.wait(10)
    qtbot.waitUntil(lambda: bool(received) and received[-1].index == 29, timeout=3000)
    assert len(editor.pushed) < 10
    assert editor.pushed == sorted(editor.pushed)  # fresh frames, in order
    assert worker.mailbox.dropped == 30 - len(editor.pushed)
    assert worker.mailbox.take(0) is None  # nothing waiting: no backlog


def test_prompt_change_mid_stream_reaches_the_next_chunk(qtbot, make_worker):
    editor = FakeEditor()
    worker = make_worker()
    worker.set_editor(editor)
    worker.set_prompt("make it snow")
    for i in range(3):
        with qtbot.waitSignal(worker.edited, timeout=3000):
            worker.mailbox.put(frame(i))
    worker.set_prompt("make the jacket red")
    worker.configure(EditSettings(steps=2, seed=7))
    for i in range(3, 5):
        with qtbot.waitSignal(worker.edited, timeout=3000):
            worker.mailbox.put(frame(i))
    assert editor.prompt_at_push == ["make it snow"] * 3 + ["make the jacket red"] * 2
    assert editor.settings[-1].steps == 2 and editor.settings[-1].seed == 7
    assert editor.pushed == [0, 1, 2, 3, 4]  # the stream went on
    assert editor.resets == 0


def test_painted_mask_reaches_the_editor(qtbot, make_worker):
    editor = FakeEditor()
    worker = make_worker()
    worker.set_editor(editor)
    mask = np.zeros((8, 8), np.float32)
    mask[:, :4] = 1.0
    worker.set_mask(mask)
    with qtbot.waitSignal(worker.edited, timeout=3000) as out:
        worker.mailbox.put(frame(0, value=10))
    assert (out.args[0].rgb[:, :4] == 245).all() and (out.args[0].rgb[:, 4:] == 10).all()


def test_a_tracked_mask_on_a_still_picture_is_handed_over_once(qtbot, make_worker):
    editor = FakeEditor()
    worker = make_worker()
    worker.set_editor(editor)
    worker.set_tracking(True)
    followed = []
    worker.mask_followed.connect(lambda mask, generation: followed.append(mask))
    still = np.zeros((32, 32, 3), np.uint8)
    still[:, 16:] = 200
    mask = np.zeros((32, 32), np.float64)  # not the tracker's float32: still compared fine
    mask[:, :16] = 1.0
    worker.set_mask(mask)
    for i in range(4):
        with qtbot.waitSignal(worker.edited, timeout=3000):
            worker.mailbox.put(Frame(rgb=still, pts=i / 30, index=i))
    painted = [m for m in editor.masks if m is not None]
    assert len(painted) == 1 and followed == []  # the editor's mask cache is not restarted
    assert painted[0].dtype == np.float32 and (painted[0][:, :12] > 0.5).all()


def test_a_tracker_failure_is_one_message_and_the_stream_goes_on(qtbot, make_worker, monkeypatch):
    editor = FakeEditor()
    worker = make_worker()
    worker.set_editor(editor)
    worker.set_tracking(True)

    def broken(rgb, index=None):
        raise RuntimeError("flow failed")

    monkeypatch.setattr(worker._tracker, "update", broken)
    problems = []
    worker.problem.connect(problems.append)
    mask = np.ones((8, 8), np.float32)
    worker.set_mask(mask)
    for i in range(3):
        with qtbot.waitSignal(worker.edited, timeout=3000) as out:
            worker.mailbox.put(frame(i, value=10))
        assert (out.args[0].rgb == 245).all()  # still edited, inside the painted mask
    qtbot.waitUntil(lambda: len(problems) == 1, timeout=3000)
    assert "could not follow" in problems[0].message and "flow failed" in problems[0].details
    assert worker.isRunning()


def test_engine_error_becomes_a_message_and_the_stream_goes_on(qtbot, make_worker):
    editor = FakeEditor(fail_on={1})
    worker = make_worker()
    worker.set_editor(editor)
    received, problems = [], []
    worker.edited.connect(received.append)
    worker.problem.connect(problems.append)
    for i in range(3):
        with qtbot.waitSignal(worker.edited, timeout=3000):
            worker.mailbox.put(frame(i, value=30))
    assert [f.index for f in received] == [0, 1, 2]
    assert (received[1].rgb == 30).all()  # the failed frame goes out unedited
    assert (received[2].rgb == 225).all()  # and the next one is edited again
    assert len(problems) == 1
    assert problems[0].message == "The editor failed on a frame; showing it unedited."
    assert "illegal memory access" in problems[0].details
    assert editor.resets == 1


def test_model_that_cannot_load_passes_frames_through(qtbot, make_worker):
    def missing(name, device):
        raise ModelNotFoundError(f"No model named {name} is installed.")

    worker = make_worker(factory=missing)
    with qtbot.waitSignal(worker.model_failed, timeout=3000) as failed:
        worker.load_model("liveedit-tiny", "auto")
    assert failed.args[0].message == "No model named liveedit-tiny is installed."
    with qtbot.waitSignal(worker.edited, timeout=3000) as out:
        worker.mailbox.put(frame(0, value=77))
    assert (out.args[0].rgb == 77).all()


def test_a_failed_load_keeps_nothing_it_allocated_while_its_error_is_shown(qtbot, make_worker):
    held = []

    def too_big(name, device):
        weights = np.zeros(8)  # the part of the model loaded before the rest did not fit
        held.append(weakref.ref(weights))
        raise GPUMemoryError(f"The model {name} does not fit in the memory of the GPU.")

    worker = make_worker(factory=too_big)
    with qtbot.waitSignal(worker.model_failed, timeout=3000) as failed:
        worker.load_model("big", "cuda")
    assert failed.args[0].message == "The model big does not fit in the memory of the GPU."
    assert held[0]() is None


def test_stop_while_the_editor_is_busy_ends_cleanly(qtbot, make_worker):
    editor = FakeEditor(delay_s=0.3)
    worker = make_worker()
    worker.set_editor(editor)
    worker.mailbox.put(frame(0))
    qtbot.waitUntil(lambda: bool(editor.pushed), timeout=3000)
    assert worker.stop(5000)
    assert not worker.isRunning()


def test_frames_flow_unedited_while_the_model_loads(qtbot, make_worker):
    import threading

    release = threading.Event()
    editor = FakeEditor()

    def slow_load(name, device):
        release.wait(5)
        return editor

    worker = make_worker(factory=slow_load)
    worker.load_model("big", "cpu")
    with qtbot.waitSignal(worker.edited, timeout=3000) as out:
        worker.mailbox.put(frame(0, value=50))
    assert (out.args[0].rgb == 50).all()  # passed through: nothing loaded yet
    with qtbot.waitSignal(worker.model_ready, timeout=3000):
        release.set()
    with qtbot.waitSignal(worker.edited, timeout=3000) as out:
        worker.mailbox.put(frame(1, value=50))
    assert (out.args[0].rgb == 205).all()
    assert editor.pushed == [1]


def test_stop_waits_for_a_model_still_loading(qtbot, make_worker):
    """Python exiting under a running load aborted the process; stop() outlasts the load."""
    import threading
    import time

    started, finished = threading.Event(), threading.Event()

    def slow_load(name, device):
        started.set()
        time.sleep(0.4)
        finished.set()
        return FakeEditor()

    worker = make_worker(factory=slow_load)
    worker.load_model("big", "cpu")
    assert started.wait(3)
    assert not worker.stop(50)  # still loading after 50 ms: said so, not hidden
    assert worker.stop(5000)
    assert finished.is_set()


def test_loads_are_logged_with_their_time_and_outcome(qtbot, make_worker, caplog):
    caplog.set_level("INFO", logger="liveedit_app")
    worker = make_worker(factory=lambda name, device: FakeEditor())
    with qtbot.waitSignal(worker.model_ready, timeout=3000):
        worker.load_model("big", "cpu")

    def missing(name, device):
        raise ModelNotFoundError(f"No model named {name} is installed.")

    worker._factory = missing
    with qtbot.waitSignal(worker.model_failed, timeout=3000):
        worker.load_model("gone", "cpu")
    lines = [r.getMessage() for r in caplog.records if r.name == "liveedit_app.ui.worker"]
    # the device the editor reports
    assert lines[0].startswith("model big loaded on fake in ") and lines[0].endswith(" s")
    assert lines[1].startswith("model gone on cpu not loaded after ")
    assert lines[1].endswith(": No model named gone is installed.")

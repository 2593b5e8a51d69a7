"""The live session without a window: source fallbacks, camera recovery, debounced mask strokes,
and the mask following the subject."""

import numpy as np
import pytest
from conftest import FakeCamera, FakeEditor

from liveedit_app.media.sources import TestPatternSource
from liveedit_app.ui import session as session_module
from liveedit_app.ui.session import Session
from liveedit_app.ui.state import BrushState, EditState, MaskDocument, StreamStatus, ViewState


@pytest.fixture
def make_session(qtbot):
    sessions = []

    def make(editor=None, camera=None, track=False):
        edit = EditState()
        edit.track_mask = track
        s = Session(ViewState(), BrushState(), edit, MaskDocument(), StreamStatus(),
                    editor_factory=lambda name, device: editor or FakeEditor(),
                    camera_backend=camera or FakeCamera())
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.shutdown()


def test_missing_file_falls_back_to_the_pattern_with_a_message(qtbot, make_session, tmp_path):
    s = make_session()
    problems = []
    s.problem.connect(problems.append)
    s.start(str(tmp_path / "gone.mp4"))
    assert s.spec == "pattern"
    assert s.status.source == "Test pattern"
    assert problems[0].message == "gone.mp4 does not exist."
    qtbot.waitUntil(lambda: s.last_edited is not None, timeout=5000)


def test_no_camera_falls_back_to_the_pattern(qtbot, make_session):
    s = make_session(camera=FakeCamera(present=False))
    problems = []
    s.problem.connect(problems.append)
    assert s.open("camera:usb-1") is False
    assert s.spec == "pattern"
    assert problems[0].message == "That camera is not connected."


def test_camera_unplugged_mid_stream_shows_a_banner_then_resumes(qtbot, make_session):
    camera = FakeCamera()
    s = make_session(camera=camera)
    frames, problems, solved = [], [], []
    s.source_frame.connect(frames.append)
    s.problem.connect(problems.append)
    s.problem_solved.connect(lambda: solved.append(True))
    s.start("camera:usb-1")
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=3000)
    camera.present = False
    qtbot.waitUntil(lambda: s.status.banner == session_module.WAITING_FOR_CAMERA, timeout=5000)
    assert problems[-1].message in ("Fake Cam was unplugged.", "That camera is not connected.")
    camera.present = True
    count = len(frames)
    qtbot.waitUntil(lambda: len(frames) > count + 2, timeout=5000)
    assert solved == [True]
    assert s.status.banner == ""
    assert s.spec == "camera:usb-1"


def test_mask_strokes_are_debounced(qtbot, make_session, monkeypatch):
    s = make_session()
    sent = []
    monkeypatch.setattr(s.worker, "set_mask", lambda mask, *_: sent.append(mask.copy()))
    s.mask.fit(90, 160)
    for x in range(10, 150, 10):  # a stroke of 14 mouse moves
        s.mask.stroke((x - 10, 40), (x, 40), s.brush)
    assert sent == []
    qtbot.waitUntil(lambda: len(sent) == 1, timeout=2000)
    qtbot.wait(session_module.MASK_DEBOUNCE_MS + 50)
    assert len(sent) == 1
    assert sent[0][40, 100] == 1.0


def test_painted_mask_follows_the_moving_subject(qtbot, make_session):
    s = make_session(track=True)
    pattern = TestPatternSource()  # the same pictures as the session's pattern
    s.start("pattern")
    qtbot.waitUntil(lambda: s.last_edited is not None, timeout=5000)
    index = s.last_edited.index
    s.mask.mask = pattern.ball_mask(index).astype(np.float32)  # as if painted on this frame
    s.mask.painted.emit()
    qtbot.waitUntil(lambda: s.last_edited.index > index + 30, timeout=8000)
    qtbot.waitUntil(lambda: s.mask.mask is not None, timeout=1000)
    now = s.last_edited.index
    truth = pattern.ball_mask(now)
    tracked = s.mask.mask > 0.5
    iou = (tracked & truth).sum() / (tracked | truth).sum()
    assert iou > 0.7  # the GUI may be a frame behind the worker
    painted = pattern.ball_mask(index)
    assert (tracked & painted).sum() / (tracked | painted).sum() < iou  # it moved


def test_snapshot_saves_the_edited_picture(qtbot, make_session, tmp_path):
    s = make_session()
    s.start("pattern")
    qtbot.waitUntil(lambda: s.last_edited is not None, timeout=5000)
    path = s.snapshot(tmp_path)
    assert path.suffix == ".png" and path.stat().st_size > 1000


def test_a_burst_of_edited_frames_is_shown_spaced_by_pts(qtbot, make_session):
    from liveedit_app.contract import EditedFrame

    s = make_session()
    shown = []
    s.display.connect(lambda f: shown.append(f.index))
    rgb = np.zeros((4, 4, 3), np.uint8)
    burst = [EditedFrame(rgb, rgb, pts=i * 0.1, index=i) for i in range(4)]
    for out in burst:  # one chunk: four frames at once
        s.worker.edited.emit(out)
    assert shown == [0]  # the rest wait for their time
    qtbot.waitUntil(lambda: len(shown) == 4, timeout=2000)
    assert shown == [0, 1, 2, 3]
    late = [EditedFrame(rgb, rgb, pts=0.4 + i * 0.1, index=4 + i) for i in range(2)]
    qtbot.wait(600)  # the next chunk comes late: shown from now, not skipped
    for out in late:
        s.worker.edited.emit(out)
    assert shown == [0, 1, 2, 3, 4]


def test_a_compiling_editor_shows_a_warm_up_banner_until_its_first_edit(qtbot, make_session):
    import time

    class CompilingEditor(FakeEditor):
        compiled = True  # as StreamEditor on a GPU with a large model

        def push(self, frame):
            if len(self.pushed) < 8:  # the first chunk waits for the compiler
                self.pushed.append(frame.index)
                time.sleep(0.1)
                return []
            return super().push(frame)

    s = make_session(editor=CompilingEditor())
    s.edit.prompt = "make the jacket red"
    s.start("pattern")
    qtbot.waitUntil(lambda: s.status.banner == session_module.WARMING_UP, timeout=5000)
    assert s.status.warming_up
    qtbot.waitUntil(lambda: s.status.banner == "" and s.last_edited is not None, timeout=5000)
    assert not s.status.warming_up


def test_editing_too_slow_to_follow_live_is_said_once_with_what_helps(qtbot, make_session,
                                                                      monkeypatch):
    from types import SimpleNamespace

    from liveedit_app.ui.worker import WorkerStats

    clock = [100.0]
    monkeypatch.setattr(session_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    s = make_session()
    s.edit.model = "wan-1.3b"
    said = []
    s.problem.connect(said.append)

    def stats(fps, seconds, warming_up=False, device="cpu"):
        for _ in range(int(seconds)):
            s._on_stats(WorkerStats(fps, 900.0, 0, device, True, warming_up))
            clock[0] += 1.0

    stats(0.4, 10, warming_up=True)  # compiling: not a speed yet
    stats(12.0, 10)  # live enough
    stats(0.4, 5)
    stats(12.0, 1)  # a short dip is no reason to speak
    assert said == []
    stats(0.4, 10)
    assert len(said) == 1
    assert said[0].message.startswith(
        "Editing runs at 0.4 frames per second with wan-1.3b on cpu: too slow to follow live. "
        "To speed it up, choose a GPU as the Device or the liveedit-tiny model")
    stats(0.4, 30)
    assert len(said) == 1  # once per loaded model
    s._on_model_ready("wan-1.3b", "cuda")
    stats(1.0, 10, device="cuda")
    assert len(said) == 2 and "choose a smaller model" in said[1].message
    s.edit.model = "liveedit-tiny"  # already the smallest: other advice
    s._on_model_ready("liveedit-tiny", "cpu")
    stats(2.0, 10)
    assert "close other busy programs, choose a GPU as the Device, lower Steps" in said[2].message

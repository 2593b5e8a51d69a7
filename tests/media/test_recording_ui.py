import json
import time

import numpy as np
import pytest
from media_clips import ChunkEditor, decoded_times, write_clip

from liveedit_app import paths
from liveedit_app.contract import EditedFrame
from liveedit_app.errors import DiskFullError, RecordingError
from liveedit_app.media import recovery
from liveedit_app.media.recorder import Recorder, StopReason
from liveedit_app.settings import Settings
from liveedit_app.ui.export_dialog import ExportDialog
from liveedit_app.ui.recording import RecordingController, SavedNotice, offer_recovery


class NoMicrophone:
    def __init__(self, on_chunk, **kwargs):
        pass

    def start(self):
        raise RecordingError("No microphone found: recording without sound.")

    def stop(self):
        pass


def frame(i: int) -> EditedFrame:
    rgb = np.full((120, 160, 3), (i * 8) % 256, np.uint8)
    return EditedFrame(rgb=rgb, source=rgb, pts=i / 30, index=i)


@pytest.fixture
def controller(qtbot):
    clock = []
    ctrl = RecordingController(Settings(), microphone_factory=NoMicrophone, on_clock=clock.append)
    ctrl.clock = clock
    return ctrl


def test_a_take_without_microphone_records_video_and_says_why_there_is_no_sound(qtbot, controller):
    problems = []
    controller.problem.connect(problems.append)
    assert controller.start()
    assert controller.state == "recording"
    assert [p.message for p in problems] == ["No microphone found: recording without sound."]
    for i in range(12):
        controller.submit(frame(i))
    with qtbot.waitSignal(controller.finished, timeout=10_000) as finished:
        controller.stop()
    result = finished.args[0]
    assert result.reason is StopReason.USER and result.frames == 12
    assert result.path.parent == paths.recordings_dir()
    assert len(decoded_times(result.path)) == 12
    assert controller.state == "idle" and controller.clock[-1] is None
    notice = SavedNotice()
    notice.show_result(result)
    assert f">{result.path.name}</a>" in notice.text() and "file://" in notice.text()


def test_pause_and_resume_through_the_controller(qtbot, controller):
    controller.start()
    controller.submit(frame(0))
    controller.pause()
    assert controller.state == "paused"
    controller.submit(frame(1))
    controller.resume()
    controller.submit(frame(2))
    with qtbot.waitSignal(controller.finished, timeout=10_000) as finished:
        controller.stop()
    assert finished.args[0].frames == 2


def test_camera_loss_finalizes_and_reports_it(qtbot, controller):
    controller.start()
    for i in range(5):
        controller.submit(frame(i))
    with qtbot.waitSignal(controller.problem, timeout=10_000) as problem:
        controller.camera_lost()
    assert "camera went away" in problem.args[0].message
    assert controller.last_result.reason is StopReason.CAMERA_LOST
    assert len(decoded_times(controller.last_result.path)) == 5


def test_nearly_full_disk_refuses_to_start_with_a_message(qtbot):
    ctrl = RecordingController(
        Settings(),
        recorder_factory=lambda config: Recorder(config, free_space=lambda folder: 50 * 2**20),
        microphone_factory=NoMicrophone,
    )
    problems = []
    ctrl.problem.connect(problems.append)
    assert not ctrl.start()
    assert isinstance(problems[-1], DiskFullError) and ctrl.state == "idle"


def test_unfinished_takes_are_offered_for_recovery_and_remuxed(qtbot, tmp_path):
    folder = paths.recordings_dir()
    take = folder / "LiveEdit crash.part.mkv"
    source = write_clip(tmp_path / "clip.mp4", seconds=0.5, audio=False)
    recovery.remux(source, tmp_path / "copy.mp4")
    take.write_bytes((tmp_path / "copy.mp4").read_bytes())
    (folder / "LiveEdit crash.part.json").write_text(json.dumps({"pid": -1, "parts": [take.name]}))
    box = offer_recovery(None, folder)
    assert "1 recording(s)" in box.text() and "LiveEdit crash.mp4" in box.text()
    recover = next(b for b in box.buttons() if b.text() == "Recover")
    with qtbot.waitSignal(box.finished, timeout=5000):
        recover.click()
    assert box.recovered == [folder / "LiveEdit crash.mp4"]
    assert len(decoded_times(folder / "LiveEdit crash.mp4")) == 15
    assert recovery.find_unfinished(folder) == []
    assert offer_recovery(None, folder) is None


def test_export_dialog_runs_the_export_on_a_thread_and_links_the_result(qtbot, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", seconds=1.0)
    dialog = ExportDialog(input_path=clip, prompt="snow", editor_factory=lambda m, d: ChunkEditor())
    qtbot.addWidget(dialog)
    assert dialog.output.text() == str(tmp_path / "clip (edited).mp4")
    dialog.preset.setCurrentIndex(dialog.preset.findData("prores"))
    assert dialog.output.text().endswith("clip (edited).mov")
    dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=20_000)
    assert dialog.result is not None and dialog.result.path.exists()
    assert "Saved to" in dialog.progress_label.text()
    assert dialog.progress.value() == 1000
    assert dialog.cancel_button.text() == "Close"


def test_export_dialog_cancel_leaves_no_file(qtbot, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", seconds=2.0)

    class SlowEditor(ChunkEditor):
        def push(self, f):
            time.sleep(0.02)
            return super().push(f)

    dialog = ExportDialog(input_path=clip, prompt="x", editor_factory=lambda m, d: SlowEditor())
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=10_000)
    dialog.cancel_or_close()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.progress_label.text() == "Export cancelled: no file was written."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_export_dialog_shows_a_missing_model_as_a_message(qtbot, tmp_path):
    from liveedit_app.errors import ModelNotFoundError

    def missing(model, device):
        raise ModelNotFoundError(f"No model named {model} is installed.")

    clip = write_clip(tmp_path / "clip.mp4", seconds=0.2, audio=False)
    dialog = ExportDialog(input_path=clip, model="nope", editor_factory=missing)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.progress_label.text() == "Export failed: No model named nope is installed."


class NoCameras:
    def list_cameras(self):
        return []


@pytest.fixture
def main_window(qtbot):
    """The app's main window with recording attached, a per-frame test editor and no mic."""
    from liveedit_app.ui import recording
    from liveedit_app.ui.main_window import MainWindow

    window = MainWindow(
        editor_factory=lambda name, device: ChunkEditor(chunk=1),
        camera_backend=NoCameras(),
        models=["liveedit-tiny"],
    )
    qtbot.addWidget(window)
    if getattr(window, "recording", None) is None:
        recording.attach_recording(window)
    window.recording.microphone_factory = NoMicrophone
    yield window
    window.close()


def test_record_action_in_the_main_window_records_the_edited_stream(qtbot, main_window):
    window, controller = main_window, main_window.recording
    window.start("pattern")
    record = window.actions["record"]
    pause = window.recording_actions["pause_recording"]
    toolbar = window.toolbar.actions()
    assert record.isEnabled() and not pause.isEnabled()
    assert toolbar.index(pause) == toolbar.index(record) + 1
    record.trigger()
    assert controller.state == "recording" and pause.isEnabled()
    pause.trigger()
    assert controller.state == "paused"
    pause.trigger()
    assert controller.state == "recording"
    qtbot.waitUntil(lambda: controller.recorder.frames_written >= 5, timeout=20_000)
    qtbot.waitUntil(lambda: window.status_state.recording_s is not None, timeout=5000)
    with qtbot.waitSignal(controller.finished, timeout=20_000) as finished:
        record.trigger()
    result = finished.args[0]
    assert result.frames >= 5 and result.path.exists()
    assert window.status_state.recording_s is None
    assert not record.isChecked() and record.text() == "Record"


def test_virtual_camera_without_a_backend_explains_and_switches_itself_off(
    qtbot, monkeypatch, main_window
):
    import pyvirtualcam

    def no_device(*args, **kwargs):
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found")

    monkeypatch.setattr(pyvirtualcam, "Camera", no_device)
    action = main_window.recording_actions["virtual_camera"]
    action.trigger()
    qtbot.waitUntil(lambda: not action.isChecked(), timeout=5000)
    assert main_window.errors.error.message.startswith("No virtual camera is available")


def test_closing_the_window_finalizes_a_running_take(qtbot, main_window):
    window, controller = main_window, main_window.recording
    window.start("pattern")
    window.actions["record"].trigger()
    qtbot.waitUntil(lambda: controller.recorder.frames_written >= 3, timeout=20_000)
    recorder = controller.recorder
    window.close()
    assert recorder.result is not None and recorder.result.path.suffix == ".mp4"
    assert recovery.find_unfinished(paths.recordings_dir()) == []

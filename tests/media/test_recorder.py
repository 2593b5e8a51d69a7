import errno
import io
import threading

import numpy as np
import pytest
from media_clips import decoded_times

from liveedit_app.contract import EditedFrame
from liveedit_app.errors import DiskFullError
from liveedit_app.media.recorder import Recorder, RecorderConfig, StopReason
from liveedit_app.media.video_io import iter_frames, probe

GB = 1024**3


def edited(i: int, pts: float, rgb=(200, 40, 40), source=(40, 40, 200)) -> EditedFrame:
    return EditedFrame(
        rgb=np.full((120, 160, 3), rgb, np.uint8),
        source=np.full((120, 160, 3), source, np.uint8),
        pts=pts,
        index=i,
    )


def recorder(tmp_path, **kwargs) -> Recorder:
    config = RecorderConfig(folder=tmp_path, prefer_hardware=False)
    for key in [k for k in kwargs if hasattr(config, k)]:
        setattr(config, key, kwargs.pop(key))
    return Recorder(config, **kwargs)


def test_clean_stop_gives_an_mp4_with_every_frame_at_its_own_variable_timestamp(tmp_path):
    rec = recorder(tmp_path)
    rec.start("take")
    pts = [0.0, 0.033, 0.1, 0.11, 0.3, 0.31, 0.5, 0.9, 0.933, 1.2]
    for i, p in enumerate(pts):
        assert rec.submit(edited(i, 7.0 + p))
    result = rec.stop()
    assert result.reason is StopReason.USER
    assert result.path == tmp_path / "take.mp4"
    assert result.message == f"Saved to {tmp_path / 'take.mp4'}."
    assert decoded_times(result.path) == pytest.approx(pts, abs=1e-3)
    assert result.frames == len(pts) and result.dropped_frames == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mp4"]


def test_repeated_pts_are_nudged_forward_never_written_twice(tmp_path):
    rec = recorder(tmp_path)
    rec.start("take")
    for i, p in enumerate([0.0, 0.1, 0.1, 0.05, 0.2]):
        rec.submit(edited(i, p))
    times = decoded_times(rec.stop().path)
    assert len(times) == 5
    assert all(b > a for a, b in zip(times, times[1:], strict=False))


def test_pause_drops_frames_and_cuts_the_gap_out(tmp_path):
    rec = recorder(tmp_path)
    rec.start("take")
    for i in range(10):
        rec.submit(edited(i, i / 30))
    rec.pause()
    assert not rec.submit(edited(10, 10 / 30))
    rec.resume()
    for i in range(10):
        rec.submit(edited(100 + i, 5.0 + i / 30))
    times = decoded_times(rec.stop().path)
    assert times == pytest.approx([i / 30 for i in range(20)], abs=2e-3)


def test_raw_source_is_written_as_a_second_file_with_the_same_timestamps(tmp_path):
    rec = recorder(tmp_path, record_source=True)
    rec.start("take")
    for i in range(6):
        rec.submit(edited(i, i / 25))
    result = rec.stop()
    assert result.source_path == tmp_path / "take (source).mp4"
    edited_frames = list(iter_frames(result.path))
    source_frames = list(iter_frames(result.source_path))
    assert [f.pts for f in source_frames] == [f.pts for f in edited_frames]
    assert edited_frames[0].rgb[60, 80].argmax() == 0  # red: the edit
    assert source_frames[0].rgb[60, 80].argmax() == 2  # blue: the source


def test_refuses_to_start_with_less_than_200_mb_free(tmp_path):
    rec = recorder(tmp_path, free_space=lambda folder: 150 * 1024**2)
    with pytest.raises(DiskFullError, match="Not enough free space to record: 150 MB left"):
        rec.start("take")
    assert list(tmp_path.iterdir()) == []


def test_free_space_guard_stops_and_finalizes_before_the_disk_is_full(tmp_path):
    done = threading.Event()
    rec = recorder(
        tmp_path,
        free_space=lambda folder: 10 * GB if rec.frames_written < 20 else 40 * 1024**2,
        disk_check_interval_s=0.0,
        on_finished=lambda result: done.set(),
    )
    rec.start("take")
    for i in range(200):
        rec.submit(edited(i, i / 30))
        if done.is_set():
            break
    assert done.wait(10)
    result = rec.result
    assert result.reason is StopReason.DISK_FULL
    assert result.message.startswith("Recording stopped: the disk is almost full (40 MB left).")
    assert result.path.suffix == ".mkv"  # no room for a remuxed copy: the part file is the take
    assert str(result.path) in result.message
    assert len(decoded_times(result.path)) == result.frames >= 20
    assert not rec.submit(edited(999, 99.0))


class _FillingFile(io.FileIO):
    """A file on a disk that runs out of space after `limit` bytes."""

    def __init__(self, path, limit: int):
        super().__init__(path, "xb")
        self.limit = limit
        self.written = 0

    def write(self, data):
        if self.written + len(data) > self.limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += len(data)
        return super().write(data)


def test_enospc_from_the_writer_finalizes_a_playable_file_with_a_message(tmp_path):
    rec = recorder(tmp_path, open_file=lambda path: _FillingFile(path, limit=60_000))
    rec.start("take")
    rng = np.random.default_rng(0)
    for i in range(120):
        noisy = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        frame = EditedFrame(rgb=noisy, source=noisy, pts=i / 30, index=i)
        if not rec.submit(frame) and not rec.running:
            break
    result = rec.stop()
    assert result.reason is StopReason.DISK_FULL
    assert result.message.startswith("Recording stopped: the disk is full. Saved to")
    times = decoded_times(result.path)
    assert len(times) >= 3
    assert result.frames - len(times) <= 2  # at most the frame being written was cut


def test_camera_loss_finalizes_the_take_and_says_so(tmp_path):
    done = threading.Event()
    rec = recorder(tmp_path, on_finished=lambda result: done.set())
    rec.start("take")
    for i in range(15):
        rec.submit(edited(i, i / 30))
    rec.camera_lost()
    assert done.wait(10)
    result = rec.result
    assert result.reason is StopReason.CAMERA_LOST
    assert "camera went away" in result.message and str(result.path) in result.message
    assert result.path.suffix == ".mp4"
    assert len(decoded_times(result.path)) == 15
    assert probe(result.path).duration_s == pytest.approx(0.5, abs=0.04)


def test_a_stop_before_any_frame_leaves_nothing_behind(tmp_path):
    rec = recorder(tmp_path)
    rec.start("take")
    result = rec.stop()
    assert result.path is None and "Nothing was recorded" in result.message
    assert list(tmp_path.iterdir()) == []


def test_a_full_queue_counts_dropped_frames(tmp_path):
    rec = recorder(tmp_path, queue_frames=2)
    rec.start("take")
    taken = sum(rec.submit(edited(i, i / 30)) for i in range(200))
    result = rec.stop()
    assert result.dropped_frames == 200 - taken > 0
    assert result.frames == taken


def test_a_hardware_encoder_is_used_only_when_it_actually_opens(monkeypatch):
    from liveedit_app.media import recorder as rec_module

    monkeypatch.setattr(rec_module.av, "codecs_available", {"libx264", "h264_nvenc", "h264_qsv"})
    monkeypatch.setattr(rec_module, "_encoder_opens", lambda name, w, h: name == "h264_qsv")
    assert rec_module.pick_h264_encoder(640, 480) == "h264_qsv"
    assert rec_module.pick_h264_encoder(640, 480, prefer_hardware=False) == "libx264"
    monkeypatch.setattr(rec_module, "_encoder_opens", lambda name, w, h: False)
    assert rec_module.pick_h264_encoder(640, 480) == "libx264"


def test_an_encoder_that_cannot_open_is_rejected_by_the_probe():
    from liveedit_app.media.recorder import _encoder_opens

    assert _encoder_opens("libx264", 160, 120)
    assert not _encoder_opens("no_such_encoder", 160, 120)


def test_the_queue_is_bounded_in_memory_for_big_frames(tmp_path):
    rec = recorder(tmp_path, queue_frames=90, queue_bytes=10 * 120 * 160 * 3)
    assert rec._queue_limit(edited(0, 0.0)) == 10
    rec.config.record_source = True
    assert rec._queue_limit(edited(0, 0.0)) == 5

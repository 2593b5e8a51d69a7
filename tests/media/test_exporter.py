import errno
import threading

import cv2
import numpy as np
import pytest
from media_clips import (
    FPS,
    ChunkEditor,
    H,
    W,
    audio_seconds,
    decoded_times,
    write_audio_only,
    write_clip,
)

from liveedit_app.contract import EditSettings
from liveedit_app.errors import Cancelled, InputError, LiveEditError, VideoFileError
from liveedit_app.media.exporter import (
    PRESETS,
    ExportRequest,
    _OutputFile,
    available_presets,
    export_clip,
    load_mask_png,
)
from liveedit_app.media.video_io import iter_frames, probe


def test_export_renders_every_frame_at_its_source_time_with_the_editor(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=1.0, audio=False)
    editor = ChunkEditor()
    request = ExportRequest(clip, tmp_path / "out.mp4", "invert", settings=EditSettings(steps=8))
    result = export_clip(request, editor)
    assert result.frames == FPS and editor.prompt == "invert" and editor.settings.steps == 8
    assert decoded_times(result.path) == pytest.approx(decoded_times(clip), abs=1e-3)
    source, out = next(iter_frames(clip)), next(iter_frames(result.path))
    assert np.abs(out.rgb.astype(int) - (255 - source.rgb.astype(int))).mean() < 6


def test_export_keeps_the_sound_as_long_as_the_picture(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=2.0, audio=True)
    result = export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x"), ChunkEditor())
    video_s = probe(result.path).duration_s
    assert video_s == pytest.approx(2.0, abs=1 / FPS)
    assert abs(audio_seconds(result.path) - video_s) <= 1 / FPS
    assert abs(result.audio_duration_s - result.duration_s) <= 1 / FPS


def test_progress_counts_up_to_the_total_with_an_eta(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=1.0, audio=False)
    seen = []
    export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x"), ChunkEditor(), progress=seen.append)
    assert [p.frames_done for p in seen] == list(range(1, FPS + 1))
    assert seen[-1].frames_total == FPS and seen[-1].fraction == 1.0
    assert seen[-1].eta_s == 0.0 and all(p.eta_s is not None and p.eta_s >= 0 for p in seen)


def test_cancel_leaves_nothing_behind(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=2.0, audio=True)
    cancel = threading.Event()

    def stop_halfway(progress):
        if progress.frames_done == 20:
            cancel.set()

    with pytest.raises(Cancelled, match="no file was written"):
        export_clip(
            ExportRequest(clip, tmp_path / "out.mp4", "x"),
            ChunkEditor(),
            progress=stop_halfway,
            cancel=cancel,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_an_editor_failure_leaves_nothing_behind(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=1.0, audio=False)
    editor = ChunkEditor()
    editor.flush = lambda: 1 / 0
    with pytest.raises(ZeroDivisionError):
        export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x"), editor)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_a_full_disk_is_said_in_a_sentence_and_leaves_nothing_behind(tmp_path, monkeypatch):
    clip = write_clip(tmp_path / "in.mp4", seconds=1.0, audio=False)

    def disk_full(self, rgb, pts):
        assert self.path.name.startswith(".out.exporting-")  # a name of its own until done
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(_OutputFile, "write", disk_full)
    with pytest.raises(LiveEditError, match=r"^The disk is full: out.mp4 was not written\.$"):
        export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x"), ChunkEditor())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_mask_png_limits_the_edit_and_is_tracked_every_frame(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=0.5, audio=False)
    mask = np.zeros((H, W), np.uint8)
    mask[:, : W // 2] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    editor = ChunkEditor()
    request = ExportRequest(
        clip, tmp_path / "out.mp4", "x", mask=load_mask_png(tmp_path / "mask.png", (W, H))
    )
    export_clip(request, editor)
    assert len(editor.masks_seen) == 15  # the first as painted, then one tracked mask per frame
    # the picture slides left 1.5 px a frame: the tracked mask's edge follows it
    assert editor.masks_seen[0] == 0.5
    assert editor.masks_seen[-1] == pytest.approx((W / 2 - 14 * 1.5) / W, abs=0.03)
    source, out = next(iter_frames(clip)), next(iter_frames(request.output))
    right = np.abs(out.rgb[:, W // 2 + 8 :].astype(int) - source.rgb[:, W // 2 + 8 :]).mean()
    left = np.abs(out.rgb[:, : W // 2 - 8].astype(int) - source.rgb[:, : W // 2 - 8]).mean()
    assert right < 4 < 60 < left


@pytest.mark.parametrize("preset", ["hevc", "prores", "ffv1"])
def test_other_presets_write_their_codec_with_sound(tmp_path, preset):
    if not PRESETS[preset].available:
        pytest.skip(f"{preset} encoder not in this PyAV build")
    clip = write_clip(tmp_path / "in.mp4", seconds=0.5, audio=True)
    out = tmp_path / f"out{PRESETS[preset].suffixes[0]}"
    export_clip(ExportRequest(clip, out, "x", preset=preset), ChunkEditor())
    info = probe(out)
    expected = {"hevc": "hevc", "prores": "prores", "ffv1": "ffv1"}[preset]
    assert info.video_codec == expected and info.frame_count == 15 and info.has_audio


def test_presets_this_machine_has():
    assert {p.name for p in available_presets()} >= {"h264", "prores", "ffv1"}


@pytest.mark.parametrize(
    ("output", "preset", "words"),
    [
        ("out.mp4", "vp9", "Unknown export preset"),
        ("out.mp4", "prores", "use .mov or .mkv"),
        ("in.mp4", "h264", "must not overwrite its own input"),
        ("missing/out.mp4", "h264", "does not exist"),
    ],
)
def test_bad_requests_are_refused_before_any_work(tmp_path, output, preset, words):
    clip = write_clip(tmp_path / "in.mp4", seconds=0.2, audio=False)
    with pytest.raises(InputError, match=words):
        export_clip(ExportRequest(clip, tmp_path / output, "x", preset=preset), ChunkEditor())


def test_existing_output_needs_overwrite(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", seconds=0.2, audio=False)
    (tmp_path / "out.mp4").write_bytes(b"old")
    with pytest.raises(InputError, match="already exists"):
        export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x"), ChunkEditor())
    export_clip(ExportRequest(clip, tmp_path / "out.mp4", "x", overwrite=True), ChunkEditor())
    assert probe(tmp_path / "out.mp4").frame_count == 6


def test_unusable_inputs_fail_with_a_video_file_error_and_no_output(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    voice = write_audio_only(tmp_path / "voice.m4a")
    for bad in (tmp_path / "empty.mp4", voice):
        with pytest.raises(VideoFileError):
            export_clip(ExportRequest(bad, tmp_path / "out.mp4", "x"), ChunkEditor())
    assert not (tmp_path / "out.mp4").exists()

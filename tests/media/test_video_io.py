import numpy as np
import pytest
from media_clips import FPS, H, W, write_audio_only, write_clip

from liveedit_app.errors import VideoFileError
from liveedit_app.media.video_io import VideoReader, iter_frames, probe


def test_probe_reports_size_rate_duration_frames_and_audio(tmp_path):
    info = probe(write_clip(tmp_path / "clip.mp4", seconds=2.0))
    assert (info.width, info.height) == (W, H)
    assert info.fps == pytest.approx(FPS)
    assert info.duration_s == pytest.approx(2.0, abs=1 / FPS)
    assert info.frame_count == 60
    assert info.has_audio and info.audio_codec == "aac" and info.audio_sample_rate == 48_000
    assert info.rotation == 0 and info.video_codec == "h264"


def test_frames_are_rgb_with_pts_in_seconds_and_consecutive_indices(tmp_path):
    frames = list(iter_frames(write_clip(tmp_path / "clip.mp4", seconds=1.0, audio=False)))
    assert len(frames) == FPS
    assert frames[0].rgb.shape == (H, W, 3) and frames[0].rgb.dtype == np.uint8
    assert [f.index for f in frames] == list(range(FPS))
    assert [f.pts for f in frames] == pytest.approx([i / FPS for i in range(FPS)], abs=1e-3)


def test_max_frames_stops_early(tmp_path):
    frames = list(iter_frames(write_clip(tmp_path / "clip.mp4"), max_frames=5))
    assert len(frames) == 5


def test_rotated_video_is_reported_and_delivered_upright(tmp_path):
    path = write_clip(tmp_path / "rot.mp4", seconds=0.5, audio=False, rotation=90)
    with VideoReader(path) as reader:
        assert reader.info.rotation == 270
        assert (reader.info.width, reader.info.height) == (H, W)
        first = next(reader.frames())
    assert first.rgb.shape == (W, H, 3)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("missing.mp4", lambda p: None, "does not exist"),
        ("empty.mp4", lambda p: p.write_bytes(b""), "empty"),
        ("noise.mp4", lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), "damaged"),
        ("notes.mp4", lambda p: p.write_text("not a video\n" * 50), "damaged"),
    ],
)
def test_unusable_files_raise_a_plain_video_file_error(tmp_path, name, make, words):
    path = tmp_path / name
    make(path)
    with pytest.raises(VideoFileError) as err:
        probe(path)
    assert words in str(err.value)
    assert name in str(err.value)


def test_truncated_recording_is_called_incomplete(tmp_path):
    data = write_clip(tmp_path / "full.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # a plain MP4 keeps its index at the end
    with pytest.raises(VideoFileError, match="incomplete"):
        probe(cut)


def test_audio_only_file_asks_for_a_video(tmp_path):
    with pytest.raises(VideoFileError, match="only sound") as err:
        probe(write_audio_only(tmp_path / "voice.m4a"))
    assert "audio stream" in err.value.details

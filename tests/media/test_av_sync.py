import av
import numpy as np
import pytest
from media_clips import FPS, RATE, write_clip

from liveedit_app.contract import EditedFrame
from liveedit_app.media.audio import AudioAligner
from liveedit_app.media.recorder import Recorder, RecorderConfig
from liveedit_app.media.video_io import iter_frames

CAPTURE_START = 50.0  # the capture clock (time.monotonic in the app) when the source began
CHUNK = 480  # 10 ms of microphone samples


def _clip_audio(path) -> np.ndarray:
    """[n, 1] int16, the file's whole sound track."""
    to_s16 = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    with av.open(str(path)) as container:
        frames = [r for f in container.decode(audio=0) for r in to_s16.resample(f)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).reshape(-1, 1)


def _record_through_a_delayed_pipeline(tmp_path, clip, delay_s, offset_s=0.0):
    """The clip's pictures reach the recorder `delay_s` after capture (the editor measures a
    latency 5 ms short of it); its sound arrives at once, 10 ms at a time."""
    events = []
    for frame in iter_frames(clip):
        captured = CAPTURE_START + frame.pts
        out = EditedFrame(frame.rgb, frame.rgb, frame.pts, frame.index, latency_s=delay_s - 0.005)
        events.append((captured + delay_s, "video", out))
    pcm = _clip_audio(clip)
    for start in range(0, len(pcm), CHUNK):
        captured = CAPTURE_START + start / RATE
        events.append((captured + CHUNK / RATE, "audio", (pcm[start : start + CHUNK], captured)))
    rec = Recorder(RecorderConfig(folder=tmp_path, audio=True, audio_offset_s=offset_s))
    rec.start("take")
    for arrival, kind, payload in sorted(events, key=lambda e: e[0]):
        if kind == "video":
            rec.submit(payload, arrival_s=arrival)
        else:
            rec.submit_audio(*payload)
    return rec.stop()


def _flash_and_click(path) -> tuple[float, float]:
    flash = next(f.pts for f in iter_frames(path) if f.rgb.mean() > 240)
    pcm = _clip_audio(path)[:, 0].astype(np.float32)
    return flash, float(np.argmax(np.abs(pcm)) / RATE)


@pytest.mark.parametrize("delay_s", [0.12, 0.4])
def test_flash_and_click_stay_within_one_frame_after_a_delayed_pipeline(tmp_path, delay_s):
    clip = write_clip(tmp_path / "clip.mp4", seconds=2.0, flash_at=1.0, click_at=1.0)
    result = _record_through_a_delayed_pipeline(tmp_path, clip, delay_s)
    flash, click = _flash_and_click(result.path)
    assert flash == pytest.approx(1.0, abs=1e-3)
    assert abs(click - flash) <= 1 / FPS


def test_recorded_sound_lasts_as_long_as_the_picture(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", seconds=2.0)
    result = _record_through_a_delayed_pipeline(tmp_path, clip, 0.25)
    with av.open(str(result.path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    assert abs(samples / RATE - result.duration_s) <= 1 / FPS


def test_manual_sync_offset_moves_the_sound_later(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", seconds=2.0, flash_at=1.0, click_at=1.0)
    result = _record_through_a_delayed_pipeline(tmp_path, clip, 0.2, offset_s=0.1)
    flash, click = _flash_and_click(result.path)
    assert click - flash == pytest.approx(0.1, abs=1 / FPS)


def test_aligner_fills_dropouts_with_silence_drops_overlaps_and_ignores_jitter():
    aligner = AudioAligner(1000, 1, anchor_frames=1)
    aligner.on_video(0.0, arrival_s=10.3, latency_s=0.3)  # video time 0 was captured at 10.0
    aligner.push(np.ones((100, 1), np.int16), capture_s=10.0)
    aligner.push(np.full((100, 1), 2, np.int16), capture_s=10.2)  # 100 samples went missing
    aligner.push(np.full((100, 1), 3, np.int16), capture_s=10.22)  # starts 80 ms too early
    aligner.push(np.full((100, 1), 4, np.int16), capture_s=10.33)  # 10 ms of timestamp jitter
    out = aligner.pop_ready(0.5)[:, 0]
    assert len(out) == 420
    assert (out[:100] == 1).all() and (out[100:200] == 0).all() and (out[200:300] == 2).all()
    assert (out[300:320] == 3).all() and (out[320:] == 4).all()


def test_aligner_holds_sound_back_until_its_picture_has_arrived():
    aligner = AudioAligner(1000, 1, anchor_frames=2)
    aligner.push(np.ones((500, 1), np.int16), capture_s=10.0)
    assert len(aligner.pop_ready(0.0)) == 0
    aligner.on_video(0.0, arrival_s=10.3, latency_s=0.3)
    aligner.on_video(0.1, arrival_s=10.4, latency_s=0.3)
    assert len(aligner.pop_ready(0.1)) == 100
    assert aligner.measured_latency_s == pytest.approx(0.3)


def test_microphone_chunks_are_int16_frames_stamped_at_their_first_sample(monkeypatch):
    import time

    from PySide6.QtCore import QByteArray

    from liveedit_app.media.audio import MicrophoneCapture

    got = []
    mic = MicrophoneCapture(lambda pcm, t: got.append((pcm, t)), sample_rate=48_000, channels=2)
    samples = np.arange(960 * 2, dtype=np.int16)  # 20 ms of stereo, interleaved

    class FakeDevice:
        def readAll(self):
            return QByteArray(samples.tobytes())

    mic._io = FakeDevice()
    monkeypatch.setattr(time, "monotonic", lambda: 100.0)
    mic._read()
    ((pcm, capture_s),) = got
    assert pcm.shape == (960, 2) and pcm.dtype == np.int16 and pcm[1, 0] == 2
    assert capture_s == pytest.approx(100.0 - 0.02)


def test_no_microphone_is_a_recording_error_that_says_so(qapp):
    from liveedit_app.errors import RecordingError
    from liveedit_app.media.audio import MicrophoneCapture

    if MicrophoneCapture.available_devices():
        pytest.skip("this machine has a microphone")
    with pytest.raises(RecordingError, match="No microphone found: recording without sound"):
        MicrophoneCapture(lambda pcm, t: None).start()

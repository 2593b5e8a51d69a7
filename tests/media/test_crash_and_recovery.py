import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from media_clips import decoded_times

from liveedit_app.media import recovery

CHILD = Path(__file__).with_name("record_child.py")
REPO = Path(__file__).resolve().parents[2]


def _record_then_kill(folder: Path, frames_before_kill: int, audio: bool) -> tuple[Path, float]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(folder), "audio" if audio else "silent"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        final = Path(child.stdout.readline().strip())
        last_pts = -1.0
        for line in child.stdout:
            index, pts = line.split()
            last_pts = float(pts)
            if int(index) + 1 >= frames_before_kill:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    return final, last_pts


@pytest.mark.slow
@pytest.mark.parametrize("audio", [False, True], ids=["video", "video+audio"])
def test_kill_9_mid_take_leaves_a_file_with_every_frame_up_to_one_second_before(tmp_path, audio):
    final, last_pts = _record_then_kill(tmp_path, frames_before_kill=75, audio=audio)
    part = recovery.part_path(final)
    assert last_pts >= 2.4
    assert part.exists() and not final.exists()
    times = decoded_times(part)
    assert times == sorted(times)
    assert times[0] == pytest.approx(0.0, abs=1e-3)
    assert times[-1] >= last_pts - 1.0
    assert len(times) >= round((last_pts - 1.0) * 30)


def test_recovery_finds_a_dead_take_and_remuxes_it_into_an_mp4(tmp_path):
    final, last_pts = _record_then_kill(tmp_path, frames_before_kill=30, audio=True)
    part_frames = len(decoded_times(recovery.part_path(final)))
    unfinished = recovery.find_unfinished(tmp_path)
    assert [u.name for u in unfinished] == [final.name]
    written = recovery.recover(unfinished[0])
    assert written == [final]
    assert len(decoded_times(final)) == part_frames >= 15
    assert recovery.find_unfinished(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [final.name]


def test_a_take_still_being_written_is_not_offered_for_recovery(tmp_path):
    part = tmp_path / ("take" + recovery.PART_SUFFIX)
    part.write_bytes(b"x")
    recovery.write_manifest(tmp_path / ("take" + recovery.MANIFEST_SUFFIX), [part])
    assert recovery.find_unfinished(tmp_path) == []


def test_an_empty_part_is_discarded_on_recovery(tmp_path):
    part = tmp_path / ("take" + recovery.PART_SUFFIX)
    part.write_bytes(b"")
    manifest = tmp_path / ("take" + recovery.MANIFEST_SUFFIX)
    manifest.write_text('{"pid": -1, "parts": ["take.part.mkv"]}')
    (found,) = recovery.find_unfinished(tmp_path)
    assert recovery.recover(found) == []
    assert list(tmp_path.iterdir()) == []

import cv2
import numpy as np
import pytest
from media_clips import ChunkEditor, audio_seconds, write_clip

from liveedit_app.cli import edit, main
from liveedit_app.media.video_io import probe


def test_liveedit_edit_writes_the_output_with_sound_and_reports_it(tmp_path, monkeypatch, capsys):
    clip = write_clip(tmp_path / "in.mp4", seconds=1.0)
    loaded = []
    monkeypatch.setattr(
        edit, "load_editor", lambda model, device: loaded.append((model, device)) or ChunkEditor()
    )
    out = tmp_path / "out.mov"
    code = main(["edit", str(clip), "-p", "snow", "-o", str(out), "--preset", "prores"])
    assert code == 0
    assert loaded == [("liveedit-tiny", "auto")]
    assert probe(out).video_codec == "prores"
    assert abs(audio_seconds(out) - probe(out).duration_s) <= 1 / 30
    captured = capsys.readouterr()
    assert f"Saved {out} (30 frames" in captured.out
    assert "frame 30/30  100%" in captured.err


def test_liveedit_edit_with_a_missing_model_says_so_and_writes_nothing(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", seconds=0.2, audio=False)
    out = tmp_path / "out.mp4"
    code = main(["edit", str(clip), "-p", "x", "-o", str(out), "--model", "no-such-model"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("liveedit: ")
    assert "no-such-model" in err or "engine is not available" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv_tail", "words"),
    [
        (["-o", "{tmp}/out.avi"], "cannot be written as .avi"),
        (["-o", "{tmp}/out.mp4", "--mask", "{tmp}/nope.png"], "nope.png does not exist"),
        (["-o", "{tmp}/out.mp4", "--mask", "{tmp}"], "is a folder, not an image"),
        (["-o", "{tmp}/out.mp4", "--mask", "{tmp}/square.png"], "draw the mask on a frame"),
        (["-o", "{tmp}/out.mp4", "--mask", "{tmp}/text.png"], "could not be read as an image"),
        (["-o", "{tmp}/in.mp4.mp4"], "-y with liveedit edit"),
        (["-o", "{tmp}/out.mp4", "-p", "  "], "Say what to change with -p"),
    ],
)
def test_liveedit_edit_refuses_bad_arguments_before_loading_a_model(
    tmp_path, monkeypatch, capsys, argv_tail, words
):
    clip = write_clip(tmp_path / "in.mp4", seconds=0.2, audio=False)
    cv2.imwrite(str(tmp_path / "square.png"), np.full((50, 50), 255, np.uint8))  # clip is wider
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "in.mp4.mp4").write_bytes(b"an earlier export")
    monkeypatch.setattr(edit, "load_editor", lambda *a: pytest.fail("model loaded"))
    argv = ["edit", str(clip), "-p", "x"] + [a.format(tmp=tmp_path) for a in argv_tail]
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_liveedit_edit_on_an_audio_only_file_is_a_clear_error(tmp_path, capsys):
    from media_clips import write_audio_only

    voice = write_audio_only(tmp_path / "voice.m4a")
    assert main(["edit", str(voice), "-p", "x", "-o", str(tmp_path / "o.mp4")]) == 2
    assert "only sound" in capsys.readouterr().err

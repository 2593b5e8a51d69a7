"""The exporter with the engine's real StreamEditor (random weights, hash text encoder): chunks,
the padded last chunk, timestamps and sound all fit together."""

import dataclasses

import pytest
from media_clips import audio_seconds, decoded_times, write_clip

from liveedit_app.cli import main


@pytest.fixture
def random_tiny_model(tmp_path):
    torch = pytest.importorskip("torch")
    from liveedit_app.engine import checkpoint
    from liveedit_app.engine.config import model_config
    from liveedit_app.engine.editor import StreamEditor

    torch.set_num_threads(2)
    cfg = model_config("tiny")
    cfg = dataclasses.replace(
        cfg,
        text_encoder="hash",
        text_encoder_params={"text_dim": cfg.dit.text_dim, "text_len": cfg.dit.text_len},
    )
    editor = StreamEditor.from_config(cfg)
    return checkpoint.save_model(tmp_path / "random-tiny", cfg, editor.dit, autoencoder=editor.ae)


@pytest.mark.slow
def test_liveedit_edit_runs_the_real_editor_end_to_end(tmp_path, random_tiny_model, capsys):
    clip = write_clip(tmp_path / "in.mp4", seconds=6 / 30)  # one chunk of 4 + a padded partial
    out = tmp_path / "out.mp4"
    argv = ["edit", str(clip), "-p", "make it snow", "-o", str(out), "--model"]
    assert main([*argv, str(random_tiny_model), "--device", "cpu", "-q"]) == 0
    assert decoded_times(out) == pytest.approx(decoded_times(clip), abs=1e-3)
    assert abs(audio_seconds(out) - 6 / 30) <= 1 / 30
    assert f"Saved {out} (6 frames" in capsys.readouterr().out

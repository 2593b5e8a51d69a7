"""The window with the engine's real StreamEditor, loaded by name through the default factory
exactly as `liveedit` does (random weights in the user models folder, hash text encoder)."""

import dataclasses

import numpy as np
import pytest
from conftest import FakeCamera

from liveedit_app import paths
from liveedit_app.ui.main_window import MainWindow


@pytest.fixture
def random_default_model():
    torch = pytest.importorskip("torch")
    from liveedit_app.engine import checkpoint
    from liveedit_app.engine.config import model_config
    from liveedit_app.engine.editor import StreamEditor

    torch.set_num_threads(2)
    cfg = model_config("tiny")
    cfg = dataclasses.replace(cfg, text_encoder="hash", text_encoder_params={
        "text_dim": cfg.dit.text_dim, "text_len": cfg.dit.text_len})
    editor = StreamEditor.from_config(cfg)
    return checkpoint.save_model(paths.user_models_dir() / "liveedit-tiny", cfg, editor.dit,
                                 autoencoder=editor.ae)


@pytest.mark.slow
def test_window_edits_with_the_real_engine_by_default(qtbot, random_default_model):
    win = MainWindow(camera_backend=FakeCamera())  # the default editor factory
    qtbot.addWidget(win)
    win.show()
    win.edit.prompt = "make it snow"
    win.start("pattern")
    qtbot.waitUntil(lambda: win.status_state.model_loaded, timeout=60_000)
    assert win.status_state.device == "cpu"
    assert win.prompt_dock.model.currentText() == "liveedit-tiny"
    edited = []
    win.session.edited.connect(edited.append)
    qtbot.waitUntil(lambda: len(edited) >= 4, timeout=60_000)
    out = edited[-1]
    assert out.rgb.shape == out.source.shape == (360, 640, 3)
    assert np.abs(out.rgb.astype(int) - out.source).mean() > 1  # really edited (random weights)
    assert [f.index for f in edited] == sorted(f.index for f in edited)
    assert win.status_state.banner == ""
    win.close()
    assert not win.worker.isRunning()

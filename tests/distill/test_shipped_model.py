"""The shipped default model: small, verified, described, and the editor's default."""

import json
from pathlib import Path

import numpy as np

from liveedit_app.contract import Frame
from liveedit_app.modelstore.card import sha256_file

FOLDER = Path(__file__).resolve().parents[2] / "models" / "liveedit-tiny"


def test_shipped_weights_are_small_and_match_their_card():
    card = json.loads((FOLDER / "model.json").read_text())
    total = 0
    for name, entry in card["files"].items():
        path = FOLDER / name
        assert path.suffix == ".safetensors"
        assert path.stat().st_size == entry["bytes"] < 15_000_000
        assert sha256_file(path) == entry["sha256"]
        total += entry["bytes"]
    assert total < 30_000_000


def test_card_says_how_it_was_trained_and_how_well_it_edits():
    card = json.loads((FOLDER / "model.json").read_text())
    assert card["config"]["dit"]["dim"] > 0
    stages = card["training"]["stages"]
    assert all(stages[s].get("steps") or stages[s].get("iterations")
               for s in ("ae", "stage1", "stage2", "stage3"))
    assert len(card["training"]["data"]["global_styles"]) >= 8
    held = card["benchmarks"]["heldout"]
    for key in ("correct", "psnr_region_db", "outside_equal", "flicker_ratio",
                "student_minus_teacher_db"):
        assert isinstance(held[key], float)
    assert held["outside_equal"] == 1.0
    assert card["benchmarks"]["weaknesses"]


def test_the_editor_loads_it_by_default_and_streams_edited_frames():
    from liveedit_app.engine.editor import StreamEditor

    editor = StreamEditor.load(device="cpu")
    assert editor.cfg.name == "liveedit-tiny"
    editor.set_prompt("turn it into a heat map")
    rng = np.random.default_rng(1)
    out = []
    for i in range(4):
        out += editor.push(Frame(rgb=rng.integers(0, 255, (64, 80, 3), dtype=np.uint8),
                                 pts=i / 25, index=i))
    out += editor.flush()
    assert [f.index for f in out] == [0, 1, 2, 3]
    assert out[0].rgb.shape == (64, 80, 3)

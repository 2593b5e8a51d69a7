"""`liveedit bench` through the real engine, on a random-weight toy model installed for the test."""

import dataclasses
import json
import shutil

import pytest
import torch

from liveedit_app import paths
from liveedit_app.bench import editors
from liveedit_app.cli import main
from liveedit_app.engine.checkpoint import save_model
from liveedit_app.engine.components import build_autoencoder
from liveedit_app.engine.config import model_config
from liveedit_app.engine.dit import CausalDiT


@pytest.fixture
def toy_model():
    """`bench-toy`: the tiny architecture at 64x64 with the hash text encoder, random weights,
    with a random bidirectional teacher inside its folder."""
    cfg = dataclasses.replace(
        model_config("tiny"),
        name="bench-toy",
        resolution=(64, 64),
        text_encoder="hash",
        text_encoder_params={"text_dim": 384, "text_len": 32},
    )
    torch.manual_seed(0)
    ae = build_autoencoder(cfg.autoencoder, cfg.autoencoder_params, None)
    folder = paths.user_models_dir() / "bench-toy"
    save_model(folder, cfg, CausalDiT(cfg.dit), autoencoder=ae)
    save_model(folder / "teacher", cfg, CausalDiT(cfg.dit), autoencoder=ae)
    return "bench-toy"


def test_quality_runs_every_baseline_of_an_installed_model(toy_model, tmp_path):
    out = tmp_path / "quality"
    argv = ["bench", "quality", "--model", toy_model, "--device", "cpu", "--cases", "2"]
    assert main(argv + ["--frames", "5", "--teacher-steps", "2", "--out", str(out)]) == 0
    data = json.loads((out / "result.json").read_text())
    variants = {v["name"]: v for v in data["variants"]}
    assert list(variants) == [
        "student",
        "student-no-mask-cache",
        "student-per-frame",
        "teacher-offline",
        "identity",
        "target",
    ]
    for name in ("student", "student-no-mask-cache", "student-per-frame", "teacher-offline"):
        assert variants[name]["summary"]["target_psnr_n"] == 2
        assert variants[name]["summary"]["fps"] > 0
    assert variants["teacher-offline"]["label"] == "bidirectional teacher (offline), 2 steps"
    assert variants["target"]["summary"]["target_psnr"] == 100.0
    assert [v["reference"] for v in variants.values()] == [False] * 4 + [True] * 2
    assert (out / "report.html").stat().st_size > 10_000


def test_speed_measures_the_chosen_mask_caches_of_an_installed_model(toy_model, tmp_path):
    argv = ["bench", "speed", "--models", toy_model, "--devices", "cpu", "--frames", "8"]
    argv += ["--mask-caches", "static,off", "--repeats", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    rows = json.loads((tmp_path / "result.json").read_text())["rows"]
    assert [r["mode"] for r in rows] == ["mask cache static", "mask cache off"]
    assert all(r["frames"] == 8 and r["chunks"] == 2 and r["fps"] > 0 for r in rows)
    assert rows[1]["recompute_share"] == 1.0
    assert rows[0]["recompute_share"] < 1.0  # a still mask: the static cache reuses the outside


def test_a_model_without_a_teacher_reports_the_teacher_skipped_with_where_it_looked(toy_model):
    shutil.rmtree(paths.user_models_dir() / toy_model / "teacher")
    (variant,) = editors.quality_variants(toy_model, "cpu", ["teacher-offline"])
    assert variant.run is None
    assert variant.skipped.startswith("no bidirectional teacher found (looked for ")
    assert variant.skipped.endswith("bench-toy/teacher/model.json)")

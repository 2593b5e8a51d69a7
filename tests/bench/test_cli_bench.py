import json

from bench_doubles import PaintEditor, colour_case

from liveedit_app.bench import editors
from liveedit_app.bench.speed import SpeedTarget
from liveedit_app.bench.variants import identity_variant, skipped_variant, streaming_variant
from liveedit_app.cli import main


def test_bench_quality_writes_a_json_and_an_offline_report(monkeypatch, tmp_path, capsys):
    def variants(model, device, names, teacher, teacher_steps):
        assert (model, device, names) == ("liveedit-tiny", "auto", ["student", "identity"])
        assert (teacher, teacher_steps) == (None, 50)
        return [
            streaming_variant("student", "paint double", PaintEditor()),
            identity_variant(),
            skipped_variant("teacher-offline", "teacher", "no teacher here"),
        ]

    monkeypatch.setattr(editors, "working_resolution", lambda model: (32, 48))
    monkeypatch.setattr(editors, "quality_variants", variants)
    out = tmp_path / "run"
    argv = ["bench", "quality", "--cases", "3", "--frames", "4", "--out", str(out)]
    assert main(argv + ["--baselines", "student,identity"]) == 0
    data = json.loads((out / "result.json").read_text())
    assert [c["frames"] for c in data["cases"]] == [4, 4, 4]
    assert [(c["height"], c["width"]) for c in data["cases"]] == [(32, 48)] * 3
    assert [v["name"] for v in data["variants"]] == ["student", "identity", "teacher-offline"]
    assert data["settings"]["clips"] == "procedural held-out set, 3 clips"
    assert {"load_average_1min", "load_average_1min_end"} <= set(data["settings"])
    assert "report.html" in capsys.readouterr().out
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 2 + 3


def test_bench_quality_on_a_missing_folder_says_so_and_exits_2(tmp_path, capsys):
    assert main(["bench", "quality", "--folder", str(tmp_path / "gone")]) == 2
    assert "There is no benchmark folder or file at" in capsys.readouterr().err


def test_an_unknown_baseline_is_named(capsys):
    assert main(["bench", "quality", "--baselines", "student,magic"]) == 2
    assert "Unknown baseline magic: choose from student," in capsys.readouterr().err


def test_bench_speed_measures_every_model_device_and_mode(monkeypatch, tmp_path):
    monkeypatch.setattr(editors, "installed_models", lambda: ["a", "b"])
    monkeypatch.setattr(editors, "available_devices", lambda: ["cpu"])
    monkeypatch.setattr(editors, "speed_clip", lambda model, frames: colour_case("red", frames=6))
    monkeypatch.setattr(
        editors,
        "speed_targets",
        lambda models, devices, caches: [
            SpeedTarget(m, d, mode, PaintEditor)
            for m in models
            for d in devices
            for mode in ("mask cache on", "mask cache off")
        ],
    )
    assert main(["bench", "speed", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "result.json").read_text())["rows"]
    assert [(r["model"], r["mode"]) for r in rows] == [
        ("a", "mask cache on"),
        ("a", "mask cache off"),
        ("b", "mask cache on"),
        ("b", "mask cache off"),
    ]


def test_bench_speed_with_no_model_installed_says_so(monkeypatch, capsys):
    monkeypatch.setattr(editors, "installed_models", lambda: [])
    assert main(["bench", "speed"]) == 2
    assert "No model is installed" in capsys.readouterr().err


def test_an_unknown_mask_cache_is_named(monkeypatch, capsys):
    monkeypatch.setattr(editors, "installed_models", lambda: ["a"])
    assert main(["bench", "speed", "--mask-caches", "static,magic"]) == 2
    assert (
        "Unknown mask cache magic: choose from static, reference, off." in capsys.readouterr().err
    )


def test_the_held_out_set_can_cycle_through_chosen_edits(monkeypatch, tmp_path):
    monkeypatch.setattr(editors, "working_resolution", lambda model: (32, 32))
    monkeypatch.setattr(editors, "quality_variants", lambda *a, **k: [identity_variant()])
    argv = ["bench", "quality", "--cases", "3", "--frames", "2", "--edits", "noir,blur"]
    assert main(argv + ["--out", str(tmp_path)]) == 0
    cases = json.loads((tmp_path / "result.json").read_text())["cases"]
    assert [c["edit_key"] for c in cases] == ["noir", "blur", "noir"]


def test_an_unknown_held_out_edit_is_named(monkeypatch, capsys):
    monkeypatch.setattr(editors, "working_resolution", lambda model: (32, 32))
    assert main(["bench", "quality", "--edits", "noir,sparkles"]) == 2
    assert "Unknown edit sparkles: the held-out set has pencil_sketch," in capsys.readouterr().err

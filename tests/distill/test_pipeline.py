"""The whole distillation pipeline at toy size on the CPU: every stage trains, its loss falls,
it resumes, and what it writes loads into StreamEditor."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from liveedit_app.cli import main
from liveedit_app.contract import Frame
from liveedit_app.distill.data.phrasings import all_instructions
from liveedit_app.engine.text import save_prompt_table

REPO = Path(__file__).resolve().parents[2]


def _prompt_table(path: Path) -> None:
    """Random but fixed embeddings for every phrasing (the real encoder is slow to run 780x)."""
    gen = torch.Generator().manual_seed(0)
    table = {}
    for i, p in enumerate(all_instructions()):
        e = torch.randn(32, 384, generator=gen)
        e[4 + i % 8:] = 0
        table[p] = e
    save_prompt_table(path, table)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    _prompt_table(root / "prompts.safetensors")
    text = (REPO / "configs" / "toy.toml").read_text()
    text = text.replace('text_table = ".scratch/prompts.safetensors"',
                        f'text_table = "{root / "prompts.safetensors"}"')
    cfg = root / "toy.toml"
    cfg.write_text(text)
    out = root / "run"
    torch.manual_seed(0)
    for stage in ("ae", "stage1", "stage2", "stage3", "eval"):
        assert main(["train", stage, "--config", str(cfg), "--out", str(out),
                     "--device", "cpu"]) == 0
    return {"cfg": cfg, "out": out}


def _losses(out: Path, stage: str, key: str) -> list[float]:
    rows = [json.loads(line) for line in (out / stage / f"{stage}.jsonl").read_text().splitlines()]
    return [r[key] for r in rows if key in r]


@pytest.mark.parametrize(("stage", "key"), [("ae", "loss"), ("stage1", "loss"),
                                            ("stage2", "loss"), ("stage3", "target_mse")])
def test_every_stage_loss_falls(run, stage, key):
    """Means over logging intervals: the last interval's is below the first full one's (for
    stage 3, the student's distance to the true edit after its generator updates)."""
    losses = _losses(run["out"], stage, key)
    assert len(losses) >= 2
    first = losses[1] if stage != "stage3" else losses[0]
    assert losses[-1] < first


def test_stages_write_curves_checkpoints_and_model_folders(run):
    out = run["out"]
    for stage in ("ae", "stage1", "stage2", "stage3"):
        assert (out / stage / f"{stage}.png").stat().st_size > 1000
        assert (out / stage / "checkpoint" / "state.json").is_file()
    for stage in ("stage1", "stage2", "stage3"):
        card = json.loads((out / stage / "model" / "model.json").read_text())
        assert set(card["files"]) == {"dit.safetensors", "autoencoder.safetensors"}
        assert card["training"]["data"]["global_styles"]
        assert len(card["prompts"]["whole"]) == len(card["training"]["data"]["global_styles"])


@pytest.mark.parametrize("stage", ["stage1", "stage2", "stage3"])
def test_stage_output_loads_into_stream_editor_and_edits_frames(run, stage):
    from liveedit_app.engine.editor import StreamEditor

    editor = StreamEditor.load(run["out"] / stage / "model", device="cpu")
    editor.set_prompt("turn it into a pencil sketch")
    rng = np.random.default_rng(0)
    frames = []
    for i in range(5):
        rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        frames += editor.push(Frame(rgb=rgb, pts=i / 10, index=i))
    frames += editor.flush()
    assert [f.index for f in frames] == list(range(5))
    assert frames[0].rgb.shape == (48, 64, 3)


def test_a_finished_stage_resumes_from_its_checkpoint_and_trains_on(run, tmp_path):
    cfg = run["cfg"].read_text().replace("[stage2]\nsteps = 40", "[stage2]\nsteps = 44")
    path = tmp_path / "more.toml"
    path.write_text(cfg)
    assert main(["train", "stage2", "--config", str(path), "--out", str(run["out"]),
                 "--device", "cpu"]) == 0
    state = json.loads((run["out"] / "stage2" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 44
    steps = [json.loads(line)["step"]
             for line in (run["out"] / "stage2" / "stage2.jsonl").read_text().splitlines()]
    assert steps[-1] == 44 and steps.count(40) == 1  # went on from 40, did not start over


def test_eval_reports_the_card_numbers(run):
    m = json.loads((run["out"] / "eval" / "metrics.json").read_text())
    for key in ("correct", "psnr_region_db", "outside_equal", "flicker_ratio",
                "teacher_psnr_region_db", "student_minus_teacher_db", "app_correct"):
        assert key in m
    assert m["examples"] == 4
    if m["outside_equal"] is not None:
        assert m["outside_equal"] == 1.0


def test_a_stage_takes_in_generator_blocks_while_it_trains(run, tmp_path):
    from liveedit_app.distill import distributed
    from liveedit_app.distill.batches import Batches, latent_parts, pixel_blocks_dir
    from liveedit_app.distill.config import load_config
    from liveedit_app.distill.data.blocks import produce

    cfg = load_config(run["cfg"])
    cfg.data.absorb_seconds = 1e-6
    out = tmp_path / "run"
    (out / "ae").mkdir(parents=True)
    for name in ("autoencoder.safetensors",):
        (out / "ae" / name).write_bytes((run["out"] / "ae" / name).read_bytes())
    blocks = pixel_blocks_dir(out)
    kw = dict(block=4, max_pending=8, height=64, width=64, frames=6, workers=0,
              edits_per_scene=2, log=lambda *_: None)
    produce(blocks, total=4, **kw)
    cfg.data.clips_min = 4
    batches = Batches(cfg, out, distributed.setup("cpu"), torch.Generator().manual_seed(0))
    assert len(batches.data) == 4 and len(latent_parts(out)) == 1
    produce(blocks, total=12, **kw)  # the generator finishes two more blocks meanwhile
    b = batches.sample(3)
    assert len(batches.data) == 12 and len(latent_parts(out)) == 2
    assert b.source.shape[0] == 3 and not list(blocks.glob("block_*"))


def test_touching_next_stage_ends_the_running_stage_and_is_consumed(run, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "NEXT_STAGE").touch()
    assert main(["train", "ae", "--config", str(run["cfg"]), "--out", str(out),
                 "--device", "cpu"]) == 0
    assert json.loads((out / "ae" / "metrics.json").read_text())["steps"] == 0
    assert not (out / "NEXT_STAGE").exists()


def test_eval_app_only_remeasures_the_app_numbers_and_keeps_the_rest(run):
    metrics = run["out"] / "eval" / "metrics.json"
    before = json.loads(metrics.read_text())
    assert main(["train", "eval", "--app-only", "--config", str(run["cfg"]), "--out",
                 str(run["out"]), "--device", "cpu"]) == 0
    after = json.loads(metrics.read_text())
    assert after["psnr_region_db"] == before["psnr_region_db"]
    assert after["examples"] == before["examples"]
    assert after["setup"]["app_remeasured_on"] == "cpu"
    assert after["app_psnr_region_db"] == pytest.approx(before["app_psnr_region_db"], abs=1e-6)


def test_eval_app_only_without_an_earlier_evaluation_says_to_run_eval_first(run, tmp_path,
                                                                           capsys):
    assert main(["train", "eval", "--app-only", "--config", str(run["cfg"]), "--out",
                 str(tmp_path / "empty"), "--device", "cpu"]) == 2
    assert "run the eval stage first" in capsys.readouterr().err


def test_the_learning_rate_warms_up_then_decays_by_cosine_to_its_final_share():
    from liveedit_app.distill.trainer import set_lr

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)

    def lr(step, progress, final=0.1):
        set_lr(opt, 1e-3, step, 10, progress, final)
        return opt.param_groups[0]["lr"]

    assert lr(0, 0.0) == pytest.approx(1e-4)  # warm-up
    assert lr(50, 0.0) == pytest.approx(1e-3)
    assert lr(50, 0.5) == pytest.approx(0.55e-3)
    assert lr(50, 1.0) == pytest.approx(1e-4) == lr(50, 3.0)
    assert lr(50, 0.7, final=1.0) == pytest.approx(1e-3)  # constant by default


def test_a_stage_with_init_starts_from_those_weights(run, tmp_path):
    import shutil

    from safetensors.torch import load_file

    from liveedit_app.distill import stage2_causal
    from liveedit_app.distill.config import load_config

    out = tmp_path / "run"
    for part in ("ae", "latents"):
        shutil.copytree(run["out"] / part, out / part)
    cfg = load_config(run["cfg"])
    cfg.device = "cpu"
    cfg.stage2.init, cfg.stage2.steps = str(run["out"] / "stage2" / "dit.safetensors"), 0
    stage2_causal.run(cfg, out)
    started, given = (load_file(str(p)) for p in (out / "stage2" / "dit.safetensors",
                                                  run["out"] / "stage2" / "dit.safetensors"))
    assert all(torch.equal(started[k], given[k]) for k in given)


def test_once_the_autoencoder_exists_the_generator_writes_latents_the_trainer_takes_in(run,
                                                                                       tmp_path):
    import shutil

    from liveedit_app.distill import distributed
    from liveedit_app.distill.batches import Batches, block_encoder, pixel_blocks_dir
    from liveedit_app.distill.config import load_config
    from liveedit_app.distill.data.blocks import produce

    cfg = load_config(run["cfg"])
    cfg.device = "cpu"
    out = tmp_path / "run"
    blocks = pixel_blocks_dir(out)
    kw = dict(block=4, max_pending=8, height=64, width=64, frames=6, workers=2,
              edits_per_scene=2, encode=block_encoder(cfg, out), log=lambda *_: None)
    produce(blocks, total=4, **kw)  # no autoencoder yet: pixels
    shutil.copytree(run["out"] / "ae", out / "ae")
    produce(blocks, total=8, **kw)  # now the generator encodes
    assert [p.name for p in sorted(blocks.iterdir()) if "_0000" in p.name] == [
        "block_00000.npz", "latent_00001.safetensors"]
    cfg.data.clips_min = 8
    batches = Batches(cfg, out, distributed.setup("cpu"), torch.Generator().manual_seed(0))
    assert len(batches.data) == 8 and not list(blocks.glob("*_0000?.*"))
    assert sorted(p.name for p in blocks.glob("used_*")) == ["used_00000", "used_00001"]


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.stem)
def test_every_config_loads_and_its_autoencoder_matches_its_dit(path):
    from liveedit_app.distill.config import load_config

    cfg = load_config(path)  # unknown keys are refused
    assert cfg.model.autoencoder_params["latent_channels"] == cfg.model.dit.latent_channels
    for stage in ("ae", "stage1", "stage2", "stage3"):
        assert cfg.stage(stage).batch >= 1

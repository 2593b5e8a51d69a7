"""Two gloo processes train every stage exactly like one process on the same global batch
(DDP for all stages, FSDP for the DiT stages), and a two-process checkpoint resumes in one
process (and a one-process checkpoint in two sharded processes)."""

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from liveedit_app.cli.train import STAGES
from liveedit_app.distill import distributed
from liveedit_app.distill.config import load_config
from liveedit_app.distill.data.phrasings import all_instructions
from liveedit_app.engine.text import save_prompt_table
from liveedit_app.errors import TrainingError

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("parity_worker.py")
LOSS_TOL = 1e-5
TRAIN = ("ae", "stage1", "stage2", "stage3")
DIT_STAGES = ("stage1", "stage2", "stage3")

# the toy size of configs/toy.toml, in fp32, with even batches and a few logged steps; the
# student samples in one step (the engine re-noises between steps with each rank's own stream)
CONFIG = """
model = "tiny"
seed = 0
device = "cpu"
precision = "fp32"

[model_overrides]
resolution = [64, 64]
autoencoder_params = {{ latent_channels = 4, width = 8 }}

[model_overrides.dit]
dim = 32
ffn_dim = 64
heads = 2
layers = 2
latent_channels = 4

[model_overrides.sampler]
chunk_frames = 2
window_frames = 4
refresh = true
steps = [1000]

[data]
height = 64
width = 64
latent_frames = 4
clips = 8
ae_clips = 4
workers = 0
text_table = "{table}"

[ae]
steps = {steps}
batch = 4
lr = 2e-3
warmup = 1
log_every = 1
save_every = 100

[stage1]
steps = {steps}
batch = 4
lr = 2e-3
warmup = 1
log_every = 1
save_every = 100

[stage2]
steps = {steps}
batch = 4
micro_batch = 1
lr = 1e-3
warmup = 1
log_every = 1
save_every = 100

[stage3]
steps = {steps}
batch = 2
lr = 1e-4
lr_critic = 1e-3
generator_every = 2
guidance = 2.0
ema_start = 1
regression = 0.5
rollout_chunks = 2
warmup = 1
log_every = 1
save_every = 100
"""
STEPS, MORE = 3, 5


def _prompt_table(path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    save_prompt_table(path, {p: torch.randn(32, 384, generator=gen) for p in all_instructions()})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_single(cfg_path: Path, out: Path, stage: str) -> None:
    importlib.import_module(STAGES[stage]).run(load_config(cfg_path), out)


def _torchrun(cfg: Path, single: Path, out: Path, jobs: list[str]) -> None:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path,
           "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(WORKER),
           str(cfg), str(single), str(out), *jobs]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]


def _rows(folder: Path, stage: str) -> list[dict]:
    lines = (folder / stage / f"{stage}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    _prompt_table(root / "prompts.safetensors")
    cfg = root / "toy.toml"
    cfg.write_text(CONFIG.format(table=root / "prompts.safetensors", steps=STEPS))
    more = root / "more.toml"
    more.write_text(CONFIG.format(table=root / "prompts.safetensors", steps=MORE))
    single = root / "single"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # like each of the two processes (and the shared CPU) want
    for stage in TRAIN:
        _run_single(cfg, single, stage)
    # one process resumes its own step-3 checkpoint to step 5: the reference for both resumes
    resumed = root / "resumed-single"
    shutil.copytree(single, resumed)
    _run_single(more, resumed, "stage1")
    two = root / "two"
    jobs = [f"ddp:{s}" for s in TRAIN] + [f"fsdp:{s}" for s in DIT_STAGES]
    _torchrun(cfg, single, two, jobs + [f"fsdp:stage1:{MORE}", "shards"])
    # and one process resumes the two processes' sharded and replicated checkpoints
    for parallel in ("ddp", "fsdp"):
        _run_single(more, two / f"{parallel}-stage1", "stage1")
    torch.set_num_threads(threads)
    return {"single": single, "two": two, "resumed": resumed, "cfg": cfg, "more": more}


def _assert_same_curves(a: list[dict], b: list[dict]) -> None:
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        keys = set(ra) - {"time"}
        assert keys == set(rb) - {"time"}
        for key in keys:
            tol = LOSS_TOL if key.startswith("loss") else 1e-4 * max(1.0, abs(ra[key]))
            assert rb[key] == pytest.approx(ra[key], abs=tol), (key, ra["step"])


@pytest.mark.parametrize("stage", TRAIN)
def test_two_ddp_processes_log_the_losses_of_one_process(runs, stage):
    one = _rows(runs["single"], stage)
    two = _rows(runs["two"] / f"ddp-{stage}", stage)[:STEPS]  # stage 1 then resumes to 5
    assert len(one) == STEPS
    assert any(k.startswith("loss") for k in one[0])
    _assert_same_curves(one, two)


@pytest.mark.parametrize("stage", DIT_STAGES)
def test_two_fsdp_processes_log_the_losses_of_one_process(runs, stage):
    _assert_same_curves(_rows(runs["single"], stage),
                        _rows(runs["two"] / f"fsdp-{stage}", stage)[:STEPS])


@pytest.mark.parametrize(("parallel", "stage", "weights"), [
    ("ddp", "ae", "autoencoder.safetensors"),
    ("ddp", "stage2", "dit.safetensors"),
    ("fsdp", "stage2", "dit.safetensors"),
    ("fsdp", "stage3", "generator_ema.safetensors"),
])
def test_trained_weights_match_and_are_saved_whole(runs, parallel, stage, weights):
    one = load_file(runs["single"] / stage / weights)
    two = load_file(runs["two"] / f"{parallel}-{stage}" / stage / weights)
    assert set(one) == set(two)
    for key, value in one.items():
        assert two[key].shape == value.shape  # gathered, not a shard
        assert torch.allclose(two[key], value, atol=1e-5), key


def test_fsdp_splits_every_dit_parameter_over_the_two_processes(runs):
    ranks = [json.loads((runs["two"] / f"shards-{r}.json").read_text()) for r in (0, 1)]
    for rank in ranks:
        assert rank["sharded"]
        assert rank["dtensor_params"] == rank["params"]
    # dim-0 shards: each rank holds half of every parameter, rounded up on rank 0
    assert sum(r["local_elements"] for r in ranks) == ranks[0]["full_elements"]
    full = ranks[0]["full_elements"]
    assert ranks[1]["local_elements"] <= ranks[0]["local_elements"] < 0.6 * full


def test_the_global_batch_does_not_depend_on_the_process_count(runs):
    for folder in (runs["single"], runs["two"] / "ddp-stage1", runs["two"] / "fsdp-stage1"):
        training = json.loads((folder / "stage1" / "metrics.json").read_text())
        assert training["batch"] == 4


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_a_two_process_checkpoint_resumes_in_one_process(runs, parallel):
    resumed = _rows(runs["two"] / f"{parallel}-stage1", "stage1")
    assert [r["step"] for r in resumed] == list(range(1, MORE + 1))
    _assert_same_curves(_rows(runs["resumed"], "stage1")[STEPS:], resumed[STEPS:])


def test_a_one_process_checkpoint_resumes_in_two_sharded_processes(runs):
    resumed = _rows(runs["two"] / "fsdp-stage1-resume", "stage1")
    assert [r["step"] for r in resumed] == list(range(STEPS + 1, MORE + 1))
    _assert_same_curves(_rows(runs["resumed"], "stage1")[STEPS:], resumed)


def test_a_global_batch_that_does_not_split_evenly_is_refused():
    d = distributed.Dist(rank=1, world=2, local_rank=1, device=torch.device("cpu"))
    assert distributed.per_rank(6, d) == 3
    assert distributed.local(torch.arange(6), d).tolist() == [3, 4, 5]
    with pytest.raises(TrainingError, match="multiple of the number of processes"):
        distributed.per_rank(5, d)


def test_an_unknown_parallel_mode_is_refused():
    with pytest.raises(TrainingError, match="parallel must be one of"):
        distributed.setup("cpu", "zero3")

"""Distillation throughput on 1, 2, 4 ... GPUs: examples/s of stage 1 and stage 3 at the `small`
size, under DDP and FSDP, written as JSON.

    python3 scripts/scaling_distill.py --gpus 1 2 4 --out benchmarks/scaling-distill-h200.json

Each (stage, parallel, N) runs the real stage code (`liveedit train` minus the CLI) under
`torchrun --nproc_per_node N` on a synthetic run folder made once at the `small` size: a random
autoencoder, random latents, a random prompt table and random stage-1/2 DiTs, so no data has to
be generated and every N trains on exactly the same inputs. The global batch is the config's
for every N (strong scaling): per-GPU batch = global / N. Throughput is measured between the
end of the warm-up steps and the last step from the rank-0 log; efficiency = (examples/s on N) /
(N x examples/s on 1). NVLink multicast stays off (NCCL_NVLS_ENABLE=0,
TORCH_SYMM_MEM_DISABLE_MULTICAST=1, NVSHMEM_DISABLE_NVLS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / ".scratch" / "site")]

NO_MULTICAST = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
                "NVSHMEM_DISABLE_NVLS": "1"}
WARMUP = {"stage1": 5, "stage3": 5}  # steps (stage 3: iterations) not timed
TIMED = {"stage1": 20, "stage3": 15}  # stage 3: three generator updates (generator_every 5)
CLIPS = 256  # synthetic latent clips
# configs/small.toml's batches (64 in stage 1, 32 in stage 3) run out of an H100's 80 GB on one
# GPU (seen 2026-11-25): stage 1 keeps its global batch in micro-batches of 16, stage 3 (which
# cannot accumulate) trains a global batch of 8
FIT = {"stage1": {"micro_batch": 16}, "stage3": {"batch": 8}}


def config(folder: Path, stage: str, parallel: str):
    """configs/small.toml with the synthetic prompt table, a fixed number of logged steps, and
    no checkpoints or time budget inside the timed window."""
    from liveedit_app.distill.config import load_config

    cfg = load_config(os.environ.get("SCALING_CONFIG", REPO / "configs" / "small.toml"))
    cfg.parallel = parallel
    cfg.data.text_table = str(folder / "prompts.safetensors")
    cfg.data.photo_bank = ""
    cfg.data.clips = CLIPS
    s = cfg.stage(stage)
    s.steps = WARMUP[stage] + TIMED[stage]
    s.minutes = 0.0
    s.log_every = 1
    s.save_every = 10**9
    for key, value in FIT[stage].items():  # never above the config's own (toy) batch
        setattr(s, key, min(value, s.batch))
    return cfg


def make_inputs(folder: Path) -> None:
    """Everything stages 1 and 3 read, random, at the small size (CPU, once)."""
    import torch
    from safetensors.torch import save_file

    from liveedit_app.distill.batches import save_part
    from liveedit_app.distill.data.phrasings import all_instructions
    from liveedit_app.distill.flow_training import DIT_WEIGHTS
    from liveedit_app.distill.latents import LatentSet
    from liveedit_app.distill.stage0_autoencoder import WEIGHTS, new_autoencoder
    from liveedit_app.engine.dit import CausalDiT
    from liveedit_app.engine.text import save_prompt_table

    if (folder / "READY").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    cfg = config(folder, "stage1", "ddp")
    dit_cfg, d = cfg.model.dit, cfg.data
    text = [torch.randn(dit_cfg.text_len, dit_cfg.text_dim).bfloat16() for _ in all_instructions()]
    save_prompt_table(folder / "prompts.safetensors", dict(zip(all_instructions(), text,
                                                               strict=True)))
    ae = new_autoencoder(cfg)
    (folder / "ae").mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in ae.state_dict().items()}, str(folder / "ae" / WEIGHTS))
    h, w = d.height // ae.spatial_factor, d.width // ae.spatial_factor
    shape = (CLIPS, d.latent_frames, dit_cfg.latent_channels, h, w)
    lat = LatentSet(source=torch.randn(shape).bfloat16(), target=torch.randn(shape).bfloat16(),
                    mask=(torch.rand(CLIPS, d.latent_frames, 1, h, w) > 0.5).bfloat16(),
                    region=torch.rand(CLIPS) > 0.5,
                    instruction=torch.randint(len(text), (CLIPS,)),
                    edit=torch.zeros(CLIPS, dtype=torch.long))
    save_part(folder, lat)  # latents/train.safetensors
    for stage in ("stage1", "stage2"):
        (folder / stage).mkdir(exist_ok=True)
        sd = CausalDiT(dit_cfg).state_dict()
        save_file({k: v.contiguous() for k, v in sd.items()}, str(folder / stage / DIT_WEIGHTS))
    (folder / "READY").write_text("ok")


def job_folder(inputs: Path, root: Path, stage: str, parallel: str, gpus: int) -> Path:
    """A fresh run folder whose inputs are links to the shared synthetic ones."""
    import shutil

    job = root / f"{stage}-{parallel}-{gpus}"
    shutil.rmtree(job, ignore_errors=True)
    for rel in ("ae/autoencoder.safetensors", "latents/train.safetensors",
                "stage1/dit.safetensors", "stage2/dit.safetensors"):
        if stage == "stage1" and rel.startswith("stage"):
            continue
        (job / rel).parent.mkdir(parents=True, exist_ok=True)
        (job / rel).symlink_to(inputs / rel)
    return job


def worker(inputs: str, job: str, stage: str, parallel: str) -> None:
    """One process of a torchrun launch: run the stage; rank 0 notes its peak memory."""
    import importlib

    import torch

    from liveedit_app.cli.train import STAGES

    cfg = config(Path(inputs), stage, parallel)
    importlib.import_module(STAGES[stage]).run(cfg, Path(job))
    if int(os.environ.get("RANK", "0")) == 0 and torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
        (Path(job) / "peak_memory_gib.txt").write_text(f"{peak:.2f}")


def measure(job: Path, stage: str, batch: int) -> dict:
    rows = [json.loads(line) for line in (job / stage / f"{stage}.jsonl").read_text().splitlines()]
    by_step = {r["step"]: r["time"] for r in rows}
    first, last = WARMUP[stage], WARMUP[stage] + TIMED[stage]
    seconds = by_step[last] - by_step[first]
    peak = job / "peak_memory_gib.txt"
    return {"examples_per_s": round(batch * (last - first) / seconds, 2),
            "step_s": round(seconds / (last - first), 4),
            "peak_memory_gib_rank0": float(peak.read_text()) if peak.is_file() else None}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpus", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--stages", nargs="+", default=["stage1", "stage3"])
    p.add_argument("--parallel", nargs="+", default=["ddp", "fsdp"])
    p.add_argument("--config", default=str(REPO / "configs" / "small.toml"),
                   help="another size for a dry run (e.g. configs/toy.toml on a CPU)")
    p.add_argument("--work", default="/tmp/scaling-distill", help="scratch folder")
    p.add_argument("--out", default="benchmarks/scaling-distill.json")
    p.add_argument("--dry-cpu", action="store_true",
                   help="no GPU: run the processes on the CPU (gloo), to check the script")
    p.add_argument("--worker", nargs=4, metavar=("INPUTS", "JOB", "STAGE", "PARALLEL"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.update(NO_MULTICAST)
    os.environ.setdefault("SCALING_CONFIG", str(Path(args.config).resolve()))
    if args.worker:
        worker(*args.worker)
        return 0

    import torch

    available = torch.cuda.device_count() or (max(args.gpus) if args.dry_cpu else 0)
    work = Path(args.work)
    inputs = work / "inputs"
    began = time.perf_counter()
    make_inputs(inputs)
    env = {**os.environ, **NO_MULTICAST, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / ".scratch" / "site"),
                                          os.environ.get("PYTHONPATH", "")]),
           "LIVEEDIT_HOME": os.environ.get("LIVEEDIT_HOME", str(work / "home"))}
    results, not_run = [], []
    for stage in args.stages:
        batch = config(inputs, stage, "ddp").stage(stage).batch
        base = None
        for gpus in sorted(args.gpus):
            # one process has nothing to shard or replicate: DDP and FSDP are the same run
            for parallel in (args.parallel[:1] if gpus == 1 else args.parallel):
                name = f"{stage} {parallel} x{gpus}"
                if gpus > available:
                    not_run.append(f"{name}: needs {gpus} GPUs, this machine has {available}")
                    continue
                job = job_folder(inputs, work, stage, parallel, gpus)
                cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                       "--nproc_per_node", str(gpus), __file__, "--worker", str(inputs),
                       str(job), stage, parallel]
                done = subprocess.run(cmd, env=env, capture_output=True, text=True)
                (work / f"{job.name}.log").write_text(done.stdout + done.stderr)
                if done.returncode != 0:
                    not_run.append(f"{name}: failed (exit {done.returncode}): "
                                   f"{done.stderr[-800:]}")
                    continue
                row = {"stage": stage, "parallel": parallel, "gpus": gpus,
                       "global_batch": batch, "per_gpu_batch": batch // gpus,
                       **measure(job, stage, batch)}
                if gpus == 1:
                    base = row["examples_per_s"]
                if base:
                    row["efficiency"] = round(row["examples_per_s"] / (gpus * base), 3)
                results.append(row)
                print(json.dumps(row), flush=True)
    report = {
        "what": "distillation throughput, small size, strong scaling (fixed global batch)",
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "gpus_available": available,
        "torch": torch.__version__,
        "env": NO_MULTICAST,
        "warmup_steps": WARMUP, "timed_steps": TIMED, "changed_from_small_toml": FIT,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "results": results,
        "not_run": not_run,
        "wall_s": round(time.perf_counter() - began, 1),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {out}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())

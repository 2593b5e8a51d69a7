"""Runs training stages in every process of a `torchrun` launch (the tests' two-process side).

    python -m torch.distributed.run --nproc_per_node 2 ... parity_worker.py CONFIG SINGLE OUT \
        ddp:ae ddp:stage1 fsdp:stage1 fsdp:stage1:5

For each `parallel:stage`, the stage runs in `OUT/<parallel>-<stage>/`, whose inputs (the
autoencoder, the latent set, earlier stages' DiT weights) are copied from the single-process run
folder SINGLE, so both sides train from identical inputs. `parallel:stage:steps` also copies
SINGLE's checkpoint of the stage and trains on from it to `steps` (in `...-resume/`).
`shards` writes, per rank, how a toy DiT wrapped under FSDP is split (`OUT/shards-<rank>.json`).
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import torch
from torch.distributed.tensor import DTensor

from liveedit_app.cli.train import STAGES
from liveedit_app.distill import distributed
from liveedit_app.distill.config import load_config
from liveedit_app.engine.dit import CausalDiT

INPUTS = {  # what each stage reads from earlier stages
    "ae": [],
    "stage1": ["ae/autoencoder.safetensors", "latents/train.safetensors"],
    "stage2": ["ae/autoencoder.safetensors", "latents/train.safetensors",
               "stage1/dit.safetensors"],
    "stage3": ["ae/autoencoder.safetensors", "latents/train.safetensors",
               "stage1/dit.safetensors", "stage2/dit.safetensors"],
}


def copy_inputs(single: Path, folder: Path, stage: str) -> None:
    for name in INPUTS[stage]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(single / name, folder / name)


def describe_shards(config: str, out: str) -> None:
    d = distributed.setup("cpu", "fsdp")
    dit = distributed.wrap(CausalDiT(load_config(config).model.dit), d)
    params = list(dit.parameters())
    report = {"sharded": distributed.is_sharded(dit),
              "dtensor_params": sum(isinstance(p, DTensor) for p in params),
              "params": len(params),
              "local_elements": sum(p.to_local().numel() for p in params),
              "full_elements": sum(p.numel() for p in params)}
    (Path(out) / f"shards-{d.rank}.json").write_text(json.dumps(report))


def main(config: str, single: str, out: str, *jobs: str) -> None:
    torch.set_num_threads(1)
    Path(out).mkdir(parents=True, exist_ok=True)
    for job in jobs:
        if job == "shards":
            describe_shards(config, out)
            continue
        parallel, stage, *steps = job.split(":")
        cfg = load_config(config)
        cfg.parallel = parallel
        cfg.device = "cpu"
        folder = Path(out) / (f"{parallel}-{stage}" + ("-resume" if steps else ""))
        d = distributed.setup("cpu", parallel)
        if d.main:
            copy_inputs(Path(single), folder, stage)
            if steps:
                shutil.copytree(Path(single) / stage / "checkpoint", folder / stage / "checkpoint")
        if steps:
            cfg.stage(stage).steps = int(steps[0])
        distributed.barrier(d)
        importlib.import_module(STAGES[stage]).run(cfg, folder)
    distributed.teardown()


if __name__ == "__main__":
    main(*sys.argv[1:])

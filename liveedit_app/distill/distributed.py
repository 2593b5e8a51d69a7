"""Everything that differs between one process and several under `torchrun`, in one place.

Under torchrun (RANK/WORLD_SIZE/LOCAL_RANK set) the process group is started, each rank gets
its own GPU and its own data shard, and trainable models are wrapped in DDP; rank 0 alone writes
logs, curves and checkpoints. With no torchrun everything degrades to a plain single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def setup(device: str = "auto") -> Dist:
    """Join the torchrun process group if there is one; idempotent."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist(0, 1, 0, pick_device(device))
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank, world, local, dev)


def wrap(model: nn.Module, d: Dist) -> nn.Module:
    """DDP around a trainable model when there are several processes."""
    if d.world == 1:
        return model
    ids = [d.device.index] if d.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def mean(value: torch.Tensor, d: Dist) -> torch.Tensor:
    """The mean of a scalar over all ranks (for logging)."""
    if d.world == 1:
        return value.detach()
    out = value.detach().clone()
    dist.all_reduce(out)
    return out / d.world


def agree(flag: bool, d: Dist) -> bool:
    """Rank 0's flag, on every rank (so all ranks stop at the same step)."""
    if d.world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=d.device)
    dist.broadcast(t, 0)
    return bool(t.item())


def barrier(d: Dist) -> None:
    if d.world > 1:
        dist.barrier()


def teardown(d: Dist) -> None:
    if d.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def average_grads(model: nn.Module, d: Dist) -> None:
    """All-reduce gradients by hand, for a model trained through a method other than its
    forward (stage 3 rolls the generator out through `forward_chunk`, which DDP does not see).
    Missing gradients count as zeros so every rank reduces the same tensors."""
    if d.world == 1:
        return
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
        p.grad /= d.world

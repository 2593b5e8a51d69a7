"""Everything that differs between one process and several under `torchrun`, in one place.

Under torchrun (RANK/WORLD_SIZE/LOCAL_RANK set) the process group is started, each rank gets
its own GPU, and trainable models are wrapped in DDP, or, with `parallel = "fsdp"`, DiTs are
sharded in place with FSDP2 (`fully_shard`: parameters, gradients and optimizer state split over
the ranks, bf16 all-gathers, activation checkpointing of the whole-clip forward). Rank 0 alone
writes logs, curves and checkpoints; checkpoints hold full (unsharded) tensors, so a run resumes
on any number of processes. With no torchrun everything degrades to a plain single process.

The global batch does not depend on N: every rank draws the randomness of the *whole* batch
from generators seeded alike (a few small tensors) and keeps its rows (`local`), so N processes
see exactly the examples, timesteps and noise one process would.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.tensor import DTensor, distribute_tensor
from torch.utils.checkpoint import checkpoint

from liveedit_app.engine import device as engine_device
from liveedit_app.engine.attention import ParallelKeys
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.errors import TrainingError

PARALLEL = ("ddp", "fsdp")
WAIT = datetime.timedelta(hours=1)  # longest a collective waits for a slow rank


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: torch.device
    parallel: str = "ddp"  # how trainable DiTs are spread: "ddp" (replicas) or "fsdp" (shards)
    bf16: bool = False  # FSDP all-gathers parameters in bf16 (gradients reduce in fp32)

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto") -> torch.device:
    """'auto' trains on CUDA or the CPU (never MPS); a named device is checked by the engine's
    `pick_device` (a sentence, not a traceback, for a typo or a missing GPU)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return engine_device.pick_device(name)


def setup(device: str = "auto", parallel: str = "ddp", precision: str = "fp32") -> Dist:
    """Join the torchrun process group if there is one; idempotent."""
    if parallel not in PARALLEL:
        raise TrainingError(f"parallel must be one of {', '.join(PARALLEL)}.",
                            details=f"parallel = {parallel!r}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist(0, 1, 0, pick_device(device), parallel, precision == "bf16")
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    if not dist.is_initialized():
        # rank 0 alone may spend long minutes encoding the latent set while the others wait
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", timeout=WAIT)
    return Dist(rank, world, local, dev, parallel, precision == "bf16")


def per_rank(batch: int, d: Dist, what: str = "batch") -> int:
    """This rank's share of a global batch; the global batch must split evenly."""
    if batch % d.world:
        raise TrainingError(f"The {what} ({batch}) must be a multiple of the number of "
                            f"processes ({d.world}).", details="change the stage's batch")
    return batch // d.world


def local(x: torch.Tensor, d: Dist) -> torch.Tensor:
    """This rank's rows of a tensor drawn for the whole global batch: [B, ...] -> [B/N, ...]."""
    if d.world == 1:
        return x
    n = per_rank(x.shape[0], d)
    return x[d.rank * n:(d.rank + 1) * n]


def gather_rows(x: torch.Tensor, d: Dist) -> torch.Tensor:
    """Every rank's equally shaped rows, in rank order: [n, ...] -> [N*n, ...] on every rank."""
    if d.world == 1:
        return x
    out = torch.empty((d.world * x.shape[0], *x.shape[1:]), dtype=x.dtype, device=d.device)
    dist.all_gather_into_tensor(out, x.to(d.device).contiguous())
    return out.to(x.device)


def shard(model: nn.Module, d: Dist, *, mixed: bool = True) -> nn.Module:
    """Under `parallel = "fsdp"` with several processes, shard a DiT in place (trainable or
    frozen) and return it; otherwise return it untouched. `mixed=False` keeps fp32 all-gathers
    (the self-forcing rollout runs its streaming passes in fp32)."""
    if d.world > 1 and d.parallel == "fsdp" and isinstance(model, CausalDiT):
        _fully_shard(model, d, mixed)
    return model


def wrap(model: nn.Module, d: Dist) -> nn.Module:
    """A trainable model made ready for several processes: a DiT sharded in place (FSDP), any
    other model in DDP. One process: the model itself."""
    if d.world == 1:
        return model
    if d.parallel == "fsdp" and isinstance(model, CausalDiT):
        return shard(model, d)
    ids = [d.device.index] if d.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def is_sharded(model: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(unwrap(model), FSDPModule)


_MESH: dict[str, Any] = {}


def _fully_shard(dit: CausalDiT, d: Dist, mixed: bool) -> None:
    """FSDP2 units: each block's self-attention and FFN (most of the weights), and the root
    (embeddings, head, modulations and every cross-attention: `context_kv` reads all blocks'
    cross-attention weights outside their forward, so they must be gathered with the root).
    `context_kv` and `forward_chunk` are registered as forward methods, so the streaming rollout
    gathers and frees the weights like `forward` does."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import (
        MixedPrecisionPolicy,
        fully_shard,
        register_fsdp_forward_method,
    )

    if d.device.type not in _MESH:
        _MESH[d.device.type] = init_device_mesh(d.device.type, (d.world,))
    mesh = _MESH[d.device.type]
    policy = MixedPrecisionPolicy()
    if d.bf16 and mixed:
        # inputs keep their dtype: the timesteps (0..1000) must not be rounded to bf16
        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32,
                                      cast_forward_inputs=False)
    # every rank starts from rank 0's weights (DDP does this itself; fully_shard keeps each
    # rank's own slice, and a freshly initialised DiT differs per rank)
    with torch.no_grad():
        for tensor in dit.state_dict().values():
            dist.broadcast(tensor, 0)
    # FSDP2 warns about every view a unit returns; the DiT never writes into them in place
    warnings.filterwarnings("ignore", message=".*returned a view tensor.*")
    for block in dit.blocks:
        _checkpoint_whole_clip(block)
        fully_shard(block.self_attn, mesh=mesh, mp_policy=policy)
        fully_shard(block.ffn, mesh=mesh, mp_policy=policy)
    fully_shard(dit, mesh=mesh, mp_policy=policy)
    for method in ("context_kv", "forward_chunk"):
        register_fsdp_forward_method(dit, method)


def _checkpoint_whole_clip(block: nn.Module) -> None:
    """Recompute a block's activations in backward instead of keeping them, for the whole-clip
    forward only: a streaming pass reads a KV cache that later passes overwrite, so recomputing
    it would see other keys."""
    inner = block.forward

    def forward(x, e0, ctx_kv, keys, layer, plan=None):  # noqa: ANN001, ANN202 - DiTBlock's
        if plan is None and isinstance(keys, ParallelKeys) and torch.is_grad_enabled():
            return checkpoint(inner, x, e0, ctx_kv, keys, layer, use_reentrant=False)
        return inner(x, e0, ctx_kv, keys, layer, plan)

    block.forward = forward


@contextlib.contextmanager
def accumulating(model: nn.Module, sync: bool):
    """Backward passes inside skip the gradient all-reduce unless `sync` (the last micro-batch
    of a step): gradient accumulation costs one reduction per step, not one per micro-batch."""
    if sync or not isinstance(model, nn.Module):
        yield
    elif isinstance(model, nn.parallel.DistributedDataParallel):
        with model.no_sync():
            yield
    elif is_sharded(model):
        model.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)
    else:
        yield


# -- checkpoints: full tensors in, full tensors out, whatever the sharding -----------------------

def _full(value: Any, keep: bool = True) -> Any:
    """A DTensor's full tensor on the CPU (collective), or None where not `keep`: only rank 0
    writes files, and N full copies of a large model would not fit the host's memory."""
    if not isinstance(value, DTensor):
        return value
    full = value.full_tensor()
    return full.cpu() if keep else None


def _like(value: Any, live: Any) -> Any:
    """A full tensor cut to this rank's shard of `live` (a DTensor); else unchanged."""
    if isinstance(live, DTensor) and torch.is_tensor(value) and not isinstance(value, DTensor):
        # every rank holds the whole tensor (all read the same file): cut locally, no traffic
        return distribute_tensor(value.to(live.device_mesh.device_type), live.device_mesh,
                                 live.placements, src_data_rank=None)
    return value


class _Gathered:
    """A module's or optimizer's state, gathered to full tensors (collective under FSDP)."""

    def __init__(self, obj: nn.Module | torch.optim.Optimizer) -> None:
        keep = dist.get_rank() == 0
        sd = obj.state_dict()
        if isinstance(obj, torch.optim.Optimizer):
            sd = {**sd, "state": {i: {k: _full(v, keep) for k, v in entry.items()}
                                  for i, entry in sd["state"].items()}}
        else:
            sd = {k: _full(v, keep) for k, v in sd.items()}
        self.sd = sd

    def state_dict(self) -> dict:
        return self.sd


class _Sharding:
    """Loads full state dicts into a sharded module or its optimizer (collective)."""

    def __init__(self, obj: nn.Module | torch.optim.Optimizer) -> None:
        self.obj = obj

    def load_state_dict(self, sd: dict) -> None:
        if isinstance(self.obj, torch.optim.Optimizer):
            params = [p for group in self.obj.param_groups for p in group["params"]]
            sd = {**sd, "state": {i: {k: _like(v, params[int(i)]) if k != "step" else v
                                      for k, v in entry.items()}
                                  for i, entry in sd["state"].items()}}
        else:
            live = self.obj.state_dict()
            sd = {k: _like(v, live.get(k)) for k, v in sd.items()}
        self.obj.load_state_dict(sd)


def _sharded_anywhere(objs: dict[str, Any]) -> bool:
    for obj in objs.values():
        if isinstance(obj, torch.optim.Optimizer):
            if any(isinstance(p, DTensor) for g in obj.param_groups for p in g["params"]):
                return True
        elif is_sharded(obj):
            return True
    return False


def for_saving(objs: dict[str, Any]) -> dict[str, Any]:
    """What `train_state.save` writes for these modules/optimizers: themselves (unwrapped), or,
    when sharded, their full state gathered now. Call on EVERY rank; rank 0 then saves."""
    if not _sharded_anywhere(objs):
        return {k: unwrap(v) if isinstance(v, nn.Module) else v for k, v in objs.items()}
    return {k: _Gathered(unwrap(v) if isinstance(v, nn.Module) else v) for k, v in objs.items()}


def for_loading(objs: dict[str, Any]) -> dict[str, Any]:
    """What `train_state.load` restores into: themselves (unwrapped), or loaders that cut the
    saved full tensors to each rank's shards. Call on every rank."""
    if not _sharded_anywhere(objs):
        return {k: unwrap(v) if isinstance(v, nn.Module) else v for k, v in objs.items()}
    return {k: _Sharding(unwrap(v) if isinstance(v, nn.Module) else v) for k, v in objs.items()}


def full_model(model: nn.Module, d: Dist) -> nn.Module:
    """The plain module with full weights, for exporting on rank 0: the model itself unless
    sharded; a sharded DiT is gathered (collective: call on every rank) into a fresh CausalDiT
    on rank 0 (the other ranks get their sharded model back)."""
    model = unwrap(model)
    if not is_sharded(model):
        return model
    sd = {k: _full(v, d.main) for k, v in model.state_dict().items()}
    if not d.main:
        return model
    plain = CausalDiT(model.cfg)
    plain.load_state_dict(sd)
    return plain.to(d.device)


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


def teardown() -> None:
    """Leave the process group (once per process, when its training is over)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def average_grads(model: nn.Module, d: Dist) -> None:
    """All-reduce gradients by hand, for a model trained through a method other than its
    forward (stage 3 rolls the generator out through `forward_chunk`, which DDP does not see).
    Missing gradients count as zeros so every rank reduces the same tensors. A sharded model
    reduces its gradients itself."""
    if d.world == 1 or is_sharded(model):
        return
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
        p.grad /= d.world

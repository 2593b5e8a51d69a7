"""What every stage shares: the run folder, optimizers with warm-up, autocast, EMA, resumable
checkpoints every N steps, logs and curves."""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from liveedit_app.distill import distributed, train_state
from liveedit_app.distill.config import StageConfig, TrainConfig
from liveedit_app.distill.logbook import Logbook
from liveedit_app.errors import TrainingError


def adamw(params, lr: float, cfg: StageConfig, betas: tuple[float, float] | None = None
          ) -> torch.optim.AdamW:
    params = [p for p in params if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, betas=betas or cfg.betas,
                             weight_decay=cfg.weight_decay)


def set_lr(opt: torch.optim.Optimizer, base: float, step: int, warmup: int,
           progress: float = 0.0, final: float = 1.0) -> None:
    """Linear warm-up to `base`, then a cosine from `base` to `final` x `base` as `progress`
    (share of the stage's steps or minutes spent) goes from 0 to 1; `final` 1 = constant."""
    p = min(max(progress, 0.0), 1.0)
    lr = base * min(1.0, (step + 1) / max(warmup, 1))
    lr *= final + (1 - final) * 0.5 * (1 + math.cos(math.pi * p))
    for group in opt.param_groups:
        group["lr"] = lr


def clip_and_step(opt: torch.optim.Optimizer, model: nn.Module, clip: float) -> float:
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return float(norm)


class EMA(nn.Module):
    """An exponential moving average of a model's weights (a frozen copy)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.shadow = copy.deepcopy(distributed.unwrap(model)).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        src = distributed.unwrap(model).state_dict()
        for key, value in self.shadow.state_dict().items():
            if value.dtype.is_floating_point:
                value.lerp_(src[key].to(value.dtype), 1 - decay)
            else:
                value.copy_(src[key])


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on any device (CPUs with bf16 units run it fast too), or nothing."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def choose_compiled(model: nn.Module, mode: str, trial: Callable[[nn.Module], object],
                    device: torch.device, d: distributed.Dist, *, repeats: int = 3,
                    compile_fn: Callable[[nn.Module], nn.Module] = torch.compile,
                    log: Callable[[str], None] = print) -> tuple[nn.Module, dict[str, Any]]:
    """The module a stage trains through: `model` itself or `torch.compile(model)`.

    `trial(m)` runs one training forward and backward of `m` on a fixed batch and clears the
    gradients it made. mode "off": `model`. "on": compiled (the first trial compiles it; any
    error there keeps `model`). "auto": as "on", then `repeats` trials of each are timed and the
    compiled one is kept only if its median is at least 5 % faster (rank 0 decides for all).
    Returns the module and what was measured (for the stage's metrics)."""
    report: dict[str, Any] = {"mode": mode, "chosen": "eager"}
    if mode == "off":
        return model, report
    began = time.perf_counter()
    try:
        compiled = compile_fn(model)
        trial(compiled)
        _sync(device)
    except Exception as exc:  # noqa: BLE001 - any compiler failure means: train eagerly
        model.zero_grad(set_to_none=True)  # a backward that failed half-way left gradients
        report["error"] = f"{type(exc).__name__}: {exc}"[:500]
        log(f"torch.compile failed, training eagerly: {report['error']}")
        return model, report
    report["compile_s"] = round(time.perf_counter() - began, 2)
    if mode == "on":
        report["chosen"] = "compiled"
        return compiled, report

    def median_ms(m: nn.Module) -> float:
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            trial(m)
            _sync(device)
            times.append(time.perf_counter() - began)
        return 1000 * sorted(times)[len(times) // 2]

    trial(model)  # eager warm-up (cuDNN/cuBLAS choices), untimed
    report["eager_ms"] = round(median_ms(model), 3)
    report["compiled_ms"] = round(median_ms(compiled), 3)
    faster = distributed.agree(report["compiled_ms"] < 0.95 * report["eager_ms"], d)
    report["chosen"] = "compiled" if faster else "eager"
    log(f"torch.compile: {report['compiled_ms']:.1f} ms a step against {report['eager_ms']:.1f} "
        f"eager (compiling took {report['compile_s']:.0f} s): training {report['chosen']}")
    return (compiled if faster else model), report


NEXT_STAGE = "NEXT_STAGE"


class Run:
    """One stage's run: its folder `<out>/<stage>/`, rank-0 logging, checkpoints, resume."""

    def __init__(self, cfg: TrainConfig, out: str | Path, stage: str) -> None:
        self.cfg = cfg
        self.stage = stage
        self.scfg = cfg.stage(stage)
        self.root = Path(out)
        self.folder = self.root / stage
        self.dist = distributed.setup(cfg.device, cfg.parallel, cfg.precision)
        torch.manual_seed(cfg.seed + 1000 * self.dist.rank)
        self.device = self.dist.device
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.log = Logbook(self.folder, stage, enabled=self.dist.main)
        # alike on every rank: each draws the whole global batch's randomness, keeps its rows
        self.generator = torch.Generator().manual_seed(cfg.seed * 7919)
        self.noise_generator = torch.Generator(self.device).manual_seed(cfg.seed * 7919 + 1)
        self.started: float | None = None  # the training loop's first budget check

    @property
    def checkpoint(self) -> Path:
        return self.folder / "checkpoint"

    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, self.cfg.precision)

    def resume(self, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]
               ) -> tuple[int, dict[str, Any]]:
        """(step, extra) of the last checkpoint, restored into the given objects; (0, {}) if none.
        Every rank reads the same files."""
        if not train_state.exists(self.checkpoint):
            return 0, {}
        step, extra = train_state.load(self.checkpoint, distributed.for_loading(modules),
                                       distributed.for_loading(optimizers))
        self.generator.manual_seed(self.cfg.seed * 7919 + 104729 * step)
        self.noise_generator.manual_seed(self.cfg.seed * 7919 + 1 + 104729 * step)
        self.log.say(f"resumed at step {step} from {self.checkpoint}")
        return step, extra

    def save(self, step: int, modules: dict[str, nn.Module],
             optimizers: dict[str, torch.optim.Optimizer], extra: dict[str, Any] | None = None
             ) -> None:
        modules, optimizers = distributed.for_saving(modules), distributed.for_saving(optimizers)
        if self.dist.main:
            train_state.save(self.checkpoint, step, modules, optimizers, extra)
            self.log.plot()
        distributed.barrier(self.dist)

    def local(self, x: torch.Tensor) -> torch.Tensor:
        """This rank's rows of something drawn for the whole global batch."""
        return distributed.local(x, self.dist)

    def noise(self, like: torch.Tensor) -> torch.Tensor:
        """Gaussian noise shaped like this rank's rows `like`, cut from the global batch's."""
        shape = (like.shape[0] * self.dist.world, *like.shape[1:])
        eps = torch.randn(shape, generator=self.noise_generator, device=self.device)
        return self.local(eps).to(like.dtype)

    def micro_batches(self, rows: int) -> list[slice]:
        """This rank's rows in the forwards a step accumulates (`micro_batch` per forward)."""
        size = self.scfg.micro_batch or rows
        if rows % size:
            raise TrainingError(f"A rank's share of the batch ({rows}) must be a multiple of "
                                f"micro_batch ({size}).", details=f"stage {self.stage}")
        return [slice(i, i + size) for i in range(0, rows, size)]

    def should_save(self, step: int) -> bool:
        return step % self.scfg.save_every == 0 or step == self.scfg.steps

    def progress(self, step: int) -> float:
        """Share of the stage spent: of its steps, or of its minute budget if that ends first."""
        done = step / max(self.scfg.steps, 1)
        if self.scfg.minutes > 0 and self.started is not None:
            done = max(done, (time.perf_counter() - self.started) / (60 * self.scfg.minutes))
        return done

    @property
    def next_stage_file(self) -> Path:
        """Touch `<out>/NEXT_STAGE` to end the running stage at its next step (it saves and
        exports as at the end of its budget); the stage removes the file when it finishes."""
        return self.root / NEXT_STAGE

    def start_budget(self) -> None:
        """Start the stage's minute budget now (else its first `out_of_time` starts it)."""
        if self.started is None:
            self.started = time.perf_counter()

    def out_of_time(self) -> bool:
        """True once the stage's minute budget is spent or `NEXT_STAGE` was touched (decided by
        rank 0 for all ranks)."""
        self.start_budget()
        late = self.scfg.minutes > 0 and time.perf_counter() - self.started > 60 * self.scfg.minutes
        return distributed.agree(late or self.next_stage_file.exists(), self.dist)

    def should_log(self, step: int) -> bool:
        return step % self.scfg.log_every == 0 or step == self.scfg.steps or step == 1

    def finish(self) -> None:
        if self.dist.main:
            self.log.plot()
            self.next_stage_file.unlink(missing_ok=True)
        distributed.barrier(self.dist)


class Meter:
    """Means of logged values over the steps since the last log line (and over ranks)."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, **values: torch.Tensor | float) -> None:
        for key, value in values.items():
            value = value.detach().float() if torch.is_tensor(value) else torch.tensor(value)
            self.sums[key] = self.sums.get(key, 0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def flush(self, d: distributed.Dist) -> dict[str, float]:
        out = {k: distributed.mean(s / self.counts[k], d).item() for k, s in self.sums.items()}
        self.sums.clear()
        self.counts.clear()
        return out

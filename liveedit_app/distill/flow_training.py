"""The flow-matching loop shared by stage 1 (bidirectional) and stage 2 (causal, teacher forcing).

Per step: draw examples, noise the *target* latents to x_t at per-frame timesteps, predict the
velocity from (x_t, source latents, mask, prompt) and regress it on ε − x0 (brief §7), with more
weight inside the mask of region edits. Weights go to `<out>/<stage>/dit.safetensors` and a
model folder `<out>/<stage>/model/` that `StreamEditor.load` opens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from liveedit_app.distill import distributed
from liveedit_app.distill.batches import Batch, Batches
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.export import export_model
from liveedit_app.distill.flow import flow_loss, noisy
from liveedit_app.distill.stage0_autoencoder import load_autoencoder
from liveedit_app.distill.trainer import (
    Meter,
    Run,
    adamw,
    choose_compiled,
    clip_and_step,
    set_lr,
)
from liveedit_app.engine.dit import CausalDiT

DIT_WEIGHTS = "dit.safetensors"

# (model, batch, x_t, t) -> velocity; t [B, F]
Forward = Callable[[torch.nn.Module, Batch, torch.Tensor, torch.Tensor], torch.Tensor]
# (batch size, frames, generator, device) -> t [B, F]
Timesteps = Callable[[int, int, torch.Generator, torch.device], torch.Tensor]


def load_dit(cfg: TrainConfig, path: str | Path, device: torch.device) -> CausalDiT:
    dit = CausalDiT(cfg.model.dit)
    dit.load_state_dict(load_file(str(path)))
    return dit.to(device)


def load_init(dit: CausalDiT, path: str | Path) -> None:
    """Start from earlier weights, strictly, except that weights without the pooled-prompt branch
    may start a model with one (the branch ends in zeros: the model begins as the one it
    continues)."""
    state = load_file(str(path))
    if dit.cfg.pooled_text and not any(k.startswith("text_pooling.") for k in state):
        state.update({k: v for k, v in dit.state_dict().items() if k.startswith("text_pooling.")})
    dit.load_state_dict(state)


def region_weight(batch: Batch, mask_weight: float) -> torch.Tensor:
    """[B, F, 1, h, w]: 1 everywhere, `mask_weight` inside the mask of region edits."""
    inside = batch.mask * batch.region.to(batch.mask.dtype)[:, None, None, None, None]
    return 1 + (mask_weight - 1) * inside


def train_flow(cfg: TrainConfig, out: str | Path, stage: str, *, forward: Forward,
               timesteps: Timesteps, init: Path | None, description: str) -> dict:
    r = Run(cfg, out, stage)
    s = r.scfg
    dit = CausalDiT(cfg.model.dit).to(r.device)
    init = Path(s.init) if s.init else init
    if init is not None:
        load_init(dit, init)
    model = distributed.wrap(dit, r.dist)  # before the optimizer: FSDP swaps the parameters
    opt = adamw(dit.parameters(), s.lr, s)
    step, _ = r.resume({"dit": dit}, {"opt": opt})
    batches = Batches(cfg, out, r.dist, r.generator)

    def part_loss(m: torch.nn.Module, part: Batch, x_t: torch.Tensor, t: torch.Tensor,
                  noise: torch.Tensor) -> torch.Tensor:
        with r.autocast():
            v = forward(m, part, x_t, t)
        return flow_loss(v, part.target, noise, t, region_weight(part, s.mask_weight))

    def trial(m: torch.nn.Module) -> None:  # one micro-batch outside the training stream
        gen = torch.Generator().manual_seed(cfg.seed + 17)
        b = batches.sample(s.batch, s.cfg_dropout, generator=gen)
        rows = r.micro_batches(len(b.target))[0]
        b = Batch(*(getattr(b, f.name)[rows] for f in fields(Batch)))
        t = r.local(timesteps(s.batch, b.target.shape[1], gen, r.device))[rows]
        noise = torch.randn_like(b.target)
        part_loss(m, b, noisy(b.target, noise, t), t, noise).backward()
        opt.zero_grad(set_to_none=True)

    r.start_budget()  # compiling counts against the stage's minutes
    fast, compiled = choose_compiled(model, s.compile, trial, r.device, r.dist,
                                     log=r.log.say)
    meter = Meter()
    while step < s.steps and not r.out_of_time():
        b = batches.sample(s.batch, s.cfg_dropout)  # this rank's rows of the global batch
        frames = b.target.shape[1]
        t = r.local(timesteps(s.batch, frames, r.generator, r.device))
        noise = r.noise(b.target)
        x_t = noisy(b.target, noise, t)
        set_lr(opt, s.lr, step, s.warmup, r.progress(step), s.lr_final)
        parts = r.micro_batches(len(b.target))
        loss = 0.0
        for i, rows in enumerate(parts):
            part = Batch(*(getattr(b, f.name)[rows] for f in fields(Batch)))
            with distributed.accumulating(model, sync=i == len(parts) - 1):
                one = part_loss(fast, part, x_t[rows], t[rows], noise[rows]) / len(parts)
                one.backward()
            loss = loss + one.detach()
        meter.add(loss=loss, grad_norm=clip_and_step(opt, model, s.grad_clip))
        step += 1
        if r.should_log(step):
            r.log.log(step, **meter.flush(r.dist), lr=opt.param_groups[0]["lr"])
        if r.should_save(step):
            r.save(step, {"dit": dit}, {"opt": opt})
    if not r.should_save(step):  # stopped by the minute budget between saves
        r.save(step, {"dit": dit}, {"opt": opt})
    dit = distributed.full_model(dit, r.dist)  # gathers a sharded DiT (every rank takes part)
    if r.dist.main:
        save_file({k: v.detach().cpu().contiguous() for k, v in dit.state_dict().items()},
                  str(r.folder / DIT_WEIGHTS))
        ae = load_autoencoder(cfg, out, r.device)
        training = {"stage": stage, "steps": step, "batch": s.batch, "processes": r.dist.world,
                    "lr": s.lr, "compile": compiled}
        export_model(r.folder / "model", cfg, dit, ae, training=training,
                     description=description)
        (r.folder / "metrics.json").write_text(json.dumps(training, indent=1))
    r.finish()
    return {"steps": step}

"""Stage 3: distribution matching distillation (DMD) with a self-forcing rollout (brief §7).

Networks: the generator starts from stage 2 and streams exactly as at inference (chunk by chunk
through its KV cache, the model's own sampler steps, the clean refresh pass); the real score is
the frozen stage-1 teacher with classifier-free guidance; the fake score (critic) starts from
stage 1 and learns the generator's output distribution by flow matching.

Per iteration the critic takes one step on a fresh rollout; every `generator_every`-th iteration
the generator also steps: one random exit step (shared by all chunks) carries the gradient, and
the DMD gradient is (x0_fake − x0_real) / mean|x − x0_real| at a random timestep. An optional
regression of x0 on the true edit target (`regression` > 0) uses the pairs our data has (the
reference ignores them). EMA of the generator from `ema_start`; the EMA is what ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from liveedit_app.distill import distributed
from liveedit_app.distill.batches import Batch, Batches
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.export import export_model
from liveedit_app.distill.flow import flow_loss, noisy, sample_timesteps
from liveedit_app.distill.flow_training import DIT_WEIGHTS, load_dit, region_weight
from liveedit_app.distill.stage0_autoencoder import load_autoencoder
from liveedit_app.distill.trainer import (
    EMA,
    Meter,
    Run,
    adamw,
    choose_compiled,
    clip_and_step,
    set_lr,
)
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk

DMD_SHIFT = 5.0  # the real/fake-score timestep warp and clamp of brief §7
DMD_T_RANGE = (20.0, 980.0)


def rollout(dit: CausalDiT, cfg: TrainConfig, sampler: FlowSampler, batch: Batch, frames: int,
            *, exit_step: int | None, grad: bool,
            draw: Callable[[torch.Tensor], torch.Tensor] = torch.randn_like) -> torch.Tensor:
    """Stream `frames` latent frames chunk by chunk through a fresh KV cache -> x0 [B, F, ...].

    With grad, only the exit step of each chunk (and the prompt's cross-attention K/V) is in the
    graph; the cache holds detached K/V (see engine.stream.generate_chunk)."""
    sc = cfg.model.sampler
    device = dit.patch_embedding.weight.device
    # fp32 (TF32 on GPUs): under autocast the engine's K and V leave the attention in different
    # dtypes, which one cache cannot hold; the parallel forwards elsewhere keep autocast
    with torch.autocast(device.type, enabled=False):
        with torch.set_grad_enabled(grad):
            ctx_kv = dit.context_kv(batch.ctx.float())
        cache = dit.new_cache(batch=batch.ctx.shape[0],
                              tokens_per_frame=cfg.model.tokens_per_frame,
                              window_frames=sc.window_frames, sink_frames=sc.sink_frames)
        state = StreamState(cache, ctx_kv)
        out = []
        for start in range(0, frames, sc.chunk_frames):
            part = slice(start, start + sc.chunk_frames)
            noise = draw(batch.source[:, part])  # each chunk's starting noise
            out.append(generate_chunk(dit, sampler, state, noise, batch.source[:, part],
                                      mask=batch.mask[:, part], refresh=sc.refresh,
                                      context_noise=sc.context_noise, exit_step=exit_step,
                                      grad=grad))
    return torch.cat(out, dim=1)


def _crop(batch: Batch, frames: int) -> Batch:
    return Batch(batch.source[:, :frames], batch.target[:, :frames], batch.mask[:, :frames],
                 batch.region, batch.ctx, batch.edit)


def guided_velocity(model: CausalDiT, batch: Batch, x_t: torch.Tensor, t: torch.Tensor,
                    guidance: float) -> torch.Tensor:
    """Bidirectional velocity with classifier-free guidance (zeros = the empty prompt)."""
    both = model(torch.cat([x_t, x_t]), torch.cat([batch.source, batch.source]),
                 torch.cat([t, t]), torch.cat([batch.ctx, torch.zeros_like(batch.ctx)]),
                 mask=torch.cat([batch.mask, batch.mask]), attn="full")
    cond, uncond = both.float().chunk(2)
    return uncond + guidance * (cond - uncond)


def run(cfg: TrainConfig, out: str | Path) -> dict:
    r = Run(cfg, out, "stage3")
    s = r.scfg
    out = Path(out)
    gen = load_dit(cfg, s.init or out / "stage2" / DIT_WEIGHTS, r.device).train()
    real = load_dit(cfg, out / "stage1" / DIT_WEIGHTS, r.device).eval().requires_grad_(False)
    fake = load_dit(cfg, out / "stage1" / DIT_WEIGHTS, r.device).train()
    ema = EMA(gen)
    for model in (gen, real, ema.shadow):  # FSDP shards them in place (before the optimizers)
        distributed.shard(model, r.dist, mixed=model is not gen)  # the rollout streams in fp32
    critic = distributed.wrap(fake, r.dist)
    opt_g = adamw(gen.parameters(), s.lr, s, betas=s.dmd_betas)
    opt_c = adamw(fake.parameters(), s.lr_critic, s, betas=s.dmd_betas)
    modules = {"generator": gen, "critic": fake, "generator_ema": ema.shadow}
    step, _ = r.resume(modules, {"opt_g": opt_g, "opt_c": opt_c})
    sampler = FlowSampler(cfg.model.sampler.steps, cfg.model.sampler.shift)
    frames = min(cfg.data.latent_frames, s.rollout_chunks * cfg.model.sampler.chunk_frames)
    batches = Batches(cfg, out, r.dist, r.generator)
    n_steps = len(sampler.steps)

    def critic_loss(m: torch.nn.Module, b: Batch, xg: torch.Tensor, t: torch.Tensor,
                    noise: torch.Tensor) -> torch.Tensor:
        with r.autocast():
            v = m(noisy(xg, noise, t), b.source, t, b.ctx, mask=b.mask, attn="full")
        return flow_loss(v, xg, noise, t)

    def trial(m: torch.nn.Module) -> None:  # a critic step's forward and backward, on targets
        gen = torch.Generator().manual_seed(cfg.seed + 17)
        b = _crop(batches.sample(s.batch, generator=gen), frames)
        t = r.local(sample_timesteps((s.batch, 1), cfg.stage1.shift, gen, r.device))
        critic_loss(m, b, b.target, t.expand(-1, frames), torch.randn_like(b.target)).backward()
        opt_c.zero_grad(set_to_none=True)

    r.start_budget()  # compiling counts against the stage's minutes
    fast_critic, compiled = choose_compiled(critic, s.compile, trial, r.device, r.dist,
                                            log=r.log.say)
    meter = Meter()
    while step < s.steps and not r.out_of_time():
        gen_step = step % s.generator_every == 0
        b = _crop(batches.sample(s.batch), frames)
        exit_step = int(torch.randint(n_steps, (1,), generator=r.generator))
        with r.autocast():
            x0 = rollout(gen, cfg, sampler, b, frames, exit_step=exit_step, grad=gen_step,
                         draw=r.noise)
        x0 = x0.float()

        if gen_step:
            set_lr(opt_g, s.lr, step // s.generator_every, s.warmup, r.progress(step),
                   s.lr_final)
            bsz = x0.shape[0]
            t = r.local(sample_timesteps((s.batch, 1), DMD_SHIFT, r.generator, r.device,
                                         *DMD_T_RANGE)).expand(bsz, frames)
            x_t = noisy(x0.detach(), r.noise(x0), t)
            with torch.no_grad(), r.autocast():
                v_real = guided_velocity(real, b, x_t, t, s.guidance)
                x0_real = x_t - (t / 1000)[:, :, None, None, None] * v_real
                v_fake = fake(x_t, b.source, t, b.ctx, mask=b.mask, attn="full").float()
            x0_fake = x_t - (t / 1000)[:, :, None, None, None] * v_fake
            scale = (x0.detach() - x0_real).abs().mean(dim=(1, 2, 3, 4), keepdim=True)
            g = (x0_fake - x0_real) / scale.clamp_min(1e-6)
            loss_dmd = 0.5 * F.mse_loss(x0, (x0 - g).detach())
            loss_g = loss_dmd
            if s.regression > 0:
                w = region_weight(b, s.mask_weight)
                loss_reg = ((x0 - b.target) ** 2 * w).mean()
                loss_g = loss_g + s.regression * loss_reg
                meter.add(loss_regression=loss_reg)
            loss_g.backward()
            distributed.average_grads(gen, r.dist)
            clip_and_step(opt_g, gen, s.grad_clip)
            gen_updates = step // s.generator_every + 1
            if gen_updates >= s.ema_start:
                ema.update(gen, s.ema)
            else:
                ema.update(gen, 0.0)
            meter.add(loss_dmd=loss_dmd, target_mse=F.mse_loss(x0.detach(), b.target))

        set_lr(opt_c, s.lr_critic, step, s.warmup, r.progress(step), s.lr_final)
        xg = x0.detach()
        t2 = r.local(sample_timesteps((s.batch, 1), cfg.stage1.shift, r.generator,
                                      r.device)).expand(xg.shape[0], frames)
        loss_c = critic_loss(fast_critic, b, xg, t2, r.noise(xg))
        loss_c.backward()
        clip_and_step(opt_c, critic, s.grad_clip)
        meter.add(loss_critic=loss_c)
        step += 1
        if r.should_log(step):
            r.log.log(step, **meter.flush(r.dist))
        if r.should_save(step):
            r.save(step, modules, {"opt_g": opt_g, "opt_c": opt_c})
    if not r.should_save(step):  # stopped by the minute budget between saves
        r.save(step, modules, {"opt_g": opt_g, "opt_c": opt_c})

    modules = {k: distributed.full_model(m, r.dist) for k, m in modules.items()}
    if r.dist.main:
        for name, module in modules.items():
            save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                      str(r.folder / f"{name}.safetensors"))
        ae = load_autoencoder(cfg, out, r.device)
        training = {"stage": "stage3", "iterations": step,
                    "generator_updates": -(-step // s.generator_every),
                    "batch": s.batch, "processes": r.dist.world, "guidance": s.guidance,
                    "regression": s.regression, "ema": s.ema, "compile": compiled}
        export_model(r.folder / "model", cfg, modules["generator_ema"], ae, training=training,
                     description="Stage-3 few-step streaming student (DMD + self-forcing, EMA).")
        (r.folder / "metrics.json").write_text(json.dumps(training, indent=1))
    r.finish()
    return {"steps": step}

"""The model card's numbers, on held-out seeds and phrasings at the training resolution.

For each held-out clip: the 4-step streaming student (stage-3 EMA, chunk by chunk through its KV
cache, exactly as the editor runs it) and the 50-step bidirectional stage-1 teacher (Euler ODE,
the same guidance as the DMD real score) edit the source; both are decoded and composited with
the chunk mask the editor would use. Reported, overall and per edit:

* `correct`: the output is closer to its edit's target than to any other edit's target;
* `psnr_region_db`: PSNR to the target inside the edited region (the object, or the frame);
* `outside_equal`: share of pixels outside the mask equal to the source (region edits);
* `flicker_ratio`: frame-to-frame change of the output over that of the target;
* teacher numbers and the student-teacher gap; `stage2_*`: the stage-2 causal model streamed
  with the same 4 steps (what DMD adds); `ae_ceiling_db`: the autoencoder's own PSNR on the
  target (no editor can beat it);
* `app_*`: the same through `StreamEditor` itself (its default mask cache and feathering).

Writes `<out>/eval/metrics.json`.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from liveedit_app.contract import Frame
from liveedit_app.distill import distributed
from liveedit_app.distill.batches import Batch, chunk_mask
from liveedit_app.distill.config import TrainConfig
from liveedit_app.distill.data.edits import EDIT_KEYS, EDITS
from liveedit_app.distill.data.generator import EditExampleGenerator, to_uint8
from liveedit_app.distill.data.phrasings import all_instructions
from liveedit_app.distill.flow import ode_sample
from liveedit_app.distill.flow_training import DIT_WEIGHTS, load_dit
from liveedit_app.distill.latents import mask_to_latent, pixels_to_tensor
from liveedit_app.distill.metrics import (
    edit_region,
    flicker,
    nearest_edit,
    outside_equal_share,
    psnr,
    summarize,
)
from liveedit_app.distill.prompts import prompt_embeddings
from liveedit_app.distill.stage0_autoencoder import load_autoencoder
from liveedit_app.distill.stage3_dmd import guided_velocity, rollout
from liveedit_app.distill.trainer import autocast
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.errors import TrainingError

CLASSIFY_SIZE = 128  # targets compared at this size (keeps 19 targets per clip in memory)
_GEN: EditExampleGenerator | None = None


def _init(h: int, w: int, f: int) -> None:
    cv2.setNumThreads(1)
    global _GEN
    _GEN = EditExampleGenerator(h, w, f, "heldout")


def _small(clip: np.ndarray) -> np.ndarray:
    return np.stack([cv2.resize(f, (CLASSIFY_SIZE, CLASSIFY_SIZE), interpolation=cv2.INTER_AREA)
                     for f in clip])


def _case(index: int) -> dict:
    """One held-out clip with its own edit's target and every edit's target (small)."""
    scene = _GEN.scene(index)
    edit, instruction = _GEN.pick_edit(index)
    targets = {e.key: to_uint8(e.apply(scene)) for e in EDITS}
    return {"source": to_uint8(scene.source), "mask": scene.mask if edit.region else None,
            "target": targets[edit.key], "small": {k: _small(v) for k, v in targets.items()},
            "edit": edit.key, "instruction": instruction, "seed": _GEN.seed(index)}


def held_out_cases(cfg: TrainConfig) -> list[dict]:
    d = cfg.data
    args = (d.height, d.width, d.latent_frames)
    workers = os.cpu_count() if d.workers < 0 else d.workers
    if workers:
        with mp.get_context("fork").Pool(workers, _init, args) as pool:
            return pool.map(_case, range(cfg.eval.clips), chunksize=1)
    _init(*args)
    return [_case(i) for i in range(cfg.eval.clips)]


def case_batch(part: list[dict], ae, prompts: torch.Tensor, chunk: int,
               device: torch.device) -> Batch:
    """Held-out cases as a model batch: encoded sources (also in `target`'s place: there is no
    target at sampling time), chunk masks in latent pixels, prompt rows. `prompts`: the prompt
    table, one row per phrasing of `all_instructions()`."""
    index = {t: i for i, t in enumerate(all_instructions())}
    src = pixels_to_tensor(np.stack([c["source"] for c in part]), device)
    masks = torch.stack([torch.from_numpy(c["mask"]) if c["mask"] is not None
                         else torch.ones(src.shape[1], *src.shape[-2:]) for c in part])
    lat_mask = chunk_mask(mask_to_latent(masks.to(device), ae.spatial_factor), chunk)
    ctx = prompts[[index[c["instruction"]] for c in part]].to(device)
    y = ae.encode(src).float()
    return Batch(y, y, lat_mask, torch.tensor([c["mask"] is not None for c in part]), ctx,
                 torch.zeros(len(part), dtype=torch.long))


def _pixel_chunk_mask(mask: np.ndarray | None, chunk: int) -> np.ndarray | None:
    """[F, H, W] -> the union over each chunk's frames (what the editor holds per chunk)."""
    if mask is None:
        return None
    out = mask.copy()
    for s in range(0, len(mask), chunk):
        out[s:s + chunk] = mask[s:s + chunk].max(0)
    return out


def composite(source: np.ndarray, edited: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    if alpha is None:
        return edited
    a = alpha[..., None]
    mix = (source.astype(np.float32) + (edited.astype(np.float32) - source) * a).round()
    return np.where(a > 0, mix.clip(0, 255), source).astype(np.uint8)


def _to_uint8(frames: torch.Tensor) -> np.ndarray:
    """[B, F, 3, H, W] in [0, 1] -> uint8 [B, F, H, W, 3]."""
    return (frames.float().clamp(0, 1) * 255).round().to(torch.uint8).permute(
        0, 1, 3, 4, 2).cpu().numpy()


def _app_rows(cfg: TrainConfig, out: Path, cases: list[dict], prompts: torch.Tensor,
              device: torch.device) -> list[dict]:
    """The `app_*` numbers of every case, through `StreamEditor` (the shipped path), mask set
    per chunk. `prompts`: the prompt table, one row per phrasing of `all_instructions()`."""
    from liveedit_app.engine.checkpoint import load_dit as load_card_dit
    from liveedit_app.engine.checkpoint import read_card
    from liveedit_app.engine.components import build_autoencoder
    from liveedit_app.engine.editor import StreamEditor
    from liveedit_app.engine.text import TableTextEncoder

    folder, _card, mcfg = read_card(out / "stage3" / "model")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    dit = load_card_dit(folder, mcfg, device=device, dtype=dtype)
    ae = build_autoencoder(mcfg.autoencoder, mcfg.autoencoder_params, folder)
    index = {t: i for i, t in enumerate(all_instructions())}
    text_table = {t: prompts[index[t]] for t in {c["instruction"] for c in cases}}
    editor = StreamEditor(mcfg, dit, ae, TableTextEncoder(text_table), device=device,
                          dtype=dtype)
    return [_app_row(case, stream_case(editor, case), cfg.model.sampler.chunk_frames)
            for case in cases]


def stream_case(editor, case: dict) -> np.ndarray:
    """One held-out case through a `StreamEditor` as the app runs it (`start_case`, then
    `push_case`) -> uint8 [F, H, W, 3]."""
    start_case(editor, case)
    return push_case(editor, case)


def start_case(editor, case: dict) -> None:
    """A fresh stream with the case's prompt (encoding it is not streaming: timed apart)."""
    editor.reset()
    editor.set_prompt(case["instruction"])


def push_case(editor, case: dict) -> np.ndarray:
    """The case's frames pushed one by one, the mask set at each chunk's first frame, then
    flushed -> uint8 [F, H, W, 3]."""
    chunk = editor.frames_per_chunk
    mask = _pixel_chunk_mask(case["mask"], chunk)
    frames = []
    for i, rgb in enumerate(case["source"]):
        if i % chunk == 0:
            editor.set_mask(None if mask is None else mask[i].astype(np.float32))
        frames += editor.push(Frame(rgb=rgb, pts=i / 16, index=i))
    frames += editor.flush()
    return np.stack([f.rgb for f in frames])


def _app_row(case: dict, a_out: np.ndarray, chunk: int) -> dict:
    alpha = _pixel_chunk_mask(case["mask"], chunk)
    region = edit_region(case["mask"], case["source"].shape)
    return {
        "app_correct": float(nearest_edit(_small(a_out), case["small"]) == case["edit"]),
        "app_psnr_region_db": psnr(a_out, case["target"], region),
        "app_outside_equal": (outside_equal_share(a_out, case["source"], alpha)
                              if alpha is not None else math.nan),
    }


def _write(out: Path, rows: list[dict], setup: dict) -> dict:
    summary = summarize(rows)
    summary["setup"] = setup
    folder = out / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(summary, indent=1))
    (folder / "rows.json").write_text(json.dumps(rows, indent=0))
    print(json.dumps({k: v for k, v in summary.items() if k != "per_edit"}, indent=1))
    return summary


@torch.no_grad()
def rerun_app(cfg: TrainConfig, out: str | Path) -> dict:
    """Re-measure only the `app_*` numbers of an earlier evaluation (after a change to the
    editor's streaming or compositing; no GPU needed): the same held-out cases through
    `StreamEditor`, the student and teacher numbers kept."""
    out = Path(out)
    folder = out / "eval"
    if not (folder / "rows.json").is_file():
        raise TrainingError("--app-only re-measures an earlier evaluation: run the eval stage "
                            "first.", details=f"no {folder / 'rows.json'}")
    rows = json.loads((folder / "rows.json").read_text())
    setup = json.loads((folder / "metrics.json").read_text())["setup"]
    cases = held_out_cases(cfg)
    if [(c["seed"], c["edit"]) for c in cases] != [(r["seed"], r["edit"]) for r in rows]:
        raise TrainingError("The held-out cases differ from the earlier evaluation's.",
                            details="eval.clips or the data generator changed since")
    d = distributed.setup(cfg.device)
    prompts = prompt_embeddings(cfg.data.text_table, cfg.model.dit.text_len)
    for row, app in zip(rows, _app_rows(cfg, out, cases, prompts, d.device), strict=True):
        row.update(app)
    setup["app_remeasured_on"] = str(d.device)
    return _write(out, rows, setup)


@torch.no_grad()
def run(cfg: TrainConfig, out: str | Path, app_only: bool = False) -> dict:
    if app_only:
        return rerun_app(cfg, out)
    d = distributed.setup(cfg.device)
    out = Path(out)
    if not d.main:
        distributed.barrier(d)
        return {}
    began = time.perf_counter()
    device = d.device
    cases = held_out_cases(cfg)  # before CUDA starts: the generator forks workers
    gen_seconds = time.perf_counter() - began
    ae = load_autoencoder(cfg, out, device)
    student = load_dit(cfg, out / "stage3" / "generator_ema.safetensors", device).eval()
    teacher = load_dit(cfg, out / "stage1" / DIT_WEIGHTS, device).eval()
    causal = load_dit(cfg, out / "stage2" / DIT_WEIGHTS, device).eval()
    prompts = prompt_embeddings(cfg.data.text_table, cfg.model.dit.text_len)
    sampler = FlowSampler(cfg.model.sampler.steps, cfg.model.sampler.shift)
    chunk = cfg.model.sampler.chunk_frames
    student_out, teacher_out, causal_out, recon = [], [], [], []
    torch.manual_seed(cfg.seed + 12345)
    for s in range(0, len(cases), cfg.eval.batch):
        part = cases[s:s + cfg.eval.batch]
        batch = case_batch(part, ae, prompts, chunk, device)
        y = batch.source
        tgt = pixels_to_tensor(np.stack([c["target"] for c in part]), device)
        with autocast(device, cfg.precision):
            x_student = rollout(student, cfg, sampler, batch, y.shape[1], exit_step=None,
                                grad=False)
            x_causal = rollout(causal, cfg, sampler, batch, y.shape[1], exit_step=None,
                               grad=False)
            x_teacher = ode_sample(
                lambda x, t, b=batch: guided_velocity(teacher, b, x, t, cfg.stage3.guidance),
                torch.randn_like(y), cfg.eval.teacher_steps, cfg.stage1.shift)
        student_out += list(_to_uint8(ae.decode(x_student.float())))
        teacher_out += list(_to_uint8(ae.decode(x_teacher.float())))
        causal_out += list(_to_uint8(ae.decode(x_causal.float())))
        recon += list(_to_uint8(ae.decode(ae.encode(tgt))))
    model_seconds = time.perf_counter() - began - gen_seconds
    app_rows = _app_rows(cfg, out, cases, prompts, device)

    rows = []
    for case, s_out, t_out, c_out, rec, app in zip(cases, student_out, teacher_out,
                                                   causal_out, recon, app_rows, strict=True):
        alpha = _pixel_chunk_mask(case["mask"], chunk)
        s_img = composite(case["source"], s_out, alpha)
        t_img = composite(case["source"], t_out, alpha)
        c_img = composite(case["source"], c_out, alpha)
        region = edit_region(case["mask"], case["source"].shape)
        tgt = case["target"]
        tf = max(flicker(tgt), 1e-6)
        rows.append({
            "edit": case["edit"], "instruction": case["instruction"], "seed": case["seed"],
            "correct": float(nearest_edit(_small(s_img), case["small"]) == case["edit"]),
            "psnr_region_db": psnr(s_img, tgt, region),
            "teacher_correct": float(nearest_edit(_small(t_img), case["small"]) == case["edit"]),
            "teacher_psnr_region_db": psnr(t_img, tgt, region),
            "student_minus_teacher_db": psnr(s_img, tgt, region) - psnr(t_img, tgt, region),
            "outside_equal": (outside_equal_share(s_img, case["source"], alpha)
                              if alpha is not None else math.nan),
            "flicker_ratio": flicker(s_img) / tf,
            "teacher_flicker_ratio": flicker(t_img) / tf,
            "stage2_correct": float(nearest_edit(_small(c_img), case["small"]) == case["edit"]),
            "stage2_psnr_region_db": psnr(c_img, tgt, region),
            "ae_ceiling_db": psnr(rec, tgt, region),
            **app,
        })
    setup = {
        "clips": len(cases), "frames": cfg.data.latent_frames,
        "resolution": [cfg.data.height, cfg.data.width], "split": "heldout seeds + phrasings",
        "student_steps": list(sampler.steps), "teacher_steps": cfg.eval.teacher_steps,
        "teacher_guidance": cfg.stage3.guidance, "edits": list(EDIT_KEYS),
        "seconds": {"cases": round(gen_seconds, 1), "models": round(model_seconds, 1),
                    "total": round(time.perf_counter() - began, 1)},
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }
    summary = _write(out, rows, setup)
    distributed.barrier(d)
    return summary

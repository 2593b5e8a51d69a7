"""`liveedit train STAGE --config FILE`: the distillation pipeline, one stage per call.

Stages run in order, each reading the previous one's output from the run folder (--out, default
<user data>/runs/<config name>): ae → stage1 → stage2 → stage3 → eval. `photos` and `prompts`
write the photo bank and the prompt table that a machine without the photo packages or the text
encoder needs (point `data.photo_bank` / `data.text_table` at them). Every stage resumes from its
last checkpoint. Under `torchrun` the same command trains on every GPU (DDP).
"""

from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path

STAGES = {
    "ae": "liveedit_app.distill.stage0_autoencoder",
    "stage1": "liveedit_app.distill.stage1_bidirectional",
    "stage2": "liveedit_app.distill.stage2_causal",
    "stage3": "liveedit_app.distill.stage3_dmd",
    "eval": "liveedit_app.distill.evaluate",
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train the editing model (distillation stages)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=[*STAGES, "photos", "prompts"])
    p.add_argument("--config", help="a TOML file from configs/ (toy, tiny, small)")
    p.add_argument("--out", help="run folder (default: <user data>/runs/<config name>)")
    p.add_argument("--file", help="photos/prompts: the file to write")
    p.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from liveedit_app.errors import TrainingError

    if args.stage == "photos":
        from liveedit_app.distill.data.photos import save_photo_bank

        target = args.file or "photo_bank.npz"
        print(f"{save_photo_bank(target)} photos -> {target}")
        return 0
    if not args.config:
        raise TrainingError("Name a training config with --config (see configs/).")
    from liveedit_app.distill.config import load_config

    cfg = load_config(args.config)
    if args.device:
        cfg.device = args.device
    if args.stage == "prompts":
        from liveedit_app.distill.prompts import write_prompt_table

        target = args.file or "prompts.safetensors"
        print(f"{write_prompt_table(target, cfg.model.dit.text_len)} prompts -> {target}")
        return 0
    if cfg.data.photo_bank:
        os.environ["LIVEEDIT_PHOTO_BANK"] = cfg.data.photo_bank
    out = Path(args.out) if args.out else _default_out(cfg.size)
    importlib.import_module(STAGES[args.stage]).run(cfg, out)
    return 0


def _default_out(size: str) -> Path:
    from liveedit_app import paths

    return paths.data_dir() / "runs" / size

"""`liveedit train STAGE --config FILE`: the distillation pipeline, one stage per call.

Stages run in order, each reading the previous one's output from the run folder (--out, default
<user data>/runs/<config name>): ae → stage1 → stage2 → stage3 → eval. `data`, started in the
background before `ae`, generates the training clips on every core meanwhile (otherwise stage1
generates them itself). `photos` and `prompts` write the photo bank and the prompt table that a
machine without the photo packages or the text encoder needs (point `data.photo_bank` /
`data.text_table` at them). Every stage resumes from its last checkpoint. Under `torchrun` the
same command trains on every GPU (DDP).
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
    _arguments(p)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stage", choices=[*STAGES, "data", "photos", "prompts"])
    p.add_argument("--config", help="a TOML file from configs/ (toy, tiny, small)")
    p.add_argument("--out", help="run folder (default: <user data>/runs/<config name>)")
    p.add_argument("--file", help="photos/prompts: the file to write")
    p.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    p.add_argument("--app-only", action="store_true",
                   help="eval: re-measure only the numbers through the app's editor")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from liveedit_app.errors import TrainingError

    if args.app_only and args.stage != "eval":
        raise TrainingError("--app-only belongs to the eval stage.")
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
    if args.stage == "data":
        from liveedit_app.distill.batches import generate_blocks

        generate_blocks(cfg, out)
        return 0
    from liveedit_app.distill import distributed

    try:
        stage = importlib.import_module(STAGES[args.stage])
        stage.run(cfg, out, **({"app_only": True} if args.app_only else {}))
    finally:
        distributed.teardown()  # under torchrun: leave the group so every rank exits cleanly
    return 0


def _default_out(size: str) -> Path:
    from liveedit_app import paths

    return paths.data_dir() / "runs" / size


if __name__ == "__main__":
    # `python -m liveedit_app.cli.train STAGE ...`: the same command without importing the other
    # subcommands (a training machine has no Qt, PyAV or camera packages)
    import sys

    from liveedit_app.errors import LiveEditError

    parser = argparse.ArgumentParser(prog="liveedit train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    try:
        raise SystemExit(main(parser.parse_args()))
    except LiveEditError as err:
        print(f"liveedit: {err.message}\n{err.details}", file=sys.stderr)
        raise SystemExit(2) from err

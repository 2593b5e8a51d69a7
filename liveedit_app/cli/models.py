"""`liveedit models list | install PATH_OR_REPO | verify [NAME…] | remove NAME`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.store import (
    InstalledModel,
    ModelStore,
    describe_speed,
    human_size,
    unsummed_files,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list, install, verify or remove models",
        description="Manage installed models. Nothing is downloaded unless you pass --download.",
    )  # fmt: skip
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="installed models with size, VRAM need and speed")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_list)

    install = actions.add_parser("install", help="install from a folder or a Hugging Face repo")
    install.add_argument("source", metavar="PATH_OR_REPO", help="a model folder, or owner/name")
    install.add_argument(
        "--download", action="store_true",
        help="allow downloading owner/name from Hugging Face (resumable, sha256-checked)",
    )  # fmt: skip
    install.add_argument("--revision", default="main", help="repository branch, tag or commit")
    install.add_argument("--endpoint", default=None, help="Hugging Face endpoint URL")
    install.add_argument("--replace", action="store_true", help="replace a model of that name")
    install.set_defaults(func=_install)

    verify = actions.add_parser("verify", help="check installed files against their sha256")
    verify.add_argument("names", nargs="*", metavar="NAME", help="models to check (default all)")
    verify.set_defaults(func=_verify)

    imp = actions.add_parser(
        "import-wan", help="build a model from the released LiveEdit (Wan2.1-1.3B) checkpoint",
        description="Check and install the released checkpoint with its Wan2.1 parts, all from "
        "local files.",
    )  # fmt: skip
    imp.add_argument("checkpoint", type=Path, help="ar-forcing_002000.pt (or .safetensors)")
    imp.add_argument(
        "--text-encoder",
        type=Path,
        required=True,
        metavar="DIR",
        help="umT5-XXL folder (Hugging Face layout, or Wan's .pth + tokenizer/)",
    )
    imp.add_argument("--taehv", type=Path, help="taew2_1.pth: tiny autoencoder (real time)")
    imp.add_argument("--wan-vae", type=Path, help="Wan2.1_VAE.pth: full VAE (quality)")
    imp.add_argument(
        "--autoencoder",
        choices=("taehv", "wan-vae"),
        help="which one the editor uses (default: taehv when given)",
    )
    imp.add_argument("--ema", action="store_true", help="use the EMA weights (generator_ema)")
    imp.add_argument("--name", default="liveedit-wan-1.3b")
    imp.add_argument("--replace", action="store_true", help="replace a model of that name")
    imp.set_defaults(func=_import_wan)

    remove = actions.add_parser("remove", help="delete a model installed in your data folder")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=_remove)


def _row(model: InstalledModel) -> dict:
    return {
        "name": model.name, "source": model.source, "path": str(model.path),
        "size_bytes": model.size_bytes, "vram_gb": model.vram_gb, "fps": model.fps,
        "speed": model.card.speed,
    }  # fmt: skip


def _list(args) -> int:
    models = ModelStore().list()
    if args.json:
        print(json.dumps([_row(m) for m in models], indent=2))
        return 0
    if not models:
        print("No models installed.")
        return 0
    header = ("NAME", "SOURCE", "SIZE", "VRAM", "SPEED")
    rows = [
        (m.name, m.source, human_size(m.size_bytes),
         f"{m.vram_gb:g} GB" if m.vram_gb is not None else "-", describe_speed(m))
        for m in models
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _print_progress(name: str, done: int, total: int | None) -> None:
    share = f" {100 * done / total:5.1f}%" if total else ""
    print(f"\r  {name}: {human_size(done)}{share}", end="", file=sys.stderr, flush=True)


def _install(args) -> int:
    store = ModelStore()
    source = Path(args.source).expanduser()
    if source.is_dir():
        model = store.install_folder(source, replace=args.replace)
    elif not args.download:
        raise CheckpointError(
            f"'{args.source}' is not a model folder. To download it from Hugging Face, "
            "run the command again with --download.",
            f"no folder at {source.resolve()}",
        )
    else:
        model = store.install_repo(
            args.source, revision=args.revision, endpoint=args.endpoint,
            progress=_print_progress, replace=args.replace,
        )  # fmt: skip
        print(file=sys.stderr)
    print(f"Installed {model.name} ({human_size(model.size_bytes)}) in {model.path}")
    unsummed = unsummed_files(model.path, model.card)  # the install has hashed the rest
    if unsummed:
        print(f"Note: model.json gives no sha256 for {', '.join(unsummed)}, so damage to "
              f"{'it' if len(unsummed) == 1 else 'them'} cannot be detected.")
    return 0


def _verify(args) -> int:
    store = ModelStore()
    names = args.names or [m.name for m in store.list()]
    failed = 0
    for name in names:
        report = store.verify(name)
        if report.ok:
            unsummed = sum(c.status == "unlisted" for c in report.checks)
            note = f", {unsummed} without a checksum" if unsummed else ""
            print(f"{name}: ok ({len(report.checks)} files{note})")
            continue
        failed += 1
        problems = ", ".join(f"{c.name} ({c.status})" for c in report.problems())
        print(f"{name}: PROBLEM: {problems}")
    return 1 if failed else 0


def _import_wan(args) -> int:
    from liveedit_app.engine.wan.importer import import_released_checkpoint

    model = import_released_checkpoint(
        args.checkpoint, text_encoder=args.text_encoder, taehv=args.taehv, wan_vae=args.wan_vae,
        autoencoder=args.autoencoder, use_ema=args.ema, name=args.name,
        replace_existing=args.replace,
    )  # fmt: skip
    print(f"Installed {model.name} ({human_size(model.size_bytes)}) in {model.path}")
    return 0


def _remove(args) -> int:
    path = ModelStore().remove(args.name)
    print(f"Removed {args.name} ({path})")
    return 0

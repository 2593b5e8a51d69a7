"""`liveedit bench quality|speed`: the streaming editing benchmark (docs/benchmark.md)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from liveedit_app.errors import BenchmarkError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure editing quality and streaming speed",
        description="The streaming editing benchmark: writes result.json and an offline "
        "report.html. Metrics are defined in docs/benchmark.md.",
    )
    kinds = parser.add_subparsers(dest="bench_kind", metavar="KIND", required=True)

    quality = kinds.add_parser(
        "quality",
        help="edit the held-out set or your clips and score the results",
        description="Run the model and its baselines over the procedural held-out set, or over "
        "a folder described by a JSON list of "
        '{"instruction", "source_path", "mask_path"?, "target_path"?}, and score them.',
    )
    quality.add_argument("--model", default="liveedit-tiny", help="installed model name or folder")
    quality.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    quality.add_argument("--folder", type=Path, help="your clips: a folder or its JSON file")
    quality.add_argument("--cases", type=int, default=19, help="held-out clips (default: 19)")
    quality.add_argument(
        "--edits", help="comma-separated held-out edits to cycle through (default: all 19)"
    )
    quality.add_argument("--frames", type=int, default=16, help="frames per clip (default: 16)")
    quality.add_argument("--max-side", type=int, help="shrink your clips to this longest side")
    quality.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help=f"comma-separated subset of {','.join(BASELINES)} (default: all)",
    )
    quality.add_argument(
        "--teacher", help="stage-1 teacher model folder (default: <model folder>/teacher)"
    )
    quality.add_argument(
        "--teacher-steps", type=int, default=50, help="teacher ODE steps (default: 50)"
    )
    quality.add_argument("--strips", type=int, default=3, help="clips shown as frame strips")
    quality.add_argument("--out", type=Path, help="folder for result.json and report.html")
    quality.set_defaults(func=run_quality_command)

    speed = kinds.add_parser(
        "speed",
        help="frames per second, latency and memory of every installed model",
        description="Stream a held-out clip through every installed model on every device, with "
        "the mask cache on and off.",
    )
    speed.add_argument("--models", default="all", help="comma-separated names (default: all)")
    speed.add_argument("--devices", default="auto", help="comma-separated, or auto (default)")
    speed.add_argument("--frames", type=int, default=32, help="frames streamed (default: 32)")
    speed.add_argument(
        "--mask-caches",
        default="static,reference,off",
        help="comma-separated engine mask caches to compare (default: static,reference,off)",
    )
    speed.add_argument("--repeats", type=int, default=3, help="measured passes (default: 3)")
    speed.add_argument("--out", type=Path, help="folder for result.json and report.html")
    speed.set_defaults(func=run_speed_command)


BASELINES = (
    "student",
    "student-no-mask-cache",
    "student-per-frame",
    "teacher-offline",
    "identity",
    "target",
)


def run_quality_command(args: argparse.Namespace) -> int:
    from liveedit_app.bench import editors
    from liveedit_app.bench.folder import load_folder
    from liveedit_app.bench.heldout import heldout_cases
    from liveedit_app.bench.quality import run_quality

    names = _baselines(args.baselines)
    _positive(args.frames, "--frames")
    _positive(args.teacher_steps, "--teacher-steps")
    if args.folder is not None:
        cases = load_folder(args.folder, max_frames=args.frames, max_side=args.max_side)
        clip_set = f"folder {args.folder}"
    else:
        _positive(args.cases, "--cases")
        height, width = editors.working_resolution(args.model)
        edits = {"edit_keys": tuple(args.edits.split(","))} if args.edits else {}
        cases = heldout_cases(args.cases, height=height, width=width, frames=args.frames, **edits)
        clip_set = f"procedural held-out set, {args.cases} clips"
        if args.edits:
            clip_set += f" cycling through {args.edits}"
    variants = editors.quality_variants(
        args.model, args.device, names, teacher=args.teacher, teacher_steps=args.teacher_steps
    )
    settings = {"model": args.model, "device": args.device, "clips": clip_set, **_machine()}
    result = run_quality(cases, variants, settings=settings, strip_cases=args.strips)
    result.data["settings"]["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    _write(result.data, result.strips, args.out, f"quality-{Path(args.model).name}")
    return 0


def run_speed_command(args: argparse.Namespace) -> int:
    from liveedit_app.bench import editors
    from liveedit_app.bench.speed import run_speed

    _positive(args.frames, "--frames")
    _positive(args.repeats, "--repeats")
    models = editors.installed_models() if args.models == "all" else args.models.split(",")
    if not models:
        raise BenchmarkError("No model is installed, so there is nothing to measure.")
    devices = editors.available_devices() if args.devices == "auto" else args.devices.split(",")
    caches = [c.strip() for c in args.mask_caches.split(",") if c.strip()]
    unknown = [c for c in caches if c not in editors.SPEED_MASK_CACHES]
    if unknown or not caches:
        raise BenchmarkError(
            f"Unknown mask cache {', '.join(unknown) or '(none given)'}: "
            f"choose from {', '.join(editors.SPEED_MASK_CACHES)}."
        )
    targets = editors.speed_targets(models, devices, caches)
    clip = editors.speed_clip(models[0], args.frames)
    settings = {"models": ", ".join(models), "devices": ", ".join(devices), **_machine()}
    data = run_speed(targets, clip, repeats=args.repeats, settings=settings)
    data["settings"]["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    _write(data, None, args.out, "speed")
    return 0


def _baselines(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BASELINES]
    if unknown or not names:
        raise BenchmarkError(
            f"Unknown baseline {', '.join(unknown) or '(none given)'}: "
            f"choose from {', '.join(BASELINES)}."
        )
    return names


def _positive(value: int, flag: str) -> None:
    if value < 1:
        raise BenchmarkError(f"{flag} must be at least 1, not {value}.")


def _machine() -> dict:
    import torch

    from liveedit_app.diagnostics import compute_device

    return {
        "machine": compute_device().name,
        "platform": platform.platform(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        # other work on the machine slows every number down: say how busy it was
        "load_average_1min": round(os.getloadavg()[0], 2),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def _write(data: dict, strips, out: Path | None, stem: str) -> None:
    from liveedit_app import paths
    from liveedit_app.bench.report import render

    if out is None:
        out = paths.data_dir() / "benchmarks" / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        (out / "report.html").write_text(render(data, strips), encoding="utf-8")
    except OSError as err:
        raise BenchmarkError(f"The results cannot be written to {out}.", details=str(err)) from err
    print(out / "result.json")
    print(out / "report.html")

"""`liveedit edit`: re-render a video file with a prompt (and a mask) into a new file.

The same `media.exporter.export_clip` the export dialog runs, with the real `StreamEditor`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from liveedit_app.contract import EditSettings
from liveedit_app.errors import Cancelled, CheckpointError, InputError
from liveedit_app.media.exporter import (
    PRESETS,
    ExportProgress,
    ExportRequest,
    check_request,
    export_clip,
    format_clock,
    load_mask_png,
)
from liveedit_app.media.video_io import probe

DEFAULT_MODEL = "liveedit-tiny"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "edit",
        help="re-render a video with a prompt (and a mask) into a new file",
        description="Re-render INPUT offline with a LiveEdit model and write OUTPUT. The source's "
        "sound is kept. A cancelled run (Ctrl-C) leaves no partial file.",
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help="the video to edit")
    parser.add_argument("-p", "--prompt", required=True, help='what to change, e.g. "make it snow"')
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT")
    parser.add_argument(
        "--mask",
        type=Path,
        metavar="PNG",
        help="where to edit on the first frame (white = edit; alpha is used when present); "
        "it follows the subject through the clip",
    )
    parser.add_argument("--no-track", action="store_true", help="keep the mask fixed in place")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps (more = slower)")
    parser.add_argument("--strength", type=float, default=1.0, help="0 = source, 1 = full edit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="h264",
        help="h264 (MP4), hevc (MP4), prores (MOV) or ffv1 (MKV); default h264",
    )
    parser.add_argument("--no-audio", action="store_true", help="leave the sound out")
    parser.add_argument(
        "-y", "--overwrite", action="store_true", help="replace OUTPUT if it exists"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    parser.set_defaults(func=run)


def run(args) -> int:
    if not args.prompt.strip():  # an empty prompt would only copy the source
        raise InputError('Say what to change with -p, e.g. -p "make it snow".')
    info = probe(args.input)
    request = ExportRequest(
        input=args.input,
        output=args.output,
        prompt=args.prompt,
        mask=load_mask_png(args.mask, (info.width, info.height)) if args.mask else None,
        track_mask=not args.no_track,
        settings=EditSettings(steps=args.steps, seed=args.seed, strength=args.strength),
        preset=args.preset,
        keep_audio=not args.no_audio,
        overwrite=args.overwrite,
    )
    check_request(request)  # a bad output name fails before the model is loaded
    editor = load_editor(args.model, args.device)
    report = None if args.quiet else _print_progress
    try:
        result = export_clip(request, editor, progress=report)
    except (Cancelled, KeyboardInterrupt):  # export_clip has removed its temporary file
        print("\nExport cancelled: no file was written.", file=sys.stderr)
        return 130
    if not args.quiet:
        print(file=sys.stderr)
    sound = f", sound {result.audio_duration_s:.2f} s" if result.audio_duration_s else ""
    print(
        f"Saved {result.path} ({result.frames} frames, {result.duration_s:.2f} s{sound}) "
        f"in {result.elapsed_s:.1f} s."
    )
    return 0


def load_editor(model: str, device: str):
    """The real editor; a missing engine or model is a `CheckpointError` with a plain message."""
    try:
        from liveedit_app.engine.editor import StreamEditor
    except ModuleNotFoundError as err:
        raise CheckpointError(
            "The LiveEdit engine is not available in this installation.", details=str(err)
        ) from err
    return StreamEditor.load(model, device=device)


def _print_progress(p: ExportProgress) -> None:
    eta = "--:--" if p.eta_s is None else format_clock(p.eta_s)
    line = (
        f"\rframe {p.frames_done}/{p.frames_total}  {p.fraction:4.0%}  {p.fps:5.2f} fps  ETA {eta} "
    )
    print(line, end="", file=sys.stderr, flush=True)

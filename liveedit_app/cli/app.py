"""`liveedit app` (also plain `liveedit`): open the window."""

from __future__ import annotations

import argparse

from liveedit_app.settings import DEVICES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "app",
        help="open the window (the default command)",
        description="Open LiveEdit Studio's window. Without options it opens the last source "
        "used (the moving test pattern the first time) with the model chosen in the window.",
    )
    parser.add_argument("--source", metavar="SOURCE",
                        help="'pattern', 'camera:ID' (see `liveedit sources`), or the path of "
                        "a video or a picture")
    parser.add_argument("--model", metavar="NAME", help="model to edit with (default: the last "
                        "one chosen, liveedit-tiny the first time)")
    parser.add_argument("--device", choices=DEVICES, help="where the model runs (default: auto)")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS",
                        help="close the window after SECONDS (to check that an install works)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from liveedit_app.ui.app import run_app  # Qt loads only when the window is wanted

    return run_app(source=args.source, model=args.model, device=args.device,
                   quit_after=args.quit_after)

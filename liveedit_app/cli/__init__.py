"""`liveedit`: the window with no arguments, headless commands otherwise.

Each subcommand lives in its own module here with `register(subparsers)`; the module's handler is
stored with `parser.set_defaults(func=...)` and returns the process exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from liveedit_app import __version__
from liveedit_app.errors import LiveEditError
from liveedit_app.logs import setup_logging

SUBCOMMANDS = ("app", "edit", "sources", "models", "bench", "train", "diagnostics")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="liveedit",
        description="LiveEdit Studio: edit your webcam or a video live with a streaming "
        "diffusion editor. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"liveedit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="print the technical details of an error too (they always go to the log)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"liveedit_app.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv or ["app"])
    setup_logging()
    try:
        return int(args.func(args) or 0)
    except LiveEditError as err:
        print(f"liveedit: {err.message}", file=sys.stderr)
        if err.details:
            logging.getLogger("liveedit").info("%s\n%s", err.message, err.details)
            if args.verbose:
                print(err.details, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

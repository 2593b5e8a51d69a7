"""`liveedit diagnostics`: write the bug-report zip (logs, settings, versions, device info)."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagnostics",
        help="write a zip of logs, settings and system information to attach to a bug report",
        description="Write one zip with the app's logs and crash reports, its settings, the "
        "versions of Python and the libraries, and the compute device. It holds no recordings, "
        "no model weights and no file from outside the app's own folders.",
    )
    parser.add_argument("-o", "--output", type=Path, help="where to write the zip")
    parser.set_defaults(func=run)


def run(args) -> int:
    from liveedit_app.diagnostics import collect_diagnostics, default_target
    from liveedit_app.errors import InputError

    target = args.output
    if target is not None and target.is_dir():  # a folder: the zip goes inside it
        target = target / default_target().name
    if target is not None and not target.parent.is_dir():
        raise InputError(f"The folder {target.parent} does not exist.")
    try:
        print(collect_diagnostics(target))
    except OSError as err:
        raise InputError(f"The zip cannot be written to {target}.", details=str(err)) from err
    return 0

"""`liveedit sources`: list the cameras (stable id, name, resolutions) and the other sources."""

from __future__ import annotations

import argparse
import json
import os


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sources",
        help="list cameras and other sources",
        description="List the cameras LiveEdit can use, by the stable id to pass as "
        "`liveedit app --source camera:ID`, with their resolutions.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Qt Multimedia reports every missing optional library (PipeWire, VA-API) on stderr
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    from liveedit_app.media.camera import list_cameras

    cameras = list_cameras()
    if args.json:
        print(json.dumps([{"id": c.id, "name": c.name, "default": c.is_default,
                           "resolutions": [list(r) for r in c.resolutions]} for c in cameras],
                         indent=2))
        return 0
    if not cameras:
        print("No camera found. Plug one in (or close the app that holds it) and run this again.")
    for cam in cameras:
        sizes = ", ".join(f"{w}x{h}" for w, h in cam.resolutions[:6]) or "sizes unknown"
        default = "  (default)" if cam.is_default else ""
        print(f"camera:{cam.id}  {cam.name}{default}\n    {sizes}")
    print("Also: --source pattern (moving test pattern) or --source PATH (a video or a picture)")
    return 0

"""`liveedit app` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("app", help="(not available yet)")

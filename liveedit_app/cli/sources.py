"""`liveedit sources` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("sources", help="(not available yet)")

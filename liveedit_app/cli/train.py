"""`liveedit train` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("train", help="(not available yet)")

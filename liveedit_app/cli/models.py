"""`liveedit models` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("models", help="(not available yet)")

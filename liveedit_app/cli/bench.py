"""`liveedit bench` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("bench", help="(not available yet)")

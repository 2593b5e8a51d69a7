"""`liveedit edit` (being built)."""

from __future__ import annotations


def register(subparsers) -> None:
    subparsers.add_parser("edit", help="(not available yet)")

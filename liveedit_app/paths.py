"""Where things live: per-user folders from platformdirs, and the folders shipped with the app.

Nothing is ever written next to the code at run time. Tests point every user folder at a temporary
directory by setting LIVEEDIT_HOME.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "liveedit"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _home_override() -> Path | None:
    home = os.environ.get("LIVEEDIT_HOME")
    return Path(home) if home else None


def _user_dir(kind: str) -> Path:
    home = _home_override()
    if home is not None:
        path = home / kind
    else:
        path = Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    return _user_dir("config")


def data_dir() -> Path:
    return _user_dir("data")


def log_dir() -> Path:
    return _user_dir("log")


def cache_dir() -> Path:
    return _user_dir("cache")


def user_models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recordings_dir() -> Path:
    home = _home_override()
    base = home / "videos" if home is not None else Path(platformdirs.user_videos_dir())
    path = base / "LiveEdit"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shipped(name: str) -> Path:
    """A folder shipped with the app: inside the package when installed, at the repo root in a
    source checkout."""
    inside = _PACKAGE_DIR / "_data"
    # an installed package always has _data/ (setup.py writes it), even when `name` is empty
    if inside.is_dir():
        return inside / name
    return _PACKAGE_DIR.parent / name


def shipped_models_dir() -> Path:
    return _shipped("models")


def resources_dir() -> Path:
    return _shipped("resources")

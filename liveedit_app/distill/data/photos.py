"""The photo bank: real photographs that PyPI packages ship, used as backgrounds and object skins.

On this machine the photos come from scikit-image, scikit-learn and matplotlib. A machine that
lacks them (the training GPU) reads the same bank from an npz written by `save_photo_bank`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

BANK_ENV = "LIVEEDIT_PHOTO_BANK"
SHORT_SIDE = 320

# (package, file inside the package's data folder). Grey images are tinted when drawn.
_SKIMAGE = (
    "astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "ihc.png",
    "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg",
    "brick.png", "grass.png", "gravel.png", "camera.png", "moon.png", "coins.png",
)
_SKLEARN = ("china.jpg", "flower.jpg")
_MATPLOTLIB = ("grace_hopper.jpg",)


def _package_files() -> list[Path]:
    files: list[Path] = []
    try:
        import skimage.data

        root = Path(skimage.data.__file__).parent
        files += [root / name for name in _SKIMAGE]
    except ImportError:
        pass
    try:
        import sklearn.datasets

        root = Path(sklearn.datasets.__file__).parent / "images"
        files += [root / name for name in _SKLEARN]
    except ImportError:
        pass
    try:
        import matplotlib

        root = Path(matplotlib.get_data_path()) / "sample_data"
        files += [root / name for name in _MATPLOTLIB]
    except ImportError:
        pass
    return [f for f in files if f.is_file()]


def _read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    scale = SHORT_SIDE / min(h, w)
    size = (max(SHORT_SIDE, round(w * scale)), max(SHORT_SIDE, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)  # [H, W, 3] uint8


def photos_from_packages() -> list[np.ndarray]:
    return [_read(p) for p in _package_files()]


def save_photo_bank(path: str | Path) -> int:
    """Write every package photo into one compressed npz; returns how many."""
    photos = photos_from_packages()
    np.savez_compressed(path, **{f"photo_{i:02d}": p for i, p in enumerate(photos)})
    return len(photos)


@lru_cache(maxsize=2)
def load_photo_bank(path: str | None = None) -> tuple[np.ndarray, ...]:
    """The bank from `path`, else from $LIVEEDIT_PHOTO_BANK, else from the installed packages."""
    path = path or os.environ.get(BANK_ENV)
    if path:
        with np.load(path) as bank:
            photos = [bank[k] for k in sorted(bank.files)]
    else:
        photos = photos_from_packages()
    if not photos:
        raise RuntimeError(
            "no photos: install scikit-image or point LIVEEDIT_PHOTO_BANK at a bank npz"
        )
    return tuple(photos)

"""scripts/region_errors.py: the error split it reports means what its docstring says."""

import importlib.util
from pathlib import Path

import numpy as np

from liveedit_app.distill.metrics import psnr

_SPEC = importlib.util.spec_from_file_location(
    "region_errors", Path(__file__).parents[2] / "scripts" / "region_errors.py")
region_errors = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(region_errors)


def _clip(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(40, 200, (3, 32, 32, 3)).astype(np.uint8)


def test_a_colour_map_error_is_undone_by_the_affine_fit_and_not_by_the_mean():
    target = _clip()
    region = np.ones(target.shape[:3], bool)
    # the right picture with the wrong contrast per channel: a gain error
    wrong = (target.astype(np.float32) * [0.7, 1.0, 1.2] + [20, 0, -30]).clip(0, 255)
    wrong = wrong.round().astype(np.uint8)
    before = psnr(wrong, target, region)
    mean_fixed = psnr(region_errors._fit(wrong, target, region, False), target, region)
    affine_fixed = psnr(region_errors._fit(wrong, target, region, True), target, region)
    assert before < 26
    assert affine_fixed > 45  # only rounding left
    assert before < mean_fixed < affine_fixed - 10


def test_the_rim_is_the_band_the_erosion_removes():
    region = np.zeros((1, 32, 32), bool)
    region[0, 8:24, 8:24] = True
    inner = region_errors.erode(region, 4)
    assert inner.sum() == 8 * 8  # 16 - 2*4 on each side
    assert not (inner & ~region).any()
    whole = np.ones((2, 8, 8), bool)
    assert region_errors.erode(whole, 4).all()  # a style's whole frame has no rim

import cv2
import numpy as np
import pytest

from liveedit_app.bench import metrics


def texture_clip(frames=6, size=48, shift=(0, 0), seed=0):
    """A smooth random texture moving by `shift` (dx, dy) pixels a frame; values in 40..200."""
    rng = np.random.default_rng(seed)
    margin = 2 + max(abs(shift[0]), abs(shift[1])) * frames
    canvas = rng.uniform(40, 200, (size + 2 * margin, size + 2 * margin, 3)).astype(np.float32)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 1.5)
    clip = []
    for t in range(frames):
        y0, x0 = margin - shift[1] * t, margin - shift[0] * t
        clip.append(canvas[y0 : y0 + size, x0 : x0 + size])
    return np.stack(clip).round().astype(np.uint8)


def test_psnr_of_identical_clips_is_the_cap():
    clip = texture_clip()
    assert metrics.psnr(clip, clip) == metrics.PSNR_CAP_DB


def test_psnr_of_one_wrong_pixel_is_ten_log_of_three_times_the_pixel_count():
    a = np.zeros((2, 10, 10, 3), np.uint8)
    b = a.copy()
    b[1, 4, 4, 0] = 255  # one channel of one pixel fully wrong: MSE = 255^2 / (3 * 200)
    assert metrics.psnr(a, b) == pytest.approx(10 * np.log10(3 * 200))


def test_psnr_counts_only_the_region():
    a = np.zeros((1, 10, 10, 3), np.uint8)
    b = a.copy()
    b[0, :, :5] = 255
    region = np.zeros((1, 10, 10), bool)
    region[0, :, 5:] = True
    assert metrics.psnr(a, b, region) == metrics.PSNR_CAP_DB
    assert metrics.psnr(a, b, ~region) == pytest.approx(0.0)
    assert metrics.psnr(a, b, np.zeros_like(region)) is None


def test_ssim_is_one_for_identical_clips_and_lower_for_noise():
    clip = texture_clip()
    noisy = np.clip(clip + np.random.default_rng(1).normal(0, 30, clip.shape), 0, 255)
    assert metrics.ssim(clip, clip) == pytest.approx(1.0)
    assert metrics.ssim(clip, noisy.astype(np.uint8)) < 0.6


def test_dis_flow_finds_a_one_pixel_shift():
    flows = metrics.dis_flows(texture_clip(shift=(1, 0)))
    inner = np.stack(flows)[:, 8:-8, 8:-8]
    assert inner[..., 0].mean() == pytest.approx(-1.0, abs=0.1)
    assert np.abs(inner[..., 1]).mean() < 0.1


def test_warp_error_of_a_shifting_clip_along_its_own_flow_is_near_zero():
    clip = texture_clip(shift=(1, 0))
    unwarped = np.abs(np.diff(clip.astype(np.float32), axis=0)).mean()
    assert unwarped > 3.0
    assert metrics.warp_error(clip, metrics.dis_flows(clip)) < 0.1 * unwarped


def test_output_equal_to_its_source_is_exactly_as_stable_as_the_source():
    source = texture_clip(shift=(1, 0))
    flows = metrics.dis_flows(source)
    assert metrics.temporal_instability(source, source, flows) == pytest.approx(1.0)


def test_a_flickering_output_is_many_times_less_stable_than_its_source():
    source = texture_clip(shift=(1, 0))
    flicker = source.astype(np.int16) + np.array([20, -20] * 3)[:, None, None, None]
    flicker = flicker.astype(np.uint8)  # texture is 40..200, so +-20 never clips
    flows = metrics.dis_flows(source)
    assert metrics.warp_error(flicker, flows) == pytest.approx(40.0, abs=2.0)
    assert metrics.temporal_instability(flicker, source, flows) > 10.0


def solid_clip(rgb, frames=4, size=24):
    return np.broadcast_to(np.array(rgb, np.uint8), (frames, size, size, 3)).copy()


def test_instruction_accuracy_is_full_for_right_edits_and_zero_for_swapped_ones():
    base = texture_clip(frames=4, size=24)
    targets = [base // 4 + solid_clip(rgb) for rgb in ([180, 0, 0], [0, 180, 0], [0, 0, 180])]
    keys = ["red", "green", "blue"]
    target_desc = [metrics.edit_descriptor(t) for t in targets]
    right = metrics.nearest_target_is_right(target_desc, target_desc, keys)
    swapped = metrics.nearest_target_is_right(target_desc[1:] + target_desc[:1], target_desc, keys)
    assert right == [True, True, True]
    assert swapped == [False, False, False]


def test_same_edit_on_another_source_still_counts_as_right():
    red_a = texture_clip(frames=4, size=24, seed=1) // 4 + solid_clip([180, 0, 0])
    red_b = texture_clip(frames=4, size=24, seed=2) // 4 + solid_clip([180, 0, 0])
    blue = texture_clip(frames=4, size=24, seed=3) // 4 + solid_clip([0, 0, 180])
    desc = [metrics.edit_descriptor(c) for c in (red_a, red_b, blue)]
    keys = ["make it red", "make it red", "make it blue"]
    assert metrics.nearest_target_is_right([desc[0]], desc[1:], keys[1:]) == [True]


def test_background_consistency_is_one_for_a_still_clip():
    still = np.repeat(texture_clip(frames=1, size=64), 5, axis=0)
    assert metrics.background_consistency(still) == pytest.approx(1.0)


def test_frames_sharing_colours_but_not_shapes_score_half_background_consistency():
    # HOG half: unrelated textures are uncorrelated (~0); colour half: same palette (~1)
    unrelated = np.concatenate([texture_clip(frames=1, size=64, seed=s) for s in range(5)])
    assert metrics.background_consistency(unrelated) == pytest.approx(0.5, abs=0.1)


def test_motion_score_is_zero_for_a_still_clip_and_scales_with_motion():
    still = np.repeat(texture_clip(frames=1, size=64), 4, axis=0)
    moving = texture_clip(frames=4, size=64, shift=(2, 0))
    assert metrics.motion_score(still) == pytest.approx(0.0, abs=0.05)
    # 2 px a frame at a 64-px short side is 8 px at 256 px: above VBench's threshold of 6
    assert metrics.motion_score(moving) == pytest.approx(8.0, abs=1.0)
    assert not metrics.is_dynamic(metrics.motion_score(still))
    assert metrics.is_dynamic(metrics.motion_score(moving))

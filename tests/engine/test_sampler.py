import pytest

from liveedit_app.engine.sampler import FlowSampler


def test_sigmas_of_the_reference_steps_match_the_brief():
    s = FlowSampler((1000, 750, 500, 250), shift=5.0)
    assert s.sigmas == pytest.approx((1.0, 0.75, 0.500600, 0.251597), abs=1e-4)
    assert s.sigma(0) == pytest.approx(0.004980, abs=1e-5)


def test_renoise_interpolates_between_x0_and_noise():
    import torch

    x0, eps = torch.zeros(3), torch.ones(3)
    assert FlowSampler.renoise(x0, 0.25, eps).tolist() == [0.25, 0.25, 0.25]

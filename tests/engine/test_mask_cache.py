import pytest
import torch
from engine_toys import toy_dit, toy_inputs

from liveedit_app.engine.mask_cache import ReferenceMaskCache, StaticSkipCache
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk

CHUNKS = 4


def _stream(dit, planner=None, mask=None, drift=0.0, size=8):
    """4 chunks of 2 frames on a source that drifts by `drift` per chunk; fixed noise."""
    x, y, ctx = toy_inputs(2, size=size)
    state = StreamState.create(dit, ctx, tokens_per_frame=(size // 2) ** 2, window_frames=4)
    sampler = FlowSampler((1000, 750, 500, 250))
    g = torch.Generator().manual_seed(3)
    outs, shares = [], []
    with torch.no_grad():
        for k in range(CHUNKS):
            noise = torch.randn(x.shape, generator=g)
            outs.append(generate_chunk(dit, sampler, state, noise, y + drift * k, mask=mask,
                                       generator=g, planner=planner))
            shares.append(planner.share if planner is not None else 1.0)
    return outs, shares


def _rel(a, b):
    return ((a - b).pow(2).mean() / b.pow(2).mean()).item()


def test_reference_cache_with_keep_ratio_1_is_bit_identical_to_full_compute():
    dit = toy_dit()
    full, _ = _stream(dit)
    cached, shares = _stream(dit, ReferenceMaskCache(dit, keep_ratio=1.0))
    assert all(torch.equal(a, b) for a, b in zip(full, cached, strict=True))
    assert shares == [1.0] * CHUNKS


def test_reference_cache_with_keep_ratio_0_3_prunes_and_stays_close():
    dit = toy_dit()
    full, _ = _stream(dit, size=32)
    cached, shares = _stream(dit, ReferenceMaskCache(dit, keep_ratio=0.3), size=32)
    assert shares[0] == 1.0  # chunk 0 keeps everything
    assert max(shares[1:]) < 0.8  # 2 of 4 steps on at most a third of the tokens
    assert torch.equal(full[0], cached[0])
    assert max(_rel(c, f) for c, f in zip(cached[1:], full[1:], strict=True)) < 0.05


def test_reference_cache_keeps_at_most_the_ratio_of_tokens_per_frame():
    dit = toy_dit()
    planner = ReferenceMaskCache(dit, keep_ratio=0.3)
    _stream(dit, planner, size=32)
    kept = planner.kept
    assert kept is not None and kept.shape[0] == 2
    assert 0 < kept.shape[1] <= 0.3 * 256
    assert torch.equal(kept, kept.sort(dim=1).values)


def test_static_skip_without_a_user_mask_computes_everything():
    dit = toy_dit()
    full, _ = _stream(dit)
    cached, shares = _stream(dit, StaticSkipCache(dit, steps=4))
    assert all(torch.equal(a, b) for a, b in zip(full, cached, strict=True))
    assert shares == [1.0] * CHUNKS


def test_static_skip_reuses_unchanged_tokens_outside_the_mask():
    dit = toy_dit()
    mask = torch.zeros(1, 2, 1, 8, 8)
    mask[..., :4, :4] = 1.0  # top-left quarter: 4 of 16 tokens, 9 after dilation
    full, _ = _stream(dit, mask=mask)
    cached, shares = _stream(dit, StaticSkipCache(dit, steps=4, full_every=0), mask=mask)
    assert shares[0] == 1.0
    assert shares[1:] == [9 / 16] * (CHUNKS - 1)
    inside = mask.bool().expand_as(full[0])
    assert max(_rel(c[inside], f[inside]) for c, f in zip(cached, full, strict=True)) < 0.05


def test_static_skip_recomputes_tokens_whose_source_changed():
    dit = toy_dit()
    mask = torch.zeros(1, 2, 1, 8, 8)
    mask[..., :4, :4] = 1.0
    _, shares = _stream(dit, StaticSkipCache(dit, steps=4, threshold=0.02), mask=mask,
                        drift=1.0)
    assert shares == [1.0] * CHUNKS


def _corner_mask():
    mask = torch.zeros(1, 2, 1, 8, 8)
    mask[..., :4, :4] = 1.0  # 9 of 16 tokens inside after dilation
    return mask


def test_static_skip_with_a_full_chunk_every_chunk_equals_full_compute():
    dit = toy_dit()
    mask = _corner_mask()
    full, _ = _stream(dit, mask=mask)
    cached, shares = _stream(dit, StaticSkipCache(dit, steps=4, full_every=1), mask=mask)
    assert shares == [1.0] * CHUNKS
    assert all(torch.equal(a, b) for a, b in zip(full, cached, strict=True))


def test_static_skip_recomputes_every_token_on_every_nth_chunk():
    dit = toy_dit()
    mask = _corner_mask()
    _, every_2 = _stream(dit, StaticSkipCache(dit, steps=4, full_every=2), mask=mask)
    _, every_3 = _stream(dit, StaticSkipCache(dit, steps=4, full_every=3), mask=mask)
    _, never = _stream(dit, StaticSkipCache(dit, steps=4, full_every=0), mask=mask)
    assert every_2 == [1.0, 9 / 16, 1.0, 9 / 16]
    assert every_3 == [1.0, 9 / 16, 9 / 16, 1.0]
    assert never == [1.0, 9 / 16, 9 / 16, 9 / 16]


def test_static_skip_counts_chunks_from_the_last_reset():
    dit = toy_dit()
    planner = StaticSkipCache(dit, steps=4, full_every=3)
    _stream(dit, planner, mask=_corner_mask())
    planner.reset()
    _, shares = _stream(dit, planner, mask=_corner_mask())
    assert shares == [1.0, 9 / 16, 9 / 16, 1.0]


def test_static_skip_refuses_a_negative_full_compute_interval():
    with pytest.raises(ValueError, match="full_every"):
        StaticSkipCache(toy_dit(), steps=4, full_every=-1)


def test_bucketed_reference_cache_rounds_the_kept_count_up():
    dit = toy_dit()
    plain, bucketed = ReferenceMaskCache(dit, 0.3), ReferenceMaskCache(dit, 0.3, bucket=16)
    _stream(dit, plain, size=32)
    _stream(dit, bucketed, size=32)
    assert bucketed.kept.shape[1] % 16 == 0
    assert bucketed.kept.shape[1] >= plain.kept.shape[1]
    assert torch.isin(plain.kept, bucketed.kept).all()


def test_bucketed_static_skip_computes_a_multiple_of_the_bucket():
    dit = toy_dit()
    mask = torch.zeros(1, 2, 1, 8, 8)
    mask[..., :4, :4] = 1.0  # 9 of 16 tokens inside after dilation
    planner = StaticSkipCache(dit, steps=4, bucket=4, full_every=0)
    _, shares = _stream(dit, planner, mask=mask)
    assert shares[1:] == [12 / 16] * (CHUNKS - 1)

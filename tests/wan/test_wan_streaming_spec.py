"""The released checkpoint's format and brief §3's streaming loop, on a small config of the same
DiT code as `wan-1.3b` (head_dim 128 keeps the 22/21/21 RoPE split). Complements
tests/engine (key table at full size, sampler σ table, cache bounds)."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from liveedit_app.engine.checkpoint import load_state_strict, reference_state_dict
from liveedit_app.engine.config import DIT_CONFIGS
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk

SMALL_WAN = replace(DIT_CONFIGS["wan-1.3b"], dim=256, ffn_dim=512, heads=2, layers=2,
                    text_dim=64, text_len=16)  # fmt: skip
LAT_H, LAT_W = 4, 6  # 2x3 = 6 tokens per latent frame
TPF = (LAT_H // 2) * (LAT_W // 2)


@pytest.fixture(scope="module")
def dit():
    torch.manual_seed(0)
    model = CausalDiT(SMALL_WAN)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.05)
    return model.eval()


def test_the_small_wan_config_keeps_the_wan_layout():
    assert (SMALL_WAN.in_dim, SMALL_WAN.out_dim, SMALL_WAN.head_dim) == (32, 16, 128)
    assert SMALL_WAN.rope_pairs == (22, 21, 21) and not SMALL_WAN.mask_channel


def test_a_released_format_state_dict_loads_strictly_generator_or_ema(dit, released):
    raw = released(dit.state_dict())
    for use_ema, scale in ((False, 1.0), (True, 0.5)):
        fresh = CausalDiT(SMALL_WAN)
        load_state_strict(fresh, reference_state_dict(raw, use_ema=use_ema), "synthetic")
        for k, v in dit.state_dict().items():
            torch.testing.assert_close(fresh.state_dict()[k], v * scale)
    assert len(dit.state_dict()) == 15 + 27 * SMALL_WAN.layers


def _inputs(frames, seed):
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, frames, 16, LAT_H, LAT_W, generator=g)
    src = torch.randn(1, frames, 16, LAT_H, LAT_W, generator=g)
    ctx = torch.randn(1, SMALL_WAN.text_len, SMALL_WAN.text_dim, generator=g)
    return noise, src, ctx


@torch.no_grad()
def test_each_chunk_runs_four_steps_with_renoising_then_a_clean_refresh_at_t0(dit, monkeypatch):
    noise, src, ctx = _inputs(6, 1)
    sampler = FlowSampler((1000, 750, 500, 250), shift=5.0)
    assert sampler.sigmas == pytest.approx((1.0, 0.75, 0.500600, 0.251597), abs=1e-6)
    calls = []
    original = dit.forward_chunk

    def spy(x, y, t, ctx_kv, cache, frame_start, **kw):
        v = original(x, y, t, ctx_kv, cache, frame_start, **kw)
        calls.append((x.clone(), y.clone(), t.clone(), frame_start, v.clone()))
        return v

    monkeypatch.setattr(dit, "forward_chunk", spy)
    state = StreamState.create(dit, ctx, tokens_per_frame=TPF, window_frames=21)
    gen = torch.Generator().manual_seed(7)
    replay = torch.Generator().manual_seed(7)
    for k in range(2):
        start = len(calls)
        x0 = generate_chunk(dit, sampler, state, noise[:, 3 * k : 3 * k + 3],
                            src[:, 3 * k : 3 * k + 3], generator=gen)  # fmt: skip
        chunk = calls[start:]
        assert [c[2][0, 0].item() for c in chunk] == [1000, 750, 500, 250, 0]
        assert {c[3] for c in chunk} == {3 * k} and all(torch.equal(c[1], chunk[0][1])
                                                          for c in chunk)  # fmt: skip
        assert torch.equal(chunk[0][0], noise[:, 3 * k : 3 * k + 3])
        for j in range(4):
            xj, _, _, _, vj = chunk[j]
            x0_j = xj - sampler.sigmas[j] * vj  # x0 = x − σ·v
            if j < 3:  # re-noise with fresh noise to the next σ (not an ODE step)
                eps = torch.randn(xj.shape, generator=replay)
                expect = (1 - sampler.sigmas[j + 1]) * x0_j + sampler.sigmas[j + 1] * eps
                torch.testing.assert_close(chunk[j + 1][0], expect, atol=1e-5, rtol=1e-5)
            else:
                torch.testing.assert_close(x0, x0_j, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(chunk[4][0], x0)  # refresh sees the clean output itself
    assert state.frame == 6


@torch.no_grad()
def test_queries_see_at_most_21_latent_frames_and_time_positions_keep_growing(dit, monkeypatch):
    noise, src, ctx = _inputs(33, 2)
    sampler = FlowSampler((1000, 750, 500, 250))
    key_lengths = []
    sdpa = F.scaled_dot_product_attention

    def counting(q, k, v, *args, **kw):
        if k.shape[-2] != SMALL_WAN.text_len:  # self-attention, not the text cross-attention
            key_lengths.append(k.shape[-2])
        return sdpa(q, k, v, *args, **kw)

    monkeypatch.setattr(F, "scaled_dot_product_attention", counting)
    state = StreamState.create(dit, ctx, tokens_per_frame=TPF, window_frames=21)
    frames_seen = []
    for k in range(11):
        generate_chunk(
            dit,
            sampler,
            state,
            noise[:, 3 * k : 3 * k + 3],
            src[:, 3 * k : 3 * k + 3],
            generator=torch.Generator().manual_seed(k),
        )
        frames_seen.append(state.frame)
    per_chunk = [key_lengths[i * 5 * SMALL_WAN.layers] // TPF for i in range(11)]
    assert per_chunk == [3, 6, 9, 12, 15, 18, 21, 21, 21, 21, 21]
    assert state.cache.valid_tokens(state.frame) == 21 * TPF
    assert frames_seen[-1] == 33 and state.cache.offset == 0  # positions 0..32, no rebase yet

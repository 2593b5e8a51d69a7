"""Split-KV attention: the wave model's choice of parts, and the log-sum-exp merge being exact."""

import math

import pytest
import torch
import torch.nn.functional as F

from liveedit_app.engine import split_attention as sa


def test_key_parts_fills_a_mostly_empty_last_wave():
    # the static-skip cache's third of a Wan chunk's queries: 13 tiles x 12 heads = 156 blocks
    # on 132 SMs, 1.18 waves -> 4 parts (4.7 waves in 5: 0.625 of the waves per unit of work)
    assert sa.key_parts(1600, 32760, 12, 128, 132) == 4
    assert sa.key_parts(1600, 9360, 12, 128, 132) == 4
    # a whole chunk: 444 blocks, 3.36 waves; 2 parts would save at most 1/8 (under MIN_GAIN)
    assert sa.key_parts(4680, 32760, 12, 128, 132) == 1
    # exactly 4 full waves: nothing to gain
    assert sa.key_parts(5632, 32760, 12, 128, 132) == 1


def test_key_parts_leaves_small_calls_and_odd_key_counts_alone():
    # liveedit-tiny on a GPU: ~1 GFLOP a call, the merge would cost more than idle SMs
    assert sa.key_parts(1024, 2048, 2, 64, 132) == 1
    # a prime key count has no equal parts
    assert sa.key_parts(4680, 32749, 12, 128, 132) == 1
    # parts never go below MIN_PART_KEYS keys
    assert sa.key_parts(4680, 2 * sa.MIN_PART_KEYS - 2, 12, 128, 132) == 1


def _attention_with_lse(q, k, v):
    scores = (q.double() @ k.double().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    lse = torch.logsumexp(scores, dim=-1, keepdim=True)
    return (torch.exp(scores - lse) @ v.double()), lse


def test_merge_of_key_parts_equals_attention_over_all_keys():
    torch.manual_seed(0)
    q = torch.randn(1, 3, 40, 16)
    k = torch.randn(1, 3, 96, 16) * 2
    v = torch.randn(1, 3, 96, 16)
    for parts in (2, 3, 4):
        outs, lses = zip(*(_attention_with_lse(q, kp, vp) for kp, vp in
                           zip(k.chunk(parts, dim=2), v.chunk(parts, dim=2), strict=True)),
                         strict=True)
        merged = sa.merge_parts(torch.cat(outs), torch.cat(lses))
        whole = F.scaled_dot_product_attention(q.double(), k.double(), v.double())
        assert merged.shape == whole.shape
        assert float((merged - whole).abs().max()) < 1e-12


def test_off_gpu_attend_is_plain_sdpa():
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 2, n, 8) for n in (12, 30, 30))
    assert torch.equal(sa.attend(q, k, v), F.scaled_dot_product_attention(q, k, v))


def _qkv(seed=2):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, 2, n, 8, generator=g) for n in (12, 32, 32))


def _fresh(monkeypatch, split):
    monkeypatch.setattr(sa, "enabled", True)
    monkeypatch.setattr(sa, "_checked", False)
    monkeypatch.setattr(sa, "split_attention", split)


def test_a_split_that_fails_or_differs_on_first_use_is_turned_off(monkeypatch):
    q, k, v = _qkv()
    plain = F.scaled_dot_product_attention(q, k, v)

    def refused(*args):
        raise RuntimeError("cuDNN Frontend error: no valid execution plan")

    _fresh(monkeypatch, refused)
    assert torch.equal(sa._checked_split(q, k, v, 2), plain) and not sa.enabled
    _fresh(monkeypatch, lambda q, k, v, p: plain * 1.5)  # e.g. a statistic in another base
    assert torch.equal(sa._checked_split(q, k, v, 2), plain) and not sa.enabled


def test_a_split_that_fails_later_falls_back_and_running_out_of_memory_is_raised(monkeypatch):
    q, k, v = _qkv()
    plain = F.scaled_dot_product_attention(q, k, v)
    calls = []

    def flaky(q, k, v, parts):
        calls.append(parts)
        if len(calls) == 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        if len(calls) == 3:
            raise RuntimeError("a shape this cuDNN refuses")
        return F.scaled_dot_product_attention(q, k, v)

    _fresh(monkeypatch, flaky)
    assert torch.equal(sa._checked_split(q, k, v, 2), plain) and sa.enabled  # checked: on
    with pytest.raises(torch.OutOfMemoryError):
        sa._checked_split(q, k, v, 2)
    assert sa.enabled
    assert torch.equal(sa._checked_split(q, k, v, 2), plain) and not sa.enabled

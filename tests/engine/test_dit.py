import pytest
import torch
from engine_toys import TOY, toy_dit, toy_inputs

from liveedit_app.engine.attention import block_causal_mask
from liveedit_app.engine.config import DIT_CONFIGS, DiTConfig
from liveedit_app.engine.stream import StreamState

POOLED = DiTConfig(**{**TOY.__dict__, "pooled_text": True})


def _pooled_dit(seed: int = 0):
    dit = toy_dit(POOLED, seed)
    torch.nn.init.normal_(dit.text_pooling[2].weight, std=0.2)  # as if trained
    return dit


def test_rope_split_is_22_21_21_at_head_dim_128_and_scaled_below():
    assert DIT_CONFIGS["wan-1.3b"].rope_pairs == (22, 21, 21)
    assert DiTConfig(dim=128, ffn_dim=256, heads=2, layers=1).rope_pairs == (12, 10, 10)


def test_wan_config_matches_the_brief():
    cfg = DIT_CONFIGS["wan-1.3b"]
    assert (cfg.dim, cfg.ffn_dim, cfg.heads, cfg.layers) == (1536, 8960, 12, 30)
    assert (cfg.in_dim, cfg.out_dim, cfg.text_dim, cfg.text_len) == (32, 16, 4096, 512)


def test_parallel_forward_returns_velocity_of_input_shape():
    dit = toy_dit()
    x, y, ctx = toy_inputs(4)
    t = torch.full((1, 4), 500.0)
    with torch.no_grad():
        v = dit(x, y, t, ctx, attn="block_causal", chunk_frames=2)
    assert v.shape == x.shape


def test_block_causal_mask_lets_chunks_see_only_the_past():
    m = block_causal_mask(4, 2, 1)
    assert m.tolist() == [[True, True, False, False], [True, True, False, False],
                          [True, True, True, True], [True, True, True, True]]


def test_teacher_forcing_mask_noisy_chunk_sees_earlier_clean_and_itself():
    m = block_causal_mask(4, 2, 1, teacher_forcing=True)  # [clean 0..3 ; noisy 0..3]
    noisy_chunk1 = m[6].tolist()
    assert noisy_chunk1 == [True, True, False, False, False, False, True, True]
    clean_chunk0 = m[0].tolist()
    assert clean_chunk0 == [True, True, False, False, False, False, False, False]


def test_block_causal_output_of_chunk_0_ignores_later_frames():
    dit = toy_dit()
    x, y, ctx = toy_inputs(4)
    t = torch.full((1, 4), 750.0)
    x2 = x.clone()
    x2[:, 2:] += 1.0
    with torch.no_grad():
        a = dit(x, y, t, ctx, attn="block_causal", chunk_frames=2)
        b = dit(x2, y, t, ctx, attn="block_causal", chunk_frames=2)
    assert torch.equal(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_teacher_forcing_noisy_chunk_depends_on_earlier_clean_frames_only():
    dit = toy_dit()
    x, y, ctx = toy_inputs(4)
    clean = torch.randn_like(x)
    t = torch.full((1, 4), 750.0)
    changed = clean.clone()
    changed[:, 2:] += 1.0  # clean frames of chunk 1: invisible to noisy chunks 0 and 1
    with torch.no_grad():
        a = dit(x, y, t, ctx, chunk_frames=2, clean_x=clean)
        b = dit(x, y, t, ctx, chunk_frames=2, clean_x=changed)
        c = dit(x, y, t, ctx, chunk_frames=2, clean_x=clean + 1.0)
    assert torch.equal(a, b)
    assert torch.equal(a[:, :2], c[:, :2])
    assert not torch.allclose(a[:, 2:], c[:, 2:])


@pytest.mark.parametrize("pooled", [False, True], ids=["plain", "pooled-prompt"])
def test_streaming_chunks_equal_the_block_causal_parallel_forward(pooled):
    dit = _pooled_dit() if pooled else toy_dit()
    x, y, ctx = toy_inputs(6)
    t = torch.full((1, 6), 500.0)
    with torch.no_grad():
        ref = dit(x, y, t, ctx, attn="block_causal", chunk_frames=2)
        state = StreamState.create(dit, ctx, tokens_per_frame=16, window_frames=6)
        parts = [dit.forward_chunk(x[:, i:i + 2], y[:, i:i + 2], t[:, i:i + 2], state.ctx_kv,
                                   state.cache, i) for i in (0, 2, 4)]
    assert torch.allclose(torch.cat(parts, 1), ref, atol=1e-5)


def test_parallel_forward_is_differentiable():
    dit = toy_dit()
    dit.train()
    x, y, ctx = toy_inputs(4)
    v = dit(x, y, torch.full((1, 4), 300.0), ctx, chunk_frames=2, clean_x=torch.randn_like(x))
    v.square().mean().backward()
    assert dit.blocks[0].self_attn.q.weight.grad.abs().sum() > 0


def test_model_without_mask_channel_refuses_a_mask():
    cfg = DiTConfig(**{**TOY.__dict__, "mask_channel": False})
    dit = toy_dit(cfg)
    x, y, ctx = toy_inputs(2, cfg=cfg)
    with pytest.raises(ValueError, match="mask"):
        dit(x, y, torch.zeros(1, 2), ctx, mask=torch.ones(1, 2, 1, 8, 8))



def test_pooled_branch_starts_as_the_model_without_it():
    dit = toy_dit(POOLED)
    base = toy_dit(TOY)
    base.load_state_dict({k: v for k, v in dit.state_dict().items()
                          if not k.startswith("text_pooling.")})
    x, y, ctx = toy_inputs(2)
    t = torch.full((1, 2), 700.0)
    with torch.no_grad():
        assert torch.equal(dit(x, y, t, ctx), base(x, y, t, ctx))


def test_pooled_prompt_moves_the_output_and_ignores_padding_rows():
    from liveedit_app.engine.dit import pool_prompt

    ctx = torch.zeros(1, 8, 16)
    ctx[0, :3] = torch.tensor([1.0, 2.0, 3.0])[:, None]
    assert torch.allclose(pool_prompt(ctx), torch.full((1, 16), 2.0))  # 3 rows, not 8
    assert torch.equal(pool_prompt(torch.zeros(1, 8, 16)), torch.zeros(1, 16))
    dit = _pooled_dit()
    x, y, ctx = toy_inputs(2)
    t = torch.full((1, 2), 700.0)
    with torch.no_grad():
        kv = dit.context_kv(ctx)
        # the same cross-attention cache with and without the pooled prompt
        plain = type(kv)(kv)
        state = StreamState.create(dit, ctx, tokens_per_frame=16, window_frames=4)
        with_pool = dit.forward_chunk(x, y, t, kv, state.cache, 0)
        state.reset()
        without = dit.forward_chunk(x, y, t, plain, state.cache, 0)
    assert kv.pooled is not None and plain.pooled is None
    assert (with_pool - without).abs().max() > 1e-3


def test_training_can_start_a_pooled_model_from_weights_without_the_branch(tmp_path):
    from safetensors.torch import save_file

    from liveedit_app.distill.flow_training import load_init

    base = toy_dit(TOY, seed=3)
    save_file(base.state_dict(), str(tmp_path / "old.safetensors"))
    dit = _pooled_dit()
    load_init(dit, tmp_path / "old.safetensors")
    assert torch.equal(dit.blocks[0].self_attn.q.weight, base.blocks[0].self_attn.q.weight)
    assert torch.count_nonzero(dit.text_pooling[2].weight) > 0  # its own branch kept
    with pytest.raises(RuntimeError):  # any other missing weight is still an error
        load_init(toy_dit(DiTConfig(**{**TOY.__dict__, "dim": 32})), tmp_path / "old.safetensors")

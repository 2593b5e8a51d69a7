"""wan/accelerate.py on CPU: the staged compile (traced by dynamo with a recording backend, which
runs the captured graphs as they are), its fixed set of graphs over a stream whose mask moves and
changes size, the GELU epilogue it applies, and the compiled tiny autoencoder."""

import pytest
import torch

from liveedit_app.engine.config import DiTConfig
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.kv_cache import KVCache
from liveedit_app.engine.mask_cache import ReferenceMaskCache, StaticSkipCache
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk
from liveedit_app.engine.wan import accelerate

CFG = DiTConfig(dim=64, ffn_dim=128, heads=2, layers=3, latent_channels=4, text_dim=16,
                text_len=8)  # fmt: skip
SIZE = 8  # latent 8x8 -> 16 tokens per frame
TPF = (SIZE // 2) ** 2


def make_dit(cfg: DiTConfig = CFG) -> CausalDiT:
    torch.manual_seed(0)
    return CausalDiT(cfg).eval()


class Recorder:
    """A dynamo backend that runs each captured graph unchanged and counts the captures."""

    def __init__(self) -> None:
        self.graphs: list[str] = []

    def __call__(self, gm: torch.fx.GraphModule, example_inputs):  # noqa: ANN001, ANN204
        shapes = [tuple(str(d) for d in node.meta["example_value"].shape)
                  for node in gm.graph.find_nodes(op="placeholder")
                  if isinstance(node.meta.get("example_value"), torch.Tensor)]  # fmt: skip
        self.graphs.append(repr(shapes))  # symbolic sizes (s0, ...) where dynamic
        return gm.forward


def moving_mask(k: int, frames: int = 3) -> torch.Tensor:
    """[1, F, 1, 8, 8]: a box that moves and changes size from chunk to chunk."""
    m = torch.zeros(1, frames, 1, SIZE, SIZE)
    side = 2 + k % 3
    top, left = (k * 3) % (SIZE - side), (k * 5) % (SIZE - side)
    m[..., top : top + side, left : left + side] = 1
    return m


def run_stream(dit: CausalDiT, chunks: int, planner=None, masks: bool = False,
               window: int = 6, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    c = CFG.latent_channels
    background = torch.randn(1, 3, c, SIZE, SIZE, generator=g)
    ctx = torch.randn(1, CFG.text_len, CFG.text_dim, generator=g)
    state = StreamState.create(dit, ctx, tokens_per_frame=TPF, window_frames=window)
    sampler = FlowSampler((1000, 750, 500, 250), 5.0)
    outs = []
    with torch.no_grad():
        for k in range(chunks):
            mask = moving_mask(k) if masks else None
            y = background.clone()
            if mask is not None:  # only the masked box changes: the rest can be skipped
                y = torch.where(mask.bool(), torch.randn(y.shape, generator=g), background)
            noise = torch.randn(1, 3, c, SIZE, SIZE, generator=g)
            outs.append(generate_chunk(dit, sampler, state, noise, y, planner=planner,
                                       mask=mask, generator=g))  # fmt: skip
    return outs


def test_staged_compile_gives_the_eager_stream_exactly():
    eager = run_stream(make_dit(), chunks=4)
    dit = accelerate.compile_for_streaming(make_dit(), backend=Recorder())
    staged = run_stream(dit, chunks=4)
    for a, b in zip(eager, staged, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("cache", ["static", "reference"])
def test_mask_cache_stream_with_a_moving_mask_compiles_a_fixed_set_of_graphs(cache):
    """The kept-token count changes from chunk to chunk (checked), yet every graph is captured in
    the first chunks and no chunk after that compiles anything: the stages never see a layer
    index, a plan or the cache length, and their token dimension is dynamic."""
    torch._dynamo.reset()
    dit = make_dit()
    rec = Recorder()
    accelerate.compile_for_streaming(dit, backend=rec)
    # no periodic full chunks: every chunk after the first takes the planned (varying) path
    planner = (StaticSkipCache(dit, steps=4, full_every=0) if cache == "static"
               else ReferenceMaskCache(dit, keep_ratio=0.4))  # fmt: skip
    counts: list[int] = []
    query = dit.blocks[0].self_attn.query

    def spy(x, cos, sin):  # noqa: ANN001, ANN202
        counts.append(x.shape[1])
        return query(x, cos, sin)

    dit.blocks[0].self_attn.query = spy
    run_stream(dit, chunks=2, planner=planner, masks=True)  # a full chunk, then a planned one
    warm = len(rec.graphs)
    counts.clear()
    run_stream(dit, chunks=8, planner=planner, masks=True, seed=2)
    assert len(set(counts)) >= 3, f"the mask should change the token counts, saw {set(counts)}"
    # one graph per stage and the head, plus a full-size variant for some: never more
    assert len(rec.graphs) == warm <= 2 * (len(accelerate._STAGES) + 1)
    assert sum("'s" in g for g in rec.graphs) >= 3  # query, key_value, rest: symbolic tokens
    assert len(set(rec.graphs)) == len(rec.graphs)


def test_whole_stream_token_counts_come_from_the_bucketed_set():
    """With the GPU bucket (64 on CUDA, 4 here) the counts the stages and cuDNN see are
    multiples of the bucket or the full frame."""
    dit = make_dit()
    planner = StaticSkipCache(dit, steps=4, bucket=4)
    seen: set[int] = set()
    query = dit.blocks[0].self_attn.query

    def spy(x, cos, sin):  # noqa: ANN001, ANN202
        seen.add(x.shape[1] // 3)  # per frame
        return query(x, cos, sin)

    dit.blocks[0].self_attn.query = spy
    run_stream(dit, chunks=8, planner=planner, masks=True)
    assert len(seen) >= 2
    assert all(k % 4 == 0 or k == TPF for k in seen)


@pytest.mark.parametrize("window", [6, 5])
def test_chunk_cache_write_as_one_slice_equals_the_index_write(window, monkeypatch):
    """window 6: every 3-frame chunk is a contiguous slot range (slice copy); window 5: chunks
    wrap around the ring and fall back to the index copy. Both give the index-copy stream."""
    fast = run_stream(make_dit(), chunks=5, window=window)
    monkeypatch.setattr(KVCache, "chunk_span", lambda *a: None)
    slow = run_stream(make_dit(), chunks=5, window=window)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_gelu_epilogue_ffn_keeps_keys_and_outputs_on_cpu():
    dit = make_dit()
    keys = set(dit.state_dict())
    x = torch.randn(1, 3, TPF, CFG.dim)
    before = dit.blocks[0].ffn(x)
    accelerate.fuse_gelu_epilogue(dit)
    assert isinstance(dit.blocks[0].ffn, accelerate.GeluEpilogueFFN)
    assert set(dit.state_dict()) == keys
    torch.testing.assert_close(dit.blocks[0].ffn(x), before, rtol=0, atol=0)
    accelerate.fuse_gelu_epilogue(dit, on=False)
    assert type(dit.blocks[0].ffn) is torch.nn.Sequential


def test_compile_for_streaming_uses_the_gelu_epilogue_unless_told_not_to():
    dit = accelerate.compile_for_streaming(make_dit(), backend=Recorder())
    assert all(isinstance(b.ffn, accelerate.GeluEpilogueFFN) for b in dit.blocks)
    accelerate.compile_for_streaming(dit, backend=Recorder(), gelu_epilogue=False)
    assert all(type(b.ffn) is torch.nn.Sequential for b in dit.blocks)


def test_compiling_keeps_the_compiler_out_of_the_cache_writes():
    from liveedit_app.engine.attention import CachedKeys

    accelerate.compile_for_streaming(make_dit(), backend=Recorder())
    sealed = CachedKeys.attend
    assert getattr(sealed, "_sealed", False)
    accelerate.compile_for_streaming(make_dit(), backend=Recorder())
    assert CachedKeys.attend is sealed  # sealed once, not wrapped again


def test_compile_on_a_cpu_without_a_backend_changes_nothing():
    dit = make_dit()
    assert accelerate.compile_for_streaming(dit) is dit
    assert all(type(b.ffn) is torch.nn.Sequential for b in dit.blocks)
    assert "query" not in dit.blocks[0].self_attn.__dict__


def test_compiled_tiny_autoencoder_streams_like_eager_with_one_graph_per_half():
    """Encoder and decoder each compile one graph, for every chunk after the stream's first (that
    one, with an empty MemBlock memory, runs eager); a new stream (reset) compiles nothing."""
    from liveedit_app.engine.wan.taehv import TAEHV, TAEHVAutoencoder

    torch.manual_seed(0)
    model = TAEHV().eval()
    frames = torch.rand(1, 4 * 12, 3, 16, 24)

    def stream(ae: TAEHVAutoencoder) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        ae.reset()
        lat = [ae.encode(frames[:, 12 * k : 12 * k + 12]) for k in range(4)]
        return lat, [ae.decode(z) for z in lat]

    eager = stream(TAEHVAutoencoder(model))
    torch._dynamo.reset()
    rec = Recorder()
    fast = accelerate.compile_autoencoder(TAEHVAutoencoder(model), backend=rec)
    got = stream(fast)
    assert len(rec.graphs) == 2
    got_again = stream(fast)
    assert len(rec.graphs) == 2
    for run in (got, got_again):
        for want, have in zip(eager[0] + eager[1], run[0] + run[1], strict=True):
            torch.testing.assert_close(have, want, rtol=0, atol=0)
    assert [z.shape[1] for z in got[0]] == [3] * 4 and got[1][0].shape[1] == 9


def test_compile_autoencoder_leaves_other_autoencoders_alone():
    from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

    ae = WanVAEAutoencoder(WanVAE(dim=16))
    assert accelerate.compile_autoencoder(ae, backend=Recorder()) is ae
    assert not hasattr(ae, "stream")


def test_rope_rows_of_a_chunk_by_slice_equal_rows_by_index():
    from liveedit_app.engine.rope import Rope3D

    rope = Rope3D(CFG)
    sliced = rope.tables(torch.arange(2, 5), 4, 4)
    indexed = rope.tables(torch.tensor([4, 2, 3]), 4, 4)  # not a range: gathered by index
    for a, b in zip(sliced, indexed, strict=True):
        torch.testing.assert_close(a, b[[1, 2, 0]], rtol=0, atol=0)


def test_editor_compiles_by_default_only_on_cuda():
    """compile=None (the default) is the staged compile on CUDA for DiTs of 100 M parameters
    or more; a CPU editor stays eager."""
    from liveedit_app.engine.config import model_config
    from liveedit_app.engine.editor import StreamEditor

    ed = StreamEditor.from_config(model_config("tiny"), device="cpu")
    assert all(b._compiled_call_impl is None for b in ed.dit.blocks)
    assert all("query" not in b.self_attn.__dict__ for b in ed.dit.blocks)
    assert all(type(b.ffn) is torch.nn.Sequential for b in ed.dit.blocks)

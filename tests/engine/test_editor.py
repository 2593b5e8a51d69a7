import weakref
from dataclasses import replace

import numpy as np
import pytest
import torch
from engine_toys import TOY

from liveedit_app import paths
from liveedit_app.contract import EditSettings, Frame
from liveedit_app.engine import memory
from liveedit_app.engine.autoencoder import LiveEditAE
from liveedit_app.engine.checkpoint import save_model
from liveedit_app.engine.config import ModelConfig, SamplerConfig
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.editor import StreamEditor
from liveedit_app.engine.text import HashTextEncoder
from liveedit_app.errors import GPUMemoryError, InputError, ModelNotFoundError

CFG = ModelConfig(name="toy", dit=TOY, text_encoder="hash",
                  text_encoder_params={"text_dim": 16, "text_len": 8},
                  autoencoder_params={"latent_channels": 4, "width": 8},
                  sampler=SamplerConfig(chunk_frames=2, window_frames=4), resolution=(64, 64))


def _editor(**kw) -> StreamEditor:
    ed = StreamEditor.from_config(CFG, **kw)
    ed.set_prompt("make the jacket red")
    return ed


def _frames(n, h=359, w=641, seed=0):
    rng = np.random.default_rng(seed)
    return [Frame(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), pts=0.04 * i + 0.5, index=i)
            for i in range(n)]


def _mask(h=359, w=641):
    m = np.zeros((h, w), np.float32)
    m[h * 2 // 7:h * 5 // 7, w * 2 // 7:w * 5 // 7] = 1.0
    return m


def test_odd_sized_frames_come_back_at_their_size_with_pts_and_index():
    ed = _editor()
    out = []
    for f in _frames(5):
        out += ed.push(f)
    assert len(out) == 4  # two chunks of 2
    out += ed.flush()
    assert [o.index for o in out] == [0, 1, 2, 3, 4]
    assert [o.pts for o in out] == pytest.approx([0.5, 0.54, 0.58, 0.62, 0.66])
    assert all(o.rgb.shape == (359, 641, 3) and o.rgb.dtype == np.uint8 for o in out)
    assert all(o.latency_s >= 0 for o in out)
    assert ed.stats.frames_out == 5


def test_pixels_outside_the_mask_equal_the_source_exactly():
    ed = _editor()
    mask = _mask()
    ed.set_mask(mask)
    out = []
    for f in _frames(4):
        out += ed.push(f)
    for o in out:
        assert np.array_equal(o.rgb[mask == 0], o.source[mask == 0])
        assert (o.rgb[mask == 1] != o.source[mask == 1]).mean() > 0.5


def test_strength_zero_returns_the_source():
    ed = _editor()
    ed.configure(EditSettings(strength=0.0))
    out = ed.push(_frames(2)[0]) + ed.push(_frames(2)[1])
    assert all(np.array_equal(o.rgb, o.source) for o in out)


def test_an_empty_prompt_means_no_edit():
    ed = _editor()
    ed.set_prompt("   ")
    frames = _frames(2)
    out = ed.push(frames[0]) + ed.push(frames[1])
    assert all(np.array_equal(o.rgb, f.rgb) for o, f in zip(out, frames, strict=True))


def test_a_mask_of_another_size_is_resized_with_a_warning():
    ed = _editor()
    ed.set_mask(_mask(100, 200))
    with pytest.warns(UserWarning, match="resized"):
        out = ed.push(_frames(2)[0]) + ed.push(_frames(2)[1])
    assert out[0].rgb.shape == (359, 641, 3)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.full((4, 4), 2.0, np.float32)])
def test_an_unusable_mask_is_an_input_error(bad):
    with pytest.raises(InputError):
        _editor().set_mask(bad)


def test_a_non_rgb_frame_is_an_input_error():
    with pytest.raises(InputError):
        _editor().push(Frame(np.zeros((32, 32), np.uint8), 0.0, 0))


def test_reset_starts_a_new_stream_with_the_same_output():
    ed = _editor()
    frames = _frames(4, 64, 64)
    first = [o.rgb for f in frames for o in ed.push(f)]
    ed.reset()
    assert ed.state.frame == 0
    second = [o.rgb for f in frames for o in ed.push(f)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("mode", ["static", "reference", "off"])
def test_every_mask_cache_mode_streams(mode):
    ed = _editor(mask_cache=mode)
    ed.set_mask(_mask(64, 64))
    out = [o for f in _frames(6, 64, 64) for o in ed.push(f)]
    assert len(out) == 6
    assert 0 < ed.stats.recompute_share <= 1


def test_load_finds_a_model_by_name_in_the_user_models_folder():
    save_model(paths.user_models_dir() / "toy", CFG, CausalDiT(CFG.dit))
    ed = StreamEditor.load("toy", device="cpu")
    assert ed.cfg == CFG
    with pytest.raises(ModelNotFoundError):
        StreamEditor.load("no-such-model")


def test_running_out_of_memory_mid_stream_is_a_sentence_and_the_next_stream_edits(monkeypatch):
    ed = _editor()
    frames = _frames(4, 64, 64)
    real = ed.ae.encode

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(ed.ae, "encode", exhausted)
    with pytest.raises(GPUMemoryError, match="ran out of memory while editing") as info:
        [o for f in frames for o in ed.push(f)]
    assert "Tried to allocate 2.00 GiB" in info.value.details
    monkeypatch.setattr(ed.ae, "encode", real)
    ed.reset()
    assert len([o for f in frames for o in ed.push(f)]) == 4


def test_a_model_that_needs_more_gpu_memory_than_is_free_is_refused_before_loading():
    gpu = torch.device("cuda")
    with pytest.raises(GPUMemoryError) as info:
        memory.check_fits("wan-1.3b", 9.5, gpu, free_bytes=lambda d: 6 * 1024**3,
                          device_name=lambda d: "NVIDIA GeForce RTX 3060")
    assert info.value.message.startswith(
        "The model wan-1.3b needs about 9.5 GB of GPU memory, but NVIDIA GeForce RTX 3060 has "
        "6.0 GB free.")
    memory.check_fits("wan-1.3b", 9.5, gpu, free_bytes=lambda d: 10 * 1024**3)
    memory.check_fits("wan-1.3b", 9.5, torch.device("cpu"))  # the CPU is not checked
    memory.check_fits("liveedit-tiny", None, gpu, free_bytes=lambda d: 0)  # no need stated


def test_out_of_memory_while_loading_is_a_sentence(monkeypatch):
    save_model(paths.user_models_dir() / "toy", CFG, CausalDiT(CFG.dit))

    def exhausted(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't "
                           "allocate memory: you tried to allocate 4294967296 bytes.")

    monkeypatch.setattr("liveedit_app.engine.checkpoint.load_module_weights", exhausted)
    with pytest.raises(GPUMemoryError, match="does not fit in the memory of this computer"):
        StreamEditor.load("toy", device="cpu")


def test_each_frame_is_composited_with_the_mask_current_at_its_push():
    ed = _editor()
    frames = _frames(2, 64, 64)
    left, right = np.zeros((64, 64), np.float32), np.zeros((64, 64), np.float32)
    left[:, :20], right[:, 44:] = 1.0, 1.0
    ed.set_mask(left)
    out = ed.push(frames[0])
    ed.set_mask(right)
    out += ed.push(frames[1])
    for o, m in zip(out, (left, right), strict=True):
        assert np.array_equal(o.rgb[m == 0], o.source[m == 0])
        assert (o.rgb[m == 1] != o.source[m == 1]).mean() > 0.5


def test_a_mask_that_moves_every_frame_still_lets_the_static_cache_reuse_work():
    ed = _editor(mask_cache="static")
    for i, f in enumerate(_frames(8, 64, 64)):
        m = np.zeros((64, 64), np.float32)
        m[:16, i:i + 16] = 1.0
        ed.set_mask(m)
        ed.push(Frame(_frames(1, 64, 64)[0].rgb, f.pts, f.index))  # a still source
    assert ed.stats.recompute_share < 1.0


def _masked_still_share(ed: StreamEditor) -> float:
    corner = np.zeros((64, 64), np.float32)
    corner[:16, :16] = 1.0
    ed.set_mask(corner)
    still = _frames(1, 64, 64)[0].rgb
    for i in range(8):  # four chunks of 2
        ed.push(Frame(still, i / 30, i))
    return ed.stats.recompute_share


def test_the_static_cache_full_compute_interval_is_set_at_load_and_with_the_cache():
    assert _masked_still_share(_editor(mask_cache="static", full_every=1)) == 1.0
    never = _editor(mask_cache="static", full_every=0)
    assert _masked_still_share(never) < 1.0
    never.set_mask_cache("static", full_every=1)
    assert never.planner.full_every == 1 and never.full_every == 1
    never.configure(EditSettings(steps=2))  # a new step count rebuilds the cache, same interval
    assert never.planner.full_every == 1
    with pytest.raises(InputError, match="full-compute interval"):
        never.set_mask_cache("static", full_every=-1)


def test_a_model_without_mask_channel_still_feeds_the_mask_to_the_static_cache():
    cfg = replace(CFG, dit=replace(TOY, mask_channel=False))
    ed = StreamEditor.from_config(cfg, mask_cache="static")
    ed.set_prompt("make it red")
    corner = np.zeros((64, 64), np.float32)
    corner[:16, :16] = 1.0  # one latent token of 16; three rows of tokens stay outside
    ed.set_mask(corner)
    still = _frames(1, 64, 64)[0].rgb
    for i in range(6):
        ed.push(Frame(still, i / 30, i))
    assert ed.stats.recompute_share < 1.0


class _LaggingCoder(LiveEditAE):
    """A temporal-factor-2 coder that, like causal video VAEs, holds frames back: encode keeps
    odd leftovers, the stream's first decode returns one frame fewer."""

    temporal_factor = 2

    def __init__(self):
        super().__init__(latent_channels=4, width=8)
        self.reset()

    def reset(self):
        self.held = None
        self.first = True

    def encode(self, frames):
        if self.held is not None:
            frames = torch.cat([self.held, frames], 1)
        whole = frames.shape[1] // 2 * 2
        self.held = frames[:, whole:] if whole < frames.shape[1] else None
        return super().encode(frames[:, :whole:2])

    def decode(self, z):
        out = super().decode(z).repeat_interleave(2, dim=1)
        if self.first:
            self.first = False
            return out[:, 1:]
        return out


def test_frames_of_a_lagging_temporal_coder_all_come_out_once_in_order():
    ed = StreamEditor(CFG, CausalDiT(CFG.dit), _LaggingCoder(), HashTextEncoder(16, 8),
                      device=torch.device("cpu"), dtype=torch.bfloat16)
    ed.set_prompt("make it red")
    out = []
    for f in _frames(9, 64, 64):
        out += ed.push(f)
    assert len(out) < 9  # the coder holds frames back
    out += ed.flush()
    assert [o.index for o in out] == list(range(9))
    assert all(o.rgb.shape == (64, 64, 3) for o in out)


def test_the_feather_is_a_soft_edge_about_its_width_inside_the_mask():
    import cv2

    mask = _mask()
    frames = _frames(2)

    def edited(feather):
        ed = _editor()
        ed.configure(EditSettings(mask_feather_px=feather))
        ed.set_mask(mask)
        return (ed.push(frames[0]) + ed.push(frames[1]))[0]

    hard, soft = edited(0.0), edited(8.0)
    depth = cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)
    deep, rim = depth > 8 + 6, (depth > 0) & (depth <= 1)  # past the ramp's blur tail / edge
    assert np.array_equal(soft.rgb[deep], hard.rgb[deep])
    assert np.array_equal(soft.rgb[mask == 0], soft.source[mask == 0])
    to_source = np.abs(soft.rgb[rim].astype(int) - soft.source[rim]).mean()
    assert to_source < 0.25 * np.abs(hard.rgb[rim].astype(int) - hard.source[rim]).mean()


def test_a_painted_mask_reaches_latent_size_once_and_a_new_mask_anew():
    ed = _editor(mask_cache="static")
    seen = []
    begin = ed.planner.begin_chunk
    ed.planner.begin_chunk = lambda y, m: (seen.append(m), begin(y, m))[1]
    ed.set_mask(_mask(64, 64))
    for f in _frames(6, 64, 64):
        ed.push(f)
    assert len(seen) == 3 and all(m is seen[0] for m in seen)
    ed.set_mask(_mask(64, 64)[::-1].copy())
    for f in _frames(2, 64, 64):
        ed.push(f)
    assert seen[-1] is not seen[0]
    assert not torch.equal(seen[-1], seen[0])


def test_out_of_memory_frees_what_the_failed_attempt_allocated():
    held = []

    def attempt():
        scratch = torch.zeros(8)
        held.append(weakref.ref(scratch))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(GPUMemoryError) as info:
        with memory.out_of_memory_as("The GPU ran out of memory.", torch.device("cpu")):
            attempt()
    assert info.value.message == "The GPU ran out of memory."
    assert held[0]() is None


def test_a_chunk_comes_out_before_its_refresh_pass_and_the_frames_are_unchanged(monkeypatch):
    from liveedit_app.engine import editor as editor_module

    frames = _frames(8, 64, 64)
    cfg = replace(CFG, sampler=replace(CFG.sampler, refresh=True))
    deferred = StreamEditor.from_config(cfg)
    deferred.set_prompt("make the jacket red")
    passes: list[str] = []
    real_forward = deferred.dit.forward_chunk

    def counting(*args, **kwargs):
        passes.append("pass")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(deferred.dit, "forward_chunk", counting)
    per_push = []
    got = []
    for f in frames:
        passes.clear()
        got += deferred.push(f)
        per_push.append(len(passes))
    steps = len(deferred.sampler.steps)
    chunk = deferred.frames_per_chunk
    # the push completing a chunk runs its steps only; the next push runs the clean pass
    assert per_push[chunk - 1] == steps
    assert per_push[chunk] == 1
    assert per_push[2 * chunk - 1] == steps
    chunks = len(frames) // chunk
    assert sum(per_push) == chunks * steps + chunks - 1  # the last clean pass waits

    real_generate = editor_module.generate_chunk

    def at_once(*args, **kwargs):
        return real_generate(*args, **{**kwargs, "defer_refresh": False})

    monkeypatch.setattr(editor_module, "generate_chunk", at_once)
    eager = StreamEditor.from_config(cfg)
    eager.set_prompt("make the jacket red")
    want = [o for f in frames for o in eager.push(f)]
    assert len(got) == len(want) == 8
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(got, want, strict=True))

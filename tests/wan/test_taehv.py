import math

import pytest
import torch

from liveedit_app.engine.wan.taehv import TAEHV, TAEHVStream
from liveedit_app.errors import CheckpointError


def _memblock(prefix, n):
    return {
        f"{prefix}.conv.0.weight": (n, 2 * n, 3, 3),
        f"{prefix}.conv.0.bias": (n,),
        f"{prefix}.conv.2.weight": (n, n, 3, 3),
        f"{prefix}.conv.2.bias": (n,),
        f"{prefix}.conv.4.weight": (n, n, 3, 3),
        f"{prefix}.conv.4.bias": (n,),
    }


def published_layout(tgrow0_rows=256):
    """Key → shape of taew2_1.pth (TAEHV for Wan 2.1), written out from the published model."""
    keys = {"encoder.0.weight": (64, 3, 3, 3), "encoder.0.bias": (64,)}
    for pool, conv, blocks, stride in ((2, 3, (4, 5, 6), 2), (7, 8, (9, 10, 11), 2),
                                       (12, 13, (14, 15, 16), 1)):  # fmt: skip
        keys[f"encoder.{pool}.conv.weight"] = (64, 64 * stride, 1, 1)
        keys[f"encoder.{conv}.weight"] = (64, 64, 3, 3)
        for b in blocks:
            keys |= _memblock(f"encoder.{b}", 64)
    keys |= {"encoder.17.weight": (16, 64, 3, 3), "encoder.17.bias": (16,)}
    keys |= {"decoder.1.weight": (256, 16, 3, 3), "decoder.1.bias": (256,)}
    stages = ((256, 128, (3, 4, 5), 7, 8, tgrow0_rows), (128, 64, (9, 10, 11), 13, 14, 256),
              (64, 64, (15, 16, 17), 19, 20, 128))  # fmt: skip
    for n, n_out, blocks, grow, conv, grow_rows in stages:
        for b in blocks:
            keys |= _memblock(f"decoder.{b}", n)
        keys[f"decoder.{grow}.conv.weight"] = (grow_rows, n, 1, 1)
        keys[f"decoder.{conv}.weight"] = (n_out, n, 3, 3)
    keys |= {"decoder.22.weight": (3, 64, 3, 3), "decoder.22.bias": (3,)}
    return keys


def synthetic_state(layout, seed=0):
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout.items():
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
        state[key] = torch.randn(shape, generator=gen) * (0.5 / math.sqrt(fan_in))
    return state


@pytest.fixture(scope="module")
def model():
    m = TAEHV().eval()
    m.load_published(synthetic_state(published_layout()))
    return m


def test_published_layout_has_128_tensors_and_loads_strictly(model):
    layout = published_layout()
    assert len(layout) == 128
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == layout


def test_a_wider_published_time_grow_keeps_the_last_frame_rows():
    state = synthetic_state(published_layout(tgrow0_rows=512), seed=1)
    m = TAEHV()
    m.load_published(state)
    torch.testing.assert_close(m.decoder[7].conv.weight, state["decoder.7.conv.weight"][256:])


def test_a_wrong_shape_is_refused_with_the_key_named():
    state = synthetic_state(published_layout())
    state["decoder.1.weight"] = torch.zeros(256, 32, 3, 3)
    with pytest.raises(CheckpointError) as info:
        TAEHV().load_published(state)
    assert "decoder.1.weight" in info.value.details


@torch.no_grad()
def test_81_frames_make_21_latents_and_21_latents_decode_to_81_frames(model):
    latents = model.encode(torch.rand(1, 81, 3, 8, 8))
    assert latents.shape == (1, 21, 16, 1, 1)
    frames = model.decode(torch.randn(1, 21, 16, 1, 1))
    assert frames.shape == (1, 81, 3, 8, 8)
    assert frames.min() >= 0 and frames.max() <= 1


@torch.no_grad()
def test_streaming_decode_one_latent_at_a_time_equals_batch_decode(model):
    latents = torch.randn(1, 5, 16, 3, 4)
    batch = model.decode(latents)
    stream = TAEHVStream(model)
    pieces = [stream.decode(latents[:, i : i + 1]) for i in range(5)]
    assert [p.shape[1] for p in pieces] == [1, 4, 4, 4, 4]
    torch.testing.assert_close(torch.cat(pieces, 1), batch, atol=1e-5, rtol=1e-5)
    assert batch.std() > 0.01


@torch.no_grad()
def test_streaming_encode_in_uneven_chunks_equals_batch_encode(model):
    frames = torch.rand(1, 16, 3, 24, 32)
    batch = model.encode(frames)
    stream = TAEHVStream(model)
    got, start = [], 0
    for size in (1, 3, 5, 2, 5):
        got.append(stream.encode(frames[:, start : start + size]))
        start += size
    assert [g.shape[1] for g in got] == [0, 1, 1, 0, 2]
    torch.testing.assert_close(torch.cat(got, 1), batch, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_reset_starts_a_new_stream(model):
    latents = torch.randn(1, 2, 16, 2, 2)
    stream = TAEHVStream(model)
    first = stream.decode(latents)
    stream.reset()
    torch.testing.assert_close(stream.decode(latents), first)


@torch.no_grad()
def test_the_taehv_component_loads_from_a_model_folder_and_streams(tmp_path):
    from safetensors.torch import save_file

    from liveedit_app.engine.components import build_autoencoder

    state = synthetic_state(published_layout(), seed=3)
    save_file(state, str(tmp_path / "taew2_1.safetensors"))
    ae = build_autoencoder("taehv", {}, tmp_path)
    assert (ae.spatial_factor, ae.temporal_factor, ae.latent_channels) == (8, 4, 16)
    torch.testing.assert_close(ae.model.decoder[22].weight, state["decoder.22.weight"])
    frames = torch.rand(1, 12, 3, 16, 16)
    z = ae.encode(frames)
    assert z.shape == (1, 3, 16, 2, 2)
    assert ae.decode(z).shape == (1, 9, 3, 16, 16)
    assert ae.decode(z).shape == (1, 12, 3, 16, 16)
    ae.reset()
    assert ae.decode(z).shape == (1, 9, 3, 16, 16)


@pytest.mark.parametrize("content", [[torch.zeros(3)], {"encoder.0.weight": {"a": torch.zeros(2)}}])
def test_a_pth_file_without_named_weights_is_refused_with_a_sentence(tmp_path, content):
    from liveedit_app.engine.components import build_autoencoder

    torch.save(content, tmp_path / "taew2_1.pth")
    with pytest.raises(CheckpointError) as info:
        build_autoencoder("taehv", {}, tmp_path)
    assert "named weights" in str(info.value)
    assert "taew2_1.pth" in info.value.details

import pytest
import torch

from liveedit_app.engine.wan.normalization import (
    WAN_LATENT_MEAN,
    WAN_LATENT_STD,
    denormalize,
    normalize,
)
from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

# Key → shape of Wan2.1_VAE.pth, written out from the published architecture (brief §6).
PUBLISHED = {
    "conv1.weight": (32, 32, 1, 1, 1),
    "conv2.weight": (16, 16, 1, 1, 1),
    "encoder.conv1.weight": (96, 3, 3, 3, 3),
    "encoder.downsamples.2.resample.1.weight": (96, 96, 3, 3),
    "encoder.downsamples.3.residual.2.weight": (192, 96, 3, 3, 3),
    "encoder.downsamples.3.shortcut.weight": (192, 96, 1, 1, 1),
    "encoder.downsamples.5.time_conv.weight": (192, 192, 3, 1, 1),
    "encoder.downsamples.8.time_conv.weight": (384, 384, 3, 1, 1),
    "encoder.downsamples.10.residual.6.weight": (384, 384, 3, 3, 3),
    "encoder.middle.1.to_qkv.weight": (1152, 384, 1, 1),
    "encoder.middle.1.norm.gamma": (384, 1, 1),
    "encoder.head.0.gamma": (384, 1, 1, 1),
    "encoder.head.2.weight": (32, 384, 3, 3, 3),
    "decoder.conv1.weight": (384, 16, 3, 3, 3),
    "decoder.middle.0.residual.0.gamma": (384, 1, 1, 1),
    "decoder.middle.1.proj.weight": (384, 384, 1, 1),
    "decoder.upsamples.3.time_conv.weight": (768, 384, 3, 1, 1),
    "decoder.upsamples.3.resample.1.weight": (192, 384, 3, 3),
    "decoder.upsamples.4.residual.2.weight": (384, 192, 3, 3, 3),
    "decoder.upsamples.4.shortcut.weight": (384, 192, 1, 1, 1),
    "decoder.upsamples.7.time_conv.weight": (768, 384, 3, 1, 1),
    "decoder.upsamples.8.residual.2.weight": (192, 192, 3, 3, 3),
    "decoder.upsamples.11.resample.1.weight": (96, 192, 3, 3),
    "decoder.upsamples.12.residual.6.weight": (96, 96, 3, 3, 3),
    "decoder.upsamples.14.residual.3.gamma": (96, 1, 1, 1),
    "decoder.head.2.weight": (3, 96, 3, 3, 3),
}


@pytest.fixture(scope="module")
def vae():
    """The same code at base width 16 instead of 96 (CPU time)."""
    torch.manual_seed(0)
    return WanVAE(dim=16).eval()


def test_module_tree_has_the_published_keys_and_shapes():
    state = {k: tuple(v.shape) for k, v in WanVAE().state_dict().items()}
    for key, shape in PUBLISHED.items():
        assert state[key] == shape, key
    assert "decoder.upsamples.11.time_conv.weight" not in state  # spatial-only upsampler
    assert "decoder.upsamples.15.residual.0.gamma" not in state
    assert not any(k.endswith(".bias") and "gamma" in k for k in state)


def test_normalisation_round_trips_with_the_brief_constants():
    mu = torch.randn(1, 2, 16, 3, 4)
    z = normalize(mu)
    torch.testing.assert_close(denormalize(z), mu, atol=1e-5, rtol=1e-5)
    expected = (float(mu[0, 0, 7, 0, 0]) - WAN_LATENT_MEAN[7]) / WAN_LATENT_STD[7]
    assert float(z[0, 0, 7, 0, 0]) == pytest.approx(expected, rel=1e-5)


@torch.no_grad()
def test_nine_frames_encode_to_three_latents_and_back_to_nine_frames(vae):
    ae = WanVAEAutoencoder(vae)
    z = ae.encode(torch.rand(1, 9, 3, 16, 24))
    assert z.shape == (1, 3, 16, 2, 3)
    ae.reset()
    frames = ae.decode(torch.randn(1, 3, 16, 2, 3))
    assert frames.shape == (1, 9, 3, 16, 24)
    assert frames.min() >= 0 and frames.max() <= 1


@torch.no_grad()
def test_streaming_decode_latent_by_latent_equals_decoding_in_chunks(vae):
    z = torch.randn(1, 5, 16, 2, 3)
    whole = WanVAEAutoencoder(vae).decode(z)
    one = WanVAEAutoencoder(vae)
    pieces = [one.decode(z[:, i : i + 1]) for i in range(5)]
    assert [p.shape[1] for p in pieces] == [1, 4, 4, 4, 4]
    torch.testing.assert_close(torch.cat(pieces, 1), whole, atol=1e-4, rtol=1e-4)
    chunks = WanVAEAutoencoder(vae)
    by_chunk = torch.cat([chunks.decode(z[:, :3]), chunks.decode(z[:, 3:])], 1)
    torch.testing.assert_close(by_chunk, whole, atol=1e-4, rtol=1e-4)
    assert whole.std() > 1e-3


@torch.no_grad()
def test_streaming_encode_in_uneven_pieces_equals_encoding_the_clip(vae):
    frames = torch.rand(1, 13, 3, 16, 24)
    whole = WanVAEAutoencoder(vae).encode(frames)
    assert whole.shape[1] == 4
    ae = WanVAEAutoencoder(vae)
    got, start = [], 0
    for size in (1, 2, 6, 4):
        got.append(ae.encode(frames[:, start : start + size]))
        start += size
    assert [g.shape[1] for g in got] == [1, 0, 2, 1]
    torch.testing.assert_close(torch.cat(got, 1), whole, atol=1e-4, rtol=1e-4)


def test_the_wan_vae_component_loads_strictly_and_names_a_mismatch(tmp_path):
    from safetensors.torch import save_file

    from liveedit_app.engine.components import build_autoencoder
    from liveedit_app.errors import CheckpointError

    state = {k: torch.randn(v.shape) * 0.01 for k, v in WanVAE(dim=16).state_dict().items()}
    save_file(state, str(tmp_path / "Wan2.1_VAE.safetensors"))
    ae = build_autoencoder("wan-vae", {"dim": 16}, tmp_path)
    assert (ae.spatial_factor, ae.temporal_factor, ae.latent_channels) == (8, 4, 16)
    torch.testing.assert_close(ae.model.decoder.head[2].weight, state["decoder.head.2.weight"])
    state["decoder.conv1.weight"] = torch.zeros(64, 8, 3, 3, 3)
    save_file(state, str(tmp_path / "Wan2.1_VAE.safetensors"))
    with pytest.raises(CheckpointError) as info:
        build_autoencoder("wan-vae", {"dim": 16}, tmp_path)
    assert "decoder.conv1.weight" in info.value.details

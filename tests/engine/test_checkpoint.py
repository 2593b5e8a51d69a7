import json

import pytest
import torch
from engine_toys import TOY, toy_dit

from liveedit_app.engine.checkpoint import (
    import_reference_checkpoint,
    load_dit,
    load_state_strict,
    read_card,
    reference_state_dict,
    save_model,
)
from liveedit_app.engine.config import DIT_CONFIGS, ModelConfig, SamplerConfig
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.card import sha256_file


def brief_wan_shapes() -> dict[str, tuple[int, ...]]:
    """The released checkpoint's keys and shapes, written out from brief §2's table."""
    d, f = 1536, 8960
    shapes = {
        "patch_embedding.weight": (d, 32, 1, 2, 2), "patch_embedding.bias": (d,),
        "text_embedding.0.weight": (d, 4096), "text_embedding.0.bias": (d,),
        "text_embedding.2.weight": (d, d), "text_embedding.2.bias": (d,),
        "time_embedding.0.weight": (d, 256), "time_embedding.0.bias": (d,),
        "time_embedding.2.weight": (d, d), "time_embedding.2.bias": (d,),
        "time_projection.1.weight": (6 * d, d), "time_projection.1.bias": (6 * d,),
        "head.modulation": (1, 2, d), "head.head.weight": (64, d), "head.head.bias": (64,),
    }
    for n in range(30):
        b = f"blocks.{n}."
        shapes[b + "modulation"] = (1, 6, d)
        for attn in ("self_attn", "cross_attn"):
            for p in "qkvo":
                shapes[f"{b}{attn}.{p}.weight"] = (d, d)
                shapes[f"{b}{attn}.{p}.bias"] = (d,)
            shapes[f"{b}{attn}.norm_q.weight"] = (d,)
            shapes[f"{b}{attn}.norm_k.weight"] = (d,)
        shapes[b + "norm3.weight"] = (d,)
        shapes[b + "norm3.bias"] = (d,)
        shapes[b + "ffn.0.weight"] = (f, d)
        shapes[b + "ffn.0.bias"] = (f,)
        shapes[b + "ffn.2.weight"] = (d, f)
        shapes[b + "ffn.2.bias"] = (d,)
    return shapes


def reference_checkpoint_on_meta() -> dict:
    """{'generator': {...}} with `model.` keys, some behind FSDP wrapper segments."""
    gen = {}
    for i, (k, shape) in enumerate(brief_wan_shapes().items()):
        key = f"model._fsdp_wrapped_module.{k}" if i % 7 == 0 else f"model.{k}"
        gen[key] = torch.empty(shape, device="meta")
    return {"generator": gen, "critic": {}}


def test_the_wan_config_has_exactly_the_825_reference_keys_and_shapes():
    with torch.device("meta"):
        dit = CausalDiT(DIT_CONFIGS["wan-1.3b"])
    ours = {k: tuple(v.shape) for k, v in dit.state_dict().items()}
    assert len(ours) == 825
    assert ours == brief_wan_shapes()


def test_reference_checkpoint_loads_strictly_at_meta_size():
    state = reference_state_dict(reference_checkpoint_on_meta())
    assert len(state) == 825
    with torch.device("meta"):
        dit = CausalDiT(DIT_CONFIGS["wan-1.3b"])
    load_state_strict(dit, state, "ar-forcing_002000.pt")
    assert dit.blocks[29].ffn[2].weight.shape == (1536, 8960)
    assert dit.patch_embedding.weight.is_meta


def test_a_wrong_shape_is_refused_naming_the_key_and_both_shapes():
    state = reference_state_dict(reference_checkpoint_on_meta())
    state["patch_embedding.weight"] = torch.empty(1536, 16, 1, 2, 2, device="meta")
    with torch.device("meta"):
        dit = CausalDiT(DIT_CONFIGS["wan-1.3b"])
    with pytest.raises(CheckpointError) as err:
        load_state_strict(dit, state, "ckpt.pt")
    assert "patch_embedding.weight" in str(err.value)
    assert "[1536, 16, 1, 2, 2]" in str(err.value) and "[1536, 32, 1, 2, 2]" in str(err.value)


def test_a_missing_key_is_named():
    state = reference_state_dict(reference_checkpoint_on_meta())
    del state["blocks.3.norm3.bias"]
    with torch.device("meta"):
        dit = CausalDiT(DIT_CONFIGS["wan-1.3b"])
    with pytest.raises(CheckpointError, match=r"missing key blocks\.3\.norm3\.bias"):
        load_state_strict(dit, state, "ckpt.pt")


def test_ema_weights_are_picked_when_asked():
    raw = {"generator": {"model.a": torch.zeros(1)}, "generator_ema": {"model.a": torch.ones(1)}}
    assert reference_state_dict(raw, use_ema=True)["a"].item() == 1.0
    assert reference_state_dict(raw)["a"].item() == 0.0


def test_pickled_reference_file_is_read_with_weights_only(tmp_path):
    dit = toy_dit()
    path = tmp_path / "ckpt.pt"
    torch.save({"generator": {f"model.{k}": v for k, v in dit.state_dict().items()}}, path)
    state = import_reference_checkpoint(path)
    fresh = toy_dit(seed=3)
    load_state_strict(fresh, state, str(path))
    assert torch.equal(fresh.head.head.weight, dit.head.head.weight)


class _NotWeights:
    pass


def test_a_pickle_with_arbitrary_objects_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"generator": {"model.a": _NotWeights()}}, path)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        import_reference_checkpoint(path)


def test_a_damaged_reference_safetensors_file_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        import_reference_checkpoint(path)


def test_saved_model_folder_round_trips_with_checksums(tmp_path):
    cfg = ModelConfig(name="toy", dit=TOY, text_encoder="hash",
                      autoencoder_params={"latent_channels": 4, "width": 8},
                      sampler=SamplerConfig(chunk_frames=2, window_frames=4), resolution=(64, 64))
    dit = toy_dit()
    folder = save_model(tmp_path / "toy", cfg, dit, training={"steps": 1}, dtype=torch.float32)
    card = json.loads((folder / "model.json").read_text())
    assert card["files"]["dit.safetensors"]["sha256"] == sha256_file(folder / "dit.safetensors")
    _, _, loaded_cfg = read_card(folder / "model.json")
    assert loaded_cfg == cfg
    loaded = load_dit(folder, loaded_cfg, dtype=torch.float32)
    assert torch.equal(loaded.blocks[1].ffn[0].weight, dit.blocks[1].ffn[0].weight)


def test_a_model_card_with_an_incomplete_config_is_refused(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"config": {"name": "x", "dit": {"dim": 1}}}))
    with pytest.raises(CheckpointError, match="configuration"):
        read_card(tmp_path)


def test_a_truncated_weight_file_is_a_checkpoint_error_that_names_the_file(tmp_path):
    cfg = ModelConfig(name="toy", dit=TOY, text_encoder="hash",
                      autoencoder_params={"latent_channels": 4, "width": 8},
                      sampler=SamplerConfig(chunk_frames=2, window_frames=4), resolution=(64, 64))
    folder = save_model(tmp_path / "toy", cfg, toy_dit(), training={}, dtype=torch.float32)
    weights = folder / "dit.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"dit\.safetensors cannot be read"):
        load_dit(folder, cfg, dtype=torch.float32)


def test_a_card_that_mismatches_every_layer_names_only_the_first_few():
    state = reference_state_dict(reference_checkpoint_on_meta())
    with torch.device("meta"):
        dit = CausalDiT(DIT_CONFIGS["wan-1.3b"])
    state = {k: torch.empty(*v.shape[:-1], v.shape[-1] + 1, device="meta")
             for k, v in state.items()}
    with pytest.raises(CheckpointError) as err:
        load_state_strict(dit, state, "ckpt.pt")
    details = err.value.details.splitlines()
    assert len(details) <= 7 and details[-1].startswith("and ")


def test_a_missing_reference_checkpoint_is_named_as_missing(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        import_reference_checkpoint(tmp_path / "missing.pt")


def test_a_card_with_autoencoder_settings_the_app_does_not_know_is_a_sentence():
    from liveedit_app.engine.components import build_autoencoder

    with pytest.raises(CheckpointError, match="settings for its autoencoder"):
        build_autoencoder("liveedit-ae", {"latent_channels": 4, "colour": "blue"})

import pytest
import torch
from safetensors.torch import save_file

from liveedit_app.engine.wan.umt5 import TEXT_LEN, UMT5TextEncoder, clean_prompt, wan_t5_to_hf
from liveedit_app.errors import CheckpointError, InputError

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory, umt5_folder):
    return umt5_folder(tmp_path_factory.mktemp("umt5_hf"))


def test_clean_prompt_unescapes_twice_and_collapses_whitespace():
    assert clean_prompt("  a &amp;amp; b\n\t  c ") == "a & b c"
    assert clean_prompt("caf\u0065\u0301") == "caf\u00e9"


def test_encode_pads_to_512_and_zeroes_rows_past_the_true_length(hf_folder):
    enc = UMT5TextEncoder.from_folder(hf_folder, dtype=torch.float32)
    ids, mask = enc.tokenize(["make the jacket red", "a cat"])
    out = enc.encode_batch(["make the jacket red", "a cat"])
    assert out.shape == (2, TEXT_LEN, 32)
    lengths = mask.sum(1).tolist()
    assert ids.shape == (2, TEXT_LEN) and lengths[0] > lengths[1] >= 2
    for row, n in enumerate(lengths):
        assert ids[row, n - 1].item() == enc.tokenizer.eos_token_id
        assert (ids[row, n:] == enc.tokenizer.pad_token_id).all()
        assert out[row, n:].abs().max().item() == 0.0
        assert out[row, :n].abs().amin(dim=-1).gt(0).all()


def test_padding_does_not_change_the_rows_of_the_prompt(hf_folder):
    enc = UMT5TextEncoder.from_folder(hf_folder, dtype=torch.float32)
    ids, mask = enc.tokenize(["turn the sky into a sunset"])
    n = int(mask.sum())
    unpadded = enc.model(input_ids=ids[:, :n]).last_hidden_state
    torch.testing.assert_close(enc.encode_batch(["turn the sky into a sunset"])[:, :n], unpadded)


def test_the_engine_interface_encodes_one_prompt_and_refuses_an_empty_one(hf_folder):
    enc = UMT5TextEncoder.from_folder(hf_folder, dtype=torch.float32)
    assert (enc.text_len, enc.text_dim) == (TEXT_LEN, 32)
    one = enc.encode("a cat")
    assert one.shape == (TEXT_LEN, 32) and one.dtype == torch.float32
    torch.testing.assert_close(one, enc.encode_batch(["a cat"])[0])
    with pytest.raises(InputError):
        enc.encode(" \n ")


def test_long_prompts_are_truncated_to_512_slots(hf_folder):
    enc = UMT5TextEncoder.from_folder(hf_folder, dtype=torch.float32)
    ids, mask = enc.tokenize([" ".join(["make the jacket red", "a cat wearing a tiny hat"] * 160)])
    assert ids.shape == (1, TEXT_LEN) and int(mask.sum()) == TEXT_LEN


def test_wan_layout_encoder_file_loads_and_matches_the_hf_model(hf_folder, tmp_path):
    reference = UMT5TextEncoder.from_folder(hf_folder, dtype=torch.float32)
    inverse = {}
    for key, value in reference.model.state_dict().items():
        if key == "encoder.embed_tokens.weight":
            continue
        wan = (
            key.replace("shared.weight", "token_embedding.weight")
            .replace("encoder.final_layer_norm", "norm")
            .replace("encoder.block.", "blocks.")
            .replace("layer.0.layer_norm", "norm1")
            .replace("layer.0.SelfAttention.relative_attention_bias", "pos_embedding.embedding")
            .replace("layer.0.SelfAttention", "attn")
            .replace("layer.1.layer_norm", "norm2")
            .replace("layer.1.DenseReluDense.wi_0", "ffn.gate.0")
            .replace("layer.1.DenseReluDense.wi_1", "ffn.fc1")
            .replace("layer.1.DenseReluDense.wo", "ffn.fc2")
        )
        inverse[wan] = value.clone()
    assert len(inverse) == 1 + 2 * 10 + 1
    folder = tmp_path / "wan_t5"
    (folder / "tokenizer").mkdir(parents=True)
    reference.tokenizer.save_pretrained(folder / "tokenizer")
    save_file(inverse, str(folder / "models_t5_umt5-xxl-enc-bf16.safetensors"))
    loaded = UMT5TextEncoder.from_folder(folder, dtype=torch.float32)
    prompts = ["replace the car with a horse"]
    torch.testing.assert_close(loaded.encode_batch(prompts), reference.encode_batch(prompts))


def test_unknown_keys_and_missing_folders_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not a Wan umT5"):
        wan_t5_to_hf({"blocks.0.mystery.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="missing"):
        UMT5TextEncoder.from_folder(tmp_path / "nope")


def test_the_released_wan_encoder_file_describes_umt5_xxl():
    from liveedit_app.engine.wan.umt5 import umt5_config_for

    meta = {
        "token_embedding.weight": torch.empty(256384, 4096, device="meta"),
        "blocks.0.pos_embedding.embedding.weight": torch.empty(32, 64, device="meta"),
        "blocks.0.attn.q.weight": torch.empty(4096, 4096, device="meta"),
        "blocks.0.ffn.fc1.weight": torch.empty(10240, 4096, device="meta"),
        "blocks.23.norm1.weight": torch.empty(4096, device="meta"),
    }
    c = umt5_config_for(meta)
    assert (c.vocab_size, c.d_model, c.d_kv, c.d_ff, c.num_heads, c.num_layers) == (
        256384,
        4096,
        64,
        10240,
        64,
        24,
    )
    assert c.relative_attention_num_buckets == 32 and c.is_gated_act

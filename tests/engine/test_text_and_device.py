import pytest
import torch

from liveedit_app.engine.device import pick_device, pick_dtype
from liveedit_app.engine.text import (
    MiniLMTextEncoder,
    TableTextEncoder,
    load_prompt_table,
    save_prompt_table,
)
from liveedit_app.errors import InputError


@pytest.fixture(scope="module")
def minilm():
    return MiniLMTextEncoder(text_len=16)


def test_minilm_gives_token_states_with_zero_padding(minilm):
    emb = minilm.encode("make the jacket red")
    assert emb.shape == (16, 384)
    assert emb[:6].abs().sum(1).min() > 0  # [CLS] make the jacket red [SEP]
    assert emb[6:].abs().sum() == 0


def test_minilm_truncates_a_huge_prompt_and_caches_prompts(minilm):
    emb = minilm.encode("red " * 5000)
    assert emb.shape == (16, 384) and emb.abs().sum(1).min() > 0
    assert minilm.encode("make  the jacket red") is minilm.encode("make the jacket red")


def test_an_empty_prompt_is_an_input_error(minilm):
    with pytest.raises(InputError):
        minilm.encode(" \n ")


def test_prompt_table_round_trips_and_serves_as_an_encoder(minilm, tmp_path):
    table = {p: minilm.encode(p) for p in ("make it red", "turn the sky purple")}
    save_prompt_table(tmp_path / "p.safetensors", table)
    loaded = load_prompt_table(tmp_path / "p.safetensors")
    enc = TableTextEncoder(loaded)
    assert torch.equal(enc.encode("make it red"), table["make it red"])
    with pytest.raises(InputError):
        enc.encode("never prepared")


def test_auto_device_is_the_cpu_here_and_runs_bf16():
    device = pick_device("auto")
    assert device.type == ("cuda" if torch.cuda.is_available() else device.type)
    assert pick_dtype(torch.device("cpu")) == torch.bfloat16


@pytest.mark.parametrize(("native_bf16", "dtype"), [(True, torch.bfloat16),
                                                    (False, torch.float16)])
def test_an_nvidia_gpu_without_native_bf16_runs_fp16(monkeypatch, native_bf16, dtype):
    import contextlib

    asked = []
    monkeypatch.setattr(torch.cuda, "device", lambda d: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "is_bf16_supported",
                        lambda including_emulation=True: asked.append(including_emulation)
                        or native_bf16)
    assert pick_dtype(torch.device("cuda:0")) == dtype
    assert asked == [False]  # emulated bf16 (Turing, Pascal) is many times slower: not counted
    assert pick_dtype(torch.device("mps")) == torch.float16


@pytest.mark.parametrize("name", ["tpu", "cuda:x"])
def test_unknown_or_missing_devices_are_input_errors(name):
    with pytest.raises(InputError):
        pick_device(name)

import json
from pathlib import Path

import pytest
import torch

from liveedit_app.modelstore.card import file_entry

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB, not all zeros


def _make_model(folder: Path, name="wan-test", weights=WEIGHTS, **card) -> Path:
    """A model folder: two weight files (one in a subfolder) and a card with their sums."""
    folder.mkdir(parents=True)
    (folder / "dit.safetensors").write_bytes(weights)
    (folder / "extra").mkdir()
    (folder / "extra" / "vae.safetensors").write_bytes(weights[:1000])
    files = {
        "dit.safetensors": file_entry(folder / "dit.safetensors"),
        "extra/vae.safetensors": file_entry(folder / "extra" / "vae.safetensors"),
    }
    data = {"name": name, "files": files, "vram_gb": 9.5,
            "speed": {"fps": 41.5, "device": "H100"}, "config": {"keep": "me"}, **card}  # fmt: skip
    (folder / "model.json").write_text(json.dumps(data))
    return folder


@pytest.fixture
def make_model():
    return _make_model


@pytest.fixture
def weights():
    """The bytes of the main weight file `make_model` writes."""
    return WEIGHTS


SENTENCES = [
    "make the jacket red",
    "turn the sky into a sunset",
    "a cat wearing a tiny hat",
    "replace the car with a horse",
]


def build_umt5_folder(folder: Path, d_model: int = 32) -> Path:
    """A tiny umT5 encoder (random weights) and a Unigram tokenizer trained on SENTENCES."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=60, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tok.train_from_iterator(SENTENCES * 4, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    ).save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.UMT5Config(
        vocab_size=64, d_model=d_model, d_kv=8, d_ff=48, num_layers=2, num_heads=4,
        relative_attention_num_buckets=32, feed_forward_proj="gated-gelu", dropout_rate=0.0,
    )  # fmt: skip
    transformers.UMT5EncoderModel(config).eval().save_pretrained(folder)
    return folder


def released_format(state: dict, fsdp_every: int = 3) -> dict:
    """{'generator', 'generator_ema' (weights × 0.5), 'critic'} with `model.` keys, some behind
    FSDP wrapper segments: the layout of the released training checkpoint."""

    def wrap(scale):
        out = {}
        for i, (k, v) in enumerate(state.items()):
            seg = "model._fsdp_wrapped_module." if i % fsdp_every == 0 else "model."
            out[seg + k] = v * scale
        return out

    return {"generator": wrap(1.0), "generator_ema": wrap(0.5), "critic": {"x": torch.zeros(1)}}


@pytest.fixture(scope="session")
def umt5_folder():
    """build_umt5_folder(folder, d_model=32) -> folder."""
    return build_umt5_folder


@pytest.fixture(scope="session")
def released():
    """released_format(state) -> the released checkpoint's dict layout."""
    return released_format

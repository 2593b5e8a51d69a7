"""The umT5-XXL text encoder of Wan2.1, run through `transformers`, loaded from a local folder only.

Brief §5: clean the prompt (ftfy, html-unescape twice, collapse whitespace), tokenize with special
tokens, pad or truncate to 512 slots, encode with the attention mask, and zero every row past the
prompt's true length. Output [B, 512, 4096] (the DiT attends to all 512 rows, padding included).

A folder holds the tokenizer files and either a Hugging Face UMT5 encoder (`config.json` + weights)
or Wan's own encoder file (`models_t5_umt5-xxl-enc-bf16.pth` or `.safetensors`), whose keys are
renamed to the Hugging Face layout by `wan_t5_to_hf`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

import torch

from liveedit_app.engine.wan.weights import read_weights
from liveedit_app.errors import CheckpointError, InputError

TEXT_LEN = 512
WAN_T5_FILES = ("models_t5_umt5-xxl-enc-bf16.safetensors", "models_t5_umt5-xxl-enc-bf16.pth")

try:  # ftfy repairs mojibake; without it NFC normalisation is the documented stand-in
    import ftfy
except ImportError:  # pragma: no cover - depends on the environment
    ftfy = None


def clean_prompt(text: str) -> str:
    """Brief §5 cleaning. Without ftfy, text is NFC-normalised instead of repaired: prompts typed
    by a user are already valid Unicode, so only pasted mojibake differs."""
    text = ftfy.fix_text(text) if ftfy is not None else unicodedata.normalize("NFC", text)
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip()


# Wan's T5Encoder names → Hugging Face UMT5EncoderModel names; `N` is the block index.
_WAN_T5_KEYS = {
    "blocks.N.norm1.weight": "encoder.block.N.layer.0.layer_norm.weight",
    "blocks.N.attn.q.weight": "encoder.block.N.layer.0.SelfAttention.q.weight",
    "blocks.N.attn.k.weight": "encoder.block.N.layer.0.SelfAttention.k.weight",
    "blocks.N.attn.v.weight": "encoder.block.N.layer.0.SelfAttention.v.weight",
    "blocks.N.attn.o.weight": "encoder.block.N.layer.0.SelfAttention.o.weight",
    "blocks.N.pos_embedding.embedding.weight": (
        "encoder.block.N.layer.0.SelfAttention.relative_attention_bias.weight"
    ),
    "blocks.N.norm2.weight": "encoder.block.N.layer.1.layer_norm.weight",
    "blocks.N.ffn.gate.0.weight": "encoder.block.N.layer.1.DenseReluDense.wi_0.weight",
    "blocks.N.ffn.fc1.weight": "encoder.block.N.layer.1.DenseReluDense.wi_1.weight",
    "blocks.N.ffn.fc2.weight": "encoder.block.N.layer.1.DenseReluDense.wo.weight",
    "norm.weight": "encoder.final_layer_norm.weight",
}


def wan_t5_to_hf(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a Wan T5Encoder state dict to the UMT5EncoderModel layout; refuse unknown keys."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key == "token_embedding.weight":
            out["shared.weight"] = value
            out["encoder.embed_tokens.weight"] = value
            continue
        match = re.fullmatch(r"blocks\.(\d+)\.(.+)", key)
        pattern = f"blocks.N.{match.group(2)}" if match else key
        if pattern not in _WAN_T5_KEYS:
            raise CheckpointError(
                "This text encoder file is not a Wan umT5 encoder.", f"unexpected key {key!r}"
            )
        target = _WAN_T5_KEYS[pattern]
        out[target.replace(".N.", f".{match.group(1)}.") if match else target] = value
    return out


def umt5_config_for(state: dict[str, torch.Tensor]):
    """The UMT5Config a Wan-layout state dict describes (umT5-XXL for the released file)."""
    from transformers import UMT5Config

    layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    vocab, dim = state["token_embedding.weight"].shape
    buckets, heads = state["blocks.0.pos_embedding.embedding.weight"].shape
    return UMT5Config(
        vocab_size=vocab,
        d_model=dim,
        d_kv=state["blocks.0.attn.q.weight"].shape[0] // heads,
        d_ff=state["blocks.0.ffn.fc1.weight"].shape[0],
        num_layers=layers,
        num_heads=heads,
        relative_attention_num_buckets=buckets,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
        layer_norm_epsilon=1e-6,
        dropout_rate=0.0,
    )


class UMT5TextEncoder:
    """Prompts → [B, 512, d] context rows for the DiT's cross-attention."""

    def __init__(self, model, tokenizer, device="cpu", dtype=torch.bfloat16) -> None:
        self.model = model.to(device=device, dtype=dtype).eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.dtype = dtype
        self.text_dim = model.config.d_model
        self.text_len = TEXT_LEN

    @classmethod
    def from_folder(cls, folder, device="cpu", dtype=torch.bfloat16) -> UMT5TextEncoder:
        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError("The text encoder folder is missing.", f"no folder at {folder}")
        try:
            from transformers import AutoTokenizer, UMT5EncoderModel
        except ImportError as err:  # pragma: no cover - transformers is an optional extra
            raise CheckpointError(
                "The Wan text encoder needs the optional 'transformers' package "
                "(pip install 'liveedit-studio[wan]').",
                str(err),
            ) from err
        tok_dir = folder / "tokenizer" if (folder / "tokenizer").is_dir() else folder
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
            wan_file = next((folder / n for n in WAN_T5_FILES if (folder / n).is_file()), None)
            if wan_file is None:
                model = UMT5EncoderModel.from_pretrained(str(folder), local_files_only=True)
            else:
                state = read_weights(folder, (wan_file.name,))
                model = UMT5EncoderModel(umt5_config_for(state))
                model.load_state_dict(wan_t5_to_hf(state), strict=True)
        except (OSError, ValueError, RuntimeError, KeyError) as err:
            raise CheckpointError(
                "The text encoder in this folder cannot be loaded.", f"{folder}: {err}"
            ) from err
        return cls(model, tokenizer, device=device, dtype=dtype)

    def tokenize(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """→ ids [B, 512] and mask [B, 512] (1 on the prompt and its end token, 0 on padding)."""
        batch = self.tokenizer(
            [clean_prompt(p) for p in prompts],
            padding="max_length",
            truncation=True,
            max_length=TEXT_LEN,
            add_special_tokens=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        return batch["input_ids"], batch["attention_mask"]

    def encode(self, prompt: str) -> torch.Tensor:
        """The engine's text-encoder interface: one prompt → [512, d] float32."""
        if not clean_prompt(prompt):
            raise InputError("Type what to change first: the prompt is empty.")
        return self.encode_batch([prompt])[0].float()

    @torch.no_grad()
    def encode_batch(self, prompts: list[str]) -> torch.Tensor:
        """→ [B, 512, d] in the encoder's dtype; rows past each prompt's true length are zero."""
        ids, mask = self.tokenize(prompts)
        ids, mask = ids.to(self.device), mask.to(self.device)
        states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, 512, d]
        return states * mask.unsqueeze(-1).to(states.dtype)

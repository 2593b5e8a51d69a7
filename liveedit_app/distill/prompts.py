"""Prompt embeddings for training: every phrasing of every edit, as one tensor in the order of
`all_instructions()`, read from a prompt table file or computed with the model's text encoder.

The GPU machine has no MiniLM package, so the table is written here (`liveedit train prompts`)
and carried there. The unconditional prompt for guidance is all zeros (the encoder's padding).
"""

from __future__ import annotations

from pathlib import Path

import torch

from liveedit_app.distill.data.phrasings import all_instructions
from liveedit_app.errors import TrainingError


def _encoder(text_len: int):
    from liveedit_app.engine.text import MiniLMTextEncoder

    return MiniLMTextEncoder(text_len=text_len)


def write_prompt_table(path: str | Path, text_len: int) -> int:
    """Encode every phrasing and save the table (bf16); returns how many."""
    from liveedit_app.engine.text import save_prompt_table

    enc = _encoder(text_len)
    table = {p: enc.encode(p).to(torch.bfloat16) for p in all_instructions()}
    save_prompt_table(path, table)
    return len(table)


def prompt_embeddings(table_path: str, text_len: int) -> torch.Tensor:
    """[n_instructions, text_len, text_dim] float32, in `all_instructions()` order."""
    texts = all_instructions()
    if table_path:
        from liveedit_app.engine.text import load_prompt_table

        table = load_prompt_table(table_path)
        missing = [t for t in texts if t not in table]
        if missing:
            raise TrainingError("The prompt table lacks some phrasings; rebuild it with "
                                "`liveedit train prompts`.", details=f"e.g. {missing[:3]}")
        rows = [table[t] for t in texts]
    else:
        enc = _encoder(text_len)
        rows = [enc.encode(t) for t in texts]
    return torch.stack([r.float() for r in rows])

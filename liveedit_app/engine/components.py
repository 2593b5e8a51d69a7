"""Which autoencoder and text encoder a model uses, by the kind named in its model.json.

A factory takes (params from the model card, model folder or None) and returns the component;
with a folder it loads the component's weights from there. The Wan kinds ("taehv", "wan-vae",
"umt5") are registered by `liveedit_app.engine.wan.register`, imported on first need.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liveedit_app.errors import CheckpointError

Factory = Callable[[dict[str, Any], Path | None], Any]

_AUTOENCODERS: dict[str, Factory] = {}
_TEXT_ENCODERS: dict[str, Factory] = {}
_EXTENSIONS = ("liveedit_app.engine.wan.register",)
_extensions_loaded = False


def register_autoencoder(kind: str, factory: Factory) -> None:
    _AUTOENCODERS[kind] = factory


def register_text_encoder(kind: str, factory: Factory) -> None:
    _TEXT_ENCODERS[kind] = factory


def _lookup(table: dict[str, Factory], kind: str, what: str) -> Factory:
    global _extensions_loaded
    if kind not in table and not _extensions_loaded:
        _extensions_loaded = True
        for name in _EXTENSIONS:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
    if kind not in table:
        raise CheckpointError(f"This model needs a {what} this app does not have ({kind}).",
                              details=f"known {what} kinds: {sorted(table)}")
    return table[kind]


def _build(table: dict[str, Factory], kind: str, what: str, params: dict[str, Any],
           folder: Path | None) -> Any:
    factory = _lookup(table, kind, what)
    try:
        return factory(params, folder)
    except TypeError as exc:  # the card's params do not fit the component's constructor
        raise CheckpointError(f"The model's settings for its {what} ({kind}) do not fit this "
                              "app.", details=f"params {params}: {exc}") from exc


def build_autoencoder(kind: str, params: dict[str, Any], folder: Path | None = None) -> Any:
    return _build(_AUTOENCODERS, kind, "autoencoder", params, folder)


def build_text_encoder(kind: str, params: dict[str, Any], folder: Path | None = None) -> Any:
    return _build(_TEXT_ENCODERS, kind, "text encoder", params, folder)


def _liveedit_ae(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.autoencoder import LiveEditAE
    from liveedit_app.engine.checkpoint import load_module_weights

    ae = LiveEditAE(**params)
    if folder is not None and (folder / "autoencoder.safetensors").is_file():
        load_module_weights(ae, folder / "autoencoder.safetensors")
    return ae.eval()


def _minilm(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.text import (
        MiniLMTextEncoder,
        TableTextEncoder,
        load_prompt_table,
    )

    table = folder / "prompts.safetensors" if folder is not None else None
    try:
        return MiniLMTextEncoder(text_len=params.get("text_len", 32))
    except CheckpointError:
        if table is not None and table.is_file():
            return TableTextEncoder(load_prompt_table(table))
        raise


def _hash(params: dict[str, Any], folder: Path | None) -> Any:
    from liveedit_app.engine.text import HashTextEncoder

    return HashTextEncoder(params["text_dim"], params["text_len"])


register_autoencoder("liveedit-ae", _liveedit_ae)
register_text_encoder("minilm", _minilm)
register_text_encoder("hash", _hash)

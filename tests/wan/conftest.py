import json
from pathlib import Path

import pytest

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

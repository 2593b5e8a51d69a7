"""The released checkpoint, made into an installed model and streamed by the editor: the whole
Wan stack at a small config of the same code (DiT width 256, Wan VAE width 16, tiny umT5)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from liveedit_app.contract import Frame
from liveedit_app.engine.config import DIT_CONFIGS, model_config
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.wan.importer import import_released_checkpoint
from liveedit_app.engine.wan.taehv import TAEHV
from liveedit_app.engine.wan.vae import WanVAE
from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.store import ModelStore

pytest.importorskip("transformers")

SMALL = replace(DIT_CONFIGS["wan-1.3b"], dim=256, ffn_dim=512, heads=2, layers=2, text_dim=64)
CFG = replace(model_config("wan-1.3b"), dit=SMALL, resolution=(32, 48))


def edit_noise(editor, n, seed):
    """`n` random 40x56 frames edited with a prompt, then flushed -> every frame that came out."""
    editor.set_prompt("make the jacket red")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rgb = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
        out += editor.push(Frame(rgb=rgb, pts=i / 16, index=i))
    return out + editor.flush()


@pytest.fixture
def files(tmp_path, umt5_folder, released):
    torch.manual_seed(0)
    dit = CausalDiT(SMALL)
    with torch.no_grad():
        for p in dit.parameters():
            p.copy_(torch.randn_like(p) * 0.05)
    torch.save(released(dit.state_dict()), tmp_path / "ar-forcing_002000.pt")
    torch.save(WanVAE(dim=16).state_dict(), tmp_path / "Wan2.1_VAE.pth")
    torch.save(TAEHV().state_dict(), tmp_path / "taew2_1.pth")
    text = umt5_folder(tmp_path / "umt5", d_model=SMALL.text_dim)
    store = ModelStore(user_dir=tmp_path / "user", shipped_dir=tmp_path / "shipped")
    return tmp_path, dit, text, store


def test_the_released_checkpoint_installs_and_streams_with_the_editor(files):
    from liveedit_app.engine import memory
    from liveedit_app.engine.editor import StreamEditor
    from liveedit_app.modelstore.store import folder_size

    root, dit, text, store = files
    model = import_released_checkpoint(
        root / "ar-forcing_002000.pt", text_encoder=text, taehv=root / "taew2_1.pth",
        wan_vae=root / "Wan2.1_VAE.pth", use_ema=True, store=store, cfg=CFG, vae_dim=16,
    )  # fmt: skip
    assert store.verify("liveedit-wan-1.3b").ok
    card = model.card.raw
    assert card["config"]["autoencoder"] == "taehv" and card["config"]["text_encoder"] == "umt5"
    assert {f for f in card["files"] if "/" not in f} == {
        "dit.safetensors", "taew2_1.safetensors", "Wan2.1_VAE.safetensors"}  # fmt: skip
    assert "speed" not in card  # speed only for the measured size
    # the need counts the GPU-side weights (not the text encoder, which runs on the CPU)
    # (the load-time check counts the files as stored: the autoencoders' fp32 is an upper bound)
    assert card["vram_gb"] <= memory.estimate_gb(CFG, memory.folder_weight_bytes(model.path))
    assert card["vram_gb"] < memory.estimate_gb(CFG, folder_size(model.path))

    editor = StreamEditor.load(model.path, device="cpu")
    w = editor.dit.blocks[0].ffn[0].weight.float()
    torch.testing.assert_close(w, 0.5 * dit.blocks[0].ffn[0].weight, atol=2e-3, rtol=1e-2)
    out = edit_noise(editor, 24, seed=0)
    assert len(out) >= 12
    assert [f.index for f in out] == list(range(len(out)))
    assert all(f.rgb.shape == (40, 56, 3) and f.rgb.dtype == np.uint8 for f in out)


def test_a_checkpoint_that_does_not_fit_installs_nothing(files):
    root, dit, text, store = files
    state = dit.state_dict()
    state["head.head.weight"] = torch.zeros(8, SMALL.dim)
    torch.save({"generator": {f"model.{k}": v for k, v in state.items()}}, root / "bad.pt")
    with pytest.raises(CheckpointError) as info:
        import_released_checkpoint(root / "bad.pt", text_encoder=text,
                                   wan_vae=root / "Wan2.1_VAE.pth", store=store, cfg=CFG,
                                   vae_dim=16)  # fmt: skip
    assert "head.head.weight" in info.value.details
    assert store.list() == [] and list(store.user_dir.glob("*")) == []


def test_the_full_wan_vae_streams_with_the_editor_on_cpu(files):
    from liveedit_app.engine.editor import StreamEditor

    root, _, text, store = files
    model = import_released_checkpoint(
        root / "ar-forcing_002000.pt", text_encoder=text, wan_vae=root / "Wan2.1_VAE.pth",
        store=store, cfg=CFG, vae_dim=16,
    )  # fmt: skip
    editor = StreamEditor.load(model.path, device="cpu")
    out = edit_noise(editor, 12, seed=1)
    assert len(out) >= 9
    assert all(f.rgb.shape == (40, 56, 3) for f in out)

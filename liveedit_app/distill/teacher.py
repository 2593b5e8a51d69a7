"""The stage-1 bidirectional teacher as an offline editor: a whole clip at once, many ODE steps,
classifier-free guidance. A baseline for the benchmark (it sees the future, so it cannot stream).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from liveedit_app.distill.batches import Batch
from liveedit_app.distill.evaluate import composite
from liveedit_app.distill.flow import ode_sample
from liveedit_app.distill.latents import mask_to_latent
from liveedit_app.distill.stage3_dmd import guided_velocity
from liveedit_app.engine import checkpoint
from liveedit_app.engine.components import build_autoencoder, build_text_encoder
from liveedit_app.engine.device import pick_device


@torch.no_grad()
def teacher_edit(folder: str | Path, source: np.ndarray, instruction: str,
                 mask: np.ndarray | None = None, *, steps: int = 50, seed: int = 0,
                 guidance: float = 2.0, shift: float = 3.0, device: str = "auto") -> np.ndarray:
    """Edit a clip source [F, H, W, 3] uint8 with a bidirectional model folder (stage 1).
    mask [F, H, W] float32 in [0, 1] or None (global). Returns [F, H, W, 3] uint8; pixels where
    the mask is 0 are the source's."""
    folder, _card, cfg = checkpoint.read_card(folder)
    dev = pick_device(device)
    dit = checkpoint.load_dit(folder, cfg, device=dev, dtype=torch.float32)
    ae = build_autoencoder(cfg.autoencoder, cfg.autoencoder_params, folder).to(dev)
    text = build_text_encoder(cfg.text_encoder, cfg.text_encoder_params, folder)
    f, h, w = source.shape[:3]
    rh, rw = cfg.resolution
    small = np.stack([cv2.resize(img, (rw, rh), interpolation=cv2.INTER_AREA) for img in source])
    pix = torch.from_numpy(small).to(dev).permute(0, 3, 1, 2)[None].float() / 255
    y = ae.encode(pix).float()  # [1, F, C, h, w]
    if mask is None:
        lat_mask = torch.ones_like(y[:, :, :1])
    else:
        m = np.stack([cv2.resize(x, (rw, rh), interpolation=cv2.INTER_AREA) for x in mask])
        lat_mask = mask_to_latent(torch.from_numpy(m)[None].to(dev), ae.spatial_factor)
    ctx = text.encode(instruction)[None].to(dev)
    batch = Batch(y, y, lat_mask, torch.tensor([mask is not None]), ctx,
                  torch.zeros(1, dtype=torch.long))
    gen = torch.Generator(device=dev).manual_seed(seed)
    noise = torch.randn(y.shape, generator=gen, device=dev)
    x0 = ode_sample(lambda x, t: guided_velocity(dit, batch, x, t, guidance), noise, steps, shift)
    out = ae.decode(x0)[0].permute(0, 2, 3, 1).float().cpu().numpy()
    out = np.stack([cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR) for img in out])
    edited = (out.clip(0, 1) * 255).round().astype(np.uint8)
    return composite(source, edited, None if mask is None else mask.astype(np.float32))

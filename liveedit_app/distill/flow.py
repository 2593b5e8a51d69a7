"""Flow matching for training (brief §7): timesteps drawn on the shifted grid, x_t, the velocity
target and the loss weight. σ = t / 1000 throughout, as in the engine's sampler."""

from __future__ import annotations

import torch


def sample_timesteps(shape: tuple[int, ...], shift: float, generator: torch.Generator,
                     device: torch.device, low: float = 0.0, high: float = 1000.0
                     ) -> torch.Tensor:
    """Timesteps in [low, high] from a uniform grid index warped by `shift` (float32)."""
    u = torch.rand(shape, generator=generator, device="cpu")
    s = 1 - u  # s in (0, 1]: grid index u*1000 of linspace(1, 0)
    t = 1000 * shift * s / (1 + (shift - 1) * s)
    return t.clamp(low, high).to(device)


def noisy(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 − σ)·x0 + σ·ε with σ = t/1000 per frame; x0 [B, F, C, h, w], t [B, F]."""
    sigma = (t / 1000).to(x0.dtype)[:, :, None, None, None]
    return (1 - sigma) * x0 + sigma * noise


def loss_weight(t: torch.Tensor) -> torch.Tensor:
    """exp(−2((t−500)/1000)²), shifted so the grid minimum is 0 and scaled to grid mean 1 (the
    reference's weighting: mid-range timesteps count most), plus a small floor so that the ends
    of the schedule still learn something."""
    grid = torch.linspace(0, 1000, 1001, device=t.device)
    raw_grid = torch.exp(-2 * ((grid - 500) / 1000) ** 2)
    low, mean = raw_grid.min(), (raw_grid - raw_grid.min()).mean()
    return (torch.exp(-2 * ((t - 500) / 1000) ** 2) - low) / mean + 0.05


def flow_loss(velocity: torch.Tensor, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor,
              weight: torch.Tensor | None = None) -> torch.Tensor:
    """Weighted per-frame MSE of the velocity against ε − x0. weight [B, F, 1, h, w] optional
    (e.g. more weight inside the edit mask)."""
    err = (velocity.float() - (noise - x0).float()) ** 2
    if weight is not None:
        err = err * weight
    per_frame = err.mean(dim=(2, 3, 4))  # [B, F]
    return (per_frame * loss_weight(t)).mean()


@torch.no_grad()
def ode_sample(velocity_fn, noise: torch.Tensor, steps: int, shift: float) -> torch.Tensor:
    """Euler ODE from pure noise to x0 over `steps` shifted timesteps (the many-step teacher).

    velocity_fn(x, t [B, F]) -> v."""
    s = torch.linspace(1, 0, steps + 1, dtype=torch.float64)
    sig = (shift * s / (1 + (shift - 1) * s)).tolist()
    x = noise
    b, f = noise.shape[:2]
    for cur, nxt in zip(sig[:-1], sig[1:], strict=True):
        t = torch.full((b, f), cur * 1000, device=noise.device)
        v = velocity_fn(x, t)
        x = (x.float() + (nxt - cur) * v.float()).to(noise.dtype)
    return x

"""The few-step flow-matching sampler of brief §3, independent of the network.

Timesteps are used verbatim; each maps to σ through the nearest entry of the shift-5 training grid
(σ_i = shift·s_i / (1 + (shift-1)·s_i), s_i = linspace(1, 0, 1001)[:-1], timestep_i = 1000·σ_i).
A step predicts x0 = x − σ·v and, unless it is the last, re-noises with fresh noise:
x = (1 − σ_next)·x0 + σ_next·ε.
"""

from __future__ import annotations

import torch


class FlowSampler:
    def __init__(self, steps: tuple[int, ...] = (1000, 750, 500, 250), shift: float = 5.0,
                 precise: bool = False) -> None:
        s = torch.linspace(1.0, 0.0, 1001, dtype=torch.float64)[:-1]
        self.grid_sigmas = shift * s / (1 + (shift - 1) * s)  # [1000] float64
        self.grid_timesteps = 1000.0 * self.grid_sigmas
        self.steps = tuple(int(t) for t in steps)
        self.sigmas = tuple(self.sigma(t) for t in self.steps)
        self.precise = precise  # float64 x0 arithmetic, as the reference; fp32 otherwise

    def sigma(self, t: float) -> float:
        """σ of the grid entry whose timestep is nearest to t."""
        return float(self.grid_sigmas[torch.argmin((self.grid_timesteps - t).abs())])

    def to_x0(self, x: torch.Tensor, v: torch.Tensor, sigma: float) -> torch.Tensor:
        work = torch.float64 if self.precise else torch.float32
        return (x.to(work) - sigma * v.to(work)).to(x.dtype)

    @staticmethod
    def renoise(x0: torch.Tensor, sigma: float, noise: torch.Tensor) -> torch.Tensor:
        return (1 - sigma) * x0 + sigma * noise

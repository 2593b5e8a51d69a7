"""3D rotary position embedding (brief §2): per head, complex pairs of adjacent reals split into
(time, height, width) groups; the time position is the absolute latent-frame index.

Tables are computed once in float64 and kept as fp32 cos/sin; each pass casts its rows once to
the dtype the rotation runs in: the model's (bf16) by default, float64 in precise mode (the
reference's complex128 arithmetic, for parity runs).
"""

from __future__ import annotations

import torch

from liveedit_app.engine.config import DiTConfig


def _angles(positions: torch.Tensor, pairs: int) -> torch.Tensor:
    """[P] positions -> [P, pairs] angles p * 10000^(-2k/(2*pairs)), float64."""
    dim = 2 * pairs
    k2 = torch.arange(0, dim, 2, dtype=torch.float64, device="cpu")
    inv = 1.0 / torch.pow(10000.0, k2 / dim)
    return torch.outer(positions.to("cpu", torch.float64), inv)


class Rope3D:
    """Precomputed tables and the rotation. Not a module: no state to save, moved with `.to`."""

    def __init__(self, cfg: DiTConfig, device: torch.device | str = "cpu") -> None:
        self.pairs = cfg.rope_pairs
        self.positions = cfg.rope_positions
        pos = torch.arange(cfg.rope_positions, device="cpu")  # never meta, even in a meta context
        self.cos: list[torch.Tensor] = []
        self.sin: list[torch.Tensor] = []
        for n in self.pairs:
            ang = _angles(pos, n)
            self.cos.append(ang.cos().float().to(device))  # [P, n]
            self.sin.append(ang.sin().float().to(device))
        self.precise = False

    def to(self, device: torch.device | str) -> Rope3D:
        self.cos = [c.to(device) for c in self.cos]
        self.sin = [s.to(device) for s in self.sin]
        return self

    def tables(self, frames: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin [F, h*w, head_dim/2] (fp32) for latent frames `frames` ([F] absolute indices)
        on an h x w token grid, tokens in (h, w) raster order."""
        # checked eagerly; under torch.compile the host read would split the graph in two
        if not torch.compiler.is_compiling() and (
                int(frames.max()) >= self.positions or int(frames.min()) < 0):
            raise ValueError(f"frame positions {frames.tolist()} outside 0..{self.positions - 1}")
        nf = frames.numel()
        ft, fh, fw = self.pairs
        first = int(frames[0])
        if torch.equal(frames.cpu(), torch.arange(first, first + nf)):
            # a stream's chunk: a slice, so no host-to-device copy (a blocking copy would make
            # the host wait for the GPU's previous pass before every pass)
            rows: slice | torch.Tensor = slice(first, first + nf)
        else:
            rows = frames.to(self.cos[0].device)
        parts_c = [
            self.cos[0][rows][:, None, None, :].expand(nf, h, w, ft),
            self.cos[1][:h][None, :, None, :].expand(nf, h, w, fh),
            self.cos[2][:w][None, None, :, :].expand(nf, h, w, fw),
        ]
        parts_s = [
            self.sin[0][rows][:, None, None, :].expand(nf, h, w, ft),
            self.sin[1][:h][None, :, None, :].expand(nf, h, w, fh),
            self.sin[2][:w][None, None, :, :].expand(nf, h, w, fw),
        ]
        cos = torch.cat(parts_c, dim=-1).reshape(nf, h * w, -1)
        sin = torch.cat(parts_s, dim=-1).reshape(nf, h * w, -1)
        return cos, sin

    def time_shift(self, delta: int, device: torch.device | str
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin [head_dim/2] that rotate time pairs by -delta positions (spatial pairs by 0);
        used to rebase cached keys so positions stay inside the table on endless streams."""
        ft, fh, fw = self.pairs
        ang = _angles(torch.tensor([-float(delta)], device="cpu"), ft)[0]
        zeros = torch.zeros(fh + fw, dtype=torch.float64, device="cpu")
        full = torch.cat([ang, zeros])
        return full.cos().float().to(device), full.sin().float().to(device)


def full_width(cos: torch.Tensor, sin: torch.Tensor, dtype: torch.dtype
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Half tables [..., D/2] -> full-width [..., D] for `rotate`: c = (c0, c0, c1, c1, ...),
    s = (-s0, s0, -s1, s1, ...), cast once per pass to the dtype the rotation runs in."""
    c = cos.repeat_interleave(2, dim=-1)
    s = torch.stack((-sin, sin), dim=-1).flatten(-2)
    return c.to(dtype), s.to(dtype)


def rotate(x: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent-real pairs (a, b) -> (a·cos − b·sin, a·sin + b·cos) in c's dtype.
    x [B, N, H, D]; c, s [N, 1, D] from `full_width`."""
    xw = x.to(c.dtype)
    swapped = xw.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)
    return (xw * c + swapped * s).to(x.dtype)

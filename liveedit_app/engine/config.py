"""Model configurations: the DiT's shape (`DiTConfig`) and everything a model folder needs to run
(`ModelConfig`: DiT + autoencoder + text encoder + sampler defaults), stored as `model.json`'s
"config".

One DiT code path serves every size; the named configs below are the sizes the project uses.
`wan-1.3b` is the Wan2.1-T2V-1.3B student of the released LiveEdit checkpoint (brief §2): its
state-dict keys and shapes are exactly the reference's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from liveedit_app.errors import CheckpointError


@dataclass(frozen=True)
class DiTConfig:
    dim: int
    ffn_dim: int
    heads: int
    layers: int
    latent_channels: int = 16  # channels of one latent (noisy and source each have this many)
    mask_channel: bool = True  # our models see the user mask at latent resolution; Wan does not
    text_dim: int = 384
    text_len: int = 32
    freq_dim: int = 256
    eps: float = 1e-6
    qk_norm: bool = True
    cross_attn_norm: bool = True
    patch: tuple[int, int, int] = (1, 2, 2)
    rope_positions: int = 1024  # rows of each RoPE table (positions per axis)
    # the prompt's mean embedding joins the time embedding that drives every adaLN (shift,
    # scale, gate): one per-channel handle per prompt on frame-wide colour maps; Wan has none
    pooled_text: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "patch", tuple(self.patch))
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not a multiple of heads {self.heads}")
        if self.head_dim % 2:
            raise ValueError(f"head_dim {self.head_dim} must be even for RoPE")
        if self.patch[0] != 1:
            raise ValueError("only temporal patch size 1 is supported")

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def in_dim(self) -> int:
        """Input channels: [noisy ; source ; (mask)]."""
        return 2 * self.latent_channels + (1 if self.mask_channel else 0)

    @property
    def out_dim(self) -> int:
        return self.latent_channels

    @property
    def rope_pairs(self) -> tuple[int, int, int]:
        """Complex pairs per head for (time, height, width); Wan: 22/21/21 at head_dim 128."""
        d = self.head_dim
        spatial = d // 6
        return (d // 2 - 2 * spatial, spatial, spatial)


DIT_CONFIGS: dict[str, DiTConfig] = {
    # CPU real time at 256x256: 256 tokens per latent frame, a few narrow layers.
    "tiny": DiTConfig(dim=128, ffn_dim=384, heads=2, layers=4, latent_channels=8,
                      text_dim=384, text_len=32),
    # GPU: a few hundred million parameters would be wasted on our data; 12 layers of 512.
    "small": DiTConfig(dim=512, ffn_dim=2048, heads=4, layers=12, latent_channels=8,
                       text_dim=384, text_len=32),
    # The released student (brief §2): in_dim 32 = [noisy 16 ; source 16], no mask channel.
    "wan-1.3b": DiTConfig(dim=1536, ffn_dim=8960, heads=12, layers=30, latent_channels=16,
                          mask_channel=False, text_dim=4096, text_len=512),
}


@dataclass(frozen=True)
class SamplerConfig:
    steps: tuple[int, ...] = (1000, 750, 500, 250)  # denoising timesteps, used verbatim
    shift: float = 5.0
    chunk_frames: int = 3  # latent frames generated together
    window_frames: int = 21  # latent frames a query attends to, current chunk and sinks included
    sink_frames: int = 0  # first frames that are never evicted from the KV cache
    refresh: bool = True  # clean t=0 pass after each chunk to rewrite its K/V
    context_noise: int = 0  # timestep of the refresh pass

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        if not self.steps:
            raise ValueError("at least one denoising step is needed")
        if self.window_frames - self.sink_frames < self.chunk_frames:
            raise ValueError(
                f"window_frames {self.window_frames} minus sink_frames {self.sink_frames} "
                f"must hold one chunk of {self.chunk_frames} frames")


@dataclass(frozen=True)
class ModelConfig:
    name: str
    dit: DiTConfig
    autoencoder: str = "liveedit-ae"  # a kind registered in engine.components
    autoencoder_params: dict[str, Any] = field(default_factory=dict)
    text_encoder: str = "minilm"
    text_encoder_params: dict[str, Any] = field(default_factory=dict)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    resolution: tuple[int, int] = (256, 256)  # working (H, W) in pixels
    spatial_factor: int = 8  # pixels per latent pixel

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolution", tuple(self.resolution))
        h, w = self.resolution
        step = self.spatial_factor * self.dit.patch[1]
        if h % step or w % step:
            raise ValueError(f"resolution {h}x{w} must be a multiple of {step}")

    @property
    def latent_size(self) -> tuple[int, int]:
        h, w = self.resolution
        return (h // self.spatial_factor, w // self.spatial_factor)

    @property
    def tokens_per_frame(self) -> int:
        lh, lw = self.latent_size
        return (lh // self.dit.patch[1]) * (lw // self.dit.patch[2])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dit"]["patch"] = list(self.dit.patch)
        out["sampler"]["steps"] = list(self.sampler.steps)
        out["resolution"] = list(self.resolution)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        try:
            dit = _only_known(DiTConfig, data["dit"])
            sampler = _only_known(SamplerConfig, data.get("sampler", {}))
            rest = {k: v for k, v in data.items() if k not in ("dit", "sampler")}
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(rest) - known)
            if unknown:
                raise ValueError(f"unknown keys {unknown}")
            return cls(dit=dit, sampler=sampler, **rest)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError("The model card's configuration is not valid.",
                                  details=f"{type(exc).__name__}: {exc}") from exc

    def with_sampler(self, **changes: Any) -> ModelConfig:
        return replace(self, sampler=replace(self.sampler, **changes))


def _only_known(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}")
    return cls(**data)


def _tiny() -> ModelConfig:
    return ModelConfig(
        name="liveedit-tiny",
        dit=DIT_CONFIGS["tiny"],
        autoencoder="liveedit-ae",
        autoencoder_params={"latent_channels": 8, "width": 32},
        text_encoder="minilm",
        text_encoder_params={"text_len": 32},
        sampler=SamplerConfig(chunk_frames=4, window_frames=8, refresh=False),
        resolution=(256, 256),
    )


def _small() -> ModelConfig:
    return ModelConfig(
        name="liveedit-small",
        dit=DIT_CONFIGS["small"],
        autoencoder="liveedit-ae",
        autoencoder_params={"latent_channels": 8, "width": 48},
        text_encoder="minilm",
        text_encoder_params={"text_len": 32},
        sampler=SamplerConfig(chunk_frames=4, window_frames=16, refresh=True),
        resolution=(256, 256),
    )


def _wan() -> ModelConfig:
    return ModelConfig(
        name="liveedit-wan-1.3b",
        dit=DIT_CONFIGS["wan-1.3b"],
        autoencoder="wan-vae",
        text_encoder="umt5",
        text_encoder_params={"text_len": 512},
        sampler=SamplerConfig(chunk_frames=3, window_frames=21, refresh=True),
        resolution=(480, 832),
    )


MODEL_CONFIGS = {"tiny": _tiny, "small": _small, "wan-1.3b": _wan}


def model_config(name: str) -> ModelConfig:
    """The named ModelConfig ('tiny', 'small', 'wan-1.3b')."""
    try:
        return MODEL_CONFIGS[name]()
    except KeyError:
        raise KeyError(f"no model config {name!r}; known: {sorted(MODEL_CONFIGS)}") from None

"""Training configuration: one TOML file per model size (configs/toy.toml, tiny.toml, small.toml).

    model = "tiny"                 # a named engine ModelConfig ...
    [model_overrides.dit]          # ... with optional changes (the toy size shrinks everything)
    [data]                         # clip size, how many clips, workers, photo bank, text table
    [ae] [stage1] [stage2] [stage3] [eval]   # one section per stage

Unknown keys are refused, so a typo never trains the wrong thing silently.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from liveedit_app.engine.config import ModelConfig, model_config
from liveedit_app.errors import TrainingError


@dataclass
class DataConfig:
    height: int = 256
    width: int = 256
    latent_frames: int = 8  # latent frames per training clip (a whole number of chunks)
    clips: int = 2000  # training clips for stages 1-3 (all a background generator makes)
    clips_min: int = 0  # with a background generator: clips stage 1 waits for (0 = all)
    block: int = 128  # clips per block file of the background generator
    max_pending: int = 16  # block files waiting on disk at most
    ae_clips: int = 256  # pixel clips stage 0 trains on
    workers: int = -1  # generator processes; -1 = every core, 0 = in the training process
    region_share: float = 0.5
    edits_per_scene: int = 1  # examples that share one rendered scene (different edits of it)
    absorb_seconds: float = 0.0  # a stage takes in new generator blocks this often (0 = at start)
    photo_bank: str = ""  # npz from `save_photo_bank` (machines without the photo packages)
    text_table: str = ""  # safetensors prompt table (machines without the text encoder)


COMPILE_MODES = ("off", "on", "auto")


@dataclass
class StageConfig:
    steps: int = 100
    micro_batch: int = 0  # examples per forward on a rank (0 = its whole share): accumulation
    minutes: float = 0.0  # wall-clock budget of this run of the stage (0 = none): stop early
    batch: int = 4
    lr: float = 1e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 10.0
    warmup: int = 50
    lr_final: float = 1.0  # lr at the stage's end as a share of lr (cosine decay; 1 = constant)
    init: str = ""  # DiT weights to start from instead of the previous stage's (to continue one)
    # torch.compile of the DiT's training forward: "off", "on", or "auto" (timed against eager on
    # the stage's first batch, the faster kept); a compile that fails falls back to eager
    compile: str = "off"
    log_every: int = 10
    save_every: int = 500
    shift: float = 3.0  # timestep grid shift for training draws
    mask_weight: float = 4.0  # extra loss weight inside the edit mask (region edits)
    cfg_dropout: float = 0.1  # share of examples trained with the empty prompt (for guidance)
    # stage 3 (DMD) only
    lr_critic: float = 4e-5
    dmd_betas: tuple[float, float] = (0.0, 0.999)  # generator and critic optimisers
    generator_every: int = 5  # critic steps per generator step
    guidance: float = 3.0  # CFG of the real score (the frozen stage-1 teacher)
    ema: float = 0.99
    ema_start: int = 200  # generator updates during which the EMA just copies the weights
    regression: float = 0.0  # weight of an extra x0 regression to the true target
    rollout_chunks: int = 2

    def __post_init__(self) -> None:
        if self.compile not in COMPILE_MODES:
            raise TrainingError(f"compile must be one of {', '.join(COMPILE_MODES)}, not "
                                f"{self.compile!r}.", details="a stage section of the config")
        self.betas = tuple(self.betas)
        self.dmd_betas = tuple(self.dmd_betas)


@dataclass
class EvalConfig:
    clips: int = 64
    teacher_steps: int = 50
    batch: int = 8


@dataclass
class TrainConfig:
    model: ModelConfig
    data: DataConfig = field(default_factory=DataConfig)
    ae: StageConfig = field(default_factory=StageConfig)
    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(default_factory=StageConfig)
    stage3: StageConfig = field(default_factory=StageConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    device: str = "auto"
    precision: str = "bf16"  # autocast dtype on GPU ("bf16" or "fp32"); CPU runs fp32
    parallel: str = "ddp"  # under torchrun: "ddp" replicates, "fsdp" shards the DiTs
    size: str = ""  # the config file's name, e.g. "tiny"

    def stage(self, name: str) -> StageConfig:
        return getattr(self, name)


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise TrainingError(f"The training config has unknown settings in [{where}].",
                            details=f"unknown keys: {unknown}")
    return cls(**data)


def _merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TrainingError("The training config cannot be read.",
                            details=f"{path}: {exc}") from exc
    raw = dict(raw)
    try:
        base = model_config(raw.pop("model"))
    except KeyError as exc:
        raise TrainingError("The training config names no known model size.",
                            details=str(exc)) from exc
    model = ModelConfig.from_dict(_merge(base.to_dict(), raw.pop("model_overrides", {})))
    sections = {"data": DataConfig, "ae": StageConfig, "stage1": StageConfig,
                "stage2": StageConfig, "stage3": StageConfig, "eval": EvalConfig}
    built = {k: _build(cls, raw.pop(k, {}), k) for k, cls in sections.items()}
    top = _build(TrainConfig, {"model": model, **built, **raw}, "top level")
    top.size = top.size or path.stem
    return top

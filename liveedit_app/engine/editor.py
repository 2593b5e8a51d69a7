"""`StreamEditor`: the streaming edit session behind the window, the CLI and the benchmark.

Frames are pushed one at a time and gathered into chunks (chunk_frames latent frames times the
autoencoder's temporal factor). A full chunk is resized to the working resolution, encoded,
denoised by the causal DiT against its KV cache (with a mask cache), decoded, resized back to each
frame's own size and composited with the source: pixels where the user's mask is 0 are the source
pixels exactly, the edit fades in through an inward feather, `strength` blends it.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from liveedit_app.contract import EditedFrame, EditorStats, EditSettings, Frame
from liveedit_app.engine import checkpoint, memory
from liveedit_app.engine.components import build_autoencoder, build_text_encoder
from liveedit_app.engine.config import ModelConfig
from liveedit_app.engine.device import pick_device, pick_dtype
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.mask_cache import FULL_EVERY, ReferenceMaskCache, StaticSkipCache
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import (
    ChunkPlanner,
    StreamState,
    generate_chunk,
    run_pending_refresh,
)
from liveedit_app.errors import InputError, ModelNotFoundError

DEFAULT_MODEL = "liveedit-tiny"
MASK_CACHES = ("static", "reference", "off")


def find_model(name_or_path: str | Path) -> Path:
    """A model name (user models first, then shipped ones), a folder or a model.json -> path."""
    from liveedit_app import paths  # here, not at import: the GPU box has no platformdirs

    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_dir() or len(path.parts) > 1:
        return checkpoint.resolve_card(path)
    for root in (paths.user_models_dir(), paths.shipped_models_dir()):
        if (root / str(name_or_path) / "model.json").is_file():
            return root / str(name_or_path) / "model.json"
    raise ModelNotFoundError(f"No installed model is called '{name_or_path}'.",
                             details=f"looked in {paths.user_models_dir()} and "
                                     f"{paths.shipped_models_dir()}")


def steps_for(count: int, default: tuple[int, ...]) -> tuple[int, ...]:
    """The model's own timesteps for its step count, else evenly spaced from 1000 down."""
    if count < 1:
        raise InputError("Use at least one denoising step.")
    if count == len(default):
        return default
    return tuple(round(1000 * (1 - i / count)) for i in range(count))


COMPILE_MIN_PARAMS = 100_000_000  # DiTs this large are compiled on CUDA by default


class StreamEditor:
    def __init__(self, cfg: ModelConfig, dit: CausalDiT, autoencoder, text_encoder, *,
                 device: torch.device, dtype: torch.dtype, compile: bool | None = None,
                 mask_cache: str = "static", full_every: int = FULL_EVERY) -> None:
        """compile None: on CUDA for large DiTs (staged compile + GELU epilogue, +18 % for
        wan-1.3b in run 4; its first chunks pay ~20-50 s of compiling), not for small ones
        (liveedit-tiny streams far past real time eagerly, and a creator would wait for the
        compiler at every start), never on a CPU. full_every: see `set_mask_cache`."""
        if compile is None:
            big = sum(p.numel() for p in dit.parameters()) >= COMPILE_MIN_PARAMS
            compile = device.type == "cuda" and big
        self.cfg = cfg
        self.device = device
        self.dtype = dtype
        self.dit = dit.to(device=device, dtype=dtype).eval()
        self.ae = autoencoder.to(device=device, dtype=dtype).eval()
        if device.type == "cpu" and all(p.dim() <= 4 for p in self.ae.parameters()):
            # 2-D convolutions run faster channels-last on CPU; 3-D ones (Wan VAE) cannot use it
            self.ae = self.ae.to(memory_format=torch.channels_last)
        self.text = text_encoder
        if device.type == "cuda":
            from liveedit_app.engine.wan.accelerate import tune_autoencoder

            tune_autoencoder(self.ae)
        self.compiled = bool(compile)  # the first chunks wait for the compiler
        if compile and device.type == "cuda":
            from liveedit_app.engine.wan.accelerate import (
                compile_autoencoder,
                compile_for_streaming,
            )

            compile_for_streaming(self.dit)
            compile_autoencoder(self.ae)  # TAEHV: 24 -> 13 ms a chunk (run 5); others as they are
        elif compile:
            import torch._dynamo.config as dynamo_config

            from liveedit_app.engine.attention import seal_compiler_boundaries

            seal_compiler_boundaries()

            # one graph per layer (its cache slice) and per window length while the cache fills
            dynamo_config.recompile_limit = max(dynamo_config.recompile_limit,
                                                4 * cfg.dit.layers)
            for blk in self.dit.blocks:
                blk.compile(dynamic=False)
        self.settings = EditSettings()
        self.sampler = FlowSampler(cfg.sampler.steps, cfg.sampler.shift)
        self.frames_per_chunk = cfg.sampler.chunk_frames * getattr(self.ae, "temporal_factor", 1)
        self.state = StreamState.create(
            self.dit, torch.zeros(1, cfg.dit.text_len, cfg.dit.text_dim, device=device),
            tokens_per_frame=cfg.tokens_per_frame, window_frames=cfg.sampler.window_frames,
            sink_frames=cfg.sampler.sink_frames)
        self.mask_cache_mode = "off"
        self.full_every = FULL_EVERY
        self.planner: ChunkPlanner | None = None
        self.set_mask_cache(mask_cache, full_every)
        self.stats = EditorStats(device=str(device))
        self.prompt: str | None = None
        self._mask: np.ndarray | None = None
        self._alpha_entry: tuple[np.ndarray, tuple, tuple[np.ndarray, tuple]] | None = None
        self._latent_entry: tuple[tuple, list[np.ndarray], torch.Tensor] | None = None
        self._pending: list[_Pushed] = []  # pushed, not yet encoded
        self._awaiting: deque[_Pushed] = deque()  # encoded, waiting for their decoded frame
        self._recent: deque[tuple[int, float, float]] = deque(maxlen=16)
        self._latencies: deque[float] = deque(maxlen=64)
        self._between_s = 0.0  # deferred clean passes run since the last chunk (its cost)
        self._generator = self._new_generator()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path = DEFAULT_MODEL, device: str = "auto",
             compile: bool | None = None, mask_cache: str = "static",
             full_every: int = FULL_EVERY) -> StreamEditor:
        """A model by name (user models, then shipped), folder or model.json path."""
        folder, _card, cfg = checkpoint.read_card(find_model(name_or_path))
        dev = pick_device(device)
        dtype = pick_dtype(dev)
        memory.check_fits(cfg.name, memory.estimate_gb(cfg, memory.folder_weight_bytes(folder)),
                          dev)
        with memory.out_of_memory_as(
                f"The model {cfg.name} does not fit in the memory of {memory.holder(dev)}; "
                "close other programs that use it, or choose a smaller model.", dev):
            dit = checkpoint.load_dit(folder, cfg, device=dev, dtype=dtype)
            ae = build_autoencoder(cfg.autoencoder, cfg.autoencoder_params, folder)
            text = build_text_encoder(cfg.text_encoder, cfg.text_encoder_params, folder)
            return cls(cfg, dit, ae, text, device=dev, dtype=dtype, compile=compile,
                       mask_cache=mask_cache, full_every=full_every)

    @classmethod
    def from_config(cls, cfg: ModelConfig, seed: int = 0, device: str = "cpu",
                    text_encoder: str | None = "hash", compile: bool | None = None,
                    mask_cache: str = "static", full_every: int = FULL_EVERY) -> StreamEditor:
        """Random weights (tests, speed benchmarks). text_encoder None = the config's own."""
        torch.manual_seed(seed)
        dit = CausalDiT(cfg.dit)
        ae = build_autoencoder(cfg.autoencoder, cfg.autoencoder_params, None)
        kind = text_encoder or cfg.text_encoder
        params = ({"text_dim": cfg.dit.text_dim, "text_len": cfg.dit.text_len}
                  if kind == "hash" else cfg.text_encoder_params)
        text = build_text_encoder(kind, params, None)
        dev = pick_device(device)
        return cls(cfg, dit, ae, text, device=dev, dtype=pick_dtype(dev), compile=compile,
                   mask_cache=mask_cache, full_every=full_every)

    # -- what the creator sets -------------------------------------------------------------

    def set_prompt(self, prompt: str | None) -> None:
        """A new instruction; the stream goes on. Empty = no edit (frames pass through)."""
        text = " ".join((prompt or "").split())
        if text == (self.prompt or ""):
            return
        if not text:
            self.prompt = None
            return
        emb = self.text.encode(text)  # [L, text_dim]
        ctx = emb[None].to(device=self.device, dtype=self.dtype)
        self.state.set_context(self.dit, ctx)
        self.prompt = text
        if self.planner is not None:
            self.planner.reset()  # stored residuals depend on the prompt

    def set_mask(self, mask: np.ndarray | None) -> None:
        """HxW float32 in [0, 1] at the source size, or None for a global edit."""
        if mask is not None:
            if not isinstance(mask, np.ndarray) or mask.ndim != 2:
                raise InputError("The mask must be a single-channel picture.",
                                 details=f"got {type(mask).__name__} "
                                         f"{getattr(mask, 'shape', '')}")
            if mask.dtype != np.float32:
                raise InputError("The mask must hold float32 values between 0 and 1.",
                                 details=f"got dtype {mask.dtype}")
            if not np.isfinite(mask).all() or mask.min() < 0 or mask.max() > 1:
                raise InputError("The mask values must lie between 0 and 1.")
            if not mask.any():
                mask = None
        # each pushed frame keeps the mask current at its push; the static-skip cache keeps its
        # stores (it re-reads the mask every chunk), so a tracked mask still reuses work
        self._mask = None if mask is None else mask.copy()

    def configure(self, settings: EditSettings) -> None:
        if not 0.0 <= settings.strength <= 1.0:
            raise InputError("Strength must be between 0 and 1.")
        if settings.mask_feather_px < 0:
            raise InputError("Mask feathering cannot be negative.")
        steps = steps_for(settings.steps, self.cfg.sampler.steps)
        reseed = settings.seed != self.settings.seed
        new_count = len(steps) != len(self.sampler.steps)
        self.sampler = FlowSampler(steps, self.cfg.sampler.shift)
        if (settings.mask_feather_px, settings.strength) != (
                self.settings.mask_feather_px, self.settings.strength):
            self._alpha_entry = None
        self.settings = settings
        if reseed:
            self._generator = self._new_generator()
        if new_count:
            self.set_mask_cache(self.mask_cache_mode)

    def set_mask_cache(self, mode: str, full_every: int | None = None) -> None:
        """'static' (ours), 'reference' (brief §4) or 'off'. full_every (static only; None
        keeps the current value): every Nth chunk computes every token, which bounds how far
        the skipped tokens drift from full compute; 0 = never."""
        if mode not in MASK_CACHES:
            raise InputError(f"Unknown mask cache '{mode}'.", details=f"use one of {MASK_CACHES}")
        if full_every is not None:
            if isinstance(full_every, bool) or not isinstance(full_every, int) or full_every < 0:
                raise InputError("The full-compute interval must be a whole number of chunks, "
                                 "0 for never.", details=f"got full_every={full_every!r}")
            self.full_every = full_every
        self.mask_cache_mode = mode
        bucket = 64 if self.device.type == "cuda" else 1  # few kernel shapes on GPUs
        if mode == "static":
            self.planner = StaticSkipCache(self.dit, steps=len(self.sampler.steps), bucket=bucket,
                                           full_every=self.full_every)
        elif mode == "reference":
            self.planner = ReferenceMaskCache(self.dit, bucket=bucket)
        else:
            self.planner = None

    def set_refresh(self, on: bool) -> None:
        """The clean t=0 pass after each chunk (better context, one more DiT pass per chunk)."""
        self.cfg = self.cfg.with_sampler(refresh=on)

    # -- the stream ------------------------------------------------------------------------

    def push(self, frame: Frame) -> list[EditedFrame]:
        """Queue a frame; returns the frames of a chunk when this one completes it. The last
        chunk's clean refresh pass runs on the first push after it, while the next chunk's
        frames arrive, so a chunk's frames come out one DiT pass sooner."""
        _check_frame(frame)
        self._pending.append(_Pushed(frame, self._mask, time.perf_counter()))
        if len(self._pending) < self.frames_per_chunk:
            if self.state.pending_refresh is not None:
                start = time.perf_counter()
                with self._out_of_memory_as_sentence():
                    run_pending_refresh(self.dit, self.state)
                self._between_s += time.perf_counter() - start
            return []
        return self._run_chunk()

    def flush(self) -> list[EditedFrame]:
        """Edit everything still pending; partial chunks are padded with the last frame (the
        padding is never returned)."""
        out: list[EditedFrame] = []
        for _ in range(3):  # a temporal autoencoder may hold frames back for one more chunk
            real = [p for p in list(self._awaiting) + self._pending if not p.padding]
            if not real:
                break
            last = real[-1]
            pad = self.frames_per_chunk - len(self._pending)
            self._pending += [_Pushed(last.frame, last.mask, last.pushed, padding=True)] * pad
            out += self._run_chunk()
        self._awaiting.clear()
        return out

    def reset(self) -> None:
        """A new stream: empties the KV and mask caches, pending frames and coder state."""
        self._pending.clear()
        self._awaiting.clear()
        self.state.reset()
        if self.planner is not None:
            self.planner.reset()
        if hasattr(self.ae, "reset"):
            self.ae.reset()
        self._generator = self._new_generator()
        self._recent.clear()
        self._latencies.clear()
        self._between_s = 0.0
        self.stats = EditorStats(device=str(self.device))

    # -- internals -------------------------------------------------------------------------

    def _new_generator(self) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(int(self.settings.seed))

    def _run_chunk(self) -> list[EditedFrame]:
        chunk, self._pending = self._pending, []
        start = time.perf_counter()
        if self.prompt is None:
            # no edit: everything pushed so far passes through; a temporal coder restarts
            ready = [(p, p.frame.rgb) for p in list(self._awaiting) + chunk]
            self._awaiting.clear()
            if hasattr(self.ae, "reset"):
                self.ae.reset()
            share = 0.0
        else:
            self._awaiting.extend(chunk)
            with self._out_of_memory_as_sentence():
                edited = self._edit(chunk)
            ready = [(self._awaiting.popleft(), rgb) for rgb in edited]
            share = self.planner.share if self.planner is not None else 1.0
        done = time.perf_counter()
        out = []
        for pushed, rgb in ready:
            if pushed.padding:
                continue
            frame = pushed.frame
            if self.prompt is not None:
                rgb = self._composite(frame.rgb, rgb, pushed.mask)
            latency = done - pushed.pushed
            self._latencies.append(latency)
            out.append(EditedFrame(rgb=rgb, source=frame.rgb, pts=frame.pts, index=frame.index,
                                   latency_s=latency))
        # the editing rate counts the deferred clean pass run since the last chunk
        self._update_stats(len(out), done - start + self._between_s, share)
        self._between_s = 0.0
        return out

    def _out_of_memory_as_sentence(self):  # noqa: ANN202 - a context manager
        return memory.out_of_memory_as(
            f"{memory.holder(self.device).capitalize()} ran out of memory while editing; close "
            "other programs that use it, or choose a smaller model.", self.device)

    @torch.no_grad()
    def _edit(self, chunk: list[_Pushed]) -> list[np.ndarray]:
        """Encode the chunk, denoise the latents it completes, decode; returns the decoded
        frames at their sources' sizes, oldest first (paired with `_awaiting` in order)."""
        h, w = self.cfg.resolution
        batch = np.stack([cv2.resize(p.frame.rgb, (w, h), interpolation=cv2.INTER_AREA)
                          for p in chunk])  # [F, H, W, 3] uint8
        pix = torch.from_numpy(batch).to(self.device).permute(0, 3, 1, 2)[None]
        pix = pix.to(self.dtype) / 255.0  # [1, F, 3, H, W]
        y = self.ae.encode(pix)  # [1, F', C, h, w]; F' = F / temporal factor (0 while filling)
        if y.shape[1] == 0:
            return []
        mask = self._latent_mask(chunk, y)
        noise = torch.randn(y.shape, generator=self._generator, device=self.device,
                            dtype=self.dtype)
        x0 = generate_chunk(self.dit, self.sampler, self.state, noise, y, mask=mask,
                            refresh=self.cfg.sampler.refresh,
                            context_noise=self.cfg.sampler.context_noise,
                            generator=self._generator, planner=self.planner,
                            defer_refresh=True)
        out = self.ae.decode(x0)[0]  # [F'', 3, H, W] in [0, 1]
        out = (out.float() * 255.0).round().clamp(0, 255).to(torch.uint8)
        rgb = out.permute(0, 2, 3, 1).cpu().numpy()
        sizes = [p.frame.rgb.shape[:2] for p in list(self._awaiting)[:len(rgb)]]
        return [cv2.resize(img, (sw, sh), interpolation=cv2.INTER_LINEAR)
                for img, (sh, sw) in zip(rgb, sizes, strict=True)]

    def _at_size(self, mask: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
        if mask is None or mask.shape == size:
            return mask
        warnings.warn(f"mask of size {mask.shape} resized to the frame's {size}", stacklevel=4)
        return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_LINEAR).clip(0, 1)

    def _latent_mask(self, chunk: list[_Pushed], y: torch.Tensor) -> torch.Tensor | None:
        """The union of the chunk's frame masks at latent resolution [1, F', 1, h, w];
        None = global edit. Models without a mask channel still hand it to the mask cache."""
        masks = {id(p.mask): p.mask for p in chunk if p.mask is not None}
        if not masks:
            return None
        key = (tuple(masks), tuple(y.shape))
        if self._latent_entry is None or self._latent_entry[0] != key:
            lh, lw = y.shape[-2:]
            small = np.max([cv2.resize(m, (lw, lh), interpolation=cv2.INTER_AREA)
                            for m in masks.values()], axis=0)
            m = torch.from_numpy(small).to(self.device, self.dtype)
            # one entry (it holds the masks, so their ids stay theirs): a painted mask is
            # resized and uploaded once, a tracked one every chunk
            self._latent_entry = (key, list(masks.values()),
                                  m[None, None, None].expand(1, y.shape[1], 1, lh, lw))
        return self._latent_entry[2]

    def _composite(self, source: np.ndarray, edited: np.ndarray,
                   mask: np.ndarray | None) -> np.ndarray:
        alpha = self._alpha(mask, source.shape[:2])
        if alpha is None:
            s = self.settings.strength
            if s >= 1.0:
                return edited
            mix = source.astype(np.float32) * (1 - s) + edited.astype(np.float32) * s
            return mix.round().astype(np.uint8)
        # a painted selection is usually a small part of the frame: blend only its bounding box
        alpha, (y0, y1, x0, x1) = alpha
        out = source.copy()
        src, a = source[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
        mix = src.astype(np.float32) + (edited[y0:y1, x0:x1].astype(np.float32) - src) * a
        blended = mix.round().clip(0, 255).astype(np.uint8)
        out[y0:y1, x0:x1] = np.where(a > 0, blended, src)
        return out

    def _alpha(self, mask: np.ndarray | None,
               size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, ...]] | None:
        """[H, W, 1] blend weight: the mask feathered inward times strength; exactly 0 wherever
        the mask is 0. The soft edge is about `mask_feather_px` wide and lies inside the mask
        (eroded by half the width, blurred by a quarter, cut at the mask's edge): a wider ramp
        fades out the edit of small subjects and of edits that live at the edge (a glow rim).
        With the bounding box (y0, y1, x0, x1) of the pixels it changes."""
        if mask is None:
            return None
        entry = self._alpha_entry
        if entry is None or entry[0] is not mask or entry[1] != size:
            src = self._at_size(mask, size)
            feather = self.settings.mask_feather_px
            alpha = src
            if feather > 0:
                r = round(feather / 2)
                if r > 0:
                    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
                    alpha = cv2.erode(src, kernel)
                alpha = cv2.GaussianBlur(alpha, (0, 0), feather / 4)
                alpha = np.where(src > 0, alpha, 0.0)
            # one entry: a tracked mask changes every frame, a painted one stays
            weight = (alpha * self.settings.strength).astype(np.float32)[..., None]
            # a weight below 1/512 moves no pixel (255 / 512 rounds away): outside the box
            visible = weight[..., 0] > 1 / 512
            rows, cols = np.flatnonzero(visible.any(axis=1)), np.flatnonzero(visible.any(axis=0))
            box = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) if rows.size else (0, 0, 0, 0)
            self._alpha_entry = entry = (mask, size, (weight, box))
        return entry[2]

    def _update_stats(self, frames: int, seconds: float, share: float) -> None:
        self._recent.append((frames, seconds, share))
        total_frames = sum(f for f, _, _ in self._recent)
        total_time = sum(s for _, s, _ in self._recent)
        st = self.stats
        st.fps = total_frames / total_time if total_time > 0 else 0.0
        st.latency_ms = float(np.median(self._latencies)) * 1000 if self._latencies else 0.0
        st.recompute_share = float(np.mean([s for _, _, s in self._recent]))
        st.frames_out += frames
        st.extra["chunk_ms"] = seconds * 1000


@dataclass(frozen=True)
class _Pushed:
    frame: Frame
    mask: np.ndarray | None  # the mask current when the frame was pushed (source size)
    pushed: float  # perf_counter at push
    padding: bool = False  # a copy that fills a partial chunk; never returned


def _check_frame(frame: Frame) -> None:
    rgb = frame.rgb
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError("A frame must be an RGB picture.",
                         details=f"got {type(rgb).__name__} {getattr(rgb, 'shape', '')}")
    if rgb.dtype != np.uint8:
        raise InputError("A frame must hold 8-bit pixels.", details=f"got dtype {rgb.dtype}")
    if rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise InputError("The picture is too small to edit.", details=f"shape {rgb.shape}")

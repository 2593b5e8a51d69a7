#!/usr/bin/env python3
"""Speed of the wan-1.3b streaming editor on one GPU, random weights (issue 8).

Setting of the reference measurement (shared/reference/reference-speed.md): 480x832 (latent
60x104, 1560 tokens per latent frame), chunks of 3 latent frames, 4 denoising steps plus the t=0
refresh pass (5 DiT passes per chunk), KV window 21 latent frames, bf16, text encoder replaced by a
random context. "video FPS" = 81 frames / time of the first 7 chunks (the reference's 25.9 FPS);
"steady FPS" = 12 frames / median chunk time once the window is full (a live stream's rate).

The DiT and the tiny AE run as the editor runs them on CUDA (`accelerate.compile_for_streaming`:
staged compile + GELU epilogue; `accelerate.compile_autoencoder`). Parts (--parts, comma-separated;
default = run 5's without its second-stream rows):
  dit          DiT alone (the same run's upper bound for the end-to-end numbers)
  ae           the tiny AE alone per chunk (encode 12 frames, decode 3 latents), eager and
               compiled, and how far the compiled one moves
  e2e          tiny AE encode + DiT + decode, one after the other, eager AE and compiled AE
  static       static-skip cache (1/4 box, still background), token share per chunk: DiT
               alone (cuDNN autotuning on since the AEs), then e2e with the faster AE
  eager, ceilings, profile, wanvae: run 4's eager DiT, kernel ceilings, kernel profile of a
               steady chunk, DiT + full Wan VAE decode (not in the default set)
  defer        the DiT with each chunk's clean pass deferred to before the next chunk (as the
               editor runs it): chunk times end at the frames, the passes are timed apart; with
               e2e also the compiled-AE row deferred (the editor's whole CUDA path)
  nosplit      the dit and static DiT rows once more with the self-attention in one launch
               (`split_attention.enabled = False`), each just before its own row. (H200 runs
               2-3 also timed queries laid out [B, H, N, D]: 3-4 % faster in the kernel alone,
               no change in the DiT; `git show 7c58792:scripts/gpu_speed_wan.py`)
The JSON is rewritten after each part, so a run cut short keeps what it measured; a table is
printed last. Measured and removed: FP8 linears, Wan VAE convs as 2D, whole-block compile (run 4,
`git show 02a3b24:scripts/gpu_speed_wan.py`); the AE on a second CUDA stream beside the DiT
(run 5, slower than in turn: `git show 890b3b1:scripts/gpu_speed_wan.py`).

    PYTHONPATH=. python3 scripts/gpu_speed_wan.py --out "$OUT/wan-h100.json"
    PYTHONPATH=. python3 scripts/gpu_speed_wan.py --smoke        # CPU, toy sizes: checks the script
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
import traceback
from dataclasses import replace

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from liveedit_app.engine import mask_cache, split_attention
from liveedit_app.engine.config import DIT_CONFIGS
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk, run_pending_refresh
from liveedit_app.engine.wan import accelerate
from liveedit_app.engine.wan.taehv import TAEHV, TAEHVAutoencoder

BACKENDS = {
    "cudnn": [SDPBackend.CUDNN_ATTENTION],
    "flash": [SDPBackend.FLASH_ATTENTION],
    "efficient": [SDPBackend.EFFICIENT_ATTENTION],
    "default": None,
}


def log(*args) -> None:
    print(*args, flush=True)


def dynamo_graphs() -> int:
    """Graphs dynamo has captured so far in this process (a recompile adds one)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


class Setting:
    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.device = torch.device("cpu" if smoke else "cuda")
        self.dtype = torch.bfloat16
        if smoke:
            self.cfg = replace(DIT_CONFIGS["wan-1.3b"], dim=256, ffn_dim=512, heads=2, layers=2,
                               text_dim=64)  # fmt: skip
            self.lat_h, self.lat_w, self.text_len = 8, 12, 16
        else:
            self.cfg = DIT_CONFIGS["wan-1.3b"]
            self.lat_h, self.lat_w, self.text_len = 60, 104, 512
        self.tpf = (self.lat_h // 2) * (self.lat_w // 2)
        self.chunk, self.window, self.steps = 3, 21, (1000, 750, 500, 250)
        self.video_chunks = 7  # 21 latent frames = 81 video frames
        self.chunks = 10 if not smoke else 8  # the last ones run with a full window
        self.timed_runs = 2 if not smoke else 1

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def init_random_(model: torch.nn.Module, seed: int = 0) -> None:
    """Random weights that keep 30 layers finite: N(0, 0.02) matrices, unit norm weights."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and p.ndim == 1:
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def flops_per_pass(s: Setting, kv_tokens: int, q_tokens: int | None = None) -> float:
    c, d, f, n = s.cfg, s.cfg.dim, s.cfg.ffn_dim, q_tokens or s.chunk * s.tpf
    gemm = 2 * n * (4 * d * d + 2 * d * d + 2 * d * f)
    attn = 4 * n * kv_tokens * d + 4 * n * s.text_len * d
    return c.layers * (gemm + attn)


def chunk_flops(s: Setting, k: int) -> float:
    kv = min((k + 1) * s.chunk, s.window) * s.tpf
    return 5 * flops_per_pass(s, kv)


class Bench:
    def __init__(self, s: Setting) -> None:
        self.s = s
        torch.manual_seed(0)
        self.dit = CausalDiT(s.cfg)
        init_random_(self.dit)
        self.dit = self.dit.to(s.device, s.dtype).eval().requires_grad_(False)
        self.params = sum(p.numel() for p in self.dit.parameters())
        self.sampler = FlowSampler(s.steps, 5.0)
        gen = torch.Generator(device=s.device).manual_seed(1)
        frames = s.chunks * s.chunk
        shape = (1, frames, 16, s.lat_h, s.lat_w)
        self.noise = torch.randn(shape, generator=gen, device=s.device, dtype=s.dtype)
        self.src = torch.randn(shape, generator=gen, device=s.device, dtype=s.dtype)
        self.ctx = torch.randn(1, s.text_len, s.cfg.text_dim, generator=gen, device=s.device,
                               dtype=s.dtype)  # fmt: skip
        # one chunk more than the DiT runs: a live stream encodes the next chunk's frames early
        self.pixels = torch.rand(1, (s.chunks + 1) * s.chunk * 4, 3, 8 * s.lat_h, 8 * s.lat_w,
                                 generator=gen, device=s.device, dtype=s.dtype)  # fmt: skip
        self.state = StreamState.create(self.dit, self.ctx, tokens_per_frame=s.tpf,
                                        window_frames=s.window)  # fmt: skip

    def stream(self, *, ae=None, encode: bool = True, planner=None, mask=None, seed: int = 2,
               defer: bool = False):
        """One stream of s.chunks chunks → (per-chunk seconds, outputs). With `ae`, each chunk
        decodes its 3 latents inside the timed region and, with `encode`, first encodes the next
        12 source frames (the Wan VAE holds 3 of them back: frame 0 is encoded alone). With
        `defer`, a chunk's time ends at its frames and the previous chunk's clean pass is timed
        on its own before it (as the editor runs it while the frames arrive): self.refresh_s."""
        s = self.s
        self.state.reset()
        if planner is not None:
            planner.reset()
        if ae is not None:
            ae.reset()
        torch.manual_seed(seed)
        times, outs = [], []
        self.graphs_per_chunk = []
        self.shares = []
        self.refresh_s = []
        for k in range(s.chunks):
            graphs = dynamo_graphs()
            lo, hi = k * s.chunk, (k + 1) * s.chunk
            if defer and k > 0:
                s.sync()
                t0 = time.perf_counter()
                with torch.no_grad():
                    run_pending_refresh(self.dit, self.state)
                s.sync()
                self.refresh_s.append(time.perf_counter() - t0)
            s.sync()
            t0 = time.perf_counter()
            with torch.no_grad():
                if ae is not None and encode:
                    y = ae.encode(self.pixels[:, 4 * lo : 4 * hi])
                else:
                    y = self.src[:, lo:hi]
                m = mask(k) if callable(mask) else mask
                x0 = generate_chunk(self.dit, self.sampler, self.state, self.noise[:, lo:hi], y,
                                    planner=planner, mask=m, defer_refresh=defer)  # fmt: skip
                out = ae.decode(x0) if ae is not None else x0
            s.sync()
            times.append(time.perf_counter() - t0)
            outs.append(out[:, -1:].float().clone())
            self.graphs_per_chunk.append(dynamo_graphs() - graphs)
            if planner is not None:
                self.shares.append(round(planner.share, 4))
        return times, outs

    @torch.no_grad()
    def fill_window(self) -> None:
        """A fresh stream through the first 7 chunks: the KV window is full afterwards."""
        s = self.s
        self.state.reset()
        for k in range(s.video_chunks):
            lo = k * s.chunk
            generate_chunk(self.dit, self.sampler, self.state, self.noise[:, lo : lo + 3],
                           self.src[:, lo : lo + 3])  # fmt: skip
        s.sync()

    def measure(self, name: str, **kw) -> dict:
        """Warm-up stream, then s.timed_runs timed streams; per-chunk medians."""
        s = self.s
        t_warm = time.perf_counter()
        self.stream(**kw)  # warm-up: kernels, plans, compilation
        warm = time.perf_counter() - t_warm
        warm_graphs = list(self.graphs_per_chunk)
        before = dynamo_graphs()
        runs, refreshes = [], []
        for _ in range(s.timed_runs):
            runs.append(self.stream(**kw))
            refreshes.append(self.refresh_s)
        timed_graphs = dynamo_graphs() - before
        per_chunk = [statistics.median(r[0][k] for r in runs) for k in range(s.chunks)]
        # deferred clean passes: the video needs those of its first 6 chunks (the 7th's would
        # only serve an 8th chunk)
        per_refresh = [statistics.median(r[k] for r in refreshes)
                       for k in range(len(refreshes[0]))]  # fmt: skip
        video_s = sum(per_chunk[: s.video_chunks]) + sum(per_refresh[: s.video_chunks - 1])
        # a steady chunk's frames come after `steady_frames`; its throughput counts its pass too
        steady_frames = statistics.median(per_chunk[s.video_chunks :])
        steady = steady_frames + (statistics.median(per_refresh[s.video_chunks - 1 :])
                                  if per_refresh else 0.0)  # fmt: skip
        video_frames = 4 * s.video_chunks * s.chunk - 3
        result = {
            "name": name,
            "video_fps": video_frames / video_s,
            "steady_fps": 4 * s.chunk / steady,
            "first_chunk_ms": 1000 * per_chunk[0],
            "steady_chunk_ms": 1000 * steady,
            "steady_frames_ms": 1000 * steady_frames,
            "chunk_ms": [round(1000 * t, 2) for t in per_chunk],
            "deferred_refresh_ms": [round(1000 * t, 2) for t in per_refresh],
            "warmup_s": round(warm, 1),
            "graphs_compiled_per_warmup_chunk": warm_graphs,
            "graphs_compiled_in_timed_streams": timed_graphs,
            "dit_tflops_video": sum(chunk_flops(s, k) for k in range(s.video_chunks))
            / video_s
            / 1e12,
            "outputs": runs[0][1],
        }
        if self.shares:
            result["token_share_per_chunk"] = self.shares
        log(f"  {name:<34} video {result['video_fps']:6.1f} fps  steady "
            f"{result['steady_fps']:6.1f} fps  first chunk {result['first_chunk_ms']:7.1f} ms  "
            f"(warm-up {warm:.0f} s, graphs compiled per warm-up chunk {warm_graphs}, "
            f"in timed streams {timed_graphs})")  # fmt: skip
        return result


def rel_err(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    num = sum(float((x - y).float().pow(2).sum()) for x, y in zip(a, b, strict=True))
    den = sum(float(y.float().pow(2).sum()) for y in b)
    return math.sqrt(num / max(den, 1e-30))


def ceilings(s: Setting) -> dict:
    """bf16 matmul rate and the attention kernel alone at the steady-state shape."""
    out: dict = {}
    if s.smoke:
        return out
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    out["matmul_tflops"] = 2 * 8192**3 / time_fn(lambda: a @ b) / 1e12
    h, d = s.cfg.heads, s.cfg.head_dim
    q = torch.randn(1, h, s.chunk * s.tpf, d, device="cuda", dtype=torch.bfloat16)
    kv = torch.randn(2, 1, h, s.window * s.tpf, d, device="cuda", dtype=torch.bfloat16)
    fl = 4 * q.shape[2] * kv.shape[3] * d * h
    for name in ("cudnn", "flash", "efficient"):
        try:
            with sdpa_kernel(BACKENDS[name]):
                sec = time_fn(
                    lambda: torch.nn.functional.scaled_dot_product_attention(q, kv[0], kv[1])
                )
            out[f"attention_{name}_tflops"] = fl / sec / 1e12
            out[f"attention_{name}_ms"] = 1000 * sec
        except RuntimeError as err:
            out[f"attention_{name}_error"] = str(err).splitlines()[0]
    log("ceilings:", {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()})
    return out


def time_fn(fn, reps: int = 20) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return statistics.median(times)


KERNEL_KINDS = (  # first match wins: cuDNN's attention kernels also carry "sm90" in their names
    ("attention", ("fmha", "flash", "sdpa", "attention", "attn")),
    ("gemm", ("gemm", "nvjet", "cutlass", "xmma", "cublas", "matmul", "sm90")),
    ("triton (fused elementwise/norms)", ("triton",)),
    ("copies/index/cat", ("copy", "index", "scatter", "gather", "cat", "fill")),
)


def kernel_kind(name: str) -> str:
    low = name.lower()
    for kind, keys in KERNEL_KINDS:
        if any(k in low for k in keys):
            return kind
    return "other eager elementwise"


def profile_pass(bench: Bench, label: str) -> dict:
    """GPU time of one steady-state chunk (5 passes) by kernel and by kind of kernel."""
    if bench.s.smoke:
        return {}
    from torch.profiler import ProfilerActivity, profile

    s = bench.s
    bench.fill_window()
    with torch.no_grad():
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            lo = s.video_chunks * s.chunk
            generate_chunk(bench.dit, bench.sampler, bench.state, bench.noise[:, lo : lo + 3],
                           bench.src[:, lo : lo + 3])  # fmt: skip
            s.sync()
    rows = []
    total = 0.0
    for evt in prof.key_averages():
        t = getattr(evt, "device_time_total", None) or getattr(evt, "cuda_time_total", 0)
        if t > 0 and evt.key and not evt.key.startswith("ProfilerStep"):
            rows.append((evt.key[:110], t / 1000, evt.count))
    rows.sort(key=lambda r: -r[1])
    kernels = [r for r in rows if not r[0].startswith("aten::")]
    total = sum(r[1] for r in kernels)
    kinds: dict[str, float] = {}
    for key, ms, _ in kernels:
        kinds[kernel_kind(key)] = kinds.get(kernel_kind(key), 0.0) + ms
    log(f"profile {label}: {total:.1f} ms GPU time in kernels for one steady chunk")
    log("    by kind:", {k: round(v, 1) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])})
    for key, ms, count in kernels[:16]:
        log(f"    {ms:8.2f} ms  x{count:<5} {key}")
    return {"kernel_ms": round(total, 2), "by_kind_ms": {k: round(v, 2) for k, v in kinds.items()},
            "top": [{"kernel": k, "ms": round(ms, 3), "count": c} for k, ms, c in kernels[:30]]}


def build_ae(s: Setting, kind: str, compiled: bool = False, backend: str | None = None):
    """kind "taehv" (tiny AE) or "wanvae" (full Wan VAE), random weights, autotuned convs; the
    tiny one compiled with `accelerate.compile_autoencoder` if asked."""
    from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

    model = TAEHV() if kind == "taehv" else WanVAE()
    init_random_(model, seed=3)
    model = model.to(s.device, s.dtype).eval()
    ae = TAEHVAutoencoder(model) if kind == "taehv" else WanVAEAutoencoder(model)
    if compiled:
        accelerate.compile_autoencoder(ae, backend=backend)
    return accelerate.tune_autoencoder(ae)


def clock(s: Setting, fn, reps: int = 8) -> float:
    """Median seconds of fn (CUDA events on a GPU, the host clock on a CPU)."""
    if s.device.type == "cuda":
        return time_fn(fn, reps)
    fn()
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ae_timing(s: Setting, bench: Bench, tiny_ae) -> dict:  # noqa: ANN001
    """The tiny AE alone per steady chunk (encode 12 frames, decode 3 latents), eager and
    compiled, and the largest difference between the two over a 3-chunk stream."""
    out: dict = {}
    pix, lat = bench.pixels[:, : 4 * s.chunk], bench.src[:, : s.chunk]
    streams = {}
    for compiled in (False, True):
        tag = "compiled" if compiled else "eager"
        t = time.perf_counter()
        ae = tiny_ae(compiled)
        with torch.no_grad():
            ae.reset()
            got = []
            for k in range(3):  # the stream's first chunk (eager), then compiled ones
                got.append(ae.encode(bench.pixels[:, 12 * k : 12 * k + 12]).float())
                got.append(ae.decode(bench.src[:, 3 * k : 3 * k + 3]).float())
            streams[tag] = got
            out[f"{tag}_first_stream_s"] = round(time.perf_counter() - t, 1)
            out[f"{tag}_encode_12_frames_ms"] = 1000 * clock(s, lambda a=ae: a.encode(pix))
            out[f"{tag}_decode_3_latents_ms"] = 1000 * clock(s, lambda a=ae: a.decode(lat))
    out["compiled_max_abs_diff"] = max(float((a - b).abs().max()) for a, b in
                                       zip(streams["eager"], streams["compiled"], strict=True))
    out["compiled_rel_err"] = rel_err(streams["compiled"], streams["eager"])
    log("tiny AE per chunk:", {k: round(v, 4) for k, v in out.items()})
    return out


def box_mask(s: Setting, top: int, left: int, h: int, w: int) -> torch.Tensor:
    """[1, 3, 1, lat_h, lat_w] user mask: 1 inside the box."""
    m = torch.zeros(1, s.chunk, 1, s.lat_h, s.lat_w, device=s.device, dtype=s.dtype)
    m[..., top : top + h, left : left + w] = 1
    return m


class Scene:
    """Source latents and pixels of a scene that is still outside a fixed box of 1/4 of the frame
    (the user mask) and changes inside it; `masks(k)` is chunk k's mask."""

    def __init__(self, bench: Bench) -> None:
        s = bench.s
        self.s = s
        self.boxes = [box_mask(s, s.lat_h // 4, s.lat_w // 4, s.lat_h // 2, s.lat_w // 2)]
        src, pix = bench.src, bench.pixels
        self.src = src.clone()
        self.pixels = pix.clone()
        box = self.masks(0).bool()
        pbox = box[0, :1, 0].repeat_interleave(8, 1).repeat_interleave(8, 2)  # [1, H, W]
        for k in range(s.chunks + 1):  # pixels: one chunk more (the live stream's look-ahead)
            lo = k * s.chunk
            if k < s.chunks:
                self.src[:, lo : lo + 3] = torch.where(box, src[:, lo : lo + 3], src[:, :3])
            frames = slice(4 * lo, 4 * lo + 12)
            self.pixels[:, frames] = torch.where(pbox[None, :, None], pix[:, frames], pix[:, :1])

    def masks(self, k: int) -> torch.Tensor:
        return self.boxes[k % len(self.boxes)]

    @contextlib.contextmanager
    def on(self, bench: Bench):
        saved = bench.src, bench.pixels
        bench.src, bench.pixels = self.src, self.pixels
        try:
            yield
        finally:
            bench.src, bench.pixels = saved


PARTS = ("dit", "ae", "e2e", "static")
MORE = ("eager", "ceilings", "profile", "wanvae", "nosplit", "defer")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true", help="CPU, toy sizes")
    ap.add_argument("--backend", default=None,
                    help="torch.compile backend (default: inductor on a GPU, eager with --smoke)")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma-separated, in any order, of {PARTS + MORE}")
    ap.add_argument("--budget-s", type=float, default=200.0,
                    help="the static part starts only while the elapsed time is below this")
    args = ap.parse_args()
    t_start = time.perf_counter()
    s = Setting(args.smoke)
    parts = set(filter(None, args.parts.split(",")))
    unknown = parts - set(PARTS + MORE)
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}")
    # on a CPU (--smoke) dynamo still traces every compiled stage, the graphs then run as is
    backend = args.backend or ("eager" if s.smoke else "inductor")
    report: dict = {"setting": {
        "resolution": [8 * s.lat_h, 8 * s.lat_w], "latent": [s.lat_h, s.lat_w],
        "tokens_per_frame": s.tpf, "chunk_latent_frames": s.chunk, "steps": list(s.steps),
        "passes_per_chunk": 5, "window_latent_frames": s.window, "chunks": s.chunks,
        "video_chunks": s.video_chunks, "dtype": "bf16", "weights": "random N(0,0.02)",
        "timing": "host clock around each chunk with a device sync; medians of "
                  f"{s.timed_runs} streams after one warm-up stream",
        "dit": "accelerate.compile_for_streaming (staged compile + GELU epilogue); "
               "self-attention keys split where split_attention.key_parts says",
        "parts": sorted(parts), "mask_cache_bucket": 64 if not s.smoke else 1,
    }}  # fmt: skip
    if s.device.type == "cuda":
        report["device"] = {
            "name": torch.cuda.get_device_name(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        }  # fmt: skip
        log("device:", report["device"])
    if "ceilings" in parts:
        report["ceilings"] = ceilings(s)

    bench = Bench(s)
    report["dit_params"] = bench.params
    log(f"DiT parameters: {bench.params / 1e9:.3f} B")
    results: list[dict] = []
    errors: dict = {}
    report["variants"] = results
    report["errors"] = errors
    report["reference"] = {"dit_only_fps": 25.9, "full_wan_vae_fps": 16.3, "chunk_ms": 447,
                           "source": "shared/reference/reference-speed.md"}  # fmt: skip
    report["run5"] = {"dit_video_fps": 38.1, "e2e_taehv_eager_video_fps": 35.2,
                      "e2e_taehv_compiled_video_fps": 37.7, "static_skip_video_fps": 46.5,
                      "e2e_static_skip_video_fps": 43.5, "taehv_compiled_encode_ms": 5.54,
                      "taehv_compiled_decode_ms": 7.70, "source": "benchmarks/wan-h100-run5.json"}

    def save() -> None:
        report["elapsed_s"] = round(time.perf_counter() - t_start, 1)
        if args.out:
            clean = [{k: v for k, v in r.items() if k != "outputs"} for r in results]
            with open(args.out, "w") as fh:
                json.dump({**report, "variants": clean}, fh, indent=1)

    def attempt(name: str, fn, optional: bool = False):
        elapsed = time.perf_counter() - t_start
        if optional and elapsed > args.budget_s:
            log(f"  {name}: skipped at {elapsed:.0f} s")
            return None
        try:
            res = fn()
            if isinstance(res, dict) and "video_fps" in res:
                results.append(res)
            return res
        except Exception as err:  # noqa: BLE001 - a failing variant must not end the run
            errors[name] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            log(f"  {name}: FAILED {errors[name]}")
            traceback.print_exc(limit=4)
            return None
        finally:
            save()

    dit = bench.dit
    if "eager" in parts:
        attempt("eager", lambda: bench.measure("eager (SDPA default = cuDNN)"))
    accelerate.compile_for_streaming(dit, backend=backend)
    label = "DiT (staged compile + GELU epilogue)"
    def one_launch(name: str, **kw) -> dict:
        """bench.measure with the self-attention in one launch (no key split)."""
        split_attention.enabled = False
        try:
            return bench.measure(f"{name}, attention in one launch", **kw)
        finally:
            split_attention.enabled = True

    if "dit" in parts:
        if "nosplit" in parts:
            attempt("dit nosplit", lambda: one_launch(label))
        attempt("dit", lambda: bench.measure(label))
        report["split_attention"] = {"enabled": split_attention.enabled,
                                     "checked": split_attention._checked}
    if "defer" in parts:
        attempt("dit defer", lambda: bench.measure(f"{label}, clean pass deferred", defer=True))
    tiny: dict = {}

    def tiny_ae(compiled: bool):  # noqa: ANN202 - one of each, compiled once
        if compiled not in tiny:
            tiny[compiled] = build_ae(s, "taehv", compiled, backend)
        return tiny[compiled]

    if "ae" in parts:
        report["tiny_ae"] = attempt("ae", lambda: ae_timing(s, bench, tiny_ae)) or {}

    def e2e(title: str, compiled: bool, **kw) -> dict:
        return bench.measure(title, ae=tiny_ae(compiled), **kw)

    if "e2e" in parts:
        eager_ae = attempt("e2e eager", lambda: e2e("e2e: TAEHV eager + DiT", False))
        res = attempt("e2e compiled", lambda: e2e("e2e: TAEHV compiled + DiT", True))
        if res is not None and eager_ae is not None:  # same inputs: frames as far as bf16 allows
            res["rel_err_vs_eager_ae"] = rel_err(res["outputs"], eager_ae["outputs"])
            log(f"    frames, compiled AE vs eager: rel err {res['rel_err_vs_eager_ae']:.1e}")
            save()
        if "defer" in parts:  # the editor's own CUDA path: compiled AE, clean pass deferred
            attempt("e2e compiled defer",
                    lambda: e2e("e2e: TAEHV compiled + DiT, clean pass deferred", True,
                                defer=True))  # fmt: skip
    if "static" in parts:
        compiled = _best(results, "compiled")

        def run_static(with_ae: bool, split: bool = True) -> dict:
            scene = Scene(bench)
            skip = mask_cache.StaticSkipCache(dit, steps=len(s.steps),
                                              bucket=report["setting"]["mask_cache_bucket"])
            with scene.on(bench):
                if not with_ae:
                    measure = bench.measure if split else one_launch
                    return measure(f"{label} + static-skip cache (1/4 box)",
                                   planner=skip, mask=scene.masks)  # fmt: skip
                tag = "compiled" if compiled else "eager"
                return e2e(f"e2e: TAEHV {tag} + DiT + static-skip cache (1/4 box)", compiled,
                           planner=skip, mask=scene.masks)  # fmt: skip

        if "nosplit" in parts:
            attempt("static dit nosplit", lambda: run_static(False, split=False), optional=True)
        attempt("static dit", lambda: run_static(False), optional=True)
        attempt("static", lambda: run_static(True), optional=True)
    if "wanvae" in parts:
        def wan_vae() -> dict:
            ae = build_ae(s, "wanvae")
            return bench.measure(f"e2e: {label} + full Wan VAE decode", ae=ae, encode=False)

        attempt("wanvae", wan_vae)
    if "profile" in parts:
        report["profile"] = profile_pass(bench, label)
        save()

    log(
        "\n| variant | video FPS (81 frames) | steady FPS | first frames ms | steady chunk ms "
        "| steady frames ms | DiT TFLOP/s (video) | graphs compiled in timed streams |"
    )
    log("|---|---|---|---|---|---|---|---|")
    for r in results:
        log(
            f"| {r['name']} | {r['video_fps']:.1f} | {r['steady_fps']:.1f} | "
            f"{r['first_chunk_ms']:.0f} | {r['steady_chunk_ms']:.0f} | "
            f"{r['steady_frames_ms']:.0f} | "
            f"{r['dit_tflops_video']:.0f} | {r['graphs_compiled_in_timed_streams']} |"
        )
    if errors:
        log("errors:", json.dumps(errors, indent=1))
    log(f"elapsed {time.perf_counter() - t_start:.0f} s")
    return 0


def _best(results: list[dict], word: str) -> bool:
    """Whether the fastest end-to-end variant measured so far has `word` in its name."""
    e2e = [r for r in results if r["name"].startswith("e2e")]
    return bool(e2e) and word in max(e2e, key=lambda r: r["video_fps"])["name"]


if __name__ == "__main__":
    sys.exit(main())

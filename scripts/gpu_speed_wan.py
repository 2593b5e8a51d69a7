#!/usr/bin/env python3
"""Speed of the wan-1.3b streaming editor on one GPU, random weights (issue 8).

Setting of the reference measurement (shared/reference/reference-speed.md): 480x832 (latent
60x104, 1560 tokens per latent frame), chunks of 3 latent frames, 4 denoising steps plus the t=0
refresh pass (5 DiT passes per chunk), KV window 21 latent frames, bf16, text encoder replaced by a
random context. "video FPS" = 81 frames / time of the first 7 chunks (the reference's 25.9 FPS);
"steady FPS" = 12 frames / median chunk time once the window is full (a live stream's rate).

One call (<= 6 min on an H100, compiles included) measures, in this order: eager; the staged
compile of `engine/wan/accelerate.py` (the default); + the GELU epilogue; the static-skip cache
(still and moving user mask, with dynamo's graph count per chunk: no compile after chunk 1);
end to end with the tiny AE; DiT + full Wan VAE decode; a kernel profile of a steady chunk; the
compile baseline of the last session (whole blocks); the opt-in FP8 linears (with their error
against bf16); then optional extras while time is left (--budget-s). Every variant's outputs are
compared with eager (relative error); the JSON is rewritten after each step, so a run cut short
keeps what it measured; a table is printed last.

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

from liveedit_app.engine import mask_cache
from liveedit_app.engine.config import DIT_CONFIGS
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk
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
        self.pixels = torch.rand(1, s.chunks * s.chunk * 4, 3, 8 * s.lat_h, 8 * s.lat_w,
                                 generator=gen, device=s.device, dtype=s.dtype)  # fmt: skip
        self.state = StreamState.create(self.dit, self.ctx, tokens_per_frame=s.tpf,
                                        window_frames=s.window)  # fmt: skip

    def stream(self, *, ae=None, encode: bool = True, planner=None, mask=None, seed: int = 2):
        """One stream of s.chunks chunks → (per-chunk seconds, outputs). With `ae`, each chunk
        decodes its 3 latents inside the timed region and, with `encode`, first encodes the next
        12 source frames (the Wan VAE holds 3 of them back: frame 0 is encoded alone)."""
        s = self.s
        self.state.reset()
        if planner is not None:
            planner.reset()
        if ae is not None:
            ae.reset()
        torch.manual_seed(seed)
        times, outs = [], []
        self.graphs_per_chunk = []
        for k in range(s.chunks):
            graphs = dynamo_graphs()
            lo, hi = k * s.chunk, (k + 1) * s.chunk
            s.sync()
            t0 = time.perf_counter()
            with torch.no_grad():
                if ae is not None and encode:
                    y = ae.encode(self.pixels[:, 4 * lo : 4 * hi])
                else:
                    y = self.src[:, lo:hi]
                m = mask(k) if callable(mask) else mask
                x0 = generate_chunk(self.dit, self.sampler, self.state, self.noise[:, lo:hi], y,
                                    planner=planner, mask=m)  # fmt: skip
                out = ae.decode(x0) if ae is not None else x0
            s.sync()
            times.append(time.perf_counter() - t0)
            outs.append(out[:, -1:].float().clone())
            self.graphs_per_chunk.append(dynamo_graphs() - graphs)
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
        runs = [self.stream(**kw) for _ in range(s.timed_runs)]
        timed_graphs = dynamo_graphs() - before
        per_chunk = [statistics.median(r[0][k] for r in runs) for k in range(s.chunks)]
        video_s = sum(per_chunk[: s.video_chunks])
        steady = statistics.median(per_chunk[s.video_chunks :])
        video_frames = 4 * s.video_chunks * s.chunk - 3
        result = {
            "name": name,
            "video_fps": video_frames / video_s,
            "steady_fps": 4 * s.chunk / steady,
            "first_chunk_ms": 1000 * per_chunk[0],
            "steady_chunk_ms": 1000 * steady,
            "chunk_ms": [round(1000 * t, 2) for t in per_chunk],
            "warmup_s": round(warm, 1),
            "graphs_compiled_per_warmup_chunk": warm_graphs,
            "graphs_compiled_in_timed_streams": timed_graphs,
            "dit_tflops_video": sum(chunk_flops(s, k) for k in range(s.video_chunks))
            / video_s
            / 1e12,
            "outputs": runs[0][1],
        }
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


def build_ae(s: Setting, kind: str, vae_convs: str = "conv3d"):
    """kind "taehv" (tiny AE) or "wanvae" (full Wan VAE), random weights, autotuned convs;
    vae_convs "conv3d" (as built), "as2d" or "as2d_channels_last" (accelerate.conv3d_as_conv2d)."""
    from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

    model = TAEHV() if kind == "taehv" else WanVAE()
    init_random_(model, seed=3)
    model = model.to(s.device, s.dtype).eval()
    if kind == "wanvae" and vae_convs != "conv3d":
        accelerate.conv3d_as_conv2d(model, channels_last=vae_convs.endswith("channels_last"))
    ae = TAEHVAutoencoder(model) if kind == "taehv" else WanVAEAutoencoder(model)
    return accelerate.tune_autoencoder(ae)


def ae_timing(s: Setting, bench: Bench) -> dict:
    """Autoencoders alone, per steady chunk: encode 12 frames, decode 3 latents."""
    out: dict = {}
    if s.smoke:
        return out
    pix, lat = bench.pixels[:, :12], bench.src[:, :3]
    for kind in ("taehv", "wanvae"):
        ae = build_ae(s, kind)
        with torch.no_grad():
            ae.reset()
            ae.encode(pix)  # past the stream's first frames
            ae.decode(lat[:, :1])
            out[f"{kind}_encode_12_frames_ms"] = 1000 * time_fn(lambda a=ae: a.encode(pix), 8)
            out[f"{kind}_decode_3_latents_ms"] = 1000 * time_fn(lambda a=ae: a.decode(lat), 8)
        del ae
        torch.cuda.empty_cache()
    log("autoencoders:", {k: round(v, 2) for k, v in out.items()})
    return out


def first_velocity(bench: Bench) -> torch.Tensor:
    """The DiT's velocity [1, 3, 16, h, w] for chunk 0 at t=1000 on a fresh cache (fp32)."""
    s = bench.s
    bench.state.reset()
    t = torch.full((1, s.chunk), 1000.0, device=s.device)
    with torch.no_grad():
        v = bench.dit.forward_chunk(bench.noise[:, :3], bench.src[:, :3], t, bench.state.ctx_kv,
                                    bench.state.cache, 0)  # fmt: skip
    return v.float()


def vae_conv_timing(s: Setting, bench: Bench) -> dict:
    """Full Wan VAE decode of 3 latents (a steady chunk) with its causal convs as built (3D)
    and as 2D convs over tap-stacked frames; ms per chunk, and the largest output difference."""
    out: dict = {}
    lat = bench.src[:, :3]
    ref = None
    for convs in ("conv3d", "as2d", "as2d_channels_last"):
        ae = build_ae(s, "wanvae", convs)
        with torch.no_grad():
            ae.reset()
            ae.decode(lat[:, :1])  # past the stream's first latent
            snapshot = {k: v.clone() if isinstance(v, torch.Tensor) else v
                        for k, v in ae._dec_cache.items()}  # fmt: skip
            frames = ae.decode(lat).float()
            ref = frames if ref is None else ref
            out[f"{convs}_max_abs_diff"] = float((frames - ref).abs().max())
            ae._dec_cache = snapshot
            reps = 2 if s.smoke else 8
            out[convs] = 1000 * (time_fn(lambda a=ae: a.decode(lat), reps) if not s.smoke
                                 else timed_once(lambda a=ae: a.decode(lat)))  # fmt: skip
        del ae
        if s.device.type == "cuda":
            torch.cuda.empty_cache()
    log("Wan VAE decode of 3 latents, ms:", {k: round(v, 3) for k, v in out.items()})
    return out


def timed_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def box_mask(s: Setting, top: int, left: int, h: int, w: int) -> torch.Tensor:
    """[1, 3, 1, lat_h, lat_w] user mask: 1 inside the box."""
    m = torch.zeros(1, s.chunk, 1, s.lat_h, s.lat_w, device=s.device, dtype=s.dtype)
    m[..., top : top + h, left : left + w] = 1
    return m


class Scene:
    """Source latents and pixels of a scene that is still outside a user mask and changes inside
    it; `masks(k)` is chunk k's mask. still: a fixed box of 1/4 of the frame. moving: a box that
    moves and changes size every chunk (the kept-token count changes, in buckets of 64)."""

    def __init__(self, bench: Bench, moving: bool) -> None:
        s = bench.s
        self.s = s
        if moving:
            sizes = [(s.lat_h // 2, s.lat_w // 2), (s.lat_h // 3, s.lat_w // 2),
                     (s.lat_h // 2, s.lat_w // 3), (s.lat_h // 4, s.lat_w // 4)]  # fmt: skip
            self.boxes = []
            for k in range(s.chunks):
                h, w = sizes[k % len(sizes)]
                top = (k * 3) % max(1, s.lat_h - h)
                left = (k * 7) % max(1, s.lat_w - w)
                self.boxes.append(box_mask(s, top, left, h, w))
        else:
            self.boxes = [box_mask(s, s.lat_h // 4, s.lat_w // 4, s.lat_h // 2, s.lat_w // 2)]
        src, pix = bench.src, bench.pixels
        self.src = src.clone()
        self.pixels = pix.clone()
        for k in range(s.chunks):
            lo = k * s.chunk
            box = self.masks(k).bool()
            self.src[:, lo : lo + 3] = torch.where(box, src[:, lo : lo + 3], src[:, :3])
            pbox = box[0, :1, 0].repeat_interleave(8, 1).repeat_interleave(8, 2)  # [1, H, W]
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


def compile_whole_blocks(dit: CausalDiT, backend: str) -> None:
    """The last session's compile (the baseline): each block's forward and the head, with the
    attention call as a graph break."""
    accelerate.undo_compile(dit)
    torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
    for block in dit.blocks:
        block.compile(backend=backend)
    dit.head.compile(backend=backend)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true", help="CPU, toy sizes")
    ap.add_argument("--backend", default=None,
                    help="torch.compile backend (default: inductor on a GPU, eager with --smoke)")
    ap.add_argument("--budget-s", type=float, default=240.0,
                    help="optional extras run only while the elapsed time is below this")
    ap.add_argument(
        "--skip", default="",
        help="comma-separated parts to skip: ceilings, gelu, 'static still', 'static moving', "
        "'e2e taehv', 'e2e wan vae decode', profile, 'compile baseline', fp8, extras",
    )  # fmt: skip
    args = ap.parse_args()
    t_start = time.perf_counter()
    s = Setting(args.smoke)
    skip = set(filter(None, args.skip.split(",")))
    # on a CPU (--smoke) dynamo still traces every compiled stage, the graphs then run as is
    backend = args.backend or ("eager" if s.smoke else "inductor")
    report: dict = {"setting": {
        "resolution": [8 * s.lat_h, 8 * s.lat_w], "latent": [s.lat_h, s.lat_w],
        "tokens_per_frame": s.tpf, "chunk_latent_frames": s.chunk, "steps": list(s.steps),
        "passes_per_chunk": 5, "window_latent_frames": s.window, "chunks": s.chunks,
        "video_chunks": s.video_chunks, "dtype": "bf16", "weights": "random N(0,0.02)",
        "timing": "host clock around each chunk with a device sync; medians of "
                  f"{s.timed_runs} streams after one warm-up stream",
        "mask_cache_bucket": 64 if not s.smoke else 1,
    }}  # fmt: skip
    if s.device.type == "cuda":
        report["device"] = {
            "name": torch.cuda.get_device_name(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        }  # fmt: skip
        log("device:", report["device"])
    report["ceilings"] = ceilings(s) if "ceilings" not in skip else {}

    bench = Bench(s)
    report["dit_params"] = bench.params
    log(f"DiT parameters: {bench.params / 1e9:.3f} B")
    results: list[dict] = []
    errors: dict = {}
    report["variants"] = results
    report["errors"] = errors
    report["reference"] = {"dit_only_fps": 25.9, "full_wan_vae_fps": 16.3, "chunk_ms": 447,
                           "source": "shared/reference/reference-speed.md"}  # fmt: skip
    report["last_session"] = {"eager_video_fps": 32.0, "compile_video_fps": 35.1,
                              "e2e_taehv_video_fps": 33.9, "dit_wan_vae_decode_video_fps": 20.8,
                              "static_skip_video_fps": 30.6, "source": "wan-h100.json run3"}
    base: dict = {}

    def save() -> None:
        report["elapsed_s"] = round(time.perf_counter() - t_start, 1)
        if args.out:
            clean = [{k: v for k, v in r.items() if k != "outputs"} for r in results]
            with open(args.out, "w") as fh:
                json.dump({**report, "variants": clean}, fh, indent=1)

    def attempt(name: str, fn, optional: bool = False):
        elapsed = time.perf_counter() - t_start
        if name in skip or (optional and ("extras" in skip or elapsed > args.budget_s)):
            log(f"  {name}: skipped at {elapsed:.0f} s")
            return None
        try:
            res = fn()
            if isinstance(res, dict) and "video_fps" in res:
                if base and "token_share_last_chunk" not in res \
                        and not res["name"].startswith("e2e"):  # same inputs as eager
                    res["rel_err_vs_eager"] = rel_err(res["outputs"], base["outputs"])
                results.append(res)
            return res
        except Exception as err:  # noqa: BLE001 - a failing variant must not end the run
            errors[name] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            log(f"  {name}: FAILED {errors[name]}")
            traceback.print_exc(limit=4)
            return None
        finally:
            save()

    log("DiT only:")
    base.update(attempt("eager", lambda: bench.measure("eager (SDPA default = cuDNN)")) or {})
    dit = bench.dit
    accelerate.compile_for_streaming(dit, backend=backend)
    best = attempt("staged compile", lambda: bench.measure("staged compile (accelerate)"))
    label = "staged compile"
    gelu = attempt("gelu", lambda: (accelerate.fuse_gelu_epilogue(dit),
                                    bench.measure("staged compile + GELU epilogue"))[1])
    if gelu is not None and (best is None or gelu["video_fps"] > best["video_fps"]):
        best, label = gelu, "staged compile + GELU epilogue"
    else:
        accelerate.fuse_gelu_epilogue(dit, on=False)
    report["best_bf16"] = label
    log(f"best bf16 DiT: {label}")

    log("static-skip cache (fixed shapes: staged compile, kept counts in buckets of 64):")
    bucket = report["setting"]["mask_cache_bucket"]
    for moving in (False, True):
        name = "static moving" if moving else "static still"
        what = "moving box of changing size" if moving else "1/4 box, still background"

        def run_skip(moving=moving, what=what):  # noqa: ANN001, ANN202
            scene = Scene(bench, moving)
            skip_cache = mask_cache.StaticSkipCache(dit, steps=len(s.steps), bucket=bucket)
            with scene.on(bench):
                res = bench.measure(f"{label} + static-skip cache ({what})",
                                    planner=skip_cache, mask=scene.masks)  # fmt: skip
            res["token_share_last_chunk"] = skip_cache.share
            return res

        attempt(name, run_skip)

    log("end to end:")

    def e2e(kind: str, encode: bool, title: str, vae_convs: str = "conv3d", **kw):
        ae = build_ae(s, kind, vae_convs)
        try:
            return bench.measure(title, ae=ae, encode=encode, **kw)
        finally:
            del ae
            if s.device.type == "cuda":
                torch.cuda.empty_cache()

    attempt("e2e taehv", lambda: e2e("taehv", True, f"e2e: taehv enc + {label} + dec"))
    attempt("e2e wan vae decode",
            lambda: e2e("wanvae", False, f"e2e: {label} + full Wan VAE decode"))  # fmt: skip
    report["wan_vae_decode_convs"] = attempt("wan vae 2d", lambda: vae_conv_timing(s, bench)) or {}
    layouts = report["wan_vae_decode_convs"]
    faster = [k for k in ("as2d", "as2d_channels_last")
              if layouts.get(k, math.inf) < 0.95 * layouts.get("conv3d", 0.0)]
    if faster:
        fastest = min(faster, key=layouts.get)
        attempt("e2e wan vae decode 2d", lambda: e2e(
            "wanvae", False, f"e2e: {label} + full Wan VAE decode, convs {fastest}",
            vae_convs=fastest))  # fmt: skip
    if "profile" not in skip:
        report["profile_best"] = profile_pass(bench, label)
        save()

    log("compile baseline (last session: whole blocks, attention call as a graph break):")
    gelu_on = isinstance(dit.blocks[0].ffn, accelerate.GeluEpilogueFFN)
    accelerate.fuse_gelu_epilogue(dit, on=False)
    attempt("compile baseline", lambda: (compile_whole_blocks(dit, backend),
                                         bench.measure("compile baseline (whole blocks)"))[1])
    accelerate.compile_for_streaming(dit, backend=backend)
    accelerate.fuse_gelu_epilogue(dit, on=gelu_on)

    log("extras (while time is left):")

    def static_shapes():  # noqa: ANN202
        # dynamo's cached dynamic graphs would accept any size: drop them (the FP8 step below
        # compiles its own graphs anyway)
        torch._dynamo.reset()
        accelerate.compile_for_streaming(dit, backend=backend, dynamic_tokens=False)
        return bench.measure(f"{label}, static token dims")

    attempt("e2e taehv static", lambda: _e2e_static(bench, label, bucket), optional=True)
    report["autoencoders"] = attempt("autoencoders", lambda: ae_timing(s, bench),
                                     optional=True) or {}  # fmt: skip

    # last of the bf16 extras: it throws away the compiled graphs
    attempt("static token dims", static_shapes, optional=True)

    log("FP8 linears (opt-in; changes results):")

    def fp8():  # noqa: ANN202
        accelerate.undo_compile(dit)
        accelerate.fuse_gelu_epilogue(dit, on=False)
        v_bf16 = first_velocity(bench)
        up = dit.blocks[0].ffn[0]
        x = torch.randn(s.chunk * s.tpf, up.in_features, device=s.device, dtype=s.dtype)
        with torch.no_grad():
            gemm_err = rel_err([accelerate.Fp8Linear(up)(x).float()], [up(x).float()])
        count = accelerate.to_fp8(dit)
        accelerate.compile_for_streaming(dit, backend=backend)
        res = bench.measure(f"staged compile + FP8 linears ({count})")
        res["velocity_rel_err_vs_bf16"] = rel_err([first_velocity(bench)], [v_bf16])
        if best is not None:
            res["rel_err_vs_best_bf16"] = rel_err(res["outputs"], best["outputs"])
        res["ffn_up_gemm_rel_err_vs_bf16"] = gemm_err
        log(f"  FP8 rel err vs bf16: one FFN GEMM {gemm_err:.2e}, velocity of the first pass "
            f"{res['velocity_rel_err_vs_bf16']:.2e} (random weights: the residual stream "
            f"dilutes the blocks' error; the GEMM's is the one to trust)")  # fmt: skip
        return res

    attempt("fp8", fp8)
    save()
    log(
        "\n| variant | video FPS (81 frames) | steady FPS | first chunk ms | steady chunk ms "
        "| DiT TFLOP/s (video) | graphs compiled in timed streams | rel err vs eager |"
    )
    log("|---|---|---|---|---|---|---|---|")
    for r in results:
        err = r.get("rel_err_vs_eager")
        log(
            f"| {r['name']} | {r['video_fps']:.1f} | {r['steady_fps']:.1f} | "
            f"{r['first_chunk_ms']:.0f} | {r['steady_chunk_ms']:.0f} | "
            f"{r['dit_tflops_video']:.0f} | {r['graphs_compiled_in_timed_streams']} | "
            f"{'' if err is None else f'{err:.1e}'} |"
        )
    if errors:
        log("errors:", json.dumps(errors, indent=1))
    log(f"elapsed {time.perf_counter() - t_start:.0f} s")
    return 0


def _e2e_static(bench: Bench, label: str, bucket: int) -> dict:
    """The whole live path: still scene in pixels, tiny AE, static-skip cache."""
    s = bench.s
    scene = Scene(bench, moving=False)
    skip_cache = mask_cache.StaticSkipCache(bench.dit, steps=len(s.steps), bucket=bucket)
    ae = build_ae(s, "taehv")
    with scene.on(bench):
        res = bench.measure(f"e2e: taehv + {label} + static-skip cache (1/4 box)", ae=ae,
                            planner=skip_cache, mask=scene.masks)  # fmt: skip
    res["token_share_last_chunk"] = skip_cache.share
    return res


if __name__ == "__main__":
    sys.exit(main())

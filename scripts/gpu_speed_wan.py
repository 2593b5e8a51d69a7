#!/usr/bin/env python3
"""Speed of the wan-1.3b streaming editor on one GPU, random weights (issue 8).

Setting of the reference measurement (shared/reference/reference-speed.md): 480x832 (latent
60x104, 1560 tokens per latent frame), chunks of 3 latent frames, 4 denoising steps plus the t=0
refresh pass (5 DiT passes per chunk), KV window 21 latent frames, bf16, text encoder replaced by a
random context. "video FPS" = 81 frames / time of the first 7 chunks (the reference's 25.9 FPS);
"steady FPS" = 12 frames / median chunk time once the window is full (a live stream's rate).

One call builds everything, checks each fast variant against the eager path (relative error of
the chunk outputs), times every variant, prints a table last and writes JSON.

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

from liveedit_app.engine.config import DIT_CONFIGS
from liveedit_app.engine.dit import CausalDiT
from liveedit_app.engine.sampler import FlowSampler
from liveedit_app.engine.stream import StreamState, generate_chunk
from liveedit_app.engine.wan.accelerate import compile_for_streaming, tune_autoencoder
from liveedit_app.engine.wan.taehv import TAEHV, TAEHVAutoencoder

BACKENDS = {
    "cudnn": [SDPBackend.CUDNN_ATTENTION],
    "flash": [SDPBackend.FLASH_ATTENTION],
    "efficient": [SDPBackend.EFFICIENT_ATTENTION],
    "default": None,
}


def log(*args) -> None:
    print(*args, flush=True)


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
        for k in range(s.chunks):
            lo, hi = k * s.chunk, (k + 1) * s.chunk
            s.sync()
            t0 = time.perf_counter()
            with torch.no_grad():
                if ae is not None and encode:
                    y = ae.encode(self.pixels[:, 4 * lo : 4 * hi])
                else:
                    y = self.src[:, lo:hi]
                x0 = generate_chunk(self.dit, self.sampler, self.state, self.noise[:, lo:hi], y,
                                    planner=planner, mask=mask)  # fmt: skip
                out = ae.decode(x0) if ae is not None else x0
            s.sync()
            times.append(time.perf_counter() - t0)
            outs.append(out[:, -1:].float().clone())
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
        runs = [self.stream(**kw) for _ in range(s.timed_runs)]
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
            "dit_tflops_video": sum(chunk_flops(s, k) for k in range(s.video_chunks))
            / video_s
            / 1e12,
            "outputs": runs[0][1],
        }
        log(f"  {name:<34} video {result['video_fps']:6.1f} fps  steady "
            f"{result['steady_fps']:6.1f} fps  first chunk {result['first_chunk_ms']:7.1f} ms  "
            f"(warm-up {warm:.0f} s)")  # fmt: skip
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


def profile_pass(bench: Bench, label: str) -> list:
    """Top kernels of one steady-state chunk (5 passes) by GPU time."""
    if bench.s.smoke:
        return []
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
            rows.append((evt.key[:90], t / 1000, evt.count))
    rows.sort(key=lambda r: -r[1])
    total = sum(r[1] for r in rows if not r[0].startswith("aten::"))
    log(f"profile {label}: {total:.1f} ms GPU time in kernels for one steady chunk")
    for key, ms, count in rows[:14]:
        log(f"    {ms:8.2f} ms  x{count:<5} {key}")
    return [{"kernel": k, "ms": round(ms, 3), "count": c} for k, ms, c in rows[:25]]


def fp32_check(bench: Bench, base: dict | None) -> dict:
    """Chunk 0 of the bf16 eager stream against the same weights in fp32 (math attention)."""
    import copy

    if base is None:
        return {}
    s = bench.s
    dit32 = copy.deepcopy(bench.dit).float()
    state = StreamState.create(dit32, bench.ctx.float(), tokens_per_frame=s.tpf,
                               window_frames=s.window)  # fmt: skip
    torch.manual_seed(2)
    with torch.no_grad(), sdpa_kernel([SDPBackend.MATH]):
        x0 = generate_chunk(dit32, bench.sampler, state, bench.noise[:, :3].float(),
                            bench.src[:, :3].float())  # fmt: skip
    err = rel_err(base["outputs"][:1], [x0[:, -1:].float()])
    del dit32, state
    if s.device.type == "cuda":
        torch.cuda.empty_cache()
    log(f"fp32 check: chunk 0 of '{base['name']}' vs fp32 math attention: rel err {err:.2e}")
    return {"chunk0_rel_err_bf16_vs_fp32": err}


def compile_rope(undo: bool = False) -> None:
    """Experiment: the RoPE rotation inside the eager attention call, compiled on its own
    (it is ~5 elementwise kernels over q and k per layer in eager mode)."""
    import liveedit_app.engine.attention as attention
    from liveedit_app.engine import rope

    attention.rotate = rope.rotate if undo else torch.compile(rope.rotate, dynamic=True)


def graph_pass_timing(bench: Bench) -> dict:
    """One steady-state DiT pass (window full): eager launches vs the same pass replayed from a
    CUDA graph. RoPE tables are memoised for the capture (their host→device copy cannot be
    captured); everything else is the engine's forward_chunk as is."""
    s = bench.s
    if s.smoke:
        return {}
    rope = bench.dit.rope
    original_tables = rope.tables
    memo: dict = {}

    def tables(frames, h, w):
        key = (tuple(frames.tolist()), h, w)
        if key not in memo:
            memo[key] = original_tables(frames, h, w)
        return memo[key]

    rope.tables = tables
    try:
        bench.fill_window()
        with torch.no_grad():
            lo = s.video_chunks * s.chunk
            x = bench.noise[:, lo : lo + 3].clone()
            y = bench.src[:, lo : lo + 3].clone()
            t = torch.full((1, 3), 750.0, device=s.device)
            frame, ctx_kv, cache = bench.state.frame, bench.state.ctx_kv, bench.state.cache

            def one_pass():
                return bench.dit.forward_chunk(x, y, t, ctx_kv, cache, frame)

            eager = time_fn(one_pass, 10)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    one_pass()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            t0 = time.perf_counter()
            with torch.cuda.graph(graph):
                one_pass()
            capture = time.perf_counter() - t0
            replay = time_fn(graph.replay, 10)
    finally:
        rope.tables = original_tables
    out = {"pass_eager_ms": 1000 * eager, "pass_graph_replay_ms": 1000 * replay,
           "graph_capture_ms": 1000 * capture}  # fmt: skip
    log("CUDA graph, one steady pass:", {k: round(v, 2) for k, v in out.items()})
    return out


def mask_cache_variants(bench: Bench, label: str, attempt) -> None:
    """Both mask caches. Static skip needs a scene that is still outside the user's mask: the
    background latents repeat chunk after chunk while a box of 1/4 of the frame changes."""
    from liveedit_app.engine import mask_cache

    s = bench.s
    ref = mask_cache.ReferenceMaskCache(bench.dit)
    res = attempt("mask cache: reference", lambda: bench.measure(
        f"{label} + reference mask cache", planner=ref))  # fmt: skip
    if res is not None:
        res["token_share_last_chunk"] = ref.share
    box = torch.zeros(1, s.chunk, 1, s.lat_h, s.lat_w, device=s.device, dtype=s.dtype)
    h0, w0 = s.lat_h // 4, s.lat_w // 4
    box[..., h0 : h0 + s.lat_h // 2, w0 : w0 + s.lat_w // 2] = 1
    original_src = bench.src
    background = original_src[:, :3]
    still = original_src.clone()
    for k in range(s.chunks):
        lo = k * s.chunk
        still[:, lo : lo + 3] = torch.where(box.bool(), original_src[:, lo : lo + 3], background)
    skip = mask_cache.StaticSkipCache(bench.dit, steps=len(s.steps))
    original_pix = bench.pixels
    bench.src = still
    try:
        res = attempt(
            "mask cache: static skip",
            lambda: bench.measure(f"{label} + static-skip cache (1/4 box)", planner=skip, mask=box),
        )
        if res is not None:
            res["token_share_last_chunk"] = skip.share
        # the same still scene in pixels, through the tiny AE: the whole live path
        pbox = box[0, 0, 0].repeat_interleave(8, 0).repeat_interleave(8, 1).bool()
        original_pix = bench.pixels
        bench.pixels = torch.where(pbox, original_pix, original_pix[:, :1])
        ae = build_ae(s, "taehv", "tuned")
        res = attempt("e2e static skip", lambda: bench.measure(
            f"e2e: taehv + {label} + static-skip cache (1/4 box)", ae=ae,
            planner=skip, mask=box))  # fmt: skip
        if res is not None:
            res["token_share_last_chunk"] = skip.share
    finally:
        bench.src = original_src
        bench.pixels = original_pix


def build_ae(s: Setting, kind: str, layout: str):
    """kind "taehv" or "wanvae"; layout "contiguous" (cuDNN heuristics) or "tuned"
    (accelerate.tune_autoencoder; in run 3 it also made the Wan VAE channels-last, which was
    1.5× slower and was dropped)."""
    from liveedit_app.engine.wan.vae import WanVAE, WanVAEAutoencoder

    model = TAEHV() if kind == "taehv" else WanVAE()
    init_random_(model, seed=3)
    model = model.to(s.device, s.dtype).eval()
    ae = TAEHVAutoencoder(model) if kind == "taehv" else WanVAEAutoencoder(model)
    torch.backends.cudnn.benchmark = False
    return tune_autoencoder(ae) if layout == "tuned" else ae


def ae_timing(s: Setting, bench: Bench) -> dict:
    """Autoencoders alone, per steady chunk: encode 12 frames, decode 3 latents."""
    out: dict = {}
    if s.smoke:
        return out
    pix, lat = bench.pixels[:, :12], bench.src[:, :3]
    for kind, layout in (("taehv", "contiguous"), ("taehv", "tuned"),
                         ("wanvae", "contiguous"), ("wanvae", "tuned")):  # fmt: skip
        try:
            ae = build_ae(s, kind, layout)
            with torch.no_grad():
                ae.reset()
                ae.encode(pix)  # past the stream's first frames
                ae.decode(lat[:, :1])
                enc = time_fn(lambda a=ae: a.encode(pix), 8)
                dec = time_fn(lambda a=ae: a.decode(lat), 8)
            out[f"{kind}_{layout}_encode_12_frames_ms"] = 1000 * enc
            out[f"{kind}_{layout}_decode_3_latents_ms"] = 1000 * dec
            del ae
            torch.cuda.empty_cache()
        except Exception as err:  # noqa: BLE001 - report and go on
            out[f"{kind}_{layout}_error"] = f"{type(err).__name__}: {err}".splitlines()[0][:200]
    log("autoencoders:", {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()})
    return out


def fastest(times: dict, kind: str, fallback: str) -> str:
    keyed = {}
    for key, value in times.items():
        if key.startswith(kind + "_") and key.endswith("_ms"):
            layout = key[len(kind) + 1 :].split("_encode")[0].split("_decode")[0]
            keyed[layout] = keyed.get(layout, 0.0) + value
    return min(keyed, key=keyed.get) if keyed else fallback


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true", help="CPU, toy sizes")
    ap.add_argument(
        "--skip", default="",
        help="comma-separated parts to skip: ceilings, fp32, graphs, profile, 'eager flash', "
        "'eager default', compile, 'compiled rope', 'mask cache: reference', "
        "'mask cache: static skip', 'e2e static skip', 'e2e taehv', wanvae",
    )  # fmt: skip
    args = ap.parse_args()
    s = Setting(args.smoke)
    skip = set(filter(None, args.skip.split(",")))
    report: dict = {"setting": {
        "resolution": [8 * s.lat_h, 8 * s.lat_w], "latent": [s.lat_h, s.lat_w],
        "tokens_per_frame": s.tpf, "chunk_latent_frames": s.chunk, "steps": list(s.steps),
        "passes_per_chunk": 5, "window_latent_frames": s.window, "chunks": s.chunks,
        "video_chunks": s.video_chunks, "dtype": "bf16", "weights": "random N(0,0.02)",
        "timing": "host clock around each chunk with a device sync; medians of "
                  f"{s.timed_runs} streams after one warm-up stream",
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

    def attempt(name: str, fn):
        if name in skip:
            return None
        try:
            res = fn()
            results.append(res)
            return res
        except Exception as err:  # noqa: BLE001 - a failing variant must not end the run
            errors[name] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            log(f"  {name}: FAILED {errors[name]}")
            traceback.print_exc(limit=4)
            return None

    log("DiT only, eager:")
    base = None
    for backend in ["cudnn", "flash", "default"] if not s.smoke else ["default"]:
        ctx = sdpa_kernel(BACKENDS[backend]) if BACKENDS[backend] else contextlib.nullcontext()
        with ctx:
            res = attempt(f"eager {backend}", lambda b=backend: bench.measure(f"eager sdpa={b}"))
        base = base or res
    report["fp32_check"] = fp32_check(bench, base) if "fp32" not in skip else {}
    sdpa = None  # default selection: cuDNN for the DiT shapes (run 1), other kernels elsewhere
    with sdpa_kernel(sdpa) if sdpa else contextlib.nullcontext():
        if "graphs" not in skip:
            try:
                report["cuda_graph_pass"] = graph_pass_timing(bench)
            except Exception as err:  # noqa: BLE001
                errors["graphs"] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
                log("  CUDA graph pass FAILED:", errors["graphs"])
        if "profile" not in skip:
            report["profile_eager"] = profile_pass(bench, "eager sdpa=cudnn")
        label = "eager"
        compiled = attempt(
            "compile",
            lambda: (compile_for_streaming(bench.dit), bench.measure("compile (accelerate)"))[1],
        )
        if compiled:
            label = "compile"
            report["profile_compile"] = profile_pass(bench, label)
            rope_res = attempt(
                "compiled rope",
                lambda: (compile_rope(), bench.measure("compile + compiled RoPE"))[1],
            )
            if rope_res is not None and rope_res["video_fps"] > compiled["video_fps"]:
                label = "compile + compiled RoPE"
            else:
                compile_rope(undo=True)
        mask_cache_variants(bench, label, attempt)

        log("autoencoders and end to end:")
        report["autoencoders"] = ae_timing(s, bench)
        taehv_layout = fastest(report["autoencoders"], "taehv", "contiguous")
        wan_layout = fastest(report["autoencoders"], "wanvae", "contiguous")
        ae = build_ae(s, "taehv", taehv_layout)
        ae_layouts = {"taehv": taehv_layout, "wanvae": wan_layout}
        report["e2e_autoencoder_layouts"] = ae_layouts
        attempt("e2e taehv", lambda: bench.measure(
            f"e2e: taehv {taehv_layout} enc+dec + {label}", ae=ae))  # fmt: skip
        del ae
        if "wanvae" not in skip:
            ae = build_ae(s, "wanvae", wan_layout)
            attempt(
                "e2e wan vae decode",
                lambda: bench.measure(
                    f"e2e: {label} + Wan VAE {wan_layout} decode", ae=ae, encode=False
                ),
            )
            attempt("e2e wan vae", lambda: bench.measure(
                f"e2e: Wan VAE {wan_layout} enc+dec + {label}", ae=ae))  # fmt: skip
            del ae

    for r in results:
        if base is not None and r is not base and not r["name"].startswith("e2e"):
            if "mask cache" not in r["name"] and "static" not in r["name"]:
                r["rel_err_vs_eager_cudnn"] = rel_err(r["outputs"], base["outputs"])
    for r in results:
        r.pop("outputs", None)
    report["variants"] = results
    report["errors"] = errors
    report["reference"] = {"dit_only_fps": 25.9, "full_wan_vae_fps": 16.3, "chunk_ms": 447,
                           "source": "shared/reference/reference-speed.md"}  # fmt: skip
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1)
        log("wrote", args.out)
    log(
        "\n| variant | video FPS (81 frames) | steady FPS | first chunk ms | steady chunk ms "
        "| DiT TFLOP/s (video) | rel err vs eager |"
    )
    log("|---|---|---|---|---|---|---|")
    for r in results:
        err = r.get("rel_err_vs_eager_cudnn")
        log(
            f"| {r['name']} | {r['video_fps']:.1f} | {r['steady_fps']:.1f} | "
            f"{r['first_chunk_ms']:.0f} | {r['steady_chunk_ms']:.0f} | "
            f"{r['dit_tflops_video']:.0f} | {'' if err is None else f'{err:.1e}'} |"
        )
    if errors:
        log("errors:", json.dumps(errors, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

    def stream(self, *, ae: TAEHVAutoencoder | None = None, planner=None, seed: int = 2):
        """One stream of s.chunks chunks → (per-chunk seconds, outputs). With `ae`, each chunk
        encodes its 12 source frames and decodes its 3 latents inside the timed region."""
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
                y = (
                    ae.encode(self.pixels[:, 4 * lo : 4 * hi])
                    if ae is not None
                    else self.src[:, lo:hi]
                )
                x0 = generate_chunk(self.dit, self.sampler, self.state, self.noise[:, lo:hi], y,
                                    planner=planner)  # fmt: skip
                out = ae.decode(x0) if ae is not None else x0
            s.sync()
            times.append(time.perf_counter() - t0)
            outs.append(out[:, -1:].float().clone())
        return times, outs

    def measure(self, name: str, **kw) -> dict:
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
    bench.state.reset()
    with torch.no_grad():
        for k in range(s.video_chunks):
            lo = k * s.chunk
            generate_chunk(bench.dit, bench.sampler, bench.state, bench.noise[:, lo : lo + 3],
                           bench.src[:, lo : lo + 3])  # fmt: skip
        s.sync()
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


def compile_blocks(dit: CausalDiT, mode: str | None) -> None:
    """torch.compile each block, with the KV-cache write and attention left eager (a graph break):
    compiling through the in-place cache write would make the compiled graph copy the cache."""
    import liveedit_app.engine.attention as attention

    torch._dynamo.config.cache_size_limit = 64
    if not getattr(attention.CachedKeys.attend, "_bench_eager", False):
        attention.CachedKeys.attend = torch.compiler.disable(attention.CachedKeys.attend)
        attention.CachedKeys.attend._bench_eager = True
    for blk in dit.blocks:
        blk.compile(mode=mode)
    dit.head.compile(mode=mode)


def taehv_timing(s: Setting, bench: Bench) -> dict:
    """The tiny AE alone: encode 12 frames and decode 3 latents per chunk, per layout."""
    out = {}
    for layout in ("contiguous", "channels_last"):
        model = TAEHV()
        init_random_(model, seed=3)
        model = model.to(s.device, s.dtype).eval()
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
        ae = TAEHVAutoencoder(model)
        pix = bench.pixels[:, :12]
        lat = bench.src[:, :3]
        if s.smoke:
            continue
        ae.reset()
        ae.decode(lat)

        def enc():
            ae.reset()
            ae.encode(pix)

        def dec():
            ae.decode(lat)

        with torch.no_grad():
            out[f"taehv_{layout}_encode_12_frames_ms"] = 1000 * time_fn(enc, 10)
            out[f"taehv_{layout}_decode_3_latents_ms"] = 1000 * time_fn(dec, 10)
    log("taehv:", {k: round(v, 2) for k, v in out.items()})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--smoke", action="store_true", help="CPU, toy sizes")
    ap.add_argument("--skip", default="", help="comma-separated variant names to skip")
    args = ap.parse_args()
    s = Setting(args.smoke)
    skip = set(filter(None, args.skip.split(",")))
    torch.backends.cuda.matmul.allow_tf32 = True
    report: dict = {"setting": {
        "resolution": [8 * s.lat_h, 8 * s.lat_w], "latent": [s.lat_h, s.lat_w],
        "tokens_per_frame": s.tpf, "chunk_latent_frames": s.chunk, "steps": list(s.steps),
        "passes_per_chunk": 5, "window_latent_frames": s.window, "chunks": s.chunks,
        "video_chunks": s.video_chunks, "dtype": "bf16", "weights": "random N(0,0.02)",
    }}  # fmt: skip
    if s.device.type == "cuda":
        report["device"] = {
            "name": torch.cuda.get_device_name(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        }  # fmt: skip
        log("device:", report["device"])
    report["ceilings"] = ceilings(s)

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
            traceback.print_exc(limit=3)
            return None

    log("DiT only:")
    base = None
    backends = ["cudnn", "flash", "default"] if not s.smoke else ["default"]
    for backend in backends:
        ctx = sdpa_kernel(BACKENDS[backend]) if BACKENDS[backend] else contextlib.nullcontext()
        with ctx:
            res = attempt(
                f"eager sdpa={backend}", lambda b=backend: bench.measure(f"eager sdpa={b}")
            )
        if res is not None and base is None:
            base = res
    eager_ok = [r for r in results if r["name"].startswith("eager")]
    best_backend = (
        max(eager_ok, key=lambda r: r["video_fps"])["name"].split("=")[1] if eager_ok else "default"
    )
    best_ctx = (
        (lambda: sdpa_kernel(BACKENDS[best_backend]))
        if BACKENDS[best_backend]
        else contextlib.nullcontext
    )
    with best_ctx():
        report["profile_eager"] = profile_pass(bench, f"eager sdpa={best_backend}")
        report["fp32_check"] = fp32_check(bench, base)
        attempt(
            "compile",
            lambda: (
                compile_blocks(bench.dit, None),
                bench.measure(f"compile sdpa={best_backend}"),
            )[1],
        )
        if results and results[-1]["name"].startswith("compile"):
            report["profile_compile"] = profile_pass(bench, "compile")
        attempt(
            "compile-cudagraphs",
            lambda: (
                compile_blocks(bench.dit, "reduce-overhead"),
                bench.measure(f"compile+cudagraphs sdpa={best_backend}"),
            )[1],
        )
        best = max(results, key=lambda r: r["video_fps"]) if results else None
        log("end to end (tiny AE encode + DiT + tiny AE decode):")
        report["taehv"] = taehv_timing(s, bench)
        layout = "channels_last"
        if report["taehv"]:
            c = report["taehv"]
            layout = min(
                ("contiguous", "channels_last"),
                key=lambda l: (
                    c[f"taehv_{l}_decode_3_latents_ms"] + c[f"taehv_{l}_encode_12_frames_ms"]
                ),
            )
        model = TAEHV()
        init_random_(model, seed=3)
        model = model.to(s.device, s.dtype).eval()
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
        ae = TAEHVAutoencoder(model)
        attempt(
            "e2e taehv",
            lambda: bench.measure(f"e2e taehv ({layout}) + {best['name'] if best else ''}", ae=ae),
        )

    for r in results:
        if (
            base is not None
            and r is not base
            and "outputs" in r
            and not r["name"].startswith("e2e")
        ):
            r["rel_err_vs_first"] = rel_err(r["outputs"], base["outputs"])
    for r in results:
        r.pop("outputs", None)
    report["variants"] = results
    report["errors"] = errors
    report["reference"] = {"dit_only_fps": 25.9, "full_wan_vae_fps": 16.3, "chunk_ms": 447}

    log(
        "\n| variant | video FPS (81 fr) | steady FPS | first chunk ms | steady chunk ms | DiT TFLOP/s | rel err |"
    )
    log("|---|---|---|---|---|---|---|")
    for r in results:
        log(
            f"| {r['name']} | {r['video_fps']:.1f} | {r['steady_fps']:.1f} | {r['first_chunk_ms']:.0f} | "
            f"{r['steady_chunk_ms']:.0f} | {r['dit_tflops_video']:.0f} | {r.get('rel_err_vs_first', 0):.2e} |"
        )
    if errors:
        log("errors:", json.dumps(errors, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1)
        log("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The chunk's self-attention over the KV cache alone, one launch against the keys split into parts
(`liveedit_app.engine.split_attention`), at the wan-1.3b streaming shapes: 12 heads of 128, queries
of a whole chunk (4680 tokens) and of the static-skip cache's kept share (~1/2, ~1/3), keys of the
7 window sizes as the cache fills (4680 .. 32760). Also checks the wave hypothesis (a chunk of 5632
queries = exactly 4 waves of 128-query tiles on 132 multiprocessors should cost what 4680 does),
the merge's error against plain SDPA and against fp32, and what the merge costs. (The JSON of
run 2 in benchmarks/ timed the sweep with queries laid out [1, H, n, D]; run 1 and this script
time them as the engine makes them.)

    PYTHONPATH=. python3 scripts/gpu_attention_split.py --out "$OUT/attention-split.json"
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
import torch.nn.functional as F
from gpu_speed_wan import time_fn  # scripts/ beside this one

from liveedit_app.engine import split_attention as sa

H, D, TPF = 12, 128, 1560


def time_ms(fn, reps: int = 30) -> float:
    """Median milliseconds of fn on the GPU (CUDA events, after warm-up)."""
    return 1000 * time_fn(fn, reps)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(0)
    sms = props.multi_processor_count
    report: dict = {"device": props.name, "sms": sms, "torch": torch.__version__,
                    "cudnn": torch.backends.cudnn.version(), "rows": []}
    print(report, flush=True)
    gen = torch.Generator(device=dev).manual_seed(0)
    cap = 21 * TPF
    # the cache layout: [1, H, capacity, D]; SDPA reads prefix views
    kc = torch.randn(1, H, cap, D, device=dev, dtype=torch.bfloat16, generator=gen)
    vc = torch.randn(1, H, cap, D, device=dev, dtype=torch.bfloat16, generator=gen)

    def queries(n: int, contiguous: bool = False) -> torch.Tensor:
        """[1, H, n, D]: a transposed view of [1, n, H, D] as the engine makes them, or laid out
        [1, H, n, D] in memory (measured in stop 13 and not kept: no faster in the DiT)."""
        q = torch.randn(1, n, H, D, device=dev, dtype=torch.bfloat16, generator=gen)
        return q.transpose(1, 2).contiguous() if contiguous else q.transpose(1, 2)

    # 1. the wave hypothesis at the steady shape
    kv = cap
    waves = {}
    for n in (4680, 5120, 5632, 6144):
        for contiguous in (False, True):
            q = queries(n, contiguous)
            waves[f"{n}_{'contiguous' if contiguous else 'view'}"] = time_ms(
                lambda q=q: F.scaled_dot_product_attention(q, kc[:, :, :kv], vc[:, :, :kv]))
    report["wave_check_ms"] = waves
    print("one launch, kv 32760, by query count (ms):", waves, flush=True)

    # 2. correctness at the steady shape
    q = queries(4680)
    plain = F.scaled_dot_product_attention(q, kc, vc)
    ref = F.scaled_dot_product_attention(q.float(), kc.float(), vc.float())
    checks = {"plain_vs_fp32": rel(plain, ref)}
    for p in (2, 3, 4):
        try:
            out = sa.split_attention(q, kc, vc, p)
            checks[f"p{p}_vs_plain"] = rel(out, plain)
            checks[f"p{p}_vs_fp32"] = rel(out, ref)
        except RuntimeError as err:
            checks[f"p{p}_error"] = str(err).splitlines()[0][:200]
    del ref
    report["checks"] = checks
    print("errors:", {k: (f"{v:.2e}" if isinstance(v, float) else v) for k, v in checks.items()},
          flush=True)

    # 3. the merge's cost alone and the cuDNN launch alone, steady shape, p = 2
    k2 = kc[0].unflatten(1, (2, cap // 2)).transpose(0, 1)
    v2 = vc[0].unflatten(1, (2, cap // 2)).transpose(0, 1)
    q2 = q.expand(2, -1, -1, -1)
    out2, lse2 = torch.ops.aten._scaled_dot_product_cudnn_attention(q2, k2, v2, None, True, 0.0,
                                                                    False, False)[:2]
    lse2 = lse2.reshape(2, H, 4680, 1)
    sa._merge(out2, lse2)
    qc = queries(4680, contiguous=True)
    report["cost_ms"] = {
        "plain": time_ms(lambda: F.scaled_dot_product_attention(q, kc, vc)),
        "plain_contiguous_queries": time_ms(lambda: F.scaled_dot_product_attention(qc, kc, vc)),
        "cudnn_p2_launch": time_ms(lambda: torch.ops.aten._scaled_dot_product_cudnn_attention(
            q2, k2, v2, None, True, 0.0, False, False)),
        "merge_p2_compiled": time_ms(lambda: sa._merge(out2, lse2)),
        "merge_p2_eager": time_ms(lambda: sa.merge_parts(out2, lse2)),
        "split_p2": time_ms(lambda: sa.split_attention(q, kc, vc, 2)),
        "split_p2_contiguous_queries": time_ms(lambda: sa.split_attention(qc, kc, vc, 2)),
    }
    print("cost (ms):", {k: round(v, 3) for k, v in report["cost_ms"].items()}, flush=True)

    # 4. the sweep: every window size, three query counts, p = 1..4
    print("\n| queries | keys | plain ms | p=2 | p=3 | p=4 | best p | key_parts picks | "
          "picked / plain |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (4680, 2368, 1600):
        q = queries(n)
        for frames in range(3, 22, 3):
            kv = frames * TPF
            ks, vs = kc[:, :, :kv], vc[:, :, :kv]
            row = {"queries": n, "keys": kv,
                   "plain_ms": time_ms(lambda q=q, ks=ks, vs=vs:
                                       F.scaled_dot_product_attention(q, ks, vs))}
            for p in (2, 3, 4):
                if kv % p == 0:
                    row[f"p{p}_ms"] = time_ms(lambda q=q, ks=ks, vs=vs, p=p:
                                              sa.split_attention(q, ks, vs, p))
            times = {1: row["plain_ms"], **{p: row[f"p{p}_ms"] for p in (2, 3, 4)
                                           if f"p{p}_ms" in row}}
            row["best_p"] = min(times, key=times.get)
            row["picked_p"] = sa.key_parts(n, kv, H, D, sms)
            row["picked_over_plain"] = times[row["picked_p"]] / row["plain_ms"]
            report["rows"].append(row)
            cells = " | ".join(f"{row.get(f'p{p}_ms', float('nan')):.3f}" for p in (2, 3, 4))
            print(f"| {n} | {kv} | {row['plain_ms']:.3f} | {cells} | {row['best_p']} | "
                  f"{row['picked_p']} | {row['picked_over_plain']:.3f} |", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

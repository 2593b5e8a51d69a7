"""One chunk's queries against a long KV cache, with the keys split across the batch dimension of a
single attention launch where one plain launch would leave most of the GPU idle.

Why: a fused attention forward kernel (cuDNN's on Hopper) gives a thread block to each tile of
queries of each head, so a call with few queries fills only part of the GPU's last wave however
many keys there are. The static-skip cache computes about a third of a Wan chunk's 4680 queries:
1600 queries = 13 tiles of 128 x 12 heads = 156 blocks on an H100's or H200's 132
multiprocessors, 1.18 waves. Viewing the keys as p equal parts in the batch dimension gives p x
156 blocks of 1/p the work in ONE launch (p = 4: 4.7 waves in 5), and the parts merge exactly
through their log-sum-exps: out = sum_i exp(lse_i - lse) out_i, lse = logsumexp_i lse_i, in one
fused pointwise kernel. (Separate launches per part would not help: each would end on its own
part-empty wave.)

`key_parts` picks p from the wave count alone, so it costs nothing at run time: the smallest p of
at most `MAX_PARTS` whose waves per unit of work are at least `MIN_GAIN` below one launch's, for
calls of at least `MIN_FLOP`. Measured on an H200 (docs/performance.md): 1600 queries x 32760
keys in 4 parts take 0.73-0.74 of one launch, and the static-skip cache's chunks 8-18 % less
time; a whole chunk in 2 parts (3.36 waves -> 6.73) only 0.93 at the longest window and more
than one launch at short ones, so whole chunks (a predicted gain of 1/8) keep one launch.

It runs on CUDA GPUs of compute capability 9 or newer (cuDNN attention, which returns the
log-sum-exp); elsewhere and for masked keys it is plain SDPA. The first split call of a process is
checked against plain SDPA; a relative difference over `CHECK_TOLERANCE` (a cuDNN that reports
its statistic differently) or an error turns splitting off for the process, with a log line.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

TILE_Q = 128  # queries per thread block of the fused forward kernels for head_dim 128
MAX_PARTS = 4
MIN_PART_KEYS = 512  # each part keeps at least this many keys (4 key tiles)
MIN_FLOP = 8e10  # 4 * Nq * Nk * heads * head_dim below this (~0.16 ms): the merge costs more
MIN_GAIN = 0.75  # split only when the wave count per unit of work falls by a quarter or more
CHECK_TOLERANCE = 2e-2

enabled = True  # the benchmark's switch (scripts/gpu_speed_wan.py); off after a failed check
_checked = False
_merge_fn = None
_sm_counts: dict[int, int | None] = {}


def key_parts(q_len: int, kv_len: int, heads: int, head_dim: int, sms: int) -> int:
    """How many equal parts to split kv_len keys into for q_len queries (batch 1) on a GPU of
    `sms` multiprocessors; 1 = one plain launch."""
    if 4 * q_len * kv_len * heads * head_dim < MIN_FLOP or sms <= 0:
        return 1
    blocks = math.ceil(q_len / TILE_Q) * heads

    def waves_per_work(p: int) -> float:
        return math.ceil(blocks * p / sms) / p

    best = 1
    for p in range(2, MAX_PARTS + 1):
        if kv_len % p or kv_len // p < MIN_PART_KEYS:
            continue
        if waves_per_work(p) < waves_per_work(best):
            best = p
    return best if waves_per_work(best) <= MIN_GAIN * waves_per_work(1) else 1


def _multiprocessors(device: torch.device) -> int | None:
    """Multiprocessors of a CUDA device that runs cuDNN attention (capability 9+), else None."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _sm_counts:
        props = torch.cuda.get_device_properties(index)
        _sm_counts[index] = props.multi_processor_count if props.major >= 9 else None
    return _sm_counts[index]


def merge_parts(out: torch.Tensor, lse: torch.Tensor) -> torch.Tensor:
    """out [p, H, N, D], lse [p, H, N, 1] (natural log) -> [1, H, N, D] in out's dtype, summed
    in fp32 or better. Written out part by part so that the compiler makes it one pointwise
    kernel (a reduction over the parts' dimension ran at a tenth of the memory bandwidth)."""
    work = torch.promote_types(out.dtype, torch.float32)
    parts = out.shape[0]
    top = lse[0]
    for i in range(1, parts):
        top = torch.maximum(top, lse[i])
    weights = [torch.exp(lse[i] - top) for i in range(parts)]
    acc = out[0].to(work) * weights[0]
    total = weights[0]
    for i in range(1, parts):
        acc = acc + out[i].to(work) * weights[i]
        total = total + weights[i]
    return (acc / total).unsqueeze(0).to(out.dtype)


def _merge(out: torch.Tensor, lse: torch.Tensor) -> torch.Tensor:
    """`merge_parts` as one fused kernel (compiled once, dynamic shapes); eager if that fails."""
    global _merge_fn
    if _merge_fn is None:
        try:
            _merge_fn = torch.compile(merge_parts, dynamic=True)
            return _merge_fn(out, lse)
        except Exception as err:  # noqa: BLE001 - a compiler problem must not stop a stream
            log.warning("split attention: merge runs eager (%s)", err)
            _merge_fn = merge_parts
    return _merge_fn(out, lse)


def split_attention(q: torch.Tensor, keys: torch.Tensor, vals: torch.Tensor, parts: int
                    ) -> torch.Tensor:
    """q [1, H, N, D]; keys, vals [1, H, S, D] (views with any head stride, S divisible by
    parts) -> [1, H, N, D]: cuDNN attention over the parts as a batch of `parts`, merged."""
    h, s = keys.shape[1:3]
    # [1, H, S, D] -> [p, H, S/p, D]: a view, part i = keys i*S/p .. (i+1)*S/p
    k = keys[0].unflatten(1, (parts, s // parts)).transpose(0, 1)
    v = vals[0].unflatten(1, (parts, s // parts)).transpose(0, 1)
    qs = q.expand(parts, -1, -1, -1)  # every part's queries are the same: a stride-0 batch
    out, lse = torch.ops.aten._scaled_dot_product_cudnn_attention(
        qs, k, v, None, True, 0.0, False, False)[:2]
    return _merge(out, lse.reshape(parts, h, q.shape[2], 1))


def attend(q: torch.Tensor, keys: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product attention of q [B, H, N, D] over keys, vals [B, H, S, D], split along
    the keys where `key_parts` says so."""
    parts = 1
    if enabled and q.is_cuda and q.shape[0] == 1 and q.shape[-1] <= 128:
        sms = _multiprocessors(q.device)
        if sms is not None:
            parts = key_parts(q.shape[2], keys.shape[2], q.shape[1], q.shape[3], sms)
    if parts == 1:
        return F.scaled_dot_product_attention(q, keys, vals)
    return _checked_split(q, keys, vals, parts)


def _checked_split(q: torch.Tensor, keys: torch.Tensor, vals: torch.Tensor, parts: int
                   ) -> torch.Tensor:
    """The split, compared with one launch the first time. A failure (an op, a layout or a
    shape this GPU's cuDNN refuses) or a first result off by more than CHECK_TOLERANCE turns
    splitting off and answers with plain SDPA. Running out of memory is not a failure of the
    split: it is raised as it is."""
    global _checked
    try:
        out = split_attention(q, keys, vals, parts)
    except torch.OutOfMemoryError:
        raise
    except RuntimeError as exc:
        _turn_off(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return F.scaled_dot_product_attention(q, keys, vals)
    if not _checked:
        _checked = True
        plain = F.scaled_dot_product_attention(q, keys, vals)
        err = float((out.float() - plain.float()).norm() / plain.float().norm().clamp_min(1e-30))
        if not err <= CHECK_TOLERANCE:
            _turn_off(f"{parts} parts differ from one launch by {err:.2e}")
            return plain
        log.info("split attention on: %d parts, %.1e from one launch", parts, err)
    return out


def _turn_off(why: str) -> None:
    global enabled
    enabled = False
    log.warning("split attention off: %s", why)

"""`bench quality`: every variant over every case, scored with `metrics`, as one JSON-ready dict.

The source's optical flow is computed once per case and shared by every variant, so all of them
are judged against the same motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liveedit_app.bench import metrics
from liveedit_app.bench.cases import BenchCase
from liveedit_app.bench.progress import Progress
from liveedit_app.bench.runner import ClipRun
from liveedit_app.bench.variants import Variant

# what a variant's summary holds, in the report's column order
SUMMARY_KEYS = (
    "target_psnr",
    "target_ssim",
    "outside_psnr",
    "instability",
    "instruction_accuracy",
    "background_consistency",
    "dynamic_degree",
    "motion_score",
    "fps",
)
# summary key -> the per-case key it averages, where they differ
_PER_CASE_SOURCE = {"instruction_accuracy": "right_edit", "dynamic_degree": "dynamic"}


@dataclass
class QualityRun:
    data: dict  # JSON-ready: settings, cases, variants with per-case metrics and summaries
    strips: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # case -> role -> clip


def score_case(case: BenchCase, run: ClipRun, flows: list[np.ndarray]) -> dict:
    """Every per-clip metric of one edited clip (docs/benchmark.md)."""
    output = run.frames
    region = case.edit_region
    has_target = case.target is not None
    motion = metrics.motion_score(output)
    return {
        "case": case.name,
        "target_psnr": metrics.psnr(output, case.target, region) if has_target else None,
        "target_ssim": metrics.ssim(output, case.target, region) if has_target else None,
        "outside_psnr": (
            None if case.mask is None else metrics.psnr(output, case.source, case.outside_region)
        ),
        "warp_error": metrics.warp_error(output, flows, region),
        "source_warp_error": metrics.warp_error(case.source, flows, region),
        "instability": metrics.temporal_instability(output, case.source, flows, region),
        "background_consistency": metrics.background_consistency(output),
        "motion_score": motion,
        "dynamic": metrics.is_dynamic(motion),
        "right_edit": None,  # filled once every case has run: it compares across cases
        "fps": run.fps if run.wall_s > 0 else None,  # None: a yardstick runs no editor
        "first_frame_s": run.first_frame_s,
        "recompute_share": run.recompute_share,
    }


def run_quality(
    cases: list[BenchCase],
    variants: list[Variant],
    *,
    settings: dict | None = None,
    strip_cases: int = 3,
    progress: Progress | None = None,
) -> QualityRun:
    """Run and score every variant on every case; keep the clips of the first `strip_cases`
    cases for the report's frame strips."""
    runnable = [v for v in variants if v.run is not None]
    progress = progress or Progress(len(cases) * len(runnable), "bench quality")
    failed: dict[str, str] = {}  # a baseline that breaks is reported, the others go on
    strips: dict[str, dict[str, np.ndarray]] = {}
    scored: dict[str, list[dict]] = {v.name: [] for v in runnable}
    descriptors: dict[str, list[np.ndarray]] = {v.name: [] for v in runnable}
    for number, case in enumerate(cases):
        flows = metrics.dis_flows(case.source)
        if number < strip_cases:
            strips[case.name] = {"source": case.source}
            if case.target is not None:
                strips[case.name]["target"] = case.target
        for variant in runnable:
            if variant.name in failed:
                continue
            try:
                run = variant.run(case)
            except Exception as err:  # one broken baseline must not lose the whole run
                failed[variant.name] = f"failed on {case.name}: {type(err).__name__}: {err}"
                progress.note(f"{variant.name}: {failed[variant.name]}")
                continue
            scored[variant.name].append(score_case(case, run, flows))
            descriptors[variant.name].append(metrics.edit_descriptor(run.frames, case.edit_region))
            if number < strip_cases:
                strips[case.name][variant.name] = run.frames
            rate = f" · {run.fps:.2f} frames/s" if run.wall_s > 0 else ""
            progress.step(f"{variant.name} · {case.name}{rate}")
    for name in failed:
        del scored[name], descriptors[name]
    _fill_instruction_accuracy(cases, scored, descriptors)
    data = {
        "kind": "quality",
        "settings": settings or {},
        "cases": [_describe_case(case) for case in cases],
        "variants": [
            {
                "name": v.name,
                "label": v.label,
                "skipped": v.skipped or failed.get(v.name),
                "reference": v.reference,
                "summary": summarize(scored[v.name]) if v.name in scored else {},
                "cases": scored.get(v.name, []),
            }
            for v in variants
        ],
    }
    return QualityRun(data=data, strips=strips)


def _fill_instruction_accuracy(
    cases: list[BenchCase], scored: dict[str, list[dict]], descriptors: dict[str, list[np.ndarray]]
) -> None:
    with_target = [i for i, case in enumerate(cases) if case.target is not None]
    if len(with_target) < 2:
        return  # nearest among one target is always right: the metric says nothing
    targets = [metrics.edit_descriptor(cases[i].target, cases[i].edit_region) for i in with_target]
    keys = [cases[i].edit_key for i in with_target]
    for name, rows in scored.items():
        outputs = [descriptors[name][i] for i in with_target]
        for i, right in zip(
            with_target, metrics.nearest_target_is_right(outputs, targets, keys), strict=True
        ):
            rows[i]["right_edit"] = right


def summarize(rows: list[dict]) -> dict:
    """Means over the cases where a metric exists, and how many cases that was."""
    summary = {}
    for key in SUMMARY_KEYS:
        values = [row[_PER_CASE_SOURCE.get(key, key)] for row in rows]
        values = [float(v) for v in values if v is not None]
        summary[key] = float(np.mean(values)) if values else None
        summary[f"{key}_n"] = len(values)
    return summary


def _describe_case(case: BenchCase) -> dict:
    frames, height, width = case.source.shape[:3]
    return {
        "name": case.name,
        "instruction": case.instruction,
        "edit_key": case.edit_key,
        "frames": int(frames),
        "height": int(height),
        "width": int(width),
        "has_mask": case.mask is not None,
        "has_target": case.target is not None,
    }

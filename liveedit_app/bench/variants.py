"""The editors a benchmark run compares side by side, each behind one `run(case)` call.

A variant that cannot run here (no teacher checkpoint, say) is kept with the reason, so the report
says why its column is empty instead of silently leaving it out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from liveedit_app.bench.cases import BenchCase
from liveedit_app.bench.runner import ClipRun, stream_clip
from liveedit_app.contract import EditorProtocol
from liveedit_app.errors import BenchmarkError


@dataclass
class Variant:
    name: str  # short, for JSON keys and file names
    label: str  # what a reader sees in the report
    run: Callable[[BenchCase], ClipRun] | None
    skipped: str = ""  # why `run` is None
    reference: bool = False  # a yardstick (no editor): never "best" in the report


def streaming_variant(
    name: str, label: str, editor: EditorProtocol, *, each_frame_alone: bool = False
) -> Variant:
    return Variant(
        name, label, lambda case: stream_clip(editor, case, each_frame_alone=each_frame_alone)
    )


def identity_variant() -> Variant:
    """The do-nothing yardstick: the source itself as the output. Any editor must beat its
    fidelity to the target; it sets the ceiling for preservation and stability."""
    return Variant(
        "identity",
        "source unchanged (no edit)",
        lambda case: ClipRun(frames=case.source.copy(), wall_s=0.0, first_frame_s=0.0),
        reference=True,
    )


def target_variant() -> Variant:
    """The right answer as the output: what a perfect editor scores on stability, background
    consistency and motion, which are not 1.0 / the source's for every edit."""
    return Variant("target", "target (the right edit)", _target_run, reference=True)


def _target_run(case: BenchCase) -> ClipRun:
    if case.target is None:
        raise BenchmarkError(f"{case.name} has no target clip.")
    return ClipRun(frames=case.target.copy(), wall_s=0.0, first_frame_s=0.0)


def skipped_variant(name: str, label: str, reason: str) -> Variant:
    return Variant(name, label, None, skipped=reason)

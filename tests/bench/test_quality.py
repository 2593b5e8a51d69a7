import dataclasses

import pytest
from bench_doubles import PaintEditor

from liveedit_app.bench import metrics
from liveedit_app.bench.quality import run_quality
from liveedit_app.bench.variants import (
    identity_variant,
    skipped_variant,
    streaming_variant,
    target_variant,
)


def run(cases, *variants):
    result = run_quality(cases, list(variants))
    return {v["name"]: v for v in result.data["variants"]}, result


def test_an_editor_that_paints_the_right_colour_matches_every_target(colour_cases):
    variants, _ = run(colour_cases, streaming_variant("paint", "paint", PaintEditor()))
    summary = variants["paint"]["summary"]
    assert summary["target_psnr"] == metrics.PSNR_CAP_DB
    assert summary["target_ssim"] == pytest.approx(1.0)
    assert summary["outside_psnr"] == metrics.PSNR_CAP_DB
    assert summary["instruction_accuracy"] == 1.0
    assert summary["instruction_accuracy_n"] == 3


def test_an_editor_that_paints_the_wrong_colour_scores_no_instruction_accuracy(colour_cases):
    variants, _ = run(colour_cases, streaming_variant("wrong", "wrong", PaintEditor(shift=1)))
    summary = variants["wrong"]["summary"]
    assert summary["instruction_accuracy"] == 0.0
    assert summary["target_psnr"] < 20.0
    assert summary["outside_psnr"] == metrics.PSNR_CAP_DB  # it still kept the background


def test_the_unedited_source_is_exactly_as_stable_as_itself_and_far_from_the_targets(colour_cases):
    variants, _ = run(colour_cases, identity_variant())
    summary = variants["identity"]["summary"]
    assert summary["instability"] == pytest.approx(1.0)
    assert summary["outside_psnr"] == metrics.PSNR_CAP_DB
    assert summary["target_psnr"] < 15.0


def test_a_skipped_baseline_is_reported_with_its_reason_and_no_numbers(colour_cases):
    reason = "no teacher checkpoint installed"
    variants, _ = run(colour_cases[:1], identity_variant(), skipped_variant("teacher", "t", reason))
    assert variants["teacher"]["skipped"] == reason
    assert variants["teacher"]["summary"] == {}
    assert variants["teacher"]["cases"] == []


def test_strips_keep_source_target_and_every_editor_for_the_first_cases(colour_cases):
    _, result = run(colour_cases, identity_variant(), streaming_variant("p", "p", PaintEditor()))
    first = colour_cases[0]
    assert list(result.strips) == [c.name for c in colour_cases]
    assert set(result.strips[first.name]) == {"source", "target", "identity", "p"}
    assert (result.strips[first.name]["p"] == first.target).all()


def test_every_case_is_described_with_its_size_and_what_it_has(colour_cases):
    _, result = run(colour_cases[:1], identity_variant())
    assert result.data["cases"] == [
        {
            "name": "red-0",
            "instruction": "make the box red",
            "edit_key": "red",
            "frames": 6,
            "height": 48,
            "width": 48,
            "has_mask": True,
            "has_target": True,
        }
    ]


def test_a_baseline_that_breaks_is_reported_failed_and_the_others_finish(colour_cases):
    class Broken(PaintEditor):
        def push(self, frame):
            if frame.index == 3:
                raise RuntimeError("out of memory")
            return super().push(frame)

    variants, _ = run(
        colour_cases,
        streaming_variant("broken", "broken", Broken()),
        streaming_variant("paint", "paint", PaintEditor()),
    )
    assert variants["broken"]["skipped"] == "failed on red-0: RuntimeError: out of memory"
    assert variants["broken"]["cases"] == [] and variants["broken"]["summary"] == {}
    assert variants["paint"]["summary"]["instruction_accuracy"] == 1.0


def test_the_target_yardstick_scores_perfect_fidelity_and_its_own_stability(colour_cases):
    variants, _ = run(colour_cases, target_variant())
    summary = variants["target"]["summary"]
    assert variants["target"]["reference"] is True
    assert summary["target_psnr"] == metrics.PSNR_CAP_DB
    assert summary["instruction_accuracy"] == 1.0
    assert summary["fps"] is None


def test_the_target_yardstick_fails_plainly_on_a_clip_without_a_target(colour_cases):
    case = dataclasses.replace(colour_cases[0], target=None)
    variants, _ = run([case], target_variant())
    assert variants["target"]["skipped"] == (
        "failed on red-0: BenchmarkError: red-0 has no target clip."
    )

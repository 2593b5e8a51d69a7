"""The procedural held-out set: the distillation generator's held-out split (odd seeds and
phrasings training never saw), cycling through every edit so each is asked for equally often."""

from __future__ import annotations

from liveedit_app.bench.cases import BenchCase
from liveedit_app.distill.data.edits import EDIT_KEYS
from liveedit_app.distill.data.generator import EditExampleGenerator


def heldout_cases(count: int, *, height: int, width: int, frames: int) -> list[BenchCase]:
    """Case i is held-out example i with edit EDIT_KEYS[i % len(EDIT_KEYS)]."""
    generator = EditExampleGenerator(height, width, frames, split="heldout")
    cases = []
    for index in range(count):
        example = generator.example(index, edit_key=EDIT_KEYS[index % len(EDIT_KEYS)])
        cases.append(
            BenchCase(
                name=f"{example.edit}-s{example.seed}",
                instruction=example.instruction,
                source=example.source,
                mask=example.mask,
                target=example.target,
                edit_key=example.edit,
            )
        )
    return cases

"""The procedural held-out set: the distillation generator's held-out split (odd seeds and
phrasings training never saw), cycling through every edit so each is asked for equally often."""

from __future__ import annotations

from liveedit_app.bench.cases import BenchCase
from liveedit_app.distill.data.edits import EDIT_KEYS
from liveedit_app.distill.data.generator import EditExampleGenerator
from liveedit_app.errors import BenchmarkError


def heldout_case(index: int, edit_key: str, *, height: int, width: int, frames: int) -> BenchCase:
    """Held-out example `index`, asked for edit `edit_key`."""
    generator = EditExampleGenerator(height, width, frames, split="heldout")
    example = generator.example(index, edit_key=edit_key)
    return BenchCase(
        name=f"{example.edit}-s{example.seed}",
        instruction=example.instruction,
        source=example.source,
        mask=example.mask,
        target=example.target,
        edit_key=example.edit,
    )


def heldout_cases(
    count: int, *, height: int, width: int, frames: int, edit_keys: tuple[str, ...] = EDIT_KEYS
) -> list[BenchCase]:
    """Case i is held-out example i with edit edit_keys[i % len(edit_keys)]."""
    unknown = [key for key in edit_keys if key not in EDIT_KEYS]
    if unknown or not edit_keys:
        raise BenchmarkError(
            f"Unknown edit {', '.join(unknown) or '(none given)'}: "
            f"the held-out set has {', '.join(EDIT_KEYS)}."
        )
    return [
        heldout_case(i, edit_keys[i % len(edit_keys)], height=height, width=width, frames=frames)
        for i in range(count)
    ]

"""Which editor the window runs: the engine's `StreamEditor` for the chosen model and device.

Called on the worker thread (loading takes a while). A failure, from an engine that is not part of
this build to a missing or broken model folder, becomes a message in the window, which then shows
the source unedited under a "no model loaded" banner.
"""

from __future__ import annotations

import traceback

from liveedit_app.contract import EditorProtocol
from liveedit_app.errors import CheckpointError, LiveEditError

DEFAULT_MODEL = "liveedit-tiny"


def load_editor(model: str, device: str = "auto") -> EditorProtocol:
    try:
        from liveedit_app.engine.editor import StreamEditor
    except ImportError as err:
        raise CheckpointError(
            "The editing engine is missing from this installation, so nothing can be edited.",
            details=f"{err!r}\n{traceback.format_exc()}",
        ) from err
    # anything else it raises is turned into a message by the worker
    return StreamEditor.load(model or DEFAULT_MODEL, device=device)


def installed_models() -> list[str]:
    """Names of the installed models, shipped and user-installed."""
    try:
        from liveedit_app.modelstore.store import ModelStore

        return sorted({m.name for m in ModelStore().list()})
    except (ImportError, LiveEditError, OSError):
        return []


# For a model whose card names no prompts of its own (see modelstore/card.py)
WHOLE_PROMPTS = ("make it a pencil sketch", "make it night time", "make it film noir",
                 "make it look like an oil painting", "make it snow")
REGION_PROMPTS = ("make the object red", "blur the object", "make the object glow")


def model_prompts(model: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(whole-picture prompts, region prompts) the model was trained to follow, best first: from
    its card, or general ones for a model whose card names none."""
    try:
        from liveedit_app.modelstore.store import ModelStore

        card = ModelStore().get(model or DEFAULT_MODEL).card
    except (ImportError, LiveEditError, OSError):
        return WHOLE_PROMPTS, REGION_PROMPTS
    return card.whole_prompts or WHOLE_PROMPTS, card.region_prompts or REGION_PROMPTS

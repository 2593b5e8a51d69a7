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

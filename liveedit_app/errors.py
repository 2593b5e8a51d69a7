"""The project's own exceptions: every error a user can cause has a sentence a creator understands.

`str(err)` is the short message shown in the UI and on the command line; `err.details` holds the
longer technical text (paths, shapes, the underlying exception) that is one click away.
"""

from __future__ import annotations


class LiveEditError(Exception):
    """Base class. `message` is short and plain; `details` is optional technical text."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class SourceError(LiveEditError):
    """A camera, video file or image cannot be opened or read."""


class CameraError(SourceError):
    """No camera, a busy camera, or a camera that went away."""


class VideoFileError(SourceError):
    """A missing, corrupt, truncated, empty or unsupported media file."""


class CheckpointError(LiveEditError):
    """A model folder or weight file that cannot be loaded (missing, corrupt, wrong shapes)."""


class ModelNotFoundError(CheckpointError):
    """No installed model has the requested name."""


class GPUMemoryError(LiveEditError):
    """The model does not fit in the memory of the device it runs on."""


class InputError(LiveEditError):
    """A prompt, mask or setting the user gave that cannot be used as it is."""


class RecordingError(LiveEditError):
    """The recorder could not start, write or finalize a file."""


class DiskFullError(RecordingError):
    """Not enough free space to start or continue writing."""


class Cancelled(LiveEditError):
    """Long work stopped at the user's request."""


class TrainingError(LiveEditError):
    """A training configuration or run that cannot proceed."""


class BenchmarkError(LiveEditError):
    """A benchmark folder, description file or run that cannot be used."""

"""LiveEdit Studio: edit your webcam or a video live with a streaming diffusion editor."""

__version__ = "0.1.0"

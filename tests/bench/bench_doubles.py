"""Test doubles for the benchmark: editors with known behaviour and hand-made clips."""

import cv2
import numpy as np

from liveedit_app.bench.cases import BenchCase
from liveedit_app.contract import EditedFrame, EditorStats, EditSettings

COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}


def moving_texture(frames=6, size=48, seed=0, dx=1):
    """A smooth random texture panning `dx` px a frame; values in 40..200."""
    rng = np.random.default_rng(seed)
    margin = 2 + abs(dx) * frames
    canvas = rng.uniform(40, 200, (size, size + 2 * margin, 3)).astype(np.float32)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 1.5)
    clip = [canvas[:, margin - dx * t : margin - dx * t + size] for t in range(frames)]
    return np.stack(clip).round().astype(np.uint8)


def box_mask(frames=6, size=48):
    mask = np.zeros((frames, size, size), np.float32)
    mask[:, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    return mask


def paint(source, mask, colour):
    """`source` with the mask's pixels set to `colour`: the right answer of "make it <colour>"."""
    out = source.copy()
    out[mask > 0.5] = COLOURS[colour]
    return out


def colour_case(colour, seed=0, frames=6, size=48):
    source = moving_texture(frames, size, seed)
    mask = box_mask(frames, size)
    return BenchCase(
        name=f"{colour}-{seed}",
        instruction=f"make the box {colour}",
        source=source,
        mask=mask,
        target=paint(source, mask, colour),
        edit_key=colour,
    )


class PaintEditor:
    """Paints the masked pixels in the colour the prompt names, two frames a chunk.

    `shift` picks the colour `shift` places further in COLOURS: a wrong editor. `resets` counts
    reset() calls so tests can see whether frames were edited alone."""

    def __init__(self, chunk=2, shift=0):
        self.chunk = chunk
        self.shift = shift
        self.stats = EditorStats()
        self.resets = 0
        self._pending = []
        self._colour = "red"
        self._mask = None

    def set_prompt(self, prompt):
        names = list(COLOURS)
        named = next((n for n in names if n in prompt), "red")
        self._colour = names[(names.index(named) + self.shift) % len(names)]

    def set_mask(self, mask):
        self._mask = mask

    def configure(self, settings: EditSettings):
        pass

    def push(self, frame):
        self._pending.append((frame, self._mask))
        return self.flush() if len(self._pending) >= self.chunk else []

    def flush(self):
        done = []
        for frame, mask in self._pending:
            rgb = frame.rgb if mask is None else paint(frame.rgb, mask, self._colour)
            done.append(EditedFrame(rgb=rgb, source=frame.rgb, pts=frame.pts, index=frame.index))
        self._pending = []
        self.stats.recompute_share = 0.25 if done else self.stats.recompute_share
        self.stats.frames_out += len(done)
        return done

    def reset(self):
        self.resets += 1
        self._pending = []


def colour_cases():
    """One case per colour, each on its own texture."""
    return [colour_case(c, seed=i) for i, c in enumerate(COLOURS)]

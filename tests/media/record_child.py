"""Records synthetic frames (and silence) in real time until killed. Prints the final path, then
"<index> <pts>" for every frame handed to the recorder, so the parent knows what was sent before
its kill -9."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from liveedit_app.contract import EditedFrame
from liveedit_app.media.recorder import Recorder, RecorderConfig

FPS = 30


def main(folder: str, audio: bool) -> None:
    recorder = Recorder(RecorderConfig(folder=Path(folder), audio=audio, prefer_hardware=False))
    print(recorder.start(), flush=True)
    y, x = np.mgrid[0:120, 0:160]
    start = time.monotonic()
    for i in range(FPS * 60):
        rgb = np.stack([(x + i * 3) % 256, y * 2, np.full_like(x, i % 256)], -1).astype(np.uint8)
        pts = i / FPS
        recorder.submit(EditedFrame(rgb=rgb, source=rgb, pts=pts, index=i, latency_s=0.1))
        if audio:
            recorder.submit_audio(np.zeros((48_000 // FPS, 1), np.int16), time.monotonic())
        print(i, pts, flush=True)
        time.sleep(max(0.0, start + (i + 1) / FPS - time.monotonic()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "audio")

"""How long a creator waits on a GPU before the first edited frame: load liveedit-tiny, then the
wall time of the first chunks (CUDA context, cuDNN autotuning). Prints JSON.

    python3 scripts/gpu_first_edit.py [--model liveedit-tiny] [--chunks 6]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="liveedit-tiny")
    ap.add_argument("--chunks", type=int, default=6)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    began = time.perf_counter()
    import numpy as np
    import torch

    from liveedit_app.contract import Frame
    from liveedit_app.engine.editor import StreamEditor

    imported = time.perf_counter()
    editor = StreamEditor.load(args.model, device=args.device)
    editor.set_prompt("turn it into a pencil sketch")
    loaded = time.perf_counter()
    rng = np.random.default_rng(0)
    chunk_s, index = [], 0
    for _ in range(args.chunks):
        start = time.perf_counter()
        out = []
        while not out:
            rgb = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
            out = editor.push(Frame(rgb, pts=index / 30, index=index))
            index += 1
        if editor.device.type == "cuda":
            torch.cuda.synchronize()
        chunk_s.append(round(time.perf_counter() - start, 4))
    print(json.dumps({
        "device": torch.cuda.get_device_name() if editor.device.type == "cuda" else "cpu",
        "model": args.model, "import_s": round(imported - began, 2),
        "load_s": round(loaded - imported, 2), "chunk_s": chunk_s,
        "first_edit_after_s": round(loaded - began + chunk_s[0], 2),
        "frames_per_chunk": editor.frames_per_chunk}))


if __name__ == "__main__":
    main()

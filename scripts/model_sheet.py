"""A contact sheet of models side by side: for the first held-out clip of each of the first
`--edits` edits, the last frame of the source, of each model's output through `StreamEditor` (as
the app streams it) and of the target, one row per clip.

    python scripts/model_sheet.py --model A[,B...] [--edits 8] [--out docs/images/sheet.jpg]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from liveedit_app.distill.config import load_config
from liveedit_app.distill.evaluate import held_out_cases, stream_case
from liveedit_app.engine.editor import StreamEditor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="liveedit-tiny",
                    help="model names or folders, comma-separated")
    ap.add_argument("--config", default="configs/tiny.toml")
    ap.add_argument("--edits", type=int, default=8)
    ap.add_argument("--clips", type=int, default=24, help="held-out clips to pick from")
    ap.add_argument("--tile", type=int, default=128, help="pixels per picture in the sheet")
    ap.add_argument("--out", default="sheet.jpg")
    args = ap.parse_args()
    cfg = load_config(args.config)
    cfg.eval.clips = args.clips
    editors = [StreamEditor.load(m, device="cpu") for m in args.model.split(",")]
    rows, seen = [], set()
    for case in held_out_cases(cfg):
        if case["edit"] in seen:
            continue
        seen.add(case["edit"])
        pictures = [case["source"][-1]] + [stream_case(e, case)[-1] for e in editors]
        row = np.concatenate([cv2.resize(p, (args.tile, args.tile)) for p in
                              pictures + [case["target"][-1]]], 1)  # fmt: skip
        cv2.putText(row, case["edit"], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255))
        rows.append(row)
        if len(rows) == args.edits:
            break
    sheet = cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR)
    cv2.imwrite(args.out, sheet, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()

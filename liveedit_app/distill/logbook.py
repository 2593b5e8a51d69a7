"""Training logs: one JSON line per logged step, a console line, and loss curves as PNG."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path


class Logbook:
    """Writes `<folder>/<stage>.jsonl` and `<stage>.png`; a no-op on ranks other than 0."""

    def __init__(self, folder: str | Path, stage: str, enabled: bool = True) -> None:
        self.folder = Path(folder)
        self.stage = stage
        self.enabled = enabled
        self.path = self.folder / f"{stage}.jsonl"
        self.began = time.perf_counter()
        if enabled:
            self.folder.mkdir(parents=True, exist_ok=True)

    def log(self, step: int, **values: float) -> None:
        if not self.enabled:
            return
        row = {"step": step, "time": round(time.perf_counter() - self.began, 2)}
        row.update({k: float(v) for k, v in values.items()})
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        print(f"[{self.stage}] step {step} {shown} ({row['time']:.0f}s)", flush=True)

    def say(self, message: str) -> None:
        """A console line about the stage (rank 0 only)."""
        if self.enabled:
            print(f"[{self.stage}] {message}", flush=True)

    def rows(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def plot(self) -> Path | None:
        """Every logged value against the step, one panel each, into `<stage>.png`."""
        rows = self.rows()
        if not self.enabled or not rows:
            return None
        try:
            import matplotlib
        except ImportError:  # a training machine without it: the curves stay in the jsonl
            return None
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        keys = [k for k in rows[0] if k not in ("step", "time")]
        cols = min(3, len(keys))
        nrows = math.ceil(len(keys) / cols)
        fig, axes = plt.subplots(nrows, cols, figsize=(4.5 * cols, 3 * nrows), squeeze=False)
        steps = [r["step"] for r in rows]
        for ax, key in zip(axes.flat, keys, strict=False):
            ax.plot(steps, [r.get(key, math.nan) for r in rows], lw=1)
            ax.set_title(key)
            ax.set_xlabel("step")
            if key.startswith("loss") and all(r.get(key, 1) > 0 for r in rows):
                ax.set_yscale("log")
        for ax in list(axes.flat)[len(keys):]:
            ax.axis("off")
        fig.suptitle(self.stage)
        fig.tight_layout()
        out = self.folder / f"{self.stage}.png"
        fig.savefig(out, dpi=80)
        plt.close(fig)
        return out

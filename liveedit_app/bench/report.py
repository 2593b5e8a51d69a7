"""The HTML report of a benchmark run: tables, matplotlib plots and frame strips, all inside one
file (PNGs embedded as base64) so it opens offline and can be mailed around."""

from __future__ import annotations

import base64
import html
import io

import cv2
import numpy as np
from matplotlib.figure import Figure

STRIP_FRAMES = 4
STRIP_HEIGHT = 80  # px of one frame in a strip; keeps a report at a few hundred KB
STRIP_LEVELS = 64  # grey levels per channel kept in strips: sensor noise costs PNG bytes
LABEL_HEIGHT = 16  # px of the text band above each strip row

# summary key -> (heading, unit, True when higher is better)
QUALITY_COLUMNS = {
    "target_psnr": ("fidelity PSNR", "dB", True),
    "target_ssim": ("fidelity SSIM", "", True),
    "outside_psnr": ("preservation PSNR", "dB", True),
    "instability": ("temporal instability", "×", False),
    "instruction_accuracy": ("instruction accuracy", "", True),
    "background_consistency": ("background consistency", "", True),
    "dynamic_degree": ("dynamic degree", "", None),
    "motion_score": ("motion", "px", None),
    "fps": ("frames/s", "", True),
}
SPEED_COLUMNS = {
    "fps": ("frames/s", True),
    "chunk_latency_p50_ms": ("chunk p50 ms", False),
    "chunk_latency_p95_ms": ("chunk p95 ms", False),
    "first_frame_ms": ("first frame ms", False),
    "first_frame_cold_ms": ("first frame, cold, ms", False),
    "load_s": ("load s", False),
    "peak_memory_mb": ("peak memory MB", False),
    "recompute_share": ("tokens recomputed", False),
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: bold; }
.note { color: #666; font-size: 0.9em; }
img { max-width: 100%; }
"""


def render(data: dict, strips: dict[str, dict[str, np.ndarray]] | None = None) -> str:
    """The whole report of a `quality` or `speed` run as one HTML page."""
    if data["kind"] == "speed":
        title, body = "LiveEdit benchmark: speed", _speed_body(data)
    else:
        title, body = "LiveEdit benchmark: quality", _quality_body(data, strips or {})
    settings = "".join(
        f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
        for k, v in data.get("settings", {}).items()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f"<ul class='note'>{settings}</ul>{body}"
        "<p class='note'>Every metric is defined in docs/benchmark.md.</p></body></html>"
    )


def _quality_body(data: dict, strips: dict[str, dict[str, np.ndarray]]) -> str:
    variants = data["variants"]
    ran = [v for v in variants if not v["skipped"]]
    parts = [f"<p>{len(data['cases'])} clips, {len(ran)} editors.</p>", "<h2>Summary</h2>"]
    parts.append(_quality_table(ran))
    for variant in variants:
        if variant["skipped"]:
            parts.append(
                f"<p class='note'>Not run: <b>{html.escape(variant['label'])}</b>: "
                f"{html.escape(variant['skipped'])}</p>"
            )
    if ran:
        parts.append(_img(_summary_plot(ran), "summary plot"))
        parts.append("<h2>By edit</h2>")
        parts.append(_by_edit_table(data["cases"], ran))
        parts.append("<h2>Per clip</h2>")
        parts.append(_img(_per_case_plot(data["cases"], ran), "per-clip plot"))
    labels = {v["name"]: v["label"] for v in variants}
    instructions = {c["name"]: c["instruction"] for c in data["cases"]}
    if strips:
        parts.append("<h2>Frame strips</h2>")
    for case_name, clips in strips.items():
        parts.append(f"<h3>{html.escape(case_name)}: “{html.escape(instructions[case_name])}”</h3>")
        parts.append(_img(_strip_png(clips, labels), f"frames of {case_name}"))
    return "".join(parts)


def _quality_table(variants: list[dict]) -> str:
    keys = [k for k in QUALITY_COLUMNS if any(v["summary"].get(k) is not None for v in variants)]
    head = ""
    for key in keys:
        heading, unit, higher_is_better = QUALITY_COLUMNS[key]
        head += f"<th>{heading}{f' ({unit})' if unit else ''}{_arrow(higher_is_better)}</th>"
    rows = []
    for variant in variants:
        summary = variant["summary"]
        reference = variant.get("reference", False)  # a yardstick, never "best"
        cells = "".join(
            _cell(summary.get(k), None if reference else _best(variants, k, QUALITY_COLUMNS[k][2]))
            for k in keys
        )
        rows.append(f"<tr><td>{html.escape(variant['label'])}</td>{cells}</tr>")
    return f"<table><tr><th>editor</th>{head}</tr>{''.join(rows)}</table>"


def _by_edit_table(cases: list[dict], variants: list[dict]) -> str:
    """Fidelity PSNR per edit and editor, with how many of its clips were the right edit."""
    keys = list(dict.fromkeys(c["edit_key"] for c in cases))
    head = "".join(f"<th>{html.escape(v['label'])}</th>" for v in variants)
    rows = []
    for key in keys:
        cells = ""
        for variant in variants:
            mine = [r for r, c in zip(variant["cases"], cases, strict=True) if c["edit_key"] == key]
            psnrs = [r["target_psnr"] for r in mine if r["target_psnr"] is not None]
            right = [r["right_edit"] for r in mine if r["right_edit"] is not None]
            text = f"{np.mean(psnrs):.1f} dB" if psnrs else "–"
            text += f" ({sum(right)}/{len(right)} right)" if right else ""
            cells += f"<td>{text}</td>"
        rows.append(f"<tr><td>{html.escape(key)}</td>{cells}</tr>")
    return (
        "<p class='note'>Fidelity PSNR to the target, and in brackets how many clips were "
        f"nearest to a target of this edit.</p><table><tr><th>edit</th>{head}</tr>"
        f"{''.join(rows)}</table>"
    )


def _speed_body(data: dict) -> str:
    rows = data["rows"]
    clip = data["clip"]
    parts = [
        f"<p>Clip: {clip['frames']} frames, “{html.escape(clip['instruction'])}”. Memory: "
        "process peak RSS on the CPU, torch.cuda.max_memory_allocated on a GPU.</p>"
    ]
    head = "".join(f"<th>{label}{_arrow(up)}</th>" for label, up in SPEED_COLUMNS.values())
    body = []
    for row in rows:
        cells = "".join(_cell(row.get(k)) for k in SPEED_COLUMNS)
        name = f"{row['model']} · {row['device']} · {row['mode']}"
        body.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    parts.append(f"<table><tr><th>model · device · mode</th>{head}</tr>{''.join(body)}</table>")
    if rows:
        parts.append(_img(_speed_plot(rows), "speed plot"))
    return "".join(parts)


def _arrow(higher_is_better: bool | None) -> str:
    return {True: " ↑", False: " ↓", None: ""}[higher_is_better]


def _best(variants: list[dict], key: str, higher_is_better: bool | None) -> float | None:
    values = [v["summary"].get(key) for v in variants if not v.get("reference", False)]
    values = [x for x in values if x is not None]
    if higher_is_better is None or not values:
        return None
    return max(values) if higher_is_better else min(values)


def _cell(value, best: float | None = None) -> str:
    if value is None:
        return "<td>–</td>"
    css = " class='best'" if best is not None and value == best else ""
    return f"<td{css}>{value:.3g}</td>" if abs(value) < 1000 else f"<td{css}>{value:.0f}</td>"


def _summary_plot(variants: list[dict]) -> Figure:
    """One small bar chart per metric, five to a row, one colour per editor."""
    keys = [k for k in QUALITY_COLUMNS if any(v["summary"].get(k) is not None for v in variants)]
    columns = min(5, len(keys))
    rows = -(-len(keys) // columns)
    figure = Figure(figsize=(2.3 * columns, 2.0 * rows + 0.5), dpi=80, layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    colours = [f"C{i}" for i in range(len(variants))]
    for ax, key in zip(axes, keys, strict=False):
        values = [v["summary"].get(key) or 0.0 for v in variants]
        ax.bar(range(len(variants)), values, color=colours)
        ax.set_title(QUALITY_COLUMNS[key][0] + _arrow(QUALITY_COLUMNS[key][2]), fontsize=8)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    for ax in axes[len(keys) :]:
        ax.set_axis_off()
    handles = [
        axes[0].bar([0], [0], color=c, label=v["label"])
        for c, v in zip(colours, variants, strict=True)
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7)
    return figure


def _per_case_plot(cases: list[dict], variants: list[dict]) -> Figure:
    """One panel per metric, clips along x (named), one marker per editor: no lines, since
    neighbouring clips have nothing to do with each other."""
    keys = ["target_psnr", "outside_psnr", "instability"]
    keys = [k for k in keys if any(r[k] is not None for v in variants for r in v["cases"])]
    width = max(7.0, 0.3 * len(cases) + 2.0)
    figure = Figure(figsize=(width, 2.4 * max(1, len(keys)) + 0.8), dpi=80, layout="constrained")
    axes = figure.subplots(max(1, len(keys)), 1, squeeze=False, sharex=True)[:, 0]
    x = np.arange(len(cases))
    offsets = np.linspace(-0.25, 0.25, len(variants)) if len(variants) > 1 else [0.0]
    for ax, key in zip(axes, keys, strict=False):
        for i, (variant, dx) in enumerate(zip(variants, offsets, strict=True)):
            values = [np.nan if r[key] is None else r[key] for r in variant["cases"]]
            ax.plot(x + dx, values, "o", ms=4, color=f"C{i}", label=variant["label"])
        ax.set_title(QUALITY_COLUMNS[key][0] + _arrow(QUALITY_COLUMNS[key][2]), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(x, [c["name"] for c in cases], rotation=60, ha="right", fontsize=6)
    figure.legend(
        *axes[0].get_legend_handles_labels(),
        loc="outside upper center",
        fontsize=7,
        ncols=min(3, len(variants)),
    )
    return figure


def _speed_plot(rows: list[dict]) -> Figure:
    names = [f"{r['model']}\n{r['device']}\n{r['mode']}" for r in rows]
    figure = Figure(figsize=(max(5, 1.6 * len(rows)), 3), dpi=80, layout="constrained")
    fps_ax, latency_ax = figure.subplots(1, 2)
    fps_ax.bar(names, [r["fps"] for r in rows], color="C0")
    fps_ax.set_title("frames/s ↑", fontsize=8)
    x = np.arange(len(rows))
    latency_ax.bar(x - 0.2, [r["chunk_latency_p50_ms"] for r in rows], 0.4, label="p50")
    latency_ax.bar(x + 0.2, [r["chunk_latency_p95_ms"] for r in rows], 0.4, label="p95")
    latency_ax.set_xticks(x, names)
    latency_ax.set_title("chunk latency, ms ↓", fontsize=8)
    latency_ax.legend(fontsize=7)
    for ax in (fps_ax, latency_ax):
        ax.tick_params(labelsize=6)
    return figure


def _strip_png(clips: dict[str, np.ndarray], labels: dict[str, str]) -> bytes:
    """Rows source / each editor / target, STRIP_FRAMES evenly spaced frames across, each row
    under a band with its label. The identity baseline is left out: it is the source row."""
    order = ["source"] + [k for k in clips if k not in ("source", "target", "identity")]
    order += ["target"] if "target" in clips else []
    length = len(clips["source"])
    picks = np.unique(np.linspace(0, length - 1, min(STRIP_FRAMES, length)).round().astype(int))
    height, width = clips["source"].shape[1:3]
    row_height = min(STRIP_HEIGHT, height)  # never enlarge: it only adds bytes
    size = (max(1, round(width * row_height / height)), row_height)
    bands = []
    for key in order:
        row = np.concatenate(
            [cv2.resize(clips[key][i], size, interpolation=cv2.INTER_AREA) for i in picks], axis=1
        )
        band = np.full((LABEL_HEIGHT, row.shape[1], 3), 255, np.uint8)
        label = labels.get(key, key).encode("ascii", "replace").decode("ascii")
        cv2.putText(band, label, (4, LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0))
        bands += [band, row]
    step = 256 // STRIP_LEVELS
    strip = cv2.cvtColor(np.concatenate(bands) // step * step, cv2.COLOR_RGB2BGR)
    return cv2.imencode(".png", strip, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tobytes()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _img(figure_or_png: Figure | bytes, alt: str) -> str:
    png = figure_or_png if isinstance(figure_or_png, bytes) else _png(figure_or_png)
    encoded = base64.b64encode(png).decode("ascii")
    return f"<p><img alt='{html.escape(alt)}' src='data:image/png;base64,{encoded}'></p>"

import base64
import re

from bench_doubles import PaintEditor

from liveedit_app.bench.quality import run_quality
from liveedit_app.bench.report import render
from liveedit_app.bench.speed import SpeedTarget, run_speed
from liveedit_app.bench.variants import identity_variant, skipped_variant, streaming_variant


def embedded_pngs(page):
    found = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    return [base64.b64decode(data) for data in found]


def test_a_quality_report_is_one_offline_page_with_plots_strips_and_reasons(colour_cases):
    variants = [
        identity_variant(),
        streaming_variant("paint", "paint editor", PaintEditor()),
        skipped_variant("teacher", "bidirectional teacher", "no teacher checkpoint"),
    ]
    result = run_quality(colour_cases, variants, strip_cases=2, settings={"model": "double"})
    page = render(result.data, result.strips)
    pngs = embedded_pngs(page)
    assert len(pngs) == 2 + 2  # summary and per-clip plots, then one strip per kept case
    assert all(png.startswith(b"\x89PNG") for png in pngs)
    assert "http" not in page.replace("<!doctype html>", "")  # nothing to fetch
    assert page.count("<tr>") == (1 + 2) + (1 + 3)  # summary: editors; by edit: 3 colours
    assert "<td>red</td><td>9.5 dB (0/1 right)</td><td>100.0 dB (1/1 right)</td>" in page
    assert "Not run: <b>bidirectional teacher</b>: no teacher checkpoint" in page
    assert "make the box red" in page and "model: double" in page
    assert len(page) < 300_000


def test_a_speed_report_has_one_row_per_configuration(colour_cases):
    targets = [SpeedTarget("double", "cpu", mode, PaintEditor) for mode in ("on", "off")]
    data = run_speed(targets, colour_cases[0], warmup_frames=2)
    page = render(data)
    assert page.count("<tr>") == 1 + 2
    assert "double · cpu · off" in page
    assert len(embedded_pngs(page)) == 1

import pytest
from bench_doubles import PaintEditor

from liveedit_app.bench.speed import SpeedTarget, peak_memory_mb, reset_peak_memory, run_speed


def test_a_speed_row_holds_rates_latencies_memory_and_the_recomputed_share(colour_cases):
    loads = []

    def load():
        loads.append(1)
        return PaintEditor(chunk=2)

    target = SpeedTarget("double", "cpu", "on", load)
    data = run_speed([target], colour_cases[0], warmup_frames=2, repeats=2)
    (row,) = data["rows"]
    assert loads == [1]
    assert row["frames"] == 6 and row["chunks"] == 3 and row["repeats"] == 2
    assert len(row["fps_each"]) == 2 and min(row["fps_each"]) <= row["fps"]
    assert row["fps"] > 0
    assert 0 < row["chunk_latency_p50_ms"] <= row["chunk_latency_p95_ms"]
    assert row["first_frame_ms"] > 0 and row["first_frame_cold_ms"] > 0
    assert row["recompute_share"] == 0.25
    assert row["memory_kind"] == "process peak RSS"
    assert data["clip"] == {"name": "red-0", "instruction": "make the box red", "frames": 6}


def test_peak_memory_sees_a_large_allocation_made_after_the_reset():
    reset_peak_memory("cpu")
    before = peak_memory_mb("cpu")
    block = bytearray(200 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    assert peak_memory_mb("cpu") - before == pytest.approx(200, abs=30)

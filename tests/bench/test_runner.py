import numpy as np
import pytest
from bench_doubles import PaintEditor, colour_case

from liveedit_app.bench.runner import stream_clip
from liveedit_app.errors import BenchmarkError


def test_a_stream_returns_every_frame_in_order_with_one_latency_per_chunk():
    case = colour_case("green", frames=5)
    run = stream_clip(PaintEditor(chunk=2), case)
    assert (run.frames == case.target).all()
    assert len(run.chunk_latencies_s) == 3  # 2 + 2 pushed, 1 flushed
    assert 0 < run.first_frame_s <= run.wall_s
    assert run.recompute_share == 0.25


def test_each_frame_alone_resets_the_editor_before_every_frame():
    editor = PaintEditor(chunk=4)
    run = stream_clip(editor, colour_case("blue", frames=5), each_frame_alone=True)
    assert editor.resets == 5
    assert len(run.chunk_latencies_s) == 5


def test_an_editor_that_loses_frames_is_a_benchmark_error():
    class Lossy(PaintEditor):
        def flush(self):
            return super().flush()[:1]

    with pytest.raises(BenchmarkError, match="returned 3 of 6 frames of red-0"):
        stream_clip(Lossy(chunk=2), colour_case("red"))


def test_the_mask_is_set_again_only_when_it_changes():
    case = colour_case("red", frames=4)
    case.mask[2:] = np.roll(case.mask[2:], 3, axis=2)
    calls = []

    class Counting(PaintEditor):
        def set_mask(self, mask):
            calls.append(mask)
            super().set_mask(mask)

    stream_clip(Counting(), case)
    assert len(calls) == 2

import json

import av
import cv2
import numpy as np
import pytest
from bench_doubles import box_mask, moving_texture, paint

from liveedit_app.bench.folder import load_folder
from liveedit_app.errors import BenchmarkError


def write_video(path, clip, fps=8):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=fps)  # lossless, so pixels can be pinned
        stream.width, stream.height = clip.shape[2], clip.shape[1]
        stream.pix_fmt = "bgr0"
        for rgb in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())


def write_image(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.fixture
def folder(tmp_path):
    """clips/a.mkv with a PNG mask and a video target; b.png, a still with no mask or target."""
    (tmp_path / "clips").mkdir()
    source = moving_texture(frames=5, size=32)
    mask = box_mask(frames=5, size=32)
    write_video(tmp_path / "clips" / "a.mkv", source)
    write_video(tmp_path / "clips" / "a_red.mkv", paint(source, mask, "red"))
    write_image(tmp_path / "clips" / "a_mask.png", (mask[0, ..., None] * 255).repeat(3, -1))
    write_image(tmp_path / "b.png", source[0])
    entries = [
        {
            "instruction": "make the box red",
            "source_path": "clips/a.mkv",
            "mask_path": "clips/a_mask.png",
            "target_path": "clips/a_red.mkv",
        },
        {"instruction": "  Make it Night ", "source_path": "b.png"},
    ]
    (tmp_path / "bench.json").write_text(json.dumps(entries))
    return tmp_path


def test_a_folder_gives_one_case_per_entry_with_paths_relative_to_its_json(folder):
    video, still = load_folder(folder)
    assert video.name == "a" and video.instruction == "make the box red"
    assert video.source.shape == (5, 32, 32, 3)
    assert (video.source == moving_texture(frames=5, size=32)).all()
    assert (video.target == paint(video.source, box_mask(5, 32), "red")).all()
    assert video.mask.shape == (5, 32, 32) and (video.edit_region == box_mask(5, 32)).all()
    assert still.source.shape == (1, 32, 32, 3)
    assert still.mask is None and still.target is None
    assert still.instruction == "Make it Night" and still.edit_key == "make it night"


def test_the_json_file_itself_can_be_given_and_edited_path_is_read_as_the_target(folder):
    entries = json.loads((folder / "bench.json").read_text())
    entries[0]["edited_path"] = entries[0].pop("target_path")
    (folder / "reference.json").write_text(json.dumps(entries[:1]))
    (case,) = load_folder(folder / "reference.json")
    assert case.target is not None


def test_max_side_shrinks_source_mask_and_target_alike(folder):
    video, _ = load_folder(folder, max_side=16, max_frames=3)
    assert video.source.shape == (3, 16, 16, 3)
    assert video.target.shape == (3, 16, 16, 3)
    assert video.mask.shape == (3, 16, 16)


def error_of(path):
    with pytest.raises(BenchmarkError) as info:
        load_folder(path)
    return info.value.message


def test_a_missing_folder_is_named(tmp_path):
    assert (
        error_of(tmp_path / "nope")
        == f"There is no benchmark folder or file at {tmp_path / 'nope'}."
    )


def test_a_folder_without_a_description_says_what_to_add(tmp_path):
    assert "has no .json file describing its clips. Add bench.json" in error_of(tmp_path)


def test_a_folder_with_several_descriptions_asks_which(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    (tmp_path / "y.json").write_text("[]")
    assert "several .json files (x.json, y.json)" in error_of(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"instruction": "a",', "bench.json is not valid JSON (line 1, column"),
        ('{"instruction": "a"}', "bench.json must hold a non-empty list of clips"),
        ("[]", "bench.json must hold a non-empty list of clips"),
        ('["a.mp4"]', "Entry 1 of bench.json is not an object"),
        ('[{"source_path": "a.mp4"}]', 'Entry 1 of bench.json needs a "instruction" text.'),
        ('[{"instruction": "a", "source_path": ""}]', 'needs a "source_path" text.'),
        ('[{"instruction": "a", "source_path": "a.mp4", "mask_path": 3}]', '"mask_path" must be'),
        ('[{"instruction": "a", "source_path": "gone.mp4"}]', "the source file gone.mp4 does not"),
    ],
)
def test_bad_descriptions_are_explained(tmp_path, text, message):
    (tmp_path / "bench.json").write_text(text)
    assert message in error_of(tmp_path)


def test_a_damaged_video_names_its_entry(folder):
    (folder / "clips" / "a.mkv").write_bytes(b"not a video at all" * 10)
    message = error_of(folder)
    assert message.startswith("Entry 1 of bench.json: a.mkv is not a video LiveEdit can read")


def test_an_unreadable_image_names_its_entry_and_role(folder):
    (folder / "clips" / "a_mask.png").write_bytes(b"garbage")
    assert error_of(folder) == "Entry 1 of bench.json: the mask image a_mask.png cannot be read."


def test_a_description_that_is_not_text_is_explained(tmp_path):
    (tmp_path / "bench.json").write_bytes(np.arange(256, dtype=np.uint8).tobytes())
    assert "bench.json is not a text file" in error_of(tmp_path)


def test_several_edits_of_one_clip_get_distinct_names(folder):
    entries = json.loads((folder / "bench.json").read_text())
    second = dict(entries[0], instruction="make the box blue")
    (folder / "bench.json").write_text(json.dumps([entries[0], second]))
    assert [case.name for case in load_folder(folder)] == ["a", "a-2"]

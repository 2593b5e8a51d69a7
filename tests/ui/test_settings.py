"""Settings: saved under the user's config folder, typed, and forgiving of a damaged file."""

import json

from liveedit_app import paths
from liveedit_app.settings import PROMPT_HISTORY_LIMIT, Settings, with_prompt


def test_settings_round_trip_in_the_config_folder():
    s = Settings(source="/videos/dance.mp4", preview_mode="wipe", brush_size=80.0,
                 prompt_history=["make it snow"], device="cpu")
    s.set("audio_offset_ms", 120.0)
    s.save()
    assert (paths.config_dir() / "settings.json").is_file()
    loaded = Settings.load()
    assert loaded == s
    assert loaded.get("audio_offset_ms", 0.0) == 120.0


def test_a_damaged_file_gives_defaults():
    Settings.path().write_text("{ not json")
    assert Settings.load() == Settings()
    Settings.path().write_text("[1, 2]")
    assert Settings.load() == Settings()


def test_wrong_types_and_ranges_keep_the_default_for_that_key_only():
    Settings.path().write_text(json.dumps({
        "brush_size": "big", "preview_mode": "fisheye", "device": "tpu", "seed": 5,
        "overlay_opacity": 3.0, "track_mask": 1, "prompt_history": ["a", 7, "b"],
    }))
    s = Settings.load()
    assert s.brush_size == Settings().brush_size
    assert s.preview_mode == "side_by_side" and s.device == "auto"
    assert s.seed == 5
    assert s.overlay_opacity == 1.0
    assert s.track_mask is True  # 1 is not a bool
    assert s.prompt_history == ["a", "b"]


def test_other_parts_keys_come_back_with_the_type_asked_for():
    s = Settings()
    s.set("audio_offset_ms", "soon")
    assert s.get("audio_offset_ms", 0.0) == 0.0
    s.set("audio_offset_ms", 40)
    assert s.get("audio_offset_ms", 0.0) == 40
    assert s.get("never_set", "x") == "x"


def test_prompt_history_is_newest_first_without_repeats():
    history = with_prompt(["a", "b", "c"], " b ")
    assert history == ["b", "a", "c"]
    assert with_prompt(history, "") == history
    long = [str(i) for i in range(PROMPT_HISTORY_LIMIT)]
    assert len(with_prompt(long, "new")) == PROMPT_HISTORY_LIMIT

import json
import logging
import zipfile
from pathlib import Path

import pytest

from liveedit_app import diagnostics, logs, paths
from liveedit_app.cli import main
from liveedit_app.settings import Settings


@pytest.fixture
def creator_home(qapp, tmp_path, monkeypatch):
    """A home folder holding the app's folders, a recording and a private file beside them.
    (`qapp` first: listing cameras would otherwise create a QCoreApplication, and no widget test
    could run after it in this process.)"""
    home = tmp_path / "alice"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LIVEEDIT_HOME", str(home / ".liveedit"))
    (home / "private").mkdir(parents=True)
    (home / "private" / "diary.txt").write_text("secret")
    yield home
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._AppFileHandler)]:
        root.removeHandler(handler)
        handler.close()


def _members(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        return {name: zf.read(name).decode() for name in zf.namelist()}


def test_zip_holds_logs_reports_settings_and_system_info_only(creator_home):
    logs.setup_logging()
    logging.getLogger("liveedit_app.test").info("opened %s", creator_home / "private" / "talk.mp4")
    try:
        raise RuntimeError("deliberate")
    except RuntimeError as err:
        report = logs.write_crash_report((RuntimeError, err, err.__traceback__))
    Settings(prompt="make it night time").save()
    (paths.recordings_dir() / "take-1.mp4").write_bytes(b"\0" * 1000)
    (paths.user_models_dir() / "big").mkdir()
    (paths.user_models_dir() / "big" / "model.json").write_text('{"name": "big"}')
    (paths.user_models_dir() / "big" / "weights.safetensors").write_bytes(b"\0" * 1000)

    members = _members(diagnostics.collect_diagnostics())

    assert set(members) == {
        "system.json",
        "logs/liveedit.log",
        f"logs/{report.name}",
        "settings/settings.json",
    }
    assert "make it night time" in members["settings/settings.json"]
    assert "RuntimeError: deliberate" in members[f"logs/{report.name}"]
    for name, text in members.items():
        assert str(creator_home) not in text, name
        assert "private" not in text and "secret" not in text, name
    assert "opened ~/…/talk.mp4" in members["logs/liveedit.log"]


def test_system_info_names_versions_device_models_and_own_folders(creator_home):
    (paths.user_models_dir() / "big").mkdir()
    (paths.user_models_dir() / "big" / "model.json").write_text('{"name": "big"}')
    info = json.loads(_members(diagnostics.collect_diagnostics())["system.json"])
    for dist in ("torch", "PySide6-Essentials", "av", "opencv-python-headless", "numpy"):
        assert info["versions"][dist] not in ("", "not installed"), dist
    assert info["compute_device"]["kind"] == "cpu"
    assert info["cuda_available"] is False
    assert info["cpu"]["cores"] >= 1
    assert info["cameras"] == []
    assert {"name": "big", "where": "user", "megabytes": 0.0} in info["models"]
    assert info["folders"]["logs"] == "~/.liveedit/log"
    assert info["folders"]["recordings"] == "~/.liveedit/videos/LiveEdit"


def test_paths_outside_the_app_folders_keep_only_their_file_name(creator_home):
    text = f"read {creator_home}/Videos/holiday/clip.mp4, wrote {paths.log_dir()}/liveedit.log"
    assert diagnostics.scrub(text) == "read ~/…/clip.mp4, wrote ~/.liveedit/log/liveedit.log"


def test_diagnostics_command_writes_the_zip_where_asked(creator_home, tmp_path, capsys):
    target = tmp_path / "bug-report.zip"
    assert main(["diagnostics", "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert {"system.json", "logs/liveedit.log"} <= set(_members(target))


def test_diagnostics_into_a_missing_folder_says_so_without_a_crash_report(
    creator_home, tmp_path, capsys
):
    assert main(["diagnostics", "-o", str(tmp_path / "nowhere" / "bug.zip")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "unexpected error" not in err
    assert not list(paths.log_dir().glob("crash-*"))


def test_diagnostics_into_a_folder_writes_the_zip_inside_it(creator_home, tmp_path, capsys):
    assert main(["diagnostics", "-o", str(tmp_path)]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written.parent == tmp_path and written.suffix == ".zip"
    assert "system.json" in _members(written)


@pytest.mark.parametrize(("where", "kept"), [
    ("My Videos/holiday 2026/clip.mp4", "clip.mp4"),
    ("Videos\\Summer trip\\take.mov", "take.mov"),
    ("clip.mp4", "clip.mp4"),
])
def test_folder_names_with_spaces_are_scrubbed_too(creator_home, where, kept):
    sep = "\\" if "\\" in where else "/"
    text = f'could not open "{creator_home}{sep}{where}" and {creator_home}/b.mp4; retrying'
    assert diagnostics.scrub(text) == f'could not open "~/…/{kept}" and ~/…/b.mp4; retrying'

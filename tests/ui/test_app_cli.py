"""`liveedit sources` and `liveedit app` on the command line."""

from liveedit_app.cli import build_parser, main
from liveedit_app.media.camera import CameraInfo


def test_sources_says_clearly_when_there_is_no_camera(capsys, monkeypatch):
    monkeypatch.setattr("liveedit_app.media.camera.list_cameras", lambda: [])
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No camera found.")
    assert "--source pattern" in out


def test_sources_lists_cameras_by_stable_id(capsys, monkeypatch):
    cams = [CameraInfo("/dev/video2", "USB Cam", [(1920, 1080), (640, 480)], True)]
    monkeypatch.setattr("liveedit_app.media.camera.list_cameras", lambda: cams)
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "camera:/dev/video2  USB Cam  (default)" in out
    assert "1920x1080, 640x480" in out
    assert main(["sources", "--json"]) == 0
    assert '"id": "/dev/video2"' in capsys.readouterr().out


def test_app_command_takes_source_model_and_device():
    args = build_parser().parse_args(["app", "--source", "camera:0", "--model", "m",
                                      "--device", "cpu"])
    assert (args.source, args.model, args.device) == ("camera:0", "m", "cpu")


def test_no_arguments_opens_the_window(monkeypatch):
    calls = []
    monkeypatch.setattr("liveedit_app.ui.app.run_app",
                        lambda **kw: calls.append(kw) or 0)
    assert main([]) == 0
    assert calls == [{"source": None, "model": None, "device": None, "quit_after": None}]

"""The window's side of first run, crashes and diagnostics (ui/support.py), on a window that is
built but not started (no editor, no camera)."""

import os
import subprocess
import sys
import threading
import zipfile

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QPushButton

from liveedit_app import paths
from liveedit_app.settings import Settings
from liveedit_app.ui import welcome
from liveedit_app.ui.crash import CrashDialog
from liveedit_app.ui.support import HELP_ACTIONS, attach_support
from liveedit_app.ui.welcome import WelcomeDialog


class NoCamera:
    def list_cameras(self):
        return []

    def describe(self, camera_id):
        return camera_id


@pytest.fixture
def make_window(qtbot, monkeypatch):
    from liveedit_app.ui.main_window import MainWindow

    monkeypatch.setattr(welcome, "list_cameras", lambda: [])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)

    def make():
        win = MainWindow(
            Settings.load(), editor_factory=lambda n, d: None, camera_backend=NoCamera(), models=[]
        )
        qtbot.addWidget(win)
        win.show()
        attach_support(win)
        return win

    return make


def _welcome(win):
    return [d for d in win.findChildren(WelcomeDialog) if d.isVisible()]


def test_welcome_page_opens_on_the_first_start_only(make_window):
    first = make_window()
    assert len(_welcome(first)) == 1
    first.close()
    second = make_window()
    assert _welcome(second) == []
    second.actions["welcome"].trigger()  # Help -> Welcome opens it again
    assert len(_welcome(second)) == 1


def test_help_menu_offers_welcome_diagnostics_and_logs_and_the_app_has_its_icon(make_window):
    win = make_window()
    assert not win.windowIcon().isNull()
    assert win.windowIcon().pixmap(32, 32).width() == 32
    help_menu = next(a.menu() for a in win.menuBar().actions() if "Help" in a.text())
    names = [a.objectName() for a in help_menu.actions()]
    assert [n for n in names if n in HELP_ACTIONS] == list(HELP_ACTIONS)


def test_a_first_prompt_picked_on_the_welcome_page_becomes_the_prompt(make_window):
    win = make_window()
    (page,) = _welcome(win)
    page.findChildren(QPushButton, "promptButton")[1].click()
    assert win.edit.prompt == page.first_prompts[1]


def test_collect_diagnostics_saves_the_zip_and_says_where(qtbot, make_window):
    win = make_window()
    win.actions["collect_diagnostics"].trigger()
    box = win.findChild(QMessageBox, "diagnosticsSaved")
    assert box is not None and box.isVisible()
    assert box.path.parent == paths.data_dir() / "diagnostics"
    assert "system.json" in zipfile.ZipFile(box.path).namelist()
    assert str(box.path) in box.informativeText()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_the_window_shows_the_crash_dialog_over_it(qtbot, make_window):
    win = make_window()

    def fail():
        raise KeyError("deliberate")

    QTimer.singleShot(0, fail)
    qtbot.waitUntil(lambda: win.crash_reporter.dialog is not None)
    dialog = win.crash_reporter.dialog
    assert isinstance(dialog, CrashDialog) and dialog.parent() is win
    assert "KeyError: 'deliberate'" in dialog.text()
    assert win.crash_reporter.reports[0].is_file()


def test_the_window_command_opens_offscreen_welcomes_once_and_quits_by_itself(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [
        sys.executable,
        "-m",
        "liveedit_app",
        "app",
        "--source",
        "pattern",
        "--quit-after",
        "1",
    ]
    for _ in range(2):
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    log = (paths.log_dir() / "liveedit.log").read_text()
    assert log.count("main window shown") == 2
    assert log.count("first-run page shown") == 1
    assert Settings.load().get(welcome.SEEN_KEY, False) is True
    assert list(paths.log_dir().glob("crash-*.txt")) == []

import logging
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import QTimer

from liveedit_app import logs, paths
from liveedit_app.ui.crash import CrashDialog, install_crash_dialog


@pytest.fixture
def restore_hooks(monkeypatch):
    """Whatever a test installs as exception hook or log handler is gone after it."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def test_setup_logging_writes_to_the_log_folder_and_is_idempotent(restore_hooks):
    path = logs.setup_logging()
    logs.setup_logging()
    logging.getLogger("liveedit_app.test").info("hello from the test")
    assert path == paths.log_dir() / "liveedit.log"
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._AppFileHandler)]
    assert len(ours) == 1
    assert ours[0].maxBytes == logs.LOG_MAX_BYTES and ours[0].backupCount == logs.LOG_BACKUPS
    text = path.read_text()
    assert "hello from the test" in text and "liveedit 0.1.0" in text


def test_log_file_rotates_past_its_size_limit(restore_hooks, monkeypatch):
    monkeypatch.setattr(logs, "LOG_MAX_BYTES", 2_000)
    logs.setup_logging()
    for i in range(200):
        logging.getLogger("liveedit_app.test").info("line %d %s", i, "x" * 40)
    names = sorted(p.name for p in paths.log_dir().glob("liveedit.log*"))
    assert names == [
        "liveedit.log",
        "liveedit.log.1",
        "liveedit.log.2",
        "liveedit.log.3",
        "liveedit.log.4",
    ]
    assert all(p.stat().st_size <= 2_100 for p in paths.log_dir().glob("liveedit.log*"))


def test_headless_crash_prints_one_sentence_and_saves_a_report(tmp_path):
    code = "from liveedit_app import logs; logs.setup_logging(); raise RuntimeError('deliberate')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith(
        "liveedit stopped because of an unexpected error "
        "(RuntimeError: deliberate). A report was saved to "
    )
    assert "Traceback" not in run.stderr
    reports = list(paths.log_dir().glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in run.stderr
    report = reports[0].read_text()
    assert "Traceback (most recent call last)" in report and "RuntimeError: deliberate" in report
    assert "uncaught exception" in (paths.log_dir() / "liveedit.log").read_text()


def test_setup_logging_leaves_a_foreign_exception_hook_in_place(restore_hooks):
    def foreign(*exc_info):
        pass

    sys.excepthook = foreign
    logs.setup_logging()
    assert sys.excepthook is foreign


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_opens_the_dialog_and_saves_a_report(qtbot, restore_hooks):
    logs.setup_logging()
    reporter = install_crash_dialog()

    def fail():
        raise ValueError("deliberate failure in a slot")

    QTimer.singleShot(0, fail)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    dialog = reporter.dialog
    assert isinstance(dialog, CrashDialog)
    assert "ValueError: deliberate failure in a slot" in dialog.text()
    assert "Traceback (most recent call last)" in dialog.detailedText()
    assert [p.parent for p in reporter.reports] == [paths.log_dir()]
    assert str(reporter.reports[0]) in dialog.informativeText()
    assert "deliberate failure in a slot" in reporter.reports[0].read_text()
    texts = {b.text() for b in dialog.buttons()}
    assert {"Open report folder", "Show Details...", "Close"} <= texts


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_worker_thread_reaches_the_dialog_once(qtbot, restore_hooks):
    logs.setup_logging()
    reporter = install_crash_dialog()
    worker = threading.Thread(target=lambda: 1 / 0, name="inference")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    assert "ZeroDivisionError" in reporter.dialog.text()
    assert "thread: inference" in reporter.reports[0].read_text()
    # a second failure while the dialog is open is logged, not stacked into another dialog
    first = reporter.dialog
    worker = threading.Thread(target=lambda: 1 / 0, name="inference")
    worker.start()
    worker.join()
    qtbot.wait(50)
    assert reporter.dialog is first and len(reporter.reports) == 1
    assert (paths.log_dir() / "liveedit.log").read_text().count("dialog already open") == 1

import pytest

pytest.importorskip("PySide6")

from liveedit_app.modelstore.store import ModelStore  # noqa: E402
from liveedit_app.ui.models_dialog import ModelsDialog  # noqa: E402


@pytest.fixture
def dialog(qtbot, tmp_path, make_model):
    store = ModelStore(user_dir=tmp_path / "user", shipped_dir=tmp_path / "shipped")
    make_model(store.shipped_dir / "tiny", name="liveedit-tiny")
    dlg = ModelsDialog(store)
    qtbot.addWidget(dlg)
    return dlg


def _cells(dlg, row):
    return [dlg.table.item(row, c).text() for c in range(dlg.table.columnCount())]


def test_the_table_shows_size_vram_and_speed_of_each_model(dialog):
    assert dialog.table.rowCount() == 1
    name, source, size, vram, speed = _cells(dialog, 0)
    assert (name, source, vram, speed) == ("liveedit-tiny", "shipped", "9.5 GB",
                                           "41.5 fps on H100")  # fmt: skip
    assert size.endswith("MB")


def test_install_from_a_folder_then_verify_then_remove(dialog, qtbot, tmp_path, make_model):
    src = make_model(tmp_path / "src", name="wan-test")
    dialog.install_folder(src)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert "Installed wan-test" in dialog.status.text()
    assert [_cells(dialog, r)[:2] for r in range(2)] == [["wan-test", "user"],
                                                        ["liveedit-tiny", "shipped"]]  # fmt: skip
    dialog.select("liveedit-tiny")
    assert not dialog.remove_button.isEnabled()  # shipped models stay
    dialog.select("wan-test")
    assert dialog.remove_button.isEnabled()
    dialog.verify_selected()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert "all 2 files are intact" in dialog.status.text()
    dialog.confirm = lambda name: name == "wan-test"
    dialog.remove_selected()
    assert dialog.table.rowCount() == 1 and "Removed wan-test" in dialog.status.text()


def test_a_failed_download_says_why_with_details(dialog, qtbot):
    dialog.download("owner/wan-test", endpoint="http://127.0.0.1:9")
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert "Could not reach the model server" in dialog.status.text()
    assert dialog.last_error is not None and "127.0.0.1:9" in dialog.last_error.details
    assert dialog.details_button.isVisibleTo(dialog)


def test_the_main_window_gets_a_models_action_before_quit(qtbot, tmp_path):
    from PySide6.QtWidgets import QMainWindow

    from liveedit_app.ui.models_dialog import attach_models_action

    window = QMainWindow()
    qtbot.addWidget(window)
    menu = window.menuBar().addMenu("&File")
    menu.addAction("&Open…")
    menu.addAction("&Quit")
    action = attach_models_action(window)
    assert [a.text() for a in menu.actions()] == ["&Open…", "&Models…", "&Quit"]
    action.trigger()
    assert isinstance(window.models_dialog, ModelsDialog) and window.models_dialog.isVisible()

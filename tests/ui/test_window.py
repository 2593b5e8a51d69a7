"""The main window: every preview mode, every command an action with a shortcut, one error area,
the no-model banner, a clean close while the worker runs, and settings that survive a restart."""

import numpy as np
import pytest
from conftest import FakeCamera, FakeEditor
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from liveedit_app.errors import ModelNotFoundError
from liveedit_app.settings import PREVIEW_MODES, Settings
from liveedit_app.ui.actions import COMMANDS
from liveedit_app.ui.main_window import MainWindow
from liveedit_app.ui.session import NO_MODEL


def wait_for_edited(qtbot, win, after=0):
    qtbot.waitUntil(lambda: win.preview.edited is not None and win.preview.edited.index > after,
                    timeout=8000)


@pytest.mark.parametrize("mode", PREVIEW_MODES)
def test_window_opens_in_each_preview_mode(qtbot, mode, fake_editor):
    Settings(preview_mode=mode).save()
    win = MainWindow(editor_factory=lambda n, d: fake_editor, camera_backend=FakeCamera(),
                     models=[])
    qtbot.addWidget(win)
    win.show()
    win.start("pattern")
    wait_for_edited(qtbot, win)
    assert win.view.mode == mode
    assert win.actions[f"mode_{mode}"].isChecked()
    assert len(win.preview.picture_rects()) == (2 if mode == "side_by_side" else 1)
    image = win.preview.grab().toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    assert centre.lightness() > 20  # a picture is drawn, not the empty background
    win.close()


def test_every_command_is_an_action_with_its_own_shortcut(window):
    shortcuts = [window.actions[c.name].shortcut().toString() for c in COMMANDS]
    assert all(shortcuts)
    assert len(set(shortcuts)) == len(shortcuts)
    assert set(window.actions) == {c.name for c in COMMANDS}


def test_mode_shortcuts_switch_the_preview(qtbot, window):
    QTest.keyClick(window, Qt.Key.Key_4)
    assert window.view.mode == "wipe"
    QTest.keyClick(window, Qt.Key.Key_1)
    assert window.view.mode == "edited"


def test_edited_pictures_reach_the_preview(qtbot, window, fake_editor):
    wait_for_edited(qtbot, window)
    out = window.preview.edited
    np.testing.assert_array_equal(out.rgb, 255 - out.source)  # the double inverts everything
    assert window.status_state.model_loaded
    assert window.status_state.banner == ""
    qtbot.waitUntil(lambda: window.status_state.source_fps > 5, timeout=5000)
    assert window.status.labels["device"].text() == "fake"
    qtbot.waitUntil(lambda: window.status.labels["edit_fps"].text() == "Not editing",
                    timeout=5000)  # no prompt yet: the editor hands back the source
    window.prompt_dock.prompt.setEditText("make the jacket red")
    window.actions["apply_prompt"].trigger()
    qtbot.waitUntil(lambda: window.status.labels["edit_fps"].text().startswith("Edit "),
                    timeout=5000)


def test_prompt_typed_in_the_dock_reaches_the_editor(qtbot, window, fake_editor):
    dock = window.prompt_dock
    dock.prompt.setEditText("make the jacket red")
    window.actions["apply_prompt"].trigger()
    qtbot.waitUntil(lambda: "make the jacket red" in fake_editor.prompt_at_push, timeout=5000)
    assert window.edit.history[0] == "make the jacket red"
    assert dock.prompt.itemText(0) == "make the jacket red"


def test_presets_are_the_chosen_models_own_prompts(qtbot, window, fake_editor):
    from liveedit_app.modelstore.store import ModelStore
    from liveedit_app.ui.editor_factory import WHOLE_PROMPTS

    presets = window.prompt_dock.presets
    card = ModelStore().get("liveedit-tiny").card
    window.edit.model = "liveedit-tiny"
    items = [presets.itemText(i) for i in range(presets.count())]
    assert items[1:1 + len(card.whole_prompts)] == list(card.whole_prompts)
    region = items.index(f"{card.region_prompts[0]}  (paint it first)")
    presets.activated.emit(region)
    assert window.edit.prompt == card.region_prompts[0]  # without the hint
    qtbot.waitUntil(lambda: card.region_prompts[0] in fake_editor.prompt_at_push, timeout=5000)
    assert presets.currentIndex() == 0
    window.edit.model = "a-model-without-a-card"
    assert presets.itemText(1) == WHOLE_PROMPTS[0]


def test_painting_in_the_window_reaches_the_editor(qtbot, window, fake_editor):
    window.edit.track_mask = False
    window.view.mode = "edited"
    wait_for_edited(qtbot, window)
    rect = window.preview.picture_rects()[0]
    y = int(rect.center().y())
    QTest.mousePress(window.preview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(rect.x() + 20), y))
    QTest.mouseMove(window.preview, QPoint(int(rect.right() - 20), y))
    QTest.mouseRelease(window.preview, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, QPoint(int(rect.right() - 20), y))
    qtbot.waitUntil(lambda: any(m is not None for m in fake_editor.masks), timeout=3000)
    sent = [m for m in fake_editor.masks if m is not None][-1]
    assert sent.shape == (360, 640)
    assert sent[180, 320] == 1.0 and sent[20, 320] == 0.0


def test_missing_model_shows_one_short_error_and_the_source_unedited(qtbot):
    def missing(name, device):
        raise ModelNotFoundError(f"No installed model is called '{name}'.",
                                 details="looked in /somewhere")

    win = MainWindow(editor_factory=missing, camera_backend=FakeCamera(), models=[])
    qtbot.addWidget(win)
    win.show()
    win.start("pattern")
    qtbot.waitUntil(lambda: win.errors.isVisible(), timeout=5000)
    assert win.errors.label.text() == "No installed model is called 'liveedit-tiny'."
    assert win.errors.error.details == "looked in /somewhere"
    assert win.errors.details_button.isVisible()
    qtbot.waitUntil(lambda: win.status_state.banner == NO_MODEL, timeout=5000)
    wait_for_edited(qtbot, win)
    np.testing.assert_array_equal(win.preview.edited.rgb, win.preview.edited.source)
    assert win.status.labels["device"].text() == "no model"
    with qtbot.waitSignal(win.worker.stats_changed, timeout=5000) as stats:
        pass
    assert stats.args[0].edit_fps > 0 and not stats.args[0].editing  # frames pass through
    assert win.status.labels["edit_fps"].text() == "Not editing"
    win.close()


def test_close_while_a_slow_editor_works_exits_cleanly(qtbot):
    editor = FakeEditor(delay_s=0.4)
    win = MainWindow(editor_factory=lambda n, d: editor, camera_backend=FakeCamera(), models=[])
    qtbot.addWidget(win)
    win.show()
    win.start("pattern")
    qtbot.waitUntil(lambda: bool(editor.pushed), timeout=5000)
    win.close()
    assert not win.worker.isRunning()
    assert win.session._pump is None


def test_settings_survive_a_restart(qtbot, fake_editor):
    first = MainWindow(editor_factory=lambda n, d: fake_editor, camera_backend=FakeCamera(),
                       models=[])
    qtbot.addWidget(first)
    first.show()
    first.start("pattern")
    first.view.mode = "wipe"
    first.brush.size = 80.0
    first.brush.hardness = 0.25
    first.edit.device = "cpu"
    first.prompt_dock.prompt.setEditText("make it snow")
    first.prompt_dock.apply()
    first.view.overlay_opacity = 0.7
    first.close()

    second = MainWindow(editor_factory=lambda n, d: fake_editor, camera_backend=FakeCamera(),
                        models=[])
    qtbot.addWidget(second)
    assert second.view.mode == "wipe" and second.actions["mode_wipe"].isChecked()
    assert second.brush.size == 80.0 and second.mask_dock.size.value() == 80.0
    assert second.brush.hardness == 0.25
    assert second.edit.device == "cpu" and second.prompt_dock.device.currentText() == "cpu"
    assert second.edit.prompt == "make it snow"
    assert second.edit.history[0] == "make it snow"
    assert second.view.overlay_opacity == 0.7
    assert second.settings.source == "pattern"
    assert second.settings.window_state  # dock layout saved
    second.close()


def test_source_picker_offers_pattern_cameras_and_files(qtbot, window):
    items = [window.source_picker.itemText(i) for i in range(window.source_picker.count())]
    assert items[0] == "Test pattern"
    assert "Fake Cam (64×48)" in items
    assert items[-1] == "Open file…"
    window.source_picker.activated.emit(items.index("Fake Cam (64×48)"))
    qtbot.waitUntil(lambda: window.session.spec == "camera:usb-1", timeout=3000)
    qtbot.waitUntil(lambda: window.preview.source_rgb is not None
                    and window.preview.source_rgb.shape == (48, 64, 3), timeout=5000)


def test_cameras_plugged_in_later_appear_in_the_picker(qtbot):
    camera = FakeCamera(present=False)
    win = MainWindow(editor_factory=lambda n, d: FakeEditor(), camera_backend=camera, models=[])
    qtbot.addWidget(win)
    items = lambda: [win.source_picker.itemText(i)  # noqa: E731
                     for i in range(win.source_picker.count())]
    assert "No camera found" in items()
    camera.plug(True)
    assert "Fake Cam (64×48)" in items() and "No camera found" not in items()
    assert win.source_picker.currentText() == "Test pattern"  # the choice stays
    win.close()


def test_snapshot_action_saves_a_png(qtbot, window, tmp_path):
    wait_for_edited(qtbot, window)
    window.actions["snapshot"].trigger()
    from liveedit_app import paths

    assert len(list(paths.recordings_dir().glob("snapshot-*.png"))) == 1


def test_theme_switches_between_dark_and_light(qtbot, window):
    from PySide6.QtWidgets import QApplication

    window.actions["toggle_theme"].trigger()
    assert window.view.theme == "light"
    assert "light theme" in QApplication.instance().styleSheet()
    window.actions["toggle_theme"].trigger()
    assert "dark theme" in QApplication.instance().styleSheet()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_disabled_controls_read_dimmer_than_enabled_ones(qtbot, theme):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from liveedit_app.ui.theme import apply_theme

    app = QApplication.instance()
    apply_theme(app, theme)
    pal = app.palette()
    window = pal.color(QPalette.ColorRole.Window).lightnessF()
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        on = pal.color(QPalette.ColorGroup.Active, role).lightnessF()
        off = pal.color(QPalette.ColorGroup.Disabled, role).lightnessF()
        assert abs(off - window) < 0.6 * abs(on - window)  # closer to the background
    apply_theme(app, "dark")

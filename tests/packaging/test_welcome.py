from PySide6.QtWidgets import QComboBox, QLabel, QPushButton

from liveedit_app import paths
from liveedit_app.diagnostics import ComputeDevice
from liveedit_app.media.camera import CameraInfo
from liveedit_app.modelstore.store import ModelStore
from liveedit_app.settings import Settings
from liveedit_app.ui import welcome
from liveedit_app.ui.editor_factory import WHOLE_PROMPTS
from liveedit_app.ui.welcome import WelcomeDialog, maybe_show_welcome

CPU = ComputeDevice("cpu", "Test CPU", "the processor does the work")


def test_first_run_page_appears_once(qtbot, monkeypatch):
    monkeypatch.setattr(welcome, "list_cameras", lambda: [])
    first = maybe_show_welcome(None, Settings.load())
    assert first is not None
    qtbot.addWidget(first)
    assert first.isVisible()
    # the next start reads the flag back from the settings file
    assert maybe_show_welcome(None, Settings.load()) is None
    assert Settings.load().get(welcome.SEEN_KEY, False) is True


def test_without_a_camera_the_page_offers_the_test_pattern(qtbot):
    dialog = WelcomeDialog(cameras=[], device=CPU)
    qtbot.addWidget(dialog)
    assert dialog.findChild(QComboBox) is None
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "No camera found" in texts
    with qtbot.waitSignal(dialog.source_chosen) as picked:
        dialog.findChild(QPushButton, "usePatternButton").click()
    assert picked.args == ["pattern"]


def test_cameras_are_listed_and_the_default_one_is_preselected(qtbot):
    cameras = [CameraInfo("/dev/video0", "Built-in"), CameraInfo("usb-1", "Desk cam", [], True)]
    dialog = WelcomeDialog(cameras=cameras, device=CPU)
    qtbot.addWidget(dialog)
    combo = dialog.findChild(QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Built-in", "Desk cam"]
    assert combo.currentText() == "Desk cam"
    with qtbot.waitSignal(dialog.source_chosen) as picked:
        dialog.findChild(QPushButton, "useCameraButton").click()
    assert picked.args == ["camera:usb-1"]


def test_page_names_the_device_the_model_and_suggests_a_prompt(qtbot):
    dialog = WelcomeDialog(model_name="no-such-model", cameras=[], device=CPU)
    qtbot.addWidget(dialog)
    assert "CPU" in dialog.findChild(QLabel, "deviceLabel").text()
    assert "not installed" in dialog.findChild(QLabel, "modelLabel").text()
    prompts = dialog.findChildren(QPushButton, "promptButton")
    # a model with no card of its own gets the general prompts
    assert dialog.first_prompts == WHOLE_PROMPTS[:welcome.FIRST_PROMPTS]
    assert [b.text() for b in prompts] == [f"“{p}”" for p in dialog.first_prompts]
    with qtbot.waitSignal(dialog.prompt_chosen) as chosen:
        prompts[0].click()
    assert chosen.args == [WHOLE_PROMPTS[0]]


def test_the_page_offers_the_models_own_best_prompts_from_its_card(qtbot):
    dialog = WelcomeDialog(model_name="liveedit-tiny", cameras=[], device=CPU)
    qtbot.addWidget(dialog)
    card = ModelStore().get("liveedit-tiny").card
    assert dialog.first_prompts == card.whole_prompts[:3]
    assert "make it night time" in dialog.first_prompts  # its best edits, measured
    assert "make it a cartoon" not in dialog.first_prompts  # one it does badly
    assert f"such as “{card.region_prompts[0]}”" in "".join(
        label.text() for label in dialog.findChildren(QLabel))


def test_installed_model_is_described_from_its_card():
    card = paths.user_models_dir() / "my-model" / "model.json"
    card.parent.mkdir()
    card.write_text(
        '{"name": "my-model", "description": "the small default editor", "speed": {"fps": 12.4}}'
    )
    assert welcome.model_summary("my-model") == (
        "my-model: the small default editor. Measured: 12.4 fps."
    )
    card.write_text('{"name": "my-model", "speed": {"fps": 40.1, "device": "H100"}}')
    assert welcome.model_summary("my-model") == "my-model. Measured: 40.1 fps on H100."


def test_every_line_and_button_of_the_page_is_shown_at_full_height(qtbot):
    dialog = WelcomeDialog(cameras=[], device=CPU)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    squashed = [
        w.text()
        for w in dialog.findChildren(QLabel) + dialog.findChildren(QPushButton)
        if w.height() < (w.heightForWidth(w.width()) if w.hasHeightForWidth()
                         else w.sizeHint().height())
    ]
    assert squashed == []

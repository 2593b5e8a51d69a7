"""The main window: the preview in the middle, the mask and prompt docks, the toolbar with the
source picker, the status bar, and the one error area above the preview.

The window builds the state objects from the saved settings, hands them to a `Session` and binds
widgets to them; on close it stops the session and saves the settings. Parts owned elsewhere
attach here: the recorder connects to `session.worker.edited` and `actions["record"]` and sets
`status.recording_s`; any part reports a problem with `errors.show_error(err)`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QMainWindow,
    QToolBar,
    QWidget,
)

from liveedit_app.errors import LiveEditError
from liveedit_app.media.camera import CameraBackend, default_backend
from liveedit_app.media.sources import CAMERA_PREFIX, PATTERN
from liveedit_app.settings import Settings
from liveedit_app.ui.actions import create_actions
from liveedit_app.ui.bind import bind_check
from liveedit_app.ui.editor_factory import installed_models, load_editor
from liveedit_app.ui.error_bar import ErrorBar
from liveedit_app.ui.mask_dock import MaskDock
from liveedit_app.ui.preview import PreviewWidget
from liveedit_app.ui.prompt_dock import PromptDock
from liveedit_app.ui.session import Session
from liveedit_app.ui.state import MaskDocument, StreamStatus, load_states, store_states
from liveedit_app.ui.status_bar import StatusBar
from liveedit_app.ui.theme import apply_theme
from liveedit_app.ui.worker import EditorFactory

MODES = ("edited", "source", "side_by_side", "wipe")
_OPEN_FILE = "__open__"
MEDIA_FILTER = ("Videos and pictures (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.png *.jpg *.jpeg "
                "*.bmp *.webp);;All files (*)")


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings | None = None,
        editor_factory: EditorFactory = load_editor,
        camera_backend: CameraBackend | None = None,
        models: list[str] | None = None,
    ):
        super().__init__()
        self.setWindowTitle("LiveEdit Studio")
        self.settings = settings or Settings.load()
        self.view, self.brush, self.edit = load_states(self.settings)
        self.status_state = StreamStatus()
        self.mask = MaskDocument()
        self.camera_backend = camera_backend or default_backend()
        self.session = Session(self.view, self.brush, self.edit, self.mask, self.status_state,
                               editor_factory=editor_factory, camera_backend=self.camera_backend,
                               loop_video=self.settings.loop_video, parent=self)
        self.worker = self.session.worker
        self.actions = create_actions(self)

        self.preview = PreviewWidget(self.view, self.brush, self.mask, self.status_state)
        self.errors = ErrorBar()
        central = QWidget()
        layout = QGridLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        # the error line floats over the top of the preview: showing it never moves the picture
        # (or the stroke being painted on it)
        layout.addWidget(self.preview, 0, 0)
        layout.addWidget(self.errors, 0, 0, Qt.AlignmentFlag.AlignTop)
        self.setCentralWidget(central)

        self.mask_dock = MaskDock(self.brush, self.edit, self.view, self.actions)
        self.prompt_dock = PromptDock(self.edit, self.actions,
                                      installed_models() if models is None else models)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.prompt_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.mask_dock)
        self.status = StatusBar(self.status_state)
        self.setStatusBar(self.status)
        self._build_toolbar()
        self._build_menus()
        self._connect()
        self._restore_layout()

    # -- building ----------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.source_picker = QComboBox()
        self.source_picker.setObjectName("sourcePicker")
        self.source_picker.setMinimumContentsLength(18)
        self.source_picker.setToolTip("Where pictures come from")
        self.source_picker.activated.connect(self._on_source_picked)
        bar.addWidget(self.source_picker)
        for name in ("play_pause", "record", "snapshot"):
            bar.addAction(self.actions[name])
        bar.addSeparator()
        for name in MODES:
            bar.addAction(self.actions[f"mode_{name}"])
        bar.addSeparator()
        bar.addAction(self.actions["toggle_overlay"])
        self.addToolBar(bar)
        self.toolbar = bar
        self._fill_source_picker()
        watch = getattr(self.camera_backend, "watch", None)  # optional for stand-in backends
        if watch is not None:
            watch(self._fill_source_picker)

    def _build_menus(self) -> None:
        menus = {
            "&File": ("open_file", "use_pattern", "refresh_sources", None, "play_pause", "record",
                      "snapshot", None, "quit"),
            "&View": tuple(f"mode_{m}" for m in MODES) + (None, "toggle_overlay", "toggle_theme"),
            "&Mask": ("brush", "eraser", "brush_bigger", "brush_smaller", None, "invert_mask",
                      "clear_mask", "track_mask"),
            "&Edit": ("focus_prompt", "apply_prompt", "pause_editing"),
            "&Help": ("error_details",),
        }
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions[name])
        view_menu = self.menuBar().actions()[1].menu()
        view_menu.addSeparator()
        view_menu.addAction(self.prompt_dock.toggleViewAction())
        view_menu.addAction(self.mask_dock.toggleViewAction())

    def _connect(self) -> None:
        a, s = self.actions, self.session
        modes = QActionGroup(self)
        for mode in MODES:
            action = a[f"mode_{mode}"]
            modes.addAction(action)
            action.triggered.connect(lambda _=False, m=mode: setattr(self.view, "mode", m))
        self.view.changed.connect(self._on_view_changed)
        self._on_view_changed("mode")
        tools = QActionGroup(self)
        tools.addAction(a["brush"])
        tools.addAction(a["eraser"])
        a["brush"].setChecked(not self.brush.eraser)
        a["eraser"].setChecked(self.brush.eraser)
        a["eraser"].toggled.connect(lambda on: setattr(self.brush, "eraser", on))
        self.brush.changed.connect(self._on_brush_changed)
        a["brush_bigger"].triggered.connect(lambda: self._scale_brush(1.25))
        a["brush_smaller"].triggered.connect(lambda: self._scale_brush(0.8))
        a["invert_mask"].triggered.connect(self.mask.invert)
        a["clear_mask"].triggered.connect(self.mask.clear)
        bind_check(self.view, "overlay_visible", a["toggle_overlay"])
        bind_check(self.edit, "track_mask", a["track_mask"])
        bind_check(self.edit, "paused", a["pause_editing"])
        a["toggle_theme"].setChecked(self.view.theme == "light")
        a["toggle_theme"].toggled.connect(
            lambda light: setattr(self.view, "theme", "light" if light else "dark"))
        a["apply_prompt"].triggered.connect(self.prompt_dock.apply)
        a["focus_prompt"].triggered.connect(self._focus_prompt)
        a["play_pause"].setChecked(True)
        a["play_pause"].toggled.connect(s.set_playing)
        self.status_state.changed.connect(self._on_status_changed)
        a["snapshot"].triggered.connect(self.snapshot)
        a["open_file"].triggered.connect(self.open_file)
        a["use_pattern"].triggered.connect(lambda: self.open_source(PATTERN))
        a["refresh_sources"].triggered.connect(self._fill_source_picker)
        a["error_details"].triggered.connect(self.errors.show_details)
        a["quit"].triggered.connect(self.close)
        # the recorder enables this when it attaches (ui/recording*.py)
        a["record"].setEnabled(False)

        s.source_frame.connect(self.preview.show_source)
        s.display.connect(self.preview.show_edited)
        s.problem.connect(self.errors.show_error)
        s.problem_solved.connect(self.errors.dismiss)
        s.source_changed.connect(self._on_source_changed)

    def _restore_layout(self) -> None:
        geometry = QByteArray.fromBase64(self.settings.window_geometry.encode())
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        state = QByteArray.fromBase64(self.settings.window_state.encode())
        if not state.isEmpty():
            self.restoreState(state)

    # -- running -----------------------------------------------------------------------------

    def start(self, source: str | None = None) -> None:
        """Start the session on `source` (default: the last one used)."""
        self.session.start(source or self.settings.source)

    def open_source(self, spec: str) -> None:
        self.session.open(spec)

    def open_file(self) -> None:
        start = self.settings.source if Path(self.settings.source).exists() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or a picture", start,
                                              MEDIA_FILTER)
        if path:
            self.open_source(path)

    def snapshot(self) -> None:
        try:
            path = self.session.snapshot()
        except LiveEditError as err:
            self.errors.show_error(err)
            return
        self.status.showMessage(f"Saved {path.name} in {path.parent}", 5000)

    def closeEvent(self, event) -> None:
        store_states(self.settings, self.view, self.brush, self.edit)
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64()).decode()
        try:
            self.settings.save()
        except OSError as err:  # a read-only config folder must not keep the window open
            print(f"liveedit: settings not saved: {err}")
        self.hide()  # gone at once, even while a slow editor finishes its chunk
        self.session.shutdown()
        super().closeEvent(event)

    # -- reactions ---------------------------------------------------------------------------

    def _fill_source_picker(self) -> None:
        picker = self.source_picker
        picker.clear()
        picker.addItem("Test pattern", PATTERN)
        try:
            cameras = self.camera_backend.list_cameras()
        except LiveEditError as err:
            self.errors.show_error(err)
            cameras = []
        for cam in cameras:
            size = f" ({cam.resolutions[0][0]}×{cam.resolutions[0][1]})" if cam.resolutions else ""
            picker.addItem(f"{cam.name}{size}", f"{CAMERA_PREFIX}{cam.id}")
        if not cameras:
            picker.addItem("No camera found", None)
            picker.model().item(picker.count() - 1).setEnabled(False)
        spec = self.session.spec or self.settings.source
        if spec and spec != PATTERN and not spec.startswith(CAMERA_PREFIX):
            picker.addItem(Path(spec).name, spec)
        picker.addItem("Open file…", _OPEN_FILE)
        self._select_source(spec)

    def _select_source(self, spec: str) -> None:
        index = self.source_picker.findData(spec)
        if index < 0 and spec:
            index = self.source_picker.count() - 1  # before "Open file…"
            self.source_picker.insertItem(index, Path(spec).name, spec)
        self.source_picker.setCurrentIndex(max(index, 0))

    def _on_source_picked(self, index: int) -> None:
        spec = self.source_picker.itemData(index)
        if spec == _OPEN_FILE:
            self._select_source(self.session.spec)
            self.open_file()
        elif spec:
            self.open_source(spec)

    def _on_source_changed(self, spec: str) -> None:
        self.settings.source = spec
        self._select_source(spec)

    def _on_view_changed(self, name: str) -> None:
        if name == "mode":
            self.actions[f"mode_{self.view.mode}"].setChecked(True)
        elif name == "theme":
            app = QApplication.instance()
            if app is not None:
                apply_theme(app, self.view.theme)

    def _on_brush_changed(self, name: str) -> None:
        if name == "eraser":
            self.actions["eraser" if self.brush.eraser else "brush"].setChecked(True)

    def _on_status_changed(self, name: str) -> None:
        if name == "playing":
            self.actions["play_pause"].setChecked(self.status_state.playing)

    def _scale_brush(self, factor: float) -> None:
        self.brush.size = float(min(max(self.brush.size * factor, 2.0), 400.0))

    def _focus_prompt(self) -> None:
        self.prompt_dock.raise_()
        self.prompt_dock.prompt.setFocus()
        self.prompt_dock.prompt.lineEdit().selectAll()

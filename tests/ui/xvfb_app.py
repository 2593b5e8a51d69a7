"""Run by test_real_window.py in a child process on an Xvfb display: the real app on the test
pattern, a stroke drawn with pointer events on the real window, a screenshot of the X screen, and
the colours found along the stroke and beside it, as JSON.

    python tests/ui/xvfb_app.py SCREENSHOT.png RESULT.json [PROMPT]
"""

import json
import sys
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from liveedit_app.settings import Settings
from liveedit_app.ui.app import create_application
from liveedit_app.ui.main_window import MainWindow
from liveedit_app.ui.theme import apply_theme


def wait(app, seconds, until=lambda: False):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.01)


def is_overlay(color) -> bool:
    """The magenta overlay at 85 % over anything in the pattern."""
    return color.red() > 190 and color.green() < 90 and color.blue() > 100


def main(shot_path: str, result_path: str, prompt: str = "") -> None:
    app = create_application()
    settings = Settings(preview_mode="side_by_side", overlay_opacity=0.85, track_mask=False,
                        prompt=prompt)
    apply_theme(app, settings.theme)
    window = MainWindow(settings)  # the real editor factory, as `liveedit` runs it
    screen = app.primaryScreen().availableGeometry()
    window.resize(int(screen.width() * 0.97), int(screen.height() * 0.95))
    window.show()
    window.start("pattern")
    wait(app, 10, lambda: window.preview.source_rgb is not None
         and window.windowHandle().isExposed())
    wait(app, 30, lambda: not window.status_state.loading)
    wait(app, 0.5)
    preview = window.preview
    left = preview.picture_rects()[0]
    y = int(left.center().y())
    start, end = QPoint(int(left.x() + left.width() * 0.15), y), QPoint(int(left.right() - 30), y)
    QTest.mouseMove(preview, start)
    QTest.mousePress(preview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 21):
        QTest.mouseMove(preview, QPoint(start.x() + (end.x() - start.x()) * i // 20, y))
        wait(app, 0.02)
    QTest.mouseRelease(preview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    wait(app, 4.0 if prompt else 1.0)  # an edit reaches the screen a chunk or two later
    shot = app.primaryScreen().grabWindow(0).toImage()  # in device pixels
    shot.save(shot_path)
    ratio = window.devicePixelRatioF()

    def share(dy: int, x0: int, x1: int) -> float:
        points = [preview.mapToGlobal(QPoint(x, y + dy)) * ratio for x in range(x0, x1, 2)]
        return sum(is_overlay(shot.pixelColor(p)) for p in points) / len(points)

    right = preview.picture_rects()[1]
    offset = int(right.x() - left.x())
    result = {
        "stroke": share(0, start.x() + 10, end.x() - 10),
        "beside_stroke": share(int(left.height() * 0.3), start.x() + 10, end.x() - 10),
        "stroke_on_edited_side": share(0, start.x() + 10 + offset, end.x() - 10 + offset),
        "banner": window.status_state.banner,
        "errors": window.errors.label.text() if window.errors.isVisible() else "",
        "screen": [shot.width(), shot.height()],
        "device_pixel_ratio": ratio,
    }
    window.close()
    with open(result_path, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])

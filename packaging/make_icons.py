"""Render the app icon (resources/icons/liveedit.svg) at the sizes desktops ask for.

    python packaging/make_icons.py

writes packaging/icons/hicolor/<n>x<n>/apps/liveedit.png (the freedesktop icon theme layout, for
Linux), liveedit.ico (Windows) and liveedit.icns (macOS), and the window's own PNGs next to the SVG
(resources/icons/liveedit-32.png, -256.png, for Qt builds without the SVG icon plugin). The
outputs are committed, so a bundle build needs no renderer; run this again after editing the SVG.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parent / "icons"
SOURCE = Path(__file__).resolve().parent.parent / "resources" / "icons" / "liveedit.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (painting needs one)
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SOURCE}")
    for size in SIZES:
        target = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "liveedit.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        render(renderer, size).save(str(target))
    # Qt writes one picture per .ico/.icns: 256 px is what Windows shows largest, 512 px macOS.
    render(renderer, 256).save(str(ICONS / "liveedit.ico"))
    render(renderer, 512).save(str(ICONS / "liveedit.icns"))
    for size in (32, 256):
        render(renderer, size).save(str(SOURCE.with_name(f"liveedit-{size}.png")))
    print(f"icons written under {ICONS}")


if __name__ == "__main__":
    main()

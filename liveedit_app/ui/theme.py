"""Dark and light themes: a Fusion palette for every widget plus a small style sheet from
`resources/themes/<name>.qss` for what a palette cannot say."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from liveedit_app import paths

_COLORS = {
    "dark": {
        QPalette.ColorRole.Window: "#1c1d21", QPalette.ColorRole.WindowText: "#e6e7ea",
        QPalette.ColorRole.Base: "#141518", QPalette.ColorRole.AlternateBase: "#202226",
        QPalette.ColorRole.Text: "#e6e7ea", QPalette.ColorRole.Button: "#2a2c31",
        QPalette.ColorRole.ButtonText: "#e6e7ea", QPalette.ColorRole.Highlight: "#4a78b5",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2a2c31",
        QPalette.ColorRole.ToolTipText: "#e6e7ea", QPalette.ColorRole.PlaceholderText: "#8a8d94",
    },
    "light": {
        QPalette.ColorRole.Window: "#f3f4f6", QPalette.ColorRole.WindowText: "#1d1f23",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#eceef1",
        QPalette.ColorRole.Text: "#1d1f23", QPalette.ColorRole.Button: "#e6e8ec",
        QPalette.ColorRole.ButtonText: "#1d1f23", QPalette.ColorRole.Highlight: "#3a6fb0",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1d1f23", QPalette.ColorRole.PlaceholderText: "#7a7d84",
    },
}


# text of disabled widgets and actions: `setColor(role, …)` above sets every colour group, which
# would make a disabled button read exactly like an enabled one
_DISABLED_TEXT = {"dark": "#6b6e75", "light": "#a3a6ac"}
_TEXT_ROLES = (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
               QPalette.ColorRole.ButtonText)


def apply_theme(app: QApplication, name: str) -> None:
    name = name if name in _COLORS else "dark"
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in _COLORS[name].items():
        palette.setColor(role, QColor(color))
    for role in _TEXT_ROLES:
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT[name]))
    app.setPalette(palette)
    sheet = paths.resources_dir() / "themes" / f"{name}.qss"
    app.setStyleSheet(sheet.read_text(encoding="utf-8") if sheet.is_file() else "")

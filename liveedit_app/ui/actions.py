"""Every command of the window as a named QAction with a shortcut, in one table.

The menus, the toolbar, the docks' buttons and the tests all reach a command through
`actions[name]`, so a shortcut or a label is changed in one place. Other parts connect to the
actions they own (the recorder to "record").
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    text: str
    shortcut: str
    tip: str
    checkable: bool = False


COMMANDS = (
    Command("open_file", "Open Video or Image…", "Ctrl+O", "Edit a video file or a picture"),
    Command("use_pattern", "Test Pattern", "Ctrl+T", "Use the moving test pattern"),
    Command("refresh_sources", "Refresh Cameras", "F5", "Look for cameras again"),
    Command("play_pause", "Play", "Space", "Pause or resume the source", checkable=True),
    Command("record", "Record", "Ctrl+R", "Record the edited video", checkable=True),
    Command("snapshot", "Snapshot", "F12", "Save the edited picture as a PNG"),
    Command("mode_edited", "Edited", "1", "Show the edited picture", checkable=True),
    Command("mode_source", "Source", "2", "Show the source picture", checkable=True),
    Command("mode_side_by_side", "Side by Side", "3", "Source and edited side by side",
            checkable=True),
    Command("mode_wipe", "Wipe", "4", "Drag a divider between source and edited",
            checkable=True),
    Command("toggle_overlay", "Show Mask", "M", "Show the painted mask over the picture",
            checkable=True),
    Command("brush", "Brush", "B", "Paint where the edit applies", checkable=True),
    Command("eraser", "Eraser", "E", "Erase from the mask", checkable=True),
    Command("brush_bigger", "Bigger Brush", "]", "Make the brush bigger"),
    Command("brush_smaller", "Smaller Brush", "[", "Make the brush smaller"),
    Command("invert_mask", "Invert Mask", "Ctrl+I", "Swap painted and unpainted"),
    Command("clear_mask", "Clear Mask", "Ctrl+Backspace", "Remove the mask: edit everything"),
    Command("track_mask", "Follow Subject", "T", "Move the mask along with the subject",
            checkable=True),
    Command("apply_prompt", "Apply Prompt", "Ctrl+Return", "Use the typed prompt now"),
    Command("focus_prompt", "Type a Prompt", "Ctrl+L", "Put the cursor in the prompt box"),
    Command("pause_editing", "Pause Editing", "Ctrl+P", "Show the source unedited for now",
            checkable=True),
    Command("toggle_theme", "Light Theme", "Ctrl+Shift+L", "Switch between dark and light",
            checkable=True),
    Command("error_details", "Error Details…", "Ctrl+E", "Show the full text of the last error"),
    Command("welcome", "Welcome…", "F1", "What this computer offers and how to start"),
    Command("collect_diagnostics", "Collect Diagnostics…", "Ctrl+Shift+D",
            "Save a zip of logs and system information for a bug report"),
    Command("open_log_folder", "Open Log Folder", "Ctrl+Shift+G",
            "Show the log files and crash reports"),
    Command("quit", "Quit", "Ctrl+Q", "Close LiveEdit Studio"),
)


def create_actions(parent: QWidget) -> dict[str, QAction]:
    actions = {}
    for command in COMMANDS:
        action = QAction(command.text, parent)
        action.setObjectName(command.name)
        action.setShortcut(QKeySequence(command.shortcut))
        action.setToolTip(f"{command.tip} ({command.shortcut})")
        action.setStatusTip(command.tip)
        action.setCheckable(command.checkable)
        parent.addAction(action)  # shortcuts work even when the action is in no menu
        actions[command.name] = action
    return actions

"""Two-way binding between a field of a state object and a widget (or a checkable action)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance

from liveedit_app.ui.state import State


def bind(
    state: State,
    name: str,
    widget_changed: SignalInstance,
    read: Callable[[], Any],
    write: Callable[[Any], None],
    to_state: Callable[[Any], Any] = lambda v: v,
    to_widget: Callable[[Any], Any] = lambda v: v,
) -> None:
    """Show `state.name` through `write`, and store what `read` gives whenever `widget_changed`
    fires. A value equal to the current one is not set again, so the two sides never ping-pong."""
    write(to_widget(getattr(state, name)))
    widget_changed.connect(lambda *_: setattr(state, name, to_state(read())))

    def follow(changed: str) -> None:
        if changed == name:
            value = to_widget(getattr(state, name))
            if read() != value:
                write(value)

    state.changed.connect(follow)


def bind_check(state: State, name: str, checkable) -> None:
    """A checkable QAction or button shows and sets a bool field."""
    bind(state, name, checkable.toggled, checkable.isChecked, checkable.setChecked, bool, bool)

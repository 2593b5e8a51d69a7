"""The window (PySide6): the only part of the app that imports Qt widgets.

Importing this package works around a PySide6 6.12 bug first: `SignalInstance.emit()` returns
`True` (or `False`) without taking a reference to it, so every signal emitted from Python takes one
reference away from `True`. After a few thousand emits (the worker emits several per video frame,
so about a minute of video) Python frees `True` and the process aborts with "bool_dealloc". On
Python 3.12+ `True` and `False` are immortal and nothing needs doing; on 3.11 they get a reference
count no run can use up (they live as long as the process anyway).
"""

import ctypes
import sys


def _pin_bools() -> None:
    if sys.version_info >= (3, 12):
        return
    for value in (True, False):
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40  # ob_refcnt is the first field


_pin_bools()

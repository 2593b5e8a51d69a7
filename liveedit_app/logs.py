"""Log files and crash reports under the user's log folder (`paths.log_dir()`).

`setup_logging()` is the one call every entry point makes (the command line and the window): it
sends all logging to a rotating `liveedit.log`, Python warnings included, and installs an
uncaught-exception hook that saves a crash report and says in one sentence where it is, instead of
the process vanishing with a traceback only a developer reads. The window replaces the printed
sentence by a dialog (`liveedit_app.ui.crash`), built on `write_crash_report` below.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType

from liveedit_app import __version__, paths
from liveedit_app.diagnostics import scrub

LOG_FILE_NAME = "liveedit.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 4  # liveedit.log + 4 rotated files: at most ~5 MB of logs
CRASH_PREFIX = "crash-"
_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


class _AppFileHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler this module owns, so a second setup replaces it instead of doubling it."""


class _ConsoleHandler(logging.StreamHandler):
    """Warnings and errors of the app itself, on stderr as before logging was set up. Looks up
    `sys.stderr` at each message, so a redirected stderr (tests, the window) is followed."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        # Uncaught exceptions get their own one-sentence message; the traceback stays in the file.
        # A windowed app on Windows or macOS has no stderr at all.
        return (
            sys.stderr is not None and getattr(record, "console", True) and super().filter(record)
        )


def setup_logging(level: int = logging.INFO) -> Path:
    """Log to a rotating file in the log folder and save a report on any uncaught exception.

    Safe to call more than once: a later call (e.g. after LIVEEDIT_HOME changed) moves the file
    handler to the current log folder. Returns the log file's path.
    """
    target = log_file()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _AppFileHandler)]:
        if Path(handler.baseFilename) == target:
            install_excepthook()
            return target
        root.removeHandler(handler)
        handler.close()
    handler = _AppFileHandler(
        target, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    # Without a console handler, our own warnings would only reach the file once one exists.
    if not any(isinstance(h, _ConsoleHandler) for h in logging.getLogger("liveedit_app").handlers):
        console = _ConsoleHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("liveedit: %(levelname)s: %(message)s"))
        logging.getLogger("liveedit_app").addHandler(console)
    logging.captureWarnings(True)
    install_excepthook()
    log.info(
        "liveedit %s, Python %s on %s, argv %s",
        __version__,
        platform.python_version(),
        platform.platform(),
        sys.argv[1:],
    )
    return target


def write_crash_report(exc_info: ExcInfo, thread_name: str | None = None) -> Path:
    """Save what a bug report needs about one uncaught exception; returns the file's path."""
    exc_type, exc, tb = exc_info
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = paths.log_dir()
    report = folder / f"{CRASH_PREFIX}{stamp}.txt"
    n = 1
    while report.exists():
        n += 1
        report = folder / f"{CRASH_PREFIX}{stamp}-{n}.txt"
    lines = [
        f"LiveEdit Studio {__version__} crash report",
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"platform: {platform.platform()}",
        f"thread: {thread_name or threading.current_thread().name}",
        f"command: liveedit {' '.join(sys.argv[1:])}",
        "",
        "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
        "",
    ]
    details = getattr(exc, "details", "")
    if details:
        lines += ["details:", str(details), ""]
    report.write_text(scrub("\n".join(lines)), encoding="utf-8")
    return report


def short_message(exc: BaseException) -> str:
    """One line a creator can read: our own message, else the exception's name and text."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def handle_uncaught(exc_info: ExcInfo, thread_name: str | None = None) -> Path | None:
    """Log the exception and save a report; returns the report path (None if it could not be
    written, e.g. a full disk: then the traceback is printed so nothing is lost)."""
    log.critical("uncaught exception", exc_info=exc_info, extra={"console": False})
    try:
        return write_crash_report(exc_info, thread_name)
    except OSError:
        traceback.print_exception(*exc_info)
        return None


def _print_sentence(exc: BaseException, report: Path | None) -> None:
    if sys.stderr is None:
        return
    where = f" A report was saved to {report}." if report else ""
    print(
        f"liveedit stopped because of an unexpected error ({short_message(exc)}).{where} "
        "Please attach it to a bug report.",
        file=sys.stderr,
    )


def _excepthook(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    _print_sentence(exc, handle_uncaught((exc_type, exc, tb)))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else None
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    _print_sentence(args.exc_value, handle_uncaught(exc_info, name))


def install_excepthook() -> None:
    """Uncaught exceptions, in the main thread or any other, end in a report, not only a
    traceback. A hook someone else installed (the window's dialog, a debugger, a test runner) is
    left in place."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _thread_excepthook

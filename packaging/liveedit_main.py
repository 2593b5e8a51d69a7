"""Entry point of the desktop bundle: the same `liveedit` command as the wheel's console script
(no arguments opens the window)."""

import multiprocessing
import sys

from liveedit_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app re-runs itself for worker processes
    sys.exit(main())

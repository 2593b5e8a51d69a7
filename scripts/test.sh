#!/usr/bin/env bash
# The test suite: lint, then pytest (Qt offscreen; the Xvfb test starts its own server).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES='qt.multimedia.*=false'
ruff check liveedit_app tests scripts
# pytest exits 5 when it collects nothing: that is a failure here too.
python -m pytest -q -p no:cacheprovider "$@"

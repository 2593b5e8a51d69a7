#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine: system libraries for Qt, a venv at .venv, the app.
#   scripts/setup.sh          the app
#   scripts/setup.sh --test   the app and the test tools (pytest, pytest-qt, ruff, Xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

apt_pkgs="python3-venv libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 libfontconfig1 libglib2.0-0
  fonts-dejavu-core libpulse0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
[ $want_tests = 1 ] && apt_pkgs="$apt_pkgs xvfb xauth"
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $apt_pkgs >/dev/null
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "LiveEdit Studio needs Python 3.11 or newer; python3 here is $(python3 -V 2>&1)." >&2
  exit 1
fi
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch 2.13.0 is the CPU build; the constraint keeps every other package from pulling CUDA torch.
echo "torch==2.13.0" > .venv/constraints.txt
pip install -q -c .venv/constraints.txt torch==2.13.0
extras="wan"
[ $want_tests = 1 ] && extras="wan,test"
pip install -q -c .venv/constraints.txt -e ".[${extras}]"

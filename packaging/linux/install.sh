#!/usr/bin/env bash
# Install the built bundle for the current user (no root): the app under ~/.local/opt, `liveedit`
# on the PATH through ~/.local/bin, the menu entry and its icons under ~/.local/share.
#   bash packaging/linux/install.sh [BUNDLE_DIR]     (default: build/bundle/dist/liveedit)
#   bash packaging/linux/install.sh --uninstall
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}"
OPT="$HOME/.local/opt/liveedit-studio"
BIN="$HOME/.local/bin"

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$OPT" "$BIN/liveedit" "$PREFIX/applications/liveedit.desktop"
  find "$PREFIX/icons/hicolor" -name liveedit.png -delete 2>/dev/null || true
  echo "LiveEdit Studio removed (your settings, models and recordings are kept)."
  exit 0
fi

BUNDLE="${1:-$HERE/../../build/bundle/dist/liveedit}"
[ -x "$BUNDLE/liveedit" ] || { echo "no bundle at $BUNDLE: run packaging/build_bundle.sh" >&2; exit 1; }
rm -rf "$OPT" && mkdir -p "$OPT" "$BIN" "$PREFIX/applications"
cp -a "$BUNDLE/." "$OPT/"
ln -sf "$OPT/liveedit" "$BIN/liveedit"
for icon in "$HERE"/../icons/hicolor/*/apps/liveedit.png; do
  size_dir="$(basename "$(dirname "$(dirname "$icon")")")"
  mkdir -p "$PREFIX/icons/hicolor/$size_dir/apps"
  cp "$icon" "$PREFIX/icons/hicolor/$size_dir/apps/liveedit.png"
done
# the menu entry starts the installed copy, whatever the PATH of the desktop session is
sed "s|^Exec=liveedit|Exec=$OPT/liveedit|" "$HERE/liveedit.desktop" > "$PREFIX/applications/liveedit.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$PREFIX/icons/hicolor" || true
echo "LiveEdit Studio installed: run 'liveedit' or open it from the applications menu."

#!/usr/bin/env bash
# Build the one-folder desktop bundle (PyInstaller, Linux) and check that it works on its own:
#   bash packaging/build_bundle.sh            -> build/bundle/dist/liveedit/ + packaging/bundle-linux.json
# Checks, run from outside the repository with fresh user folders: the bundled `liveedit --help`,
# `liveedit edit` on a short generated clip with the shipped default model, and the window opening
# offscreen. Prints the bundle size and start times. CPU-heavy (minutes): not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${LIVEEDIT_BUNDLE_DIR:-$ROOT/build/bundle}
MODEL=liveedit-tiny
. .venv/bin/activate
export QT_LOGGING_RULES='qt.multimedia.*=false'

[ -f "models/$MODEL/model.json" ] || { echo "models/$MODEL is missing: train or copy the default model first" >&2; exit 1; }
python -c "import PyInstaller" 2>/dev/null || pip install -q -c .venv/constraints.txt "pyinstaller>=6.10"

echo "== building (PyInstaller $(python -c 'import PyInstaller; print(PyInstaller.__version__)'))"
t0=$(date +%s.%N)
pyinstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT/dist" --workpath "$OUT/work" packaging/liveedit.spec
build_s=$(python -c "print(round($(date +%s.%N) - $t0, 1))")
APP="$OUT/dist/liveedit"
chmod -R a+rX "$APP"  # files saved 0600 in the checkout must be readable by every user
size_mb=$(du -sm "$APP" | cut -f1)
echo "== built in ${build_s} s: $APP, ${size_mb} MB"

CHECK=$(mktemp -d)
trap 'rm -rf "$CHECK"' EXIT
cd "$CHECK"  # nothing from the repository can be picked up from here
export LIVEEDIT_HOME="$CHECK/home"
unset PYTHONPATH PYTHONHOME
seconds() { python -c "import sys,time,subprocess; t=time.perf_counter(); r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(round(time.perf_counter()-t,2) if r.returncode==0 else 'fail')" "$@"; }

echo "== check 1: liveedit --help"
cold_s=$(seconds "$APP/liveedit" --version)
warm_s=$(for _ in 1 2 3; do seconds "$APP/liveedit" --version; done | sort -n | sed -n 2p)
"$APP/liveedit" --help | grep -q " edit " || { echo "bundled --help does not list 'edit'" >&2; exit 1; }
echo "   ok (start to exit: first run ${cold_s} s, warm median ${warm_s} s)"

echo "== check 2: liveedit edit on a generated clip with the default model"
python - "$CHECK/clip.mp4" <<'PY'
import sys
import av
import numpy as np
with av.open(sys.argv[1], "w") as out:
    s = out.add_stream("libx264", rate=8)
    s.width = s.height = 128
    s.pix_fmt = "yuv420p"
    yy, xx = np.mgrid[:128, :128]
    for i in range(16):
        rgb = np.stack([(xx * 2 + i * 8) % 256, (yy * 2) % 256, np.full_like(xx, 90)], -1)
        rgb[(xx - 30 - 4 * i) ** 2 + (yy - 64) ** 2 < 400] = (240, 240, 40)
        out.mux(s.encode(av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")))
    out.mux(s.encode())
PY
t0=$(date +%s.%N)
"$APP/liveedit" edit "$CHECK/clip.mp4" -p "turn it into a pencil sketch" -o "$CHECK/edited.mp4"
edit_s=$(python -c "print(round($(date +%s.%N) - $t0, 1))")
frames=$(python -c "import av,sys; c=av.open(sys.argv[1]); print(sum(1 for _ in c.decode(video=0)))" "$CHECK/edited.mp4")
[ "$frames" = 16 ] || { echo "edited clip has $frames frames, expected 16" >&2; exit 1; }
echo "   ok (16 frames in ${edit_s} s, model loading included)"

echo "== check 3: the window opens offscreen"
t0=$(date +%s.%N)
QT_QPA_PLATFORM=offscreen "$APP/liveedit" app --quit-after 2
window_s=$(python -c "print(round($(date +%s.%N) - $t0 - 2, 1))")
grep -q "main window shown" "$LIVEEDIT_HOME/log/liveedit.log" || { echo "the log does not say the window was shown" >&2; exit 1; }
echo "   ok (start to window about ${window_s} s)"

cat > "$ROOT/packaging/bundle-linux.json" <<JSON
{
  "pyinstaller": "$(python -c 'import PyInstaller; print(PyInstaller.__version__)')",
  "build_seconds": $build_s,
  "bundle_megabytes": $size_mb,
  "version_cold_seconds": $cold_s,
  "version_warm_median_seconds": $warm_s,
  "edit_16_frames_128px_seconds": $edit_s,
  "window_start_seconds": $window_s,
  "machine": "$(nproc) cores, $(python -c 'import platform; print(platform.platform())')"
}
JSON
echo "== all checks passed; numbers in packaging/bundle-linux.json"

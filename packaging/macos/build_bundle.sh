#!/usr/bin/env bash
# Build "LiveEdit Studio.app" on macOS (not run in this project's CI; see docs/packaging.md).
#   bash packaging/macos/build_bundle.sh
# What differs from Linux: PyInstaller's BUNDLE step makes an .app whose Info.plist carries
# NSCameraUsageDescription and NSMicrophoneUsageDescription (without them macOS denies the camera
# without asking), the .icns icon, an ad-hoc code signature (Apple Silicon refuses to run unsigned
# code; a release signs with a Developer ID and notarizes), and MPS as the GPU instead of CUDA.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/bundle/venv
[ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q ".[bundle]"
[ -f models/liveedit-tiny/model.json ] || { echo "models/liveedit-tiny is missing" >&2; exit 1; }
"$VENV/bin/python" -m PyInstaller --noconfirm --clean \
  --distpath build/bundle/dist --workpath build/bundle/work packaging/liveedit.spec
APP="build/bundle/dist/LiveEdit Studio.app"
codesign --force --deep --sign - "$APP"
EXE="$APP/Contents/MacOS/liveedit"
"$EXE" --help >/dev/null
CHECK=$(mktemp -d)
"$VENV/bin/python" -c "import av,numpy as np,sys; o=av.open(sys.argv[1],'w'); s=o.add_stream('libx264',rate=8); s.width=s.height=128; s.pix_fmt='yuv420p'; [o.mux(s.encode(av.VideoFrame.from_ndarray(np.full((128,128,3),i*12,np.uint8),format='rgb24'))) for i in range(16)]; o.mux(s.encode()); o.close()" "$CHECK/clip.mp4"
"$EXE" edit "$CHECK/clip.mp4" -p "turn it into a pencil sketch" -o "$CHECK/edited.mp4"
QT_QPA_PLATFORM=offscreen "$EXE" app --quit-after 2
du -sh "$APP"
# A disk image for sharing: hdiutil create -volname "LiveEdit Studio" -srcfolder "$APP" -ov LiveEdit-Studio.dmg

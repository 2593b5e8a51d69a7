# Build the one-folder app on Windows (not run in this project's CI; see docs/packaging.md).
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_bundle.ps1
# Result: build\bundle\dist\liveedit\ holding liveedit.exe (console: the command line) and
# "LiveEdit Studio.exe" (no console window: for the Start menu shortcut), one _internal\ folder.
# What differs from Linux: two executables (a console program opens a terminal window when
# started from Explorer), the .ico icon, and Windows' own camera privacy switch
# (Settings > Privacy > Camera > "Let desktop apps access your camera"), which no manifest asks.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$venv = "build\bundle\venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv }
$py = "$venv\Scripts\python.exe"
& $py -m pip install -q --upgrade pip
# PyPI's Windows torch wheels are the CPU build; for an NVIDIA build install torch from the
# PyTorch CUDA index first, then this line keeps it.
& $py -m pip install -q ".[bundle]"
if (-not (Test-Path "models\liveedit-tiny\model.json")) { throw "models\liveedit-tiny is missing" }
& $py -m PyInstaller --noconfirm --clean --distpath build\bundle\dist --workpath build\bundle\work packaging\liveedit.spec
$app = "build\bundle\dist\liveedit"
& "$app\liveedit.exe" --help | Out-Null
if ($LASTEXITCODE -ne 0) { throw "bundled liveedit --help failed" }
$clip = Join-Path $env:TEMP "liveedit-check.mp4"
& $py -c "import av,numpy as np,sys; o=av.open(sys.argv[1],'w'); s=o.add_stream('libx264',rate=8); s.width=s.height=128; s.pix_fmt='yuv420p'; [o.mux(s.encode(av.VideoFrame.from_ndarray(np.full((128,128,3),i*12,np.uint8),format='rgb24'))) for i in range(16)]; o.mux(s.encode()); o.close()" $clip
& "$app\liveedit.exe" edit $clip -p "turn it into a pencil sketch" -o (Join-Path $env:TEMP "liveedit-edited.mp4")
if ($LASTEXITCODE -ne 0) { throw "bundled liveedit edit failed" }
& "$app\liveedit.exe" app --quit-after 2
if ($LASTEXITCODE -ne 0) { throw "the bundled window did not open" }
"{0:N0} MB in $app" -f ((Get-ChildItem $app -Recurse | Measure-Object Length -Sum).Sum / 1MB)

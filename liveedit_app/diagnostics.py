"""Help → "Collect diagnostics": one zip a creator attaches to a bug report.

The zip holds `system.json` (versions, compute device, CPU, memory, cameras, installed model
names, the app's folders), the log folder (logs and crash reports) and the settings folder, and
nothing else: no recordings, no model weights, no file from outside the app's own folders. Every
text is scrubbed: the home folder is written `~`, and a path under it outside the app's folders
keeps only its file name (`~/…/clip.mp4`), so the zip names no personal folder.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from liveedit_app import __version__, paths

# The distributions whose versions matter for a bug report (PyPI names).
VERSIONED = (
    "torch",
    "PySide6-Essentials",
    "PySide6-Addons",
    "av",
    "opencv-python-headless",
    "numpy",
    "safetensors",
    "platformdirs",
    "superqt",
)
MAX_FILE_BYTES = 5_000_000  # a runaway log is cut to its last 5 MB


@dataclass(frozen=True)
class ComputeDevice:
    """What will run the model, and what that means for speed, in a creator's words."""

    kind: str  # "cuda", "mps" or "cpu"
    name: str
    speed: str


def compute_device() -> ComputeDevice:
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return ComputeDevice(
            "cuda",
            name,
            f"NVIDIA GPU ({name}): the default model edits live at full speed, and the larger "
            "LiveEdit models can be installed from the model manager.",
        )
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return ComputeDevice(
            "mps",
            "Apple GPU (Metal)",
            "Apple GPU: the default model edits live; larger models are slow on it.",
        )
    return ComputeDevice(
        "cpu",
        _cpu_name(),
        "No GPU found, so the processor does the work: the default tiny model still edits live, "
        "at a lower frame rate; the larger LiveEdit models are too slow for live editing here.",
    )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def camera_names() -> list[str] | str:
    """The cameras the app can see, or why they could not be listed."""
    # Qt Multimedia's start-up chatter (FFmpeg version, VA-API probing) is no news in a bug report
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    try:
        from liveedit_app.media.camera import list_cameras

        return [camera.name for camera in list_cameras()]
    except Exception as err:  # a diagnostics zip must be written even when cameras cannot be
        return f"cameras could not be listed: {type(err).__name__}: {err}"


def versions() -> dict[str, str]:
    found = {"liveedit": __version__, "python": platform.python_version()}
    for dist in VERSIONED:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def app_folders() -> dict[str, Path]:
    """The user's own folders of this app: the only places the zip takes files from."""
    return {
        "settings": paths.config_dir(),
        "logs": paths.log_dir(),
        "data": paths.data_dir(),
        "cache": paths.cache_dir(),
        "recordings": paths.recordings_dir(),
    }


# folders may hold spaces ("My Videos") when a separator follows the name at once; the file name
# ends at the first space, quote or line end
_DIRECTORY = r"""[/\\](?:[^/\\'"\r\n,;]*[^\s/\\'",;])?(?=[/\\])"""
_UNDER_HOME = rf"""((?:{_DIRECTORY})*[/\\][^\s'"]*)?"""


def _home_relative(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if len(home) > 1 and path.startswith(home) else path


def scrub(text: str) -> str:
    """The home folder written as `~`; paths under it outside the app's folders cut to their file
    name (`~/…/clip.mp4`), so the zip tells which file failed but not where the creator keeps it."""
    folders = sorted((str(p) for p in app_folders().values()), key=len, reverse=True)
    for i, folder in enumerate(folders):
        text = text.replace(folder, f"\0app{i}\0")
    home = str(Path.home())
    if len(home) > 1:
        text = re.sub(re.escape(home) + _UNDER_HOME, _cut_home_path, text)
    for i, folder in enumerate(folders):
        text = text.replace(f"\0app{i}\0", _home_relative(folder))
    return text


def _cut_home_path(match: re.Match) -> str:
    rest = match.group(1)
    if not rest:
        return "~"
    return "~/…/" + re.split(r"[/\\]", rest)[-1]


def _installed_models() -> list[dict]:
    from liveedit_app.modelstore.store import ModelStore

    return [
        {"name": m.name, "where": m.source, "megabytes": round(m.size_bytes / 1e6, 1)}
        for m in ModelStore().list()
    ]


def system_report() -> dict:
    import torch

    device = compute_device()
    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "versions": versions(),
        "platform": platform.platform(),
        "python_executable": sys.executable,
        "frozen": bool(getattr(sys, "frozen", False)),
        "cpu": {
            "name": _cpu_name(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
        },
        "memory_gib": _memory_gib(),
        "compute_device": asdict(device),
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "mps_available": bool(
            getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        ),
        "cameras": camera_names(),
        "models": _installed_models(),
        "folders": {name: str(folder) for name, folder in app_folders().items()},
    }


def default_target() -> Path:
    folder = paths.data_dir() / "diagnostics"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"liveedit-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"


def _text_of(path: Path) -> str:
    data = path.read_bytes()[-MAX_FILE_BYTES:]
    return data.decode("utf-8", errors="replace")


def collect_diagnostics(target: Path | None = None) -> Path:
    """Write the zip (to `target`, else a new file under the data folder) and return its path."""
    target = Path(target) if target else default_target()
    report = system_report()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("system.json", scrub(json.dumps(report, indent=2, ensure_ascii=False)))
        for prefix, folder in (("logs", paths.log_dir()), ("settings", paths.config_dir())):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if path.suffix == ".zip" or path.resolve() == target.resolve():
                    continue
                name = f"{prefix}/{path.relative_to(folder).as_posix()}"
                zf.writestr(name, scrub(_text_of(path)))
    return target

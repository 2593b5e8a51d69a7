"""The wheel, installed (not editable) into a fresh venv, runs on the model and resources inside.

The wheel is built once from a copy of the working tree and installed with --no-deps into a venv
made without pip and without system packages; its dependencies come from this repo's venv through
a `.pth` line appended after the venv's own site-packages. A `.pth` line only adds a folder: the
editable install's finder in that folder is not run, so `liveedit_app` can only come from the
wheel, and the tests check that it does before trusting anything else.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "liveedit-tiny"
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
FOLDERS = ("liveedit_app", "models", "resources")


def _run(args, cwd, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(REPO / name, src / name)
    for name in FOLDERS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            work / "dist",
            src,
        ],
        cwd=work,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (work / "dist").glob("liveedit_studio-*.whl")
    venv = work / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work).returncode == 0
    python = venv / "bin" / "python"
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        cwd=work,
    )
    assert install.returncode == 0, install.stderr
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work)
    deps = sysconfig.get_paths()["purelib"]
    (Path(site.stdout.strip()) / "_liveedit_deps.pth").write_text(deps + "\n")
    return work, wheel, venv


def test_wheel_carries_the_shipped_models_and_resources(installed):
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("models", "resources"):
        for path in (REPO / folder).rglob("*"):
            hidden = any(part.startswith(".") for part in path.relative_to(REPO).parts)
            if path.is_file() and "__pycache__" not in path.parts and not hidden:
                rel = path.relative_to(REPO).as_posix()
                assert f"liveedit_app/_data/{rel}" in names, rel
    assert not any(n.startswith(("models/", "resources/", "tests/")) for n in names)


def test_installed_app_finds_its_folders_inside_the_venv(installed):
    work, _, venv = installed
    code = (
        "import liveedit_app, liveedit_app.paths as p; "
        "print(liveedit_app.__file__); print(p.shipped_models_dir()); print(p.resources_dir())"
    )
    where = _run([venv / "bin" / "python", "-c", code], cwd=work)
    assert where.returncode == 0, where.stderr
    package, models, resources = (Path(line) for line in where.stdout.split())
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = site / "site-packages" / "liveedit_app"
    assert package == site / "__init__.py"
    assert models == site / "_data" / "models"
    assert resources == site / "_data" / "resources"
    version = _run([venv / "bin" / "liveedit", "--version"], cwd=work)
    assert version.stdout.strip().startswith("liveedit ")


def _write_clip(path: Path, frames: int = 8, size: int = 64) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        yy, xx = np.mgrid[:size, :size]
        for i in range(frames):
            rgb = np.zeros((size, size, 3), np.uint8)
            rgb[..., 0] = (xx * 4 + i * 8) % 256
            rgb[..., 1] = (yy * 4) % 256
            rgb[(xx - 20 - 3 * i) ** 2 + (yy - 32) ** 2 < 100] = (240, 240, 40)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())


@pytest.mark.slow
def test_installed_liveedit_edits_a_clip_with_the_packaged_default_model(installed):
    if not (REPO / "models" / DEFAULT_MODEL / "model.json").is_file():
        pytest.skip(f"the default model models/{DEFAULT_MODEL} is not in this checkout yet")
    work, _, venv = installed
    clip, out = work / "clip.mp4", work / "edited.mp4"
    _write_clip(clip)
    edit = _run(
        [venv / "bin" / "liveedit", "edit", clip, "-p", "turn it into a pencil sketch", "-o", out],
        cwd=work,
        timeout=150,
    )
    assert edit.returncode == 0, edit.stdout + edit.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 8
    assert frames[0].shape[:2] == (64, 64)

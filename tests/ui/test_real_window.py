"""The real window on a real X server (Xvfb): a stroke drawn on the test pattern shows as the mask
overlay in a screenshot of the screen."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("xvfb_app.py")


@pytest.fixture
def xvfb_display():
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (scripts/setup.sh --test installs it)")
    for number in range(90, 130):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        server = subprocess.Popen([binary, f":{number}", "-screen", "0", "1280x800x24",
                                   "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        if server.poll() is None:
            yield f":{number}"
            server.terminate()
            server.wait(5)
            return
    pytest.fail("could not start Xvfb on any display :90-:129")


@pytest.mark.xvfb
@pytest.mark.parametrize("scale", [1, 2])
def test_stroke_on_the_real_window_shows_the_overlay(xvfb_display, tmp_path, scale):
    """At scale 2 (a HiDPI screen) the brush must still land under the pointer."""
    shot, result = tmp_path / "window.png", tmp_path / "result.json"
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb",
               QT_SCALE_FACTOR=str(scale), QT_LOGGING_RULES="qt.multimedia.*=false")
    # editing on a CPU is slow: only one of the two runs asks for an edit
    prompt = "turn it into a pencil sketch" if scale == 1 else ""
    run = subprocess.run([sys.executable, str(CHILD), str(shot), str(result), prompt], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(result.read_text())
    assert found["screen"] == [1280, 800]
    assert found["device_pixel_ratio"] == scale
    assert found["stroke"] > 0.9, found  # the overlay is where the pointer went
    assert found["stroke_on_edited_side"] > 0.9, found  # and on the edited picture beside it
    assert found["beside_stroke"] < 0.05, found  # and nowhere else
    if os.environ.get("LIVEEDIT_SCREENSHOT") and scale == 1:
        shutil.copy(shot, os.environ["LIVEEDIT_SCREENSHOT"])

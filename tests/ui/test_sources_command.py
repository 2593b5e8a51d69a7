import os
import subprocess
import sys


def test_liveedit_sources_prints_no_qt_library_chatter(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_LOGGING_RULES"}
    env.update(LIVEEDIT_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "liveedit_app", "sources"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "--source pattern" in done.stdout
    assert "qt.multimedia" not in done.stderr

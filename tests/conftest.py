import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _user_folders(tmp_path, monkeypatch):
    """Every test gets its own settings, models, recordings and logs folders."""
    monkeypatch.setenv("LIVEEDIT_HOME", str(tmp_path / "home"))
    yield

"""Build hook: the wheel carries the shipped folders `models/` and `resources/` inside the package,
at `liveedit_app/_data/`, where `liveedit_app.paths` looks for them once installed. Everything else
about the package is in pyproject.toml. An editable install uses the checkout's folders in place.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("models", "resources")
ROOT = Path(__file__).resolve().parent


class BuildPyWithShippedData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for name in SHIPPED:
            target = Path(self.build_lib) / "liveedit_app" / "_data" / name
            # a stale copy from an earlier build would ship files that are gone from the checkout
            shutil.rmtree(target, ignore_errors=True)
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        # _data/ tells liveedit_app.paths it is installed; a wheel keeps no empty folder
        data = Path(self.build_lib) / "liveedit_app" / "_data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "README.txt").write_text(
            "Folders shipped with LiveEdit Studio, copied from the source tree when it was built.\n"
        )


setup(cmdclass={"build_py": BuildPyWithShippedData})

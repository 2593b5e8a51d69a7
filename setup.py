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
            source = ROOT / name
            if not source.is_dir():
                continue
            target = Path(self.build_lib) / "liveedit_app" / "_data" / name
            # a stale copy from an earlier build would ship files that are gone from the checkout
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".*"))


setup(cmdclass={"build_py": BuildPyWithShippedData})

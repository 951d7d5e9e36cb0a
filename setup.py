"""Build step that puts the shipped folders into the wheel (the metadata is in pyproject.toml).

The source tree keeps ``data/`` and ``assets/`` at the top level; a wheel carries
them inside the packages that read them (``core/_data``, ``dashboard/_assets``),
where :func:`core.resources.shipped_folder` finds them with ``importlib.resources``.
An editable install reads them from the checkout instead, so nothing is copied then.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: source folder -> folder inside the built packages (keep in step with core.resources.SHIPPED)
SHIPPED = {"data": "core/_data", "assets": "dashboard/_assets"}


class BuildPyWithShippedFolders(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, target in SHIPPED.items():
            dest = Path(self.build_lib) / target
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(HERE / source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_build.py"))


setup(cmdclass={"build_py": BuildPyWithShippedFolders})

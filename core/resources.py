"""Where the shipped files are: ``data/`` (datasets, scenario presets) and ``assets/`` (the page's JavaScript and CSS).

The source tree keeps them as top-level folders next to the packages::

    core/  dashboard/  data/  assets/  tests/

A built wheel has no top level of its own, so its build step (``setup.py``)
copies ``data/`` into the wheel as ``core/_data`` and ``assets/`` as
``dashboard/_assets``. :func:`shipped_folder` finds either layout through
:mod:`importlib.resources`: the copy inside the installed package when there is
one, else the folder next to the package in a checkout (or an editable install).

The installed package must be on the file system (a normal wheel install, not
a zip import): Dash serves ``assets/`` from a folder and the datasets are read
with :mod:`pathlib`.

Examples
--------
>>> from core.resources import shipped_folder
>>> (shipped_folder("core", "data") / "scenarios").is_dir()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The shipped top-level folders and the package whose installed copy holds each (as ``_<name>``).
SHIPPED = {"data": "core", "assets": "dashboard"}


def shipped_folder(package: str, name: str) -> Path:
    """The folder ``name`` shipped with ``package``: ``<package>/_<name>`` when installed, ``<checkout>/<name>`` otherwise.

    Parameters
    ----------
    package : str
        The importable package that carries the folder in a wheel (``"core"`` or ``"dashboard"``).
    name : str
        The folder's name in the source tree (``"data"`` or ``"assets"``).

    Returns
    -------
    pathlib.Path
        The folder (it may not exist, e.g. in a checkout without ``data/``).

    Examples
    --------
    >>> shipped_folder("core", "data").name in ("data", "_data")
    True
    """
    root = resources.files(package)
    installed = root / f"_{name}"
    if installed.is_dir():
        return Path(str(installed))
    return Path(str(root)).parent / name

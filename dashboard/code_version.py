"""The version of the model code a background job ran under, for the job store's keys (:mod:`dashboard.jobs`).

Dash keys a job's result by a hash of the callback's inputs and source, not by
the engine behind it. A job started before the code changed (a forked job
process that outlived its server's restart, or a Celery worker not yet
restarted after a deploy) would hand the page the old engine's result as if it
were the new one's. Every job key therefore carries :data:`CODE_VERSION`, and
the store serves, and a worker runs, only keys of its own version.

:data:`CODE_VERSION` is the package version and a SHA-256 of the code and the
data a run reads: ``core/**/*.py``, ``dashboard/**/*.py`` (the job functions
themselves) and the shipped data folder (snapshots and scenario presets, every
file), each file's path relative to its root and its bytes. It is computed
once, at import (about 3 MB read; a few milliseconds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

#: Characters of the fingerprint kept in a job key.
KEY_CHARS = 16


def fingerprint(roots: Iterable[tuple[str, Path, str]], version: str = "") -> str:
    """SHA-256 (hex) of ``version`` and, for each ``(label, folder, glob)``, every matching file's path and bytes.

    Files are taken in sorted order of their path relative to ``folder``, so the
    same tree gives the same fingerprint wherever it lies; ``__pycache__`` is
    skipped. A missing folder contributes its label only.
    """
    h = hashlib.sha256(f"version\0{version}\0".encode())
    for label, folder, pattern in roots:
        h.update(f"root\0{label}\0".encode())
        if not folder.is_dir():
            continue
        files = sorted((p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts),
                       key=lambda p: p.relative_to(folder).as_posix())
        for path in files:
            data = path.read_bytes()
            h.update(f"file\0{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
            h.update(data)
    return h.hexdigest()


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("sfm")
    except metadata.PackageNotFoundError:
        return "unknown"


def _code_roots() -> list[tuple[str, Path, str]]:
    import core
    from core.snapshot_catalog import SHIPPED_DATA_DIR

    here = Path(__file__).resolve().parent
    return [("core", Path(core.__file__).resolve().parent, "**/*.py"), ("dashboard", here, "**/*.py"),
            ("data", Path(SHIPPED_DATA_DIR).resolve(), "**/*")]


#: The fingerprint of the code and data this process runs (see the module's docstring).
CODE_VERSION: str = fingerprint(_code_roots(), _package_version())

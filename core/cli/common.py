"""What every ``sfm`` sub-command shares: exit codes, option types, output checked before computing and written atomically."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ..formatting import usd  # noqa: F401 - the sub-commands import it from here
from ..validation import DataValidationError, Problem

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class OutputError(RuntimeError):
    """The result was computed but could not be written."""


# -- option types: argparse reports a bad value as "argument --top: expected ..." and exits 2 ------

def _whole(text: str, low: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
    return v


def positive_int(text: str) -> int:
    """Option type: a whole number >= 1 (argparse reports anything else and exits 2)."""
    return _whole(text, 1, "a positive whole number")


def non_negative_int(text: str) -> int:
    """Option type: a whole number >= 0."""
    return _whole(text, 0, "a whole number >= 0")


def positive_float(text: str) -> float:
    """Option type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return v


def port_number(text: str) -> int:
    """Option type: a TCP port, 1-65535."""
    v = _whole(text, 1, "a port number in 1-65535")
    if v > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in 1-65535, got {v}")
    return v


# -- output: checked before computing, written atomically ---------------------------------------

def check_output(path: str | None, *, folder: bool = False, force: bool = False) -> Path | None:
    """Check ``--out`` before any work: existing writable folder, no existing path unless ``force``."""
    if path is None:
        return None
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    what = "a folder of CSV files" if folder else "a file"
    problem = None
    if not out.name or out.name in (".", ".."):
        problem = f"a path naming {what}"
    elif not parent.is_dir():
        problem = (f"a path in an existing folder ('{parent}' does not exist; create it first: sfm does not create "
                   "folders)" if not parent.exists() else f"a path in a folder ('{parent}' is not a folder)")
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"a path in a folder you may write to ('{parent}' is not writable)"
    elif out.is_dir() and not folder:
        problem = f"a file path ('{out}' is a folder)"
    elif out.exists() and folder and not out.is_dir():
        problem = f"a folder path ('{out}' is a file)"
    elif out.exists() and not force:
        problem = "a path that does not exist yet (it does; pass --force to replace it)"
    if problem:
        raise DataValidationError([Problem("command line", None, "--out", str(path), problem)])
    return out


def _mode(path: Path, default: int) -> int:
    """Permissions for a new output: those of the file it replaces, else ``default`` less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return default & ~umask


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode(path, 0o666))  # mkstemp makes 0600
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}; nothing was written there") from None


def write_folder_atomic(path: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (name → text) into a temporary folder beside ``path``, then rename it to ``path``.

    An existing folder (with ``--force``) is moved aside first and removed once the new one is in place.
    """
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="")
        os.chmod(tmp, _mode(path, 0o777))  # mkdtemp makes 0700
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}; nothing was written there") from None
    old = None
    try:
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except OSError as exc:
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise OutputError(f"could not move the result into {path}: {exc.strerror or exc}; it is complete in {tmp}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def json_text(doc: Any, **kwargs: Any) -> str:
    """Strict JSON (no NaN/Infinity); for a list, the reasons for any nulls go to stderr."""
    from ..strict_json import finite_json_dumps

    text = finite_json_dumps(doc, **kwargs)
    if not isinstance(doc, dict):
        nulls = finite_json_dumps({"v": doc})
        reasons = json.loads(nulls).get("null_reasons", [])
        if reasons:
            print(f"note: {len(reasons)} value(s) not finite were written as null (JSON has no Infinity or NaN): "
                  + ", ".join(f"{r['where'].removeprefix('v.')} = {r['value']}" for r in reasons[:10]), file=sys.stderr)
    return text


def _network(data: str | None, option: str = "--data"):
    """The network of ``--data`` (or ``option``): a shipped snapshot's name, a dataset folder or JSON file, or the newest snapshot."""
    from .. import datasets

    return datasets.resolve(data, option)


def data_help() -> str:
    """Help text of every ``--data`` option, naming the shipped snapshots."""
    from .. import datasets

    names = datasets.snapshot_names()
    return (f"a shipped snapshot ({', '.join(names) or 'none installed'}), or a dataset folder or JSON file "
            f"(default: the newest snapshot, {datasets.DEFAULT_DATASET})")

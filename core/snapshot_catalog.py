"""The catalogue of shipped snapshots: the folders of the data directory that carry a ``snapshot.json``.

A leaf module (it imports nothing else of sfm's but the validation messages and the
resource locator), so that both :mod:`core.datasets` and :mod:`core.scenario` (whose
``snapshot`` field must name a shipped snapshot) can read it without an import cycle.
``snapshot.json`` holds the snapshot's ``name`` (its folder's), ``date`` (the
``as_of`` of the system it describes, YYYY-MM-DD) and a one-paragraph ``description``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .resources import shipped_folder
from .validation import DataValidationError, Problem

#: Folder holding the shipped datasets and scenario presets; ``SFM_DATA`` overrides it.
SHIPPED_DATA_DIR = Path(os.environ.get("SFM_DATA") or shipped_folder("core", "data"))
#: File in a snapshot folder that names, dates and describes the snapshot.
SNAPSHOT_FILE = "snapshot.json"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Snapshot:
    """A shipped snapshot: its folder name, the date of the system it describes, and what it holds."""

    name: str
    date: str
    description: str
    path: Path


def _read_snapshot(folder: Path) -> Snapshot:
    """Read and check ``folder/snapshot.json``; every problem names the file, field and value."""
    f = folder / SNAPSHOT_FILE
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError([Problem(str(f), None, None, None, f"a JSON object ({exc})")]) from None
    if not isinstance(doc, dict):
        raise DataValidationError([Problem(str(f), None, None, type(doc).__name__, "a JSON object with name, date and description")])
    problems = []
    for key in ("name", "date", "description"):
        v = doc.get(key)
        if not isinstance(v, str) or not v.strip():
            problems.append(Problem(str(f), None, key, v, f"a non-empty string '{key}'"))
    if not problems:
        if doc["name"] != folder.name:
            problems.append(Problem(str(f), None, "name", doc["name"], f"the folder's name '{folder.name}'"))
        if not _DATE_RE.match(doc["date"]) or pd.to_datetime(doc["date"], format="%Y-%m-%d", errors="coerce") is pd.NaT:
            problems.append(Problem(str(f), None, "date", doc["date"], "a date as YYYY-MM-DD"))
    unknown = sorted(set(doc) - {"name", "date", "description"})
    problems += [Problem(str(f), None, k, None, "only the keys name, date and description") for k in unknown]
    if problems:
        raise DataValidationError(problems)
    return Snapshot(name=doc["name"], date=doc["date"], description=doc["description"].strip(), path=folder)


def read_catalog(folder: Path) -> tuple[Snapshot, ...]:
    """The snapshots in ``folder`` (its sub-folders with a ``snapshot.json``), oldest first; a bad file raises naming it."""
    folders = sorted(p for p in folder.iterdir() if (p / SNAPSHOT_FILE).is_file()) if folder.is_dir() else []
    return tuple(sorted((_read_snapshot(p) for p in folders), key=lambda s: (s.date, s.name)))


@lru_cache(maxsize=4)
def catalog_names(folder: str) -> tuple[str, ...]:
    """The names of the snapshots in ``folder``, oldest first (read once per process: the data folder is read-only)."""
    return tuple(s.name for s in read_catalog(Path(folder)))


def shipped_names() -> tuple[str, ...]:
    """The names of the shipped snapshots (in :data:`SHIPPED_DATA_DIR`)."""
    return catalog_names(str(SHIPPED_DATA_DIR))

"""Loading and saving networks: a folder of CSV files, one JSON file, DataFrames.

Formats
-------
* Folder: ``entities.csv, assets.csv, holdings.csv, exposures.csv`` and
  optionally ``cohorts.csv, correlations.csv, positions.csv, venues.csv, maker_ilks.csv, pegs.csv``; UTF-8,
  comma-separated, header row.
* JSON: one object ``{"name": ..., "entities": [{...}, ...], "assets": [...], ...}``.

Writing is canonical (columns in schema order, numbers in their shortest exact
form, integers without a decimal point), so CSV → network → CSV reproduces a
canonical file byte for byte and JSON → network → JSON likewise.
"""

from __future__ import annotations

import csv as _csv
import io as _io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .network import Network, network_from_frames
from .schema import MAX_FILE_BYTES, OPTIONAL_TABLES, TABLES
from .strict_json import parse_json_text
from .validation import DataValidationError, Origin, Problem, check_text_encoding, validate_tables
from .writers import network_to_dict, network_to_json, table_to_csv_text, write_csv_folder


def load_network(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Network:
    """Load a network from a dataset folder of CSV files or from one JSON file.

    Parameters
    ----------
    path : str or path-like
        A folder with one CSV file per table, or a ``.json`` file with one key per table.
    max_bytes : int
        Largest input read (default 200 MiB).

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        With every problem found, each naming file, row, column and value.

    Examples
    --------
    >>> import tempfile
    >>> from core.datasets import synthetic
    >>> folder = tempfile.mkdtemp()
    >>> net = synthetic(5, 6)
    >>> write_csv_folder(net, folder)
    >>> load_network(folder).entities.equals(net.entities)
    True
    """
    p = Path(path)
    if p.is_dir():
        return read_csv_folder(p, max_bytes=max_bytes)
    if p.is_file():
        return read_json(p, max_bytes=max_bytes)
    raise DataValidationError([Problem(str(p), None, None, None, "a dataset folder or a .json file that exists")])


def _read_bytes(path: Path, max_bytes: int) -> tuple[str | None, Problem | None]:
    size = path.stat().st_size
    if size > max_bytes:
        return None, Problem(str(path), None, None, f"{size:,} bytes", f"a file of at most {max_bytes:,} bytes")
    return check_text_encoding(path.read_bytes(), str(path))


def parse_csv_text(text: str, file: str) -> tuple[pd.DataFrame | None, Problem | None]:
    """Parse CSV text with every cell kept as text (so bad values can be quoted back)."""
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, na_values=[], skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return None, Problem(file, None, None, None, f"comma-separated text with a header row ({str(exc).strip()})")
    # pandas renames a repeated header ("name", "name.1"): restore the names as written, so that
    # validation reports the repeated column and not an unknown one.
    header = next(_csv.reader(_io.StringIO(text)), [])
    if len(header) == len(df.columns):
        df.columns = [str(c).strip() for c in header]
    else:
        df.columns = [str(c).strip() for c in df.columns]
    lines = _record_lines(text, len(df))
    if lines is not None:
        df.attrs["source_lines"] = lines
    return df, None


def _record_lines(text: str, n_rows: int) -> np.ndarray | None:
    """The line each data row starts on, when blank lines or line breaks inside quoted cells
    make it differ from row + 2 (None when it does not, or when the count disagrees with pandas)."""
    if "\n\n" not in text and "\r" not in text and '"' not in text:
        return None
    reader = _csv.reader(_io.StringIO(text))
    starts, previous = [], 0
    for row in reader:
        if row:
            starts.append(previous + 1)
        previous = reader.line_num
    lines = np.asarray(starts[1:], dtype=np.int64)
    if len(lines) != n_rows or np.array_equal(lines, np.arange(2, n_rows + 2)):
        return None
    return lines


def read_csv_folder(folder: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Network:
    """Load a folder of CSV files (one per table); every problem is reported at once with file, line and column.

    Parameters
    ----------
    folder : str or path-like
    max_bytes : int
        Largest total size read.

    Returns
    -------
    Network
        Named after the folder.

    Raises
    ------
    DataValidationError
        With every problem found.

    Examples
    --------
    >>> import tempfile
    >>> from core.datasets import synthetic
    >>> folder = tempfile.mkdtemp()
    >>> write_csv_folder(synthetic(5, 6), folder)
    >>> len(read_csv_folder(folder).exposures)
    6
    """
    folder = Path(folder)
    raw: dict[str, pd.DataFrame | None] = {}
    origins: dict[str, Origin] = {}
    problems: list[Problem] = []
    for name in TABLES:
        f = folder / f"{name}.csv"
        origins[name] = Origin(str(f), 2, "line")
        if not f.exists():
            if name not in OPTIONAL_TABLES:
                problems.append(Problem(str(f), None, None, None, f"a file {name}.csv in {folder}"))
            raw[name] = None
            continue
        text, prob = _read_bytes(f, max_bytes)
        if prob:
            problems.append(prob)
            raw[name] = None
            continue
        df, prob = parse_csv_text(text or "", str(f))
        if prob:
            problems.append(prob)
        raw[name] = df
    if problems:
        # Report structural problems together with whatever else can be checked.
        try:
            validate_tables({k: v for k, v in raw.items() if v is not None}, origins)
        except DataValidationError as exc:
            problems += [p for p in exc.problems if p.row is not None or p.column is not None]
        raise DataValidationError(problems)
    return Network(**validate_tables(raw, origins), name=folder.name)


def read_json(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Network:
    """Load a network from one JSON file (one key per table); problems name the record and field.

    Parameters
    ----------
    path : str or path-like
    max_bytes : int
        Largest file read.

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        With every problem found.

    Examples
    --------
    >>> import os, tempfile
    >>> from core.datasets import synthetic
    >>> path = os.path.join(tempfile.mkdtemp(), "net.json")
    >>> _ = network_to_json(synthetic(5, 6), path)
    >>> read_json(path).name
    'synthetic-5-6-0'
    """
    path = Path(path)
    text, prob = _read_bytes(path, max_bytes)
    if prob:
        raise DataValidationError([prob])
    return network_from_json_text(text or "", file=str(path), default_name=path.stem)


def network_from_json_text(text: str, *, file: str = "network.json", default_name: str = "") -> Network:
    """A network from JSON text (an upload or a file already read).

    Parameters
    ----------
    text : str
        The JSON document (strict: no NaN, Infinity or duplicate keys).
    file : str
        The name used for the input in error messages.
    default_name : str
        The network's name when the document has none.

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        With every problem found, naming ``file``.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> network_from_json_text(network_to_json(synthetic(5, 6))).name
    'synthetic-5-6-0'
    """
    doc = parse_json_text(text, file)  # strict: duplicate keys, NaN/Infinity and deep nesting are errors
    if not isinstance(doc, dict):
        raise DataValidationError([Problem(file, None, None, type(doc).__name__, "a JSON object with one list of records per table")])
    problems: list[Problem] = []
    raw: dict[str, pd.DataFrame | None] = {}
    origins: dict[str, Origin] = {}
    for name in TABLES:
        origins[name] = Origin(f"{file} [{name}]", 1, "record")
        recs = doc.get(name)
        if recs is None:
            raw[name] = None
            continue
        if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
            problems.append(Problem(file, None, name, type(recs).__name__, f"'{name}' as a list of objects"))
            raw[name] = None
            continue
        cols = list(dict.fromkeys(k for r in recs for k in r)) or [c.name for c in TABLES[name].columns if c.required]
        raw[name] = pd.DataFrame([{k: ("" if r.get(k) is None else r.get(k)) for k in cols} for r in recs], columns=cols, dtype=object)
    unknown = [k for k in doc if k not in TABLES and k not in ("name", "meta")]
    problems += [Problem(file, None, k, None, "only the tables " + ", ".join(TABLES) + ", 'name' and 'meta'") for k in unknown]
    try:
        typed = validate_tables(raw, origins)
    except DataValidationError as exc:
        raise DataValidationError(problems + exc.problems) from None
    if problems:
        raise DataValidationError(problems)
    return Network(**typed, name=str(doc.get("name") or default_name), meta=dict(doc.get("meta") or {}))


__all__ = [
    "load_network",
    "read_csv_folder",
    "read_json",
    "network_from_frames",
    "network_from_json_text",
    "write_csv_folder",
    "network_to_json",
    "network_to_dict",
    "table_to_csv_text",
    "DataValidationError",
]

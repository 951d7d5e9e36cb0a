"""The shipped snapshots: the data folder, its snapshots listed and loaded, and a ``--data`` argument resolved.

The shipped snapshots are folders of ``data/`` (``SFM_DATA`` overrides it) that
carry a ``snapshot.json`` with their ``name``, ``date`` (the ``as_of`` of the
system they describe) and a one-paragraph ``description``
(:mod:`core.snapshot_catalog` reads them):

* :func:`available` lists them, oldest first, as :class:`~core.snapshot_catalog.Snapshot` records;
* :func:`load` reads one (once per process; networks are immutable), as of its date or, with ``at``, with
  every dated parameter change of its ``parameter_changes.csv`` in force on a later day (:mod:`core.parameter_changes`);
* :func:`dated` is a shipped snapshot at a scenario's ``date`` (any other network refused with a dated scenario);
* :func:`default` is the newest of them (the crypto system on 2025-10-01, ``data/crypto-2025-10``);
* :func:`resolve` turns what a user typed (a name, a folder, a JSON file) into a network;
* :func:`sourced_counts` measures a snapshot against the sourcing standard.

The public names are :mod:`core.datasets`'; the scenario presets that run on
these snapshots are :mod:`core.presets`.

Examples
--------
>>> snapshot_names()[-1] == DEFAULT_DATASET
True
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .network import Network
from .snapshot_catalog import SHIPPED_DATA_DIR, Snapshot, catalog_names, read_catalog
from .validation import DataValidationError, Problem

#: Folder holding the shipped datasets and scenario presets; ``SFM_DATA`` overrides it.
DATA_DIR = SHIPPED_DATA_DIR
#: The newest shipped snapshot, which :func:`default` serves (a test checks it is the newest of :func:`available`).
DEFAULT_DATASET = "crypto-2025-10"


def data_path(*parts: str) -> Path:
    """A path inside the shipped data folder (:data:`DATA_DIR`).

    Parameters
    ----------
    *parts : str
        Path components below the data folder.

    Returns
    -------
    pathlib.Path
        The joined path (it need not exist).

    Examples
    --------
    >>> data_path("scenarios").name
    'scenarios'
    """
    return DATA_DIR.joinpath(*parts)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> Network:
    from .io import load_network

    return load_network(path)


def default() -> Network:
    """The newest shipped snapshot: the crypto system on 2025-10-01 (read once per process; immutable).

    Code about an older system loads it by name (``load("crypto-2022-05")``).

    Returns
    -------
    Network
        The ``crypto-2025-10`` snapshot.

    Raises
    ------
    DataValidationError
        When the shipped files have problems (a broken installation).

    Examples
    --------
    >>> net = default()
    >>> net.name, len(net.entities)
    ('crypto-2025-10', 70)
    """
    return _load_cached(str(data_path(DEFAULT_DATASET)))


def available() -> tuple[Snapshot, ...]:
    """The shipped snapshots (folders of the data directory with a ``snapshot.json``), oldest first.

    Returns
    -------
    tuple of Snapshot
        One record per snapshot (name, folder, description).

    Examples
    --------
    >>> {"crypto-2022-05", "crypto-2025-10"} <= {s.name for s in available()}
    True
    """
    return _catalog(str(DATA_DIR))


@lru_cache(maxsize=4)
def _catalog(folder: str) -> tuple[Snapshot, ...]:
    """:func:`read_catalog` of ``folder``, read once per process (the data folder is read-only; a test that points
    :data:`DATA_DIR` elsewhere gets that folder's own entry)."""
    return read_catalog(Path(folder))


def load(name: str, at: str | None = None) -> Network:
    """The shipped snapshot ``name`` (see :func:`available`), read once per process.

    Parameters
    ----------
    name : str
        A snapshot name, e.g. ``"crypto-2022-05"``.
    at : str or None
        An ISO date: the snapshot with every change of its ``parameter_changes.csv`` in force that day
        (:func:`core.parameter_changes.in_force`); None: the figures of the snapshot's own date.

    Returns
    -------
    Network
        The snapshot's network (the same object on every call).

    Raises
    ------
    KeyError
        When no shipped snapshot has that name; the message lists those that do.
    DataValidationError
        When the snapshot's files have problems.

    Examples
    --------
    >>> load("crypto-2022-05").name
    'crypto-2022-05'
    >>> load("crypto-2022-05", at="2022-06-18").meta["parameters_as_of"]
    '2022-06-18'
    >>> load("nope")
    Traceback (most recent call last):
    ...
    KeyError: "no shipped snapshot named 'nope'; available: crypto-2020-03, crypto-2022-05, crypto-2025-10"
    """
    names = {s.name: s for s in available()}
    if name not in names:
        raise KeyError(f"no shipped snapshot named {name!r}; available: {', '.join(names) or 'none'}")
    if at is None:
        return _load_cached(str(names[name].path))
    return _load_at(str(names[name].path), at)


@lru_cache(maxsize=16)
def _load_at(path: str, at: str) -> Network:
    from .parameter_changes import changes_of, in_force

    net = _load_cached(path)
    return in_force(net, changes_of(path, net), at)


def dated(network: Network, date: str | None) -> Network:
    """``network`` with the parameters in force on ``date``: how :func:`core.simulate` reads a scenario's ``date``.

    A date is applied only where its changes are known: ``network`` must be a shipped snapshot as :func:`load`
    serves it (its own figures, or those of another day); it is then :func:`load` ``(name, at=date)``. A network
    already dated ``date`` runs as it is. Any other network (a folder or file read by :func:`core.load_network`,
    an edited or synthetic one) has no record of its snapshot's changes, and a dated scenario on it is refused:
    a silent run on the wrong day's figures is the error this guards against.

    Parameters
    ----------
    network : Network
    date : str or None
        ISO date (``Scenario.date``); None: ``network`` as it is.

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        When ``network`` is not a shipped snapshot as :func:`load` serves it, or ``date`` is before its own date.

    Examples
    --------
    >>> dated(load("crypto-2022-05"), "2022-06-18") is load("crypto-2022-05", at="2022-06-18")
    True
    >>> from core.synthetic_network import synthetic
    >>> dated(synthetic(5, 5), "2022-06-18")
    Traceback (most recent call last):
    ...
    core.validation.DataValidationError: 1 problem in the input:
      - scenario, column 'date': found '2022-06-18'; expected no date on network 'synthetic-5-5-0', which is not a shipped snapshot as core.snapshots.load serves it (its dated parameter changes are unknown): run the scenario on core.snapshots.load(NAME, at='2022-06-18') or core.presets.network_of(scenario) (on the command line: --data NAME, or no --data), or set the scenario's date to null to run this network as it is
    """
    if date is None or network.meta.get("parameters_as_of") == date:
        return network
    name = snapshot_of(network)
    if name is not None and network is load(name, at=network.meta.get("parameters_as_of")):
        _refuse_before_snapshot(name, date)
        return load(name, at=date)
    raise _unknown_changes(network, date)


def require_at(network: Network, date: str | None) -> None:
    """Refuse ``date`` unless ``network`` already holds the parameters in force that day (what a batch's arrays need).

    :func:`dated` puts a network at a date; a :class:`~core.engine.ScenarioBatch` is built on a network as given
    (``core.engine.scenario_batch``), so a dated scenario there must find its network already at its date: the
    network :func:`dated` gives for it, or one with the same changes in force (``meta["parameter_changes"]``). This
    check reads the network by name and its recorded changes, not by identity, so it holds in a worker process
    that received the network pickled.

    Parameters
    ----------
    network : Network
    date : str or None
        ISO date (``Scenario.date``); None always passes.

    Raises
    ------
    DataValidationError
        When ``network`` is not a shipped snapshot, ``date`` is before the snapshot's own date, or the changes in
        force on ``date`` are not those ``network`` holds.

    Examples
    --------
    >>> june = load("crypto-2022-05", at="2022-06-18")
    >>> require_at(june, "2022-06-18"), require_at(june, "2022-06-20"), require_at(load("crypto-2022-05"), "2022-05-13")
    (None, None, None)
    >>> require_at(load("crypto-2022-05"), "2022-06-18")
    Traceback (most recent call last):
    ...
    core.validation.DataValidationError: 1 problem in the input:
      - scenario, column 'date': found '2022-06-18'; expected the network at the parameters in force on 2022-06-18 (network 'crypto-2022-05' holds those of the snapshot's own date, with 0 dated changes; that day has 9): build the batch on core.snapshots.dated(network, '2022-06-18'), as core.simulate and simulate_batch do
    """
    if date is None or network.meta.get("parameters_as_of") == date:
        return
    name = snapshot_of(network)
    if name is None:
        raise _unknown_changes(network, date)
    _refuse_before_snapshot(name, date)
    at = network.meta.get("parameters_as_of")
    # the network is the snapshot at ``at`` (its own date where None): at ``date`` iff no change takes effect between
    # the two days, read from the changes file's dates alone (no network loaded: a worker's first batch pays ~1 ms)
    effective = _change_dates(name)
    held = sum(e <= (at or "") for e in effective)
    due = sum(e <= date for e in effective)
    if held != due:
        raise DataValidationError([Problem(
            "scenario", None, "date", date,
            f"the network at the parameters in force on {date} (network {name!r} holds those of "
            f"{at or 'the snapshot' + chr(39) + 's own date'}, with {held} dated changes; that day has {due}): "
            f"build the batch on core.snapshots.dated(network, {date!r}), as core.simulate and simulate_batch do")])


@lru_cache(maxsize=8)
def _change_dates(name: str) -> tuple[str, ...]:
    """The ``effective`` dates of shipped snapshot ``name``'s ``parameter_changes.csv`` (none without one), read once
    per process; the file itself is validated where a network is put at a date (:func:`load`)."""
    import csv

    from .parameter_changes import CHANGES_FILE

    f = Path({s.name: s for s in available()}[name].path) / CHANGES_FILE
    if not f.exists():
        return ()
    with f.open(newline="", encoding="utf-8") as fh:
        return tuple(sorted(row["effective"].strip() for row in csv.DictReader(fh)))


def _refuse_before_snapshot(name: str, date: str) -> None:
    own = {s.name: s.date for s in available()}[name]
    if date < own:
        raise DataValidationError([Problem("scenario", None, "date", date,
                                           f"a date on or after {own}, the date of snapshot {name} (its rows hold "
                                           "the figures in force that day; earlier ones are not recorded)")])


def _unknown_changes(network: Network, date: str) -> DataValidationError:
    return DataValidationError([Problem(
        "scenario", None, "date", date,
        f"no date on network {network.name or 'without a name'!r}, which is not a shipped snapshot as "
        "core.snapshots.load serves it (its dated parameter changes are unknown): run the scenario on "
        f"core.snapshots.load(NAME, at={date!r}) or core.presets.network_of(scenario) (on the command line: "
        "--data NAME, or no --data), or set the scenario's date to null to run this network as it is")])


def snapshot_names() -> tuple[str, ...]:
    """The names of the shipped snapshots, oldest first (read once per process: the data folder is read-only).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> snapshot_names()
    ('crypto-2020-03', 'crypto-2022-05', 'crypto-2025-10')
    """
    return catalog_names(str(DATA_DIR))


def snapshot_of(network: Network) -> str | None:
    """The shipped snapshot ``network`` is (by its name), or None for any other network.

    Parameters
    ----------
    network : Network

    Returns
    -------
    str or None

    Examples
    --------
    >>> from core.synthetic_network import synthetic
    >>> snapshot_of(default()), snapshot_of(synthetic(5, 5))
    ('crypto-2025-10', None)
    """
    return network.name if network.name in snapshot_names() else None


def resolve(data: str | os.PathLike[str] | None, option: str = "--data") -> Network:
    """The network ``data`` names: a shipped snapshot's name, a dataset folder or JSON file, or None for :func:`default`.

    A name that is both a shipped snapshot and a path in the working folder is the path
    (what the user typed is on disk); anything else that is not a path is looked up
    among the snapshots, and an unknown one is an error naming ``option`` and listing them.

    Parameters
    ----------
    data : str, path-like or None
        What the user gave (``--data`` on the command line).
    option : str
        The option's name, used in the error message.

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        For an unknown name (listing the snapshots) or a dataset with problems.

    Examples
    --------
    >>> resolve("crypto-2022-05").name, resolve(None).name
    ('crypto-2022-05', 'crypto-2025-10')
    >>> resolve("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    core.validation.DataValidationError: 1 problem in the input:
      - command line, column '--data': found 'nope'; expected a dataset folder, a JSON file or a shipped snapshot: ...
    """
    from .io import load_network

    if data is None:
        return default()
    if isinstance(data, str) and not os.path.exists(data) and os.sep not in data and not data.endswith(".json"):
        if data not in snapshot_names():
            raise DataValidationError([Problem("command line", None, option, data,
                                               "a dataset folder, a JSON file or a shipped snapshot: " + ", ".join(snapshot_names()))])
        return load(data)
    return load_network(data)


def sourced_counts(network: Network) -> pd.DataFrame:
    """Rows flagged ``sourced`` and ``estimate`` in each table, and the sourced share.

    The sourcing standard of the shipped snapshots: a row is ``sourced`` only when
    its ``source`` states the figure (or the figures it is computed from, shown in
    ``note``) for a date within six weeks of the snapshot; everything else is an
    ``estimate`` whose ``note`` says how it was estimated.

    Parameters
    ----------
    network : Network

    Returns
    -------
    pandas.DataFrame
        Indexed by table name, with the counts of rows, ``sourced`` and ``estimate``
        rows and the sourced share (0 for an empty table).

    Examples
    --------
    >>> c = sourced_counts(load("crypto-2025-10"))
    >>> c.loc["entities", ["rows", "sourced"]].tolist()
    [70, 44]
    """
    from .schema import TABLES

    rows = []
    for name in TABLES:
        flags = getattr(network, name)["flag"]
        n, k = int(len(flags)), int((flags == "sourced").sum())
        rows.append({"table": name, "rows": n, "sourced": k, "estimate": n - k, "sourced_share": k / n if n else 0.0})
    return pd.DataFrame(rows).set_index("table")

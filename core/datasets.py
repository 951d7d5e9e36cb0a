"""Shipped datasets and reproducible synthetic networks.

The shipped snapshots are folders of ``data/`` (``SFM_DATA`` overrides it) that
carry a ``snapshot.json`` with their ``name``, ``date`` (the ``as_of`` of the
system they describe) and a one-paragraph ``description``:

* ``available()`` lists them, oldest first, as :class:`Snapshot` records;
* ``load(name)`` reads one (once per process; networks are immutable);
* ``default()`` is the newest of them (the crypto system on 2025-10-01, ``data/crypto-2025-10``);
* ``presets()`` lists the shipped scenario presets (``data/scenarios/*.json``), each
  with the snapshot it names (its ``snapshot`` field); ``presets_of(name)`` those of
  one snapshot; ``load_preset(key)`` a preset together with the network it runs on;
* ``synthetic(n_entities, n_exposures, seed)`` builds a random network with
  the same tables, for scale tests and benchmarks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .network import Network
from .snapshot_catalog import SHIPPED_DATA_DIR, SNAPSHOT_FILE, Snapshot, _read_snapshot, catalog_names, read_catalog  # noqa: F401
from .synthetic_network import synthetic as synthetic
from .validation import DataValidationError, Problem

if TYPE_CHECKING:
    from .scenario import Scenario

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
    return read_catalog(DATA_DIR)


def load(name: str) -> Network:
    """The shipped snapshot ``name`` (see :func:`available`), read once per process.

    Parameters
    ----------
    name : str
        A snapshot name, e.g. ``"crypto-2022-05"``.

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
    >>> load("nope")
    Traceback (most recent call last):
    ...
    KeyError: "no shipped snapshot named 'nope'; available: crypto-2020-03, crypto-2022-05, crypto-2025-10"
    """
    names = {s.name: s for s in available()}
    if name not in names:
        raise KeyError(f"no shipped snapshot named {name!r}; available: {', '.join(names) or 'none'}")
    return _load_cached(str(names[name].path))


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
    [70, 42]
    """
    from .schema import TABLES

    rows = []
    for name in TABLES:
        flags = getattr(network, name)["flag"]
        n, k = int(len(flags)), int((flags == "sourced").sum())
        rows.append({"table": name, "rows": n, "sourced": k, "estimate": n - k, "sourced_share": k / n if n else 0.0})
    return pd.DataFrame(rows).set_index("table")


def scenario_dir() -> Path:
    """The folder of the shipped scenario presets (``data/scenarios``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> scenario_dir().name
    'scenarios'
    """
    return data_path("scenarios")


@dataclass(frozen=True)
class Preset:
    """A shipped scenario preset: its key (the file's stem), its file, the scenario and the snapshot it names.

    Attributes
    ----------
    key : str
        The file's stem, e.g. ``"terra_may_2022"``.
    path : pathlib.Path
        The preset's JSON file.
    scenario : Scenario
        The validated scenario.
    snapshot : str or None
        The shipped snapshot the scenario names (None: :func:`default`).

    Examples
    --------
    >>> p = preset("terra_may_2022")
    >>> p.key, p.path.name, p.snapshot
    ('terra_may_2022', 'terra_may_2022.json', 'crypto-2022-05')
    """

    key: str
    path: Path
    scenario: "Scenario"

    @property
    def snapshot(self) -> str | None:
        return self.scenario.snapshot


def preset_files() -> list[Path]:
    """The preset files of :func:`scenario_dir` (``*.json`` but the schema), sorted by name.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> preset_files()[0].name
    'black_thursday_2020.json'
    """
    folder = scenario_dir()
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(".schema.json")) if folder.is_dir() else []


def presets() -> tuple[Preset, ...]:
    """Every shipped preset, by key.

    Returns
    -------
    tuple of Preset
        Sorted by key.

    Raises
    ------
    DataValidationError
        When a preset file has problems, naming it (``sfm validate`` lists them all).

    Examples
    --------
    >>> {p.key: p.snapshot for p in presets()}["terra_may_2022"]
    'crypto-2022-05'
    """
    return _presets(tuple((str(p), p.stat().st_mtime_ns) for p in preset_files()))


@lru_cache(maxsize=4)
def _presets(files: tuple[tuple[str, int], ...]) -> tuple[Preset, ...]:
    from .scenario import load_scenario

    return tuple(Preset(Path(f).stem, Path(f), load_scenario(f)) for f, _ in files)


def presets_of(snapshot: str | None) -> tuple[Preset, ...]:
    """The presets that name ``snapshot`` (None: those that name none).

    Parameters
    ----------
    snapshot : str or None
        A shipped snapshot's name.

    Returns
    -------
    tuple of Preset

    Raises
    ------
    KeyError
        When no shipped snapshot has that name.

    Examples
    --------
    >>> [p.key for p in presets_of("crypto-2020-03")]
    ['black_thursday_2020']
    """
    if snapshot is not None and snapshot not in snapshot_names():
        raise KeyError(f"no shipped snapshot named {snapshot!r}; available: {', '.join(snapshot_names()) or 'none'}")
    return tuple(p for p in presets() if p.snapshot == snapshot)


def preset(key: str) -> Preset:
    """The shipped preset ``key`` (a file stem of ``data/scenarios``).

    Parameters
    ----------
    key : str

    Returns
    -------
    Preset

    Raises
    ------
    DataValidationError
        For an unknown key, listing the presets.

    Examples
    --------
    >>> preset("ftx_nov_2022").scenario.name
    'ftx_nov_2022'
    """
    found = {p.key: p for p in presets()}
    if key not in found:
        raise DataValidationError([Problem(str(scenario_dir()), None, "preset", key, "one of the presets: " + ", ".join(found))])
    return found[key]


def load_preset(key: str) -> tuple["Scenario", Network]:
    """The preset ``key`` and the network it runs on: the snapshot it names, or :func:`default` when it names none.

    Parameters
    ----------
    key : str
        A preset's key (see :func:`presets`).

    Returns
    -------
    (Scenario, Network)

    Raises
    ------
    DataValidationError
        For an unknown key, listing the presets.

    Examples
    --------
    >>> sc, net = load_preset("black_thursday_2020")
    >>> net.name, sc.snapshot
    ('crypto-2020-03', 'crypto-2020-03')
    """
    p = preset(key)
    return p.scenario, network_of(p.scenario)


def network_of(scenario: "Scenario") -> Network:
    """The shipped network a scenario runs on: the snapshot it names, else :func:`default`.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    Network

    Raises
    ------
    KeyError
        When the scenario names a snapshot that is not shipped.

    Examples
    --------
    >>> from core.scenario import Scenario
    >>> network_of(Scenario(snapshot="crypto-2022-05")).name, network_of(Scenario()).name
    ('crypto-2022-05', 'crypto-2025-10')
    """
    return load(scenario.snapshot) if scenario.snapshot else default()

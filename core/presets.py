"""The shipped scenario presets: each a file of ``data/scenarios`` with the snapshot it runs on.

A preset is a scenario file (``data/scenarios/<key>.json``, validated by
:func:`core.scenario.load_scenario`) whose ``snapshot`` field names the shipped
snapshot it is written for (:mod:`core.snapshots`); one that names none runs on
:func:`core.snapshots.default`. Each preset's ``description`` says what its
shocks and paths are and where they come from.

* :func:`presets` lists them (read once per file version), :func:`presets_of` those of one snapshot;
* :func:`preset` is one by key, and :func:`load_preset` that one with the network it runs on;
* :func:`network_of` is the shipped network any scenario runs on.

The public names are :mod:`core.datasets`'.

Examples
--------
>>> [p.key for p in presets_of("crypto-2020-03")]
['black_thursday_2020']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .network import Network
from .snapshots import DEFAULT_DATASET, data_path, default, load, snapshot_names
from .validation import DataValidationError, Problem

if TYPE_CHECKING:
    from .scenario import Scenario


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
    """The shipped network a scenario runs on: the snapshot it names, else :func:`default`, at the scenario's ``date``.

    A scenario with a ``date`` runs on the snapshot with every dated parameter change in force that day
    (the snapshot's ``parameter_changes.csv``, :mod:`core.parameter_changes`); one without runs on the
    snapshot's own figures.

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
    >>> network_of(Scenario(snapshot="crypto-2022-05", date="2022-06-18")).meta["parameters_as_of"]
    '2022-06-18'
    """
    if scenario.snapshot is None and scenario.date is None:
        return default()
    return load(scenario.snapshot or DEFAULT_DATASET, at=scenario.date)

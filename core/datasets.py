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

import numpy as np
import pandas as pd

from .network import Network
from .schema import ENTITY_TYPES
from .snapshot_catalog import SHIPPED_DATA_DIR, SNAPSHOT_FILE, Snapshot, _read_snapshot, catalog_names, read_catalog  # noqa: F401
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


_TYPE_REGION = {
    "lending_protocol": "defi", "cdp_protocol": "defi", "amm_pool": "defi", "liquid_staking": "defi",
    "stablecoin_issuer": "stablecoin", "centralised_exchange": "exchange", "perpetuals_venue": "exchange",
    "cefi_lender": "cefi", "fund": "cefi", "bridge": "defi", "reserve": "terra", "depositor_aggregate": "depositors",
}
_TYPE_P = np.array([0.06, 0.03, 0.04, 0.02, 0.03, 0.08, 0.03, 0.25, 0.30, 0.02, 0.04, 0.10])


def synthetic(n_entities: int, n_exposures: int, seed: int = 0) -> Network:
    """A reproducible random network with the tables of the shipped one.

    Exposure sizes are Pareto-distributed (tail index 1.5) between random
    creditor-debtor pairs; every entity holds one to three of eight assets;
    lending and CDP protocols get borrower cohorts spread over health factors
    1.05-3; equity is a thin 4-20 % of assets so that shocks cascade.
    The same arguments always give the same network.

    Parameters
    ----------
    n_entities : int
        Number of entities (>= 2).
    n_exposures : int
        Number of exposures (>= 0).
    seed : int
        Seed of the random generator.

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        When ``n_entities < 2`` or ``n_exposures < 0``.

    Examples
    --------
    >>> net = synthetic(20, 50, seed=1)
    >>> len(net.entities), len(net.exposures)
    (20, 50)
    >>> synthetic(20, 50, seed=1).exposures.equals(net.exposures)
    True
    """
    if n_entities < 2:
        raise ValueError("n_entities must be at least 2")
    if n_exposures < 0:
        raise ValueError("n_exposures must be non-negative")
    rng = np.random.default_rng(seed)
    n, m = int(n_entities), int(n_exposures)
    prov = {"as_of": "2022-05-06", "source": f"sfm synthetic(seed={seed})", "flag": "estimate", "note": ""}

    assets = pd.DataFrame(
        {
            "symbol": ["ETH", "BTC", "stETH", "USDC", "DAI", "LUNA", "FTT", "TOKEN"],
            "name": ["Ether", "Bitcoin", "Lido stETH", "USD Coin", "Dai", "Terra LUNA", "FTX Token", "Platform token"],
            "kind": ["volatile", "volatile", "liquid_staking", "fiat_stable", "cdp_stable", "volatile", "exchange_token", "exchange_token"],
            "price_usd": [2750.0, 36000.0, 2740.0, 1.0, 1.0, 77.0, 30.0, 5.0],
            "supply": [120e6, 19e6, 3.5e6, 49e9, 8.5e9, 350e6, 130e6, 1e9],
            "adv_usd": [15e9, 30e9, 0.2e9, 5e9, 0.5e9, 2e9, 0.1e9, 0.05e9],
            "daily_vol": [0.04, 0.035, 0.045, 0.001, 0.003, 0.06, 0.05, 0.07],
        }
    )
    types = rng.choice(len(ENTITY_TYPES), size=n, p=_TYPE_P / _TYPE_P.sum())
    types[0] = ENTITY_TYPES.index("amm_pool")
    types[1] = ENTITY_TYPES.index("lending_protocol")
    etype = np.array(ENTITY_TYPES, dtype=object)[types]
    ids = np.array([f"E{i:06d}" for i in range(n)], dtype=object)
    assets["amm_pool"] = ["", "", ids[0], "", "", "", "", ""]
    assets["amplification"] = [np.nan, np.nan, 30.0, np.nan, np.nan, np.nan, np.nan, np.nan]
    assets["peg_target"] = [np.nan, np.nan, 1.0, 1.0, 1.0, np.nan, np.nan, np.nan]
    assets["peg_unit"] = ["", "", "ETH", "USD", "USD", "", "", ""]
    assets["backing_asset"] = ["", "", "ETH", "", "", "", "", ""]
    assets["issuer"] = ["", "", "", "", ids[1], "", ids[2], ids[3]]
    for k, v in prov.items():
        assets[k] = v
    price = assets["price_usd"].to_numpy()

    # Exposures: random pairs, no self-loans, Pareto sizes.
    cred = rng.integers(0, n, size=m)
    debt = (cred + rng.integers(1, n, size=m)) % n
    # Depositor aggregates lend but never borrow: move their debts to the next entity that may.
    can_owe = etype != "depositor_aggregate"
    nxt = np.arange(n)
    ok_idx = np.flatnonzero(can_owe)
    nxt = ok_idx[np.searchsorted(ok_idx, nxt) % len(ok_idx)]
    debt = nxt[debt]
    self_loan = debt == cred
    debt[self_loan] = ok_idx[(np.searchsorted(ok_idx, debt[self_loan]) + 1) % len(ok_idx)]
    amount = np.round((rng.pareto(1.5, size=m) + 1.0) * 1e6, 2)
    kinds = np.array(["loan", "deposit", "credit_line", "customer_balance", "lp_share"], dtype=object)
    exposures = pd.DataFrame(
        {
            "id": [f"X{i:07d}" for i in range(m)],
            "creditor": ids[cred],
            "debtor": ids[debt],
            "kind": kinds[rng.integers(0, len(kinds), size=m)],
            "amount_usd": amount,
            "collateral_asset": "",
            "collateral_amount": np.nan,
            "recovery": np.nan,
            **prov,
        }
    )

    # Holdings: one to three assets per entity, plus the pool's two-sided reserves.
    held = rng.integers(1, 4, size=n)
    h_ent = np.repeat(np.arange(n), held)
    h_ast = rng.integers(0, len(assets), size=len(h_ent))
    h_ast[np.isin(h_ent, [0])] = 0
    usd = (rng.pareto(1.5, size=len(h_ent)) + 1.0) * 5e6
    hold = pd.DataFrame({"entity": h_ent, "asset": h_ast, "usd": usd})
    pool = pd.DataFrame({"entity": [0, 0], "asset": [0, 2], "usd": [2e9, 2e9]})
    hold = pd.concat([hold[hold["entity"] != 0], pool]).groupby(["entity", "asset"], as_index=False)["usd"].sum()
    holdings = pd.DataFrame(
        {
            "entity": ids[hold["entity"].to_numpy()],
            "asset": assets["symbol"].to_numpy()[hold["asset"].to_numpy()],
            "amount": np.round(hold["usd"].to_numpy() / price[hold["asset"].to_numpy()], 6),
            **prov,
        }
    )

    # Cohorts: five health-factor buckets per lending / CDP protocol.
    lenders = np.flatnonzero(np.isin(etype, ["lending_protocol", "cdp_protocol"]))
    hf = np.array([1.05, 1.2, 1.5, 2.0, 3.0])
    c_proto = np.repeat(lenders, len(hf))
    c_hf = np.tile(hf, len(lenders))
    c_coll = rng.choice([0, 1, 2], size=len(c_proto))
    is_cdp = etype[c_proto] == "cdp_protocol"
    lt = np.where(is_cdp, 1 / 1.5, np.where(c_coll == 2, 0.81, 0.825))
    coll_usd = (rng.pareto(1.5, size=len(c_proto)) + 1.0) * 2e7
    debt_usd = coll_usd * lt / c_hf
    cohorts = pd.DataFrame(
        {
            "id": [f"C{i:06d}" for i in range(len(c_proto))],
            "protocol": ids[c_proto],
            "borrower": "",
            "collateral_asset": assets["symbol"].to_numpy()[c_coll],
            "debt_asset": np.where(is_cdp, "DAI", "USDC"),
            "collateral_amount": np.round(coll_usd / price[c_coll], 6),
            "debt_amount": np.round(debt_usd, 2),
            "liquidation_threshold": lt,
            "liquidation_bonus": np.where(is_cdp, 0.13, 0.075),
            "close_factor": np.where(is_cdp, 1.0, 0.5),
            "style": np.where(is_cdp, "maker", "aave"),
            "underwater_ok": False,
            **prov,
        }
    )

    # Balance sheets: other assets pad the book; thin equity of 4-20 % of assets.
    claims = np.bincount(cred, weights=amount, minlength=n)
    debts = np.bincount(debt, weights=amount, minlength=n)
    hold_usd = np.bincount(hold["entity"].to_numpy(), weights=hold["usd"].to_numpy(), minlength=n)
    other_assets = np.round((rng.pareto(1.5, size=n) + 1.0) * 1e7, 2)
    total_assets = claims + hold_usd + other_assets
    equity_share = rng.uniform(0.04, 0.20, size=n)
    # Pad other assets where debts alone would exceed the book, so every entity starts solvent.
    short = debts / (1 - equity_share) - total_assets
    other_assets = np.round(other_assets + np.maximum(short, 0.0), 2)
    total_assets = claims + hold_usd + other_assets
    other_liab = np.round(np.maximum(total_assets * (1 - equity_share) - debts, 0.0), 2)
    entities = pd.DataFrame(
        {
            "id": ids,
            "name": [f"Synthetic {t.replace('_', ' ')} {i}" for i, t in enumerate(etype)],
            "type": etype,
            "region": [_TYPE_REGION[t] for t in etype],
            "chain": "Synthetic",
            "other_assets_usd": other_assets,
            "other_liabilities_usd": other_liab,
            "reported_equity_usd": np.nan,
            "liquid_share": 0.2,
            "insurance_fund_usd": 0.0,
            **prov,
        }
    )
    return Network.from_frames(
        name=f"synthetic-{n}-{m}-{seed}",
        entities=entities,
        assets=assets,
        holdings=holdings,
        exposures=exposures,
        cohorts=cohorts,
        correlations=None,
    )

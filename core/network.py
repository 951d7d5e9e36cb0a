"""The network: entities, assets, holdings, exposures, borrower cohorts and perpetual positions.

A :class:`Network` is an immutable bundle of validated pandas DataFrames, one
per table of :mod:`core.schema`. It is built by the loaders in :mod:`core.io`
(a folder of CSV files, one JSON file, or DataFrames) and exported back to
DataFrames, CSV, JSON and a ``networkx.MultiDiGraph``.

Balance-sheet identity
----------------------
For every entity i, in USD at reference prices::

    derived_equity_i = Σ_a holdings_ia · price_a            (token positions)
                     + Σ_j exposure_ij                      (claims on others)
                     + other_assets_i
                     + Σ_c∈borrower(i) collateral_c · price  (collateral locked in protocols)
                     + Σ_j pledged_ij · price                (collateral pledged on its collateralised loans)
                     + Σ_c∈protocol(i) debt_c · price        (a protocol's loan book)
                     − Σ_j exposure_ji                      (debts to others)
                     − Σ_c∈borrower(i) debt_c · price        (protocol borrowing)
                     − other_liabilities_i

:meth:`Network.balance_sheet` computes it and compares it with
``reported_equity_usd`` where an entity reports one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from .frozen import FrozenFrame, freeze
from .schema import TABLES
from .validation import DataValidationError, Origin, Problem, validate_tables
from .writers import network_to_json, write_csv_folder

if TYPE_CHECKING:  # imported where a graph is built: ~0.2 s of every process's `import core` otherwise
    import networkx as nx

#: Relative mismatch between derived and reported equity tolerated before it is reported.
EQUITY_TOLERANCE = 0.05


@dataclass(frozen=True, eq=False)
class Network:
    """A validated snapshot of the ecosystem. Build it with :func:`core.io.load_network` or :meth:`from_frames`.

    Its tables are read-only (:mod:`core.frozen`): an edit raises instead of
    leaving cached results stale. Edit a copy and build a new network.

    Examples
    --------
    >>> import core
    >>> net = core.datasets.load("crypto-2022-05")
    >>> net.exposures["amount_usd"] *= 10
    Traceback (most recent call last):
    ...
    TypeError: this table is read-only (a Network's tables are immutable): edit a copy (table.copy()) and build a new Network from it
    >>> ex = net.exposures.copy()
    >>> ex["amount_usd"] *= 10
    >>> bigger = Network.from_frames(name="x10", **{t: getattr(net, t) for t in TABLES if t != "exposures"}, exposures=ex)
    >>> float(bigger.exposures["amount_usd"].sum()) == 10 * float(net.exposures["amount_usd"].sum())
    True
    """

    entities: pd.DataFrame
    assets: pd.DataFrame
    holdings: pd.DataFrame
    exposures: pd.DataFrame
    cohorts: pd.DataFrame
    correlations: pd.DataFrame
    positions: pd.DataFrame
    venues: pd.DataFrame
    maker_ilks: pd.DataFrame
    pegs: pd.DataFrame
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only tables (core.frozen): what is cached on a network (the engine's compiled arrays, the
        # entity index) stays true, because an edit in place fails loudly instead of being silently ignored.
        for table in TABLES:
            df = getattr(self, table)
            if isinstance(df, pd.DataFrame) and not isinstance(df, FrozenFrame):
                object.__setattr__(self, table, freeze(df))

    # -- construction -------------------------------------------------------
    @classmethod
    def from_frames(cls, name: str = "", **frames: pd.DataFrame | None) -> "Network":
        """Validate DataFrames (one per table; optional tables may be omitted)."""
        return network_from_frames(frames, name=name)

    # -- lookups ------------------------------------------------------------
    @cached_property
    def entity_ids(self) -> pd.Index:
        return pd.Index(self.entities["id"], name="entity")

    @cached_property
    def asset_symbols(self) -> pd.Index:
        return pd.Index(self.assets["symbol"], name="asset")

    @cached_property
    def names(self) -> dict[str, frozenset[str]]:
        """The names a scenario may use, by role: ``entities``, ``assets``, ``pegged`` and ``pooled`` assets,
        perpetuals ``venues`` and the venues with a backstop vault (``vaulted``)."""
        a, e, v = self.assets, self.entities, self.venues
        return {"entities": frozenset(e["id"]), "assets": frozenset(a["symbol"]),
                "pegged": frozenset(a.loc[a["peg_target"].notna(), "symbol"]),
                "pooled": frozenset(a.loc[a["amm_pool"] != "", "symbol"]),
                "venues": frozenset(e.loc[e["type"] == "perpetuals_venue", "id"]),
                "vaulted": frozenset(v.loc[v["backstop_vault_usd"] > 0, "venue"])}

    @property
    def n_entities(self) -> int:
        return len(self.entities)

    @property
    def prices(self) -> pd.Series:
        """Reference prices (USD) by asset symbol."""
        return pd.Series(self.assets["price_usd"].to_numpy(), index=self.asset_symbols, name="price_usd")

    def entity_pos(self, ids: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        return self.entity_ids.get_indexer(ids)

    def asset_pos(self, symbols: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        return self.asset_symbols.get_indexer(symbols)

    # -- accounting ---------------------------------------------------------
    def balance_sheet(self) -> pd.DataFrame:
        """Per entity: itemised assets and liabilities (USD), derived equity and its check.

        Columns: ``holdings_usd, claims_usd, other_assets_usd, locked_collateral_usd,
        pledged_collateral_usd, loan_book_usd, total_assets_usd, debts_usd, protocol_debt_usd, other_liabilities_usd,
        total_liabilities_usd, derived_equity_usd, reported_equity_usd,
        equity_mismatch_usd, equity_mismatch`` (True when the two differ by more
        than 5 % of total assets).
        """
        n = self.n_entities
        p = self.prices
        hold = np.bincount(
            self.entity_pos(self.holdings["entity"]),
            weights=self.holdings["amount"].to_numpy() * p.reindex(self.holdings["asset"]).to_numpy(),
            minlength=n,
        )
        amt = self.exposures["amount_usd"].to_numpy()
        claims = np.bincount(self.entity_pos(self.exposures["creditor"]), weights=amt, minlength=n)
        debts = np.bincount(self.entity_pos(self.exposures["debtor"]), weights=amt, minlength=n)
        named = self.cohorts[self.cohorts["borrower"] != ""]
        bpos = self.entity_pos(named["borrower"])
        locked = np.bincount(bpos, weights=named["collateral_amount"].to_numpy() * p.reindex(named["collateral_asset"]).to_numpy(), minlength=n)
        pdebt = np.bincount(bpos, weights=named["debt_amount"].to_numpy() * p.reindex(named["debt_asset"]).to_numpy(), minlength=n)
        # A protocol's loan book: what its borrower cohorts owe it.
        book = np.bincount(self.entity_pos(self.cohorts["protocol"]),
                           weights=self.cohorts["debt_amount"].to_numpy() * p.reindex(self.cohorts["debt_asset"]).to_numpy(),
                           minlength=n)
        # Collateral pledged on a collateralised loan stays the debtor's asset (outside its holdings).
        pl = self.exposures
        pledged_val = pl["collateral_amount"].fillna(0.0).to_numpy() * p.reindex(pl["collateral_asset"]).fillna(0.0).to_numpy()
        pledged = np.bincount(self.entity_pos(pl["debtor"]), weights=pledged_val, minlength=n)
        oa = self.entities["other_assets_usd"].to_numpy()
        ol = self.entities["other_liabilities_usd"].to_numpy()
        ta = hold + claims + oa + locked + pledged + book
        tl = debts + pdebt + ol
        derived = ta - tl
        reported = self.entities["reported_equity_usd"].to_numpy(dtype=float)
        mismatch = derived - reported
        flag = np.abs(np.nan_to_num(mismatch)) > EQUITY_TOLERANCE * np.maximum(ta, 1.0)
        return pd.DataFrame(
            {
                "holdings_usd": hold,
                "claims_usd": claims,
                "other_assets_usd": oa,
                "locked_collateral_usd": locked,
                "pledged_collateral_usd": pledged,
                "loan_book_usd": book,
                "total_assets_usd": ta,
                "debts_usd": debts,
                "protocol_debt_usd": pdebt,
                "other_liabilities_usd": ol,
                "total_liabilities_usd": tl,
                "derived_equity_usd": derived,
                "reported_equity_usd": reported,
                "equity_mismatch_usd": mismatch,
                "equity_mismatch": flag,
            },
            index=self.entity_ids,
        )

    def equity_mismatches(self) -> pd.DataFrame:
        """Entities whose reported equity disagrees with the balance-sheet identity."""
        bs = self.balance_sheet()
        return bs.loc[bs["equity_mismatch"], ["derived_equity_usd", "reported_equity_usd", "equity_mismatch_usd"]]

    @cached_property
    def dates(self) -> dict[str, Any]:
        """The snapshot's date, ``as_of``: the date most of its rows state (ties: the latest), with the range
        of its rows' dates, ``as_of_range``. (The latest row's date dated 2025-10 as 2025-11-07 after a few
        rows sourced from November reports.)"""
        dates = pd.concat([getattr(self, t)["as_of"].astype(str) for t in TABLES if len(getattr(self, t))])
        if not len(dates):
            return {"as_of": "", "as_of_range": ["", ""]}
        counts = dates.value_counts()
        return {"as_of": max(counts.index[counts == counts.max()]), "as_of_range": [dates.min(), dates.max()]}

    def describe(self, top: int = 5) -> dict[str, Any]:
        """Summary figures: entities by type, totals, largest creditors and debtors."""
        exp = self.exposures
        cred = exp.groupby("creditor")["amount_usd"].sum().sort_values(ascending=False)
        debt = exp.groupby("debtor")["amount_usd"].sum().sort_values(ascending=False)
        flags = pd.concat([getattr(self, t)["flag"] for t in TABLES]).value_counts()
        bs = self.balance_sheet()
        return {
            "name": self.name,
            **self.dates,
            "entities": int(len(self.entities)),
            "entities_by_type": self.entities["type"].value_counts().to_dict(),
            "assets": int(len(self.assets)),
            "holdings": int(len(self.holdings)),
            "exposures": int(len(exp)),
            "cohorts": int(len(self.cohorts)),
            "positions": int(len(self.positions)),
            "maker_ilks": int(len(self.maker_ilks)),
            "pegs": int(len(self.pegs)),
            "open_interest_usd": float((self.positions["size"] * self.positions["entry_price"]).sum()),
            "total_exposure_usd": float(exp["amount_usd"].sum()),
            "total_holdings_usd": float(bs["holdings_usd"].sum()),
            "cohort_debt_usd": float((self.cohorts["debt_amount"] * self.cohorts["debt_asset"].map(self.prices)).sum()),
            "rows_sourced": int(flags.get("sourced", 0)),
            "rows_estimate": int(flags.get("estimate", 0)),
            "largest_creditors_usd": cred.head(top).to_dict(),
            "largest_debtors_usd": debt.head(top).to_dict(),
            "equity_mismatches": self.equity_mismatches().index.tolist(),
        }

    # -- export -------------------------------------------------------------
    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables as DataFrames (copies), keyed by table name."""
        return {name: getattr(self, name).copy() for name in TABLES}

    def to_csv(self, folder: str) -> None:
        write_csv_folder(self, folder)

    def to_json(self, path: str | None = None) -> str:
        return network_to_json(self, path)

    def to_networkx(self) -> nx.MultiDiGraph:
        """A MultiDiGraph: one node per entity, one edge creditor → debtor per exposure.

        Node attributes are the entity's columns plus its balance-sheet figures;
        edge keys are exposure ids and edge attributes the exposure's columns.
        Assets, holdings, cohorts, positions, venues and pegs ride along in ``G.graph``.
        """
        import networkx as nx

        g = nx.MultiDiGraph(name=self.name)
        bs = self.balance_sheet()
        ent = self.entities.set_index("id", drop=False)
        node_attrs = ent.join(bs[["total_assets_usd", "total_liabilities_usd", "derived_equity_usd"]])
        g.add_nodes_from((i, _clean(r)) for i, r in zip(node_attrs.index, node_attrs.to_dict("records")))
        g.add_edges_from(
            (r["creditor"], r["debtor"], r["id"], _clean(r)) for r in self.exposures.to_dict("records")
        )
        g.graph.update(
            assets=self.assets.to_dict("records"),
            holdings=self.holdings.to_dict("records"),
            cohorts=self.cohorts.to_dict("records"),
            positions=self.positions.to_dict("records"),
            venues=self.venues.to_dict("records"),
            pegs=self.pegs.to_dict("records"),
        )
        return g


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in d.items()}


def network_from_frames(frames: Mapping[str, pd.DataFrame | None], *, name: str = "") -> Network:
    """Validate DataFrames into a network (problems name the table and record number).

    Parameters
    ----------
    frames : mapping of str to DataFrame or None
        One DataFrame per table name (``entities``, ``assets``, ``holdings``,
        ``exposures`` required; optional tables may be None or missing).
    name : str
        The network's name.

    Returns
    -------
    Network

    Raises
    ------
    DataValidationError
        With every problem found.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> net = synthetic(5, 6)
    >>> frames = {t: getattr(net, t) for t in ("entities", "assets", "holdings", "exposures", "cohorts")}
    >>> len(network_from_frames(frames, name="copy").exposures)
    6
    """
    unknown = [k for k in frames if k not in TABLES]
    if unknown:
        raise DataValidationError([Problem(k, None, None, None, "a table among " + ", ".join(TABLES)) for k in unknown])
    origins = {k: Origin(f"{k} (DataFrame)", 1, "record") for k in TABLES}
    raw = {k: (None if v is None else v.reset_index(drop=True)) for k, v in frames.items()}
    return Network(**validate_tables(raw, origins), name=name)

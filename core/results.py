"""What a cascade returns: round-by-round state, final state, contagion paths, summary.

All tables are pandas DataFrames so that the dashboard, the CLI and notebooks
read them the same way, and :meth:`CascadeResult.to_json` /
:meth:`CascadeResult.from_json` round-trip them exactly.

Tables
------
``rounds``   one row per (round, entity): ``round, entity, equity_usd, status,
             loss_usd`` (cumulative), ``liquidated_usd`` (collateral sold in
             liquidations of positions at this protocol or of this borrower, this round),
             ``bad_debt_usd`` (bad debt at this protocol: booked in liquidations so far, plus
             the shortfall of its loans still under water at the round's prices),
             ``bad_debt_reference_usd`` (the same shortfalls' units at their debt tokens' reference
             prices, :mod:`core.engine.reference_bad_debt`; Maker's with what End, caged at a tag above the
             market, leaves DAI's holders short: decision 23) and cumulative losses by channel ``loss_<channel>_usd``. Round 0 is the
             state just after the shock.
``prices``   one row per round, one column per asset: price in USD.
``totals``   one row per round: ``hours`` (time at the end of the round:
             ``(round + 1) × round_hours``), ``total_loss_usd, loss_share`` (of initial system
             equity), ``defaults, distressed, liquidating, liquidated_usd``
             (cumulative), ``bad_debt_usd`` (booked and still under water, as in ``rounds``),
             ``bad_debt_reference_usd`` (the same at reference prices, as in ``rounds``), ``loss_<channel>_usd``.
``nodes``    one row per entity: ``entity, name, type, region, initial_equity_usd,
             final_equity_usd, loss_usd, loss_share, status, default_round`` (−1 =
             never), ``cause`` (channel of the largest loss at default),
             ``caused_by`` (entity or asset that carried it), ``haircut`` and
             ``supplier_haircut_usd`` (a pass-through entity's loss to its owners:
             a lending pool's suppliers, Sai's PETH holders; 0 elsewhere).
``paths``    contagion edges ``source, target, round, channel, amount_usd``: whose
             failure or sale caused whose loss (``source`` may be an asset symbol
             for price channels, or the scenario itself as ``SHOCK``).
``summary``  long table ``metric, key, value``: total loss (USD and share),
             rounds, ``round_hours`` and ``hours`` (the time they span), defaults, liquidated volume, bad debt by protocol (key = protocol),
             losses by who bore them (key = suppliers, insurance_funds,
             depositors, token_holders, creditors, equity_holders); see
             :meth:`CascadeResult.summary_dict` for every metric.
``perps``    one row per perpetuals venue and round: ``venue, round,
             liquidated_usd, deficit_usd, backstop_usd, insurance_draw_usd,
             adl_usd, socialised_usd, uncovered_usd`` (no rows without positions);
             ADL and insurance draws also appear in ``paths`` as the channels
             ``adl`` (venue -> the account whose profit was taken) and
             ``insurance`` (venue -> ``INSURANCE``, the venue's fund), and a
             backstop vault's payments as ``backstop`` (venue -> vault).

Index
-----
Rows are labelled by their keys, as pandas users expect: ``nodes`` (and
:class:`core.montecarlo.MonteCarloResult`'s ``entities``) by entity
(``res.nodes.loc["FTX"]``), ``rounds`` by (round, entity)
(``res.rounds.loc[(3, "FTX")]``) and ``prices`` by round (``res.prices.loc[3]``).

Deprecation: the key columns (``entity``, ``round``) are kept as columns as
well, so code written for the old positional index (``res.nodes["entity"]``,
``res.rounds[res.rounds["round"] == 3]``) keeps working; the index levels are
unnamed while they are. From version 0.3 the key columns move into a named
index (``nodes.index.name == "entity"``): read them with ``res.nodes.index``
or ``reset_index()``. Positional labels (``res.nodes.loc[0]``) no longer work:
use ``iloc``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .result_tables import (FORMULA_PREFIXES as FORMULA_PREFIXES, INDEX_KEYS, _PREKEYED, csv_safe as csv_safe,
                            csv_text as csv_text, keyed, non_finite_cells, prekeyed as prekeyed, table_from_doc,
                            table_to_doc)
from .strict_json import finite_json_dumps

#: Entity status codes, in order of severity.
STATUSES: tuple[str, ...] = ("healthy", "distressed", "liquidating", "defaulted")

#: Loss share of initial equity at which an entity counts as "distressed" in ``status``.
DISTRESS_SHARE = 0.2

#: Initial equity, USD, below which an entity has no equity to lose a share of: what a figure rounded to whole
#: dollars writes as $0. An entity whose assets and in-kind liabilities cancel (a liquid-staking token's issuer, a
#: pool) keeps the floating-point remainder of the subtraction: JITO on crypto-2025-10, $0.00031 of a $3.2bn book,
#: and CRV_STETH in the Terra preset, $0.000595, which lost "24.3%" and "27.1%" of it and counted as distressed.
EQUITY_FLOOR_USD = 0.5

#: Initial equity, as a share of the entity's gross assets at the reference prices, below which it has no equity to
#: lose a share of either: one part in a million of its book is the data's rounding, not capital. The 2022 Uniswap
#: pools (UNI_ETH) hold 181,818.181818 ETH and $500M against LP claims floored a dollar below their value so that the
#: rounding never leaves them short: $0.9995 of a $1bn book, which read "distressed" at 22.4% and 34.2% of that
#: dollar in the ETH-crash, stETH and TAC presets (2020: UNI_ETH_DAI $0.99994 of $10M, UNI_ETH_USDC $0.99997 of $5M).
#: A fund with a thousandth of its book as equity is levered 1,000 times and keeps its share.
EQUITY_FLOOR_SHARE = 1e-6


def equity_floors(gross_assets: np.ndarray) -> np.ndarray:
    r"""Each entity's floor of initial equity below which it has no equity to lose a share of, USD:
    :math:`\max(\$0.50, 10^{-6} \times \text{gross assets})` (:data:`EQUITY_FLOOR_USD`, :data:`EQUITY_FLOOR_SHARE`).

    Examples
    --------
    >>> equity_floors(np.array([0.0, 1e5, 1e9])).tolist()
    [0.5, 0.5, 1000.0]
    """
    return np.maximum(EQUITY_FLOOR_USD, EQUITY_FLOOR_SHARE * np.asarray(gross_assets, dtype=float))


def loss_shares(loss: np.ndarray, initial_equity: np.ndarray, floor: np.ndarray | float = EQUITY_FLOOR_USD) -> np.ndarray:
    """Each entity's loss as a share of its initial equity, 0 where it had none (below its ``floor``).

    Parameters
    ----------
    loss : numpy.ndarray
        Losses, USD, any shape broadcasting with ``initial_equity``.
    initial_equity : numpy.ndarray
        Initial equities, USD.
    floor : numpy.ndarray or float
        Initial equity below which an entity has none, USD (:func:`equity_floors` of its gross assets; the compiled
        network's ``equity_floor``); :data:`EQUITY_FLOOR_USD` where no book is known.

    Returns
    -------
    numpy.ndarray
        ``loss / initial_equity`` where the entity had at least ``floor`` of equity, else 0.

    Examples
    --------
    >>> loss_shares(np.array([5.0, 0.0001, 3.0]), np.array([10.0, 0.00031, -2.0])).tolist()
    [0.5, 0.0, 0.0]
    >>> loss_shares(np.array([0.25, 0.25]), np.array([1.0, 1.0]), equity_floors(np.array([1e9, 1e5]))).tolist()
    [0.0, 0.25]
    """
    has = np.asarray(initial_equity) >= floor
    return np.where(has, loss / np.where(has, initial_equity, 1.0), 0.0)

#: Channels through which a loss reaches an entity.
#: The Maker system's state the engine records each round (``BatchResult.history["maker"]``, last axis in this order).
MAKER_HISTORY: tuple[str, ...] = ("surplus_usd", "deficit_usd", "mkr_supply", "mkr_price_usd", "mkr_minted", "flop_raised_usd",
                                  "penalty_usd", "bad_debt_usd", "under_auction_usd", "failed", "flap_paid_usd", "mkr_burnt",
                                  "pledged_usd",  # the deficit waiting vow.wait that MKR holders owe (flop_pledge)
                                  "end_left_usd")  # what End, caged above the market, leaves DAI's holders (maker_end.left_to_holders)

CHANNELS: tuple[str, ...] = (
    "shock",        # the scenario's own initial loss (forced default, direct price move)
    "market",       # mark-to-market of token holdings (includes depegs and fire-sale impact)
    "liquidation",  # a borrower's loss when its collateral is seized at a bonus
    "bad_debt",     # a protocol's bad debt passed to insurance fund and suppliers
    "default",      # credit loss on claims against a defaulted entity (clearing)
    "run",          # fire-sale loss from meeting withdrawals or liquidating a defaulted estate
)

_TABLES = ("rounds", "prices", "totals", "nodes", "paths", "summary", "perps")

#: Columns of ``perps``: one row per perpetuals venue and round (``deficit = backstop + insurance_draw + adl +
#: socialised + uncovered``; see :mod:`core.engine.perps`).
PERPS_COLUMNS: tuple[str, ...] = ("venue", "round", "liquidated_usd", "deficit_usd", "backstop_usd", "insurance_draw_usd",
                                  "adl_usd", "socialised_usd", "uncovered_usd")


def empty_perps() -> pd.DataFrame:
    """The ``perps`` table of a network without positions: no rows, the columns of :data:`PERPS_COLUMNS`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> t = empty_perps()
    >>> len(t), list(t.columns[:3])
    (0, ['venue', 'round', 'liquidated_usd'])
    """
    return pd.DataFrame({c: np.empty(0, dtype=object if c == "venue" else np.int64 if c == "round" else float)
                         for c in PERPS_COLUMNS})  # empty arrays: a fifth of the time of empty Series


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """The outcome of one cascade: six tables (see the module docstring), the scenario and run metadata.

    Parameters
    ----------
    rounds, prices, totals, nodes, paths, summary : pandas.DataFrame
        The tables described in :mod:`core.results`.
    scenario : dict
        The scenario that was run, as a JSON-ready dict.
    meta : dict
        Run metadata (system equity, convergence, engine settings).

    Notes
    -----
    ``repr`` is one line (rounds, defaults, total loss); print a table to see it.
    :meth:`to_json` and :meth:`from_json` round-trip every finite cell exactly
    (floats are written with Python's shortest round-tripping ``repr``) and keep
    each column's dtype; a non-finite cell is written as ``null`` and reads back
    as ``NaN``.

    Examples
    --------
    >>> import core
    >>> net = core.datasets.load("crypto-2022-05")
    >>> res = core.simulate(net, core.load_scenario(core.datasets.scenario_dir() / "terra_may_2022.json"))
    >>> res                                                # doctest: +ELLIPSIS
    CascadeResult(scenario='...', rounds=..., defaults=..., total_loss_usd=...)
    >>> res.summary_dict()["total_loss_usd"] == res.summary_value("total_loss_usd")
    True
    >>> again = core.CascadeResult.from_json(res.to_json())
    >>> all(getattr(again, t).equals(getattr(res, t)) for t in ("rounds", "prices", "totals", "nodes", "paths", "summary"))
    True
    """

    rounds: pd.DataFrame
    prices: pd.DataFrame
    totals: pd.DataFrame
    nodes: pd.DataFrame
    paths: pd.DataFrame
    summary: pd.DataFrame
    scenario: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    perps: pd.DataFrame = field(default_factory=empty_perps)

    def __post_init__(self) -> None:
        done = _PREKEYED.get()
        for name, keys in INDEX_KEYS.items():
            if name not in done:
                object.__setattr__(self, name, keyed(getattr(self, name), keys))

    def __repr__(self) -> str:
        name = self.scenario.get("name", "") if isinstance(self.scenario, dict) else ""
        return (f"CascadeResult(scenario={name!r}, rounds={self.n_rounds}, "
                f"defaults={int(self.summary_value('defaults'))}, "
                f"total_loss_usd={self.summary_value('total_loss_usd'):.6g})")

    @property
    def n_rounds(self) -> int:
        """Number of rounds recorded (round 0, the shock, included)."""
        return int(self.totals["round"].max()) + 1 if len(self.totals) else 0

    def summary_value(self, metric: str, key: str = "") -> float:
        """One number of the ``summary`` table (0.0 when the metric/key pair is absent)."""
        s = self.summary
        hit = s[(s["metric"] == metric) & (s["key"] == key)]
        return float(hit["value"].iloc[0]) if len(hit) else 0.0

    def summary_dict(self) -> dict[str, Any]:
        """The ``summary`` table as a dict: a float per unkeyed metric, a ``{key: float}`` dict per keyed one.

        Returns
        -------
        dict
            The fields the engine writes (every amount in USD, every share a
            fraction of the initial system equity):

            ``total_loss_usd``
                Loss of equity summed over all entities at the end of the cascade.
            ``loss_share``
                ``total_loss_usd`` over ``system_equity_usd`` (0 when that is 0).
            ``system_equity_usd``
                Equity of all entities before the shock.
            ``defaults``
                Number of entities in default at the end.
            ``liquidated_usd``
                Collateral sold in liquidations over all rounds.
            ``bad_debt_usd``
                Bad debt of lending protocols: booked in liquidations over all rounds, plus the
                shortfall of loans still under water at the end (not yet liquidated), marked at the
                closing prices (each shortfall's debt-token units at the debt token's price at the end).
            ``bad_debt_reference_usd``
                The same shortfalls in their debt tokens' units, valued at the tokens' reference prices
                (a dollar-pegged token at its peg, any other at its snapshot price): the units a lender
                is short, which a deeper shock never lowers when the cascade is monotone
                (:mod:`core.engine.reference_bad_debt`); a loan whose collateral is at the price floor
                (a bound on a worthless token, not a price) is short its whole debt. Maker's includes what DAI's holders are left short
                when End shuts it down at a tag (the OSM's price) above the market (decision 23), which
                ``bad_debt_usd`` does not count.
            ``bad_debt_token_fall_usd``
                ``bad_debt_reference_usd`` less ``bad_debt_usd``: the part of the shortfall the debt
                tokens' own fall takes off its dollar value (a gain to the debtors, not less bad debt;
                negative where a debt token ended above its reference price), and End's shortfall to DAI's
                holders where Maker was caged above the market.
            ``rounds``
                Number of rounds run after the shock.
            ``round_hours``
                What one round stands for, in hours (the scenario's ``round_hours``, default 24).
            ``hours``
                The time the rounds span: ``rounds × round_hours``.
            ``writedowns_usd``
                Creditors' write-downs at clearing: network creditors, depositors
                and creditors outside the network (with a failed issuer's tokens held in the
                network, whose holders bear them through the token's price).
            ``shortfall_usd``
                Debtors' unpaid obligations at clearing.
            ``bad_debt_by_protocol_usd``
                ``{protocol: USD}`` for each protocol with bad debt (absent when none has any).
            ``bad_debt_reference_by_protocol_usd``
                The same at reference prices (``bad_debt_reference_usd``), ``{protocol: USD}``.
            ``supplier_haircut_usd``
                What pass-through entities' owners bore (:mod:`core.mechanisms.pass_through`): lending
                pools' shortfalls to their suppliers (already in the suppliers' losses) and PETH holders' cover
                of Sai's bad debt; ``supplier_haircut_by_pool_usd`` and ``supplier_haircut_by_pool``
                (``{pool: USD}``, ``{pool: share}``) per entity, absent when none has one.
            ``loss_by_bearer_usd``
                ``{bearer: USD}``: who bore the losses (``suppliers``,
                ``depositors``, ``insurance_funds``, ``token_holders``,
                ``creditors``, ``equity_holders``, ``outside_creditors`` (a failed issuer's tokens
                held outside the network; those held in it fall on their holders, once:
                :mod:`core.engine.token_holders`),
                ``governance_token_holders``: MKR holders diluted by Maker's debt auctions, less what its
                surplus auctions paid them for the MKR they burnt (negative where those paid more),
                ``pooled_collateral_owners``: Sai's PETH holders diluted to cover its bad debt,
                ``outside_traders``: what perpetuals accounts outside the network lost to the network: margin
                left at their liquidation to a venue's insurance fund or backstop vault, and profit taken by ADL or
                a socialised haircut, ``outside_borrowers``: the liquidation penalties and fees that
                borrowers outside the network (anonymous cohorts) paid into its protocols: Maker's ``chop``
                (dog.sol/clip.sol), Aave v3's ``liquidationProtocolFee``, Compound v2's
                ``protocolSeizeShareMantissa``, the PSM's ``tin``/``tout``; not the bonus paid to liquidators
                outside the network. Margin and penalties count as far as the receiver's gain lowers a counted
                loss: not what a vault, fund or protocol keeps above its initial equity, one cap for all it
                received, :mod:`core.engine.outside_transfers`).
            ``loss_by_channel_usd``
                ``{channel: USD}`` for each channel of :data:`CHANNELS`.
            ``maker``
                Only for a network with a Maker system (``maker_ilks``): ``{key: value}`` with
                ``surplus_buffer_end_usd``, ``bad_debt_usd`` (auction shortfalls),
                ``penalty_income_usd`` (chop credited to the Vow), ``debt_auctions_raised_usd``,
                ``debt_auctions_owed_usd`` (the deficit still waiting ``vow.wait``, owed by MKR holders), ``mkr_minted``, ``mkr_price_start_usd``, ``mkr_price_end_usd`` (0 once End has caged the system: End pays MKR's holders nothing),
                ``backstop_failed`` (1 when MKR could not cover the deficit) and ``end_left_to_holders_usd`` (what
                End, caged at a tag above the market, leaves DAI's holders short, at DAI's peg: the part of
                Maker's ``bad_debt_reference_usd`` that ``bad_debt_usd`` does not count, decision 23).

            ``perps``
                ``{venue: {column: USD}}``: each perpetuals venue's totals over the
                rounds (the columns of :attr:`perps` after ``round``); absent
                for a network without positions.

            Metrics the engine adds later appear the same way (a float, or a
            dict when they carry keys); read :attr:`summary` for the full table.

        Examples
        --------
        >>> from core import Scenario, simulate
        >>> from core.datasets import synthetic
        >>> s = simulate(synthetic(20, 50, seed=1), Scenario(price_shocks={"ETH": -0.4})).summary_dict()
        >>> s["defaults"], s["rounds"], s["hours"]
        (15.0, 12.0, 288.0)
        >>> sorted(s["loss_by_bearer_usd"])[:3]
        ['creditors', 'depositors', 'equity_holders']
        """
        out: dict[str, Any] = {}
        for metric, grp in self.summary.groupby("metric", sort=False):
            if len(grp) == 1 and grp["key"].iloc[0] == "":
                out[str(metric)] = float(grp["value"].iloc[0])
            else:
                out[str(metric)] = {str(k): float(v) for k, v in zip(grp["key"], grp["value"])}
        if len(self.perps):
            sums = self.perps.groupby("venue", sort=False)[list(PERPS_COLUMNS[2:])].sum()
            out["perps"] = {str(v): {c: float(x) for c, x in row.items()} for v, row in sums.iterrows()}
        return out

    def defaults_in_order(self) -> pd.DataFrame:
        """The ``nodes`` rows of defaulted entities, by default round then by loss (largest first)."""
        n = self.nodes
        return n[n["default_round"] >= 0].sort_values(["default_round", "loss_usd"], ascending=[True, False])

    def to_json(self) -> str:
        """Strict JSON (RFC 8259): a non-finite number is written as null and listed under ``null_reasons``.

        Each table is ``{"columns", "data", "dtypes"}`` (pandas' ``split`` layout
        plus the column dtypes); floats keep all their digits, so
        :meth:`from_json` gives back equal tables.
        """
        doc: dict[str, Any] = {name: table_to_doc(getattr(self, name)) for name in _TABLES}
        doc["scenario"] = self.scenario
        doc["meta"] = self.meta
        reasons = [r for name in _TABLES for r in non_finite_cells(getattr(self, name), name)]
        if reasons:
            doc["null_reasons"] = reasons
        return finite_json_dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> "CascadeResult":
        """The result written by :meth:`to_json` (files without ``dtypes`` are read with inferred dtypes)."""
        doc = json.loads(text)
        tables = {name: table_from_doc(doc[name]) for name in _TABLES if name in doc}  # results before perps: none
        return cls(**tables, scenario=doc.get("scenario", {}), meta=doc.get("meta", {}))

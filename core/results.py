"""What a cascade returns: round-by-round state, final state, contagion paths, summary.

All tables are pandas DataFrames so that the dashboard, the CLI and notebooks
read them the same way, and :meth:`CascadeResult.to_json` /
:meth:`CascadeResult.from_json` round-trip them exactly.

Tables
------
``rounds``   one row per (round, entity): ``round, entity, equity_usd, status,
             loss_usd`` (cumulative), ``liquidated_usd`` (collateral sold in
             liquidations of positions at this protocol or of this borrower, this round),
             ``bad_debt_usd`` (cumulative bad debt booked at this protocol) and
             cumulative losses by channel ``loss_<channel>_usd``. Round 0 is the
             state just after the shock.
``prices``   one row per round, one column per asset: price in USD.
``totals``   one row per round: ``hours`` (time at the end of the round:
             ``(round + 1) × round_hours``), ``total_loss_usd, loss_share`` (of initial system
             equity), ``defaults, distressed, liquidating, liquidated_usd``
             (cumulative), ``bad_debt_usd`` (cumulative), ``loss_<channel>_usd``.
``nodes``    one row per entity: ``entity, name, type, region, initial_equity_usd,
             final_equity_usd, loss_usd, loss_share, status, default_round`` (−1 =
             never), ``cause`` (channel of the largest loss at default) and
             ``caused_by`` (entity or asset that carried it).
``paths``    contagion edges ``source, target, round, channel, amount_usd``: whose
             failure or sale caused whose loss (``source`` may be an asset symbol
             for price channels, or the scenario itself as ``SHOCK``).
``summary``  long table ``metric, key, value``: total loss (USD and share),
             rounds, ``round_hours`` and ``hours`` (the time they span), defaults, liquidated volume, bad debt by protocol (key = protocol),
             losses by who bore them (key = suppliers, insurance_funds,
             depositors, token_holders, creditors, equity_holders).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Entity status codes, in order of severity.
STATUSES: tuple[str, ...] = ("healthy", "distressed", "liquidating", "defaulted")

#: Channels through which a loss reaches an entity.
CHANNELS: tuple[str, ...] = (
    "shock",        # the scenario's own initial loss (forced default, direct price move)
    "market",       # mark-to-market of token holdings (includes depegs and fire-sale impact)
    "liquidation",  # a borrower's loss when its collateral is seized at a bonus
    "bad_debt",     # a protocol's bad debt passed to insurance fund and suppliers
    "default",      # credit loss on claims against a defaulted entity (clearing)
    "run",          # fire-sale loss from meeting withdrawals or liquidating a defaulted estate
)

_TABLES = ("rounds", "prices", "totals", "nodes", "paths", "summary")


@dataclass(frozen=True, eq=False)
class CascadeResult:
    rounds: pd.DataFrame
    prices: pd.DataFrame
    totals: pd.DataFrame
    nodes: pd.DataFrame
    paths: pd.DataFrame
    summary: pd.DataFrame
    scenario: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rounds(self) -> int:
        return int(self.totals["round"].max()) + 1 if len(self.totals) else 0

    def summary_value(self, metric: str, key: str = "") -> float:
        s = self.summary
        hit = s[(s["metric"] == metric) & (s["key"] == key)]
        return float(hit["value"].iloc[0]) if len(hit) else 0.0

    def summary_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for metric, grp in self.summary.groupby("metric", sort=False):
            if len(grp) == 1 and grp["key"].iloc[0] == "":
                out[str(metric)] = float(grp["value"].iloc[0])
            else:
                out[str(metric)] = {str(k): float(v) for k, v in zip(grp["key"], grp["value"])}
        return out

    def defaults_in_order(self) -> pd.DataFrame:
        n = self.nodes
        return n[n["default_round"] >= 0].sort_values(["default_round", "loss_usd"], ascending=[True, False])

    def to_json(self) -> str:
        doc = {name: json.loads(getattr(self, name).to_json(orient="split", index=False, double_precision=15)) for name in _TABLES}
        doc["scenario"] = self.scenario
        doc["meta"] = self.meta
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> "CascadeResult":
        doc = json.loads(text)
        tables = {
            name: pd.read_json(io.StringIO(json.dumps(doc[name])), orient="split", dtype=False)
            for name in _TABLES
        }
        return cls(**tables, scenario=doc.get("scenario", {}), meta=doc.get("meta", {}))

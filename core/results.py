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

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .strict_json import finite_json_dumps

#: Entity status codes, in order of severity.
STATUSES: tuple[str, ...] = ("healthy", "distressed", "liquidating", "defaulted")

#: Loss share of initial equity at which an entity counts as "distressed" in ``status``.
DISTRESS_SHARE = 0.2

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
        """Strict JSON (RFC 8259): a non-finite number is written as null and listed under ``null_reasons``."""
        doc: dict[str, Any] = {name: json.loads(getattr(self, name).to_json(orient="split", index=False, double_precision=15))
                               for name in _TABLES}
        doc["scenario"] = self.scenario
        doc["meta"] = self.meta
        reasons = [r for name in _TABLES for r in non_finite_cells(getattr(self, name), name)]
        if reasons:
            doc["null_reasons"] = reasons
        return finite_json_dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> "CascadeResult":
        doc = json.loads(text)
        tables = {
            name: pd.read_json(io.StringIO(json.dumps(doc[name])), orient="split", dtype=False)
            for name in _TABLES
        }
        return cls(**tables, scenario=doc.get("scenario", {}), meta=doc.get("meta", {}))


def non_finite_cells(df: pd.DataFrame, table: str) -> list[dict[str, str]]:
    """Where a table holds NaN or ±inf (pandas writes them as JSON null): one entry per column, with its reason."""
    out = []
    for col in df.columns:
        s = df[col]
        if not pd.api.types.is_float_dtype(s):
            continue
        v = s.to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if bad.any():
            rows = np.flatnonzero(bad)
            kinds = sorted({"NaN" if np.isnan(x) else ("inf" if x > 0 else "-inf") for x in v[rows[:1000]]})
            out.append({"where": f"{table}.{col}", "value": "/".join(kinds),
                        "rows": ", ".join(map(str, rows[:20].tolist())) + (" ..." if len(rows) > 20 else ""),
                        "reason": "not a finite number (undefined, e.g. a share of a zero total, or an overflow); "
                                  "JSON has no Infinity or NaN"})
    return out


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells beginning with = + - @ tab or CR get a leading ``'``.

    OWASP's rule against CSV (formula) injection: an entity named ``=HYPERLINK(...)``
    in a dataset would otherwise run as a formula when the output is opened in a
    spreadsheet. Numbers are left as they are (a negative number is not text).
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            text = s.astype(object)
            risky = (s.notna() & text.astype(str).str.startswith(FORMULA_PREFIXES)).to_numpy(dtype=bool)
            if risky.any():
                out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def csv_text(df: pd.DataFrame) -> str:
    """CSV for output (the CLI's --format csv and sweep tables): formula cells escaped (:func:`csv_safe`) and every text cell quoted.

    Quoting every text cell keeps a carriage return or tab inside its cell (a
    spreadsheet would otherwise start a new row) and follows OWASP's advice to
    wrap cells in double quotes; numbers are written bare.
    """
    return csv_safe(df).to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)

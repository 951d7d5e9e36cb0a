"""The result's ``summary`` table: totals, bad debt by protocol, who bore the losses, the Maker system's story.

Written from the engine's batch result and the recorded history (:mod:`core.report`, whose
:func:`~core.report.build_result` calls :func:`summary_table`)."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .network import Network
from .report_paths import sparse_record
from .report_rounds import inferred_strings
from .results import CHANNELS, MAKER_HISTORY

_SUPPLIER_DEBTORS = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking")
#: :func:`_supplier_debtors` by compiled network.
_SUPPLIER_MASKS: "weakref.WeakKeyDictionary[object, np.ndarray]" = weakref.WeakKeyDictionary()


def _supplier_debtors(c) -> np.ndarray:
    """Entities whose depositors are suppliers (:data:`_SUPPLIER_DEBTORS`), (n,) bool: computed once per compiled
    network (``np.isin`` over object types sorts them: 11 ms at 100,000 entities)."""
    mask = _SUPPLIER_MASKS.get(c)
    if mask is None:
        mask = np.isin(c.etype, _SUPPLIER_DEBTORS)
        mask.flags.writeable = False
        _SUPPLIER_MASKS[c] = mask
    return mask


def _maker_rows(m: np.ndarray, mkr_price0: float) -> list[tuple[str, str, float]]:
    """The Maker system's story (``history["maker"]``, rounds x :data:`~core.results.MAKER_HISTORY`)."""
    col = {k: m[:, i] for i, k in enumerate(MAKER_HISTORY)}
    last = -1
    return [
        ("maker", "surplus_buffer_end_usd", float(col["surplus_usd"][last])),
        ("maker", "bad_debt_usd", float(col["bad_debt_usd"][last])),
        ("maker", "penalty_income_usd", float(col["penalty_usd"][last])),
        ("maker", "debt_auctions_raised_usd", float(col["flop_raised_usd"][last])),
        ("maker", "debt_auctions_owed_usd", float(col["pledged_usd"][last])),
        ("maker", "mkr_minted", float(col["mkr_minted"][last])),
        ("maker", "surplus_auctions_paid_usd", float(col["flap_paid_usd"][last])),
        ("maker", "mkr_burnt", float(col["mkr_burnt"][last])),
        ("maker", "mkr_price_start_usd", float(mkr_price0)),
        ("maker", "mkr_price_end_usd", float(col["mkr_price_usd"][last])),
        ("maker", "backstop_failed", float(col["failed"][last])),
        ("maker", "end_left_to_holders_usd", float(col["end_left_usd"][last])),
    ]


def summary_table(net: Network, c, br, sys_eq: float, R: int, round_hours: float,
             chl: np.ndarray | None = None) -> pd.DataFrame:
    """``summary``; ``chl``: each entity's final loss by channel, (n, channels) (``br.loss_by_channel``'s)."""
    s = 0
    h = br.history
    rows: list[tuple[str, str, float]] = []
    total = float(br.total_loss[s])
    rows += [
        ("total_loss_usd", "", total),
        ("loss_share", "", total / sys_eq if sys_eq > 0 else 0.0),
        ("system_equity_usd", "", sys_eq),
        ("defaults", "", float(br.defaulted[s].sum())),
        ("liquidated_usd", "", float(br.liquidated_usd[s])),
        ("bad_debt_usd", "", float(br.bad_debt[s].sum())),
        ("bad_debt_reference_usd", "", float(br.bad_debt_reference_usd[s].sum())),
        ("bad_debt_token_fall_usd", "", float(br.bad_debt_token_fall_usd[s].sum())),
        ("rounds", "", float(R)),
        ("round_hours", "", float(round_hours)),
        ("hours", "", float(R * round_hours)),
        ("writedowns_usd", "", float(br.writedowns[s])),
        ("shortfall_usd", "", float(br.shortfall[s])),
    ]
    # the keyed rows made as columns, whole (an entity's id is its str object, as the old map(str, ...) gave it)
    ids = np.asarray(c.ids, dtype=object)
    keyed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (metric, key, value) columns, in the table's order
    bad = br.bad_debt[s]
    at = np.flatnonzero(bad > 0)  # one row per protocol with bad debt
    keyed.append((np.full(len(at), "bad_debt_by_protocol_usd", dtype=object), ids[at], bad[at]))
    bad_reference = br.bad_debt_reference_usd[s]
    at = np.flatnonzero(bad_reference > 0)  # the same shortfalls in their debt tokens' units at reference prices
    keyed.append((np.full(len(at), "bad_debt_reference_by_protocol_usd", dtype=object), ids[at], bad_reference[at]))
    haircut = br.supplier_haircut_usd[s]
    keyed.append(_rows([("supplier_haircut_usd", "", float(haircut.sum()))]))
    share = br.supplier_haircut[s]  # a property computed over every entity: read once, not once per pool
    at = np.flatnonzero(haircut > 0)  # the two rows of a pool together, as before
    keyed.append((np.tile(np.array(["supplier_haircut_by_pool_usd", "supplier_haircut_by_pool"], dtype=object), len(at)),
                  np.repeat(ids[at], 2), np.column_stack([haircut[at], share[at]]).ravel()))
    tail: list[tuple[str, str, float]] = []
    # Who bore the losses.
    bearer = {k: 0.0 for k in ("suppliers", "depositors", "insurance_funds", "token_holders", "creditors", "equity_holders",
                               "outside_creditors", "governance_token_holders", "outside_traders", "pooled_collateral_owners",
                               "outside_borrowers")}
    bearer["insurance_funds"] = float(br.insurance_draw[s].sum())
    bearer["governance_token_holders"] = float(br.governance_backstop[s])  # MKR sold in debt auctions less surplus auctions' pay
    bearer["outside_creditors"] = float(br.outside_loss[s])
    bearer["outside_traders"] = float(br.traders_loss[s])  # outside perps accounts' margin kept, profit taken
    bearer["pooled_collateral_owners"] = float(br.pooled_cover_usd[s])  # Sai's PETH holders (outside the network)
    bearer["outside_borrowers"] = float(br.borrowers_penalty_loss[s])  # anonymous cohorts' penalties and fees paid in
    if chl is None:
        chl = br.loss_by_channel[s]
    # Depositor aggregates' credit losses: suppliers' when the debtor is a protocol or pool, depositors' otherwise.
    rec = sparse_record(h, "dep_loss")
    dep_loss = h["dep_loss"][s][-1] if rec is None else rec.dense_row(s, rec.rounds - 1)
    sink = c.ik_sink
    sup = sink & _supplier_debtors(c)[c.ik_debtor]  # per entity, then per claim
    agg = c.is_aggregate
    agg_credit = float(chl[agg, CHANNELS.index("default")].sum())
    sink_loss = float(dep_loss[sink].sum())
    bearer["suppliers"] = float(dep_loss[sup].sum()) * agg_credit / sink_loss if sink_loss > 0 else 0.0
    bearer["depositors"] = agg_credit - bearer["suppliers"]
    bearer["token_holders"] = float(chl[:, CHANNELS.index("market")].sum())
    bearer["creditors"] = float(chl[~agg, CHANNELS.index("default")].sum())
    other = [CHANNELS.index(x) for x in ("shock", "liquidation", "bad_debt", "run")]
    bearer["equity_holders"] = float(chl[:, other].sum())
    tail += [("loss_by_bearer_usd", k, v) for k, v in bearer.items()]
    if c.maker is not None:
        tail += _maker_rows(h["maker"][s], c.maker.mkr_price0)
    tail += [("loss_by_channel_usd", ch, float(chl[:, i].sum())) for i, ch in enumerate(CHANNELS)]
    # one table from whole columns (a DataFrame of 17,685 row tuples at synthetic(100k) cost 3.6 ms, their rows 4.5 ms
    # more): the strings wrapped as pandas makes them, without inference (inferred_strings)
    parts = [_rows(rows), *keyed, _rows(tail)]
    metric, key, value = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return pd.DataFrame({"metric": inferred_strings(metric), "key": inferred_strings(key), "value": value.astype(float, copy=False)})


def _rows(rows: list[tuple[str, str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (metric, key, value) columns of a few summary rows."""
    metric, key, value = zip(*rows) if rows else ((), (), ())
    return np.array(metric, dtype=object), np.array(key, dtype=object), np.array(value, dtype=float)

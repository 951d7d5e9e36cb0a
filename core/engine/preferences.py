"""What a run-prone estate paid its runners before it failed, recovered at its default: preferences (11 U.S.C. § 547).

A run (:mod:`core.engine.withdraw`) pays an exchange's, lender's or fund's depositors in tokens and cash, kept per
estate as ``run_out`` and ``run_cash``; at the estate's first round in default (:func:`core.engine.sell.estate_sales`)
the depositors return them and their claims revive (:func:`claw_back`), before the estate's book is sold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .known_zeros import known_zero

if TYPE_CHECKING:
    from .compiled import Compiled
    from .state import CascadeState


def claw_back(c: Compiled, s: CascadeState, es: np.ndarray, ei: np.ndarray) -> None:
    """The estates ``ei`` (in scenarios ``es``, pairs at their first round in default) recover the run withdrawals they
    paid before defaulting; in place: ``H, oa, ik_left, run_out, run_cash``.

    Model: a run's withdrawals from an entity that then fails are preferences. A transfer to a creditor on account of
    an existing debt, made while the debtor was insolvent (presumed in the 90 days before the petition, 11 U.S.C.
    § 547(f)) within those 90 days, that lets the creditor receive more than it would in a liquidation, is avoided
    (§ 547(b)); the trustee recovers the property transferred (§ 550(a)), and the creditor's claim revives for what
    it returned (§ 502(h)), to be paid pro rata with the others. The run is the excess over calm-market withdrawals
    (the ordinary course, § 547(c)(2), is not paid out as a run at all), so all of it is recovered. Celsius's plan
    (confirmed November 2023) pursued the withdrawals of more than $100,000 its account holders made in the 90 days
    before its petition of 13 July 2022, under § 547. The depositor aggregates return the tokens they received
    (as far as they still hold them; the rest at the current price) and the cash; the fire-sale losses the run
    caused stay lost (``run_loss``). A cascade longer than 90 days also recovers withdrawals older than the window
    (all are kept as one sum).

    Why: without it, the rounds of a run before the default decide who bears the estate's shortfall. On the 2022
    network (``monotone-shipped-ftt-ftx-default-round``) FTX stood at zero equity after round 1's $8.13bn run; a
    shock 2.6e-14 deeper defaulted it there, the shallower one let CEX customers withdraw $1.43bn more at par in
    round 2 before its default, which cut FTX's paid ratio from 0.429 to 0.341 for the creditors that do not run
    (Genesis's $175M trading account, BlockFi's $355M): Genesis ended $15.5M lower, $5.7M short, defaulted, and
    its estate's fire sale cost $5.94bn (system loss $24.24bn for the deeper shock, $30.18bn for the shallower). With the withdrawals
    recovered, every creditor of a failed estate recovers the same share whichever round it failed in.
    """
    at = np.searchsorted(c.clawback_idx, ei)
    ok = at < len(c.clawback_idx)
    ok[ok] = c.clawback_idx[at[ok]] == ei[ok]
    es, ei, at = es[ok], ei[ok], at[ok]
    units, cash = s.run_out[es, at], s.run_cash[es, at]
    paid = units.any(1) | (cash > 0)
    if not paid.any():
        return
    es, ei, at, units, cash = es[paid], ei[paid], at[paid], units[paid], cash[paid]
    sink = np.flatnonzero(c.ik_sink)
    # A run pays every depositor claim on an entity the same share: each returns its share of what was paid.
    pair, j = np.nonzero(c.sink_debtor[None, :] == ei[:, None])
    amount = c.ik_amount[sink[j]]
    total = np.bincount(pair, amount, len(ei))
    share = amount / np.where(total[pair] > 0, total[pair], 1.0)
    rows, cred = es[pair], c.sink_creditor[j]
    # A depositor with claims on several estates failing this round returns to each its part; what it no longer
    # holds is taken, down to zero and never below (rounding must not leave it owing a cent); its claim revives in
    # full even so (depositor aggregates spend nothing in the cascade: short only by rounding)
    key, inv = np.unique(rows * c.n + cred, return_inverse=True)
    ur, uc = np.divmod(key, c.n)
    want = units[pair] * share[:, None]
    back = want * _taken(s.H, ur, uc, _sum_rows(inv, want, len(key)))[inv]
    cash_back = cash[pair] * share + ((want - back) * s.P[rows]).sum(1)
    cash_back *= _taken(s.oa, ur, uc, np.bincount(inv, cash_back, len(key)))[inv]
    np.add.at(s.H, (rows, ei[pair]), back)
    np.add.at(s.oa, (rows, ei[pair]), cash_back)
    s.ik_left[rows, sink[j]] = c.ik_amount[sink[j]]  # only runs shrink a depositor's claim: it is whole again
    if not known_zero(s.run_out):  # (+0.0 already, and frozen: core.engine.known_zeros)
        s.run_out[es, at] = 0.0
    s.run_cash[es, at] = 0.0


def _taken(a: np.ndarray, rows: np.ndarray, cols: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Take ``demand`` from ``a[rows, cols]`` (distinct pairs; ``demand`` shaped like ``a[rows, cols]``) in place, as far
    as it is there (positive): where the demand is all of it or more, the entry ends at zero exactly. Returns the share
    of the demand taken (1 where nothing is demanded)."""
    have = np.maximum(a[rows, cols], 0.0)
    all_of_it = demand >= have
    a[rows, cols] = np.where(all_of_it, np.minimum(a[rows, cols], 0.0), a[rows, cols] - demand)
    return np.where(all_of_it & (demand > 0), have / np.where(demand > 0, demand, 1.0), 1.0)


def _sum_rows(inv: np.ndarray, x: np.ndarray, m: np.ndarray | int) -> np.ndarray:
    """Rows of ``x`` (q, k) summed by group ``inv`` into (m, k)."""
    out = np.zeros((int(m), x.shape[1]))
    np.add.at(out, inv, x)
    return out

r"""A failed perpetuals venue's estate: what it pays its named accounts on their margin *and* PnL.

Split out of :mod:`core.engine.perps` (its accounting: a named account at a venue that cannot pay in full);
the model is :func:`estate_recovery`'s and :func:`estate_set_off`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.memberships import transposed

if TYPE_CHECKING:
    from .perps import PerpsCompiled
    from .state import CascadeState

__all__ = ["estate_recovery", "estate_set_off", "pair_pnl"]


def pair_pnl(pc: PerpsCompiled, size: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Unrealised PnL of each (named account, venue) pair, (S, pairs)."""
    rows = pc.named_rows
    pnl = size[:, rows] * (P[:, pc.market[rows]] - pc.entry[rows][None])
    return np.ascontiguousarray(np.asarray(transposed(pc.by_pair) @ pnl.T).T)


def estate_recovery(pc: PerpsCompiled, s: CascadeState, size: np.ndarray, P: np.ndarray) -> np.ndarray:
    r"""What each venue's estate pays on a dollar of its customers' claims, (S, V), from last round's clearing.

    Model: a failed venue's customers are creditors of its estate for their account balances, margin *and*
    unrealised PnL (*In re FTX Trading Ltd.*, Case 22-11068, Bankr. D. Del., 2024: claims valued as the
    accounts' balances at the petition date, positions included), pari passu with its other creditors, so
    the estate's shortfall is shared over all of them:

    .. math:: \rho_v = 1 - \frac{\bar p_v - p_v}{\bar p_v + C_v},

    with :math:`\bar p_v` and :math:`p_v` what the venue owes and pays in the clearing (the unpaid part is
    its shortfall, and under Rogers-Veraart default costs also what its estate loses in bankruptcy) and
    :math:`C_v` its customers' claims the clearing does not hold: the PnL of its open positions, named and
    anonymous. Where the venue owes its customers' margin as customer balances (in-kind claims, at face in
    the clearing), a losing account's claim is its margin less its loss, so :math:`C_v` is the positions' net
    PnL; where the margin is held elsewhere (Binance's futures book: its traders' margin sits in Binance's
    customer balances), the venue owes its winners their profit and its losers owe it their loss out of
    margin it does not book, so :math:`C_v` is the winners' profit. (A venue's uncovered deficit is the
    part of its winners' profit it cannot pay: Binance, "What Is Auto-Deleveraging (ADL) and How Does It
    Work", the insurance fund and ADL cover a bankrupt position's loss so that the winners are paid;
    what neither covers is owed to them.) :math:`\rho_v \to 1` as the shortfall goes to 0.

    Before, the set-off used the clearing's paid ratio :math:`p_v / \bar p_v`, whose liabilities leave
    the customers' PnL out: Binance's futures book, its margin at Binance, owed only its $0.70M uncovered
    deficit, paid 0 of it, and its named winners lost all their profit on it, ETHENA $851M on its hedges,
    while a wBETH price 3e-14 deeper left the book $0 short and ETHENA whole: system loss fell $1.41bn
    (``monotone-2025-wbeth-weeth-binance-failed-eth-60-runs-lag1-capital-50m-edge``).

    The winners' cut is the estate's (booked at the venue by :func:`core.engine.perps.perps`), so the next clearing's shortfall
    is what they did not bear and, round by round, the shortfall :math:`U` is shared once: a winner with
    profit :math:`G` bears :math:`U G / (\bar p_v + C_v)` of it in the limit (ETHENA $114.5k of that $0.70M).

    Before the first clearing (round 0) the state's paid ratios are used."""
    v = pc.venue_entity
    if s.clearing is None:
        return s.ratio[:, v]
    owed = np.broadcast_to(s.clearing.total_liabilities, s.ratio.shape)[:, v]
    unpaid = np.maximum(owed - s.clearing.payments[:, v], 0.0)
    b = pc.pb.book
    pnl = size * (P[:, b.market] - b.entry[None])
    claims = np.where(pc.margin_in_books[b.venue][None], pnl, np.maximum(pnl, 0.0))
    customers = np.maximum(np.ascontiguousarray(np.asarray(transposed(b.in_venue) @ claims.T).T), 0.0)  # row-major, as per_entity
    total = owed + customers
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1.0 - np.minimum(unpaid / np.where(total > 0, total, 1.0), 1.0), 1.0)


def estate_set_off(pc: PerpsCompiled, s: CascadeState, size0: np.ndarray, size: np.ndarray, P: np.ndarray,
                   lost: np.ndarray, set_off0: np.ndarray) -> np.ndarray:
    r"""The set-off on each (named account, venue) pair, (S, pairs): ``set_off0`` itself where nothing is set off.

    A venue that could not pay in full last round owes its named accounts :math:`\rho (M + G)`, not
    :math:`\rho M + G` (:mod:`core.engine.perps`): the set-off :math:`-(1 - \rho)\max(G, -M)`, with
    :math:`\rho` the estate's recovery (:func:`estate_recovery`) at a venue that has defaulted and 1 elsewhere (a
    solvent one's paid ratio can be 0 on a liability of float noise, 2.4e-7 USD at Bybit's futures venue on
    the October 2025 preset, while its customers' claims are outside that ratio). The caller books its change
    at the account and the opposite at the venue: what the estate does not pay a winner it keeps for its other
    creditors (and what it owes a loser beyond its margin claim's payment it pays), so the venue's shortfall is
    borne once. ``size0`` is the book the round opened with (a failed venue's, halted), ``size`` the book after
    the round, ``lost`` (S, pairs) the margin claims already cut."""
    dead = s.defaulted[:, pc.venue_entity]
    if not dead.any() and not set_off0.any():
        return set_off0
    recovery = np.where(dead, estate_recovery(pc, s, size0, P), 1.0)
    rho = recovery[:, pc.pair_venue_index]
    if not (rho < 1.0).any() and not set_off0.any():
        return set_off0
    margin = (pc.pair_claim[None] - lost) * s.lam[:, pc.pair_venue]
    return -(1.0 - rho) * np.maximum(pair_pnl(pc, size, P), -margin)

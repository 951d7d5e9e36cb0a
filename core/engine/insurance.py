"""The insurance step of a round: bad debt paid in by the protocols' insurance funds, loans under water covered.

Split out of :mod:`core.engine.liquidate` (which re-exports these names: ``core.engine.rounds.STEPS`` runs it as
``liquidate.insurance``); the model is :func:`insurance`'s.
"""

from __future__ import annotations

import numpy as np

from ..mechanisms import pass_through
from .batch import ScenarioBatch
from .books import booked_bad_debt, debt_price, unbooked_bad_debt
from .compiled import Compiled
from .maker import insurance_funds
from .maker_book import securing_collateral
from .memo import per_network
from .state import CascadeState, Changes


def insurance(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Bad debt is paid in by the protocol's insurance fund first (the Maker system's by its own Vow:
    :func:`core.engine.maker.insurance_funds`), then what the fund has left covers loans still under water
    (:func:`~core.engine.books.unbooked_bad_debt`), which the protocol's books already write off: a
    reserve stands behind the loan book as marked, not only behind bad debt a liquidation has booked.
    The step runs at the close, just before clearing, so the cover is the shortfall clearing marks.
    (Covering booked bad debt alone, and before the round's sales moved prices, Compound defaulted in
    round 0 of ETH -30% on the 2020 system with $97k of loans under water and $1M of reserves, drawn from
    round 3 only; Aave and Compound likewise on 2022.) The cover follows the marks: if prices recover,
    the fund gets it back. The draws add the perpetuals venues' funds' losses (``perps_fund_lost``,
    :mod:`core.engine.perps`).

    A CDP protocol whose vaults' collateral is one pool (``pooled_collateral``: Sai's PETH) covers what its
    fund leaves next from the pool's owners, up to the pool's value beyond the debt it backs, the PETH barked
    vaults' owners got back included (:func:`pooled_backing`, :mod:`core.mechanisms.pass_through`; tap.sol's
    ``flop`` mints PETH): a loss
    to the vault owners outside the network (``pooled_cover``, in system loss), and its stablecoin's holders
    are paid in full while the pool has value. Like the fund's, the cover follows the marks.
    Reads ``bad_units, P, coll, debt, pooled_free, oa, ins_paid, perps_fund_lost``; writes ``bad`` (re-marked at the close,
    :func:`~core.engine.books.booked_bad_debt`), ``bad_net, ins_draw, oa, ins_paid,
    pooled_cover``."""
    venues = 0.0 if s.perps_fund_lost is None else s.perps_fund_lost
    bad = booked_bad_debt(c, s.P, s.bad_units)  # booked bad debt at the close's prices
    funds = insurance_funds(c, b.insurance)
    pooled = bool(c.pooled_collateral.any())
    under_water = unbooked_bad_debt(c, s.P, securing_collateral(c, s), s.debt) if funds.any() or pooled else 0.0
    if not bad.any() and not np.any(under_water) and not s.ins_paid.any():  # nothing to cover, nothing paid in
        return dict(bad=bad, bad_net=bad, ins_draw=bad + venues)
    booked = np.minimum(bad, funds)
    paid = booked + np.minimum(under_water, funds - booked)
    bad_net = bad - booked
    cover = s.pooled_cover
    if pooled:
        cover = pass_through.pooled_collateral_cover(bad + under_water - paid, pooled_backing(c, s.P, s.coll, s.debt, s.pooled_free))
        bad_net = bad_net - np.minimum(bad_net, cover)
    return dict(bad=bad, bad_net=bad_net, ins_draw=paid + venues, oa=s.oa + paid + cover - s.ins_paid,
                ins_paid=paid + cover, pooled_cover=cover)


def pooled_backing(c: Compiled, P: np.ndarray, coll: np.ndarray, debt: np.ndarray,
                   free: np.ndarray | None = None) -> np.ndarray:
    """What the owners of each pooled collateral can cover, (S, n): the value of its vaults' collateral beyond
    their debt, ``sum over its vaults of max(collateral x price - debt x debt price, 0)``, and of the units its
    barked vaults' auctions handed back to their owners (``free``, (S, c); None: none), which back no debt
    (Sai: PETH's value beyond the Sai it backs, :mod:`core.mechanisms.pass_through`); zero at every other
    entity. Vaults of a named borrower are left out: their owner's equity in them is on its own books (no
    snapshot has one).

    The units handed back stay in the pool: Sai's ``bite`` moves to the tap only the PETH that covers the
    tab with its penalty and leaves the rest in the cup (``cups[cup].ink = sub(cups[cup].ink, owe)``,
    makerdao/sai ``tub.sol``), still PETH, whose ``per`` the tap's ``flop`` dilutes like any other's. (Counted
    as gone from the pool, a deeper ETH fall that barked more of Sai's vaults took their owners' PETH out of
    the cover: with SAI 23.1% off peg, full runs and $50M of capital, ETH -59.73% -> -60.53% barked a further
    $2.12M of vaults in round 1, the pool's cover fell $5.71M -> $4.45M while Sai's bad debt rose, and system
    loss fell $0.65M, ``monotone-2020-sai-depeg-eth-full-runs-capital-50m``.)"""
    mine = c.pooled_collateral[c.c_proto] & ~c.c_named
    Pc = np.take(P, c.c_ca, axis=1)  # P[:, c_ca], by the faster gather (the same elements)
    surplus = np.maximum(coll * Pc - debt * debt_price(c, P), 0.0)
    if free is not None:
        surplus = surplus + free * Pc
    return c.by_proto(np.where(mine[None], surplus, 0.0))


def pooled_value(c: Compiled, P: np.ndarray, coll: np.ndarray, free: np.ndarray | None = None) -> np.ndarray:
    """Value of each pooled collateral (Sai: PETH's ``pie`` at the ETH price), (S, n): its vaults' collateral and
    the units handed back to barked vaults' owners (``free``, :func:`pooled_backing`); zero at every other entity."""
    if not c.pooled_collateral.any():
        return np.zeros((P.shape[0], c.n))
    mine = c.pooled_collateral[c.c_proto] & ~c.c_named
    units = coll if free is None else coll + free
    return c.by_proto(np.where(mine[None], units * np.take(P, c.c_ca, axis=1), 0.0))


def handed_back(c: Compiled, coll: np.ndarray, after: np.ndarray, seized: np.ndarray) -> np.ndarray | None:
    """The units of a pooled collateral each cohort's barked vaults got back this round, (S, c), or None (no
    pooled collateral): what left the cohort, ``coll - after``, beyond what was seized (the auction's remainder,
    :func:`core.engine.auction_vaults.returned_to_owner`); zero at a close-factor cohort, whose collateral
    leaves only when seized, and at a named borrower's, which keeps it (:func:`pooled_backing`)."""
    mine = per_network(c, "pooled_cohorts", lambda: c.pooled_collateral[c.c_proto] & ~c.c_named)
    if not mine.any():
        return None
    return np.where(mine[None], np.maximum(coll - after - seized, 0.0), 0.0)

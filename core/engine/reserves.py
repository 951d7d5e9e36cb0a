"""Step 4 of a round, fiat-backed stablecoins: impaired reserves, the redemption queue and the re-peg.

A fiat-backed issuer with a ``fiat_reserves`` row in the network's ``pegs``
table holds named reserves (cash at banks, T-bills, other). A scenario's
``reserve_impairments`` freezes or loses part of them at round 0 (a bank
failure: 8% of USDC's reserves at SVB on 10 March 2023). Each round holders
queue redemptions at a rate rising with the discount, the issuer's bank rails
pay up to their capacity while open, and the coin trades at the expected
recovery discounted for the wait
(:func:`~core.mechanisms.fiat_reserves.fiat_redemption_round`):

.. math:: p = \\min(1, V)(1-c)^{\\tau}, \\quad V = (L + \\rho F)/S, \\quad \\tau = n_{closed} + Q/C.

It re-pegs as the queue clears and when the impairment is resolved (the
frozen reserves return at the resolution's recovery,
:func:`~core.mechanisms.fiat_reserves.resolve_impairment`). The coin's price
is its market price times the channel's factor (``peg_factor``); the
issuer's own default (:func:`~core.engine.defend.issuer_effects`) caps the
composed price at the issuer's recovery, after every peg channel.

Who redeems. The coins the rails pay are given up by the holders who redeem, on their own account (not the
coins an exchange owes its customers in kind; a pool's reserves never), pro rata, and never more than they
hold (:mod:`core.engine.redemptions`); they receive the face in cash. Circle redeems USDC 1:1 for US dollars
and Tether USDT for its face less a fee (Circle, "USDC Terms", redemption; Tether, "Fees"; the fee is left
out): the issuer pays from its reserves and owes that face no more (its ``other_assets_usd`` and, through
``CascadeState.redeemed_usd``, its liabilities fall by the face paid, :func:`core.engine.clear.redeemed_liabilities`;
its equity does not move). (Before, the supply shrank while every holder kept its coins.)

Calibration: holders' cost of waiting ``FIAT_WAIT_COST`` per day and run
intensity ``FIAT_RUN_INTENSITY`` per day are the mechanism's worked example for
USDC on 11 March 2023 (observed low 0.87-0.88; Circle, "An Update on USDC and
Silicon Valley Bank", 11-13 Mar 2023) [estimates].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import fiat_reserves
from .batch import ScenarioBatch
from .compiled import Compiled
from .peg_terms import moved_units
from .redemptions import pay_redeemers, redeemable_units

if TYPE_CHECKING:
    from .state import CascadeState, Changes

#: Holders' cost of waiting for a redemption, per day [estimate; fiat_reserves module docstring].
FIAT_WAIT_COST = 0.02
#: New redemption requests per day per unit of discount (share of the coins not already queued) [estimate].
FIAT_RUN_INTENSITY = 0.5
#: Largest share of the coins not already queued that asks to redeem in a day.
FIAT_MAX_RATE = 0.5


def days(b: ScenarioBatch) -> np.ndarray:
    """Days one round stands for, (S,)."""
    return (b.round_hours if b.round_hours is not None else np.full(b.S, 24.0)) / 24.0


def fiat_reserves_round(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, peg_factor, fiat_*, H, oa, ik_left, redeemed_usd`` and the batch's ``impairment``; writes ``P,
    peg_factor, fiat_liquid, fiat_frozen, fiat_supply, fiat_queue, oa, redeemed_usd`` and, in place, ``H``. Nothing
    happens in a batch without impairments."""
    g = c.pegs
    if b.impairment is None or g is None or not len(g.fiat_asset):
        return {}
    fa = g.fiat_asset
    imp = b.impairment[:, fa]                                  # (S, f, 6)
    active = imp[..., 0] > 0
    if not active.any():
        return {}
    L, F = s.fiat_liquid, s.fiat_frozen
    if r == 0:  # the impairment: a fraction of total reserves, taken from the named reserve
        hit = np.arange(3)[None, None] == imp[..., 1:2].astype(int)
        frozen = np.where(hit, (imp[..., 0] * L.sum(-1))[..., None], 0.0)
        frozen = np.minimum(frozen, L)  # checked on loading: the fraction fits in the reserve
        L, F = L - frozen, F + frozen
    resolving = active & (imp[..., 3] == r)
    if resolving.any():
        L2, F2 = fiat_reserves.resolve_impairment(L, F, imp[..., 4:5])
        L, F = np.where(resolving[..., None], L2, L), np.where(resolving[..., None], F2, F)
    dt = days(b)[:, None]
    closed = imp[..., 5]
    peg = c.peg1[fa]
    moved = moved_units(c, s.psm_balance)  # a PSM's swaps moved its holdings, held for its coin's holders
    held = [redeemable_units(c, s.H, s.ik_left, s.fiat_supply[:, j] / peg[j], a, moved) for j, a in enumerate(fa)]
    payable = np.stack([(base.sum(1) + outside) * peg[j] for j, (base, outside) in enumerate(held)], axis=1)
    out = fiat_reserves.fiat_redemption_round(
        L, F, np.maximum(s.fiat_supply, 1e-9), s.fiat_queue, np.minimum(s.P[:, fa] / peg, 1.0),
        capacity=g.fiat_capacity_day[None] * dt, is_open=r >= closed, closed_rounds_after=np.maximum(closed - r - 1, 0.0),
        recovery=imp[..., 2], time_cost=1.0 - (1.0 - FIAT_WAIT_COST) ** dt,
        run_intensity=FIAT_RUN_INTENSITY * dt, max_rate=np.minimum(FIAT_MAX_RATE * dt, 1.0), payable=payable)
    paid = np.where(active, out.paid, 0.0)
    changes: Changes = {}
    if paid.any():
        oa, redeemed = s.oa, s.redeemed_usd.copy()
        for j, a in enumerate(fa):
            base, outside = held[j]
            oa = pay_redeemers(s.H, oa, base, outside, a, paid[:, j] / peg[j], np.full(s.S, peg[j]))
            issuer = c.issuer[a]
            if issuer >= 0:  # it pays the face from its reserves and owes it no more
                oa[:, issuer] -= paid[:, j]
                redeemed[:, issuer] += paid[:, j]
        changes = dict(oa=oa, redeemed_usd=redeemed)
    keep = active[..., None]
    factor = s.peg_factor.copy()
    new = np.where(active, out.price, 1.0)
    P = s.P.copy()
    P[:, fa] = P[:, fa] / factor[:, fa] * new
    factor[:, fa] = new
    return changes | dict(P=P, peg_factor=factor, fiat_liquid=np.where(keep, out.liquid, s.fiat_liquid),
                fiat_frozen=np.where(keep, out.frozen, s.fiat_frozen),
                fiat_supply=np.where(active, out.supply, s.fiat_supply), fiat_queue=np.where(active, out.queue, s.fiat_queue))

r"""Maker's emergency shutdown (``end.sol``): a default of the Maker system, forced by the scenario or the cascade's
own past its backstop, is its shutdown.

The model, as ``end.sol`` runs it (MakerDAO ``dss`` ``src/end.sol``; Maker docs, "Emergency Shutdown Module"
and "End - Detailed Documentation")::

    end.cage()          vat.cage(); cat.cage(); dog.cage(); vow.cage(); spot.cage(); ...  // no more bark/bite,
                                                                                          // no flop, no flap
    end.cage(ilk)       tag[ilk] = par / pip.read()          // collateral per DAI at the oracle's price
    end.snip(ilk, id)   clip.yank(id); vat.grab(ilk, usr, ..., lot, tab / rate)           // (2020: end.skip, flip.yank)
    end.skim(ilk, urn)  owe = art * rate * tag[ilk]; wad = min(ink, owe); gap[ilk] += owe - wad
                        vat.grab(ilk, urn, end, vow, -wad, -art)
    end.free(ilk)       the owner of an urn with art == 0 takes its ink back
    end.thaw(); flow(ilk)   fix[ilk] = (Art[ilk] * rate * tag[ilk] - gap[ilk]) / debt
    end.pack(wad); cash(ilk, wad)   a DAI holder receives wad * fix[ilk] of each ilk's collateral, in kind

So once Maker is caged no vault is barked and no keeper sells its collateral: auctions in flight are cancelled
(their lot and their debt go back to the vault), each vault gives up collateral worth its debt at ``tag`` (all
of it when it is under water at ``tag``, the shortfall being the ilk's ``gap``), its owner keeps the rest, and
DAI's holders share the collateral End holds, ``fix`` a DAI of each ilk, less the gap.

In the engine (:func:`cage`). A scenario forces its defaults in round 0, or at the start of the round
``forced_default_rounds`` gives (:mod:`core.engine.exogenous`: the ESM's timing, an analyst's statement of when
MKR holders trigger it), so the cage comes at that round's opening, before the round's liquidations, with the
scenario's shocks and the round's path priced: ``tag`` is par (1) over the Maker system's oracle price of each
cohort's collateral in that round (the OSM, lagged where the scenario lags its oracles, as
:func:`~core.engine.maker_book.vault_books` reads it that round). Each cohort is skimmed as a spread of
vaults (:func:`~core.mechanisms.cohort_spread.covered_debt`, the same rule the clearing's books were already
held to); the collateral End takes moves into the system's holdings (``H``), marked at the market like any
holding; the cohort's debt goes to 0, and what its owners keep is free collateral (``maker_free``), securing
nothing; the gap is booked as the protocol's bad debt (``bad``, ``bad_units``, ``cohort_bad``), and the debt End
cancels past that gap and what it holds at the market (a tag above the market: a lagged OSM in a fall) is what
DAI's holders, Maker's creditors, are left short (:func:`left_to_holders`, ``maker_end_left``), counted in its
bad debt at reference alone (:mod:`~core.engine.reference_bad_debt`; decision 8's second reading). The recovery
path then prices DAI as before, with no parallel calculation: the clearing's paid ratio of the shut-down system
(:func:`~core.engine.maker_vow.clearing_recovery`: no debt auction after ``vow.cage``), blended with a PSM's
backing where it has one (:func:`~core.engine.maker_co_issued.coin_recoveries`: ``end.cash`` pays every DAI the same
share of every ilk), and DAI trades at the lower of that and the scenario's depeg (the lead's decision 7).
From then on :func:`core.engine.maker.vault_auctions` finds no debt to bark in the caged rows and keepers are
asked for nothing there (:func:`~core.engine.maker_ask.keeper_ask`).

An endogenous default (the lead's decision 1, ``docs/invariants.md``). A Maker the clearing puts in default,
its shortfall beyond what MKR's debt auctions can raise (:func:`~core.engine.maker_vow.backstop_covers`; where
governance switched them off, a deficit that has lasted governance's delay, :mod:`~core.engine.maker_governance`,
decision 18), is shut down as a forced one is: past the backstop, anyone who
burns the ESM's ``min`` fires ``end.cage`` (``esm.fire`` has no delay, but holders must act). End cages it at the
opening of the round after the clearing's default (:func:`ended`; a round is a day on the shipped networks):
Maker's governance acted within a day in March 2023 (the forum's "urgent executive proposal to mitigate risks to
the protocol" of 11 March, USDC at $0.877, its spell "expected in the next ~12 hours or less", as reported by
Cointelegraph that day). The cage takes the forced path's code, with nothing forced
(:func:`core.engine.exogenous.forced_later`): :func:`vow_cage`, :func:`cage` and :func:`cage_marks`, on that
round's prices and oracles; the state's ``maker_cage_round`` (:func:`caged`) is what the Vow's side reads
(no flop, no pledge: :func:`core.engine.maker.vault_auctions`; the clearing's recovery without debt auctions:
:func:`~core.engine.maker_vow.clearing_recovery`), for a forced cage and an endogenous one alike. In the default's
own round DAI still trades at the recovery counting the debt auctions; from the cage's round, at the paid ratio of
a clearing of the caged books at its opening (:func:`cage_marks`), blended with the PSM's backing as before. The
Vow's cage releases MKR holders' pledge for a deficit waiting ``vow.wait`` (:func:`vow_cage`): DAI's holders bear
it through DAI's price from that round. The shipped 2022 network, ETH -77.19% with WBTC 24.35% under BTC
(``tests/test_maker_backstop_default.py``): Maker defaults in round 3, $49.74M short with $1,083.24M already
pledged, $1,132.98M in all against MKR's backstop of 0.86 x 977,000 x $1,338.70 = $1,124.80M (its dated close of
6 May 2022); caged at round 4, its paid ratio falls 0.99062 -> 0.78620 at the cage's opening without the pledge,
and DAI trades at 0.87696 in round 4 and 0.87623 in round 5.

``fix`` and the clearing. ``end.cash`` pays a DAI ``sum_ilk fix[ilk] * P_ilk`` at the market, the collateral
End holds over the DAI left once the Vow's surplus is healed against its sin (``thaw`` requires the Vow's DAI to
be 0): the clearing's paid ratio of the system's assets (the skimmed collateral, what else it holds) over what
it owes, which is what the engine takes.

Two simplifications, neither met on the engine's paths: ``end.snip`` charges the urn the auction's remaining
``tab`` (the penalty included) where the engine returns the debt the auction still had to raise
(``due - raised``: it books a penalty only when an auction raises it), and ``end.skip`` cannot yank a flip
auction already in its ``dent`` phase (``flip.yank`` requires ``bid < tab``). A cage at round 0 comes before
any bark, so no auction is live; one dated to a later round meets the clip auctions barked before it, which
:func:`snip` yanks (the first simplification then applies: the penalty the auctions had still to raise is not
charged to the urns).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.cohort_spread import covered_debt
from .books import booked_units, debt_price
from .maker_book import maker_columns, slot_sum
from .oracle import oracle_prices

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import Changes, CascadeState


def snip(ink: np.ndarray, vault_debt: np.ndarray, lot: np.ndarray, due: np.ndarray,
         raised: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vaults once ``end.snip`` (``end.skip`` for a flip) has cancelled their auctions, ``(ink, debt)``
    (S, m) each: every live lot back in the urns and the debt the auctions had still to raise, ``due - raised``,
    back on them. ``lot``, ``due``, ``raised`` (S, slots, m), the auctions' slots.

    Examples
    --------
    A cohort with 10 ETH locked against 1,000 DAI and an auction of 4 ETH that has raised 300 of its 800 DAI:

    >>> ink, debt = snip(np.array([[10.0]]), np.array([[1000.0]]), np.array([[[4.0]]]), np.array([[[800.0]]]),
    ...                  np.array([[[300.0]]]))
    >>> ink.tolist(), debt.tolist()
    ([[14.0]], [[1500.0]])
    """
    return ink + slot_sum(lot), vault_debt + slot_sum(np.maximum(due - raised, 0.0))


def skim(ink: np.ndarray, debt: np.ndarray, feed: np.ndarray, spread: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""``end.skim`` of vault cohorts at ``tag = par / feed`` (par 1): the collateral End takes, ``wad`` (units),
    and the debt it leaves uncovered, ``gap / tag`` (DAI), (S, m) each.

    One vault: ``owe = debt * tag``, ``wad = min(ink, owe)``, ``gap = owe - wad``. A cohort of vaults spread by
    ``spread`` about its ratio (:mod:`~core.mechanisms.cohort_spread`) gives the sum over its vaults,
    :math:`\text{wad} = \text{covered} \cdot \text{tag}` with ``covered`` =
    :func:`~core.mechanisms.cohort_spread.covered_debt` ``(ink * feed, debt, spread)``, the debt its vaults'
    collateral covers each at most its own, and a gap of ``debt - covered`` DAI. The owners keep ``ink - wad``.

    Examples
    --------
    ETH at 200 (tag 0.005 ETH a DAI). A vault of 10 ETH owing 1,000 DAI owes 5 ETH: End takes 5, the owner frees 5.
    A vault of 4 ETH owing 1,000 DAI gives all 4 and leaves a gap of 1 ETH, 200 DAI:

    >>> wad, gap = skim(np.array([[10.0, 4.0]]), np.array([[1000.0, 1000.0]]), np.array([[200.0, 200.0]]))
    >>> wad.tolist(), gap.tolist()
    ([[5.0, 4.0]], [[0.0, 200.0]])
    """
    covered = covered_debt(ink * feed, debt, np.asarray(spread, dtype=float))
    wad = np.minimum(covered / feed, ink)  # (at most the ink, to the last bit)
    return wad, np.maximum(debt - covered, 0.0)


def caged(s: CascadeState) -> np.ndarray:
    """(S,) whether End has caged the Maker system (a forced default's cage, or an endogenous default's at the next
    round's opening: module docstring): no bark, no flop, no pledge, and the clearing's recovery without debt
    auctions (:func:`~core.engine.maker_vow.clearing_recovery`'s ``shut``)."""
    return s.maker_cage_round >= 0


def caged_at(s: CascadeState, r: int) -> bool:
    """Whether some scenario's Maker system was caged at round ``r``'s opening (its gap is then the round's first
    ``cohort_bad``, :func:`core.engine.liquidate.liquidate`)."""
    return bool((s.maker_cage_round == r).any())


def ended(c: Compiled, s: CascadeState) -> np.ndarray | None:
    """(S,) the scenarios whose Maker system a clearing has put in default (its shortfall beyond its backstop,
    :func:`~core.engine.maker_vow.backstop_covers`) and End has not yet caged: caged at the next round's opening
    (module docstring); None where there are none."""
    mk = c.maker
    if mk is None or not mk.m:
        return None
    out = s.defaulted[:, mk.protocol] & (s.maker_cage_round < 0)
    return out if out.any() else None


def caging(c: Compiled, now: np.ndarray, endogenous: np.ndarray | None) -> np.ndarray:
    """The (S, n) mask :func:`cage` takes at a round's opening: the entities forced to fail then (``now``), with
    the Maker system where a clearing put it in default before (``endogenous`` (S,), :func:`ended`; None: none)."""
    if endogenous is None:
        return now
    assert c.maker is not None
    out = now.copy()
    out[:, c.maker.protocol] |= endogenous
    return out


def vow_cage(c: Compiled, s: CascadeState, now: np.ndarray) -> Changes:
    """``vow.cage`` (``Sin = 0``, ``Ash = 0``, the flopper caged) where the Maker system is caged at this round's
    opening (``now`` (S, n), :func:`caging`'s mask) and not before: MKR holders owe nothing for a deficit that
    waited ``vow.wait``, so their pledge (``maker_pledge``, booked in the system's other assets ``oa``;
    :func:`~core.mechanisms.maker_backstop.flop_pledge`) is released, as
    :func:`core.engine.maker.vault_auctions` pledges nothing once caged. Taken before a forced default's loss
    (:func:`core.engine.exogenous.fail_forced`), which then takes its share of what the system really holds.
    Nothing where no caged row holds a pledge (round 0: no deficit has waited yet).

    Before, a Maker caged after round 0 kept the pledge in its assets while its Vow was caged: with MAKER forced
    at round 1 on crypto-2022-05 (ETH -81%), its $1.366bn pledge stayed in ``maker_pledge``, counted as MKR
    holders' payment, while the forced loss had already taken it from ``oa``."""
    mk = c.maker
    if mk is None or not mk.m:
        return {}
    pledged = now[:, mk.protocol] & (s.maker_cage_round < 0) & (s.maker_pledge != 0.0)
    if not pledged.any():
        return {}
    oa = s.oa.copy()
    oa[:, mk.protocol] -= np.where(pledged, s.maker_pledge, 0.0)
    return dict(oa=oa, maker_pledge=np.where(pledged, 0.0, s.maker_pledge),
                maker_exposed_pledge=np.where(pledged, 0.0, s.maker_exposed_pledge))


def cage_marks(c: Compiled, s: CascadeState, now: np.ndarray, endogenous: np.ndarray | None, r: int,
               opening_paid: np.ndarray | None = None) -> Changes:
    """The cage's marks at round ``r``'s opening, where the Maker system is caged now (forced to fail now, ``now``
    (S, n), or in default since a clearing, ``endogenous`` (S,): :func:`caging`; a row caged before keeps its
    round): ``maker_cage_round`` r and, where the cage is the endogenous default's alone, ``maker_recovery`` at
    ``opening_paid`` (S, n), the paid ratios of a clearing of the books the round opens with once caged
    (:func:`vow_cage` and :func:`cage` taken): what :func:`~core.engine.maker_vow.clearing_recovery` gives a shut
    system (no debt auction after ``vow.cage``), which DAI trades at from the cage's round on
    (:func:`core.engine.defend.issuer_effects`), as a coin whose issuer is forced to fail now is priced at the
    same opening clearing (:func:`core.engine.exogenous.forced_issuer_prices`). Nothing where no Maker system is
    caged now.

    Before (session 29), the endogenous cage took the last clearing's paid ratio, whose assets still held MKR
    holders' pledge that :func:`vow_cage` releases at the same opening: DAI traded through the cage's round at
    the recovery of a system End had already stripped of it, and the system loss booked its holders' share of
    the gap as an outside write-down for that round (:func:`~core.engine.maker_co_issued.dai_holders_outside`: the
    price carried none of it) and through DAI's price from the next. On the 2022 network (BTC -88.54%, ETH
    -75.56%, lag 1, liquidity 1.307, capital $50M: MAKER in default at round 10, caged at 11), the pledge of
    $1,393.92M was released, the opening clearing paid 0.72922 where the last had paid 0.99231, and DAI closed
    round 11 at 0.99540 and round 12 at 0.83773 (now 0.83775 from round 11;
    ``monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m``)."""
    mk = c.maker
    if mk is None or not mk.m:
        return {}
    forced = now[:, mk.protocol]
    new = (forced if endogenous is None else forced | endogenous) & (s.maker_cage_round < 0)
    if not new.any():
        return {}
    out: Changes = dict(maker_cage_round=np.where(new, r, s.maker_cage_round))
    if endogenous is not None and opening_paid is not None:
        alone = new & endogenous & ~forced
        out["maker_recovery"] = np.where(alone, opening_paid[:, mk.protocol], s.maker_recovery)
    return out


def network_holdings(c: Compiled, H: np.ndarray, end_units: np.ndarray) -> np.ndarray:
    """The holdings ``H`` (S, n, k) that count as held in the network when a failed issuer's token is written down
    (:func:`core.engine.token_holders.held_units`): without the units End took by ``end.skim`` (``end_units`` (S, k),
    ``maker_end_units``), which it holds for DAI's holders (``end.cash`` pays them in kind), as the vaults' anonymous
    owners held them before the skim, and keepers after an auction: the token's fall from its reference price is
    theirs, not the Maker system's, which took the units at the cage's price and never carried them at reference.
    ``H`` itself where End holds nothing.

    Before, End's units counted as the Maker system's holdings, whose equity carried none of their fall: with LIDO
    failed on crypto-2025-10 (CBBTC -23.32%, liquidity 1.45, capital $500M), SKY caged at round 1 took 77,577.81
    stETH from a cohort whose auction was live, and 77,577.81 x $4,350 = $337.46M of LIDO's outside write-downs was
    counted nowhere; 0.12% shallower keepers had taken the lot in round 0 and it was counted
    (``monotone-2025-cbbtc-20-23-lido-failed-liquidity-145-capital-500m-end-holds-steth``)."""
    mk = c.maker
    if mk is None or not mk.m or not end_units.any():
        return H
    out = H.copy()
    out[:, mk.protocol] = np.maximum(out[:, mk.protocol] - end_units, 0.0)
    return out


def left_to_holders(vault_debt: np.ndarray, wad: np.ndarray, gap: np.ndarray, market: np.ndarray,
                    debt_px: np.ndarray) -> np.ndarray:
    r"""The gap End leaves to DAI's holders beyond the gap it books, in DAI at its price to Maker ``debt_px``
    (its peg), (S, m): ``max(debt - wad * market / debt_px - gap, 0)``.

    ``end.flow`` gives each DAI ``fix[ilk] = (Art * rate * tag - gap) / debt`` of each ilk's collateral, which
    ``end.cash`` pays in kind: the collateral End took, ``wad``. The debt End cancelled, ``art * rate``, less
    what that collateral is worth at the market, is what DAI's holders (Maker's creditors) are short on the
    cancelled debt. At a tag above the market (a lagged OSM in a fall) that exceeds the gap End books at
    the tag, ``owe - wad``: the rest is counted here, in Maker's bad debt at reference (at a tag at or below
    the market End holds at least the debt's worth, and :func:`cage` counts nothing, not even a rounding's ulp)
    (:mod:`~core.engine.reference_bad_debt`), and nowhere else (the second reading of decision 8).

    Examples
    --------
    ETH at 200 on the OSM and 100 at the market; a vault of 10 ETH owing 1,000 DAI gives End 5 ETH worth 500:
    End books no gap and leaves DAI's holders 500 short.

    >>> left_to_holders(np.array([[1000.0]]), np.array([[5.0]]), np.array([[0.0]]), np.array([[100.0]]),
    ...                 np.array([[1.0]])).tolist()
    [[500.0]]
    """
    return np.maximum(vault_debt - wad * market / debt_px - gap, 0.0)


def cage(c: Compiled, s: CascadeState, b: ScenarioBatch, P: np.ndarray, price_history: list[np.ndarray],
         now: np.ndarray) -> Changes:
    """``end.cage``, ``snip`` and ``skim`` of the Maker system in the scenarios that force it to default at the
    start of this round (``now`` (S, n): the entities forced to fail then) and still hold a vault's debt or a live
    auction in it (module docstring), at prices ``P`` and the oracles' ``price_history`` (its last entry ``P``). Writes, in place, the collateral End takes into the system's
    holdings ``H``; returns the new ``coll, debt, maker_free``, the auction slots and ``dirt`` emptied, the gap
    in ``bad, bad_units, cohort_bad`` and a named borrower's loss in ``liq_loss``. Nothing where no row is caged."""
    mk = c.maker
    if mk is None or not mk.m or not now[:, mk.protocol].any():
        return {}
    M = maker_columns(c)
    lot, due, raised = s.maker_lot, s.maker_due, s.maker_raised
    coll, debt = s.coll[:, M], s.debt[:, M]
    rows = np.flatnonzero(now[:, mk.protocol] & ((debt > 0).any(1) | (lot > 0).any((1, 2))))
    if not len(rows):
        return {}
    coll, debt, lot, due, raised = coll[rows], debt[rows], lot[rows], due[rows], raised[rows]
    on_auction, outstanding = slot_sum(lot), slot_sum(np.maximum(due - raised, 0.0))
    free = np.minimum(s.maker_free[rows], np.maximum(coll - on_auction, 0.0))  # as vault_books takes it
    ink, vault_debt = snip(np.maximum(coll - on_auction - free, 0.0), np.maximum(debt - outstanding, 0.0), lot, due, raised)
    Po = oracle_prices(price_history, b.lag, P) if b.any_lag else P
    feed, market = Po[rows][:, mk.ca], P[rows][:, mk.ca]
    wad, gap = skim(ink, vault_debt, feed, s.maker_spread[rows])
    taken = mk.by_asset(wad)
    s.H[rows, mk.protocol] += taken  # End holds it for DAI's holders (in place, as the steps write H)
    end_units = s.maker_end_units.copy()
    end_units[rows] += taken
    left = free + ink - wad  # the owners' (end.free): free collateral, locked against nothing
    all_coll, all_debt, all_free = s.coll.copy(), s.debt.copy(), s.maker_free.copy()
    at = np.ix_(rows, mk.cohorts)
    all_coll[at], all_debt[at], all_free[rows] = left, 0.0, left
    out: Changes = dict(coll=all_coll, debt=all_debt, maker_free=all_free, maker_end_units=end_units)
    for name in ("maker_tab", "maker_lot", "maker_top", "maker_elapsed", "maker_due", "maker_raised", "maker_ilk_dirt"):
        emptied = getattr(s, name).copy()
        emptied[rows] = 0.0
        out[name] = emptied
    dirt = s.maker_dirt.copy()
    dirt[rows] = 0.0
    out["maker_dirt"] = dirt
    short = np.zeros_like(s.coll)
    short[at] = gap
    bad = s.bad.copy()
    bad[rows, mk.protocol] += gap.sum(1)
    dp = debt_price(c, P)
    out.update(bad=bad, bad_units=s.bad_units + booked_units(short, dp),
               cohort_bad=short if s.cohort_bad is None else s.cohort_bad + short)
    end_left = s.maker_end_left.copy()  # counted in bad debt at reference alone (left_to_holders)
    end_left[at] += np.where(market < feed, left_to_holders(vault_debt, wad, gap, market, dp[rows][:, mk.cohorts]), 0.0)
    out["maker_end_left"] = end_left
    if mk.named.any():  # a named borrower's loss: its vaults' equity at the market before and after
        Pd = P[rows, mk.da][:, None]
        before = np.maximum((free + ink) * market - vault_debt * Pd, 0.0)[:, mk.named]
        after = (left * market)[:, mk.named]
        liq_loss = s.liq_loss.copy()
        liq_loss[rows] += mk.by_borrower(before - after)
        out["liq_loss"] = liq_loss
    return out

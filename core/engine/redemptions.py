"""Who gives up the coins an issuer redeems, and what they receive: the holders' side of a redemption.

A redemption burns a coin's supply; the units burnt are given up by the holders who redeem, and those holders
receive what the redemption pays. Without it the supply shrank while every holder kept its units: the redeemers'
slippage left the system, and on the 2022 network a deeper LUNA fall, whose earlier redemptions burnt more UST no
holder gave up, raised the remaining float's cover and UST's closing price (``monotone-shipped-luna-33-full-runs-
capital-500m``, -$41.2M).

Model. Holders redeem on their own account:

* an entity that owes the coin in kind to its creditors does not redeem the units it owes. A reference-book
  debtor (an exchange, a lender) owes :func:`~core.engine.books.owed_in_kind_units` of each token and may redeem
  what it holds beyond that, :math:`(H_a - O_a)^+`; a live book with in-kind claims (an AMM pool, a lending or
  CDP protocol: Anchor owes its depositors the UST it holds) owes what it holds, whose claims follow its current
  holdings (:func:`~core.engine.books.inkind_index`), and redeems none. Its creditors run on it
  (:func:`~core.engine.withdraw.withdraw` pays them in kind) and redeem as holders. (A live book's own share of
  its holdings, Anchor's $176M yield reserve against $14bn of deposits, is not redeemed: its in-kind index
  follows its holdings' value, not the cash a redemption pays.) A pool whose reserves price the coin
  (``Compiled.pool_entity``) never redeems: its holdings are its reserves.
* a pass-through issuer (Maker's PSM, FRAX) owes its coin's holders the backing it holds for them
  (``PegTerms.liable_units``, :func:`~core.engine.backing.backed_liabilities`): it may redeem only what it holds
  of the backing beyond that.
* holders outside the network hold what the network does not, ``max(0, supply - units held)``, and redeem with
  the others.
* a reserve that defends the coin (``entities.defends``, ``Compiled.defender_of``; LFG for UST) redeems its units
  pro rata like any holder, but is paid in the backing minted for them, which it keeps: Terra's market module
  swaps a UST for a dollar of LUNA at the oracle price (Terra docs, "Market module"; terra-money/core
  ``x/market``, ``ComputeSwap``), ``peg / P_oracle`` LUNA a unit, held and marked at LUNA's market price after
  the round's mint-and-burn (:func:`pay_redeemers`, ``minted``; decision 29). LFG's thread of 16 May
  2022 says that from 8 May it converted its reserve into UST (26,281,671 USDT and 23,555,590 USDC for
  50,200,071 UST; 52,189 BTC for 1,515,689,462 UST through a counterparty; 33,206 BTC for 1,164,018,521 UST
  through TFL) and that what it then held, beside 313 BTC, its BNB and AVAX (about $87M), was LUNA and UST
  "worth almost nothing": it took no cash out of the mint-and-burn window. (Before, it was paid the window's cash
  as any holder, about $0.96 a UST its defence had bought at the market, the LUNA minted for it sold at once: on
  the 2022 network, UST 20 % off peg with TETHER failed, LFG ended $356.15M richer than it started, $329.34M of
  it unexplained, ``s44-lead-value-2022-…-lfg``. Kept out of the redeemers altogether (Session 44 (lead)'s
  patch), its bought UST left the float the others redeem from, which then ran dry a round sooner at a deeper
  LUNA fall: no queue sale took the pool below peg, the reserve stopped buying, and loss fell $143.10M,
  ``monotone-shipped-luna-88-anchor-failed-half-runs-capital-50m-bad-debt``.) The step's LUNA price is the one
  at which all the minted LUNA is sold, so the kept LUNA is marked no higher than what it would have realised.

The round's redeemed units are taken from these bases pro rata, never more than a holder has
(:func:`redeemable_units`, :func:`pay_redeemers`).
"""

from __future__ import annotations

import numpy as np

from .books import owed_in_kind_units
from .compiled import Compiled
from .memo import per_network


def _holder_terms(c: Compiled, a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The entities that may redeem token ``a`` on their own account; among them the reference-book in-kind
    debtors that owe some of it (their redeemable base is their holding less what they owe); and the pass-through
    issuers backed by it with the units they hold for their coin's holders."""
    owes_in_kind = c.lam_follow > 0
    live = np.zeros(c.n, bool)
    live[c.live_idx] = True
    never = (owes_in_kind & live)
    never[c.pool_entity] = True
    may = np.flatnonzero(~never)
    owing = np.flatnonzero(owes_in_kind & ~live & (c.H0[:, a] > 0))
    g = c.pegs
    backed = (g.liable_backing == a) if g is not None else np.zeros(0, bool)
    liable = g.liable_entity[backed] if g is not None else np.zeros(0, int)
    liable_units = g.liable_units[backed] if g is not None else np.zeros(0)
    return may, owing, liable, liable_units


def redeemable_units(c: Compiled, H: np.ndarray, ik_left: np.ndarray, supply: np.ndarray,
                     a: int, moved: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units of token ``a`` each entity may redeem on its own account, (S, n), and the units holders outside the
    network hold, (S,) (module docstring). ``H`` (S, n, k) holdings, ``ik_left`` (S, m) the in-kind claims left,
    ``supply`` (S,) the token's supply in units; ``moved`` (S, j): the units each pass-through issuer took in
    through its PSM since the reference (:func:`~core.engine.peg_terms.moved_units`), held for its coin's holders
    too; None: none."""
    may, owing, liable, liable_units = per_network(c, ("redeemers", a), lambda: _holder_terms(c, a))
    held = np.ascontiguousarray(H[:, :, a])  # the token's column read once (every reader below: a contiguous array)
    base = np.zeros_like(held)
    base[:, may] = np.maximum(held.take(may, axis=1), 0.0)  # (held[:, may], by the faster gather)
    if len(owing):
        owed = owed_in_kind_units(c, ik_left, owing)[:, :, a]
        base[:, owing] = np.maximum(held.take(owing, axis=1) - owed, 0.0)
    if len(liable):
        g = c.pegs
        assert g is not None  # liable rows come from the pegs table
        kept = liable_units[None] if moved is None else liable_units[None] + moved[:, np.flatnonzero(g.liable_backing == a)]
        base[:, liable] = np.maximum(base[:, liable] - kept, 0.0)
    outside = np.maximum(supply - held.sum(1), 0.0)
    return base, outside


def defenders(c: Compiled, a: int) -> np.ndarray:
    """The reserves that defend token ``a`` (``Compiled.defender_of``), entity indices."""
    return c.defender_of[c.defender_of[:, 1] == a, 0]


def minted_kept(peg: float, log_oracle: np.ndarray, log_after: np.ndarray, log_floor: float) -> np.ndarray:
    """Units of the backing a reserve keeps a unit of its coin redeemed, (S,): ``peg / P_oracle``, the dollar of
    backing minted at the oracle price (Terra's market module), each worth ``P_after / P_oracle`` of a dollar at the
    mint-and-burn step's price. Below the price floor (:func:`~core.engine.defend.floor_prices` marks the backing at
    ``PRICE_FLOOR * P0``, a numerical guard, not a bid) it keeps the units worth as much at the floor:
    ``peg * exp(min(log P_after - log floor, 0) - log P_oracle)``, so the floor is no source of value. (Without the
    cut, with LUNA minted at 1e-20 and marked at the floor, 7.7e-11, LFG's minted units were worth 1e9 times what
    it redeemed.)"""
    with np.errstate(divide="ignore"):
        below = np.minimum(log_after - log_floor, 0.0)
    return peg * np.exp(below - log_oracle)


def pay_redeemers(H: np.ndarray, oa: np.ndarray, base: np.ndarray, outside: np.ndarray, a: int,
                  units: np.ndarray, price_paid: np.ndarray,
                  minted: tuple[np.ndarray, int, np.ndarray] | None = None) -> np.ndarray:
    """The holders redeem ``units`` (S,) of token ``a`` pro rata to their redeemable ``base`` (S, n) and the
    ``outside`` holders' units (S,), each at ``price_paid`` (S,) USD a unit in cash: their holdings fall in place
    (``H``), the returned other assets (``oa`` + cash) rise. ``units`` is at most ``base.sum(1) + outside``.
    ``minted`` ``(rows, bk, per_unit)``: the redeemers ``rows`` (the coin's reserves, module docstring) are paid
    instead in ``per_unit`` (S,) units of token ``bk`` a unit redeemed, which they keep (``H``), and no cash."""
    total = base.sum(1) + outside
    share = np.where(total > 0, np.minimum(units / np.where(total > 0, total, 1.0), 1.0), 0.0)
    given = base * share[:, None]
    H[:, :, a] -= given
    cash = given * price_paid[:, None]
    if minted is not None and len(minted[0]):
        rows, bk, per_unit = minted
        H[:, rows, bk] += given[:, rows] * per_unit[:, None]
        cash[:, rows] = 0.0
    return oa + cash

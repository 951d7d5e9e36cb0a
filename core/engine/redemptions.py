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


def pay_redeemers(H: np.ndarray, oa: np.ndarray, base: np.ndarray, outside: np.ndarray, a: int,
                  units: np.ndarray, price_paid: np.ndarray) -> np.ndarray:
    """The holders redeem ``units`` (S,) of token ``a`` pro rata to their redeemable ``base`` (S, n) and the
    ``outside`` holders' units (S,), each at ``price_paid`` (S,) USD a unit in cash: their holdings fall in place
    (``H``), the returned other assets (``oa`` + cash) rise. ``units`` is at most ``base.sum(1) + outside``."""
    total = base.sum(1) + outside
    share = np.where(total > 0, np.minimum(units / np.where(total > 0, total, 1.0), 1.0), 0.0)
    given = base * share[:, None]
    H[:, :, a] -= given
    return oa + given * price_paid[:, None]

"""Claims held on pools, exchanges and lenders by entities that owe in-kind claims of their own: the order in
which their in-kind indices are solved within a round.

Model. An in-kind index (:func:`core.engine.books.inkind_index`) follows the value ``V`` of the assets a debtor's
claims follow, and among those assets are the claims it holds on others (CONVEX's Curve LP shares on CRV_3POOL,
CRV_STETH and CRV_UST on the 2022 network; HYPERLIQUID's USDC on its bridge, HL_BRIDGE, on crypto-2025-10), each
worth its debtor's index times the debtor's paid ratio. The index of a debtor that holds no claims depends on
prices and its own books alone; one that holds claims on such debtors only depends on their indices of the same
round, and so on up the chain of holding. Solved in that order (a topological order of the holding graph), every
holder values its claims at the current round's index, as a Curve LP token's ``get_virtual_price`` and a
Convex deposit's share of it both read the pool's balances of the same block [Curve ``StableSwap``
``get_virtual_price``: ``D / totalSupply``; Convex ``Booster.deposit``: the LP token itself, 1:1].

The paid ratio stays the clearing's (the Rogers-Veraart map applied once a round, :mod:`core.engine.clear`): a
debtor's default reaches its creditors a round later, as on every network claim. The index is no clearing
output: before session 31 it was taken at the last round's value too, so a pool's repricing reached the holders
of claims on a pool holding it a round late (DAI's fall at Maker's cage on the 2022 network: 533.33M of
CRV_3POOL's DAI held through CONVEX, $84.09M recognised by LP_PROVIDERS a round after the rest, and a deeper shock
that moved the repricing by a round gave a -$77.96M monotone violation,
``monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m-horizon-11-pool-claims-lag``).

A cycle of holding (none in the shipped data) has no such order: its members are iterated as many passes as the
entities on it (from the last round's indices) and the rounds carry the rest to the fixed point, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled


def index_levels(c: Compiled) -> tuple[np.ndarray, int]:
    """The entities whose in-kind index follows claims they hold (``lam_follow / V0`` not 0 and a claim held), and
    the number of passes that solve them in the order they hold each other: the depth of the longest chain of
    holding among them (one pass per level), or, where a cycle leaves some unordered, the depth of the ordered
    part plus the entities on the cycles. (0, no entity: every index is solved in its first pass.)"""
    return per_network(c, "index_levels", lambda: _levels(c))


def _levels(c: Compiled) -> tuple[np.ndarray, int]:
    MT = c.held_value.MT  # (creditor, debtor): the claims each entity holds
    follows = (c.lam_follow * c.inv_base0) != 0.0
    reads = follows & (np.diff(MT.indptr) > 0)  # an index that reads claims held on others
    rows = np.flatnonzero(reads)
    if not len(rows):
        return rows, 0
    held_on = (MT != 0).astype(np.int64)  # 1 where the creditor holds a claim on the debtor
    solved = ~reads  # indices exact after the first pass: they read no held claim
    depth = 0
    while not solved.all():  # a loop over levels of holding (1 on each shipped network), not over entities
        waiting = held_on @ (~solved).astype(np.int64)  # the unsolved debtors each entity holds claims on
        ready = ~solved & (waiting == 0)
        if not ready.any():  # a cycle of holding: its members iterated once per entity on it
            return rows, depth + int((~solved).sum())
        solved |= ready
        depth += 1
    return rows, depth


def solve_indices(c: Compiled, lam: np.ndarray, unheld: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """The in-kind indices ``lam`` (S, n), taken with the claims held at the last round's indices, solved level by
    level of holding (:func:`index_levels`): each level's holders re-valued at the indices the level below
    has this round, ``lam = (unheld + held(lam ratio)) / V0 * lam_follow + lam_fixed`` on their columns, where
    ``unheld`` (S, len(rows)) is their ``V`` without the held claims and ``ratio`` (S, n) the last clearing's paid
    ratios: the first pass's operations in its order, so an index that reads no held claim is not touched, and one
    whose debtors' indices did not move keeps its bits. ``lam`` is written in place and returned."""
    rows, passes = index_levels(c)
    if not passes:
        return lam
    follow, fixed, inv = per_network(c, "index_level_terms", lambda: (c.lam_follow[rows], c.lam_fixed[rows],
                                                                       c.inv_base0[rows]))
    for _ in range(passes):  # one pass per level of holding (1 on the shipped networks)
        held = c.held_value(lam * ratio).take(rows, axis=1)
        v = unheld + held
        v *= inv
        v *= follow
        v += fixed
        lam[:, rows] = v
    return lam


def held_at_index(c: Compiled, lam: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """What the claims each entity holds are worth, (S, n): each at its debtor's in-kind index ``lam`` of this round
    (:func:`solve_indices`) times the debtor's paid ratio in the last clearing, ``ratio``."""
    return c.held_value(lam * ratio)

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

A cycle of holding (none in the shipped data; the synthetic networks' random claims make one of some 300 entities)
has no such order: it counts as one level, its members take one pass of the index map per level from the last
round's indices (their claims on each other at the iterate of the pass before), and the rounds carry them on to the
fixed point, as every index was before; the entities it holds claims on are solved before it, those holding claims
on it after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .columns import put_columns
from .grouping import Product
from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled


def index_levels(c: Compiled) -> tuple[np.ndarray, int]:
    """The entities whose in-kind index follows claims they hold (``lam_follow / V0`` not 0 and a claim held), and
    the number of passes that solve them in the order they hold each other: the depth of the longest chain of
    holding among them, each cycle of holding counted as one link (one pass per level). (0, no entity: every index
    is solved in its first pass.)"""
    return per_network(c, "index_levels", lambda: _levels(c))


def _levels(c: Compiled) -> tuple[np.ndarray, int]:
    MT = c.held_value.MT  # (creditor, debtor): the claims each entity holds
    follows = (c.lam_follow * c.inv_base0) != 0.0
    reads = follows & (np.diff(MT.indptr) > 0)  # an index that reads claims held on others
    rows = np.flatnonzero(reads)
    if not len(rows):
        return rows, 0
    # the holding graph with each cycle collapsed to one part (its strongly connected components), part -> part
    held_on = sp.csr_array(MT != 0)
    parts, part = connected_components(held_on, directed=True, connection="strong")
    g = held_on.tocoo()
    across = part[g.row] != part[g.col]
    between = sp.csr_array((np.ones(int(across.sum()), np.int64), (part[g.row][across], part[g.col][across])),
                           shape=(parts, parts))
    solved = np.ones(parts, bool)
    solved[part[rows]] = False  # parts whose members' indices read held claims
    depth = 0
    while not solved.all():  # a loop over levels of holding (1 on each shipped network), not over entities
        ready = ~solved & (between @ (~solved).astype(np.int64) == 0)  # every part held on solved
        solved |= ready
        depth += 1
    return rows, depth


def solve_indices(c: Compiled, lam: np.ndarray, unheld: np.ndarray, ratio: np.ndarray,
                  lam_last: np.ndarray | None = None) -> np.ndarray:
    """The in-kind indices ``lam`` (S, n), taken with the claims held at the last round's indices, solved level by
    level of holding (:func:`index_levels`): each level's holders re-valued at the indices the level below
    has this round, ``lam = (unheld + held(lam ratio)) / V0 * lam_follow + lam_fixed`` on their columns, where
    ``unheld`` (S, len(rows)) is their ``V`` without the held claims (in :func:`index_levels`' order of the rows;
    in :class:`HolderPasses`' order with ``lam_last``) and ``ratio`` (S, n) the last clearing's paid
    ratios: the first pass's operations in its order, so an index that reads no held claim is not touched, and one
    whose debtors' indices did not move keeps its bits. ``lam`` is written in place and returned.

    Each pass values every holder's claims at the indices of the pass before (all at once, as one product over
    the whole claims-held matrix would), over the holders' rows alone (:class:`HolderPasses`): the same stored
    values summed in the same order from zero, and the same elementwise operations, so the same bits.

    ``lam_last`` (S, n), the last round's indices: the holders' first values, the claims held at ``lam_last``
    times ``ratio``, are taken here as one more pass over their rows (:func:`first_pass_here`), where ``lam``'s
    holder columns were computed without the claims they hold (:func:`core.engine.books.marks` without them)."""
    rows, passes = index_levels(c)
    if not passes:
        return lam
    h = per_network(c, "holder_passes", lambda: HolderPasses.of(c, rows))
    if lam_last is None:
        unheld = unheld.take(h.order, axis=1)
    ratio_rows = ratio.take(h.rows, axis=1)
    ratio_debtors = ratio.take(h.debtors, axis=1)
    if lam_last is not None:  # the holders' first values: a pass at the last round's indices
        x = first_pass_input(h, lam_last, ratio_rows, ratio_debtors)
        np.multiply(h.one_pass(x, unheld), ratio_rows, out=x[:, :len(h.rows)])
    else:
        x = np.empty((lam.shape[0], h.product.MT.shape[1]))  # each debtor's index times its paid ratio
        np.multiply(lam.take(h.rows, axis=1), ratio_rows, out=x[:, :len(h.rows)])
    np.multiply(lam.take(h.debtors, axis=1), ratio_debtors, out=x[:, len(h.rows):])
    for p in range(passes):  # one pass per level of holding (1 on the shipped networks)
        v = h.one_pass(x, unheld)
        if p + 1 < passes:
            np.multiply(v, ratio_rows, out=x[:, :len(h.rows)])
    put_columns(lam, h.rows, v)
    return lam


def first_pass_input(h: "HolderPasses", lam_last: np.ndarray, ratio_rows: np.ndarray,
                     ratio_debtors: np.ndarray) -> np.ndarray:
    """The input of the holders' first pass (:meth:`HolderPasses.one_pass`), (S, holders + debtors): the last round's
    index ``lam_last`` (S, n) of each holder and debtor times its paid ratio, the elements of ``lam_last * ratio``
    that :func:`core.engine.books.marks` multiplied before (gathered first: the same products)."""
    x = np.empty((lam_last.shape[0], h.product.MT.shape[1]))
    np.multiply(lam_last.take(h.rows, axis=1), ratio_rows, out=x[:, :len(h.rows)])
    np.multiply(lam_last.take(h.debtors, axis=1), ratio_debtors, out=x[:, len(h.rows):])
    return x


def holder_rows(c: Compiled) -> np.ndarray:
    """The entities :func:`solve_indices` solves, in its passes' order (:class:`HolderPasses`' ``rows``)."""
    rows, _ = index_levels(c)
    return per_network(c, "holder_passes", lambda: HolderPasses.of(c, rows)).rows


def first_pass_here(c: Compiled) -> bool:
    """Whether the holders' first values can be left to :func:`solve_indices` (its ``lam_last``), the claims held at
    the last round's index left out of :func:`core.engine.books.inkind_index`'s first pass, with the same bits:
    some index reads held claims (:func:`index_levels`), and every other entity holding claims follows no value
    (``lam_follow`` 0: its index is ``(V / V0) * 0 + lam_fixed``, a zero of either sign plus ``lam_fixed``, whatever
    the claims add to a finite ``V``), and no ``lam_fixed`` is -0.0 (a zero of either sign plus it is then the same
    number, so a ``V`` of -0.0 where nothing is held, which adding the empty sum's 0.0 made 0.0, gives the same index).
    Then the claims-held product over every entity (324,301 stored values at synthetic(100k), its rows by length put
    back by a 100,000 gather) becomes one pass over the holders' rows (266,194, no put-back), and the first pass's
    ``+ held`` over every entity goes."""
    return per_network(c, "first_pass_here", lambda: _first_pass_here(c))


def _first_pass_here(c: Compiled) -> bool:
    rows, passes = index_levels(c)
    if not passes:
        return False
    others = np.diff(c.held_value.MT.indptr) > 0
    others[rows] = False  # entities holding claims whose index is not solved in the passes
    return bool((c.lam_follow[others] == 0.0).all()) and not bool(np.signbit(c.lam_fixed).any())


@dataclass(frozen=True, eq=False)
class HolderPasses:
    """The claims held by the entities whose index reads them (:func:`index_levels`), for :func:`solve_indices`'
    passes: their rows of the claims-held matrix in order of decreasing length (``order``: each row's place
    in :func:`index_levels`' rows; ``rows`` the entities), each row's stored values in their order, the columns
    renumbered: the holders first, each at its own row's place, so a pass writes their indices times their paid
    ratios as one contiguous block, then the other entities they hold claims on (``debtors``, whose indices no
    pass moves). At synthetic(100k) the holders are 78,875 entities (73,895 of them one cycle of holding), 12
    passes, on 266,194 of the matrix's 324,301 stored values; a pass no longer multiplies the 21,125 other rows,
    gathers the holders' columns out of the whole product nor scatters their indices back into ``lam``, and the
    rows already by length spare the one-scenario product its put-back (:class:`~core.engine.grouping.ByLength`)."""

    rows: np.ndarray               # the holders, in the passes' order
    order: np.ndarray              # each holder's place among index_levels' rows
    debtors: np.ndarray            # the entities they hold claims on that are not holders themselves
    product: Product               # held value of each holder's claims, (S, holders + debtors) -> (S, holders)
    follow: np.ndarray             # lam_follow, lam_fixed and inv_base0 on the holders
    fixed: np.ndarray
    inv: np.ndarray

    def one_pass(self, x: np.ndarray, unheld: np.ndarray) -> np.ndarray:
        """The holders' indices with their claims held at ``x`` (S, holders + debtors: each debtor's index times its
        paid ratio), ``unheld`` (S, holders) their ``V`` without them: ``(unheld + held(x)) / V0 * lam_follow +
        lam_fixed``, the index map's operations in :func:`core.engine.books.inkind_index`'s order. A new array."""
        v = self.product(x)  # a fresh array: the sum written over it
        np.add(unheld, v, out=v)
        v *= self.inv
        v *= self.follow
        v += self.fixed
        return v

    @classmethod
    def of(cls, c: Compiled, levels_rows: np.ndarray) -> "HolderPasses":
        MT = c.held_value.MT
        order = np.argsort(-np.diff(MT.indptr)[levels_rows], kind="stable")
        rows = levels_rows[order]
        held = sp.csr_array(MT[rows])  # a row slice: each row's stored values in their order
        debtors = np.setdiff1d(held.indices, rows)
        column = np.full(MT.shape[1], -1, np.int64)
        column[rows] = np.arange(len(rows))
        column[debtors] = len(rows) + np.arange(len(debtors))
        local = sp.csr_array((held.data, column[held.indices], held.indptr), shape=(len(rows), len(rows) + len(debtors)))
        return cls(rows, order, debtors, Product.of(local), c.lam_follow[rows], c.lam_fixed[rows], c.inv_base0[rows])


def held_at_index(c: Compiled, lam: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """What the claims each entity holds are worth, (S, n): each at its debtor's in-kind index ``lam`` of this round
    (:func:`solve_indices`) times the debtor's paid ratio in the last clearing, ``ratio``."""
    return c.held_value(lam * ratio)

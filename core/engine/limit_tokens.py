"""The liquidators' limit's per-network terms (:mod:`core.engine.limits`), built once per compiled network and kept
with it (:func:`~core.engine.memo.per_network`): the token each cohort's sale moves (:class:`SaleTokens`) and the
cohorts a pool prices (:class:`PoolCohorts`). Functions of the network's fields alone: the same arrays every round."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiled import Compiled
from .loop_swaps import loop_cohorts


@dataclass(frozen=True)
class SaleTokens:
    """:func:`~core.engine.limits.limit_terms`'s per-network terms: each cohort's collateral wrapped or not, the token its sale
    moves (the underlying of a wrapped one) with its distinct ``tokens`` and each cohort's among them (``of``),
    and those tokens' constants."""

    wrapped: np.ndarray
    per_unit: np.ndarray
    unwrap_col: np.ndarray
    tokens: np.ndarray
    of: np.ndarray
    vol: np.ndarray
    adv: np.ndarray
    supply: np.ndarray
    P0_t: np.ndarray
    book: np.ndarray

    @classmethod
    def build(cls, c: Compiled) -> SaleTokens:
        ca = c.c_ca
        is_wrapped = np.zeros(len(c.P0), bool)
        is_wrapped[c.wrapped_idx] = True
        wrapped = is_wrapped[ca]  # np.isin's answer, by a lookup
        t = np.where(wrapped, c.peg_unit[ca], ca)  # the token whose order book the sale moves
        col = np.full(len(c.P0), -1)
        col[c.wrapped_idx] = np.arange(len(c.wrapped_idx))
        tokens, of = np.unique(t, return_inverse=True)
        # a loop's liquidator swaps the seized collateral back into the debt it repays (core.engine.loop_swaps):
        # no sale of its on the book to weigh, it takes the close factor while the margin pays, as on a peg
        loop, _ = loop_cohorts(c)
        return cls(wrapped, np.where(wrapped, c.peg1[ca], 1.0)[None],  # units of it per unit of collateral (sell.unwrap_units)
                   np.maximum(col[ca], 0), tokens, of, c.vol[tokens], c.adv[tokens], c.supply[tokens], c.P0[t],
                   ~c.price_set_elsewhere[t] & (c.vol[t] > 0) & ~loop)


class PoolCohorts:
    """The cohorts whose collateral a pool prices, and the pools' constants they read (:meth:`of`, once per network)."""

    @staticmethod
    def of(c: Compiled) -> tuple[np.ndarray, ...] | None:
        """``core.engine.limits._pool_terms``'s per-network terms: the cohorts a pool prices, their pools, its token and counter
        (and counter >= 0), the distinct pools and each cohort's among them, whether it has a counter coin, that
        coin's and the token's reference prices and the pool's reference price (gathered once, not each round);
        None where none."""
        pool_of = np.full(len(c.P0), -1)
        pool_of[c.pool_asset] = np.arange(len(c.pool_asset))
        cols = np.flatnonzero(pool_of[c.c_ca] >= 0)
        if not len(cols):
            return None
        pj = pool_of[c.c_ca[cols]]
        cu = c.pool_counter[pj]
        pools, of = np.unique(pj, return_inverse=True)
        pa, cu0 = c.pool_asset[pj], np.maximum(cu, 0)
        return cols, pj, pa, cu, cu0, pools, of, cu >= 0, c.P0[cu0], c.pool_ref[pj], c.P0[pa]

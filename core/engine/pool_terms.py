"""What the cascade's pool functions (:mod:`core.engine.pools`) read of the compiled network alone: where the pools'
reserves sit in the holdings (:class:`PoolHoldings`, built with the network) and the pools' fixed terms
(:class:`PoolTerms`, built on first use and kept with the network by :func:`~core.engine.memo.per_network`). Both are
the same indexing the functions made on every call, taken once, so the same numbers to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled


@dataclass(frozen=True, eq=False)
class PoolHoldings:
    """A pool entity's holdings are its reserves: positions of those holdings in ``H`` flattened to (S, n*k).

    ``token``: each pool's token; ``counter``: the counter token of pools priced in a token
    (``pool_token_counter``); ``others``: the other tokens of pools priced in USD, which scale with the
    pool's counter reserve (``others_pool``: the row of ``pool_usd_counter`` of each, ``others_h0``: its
    reference units). Written by :func:`core.engine.pools.sync_pool_holdings` as three flat assignments.
    """

    token: np.ndarray
    counter: np.ndarray
    others: np.ndarray
    others_pool: np.ndarray
    others_h0: np.ndarray

    @classmethod
    def of(cls, n: int, k: int, H0: np.ndarray, entity: np.ndarray, asset: np.ndarray, counter: np.ndarray,
           usd_others: np.ndarray) -> "PoolHoldings":
        tc, uc = np.flatnonzero(counter >= 0), np.flatnonzero(counter < 0)
        u, a = np.nonzero(usd_others)  # row-major: each pool's other tokens in asset order
        return cls(token=entity * k + asset, counter=entity[tc] * k + counter[tc], others=entity[uc][u] * k + a,
                   others_pool=u, others_h0=H0[entity[uc][u], a])


@dataclass(frozen=True, eq=False)
class PoolTerms:
    """What the pool functions read of the network alone, taken once (:func:`pool_terms`) by the same indexing
    they made on every call: which pools are stableswap pools, their amplifications, the counter assets."""

    stableswap: np.ndarray           # (p,) bool
    any_stableswap: bool
    constant_product: np.ndarray     # (p,) bool
    any_constant_product: bool
    A_stableswap: np.ndarray         # (1, stableswap pools) their amplifications
    has_counter: np.ndarray          # (p,) priced in a token (else USD)
    counter_at: np.ndarray           # (p,) that token (0 where USD)
    counter_p0: np.ndarray           # (p,) its reference price
    asset_p0: np.ndarray             # (p,) the pool tokens' reference prices
    usd_counter_res0: np.ndarray     # (1, USD-counter pools) their reference counter reserves
    basket: np.ndarray               # (k, USD-counter pools) units of each other token a counter unit holds

    @classmethod
    def of(cls, c: Compiled) -> "PoolTerms":
        ss = np.isfinite(c.pool_A)
        at = np.maximum(c.pool_counter, 0)
        return cls(stableswap=ss, any_stableswap=bool(ss.any()), constant_product=~ss, any_constant_product=bool((~ss).any()),
                   A_stableswap=c.pool_A[ss][None], has_counter=c.pool_counter >= 0, counter_at=at, counter_p0=c.P0[at],
                   asset_p0=c.P0[c.pool_asset], usd_counter_res0=c.pool_res0[c.pool_usd_counter, 1][None],
                   basket=(c.H0[c.pool_entity[c.pool_usd_counter]] * c.pool_usd_others
                           / c.pool_res0[c.pool_usd_counter, 1][:, None]).T)


def pool_terms(c: Compiled) -> PoolTerms:
    """The network's :class:`PoolTerms`, built once (kept with the compiled network, whichever view of its
    cohorts asks)."""
    return per_network(c.__dict__.get("_c", c), "pool_terms", lambda: PoolTerms.of(c))

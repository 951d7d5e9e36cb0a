"""The round's arbitrage into pools, and the prices it takes a pool down through while the pool's coin stays.

:func:`arbitrage` sells into every pool dearer than its token's market price (:func:`core.engine.pools.arbitrage`:
arbitrageurs buy the token where it is cheap, from the units held outside the network, and sell it into the pool
until it prices the token at ``P``) and keeps what that sale leaves for a later purchase to read.

The coin stays at ``P`` while the pool falls to it: the pool prices the sale took the pool down through are
quotes the coin, trading at its cheapest venue below them, never traded at. They are kept as the pool's
unfollowed range (:func:`~core.engine.queue_sales.unfollowed_range`, ``CascadeState.pool_unfollowed``), as the
range a queue sale or the counter's fall leaves (decision 24): a reserve buying the pool back up through them
lifts the coin none (:func:`~core.engine.queue_sales.lift_outside_unfollowed`,
:func:`~core.engine.defend.defend_pegs`), because buying back the units the arbitrageurs sold changes neither
what a redemption realises nor the queue, and the round trip of the same units through the pool leaves the
coin where it was (Liu, Makarov & Schoar, "Anatomy of a run: the Terra Luna crash", NBER WP 31160, 2023: UST
traded on several venues, held together by arbitrage). (Before, the lift turned on whether the units held
outside the network sufficed to take the pool all the way down to the coin: on the 2022 network with BTC,
CEL and LUNA shocked, STABLE_HOLDERS failed, full runs and oracle lag 1, round 7's arbitrage took the deeper
run's pool from 0.992995 to UST's 0.932357 with 98.86M UST, and LFG's purchase of 98.68M UST lifted UST with
the pool to 0.992977, while the shallower run's 96.53M units held outside ran out at 0.994488, above UST's
0.933885, and its purchase of 103.53M UST lifted UST by its own move to 0.937719: the deeper run's spiral ran
slower and system loss fell $854.57M at 12 rounds, $25.91M at 365,
``monotone-shipped-btc-cel-luna-stable-holders-failed-full-runs-lag1-capital-50m-horizon``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import pools
from .queue_sales import counter_fall
from .unfollowed import unfollowed_range

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState, Changes


def arbitrage(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Pools dearer than their token's market price are sold into (:func:`core.engine.pools.arbitrage`), and the prices
    the sale took each pool down through are merged into its unfollowed range (module docstring). The coin's price in
    pool terms is at or below the pool's price after the sale (below it where the units held outside the network ran
    out), so the whole of the sale's move is a range the coin did not follow. Reads ``P, pool_res, pool_px,
    pool_unfollowed, pool_counter_seen, supply, H``; writes ``pool_res, pool_px, pool_unfollowed, pool_counter_seen``
    and, in place, the pools' holdings in ``H``."""
    changes = pools.arbitrage(c, s, b, r)
    if "pool_px" not in changes:
        return changes
    before, after = s.pool_px, changes["pool_px"]
    sold = after < before
    seen = counter_fall(c, s, s.P, np.asarray(sold.any(1)))  # the ranges held, at the counter's value now
    held = seen.get("pool_unfollowed", s.pool_unfollowed)
    return changes | seen | dict(pool_unfollowed=unfollowed_range(held, before, after, after, sold))

"""Step 3 of a round: estates of defaulted entities sell, and everything sold this round moves prices.

An estate (a defaulted lender, exchange, fund, reserve or issuer) realises its
illiquid assets at the fire-sale discount once
(:func:`~core.mechanisms.firesales.fire_sale_discount`) and sells its tokens,
``ESTATE_SALE_RATE`` of them in the round after default and the rest in the
next. What is sold this round (seized collateral and estates' tokens) moves
prices: a token whose price an AMM pool sets is swapped into that pool
(:mod:`core.engine.pools`), every other token moves by the square-root law
(:func:`~core.mechanisms.market.log_sqrt_impact`); fiat-backed and CDP
stablecoins are redeemable at par, so selling them does not move their price
(their issuer's solvency does, in the peg step).
"""

from __future__ import annotations

import numpy as np

from ..mechanisms import market
from ..mechanisms.firesales import ESTATE_SALE_RATE, fire_sale_discount
from .batch import ScenarioBatch
from .compiled import Compiled
from .pools import apply_pool_prices, pool_price, pool_sell, sync_pool_holdings
from .state import CascadeState, Changes


def estate_sales(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``defaulted, halted, estate, oa, H, P``; writes in place ``oa, run_loss, estate, H, sold`` of the
    (scenario, entity) pairs selling (few: each pair once)."""
    es, ei = np.nonzero(s.defaulted & c.sells_estate[None] & ~s.halted[:, None])
    if not len(es):
        return {}
    # An estate realises its illiquid assets at the fire-sale discount, once, as a run would.
    first = ~s.estate[es, ei]
    disc = fire_sale_discount(b.liquidity[es])
    haircut = np.where(first, s.oa[es, ei] * (1 - c.liquid_share[ei]) * disc, 0.0)
    s.oa[es, ei] -= haircut
    s.run_loss[es, ei] += haircut
    s.estate[es, ei] = True
    units = s.H[es, ei] * np.where(first, ESTATE_SALE_RATE, 1.0)[:, None]
    s.H[es, ei] -= units
    s.oa[es, ei] += (units * s.P[es]).sum(1)
    np.add.at(s.sold, es, units)
    return {}


def price_impact(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``sold, P, pool_res, pool_px``; writes ``P, pool_res, pool_px`` and the pools' holdings in ``H``."""
    sold, P = s.sold, s.P
    pool_res, pool_px = s.pool_res, s.pool_px
    if len(c.pool_asset) and sold[:, c.pool_asset].any():
        pool_res = pool_sell(c, pool_res, sold[:, c.pool_asset])
        pool_px = pool_price(c, pool_res)
    impact = market.log_sqrt_impact(sold * P, c.adv[None], c.vol[None], 1.0, b.liquidity[:, None])
    P = np.where(c.price_set_elsewhere[None], P, P * np.exp(-impact))
    P = apply_pool_prices(c, P, pool_px, c.pool_ref[None])
    sync_pool_holdings(c, s.H, pool_res)
    return dict(P=P, pool_res=pool_res, pool_px=pool_px)

"""Step 3 of a round: estates of defaulted entities sell, and everything sold this round moves prices.

An estate (a defaulted lender, exchange, fund, reserve or issuer) realises its
illiquid assets at the fire-sale discount once
(:func:`~core.mechanisms.firesales.fire_sale_discount`) and sells its tokens,
``ESTATE_SALE_RATE`` of them in the round after default and the rest in the
next. An estate is paid the price its sale actually gets: the round's closing
price, after the impact of everything sold this round (its own sales among
them) and after its own token is marked down with its issuer
(:func:`estate_proceeds`, the last step before clearing). What is sold this round (seized collateral and estates' tokens) moves
prices: a token whose price an AMM pool sets is swapped into that pool
(:mod:`core.engine.pools`), every other token moves by the square-root law
(:func:`sale_impact`), its participation rate counted in units: units sold
over the units a day's volume trades, which is the reference turnover
(``adv_usd / (P0 * supply0)``) of the supply now in circulation. The log
impact of a sale then does not depend on the price it meets, so impacts
compose with every other move of the price and a market that was lower before
a sale is never higher after it. (Counted in dollars at the current price, a
deeper fall before a large sale left a *higher* price after it once the log
impact exceeded 2, and a cap on the price discarded the impact of the sales
before it: FTT after FTX's failure.) Impacts accumulate in ``impact_log``.
Fiat-backed and CDP
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
    """Reads ``defaulted, halted, estate, oa, H``; writes in place ``oa, run_loss, estate, estate_share, sold`` of
    the (scenario, entity) pairs selling (few: each pair once). The tokens stay in ``H`` until
    :func:`estate_proceeds` pays for them at the closing price."""
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
    share = np.where(first, ESTATE_SALE_RATE, 1.0)
    s.estate_share[es, ei] = share
    np.add.at(s.sold, es, s.H[es, ei] * share[:, None])
    return {}


def estate_proceeds(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Estates hand over the tokens they sold this round and are paid the closing price ``P``.

    Selling ``u`` units at the price after impact pays ``u * P_close``, never
    the price before the sale (at ETH -20% on the 2022 network, the old rule
    credited Celsius's estate 176M CEL at $1.70 in the round CEL fell to 3% of
    that). Reads ``estate_share, H, P``; writes in place ``H, oa, estate_share`` of the selling pairs.
    """
    es, ei = np.nonzero(s.estate_share)
    if not len(es):
        return {}
    units = s.H[es, ei] * s.estate_share[es, ei][:, None]
    s.H[es, ei] -= units
    s.oa[es, ei] += (units * s.P[es]).sum(1)
    s.estate_share[es, ei] = 0.0
    return {}


def price_impact(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``sold, P, pool_res, pool_px``; writes ``P, pool_res, pool_px`` and the pools' holdings in ``H``."""
    sold, P = s.sold, s.P
    pool_res, pool_px = s.pool_res, s.pool_px
    if len(c.pool_asset) and sold[:, c.pool_asset].any():
        pool_res = pool_sell(c, pool_res, sold[:, c.pool_asset])
        pool_px = pool_price(c, pool_res)
    changes: Changes = {}
    if sold.any():
        impact = sale_impact(c, s.supply, sold, b.liquidity)
        P = P * np.exp(-impact)
        changes["impact_log"] = s.impact_log + impact
    P = apply_pool_prices(c, P, pool_px, c.pool_ref[None])
    sync_pool_holdings(c, s.H, pool_res)
    return changes | dict(P=P, pool_res=pool_res, pool_px=pool_px)


def sale_impact(c: Compiled, supply: np.ndarray, units: np.ndarray, liquidity: np.ndarray) -> np.ndarray:
    """Log-price impact of selling ``units`` (S, k) on order books, (S, k); zero for tokens priced elsewhere.

    Square-root law (:func:`~core.mechanisms.market.log_sqrt_impact`),
    ``I = sigma * sqrt(q / (liquidity * turnover * supply))`` with the daily
    turnover ``adv_usd / (P0 * supply0)`` at reference: the dollars of the
    square-root law are the units sold at the reference price, scaled by the
    growth of the supply (an algorithmic stablecoin's backing token minted by
    the billion trades in proportion). A wrapped token sold moves its
    underlying, as if unwrapped and sold there.
    """
    w = c.wrapped_idx
    if len(w) and units[:, w].any():  # a wrapped token sold is unwrapped and sold as its underlying
        units = units.copy()
        np.add.at(units.T, c.peg_unit[w], (units[:, w] * c.peg1[w][None]).T)
    grown = np.where(supply > 0, c.supply[None] / np.where(supply > 0, supply, 1.0), 1.0)
    impact = market.log_sqrt_impact(units * c.P0[None] * grown, c.adv[None], c.vol[None], 1.0, liquidity[:, None])
    return np.where(c.price_set_elsewhere[None], 0.0, impact)

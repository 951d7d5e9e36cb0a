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
(:func:`sale_impact`). All of a cascade's sales of a token are one
metaorder: the permanent impact is that of everything sold so far,
``I = sigma * sqrt(Q / (liquidity * V))`` (Tóth et al. 2011), and a round's
sales move the log price by the increase of ``I``, so the same units sold in
one round or spread over many move the price alike. The participation is
counted in units: ``Q`` is the units sold valued at the reference price,
scaled by the growth of the supply, over the reference daily volume ``V``.
The log impact of a sale then does not depend on the price it meets, so
impacts compose with every other move of the price and a market that was
lower before a sale is never higher after it. (Counted in dollars at the
current price, a deeper fall before a large sale left a *higher* price after
it once the log impact exceeded 2, and a cap on the price discarded the impact
of the sales before it: FTT after FTX's failure; added round by round, the
concave law made the same sales spread over more rounds move the price more.)
The cumulative impact is ``impact_log``.
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
    """Reads ``defaulted, halted, estate, oa, H``; writes in place ``oa, run_loss, estate, H, sold`` of the
    (scenario, entity) pairs selling (few: each pair once), and ``estate_rows, estate_entities, estate_units``:
    what each sold, paid for by :func:`estate_proceeds` at the closing price."""
    selling = s.defaulted & c.sells_estate[None]
    if s.halted.any():
        selling &= ~s.halted[:, None]
    flat = np.flatnonzero(selling)  # (scenario, entity) pairs as positions in the (S, n) arrays, row-major
    if not len(flat):
        return {}
    es, ei = np.divmod(flat, c.n)
    # An estate realises its illiquid assets at the fire-sale discount, once, as a run would.
    oa, run_loss, estate, H = (_rows(s, f_) for f_ in ("oa", "run_loss", "estate", "H"))
    first = ~estate[flat]
    disc = fire_sale_discount(b.liquidity[es])
    haircut = np.where(first, oa[flat] * (1 - c.liquid_share[ei]) * disc, 0.0)
    oa[flat] -= haircut
    run_loss[flat] += haircut
    estate[flat] = True
    units = H[flat] * np.where(first, ESTATE_SALE_RATE, 1.0)[:, None]
    moving = units.any(1)  # an estate that has sold everything sells nothing more: not written, nor paid
    if not moving.all():
        flat, es, ei, units = flat[moving], es[moving], ei[moving], units[moving]
    H[flat] -= units
    add_in_order(s.sold, es, units)
    return dict(estate_rows=es, estate_entities=ei, estate_units=units)


def add_in_order(total: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``np.add.at(total, rows, values)`` (in place): each value added to its row in the order given. With
    one row (one scenario), as a running sum (``np.cumsum``, sequential like ``np.add.at``, so equal to the
    last bit) instead of ``np.add.at``, whose cost per value is many times a running sum's."""
    if total.shape[0] == 1:
        total[0] = np.cumsum(np.concatenate([total, values]), axis=0)[-1]
    else:
        np.add.at(total, rows, values)


def _rows(s: CascadeState, name: str) -> np.ndarray:
    """State field ``name``, (S, n) or (S, n, k), as a view with one row per (scenario, entity) pair, (S*n,) or
    (S*n, k), for writing in place (made C-contiguous first if it is not)."""
    a = getattr(s, name)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
        setattr(s, name, a)
    return a.reshape((-1,) + a.shape[2:])


def estate_proceeds(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Estates hand over the tokens they sold this round and are paid the closing price ``P``.

    Selling ``u`` units at the price after impact pays ``u * P_close``, never
    the price before the sale (at ETH -20% on the 2022 network, the old rule
    credited Celsius's estate 176M CEL at $1.70 in the round CEL fell to 3% of
    that). Reads ``estate_rows, estate_entities, estate_units, P``; writes in place ``oa`` of the selling
    pairs, and empties the three.
    """
    es, ei = s.estate_rows, s.estate_entities
    if not len(es):
        return {}
    _rows(s, "oa")[es * c.n + ei] += (s.estate_units * (s.P if s.S == 1 else s.P[es])).sum(1)
    return dict(estate_rows=es[:0], estate_entities=ei[:0], estate_units=s.estate_units[:0])


def price_impact(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``sold, P, pool_res, pool_px``; writes ``P, pool_res, pool_px`` and the pools' holdings in ``H``."""
    sold, P = s.sold, s.P
    pool_res, pool_px = s.pool_res, s.pool_px
    if len(c.pool_asset) and sold[:, c.pool_asset].any():
        pool_res = pool_sell(c, pool_res, sold[:, c.pool_asset])
        pool_px = pool_price(c, pool_res)
    changes: Changes = {}
    if sold.any():
        impact, total = sale_impact(c, s.supply, s.sold_reference_usd, sold, b.liquidity)
        P = P * np.exp(-impact)
        changes.update(impact_log=s.impact_log + impact, sold_reference_usd=total)
    P = apply_pool_prices(c, P, pool_px, c.pool_ref[None])
    sync_pool_holdings(c, s.H, pool_res, s.lp_withdrawn)
    return changes | dict(P=P, pool_res=pool_res, pool_px=pool_px)


def sale_impact(c: Compiled, supply: np.ndarray, sold_before: np.ndarray, units: np.ndarray,
                liquidity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-price impact of selling ``units`` (S, k) on order books after ``sold_before``, and the new total.

    Square-root law of a metaorder (:func:`~core.mechanisms.market.log_sqrt_impact`):
    ``I(Q) = sigma * sqrt(Q / (liquidity * adv_usd))`` with ``Q`` the
    cumulative units sold valued at the reference price and scaled by the
    growth of the supply (an algorithmic stablecoin's backing token minted by
    the billion trades in proportion); the impact of this sale is
    ``I(Q + q) - I(Q)``, zero for tokens priced elsewhere. A wrapped token sold
    moves its underlying, as if unwrapped and sold there. Units bought are
    negative (perpetual shorts closed by liquidation, :mod:`core.engine.perps`):
    the law is signed, ``I(Q) = sign(Q) * sigma * sqrt(|Q| / (liquidity * V))``,
    so a purchase lifts the price as a sale of the same size lowers it, and
    with sales only the impact is never negative (as before).
    """
    w = c.wrapped_idx
    if len(w) and units[:, w].any():  # a wrapped token sold is unwrapped and sold as its underlying
        units = units.copy()
        np.add.at(units.T, c.peg_unit[w], (units[:, w] * c.peg1[w][None]).T)
    grown = np.where(supply > 0, c.supply[None] / np.where(supply > 0, supply, 1.0), 1.0)
    total = sold_before + np.where(c.price_set_elsewhere[None], 0.0, units * c.P0[None] * grown)
    adv, vol, liq = c.adv[None], c.vol[None], liquidity[:, None]
    impact = market.log_sqrt_impact(total, adv, vol, 1.0, liq) - market.log_sqrt_impact(sold_before, adv, vol, 1.0, liq)
    return impact, total

r"""One round of the perpetuals venues: marks, market makers' depth, liquidation, waterfall, what passes on.

The engine-independent core of the perpetuals step: given the positions still
open, this round's prices and the venues' funds and vaults, it settles every
venue (:func:`core.mechanisms.perps_book.settle_book`) and says what the
cascade must carry on.

Market makers' depth (a response inside the model)
--------------------------------------------------
Liquidity providers withdraw as volatility rises. The depth of market *k* this
round is the scenario's liquidity multiplier :math:`\ell` times

.. math:: \lambda_k = \min\left(1, \frac{\sigma_k}{|r_k|}\right)^{\kappa},

with :math:`r_k` the round's log return and :math:`\sigma_k` the daily
volatility: a move within one daily sigma leaves depth as it was; a
:math:`6\sigma` move with :math:`\kappa = 0.75` leaves :math:`6^{-0.75} = 26\,\%`
of it. (10 October 2025: the USDe/USDT bid depth on Binance fell 74 % in
15 minutes, Rena Labs; books were empty for minutes, Kaiko; BTC fell about
15 % on a daily volatility near 2.5 %: our calibration, an estimate.)

Liquidation fills
-----------------
Liquidated notional :math:`Q_{vk}` of venue *v* in market *k* is closed into
that depth with the square-root law (:func:`core.mechanisms.market.sqrt_impact`):
:math:`s_{vk} = 1 - \exp(-Y \sigma_k \sqrt{Q_{vk} / (\ell \lambda_k V_k)})`;
a venue's fill discount is the notional-weighted mean of its markets'
(``settle_book`` takes one slippage per venue). Liquidations are decided at the
marks, so the notional is known before the fill: the book is settled once at
zero slippage to find it, then at the venue's slippage.

What passes on
--------------
* **Forced closes**: a liquidated long is a sale of its market's asset, a short a
  purchase: ``sales_usd`` per asset (signed, sold > 0) goes to the price-impact channel.
* **Accounts**: what each named account's positions are worth to it after the round
  (:attr:`PerpsRound.account_value_usd`): nothing for a liquidated margin account (its
  margin is gone; what it owed beyond is the venue's deficit), else margin + unrealised
  PnL - profit taken by ADL or socialisation. Against the margin it posted, the change
  is the account's gain or loss.
* **Backstop vault**: its change (``backstop_after - backstop``) is its depositors' profit or loss.
* **Venues**: ``uncovered_usd`` is the venue's own loss, for clearing to pass to its creditors.
* **Next round**: liquidated positions are closed; an ADL'd position is closed in the
  share of its profit taken (closing at the bankruptcy price transfers that profit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .mechanisms.market import sqrt_impact
from .mechanisms.perps_book import BookSettlement, book, settle_book
from .positions import PositionBook

__all__ = ["PERPS_COLUMNS", "market_maker_depth", "PerpsRound", "perps_round"]

#: Columns of the per-venue, per-round results (``CascadeResult.perps``).
PERPS_COLUMNS = ("venue", "round", "liquidated_usd", "deficit_usd", "backstop_usd", "insurance_draw_usd",
                 "adl_usd", "socialised_usd", "uncovered_usd")


def market_maker_depth(log_return, daily_vol, elasticity: float = 0.75) -> np.ndarray:
    r"""Share of normal depth left: :math:`\min(1, \sigma / |r|)^{\kappa}`.

    >>> market_maker_depth([0.0, -0.02, -0.15], [0.025, 0.025, 0.025]).round(3).tolist()
    [1.0, 1.0, 0.261]
    """
    r = np.abs(np.asarray(log_return, dtype=float))
    sigma = np.asarray(daily_vol, dtype=float)
    with np.errstate(divide="ignore"):
        ratio = np.where(r > sigma, sigma / np.where(r > 0, r, 1.0), 1.0)
    return ratio ** float(elasticity)


@dataclass(frozen=True)
class PerpsRound:
    """A round of every venue. Per venue arrays are in the order of ``book.venues``."""

    settlement: BookSettlement
    slippage: np.ndarray            # (V,) fill discount of liquidations
    sales_usd: np.ndarray           # (K,) signed USD of each market asset sold by forced closes
    account_value_usd: pd.Series    # by named account (entity position): its positions' worth after the round
    vault_change_usd: np.ndarray    # (V,) backstop vault's profit (+) or loss (-)
    book: PositionBook              # positions left open for the next round
    table: pd.DataFrame             # one row per venue, columns PERPS_COLUMNS

    @property
    def insurance_after(self) -> np.ndarray:
        return self.settlement.insurance_after[0]

    @property
    def backstop_after(self) -> np.ndarray:
        return self.settlement.backstop_after[0]


def perps_round(pb: PositionBook, rules: pd.DataFrame, marks: np.ndarray, previous_marks: np.ndarray,
                adv_usd: np.ndarray, daily_vol: np.ndarray, *, insurance_fund: np.ndarray, backstop: np.ndarray,
                round_: int = 0, liquidity: float = 1.0, elasticity: float = 0.75, y: float = 1.0) -> PerpsRound:
    """Settle one round (see the module docstring). ``marks``, ``previous_marks``, ``adv_usd``,
    ``daily_vol`` are per asset (the book's ``markets``); ``insurance_fund``, ``backstop`` per venue.

    Examples
    --------
    The two-venue example with BTC -10 % (90,000; a 3.5-sigma move leaves 39 % of the depth). A's
    20x longs leave 0.51m of deficit at their fill; the fund pays 0.1m, ADL takes the rest from the
    market maker's short (+1m unrealised), which is cut from 100 to 59.25 BTC. B's vault pays B's
    deficit. The market maker, hedged before, is worth 3.59m instead of 4m:

    >>> from core.positions import position_book, venue_rules
    >>> from core.synthetic_perps import perps_example
    >>> net = perps_example(); rules = venue_rules(net); pb = position_book(net, rules)
    >>> a = net.assets.set_index("symbol")
    >>> p0 = a["price_usd"].to_numpy(); p1 = p0.copy(); p1[0] = 9e4
    >>> r = perps_round(pb, rules, p1, p0, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(),
    ...                 insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy())
    >>> r.table[["deficit_usd", "backstop_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd"]].round(-3).values.tolist()
    [[507000.0, 0.0, 100000.0, 407000.0, 0.0], [303000.0, 303000.0, 0.0, 0.0, 0.0]]
    >>> r.sales_usd.tolist(), r.book.book.size.round(2).tolist(), round(float(r.account_value_usd[net.entity_pos(["MM"])[0]]))
    ([13500000.0, 0.0, 0.0], [0.0, -59.25, 0.0, 100.0], 3592513)
    """
    b = pb.book
    marks = np.asarray(marks, dtype=float)
    log_return = np.log(marks / np.asarray(previous_marks, dtype=float))
    depth = liquidity * market_maker_depth(log_return, daily_vol, elasticity)          # (K,)
    rule = rules["rule"].to_numpy()
    # 1. which positions liquidate (at the marks; slippage does not change the test)
    first = settle_book(b, marks, insurance_fund=insurance_fund, backstop=backstop, rule=rule)
    closed = first.liquidated[0]
    notional = np.where(closed, np.abs(b.size) * marks[b.market], 0.0)
    V, K = b.n_venues, len(marks)
    by_venue_market = np.zeros((V, K))
    np.add.at(by_venue_market, (b.venue, b.market), notional)
    slip_vk = sqrt_impact(by_venue_market, np.maximum(adv_usd, 1e-9)[None, :], daily_vol[None, :], y,
                          np.maximum(depth, 1e-12)[None, :])
    total = by_venue_market.sum(axis=1)
    slippage = np.where(total > 0, (slip_vk * by_venue_market).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    slippage = np.minimum(slippage, 1.0 - 1e-9)
    # 2. the fills and the waterfall
    s = settle_book(b, marks, slippage=slippage, insurance_fund=insurance_fund, backstop=backstop, rule=rule)
    liquidated, adl, socialised = s.liquidated[0], s.adl[0], s.socialised[0]
    signed_closed = np.where(liquidated, b.size * marks[b.market], 0.0)                  # long > 0: a sale
    sales = np.bincount(b.market, weights=signed_closed, minlength=K)
    # what each named account's positions are worth to it: a liquidated account nothing, an open one its
    # margin plus its unrealised PnL less the profit taken (never below 0: beyond that it is the venue's deficit)
    pnl = b.size * (marks[b.market] - b.entry)
    equity = np.asarray(b.in_account.T @ (b.margin + pnl - adl - socialised))
    gone = np.asarray(b.in_account.T @ liquidated.astype(float)) > 0
    value = np.where(gone, 0.0, np.maximum(equity, 0.0))
    first_row = np.full(b.n_accounts, -1)
    first_row[b.account[::-1]] = np.arange(len(b.account))[::-1]
    entity = pb.account_entity[first_row]
    account_value = pd.Series(value[entity >= 0], index=entity[entity >= 0]).groupby(level=0).sum()
    # 3. the book left open
    profit = np.where(~liquidated, pnl, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(liquidated, 0.0, np.where(profit > 0, 1.0 - np.minimum(1.0, (adl + socialised) / np.where(profit > 0, profit, 1.0)), 1.0))
    next_book = replace(pb, book=_resized(b, b.size * kept, np.where(liquidated, 0.0, b.margin)))
    table = pd.DataFrame({"venue": pb.venues.to_numpy(), "round": round_,
                          **{c: getattr(s, c)[0] for c in PERPS_COLUMNS[2:]}}, columns=list(PERPS_COLUMNS))
    return PerpsRound(settlement=s, slippage=slippage, sales_usd=sales, account_value_usd=account_value,
                      vault_change_usd=s.backstop_after[0] - np.broadcast_to(np.asarray(backstop, dtype=float), (V,)),
                      book=next_book, table=table)


def _resized(b, size: np.ndarray, margin: np.ndarray):
    """The book with new sizes and margins (closed rows at 0); accounts stay as they were."""
    return book(b.venue, b.market, size, b.entry, margin, b.maintenance, b.account,
                n_venues=b.n_venues, n_markets=b.n_markets)

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
marks, so the notional is known before the fill: the maintenance test finds it
(:func:`~core.mechanisms.perps_spread.liquidated_share`), then the book is settled
at the venue's slippage.

Collateral at the venue's price
-------------------------------
A position's margin is ``margin_units`` of its collateral token at the venue's price
(:func:`core.positions.venue_collateral_prices`). Under ``order_book`` that is the
venue's own market for the token, a thin book that the collateral the venue has
seized and sold there so far (:math:`Q_{vc}`, USD at reference prices) pushes down
exponentially (the fire-sale law of Cifuentes, Ferrucci and Shin 2005,
:func:`core.mechanisms.firesales.exponential_impact`):

.. math:: P^{\text{book}}_{vc} = P_c \exp\left(-\frac{Q_{vc}}{D_{vc}}\right), \qquad
          D_{vc} = \text{own\_book\_share}_v \cdot \lambda_c \ell \cdot V_c,

with :math:`V_c` the token's daily volume and :math:`\lambda_c \ell` this round's depth.
(A stablecoin's daily volatility is too small for the square-root law to move it; on
10 October 2025 USDe's bid depth on Binance fell from 89m to 23m USD in 15 minutes and the
price to 0.66, Rena Labs.) Seized collateral
is sold there and nowhere else: the price falls on that venue only, as wBETH, USDe and
BNSOL did on Binance on 10 October 2025 while they held elsewhere (arbitrage was slow;
gas spikes stopped it, Ethena forum). Under ``index`` the venue uses the market price,
under ``redemption_value`` what the token redeems for.

What passes on
--------------
* **Forced closes**: a liquidated long is a sale of its market's asset, a short a
  purchase: ``sales_usd`` per asset (signed, sold > 0) goes to the price-impact channel.
* **Accounts**: what each named account's positions are worth to it after the round
  (:attr:`PerpsRound.account_value_usd`): nothing for a liquidated margin account (its
  margin is gone; what it owed beyond is the venue's deficit), else margin + unrealised
  PnL - what ADL (profit, then margin) or socialisation (profit) took. Against the margin it
  posted, the change is the account's gain or loss.
* **Backstop vault**: its change (``backstop_after - backstop``) is its depositors' profit or loss.
* **Venues**: ``uncovered_usd`` is the venue's own loss, for clearing to pass to its creditors.
* **Next round**: liquidated positions are closed; an ADL'd position is closed in the
  share of its profit taken (closing at the bankruptcy price transfers that profit) and,
  where ADL went on to its margin, what is left of it in the share of its equity taken,
  with that share of its margin units (``margin_units_after``).
  An anonymous isolated bucket (:mod:`core.mechanisms.perps_spread`) closes the share of its
  accounts past maintenance and loses the margin they held; the rest keeps the narrowed spread
  (``spread_after``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .mechanisms.market import sqrt_impact
from .mechanisms.cohort_spread import collateral_share_below, spread_after_removal
from .mechanisms.memberships import transposed
from .mechanisms.perps_book import BookSettlement, settle_book
from .mechanisms.perps_spread import liquidated_share
from .positions import PositionBook, venue_collateral_prices

__all__ = ["PERPS_COLUMNS", "market_maker_depth", "PerpsRound", "perps_round"]

#: Columns of the per-venue, per-round results (``CascadeResult.perps``).
PERPS_COLUMNS = ("venue", "round", "liquidated_usd", "deficit_usd", "backstop_usd", "insurance_draw_usd",
                 "adl_usd", "socialised_usd", "uncovered_usd")


def market_maker_depth(log_return, daily_vol, elasticity: float = 0.75) -> np.ndarray:
    r"""Share of normal depth left: :math:`\min(1, \sigma / |r|)^{\kappa}`.

    Parameters
    ----------
    log_return : array_like
        The round's log-return of the market.
    daily_vol : array_like
        Its daily volatility ``σ``.
    elasticity : float
        ``κ``: how fast market makers withdraw beyond a one-sigma move.

    Returns
    -------
    ndarray
        In (0, 1].

    Examples
    --------
    >>> market_maker_depth([0.0, -0.02, -0.15], [0.025, 0.025, 0.025]).round(3).tolist()
    [1.0, 1.0, 0.261]
    """
    r = np.abs(np.asarray(log_return, dtype=float))
    sigma = np.asarray(daily_vol, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):  # masked out where r <= sigma
        ratio = np.where(r > sigma, sigma / np.where(r > 0, r, 1.0), 1.0)
    return ratio ** float(elasticity)


@dataclass(frozen=True)
class PerpsRound:
    """A round of every venue in a batch of scenarios; per venue in the order of ``venues``.

    Attributes
    ----------
    settlement : BookSettlement
        The venues' settlement (deficits and who covered them), (S, V) each.
    venues : pandas.Index
    slippage : ndarray, shape (S, V)
        Fill discount of liquidations.
    sales_usd : ndarray, shape (S, K)
        Signed USD of each market asset sold by forced closes.
    accounts : ndarray of int, shape (A,)
        Entity positions of the named accounts.
    account_value_usd : ndarray, shape (S, A)
        What the positions of named account ``accounts[i]`` are worth to it after the round.
    vault_change_usd : ndarray, shape (S, V)
        Backstop vault's profit (+) or loss (-).
    size_after, margin_units_after, spread_after : ndarray, shape (S, N)
        The book left open, and each bucket's accounts' margin spread (pass them to the next round).
    collateral_prices, collateral_sold_units, own_book_sold_after : ndarray, shape (S, V, K)
        Each venue's price of each token this round, the seized collateral sold on
        its own book this round, and all sold there so far (at reference prices).

    Examples
    --------
    BTC -10 % on the two-venue example: the hedged market maker (entity 3, ``MM``)
    is worth 3.59m instead of 4m, and B's vault pays B's 0.3m deficit.

    >>> from core.positions import position_book, venue_rules
    >>> from core.synthetic_perps import perps_example
    >>> net = perps_example(); rules = venue_rules(net); pb = position_book(net, rules)
    >>> a = net.assets.set_index("symbol")
    >>> p0 = a["price_usd"].to_numpy(); p1 = p0.copy(); p1[0] = 9e4
    >>> r = perps_round(pb, rules, p1, p0, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(),
    ...                 insurance_fund=rules["insurance_fund_usd"].to_numpy(), backstop=rules["backstop_vault_usd"].to_numpy())
    >>> r.accounts.tolist(), r.account_value_usd.round(-3).tolist(), r.vault_change_usd.round(-3).tolist()
    ([3], [[3593000.0]], [[0.0, -303000.0]])
    """

    settlement: BookSettlement
    venues: pd.Index
    slippage: np.ndarray            # (S, V) fill discount of liquidations
    sales_usd: np.ndarray           # (S, K) signed USD of each market asset sold by forced closes
    accounts: np.ndarray            # (A,) entity positions of the named accounts
    account_value_usd: np.ndarray   # (S, A)
    vault_change_usd: np.ndarray    # (S, V) backstop vault's profit (+) or loss (-)
    size_after: np.ndarray          # (S, N)
    margin_units_after: np.ndarray  # (S, N) collateral units left (USD for USD margin)
    spread_after: np.ndarray        # (S, N) each bucket's accounts' margin spread left (0: one account)
    collateral_prices: np.ndarray   # (S, V, K) each venue's price of each token this round
    collateral_sold_units: np.ndarray  # (S, V, K) seized collateral sold on each venue's own book this round
    own_book_sold_after: np.ndarray    # (S, V, K) all sold there so far, at reference prices

    def table(self, round_: int, scenario: int = 0) -> pd.DataFrame:
        """One row per venue, columns :data:`PERPS_COLUMNS`."""
        s = self.settlement
        return pd.DataFrame({"venue": self.venues.to_numpy(), "round": round_,
                             **{c: getattr(s, c)[scenario] for c in PERPS_COLUMNS[2:]}}, columns=list(PERPS_COLUMNS))


@dataclass(frozen=True)
class _Memberships:
    """A book's rows as members of its (venue, market) cells, its markets, its (venue, collateral token) cells, and
    its margin accounts as members of their named entities (``accounts``: the entity positions, sorted)."""

    cell: sp.csr_array
    in_market: sp.csr_array
    coll_cell: sp.csr_array
    to_entity: sp.csr_array
    accounts: np.ndarray


def _memberships(pb: PositionBook, K: int) -> _Memberships:
    """The membership matrices of ``pb``'s rows over ``K`` markets: constants of the book, built on the first round
    and kept with it (the same matrices each round built before, so the same sums to the last bit)."""
    kept = pb.__dict__.get("_memberships")
    if kept is not None and kept.cell.shape[1] == pb.book.n_venues * K:
        return kept
    b = pb.book
    N, V, asset = len(b.size), b.n_venues, pb.margin_asset
    tokens = asset >= 0
    first_row = np.full(b.n_accounts, -1)
    first_row[b.account[::-1]] = np.arange(N)[::-1]
    entity = pb.account_entity[first_row]                                                   # (G,)
    named = entity >= 0
    accounts, which = np.unique(entity[named], return_inverse=True)
    m = _Memberships(
        cell=sp.csr_array((np.ones(N), (np.arange(N), b.venue * K + b.market)), shape=(N, V * K)),
        in_market=sp.csr_array((np.ones(N), (np.arange(N), b.market)), shape=(N, K)),
        coll_cell=sp.csr_array((np.ones(int(tokens.sum())), (np.flatnonzero(tokens), (b.venue * K + asset)[tokens])), shape=(N, V * K)),
        to_entity=sp.csr_array((np.ones(int(named.sum())), (np.flatnonzero(named), which)), shape=(b.n_accounts, len(accounts))),
        accounts=accounts)
    pb.__dict__["_memberships"] = m
    return m


def perps_round(pb: PositionBook, rules: pd.DataFrame, marks: np.ndarray, previous_marks: np.ndarray,
                adv_usd: np.ndarray, daily_vol: np.ndarray, *, insurance_fund, backstop, rule=None, policy=None,
                size: np.ndarray | None = None, margin_units: np.ndarray | None = None, spread: np.ndarray | None = None,
                own_book_sold: np.ndarray | None = None, reference_prices: np.ndarray | None = None,
                redemption: np.ndarray | None = None, liquidity=1.0, elasticity: float = 0.75,
                y: float = 1.0, own_book_share: np.ndarray | None = None) -> PerpsRound:
    """Settle one round of a batch of scenarios (see the module docstring).

    ``marks`` and ``previous_marks`` are (S, K) or (K,) index prices of the assets (the
    book's ``markets``); ``adv_usd`` and ``daily_vol`` (K,); ``insurance_fund``, ``backstop``,
    ``rule`` and ``policy`` (codes; default the rules') (S, V) or (V,); ``size`` and
    ``margin_units`` the book as it stands, (S, N) (default: as indexed), and ``spread`` its buckets' margin
    spreads (default: the book's, :attr:`~core.positions.PositionBook.margin_spread`); ``own_book_sold``
    (S, V, K) the collateral each venue has sold on its own book so far, at
    ``reference_prices`` (default ``previous_marks``); ``redemption`` (S, K) what tokens redeem
    for (:func:`~core.positions.redemption_values`; default the marks); ``liquidity`` a float or (S,);
    ``own_book_share`` (V,) the rules' column of that name as an array (default: read from ``rules``).

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
    >>> r.table(0)[["deficit_usd", "backstop_usd", "insurance_draw_usd", "adl_usd", "uncovered_usd"]].round(-3).values.tolist()
    [[507000.0, 0.0, 100000.0, 407000.0, 0.0], [303000.0, 303000.0, 0.0, 0.0, 0.0]]
    >>> mm = list(r.accounts).index(net.entity_pos(["MM"])[0])
    >>> r.sales_usd[0].tolist(), r.size_after[0].round(2).tolist(), round(float(r.account_value_usd[0, mm]))
    ([13500000.0, 0.0, 0.0], [0.0, -59.25, 0.0, 100.0], 3592513)
    """
    b = pb.book
    marks = np.atleast_2d(np.asarray(marks, dtype=float))
    S, K, N, V = marks.shape[0], marks.shape[1], len(b.size), b.n_venues
    previous_marks = np.atleast_2d(np.asarray(previous_marks, dtype=float))
    q = np.broadcast_to(b.size if size is None else np.asarray(size, dtype=float), (S, N))
    units = np.broadcast_to(pb.margin_units if margin_units is None else np.asarray(margin_units, dtype=float), (S, N))
    w = np.broadcast_to(pb.margin_spread if spread is None else np.asarray(spread, dtype=float), (S, N))
    bucket = w > 0
    buckets = bool(bucket.any())
    sold_before = np.zeros((S, V, K)) if own_book_sold is None else np.asarray(own_book_sold, dtype=float)
    reference = previous_marks[0] if reference_prices is None else np.asarray(reference_prices, dtype=float)
    liquidity = np.broadcast_to(np.asarray(liquidity, dtype=float), (S,))[:, None]
    depth = liquidity * market_maker_depth(np.log(marks / previous_marks), daily_vol, elasticity)      # (S, K)
    vol = np.asarray(daily_vol, dtype=float)
    # 0. collateral at each venue's price: its own book is the index less the impact of what it sold there
    share = rules["own_book_share"].to_numpy() if own_book_share is None else np.asarray(own_book_share, dtype=float)
    own_depth = np.maximum(depth[:, None, :] * share[None, :, None], 1e-12)
    own_book = marks[:, None, :] * np.exp(-sold_before / (own_depth * np.maximum(adv_usd, 1e-9)[None, None, :]))
    collateral = venue_collateral_prices(rules["policy"].to_numpy() if policy is None else policy, marks,
                                         marks if redemption is None else redemption, own_book)   # (S, V, K)
    asset = pb.margin_asset
    M = units * np.where(asset >= 0, collateral[:, b.venue, np.maximum(asset, 0)], 1.0)
    rule = rules["rule"].to_numpy() if rule is None else rule
    terms = dict(insurance_fund=insurance_fund, backstop=backstop, rule=rule, size=q, margin=M, spread=w)
    # 1. which positions liquidate (at the marks; slippage does not change the test)
    P = marks[:, b.market]
    notional = liquidated_share(b, marks, q, M, w) * np.abs(q) * P  # a bucket's share past maintenance
    # sparse products come back as (S, ...) views of (..., S) arrays: made row-major, so that each row's sums
    # below run in the same order whatever the number of rows (a strided sum adds one by one, a contiguous one
    # pairwise: a row's last bits moved with its batch-mates)
    m = _memberships(pb, K)
    by_venue_market = np.ascontiguousarray((transposed(m.cell) @ notional.T).T).reshape(S, V, K)
    slip_vk = sqrt_impact(by_venue_market, np.maximum(adv_usd, 1e-9)[None, None, :], vol[None, None, :],
                          y, np.maximum(depth, 1e-12)[:, None, :])
    total = by_venue_market.sum(axis=2)
    slippage = np.where(total > 0, (slip_vk * by_venue_market).sum(axis=2) / np.where(total > 0, total, 1.0), 0.0)
    slippage = np.minimum(slippage, 1.0 - 1e-9)
    # 2. the fills and the waterfall
    st = settle_book(b, marks, slippage=slippage, **terms)
    liquidated, taken = st.liquidated, st.adl + st.socialised
    closed = np.where(liquidated, q * P, 0.0)
    seized_share = liquidated.astype(float)  # of each row's margin
    if buckets:  # a bucket closes its share past maintenance; those accounts hold less than their share of margin
        part = st.liquidated_share
        closed = np.where(bucket, part * q * P, closed)
        seized_share = np.where(bucket, collateral_share_below(part, w), seized_share)
    sales = np.ascontiguousarray((transposed(m.in_market) @ closed.T).T)                                                     # long > 0: a sale
    # the seized collateral tokens are sold on the venue's own book
    tokens = asset >= 0
    seized = np.where(liquidated & tokens, units, 0.0)
    if buckets:
        seized = np.where(bucket & tokens, seized_share * units, seized)
    collateral_sold = np.ascontiguousarray((transposed(m.coll_cell) @ seized.T).T).reshape(S, V, K)
    # what each named account's positions are worth to it: a liquidated account nothing, an open one its
    # margin plus its unrealised PnL less the profit taken (never below 0: beyond that it is the venue's deficit)
    pnl = q * (P - b.entry)
    equity = np.ascontiguousarray((transposed(b.in_account) @ (M + pnl - taken).T).T)                                     # (S, G)
    gone = (transposed(b.in_account) @ liquidated.T.astype(float)).T > 0
    value = np.where(gone, 0.0, np.maximum(equity, 0.0))
    accounts = m.accounts
    account_value = np.ascontiguousarray((transposed(m.to_entity) @ value.T).T)
    # 3. the book left open: liquidated rows closed; an ADL'd row closed in the share of its profit taken, and
    # beyond its profit in the share of its equity taken (that share of its size and of its margin)
    profit = np.where(~liquidated, pnl, 0.0)
    from_margin = st.adl_margin_share
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(liquidated, 0.0, np.where(profit > 0, 1.0 - np.minimum(1.0, taken / np.where(profit > 0, profit, 1.0)), 1.0))
        if buckets:  # a bucket keeps the share not liquidated, less what ADL took of that share's profit
            rest = np.where(pnl > 0, (1.0 - part) * pnl, 0.0)
            kept = np.where(bucket, (1.0 - part) * np.where(rest > 0, 1.0 - np.minimum(1.0, taken / np.where(rest > 0, rest, 1.0)), 1.0), kept)
    units_after = np.where(liquidated, 0.0, units)
    spread_after = w
    if buckets:  # (ADL takes the same share of every account left in a bucket: its spread is unchanged)
        units_after = np.where(bucket, units * (1.0 - seized_share), units_after)
        spread_after = np.where(bucket, spread_after_removal(w, part), w)
    if (from_margin > 0).any():
        kept = kept * (1.0 - from_margin)
        units_after = units_after * (1.0 - from_margin)
    vault0 = np.broadcast_to(np.asarray(backstop, dtype=float), (S, V))
    return PerpsRound(settlement=st, venues=pb.venues, slippage=slippage, sales_usd=sales, accounts=accounts,
                      account_value_usd=account_value, vault_change_usd=st.backstop_after - vault0,
                      size_after=q * kept, margin_units_after=units_after, spread_after=spread_after,
                      collateral_prices=collateral, collateral_sold_units=collateral_sold,
                      own_book_sold_after=sold_before + collateral_sold * reference[None, None, :])

"""Step 3 of a round: the market prices the sale of defaulted estates' tokens, and everything sold this round moves prices.

An estate (a defaulted lender, exchange, fund, reserve or issuer) is frozen at
default and wound down by an administrator: the automatic stay (11 U.S.C.
§ 362) stops its depositors' runs (:mod:`core.engine.withdraw`) and keeps its
tokens on its books, and its creditors are paid from what those tokens are
worth when the estate distributes, months after the default, not at the price
of the day it failed. Claims are fixed at the petition date (§ 502(b)) while
the assets are realised later: Celsius (filed 13 July 2022) distributed BTC,
ETH and cash from 31 January 2024 at the prices of 16 January 2024; FTX (filed
11 November 2022) sold its tokens and investments over two years and paid
creditors from 2025 out of what they fetched; 3AC's liquidators have recovered
its assets since 2022. In the cascade the estate's tokens stay in ``H``, marked
to market every round, and the clearing (Eisenberg–Noe, at the prices of each
round, so at the horizon's prices once the cascade settles) pays its creditors
what they are worth at the end. The recovery thus does not depend on the round
the estate defaulted in: an estate that failed a round earlier, before a token's
own spiral, no longer realised its holdings before the fall (the timing family
of issue 11: 3AC's LUNA sold a round earlier kept Genesis solvent, -$2.10bn of
system loss for a deeper shock).

The estate's coming sale is known as soon as it defaults, and the market sells
ahead of it (predatory trading: Brunnermeier and Pedersen, "Predatory
Trading", Journal of Finance 60(4), 2005): the impact of selling its tokens
enters prices as the administrator's sales would, ``ESTATE_SALE_RATE`` of them
in the round after default and the rest in the next (what ``estate`` records:
the share of its tokens whose sale the market has taken), so the prices its
tokens are marked at bear the impact of their own sale. Outside traders take
the other side: on an order book the sale is a move of the price; a token whose
price an AMM pool sets is swapped into the pool by them. The estate also
realises its illiquid (non-token) assets at the fire-sale discount, once
(:func:`~core.mechanisms.firesales.fire_sale_discount`), and recovers what its
depositors' run took from it before the default, tokens and cash
(:func:`~core.engine.preferences.claw_back`), before the market sells ahead of it. (Before, an estate
sold its tokens for cash at the closing prices of the two rounds after its
default: a deeper shock that made it default a round earlier sold before the
fall that the shallower shock's estate met, and its creditors recovered more.)

What is sold this round (seized collateral and the estates' tokens) moves
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
from .memo import per_network
from .pools import apply_pool_prices, pool_price, pool_sell, sync_pool_holdings
from .state import CascadeState, Changes
from .preferences import claw_back
from .queue_sales import counter_fall


def estate_sales(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``defaulted, halted, estate, oa, illiquid, H, run_out, run_cash``; writes in place ``oa, illiquid,
    run_loss, estate, sold`` of the (scenario, entity) pairs whose sale the market takes this round (few: each pair
    twice at most), and at an estate's first round what :func:`~core.engine.preferences.claw_back` writes.

    The estate keeps its tokens (``H`` is not touched: they are marked to market and recovered by its
    creditors at the prices of the end); the market sells ahead of it ``ESTATE_SALE_RATE`` of them in its
    first round and the rest in the next (``estate`` goes 0 -> ``ESTATE_SALE_RATE`` -> 1)."""
    selling = s.defaulted & c.sells_estate[None] & (s.estate < 1.0)
    if s.halted.any():
        selling &= ~s.halted[:, None]
    flat = np.flatnonzero(selling)  # (scenario, entity) pairs as positions in the (S, n) arrays, row-major
    if not len(flat):
        return {}
    es, ei = np.divmod(flat, c.n)
    oa, illiquid, run_loss, estate, H = (_rows(s, f_) for f_ in ("oa", "illiquid", "run_loss", "estate", "H"))
    before = estate[flat]
    first = before == 0.0
    # An estate realises what is left of its illiquid assets at the fire-sale discount, once, as a run would.
    disc = fire_sale_discount(b.liquidity[es])
    book = np.where(first, np.minimum(illiquid[flat], np.maximum(oa[flat], 0.0)), 0.0)
    haircut = book * disc
    oa[flat] -= haircut
    illiquid[flat] = np.where(first, 0.0, illiquid[flat])  # realised: what it fetched is cash
    run_loss[flat] += haircut
    if first.any() and len(c.clawback_idx):  # the estate recovers its run's withdrawals, before its tokens are sold
        claw_back(c, s, es[first], ei[first])
    now = np.where(first, ESTATE_SALE_RATE, 1.0)
    estate[flat] = now
    units = H[flat] * (now - before)[:, None]
    moving = units.any(1)  # an estate without tokens sells nothing
    if moving.any():
        add_in_order(s.sold, es[moving], units[moving])
    return {}


def add_in_order(total: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``np.add.at(total, rows, values)`` (in place): each value added to its row in the order given. With
    one row (one scenario), as a running sum (``np.cumsum``, sequential like ``np.add.at``, so equal to the
    last bit) instead of ``np.add.at``, whose cost per value is many times a running sum's."""
    if total.shape[0] == 1:
        total[0] = np.cumsum(np.concatenate([total, values]), axis=0)[-1]
    else:
        np.add.at(total, rows, values)


def add_columns_in_order(total: np.ndarray, rows: np.ndarray | None, cols: np.ndarray, values: np.ndarray) -> None:
    """``np.add.at(total, (rows[:, None], cols), values)`` (in place; ``rows`` distinct, None: every row), ``total`` (S, K),
    ``values`` (R, c): each column's values added in the order given, so equal to the last bit, in passes over
    plain fancy indexing instead of ``np.add.at`` (whose cost per value is many times an indexed add's): the
    first value of each column, then the second, and so on (a pass's columns are distinct). The passes add into
    a compact copy of the columns touched, rows along its second axis (a pass reads whole rows of it), written
    back once: each cell starts from the same value and adds the same values in the same order."""
    if not len(cols):
        return
    touched, passes = _column_passes(cols)
    block = (total[:, touched] if rows is None else total[np.ix_(rows, touched)]).T.copy()  # (U, R)
    rows_of = np.ascontiguousarray(values.T)  # (c, R)
    for slots, members in passes:
        block[slots] += rows_of[members]
    if rows is None:
        total[:, touched] = block.T
    else:
        total[np.ix_(rows, touched)] = block.T


def _column_passes(cols: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The distinct columns of ``cols`` (sorted), and per pass k the positions among them of the columns with a
    k-th value and the positions in ``cols`` of those values (:func:`add_columns_in_order`)."""
    key = cols.tobytes()
    hit = _PASSES.get(key)
    if hit is not None:
        return hit
    touched, slot = np.unique(cols, return_inverse=True)
    order = np.argsort(cols, kind="stable")
    ranked = cols[order]
    first = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    rank = np.empty(len(cols), np.int64)
    rank[order] = np.arange(len(cols)) - np.repeat(first, np.diff(np.r_[first, len(cols)]))
    passes = []
    for k in range(int(rank.max()) + 1):
        m = np.flatnonzero(rank == k)
        passes.append((slot[m], m))
    if len(_PASSES) >= 64:
        _PASSES.clear()
    _PASSES[key] = (touched, passes)
    return touched, passes


#: :func:`_column_passes` by the columns' bytes (a network's cohorts give one key; a few networks per process).
_PASSES: dict[bytes, tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = {}


def _rows(s: CascadeState, name: str) -> np.ndarray:
    """State field ``name``, (S, n) or (S, n, k), as a view with one row per (scenario, entity) pair, (S*n,) or
    (S*n, k), for writing in place (made C-contiguous first if it is not)."""
    a = getattr(s, name)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
        setattr(s, name, a)
    return a.reshape((-1,) + a.shape[2:])


def price_impact(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``sold, P, pool_res, pool_px, pool_unfollowed, pool_counter_seen``; writes ``P, pool_res, pool_px`` and
    the pools' holdings in ``H``, and ``pool_unfollowed, pool_counter_seen`` where a pool's counter moved since the
    pool last priced its coin: the pool prices its fall took the pool down through while the coin, below them,
    stayed (:func:`~core.engine.queue_sales.counter_fall`), at the pool's price before this round's sales into it
    and the coin's before the pool caps it."""
    sold, P = s.sold, s.P
    pool_res, pool_px = s.pool_res, s.pool_px
    if len(c.pool_asset) and sold[:, c.pool_asset].any():
        pool_res = pool_sell(c, pool_res, sold[:, c.pool_asset])
        # re-priced in the rows that sold into a pool only: another row's price keeps its bits, whatever its
        # batch-mates sold (re-priced, the UST pool's price moved in its last bit with them)
        selling: np.ndarray = np.asarray(sold[:, c.pool_asset].any(1))
        pool_px = pool_price(c, pool_res) if selling.all() else np.where(selling[:, None], pool_price(c, pool_res), pool_px)
    changes: Changes = {}
    if sold.any():
        impact, total = sale_impact(c, s.supply, s.sold_reference_usd, sold, b.liquidity, unwrap_units(c, s, b))
        P = P * np.exp(-impact)
        changes.update(impact_log=s.impact_log + impact, sold_reference_usd=total)
    changes.update(counter_fall(c, s, P))
    P = apply_pool_prices(c, P, pool_px, c.pool_ref[None])
    sync_pool_holdings(c, s.H, pool_res, s.lp_withdrawn)
    return changes | dict(P=P, pool_res=pool_res, pool_px=pool_px)


def wrapped_basis(c: Compiled, b: ScenarioBatch) -> np.ndarray:
    """The basis between each wrapped token and its underlying, (S, w): the share of its peg's value a unit
    trades at (:func:`~core.engine.defend.wrapped_prices`). The snapshot's own basis (:func:`reference_basis`,
    1 where the reference prices put the token at its peg) times the one the scenario opens: a ``price_shocks``
    entry on the wrapped token deeper than its underlying's, the ratio of the two moves, never a premium; a
    ``depegs`` entry puts it at ``1 - depeg`` of its peg, or leaves it at the snapshot's basis where that is
    deeper (a depeg is a fall below the peg, never a rise toward it). A function of the batch and the network
    alone: computed once per batch (:func:`~core.engine.memo.per_network` on the batch, which never changes)
    and returned read-only."""
    return per_network(b, ("wrapped_basis", c), lambda: _wrapped_basis(c, b))


def _wrapped_basis(c: Compiled, b: ScenarioBatch) -> np.ndarray:
    """:func:`wrapped_basis`, computed."""
    w = c.wrapped_idx
    reference = reference_basis(c)[None]
    own = b.shock[:, w]  # 1.0 where the scenario has no entry for the wrapped token: it moves with its underlying
    relative = np.where(own == 1.0, 1.0, np.minimum(own / b.shock[:, c.peg_unit[w]], 1.0))
    basis = np.where(b.depeg[:, w] > 0, np.minimum(1.0 - b.depeg[:, w], reference), relative * reference)
    basis.setflags(write=False)
    return basis


def reference_basis(c: Compiled) -> np.ndarray:
    """The basis the snapshot itself gives each wrapped token against its underlying, (w,): its reference price
    over its peg times the underlying's, ``P0_w / (peg * P0_u)``, where that is below 1 (a discount); exactly 1
    where the reference prices put it at its peg (within 1e-12) or above it (a premium is minted away: wrapping
    more sells it down).

    Model: a token redeemable only through a queue trades below its redemption value by the queue's carry, and
    arbitrage holds it there, not at par: stETH's withdrawals pass Ethereum's validator exit queue (over 46 days
    in mid-September 2025, 2.5M ETH waiting: holder.io, "Ethereum Faces Validator Bottleneck With 2.5M ETH
    Awaiting Exit", 16 Sep 2025), and it traded 30-60 bp below ETH in
    July 2025 (Coinotag; Blockworks from Galaxy Research, as :mod:`core.engine.oracle` cites). The 2025 snapshot
    prices it at 0.999 ETH (``assets.csv``: $4,345.65 against ETH's $4,350, peg 1). A falls-only scenario
    leaves that discount where it is; held at the peg instead, stETH rose 0.1% at round 0 in every scenario on
    the 2025 network ($4,345.65 -> $4,350 with ETH unshocked), and a scenario's stETH shock of -13% left it
    at -12.9% (session 30, s30-btc)."""
    w = c.wrapped_idx
    ratio = c.P0[w] / (c.peg1[w] * c.P0[c.peg_unit[w]])
    return np.where(ratio < 1.0 - 1e-12, ratio, 1.0)


def unwrap_units(c: Compiled, s: CascadeState, b: ScenarioBatch) -> np.ndarray | None:
    """Units of its underlying a unit of each wrapped token sold stands for, (S, w): its peg, times the basis
    the scenario opens (:func:`wrapped_basis`), times what its custodian pays where the custodian has
    defaulted (last clearing's paid ratio, as :func:`~core.engine.defend.follow_underlying` prices it; in
    round 0 the opening clearing's of a custodian the scenario forces to fail, ``opening_custodian_paid``, as
    :func:`~core.engine.exogenous.forced_issuer_prices` prices it); None where neither applies (the peg).

    Model: a unit sells for what the market pays for it, ``peg * basis * paid`` units of the underlying's
    value, and its sale moves the underlying's book by that much (:func:`sale_impact`). A wrapped token trades
    at a basis only where it cannot be redeemed at its peg (else arbitrage would close it:
    :func:`~core.engine.defend.wrapped_prices`), so whoever sells it sells no more of the underlying than it is
    worth; unwrapped at its peg, it would sell underlying that no one holds. (Unwrapped at its peg, WBTC at
    7.2% of BTC sold 14 BTC on BTC's book for each BTC's worth of WBTC seized: with liquidators' capital scarce,
    CBBTC -1.80% -> -16.50% made CBBTC cohorts due that took the capital from WBTC's, the shallower run sold
    about 3 times the BTC by round 12 and BTC's holders lost $0.94bn more,
    ``monotone-2025-cbbtc-wbtc-alts-sol-lag2-capital-horizon``.)"""
    w = c.wrapped_idx
    if not len(w):
        return None
    basis = wrapped_basis(c, b)
    iss = c.issuer[w]
    at = np.maximum(iss, 0)
    down = (iss >= 0)[None] & s.defaulted[:, at] if (iss >= 0).any() else None
    if down is not None and not down.any():
        down = None
    if down is None:
        return None if (basis == 1.0).all() else c.peg1[w][None] * basis
    if s.clearing is not None and s.opening_custodian_paid is None:
        paid = np.where(down, s.clearing.paid_ratio[:, at], 1.0)
    else:  # round 0 (or a round a forced failure is dated to): a custodian the scenario forces to fail then is
        #   priced by the opening clearing (the others as above: core.engine.exogenous.forced_issuer_prices)
        assert s.opening_custodian_paid is not None, "read before defend.follow_underlying drops it"
        paid = s.opening_custodian_paid
    return c.peg1[w][None] * paid * basis


def sale_impact(c: Compiled, supply: np.ndarray, sold_before: np.ndarray, units: np.ndarray,
                liquidity: np.ndarray, unwrap: np.ndarray | None = None,
                sold: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Log-price impact of selling ``units`` (S, k) on order books after ``sold_before``, and the new total.
    ``sold`` False: a sale priced, not made (an auction's bid), whose total no later sale starts from.

    Square-root law of a metaorder (:func:`~core.mechanisms.market.log_sqrt_impact`):
    ``I(Q) = sigma * sqrt(Q / (liquidity * adv_usd))`` with ``Q`` the
    cumulative units sold valued at the reference price and scaled by the
    growth of the supply (an algorithmic stablecoin's backing token minted by
    the billion trades in proportion); the impact of this sale is
    ``I(Q + q) - I(Q)``, zero for tokens priced elsewhere. A wrapped token sold
    moves its underlying, as if unwrapped and sold there: a unit unwraps into
    ``unwrap`` (S, w) units of the underlying where given (:func:`unwrap_units`: its
    peg, times the basis the scenario opens and what its custodian pays where the
    custodian has defaulted: what a unit is worth in the underlying), else its
    peg. A claim on a custodian in default is worth its recovery, not a unit of the
    underlying, and the custodian's own estate sells what it holds (:func:`estate_sales`).
    (Unwrapped at its peg, 2.8M stETH worth $12 seized from cohorts after LIDO's
    forced default were sold as 2.8M ETH: CBBTC -20% on crypto-2025-10 sold more
    of them than a billionth deeper, whose CBBTC liquidations took the liquidators'
    capacity, and the shallower run's lower ETH pushed ETHENA into default,
    ``monotone-2025-cbbtc-bucket-edge-ethena-defaults``.)
    Units bought are
    negative (perpetual shorts closed by liquidation, :mod:`core.engine.perps`):
    the law is signed, ``I(Q) = sign(Q) * sigma * sqrt(|Q| / (liquidity * V))``,
    so a purchase lifts the price as a sale of the same size lowers it, and
    with sales only the impact is never negative (as before).
    """
    w = c.wrapped_idx
    if len(w) and units[:, w].any():  # a wrapped token sold is unwrapped and sold as its underlying
        units = units.copy()
        per_unit = c.peg1[w][None] if unwrap is None else unwrap
        np.add.at(units.T, c.peg_unit[w], (units[:, w] * per_unit).T)
    grown = np.where(supply > 0, c.supply[None] / np.where(supply > 0, supply, 1.0), 1.0)
    total = sold_before + np.where(c.price_set_elsewhere[None], 0.0, units * c.P0[None] * grown)
    adv, vol, liq = c.adv[None], c.vol[None], liquidity[:, None]
    # the impact at what was sold before is the impact at the total of the sale before (the last IMPACTS_KEPT
    # sales' totals' impacts are kept with the network, keyed by the totals' and the liquidities' bytes: the same
    # bits). Only sales made are kept: a priced one's total is never a later sale's start, and the arrays kept
    # grow with the batch (with 8 kept, priced sales included, a streamed Monte Carlo's traced peak grew 6.6-7.9
    # bytes a run from 2,000 to 8,000 runs, against 3.7-4.4 on session 16's start: 2 of sales made, 4.1; and the
    # presets' hits 185 -> 197 of 205 calls, a Monte Carlo's 323 -> 365 of 780).
    kept: dict[tuple, np.ndarray] = per_network(c.__dict__.get("_c", c), "order_book_impacts", dict)
    liq_key = np.ascontiguousarray(liquidity).tobytes()
    before = kept.get((sold_before.shape, np.ascontiguousarray(sold_before).tobytes(), liq_key))
    if before is None:
        before = market.log_sqrt_impact(sold_before, adv, vol, 1.0, liq)
    after = market.log_sqrt_impact(total, adv, vol, 1.0, liq)
    if sold:
        if len(kept) >= IMPACTS_KEPT:
            kept.clear()
        kept[(total.shape, total.tobytes(), liq_key)] = after  # never handed out: the impact below is a new array
    return after - before, total


#: Most order-book impacts of :func:`sale_impact`'s totals kept with a compiled network.
IMPACTS_KEPT = 2

"""AMM pools inside the cascade: their marginal prices, swaps into them, and the tokens they price.

A token whose price an AMM pool sets (``amm_pool`` in the asset table) trades
at its reference price times the move of the pool's marginal price and of the
counter asset: ``P = P0 * (price / reference price) * counter move``
(:func:`apply_pool_prices`). Stableswap pools follow Curve's invariant,
others the constant product (:mod:`core.mechanisms.amm`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..mechanisms import amm
from .memo import per_network
from .pool_terms import pool_terms

if TYPE_CHECKING:
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState, Changes


def pool_price(c: Compiled, res: np.ndarray, pools: np.ndarray | None = None) -> np.ndarray:
    """Marginal price of each pool's token in counter units, (S, p); with ``pools`` (indices), of those pools
    only, ``res`` then holding their reserves, (S, len(pools), 2) (the same numbers, to the last bit).

    Every pool's price (``pools`` None) is a function of ``res`` alone (and the network's amplifications): the
    last :data:`PRICES_KEPT` answers are kept with the compiled network, keyed by the reserves' bytes, and a
    copy returned. A round prices the same reserves more than once (the round's sales into the pools, then the
    arbitrage step at reserves nothing moved since: 11 of 40 calls on the TAC preset, 9 of 34 on the stETH one)."""
    if pools is None and len(c.pool_A):
        kept: dict[tuple, np.ndarray] = per_network(c.__dict__.get("_c", c), "pool_prices", dict)
        key = (res.shape, np.ascontiguousarray(res).tobytes())
        hit = kept.get(key)  # one lookup: chunks on threads share the dict
        if hit is None:
            hit = _pool_price(c, res, None)
            if len(kept) >= PRICES_KEPT:
                kept.clear()
            kept[key] = hit
        return hit.copy()
    return _pool_price(c, res, pools)


#: Most answers of :func:`pool_price` (every pool's) kept with a compiled network.
PRICES_KEPT = 8


def _pool_price(c: Compiled, res: np.ndarray, pools: np.ndarray | None) -> np.ndarray:
    """:func:`pool_price`, computed."""
    if pools is None:
        t = pool_terms(c)
        if not len(c.pool_A):
            return np.zeros((res.shape[0], 0))
        ss, any_ss, A_ss = t.stableswap, t.any_stableswap, t.A_stableswap
    else:
        A = c.pool_A[pools]
        if not len(A):
            return np.zeros((res.shape[0], 0))
        ss = np.isfinite(A)
        any_ss = bool(ss.any())
        A_ss = A[ss][None]
    out = res[..., 1] / res[..., 0]  # constant product
    if any_ss:
        out = out.copy()
        out[:, ss] = amm.stableswap_price(res[:, ss], A_ss, 0, 1)
    return out


def pool_sell(c: Compiled, res: np.ndarray, units: np.ndarray, *, fee_less: bool = False,
              invariant: np.ndarray | None = None) -> np.ndarray:
    """Reserves after swapping ``units`` (S, p) of each pool's token into it (with each pool's fee; ``fee_less``:
    along the invariant without it, at the pool's marginal prices). ``invariant``: the stableswap pools' D at
    ``res`` (:func:`stableswap_invariants`), where the caller sells into the same reserves again and again.

    A pool no unit is sold into keeps its reserves to the last bit, whatever the batch's other rows sell: the
    constant product's swap of nothing gives ``y x / x``, an ulp off ``y`` for one pair of reserves in nine, so a
    row swapped with zero units beside a batch-mate selling into a pool had its reserves, then its prices, moved
    (session 33: the 2022 network with constant-product pools, a calm scenario's stETH price 1 ulp apart alone and
    beside four storms)."""
    units = np.maximum(units, 0.0)
    if not units.any():
        return res
    sold = units != 0.0  # NaN units stay the swap's (NaN reserves), as before
    t = pool_terms(c)
    ss = t.stableswap
    new = res.copy()
    fees: dict[str, Any] = dict(fee=0.0) if fee_less else {}
    if t.any_stableswap:
        new[:, ss] = amm.stableswap_swap(res[:, ss], t.A_stableswap, 0, 1, units[:, ss], D=invariant, **fees).balances
    cp = t.constant_product
    if t.any_constant_product:
        sw = amm.cp_swap(res[:, cp, 0], res[:, cp, 1], units[:, cp], **fees)
        new[:, cp, 0], new[:, cp, 1] = sw.reserves_in, sw.reserves_out
    return new if sold.all() else np.where(sold[..., None], new, res)


def stableswap_invariants(c: Compiled, res: np.ndarray) -> np.ndarray | None:
    """The stableswap pools' invariants D at the reserves ``res`` (S, p, 2), (S, p_ss): what :func:`pool_sell`
    computes before each swap into them (the same call, so the same bits); None without such pools."""
    t = pool_terms(c)
    return amm.stableswap_D(res[:, t.stableswap], t.A_stableswap) if t.any_stableswap else None


def apply_pool_prices(c: Compiled, P: np.ndarray, px: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Pool tokens move with their pool: P = P0 * (pool price / reference pool price) * counter move."""
    if not len(c.pool_asset):
        return P
    rel = px / ref
    counter = counter_move(c, P)
    P = P.copy()
    P[:, c.pool_asset] = np.minimum(P[:, c.pool_asset], pool_terms(c).asset_p0 * rel * counter)
    return P


def sync_pool_holdings(c: Compiled, H: np.ndarray, res: np.ndarray, withdrawn: np.ndarray | None = None) -> None:
    """A pool entity's holdings are its reserves: copy the swapped reserves ``res`` into ``H`` (in place).

    ``withdrawn`` (S, p, 2): units liquidity providers took out of a token-counter pool
    (:func:`core.engine.staking.liquid_staking`); they are still the LPs', so they stay in the pool
    entity's holdings, which the LPs' claims follow, while the pool's reserves no longer price with them."""
    if not len(c.pool_asset):
        return
    out = res if withdrawn is None else res + withdrawn
    if not H.flags.c_contiguous:  # the state's holdings always are: a reshape of others would be a copy
        raise ValueError("holdings must be C-contiguous to be written in place")
    flat = H.reshape(H.shape[0], -1)  # a view
    ph = c.pool_holdings
    flat[:, ph.token] = out[..., 0]
    if ph.counter.size:
        flat[:, ph.counter] = out[:, c.pool_token_counter, 1]
    if ph.others.size:  # USD counter: the pool's other tokens scale with the counter reserve
        uc = c.pool_usd_counter
        scale = res[:, uc, 1] / pool_terms(c).usd_counter_res0
        flat[:, ph.others] = ph.others_h0[None] * scale[:, ph.others_pool]


#: Arbitrage only the scenarios with a pool dearer than its token (off: every row; tests compare the two).
SKIP_IDLE_ROWS = True

#: Relative gap between a pool's price and its token's market price below which arbitrage does not trade.
ARBITRAGE_TOL = 1e-9


def arbitrage(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """A pool whose token trades cheaper elsewhere is sold into until its marginal price matches the market's.

    When a mechanism outside the pool marks a pool token down (an algorithmic
    stablecoin's backing running out, a shocked liquid-staking token),
    arbitrageurs buy the token where it is cheap and sell it into the pool
    until the pool prices it at ``P`` too: the pool's price at which the token
    trades at ``P`` is ``ref * P / (P0 * counter move)``, reached by selling
    the amount of :func:`~core.mechanisms.amm.stableswap_amount_in_for_price`
    (or :func:`~core.mechanisms.amm.cp_amount_in_for_price`) with the coins'
    roles swapped (fee-less). The counter asset they take leaves the system with them;
    the pool's liquidity providers hold the cheap token (Curve's UST pools in
    May 2022).

    The units they sell are bought from holders outside the network, who hold what the network does not,
    ``max(0, supply - units held)`` (:func:`unheld_units`, counted as :func:`~core.engine.redemptions.redeemable_units`
    counts them): no more can be sold into a pool than someone holds to sell. Where that binds, the pool takes
    those units (along its invariant, as above) and stays dearer than the market. (Before, arbitrage sold units
    no one held: on the 2022 network with LUNA -87.5% and no runs the network ended holding UST by the
    trillion against a supply of 9.8bn, LFG buying back from the pool the units arbitrage had sold into it.)
    Reads ``P, pool_res, supply, H``; writes ``pool_res, pool_px`` and, in place, the pools' holdings in ``H``. The
    round's step is :func:`core.engine.pool_arbitrage.arbitrage`, which also keeps the prices the sale took each pool
    down through while its coin stayed.
    """
    if not len(c.pool_asset) or not cheap_pools(c, s.P, s.pool_px).any():
        return {}  # no pool dearer than its token's market: nothing to count the units outside the network for
    arbitraged = arbitrage_pools(c, s.P, s.pool_res, s.pool_px, unheld_units(c, s.H, s.supply))
    if arbitraged is None:
        return {}
    pool_res, pool_px = arbitraged
    sync_pool_holdings(c, s.H, pool_res, s.lp_withdrawn)
    return dict(pool_res=pool_res, pool_px=pool_px)


def unheld_units(c: Compiled, H: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """Units of each pool's token held outside the network, ``max(0, supply - units held)``, (S, p): what
    arbitrage may buy to sell into the pool (:func:`arbitrage`). ``H`` must hold the pools' current reserves."""
    pa = c.pool_asset
    return np.maximum(supply[:, pa] - H[:, :, pa].sum(1), 0.0)


def counter_value(c: Compiled, P: np.ndarray) -> np.ndarray:
    """USD a unit of each pool's counter is worth at the prices ``P`` (S, k), (S, p): what a sale into the pool
    pays a unit of counter it takes out, and what prices the pool's token (decision 16 in Session 35 (lead): a
    pool prices and pays in the asset its quote side holds, never a dollar a unit of an asset that can lose its
    peg). A pool priced in a token (``amm_counter``, else the token's peg unit): that token's price. A pool priced
    in USD holds its other tokens as its counter side, in their reference proportions (:func:`sync_pool_holdings`):
    a counter unit is a reference dollar of that slice, ``sum_j h_j P_j / sum_j h_j P0_j`` (1 at the reference
    prices: :func:`counter_move`).

    A metapool's base-pool LP token is such a basket: Curve's metapools price the base pool's LP token (3CRV, the
    3pool's DAI, USDC and USDT) in their invariant at the base pool's virtual price (``_xp`` rates it at
    ``_vp_rate``, the base pool's ``get_virtual_price``: curvefi/curve-contract,
    contracts/pool-templates/meta/SwapTemplateMeta.vy; docs.curve.finance, "Metapools"), which counts the coins
    at par: what the LP token is worth at market is what the coins it redeems for are."""
    t = pool_terms(c)
    return np.where(t.has_counter, P[:, t.counter_at], counter_move(c, P))


def _basket_value(P: np.ndarray, basket: np.ndarray) -> np.ndarray:
    """``P @ basket`` (S, u), summed in one fixed order (the same bits at the reference prices as at ``P0``)."""
    return (P[:, :, None] * basket[None]).sum(1)


def counter_move(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Each pool's counter's value over its reference value, (S, p) (:func:`counter_value`): its counter asset's
    price over its reference price; for a pool priced in USD, its other holdings' (1 while they trade at their
    reference prices)."""
    t = pool_terms(c)
    move = np.where(t.has_counter, P[:, t.counter_at] / t.counter_p0, 1.0)
    if len(c.pool_usd_counter):
        move[:, c.pool_usd_counter] = _basket_value(P, t.basket) / _basket_value(c.P0[None], t.basket)
    return move


def cheap_pools(c: Compiled, P: np.ndarray, px: np.ndarray, move: np.ndarray | None = None) -> np.ndarray:
    """Where a pool is dearer than its token's market price ``P`` by more than :data:`ARBITRAGE_TOL`, (S, p): the
    pools :func:`arbitrage_pools` trades in. The pool's price at which its token trades at ``P`` is
    ``ref * P / (P0 * counter move)``; ``move``: :func:`counter_move`, when the caller has it."""
    pa = c.pool_asset
    implied = c.P0[pa] * px / c.pool_ref * (counter_move(c, P) if move is None else move)
    return P[:, pa] < implied * (1.0 - ARBITRAGE_TOL)


def arbitrage_pools(c: Compiled, P: np.ndarray, res: np.ndarray, px: np.ndarray,
                    available: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Pool reserves and prices after arbitrage to the market prices ``P`` (see :func:`arbitrage`), selling at
    most ``available`` (S, p) units into each pool (:func:`unheld_units`); None if no pool is dearer than its
    token's market."""
    pa = c.pool_asset
    move = counter_move(c, P)
    cheap = cheap_pools(c, P, px, move)
    if not cheap.any():
        return None
    due = cheap.any(0)  # only the pools arbitrage trades in
    if not (available[cheap] > 0).any() and not (due & ~np.isfinite(c.pool_A)).any():
        # no unit outside the network to sell into any cheap stableswap pool: the pools take nothing, their
        # reserves stay and a cheap pool's price is the pool's at them, as the solve below capped at zero units
        # gives (the swap of no units returns the reserves as they are); what this skips is the solve, which moves
        # a cheap pool's token balance up by the price gap, over ARBITRAGE_TOL, far above a last bit. (A
        # constant-product pool due goes the long way, where a pool sold nothing keeps its reserves: pool_sell.)
        return res, np.where(cheap, pool_price(c, res), px)
    rows = cheap.any(1)
    if SKIP_IDLE_ROWS and not rows.all() and not (due & ~np.isfinite(c.pool_A)).any():
        # only the rows with a cheap pool: a stableswap pool's other rows keep their reserves and price (with a
        # constant-product pool due every row goes; its rows not cheap keep their reserves, pool_sell, and prices)
        ix = np.flatnonzero(rows)
        part = arbitrage_pools(c, P[ix], res[ix], px[ix], available[ix])
        assert part is not None
        pool_res, px_new = res.copy(), px.copy()
        pool_res[ix], px_new[ix] = part
        return pool_res, px_new
    # the counter coin's price in token units must rise to 1 / target: the swap of coin roles
    inverse_target = np.where(cheap, c.P0[pa] * move / (c.pool_ref * np.where(cheap, P[:, pa], 1.0)), 1.0)
    pool_res = res.copy()
    ss = np.isfinite(c.pool_A) & due
    px_new = px.copy()
    if ss.any():  # fee-less along the invariant: the fee is small against the gap arbitrage closes
        A = np.broadcast_to(c.pool_A[ss][None], cheap[:, ss].shape)
        D = amm.stableswap_D(res[:, ss], A)  # the invariant, the same after the fee-less trade
        moved = amm.stableswap_balances_for_price(res[:, ss, ::-1], A, inverse_target[:, ss], D=D)[..., ::-1]
        pool_res[:, ss] = np.where(cheap[:, ss, None], moved, res[:, ss])
        px_new[:, ss] = np.where(cheap[:, ss], amm.stableswap_price(pool_res[:, ss], A, 0, 1, D=D), px[:, ss])
    cp = ~np.isfinite(c.pool_A) & due
    if cp.any():
        units = amm.cp_amount_in_for_price(res[:, cp, 1], res[:, cp, 0], inverse_target[:, cp])
        full = np.zeros_like(px)
        full[:, cp] = np.where(cheap[:, cp], units, 0.0)
        sold = pool_sell(c, res, full)
        pool_res[:, cp] = sold[:, cp]
        px_new[:, cp] = np.where(cheap[:, cp], pool_res[:, cp, 1] / pool_res[:, cp, 0], px[:, cp])
    over = cheap & (pool_res[..., 0] - res[..., 0] > available)
    if over.any():  # no more than the holders outside the network hold: those units, the same swap's terms
        capped = np.where(over, available, 0.0)
        ss_all = np.isfinite(c.pool_A)
        at_cap = np.where(ss_all[None, :, None], pool_sell(c, res, capped, fee_less=True), pool_sell(c, res, capped))
        pool_res = np.where(over[..., None], at_cap, pool_res)
        px_new = np.where(over, pool_price(c, at_cap), px_new)
    return pool_res, px_new

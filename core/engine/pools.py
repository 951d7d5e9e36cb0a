"""AMM pools inside the cascade: their marginal prices, swaps into them, and the tokens they price.

A token whose price an AMM pool sets (``amm_pool`` in the asset table) trades
at its reference price times the move of the pool's marginal price and of the
counter asset: ``P = P0 * (price / reference price) * counter move``
(:func:`apply_pool_prices`). Stableswap pools follow Curve's invariant,
others the constant product (:mod:`core.mechanisms.amm`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..mechanisms import amm
from ..mechanisms._checks import checking
from ..mechanisms._stableswap_floats import FLOAT_POOLS, OnePool, moved_to_price
from .grouping import distinct_pairs
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
    ``res`` (:func:`stableswap_invariants`), where the caller sells into the same reserves again and again."""
    units = np.maximum(units, 0.0)
    if not units.any():
        return res
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
    return new


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
    Reads ``P, pool_res, supply, H``; writes ``pool_res, pool_px`` and, in place, the pools' holdings in ``H``.
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


def counter_move(c: Compiled, P: np.ndarray) -> np.ndarray:
    """Each pool's counter asset's price over its reference price, (S, p): 1 for a pool priced in USD."""
    t = pool_terms(c)
    return np.where(t.has_counter, P[:, t.counter_at] / t.counter_p0, 1.0)


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
        # constant-product pool due goes the long way: its swap of nothing may move a reserve's last bit.)
        return res, np.where(cheap, pool_price(c, res), px)
    rows = cheap.any(1)
    if SKIP_IDLE_ROWS and not rows.all() and not (due & ~np.isfinite(c.pool_A)).any():
        # only the rows with a cheap pool: a stableswap pool's other rows keep their reserves and price (a
        # constant-product swap of nothing may move a reserve's last bit, so with one of those due every row goes)
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
        px_new[:, cp] = pool_res[:, cp, 1] / pool_res[:, cp, 0]
    over = cheap & (pool_res[..., 0] - res[..., 0] > available)
    if over.any():  # no more than the holders outside the network hold: those units, the same swap's terms
        capped = np.where(over, available, 0.0)
        ss_all = np.isfinite(c.pool_A)
        at_cap = np.where(ss_all[None, :, None], pool_sell(c, res, capped, fee_less=True), pool_sell(c, res, capped))
        pool_res = np.where(over[..., None], at_cap, pool_res)
        px_new = np.where(over, pool_price(c, at_cap), px_new)
    return pool_res, px_new


def pool_invariants(c: Compiled, res: np.ndarray, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """What :func:`units_to_price` computes of the reserves ``res`` (S, m, 2) of ``pools`` (m,) before the
    target: each stableswap pool's invariant and its price, with the coins' roles swapped, (S, m) each (NaN at
    a constant-product pool); None where no pool is a stableswap pool. A search over targets computes these
    once (:func:`core.engine.limits.limit_terms`); each pool's are its own, so they are the same to the last bit.

    The answer is a function of ``res`` and ``pools`` alone (and the network's amplifications): the last
    :data:`INVARIANTS_KEPT` answers are kept with the compiled network, keyed by those arrays' bytes, and
    returned read-only. A round asks again for the same reserves (the liquidators' limit, then the capital's
    search over the cohorts due, then the limit at the level it found: 20 of 31 calls on the Black Thursday
    preset), and gets the same arrays, so the same bits."""
    # kept with the compiled network itself, whichever view of its cohorts asks (core.engine.limits.Cohorts)
    kept: dict[tuple, tuple[np.ndarray, np.ndarray] | None] = per_network(c.__dict__.get("_c", c), "pool_invariants", dict)
    key = (res.shape, np.ascontiguousarray(res).tobytes(), np.asarray(pools, np.int64).tobytes())
    hit = kept.get(key, _NOT_KEPT)  # one lookup: chunks on threads share the dict
    if hit is not _NOT_KEPT:
        return cast("tuple[np.ndarray, np.ndarray] | None", hit)
    out = _pool_invariants(c, res, pools)
    if out is not None:
        for a in out:
            a.setflags(write=False)
    if len(kept) >= INVARIANTS_KEPT:
        kept.clear()
    kept[key] = out
    return out


#: Most answers of :func:`pool_invariants` kept with a compiled network (a round's reserves, a few rows of them).
INVARIANTS_KEPT = 8
_NOT_KEPT = object()


def _pool_invariants(c: Compiled, res: np.ndarray, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`pool_invariants`, computed. One stableswap pool in one row (the engine's single run) takes the
    same steps on Python floats (:class:`~core.mechanisms._stableswap_floats.OnePool`: the steps of
    ``stableswap_D`` and ``stableswap_price`` on one pool, so the same bits) without the arrays around them."""
    A = c.pool_A[pools]
    ss = np.isfinite(A)
    if not ss.any():
        return None
    D, price = np.full(res.shape[:2], np.nan), np.full(res.shape[:2], np.nan)
    if len(res) == 1 and np.count_nonzero(ss) == 1:
        j = int(np.flatnonzero(ss)[0])
        b1, b0 = (float(v) for v in res[0, j])  # the coins' roles swapped
        both = OnePool((b0, b1), A[j], np.nan, 0.0).invariant_and_price(b0, b1)
        if both is not None:  # else the arrays' path, which raises or gives what numpy gives
            D[0, j], price[0, j] = both
            return D, price
    swapped = res[:, ss, ::-1]
    A_ss = np.broadcast_to(A[ss][None], swapped.shape[:2])
    D[:, ss] = amm.stableswap_D(swapped, A_ss)
    price[:, ss] = amm.stableswap_price(swapped, A_ss, 0, 1, D=D[:, ss])
    return D, price


#: Cohorts of one pool with one target in one row share one solve in :func:`units_to_price` (off: one solve
#: each; tests compare the two, to the last bit).
SHARE_SOLVES = True
#: A few stableswap solves of :func:`units_to_price` given the pools' invariants go straight to the float steps
#: (:func:`_few_on_floats`; off: through the arrays' path, which takes the same steps; tests compare the two).
FEW_ON_FLOATS = True
#: The Newton steps the arrays' path allows a solve (stableswap_balances_for_price's ``max_iter``).
_SOLVE_STEPS = int((amm.stableswap_balances_for_price.__kwdefaults__ or {})["max_iter"])


def units_to_price(c: Compiled, res: np.ndarray, pools: np.ndarray, target: np.ndarray,
                   invariant: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Units of its token to swap into each pool of ``pools`` (m,) to lower its marginal price to ``target``
    (S, m) counter units, ``res`` (S, m, 2) their reserves; 0 where the price is at or below ``target``, ``inf``
    where ``target`` is 0. ``invariant``: :func:`pool_invariants` of ``res``, when the caller has it.

    Fee-less along the pool's invariant, as :func:`arbitrage_pools` moves it: lowering the token's price to
    ``target`` is lifting the counter coin's price in token units to ``1 / target``
    (:func:`~core.mechanisms.amm.stableswap_balances_for_price` with the coins' roles swapped;
    :func:`~core.mechanisms.amm.cp_amount_in_for_price` for a constant-product pool). The swap
    :func:`pool_sell` makes keeps the fee in the pool, so the same units leave the price a little above
    ``target``. Cohorts of one pool with the same target in the same row (their reserves the pool's) are solved
    once: each pool's solve is its own, to the last bit (:func:`~core.mechanisms.amm.stableswap_balances_for_price`)."""
    out = np.zeros(target.shape)
    if not len(pools):
        return out
    A = c.pool_A[pools]
    zero = target <= 0.0
    inv = 1.0 / np.where(zero, 1.0, target)
    ss = np.isfinite(A)
    if ss.any():
        if invariant is None and target.size <= FLOAT_POOLS and FEW_ON_FLOATS and not checking():
            # a few solves: their invariants first (the arrays' path computes the same ones, to the last bit:
            # pool_invariants), so that they take the float steps of _few_on_floats
            invariant = _pool_invariants(c, res, pools)
        # every pool a stableswap (a synthetic network's one pool): the solves on floats read the arrays as they
        # are (views), not copies of their stableswap columns
        every = bool(ss.all())
        cut = slice(None) if every else ss
        few = (None if invariant is None or checking() or not FEW_ON_FLOATS
               else _few_on_floats(c, res[:, cut], pools[cut], inv[:, cut], invariant[0][:, cut], invariant[1][:, cut]))
        swapped: np.ndarray | None = None
        if few is not None:  # the few solves on floats, without the arrays around them
            out[:, cut] = np.maximum(few - res[:, cut, 0], 0.0)
        else:
            swapped = res[:, ss, ::-1]
            t = inv[:, ss]
            A_ss = np.broadcast_to(A[ss][None], t.shape)
            D, price = (None, None) if invariant is None else (invariant[0][:, ss], invariant[1][:, ss])
        # cohorts of one pool with one target in one row share one solve (with one column, every row is its
        # own: no pair repeats, and the solve is the batch's as it is)
        if swapped is not None and t.size > FLOAT_POOLS and SHARE_SOLVES and t.shape[1] > 1:
            first, back = distinct_pairs(np.repeat(np.arange(len(t)), t.shape[1]) * len(c.pool_A) + np.tile(pools[ss], len(t)),
                                    np.ascontiguousarray(t).ravel().view(np.int64))
            if len(first) < t.size:
                def flat(a):
                    return None if a is None else np.ascontiguousarray(a).reshape(-1, *a.shape[2:])[first]
                moved_u = amm.stableswap_balances_for_price(flat(swapped), flat(A_ss), flat(t), D=flat(D), price=flat(price))
                moved = moved_u[back].reshape(res[:, ss].shape)[..., ::-1]
                out[:, ss] = np.maximum(moved[..., 0] - res[:, ss, 0], 0.0)
                swapped = None
        if swapped is not None:
            moved = amm.stableswap_balances_for_price(swapped, A_ss, t, D=D, price=price)[..., ::-1]
            out[:, ss] = np.maximum(moved[..., 0] - res[:, ss, 0], 0.0)
    if (~ss).any():
        out[:, ~ss] = amm.cp_amount_in_for_price(res[:, ~ss, 1], res[:, ~ss, 0], inv[:, ~ss])
    return np.where(zero, np.inf, out)


def _few_on_floats(c: Compiled, res: np.ndarray, pools: np.ndarray, t: np.ndarray, D: np.ndarray,
                   price: np.ndarray) -> np.ndarray | None:
    """:func:`units_to_price`'s stableswap solves where they are few, (S, m): each pool's token balance once its
    price is down to its target, the reserves ``res`` (S, m, 2) of stableswap ``pools`` (m,), the targets ``t``
    (S, m) of the counter coin's price (the coins' roles swapped), with the invariants ``D`` and prices ``price``
    of :func:`pool_invariants`. None where the arrays' path would solve more than
    :data:`~core.mechanisms._stableswap_floats.FLOAT_POOLS` pools on numpy arrays.

    The same solves as that path's (cohorts of one pool with one target in one row share one, or each is its
    own where there are at most ``FLOAT_POOLS``), each taking the steps it takes on floats there
    (:func:`~core.mechanisms.stableswap_price_target.stableswap_balances_for_price`:
    :func:`~core.mechanisms._stableswap_floats.moved_to_price` on the pool's balances, target, invariant, its
    cube ``D * D * D`` and ``4 A``, below the target where its price is), so the same bits."""
    S, m = t.shape
    few = t.size <= FLOAT_POOLS  # each its own solve on floats; else shared ones, if at most FLOAT_POOLS
    if not few and (S > FLOAT_POOLS or not (SHARE_SOLVES and m > 1)):  # each row its own solve at least
        return None
    targets = np.ascontiguousarray(t).ravel()
    group = (np.arange(S)[:, None] * len(c.pool_A) + pools[None]).ravel()
    # the distinct (row and pool, target) keys, found by sorting (the first of each in the given order), each
    # solved once on floats and read back by every cohort with its key (a pure function of the key: the same bits
    # whichever of its cohorts is solved; before, a Python loop over every cohort found them)
    first, back = distinct_pairs(group, targets.view(np.int64))
    if not few and len(first) > FLOAT_POOLS:
        return None
    row, col = np.divmod(first, m)  # each key's first cohort: its own elements, read alone
    A4 = (4.0 * c.pool_A[pools[col]]).tolist()
    Dl, pl = D[row, col].tolist(), price[row, col].tolist()
    r0, r1 = res[row, col, 0].tolist(), res[row, col, 1].tolist()
    tl = targets[first].tolist()
    solved = []
    for j in range(len(first)):
        d, tt = Dl[j], tl[j]
        # the swapped pool: coin 0 the counter coin, coin 1 the token (whose balance is kept)
        solved.append(moved_to_price(r1[j], r0[j], tt, pl[j] < tt, d, d * d * d, A4[j], _SOLVE_STEPS)[1])
    return np.array(solved)[back].reshape(S, m)


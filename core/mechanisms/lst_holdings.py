r"""Arbitrage positions held to redemption: the stock of a liquid-staking token arbitrageurs hold below its floor.

The model
---------
A buyer below the floor earns, over the wait to redemption, an excess return
proportional to the gap :math:`g = p_f/p - 1` (:func:`~core.mechanisms.lst_arbitrage.arbitrage_capital`).
A mean-variance arbitrageur's *position* is that expected excess return over
his risk aversion times its variance (Shleifer & Vishny 1997; Gromb &
Vayanos 2002): a stock, not a flow. The capital that can take such positions
arrives slowly after a shock (Mitchell, Pedersen & Pulvino 2007; Duffie 2010,
"slow-moving capital"): ``capacity`` per day at the reference gap, from the
shock on. After :math:`t` days the arbitrageurs hold tokens worth, at the price :math:`p` (in the underlying),

.. math:: p\,Q(p, t) = K_{day}\,t\,(g(p)/g_{ref})^{\eta},

and, as the carry floor's buyer does (:func:`~core.mechanisms.liquid_staking.carry_floor_discount`:
bought to be held until withdrawals open), they hold what they bought: a
position is never sold back into the pool within the cascade.

Each round the pool settles where the position the price draws equals what
the arbitrageurs hold after buying (:func:`held_arbitrage`): from the pool the
round opened with, the round's sales and the arbitrage are netted into one
flow :math:`z` of the token into the pool (:math:`z > 0` a net sale, fee on
it; :math:`z < 0` a net purchase, underlying swapped in), and the arbitrageurs
buy the tokens :math:`q(z) = x_{now} - x(z)` where
:math:`Q(p(z), t) = Q_{held} + q(z)`, never lifting the price above
``cap_price`` (the floor, or the scenario's own basis below it).

Why a stock (what it replaces)
------------------------------
Before, each round's capital :math:`K_{day}\,\Delta t\,(g/g_{ref})` met that
round's sales alone, and the pool was never lifted above the round's opening
price (so that a price that broke through stayed, and a deeper shock whose
fall came earlier could not recover more). Then the end price was set by the
largest single round of sales: the same total sold in one round ended lower
than spread over several (the *arbitrage ratchet*, docs/invariants.md,
session 11: on synthetic(1000, 5000, 7), 222.5k stETH in one round closed the
pool at 0.9275, 163.6k + 113.3k in two at 0.9320, and a shallower shock lost
$34.35M more). With positions as a stock of capital arrived since the shock,
the pool after a round depends on the cumulative net sale and the time since
the shock, not on how the sale was split across rounds or when it came
(exactly, without fees and LP withdrawals: the pool's token balance is the
first pool's plus the cumulative sale less :math:`Q`, and :math:`Q` is a
function of the price, which is a function of that balance on the
stableswap curve), and a larger cumulative sale never ends higher.
A price that broke through is lifted back towards the floor as more capital
arrives (the June 2022 discount closed over weeks; research notes §4.3).

References
----------
* A. Shleifer, R. Vishny, "The Limits of Arbitrage", J. Finance 52(1) (1997).
* D. Gromb, D. Vayanos, "Equilibrium and welfare in markets with financially
  constrained arbitrageurs", J. Financial Economics 66 (2002).
* M. Mitchell, L. H. Pedersen, T. Pulvino, "Slow Moving Capital", American
  Economic Review 97(2) (2007).
* D. Duffie, "Presidential Address: Asset Price Dynamics with Slow-Moving
  Capital", J. Finance 65(4) (2010).
* M. Egorov, "StableSwap" (2019): the pool (:mod:`core.mechanisms.amm`).
"""

from __future__ import annotations

import math

import numpy as np

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms import amm
from core.mechanisms._checks import as_amount_array as _arr, broadcast_shape
from core.mechanisms.lst_arbitrage import arbitrage_capital, underlying_to_reach_price
from core.mechanisms.root_bracket import illinois as _illinois

__all__ = ["held_arbitrage", "held_position"]


def held_position(price, floor_price, capacity_per_day, days_since_shock, reference_gap=np.inf, elasticity=1.0):
    r"""The tokens arbitrageurs hold at ``price`` once ``days_since_shock`` days of capital have arrived:
    ``K_day * t * (g / g_ref)**eta / price`` (:func:`~core.mechanisms.lst_arbitrage.arbitrage_capital` with the
    capital of ``t`` days, its value at the price).

    Examples
    --------
    June 2022 [estimates, pegs table]: 56k ETH a day at the 1.12 % gap of the June low (0.935 against the
    0.9455 carry floor); after 10 days at the same gap they hold 560k ETH's worth, 598.9k stETH.

    >>> round(float(held_position(0.935, 0.9455, 56e3, 10.0, 0.9455 / 0.935 - 1)) / 1e2) / 10
    598.9
    """
    t = _arr(days_since_shock, "days_since_shock")
    p = _arr(price, "price", positive=True)
    return arbitrage_capital(p, floor_price, _arr(capacity_per_day, "capacity_per_day") * t, reference_gap,
                             elasticity) / p


def held_arbitrage(open_balances, balances, A, floor_price, cap_price, capacity, reference_gap=np.inf,
                   elasticity=1.0, held=0.0, *, fee=0.0004, iterations=100):
    r"""The pool after the arbitrageurs' position meets the round's sellers: the round's sales and the
    purchases netted into one flow from the open pool, until the position the price draws is held.

    ``capacity`` is the capital arrived so far (at the reference gap, units of the underlying; the
    day's capital times the days since the shock), ``held`` the tokens the arbitrageurs bought in earlier
    rounds. With :math:`z` the net flow of the token into the pool from ``open_balances`` (a sale of
    :math:`z` for :math:`z \ge 0`, fee on it; for :math:`z < 0` the underlying swapped in that
    lifts the price as far), the arbitrageurs buy :math:`q(z) = x_{now} - x(z)` tokens, falling with
    :math:`z`, while the position the price draws, :math:`K(p(z))/p(z)` tokens, rises; the flow is the
    larger of the one at ``cap_price`` and the root of :math:`K(p(z))/p(z) - held - q(z)`, at most the
    round's sale (nothing bought, and nothing sold back, where they already hold more than the price draws).

    Returns
    -------
    (ndarray, ndarray, ndarray)
        The balances after the round, the underlying the arbitrageurs paid in this round and the tokens they
        bought (0 both: none).

    Examples
    --------
    The mid-June 2022 pool (491k stETH / 111k ETH), 100k stETH sold, 20k ETH a day at a 1.12 % gap below
    the 0.9455 floor. Sold in one day, the pool ends at 0.9117: the arbitrageurs bought 72.5k stETH (66.1k
    ETH's worth at 0.9117, what that gap draws) for 56.4k ETH. Sold as 50k on each of two days, or all on the
    first day followed by a quiet one, it ends at 0.9259 either way: the same total, the same days of capital,
    the same end (the ratchet before: 0.9156 after the first day and there to the end; 0.9246 for the split).

    >>> x0 = np.array([491e3, 111e3]); g = 0.9455 / 0.935 - 1
    >>> sell = lambda x, n: amm.stableswap_swap(x, 30.0, 0, 1, n).balances
    >>> price = lambda x: round(float(amm.stableswap_price(x, 30.0, 0, 1)), 4)
    >>> one, paid, q = held_arbitrage(x0, sell(x0, 100e3), 30.0, 0.9455, 0.9455, 20e3, g)
    >>> price(one), round(float(q) / 1e2) / 10, round(float(paid) / 1e2) / 10
    (0.9117, 72.5, 56.4)
    >>> a, _, q1 = held_arbitrage(x0, sell(x0, 50e3), 30.0, 0.9455, 0.9455, 20e3, g)
    >>> split, _, _ = held_arbitrage(a, sell(a, 50e3), 30.0, 0.9455, 0.9455, 40e3, g, held=q1)
    >>> quiet, _, _ = held_arbitrage(one, one, 30.0, 0.9455, 0.9455, 40e3, g, held=q)
    >>> price(split), price(quiet)
    (0.9259, 0.9259)
    """
    xo = _arr(open_balances, "open_balances", positive=True)
    x = _arr(balances, "balances", positive=True)
    pf = _arr(floor_price, "floor_price", positive=True)
    top = _arr(cap_price, "cap_price", positive=True)
    have = _arr(held, "held")
    shape = broadcast_shape(xo.shape[:-1], x.shape[:-1], np.shape(pf), np.shape(top), np.shape(have),
                                np.shape(capacity))
    sold = np.broadcast_to(np.maximum(x[..., 0] - xo[..., 0], 0.0), shape)
    Do = amm.stableswap_D(xo, A)
    # how far below 0 the flow may go: the underlying that lifts the open pool to the cap
    # (none where the open pool is at the cap to 1e-12: a root at the bracket's end costs tens of steps)
    p_open = amm.stableswap_price(xo, A, 0, 1, D=Do)
    toward = np.where(p_open < top * (1.0 - 1e-12), top, np.minimum(top, p_open))
    lift = np.broadcast_to(underlying_to_reach_price(xo, A, toward, fee=fee), shape)

    def after(z):  # the open pool after the net flow z (each side swapped only where some flow is on it)
        z = np.asarray(z, float)
        sale = amm.stableswap_swap(xo, A, 0, 1, np.maximum(z, 0.0), fee, D=Do).balances if (z > 0).any() else None
        buy = amm.stableswap_swap(xo, A, 1, 0, np.maximum(-z, 0.0), fee, D=Do).balances if (z < 0).any() else None
        if sale is None or buy is None:
            out = sale if sale is not None else buy
            return out if out is not None else np.broadcast_to(xo, z.shape + (2,)).astype(float)
        return np.where((z >= 0.0)[..., None], sale, buy)

    def price(z):
        return amm.stableswap_price(after(z), A, 0, 1)

    def cap_gap(z):  # the cap less the price: rises with z
        return top - price(z)

    def short(z):  # tokens the position at the price draws less those the arbitrageurs would hold: rises with z
        b = after(z)
        p = amm.stableswap_price(b, A, 0, 1)
        return arbitrage_capital(p, pf, capacity, reference_gap, elasticity) / p - have - (x[..., 0] - b[..., 0])

    low = -lift
    on_floats = _one_pool(xo, x, A, Do, fee, shape, pf, top, have, capacity, reference_gap, elasticity)
    now = price(sold)
    active = (now < top) & (sold > low)
    # searched as u = z - low >= 0 (the bracket's stopping rule is relative to its upper end, so it is positive)
    span = sold - low
    zero = np.zeros(shape)
    # the flow that brings the price down to the cap (the lowest flow allowed): the lift itself where the open
    # pool is below the cap (the price is there, or above it by rounding), else a sale from the open pool
    f0, f1 = np.broadcast_to(cap_gap(low), shape), np.broadcast_to(cap_gap(sold), shape)
    # (an open pool at the cap to 1e-12, as a lifted one is left, starts there: a root at the bracket's end
    # costs the search tens of steps)
    lifted = (lift > 0.0) | (f0 >= -1e-12 * top)
    done = ~active | lifted | (f0 >= 0.0) | (f1 <= 0.0)
    low1 = float(np.reshape(low, -1)[0]) if on_floats is not None else 0.0
    _, u_cap = _illinois(lambda u: cap_gap(low + u), zero, span.copy(), f0, f1, done, iterations,
                         None if on_floats is None else lambda u: on_floats[0](low1 + u))
    z_cap = np.where(lifted | (f0 >= 0.0), low, np.where(f1 <= 0.0, sold, low + u_cap))
    # the flow at which the position the price draws is held, no less than that
    g0, g1 = np.broadcast_to(short(z_cap), shape), np.broadcast_to(short(sold), shape)
    done = ~active | (g0 >= 0.0) | (g1 < 0.0)
    _, u_h = _illinois(lambda u: short(low + u), z_cap - low, span.copy(), g0, g1, done, iterations,
                       None if on_floats is None else lambda u: on_floats[1](low1 + u))
    z = np.where(g0 >= 0.0, z_cap, np.where(g1 < 0.0, sold, low + u_h))
    end = after(z)
    paid = end[..., 1] - x[..., 1]
    bought = active & (z < sold) & (paid > 0.0)
    return (np.where(bought[..., None], end, np.broadcast_to(x, end.shape)), np.where(bought, paid, 0.0),
            np.where(bought, x[..., 0] - end[..., 0], 0.0))


def _one_pool(xo, x, A, Do, fee, shape, pf, top, have, capacity, reference_gap, elasticity):
    """:func:`held_arbitrage`'s ``cap_gap`` and ``short`` of one pool on Python floats (the engine's single
    scenario), the same numbers to the last bit (:class:`~core.mechanisms._stableswap_floats.OnePool`; the
    capital's power is numpy's, on the arrays' shapes); None where the arrays are not one pool's. Each returns
    None where the float path cannot say, and the numpy path answers."""
    if math.prod(shape) != 1 or xo.size != 2 or x.size != 2 or np.size(A) != 1 or not all(
            np.size(v) == 1 for v in (pf, top, have, capacity, reference_gap, elasticity)):
        return None
    pool = ssf.OnePool(xo, A, Do, fee)
    x0, top1, pf1, have1 = (float(np.reshape(v, -1)[0]) for v in (x[..., 0], top, pf, have))
    cap1 = float(np.reshape(capacity, -1)[0])
    g_ref, eta = np.asarray(reference_gap, dtype=float), np.asarray(elasticity, dtype=float)
    g_ref1, eta1 = float(np.reshape(g_ref, -1)[0]), float(np.reshape(eta, -1)[0])
    elastic = math.isfinite(g_ref1) and eta1 > 0

    def after(z: float):
        return pool.swap(0, z) if z > 0 else pool.swap(1, -z) if z < 0 else (pool.x0, pool.x1)

    def cap_gap(z: float) -> float | None:
        b = after(z)
        p = None if b is None else pool.price(*b)
        return None if p is None else top1 - p

    def short(z: float) -> float | None:
        b = after(z)
        p = None if b is None else pool.price(*b)
        if p is None or p == 0.0:
            return None
        gap = max(pf1 / p - 1.0, 0.0)  # arbitrage_capital's steps
        scale = float(np.reshape(np.full(shape, gap / g_ref1) ** eta, -1)[0]) if elastic else 1.0
        return (cap1 * scale if gap > 0 else 0.0) / p - have1 - (x0 - b[0])

    return cap_gap, short

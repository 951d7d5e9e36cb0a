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

import numpy as np

from core.mechanisms import _lst_held_floats as held_floats, _stableswap_floats as ssf, amm
from core.mechanisms._lst_flow import flow_price, safe_newton
from core.mechanisms._checks import as_amount_array as _arr
from core.mechanisms.lst_arbitrage import arbitrage_capital

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
                   elasticity=1.0, held=0.0, *, fee=0.0004, iterations=100, floats=True):
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

    The roots (the lift of an open pool below the cap, the sale down to it, and the position's) are found by
    Newton's method on the net flow with the pool's analytic derivative (:mod:`core.mechanisms._lst_flow`),
    kept inside a bracket, from the pool's fee-less closed form (the cap) and from the cap's flow (the
    position, searched as :math:`p^{1+\eta}` times the shortfall: the same root, without the position's
    :math:`1/p^2` cliff at a drained pool); on Python floats where the call holds a few pools. Session 11's
    Illinois regula falsi on the same equations took tens of evaluations per root, most of a synthetic 10k
    cascade; the answers agree to 1e-12 relative on the balances (``tests/test_lst_holdings_solve.py``).

    One pool (the engine's call) takes the same steps on Python floats (:mod:`core.mechanisms._lst_held_floats`,
    0.87 -> 0.13 ms a call, session 34), to the last bit; ``floats=False`` keeps the numpy path, the float path's
    reference in ``tests/test_lst_held_floats.py``.

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
    shape = np.broadcast_shapes(xo.shape[:-1], x.shape[:-1], np.shape(pf), np.shape(top), np.shape(have),
                                np.shape(capacity))
    if floats and xo.shape == x.shape == shape + (2,) and ssf.small(shape) and np.ndim(fee) == 0 \
            and 0.0 <= fee < 1.0 and all(np.broadcast_shapes(np.shape(v), shape) == shape
                                         for v in (A, reference_gap, elasticity)):
        # one pool or a few (the engine's call: one scenario's, or a small batch's, one pool): the same steps on
        # Python floats (core.mechanisms._lst_held_floats), pool by pool, where they take the numpy path's branches
        # (a pool's A > 0, as the numpy path checks); the numpy path's answer for a pool does not depend on the
        # others it is solved with (each element's searches stop on their own), so neither does this one's
        columns = [np.broadcast_to(np.asarray(v, dtype=float), shape).ravel().tolist()
                   for v in (xo[..., 0], xo[..., 1], x[..., 0], x[..., 1], A, pf, top, capacity, reference_gap,
                             elasticity, have)]
        try:
            pools = []
            for one in zip(*columns):
                if not one[4] > 0.0:
                    raise held_floats.Off
                pools.append(held_floats.held_one(*one, fee=float(fee), iterations=iterations))
        except (held_floats.Off, ZeroDivisionError, ValueError, OverflowError):
            pass
        else:
            end, paid, bought = zip(*pools)
            return (np.array(end, dtype=float).reshape(xo.shape), np.array(paid, dtype=float).reshape(shape),
                    np.array(bought, dtype=float).reshape(shape))
    sold = np.broadcast_to(np.maximum(x[..., 0] - xo[..., 0], 0.0), shape)
    Do = amm.stableswap_D(xo, A)
    Ann = np.asarray(A, float) * 4.0
    eta = np.where(np.isfinite(reference_gap) & (np.asarray(elasticity) > 0), elasticity, 0.0)
    ref = np.where(np.isfinite(reference_gap), reference_gap, 1.0)

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

    def cap_gap(z):  # the cap less the price and its derivative in z: rises with z
        _, p, dp = flow_price(xo, Ann, Do, fee, z)
        return top - p, -dp

    def short(z):  # tokens the position at the price draws less those the arbitrageurs would hold: rises with z
        (b0, db0), p, dp = flow_price(xo, Ann, Do, fee, z)
        k = arbitrage_capital(p, pf, capacity, reference_gap, elasticity)
        q = k / p
        # dK/dp = -eta K_ref (g/g_ref)**(eta - 1) / g_ref * p_f / p**2 (at g = 0 the limit from below the floor)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dk = -eta * capacity * (np.maximum(pf / p - 1.0, 0.0) / ref) ** (eta - 1.0) / ref * pf / (p * p)
        dq = np.where(eta > 0.0, dk, 0.0) / p - q / p
        f, df = q - have - (x[..., 0] - b0), dq * dp + db0
        # searched as p**(1 + eta) times the shortfall: the same sign and root, without the cliff of the
        # position (~1/p**2) at the trough of a large sale, where Newton from the sale's end crawls
        w = p ** (1.0 + eta)
        return w * f, w * df + (1.0 + eta) * w / p * dp * f

    scalar_cap = scalar_short = None
    if ssf.small(shape):  # a few elements: the same functions on Python floats, element by element
        e = list(zip(*ssf.lists(shape, xo[..., 0], xo[..., 1], Ann, Do, top, pf, capacity, ref, eta, have, x[..., 0])))

        def scalar_cap(k, z):
            return held_floats.cap_float(e[k], fee, z)

        def scalar_short(k, z):
            return held_floats.short_float(e[k], fee, z)

    def value(fun, scalar, z):  # the function's value at the flows z, on floats where the batch is small
        if scalar is not None:
            try:
                return np.array([scalar(k, v)[0] for k, v in enumerate(np.broadcast_to(z, shape).ravel().tolist())],
                                float).reshape(shape)
            except (ZeroDivisionError, ValueError, OverflowError):  # where numpy gives inf or nan
                pass
        return np.broadcast_to(fun(z)[0], shape)

    # how far below 0 the flow may go: the underlying that lifts the open pool to the cap, the root of the cap
    # gap over flows from -(4 x_0 + x_1) (underlying_to_reach_price's bracket) to 0 (none where the open pool
    # is at the cap to 1e-12: a root at the bracket's end costs tens of steps)
    p_open = amm.stableswap_price(xo, A, 0, 1, D=Do)
    need = np.broadcast_to(p_open < top * (1.0 - 1e-12), shape)
    deepest = np.broadcast_to(-(4.0 * xo[..., 0] + xo[..., 1]), shape)
    zero = np.zeros(shape)
    lift = zero
    if need.any():
        f_deep = value(cap_gap, scalar_cap, deepest)
        f_open = np.broadcast_to(top - p_open, shape)
        done = ~need | (f_deep >= 0.0) | (f_open <= 0.0)
        # from the fee-less amount (the pool's own closed form; the fee, left in the pool, asks a little more)
        start = -np.minimum(amm.stableswap_amount_in_for_price(xo, A, np.where(need, top, p_open), D=Do), -deepest)
        z_lift = safe_newton(cap_gap, deepest, zero, f_deep, f_open, start, done, zero, iterations, scalar_cap)
        lift = np.where(need, -np.where(f_deep >= 0.0, deepest, z_lift), 0.0)
    low = -lift
    now = price(sold)
    active = (now < top) & (sold > low)
    # the flow that brings the price down to the cap (the lowest flow allowed): the lift itself where the open
    # pool is below the cap (the price is there, or above it by rounding), else a sale from the open pool
    f0, f1 = np.broadcast_to(top - price(low), shape), np.broadcast_to(top - now, shape)
    # (an open pool at the cap to 1e-12, as a lifted one is left, starts there: a root at the bracket's end
    # costs the search tens of steps)
    lifted = (lift > 0.0) | (f0 >= -1e-12 * top)
    done = ~active | lifted | (f0 >= 0.0) | (f1 <= 0.0)
    if not done.all():  # from the fee-less sale to the cap: the token's pool lifted on the other side
        fee_less = amm.stableswap_balances_for_price(xo[..., ::-1], A, 1.0 / top, D=Do)[..., 1] - xo[..., 0]
        z_cap = safe_newton(cap_gap, low, sold, f0, f1, np.clip(fee_less, low, sold), done, low, iterations,
                             scalar_cap)
    else:
        z_cap = low
    z_cap = np.where(lifted | (f0 >= 0.0), low, np.where(f1 <= 0.0, sold, z_cap))
    # the flow at which the position the price draws is held, no less than that
    g0, g1 = value(short, scalar_short, z_cap), value(short, scalar_short, sold)
    done = ~active | (g0 >= 0.0) | (g1 <= 0.0)  # (at 0, the sale itself: a rising function's root at the end)
    z_h = safe_newton(short, z_cap, sold, g0, g1, z_cap, done, low, iterations, scalar_short)
    z = np.where(g0 >= 0.0, z_cap, np.where(g1 <= 0.0, sold, z_h))
    end = after(z)
    paid = end[..., 1] - x[..., 1]
    bought = active & (z < sold) & (paid > 0.0)
    return (np.where(bought[..., None], end, np.broadcast_to(x, end.shape)), np.where(bought, paid, 0.0),
            np.where(bought, x[..., 0] - end[..., 0], 0.0))

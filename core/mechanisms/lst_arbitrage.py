r"""Arbitrage against a liquid-staking token's floor: the capital the discount draws, and where it meets the sellers.

Capital rises with the discount
-------------------------------
Below the floor, the buyer's excess return over the wait is proportional to
the gap to the floor price, :math:`g = p_f/p - 1`, and mean-variance
arbitrageurs commit capital in proportion to it (:func:`arbitrage_capital`):

.. math:: K(p) = K_{ref}\,(g / g_{ref})^{\eta},\qquad \eta = 1.

They buy the token from the pool until the capital the post-trade price still
draws is spent (:func:`arbitrage_purchase`). Calibration, June 2022
[estimates]: the discount held at 5-7 % for days while sellers moved about
$50-100M a day (Kaiko: Amber $160M over a few days, Alameda $88M), and the
Curve pool traded ~56k ETH a day of two-way volume (1 May-18 Jun); that
volume is taken as the capital at the gap of the June low (0.935 against the
0.9455 carry floor, :math:`g_{ref}` = 1.12 %). At Gauntlet's 20 % depeg the
gap is 18 % and the capital 16 times larger. A large enough sale still breaks
through the floor, to where the capital it draws meets it, not to a cliff.

Lifting a pool
--------------
:func:`underlying_to_reach_price` (the underlying that lifts a stableswap
pool's price to a target), :func:`arbitrage_purchase` (lifting it from where
the round's sales left it, until the capital is spent) and
:func:`netted_arbitrage` (the round's sales and one round's capital netted
from the pool the round opened with: the model before session 11's held
positions, :func:`core.mechanisms.lst_holdings.held_arbitrage`, which the
engine, :mod:`core.engine.staking`, and
:func:`~core.mechanisms.liquid_staking.lst_market_round` use). The floors themselves are in
:mod:`core.mechanisms.liquid_staking`.

References
----------
* A. Shleifer, R. Vishny, "The Limits of Arbitrage", J. Finance (1997);
  D. Gromb, D. Vayanos, "Equilibrium and welfare in markets with financially
  constrained arbitrageurs", J. Financial Economics (2002).
* S. Scharnowski, H. Jahanshahloo, "The Economics of Liquid Staking
  Derivatives: Basis Determinants and Price Discovery", J. Futures Markets
  44(2) (2024).
* Kaiko via CoinDesk and ForkLog (June 2022): sellers' figures; Integral, from
  Dune: Curve stETH/ETH volume, 1 May-18 June 2022.
* Gauntlet, "Staked ETH and AAVE Risk (June 11th Update)" (2022).
* M. Egorov, "StableSwap" (2019); Dowell & Jarratt (1971), the Illinois method.
"""

from __future__ import annotations

import math

import numpy as np

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms import amm
from core.mechanisms._checks import as_amount_array as _arr, broadcast_shape
from core.mechanisms.root_bracket import illinois as _illinois

__all__ = ["underlying_to_reach_price", "arbitrage_capital", "arbitrage_purchase", "netted_arbitrage"]


def underlying_to_reach_price(balances, A, target_price, *, i=0, j=1, fee=0.0004, max_in=np.inf, iterations=100):
    """Underlying (coin ``j``) to swap into the pool to lift the price of coin ``i`` to ``target_price``.

    The post-trade marginal price rises with the amount swapped in, so the
    amount is the root of ``price(dx) - target``, bracketed below by the
    fee-less amount (:func:`~core.mechanisms.amm.stableswap_amount_in_for_price`:
    the fee stays in the pool as coin ``i``, so the same amount with the fee
    lifts the price a little less) and above by ``min(max_in, 4 x_i + x_j)``.
    The root is found by regula falsi with the Illinois modification (Dowell &
    Jarratt 1971), vectorised; each pool stops on its own once its bracket is
    within float resolution and is frozen, so its answer never depends on the
    others in the batch. The answer is the bracket's upper end: the price is at
    the target or above it by rounding, never short. (Before: 80 bisection
    steps, 160 invariant solves per call; now about 8 steps.) Capped at
    ``max_in``; 0 where the price is already there.

    Parameters
    ----------
    balances : array_like, shape (..., 2)
        The StableSwap pool's balances (> 0).
    A : array_like
        The pool's amplification.
    target_price : array_like
        Price of coin ``i`` in coin ``j`` to reach (> 0).
    i, j : int
        The coin lifted and the coin paid in.
    fee : float
        The pool's swap fee.
    max_in : array_like
        Largest amount of coin ``j`` available.
    iterations : int
        Most regula falsi steps (the bracket is then within float resolution long before).

    Returns
    -------
    ndarray
        Amount of coin ``j`` to swap in.

    Raises
    ------
    ValueError
        On NaN, a balance or a target price <= 0.

    Examples
    --------
    >>> dx = underlying_to_reach_price([491e3, 111e3], 30.0, 0.96)
    >>> r = amm.stableswap_swap([491e3, 111e3], 30.0, 1, 0, dx)
    >>> round(float(amm.stableswap_price(r.balances, 30.0, 0, 1)), 6)
    0.96
    """
    x = _arr(balances, "balances", positive=True)
    target = _arr(target_price, "target_price", positive=True)
    cap = _arr(max_in, "max_in")
    D = amm.stableswap_D(x, A)
    p0 = amm.stableswap_price(x, A, i, j, D=D)
    shape = broadcast_shape(p0.shape, target.shape, cap.shape)
    need = np.broadcast_to(p0 < target, shape)
    hi = np.broadcast_to(np.minimum(cap, x[..., i] * 4.0 + x[..., j]), shape).astype(float)
    if not need.any():
        return np.zeros(shape)

    def gap(dx):  # post-trade price less the target: rises with dx
        after = amm.stableswap_swap(x, A, j, i, dx, fee, D=D).balances
        return amm.stableswap_price(after, A, i, j) - target

    lo = np.minimum(amm.stableswap_amount_in_for_price(x[..., [i, j]], A, np.broadcast_to(target, shape), D=D), hi)
    f_lo, f_hi = gap(lo), gap(hi)
    done = ~need | (f_hi <= 0.0) | (f_lo >= 0.0)
    hi = np.where(need & (f_lo >= 0.0), lo, hi)  # the fee-less amount already there (rounding)
    on_floats = None
    if (i, j) == (0, 1) and x.size == 2 and np.size(A) == 1 and np.size(fee) == 1 and math.prod(shape) == 1:
        pool, target1 = ssf.OnePool(x, A, D, fee), float(np.reshape(target, -1)[0])

        def on_floats(dx: float) -> float | None:  # gap on floats, to the bit (core.mechanisms._stableswap_floats.OnePool)
            b = pool.swap(1, dx)
            p = None if b is None else pool.price(*b)
            return None if p is None else p - target1
    _, hi = _illinois(gap, lo, hi, f_lo, f_hi, done, iterations, on_floats)
    return np.where(need, np.minimum(hi, cap), 0.0)


def arbitrage_capital(price, floor_price, capacity, reference_gap=np.inf, elasticity=1.0):
    r"""Capital arbitrageurs commit to buy the token at ``price`` below its floor: ``K (g / g_ref)**eta``.

    A buyer at price :math:`p` below the floor price :math:`p_f` who holds to
    redemption (or through the exit queue) earns, over the funding cost of the
    wait, an excess holding-period return proportional to the gap to the floor,

    .. math:: g = p_f / p - 1

    (no withdrawals: :math:`(1+y)^H/p - (1+r)^H = (1+r)^H g`; an exit queue:
    :math:`(1-\text{fee})/p - (1-c)^{-\tau} = (1-c)^{-\tau} g`). A
    mean-variance arbitrageur's position is his expected excess return over
    his risk aversion times its variance (limits to arbitrage: Shleifer &
    Vishny 1997; Gromb & Vayanos 2002), so the capital committed rises
    linearly with the gap, :math:`\eta = 1`, and is thinner the riskier the
    wait (Scharnowski & Jahanshahloo 2024 find the liquid-staking basis wider
    when returns are more volatile and liquidity is low). ``capacity`` is the
    capital at the reference gap :math:`g_{ref}`; ``elasticity`` 0 (or an
    infinite ``reference_gap``) gives the fixed capital of the inelastic model.
    None at or above the floor.

    Parameters
    ----------
    price, floor_price : array_like
        The token's price and its floor price, in the underlying (> 0).
    capacity : array_like
        Capital (units of the underlying) committed at the reference gap (>= 0).
    reference_gap : array_like
        :math:`g_{ref}` (> 0); ``inf``: inelastic.
    elasticity : array_like
        :math:`\eta` (>= 0).

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN or an out-of-range argument.

    Examples
    --------
    June 2022 [estimates, pegs table]: carry floor 0.9455, 56k ETH a day at
    the gap of the low, 0.935 (1.12 %); at Gauntlet's 20 % depeg the gap is
    18.2 % and the capital 907k ETH a day.

    >>> g_ref = 0.9455 / 0.935 - 1
    >>> round(float(arbitrage_capital(0.80, 0.9455, 56e3, g_ref)) / 1e3)
    907
    """
    p = _arr(price, "price", positive=True)
    pf = _arr(floor_price, "floor_price", positive=True)
    cap = _arr(capacity, "capacity")
    g_ref = _arr(reference_gap, "reference_gap", positive=True)
    eta = _arr(elasticity, "elasticity")
    gap = np.maximum(pf / p - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isfinite(g_ref) & (eta > 0), (gap / np.where(np.isfinite(g_ref), g_ref, 1.0)) ** eta, 1.0)
    return np.where(gap > 0, cap * scale, 0.0)


def arbitrage_purchase(balances, A, floor_price, cap_price, capacity, reference_gap=np.inf, elasticity=1.0, *,
                       i=0, j=1, fee=0.0004, iterations=100):
    r"""Underlying arbitrageurs swap into the pool: as much as the capital the post-trade price still draws.

    Buying lifts the price :math:`p(\delta)` and so lowers the capital
    :math:`K(p)` of :func:`arbitrage_capital`; they buy the :math:`\delta^*`
    at which the two meet, :math:`\delta^* = K(p(\delta^*))`, or the amount
    that lifts the price to ``cap_price`` if the capital there still exceeds
    it. :math:`K(p(\delta)) - \delta` falls with :math:`\delta`, so the root is
    unique; it is bracketed by 0 and :math:`\min(K(p(0)), \delta_{cap})` and
    found by :func:`~core.mechanisms.root_bracket.illinois`. The answer is the lower end (never more than
    the capital the price draws). A deeper sale (a lower starting price)
    never gives a higher price after arbitrage: the amount needed to reach any
    price is larger while the capital at it is the same.

    Parameters
    ----------
    balances : array_like, shape (..., 2)
        The StableSwap pool's balances (> 0).
    A : array_like
        Amplification.
    floor_price : array_like
        The floor (:func:`carry_floor_discount` / :func:`withdrawal_floor_discount`) in pool price units.
    cap_price : array_like
        The most arbitrage lifts the price to (the floor, or lower).
    capacity, reference_gap, elasticity : array_like
        The supply of capital (:func:`arbitrage_capital`).

    Returns
    -------
    ndarray
        Amount of coin ``j`` swapped in.

    Examples
    --------
    The mid-June 2022 pool (491k stETH / 111k ETH) after a 100k stETH sale
    (price 0.549): a fixed 20k ETH lifts the price back to 0.77; capital
    elastic to the gap (20k ETH at a 1.12 % gap below the 0.9455 floor) buys
    58.5k ETH and holds it at 0.915, where the gap (3.3 %) draws exactly that.

    >>> x = amm.stableswap_swap([491e3, 111e3], 30.0, 0, 1, 100e3).balances
    >>> fixed = arbitrage_purchase(x, 30.0, 0.9455, 0.9455, 20e3)
    >>> elastic = arbitrage_purchase(x, 30.0, 0.9455, 0.9455, 20e3, 0.9455 / 0.935 - 1)
    >>> price = lambda dx: float(amm.stableswap_price(amm.stableswap_swap(x, 30.0, 1, 0, dx).balances, 30.0, 0, 1))
    >>> round(float(fixed)), round(price(fixed), 2), round(float(elastic) / 1e2) / 10, round(price(elastic), 3)
    (20000, 0.77, 58.5, 0.915)
    """
    x = _arr(balances, "balances", positive=True)
    pf = _arr(floor_price, "floor_price", positive=True)
    top = _arr(cap_price, "cap_price", positive=True)
    D = amm.stableswap_D(x, A)
    p0 = amm.stableswap_price(x, A, i, j, D=D)
    need = underlying_to_reach_price(x, A, top, i=i, j=j, fee=fee)
    k0 = arbitrage_capital(p0, pf, capacity, reference_gap, elasticity)
    hi = np.minimum(need, k0)
    shape = hi.shape
    k_fixed = np.broadcast_to(~(np.isfinite(reference_gap) & (np.asarray(elasticity) > 0)), shape)
    if k_fixed.all() or not (hi > 0).any():
        return hi  # fixed capital: all of it, or what reaches the cap

    def excess(dx):  # amount bought less the capital the price after it draws: rises with dx
        after = amm.stableswap_swap(x, A, j, i, dx, fee, D=D).balances
        return dx - arbitrage_capital(amm.stableswap_price(after, A, i, j), pf, capacity, reference_gap, elasticity)

    lo = np.zeros(shape)
    f_lo, f_hi = -np.broadcast_to(k0, shape).astype(float), excess(hi)
    done = k_fixed | (hi <= 0) | (f_hi <= 0.0)  # the capital at the cap (or a fixed one) covers the amount
    lo, _ = _illinois(excess, lo, hi, f_lo, f_hi, done, iterations)
    return np.where(done, hi, lo)


def netted_arbitrage(open_balances, balances, A, floor_price, cap_price, capacity, reference_gap=np.inf,
                     elasticity=1.0, *, fee=0.0004, iterations=100):
    r"""The pool after arbitrageurs meet the round's sellers: the round's sales netted into one sale from the open.

    The round's sellers have put :math:`\Delta = x_{now} - x_{open}` of the
    token into the pool, one sale after another. Arbitrageurs buying below the
    floor trade in the same round, so the pool absorbs only the net sale
    :math:`n`: it ends at :math:`x(n)` = the open balances after selling
    :math:`n` (fee on :math:`n`), and the arbitrageurs pay it the underlying
    :math:`\delta(n) = y(n) - y_{now}` for the token :math:`x_{now} - x(n)`
    (the sellers have been paid already). :math:`\delta(n)` falls with
    :math:`n` while the capital the price :math:`p(n)` draws,
    :math:`K(p(n))` (:func:`arbitrage_capital`), rises, so the net sale is
    the larger of the one that brings the price down to ``cap_price`` and the
    one at which :math:`\delta = K`; where even :math:`n = \Delta` needs more
    than the capital there, nothing is bought. Netting makes the end state a
    function of the round's net flow alone: selling a pool down to a trough
    and buying it back would leave the LPs the fees of both legs, paid at the
    trough (at a drained pool a few hundred units of fee in the scarce coin
    raise the invariant by tens of thousands), a gain growing with the sale.
    A deeper sale (a larger :math:`\Delta`, lower :math:`y_{now}`) raises
    :math:`\delta(n)` for every :math:`n`, so never ends at a higher price.

    Parameters
    ----------
    open_balances, balances : array_like, shape (..., 2)
        The pool's balances before and after the round's sales (token at 0, underlying at 1; > 0).
    A : array_like
        Amplification.
    floor_price, cap_price : array_like
        The floor, and the most arbitrage lifts the price to (pool price units).
    capacity, reference_gap, elasticity : array_like
        The supply of capital (:func:`arbitrage_capital`).
    fee : float
        The pool's fee, charged on the net sale.

    Returns
    -------
    (ndarray, ndarray)
        The balances after the round, and the underlying the arbitrageurs paid in (0: none bought).

    Examples
    --------
    The mid-June 2022 pool (491k stETH / 111k ETH) sold 100k stETH in two
    halves, with 20k ETH of capital at a 1.12 % gap below the 0.9455 floor:
    the arbitrageurs pay in 58.5k ETH and the price ends at 0.9154, as when
    they lift the pool from the trough (:func:`arbitrage_purchase`), the
    pool keeping only the fee of the net sale.

    >>> x0 = np.array([491e3, 111e3])
    >>> x = amm.stableswap_swap(amm.stableswap_swap(x0, 30.0, 0, 1, 50e3).balances, 30.0, 0, 1, 50e3).balances
    >>> end, paid = netted_arbitrage(x0, x, 30.0, 0.9455, 0.9455, 20e3, 0.9455 / 0.935 - 1)
    >>> round(float(paid) / 1e2) / 10, round(float(amm.stableswap_price(end, 30.0, 0, 1)), 4)
    (58.5, 0.9154)
    """
    xo = _arr(open_balances, "open_balances", positive=True)
    x = _arr(balances, "balances", positive=True)
    pf = _arr(floor_price, "floor_price", positive=True)
    top = _arr(cap_price, "cap_price", positive=True)
    shape = broadcast_shape(xo.shape[:-1], x.shape[:-1], np.shape(pf), np.shape(top))
    sold = np.broadcast_to(np.maximum(x[..., 0] - xo[..., 0], 0.0), shape)
    Do = amm.stableswap_D(xo, A)

    def after(n):
        return amm.stableswap_swap(xo, A, 0, 1, n, fee, D=Do).balances

    def price(n):
        return amm.stableswap_price(after(n), A, 0, 1)

    def cap_gap(n):  # the cap less the price: rises with n
        return top - price(n)

    def short(n):  # capital the price draws less what the arbitrageurs pay: rises with n
        b = after(n)
        return arbitrage_capital(amm.stableswap_price(b, A, 0, 1), pf, capacity, reference_gap, elasticity) - (b[..., 1] - x[..., 1])

    zero = np.zeros(shape)
    active = sold > 0
    # the net sale that brings the price down to the cap
    f0, f1 = np.broadcast_to(cap_gap(zero), shape), np.broadcast_to(cap_gap(sold), shape)
    done = ~active | (f0 >= 0.0) | (f1 <= 0.0)
    _, n_cap = _illinois(cap_gap, zero, sold.copy(), f0, f1, done, iterations)
    n_cap = np.where(f0 >= 0.0, 0.0, np.where(f1 <= 0.0, sold, n_cap))
    # the net sale at which the capital covers the payment, no less than that
    g0, g1 = np.broadcast_to(short(n_cap), shape), np.broadcast_to(short(sold), shape)
    done = ~active | (g0 >= 0.0) | (g1 < 0.0)
    _, n_h = _illinois(short, n_cap, sold.copy(), g0, g1, done, iterations)
    n = np.where(g0 >= 0.0, n_cap, np.where(g1 < 0.0, sold, n_h))
    end = after(n)
    paid = end[..., 1] - x[..., 1]
    bought = active & (n < sold) & (paid > 0.0)
    return np.where(bought[..., None], end, np.broadcast_to(x, end.shape)), np.where(bought, paid, 0.0)

r"""Liquid-staking and wrapped tokens: a pool sets the discount, redemption arbitrage bounds it, LPs leave.

Price
-----
.. math:: p_{LST} = p_{underlying}\,(1-d),

with the discount :math:`d` set by the token's main pool (the Curve stETH/ETH
stableswap pool in 2022, :mod:`core.mechanisms.amm`).

Arbitrage floor
---------------
A buyer at discount :math:`d` earns it by redeeming or by holding to redemption:

* **withdrawals exist** (stETH after Shanghai, Apr 2023; wrapped BTC through
  the custodian): the token is worth one unit of the underlying after the exit
  queue of :math:`\tau` rounds, so arbitrage buys whenever

  .. math:: d > d_{floor} = 1 - (1-\text{fee})(1-c)^{\tau},

  :math:`c` the arbitrageur's cost of capital per round (the same time-cost
  form as :func:`core.mechanisms.fiat_reserves.fiat_queue_price`);
* **no withdrawals** (stETH in 2022): a buyer holds for the expected
  :math:`H` years until withdrawals open, earning the staking yield :math:`y`
  against a funding cost :math:`r`, and breaks even at

  .. math:: d_{floor} = 1 - \left(\frac{1+y}{1+r}\right)^{H}.

  June 2022: :math:`H \approx 1` year (withdrawals expected 6-12 months after
  the Merge), :math:`y \approx 4\,\%`, :math:`r \approx 10\,\%` in a stressed
  market [estimates] give 5.5 %, inside the observed 4.7-8 % band
  (research notes §4.3).

Arbitrage capital per round is finite (``arbitrage_capacity``, units of the
underlying): arbitrageurs buy the token from the pool until its price is back
at the floor or their capital is spent. Below the floor the discount is set by
the pool alone, so a large enough sale still breaks through, gradually
rather than as a cliff.

LP withdrawals
--------------
LPs in a stressed pool withdraw (balanced, ``remove_liquidity``) a share per
round rising with the imbalance
:math:`\iota = |2x_{LST}/(x_{LST}+x_{ETH}) - 1|`:

.. math:: w = \min(w_{max},\ \gamma\,\iota).

A balanced withdrawal keeps the price (the invariant is homogeneous of degree
one) but thins the pool, so the next sale moves it more. Calibration: the
stETH pool went from $4.5bn (start of May 2022) to $0.62bn (mid-June), about
4.3 % a day over 45 days, at imbalances from 0.57 (78.4 % stETH, May 13) to
0.63 (81.6 %, mid-June): :math:`\gamma \approx 0.075` per day [estimate].

References
----------
* Research notes §4.3 (pool $4.5bn -> $0.62bn; 491k stETH / 111k ETH; 4.7 %
  and >6 % discounts; maximum ~8 %), §5.6 (stableswap, effective A ~30).
* Lido docs, "Withdrawals" (exit queue after Shanghai/Capella, 12 Apr 2023);
  Ethereum consensus specs, ``get_validator_churn_limit`` (exit churn).
* M. Egorov, "StableSwap" (2019); Curve ``remove_liquidity`` (balanced).
* Gauntlet, "Staked ETH and AAVE Risk (June 11th Update)" (2022).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms import amm
from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr

__all__ = [
    "LSTRoundResult",
    "withdrawal_floor_discount",
    "exit_queue_rounds",
    "carry_floor_discount",
    "pool_imbalance",
    "lp_withdrawal_rate",
    "underlying_to_reach_price",
    "lst_market_round",
]


def withdrawal_floor_discount(queue_rounds, cost_per_round, fee=0.0):
    """Discount at which redeeming through the exit queue pays: ``1 - (1 - fee)(1 - c)**queue``.

    Parameters
    ----------
    queue_rounds : array_like
        Rounds a redemption waits in the exit queue (>= 0).
    cost_per_round : array_like
        ``c``: cost of capital per round, in [0, 1].
    fee : array_like
        Redemption fee, in [0, 1].

    Returns
    -------
    ndarray
        The discount below which buying the token and redeeming it is profitable.

    Raises
    ------
    ValueError
        On NaN, a negative queue or a share outside [0, 1].

    Examples
    --------
    >>> round(float(withdrawal_floor_discount(5.0, 0.0003)), 5)  # 5-day queue, ~11 %/yr
    0.0015
    """
    return 1.0 - (1.0 - _unit(fee, "fee")) * (1.0 - _unit(cost_per_round, "cost_per_round")) ** _arr(queue_rounds, "queue_rounds")


def exit_queue_rounds(queued_eth, active_validators, rounds_per_day=1.0, *, validator_eth=32.0):
    """Rounds to clear an Ethereum exit queue at the validator churn limit.

    Consensus specs (phase 0 to Deneb), ``get_validator_churn_limit``:
    ``max(MIN_PER_EPOCH_CHURN_LIMIT = 4, active_validators // CHURN_LIMIT_QUOTIENT = 65536)``
    validators leave per epoch, 225 epochs a day. (Electra, EIP-7251, counts
    the churn in ETH instead; not modelled here.)

    Examples
    --------
    560,000 validators leave 8 per epoch, 57,600 ETH a day: a 1M ETH queue
    takes about 17.4 days.

    >>> round(float(exit_queue_rounds(1e6, 560_000)), 1)
    17.4
    """
    q = _arr(queued_eth, "queued_eth")
    v = _arr(active_validators, "active_validators")
    churn = np.maximum(4.0, np.floor(v / 65536.0))
    per_day = churn * 225.0 * validator_eth
    return q / (per_day / _arr(rounds_per_day, "rounds_per_day", positive=True))


def carry_floor_discount(years_to_redemption, funding_rate, staking_yield):
    """Break-even discount without withdrawals: ``1 - ((1 + y)/(1 + r))**H``, at least 0.

    Parameters
    ----------
    years_to_redemption : array_like
        ``H``: years until the token can be redeemed.
    funding_rate : array_like
        ``r``: yearly cost of funding a holder pays.
    staking_yield : array_like
        ``y``: yearly staking yield the token earns.

    Returns
    -------
    ndarray
        The discount at which holding to redemption breaks even.

    Raises
    ------
    ValueError
        On NaN or a negative argument.

    Examples
    --------
    >>> round(float(carry_floor_discount(1.0, 0.10, 0.04)), 4)  # June 2022 [estimates]
    0.0545
    """
    H = _arr(years_to_redemption, "years_to_redemption")
    r, y = _arr(funding_rate, "funding_rate"), _arr(staking_yield, "staking_yield")
    return np.maximum(0.0, 1.0 - ((1.0 + y) / (1.0 + r)) ** H)


def pool_imbalance(balances, i=0):
    """``|2 x_i / sum(x) - 1|`` of a two-coin pool (0 balanced, 1 one-sided).

    Parameters
    ----------
    balances : array_like, shape (..., 2)
        The pool's balances (>= 0; an empty pool has imbalance 0).
    i : int
        The coin whose share is measured.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN or a negative balance.

    Examples
    --------
    >>> round(float(pool_imbalance([491e3, 111e3])), 3)
    0.631
    """
    x = _arr(balances, "balances")
    tot = x.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, np.abs(2.0 * x[..., i] / np.where(tot > 0, tot, 1.0) - 1.0), 0.0)


def lp_withdrawal_rate(imbalance, sensitivity=0.075, max_rate=0.25):
    """Share of the pool LPs withdraw this round: ``min(max_rate, sensitivity * imbalance)``.

    Parameters
    ----------
    imbalance : array_like
        :func:`pool_imbalance`, in [0, 1].
    sensitivity : float
        Share withdrawn per unit of imbalance (>= 0).
    max_rate : float
        Largest share withdrawn in one round, in [0, 1].

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN, a negative sensitivity or a share outside [0, 1].

    Examples
    --------
    >>> round(float(lp_withdrawal_rate(0.57)), 4)
    0.0427
    """
    return np.minimum(_unit(max_rate, "max_rate"), _arr(sensitivity, "sensitivity") * _unit(imbalance, "imbalance"))


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
    shape = np.broadcast_shapes(p0.shape, target.shape, cap.shape)
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
    kept = np.zeros(shape, int)  # the end the last step kept: +1 upper, -1 lower (Illinois)
    for _ in range(iterations):
        if done.all():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            m = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        m = np.where((m > lo) & (m < hi), m, 0.5 * (lo + hi))
        f_m = gap(m)
        up = f_m >= 0.0  # the root is at or below m: m becomes the upper end
        live = ~done
        lo, f_lo = np.where(live & ~up, m, lo), np.where(live & ~up, f_m, f_lo)
        hi, f_hi = np.where(live & up, m, hi), np.where(live & up, f_m, f_hi)
        f_lo = np.where(live & up & (kept == 1), 0.5 * f_lo, f_lo)    # the same end moved twice: halve the other's
        f_hi = np.where(live & ~up & (kept == -1), 0.5 * f_hi, f_hi)
        kept = np.where(live, np.where(up, 1, -1), kept)
        done = done | (f_m == 0.0) | (hi - lo <= 4.0 * np.finfo(float).eps * hi)
    return np.where(need, np.minimum(hi, cap), 0.0)


@dataclass(frozen=True)
class LSTRoundResult:
    """The LST's pool after one round.

    Attributes
    ----------
    price : LST price in the underlying after the round (``1 - discount``)
    balances : (..., 2) pool balances after the round
    lp_withdrawn : share of the pool LPs withdrew
    sold_out : underlying the forced sellers received
    arbitrage_in : underlying arbitrageurs spent buying the LST back
    floor_price : ``1 - floor_discount``

    Examples
    --------
    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055, arbitrage_capacity=200e3)
    >>> round(float(r.price), 3)
    0.945
    """

    price: np.ndarray
    balances: np.ndarray
    lp_withdrawn: np.ndarray
    sold_out: np.ndarray
    arbitrage_in: np.ndarray
    floor_price: np.ndarray


def lst_market_round(balances, A, sell_amount, *, floor_discount, arbitrage_capacity=np.inf,
                     fee=0.0004, lp_sensitivity=0.075, lp_max_rate=0.25, i=0, j=1):
    """One round of an LST's market: LPs withdraw, forced sellers sell, arbitrageurs buy to the floor.

    Parameters
    ----------
    balances : array_like, shape (..., 2)
        Pool balances (LST at ``i``, underlying at ``j``), units.
    A : float
        Amplification (stETH/ETH 2022 effective ~30).
    sell_amount : array_like, shape (...)
        LST sold into the pool this round (units).
    floor_discount : array_like
        From :func:`withdrawal_floor_discount` or :func:`carry_floor_discount`.
    arbitrage_capacity : array_like
        Underlying arbitrageurs can commit this round.
    fee, lp_sensitivity, lp_max_rate : float
        Pool fee; LP withdrawal law (module docstring).

    Returns
    -------
    LSTRoundResult

    Examples
    --------
    The mid-June 2022 pool (491k stETH / 111k ETH, price 0.947), 100k stETH
    sold with 20k ETH of arbitrage capital at a 5.5 % floor: LPs take 4.7 %
    out, the sale alone takes the pool to 0.504, the arbitrage capital lifts
    it to 0.76 before it runs out.

    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055,
    ...                      arbitrage_capacity=20e3)
    >>> round(float(r.lp_withdrawn), 4), round(float(r.price), 3)
    (0.0473, 0.76)

    Enough arbitrage capital holds the floor:

    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055,
    ...                      arbitrage_capacity=200e3)
    >>> round(float(r.price), 3)
    0.945
    """
    x = _arr(balances, "balances", positive=True)
    sell = _arr(sell_amount, "sell_amount")
    floor = 1.0 - _unit(floor_discount, "floor_discount")
    cap = _arr(arbitrage_capacity, "arbitrage_capacity")
    w = lp_withdrawal_rate(pool_imbalance(x, i), lp_sensitivity, lp_max_rate)
    x = x * (1.0 - w)[..., None]
    sale = amm.stableswap_swap(x, A, i, j, sell, fee)
    x = sale.balances
    arb = underlying_to_reach_price(x, A, floor, i=i, j=j, fee=fee, max_in=cap)
    x = amm.stableswap_swap(x, A, j, i, arb, fee).balances
    price = amm.stableswap_price(x, A, i, j)
    return LSTRoundResult(price=price, balances=x, lp_withdrawn=w, sold_out=sale.amount_out,
                          arbitrage_in=arb, floor_price=np.broadcast_to(floor, np.shape(price)).copy())

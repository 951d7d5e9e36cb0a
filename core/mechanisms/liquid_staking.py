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

Arbitrage capital rises with the discount
-----------------------------------------
Below the floor, arbitrage capital grows with the gap to the floor price
(:mod:`core.mechanisms.lst_arbitrage`, :func:`arbitrage_capital`, re-exported
here), arrives slowly after a shock, and is held as a position to redemption
that meets the round's sellers in the same round
(:func:`core.mechanisms.lst_holdings.held_arbitrage`: Shleifer & Vishny 1997,
Gromb & Vayanos 2002; Mitchell, Pedersen & Pulvino 2007; Duffie 2010), the
model :func:`lst_market_round` and the engine (:mod:`core.engine.staking`)
share. :func:`netted_arbitrage` (one round's capital against that round's
sales alone, the model before session 11) is kept for comparison.

LP withdrawals
--------------
LPs in a stressed pool withdraw (balanced, ``remove_liquidity``) a share per
round rising with the imbalance
:math:`\iota = |2x_{LST}/(x_{LST}+x_{ETH}) - 1|`:

.. math:: w = \min(w_{max},\ \gamma\,\iota).

A balanced withdrawal keeps the price (the invariant is homogeneous of degree
one) but thins the pool, so the next sale moves it more. Calibration: the
stETH pool went from $4.5bn (start of May 2022, ETH ~$2,800: ~1.61M units)
to $0.62bn on 16-17 June (491k stETH + 111.3k ETH = 602k units; ForkLog and
CoinDesk from Dune), 2.7 times fewer units in ~46 days (the sevenfold fall
in dollars also counts ETH's fall from ~$2,800 to ~$1,030). Swaps near par
barely change the units, so LPs took out :math:`\ln 2.67/46` = 2.1 % a day,
at imbalances rising from ~0.04 to 0.57 by 13 May (78.4 % stETH) and 0.63
(81.6 %) by mid-June, :math:`\int\iota\,dt \approx 21.5` days:
:math:`\gamma \approx 0.045` per day [estimate] (before: 0.075, from the
fall in dollars).

References
----------
* Research notes §4.3 (pool $4.5bn -> $0.62bn; 491k stETH / 111k ETH; 4.7 %
  and >6 % discounts; maximum ~8 %), §5.6 (stableswap, effective A ~30).
* Lido docs, "Withdrawals" (exit queue after Shanghai/Capella, 12 Apr 2023);
  Ethereum consensus specs, ``get_validator_churn_limit`` (exit churn) and,
  from Electra (May 2025), ``get_activation_exit_churn_limit``; the
  September 2025 queue (2.5M ETH, 44-46 days: holder.io and Figment via
  streamlinecrypto, 16 Sep 2025).
* M. Egorov, "StableSwap" (2019); Curve ``remove_liquidity`` (balanced).
* Gauntlet, "Staked ETH and AAVE Risk (June 11th Update)" (2022).
* ForkLog, "Since early May, the largest stETH liquidity pool has shrunk
  sevenfold"; CoinDesk, "Biggest 'stETH' pool almost empty" (June 2022):
  $4.5-4.6bn -> $621M, 111.3k ETH / 491k stETH, Kaiko's seller figures.
* A. Shleifer, R. Vishny, "The Limits of Arbitrage", J. Finance (1997);
  D. Gromb, D. Vayanos, "Equilibrium and welfare in markets with financially
  constrained arbitrageurs", J. Financial Economics (2002).
* S. Scharnowski, H. Jahanshahloo, "The Economics of Liquid Staking
  Derivatives: Basis Determinants and Price Discovery", J. Futures Markets
  44(2) (2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms import amm
from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr
from core.mechanisms.lst_arbitrage import (
    arbitrage_capital, arbitrage_purchase, netted_arbitrage, underlying_to_reach_price,
)
from core.mechanisms.lst_holdings import held_arbitrage

__all__ = [
    "LSTRoundResult",
    "withdrawal_floor_discount",
    "exit_queue_rounds",
    "carry_floor_discount",
    "pool_imbalance",
    "lp_withdrawal_rate",
    "underlying_to_reach_price",
    "arbitrage_capital",
    "arbitrage_purchase",
    "netted_arbitrage",
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


def exit_queue_rounds(queued_eth, active_validators, rounds_per_day=1.0, *, validator_eth=32.0, electra=False):
    """Rounds to clear an Ethereum exit queue at the churn limit.

    Consensus specs (phase 0 to Deneb), ``get_validator_churn_limit``:
    ``max(MIN_PER_EPOCH_CHURN_LIMIT = 4, active_validators // CHURN_LIMIT_QUOTIENT = 65536)``
    validators leave per epoch, 225 epochs a day. Electra (Pectra, 7 May 2025;
    EIP-7251), ``get_activation_exit_churn_limit``: the churn is counted in ETH,
    ``min(MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT = 256, max(MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA = 128,
    total_active_balance // 65536))`` ETH per epoch (``electra=True``; the
    active balance taken as ``active_validators * validator_eth``).

    Examples
    --------
    560,000 validators leave 8 per epoch, 57,600 ETH a day: a 1M ETH queue
    takes about 17.4 days.

    >>> round(float(exit_queue_rounds(1e6, 560_000)), 1)
    17.4

    Mid-September 2025, after Electra: 2.5M ETH waiting, ~1.1M validators
    (35M ETH staked, so the 256 ETH cap binds, 57,600 ETH a day): 43.4 days
    (dashboards reported 44-46 days, the record, on 15-16 Sep 2025).

    >>> round(float(exit_queue_rounds(2.5e6, 1_100_000, electra=True)), 1)
    43.4
    """
    q = _arr(queued_eth, "queued_eth")
    v = _arr(active_validators, "active_validators")
    if electra:
        eth_per_epoch = np.minimum(256.0, np.maximum(128.0, np.floor(v * validator_eth / 65536.0)))
    else:
        eth_per_epoch = np.maximum(4.0, np.floor(v / 65536.0)) * validator_eth
    per_day = eth_per_epoch * 225.0
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


def lp_withdrawal_rate(imbalance, sensitivity=0.045, max_rate=0.25):
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
    0.0256
    """
    return np.minimum(_unit(max_rate, "max_rate"), _arr(sensitivity, "sensitivity") * _unit(imbalance, "imbalance"))


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
    held : LST the arbitrageurs hold after the round (:func:`lst_market_round`'s ``held`` for the next)

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
    held: np.ndarray


def lst_market_round(balances, A, sell_amount, *, floor_discount, arbitrage_capacity=np.inf, reference_gap=np.inf,
                     elasticity=1.0, fee=0.0004, lp_sensitivity=0.045, lp_max_rate=0.25, held=0.0, capital_days=1.0,
                     i=0, j=1):
    """One round of an LST's market: forced sellers sell, the arbitrageurs' held position meets them
    (:func:`~core.mechanisms.lst_holdings.held_arbitrage`), LPs withdraw from the pool the round leaves (as
    :mod:`core.engine.staking` orders them).

    The arbitrageurs hold, at the pool's price, the capital arrived since the shock (``arbitrage_capacity`` a
    day at the reference gap, times ``capital_days``) times the gap over the reference gap; they buy from the
    round's sellers until they hold it (``held``: what they bought in earlier rounds, never sold back), the
    sale and their purchase netted into one flow from the pool the round opened with, never lifting the price
    above the floor. Round by round, pass the result's ``held`` and one more day of capital.

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
        Underlying arriving a day for the arbitrageurs at the reference gap (all of it, if ``reference_gap`` is inf).
    reference_gap, elasticity : array_like
        The capital's supply curve (:func:`arbitrage_capital`); the default is the fixed capital.
    fee, lp_sensitivity, lp_max_rate : float
        Pool fee; LP withdrawal law (module docstring).
    held : array_like
        LST the arbitrageurs hold from earlier rounds (units).
    capital_days : array_like
        Days of capital arrived by the end of this round (the days since the shock).

    Returns
    -------
    LSTRoundResult

    Examples
    --------
    The mid-June 2022 pool (491k stETH / 111k ETH, price 0.947), 100k stETH
    sold with a fixed 20k ETH of arbitrage capital at a 5.5 % floor: the
    arbitrageurs buy 26.5k stETH for 17.5k ETH and hold 20k ETH's worth at
    0.753, and LPs take 3.8 % out of the pool it leaves (imbalance 0.85);
    the same 20k ETH a day at a 1.12 % gap, elastic, holds 0.911, and after
    a second, quiet day 0.925. (Before, one round's capital was netted against
    that round's sales alone, :func:`netted_arbitrage`: 0.772 and 0.915.)

    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055,
    ...                      arbitrage_capacity=20e3)
    >>> round(float(r.lp_withdrawn), 4), round(float(r.price), 3), round(float(r.held) / 1e2) / 10
    (0.0382, 0.753, 26.5)
    >>> g = 0.9455 / 0.935 - 1
    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055,
    ...                      arbitrage_capacity=20e3, reference_gap=g, lp_sensitivity=0.0)
    >>> two = lst_market_round(r.balances, 30.0, 0.0, floor_discount=0.055, arbitrage_capacity=20e3,
    ...                        reference_gap=g, lp_sensitivity=0.0, held=r.held, capital_days=2.0)
    >>> round(float(r.price), 3), round(float(two.price), 3)
    (0.911, 0.925)

    Enough arbitrage capital holds the floor:

    >>> r = lst_market_round([491e3, 111e3], 30.0, 100e3, floor_discount=0.055,
    ...                      arbitrage_capacity=200e3)
    >>> round(float(r.price), 3)
    0.945
    """
    x = _arr(balances, "balances", positive=True)
    sell = _arr(sell_amount, "sell_amount")
    floor = 1.0 - _unit(floor_discount, "floor_discount")
    capital = _arr(arbitrage_capacity, "arbitrage_capacity") * _arr(capital_days, "capital_days")
    sale = amm.stableswap_swap(x, A, i, j, sell, fee)
    order = [i, j]  # held_arbitrage takes the token first
    end, arb, bought = held_arbitrage(x[..., order], sale.balances[..., order], A, floor, floor, capital,
                                      reference_gap, elasticity, held, fee=fee)
    x = np.empty_like(end)
    x[..., order] = end
    w = lp_withdrawal_rate(pool_imbalance(x, i), lp_sensitivity, lp_max_rate)
    x = x * (1.0 - w)[..., None]
    price = amm.stableswap_price(x, A, i, j)
    return LSTRoundResult(price=price, balances=x, lp_withdrawn=w, sold_out=sale.amount_out,
                          arbitrage_in=arb, floor_price=np.broadcast_to(floor, np.shape(price)).copy(),
                          held=_arr(held, "held") + bought)

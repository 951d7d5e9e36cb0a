r"""Fiat-backed stablecoins: named reserves, impairment, a redemption queue, and the re-peg.

Reserves and impairment
-----------------------
An issuer holds reserves in named assets :math:`k` (cash at banks, T-bills,
repo, other) of USD value :math:`R_k`. An impairment freezes or loses a
fraction :math:`f_k` of asset :math:`k` (a bank failure: SVB held $3.3bn of
Circle's ~$40bn, 10-13 Mar 2023). Holders expect to recover a share
:math:`\rho` of what is frozen. Per coin still outstanding (supply :math:`S`):

.. math::

    L = \sum_k R_k(1-f_k), \qquad F = \sum_k R_k f_k, \qquad
    V = \frac{L + \rho F}{S}.

Redemption queue
----------------
Holders ask to redeem at par; the issuer pays through bank rails up to a
capacity :math:`C` per round while its rails are open (USDC burned $2.34bn in
24h after SVB; none over the weekend), paying from liquid reserves in the
order the assets are listed. Unserved requests wait in a queue :math:`Q`
(first come, first served). A holder who asks now is paid after

.. math:: \tau = n_{closed} + Q / C \quad\text{rounds},

:math:`n_{closed}` the rounds until the rails reopen. The market price is the
expected recovery discounted for that wait at the holders' cost of waiting
:math:`c` per round:

.. math:: p = \min(1, V)\,(1-c)^{\tau} .

Each round new requests arrive at a rate rising with the discount,
:math:`w = \min(w_{max},\ w_0 + \beta(1-p))` of the coins not already queued,
as in :func:`core.mechanisms.algorithmic_stablecoin.algo_stable_spiral`. Paying early redeemers
at par from liquid reserves moves the loss to those who stay (:math:`V` falls
as :math:`L` and :math:`S` fall together when :math:`V<1`): the run incentive.

Re-peg
------
The price returns to 1 as the queue clears (:math:`\tau \to n_{closed}`) and
when the impairment is resolved (a backstop): the frozen reserves return to
:math:`L` at the resolved recovery (1 for a full backstop, as on 12 Mar 2023
when US authorities guaranteed SVB deposits), so :math:`V=1`.

Calibration (USDC, Saturday 11 Mar 2023): :math:`F/S = 3.3/40`,
:math:`\rho = 0` (no recovery priced before the backstop), rails shut for two
days, :math:`c = 0.02` per day [estimate]: :math:`p = 0.9175 \times 0.98^2 =
0.881`; observed low about 0.88 (research notes §5.7). USDC was back above
0.99 on Monday 13 Mar once the backstop was announced and banks reopened.

References
----------
* Research notes §5.7 (fiat-backed coverage, USDC/SVB), §2 (2023 overlay:
  $3.3bn of ~$40bn at SVB; $2.34bn burned in 24h).
* Circle, "An Update on USDC and Silicon Valley Bank", 11-13 Mar 2023.
* D. Diamond, P. Dybvig, "Bank Runs, Deposit Insurance, and Liquidity",
  JPE 91(3) (1983): first-come, first-served redemption and the run incentive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr

__all__ = [
    "FiatRoundResult",
    "impair_reserves",
    "resolve_impairment",
    "expected_recovery",
    "redemption_wait",
    "fiat_queue_price",
    "fiat_redemption_round",
    "bank_rails_schedule",
]


def impair_reserves(reserves, impairment):
    """Split reserves ``(..., K)`` into liquid and frozen parts by the impairment fraction per asset.

    Parameters
    ----------
    reserves : array_like, shape (..., K)
        Reserve buckets (USD, >= 0).
    impairment : array_like, shape (K,) or broadcastable
        Frozen share of each bucket, in [0, 1].

    Returns
    -------
    liquid, frozen : ndarray
        ``reserves * (1 - impairment)`` and ``reserves * impairment``.

    Raises
    ------
    ValueError
        On NaN, a negative reserve or an impairment outside [0, 1].

    Examples
    --------
    >>> liquid, frozen = impair_reserves([3.3, 36.7], [1.0, 0.0])
    >>> liquid.tolist(), frozen.tolist()
    ([0.0, 36.7], [3.3, 0.0])
    """
    R = _arr(reserves, "reserves")
    f = _unit(impairment, "impairment")
    return R * (1.0 - f), R * f


def resolve_impairment(liquid, frozen, recovery=1.0):
    """Frozen reserves return to the liquid ones at ``recovery`` (a backstop: 1).

    Parameters
    ----------
    liquid, frozen : array_like
        Reserve buckets (USD, >= 0).
    recovery : array_like
        Share of the frozen reserves recovered, in [0, 1].

    Returns
    -------
    liquid, frozen : ndarray
        ``liquid + recovery * frozen`` and zeros.

    Raises
    ------
    ValueError
        On NaN, a negative amount or a recovery outside [0, 1].

    Examples
    --------
    >>> l, f = resolve_impairment([0.0, 36.7], [3.3, 0.0])
    >>> l.tolist(), f.tolist()
    ([3.3, 36.7], [0.0, 0.0])
    """
    L, F = _arr(liquid, "liquid"), _arr(frozen, "frozen")
    return L + _unit(recovery, "recovery") * F, np.zeros_like(F)


def expected_recovery(liquid, frozen, supply, recovery=0.0):
    """``V = (sum liquid + recovery * sum frozen) / supply`` (reserve assets on the last axis).

    Parameters
    ----------
    liquid, frozen : array_like, shape (..., K)
        Reserve buckets (USD, >= 0).
    supply : array_like, shape (...)
        Stablecoin supply (> 0).
    recovery : array_like
        Expected recovery on frozen reserves, in [0, 1].

    Returns
    -------
    ndarray
        Value per coin a holder expects (1 = fully backed).

    Raises
    ------
    ValueError
        On NaN, a negative amount, a supply <= 0 or a recovery outside [0, 1].

    Examples
    --------
    >>> round(float(expected_recovery([0.0, 36.7], [3.3, 0.0], 40.0)), 4)
    0.9175
    """
    L, F = _arr(liquid, "liquid"), _arr(frozen, "frozen")
    S = _arr(supply, "supply", positive=True)
    return (L.sum(axis=-1) + _unit(recovery, "recovery") * F.sum(axis=-1)) / S


def redemption_wait(queue, capacity, closed_rounds=0.0):
    """Rounds a new request waits: ``closed_rounds + queue / capacity`` (inf with no capacity and a queue).

    Parameters
    ----------
    queue : array_like
        Redemptions waiting (USD, >= 0).
    capacity : array_like
        Redemptions paid per round (USD, >= 0).
    closed_rounds : array_like
        Rounds before the rails open again (>= 0).

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        On NaN or a negative argument.

    Examples
    --------
    >>> float(redemption_wait(4.68e9, 2.34e9, 1.0))
    3.0
    """
    Q, C = _arr(queue, "queue"), _arr(capacity, "capacity")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q_wait = np.where(Q > 0, Q / np.where(C > 0, C, 1.0), 0.0)
    q_wait = np.where((Q > 0) & (C <= 0), np.inf, q_wait)
    return _arr(closed_rounds, "closed_rounds") + q_wait


def fiat_queue_price(recovery_value, wait_rounds, time_cost=0.02):
    """Market price ``min(1, V) * (1 - time_cost) ** wait`` (module docstring).

    Examples
    --------
    USDC on 11 Mar 2023:

    >>> round(float(fiat_queue_price(0.9175, 2.0)), 3)
    0.881
    """
    V = _arr(recovery_value, "recovery_value")
    w = _arr(wait_rounds, "wait_rounds")
    c = _unit(time_cost, "time_cost")
    return np.minimum(1.0, V) * (1.0 - c) ** w


def bank_rails_schedule(rounds, rounds_per_day=1, start_weekday=0, holidays=()):
    """Whether bank rails are open in each round, and how many closed rounds follow each round.

    US dollar rails (Fedwire, ACH) settle on business days only; a round is
    open when its day is Monday-Friday and not in ``holidays`` (day indices
    from the start). ``closed_after[t]`` counts the closed rounds between
    round ``t`` and the next open one (the ``closed_rounds_after`` input of
    :func:`fiat_redemption_round`); after the last open round it counts to the
    end of the horizon.

    Parameters
    ----------
    rounds : int
    rounds_per_day : int
    start_weekday : int
        Weekday of round 0 (0 = Monday ... 6 = Sunday).
    holidays : sequence of int
        Day indices (from round 0's day) with the rails shut.

    Returns
    -------
    (open, closed_after) : ndarray of bool and ndarray of int, shape (rounds,)

    Examples
    --------
    Daily rounds from Friday 10 March 2023:

    >>> is_open, closed_after = bank_rails_schedule(5, start_weekday=4)
    >>> is_open.tolist(), closed_after.tolist()
    ([True, False, False, True, True], [2, 1, 0, 0, 0])
    """
    t = np.arange(int(rounds))
    day = t // int(rounds_per_day)
    is_open = ((start_weekday + day) % 7 < 5) & ~np.isin(day, np.asarray(holidays, dtype=int))
    # index of the next open round after each round (rounds if none)
    idx = np.where(is_open, t, int(rounds))
    next_open = np.minimum.accumulate(idx[::-1])[::-1]
    after = np.append(next_open[1:], int(rounds))
    return is_open, after - t - 1


@dataclass(frozen=True)
class FiatRoundResult:
    """An issuer after one round of redemptions.

    Attributes
    ----------
    price : market price after the round
    paid : redemptions paid (USD) this round
    liquid, frozen : (..., K) reserves left per asset
    supply : coins outstanding
    queue : requests waiting (USD)
    recovery_value : V after the round

    Examples
    --------
    >>> sat = fiat_redemption_round([[0.0, 36.7e9]], [[3.3e9, 0.0]], 40e9, 0.0, 0.9, capacity=2.34e9,
    ...                             is_open=False, closed_rounds_after=1.0, run_intensity=0.5)
    >>> round(float(sat.price[0]), 3), float(sat.paid[0])
    (0.884, 0.0)
    """

    price: np.ndarray
    paid: np.ndarray
    liquid: np.ndarray
    frozen: np.ndarray
    supply: np.ndarray
    queue: np.ndarray
    recovery_value: np.ndarray


def fiat_redemption_round(liquid, frozen, supply, queue, price, *, capacity, is_open=True,
                          closed_rounds_after=0.0, recovery=0.0, time_cost=0.02,
                          base_rate=0.0, run_intensity=1.0, max_rate=0.5, payable=np.inf):
    """One round of a fiat-backed issuer: requests join the queue, the rails pay, the price follows.

    Parameters
    ----------
    liquid, frozen : array_like, shape (..., K)
        Reserves per named asset, in the order the issuer uses them to pay.
    supply, queue, price : array_like, shape (...)
        Coins outstanding, requests waiting (USD) and last round's price.
    capacity : array_like, shape (...)
        USD the rails can pay in an open round.
    is_open : bool or array_like
        Rails open this round.
    closed_rounds_after : array_like
        Closed rounds before the rails next open, seen from the end of this round.
    recovery : float
        Share of frozen reserves holders expect back (rho).
    time_cost : float
        Holders' cost of waiting per round (c).
    base_rate, run_intensity, max_rate : float
        New requests per round: ``min(max_rate, base_rate + run_intensity * (1 - price))``
        of the coins not already queued.
    payable : array_like, default inf
        USD face the holders able to redeem hold (an intermediary's coins owed in kind to its
        customers are not redeemed by it, :mod:`core.engine.redemptions`): the rails pay no more.

    Examples
    --------
    The weekend after SVB (one round = one day), 40bn supply, 3.3bn frozen.
    Saturday: rails shut, Sunday still to come; holders seeing last round's
    0.9 queue 5 % of the supply, which Monday's 2.34bn cannot all pay.

    >>> sat = fiat_redemption_round([[0.0, 36.7e9]], [[3.3e9, 0.0]], 40e9, 0.0, 0.9,
    ...                             capacity=2.34e9, is_open=False, closed_rounds_after=1.0,
    ...                             run_intensity=0.5)
    >>> round(float(sat.price[0]), 3), float(sat.paid[0]), round(float(sat.queue[0]) / 1e9, 2)
    (0.884, 0.0, 2.0)

    Sunday evening the deposits are guaranteed; Monday the rails open, the
    queue clears and the price is back at par.

    >>> from core.mechanisms.fiat_reserves import resolve_impairment
    >>> L, F = resolve_impairment(sat.liquid, sat.frozen)
    >>> mon = fiat_redemption_round(L, F, sat.supply, sat.queue, 0.99, capacity=2.34e9,
    ...                             run_intensity=0.5)
    >>> round(float(mon.price[0]), 3), round(float(mon.paid[0]) / 1e9, 2)
    (1.0, 2.19)
    """
    L, F = _arr(liquid, "liquid"), _arr(frozen, "frozen")
    S = _arr(supply, "supply", positive=True)
    Q, p = _arr(queue, "queue"), _arr(price, "price")
    C = np.where(np.asarray(is_open, dtype=bool), _arr(capacity, "capacity"), 0.0)
    w = np.clip(base_rate + run_intensity * (1.0 - np.minimum(p, 1.0)), 0.0, max_rate)
    Q = np.minimum(Q + w * np.maximum(S - Q, 0.0), S)
    paid = np.minimum(np.minimum(np.minimum(Q, C), L.sum(axis=-1)), payable)
    # pay from liquid assets in listed order
    before = np.cumsum(L, axis=-1) - L
    take = np.clip(paid[..., None] - before, 0.0, L)
    L = L - take
    S = S - paid
    Q = Q - paid
    safe_S = np.where(S > 0, S, 1.0)
    V = np.where(S > 0, expected_recovery(L, F, safe_S, recovery), 1.0)
    wait = redemption_wait(Q, _arr(capacity, "capacity"), closed_rounds_after)
    price_new = fiat_queue_price(V, wait, time_cost)
    return FiatRoundResult(price=price_new, paid=paid, liquid=L, frozen=F, supply=S, queue=Q,
                           recovery_value=V)

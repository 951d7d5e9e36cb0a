r"""Constant-product automated market maker (Uniswap v2).

Reserves :math:`x` (token sold into the pool) and :math:`y` (token bought),
fee :math:`f` charged on the input and left in the pool, :math:`\gamma = 1-f`:

.. math::

    \Delta y = \frac{y\,\gamma\,\Delta x}{x + \gamma\,\Delta x}, \qquad
    x' = x + \Delta x, \quad y' = y - \Delta y, \qquad p = y / x .

Fee-less, the marginal price moves to :math:`p' = p\,(x/(x+\Delta x))^2`, so
selling 1 % / 5 % / 10 % / 25 % of reserves moves the price by
-1.97 % / -9.3 % / -17.4 % / -36 % (research notes §5.5).

:class:`SwapResult`, the outcome of a swap, is shared with the stableswap pool
(:mod:`core.mechanisms.stableswap`); :mod:`core.mechanisms.amm` exports both.

Conventions
-----------
* All functions broadcast over leading axes (pools / scenarios).
* Amounts are token units (float64; no integer wei rounding, no ``-1`` wei
  safety margin, no admin-fee split: the whole fee stays in the pool).

References
----------
* H. Adams, N. Zinsmeister, D. Robinson, "Uniswap v2 Core" (2020).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_float_array, checking

__all__ = [
    "SwapResult",
    "cp_swap",
    "cp_price",
    "cp_amount_for_price_drop",
    "cp_amount_in_for_price",
]


@dataclass(frozen=True)
class SwapResult:
    """Outcome of a swap.

    Attributes
    ----------
    amount_out : ndarray
        Tokens received (units of the output coin), after fees.
    reserves_in : ndarray
        Constant product only: input-token reserve after the swap.
    reserves_out : ndarray
        Constant product only: output-token reserve after the swap.
    balances : ndarray or None
        Stableswap only: pool balances after the swap, shape ``(..., n)``.
    fee_paid : ndarray
        Fee retained by the pool, in units of the coin charged
        (input coin for constant product, output coin for stableswap).

    Examples
    --------
    >>> r = cp_swap(1000.0, 1000.0, 100.0)
    >>> round(float(r.amount_out), 6)
    90.661089
    """

    amount_out: np.ndarray
    reserves_in: np.ndarray | None
    reserves_out: np.ndarray | None
    balances: np.ndarray | None
    fee_paid: np.ndarray


def _f(x, name):
    return as_float_array(x, name)


def _check_fee(fee):
    fee = _f(fee, "fee")
    if checking() and np.any((fee < 0) | (fee >= 1)):
        raise ValueError("fee must lie in [0, 1)")
    return fee


def cp_swap(reserve_in, reserve_out, amount_in, fee=0.003):
    """Swap ``amount_in`` into a constant-product pool (Uniswap v2 ``getAmountOut``).

    Parameters
    ----------
    reserve_in, reserve_out : array_like
        Pool reserves of the input and output token (units, > 0).
    amount_in : array_like
        Input amount (units, >= 0). Broadcasts with the reserves.
    fee : float or array_like, default 0.003
        Fee share of the input (0.3 % on Uniswap v2); it stays in the pool.

    Returns
    -------
    SwapResult
        ``amount_out``, ``reserves_in``, ``reserves_out``, ``fee_paid``
        (input-token units); ``balances`` is None.

    Raises
    ------
    ValueError
        Non-positive reserves, negative input or fee outside [0, 1).

    Examples
    --------
    >>> r = cp_swap(1000.0, 1000.0, 100.0)
    >>> round(float(r.amount_out), 10)
    90.661089388
    """
    x, y, dx = _f(reserve_in, "reserve_in"), _f(reserve_out, "reserve_out"), _f(amount_in, "amount_in")
    fee = _check_fee(fee)
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("reserves must be > 0")
    if np.any(dx < 0):
        raise ValueError("amount_in must be >= 0")
    g = (1.0 - fee) * dx
    dy = y * g / (x + g)
    y_after = y * x / (x + g)  # = y - dy without cancellation
    return SwapResult(amount_out=dy, reserves_in=x + dx, reserves_out=y_after, balances=None, fee_paid=fee * dx)


def cp_price(reserve_x, reserve_y):
    """Marginal (fee-less) price of token x in units of token y: ``y / x``.

    Examples
    --------
    >>> float(cp_price(1000.0, 2000.0))
    2.0
    """
    x, y = _f(reserve_x, "reserve_x"), _f(reserve_y, "reserve_y")
    if np.any(x <= 0) or np.any(y < 0):
        raise ValueError("reserve_x must be > 0 and reserve_y >= 0")
    return y / x


def cp_amount_for_price_drop(reserve_in, price_drop, fee=0.003):
    r"""Amount of the input token to sell to lower its marginal price by ``price_drop``.

    With the fee kept in the pool, after selling :math:`\Delta` the price is
    :math:`p' = p\,x^2 / ((x+\gamma\Delta)(x+\Delta))`; solving
    :math:`p'/p = 1-d` gives the positive root of
    :math:`\gamma\Delta^2 + x(1+\gamma)\Delta - x^2 d/(1-d) = 0`.
    Fee-less this is :math:`x(1/\sqrt{1-d} - 1)`.

    Parameters
    ----------
    reserve_in : array_like
        Reserve of the token being sold (units, > 0).
    price_drop : array_like
        Fractional price drop in [0, 1).
    fee : float, default 0.003

    Returns
    -------
    ndarray
        Units to sell.

    Examples
    --------
    >>> round(float(cp_amount_for_price_drop(1000.0, 0.19, fee=0.0)), 6)  # sqrt(0.81)=0.9
    111.111111
    """
    x, d = _f(reserve_in, "reserve_in"), _f(price_drop, "price_drop")
    fee = _check_fee(fee)
    if np.any(x <= 0):
        raise ValueError("reserve_in must be > 0")
    if np.any((d < 0) | (d >= 1)):
        raise ValueError("price_drop must lie in [0, 1)")
    g = 1.0 - fee
    b = x * (1.0 + g)
    c = x * x * d / (1.0 - d)
    # stable positive root: 2c / (b + sqrt(b^2 + 4 g c))
    return 2.0 * c / (b + np.sqrt(b * b + 4.0 * g * c))


def cp_amount_in_for_price(reserve_token, reserve_counter, target):
    """Counter units to swap into a constant-product pool (fee-less) to lift the token's price to ``target``.

    The price is ``p = y / x`` (counter per token) on the invariant ``x y = k``:
    at ``p = target`` the counter reserve is ``y* = sqrt(k * target)``, so the
    amount in is ``max(0, y* - y)``. With a fee the same amount lifts the price
    a little less (the fee stays in the pool), never past ``target``.

    Examples
    --------
    >>> float(cp_amount_in_for_price(100.0, 81.0, 1.0))  # k = 8100: y* = 90
    9.0
    """
    x, y, t = _f(reserve_token, "reserve_token"), _f(reserve_counter, "reserve_counter"), _f(target, "target")
    return np.maximum(np.sqrt(x * y * t) - y, 0.0)

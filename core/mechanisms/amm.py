r"""Automated market makers: constant product (Uniswap v2) and Curve stableswap.

Constant product (Uniswap v2)
-----------------------------
Reserves :math:`x` (token sold into the pool) and :math:`y` (token bought),
fee :math:`f` charged on the input and left in the pool, :math:`\gamma = 1-f`:

.. math::

    \Delta y = \frac{y\,\gamma\,\Delta x}{x + \gamma\,\Delta x}, \qquad
    x' = x + \Delta x, \quad y' = y - \Delta y, \qquad p = y / x .

Fee-less, the marginal price moves to :math:`p' = p\,(x/(x+\Delta x))^2`, so
selling 1 % / 5 % / 10 % / 25 % of reserves moves the price by
-1.97 % / -9.3 % / -17.4 % / -36 % (research notes §5.5).

Curve stableswap (Egorov 2019)
------------------------------
For :math:`n` coins with balances :math:`x_i` and amplification :math:`A`
(*whitepaper* convention; Curve contracts store ``A * n**(n-1)`` and use
``Ann = A_contract * n``, which is the same :math:`A n^n`):

.. math::

    A n^n \sum_i x_i + D = A D n^n + \frac{D^{n+1}}{n^n \prod_i x_i}.

:math:`D` is solved by the contract's Newton iteration (``get_D``)

.. math::

    D \leftarrow \frac{(A n^n S + n D_P)\,D}{(A n^n - 1) D + (n+1) D_P},
    \qquad D_P = \frac{D^{n+1}}{n^n \prod_i x_i},

and the balance of coin *j* after coin *i* is set to a new value by the
contract's ``get_y`` iteration :math:`y \leftarrow (y^2 + c)/(2y + b - D)`.
The marginal price of coin *i* in units of coin *j* is the ratio of partial
derivatives of the invariant :math:`F(x, D)`:

.. math::

    p_{ij} = -\frac{dx_j}{dx_i} = \frac{A n^n + D^{n+1}/(n^n x_i \prod x)}
                                        {A n^n + D^{n+1}/(n^n x_j \prod x)} .

A balanced pool has :math:`p=1`; :math:`A\to\infty` gives constant sum
(:math:`p\to1`), :math:`A\to0` gives constant product (:math:`p\to x_j/x_i`).

Conventions
-----------
* All functions broadcast over leading axes (pools / scenarios). Stableswap
  balances have shape ``(..., n)``; ``A`` broadcasts against ``(...)``.
* Amounts are token units (float64; no integer wei rounding, no ``-1`` wei
  safety margin, no admin-fee split: the whole fee stays in the pool).
* ``i``/``j`` coin indices are Python ints shared by every pool in a batch.

Worked calibration (research notes §4.3/§5.6): the stETH/ETH pool at
491k stETH / 111k ETH gives a stETH price of 0.9467 at A=30 (observed >6 %
discount mid-June 2022, hence effective A≈30), 0.9669 at A=50, 0.8629 at
A=10. At 78.4 % stETH and A=30 the model gives 0.961 (observed 0.953 on
13 May 2022, i.e. effective A somewhat below 30 on that day).

References
----------
* H. Adams, N. Zinsmeister, D. Robinson, "Uniswap v2 Core" (2020).
* M. Egorov, "StableSwap - efficient mechanism for Stablecoin liquidity" (2019);
  Curve ``StableSwap3Pool.vy`` ``get_D`` / ``get_y``;
  https://docs.curve.finance/developer/resources/derivations
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms._checks import as_float_array, checking

__all__ = [
    "SwapResult",
    "StableswapConvergenceError",
    "cp_swap",
    "cp_price",
    "cp_amount_for_price_drop",
    "stableswap_D",
    "stableswap_y",
    "stableswap_swap",
    "stableswap_price",
    "cp_amount_in_for_price",
    "stableswap_amount_in_for_price",
    "stableswap_balances_for_price",
    "stableswap_price_after_in",
]


class StableswapConvergenceError(RuntimeError):
    """Newton iteration for the stableswap invariant did not converge.

    Examples
    --------
    >>> stableswap_D([1e6, 1.0], 100.0, max_iter=1)
    Traceback (most recent call last):
    ...
    core.mechanisms.amm.StableswapConvergenceError: stableswap_D: 1 pool(s) did not converge
    """


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


# --------------------------------------------------------------------------
# constant product
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# stableswap
# --------------------------------------------------------------------------
def _check_pool(balances, A):
    x = _f(balances, "balances")
    A = _f(A, "A")
    if (A.ndim == 0 or A.shape == x.shape[:-1]) and not checking():
        return x, A  # the formulas broadcast a scalar A themselves
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError("balances must have shape (..., n) with n >= 2 coins")
    if checking():
        if np.any(x <= 0):
            raise ValueError("stableswap balances must be > 0")
        if np.any(A <= 0):
            raise ValueError("A must be > 0")
    try:
        batch = np.broadcast_shapes(x.shape[:-1], A.shape)
    except ValueError as exc:
        raise ValueError("A must broadcast against balances.shape[:-1]") from exc
    return np.broadcast_to(x, batch + x.shape[-1:]), np.broadcast_to(A, batch)


def _finish(value, done, errors, what):
    if not (done.all() if isinstance(done, np.ndarray) else np.all(done)):
        if errors == "raise":
            raise StableswapConvergenceError(f"{what}: {int(np.size(done) - np.count_nonzero(done))} pool(s) did not converge")
        value = np.where(done, value, np.nan)
    return value


def stableswap_D(balances, A, *, rtol=1e-14, max_iter=255, errors="raise"):
    """Stableswap invariant D by the Curve contract's Newton iteration.

    Parameters
    ----------
    balances : array_like, shape (..., n)
        Coin balances (units, > 0), n >= 2.
    A : float or array_like, shape broadcastable to (...)
        Amplification coefficient, whitepaper convention (> 0).
    rtol : float, default 1e-14
        Stop when ``|D_new - D| <= rtol * D`` (the contract stops at 1 wei,
        i.e. ~1e-18 relative; 1e-14 is the float64 analogue).
    max_iter : int, default 255
        As in the contract.
    errors : {"raise", "nan"}
        On non-convergence raise :class:`StableswapConvergenceError` or
        return NaN for the offending pools.

    Returns
    -------
    ndarray, shape (...)
        D (units of the numeraire; equals the sum of balances for a
        balanced pool).

    Examples
    --------
    >>> float(stableswap_D([100.0, 100.0], 50.0))
    200.0
    >>> round(float(stableswap_D([150.0, 50.0], 50.0)), 4)
    199.6716
    """
    x, A = _check_pool(balances, A)
    n = x.shape[-1]
    Ann = np.asarray(A * n**n, dtype=float)
    if Ann.shape != x.shape[:-1]:
        Ann = np.full(x.shape[:-1], Ann) if Ann.ndim == 0 else np.broadcast_to(Ann, x.shape[:-1]).astype(float)
    S = x.sum(axis=-1)
    D = S.copy()
    if n == 2 and S.size <= _FLOAT_POOLS:  # a few pools: the same start on Python floats (numpy's cost per call)
        D = ssf.cardano_two(x, Ann, S)
    elif n == 2:
        # Two coins: the invariant is the depressed cubic D^3 + p D + q = 0 with
        # p = 4xy(Ann - 1), q = -4xy Ann S; Cardano's real root starts Newton next to
        # the answer (a pool drained to 1e-5 of one coin takes hundreds of steps from S).
        P4 = 4.0 * x[..., 0] * x[..., 1]
        p, q = P4 * (Ann - 1.0), -P4 * Ann * S
        with np.errstate(invalid="ignore"):  # A < 1/4 has three real roots: start from S instead
            r = np.sqrt((q / 2.0) ** 2 + (p / 3.0) ** 3)
            D = np.cbrt(-q / 2.0 + r) + np.cbrt(-q / 2.0 - r)
        D = np.where(np.isfinite(D) & (D > 0), D, S)
    if S.size <= _FLOAT_POOLS:  # a few pools: the same Newton steps on Python floats (numpy's cost per call)
        floats = ssf.invariant(x, Ann, S, D, n, rtol, max_iter)
        if floats is not None:
            D, done = floats
            return _finish(D, done, errors, "stableswap_D")
    done = np.zeros(S.shape, dtype=bool)
    for _ in range(max_iter):
        # D_P = D^{n+1} / (n^n prod x), computed as in the contract to avoid overflow
        DP = D.copy()
        for k in range(n):  # loop over coins (n is 2-4), not over pools
            DP = DP * D / (x[..., k] * n)
        Dn = (Ann * S + DP * n) * D / ((Ann - 1.0) * D + (n + 1) * DP)
        step = np.abs(Dn - D)
        D = np.where(done, D, Dn)           # converged pools are frozen: batching is exact
        done = done | (step <= rtol * D)
        if done.all():
            break
    return _finish(D, done, errors, "stableswap_D")



def stableswap_y(balances, A, i, j, x_new, *, D=None, rtol=1e-14, max_iter=255, errors="raise"):
    """Balance of coin ``j`` that keeps D fixed when coin ``i`` is set to ``x_new``.

    Curve ``get_y``: solves ``y**2 + (b - D) y = c``,
    ``b = S' + D/(A n^n)``, ``c = D^{n+1} / (n^n prod' x * A n^n)`` (primes
    exclude coin j). The contract iterates Newton's method; here the quadratic's
    positive root is taken in closed form (``rtol`` and ``max_iter`` are kept
    for compatibility and unused).

    Parameters
    ----------
    balances : array_like, shape (..., n)
    A : float or array_like
    i, j : int
        Coin indices, ``i != j``.
    x_new : array_like, shape (...)
        New balance of coin i (> 0).
    D : array_like, optional
        Precomputed invariant.

    Returns
    -------
    ndarray, shape (...)
        New balance of coin j.

    Examples
    --------
    >>> round(float(stableswap_y([100.0, 100.0], 50.0, 0, 1, 100.0)), 10)
    100.0
    """
    x, A = _check_pool(balances, A)
    n = x.shape[-1]
    i, j = int(i), int(j)
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise ValueError("need distinct coin indices 0 <= i, j < n")
    xn = _f(x_new, "x_new")
    if np.any(xn <= 0):
        raise ValueError("x_new must be > 0")
    if D is None:
        D = stableswap_D(x, A, errors=errors)
    D = np.asarray(D, dtype=float)
    Ann = A * n**n
    if n == 2:  # a few pools: the same closed form on Python floats (numpy's cost per call)
        shape = np.broadcast_shapes(x.shape[:-1], xn.shape, D.shape, np.shape(Ann))
        floats = ssf.balance_two(shape, xn, D, Ann) if ssf.small(shape) else None
        if floats is not None:
            return _finish(floats[0], floats[1], errors, "stableswap_y")
    xs = x.copy() if xn.shape == () else np.broadcast_to(x, np.broadcast_shapes(x.shape, xn.shape + (n,))).copy()
    xs[..., i] = xn
    mask = np.ones(n, dtype=bool)
    mask[j] = False
    others = xs[..., mask]
    c = D.copy()
    for k in range(n - 1):
        c = c * D / (others[..., k] * n)
    c = c * D / (Ann * n)
    b = others.sum(axis=-1) + D / Ann
    # The contract runs Newton on y^2 - g y - c = 0 (g = D - b); its positive root has a
    # closed form, written as 2c / (sqrt(g^2 + 4c) - g) when g < 0 to avoid cancellation.
    g = D - b
    disc = np.sqrt(g * g + 4.0 * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(g >= 0, (g + disc) / 2.0, 2.0 * c / (disc - g))
    done = np.isfinite(y) & (y > 0)
    return _finish(y, done, errors, "stableswap_y")


def stableswap_swap(balances, A, i, j, dx, fee=0.0004, *, D=None, errors="raise"):
    """Sell ``dx`` of coin ``i`` for coin ``j`` (Curve ``exchange``).

    ``dy = x_j - y(x_i + dx)``; the fee (0.04 % default, charged on the
    output) stays in the pool.

    Parameters
    ----------
    balances : array_like, shape (..., n)
    A : float or array_like
    i, j : int
    dx : array_like, shape (...)
        Amount of coin i sold (units, >= 0).
    fee : float, default 0.0004
    D : array_like, optional
        Precomputed invariant of ``balances``.

    Returns
    -------
    SwapResult
        ``amount_out`` (coin j, after fee), ``balances`` after the swap,
        ``fee_paid`` (coin j units); ``reserves_in``/``reserves_out`` None.

    Examples
    --------
    >>> r = stableswap_swap([1000.0, 1000.0], 100.0, 0, 1, 10.0, fee=0.0)
    >>> 9.99 < float(r.amount_out) < 10.0
    True
    """
    x, A = _check_pool(balances, A)
    fee = _check_fee(fee)
    dxa = _f(dx, "dx")
    if np.any(dxa < 0):
        raise ValueError("dx must be >= 0")
    D = stableswap_D(x, A, errors=errors) if D is None else np.asarray(D, dtype=float)
    if x.shape[-1] == 2 and fee.ndim == 0 and ssf.small(x.shape[:-1]) and int(i) != int(j) and int(i) in (0, 1) and int(j) in (0, 1) \
            and np.broadcast_shapes(x.shape[:-1], dxa.shape, D.shape, A.shape) == x.shape[:-1]:
        floats = ssf.swap_two(x, int(i), dxa, float(fee), D, A * 4)  # a few pools: the same steps on floats
        if floats is not None and floats[3].all():
            return SwapResult(amount_out=floats[0], reserves_in=None, reserves_out=None, balances=floats[1],
                              fee_paid=floats[2])
    y = stableswap_y(x, A, i, j, x[..., i] + dxa, D=D, errors=errors)
    dy_gross = np.where(dxa > 0, np.maximum(x[..., j] - y, 0.0), 0.0)
    fee_paid = fee * dy_gross
    dy = dy_gross - fee_paid
    shape = np.broadcast_shapes(x.shape, dxa.shape + (x.shape[-1],))
    newb = x.copy() if x.shape == shape else np.broadcast_to(x, shape).copy()
    newb[..., i] = newb[..., i] + dxa
    newb[..., j] = newb[..., j] - dy
    return SwapResult(amount_out=dy, reserves_in=None, reserves_out=None, balances=newb, fee_paid=fee_paid)


def stableswap_price(balances, A, i, j, *, D=None, errors="raise"):
    """Marginal price of coin ``i`` in units of coin ``j`` (fee-less).

    Analytic derivative of the invariant (see module docstring): units of j
    received per unit of i sold, for an infinitesimal trade.

    Parameters
    ----------
    balances : array_like, shape (..., n)
    A : float or array_like
    i, j : int
    D : array_like, optional

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> float(stableswap_price([100.0, 100.0], 50.0, 0, 1))
    1.0
    >>> round(float(stableswap_price([491e3, 111e3], 30.0, 0, 1)), 4)  # stETH, mid-June 2022
    0.9467
    """
    x, A = _check_pool(balances, A)
    n = x.shape[-1]
    i, j = int(i), int(j)
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise ValueError("need distinct coin indices 0 <= i, j < n")
    if D is None:
        D = stableswap_D(x, A, errors=errors)
    Ann = A * n**n
    if n == 2:  # a few pools: the same formula on Python floats (numpy's cost per call)
        shape = np.broadcast_shapes(x.shape[:-1], np.shape(D), np.shape(Ann))
        floats = ssf.price_two(shape, x, D, Ann, i) if ssf.small(shape) else None
        if floats is not None:
            return floats
    # D^{n+1} / (n^n prod x), built stepwise to avoid overflow
    DP = np.asarray(D, dtype=float).copy()
    for k in range(n):
        DP = DP * D / (x[..., k] * n)
    return (Ann + DP / x[..., i]) / (Ann + DP / x[..., j])


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


class _Arrays:
    """Element operations on numpy arrays (a batch of pools at once); a few pools take the same steps on
    Python floats (:func:`core.mechanisms._stableswap_floats.moved_to_price`)."""

    sqrt = staticmethod(np.sqrt)
    maximum = staticmethod(np.maximum)
    where = staticmethod(np.where)

    @staticmethod
    def all(cond):
        return bool(np.all(cond))


#: Below this many pools a price-target solve runs on Python floats, one pool after another: numpy's cost
#: per call dwarfs a handful of elements. The kernel uses only ``+ - * /``, ``sqrt``, comparisons and
#: ``max``, which IEEE 754 rounds exactly in both back-ends, so a pool's answer is the same to the
#: last bit on either (``tests/test_engine_steps.py`` checks it), and never depends on its batch-mates.
_FLOAT_POOLS = ssf.FLOAT_POOLS


def _stableswap_y_of_x(x, D, D3, Ann, ops=_Arrays):
    """Coin 1's balance on a two-coin invariant ``D`` when coin 0's is ``x``: the positive root of
    ``4 Ann x y^2 + 4 x (Ann x + D - Ann D) y - D^3 = 0``, in the form without cancellation for either sign."""
    qa = 4.0 * Ann * x
    qb = 4.0 * x * (Ann * x + D - Ann * D)
    root = ops.sqrt(qb * qb + 4.0 * qa * D3)
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken may divide by zero
        return np.where(qb > 0, 2.0 * D3 / (qb + root), (root - qb) / (2.0 * qa))


def _stableswap_price_and_slope(x, D, D3, Ann, ops=_Arrays):
    """Coin 0's price ``p`` at balance ``x`` on the invariant, and ``d log p / d log x``.

    With ``K = D^3 / (4 x y)``, ``a = K / x``, ``b = K / y`` and ``p = (Ann + a) / (Ann + b)``;
    along the invariant ``dy/dx = -p``, so ``d log a / d log x = -(2 - p x / y)`` and
    ``d log b / d log x = -(1 - 2 p x / y)``, which gives
    ``d log p / d log x = -a (2 - r) / (Ann + a) + b (1 - 2 r) / (Ann + b)``, ``r = p x / y``
    (-2 for a constant-product pool, ``Ann -> 0``; 0 for constant sum).
    """
    y = _stableswap_y_of_x(x, D, D3, Ann, ops)
    K = D3 / (4.0 * x * y)
    a, b = K / x, K / y
    p = (Ann + a) / (Ann + b)
    r = p * x / y
    return p, -a * (2.0 - r) / (Ann + a) + b * (1.0 - 2.0 * r) / (Ann + b)


def _stableswap_scarce_balance(z0, T, D, D3, Ann, max_iter, ops):
    """Balance ``z`` of a coin whose price is ``T >= 1`` in the other coin, from ``z0`` at or below it.

    On ``0 < z <= D/2`` (the coin scarce: its price at least 1) the function ``h(z) = price^(-1/2)`` is
    increasing and concave (linear for a constant-product pool, whose price is ``(w/z)``, ``w z`` fixed;
    flat near balance for a large ``A``), so Newton's method on ``h(z) = T^(-1/2)`` started below the root
    climbs to it without overshooting and needs no bracket. ``d h / d z = -h slope / (2 z)``, with the
    slope ``d log price / d log z`` of :func:`_stableswap_price_and_slope`. Each pool stops on its own once
    a step is below float resolution and is frozen (on floats: :func:`core.mechanisms._stableswap_floats.moved_to_price`).
    """
    eps4 = 4.0 * np.finfo(float).eps
    H = 1.0 / ops.sqrt(T)
    if ops is _Arrays:
        return _scarce_balance_arrays(z0, H, D, D3, Ann, max_iter, eps4)
    z = z0
    done = z0 != z0  # nothing done (False, or an array of it)
    for _ in range(max_iter):
        q, slope = _stableswap_price_and_slope(z, D, D3, Ann, ops)
        h = 1.0 / ops.sqrt(q)
        step = (H - h) * z / (-0.5 * h * slope)
        stop = (step <= eps4 * z) | (h >= H)
        z = ops.where(done | stop, z, z + step)
        done = done | stop
        if ops.all(done):
            break
    return z


def _scarce_balance_arrays(z, H, D, D3, Ann, max_iter, eps4):
    """:func:`_stableswap_scarce_balance`'s Newton steps on numpy arrays, with the formulas of
    :func:`_stableswap_y_of_x` and :func:`_stableswap_price_and_slope` written out and what a step does not
    change taken out of the loop: the same operations on the same operands, so the same result to the last
    bit, in fewer calls (numpy's cost per call dwarfs the arithmetic on the few pools of a cascade)."""
    Ann4, AnnD, D3x2 = 4.0 * Ann, Ann * D, 2.0 * D3
    done = z != z
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken may divide by zero
        for _ in range(max_iter):
            x4 = 4.0 * z
            qa = Ann4 * z
            qb = x4 * (Ann * z + D - AnnD)
            root = np.sqrt(qb * qb + 4.0 * qa * D3)
            y = np.where(qb > 0, D3x2 / (qb + root), (root - qb) / (2.0 * qa))
            K = D3 / (x4 * y)
            a, b = K / z, K / y
            Aa, Ab = Ann + a, Ann + b
            p = Aa / Ab
            r = p * z / y
            slope = -a * (2.0 - r) / Aa + b * (1.0 - 2.0 * r) / Ab
            h = 1.0 / np.sqrt(p)
            step = (H - h) * z / (-0.5 * h * slope)
            stop = (step <= eps4 * z) | (h >= H)
            frozen = done | stop
            z = np.where(frozen, z, z + step)
            done = frozen
            if done.all():
                break
    return z


def _stableswap_x_for_price(x0, y0, t, below, D, D3, Ann, max_iter, ops):
    """Coin 0's and coin 1's balances where coin 0's price is ``t`` (see :func:`stableswap_balances_for_price`),
    ``(x0, y0)`` where the price is already at or above ``t`` (``below`` false); on a few pools,
    :func:`core.mechanisms._stableswap_floats.moved_to_price` takes the same steps on floats.

    The invariant is symmetric in its coins, so the solve is always for the scarce coin's balance
    (:func:`_stableswap_scarce_balance`): coin 0's, from far below (``1e-9`` of its balance), for a
    target above 1; coin 1's, from its present balance, with coin 1's target price ``1 / t``, for one at
    or below 1 (coin 1 then grows to it).
    """
    dear = t > 1.0
    z0 = ops.where(dear, x0 * 1e-9, y0)
    T = ops.where(dear, t, 1.0 / t)
    z = _stableswap_scarce_balance(z0, T, D, D3, Ann, max_iter, ops)
    other = _stableswap_y_of_x(z, D, D3, Ann, ops)
    x = ops.where(below, ops.where(dear, z, other), x0)
    y = ops.where(below, ops.where(dear, ops.maximum(other, y0), z), y0)  # coin 1 only flows in
    return x, y


def stableswap_balances_for_price(balances, A, target, *, D=None, max_iter=100, price=None):
    """Balances of a two-coin stableswap pool moved along its invariant (fee-less) until coin 0's price is ``target``.

    On the invariant with ``D`` fixed (fee-less), coin 1's balance given coin
    0's balance ``x`` solves a quadratic (``n = 2``, ``Ann = 4 A``)::

        4 Ann x y^2 + 4 x (Ann x + D - Ann D) y - D^3 = 0,

    and coin 0's marginal price ``p(x) = (Ann + K/x) / (Ann + K/y)``,
    ``K = D^3 / (4 x y)`` (:func:`stableswap_price`), falls as ``x`` grows.
    Where the pool's price is below ``target``, the balances with
    ``p = target`` are found by Newton's method on the scarce coin's
    ``price^(-1/2)``, concave in its balance, from below the root
    (:func:`_stableswap_x_for_price`, :func:`_stableswap_scarce_balance`);
    each pool stops on its own once a step is below float resolution and is
    frozen, so a pool's answer never depends on the others in the batch (to
    the last bit, on Python floats or numpy alike: ``_FLOAT_POOLS``). The
    price ends at ``target`` within rounding, never past it by more (a swap of
    the difference with a fee, which stays in the pool, lifts it a little
    less). Unchanged where the price is already at or above ``target``.
    ``D``: the pool's invariant, when the caller has it (it is the moved
    pool's too); ``price``: coin 0's price at ``balances``
    (:func:`stableswap_price` with that ``D``), likewise. (Before: a log grid of 48 points refined 5 times, 240
    evaluations per pool; now about 6.)

    Examples
    --------
    >>> b = stableswap_balances_for_price([150.0, 50.0], 10.0, 1.0)
    >>> round(float(stableswap_price(b, 10.0, 0, 1)), 6), bool(abs(b[0] - b[1]) < 1e-6)  # balanced: price 1
    (1.0, True)
    """
    b, A = _check_pool(balances, A)
    if b.shape[-1] != 2:
        raise ValueError("stableswap_amount_in_for_price needs two-coin pools")
    t = _f(target, "target")
    D = stableswap_D(b, A) if D is None else np.asarray(D, dtype=float)
    shape = np.broadcast_shapes(b.shape[:-1], np.shape(t))

    def full(a):  # broadcast only what needs it (the engine's arrays already have the shape)
        return a if np.shape(a) == shape else np.broadcast_to(a, shape)

    if b.shape[:-1] != shape:
        b = np.broadcast_to(b, shape + b.shape[-1:])
    x0, y0 = b[..., 0], b[..., 1]
    D, Ann, t = full(D), full(4.0 * A), full(t)
    D3 = D * D * D  # products, not a power: rounded alike on every array shape
    quote = stableswap_price(b, A, 0, 1, D=D) if price is None else full(np.asarray(price, dtype=float))
    below = quote < t  # the price the pool quotes
    if x0.size <= _FLOAT_POOLS:
        cols = (a.ravel().tolist() for a in (x0, y0, t, below, D, D3, Ann))
        xy = np.array([ssf.moved_to_price(x, y, tt, bl, d, d3, ann, max_iter)
                       for x, y, tt, bl, d, d3, ann in zip(*cols)], dtype=float)
        xs, ys = xy[:, 0].reshape(shape), xy[:, 1].reshape(shape)
    elif below.all():
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # frozen pools may hold a 0/0 step
            xs, ys = _stableswap_x_for_price(x0, y0, t, below, D, D3, Ann, max_iter, _Arrays)
    else:  # only the pools below their target move: the others' solve would be thrown away (each pool's is its own)
        xs, ys = np.array(x0, dtype=float), np.array(y0, dtype=float)
        if below.any():
            moved = stableswap_balances_for_price(b[below], A if np.ndim(A) == 0 else full(A)[below], t[below],
                                                  D=D[below], max_iter=max_iter, price=quote[below])
            xs[below], ys[below] = moved[..., 0], moved[..., 1]
    return np.stack([xs, ys], -1)


def stableswap_price_after_in(balances, A, amount_in, *, D=None):
    """Coin 0's marginal price in coin 1 after ``amount_in`` of coin 1 is swapped in (fee-less, ``D`` fixed).

    Coin 0's new balance solves the same quadratic as in
    :func:`stableswap_balances_for_price` with the coins' roles swapped.
    ``D``: the pool's invariant, when the caller has it.

    Examples
    --------
    >>> p = float(stableswap_price_after_in([150.0, 50.0], 10.0, 20.0))
    >>> b = stableswap_swap([150.0, 50.0], 10.0, 1, 0, 20.0, fee=0.0).balances
    >>> round(p, 9) == round(float(stableswap_price(b, 10.0, 0, 1)), 9)
    True
    """
    b, A = _check_pool(balances, A)
    D = stableswap_D(b, A) if D is None else np.asarray(D, dtype=float)
    Ann, D3 = 4.0 * A, D * D * D
    y = b[..., 1] + _f(amount_in, "amount_in")
    x = _stableswap_y_of_x(y, D, D3, Ann)  # the invariant is symmetric in the two coins
    q = D3 / (4.0 * x * y)
    return (Ann + q / x) / (Ann + q / y)


def stableswap_amount_in_for_price(balances, A, target, *, D=None):
    """Coin-1 units to swap into a two-coin stableswap pool (fee-less) to lift coin 0's price to ``target``:
    the coin-1 balance of :func:`stableswap_balances_for_price` less the present one.

    Examples
    --------
    >>> dy = stableswap_amount_in_for_price([150.0, 50.0], 10.0, 1.0)
    >>> round(float(stableswap_price(stableswap_swap([150.0, 50.0], 10.0, 1, 0, dy, fee=0.0).balances, 10.0, 0, 1)), 6)
    1.0
    """
    b = _f(balances, "balances")
    return stableswap_balances_for_price(b, A, target, D=D)[..., 1] - b[..., 1]

r"""Curve stableswap pool (Egorov 2019): the invariant, a swap and the marginal price.

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
The balances at which a pool quotes a given price, and the swap that moves it
there, are in :mod:`core.mechanisms.stableswap_price_target`.

Conventions
-----------
* All functions broadcast over leading axes (pools / scenarios). Balances
  have shape ``(..., n)``; ``A`` broadcasts against ``(...)``.
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
* M. Egorov, "StableSwap - efficient mechanism for Stablecoin liquidity" (2019);
  Curve ``StableSwap3Pool.vy`` ``get_D`` / ``get_y``;
  https://docs.curve.finance/developer/resources/derivations
"""

from __future__ import annotations

import numpy as np

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms._checks import broadcast_shape, checking
from core.mechanisms.constant_product import SwapResult, _check_fee, _f

__all__ = [
    "StableswapConvergenceError",
    "stableswap_D",
    "stableswap_y",
    "stableswap_swap",
    "stableswap_price",
]


class StableswapConvergenceError(RuntimeError):
    """Newton iteration for the stableswap invariant did not converge.

    Examples
    --------
    >>> stableswap_D([1e6, 1.0], 100.0, max_iter=1)
    Traceback (most recent call last):
    ...
    core.mechanisms.stableswap.StableswapConvergenceError: stableswap_D: 1 pool(s) did not converge
    """


#: Below this many pools a price-target solve runs on Python floats, one pool after another: numpy's cost
#: per call dwarfs a handful of elements. The kernel uses only ``+ - * /``, ``sqrt``, comparisons and
#: ``max``, which IEEE 754 rounds exactly in both back-ends, so a pool's answer is the same to the
#: last bit on either (``tests/test_engine_steps.py`` checks it), and never depends on its batch-mates.
_FLOAT_POOLS = ssf.FLOAT_POOLS


def _coin_pair(n: int, i, j) -> tuple[int, int]:
    """Two distinct coin indices of an ``n``-coin pool, as ints."""
    i, j = int(i), int(j)
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise ValueError("need distinct coin indices 0 <= i, j < n")
    return i, j


def _check_pool(balances, A):
    x = _f(balances, "balances")
    A = _f(A, "A")
    if not checking():
        if A.ndim == 0 or A.shape == x.shape[:-1]:
            return x, A  # the formulas broadcast a scalar A themselves
        if 1 <= A.ndim < x.ndim:
            # a row's amplifications, (p,) or (1, p), beside a batch's balances, (S, p, n): the general broadcast's
            # answer without its shape search and the balances' own broadcast (they already have the batch's shape)
            try:
                return x, np.broadcast_to(A, x.shape[:-1])
            except ValueError:
                pass  # A wider than the balances' batch: the general broadcast below
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
    i, j = _coin_pair(n, i, j)
    xn = _f(x_new, "x_new")
    if np.any(xn <= 0):
        raise ValueError("x_new must be > 0")
    if D is None:
        D = stableswap_D(x, A, errors=errors)
    D = np.asarray(D, dtype=float)
    Ann = A * n**n
    if n == 2:  # a few pools: the same closed form on Python floats (numpy's cost per call)
        shape = broadcast_shape(x.shape[:-1], xn.shape, D.shape, np.shape(Ann))
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
    if (dxa < 0).any():
        raise ValueError("dx must be >= 0")
    D = stableswap_D(x, A, errors=errors) if D is None else np.asarray(D, dtype=float)
    if x.shape[-1] == 2 and fee.ndim == 0 and ssf.small(x.shape[:-1]) and int(i) != int(j) and int(i) in (0, 1) and int(j) in (0, 1) \
            and broadcast_shape(x.shape[:-1], dxa.shape, D.shape, A.shape) == x.shape[:-1]:
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
    i, j = _coin_pair(n, i, j)
    if D is None:
        D = stableswap_D(x, A, errors=errors)
    Ann = A * n**n
    if n == 2:  # a few pools: the same formula on Python floats (numpy's cost per call)
        shape = broadcast_shape(x.shape[:-1], np.shape(D), np.shape(Ann))
        floats = ssf.price_two(shape, x, D, Ann, i) if ssf.small(shape) else None
        if floats is not None:
            return floats
    # D^{n+1} / (n^n prod x), built stepwise to avoid overflow
    DP = np.asarray(D, dtype=float).copy()
    for k in range(n):
        DP = DP * D / (x[..., k] * n)
    return (Ann + DP / x[..., i]) / (Ann + DP / x[..., j])

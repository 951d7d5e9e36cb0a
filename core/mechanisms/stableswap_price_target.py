"""Two-coin stableswap pools moved along their invariant to a target price (fee-less).

With ``D`` fixed and ``Ann = 4 A`` (:mod:`core.mechanisms.stableswap`), coin 1's
balance given coin 0's balance ``x`` is the positive root of::

    4 Ann x y^2 + 4 x (Ann x + D - Ann D) y - D^3 = 0,

and coin 0's marginal price ``p(x) = (Ann + K/x) / (Ann + K/y)``,
``K = D^3 / (4 x y)``, falls as ``x`` grows. The balances at which a pool
quotes a target price (:func:`stableswap_balances_for_price`) are found by
Newton's method on the scarce coin's ``price^(-1/2)``, concave in its balance,
from below the root; the swap that gets there is
:func:`stableswap_amount_in_for_price`, and :func:`stableswap_price_after_in`
the price a given swap leaves. Arbitrage and peg defence use them to size
a trade that restores a price (:mod:`core.engine.pools`,
:mod:`core.engine.defend`, :mod:`core.mechanisms.lst_arbitrage`).

A few pools take the same steps on Python floats
(:func:`core.mechanisms._stableswap_floats.moved_to_price`), a batch on numpy
arrays: a pool's answer is the same to the last bit either way.

References
----------
* M. Egorov, "StableSwap - efficient mechanism for Stablecoin liquidity" (2019);
  https://docs.curve.finance/developer/resources/derivations
"""

from __future__ import annotations

import numpy as np

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms._checks import broadcast_shape
from core.mechanisms.constant_product import _f
from core.mechanisms.stableswap import _FLOAT_POOLS, _check_pool, stableswap_D, stableswap_price

__all__ = [
    "stableswap_balances_for_price",
    "stableswap_price_after_in",
    "stableswap_amount_in_for_price",
]


class _Arrays:
    """Element operations on numpy arrays (a batch of pools at once); a few pools take the same steps on
    Python floats (:func:`core.mechanisms._stableswap_floats.moved_to_price`)."""

    sqrt = staticmethod(np.sqrt)
    maximum = staticmethod(np.maximum)
    where = staticmethod(np.where)

    @staticmethod
    def all(cond):
        return bool(np.all(cond))


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
    bit, in fewer calls (numpy's cost per call dwarfs the arithmetic on the few pools of a cascade). The
    root's branch is computed alone where every pool takes it, the step added without a choice where no pool
    is frozen, and the pools done counted (``np.count_nonzero``, not ``ndarray.all``'s reduction); the slope's
    ``-a (2 - r) / Aa + b (1 - 2 r) / Ab`` is taken as ``b (1 - 2 r) / Ab - a (2 - r) / Aa``, the same bits
    (IEEE 754 rounds a negated operand to the negated result, and ``x + (-y)`` is ``x - y``)."""
    Ann4, AnnD, D3x2 = 4.0 * Ann, Ann * D, 2.0 * D3
    n = z.size
    done = z != z
    left = n - np.count_nonzero(done)
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken may divide by zero
        for _ in range(max_iter):
            x4 = 4.0 * z
            qa = Ann4 * z
            qb = x4 * (Ann * z + D - AnnD)
            root = np.sqrt(qb * qb + 4.0 * qa * D3)
            positive = qb > 0
            k = np.count_nonzero(positive)
            if k == n:
                y = D3x2 / (qb + root)
            elif k == 0:
                y = (root - qb) / (2.0 * qa)
            else:
                y = np.where(positive, D3x2 / (qb + root), (root - qb) / (2.0 * qa))
            K = D3 / (x4 * y)
            a, b = K / z, K / y
            Aa, Ab = Ann + a, Ann + b
            p = Aa / Ab
            r = p * z / y
            slope = b * (1.0 - 2.0 * r) / Ab - a * (2.0 - r) / Aa
            h = 1.0 / np.sqrt(p)
            step = (H - h) * z / (-0.5 * h * slope)
            stop = (step <= eps4 * z) | (h >= H)
            frozen = stop if left == n else done | stop
            frozen_count = np.count_nonzero(frozen)
            if frozen_count == 0:
                z = z + step
            elif frozen_count < n:
                z = np.where(frozen, z, z + step)
            done = frozen
            left = n - frozen_count
            if left == 0:
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
    shape = broadcast_shape(b.shape[:-1], np.shape(t))

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
    >>> from core.mechanisms.stableswap import stableswap_swap
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
    >>> from core.mechanisms.stableswap import stableswap_swap
    >>> dy = stableswap_amount_in_for_price([150.0, 50.0], 10.0, 1.0)
    >>> round(float(stableswap_price(stableswap_swap([150.0, 50.0], 10.0, 1, 0, dy, fee=0.0).balances, 10.0, 0, 1)), 6)
    1.0
    """
    b = _f(balances, "balances")
    return stableswap_balances_for_price(b, A, target, D=D)[..., 1] - b[..., 1]

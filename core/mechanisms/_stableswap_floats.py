"""Stableswap formulas on Python floats, pool by pool, for the few pools a cascade's round holds (internal to
:mod:`core.mechanisms.stableswap` and :mod:`core.mechanisms.stableswap_price_target`, hence the private
module name).

The cascade calls those modules every round on a pool or two of a scenario
or two, where numpy's cost per call dwarfs the arithmetic. These kernels
repeat the numpy formulas there operation for operation, with only
``+ - * /``, ``abs``, ``sqrt`` and comparisons, which IEEE 754 rounds alike on
Python floats and numpy arrays: a pool's result is the same to the last bit on
either path (``tests/test_amm.py`` checks it), and never depends on the other
pools of the call. Each kernel returns None where a step would divide by zero
or take the square root of a negative number (Python raises where numpy gives
inf or nan): the caller then takes its numpy path. The invariant's own solve
(Curve's ``get_D``, Egorov 2019) is :func:`core.mechanisms.stableswap.stableswap_D`.
"""

from __future__ import annotations

import math

import numpy as np

#: Most pools (elements of the batch) a call takes on floats; above it numpy's per-element cost wins.
FLOAT_POOLS = 8


def small(shape: tuple[int, ...]) -> bool:
    """Whether a batch of this shape is few enough pools for the float kernels."""
    return math.prod(shape) <= FLOAT_POOLS


def lists(shape: tuple[int, ...], *arrays) -> list[list[float]]:
    """Each array broadcast to ``shape`` and flattened to a list of Python floats."""
    out = []
    for a in arrays:
        a = np.asarray(a, dtype=float)
        if a.shape == shape:
            out.append(a.ravel().tolist())
        elif a.size == 1:  # a scalar or a lone value, as numpy broadcasts it
            out.append(a.ravel().tolist() * math.prod(shape))
        else:
            out.append(np.broadcast_to(a, shape).ravel().tolist())
    return out


def invariant(x: np.ndarray, Ann: np.ndarray, S: np.ndarray, D0: np.ndarray, n: int, rtol: float,
              max_iter: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``stableswap_D``'s Newton iteration from ``D0``: ``(D, done)`` with ``S``'s shape.

    ``D_P = D^{n+1} / (n^n prod x)`` built coin by coin, ``D <- (Ann S + n D_P) D / ((Ann - 1) D + (n + 1) D_P)``,
    each pool stopping once a step is within ``rtol`` of ``D``, as in the numpy loop."""
    out, flags = [], []
    try:
        for xs, ann, s, d in zip(x.reshape(-1, n).tolist(), *lists(S.shape, Ann, S, D0)):
            done = False
            for _ in range(max_iter):
                dp = d
                for xk in xs:
                    dp = dp * d / (xk * n)
                dn = (ann * s + dp * n) * d / ((ann - 1.0) * d + (n + 1) * dp)
                step = abs(dn - d)
                d = dn
                if step <= rtol * d:
                    done = True
                    break
            out.append(d)
            flags.append(done)
    except ZeroDivisionError:
        return None
    return np.array(out, dtype=float).reshape(S.shape), np.array(flags, dtype=bool).reshape(S.shape)


def cardano_two(x: np.ndarray, Ann: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``stableswap_D``'s start for two-coin pools: the real root of ``D^3 + p D + q = 0``, ``p = 4xy(Ann - 1)``,
    ``q = -4xy Ann S`` (Cardano), or ``S`` where it is not finite and positive.

    The cube and the cube roots are numpy's, on arrays of ``S``'s shape as in the numpy formula (their
    rounding is the library's); the rest is ``+ - * /`` and ``sqrt`` on floats."""
    shape = S.shape
    if S.size == 1 and np.size(Ann) == 1:  # one pool: OnePool.price's start, the same steps
        x0, x1 = x.reshape(-1).tolist()
        return np.full(shape, _cardano_one(x0, x1, float(np.reshape(Ann, -1)[0]), float(S.reshape(-1)[0])))
    anns, sums = lists(shape, Ann, S)
    ps, qs = [], []
    for (x0, x1), ann, s in zip(x.reshape(-1, 2).tolist(), anns, sums):
        P4 = 4.0 * x0 * x1
        ps.append(P4 * (ann - 1.0) / 3.0)
        qs.append(-P4 * ann * s)
    cubes = (np.array(ps, dtype=float).reshape(shape) ** 3).ravel().tolist()
    roots = []
    for q, cube in zip(qs, cubes):
        h = q / 2.0
        disc = h * h + cube
        roots.append(math.sqrt(disc) if disc >= 0 else math.nan)  # A < 1/4 has three real roots: start from S
    lo = np.cbrt(np.array([-q / 2.0 + r for q, r in zip(qs, roots)], dtype=float).reshape(shape)).ravel().tolist()
    hi = np.cbrt(np.array([-q / 2.0 - r for q, r in zip(qs, roots)], dtype=float).reshape(shape)).ravel().tolist()
    D = [a + b for a, b in zip(lo, hi)]
    return np.array([d if math.isfinite(d) and d > 0 else s for d, s in zip(D, sums)], dtype=float).reshape(shape)


def _cardano_one(x0: float, x1: float, ann: float, s: float) -> float:
    """:func:`cardano_two` of one pool (its steps; the cube and the cube roots numpy's, on one-element arrays)."""
    P4 = 4.0 * x0 * x1
    p, q = P4 * (ann - 1.0) / 3.0, -P4 * ann * s
    cube = float((np.array([p], dtype=float) ** 3)[0])
    h = q / 2.0
    disc = h * h + cube
    r = math.sqrt(disc) if disc >= 0 else math.nan
    lo = float(np.cbrt(np.array([-q / 2.0 + r], dtype=float))[0])
    hi = float(np.cbrt(np.array([-q / 2.0 - r], dtype=float))[0])
    d = lo + hi
    return d if math.isfinite(d) and d > 0 else s


def _y_two(xi: float, d: float, ann: float) -> float:
    """Coin ``j``'s balance of a two-coin pool with coin ``i`` at ``xi`` (``stableswap_y``'s closed form)."""
    c = d * d / (xi * 2)
    c = c * d / (ann * 2)
    g = d - (xi + d / ann)
    disc = math.sqrt(g * g + 4.0 * c)
    return (g + disc) / 2.0 if g >= 0 else 2.0 * c / (disc - g)


def balance_two(shape: tuple[int, ...], x_new, D, Ann) -> tuple[np.ndarray, np.ndarray] | None:
    """``stableswap_y`` of two-coin pools: ``(y, done)``, ``done`` where ``y`` is finite and positive."""
    try:
        ys = [_y_two(xi, d, ann) for xi, d, ann in zip(*lists(shape, x_new, D, Ann))]
    except (ZeroDivisionError, ValueError):
        return None
    y = np.array(ys, dtype=float).reshape(shape)
    return y, np.array([math.isfinite(v) and v > 0 for v in ys], dtype=bool).reshape(shape)


def price_two(shape: tuple[int, ...], x: np.ndarray, D, Ann, i: int) -> np.ndarray | None:
    """``stableswap_price`` of coin ``i`` in the other coin of two-coin pools (``x`` (..., 2) broadcast to ``shape``)."""
    x = x if x.shape[:-1] == shape else np.broadcast_to(x, shape + (2,))
    out = []
    try:
        for (x0, x1), d, ann in zip(x.reshape(-1, 2).tolist(), *lists(shape, D, Ann)):
            dp = d * d / (x0 * 2)
            dp = dp * d / (x1 * 2)
            xi, xj = (x0, x1) if i == 0 else (x1, x0)
            out.append((ann + dp / xi) / (ann + dp / xj))
    except ZeroDivisionError:
        return None
    return np.array(out, dtype=float).reshape(shape)


def swap_two(x: np.ndarray, i: int, dx, fee: float, D, Ann) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``stableswap_swap`` of ``dx`` of coin ``i`` into two-coin pools ``x`` (..., 2) whose batch shape is the
    call's: ``(amount_out, balances, fee_paid, (y, done))``; the caller checks ``done`` as ``stableswap_y`` does."""
    shape = x.shape[:-1]
    j = 1 - i
    amount, fee_paid, y_all, ok, rows = [], [], [], [], []
    try:
        for (x0, x1), a, d, ann in zip(x.reshape(-1, 2).tolist(), *lists(shape, dx, D, Ann)):
            xs = (x0, x1)
            xi = xs[i] + a
            y = _y_two(xi, d, ann)
            gross = max(xs[j] - y, 0.0) if a > 0 else 0.0
            paid = fee * gross
            dy = gross - paid
            row = [0.0, 0.0]
            row[i], row[j] = xi, xs[j] - dy
            amount.append(dy)
            fee_paid.append(paid)
            y_all.append(y)
            ok.append(math.isfinite(y) and y > 0)
            rows.append(row)
    except (ZeroDivisionError, ValueError):
        return None
    return (np.array(amount, dtype=float).reshape(shape), np.array(rows, dtype=float).reshape(shape + (2,)),
            np.array(fee_paid, dtype=float).reshape(shape), np.array(ok, dtype=bool).reshape(shape))


def _other_balance(x: float, d: float, d3: float, ann: float) -> float:
    """Coin 1's balance on the two-coin invariant ``d`` when coin 0's is ``x`` (``stableswap_price_target._stableswap_y_of_x``)."""
    qa = 4.0 * ann * x
    qb = 4.0 * x * (ann * x + d - ann * d)
    root = math.sqrt(qb * qb + 4.0 * qa * d3)
    return 2.0 * d3 / (qb + root) if qb > 0 else (root - qb) / (2.0 * qa)


_EPS4 = 4.0 * float(np.finfo(float).eps)


def moved_to_price(x0: float, y0: float, t: float, below: bool, d: float, d3: float, ann: float,
                   max_iter: int) -> tuple[float, float]:
    """One pool's ``stableswap_balances_for_price`` on floats: ``_stableswap_x_for_price`` with the
    scarce coin's Newton solve (``_stableswap_scarce_balance``; all three in
    :mod:`core.mechanisms.stableswap_price_target`) written out, step for step; a pool already at or above its
    target is returned as it is, without the solve it would not use."""
    if not below:
        return x0, y0
    dear = t > 1.0
    z = x0 * 1e-9 if dear else y0
    H = 1.0 / math.sqrt(t if dear else 1.0 / t)
    for _ in range(max_iter):
        y = _other_balance(z, d, d3, ann)
        K = d3 / (4.0 * z * y)
        a, b = K / z, K / y
        p = (ann + a) / (ann + b)
        r = p * z / y
        slope = -a * (2.0 - r) / (ann + a) + b * (1.0 - 2.0 * r) / (ann + b)
        h = 1.0 / math.sqrt(p)
        step = (H - h) * z / (-0.5 * h * slope)
        if step <= _EPS4 * z or h >= H:
            break
        z = z + step
    other = _other_balance(z, d, d3, ann)
    return (z, max(other, y0)) if dear else (other, z)


class OnePool:
    """One two-coin pool's swaps and prices on Python floats, for a root search that evaluates them many times
    (:mod:`core.mechanisms.lst_holdings`): the steps of :func:`swap_two`, of ``stableswap_D`` (:func:`cardano_two`'s
    start, numpy's cube and cube roots on one-element arrays as there, then :func:`invariant`'s Newton steps) and of
    :func:`price_two`, so each number is the numpy path's to the last bit. A method returns None where that path
    would take another branch (a division by zero, a balance not finite and positive, no convergence): the
    caller then asks the numpy path."""

    def __init__(self, balances, A, D, fee: float) -> None:
        self.x0, self.x1 = (float(v) for v in np.reshape(balances, -1))
        self.ann = float(np.reshape(np.asarray(A, dtype=float) * 4, -1)[0])
        self.d = float(np.reshape(D, -1)[0])
        self.fee = float(fee)

    def swap(self, i: int, dx: float) -> tuple[float, float] | None:
        """The balances after selling ``dx`` of coin ``i`` (``stableswap_swap(...).balances``)."""
        xs = (self.x0, self.x1)
        j = 1 - i
        xi = xs[i] + dx
        try:
            y = _y_two(xi, self.d, self.ann)
        except (ZeroDivisionError, ValueError):
            return None
        if not (math.isfinite(y) and y > 0):
            return None
        gross = max(xs[j] - y, 0.0) if dx > 0 else 0.0
        dy = gross - self.fee * gross
        return (xi, xs[j] - dy) if i == 0 else (xs[j] - dy, xi)

    def price(self, b0: float, b1: float, rtol: float = 1e-14, max_iter: int = 255) -> float | None:
        """The marginal price of coin 0 in coin 1 at balances ``(b0, b1)`` (``stableswap_price(b, A, 0, 1)``)."""
        both = self.invariant_and_price(b0, b1, rtol, max_iter)
        return None if both is None else both[1]

    def invariant_and_price(self, b0: float, b1: float, rtol: float = 1e-14,
                            max_iter: int = 255) -> tuple[float, float] | None:
        """The invariant at balances ``(b0, b1)`` (``stableswap_D(b, A)``) and coin 0's marginal price in coin 1
        there (``stableswap_price(b, A, 0, 1, D=that invariant)``)."""
        ann, s = self.ann, b0 + b1
        d = _cardano_one(b0, b1, ann, s)
        try:
            for _ in range(max_iter):
                dp = d
                for xk in (b0, b1):
                    dp = dp * d / (xk * 2)
                dn = (ann * s + dp * 2) * d / ((ann - 1.0) * d + 3 * dp)
                step = abs(dn - d)
                d = dn
                if step <= rtol * d:
                    break
            else:
                return None
            dp = d * d / (b0 * 2)
            dp = dp * d / (b1 * 2)
            return d, (ann + dp / b0) / (ann + dp / b1)
        except ZeroDivisionError:
            return None

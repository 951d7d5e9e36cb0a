r""":func:`~core.mechanisms.lst_holdings.held_arbitrage` of one pool on Python floats (internal to
:mod:`core.mechanisms.lst_holdings`, hence the private module name).

The cascade calls the held arbitrage once or a few times a round on one scenario's one liquid-staking pool: a
batch of one element, where numpy's cost per call (some 60 calls on (1, 1) arrays, 0.87 ms a call on
synthetic(100k)) dwarfs the arithmetic. :func:`held_one` takes the same steps on floats, operation for operation:
the pool's invariant (Cardano's start, :func:`~core.mechanisms._stableswap_floats._cardano_one`, then Curve's
``get_D`` Newton steps to 1e-14, as :func:`~core.mechanisms.stableswap.stableswap_D` runs them on a few pools), its
swaps and prices (:func:`~core.mechanisms._stableswap_floats.swap_two`, ``price_two``), the fee-less moves to a
price (:func:`~core.mechanisms._stableswap_floats.moved_to_price`), and the three Newton searches on the float
kernels the numpy path already takes for a few pools (:func:`~core.mechanisms._lst_flow.flow_price_float`,
``_newton_float``): only ``+ - * /``, ``abs``, ``sqrt``, ``**`` on the same Python floats, comparisons, and numpy's
own cube and cube roots where the numpy path takes them, so each figure is the numpy path's to the last bit
(``tests/test_lst_held_floats.py`` checks it against the numpy path over random pools). ``np.maximum``,
``np.minimum`` and ``np.clip`` keep their operand order (the second operand where two zeros compare equal).

Where the numpy path would take another branch (a division by zero, a NaN, a swap or invariant that does not
converge, a float kernel that falls back to numpy), :func:`held_one` raises :class:`Off` and the caller takes the
numpy path.
"""

from __future__ import annotations

import math

from core.mechanisms import _stableswap_floats as ssf
from core.mechanisms._lst_flow import _newton_float, flow_price_float

__all__ = ["Off", "cap_float", "held_one", "pool_price_one", "short_float"]


class Off(Exception):
    """A step the float path does not take as the numpy path does: the caller takes the numpy path."""


def cap_float(e: tuple, fee: float, z: float) -> tuple[float, float]:
    """The cap less the price after the net flow ``z``, and its derivative (``held_arbitrage``'s ``cap_gap``) of
    the pool ``e = (x_0, x_1, Ann, D_o, cap, ...)``."""
    x0, x1, ann, d0, tp = e[:5]
    _, _, p, dp = flow_price_float(x0, x1, ann, d0, fee, z)
    return tp - p, -dp


def short_float(e: tuple, fee: float, z: float) -> tuple[float, float]:
    """The tokens the position at the price after ``z`` draws less those the arbitrageurs would hold, weighed by
    ``p**(1 + eta)``, and its derivative (``held_arbitrage``'s ``short``) of the pool
    ``e = (x_0, x_1, Ann, D_o, cap, floor, capital, g_ref, eta, held, x_now)``."""
    x0, x1, ann, d0, _, fl, cap, gr, et, hv, now0 = e
    b0, db0, p, dp = flow_price_float(x0, x1, ann, d0, fee, z)
    gap = max(fl / p - 1.0, 0.0)
    q = (cap * ((gap / gr) ** et if et > 0 else 1.0) if gap > 0 else 0.0) / p
    try:
        dk = -et * cap * (gap / gr) ** (et - 1.0) / gr * fl / (p * p) if et > 0.0 else 0.0
    except ZeroDivisionError:  # 0 ** negative: numpy's inf
        dk = -math.inf
    f, df = q - hv - (now0 - b0), (dk / p - q / p) * dp + db0
    w = p ** (1.0 + et)
    return w * f, w * df + (1.0 + et) * w / p * dp * f


def _high(a: float, b: float) -> float:
    """``np.maximum(a, b)`` of two floats (``b`` where they compare equal); NaN: :class:`Off`."""
    if a != a or b != b:
        raise Off
    return a if a > b else b


def _low(a: float, b: float) -> float:
    """``np.minimum(a, b)`` of two floats (``b`` where they compare equal); NaN: :class:`Off`."""
    if a != a or b != b:
        raise Off
    return a if a < b else b


def _invariant(x0: float, x1: float, ann: float) -> float:
    """``stableswap_D([x0, x1], A)`` (``ann = 4 A``): Cardano's start, then ``get_D``'s Newton steps to 1e-14 within
    255 (:func:`core.mechanisms._stableswap_floats.invariant`'s, for one pool); :class:`Off` where they do not
    converge (the numpy path raises)."""
    s = x0 + x1
    d = ssf._cardano_one(x0, x1, ann, s)
    for _ in range(255):
        dp = d
        dp = dp * d / (x0 * 2)
        dp = dp * d / (x1 * 2)
        dn = (ann * s + dp * 2) * d / ((ann - 1.0) * d + 3 * dp)
        step = abs(dn - d)
        d = dn
        if step <= 1e-14 * d:
            return d
    raise Off


def _price(b0: float, b1: float, d: float, ann: float) -> float:
    """Coin 0's marginal price in coin 1 at ``(b0, b1)`` on the invariant ``d`` (``stableswap_price``'s
    ``price_two``)."""
    dp = d * d / (b0 * 2)
    dp = dp * d / (b1 * 2)
    return (ann + dp / b0) / (ann + dp / b1)


def pool_price_one(b0: float, b1: float, A: float) -> float:
    """``stableswap_price([b0, b1], A, 0, 1)`` of one pool (its invariant solved first, as there): the price of a
    liquid-staking pool the staking step reads each round (:mod:`core.engine.staking`); :class:`Off` where the
    numpy path takes another branch."""
    if not (b0 > 0.0 and b1 > 0.0 and A > 0.0):  # (the numpy path checks these, or divides by zero)
        raise Off
    ann = A * 4.0
    return _price(b0, b1, _invariant(b0, b1, ann), ann)


def _swap(x0: float, x1: float, i: int, a: float, fee: float, d: float, ann: float) -> tuple[float, float]:
    """The balances after ``a`` of coin ``i`` is sold into ``(x0, x1)`` (``stableswap_swap(...).balances``'s
    ``swap_two``); :class:`Off` where the balance paid out is not finite and positive (the numpy path's)."""
    xs = (x0, x1)
    j = 1 - i
    xi = xs[i] + a
    y = ssf._y_two(xi, d, ann)
    if not (math.isfinite(y) and y > 0):
        raise Off
    gross = max(xs[j] - y, 0.0) if a > 0 else 0.0
    dy = gross - fee * gross
    return (xi, xs[j] - dy) if i == 0 else (xs[j] - dy, xi)


def held_one(xo0: float, xo1: float, x0: float, x1: float, A: float, pf: float, top: float, capacity: float,
             reference_gap: float, elasticity: float, have: float, *, fee: float,
             iterations: int) -> tuple[tuple[float, float], float, float]:
    """``held_arbitrage``'s steps for one pool: ``((b_0, b_1), paid, bought)``; :class:`Off` (or the float kernels'
    ZeroDivisionError, ValueError, OverflowError) where the numpy path takes another branch."""
    ann = A * 4.0
    sold = _high(x0 - xo0, 0.0)
    Do = _invariant(xo0, xo1, ann)
    eta = elasticity if math.isfinite(reference_gap) and elasticity > 0 else 0.0
    ref = reference_gap if math.isfinite(reference_gap) else 1.0
    e = (xo0, xo1, ann, Do, top, pf, capacity, ref, eta, have, x0)

    def after(z: float) -> tuple[float, float]:  # the open pool after the net flow z
        if z > 0:
            return _swap(xo0, xo1, 0, z, fee, Do, ann)
        if z < 0:
            return _swap(xo0, xo1, 1, -z, fee, Do, ann)
        return xo0, xo1

    def price(z: float) -> float:
        b0, b1 = after(z)
        return _price(b0, b1, _invariant(b0, b1, ann), ann)

    def cap(z: float) -> tuple[float, float]:
        return cap_float(e, fee, z)

    def short(z: float) -> tuple[float, float]:
        return short_float(e, fee, z)

    p_open = _price(xo0, xo1, Do, ann)
    deepest = -(4.0 * xo0 + xo1)
    lift = 0.0
    if p_open < top * (1.0 - 1e-12):  # the lift of the open pool to the cap
        f_deep = cap(deepest)[0]
        f_open = top - p_open
        # from the fee-less amount: stableswap_amount_in_for_price at the cap (the pool's quote below it)
        _, y_new = ssf.moved_to_price(xo0, xo1, top, _price(xo0, xo1, Do, ann) < top, Do, Do * Do * Do, ann, 100)
        start = -_low(y_new - xo1, -deepest)
        if f_deep >= 0.0 or f_open <= 0.0:
            z_lift = start
        else:
            z_lift = _newton_float(cap, deepest, 0.0, f_deep, f_open, start, 0.0, iterations)
        lift = -(deepest if f_deep >= 0.0 else z_lift)
    low = -lift
    now = price(sold)
    active = now < top and sold > low
    f0, f1 = top - price(low), top - now
    lifted = lift > 0.0 or f0 >= -1e-12 * top
    if not active or lifted or f0 >= 0.0 or f1 <= 0.0:
        z_cap = low
    else:  # from the fee-less sale to the cap: the token's pool lifted on the other side
        t = 1.0 / top
        _, y_rev = ssf.moved_to_price(xo1, xo0, t, _price(xo1, xo0, Do, ann) < t, Do, Do * Do * Do, ann, 100)
        fee_less = y_rev - xo0
        z_cap = _newton_float(cap, low, sold, f0, f1, _low(_high(fee_less, low), sold), low, iterations)
    z_cap = low if lifted or f0 >= 0.0 else (sold if f1 <= 0.0 else z_cap)
    g0, g1 = short(z_cap)[0], short(sold)[0]
    if not active or g0 >= 0.0 or g1 <= 0.0:
        z_h = z_cap
    else:
        z_h = _newton_float(short, z_cap, sold, g0, g1, z_cap, low, iterations)
    z = z_cap if g0 >= 0.0 else (sold if g1 <= 0.0 else z_h)
    end = after(z)
    paid = end[1] - x1
    if active and z < sold and paid > 0.0:
        return end, paid, x0 - end[0]
    return (x0, x1), 0.0, 0.0

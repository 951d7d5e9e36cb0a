"""The held arbitrage of one pool on Python floats (core.mechanisms._lst_held_floats, session 34) against the numpy
path it stands in for: :func:`held_arbitrage_numpy` below is ``held_arbitrage`` as it was before (main ca027f1,
verbatim), and the float path must give the same balances, underlying paid and tokens bought to the last bit
(``tobytes``: signed zeros included) over random pools, sales, caps, positions and days of capital."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings, strategies as st

from core.mechanisms import _stableswap_floats as ssf, amm
from core.mechanisms._checks import as_amount_array as _arr, trusted
from core.mechanisms._lst_flow import flow_price, flow_price_float, safe_newton
from core.mechanisms import _lst_held_floats as held_floats
from core.mechanisms.lst_arbitrage import arbitrage_capital
from core.mechanisms.lst_holdings import held_arbitrage


def held_arbitrage_numpy(open_balances, balances, A, floor_price, cap_price, capacity, reference_gap=np.inf,
                         elasticity=1.0, held=0.0, *, fee=0.0004, iterations=100):
    """``held_arbitrage`` before the float path (main ca027f1), verbatim."""
    xo = _arr(open_balances, "open_balances", positive=True)
    x = _arr(balances, "balances", positive=True)
    pf = _arr(floor_price, "floor_price", positive=True)
    top = _arr(cap_price, "cap_price", positive=True)
    have = _arr(held, "held")
    shape = np.broadcast_shapes(xo.shape[:-1], x.shape[:-1], np.shape(pf), np.shape(top), np.shape(have),
                                np.shape(capacity))
    sold = np.broadcast_to(np.maximum(x[..., 0] - xo[..., 0], 0.0), shape)
    Do = amm.stableswap_D(xo, A)
    Ann = np.asarray(A, float) * 4.0
    eta = np.where(np.isfinite(reference_gap) & (np.asarray(elasticity) > 0), elasticity, 0.0)
    ref = np.where(np.isfinite(reference_gap), reference_gap, 1.0)

    def after(z):  # the open pool after the net flow z (each side swapped only where some flow is on it)
        z = np.asarray(z, float)
        sale = amm.stableswap_swap(xo, A, 0, 1, np.maximum(z, 0.0), fee, D=Do).balances if (z > 0).any() else None
        buy = amm.stableswap_swap(xo, A, 1, 0, np.maximum(-z, 0.0), fee, D=Do).balances if (z < 0).any() else None
        if sale is None or buy is None:
            out = sale if sale is not None else buy
            return out if out is not None else np.broadcast_to(xo, z.shape + (2,)).astype(float)
        return np.where((z >= 0.0)[..., None], sale, buy)

    def price(z):
        return amm.stableswap_price(after(z), A, 0, 1)

    def cap_gap(z):  # the cap less the price and its derivative in z: rises with z
        _, p, dp = flow_price(xo, Ann, Do, fee, z)
        return top - p, -dp

    def short(z):  # tokens the position at the price draws less those the arbitrageurs would hold: rises with z
        (b0, db0), p, dp = flow_price(xo, Ann, Do, fee, z)
        k = arbitrage_capital(p, pf, capacity, reference_gap, elasticity)
        q = k / p
        # dK/dp = -eta K_ref (g/g_ref)**(eta - 1) / g_ref * p_f / p**2 (at g = 0 the limit from below the floor)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dk = -eta * capacity * (np.maximum(pf / p - 1.0, 0.0) / ref) ** (eta - 1.0) / ref * pf / (p * p)
        dq = np.where(eta > 0.0, dk, 0.0) / p - q / p
        f, df = q - have - (x[..., 0] - b0), dq * dp + db0
        # searched as p**(1 + eta) times the shortfall: the same sign and root, without the cliff of the
        # position (~1/p**2) at the trough of a large sale, where Newton from the sale's end crawls
        w = p ** (1.0 + eta)
        return w * f, w * df + (1.0 + eta) * w / p * dp * f

    scalar_cap = scalar_short = None
    if ssf.small(shape):  # a few elements: the same functions on Python floats, element by element
        e = list(zip(*ssf.lists(shape, xo[..., 0], xo[..., 1], Ann, Do, top, pf, capacity, ref, eta, have, x[..., 0])))

        def scalar_cap(k, z):
            x0, x1, ann, d0, tp = e[k][:5]
            _, _, p, dp = flow_price_float(x0, x1, ann, d0, fee, z)
            return tp - p, -dp

        def scalar_short(k, z):
            x0, x1, ann, d0, _, fl, cap, gr, et, hv, now0 = e[k]
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

    def value(fun, scalar, z):  # the function's value at the flows z, on floats where the batch is small
        if scalar is not None:
            try:
                return np.array([scalar(k, v)[0] for k, v in enumerate(np.broadcast_to(z, shape).ravel().tolist())],
                                float).reshape(shape)
            except (ZeroDivisionError, ValueError, OverflowError):  # where numpy gives inf or nan
                pass
        return np.broadcast_to(fun(z)[0], shape)

    # how far below 0 the flow may go: the underlying that lifts the open pool to the cap, the root of the cap
    # gap over flows from -(4 x_0 + x_1) (underlying_to_reach_price's bracket) to 0 (none where the open pool
    # is at the cap to 1e-12: a root at the bracket's end costs tens of steps)
    p_open = amm.stableswap_price(xo, A, 0, 1, D=Do)
    need = np.broadcast_to(p_open < top * (1.0 - 1e-12), shape)
    deepest = np.broadcast_to(-(4.0 * xo[..., 0] + xo[..., 1]), shape)
    zero = np.zeros(shape)
    lift = zero
    if need.any():
        f_deep = value(cap_gap, scalar_cap, deepest)
        f_open = np.broadcast_to(top - p_open, shape)
        done = ~need | (f_deep >= 0.0) | (f_open <= 0.0)
        # from the fee-less amount (the pool's own closed form; the fee, left in the pool, asks a little more)
        start = -np.minimum(amm.stableswap_amount_in_for_price(xo, A, np.where(need, top, p_open), D=Do), -deepest)
        z_lift = safe_newton(cap_gap, deepest, zero, f_deep, f_open, start, done, zero, iterations, scalar_cap)
        lift = np.where(need, -np.where(f_deep >= 0.0, deepest, z_lift), 0.0)
    low = -lift
    now = price(sold)
    active = (now < top) & (sold > low)
    # the flow that brings the price down to the cap (the lowest flow allowed): the lift itself where the open
    # pool is below the cap (the price is there, or above it by rounding), else a sale from the open pool
    f0, f1 = np.broadcast_to(top - price(low), shape), np.broadcast_to(top - now, shape)
    # (an open pool at the cap to 1e-12, as a lifted one is left, starts there: a root at the bracket's end
    # costs the search tens of steps)
    lifted = (lift > 0.0) | (f0 >= -1e-12 * top)
    done = ~active | lifted | (f0 >= 0.0) | (f1 <= 0.0)
    if not done.all():  # from the fee-less sale to the cap: the token's pool lifted on the other side
        fee_less = amm.stableswap_balances_for_price(xo[..., ::-1], A, 1.0 / top, D=Do)[..., 1] - xo[..., 0]
        z_cap = safe_newton(cap_gap, low, sold, f0, f1, np.clip(fee_less, low, sold), done, low, iterations,
                             scalar_cap)
    else:
        z_cap = low
    z_cap = np.where(lifted | (f0 >= 0.0), low, np.where(f1 <= 0.0, sold, z_cap))
    # the flow at which the position the price draws is held, no less than that
    g0, g1 = value(short, scalar_short, z_cap), value(short, scalar_short, sold)
    done = ~active | (g0 >= 0.0) | (g1 <= 0.0)  # (at 0, the sale itself: a rising function's root at the end)
    z_h = safe_newton(short, z_cap, sold, g0, g1, z_cap, done, low, iterations, scalar_short)
    z = np.where(g0 >= 0.0, z_cap, np.where(g1 <= 0.0, sold, z_h))
    end = after(z)
    paid = end[..., 1] - x[..., 1]
    bought = active & (z < sold) & (paid > 0.0)
    return (np.where(bought[..., None], end, np.broadcast_to(x, end.shape)), np.where(bought, paid, 0.0),
            np.where(bought, x[..., 0] - end[..., 0], 0.0))


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _both(*args, **kw):
    new, old = held_arbitrage(*args, **kw), held_arbitrage_numpy(*args, **kw)
    assert all(_same(n, o) for n, o in zip(new, old)), (new, old)
    return new


pools = st.floats(1e2, 1e7)


@settings(max_examples=300, deadline=None)
@given(xo0=pools, xo1=pools, sale=st.floats(0.0, 3.0), A=st.floats(1.0, 500.0), floor=st.floats(0.8, 1.0),
       basis=st.floats(0.7, 1.0), capital=st.floats(0.0, 1e6), gap=st.one_of(st.floats(1e-4, 0.2), st.just(np.inf)),
       eta=st.floats(0.0, 2.0), held=st.floats(0.0, 1e6), lifted=st.booleans(), checked=st.booleans())
@example(xo0=491e3, xo1=111e3, sale=0.2, A=30.0, floor=0.9455, basis=1.0, capital=20e3, gap=0.9455 / 0.935 - 1,
         eta=1.0, held=0.0, lifted=False, checked=True)
@example(xo0=491e3, xo1=111e3, sale=0.0, A=30.0, floor=0.9455, basis=1.0, capital=40e3, gap=0.9455 / 0.935 - 1,
         eta=1.0, held=72.5e3, lifted=False, checked=False)
def test_one_pool_floats_are_the_numpy_path(xo0, xo1, sale, A, floor, basis, capital, gap, eta, held, lifted, checked):
    """The engine's call (one scenario's one pool, (1, 1) arrays): a sale of ``sale`` times the pool's token
    balance, or (``lifted``) the underlying swapped in; the float path's figures are the numpy path's, bit for bit."""
    xo = np.array([[[xo0, xo1]]])
    if lifted:
        x = amm.stableswap_swap(xo, A, 1, 0, sale * xo1 * 0.3, 0.0004).balances
    else:
        x = amm.stableswap_swap(xo, A, 0, 1, sale * xo0, 0.0004).balances
    args = (xo, x, np.array([[A]]), np.array([[floor]]), np.array([[floor * basis]]), np.array([[capital]]),
            np.array([[gap]]), np.array([[eta]]), np.array([[held]]))
    if checked:
        _both(*args, fee=0.0004)
    else:
        with trusted():
            _both(*args, fee=0.0004)


@settings(max_examples=100, deadline=None)
@given(xo0=pools, xo1=pools, x0=pools, x1=pools, A=st.floats(0.5, 2000.0), top=st.floats(0.5, 1.2),
       floor=st.floats(0.5, 1.2), capital=st.floats(0.0, 1e7), held=st.floats(0.0, 1e7))
def test_any_pools_floats_are_the_numpy_path(xo0, xo1, x0, x1, A, top, floor, capital, held):
    """Balances after the round that are no swap of the open pool, caps above the floor, scalars as arguments."""
    _both(np.array([xo0, xo1]), np.array([x0, x1]), A, floor, top, capital, 0.02, 1.0, held)


def test_the_float_path_is_taken():
    """The engine's call takes the float path (a step it would not take as numpy would raises Off, to the
    numpy path): the June 2022 pool of the docstring, 100k stETH sold."""
    x0 = np.array([491e3, 111e3])
    x = amm.stableswap_swap(x0, 30.0, 0, 1, 100e3).balances
    one = held_floats.held_one(491e3, 111e3, float(x[0]), float(x[1]), 30.0, 0.9455, 0.9455, 20e3,
                               0.9455 / 0.935 - 1, 1.0, 0.0, fee=0.0004, iterations=100)
    end, paid, bought = _both(x0[None, None], x[None, None], 30.0, 0.9455, 0.9455, 20e3, 0.9455 / 0.935 - 1)
    assert (one[0], one[1], one[2]) == (tuple(end.ravel().tolist()), float(paid.item()), float(bought.item()))
    assert round(float(bought.item()) / 1e2) / 10 == 72.5


def test_numpy_clip_minimum_maximum_order():
    """The float path's np.clip, np.minimum and np.maximum on (1, 1) arrays, as held_arbitrage calls them (np.clip
    with scalar bounds keeps the first operand between equal zeros instead): the second operand where two zeros
    compare equal."""
    def one(v):
        return np.array([[v]])

    for a in (0.0, -0.0, 1.0, -1.0):
        for b in (0.0, -0.0, -2.0, 2.0):
            assert _same(np.maximum(one(a), one(b))[0, 0], np.float64(held_floats._high(a, b)))
            assert _same(np.minimum(one(a), one(b))[0, 0], np.float64(held_floats._low(a, b)))
            for c in (0.0, -0.0, 3.0):
                if b <= c:
                    assert _same(np.clip(one(a), one(b), one(c))[0, 0], np.float64(held_floats._low(held_floats._high(a, b), c)))


@settings(max_examples=300, deadline=None)
@given(b0=st.floats(1e-3, 1e9), b1=st.floats(1e-3, 1e9), A=st.floats(0.1, 5000.0))
@example(b0=491e3, b1=111e3, A=30.0)
def test_pool_price_one_is_stableswap_price(b0, b1, A):
    """The staking step's price of one liquid-staking pool (core.engine.staking.lst_pool_price) is the pool's
    ``stableswap_price`` (its invariant solved first) as ``core.engine.pools.pool_price`` takes it, bit for bit."""
    with trusted():
        numpy_path = amm.stableswap_price(np.array([[[b0, b1]]]), np.array([[A]]), 0, 1)
    try:
        one = held_floats.pool_price_one(b0, b1, A)
    except held_floats.Off:  # the caller's numpy path
        return
    assert _same(np.array([[one]]), numpy_path)

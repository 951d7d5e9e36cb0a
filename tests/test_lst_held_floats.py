"""The held arbitrage of one pool on Python floats (core.mechanisms._lst_held_floats, session 34) against the numpy
path it stands in for: :func:`held_arbitrage_numpy` below is ``held_arbitrage``'s numpy path (``floats=False``: the
path it takes for a batch of pools, and took for one before session 34), and the float path must give the same
balances, underlying paid and tokens bought to the last bit (``tobytes``: signed zeros included) over random pools,
sales, caps, positions and days of capital."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings, strategies as st

from core.mechanisms import amm
from core.mechanisms._checks import trusted
from core.mechanisms import _lst_held_floats as held_floats
from core.mechanisms.lst_holdings import held_arbitrage


def held_arbitrage_numpy(*args, **kw):
    """``held_arbitrage``'s numpy path, the one it takes for a batch of pools (``floats=False``)."""
    return held_arbitrage(*args, **kw, floats=False)


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


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(pools, pools, st.floats(0.0, 3.0), st.floats(0.8, 1.0), st.floats(0.7, 1.0),
                               st.floats(0.0, 1e6), st.floats(0.0, 2.0), st.floats(0.0, 1e6), st.booleans()),
                     min_size=2, max_size=9),
       A=st.floats(1.0, 500.0), gap=st.one_of(st.floats(1e-4, 0.2), st.just(np.inf)), checked=st.booleans())
def test_a_few_pools_floats_are_the_numpy_path(rows, A, gap, checked):
    """The engine's call on a small batch (S scenarios' one pool, (S,) arrays; A shaped (1,) as
    core.engine.staking passes it): pool by pool on floats for up to FLOAT_POOLS pools (more: the numpy path), the
    numpy path's figures bit for bit, and each pool's figures those it has solved alone."""
    xo = np.array([[r[0], r[1]] for r in rows])
    sold = np.array([r[2] * r[0] for r in rows])
    lifted = np.array([r[8] for r in rows])
    x = np.where(lifted[:, None], amm.stableswap_swap(xo, A, 1, 0, sold * 0.3 * xo[:, 1] / xo[:, 0], 0.0004).balances,
                 amm.stableswap_swap(xo, A, 0, 1, sold, 0.0004).balances)
    floor = np.array([r[3] for r in rows])
    cols = (np.array([A]), floor, floor * np.array([r[4] for r in rows]), np.array([r[5] for r in rows]), gap,
            np.array([r[6] for r in rows]), np.array([r[7] for r in rows]))
    if checked:
        both = _both(xo, x, *cols, fee=0.0004)
    else:
        with trusted():
            both = _both(xo, x, *cols, fee=0.0004)
    for i in range(len(rows)):  # each pool alone (its one-pool call)
        alone = held_arbitrage(xo[i:i + 1], x[i:i + 1], *(np.asarray(v)[i:i + 1] if np.ndim(v) and np.size(v) > 1
                                                            else v for v in cols), fee=0.0004)
        assert all(_same(a, b[i:i + 1]) for a, b in zip(alone, both))

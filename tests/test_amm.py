"""Tests for core.mechanisms.amm (Uniswap v2 constant product, Curve stableswap)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from core.mechanisms.amm import (
    StableswapConvergenceError, cp_amount_for_price_drop, cp_price, cp_swap, stableswap_D,
    stableswap_price, stableswap_swap, stableswap_y,
)

SETTINGS = settings(max_examples=50, deadline=None, database=None)


# ---------------------------------------------------------------- constant product
def test_uniswap_v2_worked_example():
    # 1000*99.7/(1000+99.7) = 99700/1099.7
    r = cp_swap(1000.0, 1000.0, 100.0)
    assert float(r.amount_out) == pytest.approx(99700 / 1099.7, rel=1e-15)
    assert float(r.amount_out) == pytest.approx(90.6610893880, abs=1e-10)
    assert r.reserves_in == 1100.0 and r.reserves_out == pytest.approx(1000 - 90.6610893880)
    assert r.fee_paid == pytest.approx(0.3)


def test_cp_price_impact_table_from_notes():
    # notes §5.5 (fee-less): 1% -> -1.97%, 5% -> -9.3%, 10% -> -17.4%, 25% -> -36%
    frac = np.array([0.01, 0.05, 0.10, 0.25])
    r = cp_swap(1000.0, 1000.0, 1000.0 * frac, fee=0.0)
    drop = 1 - cp_price(r.reserves_in, r.reserves_out) / 1.0
    np.testing.assert_allclose(drop, [0.0197, 0.093, 0.174, 0.36], atol=1.5e-3)
    np.testing.assert_allclose(drop, 1 - (1 + frac) ** -2, rtol=1e-12)


@pytest.mark.parametrize("fee", [0.0, 0.003, 0.01])
def test_amount_for_price_drop_roundtrip(fee):
    d = np.array([0.01, 0.1, 0.5, 0.9])
    dx = cp_amount_for_price_drop(500.0, d, fee=fee)
    r = cp_swap(500.0, 700.0, dx, fee=fee)
    np.testing.assert_allclose(cp_price(r.reserves_in, r.reserves_out), 1.4 * (1 - d), rtol=1e-12)


@SETTINGS
@given(st.floats(1.0, 1e9), st.floats(1.0, 1e9), st.floats(0.0, 1e9), st.floats(0.0, 0.05))
def test_cp_no_value_created(x, y, dx, fee):
    r = cp_swap(x, y, dx, fee)
    assert 0.0 <= r.amount_out < y
    assert r.reserves_in * r.reserves_out >= x * y * (1 - 1e-12)     # k never falls
    assert r.amount_out <= dx * y / x * (1 + 1e-12)                 # never better than spot


def test_cp_validation():
    with pytest.raises(ValueError):
        cp_swap(0.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        cp_swap(1.0, 1.0, -1.0)
    with pytest.raises(ValueError):
        cp_swap(1.0, 1.0, 1.0, fee=1.0)
    with pytest.raises(ValueError):
        cp_amount_for_price_drop(1.0, 1.0)


# ---------------------------------------------------------------- stableswap
NOTES_TABLE = {  # notes §5.6: spot price of the abundant coin vs share of the scarce coin
    30: [0.955, 0.839, 0.580, 0.209, 0.077],
    50: [0.972, 0.894, 0.686, 0.283, 0.104],
    100: [0.986, 0.943, 0.807, 0.417, 0.165],
    2000: [0.9993, 0.997, 0.988, 0.928, 0.764],
}


def test_depeg_table_from_notes_vectorised():
    shares = np.array([0.20, 0.10, 0.05, 0.02, 0.01])
    A = np.array(list(NOTES_TABLE))[:, None]                      # (4, 1)
    bal = np.stack([1 - shares, shares], axis=-1)[None] * np.ones((4, 1, 1))
    p = stableswap_price(bal, A, 0, 1)
    expected = np.array(list(NOTES_TABLE.values()))
    # notes print 3 significant digits (4 for 0.9993)
    np.testing.assert_allclose(p, expected, atol=6e-4)


def test_steth_calibration_from_notes():
    # §5.6: 491k stETH / 111k ETH -> 0.967 at A=50, 0.947 at A=30, 0.863 at A=10
    p = stableswap_price(np.array([491e3, 111e3]), np.array([50.0, 30.0, 10.0]), 0, 1)
    np.testing.assert_allclose(p, [0.967, 0.947, 0.863], atol=6e-4)
    # §4.3 May 13: 78.4% stETH -> model 0.961 at A=30 (observed 0.953)
    assert stableswap_price([784.0, 216.0], 30.0, 0, 1) == pytest.approx(0.9614, abs=1e-4)


def test_threepool_march_2023():
    # §5.6: 47/46/6 at A=2000 -> USDC/USDT spot only 0.999
    assert stableswap_price([47.0, 46.0, 6.0], 2000.0, 1, 2) == pytest.approx(0.999, abs=5e-4)


def test_balanced_and_limits():
    assert stableswap_price([100.0, 100.0], 50.0, 0, 1) == 1.0
    assert stableswap_D([100.0, 100.0], 50.0) == pytest.approx(200.0)
    # A -> 0: constant product price x_j/x_i ; A -> inf: constant sum price 1
    assert stableswap_price([1e6, 3e6], 1e-7, 0, 1) == pytest.approx(3.0, rel=1e-4)
    assert stableswap_price([1e6, 3e6], 1e8, 0, 1) == pytest.approx(1.0, abs=1e-6)
    # A -> 0 swap output equals the constant-product output
    cs = stableswap_swap([1e6, 3e6], 1e-7, 0, 1, 1e5, fee=0.0)
    cp = cp_swap(1e6, 3e6, 1e5, fee=0.0)
    assert cs.amount_out == pytest.approx(cp.amount_out, rel=1e-4)


def test_D_solves_invariant_and_n_coins():
    bal = np.array([[491e3, 111e3, 0.0], [47.0, 46.0, 6.0]])[:, :2]
    for b in (np.array([491e3, 111e3]), np.array([47.0, 46.0, 6.0]), np.array([5.0, 1.0, 2.0, 9.0])):
        A, n = 30.0, len(b)
        D = stableswap_D(b, A)
        lhs = A * n**n * b.sum() + D
        rhs = A * D * n**n + D ** (n + 1) / (n**n * np.prod(b))
        assert lhs == pytest.approx(rhs, rel=1e-13)
    assert stableswap_D(bal, 30.0).shape == (2,)


def test_price_matches_finite_difference():
    b = np.array([[491e3, 111e3], [700.0, 300.0], [47.0, 46.0]])
    A = np.array([30.0, 100.0, 2000.0])
    h = 1e-6 * b[:, 0]
    y_up = stableswap_y(b, A, 0, 1, b[:, 0] + h)
    y_dn = stableswap_y(b, A, 0, 1, b[:, 0] - h)
    fd = (y_dn - y_up) / (2 * h)
    np.testing.assert_allclose(stableswap_price(b, A, 0, 1), fd, rtol=1e-6)


def test_swap_keeps_D_and_fee_grows_it():
    b = np.array([600.0, 400.0])
    r = stableswap_swap(b, 50.0, 0, 1, 100.0, fee=0.0)
    assert stableswap_D(r.balances, 50.0) == pytest.approx(stableswap_D(b, 50.0), rel=1e-13)
    rf = stableswap_swap(b, 50.0, 0, 1, 100.0)
    assert rf.amount_out == pytest.approx(r.amount_out * (1 - 0.0004))
    assert stableswap_D(rf.balances, 50.0) > stableswap_D(b, 50.0)


def test_non_convergence_reported():
    with pytest.raises(StableswapConvergenceError):
        stableswap_D([1.0, 1e9], 1000.0, max_iter=1)
    out = stableswap_D([[1.0, 1e9], [1.0, 1.0]], 1000.0, max_iter=1, errors="nan")
    # the balanced pool converges in its one step, to 2 within two ulps: Cardano's start takes np.cbrt, which
    # numpy's AVX-512 kernel rounds to give 2.0 and libm's (the suite's path, scripts/install-and-test.sh)
    # 2.0000000000000004
    assert np.isnan(out[0]) and out[1] == pytest.approx(2.0, rel=5e-16, abs=0.0)


def test_stableswap_validation():
    with pytest.raises(ValueError):
        stableswap_D([1.0, 0.0], 10.0)
    with pytest.raises(ValueError):
        stableswap_D([1.0], 10.0)
    with pytest.raises(ValueError):
        stableswap_price([1.0, 1.0], 10.0, 0, 0)
    with pytest.raises(ValueError):
        stableswap_swap([1.0, 1.0], -1.0, 0, 1, 1.0)


pools = hnp.arrays(np.float64, st.integers(1, 6).map(lambda k: (k, 2)), elements=st.floats(1e3, 1e9))


@SETTINGS
@given(pools, st.floats(1.0, 5000.0), st.floats(0.0, 2.0))
def test_stableswap_properties(bal, A, frac):
    dx = frac * bal[:, 0]
    r = stableswap_swap(bal, A, 0, 1, dx, fee=0.0004)
    assert np.all(r.amount_out >= 0) and np.all(r.amount_out < bal[:, 1])
    # no value created: never more than dx at a price >= 1 when coin 0 is abundant
    p0 = stableswap_price(bal, A, 0, 1)
    assert np.all(r.amount_out <= dx * np.maximum(p0, 0) * (1 + 1e-9) + 1e-6)
    p1 = stableswap_price(r.balances, A, 0, 1)
    assert np.all(p1 <= p0 * (1 + 1e-12))                         # selling i lowers its price
    # batched == one at a time
    for k in range(len(bal)):
        one = stableswap_swap(bal[k], A, 0, 1, dx[k], fee=0.0004)
        assert one.amount_out == pytest.approx(r.amount_out[k], rel=1e-12, abs=1e-9)


@SETTINGS
@given(st.lists(st.tuples(st.floats(1e-3, 1e12), st.floats(1e-6, 1e6), st.floats(0.5, 5000.0), st.floats(0.0, 3.0)),
                min_size=9, max_size=20), st.sampled_from([0, 1]), st.sampled_from([0.0, 0.0004]))
def test_stableswap_few_pools_on_floats_equal_a_batch_on_arrays(pools, i, fee):
    # Up to _stableswap_floats.FLOAT_POOLS pools are computed on Python floats, a larger batch on numpy arrays:
    # the same operations, so every result is the same to the last bit alone or in a batch.
    from core.mechanisms import _stableswap_floats

    bal = np.array([[x, x * r] for x, r, _, _ in pools])
    A = np.array([a for _, _, a, _ in pools])
    dx = np.array([x * f for x, _, _, f in pools]) + np.array([x for x, *_ in pools]) * 1e-9
    assert len(pools) > _stableswap_floats.FLOAT_POOLS
    D = stableswap_D(bal, A, errors="nan")
    batch = (D, stableswap_y(bal, A, i, 1 - i, bal[:, i] + dx, D=D, errors="nan"),
             stableswap_price(bal, A, i, 1 - i, D=D), stableswap_swap(bal, A, i, 1 - i, dx, fee, D=D, errors="nan"))
    for k in range(len(pools)):
        b, a = bal[k:k + 1], A[k:k + 1]
        d = stableswap_D(b, a, errors="nan")
        np.testing.assert_array_equal(d, D[k:k + 1])
        np.testing.assert_array_equal(stableswap_y(b, a, i, 1 - i, b[:, i] + dx[k:k + 1], D=d, errors="nan"), batch[1][k:k + 1])
        np.testing.assert_array_equal(stableswap_price(b, a, i, 1 - i, D=d), batch[2][k:k + 1])
        if np.isfinite(batch[1][k]):
            sw = stableswap_swap(b, a, i, 1 - i, dx[k:k + 1], fee, D=d, errors="nan")
            for f in ("amount_out", "balances", "fee_paid"):
                np.testing.assert_array_equal(getattr(sw, f), getattr(batch[3], f)[k:k + 1])

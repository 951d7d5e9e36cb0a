"""The liquidation step's cuts of session 28 give the numbers of the computations they replace, to the last bit:
the close-factor rule's repayments (and its seizures) alone (core.mechanisms.lending.close_factor_part, read by
the capital's ask and the pools' demand), and the pools' rooms solved only where a cohort's margin is positive
(core.engine.pool_solves.units_where, read by core.engine.limits.pool_rooms)."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import limits, pool_solves, simulate_batch
from core.mechanisms import lending
from core.scenario import Scenario


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def test_close_factor_part_worked_numbers():
    """Aave v3 at HF 100 x 0.8 / 85 = 0.941 <= 0.95: the whole 85 repaid, 85 x 1.05 = 89.25 seized; with liquidators
    taking at most 50 units the repayment is cut in proportion, 85 x 50 / 89.25 = 47.619..."""
    assert float(lending.close_factor_part("debt_repaid", 100.0, 85.0, 1.0, 1.0, 0.8, 0.05)) == 85.0
    assert float(lending.close_factor_part("collateral_seized", 100.0, 85.0, 1.0, 1.0, 0.8, 0.05)) == 89.25
    cut = float(lending.close_factor_part("debt_repaid", 100.0, 85.0, 1.0, 1.0, 0.8, 0.05, max_seize=50.0))
    assert cut == float(lending.liquidate_aave(100.0, 85.0, 1.0, 1.0, 0.8, 0.05, max_seize=50.0).debt_repaid)
    assert cut == pytest.approx(85.0 * 50.0 / 89.25, rel=1e-15)
    # HF 100 x 0.8 / 82 = 0.976 > 0.95: the close factor's half, 41, and 43.05 seized
    assert float(lending.close_factor_part("debt_repaid", 100.0, 82.0, 1.0, 1.0, 0.8, 0.05)) == 41.0


@pytest.mark.parametrize("seed", range(8))
def test_close_factor_part_is_the_rules(seed):
    """Random cohorts (some spread about their health factor, some one position; some past the full close, some
    under water, some with no debt; limits finite, zero or inf): each part is the whole rule's, signed zeros too."""
    rng = np.random.default_rng(seed)
    S, k = int(rng.integers(1, 4)), int(rng.integers(1, 40))
    coll = rng.uniform(0.0, 200.0, (S, k)) * (rng.random((S, k)) > 0.1)
    debt = rng.uniform(0.0, 120.0, (S, k)) * (rng.random((S, k)) > 0.1)
    Pc, Pd = rng.uniform(0.2, 2.0, (S, k)), rng.uniform(0.5, 1.5, (S, k))
    lt, bonus = rng.uniform(0.5, 0.9, (S, k)), rng.uniform(0.0, 0.15, (S, k))
    cf = rng.choice([0.5, 1.0, 0.41], (S, k))
    full_close = rng.choice([0.95, -1.0], k)
    spread = (rng.uniform(0.0, 0.1, k) * (rng.random(k) > 0.3)) if seed % 2 else None
    limit = np.where(rng.random((S, k)) < 0.3, np.inf, rng.uniform(0.0, 100.0, (S, k)) * (rng.random((S, k)) > 0.1))
    for max_seize in (None, limit):
        whole = lending.liquidate_aave(coll, debt, Pc, Pd, lt, bonus, cf, full_close, max_seize=max_seize, spread=spread)
        repaid = lending.close_factor_part("debt_repaid", coll, debt, Pc, Pd, lt, bonus, cf, full_close, spread=spread,
                                           max_seize=max_seize)
        assert _bits_equal(repaid, whole.debt_repaid)
    seized = lending.close_factor_part("collateral_seized", coll, debt, Pc, Pd, lt, bonus, cf, full_close, spread=spread)
    assert _bits_equal(seized, lending.liquidate_aave(coll, debt, Pc, Pd, lt, bonus, cf, full_close,
                                                      spread=spread).collateral_seized)


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


@pytest.mark.parametrize("seed", range(6))
def test_units_where_is_units_to_price_where_needed(net, monkeypatch, seed):
    """units_where solves the rows and columns with an element needed, each element as units_to_price solves it
    (one row or several, a few pools), 0.0 in the others, and no pool where none is needed."""
    from core.engine.compiled import compile_network
    from core.mechanisms._checks import trusted

    c = compile_network(net)
    rng = np.random.default_rng(200 + seed)
    ss = np.flatnonzero(np.isfinite(c.pool_A))
    S, m = int(rng.integers(1, 60)), int(rng.integers(1, 10))
    pj = rng.choice(ss, m)
    res = np.abs(c.pool_res0[pj][None] * np.exp(rng.normal(0.0, 0.5, (S, 1, 2))))
    target = np.exp(rng.normal(-0.2, 0.3, (S, m)))
    need = rng.random((S, m)) < (0.2, 0.5, 0.9, 1.0, 0.05, 0.0)[seed]
    with trusted():
        inv = pool_solves.pool_invariants(c, res, pj)
        every = pool_solves.units_to_price(c, res, pj, target, inv)
        some = pool_solves.units_where(c, res, pj, target, need, inv)
    solved = need.any(1)[:, None] & need.any(0)[None]
    assert _bits_equal(np.where(solved, some, 0.0), np.where(solved, every, 0.0)) and not some[~solved].any()
    if not need.any():
        monkeypatch.setattr(pool_solves, "units_to_price", lambda *a: pytest.fail("a pool solved where none is needed"))
        assert not pool_solves.units_where(c, res, pj, target, need, inv).any()


def _solve_every_room(c, res, pools, target, need, invariant=None):
    return pool_solves.units_to_price(c, res, pools, target, invariant)  # every element, as before units_where


@pytest.mark.parametrize("case", range(3))
def test_rooms_skipped_where_no_margin_change_no_bit(net, monkeypatch, case):
    """Whole runs whose capital is scarce and whose cohorts sell into the Curve stETH pool (the capital's search
    and the limit at the level it found solve the pools' rooms): every array of the result the same with each
    room solved, whatever its cohort's margin (the room of a cohort without one is never read)."""
    sc = [Scenario(price_shocks={"ETH": -0.43, "stETH": -0.43, "BTC": -0.35, "WBTC": -0.35}, run_intensity=0.3,
                   oracle_lag=1, liquidity=0.1, liquidator_capacity_usd=2e9, horizon=12),
          Scenario(price_shocks={"stETH": -0.3, "ETH": -0.25}, oracle_lag=0, liquidity=0.3, liquidator_capacity_usd=3e8),
          Scenario(price_shocks={"ETH": -0.55, "stETH": -0.6}, oracle_lag=2, liquidity=0.5,
                   liquidator_capacity_usd=1e8, run_intensity=0.6)][case]
    skipped = []

    def counted(c, res, pools, target, need, invariant=None):
        skipped.append(int(need.size - np.count_nonzero(need)))
        return pool_solves.units_where(c, res, pools, target, need, invariant)

    monkeypatch.setattr(limits, "units_where", counted)
    fast = simulate_batch(net, [sc])
    assert sum(skipped) > 0  # some room not solved for: its cohort's margin none
    monkeypatch.setattr(limits, "units_where", _solve_every_room)
    slow = simulate_batch(net, [sc])
    for f in ("equity", "loss", "defaulted", "bad_debt", "prices", "liquidated_usd", "total_loss", "rounds_run"):
        assert _bits_equal(getattr(fast, f), getattr(slow, f)), f
    for k in fast.history:
        assert _bits_equal(fast.history[k], slow.history[k]), k

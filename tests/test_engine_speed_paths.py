"""The engine's shortcuts give the same numbers to the last bit as the computations they skip: the liquidators'
capital search with the pool-priced cohorts bounded before their pools are solved (core.engine.capital), and
cohorts sharing one pool solve (core.engine.pools.units_to_price). Each shortcut is switched off by a module
flag and the whole run compared, array by array, on scenarios whose capital is scarce and whose cohorts sell
into the Curve stETH pool."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import capital, pools, simulate_batch
from core.scenario import Scenario

FIELDS = ("equity", "loss", "defaulted", "bad_debt", "prices", "liquidated_usd", "total_loss", "rounds_run", "writedowns")


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


def _scenarios(net) -> list[Scenario]:
    # a Black Thursday-style gap (the reference engine's preset: capital $2bn x liquidity 0.1 a round, scarce
    # from round 0) and random shocks with a scarce capital, several rows searching at once
    out = [Scenario(price_shocks={"ETH": -0.43, "stETH": -0.43, "BTC": -0.35, "WBTC": -0.35}, run_intensity=0.3,
                    oracle_lag=1, liquidity=0.1, liquidator_capacity_usd=2e9, horizon=12)]
    rng = np.random.default_rng(5)
    syms = [s for s in net.assets["symbol"] if s in ("ETH", "stETH", "BTC", "LUNA", "UST", "FTT")]
    for _ in range(5):
        shocks = {str(a): float(-rng.uniform(0.1, 0.6)) for a in rng.choice(syms, size=2, replace=False)}
        out.append(Scenario(price_shocks=shocks, oracle_lag=int(rng.integers(0, 3)), liquidity=float(rng.uniform(0.1, 1.0)),
                            liquidator_capacity_usd=float(10 ** rng.uniform(7, 9)), run_intensity=float(rng.uniform(0, 1))))
    return out


def _same(a, b) -> None:
    for f in FIELDS:
        x, y = np.asarray(getattr(a, f)), np.asarray(getattr(b, f))
        assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f
    for k in a.history:
        assert np.array_equal(np.asarray(a.history[k]), np.asarray(b.history[k]), equal_nan=True), k


@pytest.mark.parametrize("flag", [(capital, "BOUND_POOL_COHORTS"), (capital, "GUIDED"), (pools, "SHARE_SOLVES")], ids=lambda f: f[1])
def test_shortcut_changes_no_bit(net, monkeypatch, flag):
    scs = _scenarios(net)
    fast_one = simulate_batch(net, scs[:1], record=True)
    fast = simulate_batch(net, scs)
    monkeypatch.setattr(*flag, False)
    _same(fast_one, simulate_batch(net, scs[:1], record=True))
    _same(fast, simulate_batch(net, scs))


@pytest.mark.parametrize("seed", range(12))
def test_add_columns_in_order_is_add_at(seed):
    """core.engine.sell.add_columns_in_order (the liquidations' repayments into the holdings) adds as np.add.at
    does, each column's values in the order given, to the last bit, on every row or some."""
    from core.engine.sell import add_columns_in_order

    rng = np.random.default_rng(seed)
    S, K, n = int(rng.integers(1, 40)), int(rng.integers(1, 30)), int(rng.integers(0, 120))
    cols = rng.integers(0, K, n)
    total = rng.normal(size=(S, K)) * 10.0 ** rng.integers(-3, 12, (S, K))
    rows = None if seed % 2 else rng.choice(S, size=int(rng.integers(1, S + 1)), replace=False)
    if rows is not None and seed % 4 == 0:
        rows = np.sort(rows)
    values = rng.normal(size=(S if rows is None else len(rows), n)) * 10.0 ** rng.integers(-8, 10, n)
    values[rng.random(values.shape) < 0.2] = -0.0  # signed zeros added as np.add.at adds them
    want = total.copy()
    np.add.at(want, (slice(None) if rows is None else rows[:, None], cols), values)
    got = total.copy()
    add_columns_in_order(got, rows, cols, values)
    assert np.array_equal(got, want)

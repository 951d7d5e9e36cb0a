"""Multi-step Monte Carlo paths (core/montecarlo_paths.py and the path option of core/montecarlo.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import datasets
from core.engine import simulate_batch
from core.montecarlo import ShockModel, load_episodes, parse_spec, run_montecarlo
from core.montecarlo_paths import event_steps, step_days
from core.scenario import Scenario
from core.validation import DataValidationError

TABLES = ("losses", "risk", "entities", "paths", "convergence")
PATHS = {"dist": "t", "df": 3, "vol_multiplier": 2, "horizon_days": 5, "jumps": {"ETH": {"probability": 0.05}}}


@pytest.fixture(scope="module")
def net():
    return datasets.load("crypto-2022-05")


def _model(net, **spec):
    return ShockModel.from_spec(net, parse_spec(spec))


def assert_same(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_steps_add_up_to_the_horizon():
    assert step_days(10, 24).tolist() == [1.0] * 10
    assert step_days(1, 6).tolist() == [0.25] * 4
    assert step_days(2.5, 24).sum() == 2.5 and len(step_days(2.5, 24)) == 3


def test_event_dates_follow_the_geometric_law():
    # P(event by the end of day t) = 1 - (1-p)^t: the share dated in each of 10 days matches it.
    u = np.random.default_rng(0).random((200_000, 1))
    when = event_steps(u, np.array([0.1]), np.arange(1.0, 11.0))[:, 0]
    by = np.array([(when <= t).mean() for t in range(10)])
    np.testing.assert_allclose(by, 1 - 0.9 ** np.arange(1, 11), atol=4e-3)


def test_one_round_is_the_jump_model(net):
    # A one-day horizon in daily rounds is one step: no path, the old draws bit for bit.
    assert not _model(net, horizon_days=1).multi_step
    assert_same(run_montecarlo(net, {"dist": "t"}, runs=100, seed=3, chunk_size=100),
                run_montecarlo(net, {"dist": "t", "path": "jump"}, runs=100, seed=3, chunk_size=100))


def test_daily_path_has_the_model_s_variance_correlation_and_independent_steps(net):
    m = _model(net, horizon_days=4, default_depegs=False)
    x = m.draw_paths(1, 0, 6000)                       # (runs, 4 days, k)
    syms = list(net.assets["symbol"])
    eth, btc = syms.index("ETH"), syms.index("BTC")
    vol = net.assets.set_index("symbol")["daily_vol"]
    step = np.diff(np.concatenate([np.zeros((len(x), 1, x.shape[2])), x], 1), axis=1)
    assert x[:, -1, eth].std() == pytest.approx(vol["ETH"] * 2.0, rel=0.04)   # sqrt(4 days)
    rho = net.correlations.set_index(["asset_a", "asset_b"]).loc[("ETH", "BTC"), "correlation"]  # 0.847 (computed, 2022)
    assert np.corrcoef(step[:, 2, eth], step[:, 2, btc])[0, 1] == pytest.approx(rho, abs=0.02)
    assert abs(np.corrcoef(step[:, 0, eth], step[:, 1, eth])[0, 1]) < 0.04      # independent days
    steth = syms.index("stETH")
    np.testing.assert_array_equal(x[:, :, steth], x[:, :, eth])                  # a follower takes its unit's path


def test_first_day_of_a_path_is_the_jump_model_s_first_day(net):
    path, jump = _model(net, horizon_days=3, default_depegs=False), _model(net, horizon_days=1, default_depegs=False)
    np.testing.assert_array_equal(path.draw_paths(9, 0, 250)[:, 0], jump.draw(9, 0, 250)[0])


def test_a_run_s_path_depends_only_on_seed_and_index(net):
    m = _model(net, **PATHS)
    whole = m.draw_paths(4, 0, 2300)
    np.testing.assert_array_equal(m.draw_paths(4, 1100, 1300), whole[1100:1300])
    np.testing.assert_array_equal(m.draw_paths(4, 950, 1010), whole[950:1010])


def test_same_seed_same_paths_result_across_chunks_and_backends(net):
    ref = run_montecarlo(net, PATHS, runs=300, seed=5, chunk_size=100)
    assert_same(ref, run_montecarlo(net, PATHS, runs=300, seed=5, chunk_size=300))
    assert_same(ref, run_montecarlo(net, PATHS, runs=300, seed=5, chunk_size=200, backend="processes", workers=2))


def test_a_path_gives_liquidators_time(net):
    # The same ten-day distribution of moves as one jump or as ten daily steps: less bad debt along the path.
    spec = {"horizon_days": 10, "vol_multiplier": 2}
    jump = run_montecarlo(net, spec | {"path": "jump"}, runs=200, seed=3, chunk_size=100)
    daily = run_montecarlo(net, spec, runs=200, seed=3, chunk_size=100)
    assert daily.losses["bad_debt_usd"].mean() < jump.losses["bad_debt_usd"].mean()


def test_historical_replay_follows_each_episode_s_path(net):
    res = run_montecarlo(net, {"source": "historical"}, runs=100, seed=4, chunk_size=100)
    first = res.losses.groupby("episode")["system_loss_usd"].first()
    for name, sc in load_episodes(net).items():
        alone = simulate_batch(net, [Scenario(price_shocks=sc.price_shocks, depegs=sc.depegs, price_paths=sc.price_paths,
                                              shock_rounds=sc.shock_rounds, horizon=sc.horizon)])
        assert first[name] == pytest.approx(alone.total_loss[0], rel=1e-9), name


def test_too_many_rounds_for_a_path_is_refused(net):
    with pytest.raises(DataValidationError, match="horizon_days"):
        _model(net, horizon_days=365, base={"round_hours": 1})
    assert _model(net, horizon_days=365, base={"round_hours": 1}, path="jump").path_steps.size == 0


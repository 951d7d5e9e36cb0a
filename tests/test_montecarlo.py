"""Monte Carlo of correlated shocks, sweeps and backends (core/montecarlo.py, core/sweep.py, core/backends.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import datasets
from core.cli import main
from core.montecarlo import (RNG_BLOCK, MonteCarloResult, ShockModel, correlated_returns, correlation_matrix,
                             expected_shortfall, parse_spec, run_montecarlo, value_at_risk)
from core.network import Network
from core.scenario import Scenario
from core.sweep import parse_grid, sweep
from core.validation import DataValidationError

TABLES = ("losses", "risk", "entities", "paths", "convergence")
STRESS = {"dist": "t", "df": 3, "vol_multiplier": 3}


@pytest.fixture(scope="module")
def net() -> Network:
    return datasets.load("crypto-2022-05")


@pytest.fixture(scope="module")
def reference(net) -> MonteCarloResult:
    """600 stressed runs in process, chunks of 200: the result every backend must reproduce."""
    return run_montecarlo(net, STRESS, runs=600, seed=11, chunk_size=200)


def assert_same(a: MonteCarloResult, b: MonteCarloResult) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def _with_correlations(net: Network, rows: list[tuple[str, str, float]]) -> Network:
    corr = pd.DataFrame({"asset_a": [r[0] for r in rows], "asset_b": [r[1] for r in rows],
                         "correlation": [r[2] for r in rows], "as_of": "2022-05-06", "source": "test",
                         "flag": "estimate", "note": ""})
    return Network.from_frames(name="t", **(net.frames() | {"correlations": corr}))


# -- shock generation ---------------------------------------------------------------------------

@pytest.mark.parametrize("dist", ["normal", "t"])
def test_sample_correlation_and_volatility_match_the_specification(net, dist):
    r = correlated_returns(net, 40_000, seed=3, dist=dist, df=5, horizon_days=4)
    free = ["ETH", "BTC", "LUNA", "FTT", "CEL", "GBTC"]
    C = correlation_matrix(net, free)
    S = r[free].corr()
    assert np.abs(S.to_numpy() - C.to_numpy()).max() < 0.03
    vol = net.assets.set_index("symbol")["daily_vol"][free] * 2.0  # √4 days
    np.testing.assert_allclose(r[free].std().to_numpy(), vol.to_numpy(), rtol=0.05)
    # pegged assets follow their peg: stETH moves with ETH, WBTC with BTC, USD stables stay put
    assert (r["stETH"] == r["ETH"]).all() and (r["WBTC"] == r["BTC"]).all() and (r["USDC"] == 0).all()


def test_student_t_has_fatter_tails_than_normal(net):
    n = correlated_returns(net, 40_000, seed=1)["ETH"]
    t = correlated_returns(net, 40_000, seed=1, dist="t", df=3)["ETH"]
    assert t.kurt() > n.kurt() + 3
    assert abs(t.std() / n.std() - 1) < 0.1  # same volatility


def test_draws_depend_only_on_seed_and_run_index(net):
    whole = correlated_returns(net, 2 * RNG_BLOCK + 50, seed=9)
    part = correlated_returns(net, 300, seed=9, start=RNG_BLOCK - 100)
    np.testing.assert_array_equal(whole.iloc[RNG_BLOCK - 100:RNG_BLOCK + 200].to_numpy(), part.to_numpy())
    assert not np.array_equal(whole.to_numpy()[:10], correlated_returns(net, 10, seed=10).to_numpy())


def test_depegs_and_jumps_follow_their_probabilities(net):
    spec = parse_spec({"default_depegs": False, "depegs": {"USDC": {"probability": 0.1, "size_min": 0.05, "size_max": 0.1}},
                       "jumps": {"ETH": {"probability": 0.2, "mean": -0.3, "sd": 0.0}}, "horizon_days": 2})
    r, d, _ = ShockModel.from_spec(net, spec).draw(0, 0, 20_000)
    usdc = list(net.assets["symbol"]).index("USDC")
    hit = d[:, usdc] > 0
    assert abs(hit.mean() - (1 - 0.9 ** 2)) < 0.01
    assert d[hit, usdc].min() >= 0.05 and d[hit, usdc].max() <= 0.1 and (d[:, [i for i in range(d.shape[1]) if i != usdc]] == 0).all()
    eth = list(net.assets["symbol"]).index("ETH")
    steth = list(net.assets["symbol"]).index("stETH")
    assert r[:, eth].mean() == pytest.approx(-0.3 * (1 - 0.8 ** 2), abs=0.01)
    np.testing.assert_array_equal(r[:, steth], r[:, eth])  # the jump reaches the follower


def test_non_psd_correlations_raise_naming_the_pair(net):
    bad = _with_correlations(net, [("ETH", "BTC", 0.9), ("ETH", "LUNA", 0.9), ("BTC", "LUNA", -0.9)])
    with pytest.raises(DataValidationError) as exc:
        correlation_matrix(bad, ["ETH", "BTC", "LUNA"])
    msg = str(exc.value)
    assert "positive semi-definite" in msg and "BTC–LUNA" in msg
    with pytest.raises(DataValidationError):
        run_montecarlo(bad, {}, runs=100)


def test_bad_spec_and_arguments_raise_validation_errors(net):
    for doc in ({"dist": "cauchy"}, {"df": 2}, {"jumps": {"NOPE": {"probability": 0.1}}},
                {"depegs": {"ETH": {"probability": 0.1}}}, {"depegs": {"USDC": {"probability": 0.1, "size_min": 0.5, "size_max": 0.1}}}):
        with pytest.raises(DataValidationError):
            run_montecarlo(net, doc, runs=100)
    with pytest.raises(DataValidationError):
        run_montecarlo(net, {}, runs=0)
    with pytest.raises(DataValidationError):
        run_montecarlo(net, {}, runs=100, chunk_size=150)
    with pytest.raises(DataValidationError):
        run_montecarlo(net, {}, runs=100, backend="gpu")


# -- risk measures and convergence ------------------------------------------------------------

def test_var_and_es_agree_with_numpy_on_the_same_samples(reference):
    x = reference.losses["system_loss_usd"].to_numpy()
    for a in (0.95, 0.99):
        var, se = reference.risk_value("system_loss_usd", "VaR", a)
        assert var == np.quantile(x, a, method="inverted_cdf") and se > 0
        es, _ = reference.risk_value("system_loss_usd", "ES", a)
        worst = np.sort(x)[::-1][: int(round(len(x) * (1 - a)))]
        assert es == pytest.approx(worst.mean(), rel=1e-12) and es >= var
    y = reference.losses["liquidated_usd"].to_numpy()
    assert reference.risk_value("liquidated_usd", "VaR", 0.99)[0] == np.quantile(y, 0.99, method="inverted_cdf")
    # fractional tail (Acerbi–Tasche): w = 1000·0.015 = 15 exactly; w = 7·0.5 = 3.5
    z = np.arange(7.0)
    assert expected_shortfall(z, 0.5) == pytest.approx((6 + 5 + 4 + 0.5 * 3) / 3.5)
    assert value_at_risk(z, 0.5) == 3.0


def test_default_probabilities_converge_with_binomial_standard_errors(net):
    small = run_montecarlo(net, STRESS, runs=300, seed=2, chunk_size=100)
    big = run_montecarlo(net, STRESS, runs=1200, seed=2, chunk_size=600)
    s, b = small.entities.set_index("entity"), big.entities.set_index("entity")
    e = b["probability_of_default"].idxmax()
    p = b.loc[e, "probability_of_default"]
    assert 0 < p < 1
    assert b.loc[e, "pd_standard_error"] == pytest.approx(np.sqrt(p * (1 - p) / 1200))
    ratio = s.loc[e, "pd_standard_error"] / b.loc[e, "pd_standard_error"]
    assert 1.4 < ratio < 2.9  # ~ sqrt(4) = 2
    assert abs(s.loc[e, "probability_of_default"] - p) < 4 * s.loc[e, "pd_standard_error"]
    # the first 300 runs of the big run are the small run
    np.testing.assert_array_equal(big.losses["system_loss_usd"].to_numpy()[:300], small.losses["system_loss_usd"].to_numpy())
    conv = big.convergence
    assert list(conv["runs"]) == [100, 200, 500, 1000, 1200]
    assert conv["mean_loss_se"].iloc[-1] < conv["mean_loss_se"].iloc[0]


def test_result_tables_are_consistent(net, reference):
    L, E, P = reference.losses, reference.entities, reference.paths
    assert len(L) == 600 and (L["defaults"] >= 0).all()
    assert E["probability_of_default"].sum() * 600 == pytest.approx(L["defaults"].sum())
    assert E["expected_loss_usd"].ge(0).all() and E["el_standard_error"].ge(0).all()
    assert set(P.columns) >= {"debtor", "creditor", "exposure_usd", "probability", "standard_error", "p_debtor_default"}
    assert (P["probability"] <= P["p_debtor_default"] + 1e-15).all()
    back = MonteCarloResult.from_json(reference.to_json())
    for table in ("losses", "entities", "paths", "risk"):  # every digit and dtype comes back
        pd.testing.assert_frame_equal(getattr(back, table), getattr(reference, table), check_exact=True)
    assert back.meta["runs"] == 600


def test_historical_replay_uses_the_preset_moves(net):
    res = run_montecarlo(net, {"source": "historical", "episodes": ["terra_may_2022", "black_thursday_eth_crash"]},
                         runs=200, seed=4, chunk_size=100)
    assert set(res.losses["episode"]) == {"terra_may_2022", "black_thursday_eth_crash"}
    by = res.losses.groupby("episode")["system_loss_usd"]
    assert (by.nunique() == 1).all()  # each episode is one deterministic cascade
    assert (by.first() > 0).all()


# -- seed stability across backends and chunking ------------------------------------------------

def test_same_seed_same_result_across_chunk_sizes(net, reference):
    assert_same(reference, run_montecarlo(net, STRESS, runs=600, seed=11, chunk_size=100))
    assert_same(reference, run_montecarlo(net, STRESS, runs=600, seed=11, chunk_size=1000))


@pytest.mark.parametrize("name", ["crypto-2022-05", "crypto-2025-10"])
def test_engine_rows_do_not_depend_on_batch_mates(name):
    """400 stressed runs through the engine in batches of 1, 7 and 100 rows give the bits of one batch of 400."""
    import core.montecarlo as mc
    from core.montecarlo_chunks import _edges

    net = datasets.load(name)
    spec = mc.parse_spec(STRESS)
    edges = _edges(net)
    job = mc.Job(cells=(spec.base.model_dump_json(),), model=ShockModel.from_spec(net, spec), seed=5,
                 edge_debtor=net.entity_pos(edges["debtor"]), edge_creditor=net.entity_pos(edges["creditor"]))
    runs = 400
    shock, depeg, _ = job.model.draw(job.seed, 0, runs)
    base = mc.scenario_batch(net, spec.base, repeat=runs)
    batch = base.replace(shock=base.shock * np.exp(shock), depeg=np.maximum(base.depeg, depeg))
    from core.engine import run_batch
    from core.engine.batch import batch_take

    whole = run_batch(net, batch)
    for size in (1, 7, 100):
        parts = [run_batch(net, batch_take(batch, np.arange(a, min(runs, a + size)))) for a in range(0, runs, size)]
        for field in ("total_loss", "insurance_draw", "perps_usd", "loss"):
            np.testing.assert_array_equal(np.concatenate([getattr(p, field) for p in parts]), getattr(whole, field),
                                          err_msg=f"{field}, batches of {size}")


def test_processes_backend_gives_identical_results(net, reference):
    assert_same(reference, run_montecarlo(net, STRESS, runs=600, seed=11, chunk_size=300, backend="processes", workers=2))


def test_dask_local_cluster_gives_identical_results(net, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        seen = []
        res = run_montecarlo(net, STRESS, runs=600, seed=11, chunk_size=200, backend="dask",
                             scheduler=cluster.scheduler_address, progress=lambda d, n: seen.append((d, n)))
    assert_same(reference, res)
    assert seen[0] == (0, 600) and seen[-1] == (600, 600)


def test_progress_callback_counts_runs(net):
    seen = []
    run_montecarlo(net, {}, runs=300, seed=0, chunk_size=100, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(0, 300), (100, 300), (200, 300), (300, 300)]


# -- sweeps ---------------------------------------------------------------------------------------

def test_sweep_reports_every_cell_and_insurance_absorbs_bad_debt(net):
    crash = Scenario(name="crash", price_shocks={"ETH": -0.55, "stETH": -0.6, "BTC": -0.4, "WBTC": -0.4}, liquidity=0.3)
    df = sweep(net, crash, {"insurance_multiplier": [0.0, 100.0], "max_close_factor": [0.25, 0.5, 1.0]})
    assert len(df) == 6 and list(df.columns[:2]) == ["insurance_multiplier", "max_close_factor"]
    assert (df["bad_debt_usd"] > 0).all()
    zero, big = df[df.insurance_multiplier == 0], df[df.insurance_multiplier == 100]
    assert (zero["uncovered_bad_debt_usd"].to_numpy() >= big["uncovered_bad_debt_usd"].to_numpy()).all()
    # one cell equals a direct simulation of its scenario
    from core.engine import simulate_batch
    sc = crash.model_copy(update={"safeguards": crash.safeguards.model_copy(update={"insurance_multiplier": 0.0, "max_close_factor": 0.5})})
    br = simulate_batch(net, [sc])
    row = df[(df.insurance_multiplier == 0) & (df.max_close_factor == 0.5)].iloc[0]
    assert row["bad_debt_usd"] == pytest.approx(br.bad_debt.sum(), rel=1e-9)
    # the same bad debt at par (the page's card and the heatmap's default)
    assert row["bad_debt_reference_usd"] == pytest.approx(br.bad_debt_reference_usd.sum(), rel=1e-9)
    assert row["bad_debt_reference_usd"] > 0
    assert row["liquidated_usd"] == pytest.approx(br.liquidated_usd[0], rel=1e-9)


def test_monte_carlo_sweep_uses_common_random_numbers(net):
    df = sweep(net, None, {"circuit_breaker_threshold": [0.1, 0.5]}, spec=STRESS, runs=200, seed=5, chunk_size=100)
    assert list(df["runs"]) == [200, 200] and {"bad_debt_var_99_usd", "p_insolvent_se", "liquidated_usd_se"} <= set(df.columns)
    again = sweep(net, None, {"circuit_breaker_threshold": [0.1, 0.5]}, spec=STRESS, runs=200, seed=5, chunk_size=200)
    pd.testing.assert_frame_equal(df, again, check_exact=True)


def test_sweep_rejects_bad_parameters(net):
    with pytest.raises(DataValidationError):
        sweep(net, Scenario(), {"nope": [1.0]})
    with pytest.raises(DataValidationError, match="sweep cell 1"):
        sweep(net, Scenario(), {"collateral_multiplier": [0.5]})
    with pytest.raises(DataValidationError):
        sweep(net, Scenario(), {"collateral_multiplier": [1.0], "max_close_factor": [0.5], "liquidity": [1.0]})
    assert parse_grid("liquidation_threshold_multiplier=1:1.5:2")[0] == "collateral_multiplier"
    with pytest.raises(DataValidationError):
        parse_grid("max_close_factor=0.1:0.5")


# -- command line -------------------------------------------------------------------------------

def test_cli_montecarlo_and_sweep(tmp_path, capsys):
    out = tmp_path / "mc.json"
    assert main(["montecarlo", "--runs", "200", "--seed", "1", "--dist", "t", "--chunk-size", "100", "--out", str(out)]) == 0
    text = capsys.readouterr()
    assert "VaR99" in text.out and "±" in text.out
    assert json.loads(out.read_text())["meta"]["runs"] == 200
    csv = tmp_path / "sweep.csv"
    assert main(["sweep", "--param", "max_liquidation_bonus=0.02:0.1:2", "--scenario", "data/scenarios/black_thursday_eth_crash.json",
                 "--out", str(csv)]) == 0
    assert len(pd.read_csv(csv)) == 2
    assert main(["montecarlo", "--runs", "100", "--chunk-size", "150"]) == 2
    assert main(["montecarlo", "--backend", "dask"]) == 2
    assert main(["sweep", "--param", "collateral_multiplier=0.5:2:2", "--scenario", "data/scenarios/black_thursday_eth_crash.json"]) == 2
    assert main(["montecarlo", "--runs", "100", "--spec", str(tmp_path / "missing.json")]) == 2


@pytest.fixture(scope="module")
def stressed_batches():
    """A stressed batch of 120 runs on each shipped network (the 2022 one has Maker and Terra, the 2025 one
    perpetuals venues), and its result as one batch."""
    import core.montecarlo as mc
    from core.engine import run_batch

    out = {}
    for name in ("crypto-2022-05", "crypto-2025-10"):
        net = datasets.load(name)
        spec = mc.parse_spec(STRESS)
        shock, depeg, _ = ShockModel.from_spec(net, spec).draw(7, 0, 120)
        base = mc.scenario_batch(net, spec.base, repeat=120)
        batch = base.replace(shock=base.shock * np.exp(shock), depeg=np.maximum(base.depeg, depeg))
        out[name] = (net, batch, run_batch(net, batch))
    return out


@settings(max_examples=6, deadline=None)
@given(name=st.sampled_from(["crypto-2022-05", "crypto-2025-10"]), data=st.data())
def test_any_cut_and_order_of_a_batch_gives_each_row_the_same_bits(stressed_batches, name, data):
    """Rows of a stressed batch, shuffled and cut into batches of any sizes, come back bit-identical: sums over
    rows' groups run in one order whatever the batch (sparse products, row-major sums), and no step's branch
    taken for a batch-mate changes a row that does not need it."""
    from core.engine import run_batch
    from core.engine.batch import batch_take
    from core.engine.outcome import PER_SCENARIO

    net, batch, whole = stressed_batches[name]
    rows = np.asarray(data.draw(st.permutations(range(batch.S)), label="order"))
    cuts = sorted(data.draw(st.sets(st.integers(1, batch.S - 1), max_size=6), label="cuts"))
    parts = [(idx, run_batch(net, batch_take(batch, idx))) for idx in np.split(rows, cuts)]
    for field in PER_SCENARIO:
        got = np.empty_like(getattr(whole, field))
        for idx, p in parts:
            got[idx] = getattr(p, field)
        np.testing.assert_array_equal(got, getattr(whole, field), err_msg=field)
    for ch, full in whole.channel_parts.items():
        got = np.empty_like(full)
        for idx, p in parts:
            got[idx] = p.channel_parts[ch]
        np.testing.assert_array_equal(got, full, err_msg=ch)

"""Monte Carlo's fast paths give the same numbers to the last bit as the paths they replace.

* chunks run side by side on threads in process (``core.backends.map_chunks(threads=True)``) against one
  chunk after another, on the exact and the streamed estimators;
* the liquidators' limit weighed for the cohorts due only (``core.engine.liquidate.SKIP_IDLE_COHORTS``) and a
  pool's rooms solved only in the rows whose cohorts ask for collateral (``core.engine.limits.SKIP_UNASKED_ROWS``),
  each switched off by its flag and whole batches compared array by array, stressed Monte Carlo draws with
  lagging oracles and an unlimited capital (where both shortcuts run) on both shipped networks;
* a batch larger than one cache-sized part run a part at a time, the parts' live rows gathered for the last rounds
  (:mod:`core.engine.staged`), against the whole batch run at once, on the lagged batches below (parts whose
  oracles lag differently do not share a structure) and on a whole Monte Carlo;
* the sale's terms computed once per token and a pool's invariant once per pool
  (:func:`core.engine.limits.limit_terms`), against the per-cohort formulas they replace, on random states;
* a Monte Carlo batch's runs handed to the engine deepest draw first (:func:`core.montecarlo_chunks.deepest_first`)
  against the runs in their own order, whole Monte Carlos on both shipped networks in small staged parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core.chunks
import core.montecarlo as mc
import core.montecarlo_chunks
from core import datasets
from core.chunks import engine_threads
from core.engine import compile_network, limits, liquidate, run_batch, simulate_batch, staged
from core.engine.outcome import BatchResult
from core.engine.pool_solves import pool_invariants
from core.mechanisms import market
from core.shock_model import ShockModel

STRESS = {"dist": "t", "df": 3, "vol_multiplier": 3}
TABLES = ("risk", "entities", "paths", "losses", "convergence")


@pytest.mark.parametrize("streaming", [False, True], ids=["exact", "streamed"])
def test_threaded_chunks_give_the_serial_result(streaming):
    net = datasets.load("crypto-2022-05")
    with engine_threads(1):
        serial = mc.run_montecarlo(net, STRESS, runs=800, seed=4, chunk_size=200, streaming=streaming)
    with engine_threads(2):
        threaded = mc.run_montecarlo(net, STRESS, runs=800, seed=4, chunk_size=200, streaming=streaming)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(threaded, name), check_exact=True)


@pytest.fixture(scope="module")
def lagged_batches():
    """300 stressed runs on each shipped network, a third of them with oracles lagging 1 and 2 rounds, the
    capital unlimited: the liquidators weigh the trade on the cohorts a pool prices, whatever the lag."""
    out = {}
    for name in ("crypto-2022-05", "crypto-2025-10"):
        net = datasets.load(name)
        spec = mc.parse_spec(STRESS)
        shock, depeg, _ = ShockModel.from_spec(net, spec).draw(3, 0, 300)
        base = mc.scenario_batch(net, spec.base, repeat=300)
        lag = np.arange(300) % 3
        batch = base.replace(shock=base.shock * np.exp(shock), depeg=np.maximum(base.depeg, depeg), lag=lag,
                             liquidity=np.where(lag > 0, 0.3, 1.0))
        assert np.isinf(batch.capacity).all()
        out[name] = (net, batch)
    return out


def _same(a, b) -> None:
    for f in BatchResult.__dataclass_fields__:
        x, y = getattr(a, f), getattr(b, f)
        if f == "channel_parts":
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x), f
        elif isinstance(x, np.ndarray):
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f


@pytest.fixture(scope="module")
def shortcut_runs(lagged_batches):
    """``shortcut_runs(name)``: the network's lagged batch run with both shortcuts on (their defaults), once per
    process: the two shortcuts' tests each compare their own run with the shortcut off against the same run (the
    engine gives the same output for the same input; it was run once for each shortcut before)."""
    runs: dict[str, BatchResult] = {}

    def run(name: str) -> BatchResult:
        if name not in runs:
            assert liquidate.SKIP_IDLE_COHORTS and limits.SKIP_UNASKED_ROWS, "run with the shortcuts at their defaults"
            runs[name] = run_batch(*lagged_batches[name])
        return runs[name]

    return run


@pytest.mark.parametrize("flag", [(liquidate, "SKIP_IDLE_COHORTS"), (limits, "SKIP_UNASKED_ROWS")], ids=lambda f: f[1])
@pytest.mark.parametrize("name", ["crypto-2022-05", "crypto-2025-10"])
def test_liquidator_limit_shortcuts_change_no_bit(lagged_batches, shortcut_runs, monkeypatch, flag, name):
    net, batch = lagged_batches[name]
    fast = shortcut_runs(name)
    assert fast.liquidated_usd.sum() > 0
    monkeypatch.setattr(*flag, False)
    _same(fast, run_batch(net, batch))


@pytest.mark.parametrize("lag", [0, 1])
def test_unlagged_rows_weigh_the_cohorts_apart_only_and_change_no_bit(monkeypatch, lag):
    """With no row's oracle lagging, the limit is weighed for the cohorts due and apart (a pool prices their
    collateral, or a redeemable token is on either side) only: every other's is inf whatever its terms. A storm on
    a synthetic network (a pool prices a third of its cohorts; a fifth are due a round), with and without a lag,
    against every cohort weighed, array by array; unlagged, the views weighed hold apart cohorts only."""
    from core.scenario import Scenario

    net = datasets.synthetic(3_000, 30_000, seed=1)
    storm = Scenario(forced_defaults=list(net.entities["id"][:3]), price_shocks={"ETH": -0.3, "BTC": -0.2},
                     run_intensity=0.5, horizon=12, oracle_lag=lag)
    weighed = []  # each view's cohorts' ``apart``
    original = limits.liquidator_limit

    def spy(c, P, Po, bonus, sold_before, supply, liquidity, lag, apart, *args, **kwargs):
        if isinstance(c, limits.Cohorts):
            weighed.append(np.asarray(apart))
        return original(c, P, Po, bonus, sold_before, supply, liquidity, lag, apart, *args, **kwargs)

    monkeypatch.setattr(liquidate, "liquidator_limit", spy)
    fast = simulate_batch(net, [storm])
    assert fast.liquidated_usd.sum() > 0 and weighed
    assert all(a.all() for a in weighed) == (lag == 0)
    monkeypatch.setattr(liquidate, "SKIP_IDLE_COHORTS", False)
    _same(fast, simulate_batch(net, [storm]))


def test_the_cohorts_shortcut_runs_on_the_stressed_batch(lagged_batches, monkeypatch):
    """The shortcut is taken (the cohorts due are fewer than half) on the batch the test above compares."""
    net, batch = lagged_batches["crypto-2022-05"]
    cuts = []
    original = limits.liquidator_limit

    def spy(c, *args, **kwargs):
        cuts.append(isinstance(c, limits.Cohorts))
        return original(c, *args, **kwargs)

    monkeypatch.setattr(liquidate, "liquidator_limit", spy)
    run_batch(net, batch)
    assert any(cuts)


def _parts_of(monkeypatch, net, rows: int) -> None:
    """Cache-sized parts of ``rows`` rows on ``net`` (core.chunks.chunk_rows of the engine's width)."""
    c = compile_network(net)
    width = c.n + (0 if c.perps is None else len(c.perps.row_entity))
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * width * rows)


def _spy_gather(monkeypatch) -> list[tuple[int, int]]:
    """(parts waiting, parts after gathering) of each staged batch."""
    seen = []
    original = staged.gather

    def spy(b, parts, cap):
        out = original(b, parts, cap)
        seen.append((len(parts), len(out)))
        return out

    monkeypatch.setattr(staged, "gather", spy)
    return seen


@pytest.mark.parametrize("name", ["crypto-2022-05", "crypto-2025-10"])
def test_staged_parts_give_the_whole_batch(lagged_batches, monkeypatch, name):
    net, batch = lagged_batches[name]
    whole = run_batch(net, batch)  # 300 rows within one cache-sized part: one batch, start to end
    _parts_of(monkeypatch, net, 40)
    seen = _spy_gather(monkeypatch)
    with engine_threads(1):
        parts = run_batch(net, batch)
    _same(whole, parts)
    assert any(before > after for before, after in seen)  # some parts waited and were gathered into fewer


def test_staged_monte_carlo_gives_the_chunked_result(monkeypatch):
    net = datasets.load("crypto-2022-05")
    small = mc.run_montecarlo(net, STRESS, runs=1200, seed=9, chunk_size=200)  # batches within one part
    _parts_of(monkeypatch, net, 150)
    seen = _spy_gather(monkeypatch)
    monkeypatch.setattr(core.montecarlo_chunks, "MAX_BATCH_ROWS", 1200)
    for workers in (1, 2):
        with engine_threads(workers):
            big = mc.run_montecarlo(net, STRESS, runs=1200, seed=9, chunk_size=600)
        for table in TABLES:
            pd.testing.assert_frame_equal(getattr(small, table), getattr(big, table), check_exact=True)
    assert any(before > after for before, after in seen)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 40))
def test_per_token_and_per_pool_terms_match_the_per_cohort_formulas(seed, rows):
    c = compile_network(datasets.load("crypto-2022-05"))
    rng = np.random.default_rng(seed)
    k = len(c.P0)
    P = c.P0[None] * np.exp(rng.normal(0, 0.5, (rows, k)))
    Po = np.where(rng.random((rows, k)) < 0.3, c.P0[None], P)
    bonus = rng.uniform(0, 0.15, (rows, len(c.c_ca)))
    sold = rng.normal(0, 1e8, (rows, k)) * (rng.random((rows, k)) < 0.7)
    supply = c.supply[None] * rng.uniform(0.5, 1.5, (rows, k)) * (rng.random((rows, k)) < 0.9)
    liquidity = rng.uniform(0.1, 1.0, rows)
    pool_res = np.stack([c.pool_res0] * rows) * rng.uniform(0.3, 1.7, (rows,) + c.pool_res0.shape)
    terms = limits.limit_terms(c, P, Po, bonus, sold, supply, liquidity, None, pool_res)
    ca, da = c.c_ca, c.c_da
    # each cohort's oracle prices: a token its protocol fixes at its peg (core.engine.oracle; the 2022 network's
    # Compound v2 USDC/USDT debt)
    Poc, Pod = Po[:, ca], Po[:, da]
    if c.fixed_oracle is not None:
        Poc[:, c.fixed_oracle.coll_cols] = c.fixed_oracle.coll_price
        Pod[:, c.fixed_oracle.debt_cols] = c.fixed_oracle.debt_price
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        L = np.log1p(bonus) + (np.log(P[:, ca] / Poc) - np.log(P[:, da] / Pod))
        L = np.where(np.isnan(L), np.inf, L)
        wrapped = np.isin(ca, c.wrapped_idx)
        t = np.where(wrapped, c.peg_unit[ca], ca)
        Q = sold[:, t]
        liq = liquidity[:, None]
        k_ = c.vol[t][None] / np.sqrt(liq * c.adv[t][None])
        impact = market.log_sqrt_impact(Q, c.adv[t][None], c.vol[t][None], 1.0, liq)
        grown = np.where(supply[:, t] > 0, c.supply[t][None] / np.where(supply[:, t] > 0, supply[:, t], 1.0), 1.0)
    for got, want in ((terms.L, L), (terms.Q, Q), (terms.k, k_), (terms.impact, impact),
                      (terms.twice_root_Q, 2.0 * np.sqrt(np.abs(Q))), (terms.per_ref, c.P0[t][None] * grown *
                                                                        np.where(wrapped, c.peg1[ca], 1.0)[None])):
        assert np.array_equal(got, want, equal_nan=True)
    assert terms.pool is not None and terms.pool.invariant is not None  # the Curve stETH pool prices cohorts
    per_cohort = pool_invariants(c, terms.pool.res, terms.pool.pj)
    assert per_cohort is not None
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(terms.pool.invariant, per_cohort))


def test_shock_depth_weighs_each_collateral_by_its_posted_value():
    """Worked numbers on the shipped 2022 network: the cohorts post $17.008bn of ETH, $4.506bn of stETH, $4.089bn
    of WBTC and $3.234bn of LUNA at reference prices, and nothing else (core.montecarlo_chunks.shock_depth's
    weights). A run drawing ETH -10% (log 0.9) is -1.792bn deep; one drawing LUNA -50% and DAI 30% below
    peg is log(0.5) x 3.234bn = -2.242bn deep (DAI, posted by no cohort, weighs nothing); one drawing LUNA to
    zero is -inf, the deepest."""
    net = datasets.load("crypto-2022-05")
    c = compile_network(net)
    cohorts = net.cohorts
    price = dict(zip(c.symbols, c.P0))
    posted = (cohorts["collateral_amount"] * cohorts["collateral_asset"].map(price)).groupby(cohorts["collateral_asset"]).sum()
    assert posted[posted > 0].round(-6).to_dict() == {"ETH": 17_008e6, "LUNA": 3_234e6, "WBTC": 4_089e6, "stETH": 4_506e6}
    at = {s_: i for i, s_ in enumerate(c.symbols)}
    mult, dep = np.ones((4, c.k)), np.zeros((4, c.k))
    mult[0, at["ETH"]] = 0.9
    mult[1, at["LUNA"]], dep[1, at["DAI"]] = 0.5, 0.3
    mult[2, at["LUNA"]] = 0.0
    depth = core.montecarlo_chunks.shock_depth(c, mult, dep)
    assert depth[0] == pytest.approx(np.log(0.9) * posted["ETH"], rel=1e-12)
    assert depth[0] / 1e9 == pytest.approx(-1.792, abs=5e-4)
    assert depth[1] == pytest.approx(np.log(0.5) * posted["LUNA"], rel=1e-12)
    assert depth[1] / 1e9 == pytest.approx(-2.242, abs=5e-4)
    assert depth[2] == -np.inf and depth[3] == 0.0
    assert np.argsort(depth, kind="stable").tolist() == [2, 1, 0, 3]
    # the run drawing DAI off its peg goes first, before the deeper collateral moves (DAI's fall, posted by no
    # cohort, moves no depth: a depeg draw is a run's own key)
    assert core.montecarlo_chunks.deepest_first(c, mult, dep).tolist() == [1, 2, 0, 3]


@pytest.mark.parametrize("name", ["crypto-2022-05", "crypto-2025-10"])
def test_runs_ordered_by_shock_depth_give_the_runs_in_their_own_order(monkeypatch, name):
    """The runs of an engine batch reordered by the depth of their draw (in parts of 150 rows, so that the
    order decides which runs share a part) give every table of the runs in their own order, bit for bit."""
    net = datasets.load(name)
    _parts_of(monkeypatch, net, 150)
    taken = []
    original = core.montecarlo_chunks.batch_take

    def spy(b, idx):
        taken.append(bool((np.asarray(idx) != np.arange(len(idx))).any()))
        return original(b, idx)

    monkeypatch.setattr(core.montecarlo_chunks, "batch_take", spy)
    with engine_threads(1):
        ordered = mc.run_montecarlo(net, STRESS, runs=1200, seed=5, chunk_size=600)
    assert taken and all(taken)  # every batch was reordered
    monkeypatch.setattr(core.montecarlo_chunks, "deepest_first", lambda c, mult, dep: np.arange(len(mult)))
    taken.clear()
    with engine_threads(1):
        own = mc.run_montecarlo(net, STRESS, runs=1200, seed=5, chunk_size=600)
    assert not taken  # the runs in their own order: no batch taken
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(own, table), getattr(ordered, table), check_exact=True)


@pytest.mark.parametrize("runs,workers,chunk,chunks", [(20_000, 2, 10_000, 2), (50_000, 2, 8_400, 6),
                                                       (10_000, 2, 5_000, 2), (50_000, 1, 10_000, 5),
                                                       (300, 2, 200, 2), (100, 2, 100, 1)])
def test_default_chunks_keep_the_threads_equally_busy(runs, workers, chunk, chunks):
    # as large as MONTE_CARLO_CHUNK allows, in a multiple of the workers' number of chunks (the last one short
    # by what rounding to UNIT left over: 50,000 runs are five chunks of 8,400 and one of 8,000)
    assert core.montecarlo_chunks.MONTE_CARLO_CHUNK == 10_000
    got = core.montecarlo_chunks.monte_carlo_chunk(runs, workers)
    assert got == chunk and got % mc.UNIT == 0
    assert len(core.montecarlo_chunks._chunks(runs, got)) == chunks


@pytest.mark.parametrize("workers", [1, 2])
def test_default_chunks_give_the_small_chunks_result(monkeypatch, workers):
    # a Monte Carlo of one cell goes to the engine a whole chunk at a time (MONTE_CARLO_BATCH, not the sweeps'
    # MAX_BATCH_ROWS): here chunks of 600 runs in one batch of staged parts of 150 rows, against chunks of 100
    net = datasets.load("crypto-2022-05")
    small = mc.run_montecarlo(net, STRESS, runs=1200, seed=9, chunk_size=100)
    _parts_of(monkeypatch, net, 150)
    monkeypatch.setattr(core.montecarlo_chunks, "MONTE_CARLO_CHUNK", 600)
    monkeypatch.setattr(core.montecarlo_chunks, "MONTE_CARLO_BATCH", 600)
    batches = []
    real = core.montecarlo_chunks.run_batch
    monkeypatch.setattr(core.montecarlo_chunks, "run_batch", lambda c, b, **kw: batches.append(b.S) or real(c, b, **kw))
    with engine_threads(workers):
        big = mc.run_montecarlo(net, STRESS, runs=1200, seed=9)
    assert big.meta["chunk_size"] == 600 and batches == [600, 600]
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(small, table), getattr(big, table), check_exact=True)

"""The engine's shortcuts give the same numbers to the last bit as the computations they skip: the liquidators'
capital search with the pool-priced cohorts bounded before their pools are solved (core.engine.capital), and
cohorts sharing one pool solve (core.engine.pool_solves.units_to_price). Each shortcut is switched off by a module
flag and the whole run compared, array by array, on scenarios whose capital is scarce and whose cohorts sell
into the Curve stETH pool."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import capital, pool_solves, simulate_batch
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


@pytest.mark.parametrize("flag", [(capital, "BOUND_POOL_COHORTS"), (capital, "GUIDED"), (capital, "GUESS_LEVEL"),
                                  (pool_solves, "SHARE_SOLVES"),
                                  (pool_solves, "FEW_ON_FLOATS")], ids=lambda f: f[1])
def test_shortcut_changes_no_bit(net, monkeypatch, flag):
    scs = _scenarios(net)
    fast_one = simulate_batch(net, scs[:1], record=True)
    fast = simulate_batch(net, scs)
    monkeypatch.setattr(*flag, False)
    _same(fast_one, simulate_batch(net, scs[:1], record=True))
    _same(fast, simulate_batch(net, scs))


@pytest.mark.parametrize("name", ["crypto-2020-03", "crypto-2022-05", "synthetic"])
def test_auction_descent_on_the_cohorts_due_changes_no_bit(name, monkeypatch):
    """The auctions' clearing prices computed on the auction cohorts due only (auctions.DUE_ONLY: a vault is barked
    only where its cohort is below its threshold) give, to the last bit, what every auction cohort gives: a
    batch and one scenario recorded, with Maker's flip era (2020), the clip era (2022) and a synthetic network."""
    from core.engine import auctions

    net = core.datasets.synthetic(2_000, 20_000, seed=3) if name == "synthetic" else core.datasets.load(name)
    storm = Scenario(forced_defaults=list(net.entities["id"][:2]), run_intensity=0.5,
                     price_shocks={"ETH": -0.45, "BTC": -0.3}, horizon=15)
    scs = ([Scenario(price_shocks={"ETH": -d, "BTC": -d / 2}, oracle_lag=d > 0.3, run_intensity=d)
            for d in (0.2, 0.35, 0.5)] if name != "crypto-2022-05" else _scenarios(net)) + [storm]
    cut_one, cut = simulate_batch(net, scs[-1:], record=True), simulate_batch(net, scs)
    monkeypatch.setattr(auctions, "DUE_ONLY", False)
    _same(cut_one, simulate_batch(net, scs[-1:], record=True))
    _same(cut, simulate_batch(net, scs))


def _descents_on_rows(monkeypatch) -> list[int]:
    """Count the descents run on some rows only (on a :class:`~core.engine.row_views.Rows` view of the state)."""
    from core.engine import auctions
    from core.engine.row_views import Rows

    seen: list[int] = []
    descent = auctions._descent

    def counted(c, s, *a):
        if isinstance(s, Rows):
            seen.append(1)
        return descent(c, s, *a)

    monkeypatch.setattr(auctions, "_descent", counted)
    return seen


@pytest.mark.parametrize("name", ["crypto-2020-03", "crypto-2022-05"])
def test_auction_descent_on_the_rows_computed_changes_no_bit(name, monkeypatch):
    """The auctions' clearing prices computed on the liquidation step's rows computed only (auctions.ROWS_ONLY: a
    row with no cohort due has no vault barked, and each row's descent stops at its own settled step) give,
    to the last bit, what the descent on every row gives, on a batch whose rows come due at different rounds."""
    from core.engine import auctions, liquidate

    net = core.datasets.load(name)
    scs = [Scenario(price_shocks={"ETH": -d, "BTC": -d / 2}, oracle_lag=int(d > 0.3), run_intensity=d / 2, horizon=14)
           for d in (0.0, 0.05, 0.15, 0.25, 0.35, 0.5)]
    scs.append(Scenario(forced_defaults=list(net.entities["id"][:2]), run_intensity=0.5, horizon=14))
    monkeypatch.setattr(liquidate, "EVERY_ROW_SHARE", 2.0)  # the rows due only, however many
    seen = _descents_on_rows(monkeypatch)
    cut = simulate_batch(net, scs)
    assert seen, "no descent ran on the rows computed alone"
    monkeypatch.setattr(auctions, "ROWS_ONLY", False)
    every = simulate_batch(net, scs)
    for f in FIELDS + ("bad_debt_reference_usd", "governance_backstop", "insurance_draw", "fee_income"):
        x, y = np.asarray(getattr(cut, f)), np.asarray(getattr(every, f))
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), f


def test_ranking_with_the_auction_descent_on_the_rows_computed_changes_no_bit(monkeypatch):
    """The 1,000-seed ranking's case (a tenth of the seeds' rows with a cohort due, the auctions barked in some):
    the ranking of synthetic(300, 3000) is the same table, to the last bit, with the auctions' descent on every row."""
    from core.engine import auctions
    from core.metrics import systemic_importance

    net = core.datasets.synthetic(300, 3_000, seed=5)
    seen = _descents_on_rows(monkeypatch)
    cut = systemic_importance(net)
    assert seen, "no descent ran on the rows computed alone"
    monkeypatch.setattr(auctions, "ROWS_ONLY", False)
    import pandas as pd

    pd.testing.assert_frame_equal(cut, systemic_importance(net), check_exact=True)


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


@pytest.mark.parametrize("seed", range(12))
def test_add_to_holdings_is_add_at(seed):
    """core.engine.books.add_to_holdings (the liquidations' repayments into the holdings, by each value's flat
    position) adds as np.add.at with the (row, entity, token) index does, to the last bit and the sign of a zero:
    on every row or some, cells repeated, signed zeros, NaN and infinities among the values, a C-contiguous
    holdings array or a transposed view."""
    from core.engine.books import add_to_holdings

    rng = np.random.default_rng(seed)
    S, n, k, m = int(rng.integers(1, 40)), int(rng.integers(1, 50)), int(rng.integers(1, 6)), int(rng.integers(0, 300))
    entity, token = rng.integers(0, n, m), rng.integers(0, k, m)
    H = rng.normal(size=(S, n, k)) * 10.0 ** rng.integers(-3, 12, (S, n, k))
    H[rng.random(H.shape) < 0.1] = -0.0
    if seed % 3 == 2:  # a view that is not C-contiguous
        H = np.ascontiguousarray(H.transpose(2, 1, 0)).transpose(2, 1, 0)
    rows = None if seed % 2 else rng.choice(S, size=int(rng.integers(1, S + 1)), replace=False)
    values = rng.normal(size=(S if rows is None else len(rows), m)) * 10.0 ** rng.integers(-8, 10, m)
    values[rng.random(values.shape) < 0.2] = -0.0
    values[rng.random(values.shape) < 0.2] = 0.0
    values[rng.random(values.shape) < 0.01] = rng.choice([np.nan, np.inf, -np.inf])
    want = H.copy(order="K")
    np.add.at(want, (slice(None) if rows is None else rows[:, None], entity, token), values)  # type: ignore[arg-type]
    got = H.copy(order="K")
    assert got.flags.c_contiguous == (seed % 3 != 2)
    add_to_holdings(got, rows, entity, token, values)
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("name", ["crypto-2022-05", "crypto-2025-10"])
def test_state_take_is_masked_indexing(name):
    """core.engine.state.CascadeState.take (the batch dropping its settled rows, by ndarray.take on indices)
    keeps exactly the rows indexing by the boolean mask keeps, every field: a state three rounds into a batch of
    stressed random shocks on each shipped network (its clearing, staking and backing terms, perpetuals on 2025)."""
    from dataclasses import fields, is_dataclass

    from core.engine import compile_network, scenario_batch
    from core.engine.rounds import run_round
    from core.engine.state import initial_state
    from core.shock_model import ShockModel
    import core.montecarlo as mc

    net = core.datasets.load(name)
    spec = mc.parse_spec({"dist": "t", "df": 3, "vol_multiplier": 3})
    shock, depeg, _ = ShockModel.from_spec(net, spec).draw(11, 0, 64)
    base = scenario_batch(net, spec.base, repeat=64)
    b = base.replace(shock=base.shock * np.exp(shock), depeg=np.maximum(base.depeg, depeg))
    c = compile_network(net)
    s = initial_state(c, b)
    for r in range(3):
        run_round(c, s, b, r)
    mask = np.random.default_rng(2).random(b.S) < 0.6

    def masked(v):
        if v is None:
            return None
        if isinstance(v, list):
            return [h[mask] for h in v]
        if is_dataclass(v) and not isinstance(v, type):
            return {f.name: masked(getattr(v, f.name)) for f in fields(v)}
        return v[mask]

    def same(x, y, where):
        if isinstance(y, dict):
            for k_, v in y.items():
                same(getattr(x, k_), v, f"{where}.{k_}")
        elif isinstance(y, list):
            assert len(x) == len(y), where
            for i, (p, q) in enumerate(zip(x, y)):
                same(p, q, f"{where}[{i}]")
        elif y is None:
            assert x is None, where
        else:
            assert x.dtype == y.dtype and x.shape == y.shape, where
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), where
            assert np.array_equal(np.signbit(x), np.signbit(y)) if x.dtype.kind == "f" else True, where

    for got in (s.take(mask), s.take(np.flatnonzero(mask))):
        for f in fields(s):
            same(getattr(got, f.name), masked(getattr(s, f.name)), f.name)


@pytest.mark.parametrize("seed", range(4))
def test_pool_invariants_one_pool_on_floats(net, seed):
    """core.engine.pool_solves.pool_invariants of one stableswap pool in one row (its float path) is stableswap_D's and
    stableswap_price's answer to the last bit, or raises as they do (a drained coin); asked again for the same
    reserves it returns the same read-only arrays."""
    from core.engine.compiled import compile_network
    from core.mechanisms import amm
    from core.mechanisms._checks import trusted

    c = compile_network(net)
    rng = np.random.default_rng(seed)
    # (a drained coin: the array paths divide by 0, then raise, and warn on the way)
    with trusted(), np.errstate(divide="ignore", invalid="ignore"):
        for j in np.flatnonzero(np.isfinite(c.pool_A)):
            for _ in range(200):
                res = (c.pool_res0[j] * np.exp(rng.normal(0.0, 3.0, 2)) * 10 ** rng.uniform(-3, 6))[None, None]
                if rng.random() < 0.05:
                    res[0, 0, rng.integers(2)] = 0.0
                swapped, A = res[:, :, ::-1], c.pool_A[[j]][None]
                try:
                    D = amm.stableswap_D(swapped, A)
                    want: tuple | type = (D, amm.stableswap_price(swapped, A, 0, 1, D=D))
                except amm.StableswapConvergenceError as exc:
                    want = type(exc)
                try:
                    got: tuple | type | None = pool_solves.pool_invariants(c, res, np.array([j]))
                except amm.StableswapConvergenceError as exc:
                    got = type(exc)
                if isinstance(want, type):
                    assert got is want
                    continue
                assert isinstance(got, tuple) and all(np.array_equal(g, w) for g, w in zip(got, want))
                again = pool_solves.pool_invariants(c, res.copy(), np.array([j]))
                assert again is got and not got[0].flags.writeable


@pytest.mark.parametrize("seed", range(6))
def test_units_to_price_few_on_floats(net, monkeypatch, seed):
    """core.engine.pool_solves.units_to_price's few solves on floats (given the pools' invariants) are the arrays' path's
    to the last bit: one row or several, cohorts sharing a pool and a target or not, targets above and below the
    pool's price."""
    from core.engine.compiled import compile_network

    c = compile_network(net)
    rng = np.random.default_rng(seed)
    ss = np.flatnonzero(np.isfinite(c.pool_A))
    # odd seeds: a few targets shared by cohorts of several rows; even: one row, each cohort its own target
    S, m = (int(rng.integers(1, 4)), int(rng.integers(1, 12))) if seed % 2 else (1, int(rng.integers(1, 9)))
    pj = rng.choice(ss, m)
    res = np.abs(c.pool_res0[pj][None] * np.exp(rng.normal(0.0, 1.0, (S, 1, 2))))
    target = np.repeat(rng.choice(np.exp(rng.normal(-0.2, 0.3, 3)), (S, 1)), m, 1) if seed % 2 else np.exp(rng.normal(-0.2, 0.3, (S, m)))
    target[rng.random((S, m)) < 0.1] = 0.0
    fast = _floats_as_arrays(c, res, pj, target, monkeypatch)
    assert (fast > 0).any()  # some pool is solved for (on floats: tests/test_amm.py checks those steps against numpy's)


def _floats_as_arrays(c, res: np.ndarray, pj: np.ndarray, target: np.ndarray, monkeypatch) -> np.ndarray:
    """units_to_price with its solves on floats, checked equal to the arrays' path to the last bit (signed zeros
    too); the former returned."""
    from core.mechanisms._checks import trusted

    with trusted():
        inv = pool_solves.pool_invariants(c, res, pj)
        fast = pool_solves.units_to_price(c, res, pj, target, inv)
        monkeypatch.setattr(pool_solves, "FEW_ON_FLOATS", False)
        slow = pool_solves.units_to_price(c, res, pj, target, inv)
    assert np.array_equal(fast, slow) and np.array_equal(np.signbit(fast), np.signbit(slow))
    return fast


@pytest.mark.parametrize("seed", range(6))
def test_units_to_price_many_cohorts_few_targets(net, monkeypatch, seed):
    """Thousands of cohorts of one or two pools with a few targets (a synthetic network's pool-priced cohorts,
    whose distinct (row and pool, target) keys the solves on floats find by sorting): the arrays' path's numbers
    to the last bit, signed zeros included; with more distinct keys than FLOAT_POOLS (the last seeds) the
    arrays' path runs."""
    from core.engine.compiled import compile_network
    from core.mechanisms._stableswap_floats import FLOAT_POOLS

    c = compile_network(net)
    rng = np.random.default_rng(100 + seed)
    ss = np.flatnonzero(np.isfinite(c.pool_A))
    S, m = 1 + seed % 2, int(rng.integers(200, 3000))
    pj = rng.choice(rng.choice(ss, 1 + (seed // 2) % 2, replace=False), m)
    moves = {int(p): rng.normal(0.0, 0.3, (S, 2)) for p in np.unique(pj)}  # a pool's reserves alike in a row
    res = np.abs(c.pool_res0[pj][None] * np.exp(np.stack([moves[int(p)] for p in pj], 1)))
    choices = np.exp(rng.normal(-0.2, 0.3, (1, 2, 3, 1, 3 * FLOAT_POOLS, 3 * FLOAT_POOLS)[seed]))
    target = rng.choice(choices, (S, m))
    target[rng.random((S, m)) < 0.05] = 0.0
    inverse = np.where(target <= 0, 1.0, 1.0 / np.where(target <= 0, 1.0, target))  # the solves' keys
    keys = len({(i, int(p), float(t)) for i in range(S) for p, t in zip(pj, inverse[i])})
    assert (keys <= FLOAT_POOLS) == (seed < 4)
    on_floats = []
    few = pool_solves._few_on_floats
    monkeypatch.setattr(pool_solves, "_few_on_floats", lambda *a: on_floats.append(few(*a)) or on_floats[-1])
    fast = _floats_as_arrays(c, res, pj, target, monkeypatch)
    assert (fast > 0).any() and np.isinf(fast).any()
    assert len(on_floats) == 1 and (on_floats[0] is not None) == (seed < 4)


@pytest.mark.parametrize("seed", range(3))
def test_close_factor_on_due_cohorts_of_one_scenario(monkeypatch, seed):
    """One scenario of a synthetic network with thousands of cohorts (cohort_rules.MIN_CELLS: the liquidation
    rules, close factor and auctions, on the cohorts due only, the rest left idle) gives, to the last bit, what
    the rules on every cohort give, every recorded array."""
    from core.engine import cohort_rules, liquidate
    from core.engine.compiled import ABSORB, MAKER_AUCTION, compile_network

    net = core.datasets.synthetic(3_000, 30_000, seed=seed)
    ids = list(net.entities["id"])
    sc = Scenario(forced_defaults=ids[:3], price_shocks={"ETH": -0.3 - 0.1 * seed, "BTC": -0.2}, run_intensity=0.5,
                  oracle_lag=seed % 2, horizon=12)
    calls = []  # the cohorts the close-factor step's rule ran on (with a capacity: not pool_demand's calls)
    rule, auction = cohort_rules.lending.liquidate_aave, cohort_rules.lending.liquidate_maker
    auctions = []  # the cohorts the Maker-style auctions ran on
    monkeypatch.setattr(cohort_rules.lending, "liquidate_aave",
                        lambda *a, **k: (len(a) > 8 and calls.append(a[0].shape[1])) or rule(*a, **k))
    monkeypatch.setattr(cohort_rules.lending, "liquidate_maker",
                        lambda *a, **k: auctions.append(a[0].shape[1]) or auction(*a, **k))
    monkeypatch.setattr(cohort_rules, "MIN_CELLS", 1)
    cut = simulate_batch(net, [sc], record=True)
    cohorts = len(compile_network(net).c_coll)
    assert calls and max(calls) < cohorts  # the rules ran on the cohorts due only
    assert auctions and min(auctions) < cohorts
    # each rule on its own cohorts only (cohort_rules._by_rule)
    styles = compile_network(net).c_style
    makers, closing = int((styles == MAKER_AUCTION).sum()), int(((styles != MAKER_AUCTION) & (styles != ABSORB)).sum())
    assert all(n <= makers or n == cohorts for n in auctions) and min(auctions) <= makers
    assert all(n <= closing or n == cohorts for n in calls)
    monkeypatch.setattr(liquidate, "SKIP_IDLE_ROWS", False)
    monkeypatch.setattr(cohort_rules, "DUE_ONLY", False)
    calls.clear(), auctions.clear()
    whole = simulate_batch(net, [sc], record=True)
    assert max(calls) == cohorts and max(auctions) == cohorts  # and on every cohort
    _same(cut, whole)


# The shares hold NaN and -inf on purpose (the clip era's taken share can be either): spread_after_barks forms
# w (1 - s) / (1 + w s) for every share before it keeps the spread where the share is not positive, and 0 x inf is
# NaN in that discarded branch, so numpy's warning of it is expected here (the kept result is asserted to the bit).
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
def test_zero_spread_stays_itself_after_barks():
    """The fact the liquidation step's spread update rests on when it computes only the cohorts with a spread
    (core.engine.liquidate): a spread of 0, either sign, comes out of spread_after_barks as itself, bit for bit,
    for every share barked_share gives (0 to 1, NaN never: it is clipped) and every share the clip era's keepers
    took (1 - debt left / debt: at most 1, any value below, NaN, -inf)."""
    from core.engine.auction_vaults import barked_share, spread_after_barks

    rng = np.random.default_rng(0)
    n = 4096
    coll, debt = rng.exponential(1.0, (1, n)), rng.exponential(1.0, (1, n))
    debt[0, ::7] = 0.0
    Pc, Pd, lt = rng.exponential(1.0, (1, n)), rng.exponential(1.0, (1, n)), rng.uniform(0.3, 0.95, (1, n))
    zero = np.where(rng.random((1, n)) < 0.5, 0.0, -0.0)
    share, _ = barked_share(coll, debt, Pc, Pd, lt, rng.random((1, n)) < 0.7, zero)
    taken = np.concatenate([1.0 - rng.exponential(1.0, n - 3), [np.nan, -np.inf, 1.0]])[None]
    for s in (share, taken, np.linspace(0.0, 1.0, n)[None]):
        out = spread_after_barks(zero, s)
        assert np.array_equal(out, zero) and np.array_equal(np.signbit(out), np.signbit(zero))
    assert (share > 0).any() and (share == 1.0).any()


@pytest.mark.parametrize("seed", range(3))
def test_units_to_price_few_on_floats_beside_a_constant_product_pool(net, monkeypatch, seed):
    """Cohorts of a stableswap pool beside a constant-product one (the shipped networks have none: the 2022
    network's second pool made constant-product): the solves on floats of the stableswap columns, the arrays'
    path's to the last bit."""
    import dataclasses

    from core.engine.compiled import compile_network

    c = compile_network(net)
    c = dataclasses.replace(c, pool_A=np.where(np.arange(len(c.pool_A)) == 1, np.inf, c.pool_A))
    rng = np.random.default_rng(200 + seed)
    S, m = 1 + seed % 2, int(rng.integers(100, 1000))
    pj = rng.choice([0, 1], m)
    moves = rng.normal(0.0, 0.2, (S, 2, 2))  # each pool's reserves alike in a row
    res = np.abs(c.pool_res0[pj][None] * np.exp(moves[:, pj]))
    target = rng.choice(np.exp(rng.normal(-0.2, 0.3, 2)), (S, m))
    target[rng.random((S, m)) < 0.05] = 0.0
    fast = _floats_as_arrays(c, res, pj, target, monkeypatch)
    assert (fast[:, pj == 0] > 0).any() and (fast[:, pj == 1] > 0).any() and np.isinf(fast).any()


def test_cohort_views_keep_the_most_recently_used():
    """The cohort views kept with a network (core.engine.cohort_views) are the VIEWS_KEPT most recently used: a
    view asked for again stays while new ones come, one left unused goes once VIEWS_KEPT newer ones came, and no
    more are ever kept (a Monte Carlo run meets new due sets chunk after chunk; views kept until 256 grew its
    traced peak 68 B a run)."""
    from core.engine.compiled import compile_network
    from core.engine.cohort_views import VIEWS_KEPT, Cohorts

    c = compile_network(core.datasets.load("crypto-2022-05"))
    assert len(c.c_ca) > 3 * VIEWS_KEPT
    used = Cohorts.of(c, np.array([0]))
    for i in range(1, 2 * VIEWS_KEPT):  # new views, the first asked again between them
        Cohorts.of(c, np.array([i]))
        assert Cohorts.of(c, np.array([0])) is used
        assert len(c.__dict__["cohort_views"]) <= VIEWS_KEPT
    unused = Cohorts.of(c, np.array([1, 2]))
    for i in range(VIEWS_KEPT - 1):
        Cohorts.of(c, np.array([2 * VIEWS_KEPT + i]))
    assert Cohorts.of(c, np.array([1, 2])) is unused  # VIEWS_KEPT - 1 newer: still kept
    for i in range(VIEWS_KEPT):
        Cohorts.of(c, np.array([3 * VIEWS_KEPT + i % 3, i]))
    assert Cohorts.of(c, np.array([1, 2])) is not unused  # VIEWS_KEPT newer: gone
    assert len(c.__dict__["cohort_views"]) == VIEWS_KEPT


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("seed", range(4))
def test_terms_of_some_cohorts_are_their_views(net, rows, seed):
    """core.engine.capital._columns_of: the columns of some cohorts (those due, say) of every cohort's
    limit_terms are, to the last bit, limit_terms on their view (limits.Cohorts), pools included (cohorts of one
    pool, of both, of none), for one scenario and several, on moved prices, reserves and units sold."""
    from core.engine.capital import _columns_of
    from core.engine.compiled import compile_network
    from core.engine.limits import Cohorts, limit_terms, pool_priced

    c = compile_network(net)
    rng = np.random.default_rng(seed)
    S, m = rows, len(c.c_ca)
    P = c.P0[None] * np.exp(rng.normal(0.0, 0.3, (S, len(c.P0))))
    Po = P * np.exp(rng.normal(0.0, 0.05, P.shape))
    bonus = rng.uniform(0.0, 0.15, (S, m))
    sold = np.where(rng.random((S, len(c.P0))) < 0.5, rng.uniform(0, 1e9, (S, len(c.P0))), 0.0)
    supply = c.supply[None] * rng.uniform(0.5, 1.5, (S, len(c.P0)))
    res = c.pool_res0[None] * rng.uniform(0.3, 3.0, (S, len(c.pool_A), 2))
    liquidity = rng.uniform(0.1, 2.0, S)
    every = limit_terms(c, P, Po, bonus, sold, supply, liquidity, None, res)
    pooled = np.flatnonzero(pool_priced(c))
    for some in (np.sort(rng.choice(m, size=int(rng.integers(1, m)), replace=False)), pooled[:1], pooled,
                 np.flatnonzero(~pool_priced(c))[:5]):
        want = limit_terms(Cohorts.of(c, some), P, Po, bonus[:, some], sold, supply, liquidity, None, res)
        got = _columns_of(every, some)
        for f in ("L", "Q", "k", "impact", "twice_root_Q", "per_ref", "book"):
            assert np.array_equal(getattr(got, f), getattr(want, f), equal_nan=f != "book"), f
        assert (got.pool is None) == (want.pool is None)
        if want.pool is not None:
            for f in ("cols", "pj", "scale", "base", "res"):
                assert np.array_equal(getattr(got.pool, f), getattr(want.pool, f), equal_nan=f not in ("cols", "pj")), f
            assert (got.pool.invariant is None) == (want.pool.invariant is None)
            if want.pool.invariant is not None:
                for g, w in zip(got.pool.invariant, want.pool.invariant):
                    assert np.array_equal(g, w, equal_nan=True)

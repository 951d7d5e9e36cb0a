"""A scenario's result never depends on its batch-mates: the same to the last bit however the batch is cut.

The engine promises it (:func:`core.engine.rounds.run_cascades`, :func:`~core.engine.rounds.run_batch`,
:func:`core.metrics.systemic_importance`, :mod:`core.backends`): a ranking's tasks cut their seeds in chunks of
a size set by the worker's heap (Dask's nanny: cascades of 3 chunks instead of 4), a Monte Carlo its paths by
the cache. It did not hold (session 32, docs/invariants.md):

* the Maker-style auctions' clearing descent (:func:`core.engine.auctions.clearing_prices`) stopped when every
  row's price had settled, so a row settled early took its batch-mates' further steps: synthetic(10k)'s seed 7
  as one batch of 64 seeds and in a batch of 16, ``loss`` and ``equity`` 4.77e-7 apart;
* the outside borrowers' penalties their protocols keep above their initial equity
  (:func:`core.engine.outside_transfers.kept_in_state`) were summed pairwise over the protocols paid into in the
  batch, so a row's pairing moved with its batch-mates' protocols: synthetic(10k)'s seed 20 alone and in its
  batch of 64, ``borrowers_penalty_loss`` 2.3e-10 apart; crypto-2025-10's random scenario 29 of
  :func:`_random_scenarios` (seed 1) alone and in its batch, the same field.

Every per-scenario field of :class:`~core.engine.outcome.BatchResult` is compared, bit for bit (NaN equal to NaN).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

import core
from core.engine import compile_network, scenario_batch, simulate_batch
from core.engine.outcome import PER_SCENARIO
from core.metrics import _repeat, run_cascades, trusted
from core.scenario import Scenario


def _rows(br, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every per-scenario array of ``br`` (the channels' parts too), its rows ``rows`` (all where None)."""
    out = {f: np.asarray(getattr(br, f)) for f in PER_SCENARIO}
    out.update({f"channel_parts.{ch}": np.asarray(v) for ch, v in br.channel_parts.items()})
    return out if rows is None else {k: v[rows] for k, v in out.items()}


def _differ(whole: dict[str, np.ndarray], part: dict[str, np.ndarray]) -> list[str]:
    """The fields whose bytes differ (NaN payloads aside: NaN equals NaN)."""
    bad = []
    for k, x in whole.items():
        y = part[k]
        if x.shape != y.shape:
            bad.append(f"{k} shape {x.shape} != {y.shape}")
            continue
        same = (x == y) | ((x != x) & (y != y)) if x.dtype.kind == "f" else x == y
        if not np.all(same):
            rows = np.flatnonzero(~same.reshape(len(x), -1).all(1))
            bad.append(f"{k} rows {rows.tolist()[:5]}")
    return bad


@pytest.fixture(scope="module")
def seeds10k():
    """synthetic(10000, 100000)'s seeds 0-63 (each entity forced into default alone, the ranking's batch), run as
    one batch: the compiled network, the runner of any rows, and the whole batch's per-scenario arrays."""
    net = core.datasets.synthetic(10_000, 100_000, seed=1)
    c = compile_network(net)
    base = scenario_batch(net, Scenario(name="seed"))

    def run(rows: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.asarray(rows)
        forced = np.zeros((len(rows), c.n), dtype=bool)
        forced[np.arange(len(rows)), rows] = True
        b = _repeat(base, len(rows)).replace(forced=forced, forced_recovery=np.zeros(len(rows)))
        with trusted():
            return _rows(run_cascades(c, b, False))

    return run, run(np.arange(64))


@pytest.mark.parametrize("cut", ["16", "8", "1", "shuffled"])
def test_seeds_of_a_large_synthetic_network_are_the_same_however_the_batch_is_cut(seeds10k, cut):
    """Seeds 0-63 of synthetic(10000, 100000) as one batch, and cut: in batches of 16, of 8 (seeds 16-23: seed 20's
    batch), one by one (seeds 7 and 20) and in a shuffled order. On the engine before session 32, seed 7 in
    its batch of 16 (the auctions' descent ran its batch-mates' steps: loss 4.77e-7 apart) and seed 20 in its
    batch of 8 and alone (the protocols' kept penalties paired by the batch: 2.3e-10) differed."""
    run, whole = seeds10k
    parts = {"16": [np.arange(a, a + 16) for a in range(0, 64, 16)], "8": [np.arange(16, 24)],
             "1": [np.array([7]), np.array([20])],
             "shuffled": [np.random.default_rng(32).permutation(64)]}[cut]
    for rows in parts:
        assert not _differ({k: v[rows] for k, v in whole.items()}, run(rows)), rows.tolist()


def _random_scenarios(net, n: int, seed: int) -> list[Scenario]:
    """``n`` storms on ``net``: one to three of its large assets shocked up to 70%, runs, a lagging oracle, thin
    books, up to two entities forced into default, and a scarce liquidators' capital in some."""
    rng = np.random.default_rng(seed)
    syms = [s for s in net.assets["symbol"] if s in ("ETH", "stETH", "BTC", "WBTC", "CBBTC", "LUNA", "UST", "FTT",
                                                      "SOL", "USDe", "ALTS", "DAI", "USDC")]
    ids = list(net.entities["id"])
    out = []
    for _ in range(n):
        shocks = {str(a): float(-rng.uniform(0.0, 0.7)) for a in rng.choice(syms, size=rng.integers(1, 4), replace=False)}
        capital = {"liquidator_capacity_usd": float(rng.uniform(1e8, 5e9))} if rng.random() < 0.3 else {}
        out.append(Scenario(price_shocks=shocks, run_intensity=float(rng.uniform(0, 1)),
                            oracle_lag=int(rng.integers(0, 3)), liquidity=float(rng.uniform(0.3, 1.5)),
                            forced_defaults=[str(e) for e in rng.choice(ids, size=int(rng.integers(0, 3)), replace=False)],
                            **capital))
    return out


@pytest.fixture(scope="module", params=["crypto-2022-05", "crypto-2025-10"])
def storms(request):
    """A shipped network, 32 storms on it (:func:`_random_scenarios`, seed 1; on 2022 a terra-style storm
    too) and their results as one batch."""
    net = core.datasets.load(request.param)
    scs = _random_scenarios(net, 32, 1)
    if request.param == "crypto-2022-05":
        scs.append(Scenario(forced_defaults=list(net.entities["id"][:2]), run_intensity=0.5,
                            price_shocks={"ETH": -0.45, "BTC": -0.3, "LUNA": -0.9}, oracle_lag=1, horizon=15))
    return net, scs, _rows(simulate_batch(net, scs))


def test_storms_on_the_shipped_networks_are_the_same_alone_in_eights_and_shuffled(storms):
    """Each storm alone (on crypto-2025-10), the batch cut in eights and shuffled, against the one batch
    (crypto-2025-10's storm 29 alone differed in ``borrowers_penalty_loss`` before session 32)."""
    net, scs, whole = storms
    cuts = [np.array([i]) for i in range(len(scs))] if net.name == "crypto-2025-10" else []
    cuts += [np.arange(a, min(a + 8, len(scs))) for a in range(0, len(scs), 8)]
    cuts.append(np.random.default_rng(7).permutation(len(scs)))
    for rows in cuts:
        part = _rows(simulate_batch(net, [scs[i] for i in rows]))
        assert not _differ({k: v[rows] for k, v in whole.items()}, part), rows.tolist()


@settings(max_examples=8, deadline=None)
@given(st.data())
def test_any_batch_of_storms_gives_each_storm_its_own_result(data):
    """Hypothesis draws batches of crypto-2025-10's storms (any subset, any order, a storm twice): each row is the
    storm's result in the batch of all 32, to the last bit."""
    net, scs, whole = _storms_2025()
    rows = np.array(data.draw(st.lists(st.integers(0, len(scs) - 1), min_size=1, max_size=12)), dtype=int)
    part = _rows(simulate_batch(net, [scs[i] for i in rows]))
    assert not _differ({k: v[rows] for k, v in whole.items()}, part), rows.tolist()


_KEPT: dict[str, tuple] = {}


def _storms_2025():
    """crypto-2025-10's 32 storms and their batch's results, once a session (hypothesis runs the test many times)."""
    if "2025" not in _KEPT:
        net = core.datasets.load("crypto-2025-10")
        scs = _random_scenarios(net, 32, 2)
        _KEPT["2025"] = (net, scs, _rows(simulate_batch(net, scs)))
    return _KEPT["2025"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_kept_penalties_of_a_row_read_its_own_protocols_only(data):
    """:func:`core.engine.outside_transfers.kept_in_state` (what the protocols keep above their initial equity of
    outside borrowers' penalties, each row's sum over them): a row's figure alone, and in a batch whose other rows
    paid into other protocols, to the last bit. (Summed pairwise over the batch's protocols, a row's payments were
    paired by where its batch-mates' zeros fell: with 8 protocols or more paid into, the last bits moved.)"""
    from types import SimpleNamespace

    from core.engine.outside_transfers import kept_in_state

    n = data.draw(st.integers(2, 24), label="entities")
    S = data.draw(st.integers(2, 6), label="rows")
    usd = st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False)
    E0 = np.array(data.draw(st.lists(usd, min_size=n, max_size=n), label="E0"))
    paid = np.array(data.draw(st.lists(st.lists(usd, min_size=n, max_size=n), min_size=S, max_size=S), label="paid"))
    paid *= np.array(data.draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=S, max_size=S)))
    equity = E0[None] + paid * np.array(data.draw(st.lists(st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n),
                                                            min_size=S, max_size=S), label="gain"))
    c = SimpleNamespace(E0=E0, perps=None)
    whole = kept_in_state(c, SimpleNamespace(borrowers_penalty_in=paid, perps_outside_in=None), equity)[1]
    for i in range(S):
        alone = kept_in_state(c, SimpleNamespace(borrowers_penalty_in=paid[i:i + 1], perps_outside_in=None),
                              equity[i:i + 1])[1]
        assert alone.tobytes() == whole[i:i + 1].tobytes(), i


def test_coin_exits_without_a_run_intensity_do_not_wait_for_a_batch_mates_run():
    """A scenario of run intensity 0 with UST below peg: its depositors' coin exits (``(1 + run)(1 - q)``, since
    session 38 (decision 21) ``(1 + run) max(0, 1 - band - q)``,
    :func:`core.engine.withdraw.coin_exit_share`) ran only where a batch-mate had a run intensity, because the
    withdrawal step was skipped for a batch with none (session 32's closing search, seed 3201, batch 556: GBTC
    -66.13%, CEL -12.94%, LUNA -37.81%, stETH 27.9% off, lag 2, liquidity 0.507, capital $50M: $21.040bn alone,
    $22.837bn beside a run). Alone, beside a scenario with a run, and at an intensity of 1e-12: the same bits."""
    net = core.datasets.load("crypto-2022-05")
    sc = Scenario(run_intensity=0.0, oracle_lag=2, liquidity=0.5070820165357317, liquidator_capacity_usd=5e7,
                  depegs={"stETH": 0.2786598582684051},
                  price_shocks={"GBTC": -0.6612808946007142, "CEL": -0.12941807297029403, "LUNA": -0.37806365571512246})
    mate = Scenario(run_intensity=1.0, oracle_lag=1, liquidity=0.79, liquidator_capacity_usd=5e7)
    alone = _rows(simulate_batch(net, [sc]))
    beside = _rows(simulate_batch(net, [sc, mate]), np.array([0]))
    assert _differ(alone, beside) == []
    faint = simulate_batch(net, [sc.model_copy(update={"run_intensity": 1e-12})])
    assert faint.total_loss[0] / 1e9 == pytest.approx(alone["total_loss"][0] / 1e9, abs=0.01)
    # session 38 (decision 21, the 0.5% calm band): was 22.9555110 (unchanged by decision 19 alone, measured with the
    # band set to 0); holders and Anchor's depositors leave only on the discount beyond the band, the spiral is slower:
    # UST closes 0.5699 after 12 rounds (0.5098 without the band), LUNA $6.615 either way, the same six defaults;
    # ANCHOR_DEPOSITORS -$250.30M, LFG -$90.75M, LP_PROVIDERS -$87.04M, STABLE_HOLDERS -$31.70M, TFL -$14.96M.
    # session 34 (anchorfee, Anchor's queue keeps its 1% liquidator fee): was 22.9534531; session 33 (anchor): was
    # 22.8369471. Session 40 (anchor, the queue's contract amount, each position below HF 1 sized at its own HF, on
    # decisions 19 and 21): was 22.4807121; under the $50M capital Anchor's cohorts repay $22.99M -> $23.14M in round 2
    # and a little more each round to 9 ($20.54M -> $20.79M); UST 0.892377 -> 0.892414 after round 2, 0.56990 ->
    # 0.57062 at the end, LUNA $6.6147 -> $6.6193; the same defaults; ANCHOR_DEPOSITORS -$2.55M, LP_PROVIDERS -$1.22M,
    # LFG -$0.85M, STABLE_HOLDERS -$0.22M, TFL -$0.18M (session 39 (anchor) measured $22.9555110bn -> $22.9534351bn
    # on the tree without decisions 19 and 21)
    # session 41 (data, crypto-2022-05's 6 May rows: Aave v2 stETH's threshold 0.75 with the loops' debt at it, 7.4 %
    # less ETH borrowed and idle at AAVE_ETH instead; DAI's tin 0): 22.4756688 -> 22.4323085 (-$43.36M) at stETH 27.9 %
    # off. Separated on copies of the data: with tin 0.001 it is the same 22.4323085, and with the threshold 0.75 on the
    # loops' old debts it stays 22.4756688, so the move is the loops' lower debt (the idle ETH at AAVE_ETH); not traced
    # to the step (for the lead)
    # Decision 29 (Session 46 (defender)): 22.4323085 -> 23.3438284 (+$911.52M). LFG, UST's reserve, is paid the LUNA
    # minted for the UST it redeems (122.39M LUNA over the 12 rounds) where it took $1,565.44M of the window's cash,
    # its defence sells none of its LUNA and the queue none of its UST (509.76M UST sold back into CRV_UST before):
    # LFG's equity at the close $2,677.27M -> $1,548.27M (its LUNA marked at LUNA's close, $6.6193 -> $6.6683); the
    # other holders keep more (UST closes 0.57062 -> 0.58838); the same six defaults
    assert alone["total_loss"][0] / 1e9 == pytest.approx(23.3438284, rel=1e-7)


def test_a_reserve_that_buys_nothing_leaves_its_pool_to_the_bit():
    """:func:`core.engine.defend.defend_pegs` on a batch of two rows of the 2022 network: in the first, 2bn UST sold
    into its Curve pool (UST 0.98227 at the pool's price: LFG buys, to 0.99998); in the second, UST at peg and its
    pool's price one ulp above what the pool's invariant prices (1 + 2**-52: a price an earlier step left, as
    the cascade's steps do). The second row alone and in the batch: its pool's price, reserves, prices and
    holdings to the last bit. (Before session 42 (batch), once any row's reserve bought, the purchase's swap and
    price ran on every row: the second row's pool was re-priced from the invariant, 1.0000000000000002 -> 1.0, in
    the batch and not alone; storm 29 of the 2022 storms with Aave v2 stETH's threshold at 0.75 ended 1.9e-6 USD
    of equity apart, :func:`test_a_storm_on_the_dated_2022_network_is_the_same_alone_and_in_its_batch`.)"""
    from core.engine.batch import batch_take
    from core.engine.defend import defend_pegs
    from core.engine.state import initial_state
    from core.mechanisms import amm
    from core.mechanisms._checks import trusted

    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = scenario_batch(net, [Scenario(name="buys"), Scenario(name="holds")])
    s = initial_state(c, b)
    ust = list(c.symbols).index("UST")
    p = list(c.pool_asset).index(ust)
    res, px, P = s.pool_res.copy(), s.pool_px.copy(), s.P.copy()
    res[0, p, 0] += 2e9
    px[0, p] = amm.stableswap_price(res[0, p], c.pool_A[p], 0, 1)
    P[0, ust] = px[0, p]
    px[1, p] = np.nextafter(px[1, p], np.inf)
    s.pool_res, s.pool_px, s.P = res, px, P
    with trusted():
        alone = s.take(np.array([1]))
        alone.apply(defend_pegs(c, alone, batch_take(b, np.array([1])), 1))
        s.apply(defend_pegs(c, s, b, 1))
    # the first row's reserve bought; decision 29 (Session 46 (defender)): 0.99997528 -> 0.99997492, its defence
    # sells none of its LUNA, so its budget (half its reserve) is of $2,944.02M of BTC, USDT and USDC, not $3,074.24M
    assert s.P[0, ust] == pytest.approx(0.99997492, abs=1e-8)
    for f in ("pool_px", "pool_res", "P", "H", "impact_log", "sold_reference_usd"):
        assert getattr(s, f)[1].tobytes() == getattr(alone, f)[0].tobytes(), f
    assert alone.pool_px[0, p] == 1.0 + 2.0 ** -52


def _dated_2022() -> core.Network:
    """The 2022 network with the parameters session 41 (data) dates to 6 May 2022: Aave v2 stETH's liquidation
    threshold 0.75 on its nine cohorts, the seven loop rows' debt x 0.75/0.81, the 33,580.5592 ETH they no longer
    borrow AAVE_ETH's idle ETH, DAI's PSM tin 0. Session 42 (batch) built it from main's rows; since the dated
    data landed (session 42 (data)) the shipped snapshot holds them, so it is the snapshot itself."""
    net = core.datasets.load("crypto-2022-05")
    co = net.cohorts.set_index("id")
    assert float(co.loc["AAVE_ETH.stETH-ETH.hf1.02", "liquidation_threshold"]) == 0.75
    assert float(net.pegs.set_index("asset").loc["DAI", "psm_tin"]) == 0.0
    return net


def test_a_storm_on_the_dated_2022_network_is_the_same_alone_and_in_its_batch():
    """Storm 29 of the 2022 storms (:func:`_random_scenarios`, seed 1, and the terra-style 33rd) on the network
    with session 41 (data)'s dated parameters (:func:`_dated_2022`): alone, in its eight (rows 24-32) and in the
    batch of 33, to the last bit. Before session 42 (batch) it differed alone: in round 3 LFG bought in other rows
    and not in its own, whose UST pool was re-priced by the purchase's swap of nothing (1.1822815841795644 ->
    ...646), and its equity ended 1.9e-6 USD apart (writedowns 3,785,479,828.0854807 -> ...816)."""
    net = _dated_2022()
    scs = _random_scenarios(net, 32, 1)
    scs.append(Scenario(forced_defaults=list(net.entities["id"][:2]), run_intensity=0.5,
                        price_shocks={"ETH": -0.45, "BTC": -0.3, "LUNA": -0.9}, oracle_lag=1, horizon=15))
    whole = _rows(simulate_batch(net, scs))
    for rows in (np.array([29]), np.arange(24, 33)):
        assert not _differ({k: v[rows] for k, v in whole.items()}, _rows(simulate_batch(net, [scs[i] for i in rows]))), rows.tolist()


@pytest.mark.parametrize("seed,row", [(8, 2), (15, 14), (16, 3), (18, 20), (21, 10)])
def test_storms_on_the_shipped_2022_network_whose_reserve_bought_nothing_beside_one_that_did(seed, row):
    """Found by running each of the 2022 network's storms of seeds 2-21 (:func:`_random_scenarios`, 32 a batch) in its
    batch on the engine before and after session 42 (batch)'s fix: these five rows moved (none on crypto-2025-10, which
    has no reserve defending a pool), and each alone differed from itself in its batch before the fix (equity up
    to 1.9e-6 USD, 1.08e-14 relative; prices one ulp): a round where its batch-mates' LFG bought UST and its own did
    not, its UST pool re-priced by the purchase's swap of nothing (:func:`core.engine.defend.defend_pegs`)."""
    net = core.datasets.load("crypto-2022-05")
    scs = _random_scenarios(net, 32, seed)
    assert not _differ(_rows(simulate_batch(net, scs), np.array([row])), _rows(simulate_batch(net, [scs[row]])))


@pytest.mark.parametrize("seed,row", [(4, 24), (7, 10), (15, 13), (15, 24), (19, 6)])
def test_storms_on_the_shipped_2020_network_whose_sai_cohort_was_not_liquidated_beside_one_that_was(seed, row):
    """Found by running each of the 2020 network's storms of seeds 1-19 (:func:`_random_scenarios`, 32 a batch) alone
    and in its batch: these rows' ``supplier_owed`` differed (seed 4's storm 24: MAKER_SAI's 12,662,898.61347675 in
    the batch, ...670 alone). In round 11 the liquidation rule left a MAKER_SAI cohort of the row 7.3e-10 ETH short of
    its collateral (158,004.02505179905 -> ...832, nothing seized, no debt repaid, not liquidated), and
    :func:`core.engine.insurance.handed_back` counted that residue as handed back to barked vaults' owners (the pooled
    PETH's ``pooled_free``) only when a batch-mate's liquidation made the step compute it at all
    (:func:`core.engine.liquidate.liquidate`; since session 42 (batch): nothing is handed back from a cohort not
    liquidated)."""
    net = core.datasets.load("crypto-2020-03")
    scs = _random_scenarios(net, 32, seed)
    assert not _differ(_rows(simulate_batch(net, scs), np.array([row])), _rows(simulate_batch(net, [scs[row]])))


def _paths_scaled(preset: str, depth: float, run: float, lag: int, **update) -> Scenario:
    """A preset undated, its price paths' moves and shocks x ``depth``, its run intensity and lag replaced."""
    sc = core.datasets.preset(preset).scenario
    return sc.model_copy(update={"price_paths": {a: [max(-0.99, x * depth) for x in p] for a, p in sc.price_paths.items()},
                                 "price_shocks": {a: max(-0.99, v * depth) for a, v in sc.price_shocks.items()},
                                 "run_intensity": run, "oracle_lag": lag, "date": None, **update})


@pytest.mark.parametrize("mate", ["itself-at-lag-2", "black-thursday-preset"])
def test_a_june_storm_beside_a_mate_that_makes_more_cohorts_due(mate):
    """Found by random batches (session 44, batchdep): on crypto-2022-05 as shipped (undated), the June preset's
    paths x 0.9841, run 0.0011, lag 1, alone and beside the same storm at lag 2 or beside the Black Thursday
    preset (undated): AAVE_ETH's bad debt 2.98e-8 USD apart before session 44. The row alone weighed liquidators'
    limit on its own due cohorts (liquidate's idle-cohort cut), beside its mate on the batch's, a set wider by
    cohorts asking it nothing, and the stETH pool's fill read the demand before a tie of margins one ulp apart
    where an idle cohort started the tie (:func:`core.mechanisms.liquidators.fill_by_margin`)."""
    net = core.datasets.load("crypto-2022-05")
    x = _paths_scaled("steth_june_2022", 0.9841333955106859, 0.0011279676186756182, 1)
    other = (x.model_copy(update={"oracle_lag": 2}) if mate == "itself-at-lag-2"
             else core.datasets.preset("black_thursday_eth_crash").scenario.model_copy(update={"date": None}))
    assert not _differ(_rows(simulate_batch(net, [x, other]), np.array([0])), _rows(simulate_batch(net, [x])))


_NETWORKS = ("crypto-2022-05", "crypto-2022-05@2022-06-18", "crypto-2022-05@2022-11-11", "crypto-2025-10",
             "crypto-2020-03", "synthetic(300, 3000, seed 7)")
_PRESETS = {"crypto-2022-05": ("black_thursday_eth_crash", "terra_may_2022", "steth_june_2022", "tac_june_2022",
                               "ftx_nov_2022"),
            "crypto-2025-10": ("october_2025_crash", "stream_elixir_nov_2025"), "crypto-2020-03": ("black_thursday_2020",)}


def _network(key: str) -> core.Network:
    """A network of :data:`_NETWORKS`, loaded once a session (a snapshot at a date: ``datasets.load(at=)``)."""
    if key not in _KEPT:
        snap, _, date = key.partition("@")
        _KEPT[key] = (core.datasets.synthetic(300, 3000, seed=7) if snap.startswith("synthetic")
                      else core.datasets.load(snap, at=date or None))
    return _KEPT[key]


@st.composite
def _storm(draw, key: str, net: core.Network) -> Scenario:
    """A storm on ``net``: one of its snapshot's presets, undated, its moves scaled, or random shocks to its large
    assets; any run, lag, liquidity and (sometimes) scarce capital, and sometimes no moves at all (a calm mate,
    due in other rounds and cohorts than its batch's storms)."""
    presets = _PRESETS.get(key.partition("@")[0], ())
    lag, run = draw(st.integers(0, 2), label="lag"), draw(st.floats(0.0, 1.0), label="run")
    capital = draw(st.one_of(st.none(), st.floats(1e8, 5e9)), label="capital")
    if presets and draw(st.booleans(), label="preset"):
        sc = _paths_scaled(draw(st.sampled_from(presets)), draw(st.floats(0.4, 1.2), label="depth"), run, lag)
    else:
        syms = [s for s in net.assets["symbol"] if s in ("ETH", "stETH", "BTC", "WBTC", "LUNA", "UST", "FTT", "SOL",
                                                         "USDe", "ALTS", "DAI", "USDC", "TOKEN")]
        shocked = draw(st.lists(st.sampled_from(syms), max_size=3, unique=True), label="shocked")
        sc = Scenario(price_shocks={a: -draw(st.floats(0.0, 0.7)) for a in shocked}, run_intensity=run,
                      oracle_lag=lag, liquidity=draw(st.floats(0.3, 1.5), label="liquidity"),
                      horizon=draw(st.integers(4, 16), label="horizon"))
    if draw(st.integers(0, 4), label="calm") == 0:
        sc = sc.model_copy(update={"price_paths": {}, "price_shocks": {}, "depegs": {}, "pool_sales_usd": {}})
    return sc if capital is None else sc.model_copy(update={"liquidator_capacity_usd": capital})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_row_of_a_random_batch_is_its_run_alone(data):
    """Random batches of 2-4 storms (:func:`_storm`) on the shipped networks (the 2022 one also at two of its
    dates) and a synthetic one: each row, run alone, equals its row in the batch, every per-scenario array to the
    bit. Hypothesis steers towards batches whose rows' due cohorts differ from the batch's (the rounds where a
    row's own due cohorts and its batch's fall on two sides of liquidate's idle-cohort cut, and the cohorts due in
    the batch but not in the row): the liquidation step weighs liquidators' limit on the batch's due cohorts,
    which a row's batch-mates widen (session 44, batchdep)."""
    import core.engine.liquidate as liquidate

    key = data.draw(st.sampled_from(_NETWORKS), label="network")
    net = _network(key)
    scs = data.draw(st.lists(_storm(key, net), min_size=2, max_size=4), label="storms")
    crossed, extra = [0], [0]
    due = liquidate.cohorts_due

    def counted(c, *args, **kwargs):  # the batch's due cohorts against each row's own (read only)
        below = due(c, *args, **kwargs)
        rows = below.any(1)
        if rows.any():
            own = below[rows].sum(1)
            every = int(below[rows].any(0).sum())
            crossed[0] += int(((2 * own < below.shape[1]) != (2 * every < below.shape[1])).sum())
            extra[0] += int((every - own).sum())
        return below

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(liquidate, "cohorts_due", counted)
        whole = _rows(simulate_batch(net, scs))
    target(float(crossed[0]), label="rows on the other side of the cut from their batch")
    target(float(extra[0]), label="cohorts due in the batch and not in the row")
    for i, sc in enumerate(scs):
        assert not _differ({k: v[[i]] for k, v in whole.items()}, _rows(simulate_batch(net, [sc]))), (key, i)


def _found_batches() -> list[dict]:
    """The batches a random search found a row of differing alone on the engine before session 44 (batchdep)
    (``tests/regressions/batch_mates.json``: the network, the storms, the row)."""
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "regressions" / "batch_mates.json").read_text())


@pytest.mark.parametrize("found", _found_batches(), ids=lambda f: f"{f['found']}-{f['network']}")
def test_rows_a_random_search_found_depending_on_their_batch_mates(found):
    """Found by random batches of 2-4 storms (the draws of :func:`_storm`'s kind: presets undated with their paths
    scaled, random shocks, calm mates) on main before session 44 (batchdep), seeds 30000-31279 of a scratch search:
    4 rows of 1,280 batches differed alone from their batch row (the 2022 network at 19 May: liquidated USD and the
    liquidation channel; undated: equity and loss; synthetic(1000, 10000, seed 3): equity, loss and fee income),
    0 after the pool fill's fix (:func:`core.mechanisms.liquidators.fill_by_margin`, the same seeds). Each row,
    alone and in its batch, to the bit."""
    key, row = found["network"], found["row"]
    snap, _, date = key.partition("@")
    if snap.startswith("synthetic"):
        _, n, seed = snap.split(":")
        net = core.datasets.synthetic(int(n), 10 * int(n), seed=int(seed))
    else:
        net = _network(key)
    scs = [Scenario(**d) for d in found["scenarios"]]
    assert not _differ(_rows(simulate_batch(net, scs), np.array([row])), _rows(simulate_batch(net, [scs[row]])))

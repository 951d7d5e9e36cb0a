"""A forced failure dated to a round (``forced_default_rounds``): round 0's treatment at the start of that round.

The scenario field names, for an entity of ``forced_defaults``, the round at whose start it fails (absent: round
0). The engine (:func:`core.engine.exogenous.forced_later`) books at that round's opening exactly what round 0
books for a forced default: the outside assets and tokens lost but the recovery share, a Maker system caged on
the round's oracles (:func:`core.engine.maker_end.cage`), the failed entity's coins, exchange tokens and wrapped
tokens at what it pays in a clearing of the opening books. Nothing changes before that round.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import core
from core import Scenario
from core.engine import maker_end, scenario_batch, simulate_batch
from core.network import Network
from core.scenario import parse_scenario
from core.validation import DataValidationError
from test_pass_through import _PROV
from test_token_holders import issuer_network

#: Entities forced to fail in the properties below: exchanges, lenders, issuers of a coin, Maker/Sky, custodians.
FAILING = {"crypto-2022-05": ["FTX", "CELSIUS", "CIRCLE", "MAKER", "LIDO"],
           "crypto-2025-10": ["SKY", "CIRCLE", "ETHERFI", "BINANCE", "LIDO"],
           "crypto-2020-03": ["MAKER", "BINANCE", "CIRCLE"]}


# --- the scenario field ---------------------------------------------------------------------------------------

def test_the_field_is_optional_and_old_files_stay_valid():
    sc = parse_scenario({"forced_defaults": ["FTX"]})
    assert sc.forced_default_rounds == {}
    # the shipped presets load; one dates its failure (Stream's announcement of 4 November 2025, round 1), the others
    # fail theirs at round 0 (docs/invariants.md, Session 28 (presets): dated, ftx_nov_2022 and tac_june_2022 tell
    # a story further from history)
    dated = {"stream_elixir_nov_2025": {"STREAM": 1}}
    for path in sorted(core.datasets.scenario_dir().glob("*_*.json")):
        assert core.load_scenario(path).forced_default_rounds == dated.get(path.stem, {}), path.stem
    assert parse_scenario({"forced_defaults": ["FTX", "ALAMEDA"], "forced_default_rounds": {"FTX": 2}}).forced_default_rounds == {"FTX": 2}


@pytest.mark.parametrize("doc, field, words", [
    ({"forced_defaults": ["FTX"], "forced_default_rounds": {"CELSIUS": 2}}, "forced_default_rounds", ["CELSIUS", "2", "forced_defaults"]),
    ({"forced_defaults": ["FTX"], "forced_default_rounds": {"FTX": 12}}, "forced_default_rounds", ["FTX", "12", "horizon"]),
    ({"forced_defaults": ["FTX"], "horizon": 3, "forced_default_rounds": {"FTX": 5}}, "forced_default_rounds", ["FTX", "5", "[0, 3)"]),
    ({"forced_defaults": ["FTX"], "forced_default_rounds": {"FTX": -1}}, "forced_default_rounds.FTX", ["-1", ">= 0"]),
    ({"forced_defaults": ["FTX"], "forced_default_rounds": {"FTX": 1.5}}, "forced_default_rounds.FTX", ["1.5", "whole number"]),
    ({"forced_defaults": ["FTX"], "forced_default_rounds": {"FTX": True}}, "forced_default_rounds.FTX", ["True"]),
])
def test_bad_input_names_the_field_the_key_and_the_value(doc, field, words):
    with pytest.raises(DataValidationError) as exc:
        parse_scenario(doc)
    text = str(exc.value)
    assert f"'{field}'" in text
    for w in words:
        assert w in text


def test_an_unknown_entity_is_named_against_the_network():
    sc = Scenario(forced_defaults=["NOBODY"], forced_default_rounds={"NOBODY": 1})
    with pytest.raises(DataValidationError) as exc:
        sc.check_against(core.datasets.load("crypto-2022-05"))
    assert "forced_default_rounds.NOBODY" in str(exc.value) and "forced_defaults.NOBODY" in str(exc.value)


def test_the_published_schema_has_the_field():
    schema = json.loads(core.datasets.data_path("scenarios", "scenario.schema.json").read_text(encoding="utf-8"))
    prop = schema["properties"]["forced_default_rounds"]
    assert prop["additionalProperties"] == {"minimum": 0, "type": "integer"}
    assert "forced_default_rounds" not in schema.get("required", [])


def test_the_batch_holds_the_rounds():
    """-1 where nothing is forced, the round where a failure is dated, 0 for a forced default without a date; no
    array at all where every forced default fails at round 0 (the engine's round-0 path, unchanged)."""
    net = core.datasets.load("crypto-2022-05")
    b = scenario_batch(net, [Scenario(forced_defaults=["FTX", "ALAMEDA"], forced_default_rounds={"FTX": 3}),
                             Scenario(forced_defaults=["CELSIUS"])])
    ids = list(net.entities["id"])
    assert b.forced_round is not None
    assert b.forced_round[0, ids.index("FTX")] == 3 and b.forced_round[0, ids.index("ALAMEDA")] == 0
    assert b.forced_round[1, ids.index("CELSIUS")] == 0 and (b.forced_round == -1).sum() == 2 * len(ids) - 3
    assert b.forcing_rounds == {3}
    assert b.forced_at(0).sum() == 2 and b.forced_at(3).sum() == 1 and b.forced_at(2) is None
    assert b.forced_after(2).tolist() == [True, False] and b.forced_after(3) is None
    assert scenario_batch(net, Scenario(forced_defaults=["FTX"], forced_default_rounds={"FTX": 0})).forced_round is None
    # a ranking's seeds replace the forced defaults: they fail at round 0
    assert b.replace(forced=np.zeros_like(b.forced)).forced_round is None


# --- (a) a failure dated to round 0 is today's forced default ---------------------------------------------------

def _same(a, b) -> None:
    for f in ("equity", "loss", "defaulted", "default_round", "bad_debt", "total_loss", "prices", "rounds_run",
              "liquidated_usd", "outside_loss", "writedowns", "shortfall"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


@pytest.mark.parametrize("snap, x", [("crypto-2022-05", "FTX"), ("crypto-2022-05", "MAKER"), ("crypto-2025-10", "CIRCLE"),
                                     ("crypto-2020-03", "MAKER")])
def test_round_zero_is_todays_forced_default(snap, x):
    """Bit for bit: dated to round 0 alone, and as a round-0 row beside a row whose failure is dated later (the
    batch then carries the rounds array)."""
    net = core.datasets.load(snap)
    base = dict(price_shocks={"ETH": -0.35}, run_intensity=0.6, oracle_lag=1)
    plain = simulate_batch(net, [Scenario(**base, forced_defaults=[x])], record=True)
    dated = simulate_batch(net, [Scenario(**base, forced_defaults=[x], forced_default_rounds={x: 0})], record=True)
    _same(plain, dated)
    for k in plain.history:
        np.testing.assert_array_equal(np.asarray(plain.history[k]), np.asarray(dated.history[k]), err_msg=k)
    mixed = simulate_batch(net, [Scenario(**base, forced_defaults=[x], forced_default_rounds={x: 0}),
                                 Scenario(**base, forced_defaults=[x], forced_default_rounds={x: 4})])
    alone = simulate_batch(net, [Scenario(**base, forced_defaults=[x])])
    for f in ("equity", "loss", "total_loss", "prices", "default_round", "bad_debt"):
        np.testing.assert_array_equal(getattr(mixed, f)[:1], getattr(alone, f), err_msg=f)


# --- (b) nothing before the round ---------------------------------------------------------------------------------

def _before(res, r: int):
    rounds = res.rounds
    return res.prices.loc[: r - 1], rounds[rounds.index.get_level_values(0) < r], res.totals[res.totals["round"] < r]


@pytest.mark.parametrize("snap", sorted(FAILING))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_round_before_the_failure_is_the_run_without_it(snap, data):
    """Property: with X forced to fail at round r, prices, the per-entity rounds table and the totals of every
    round before r are those of the same scenario without X forced, to the bit; X is in default from round r
    (its default round r, or an earlier one where the cascade took it down first); the cascade runs at least to
    round r."""
    net = core.datasets.load(snap)
    x = data.draw(st.sampled_from(FAILING[snap]), "x")
    r = data.draw(st.integers(1, 6), "r")
    fall = data.draw(st.floats(0.0, 0.7), "fall")
    steps = data.draw(st.integers(1, 4), "steps")
    base = dict(price_paths={"ETH": [-fall * (i + 1) / steps for i in range(steps)]}, run_intensity=data.draw(st.floats(0, 1), "run"),
                oracle_lag=data.draw(st.integers(0, 2), "lag"), forced_default_recovery=data.draw(st.floats(0, 1), "recovery"),
                horizon=10)
    without = core.simulate(net, Scenario(**base))
    forced = core.simulate(net, Scenario(**base, forced_defaults=[x], forced_default_rounds={x: r}))
    upto = min(r, len(without.totals))
    for a, b in zip(_before(forced, upto), _before(without, upto)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(forced.totals) > r
    dr = int(forced.nodes.loc[x, "default_round"])
    assert 0 <= dr <= r
    if dr < r:  # the cascade took it down first: in default in the run without it too, at that round
        assert int(without.nodes.loc[x, "default_round"]) == dr


# --- (c) the round-r failure books round 0's treatment on round r's books -------------------------------------------

def _issuer_with_eth() -> Network:
    """test_token_holders' ISSUER ($105M of reserves, 100M USDX owed, FUND holding 60M of it), which also holds
    10,000 ETH ($20M at $2,000)."""
    net = issuer_network()
    holdings = pd.concat([net.holdings, pd.DataFrame([dict(entity="ISSUER", asset="ETH", amount=1e4, **_PROV)])],
                         ignore_index=True)
    return Network.from_frames(name="issuer-eth", entities=net.entities, assets=net.assets, holdings=holdings,
                               exposures=net.exposures, cohorts=net.cohorts)


def test_the_failure_at_round_three_is_round_zeros_on_round_threes_books():
    """ETH falls by a path, -10%, -20%, -30%, -40% ($1,800 ... $1,200); ISSUER fails at round 3 keeping half its
    assets. Rounds 0-2: USDX at par, ISSUER loses its ETH's fall ($2M a round), no default. Round 3 opens at ETH
    $1,200: ISSUER's $105M + 10,000 x $1,200 = $117M, half lost; it pays $58.5M of the $100M it owes, so USDX
    trades at 0.585 from the round's first trade; ISSUER loses its $25M of equity, FUND 60M x 0.415 = $24.9M,
    outsiders 40M x 0.415 = $16.6M: $66.5M (and the estate's ETH sale's impact). That is round 0's treatment of
    the same books: ETH -40% at once with ISSUER failing at round 0 gives the same rounds, three rounds earlier."""
    net = _issuer_with_eth()
    dated = core.simulate(net, Scenario(price_paths={"ETH": [-0.1, -0.2, -0.3, -0.4]}, forced_defaults=["ISSUER"],
                                        forced_default_rounds={"ISSUER": 3}, forced_default_recovery=0.5, horizon=8))
    at_once = core.simulate(net, Scenario(price_shocks={"ETH": -0.4}, forced_defaults=["ISSUER"],
                                          forced_default_recovery=0.5, horizon=8))
    usdx, eth, totals = dated.prices["USDX"].to_numpy(), dated.prices["ETH"].to_numpy(), dated.totals
    np.testing.assert_array_equal(usdx[:3], 1.0)
    np.testing.assert_allclose(eth[:3], [1800.0, 1600.0, 1400.0], rtol=1e-12)
    np.testing.assert_allclose(totals["total_loss_usd"].to_numpy()[:3], [2e6, 4e6, 6e6], rtol=1e-9)
    assert (totals["defaults"].to_numpy()[:3] == 0).all()
    assert usdx[3] == pytest.approx(0.5 * (105e6 + 1e4 * 1200.0) / 100e6, rel=1e-12)  # 0.585
    assert totals["total_loss_usd"].iloc[3] == pytest.approx(25e6 + 24.9e6 + 16.6e6, rel=1e-3)
    assert dated.nodes.loc["ISSUER", "default_round"] == 3 and dated.nodes.loc["ISSUER", "cause"] == "shock"
    # round 0's treatment on the same books: the same rounds, shifted by three
    n = len(at_once.totals)
    for sym in ("ETH", "USDX"):
        np.testing.assert_allclose(dated.prices[sym].to_numpy()[3:3 + n], at_once.prices[sym].to_numpy(), rtol=1e-12, err_msg=sym)
    for col in ("total_loss_usd", "loss_shock_usd", "defaults", "liquidated_usd"):
        np.testing.assert_allclose(totals[col].to_numpy()[3:3 + n], at_once.totals[col].to_numpy(), rtol=1e-12, err_msg=col)
    assert dated.summary_value("total_loss_usd") == pytest.approx(at_once.summary_value("total_loss_usd"), rel=1e-12)


def test_the_cascade_waits_for_a_dated_failure():
    """Nothing moves before round 5 (no shock at all), yet the cascade does not settle before it: the failure
    comes at round 5 and is the round-0 worked example's ($21M), five rounds later."""
    net = issuer_network()
    res = core.simulate(net, Scenario(forced_defaults=["ISSUER"], forced_default_rounds={"ISSUER": 5}, forced_default_recovery=0.8))
    assert len(res.totals) >= 6
    assert res.totals["total_loss_usd"].iloc[4] == 0.0
    assert res.summary_value("total_loss_usd") == pytest.approx(21e6, rel=1e-12)
    assert res.nodes.loc["ISSUER", "default_round"] == 5
    np.testing.assert_array_equal(res.prices["USDX"].to_numpy()[:5], 1.0)
    assert res.prices["USDX"].iloc[5] == pytest.approx(0.84, rel=1e-12)


# --- (d) Maker's cage reads the oracle of its round ---------------------------------------------------------------

@pytest.mark.parametrize("lag, feed", [(0, None), (1, 194.0 * 0.7), (2, 194.0 * 0.9)])
def test_maker_caged_at_round_two_reads_round_twos_oracle(monkeypatch, lag, feed):
    """On crypto-2020-03 (ETH $194 at reference), ETH follows a path -10%, -30%, -50% and the scenario forces MAKER
    to fail at round 2: end.cage's tag is par over the oracle Maker's vaults read at round 2. With no lag, round
    2's opening price: round 1's close times the path's step 0.5/0.7 ($96.47); with lag 1 and 2 the openings of
    rounds 1 and 0 ($135.80, $174.60; each round's opening is the last entry of the price history), as
    :func:`core.engine.maker_book.vault_books` reads them. MAKER's default round is 2."""
    seen: list[np.ndarray] = []
    skim = maker_end.skim

    def spy(ink, debt, feed_, spread=0.0):
        seen.append(feed_.copy())
        return skim(ink, debt, feed_, spread)

    monkeypatch.setattr(maker_end, "skim", spy)
    net = core.datasets.load("crypto-2020-03")
    base = dict(price_paths={"ETH": [-0.1, -0.3, -0.5]}, oracle_lag=lag, horizon=8)
    forced = core.simulate(net, Scenario(**base, forced_defaults=["MAKER"], forced_default_rounds={"MAKER": 2}))
    assert len(seen) == 1 and forced.nodes.loc["MAKER", "default_round"] == 2
    if feed is None:
        without = core.simulate(net, Scenario(**base))
        feed = without.prices["ETH"].iloc[1] * 0.5 / 0.7
        assert feed == pytest.approx(96.473, abs=1e-3)
    np.testing.assert_allclose(seen[0], feed, rtol=1e-12)  # every cohort of the 2020 system is ETH-backed



# --- a row's result never depends on its batch-mates, nor on how the batch is cut ----------------------------------

_FIELDS = ("equity", "loss", "loss_by_channel", "defaulted", "default_round", "bad_debt", "total_loss", "prices",
           "rounds_run", "writedowns", "shortfall", "liquidated_usd", "outside_loss")


@settings(max_examples=10, deadline=None)
@given(xs=st.lists(st.sampled_from(FAILING["crypto-2022-05"]), min_size=3, max_size=3),
       rs=st.lists(st.integers(0, 5), min_size=3, max_size=3), fall=st.floats(0.0, 0.6))
def test_a_dated_row_is_the_same_alone_and_in_a_batch(xs, rs, fall):
    """Property: rows forcing failures at different rounds (0 included, one with none) give each its own result, to
    the bit: the caps, cages and opening clearings of one row's failure leave its batch-mates' alone (before, a
    row failing at a later round reset a round-0 failed Maker's DAI cap to 1 in its batch-mates: $8.68bn -> $11.1bn)."""
    net = core.datasets.load("crypto-2022-05")
    base = dict(price_paths={"ETH": [-fall / 2, -fall]}, run_intensity=0.5, oracle_lag=1, horizon=8)
    scs = [Scenario(**base, forced_defaults=[x], forced_default_rounds={x: r}) for x, r in zip(xs, rs)] + [Scenario(**base)]
    together = simulate_batch(net, scs)
    for i, sc in enumerate(scs):
        alone = simulate_batch(net, [sc])
        for f in _FIELDS:
            np.testing.assert_array_equal(getattr(together, f)[i], getattr(alone, f)[0], err_msg=f"{f} row {i}")


def test_chunked_and_threaded_runs_equal_one_part(monkeypatch):
    """Dated failures in a batch cut into parts of 8 rows (staged on one thread, on threads by chunks) give the
    same arrays as the batch run as one part."""
    from core.engine import run_batch
    net = core.datasets.load("crypto-2022-05")
    scs = [Scenario(price_shocks={"ETH": -0.1 - 0.02 * j}, run_intensity=0.5, forced_defaults=[x],
                    forced_default_rounds={x: j % 5}) for j, x in enumerate(FAILING["crypto-2022-05"] * 6)]
    b = scenario_batch(net, scs)
    whole = run_batch(net, b, workers=1)
    c = core.engine.compile_network(net)
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * c.n * 8)
    for workers in (1, 2):
        cut = run_batch(net, b, workers=workers)
        for f in _FIELDS:
            np.testing.assert_array_equal(getattr(cut, f), getattr(whole, f), err_msg=f"{f} workers {workers}")


@pytest.mark.parametrize("snap", ["crypto-2022-05", "crypto-2020-03"])
def test_every_entity_failing_at_round_three_is_its_round_zero_failure_three_rounds_later(snap):
    """Property over every entity of a network that stands still without a shock (2022, 2020; the 2025 network
    drifts by up to 0.1% in its first rounds, its Splitter paying out): forced to fail at round 3 with no other
    shock, its cascade is the one of its failure at round 0, three rounds later: every closing price within 1e-9
    (the same arithmetic on books equal to the last bits), the same total loss, and three more rounds run.
    (Without runs: round 0 has no run, having no clearing to read distress from, while round 3's runs see the
    failure at once, as any round's see the defaults recorded before them.)

    The round-0 failure runs to a horizon three rounds shorter (17 against 20), so that a cascade which does not settle
    within the horizon is the same cascade cut at the same point. Session 38 (decision 19): on 2022, TETHER's failure
    no longer settles: USDT at 0 empties CRV_UST's USDT, UST sits at 0.993115, 0.19% beyond decision 21's 0.5% band,
    and its holders redeem a little every round (LUNA $74.52 -> $70.77 over 20 rounds, still falling at 60; the same
    without the band, faster: $74.03 -> $61.87), so with both at horizon 20 it ran 20 rounds dated and at round 0
    alike, not three more. Session 39 (crvust): that was the pool-coin arbitrage of round 0 lifting UST's pool and not
    UST (0.973246), so that round 1's defence lifted UST only to 0.993115 with the pool at peg; the arbitrage now lifts
    the coin by its own move (:func:`core.engine.module_arbitrage.redeem_pool_coins`): UST 0.979993 after round 0,
    0.99999992 from round 1, settled after 3 rounds (loss $83,949.45M; it was $84,547.66M at 60 rounds). The shorter
    horizon is kept: it is the property stated for any cascade, settled or not."""
    net = core.datasets.load(snap)
    ids = list(net.entities["id"])
    at0 = simulate_batch(net, [Scenario(forced_defaults=[x], horizon=17) for x in ids], record=True)
    dated = simulate_batch(net, [Scenario(forced_defaults=[x], forced_default_rounds={x: 3}, horizon=20) for x in ids], record=True)
    for i, x in enumerate(ids):
        n = int(at0.rounds_run[i])
        assert int(dated.rounds_run[i]) == n + 3, x
        np.testing.assert_allclose(dated.history["prices"][i, 3:3 + n], at0.history["prices"][i, :n], rtol=1e-9, err_msg=x)
        np.testing.assert_allclose(dated.history["prices"][i, :3], np.broadcast_to(net.assets["price_usd"].to_numpy(), (3, len(net.assets))),
                                   rtol=1e-15, err_msg=x)
        assert dated.total_loss[i] == pytest.approx(at0.total_loss[i], rel=1e-9, abs=1e-3), x
        assert at0.default_round[i, i] == 0 and dated.default_round[i, i] == 3, x


@pytest.mark.parametrize("r", [1, 2, 3])
def test_maker_caged_at_round_r_keeps_every_unit_of_its_vaults(monkeypatch, r):
    """On crypto-2022-05 with ETH falling -20%, -40%, -60% and MAKER caged at round r (recovery 1: nothing lost
    outside): end.skim moves collateral worth each vault's debt at the tag into End (the system's holdings), the
    owners keep the rest as free collateral, every vault's debt is 0 and no auction is left; not a unit of ETH is
    made or lost (before the cage r=1: 3,403,185 ETH in the ETH vaults; after, 1,503,770 left to owners and
    1,899,415 held by End)."""
    import core.engine.rounds as rounds
    from core.engine import exogenous as exo
    from core.engine.maker_book import maker_columns

    net = core.datasets.load("crypto-2022-05")
    eth = list(net.assets["symbol"]).index("ETH")
    seen: dict[int, tuple] = {}
    step = exo.exogenous

    def books(c, s):
        mk, M = c.maker, maker_columns(c)
        ink = s.coll[0, M][c.c_ca[M] == eth].sum()
        return ink, s.H[0, mk.protocol, eth], float(s.maker_lot[0].sum()), float(s.debt[0, M].sum())

    def spy(c, s, b, r_):
        before = books(c, s)
        out = step(c, s, b, r_)
        if out:
            s.apply(out)
        seen[r_] = (before, books(c, s))
        return {}

    monkeypatch.setattr(rounds, "STEPS", tuple(spy if f is step else f for f in rounds.STEPS))
    core.simulate(net, Scenario(price_paths={"ETH": [-0.2, -0.4, -0.6]}, horizon=6, forced_defaults=["MAKER"],
                                forced_default_rounds={"MAKER": r}, forced_default_recovery=1.0))
    (ink0, end0, _, debt0), (ink1, end1, lot1, debt1) = seen[r]
    assert end0 == 0.0 and debt0 > 1e9 and end1 > 0.0
    assert ink1 + end1 == pytest.approx(ink0, rel=1e-12)
    assert debt1 == 0.0 and lot1 == 0.0
    for q in range(r):  # nothing caged before its round
        assert seen[q][1][1] == 0.0 and seen[q][1][3] > 0.0


# --- Monte Carlo and the ranking build batches too ------------------------------------------------------------------

def test_monte_carlo_runs_a_base_with_a_dated_failure():
    """A Monte Carlo whose base dates FTX's failure to round 3 runs every draw with it (the same seed, the same
    figures), and loses at least what the base without the failure loses in each run where nothing else differs
    (here: the mean)."""
    from core.montecarlo import run_montecarlo
    net = core.datasets.load("crypto-2022-05")
    dated = {"base": {"forced_defaults": ["FTX"], "forced_default_rounds": {"FTX": 3}, "horizon": 8}}
    a = run_montecarlo(net, dated, runs=64, seed=3)
    b = run_montecarlo(net, dated, runs=64, seed=3)
    pd.testing.assert_frame_equal(a.losses, b.losses, check_exact=True)
    calm = run_montecarlo(net, {"base": {"horizon": 8}}, runs=64, seed=3)
    assert a.losses["system_loss_usd"].mean() > calm.losses["system_loss_usd"].mean()


def test_the_ranking_seeds_fail_at_round_zero_whatever_the_base_dates():
    """systemic_importance's seeds replace the base's forced defaults (each fails alone at round 0): a base that
    dates a failure ranks as the same base without it."""
    from core.metrics import systemic_importance
    net = core.datasets.load("crypto-2020-03")
    dated = systemic_importance(net, Scenario(forced_defaults=["BINANCE"], forced_default_rounds={"BINANCE": 2}))
    plain = systemic_importance(net, Scenario())
    pd.testing.assert_frame_equal(dated, plain, check_exact=True)

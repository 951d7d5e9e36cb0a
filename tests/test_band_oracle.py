"""A lender whose oracle reads a stablecoin's market price clamped into a band around its peg (core.engine.oracle,
"Banded market prices"): Compound v2's ``PriceOracleProxy`` of November 2019 to April 2020 read DAI (and SAI) at
the posted DAI/USDC ratio bounded to [0.95, 1.05] (compound-protocol ``contracts/PriceOracleProxy.sol`` at
``bcf0bc7``). The 2020 snapshot flags its 6 Compound cohorts against DAI ``debt_oracle`` ``band:0.95:1.05``.

Worked numbers on ``COMP-ETH-DAI-hf1_02``: 4,858.71496 ETH against 693,081 DAI, threshold 0.75, incentive 5%.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import invariants_support as inv
from core.engine import compile_network, simulate_batch
from core.engine.books import debt_price
from core.engine.compiled import CLOSE_FACTOR
from core.engine.due import cohorts_due
from core.engine.limits import liquidation_margin
from core.engine.liquidate import liquidate_cohorts
from core.engine.oracle import FixedOracle, band_edges, cohort_oracle_prices
from core.network import Network
from core.presets import load_preset
from core.scenario import Scenario
from oracle_fixtures import prices_at, recast, shipped_fixture

KEY = "crypto-2020-03"
COHORT = "COMP-ETH-DAI-hf1_02"


shipped = shipped_fixture(KEY)


@pytest.fixture(scope="module")
def market(shipped) -> Network:
    """The 2020 network with Compound's DAI read at the market (the flags of before session 30)."""
    co = shipped.cohorts.copy()
    co.loc[co["debt_oracle"].astype(str).str.startswith("band:"), "debt_oracle"] = "market"
    return recast(shipped, co, "crypto-2020-03-dai-market")


def test_the_shipped_flags_compile_to_dais_own_price_within_the_band(shipped):
    co = shipped.cohorts
    banded = np.flatnonzero((co["debt_oracle"] == "band:0.95:1.05").to_numpy())
    assert list(co["id"].iloc[banded]) == [f"COMP-ETH-DAI-hf{h}" for h in ("1_02", "1_10", "1_25", "1_50", "2_00", "3_00")]
    c = compile_network(shipped)
    f = c.fixed_oracle
    dai = list(c.symbols).index("DAI")
    at = np.searchsorted(f.debt_cols, banded)
    assert (f.debt_cols[at] == banded).all()
    assert (f.debt_ref[at] == dai).all() and (f.debt_ratio[at] == 1.0).all()
    assert f.debt_band[:, at].tolist() == [[0.95] * 6, [1.05] * 6]
    others = np.setdiff1d(np.arange(len(f.debt_cols)), at)   # Compound's and dYdX's USDC: fixed at $1, no band
    assert (f.debt_ref[others] == -1).all() and np.isinf(f.debt_band[:, others]).all()
    assert band_edges("band:0.95:1.05") == (0.95, 1.05) and band_edges("market") is None


def test_dai_at_110_is_read_at_105_and_the_cohort_is_not_due(shipped, market):
    """ETH at $210, DAI at 1.10. HF by hand, the cohort's spread s = 0.0196084 (core.engine.due):
    at the band's 1.05: 4,858.71496 x 210 x 0.75 / (693,081 x 1.05) = 765,247.6062 / 727,735.05 = 1.0515470,
    x (1 - s) = 1.0309278: not due; at the market's 1.10: 765,247.6062 / 762,389.10 = 1.0037494, x (1 - s) =
    0.9840675: due."""
    for net, price, hf, due in ((shipped, 1.05, 1.0309278, False), (market, 1.10, 0.9840675, True)):
        c = compile_network(net)
        j = list(net.cohorts["id"]).index(COHORT)
        assert (c.c_coll[j], c.c_debt[j], c.c_lt[j]) == (4858.71496, 693081.0, 0.75)
        P = prices_at(c, ETH=210.0, DAI=1.10)
        Pc, Pd = cohort_oracle_prices(c, np.take(P, c.c_ca, axis=1), debt_price(c, P), P)
        assert Pd[0, j] == price and Pc[0, j] == 210.0
        assert c.c_spread[j] == pytest.approx(0.0196084061, rel=1e-8)
        assert 4858.71496 * 210 * 0.75 * (1 - c.c_spread[j]) / (693081 * price) == pytest.approx(hf, rel=1e-7)
        below = cohorts_due(c, c.c_coll[None], c.c_debt[None], P, c.c_lt[None], Pc, 0.0, Pd)
        assert bool(below[0, j]) == due


@pytest.mark.parametrize("dai, read", [(1.03, 1.03), (1.05, 1.05), (0.95, 0.95), (0.97, 0.97), (1.12, 1.05),
                                       (0.90, 0.95), (0.50, 0.95)])
def test_inside_the_band_the_market_outside_its_edge(shipped, dai, read):
    """Inside [0.95, 1.05] the oracle's price itself (the same bits as a market-priced cohort's), outside it the
    edge; the other cohorts against DAI (Maker's, dYdX's) read the market."""
    c = compile_network(shipped)
    P = prices_at(c, DAI=dai)
    Pc, Pd = cohort_oracle_prices(c, np.take(P, c.c_ca, axis=1), debt_price(c, P), P)
    ids = list(shipped.cohorts["id"])
    assert Pd[0, ids.index(COHORT)] == read
    assert Pd[0, ids.index("DYDX-ETH-DAI-hf1_02")] == dai


def test_the_band_reads_the_lagged_oracle_price(shipped):
    """The band clamps the oracle's price (``Po``, lagged), not the market's: DAI at 1.02 an hour ago and 1.12
    now reads 1.02; at 1.12 an hour ago and 1.02 now, 1.05."""
    c = compile_network(shipped)
    j = list(shipped.cohorts["id"]).index(COHORT)
    for before, now, read in ((1.02, 1.12, 1.02), (1.12, 1.02, 1.05)):
        Po, P = prices_at(c, DAI=before), prices_at(c, DAI=now)
        _, Pd = cohort_oracle_prices(c, np.take(Po, c.c_ca, axis=1), debt_price(c, Po), Po)
        assert Pd[0, j] == read and P[0, list(c.symbols).index("DAI")] == now


def test_liquidators_weigh_the_debt_they_buy_at_the_market(shipped):
    """DAI at 1.10 on the market, 1.05 to the oracle, ETH at the market: a liquidator repays a DAI valued at 1.05,
    paid 1.05 x 1.05 in ETH, and buys it for 1.10: margin ln(1.05 x 1.05 / 1.10) = ln(1.0022727) = 0.0022701;
    inside the band, ln(1.05)."""
    c = compile_network(shipped)
    j = list(shipped.cohorts["id"]).index(COHORT)
    for dai, margin in ((1.10, np.log(1.05 * 1.05 / 1.10)), (1.03, np.log(1.05))):
        P = prices_at(c, DAI=dai)
        L = liquidation_margin(c, P, P, c.c_bonus[None])
        assert L[0, j] == pytest.approx(margin, rel=1e-12)
    assert np.log(1.05 * 1.05 / 1.10) == pytest.approx(0.0022701, rel=1e-4)


def test_the_seize_is_computed_at_the_band_price():
    """ETH at 100, 10 ETH against 900 DAI, threshold 0.8, bonus 5%; DAI at 1.10 on the market, 1.05 to the
    oracle. HF = 10 x 100 x 0.8 / (900 x 1.05) = 0.8466: due. Repaid 450 DAI; seized 450 x 1.05 x 1.05 / 100 =
    4.96125 ETH (at the market's DAI, 450 x 1.10 x 1.05 / 100 = 5.1975)."""
    Po = np.array([[100.0, 1.10]])
    coll, debt, lt, bonus, cf = (np.array([[x]]) for x in (10.0, 900.0, 0.8, 0.05, 0.5))
    band = FixedOracle(np.zeros(0, int), np.zeros((1, 0)), np.array([0]), np.array([[np.nan]]),
                       debt_ref=np.array([1]), debt_ratio=np.array([1.0]), debt_band=np.array([[0.95], [1.05]]))
    runs = {}
    for name, f in (("band", band), ("market", None)):
        c = SimpleNamespace(c_ca=np.array([0]), c_da=np.array([1]), c_style=np.array([CLOSE_FACTOR]),
                            c_spread=np.zeros(1), c_named=np.zeros(1, bool), maker=None,
                            c_self_issued=np.zeros(1, bool), c_peg=np.zeros(1), c_full_close=np.array([-1.0]), c_safe_ratio=np.array([np.nan]),
                            fixed_oracle=f)
        Pc, Pd = cohort_oracle_prices(c, Po[:, [0]], Po[:, [1]], Po)
        assert Pd[0, 0] == (1.05 if f is not None else 1.10)
        runs[name] = liquidate_cohorts(c, coll, debt, Po, lt, bonus, cf, np.array([np.inf]), np.zeros(1, bool),
                                       Pc=Pc, Pd=Pd)
    assert runs["band"].debt_repaid[0, 0] == pytest.approx(450.0, rel=1e-12)
    assert runs["band"].collateral_seized[0, 0] == pytest.approx(4.96125, rel=1e-12)
    assert runs["market"].collateral_seized[0, 0] == pytest.approx(5.1975, rel=1e-12)


@pytest.mark.parametrize("value", ["band:1.05:0.95", "band:a:b", "band:-0.1:1.05", "band:0.95", "band:0:1.05",
                                   "band:0.95:1.05:2", "band:nan:1.05", "band:0.95:inf"])
def test_a_malformed_band_is_refused_when_compiled(shipped, value):
    with pytest.raises(ValueError, match="band:LOW:HIGH"):
        band_edges(value)
    co = shipped.cohorts.copy()
    co.loc[co["id"] == COHORT, "debt_oracle"] = value
    with pytest.raises(ValueError, match="band:LOW:HIGH"):
        compile_network(recast(shipped, co, "bad"))


def test_black_thursday_with_the_band(shipped, market):
    """The preset ``black_thursday_2020``: DAI reaches 1.116 at the end of round 11 and 1.12 from round 14. With
    the oracle one round late, Compound's DAI is read at the market to round 11 (at most 1.034): its liquidations
    are the same to the last bit through round 12, and at 1.05 from round 12 on: it liquidates less in all
    ($16.67M against $17.09M when measured) and ETH's lowest close is higher."""
    sc, net = load_preset("black_thursday_2020")
    assert list(net.cohorts["debt_oracle"]) == list(shipped.cohorts["debt_oracle"])
    runs = {name: simulate_batch(n, [sc], record=True) for name, n in (("band", shipped), ("market", market))}
    comp = list(shipped.entities["id"]).index("COMP")
    dai, eth = (list(shipped.assets["symbol"]).index(s) for s in ("DAI", "ETH"))
    liq = {k: np.asarray(r.history["liq_by_proto"])[0, :, comp] for k, r in runs.items()}
    prices = {k: np.asarray(r.history["prices"])[0] for k, r in runs.items()}
    assert prices["band"][:12, dai].max() == pytest.approx(1.116, abs=5e-4) and prices["band"][:11, dai].max() < 1.05
    assert (liq["band"][:13] == liq["market"][:13]).all()
    assert liq["band"].sum() < liq["market"].sum() - 3e5
    assert prices["band"][:, eth].min() > prices["market"][:, eth].min()
    for r in runs.values():
        assert not np.asarray(r.defaulted)[0].any()


@settings(max_examples=20, deadline=None)
@given(depths=st.lists(st.floats(0.0, 0.8), min_size=2, max_size=4, unique=True),
       dai=st.sampled_from([0.0, 0.03, 0.08, 0.12, -0.02, -0.08]), lag=st.integers(0, 2),
       capital=st.sampled_from([np.inf, 2e6, 2e7]))
def test_monotone_in_the_eth_fall_and_no_value_created_with_the_band(depths, dai, lag, capital):
    """ETH's fall deepening, with DAI on a premium (a path at +3% to +12%, inside and beyond the band's 1.05) or
    below its peg (2%, 8%: inside and beyond 0.95), a lag, a scarce capital: loss, bad debt at reference and
    defaults never fall on the shipped 2020 network (the band on); no entity gains value it was not owed."""
    kw: dict = dict(horizon=6, oracle_lag=lag)
    if dai > 0:
        kw["price_paths"] = {"DAI": [dai]}
    elif dai < 0:
        kw["depegs"] = {"DAI": -dai}
    if np.isfinite(capital):
        kw["liquidator_capacity_usd"] = capital
    base = Scenario(**kw)
    with inv.one_batch_each():  # the falls are the monotone batch's scenarios: one engine run for both measures
        v = inv.monotone_violation(KEY, base, ("ETH",), sorted(depths))
        assert v.size == 0.0, v.note
        v = inv.value_created_violation(KEY, [Scenario(**{**kw, "price_shocks": {"ETH": -d}}) for d in sorted(depths)])
        assert v.size == 0.0, v.note


@settings(max_examples=15, deadline=None)
@given(depths=st.lists(st.floats(0.0, 0.3), min_size=2, max_size=4, unique=True),
       eth=st.sampled_from([0.0, 0.3, 0.5]), lag=st.integers(0, 2))
def test_monotone_in_a_deepening_dai_depeg_with_the_band(depths, eth, lag):
    """DAI's depeg deepening (read at no less than 0.95 by Compound): over ETH's fall a cheaper DAI is a real gain
    to those who owe it at the market (the exception of invariant 1, docs/invariants.md, session 29), so alone;
    with ETH's fall only no value created."""
    kw: dict = dict(horizon=6, oracle_lag=lag)
    if eth:
        kw["price_shocks"] = {"ETH": -eth}
        v = inv.value_created_violation(KEY, [Scenario(**{**kw, "depegs": {"DAI": d}}) for d in depths])
        assert v.size == 0.0, v.note
        return
    v = inv.monotone_violation(KEY, Scenario(**kw), ("DAI",), sorted(depths), mode="depeg")
    assert v.size == 0.0, v.note

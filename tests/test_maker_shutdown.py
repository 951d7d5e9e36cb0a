"""A Maker the scenario forces to default is shut down (``end.sol``): End cages it at round 0's opening, skims its
vaults at the cage's ``tag`` and holds the collateral for DAI's holders; no bark, no auction, no debt auction, and
MKR holders owe nothing (``core.engine.maker_end``; the shutdown's DAI price, ``core.engine.maker_vow.clearing_recovery``).

Source: dss ``src/end.sol``: ``cage`` cages the Vat, Cat/Dog, Vow (``Sin = 0``, ``Ash = 0``, the flopper caged)
and Spotter; ``cage(ilk)`` sets ``tag = par / pip.read()``; ``skim`` takes ``wad = min(ink, art * rate * tag)``
from each urn and books ``owe - wad`` in the ilk's ``gap``; ``free`` hands an urn's owner the rest; ``cash`` pays
DAI's holders the collateral End holds, in kind.

Worked numbers: crypto-2020-03, Maker owes 104,000,000 DAI and its eight ETH cohorts hold 1,979,381.4433 ETH
against 100,000,000 DAI (ratios 1.6-7.0 at ETH $194, each spread +-5%). The forced default takes Maker's other
assets (recovery 0), so DAI's holders are paid by what End skims alone:

* ETH -95%, BTC -93%, oracle lag 2: the OSM still reads $194 at the cage, ``tag`` = 1/194, and every vault is
  above water at it (ratio >= 1.6 x 0.95): End takes 100,000,000 / 194 = 515,463.9175 ETH, no gap, and the owners
  keep 1,463,917.5258 ETH. At the market's $9.70 that is $5,000,000: DAI opens at 5,000,000 / 104,000,000 =
  0.0480769. (Before: the shut-down Maker's flip auctions of round 2 raised 15,086,998.55 DAI of keepers' capital
  and DAI traded at 0.145067.)
* the same with no oracle lag: ``tag`` = 1/9.70 and every vault is under water (ratio <= 7.0 x 0.05 x 1.05):
  End takes all 1,979,381.4433 ETH, worth $19,200,000, and books a gap of 80,800,000 DAI; DAI opens at
  19,200,000 / 104,000,000 = 0.184615.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network
from core.engine.batch import build_batch
from core.engine.exogenous import exogenous
from core.engine.maker_end import skim, snip
from core.engine.rounds import run_round
from core.engine.state import initial_state
from core.scenario import Scenario

SHOCK = dict(price_shocks={"ETH": -0.95, "BTC": -0.93}, run_intensity=1.0, oracle_lag=2, liquidity=0.4,
             liquidator_capacity_usd=50e6)


@pytest.fixture(scope="module")
def net2020():
    net = core.datasets.load("crypto-2020-03")
    return net, compile_network(net)


def _indices(c):
    return list(c.ids).index("MAKER"), list(c.symbols).index("DAI"), list(c.symbols).index("ETH")


@pytest.fixture(scope="module")
def shut_and_live(net2020):
    net, c = net2020
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], **SHOCK), Scenario(**SHOCK)], net)
    s = initial_state(c, b)
    rounds = []
    for r in range(5):
        run_round(c, s, b, r)
        j, dai, eth = _indices(c)
        rounds.append(dict(dai=s.P[:, dai].copy(), held=s.H[:, j, eth].copy(), sold=s.liq_by_proto[:, j].copy()
                           if s.liq_by_proto is not None else np.zeros(2), tab=s.maker_tab.sum((1, 2)).copy(),
                           vaults=s.coll[:, c.maker.cohorts].sum(1).copy(), debt=s.debt[:, c.maker.cohorts].sum(1).copy()))
    return c, s, rounds


def opening(net, c, **shock):
    """Round 0's exogenous step alone, Maker forced: the state once End has caged and skimmed."""
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], **shock)], net)
    s = initial_state(c, b)
    s.apply(exogenous(c, s, b, 0))
    return s


def test_end_skim_arithmetic():
    """``end.skim`` of one vault: above water it keeps ``ink - art*rate*tag``, under water it gives all its ink
    and books the gap (``owe - wad``); ``end.snip`` puts an auction's lot and unraised debt back on the urn."""
    wad, gap = skim(np.array([[10.0, 4.0, 5.0]]), np.array([[1000.0, 1000.0, 1000.0]]), np.array([[200.0, 200.0, 200.0]]))
    assert wad.tolist() == [[5.0, 4.0, 5.0]]  # owe = 1000 / 200 = 5 ETH: the first owner frees 5
    assert gap.tolist() == [[0.0, 200.0, 0.0]]  # 1 ETH short, 200 DAI at the tag
    ink, debt = snip(np.array([[10.0]]), np.array([[1000.0]]), np.array([[[4.0], [1.0]]]), np.array([[[800.0], [100.0]]]),
                     np.array([[[300.0], [0.0]]]))
    assert ink.tolist() == [[15.0]] and debt.tolist() == [[1600.0]]


def test_a_stale_tag_leaves_every_vault_above_water(net2020):
    net, c = net2020
    s = opening(net, c, **SHOCK)
    j, dai, eth = _indices(c)
    M = c.maker.cohorts
    assert s.H[0, j, eth] == pytest.approx(100e6 / 194.0, rel=1e-12)  # 515,463.9175 ETH
    assert s.debt[0, M].tolist() == [0.0] * len(M)
    assert s.coll[0, M] == pytest.approx(c.c_coll[M] - c.c_debt[M] / 194.0, rel=1e-12)  # the owners' (end.free)
    assert s.maker_free[0] == pytest.approx(s.coll[0, M], rel=0)
    assert s.bad[0, j] == 0.0
    assert s.P[0, dai] == pytest.approx(5.0e6 / 104.0e6, rel=1e-9)  # 0.0480769


def test_a_tag_at_the_crash_takes_every_vault_whole_and_books_the_gap(net2020):
    net, c = net2020
    s = opening(net, c, **(SHOCK | dict(oracle_lag=0)))
    j, dai, eth = _indices(c)
    M = c.maker.cohorts
    ink = c.c_coll[M].sum()
    assert s.H[0, j, eth] == pytest.approx(ink, rel=1e-12)  # 1,979,381.4433 ETH
    assert s.coll[0, M].sum() == pytest.approx(0.0, abs=1e-6) and s.debt[0, M].sum() == 0.0
    assert s.bad[0, j] == pytest.approx(100e6 - ink * 9.7, rel=1e-9)  # 80,800,000 DAI
    assert s.bad_units[0, M].sum() == pytest.approx(80.8e6, rel=1e-9)
    assert s.P[0, dai] == pytest.approx(19.2e6 / 104.0e6, rel=1e-9)  # 0.184615


def test_end_s_stale_tag_leaves_dai_s_holders_short_and_bad_debt_at_reference_counts_it(net2020):
    """Decision 23, end.sol's arithmetic on one ilk (ETH's eight cohorts), the docstring's stale tag (lag 2):

    * ``cage(ilk)``: ``tag = 1 / 194`` (the OSM) while the market reads $9.70;
    * ``skim``: ``owe = art * rate * tag = 100,000,000 / 194 = 515,463.9175`` ETH <= ``ink``: ``wad = owe``,
      ``gap = 0``;
    * ``flow``: ``fix = (Art * rate * tag - gap) / debt = 515,463.9175 / 104,000,000`` ETH per DAI;
    * ``cash``: each DAI gets ``fix`` ETH, worth ``fix * 9.70 = 0.0480769`` USD (DAI's opening price above).

    The 100,000,000 DAI of debt End cancelled is met by ``fix * debt = 515,463.9175`` ETH, $5,000,000 at the
    market: DAI's holders are short 95,000,000 DAI on it past End's gap of 0 (``maker_end.left_to_holders``), which
    is MAKER's bad debt at reference; marked bad debt books End's gap alone (0). At the tag at the crash (no lag)
    End books the whole shortfall as its gap (80,800,000 DAI) and nothing is left past it. Without decision 23 the
    stale tag's bad debt at reference is 0."""
    net, c = net2020
    j, _, _ = _indices(c)
    M = c.maker.cohorts
    tag, market, debt, cancelled = 1.0 / 194.0, 194.0 * 0.05, 104.0e6, c.c_debt[M].sum()
    assert cancelled == pytest.approx(100e6, rel=1e-12)
    wad = cancelled * tag                                 # skim: every vault above water at the tag, gap 0
    fix = (cancelled * tag - 0.0) / debt                  # flow
    assert fix * market == pytest.approx(5.0e6 / 104.0e6, rel=1e-12)  # cash per DAI, at the market
    left = cancelled - fix * debt * market - 0.0          # the cancelled debt less what End holds for it, past the gap
    assert wad * market == pytest.approx(5.0e6, rel=1e-12) and left == pytest.approx(95.0e6, rel=1e-12)
    s = opening(net, c, **SHOCK)
    assert s.maker_end_left[0, M].sum() == pytest.approx(left, rel=1e-9)
    assert s.bad[0, j] == 0.0 and s.bad_units[0, M].sum() == 0.0
    res = core.engine.simulate_batch(net, [Scenario(forced_defaults=["MAKER"], **SHOCK),  # stale tag, then at the crash
                                           Scenario(forced_defaults=["MAKER"], **(SHOCK | dict(oracle_lag=0)))])
    assert res.bad_debt_reference_usd[0, j] == pytest.approx(95.0e6, rel=1e-9)
    assert res.bad_debt[0, j] == 0.0
    assert res.bad_debt_reference_usd[1, j] == pytest.approx(80.8e6, rel=1e-9)  # End's gap at the crash's tag
    assert res.bad_debt[1, j] == pytest.approx(80.8e6, rel=1e-9)


def test_round_0_records_the_gap_it_booked(net2020):
    """The gap booked at the opening is round 0's bad debt per cohort (``cohort_bad``, which the liquidation step
    starts each round from), as an auction's shortfall is."""
    net, c = net2020
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], **(SHOCK | dict(oracle_lag=0)))], net)
    s = initial_state(c, b)
    run_round(c, s, b, 0)
    M = c.maker.cohorts
    assert s.cohort_bad[0, M].sum() == pytest.approx(80.8e6, rel=1e-9)
    assert s.cohort_bad[0, M] == pytest.approx(s.bad_units[0, M], rel=1e-12)  # DAI at par to its issuer
    run_round(c, s, b, 1)
    assert s.cohort_bad is None or s.cohort_bad[0, M].sum() == 0.0  # booked once


def test_a_cohort_straddling_its_tag_is_skimmed_vault_by_vault(net2020):
    """ETH -62.5% (tag 1/72.75), no lag: the ratio-2.7 cohort's vaults span 0.962-1.063 of their debt at the tag.
    Each vault gives ``min(ink, debt * tag)``: summed over its vaults (collateral per unit of debt uniform on
    ``[1 - w, 1 + w]`` about the cohort's, integrated numerically here), the cohort's skim and gap."""
    net, c = net2020
    s = opening(net, c, price_shocks={"ETH": -0.625}, oracle_lag=0)
    j, _, eth = _indices(c)
    M = c.maker.cohorts
    P = 194.0 * 0.375
    y = (np.arange(400_000) + 0.5) / 400_000 * 0.1 + 0.95  # w = 0.05: the vaults' spread (maker.vault_spread)
    wad = np.array([D * np.minimum(I / D * y, 1.0 / P).mean() for I, D in zip(c.c_coll[M], c.c_debt[M])])
    gap = c.c_debt[M] - wad * P
    assert 0 < gap[4] < 0.01 * c.c_debt[M][4]  # the straddling cohort: some of its vaults under water
    assert (gap[:4] > 0).all() and (np.abs(gap[5:]) < 1e-6).all()  # (the integral's rounding)
    assert s.H[0, j, eth] == pytest.approx(wad.sum(), rel=1e-9)
    assert s.bad_units[0, M] == pytest.approx(np.where(gap > 1e-6, gap, 0.0), rel=1e-6, abs=1e-3)
    assert s.coll[0, M] == pytest.approx(c.c_coll[M] - wad, rel=1e-9, abs=1e-6)  # the owners' (end.free)
    taken = c.c_coll[M] - s.coll[0, M]  # nothing pays more than it owes: at most the ink, at most the debt's worth
    assert (s.coll[0, M] >= 0).all() and (taken * P <= c.c_debt[M] * (1 + 1e-12)).all()


def test_no_auction_runs_after_the_cage_and_no_collateral_is_created(shut_and_live):
    c, s, rounds = shut_and_live
    j, _, eth = _indices(c)
    ink = c.c_coll[c.maker.cohorts].sum()
    for seen in rounds:
        assert seen["sold"][0] == 0.0 and seen["tab"][0] == 0.0 and seen["debt"][0] == 0.0
        assert seen["held"][0] + seen["vaults"][0] == pytest.approx(ink, rel=1e-12)  # End's and the owners'
    assert s.maker_penalty[0] == 0.0 and s.maker_bad[0] == 0.0
    assert rounds[2]["sold"][1] > 0  # the live Maker's flips of round 2 (lag 2)


def test_a_shut_down_maker_runs_no_debt_auction_and_pledges_nothing(shut_and_live):
    c, s, _ = shut_and_live
    j, dai, _ = _indices(c)
    assert s.H[0, j, dai] == 0.0  # no DAI raised: nothing was auctioned
    assert s.maker_deficit[0] == 0.0 and s.maker_pledge[0] == 0.0 and s.maker_flop_raised[0] == 0.0
    assert s.mkr_supply[0] == 1.0e6 and s.oa[0, j] == 0.0


def test_a_shut_down_makers_dai_is_the_collateral_end_holds(shut_and_live):
    c, s, rounds = shut_and_live
    j, _, eth = _indices(c)
    owed = s.clearing.total_liabilities[0, j] if s.clearing.total_liabilities.ndim == 2 else s.clearing.total_liabilities[j]
    assert owed == pytest.approx(104.0e6, rel=1e-12)
    held = 100e6 / 194.0
    assert s.clearing.paid_ratio[0, j] == pytest.approx(held * s.P[0, eth] / 104.0e6, rel=1e-9)
    assert rounds[0]["dai"][0] == pytest.approx(5.0e6 / 104.0e6, rel=1e-9)
    assert rounds[4]["dai"][0] == pytest.approx(held * s.P[0, eth] / 104.0e6, rel=1e-9)  # the last close's ratio


def test_a_live_maker_of_the_same_shock_still_pledges_and_flops(shut_and_live):
    _, s, _ = shut_and_live
    assert s.maker_flop_raised[1] == pytest.approx(84_671_009.66, abs=0.01)
    # 1,288,262.35 at the row's former MKR ~$440; at its dated close of 11 Mar 2020, $490.48 (session 37), the same
    # 84.67M DAI raised mints fewer MKR
    assert s.mkr_supply[1] == pytest.approx(1_251_143.62, abs=0.01)


def test_the_clip_era_system_is_caged_alike():
    """crypto-2022-05 (Liquidations 2.0: dog/clip), MAKER forced, ETH -20% ($2,750 -> $2,200), no lag: every vault
    is above water at the tag, so End takes 3,150M / 2,200 = 1,431,818.18 ETH and 673M / 36,000 = 18,694.44 WBTC;
    CELSIUS's named WBTC vault (22,000 WBTC against 223M DAI) gives 6,194.44 WBTC and keeps 15,805.56. No clip
    auction is kicked in the rounds after."""
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = build_batch(c, [Scenario(forced_defaults=["MAKER"], price_shocks={"ETH": -0.2}, run_intensity=0.5)], net)
    s = initial_state(c, b)
    ids, syms, mk = list(c.ids), list(c.symbols), c.maker
    j, eth, wbtc = ids.index("MAKER"), syms.index("ETH"), syms.index("WBTC")
    for r in range(3):
        run_round(c, s, b, r)
        assert s.maker_tab.sum() == 0.0 and (s.liq_by_proto is None or s.liq_by_proto[0, j] == 0.0)
    assert s.H[0, j, eth] == pytest.approx(3150e6 / 2200.0, rel=1e-12)
    assert s.H[0, j, wbtc] == pytest.approx(673e6 / 36000.0, rel=1e-12)
    assert s.debt[0, mk.cohorts].sum() == 0.0 and s.maker_penalty[0] == 0.0
    named = mk.cohorts[mk.named]
    assert s.coll[0, named] == pytest.approx(22000.0 - 223e6 / 36000.0, rel=1e-12)


def test_a_caged_maker_s_mkr_is_worth_nothing(net2020):
    """End pays MKR's holders nothing (``end.sol``: ``cage`` cages the Vow, ``thaw``/``flow``/``cash`` share the
    collateral over DAI; ``vow.sol``'s ``cage`` shuts the flapper and flopper), so MKR's market price is 0 from the
    round End cages the system (core.engine.maker_vow.mkr_market_price). MAKER forced to fail is caged at round 0:
    the reported price was its opening $490.48 to the end before the rule; with no cage it stays $490.48."""
    from core.results import MAKER_HISTORY

    net, _ = net2020
    M = MAKER_HISTORY.index("mkr_price_usd")
    res = core.engine.simulate_batch(net, [Scenario(forced_defaults=["MAKER"], **SHOCK), Scenario(price_shocks={"ETH": -0.1})],
                                     record=True)
    prices = np.asarray(res.history["maker"])[:, :, M]
    assert (prices[0] == 0.0).all()
    assert prices[1] == pytest.approx(490.48, rel=1e-12)
    d = core.simulate(net, Scenario(forced_defaults=["MAKER"], **SHOCK)).summary_dict()
    assert d["maker"]["mkr_price_start_usd"] == pytest.approx(490.48) and d["maker"]["mkr_price_end_usd"] == 0.0

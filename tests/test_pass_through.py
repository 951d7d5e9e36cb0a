"""Pass-through pools (core.mechanisms.pass_through): a lending pool's shortfall is its suppliers' haircut, a
failure only beyond POOL_FAILURE_HAIRCUT; Sai's bad debt falls on PETH holders before Sai holders.

Before: any shortfall of a dollar defaulted a pool (all 10 defaults of the 2025 network under ETH -30% were
pools whose suppliers lost 0.06-0.76%), and Sai defaulted on Black Thursday with $62k of bad debt, SAI trading
at its recovery (0.994).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
import core.mechanisms.pass_through as pass_through
from core import Scenario
from core.engine import simulate_batch
from core.network import Network

_PROV = dict(as_of="2025-10-01", source="https://example.org/pass-through-test", flag="estimate", note="")


def pool_network() -> Network:
    """A lending pool with no equity and no reserve: 100M USDC idle, one cohort of 100,000 ETH ($200M at $2,000)
    owing 100M USDC, and one supplier (a fund with $300M of its own) owed $200M."""
    entities = pd.DataFrame([
        dict(id="POOL", name="Pool", type="lending_protocol", region="defi", chain="Ethereum", other_assets_usd=0.0,
             other_liabilities_usd=0.0, liquid_share=1.0, insurance_fund_usd=0.0, **_PROV),
        dict(id="FUND", name="Fund", type="fund", region="cefi", chain="BVI", other_assets_usd=300e6,
             other_liabilities_usd=0.0, liquid_share=0.2, insurance_fund_usd=0.0, **_PROV),
    ])
    assets = pd.DataFrame([
        dict(symbol="ETH", name="Ether", kind="volatile", price_usd=2000.0, supply=1.2e8, adv_usd=1e14, daily_vol=0.04, **_PROV),
        dict(symbol="USDC", name="USD Coin", kind="fiat_stable", price_usd=1.0, supply=5e10, adv_usd=1e14, daily_vol=0.001,
             peg_target=1.0, peg_unit="USD", **_PROV),
    ])
    holdings = pd.DataFrame([dict(entity="POOL", asset="USDC", amount=100e6, **_PROV)])
    exposures = pd.DataFrame([dict(id="X1", creditor="FUND", debtor="POOL", kind="deposit", amount_usd=200e6, **_PROV)])
    cohorts = pd.DataFrame([dict(id="C1", protocol="POOL", borrower="", collateral_asset="ETH", debt_asset="USDC",
                                 collateral_amount=100_000.0, debt_amount=100e6, liquidation_threshold=0.8,
                                 liquidation_bonus=0.05, close_factor=0.5, style="aave_v3", **_PROV)])
    return Network.from_frames(name="pass-through", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, cohorts=cohorts)


@pytest.fixture(scope="module")
def pool_net() -> Network:
    return pool_network()


def shock(eth: float, **kw) -> Scenario:
    # liquidators repay $1 a round: the loan stays under water, its shortfall is the pool's marked bad debt
    return Scenario(price_shocks={"ETH": eth}, liquidator_capacity_usd=1.0, **kw)


def test_worked_numbers():
    h = pass_through.supplier_haircut(np.array([200e6, 200e6, 0.0]), np.array([198e6, 180e6, 0.0]))
    assert h.tolist() == pytest.approx([0.01, 0.1, 0.0])
    assert pass_through.pool_failed(h).tolist() == [False, True, False]
    assert pass_through.pool_failed(np.array([0.03, 0.0300001])).tolist() == [False, True]  # strictly beyond 3%
    cover = pass_through.pooled_collateral_cover(np.array([62e3, 5e6, -1.0]), np.array([35e6, 1e6, 10.0]))
    assert cover.tolist() == [62e3, 1e6, 0.0]


@pytest.mark.parametrize("eth, short, failed", [(-0.51, 2e6, False), (-0.60, 20e6, True)])
def test_pool_shortfall_is_the_suppliers_haircut(pool_net, eth, short, failed):
    # ETH $2,000 -> $980: the loan's 100,000 ETH are worth $98M against $100M owed, a $2M shortfall on $200M
    # owed to the supplier, a 1% haircut: the pool keeps operating. ETH -> $800: $20M, 10%: the pool fails.
    br = simulate_batch(pool_net, [shock(eth)])
    ids = list(br.entity_ids)
    pool, fund = ids.index("POOL"), ids.index("FUND")
    assert br.supplier_haircut_usd[0, pool] == pytest.approx(short, abs=10.0)
    assert br.supplier_haircut[0, pool] == pytest.approx(short / 200e6, rel=1e-6)
    assert bool(br.defaulted[0, pool]) is failed
    assert br.loss[0, pool] == 0.0  # the pool had no equity to lose
    # the haircut reaches the supplier, whole, and is the system's loss (the borrower is outside the network)
    assert br.loss[0, fund] == pytest.approx(short, abs=10.0)
    assert br.total_loss[0] == pytest.approx(short, abs=10.0)


def test_no_default_costs_on_the_way_to_the_suppliers(pool_net):
    # Rogers-Veraart alpha = 0.5: an estate realises half its outside assets. A pool has no estate: its suppliers
    # own its assets, so a 1% shortfall stays a $2M haircut (before, the pool "defaulted" and paid $99M of $200M).
    br = simulate_batch(pool_net, [shock(-0.51, default_costs={"alpha": 0.5, "beta": 0.5})])
    fund = list(br.entity_ids).index("FUND")
    assert br.loss[0, fund] == pytest.approx(2e6, abs=10.0)


@settings(max_examples=25, deadline=None)
@given(eth=st.floats(-0.95, -0.3))
def test_threshold_moves_defaults_not_losses(pool_net, eth):
    """Property: the failure threshold decides only whether a pool counts as failed; losses, haircuts and
    every supplier's loss are the same with the threshold at 0 (every shortfall a default, as before), 3%
    and 100%, and the pool fails exactly when its haircut exceeds the threshold."""
    out = {}
    saved = pass_through.POOL_FAILURE_HAIRCUT
    try:
        for thr in (0.0, saved, 1.0):
            pass_through.POOL_FAILURE_HAIRCUT = thr
            out[thr] = simulate_batch(pool_net, [shock(eth)])
    finally:
        pass_through.POOL_FAILURE_HAIRCUT = saved
    base = out[saved]
    pool = list(base.entity_ids).index("POOL")
    for thr, br in out.items():
        np.testing.assert_allclose(br.total_loss, base.total_loss, rtol=1e-12)
        np.testing.assert_allclose(br.loss, base.loss, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(br.supplier_haircut_usd, base.supplier_haircut_usd, rtol=1e-12)
        h = br.supplier_haircut[0, pool]
        assert bool(br.defaulted[0, pool]) == (h > thr and br.supplier_haircut_usd[0, pool] > 1.0), (thr, h)
    # the supplier values its claim at last round's paid ratio: within the dollar the $1 liquidations move a round
    assert base.loss[0, list(base.entity_ids).index("FUND")] == pytest.approx(base.supplier_haircut_usd[0, pool], rel=1e-9, abs=1.0)


def test_2025_eth_minus_30_pools_take_haircuts_not_defaults():
    # The case of the issue: under ETH -30% the 2025 network's 9 lending pools with a shortfall all defaulted
    # (suppliers' haircuts 0.06-0.76%); now none does, and system loss is unchanged.
    net = core.datasets.load("crypto-2025-10")
    saved = pass_through.POOL_FAILURE_HAIRCUT
    try:
        pass_through.POOL_FAILURE_HAIRCUT = 0.0
        before = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.3})])
    finally:
        pass_through.POOL_FAILURE_HAIRCUT = saved
    after = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.3})])
    types = net.entities["type"].to_numpy()
    pools = types == "lending_protocol"
    hit = after.supplier_haircut_usd[0] > 0
    assert (hit & pools).sum() >= 5
    assert before.defaulted[0][hit & pools].all()
    assert not after.defaulted[0][pools].any()
    assert after.supplier_haircut[0][pools].max() < 0.01
    assert after.total_loss[0] == pytest.approx(before.total_loss[0], rel=1e-12)


@pytest.fixture(scope="module")
def net2020():
    return core.datasets.load("crypto-2020-03")


def test_sai_bad_debt_falls_on_peth_holders(net2020):
    # Black Thursday's fall in one daily round (ETH -43%, BTC -37%, oracles a round late, a tenth of the liquidity:
    # the preset before it followed the hourly path, on which Sai's liquidators keep pace and it takes no bad debt):
    # Sai's vault auctions leave bad debt; tap.sol's flop mints PETH to cover it, so PETH holders (the vault owners)
    # bear it, Sai does not fail and SAI stays at par. (Before: Sai defaulted in round 0 and SAI traded at 0.994.)
    one_day = Scenario(name="black_thursday_one_round", price_shocks={"ETH": -0.43, "BTC": -0.37}, oracle_lag=1,
                       liquidity=0.1, horizon=12)
    res = core.simulate(net2020, one_day)
    sd = res.summary_dict()
    n = res.nodes
    bad = sd["bad_debt_by_protocol_usd"]["MAKER_SAI"]
    assert bad > 0
    assert n.loc["MAKER_SAI", "default_round"] == -1
    assert res.prices["SAI"].min() == pytest.approx(1.0, abs=1e-12)
    assert n.loc["MAKER_SAI", "supplier_haircut_usd"] == pytest.approx(bad, rel=1e-9)
    assert sd["loss_by_bearer_usd"]["pooled_collateral_owners"] == pytest.approx(bad, rel=1e-9)
    # the dilution of PETH: the cover over the pool's value, the ETH left in Sai's vaults at the closing price:
    # at most all of it (before liquidations), at least the vaults still above the 150% liquidation ratio
    co = net2020.cohorts[net2020.cohorts["protocol"] == "MAKER_SAI"]
    eth = res.prices["ETH"].iloc[-1]
    value = co["collateral_amount"].to_numpy() * eth
    healthy = value >= 1.5 * co["debt_amount"].to_numpy()
    assert 0 < healthy.sum() < len(co)
    assert bad / value.sum() <= n.loc["MAKER_SAI", "haircut"] <= bad / value[healthy].sum()
    # the cover is a loss outside the network, counted once: the summary total equals its bearers and its rounds
    assert sum(sd["loss_by_bearer_usd"].values()) == pytest.approx(sd["total_loss_usd"], rel=1e-12)
    assert res.totals["total_loss_usd"].iloc[-1] == pytest.approx(sd["total_loss_usd"], rel=1e-12)


def test_sai_defaults_when_peth_is_worth_less_than_its_debt(net2020):
    # ETH -95%: every Sai vault's ETH is worth less than its Sai (collateralisation at most 4.0): PETH has no
    # value beyond the Sai it backs, so the shortfall reaches Sai holders, and Sai defaults.
    br = simulate_batch(net2020, [Scenario(price_shocks={"ETH": -0.95})])
    sai = list(br.entity_ids).index("MAKER_SAI")
    assert br.defaulted[0, sai]
    assert br.prices[0, list(br.asset_symbols).index("SAI")] < 0.99


@settings(max_examples=15, deadline=None)
@given(eth=st.floats(-0.9, -0.2))
def test_peth_cover_never_exceeds_the_pool(net2020, eth):
    """Property: PETH holders pay in at most the pool's value beyond the Sai it backs, and Sai fails only when
    the cover falls short of its bad debt."""
    from core.engine import compile_network
    from core.engine.liquidate import pooled_backing
    br = simulate_batch(net2020, [Scenario(price_shocks={"ETH": eth})])
    c = compile_network(net2020)
    sai = list(br.entity_ids).index("MAKER_SAI")
    P = br.prices
    cover = br.supplier_haircut_usd[0, sai]
    # the vaults at the close: an upper bound of what backs Sai (liquidations only shrink it)
    limit = pooled_backing(c, P, c.c_coll[None], c.c_debt[None])[0, sai]
    assert cover <= limit + 1e-6
    assert cover <= br.bad_debt[0, sai] + 1e-6
    if br.defaulted[0, sai]:
        assert cover < br.bad_debt[0, sai]


def run_pool_network() -> Network:
    """The pool of :func:`pool_network` owed to its depositors (a depositor aggregate, who run), and holding
    $100M more as other assets of which 30% is liquidity: its loans and its borrowers' collateral are the rest."""
    net = pool_network()
    ent = net.entities.copy()
    ent.loc[ent["id"] == "POOL", ["other_assets_usd", "liquid_share"]] = [100e6, 0.3]
    ent = pd.concat([ent, pd.DataFrame([dict(id="DEPOSITORS", name="Depositors", type="depositor_aggregate", region="defi",
                                             chain="various", other_assets_usd=0.0, other_liabilities_usd=0.0,
                                             liquid_share=1.0, insurance_fund_usd=0.0, **_PROV)])], ignore_index=True)
    exposures = pd.DataFrame([dict(id="X1", creditor="DEPOSITORS", debtor="POOL", kind="deposit", amount_usd=300e6,
                                   **_PROV)])
    return Network.from_frames(name="pass-through-run", entities=ent, assets=net.assets, holdings=net.holdings,
                               exposures=exposures, cohorts=net.cohorts)


@pytest.mark.parametrize("eth", [-0.51, -0.55])
def test_a_run_on_a_pool_sells_none_of_its_loans(eth):
    """A run on a pool 0.7-1.7% short draws its liquidity and sells nothing: what its depositors lose is its
    shortfall, whether the pool has failed or not (threshold 3% or 0), at any liquidity. Before, a run on a pool
    within the threshold fire-sold its other assets (at liquidity 0.31, 81% below their value) while one beyond it
    had failed and was not run on: monotone-2025-steth-elastic-arbitrage-bifurcation, $17.3bn on the 2025
    network."""
    net = run_pool_network()
    saved = pass_through.POOL_FAILURE_HAIRCUT
    out = {}
    try:
        for thr in (0.0, saved):
            pass_through.POOL_FAILURE_HAIRCUT = thr
            out[thr] = simulate_batch(net, [shock(eth, run_intensity=1.0, liquidity=lq) for lq in (0.31, 1.0)])
    finally:
        pass_through.POOL_FAILURE_HAIRCUT = saved
    short = 100e6 - 100_000 * 2000 * (1 + eth)  # the loan's shortfall: its collateral is worth less than its debt
    for br in out.values():
        dep = list(br.entity_ids).index("DEPOSITORS")
        np.testing.assert_allclose(br.total_loss, short, rtol=1e-6)
        np.testing.assert_allclose(br.loss[:, dep], short, rtol=1e-6)
    np.testing.assert_allclose(out[0.0].total_loss, out[saved].total_loss, atol=10.0)  # the $1 liquidations a round


def test_sai_auctions_retire_a_sai_per_dollar_whatever_sai_trades_at(net2020):
    """A protocol's own coin paid into its liquidations is worth its peg to it (core.engine.books.debt_price):
    Sai's tap sold PETH for Sai at ``s2s = tag / par`` (makerdao/sai ``src/tap.sol``), the Maker system's own
    auctions raise DAI at par (core.engine.maker), and the DAI or Sai taken in is burnt at par
    (core.engine.books.burnt_at_par). Worked numbers: Sai's three cohorts (326,804.12 ETH against 20M SAI) at
    ETH $26 with SAI trading at 0.40 (Sai failed), keepers' capital $5M: flip.sol's auctions sell the whole
    $8.497M lot for the $5M keepers bring (the rest at zero bids), which retires 5M SAI and leaves 15M short.
    Converted at SAI's market price the $5M retired 12.5M SAI, credited at par: $7.5M made from nothing, and a
    deeper fall that cheapened SAI retired more of it (ETH -86.52% -> -88.68% with Sai failed: Sai's bad debt
    $7.38M -> $4.97M, monotone-2020-eth-sai-failed-capital-50m)."""
    from core.engine import compile_network
    from core.engine.liquidate import liquidate_cohorts
    c = compile_network(net2020)
    sai = np.flatnonzero(c.c_proto == list(net2020.entities["id"]).index("MAKER_SAI"))
    assert len(sai) == 3
    symbols = list(net2020.assets["symbol"])
    Po = c.P0[None].copy()
    Po[0, symbols.index("ETH")], Po[0, symbols.index("SAI")] = 26.0, 0.40
    coll, debt = np.zeros((1, len(c.c_coll))), np.zeros((1, len(c.c_coll)))
    coll[0, sai], debt[0, sai] = c.c_coll[sai], c.c_debt[sai]
    assert coll.sum() == pytest.approx(326_804.12, abs=0.01) and debt.sum() == pytest.approx(20e6)
    res = liquidate_cohorts(c, coll, debt, Po, c.c_lt[None], c.c_bonus[None], c.c_cf[None], np.array([5e6]),
                            np.zeros(1, bool), auction_capacity=np.array([5e6]))
    assert res.collateral_seized[0, sai].sum() == pytest.approx(coll.sum(), rel=1e-12)  # the whole lot
    assert res.debt_repaid[0, sai].sum() == pytest.approx(5e6, rel=1e-9)                # one SAI a dollar
    assert res.bad_debt[0, sai].sum() == pytest.approx(15e6, rel=1e-9)                  # at par: 15M SAI short
    assert res.debt_repaid[0, sai].sum() + res.bad_debt[0, sai].sum() == pytest.approx(20e6, rel=1e-12)


def test_barked_sai_vaults_keep_their_peth_in_the_pool(net2020, monkeypatch):
    """Worked numbers: Sai's ``bite`` moves to the tap only the PETH that covers a vault's tab and penalty and
    leaves the rest in the cup, still PETH, diluted by ``flop`` like any other (makerdao/sai ``tub.sol``,
    ``tap.sol``). At ETH -60.53% with SAI 23.1% off peg, full runs, liquidity 0.63 and $50M of liquidators'
    capital, round 0 sells Sai's two lower cohorts whole (120,619 PETH, $6.42M of bad debt) and round 1 barks
    its third's vaults: 37,073 PETH leave the cohort, 28,209 sold to keepers for 1.87M SAI, 8,864 handed back.
    PETH holders' cover is, each round, ``min(Sai's bad debt, PETH not sold x ETH - Sai debt left)``: $5.19M
    of the $6.42M at the close. (With the handed-back PETH counted as gone from the pool it
    was $4.45M, and the deeper fall lowered system loss $0.65M, monotone-2020-sai-depeg-eth-full-runs-capital-50m.)"""
    import core.engine.liquidate as liquidate_step
    import core.engine.rounds as rounds
    from core.engine import compile_network

    c = compile_network(net2020)
    sai = list(net2020.entities["id"]).index("MAKER_SAI")
    vaults = np.flatnonzero(c.c_proto == sai)
    eth = list(net2020.assets["symbol"]).index("ETH")
    seized = np.zeros(len(vaults))
    covers: list[tuple[float, float]] = []
    rules = liquidate_step.liquidate_due  # the liquidation step's rules, on the cohorts due (cohort_rules.Liquidated)

    def seizing(*args, **kwargs):
        res = rules(*args, **kwargs)
        seized[:] += res.full("collateral_seized")[0, vaults]
        return res

    def checked(cc, s, b, r):
        changes = liquidate_step.insurance(cc, s, b, r)
        unsold = c.c_coll[vaults].sum() - seized.sum()
        backing = unsold * s.P[0, eth] - s.debt[0, vaults].sum()  # SAI at its peg, 1.0, to Sai
        covers.append((changes.get("pooled_cover", s.pooled_cover)[0, sai], min(s.bad[0, sai], max(backing, 0.0))))
        return changes

    monkeypatch.setattr(liquidate_step, "liquidate_due", seizing)
    monkeypatch.setattr(rounds, "STEPS", tuple(checked if f is liquidate_step.insurance else f for f in rounds.STEPS))
    sc = Scenario(price_shocks={"ETH": -0.6052560529060091}, depegs={"SAI": 0.2309909423612551}, run_intensity=1.0,
                  liquidity=0.6291036452779283, liquidator_capacity_usd=50e6)
    br = simulate_batch(net2020, [sc])
    got, want = np.array(covers).T
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # $5.18-5.19M before session 30: with Compound's DAI read at its band's 1.05 its liquidators stand aside at DAI's
    # 1.12 (core.engine.oracle), sell less ETH, and the PETH left is worth more: $5.217M
    assert 5.21e6 < br.pooled_cover_usd[0] < 5.22e6 and br.bad_debt[0, sai] > br.pooled_cover_usd[0]
    # 151,800-152,000 PETH seized before session 30: ETH falls less with Compound's liquidators aside, and round 1
    # barks fewer of the third cohort's vaults (29,471 PETH against ~31,300)
    assert abs(br.pooled_cover_usd[0] - got[-1]) < 1e-6 and 150_000 < seized.sum() < 150_200

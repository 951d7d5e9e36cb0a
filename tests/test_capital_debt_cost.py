"""The liquidators' capital buys the debt token at the market's price (core.engine.capital.debt_cost), worked.

A liquidation repays the debt in its token and seizes collateral at the oracle's prices (Aave v3 ``liquidationCall``:
``actualDebtToLiquidate`` of the debt asset from the liquidator, collateral ``debtAssetPrice * debtToCover /
collateralAssetPrice`` times the bonus); the liquidator buys the token in the market. So where the oracle lags a
falling debt token the same dollars repay ``price_oracle / price_market`` more units, and each still seizes what the
oracle's price sets; nothing repays more than it owes, seizes more than the collateral, or spends more than the
capital."""

from __future__ import annotations

import numpy as np
import pytest

import core

from core.engine import rounds
from core.engine.batch import build_batch
from core.engine.books import debt_price
from core.engine.capital import debt_cost
from core.engine.compiled import BID_QUEUE, compile_network
from core.engine.state import initial_state
from core.mechanisms import lending
from core.mechanisms._checks import trusted
from core.network import Network
from core.scenario import Scenario
from depth_points import at_point, depth_points
from invariants_support import load_regressions, network


def test_the_same_dollars_repay_oracle_over_market_more_units():
    # 1,000 units of collateral at $1.00 for 900 of debt the oracle prices at $1.00: HF 0.889 <= 0.95, a full close,
    # repaying 900 and seizing 945. $100 of capital, the debt token trading at $0.80: 125 units (100 / 0.80), not 100.
    args = (1000.0, 900.0, 1.0, 1.0, 0.8, 0.05)
    at_oracle = lending.liquidate_aave(*args, capacity_usd=100.0)
    at_market = lending.liquidate_aave(*args, capacity_usd=100.0, capacity_price=0.8)
    assert float(at_oracle.debt_repaid) == pytest.approx(100.0, rel=1e-12)
    assert float(at_market.debt_repaid) == pytest.approx(125.0, rel=1e-12)
    assert float(at_market.debt_repaid) / float(at_oracle.debt_repaid) == pytest.approx(1.0 / 0.8, rel=1e-12)
    # each unit seizes what the oracle's price sets: 1.05 units of collateral a unit repaid
    assert float(at_market.collateral_seized) == pytest.approx(131.25, rel=1e-12)
    assert float(at_market.debt_after) == pytest.approx(775.0, rel=1e-12)
    assert float(at_market.bad_debt) == 0.0


def test_nothing_repays_more_than_it_owes_or_seizes_more_than_there_is():
    # $800 of capital buys 1,000 units at $0.80, more than the 900 owed: 900 repaid ($720 spent), 945 seized
    r = lending.liquidate_aave(1000.0, 900.0, 1.0, 1.0, 0.8, 0.05, capacity_usd=800.0, capacity_price=0.8)
    assert float(r.debt_repaid) == pytest.approx(900.0, rel=1e-12)
    assert float(r.collateral_seized) == pytest.approx(945.0, rel=1e-12)
    assert float(r.debt_repaid) * 0.8 <= 800.0
    # under water (100 of collateral for 100 owed): the collateral repays 100 / 1.05 = 95.238 whatever the capital
    # would buy at $0.50, the rest is bad debt
    r = lending.liquidate_aave(100.0, 100.0, 1.0, 1.0, 0.8, 0.05, capacity_usd=1e6, capacity_price=0.5)
    assert float(r.collateral_seized) == pytest.approx(100.0, rel=1e-12)
    assert float(r.debt_repaid) == pytest.approx(100.0 / 1.05, rel=1e-12)
    assert float(r.bad_debt) == pytest.approx(100.0 - 100.0 / 1.05, rel=1e-12)


def test_one_capital_is_shared_in_the_dollars_it_pays():
    # two cohorts of 120 units of collateral for 100 of debt (HF 0.96, a close factor of 1: 100 units each) at the
    # oracle's $1.00: one's token trades at $0.50, the other's at $1.00, so they ask $50 and $100 of the capital;
    # $75 serves half of each (50 units each), $25 + $50 spent
    r = lending.liquidate_aave(np.array([[120.0, 120.0]]), np.array([[100.0, 100.0]]), 1.0, 1.0, 0.8, 0.05,
                               close_factor=1.0, full_close_hf=None, capacity_usd=np.array([75.0]),
                               capacity_price=np.array([[0.5, 1.0]]))
    assert r.debt_repaid[0].tolist() == pytest.approx([50.0, 50.0], rel=1e-12)
    assert float((r.debt_repaid[0] * np.array([0.5, 1.0])).sum()) == pytest.approx(75.0, rel=1e-12)


def test_a_protocols_own_coin_is_bought_at_its_peg():
    # the 2022 network: DAI at 0.90 at the market and 1.00 at the oracle. COMP's DAI loans cost the capital $0.90 a
    # DAI; MAKER's vaults owe their own coin, burnt at par (core.engine.books.debt_price): $1.00
    net = network("shipped")
    c = compile_network(net)
    P = np.tile(np.asarray(net.assets["price_usd"], float), (1, 1))
    dai = list(c.symbols).index("DAI")
    Po = P.copy()
    P[:, dai] = 0.9
    # the oracle reads the market: the protocol's price, the same bits, but for Anchor's bid queue (its UST at peg)
    proto = np.asarray(net.cohorts["protocol"])
    queue = proto == "ANCHOR"
    same = debt_cost(c, P, P)
    assert same is not None and np.all(same[0, queue] == 1.0)
    assert np.array_equal(same[0, ~queue], debt_price(c, P)[0, ~queue])
    cost = debt_cost(c, P, Po)
    assert cost is not None
    owes_dai = c.c_da == dai
    comp, maker = owes_dai & (proto == "COMP"), owes_dai & (proto == "MAKER")
    assert comp.any() and maker.any() and c.c_self_issued[maker].all()
    assert np.all(cost[0, comp] == 0.9) and np.all(cost[0, maker] == 1.0)
    assert np.array_equal(cost[0, ~owes_dai & ~queue], debt_price(c, P)[0, ~owes_dai & ~queue])


def test_a_network_without_a_bid_queue_or_a_fixed_debt_oracle_reads_the_protocols_price():
    net = core.datasets.load("crypto-2020-03")
    c = compile_network(net)
    assert not (c.c_style == BID_QUEUE).any()
    P = np.tile(np.asarray(net.assets["price_usd"], float), (1, 1))
    # Compound's and dYdX's USDC at a fixed $1 (core.engine.oracle): the capital buys it at the market
    assert c.fixed_oracle is not None and c.fixed_oracle.debt_cols.size
    assert np.array_equal(debt_cost(c, P, P), debt_price(c, P))
    co = net.cohorts.copy()
    co["debt_oracle"] = "market"
    market = Network.from_frames(name="market-oracles", cohorts=co, **{t: getattr(net, t) for t in (
        "entities", "assets", "holdings", "exposures", "pegs", "maker_ilks")})
    assert debt_cost(compile_network(market), P, P) is None


def test_a_bid_queue_repays_the_units_its_bidders_deposited():
    # Anchor's liquidation queue: the bid is the UST sent with it (submit_bid), before the cascade. $100 of the
    # queue's capital at UST's $1 peg is 100 UST whatever UST trades at: at $0.80 it repays 100 units (not 125),
    # each seizing what the oracle's price sets (1.05 units of collateral)
    r = lending.liquidate_aave(1000.0, 900.0, 1.0, 1.0, 0.8, 0.05, capacity_usd=100.0, capacity_price=1.0)
    assert float(r.debt_repaid) == pytest.approx(100.0, rel=1e-12)
    assert float(r.collateral_seized) == pytest.approx(105.0, rel=1e-12)
    net = network("shipped")
    c = compile_network(net)
    P = np.tile(np.asarray(net.assets["price_usd"], float), (2, 1))
    ust = list(c.symbols).index("UST")
    P[0, ust], P[1, ust] = 0.8, 0.4
    queue = np.asarray(net.cohorts["protocol"]) == "ANCHOR"
    assert queue.any() and np.all(c.c_style[queue] == BID_QUEUE)
    cost = debt_cost(c, P, P)
    assert cost is not None and np.all(cost[:, queue] == 1.0)  # the same units at either market price


ENTRY = "monotone-shipped-gbtc-74-luna-35-defi-suppliers-failed-dai-depeg-5-full-runs-lag1-capital-50m-bad-debt"


def test_anchors_queue_spends_the_ust_its_bidders_deposited():
    # The pair of session 26's trace (lag 1, capital $50M x liquidity 1.0131 = $50,655,205 a round, all of it to
    # Anchor's bLUNA/UST cohorts in rounds 1-12). Round 6: the oracle reads UST at round 4's close, the books at
    # round 5's, 0.67339 / 0.59838 before decision 10. The queue's capital is UST its bidders deposited at the peg:
    # 50.655M UST repaid at both depths (bought at the books' price it repaid 75.224M / 84.653M, more at the
    # deeper depth's cheaper UST: the debt-token family that lowered bad debt $8.09M for a deeper shock).
    case = next(e for e in load_regressions() if e["id"] == ENTRY)
    net = network(case["network"])
    c = compile_network(net)
    points = depth_points(tuple(case["assets"]), case["depths"])
    b = build_batch(c, [at_point(Scenario.model_validate(case["scenario"]), p, case["mode"]) for p in points], net,
                    True)
    s = initial_state(c, b)
    ust = list(c.symbols).index("UST")
    anchor = np.flatnonzero(np.char.startswith(np.asarray(net.cohorts["id"], str), "ANCHOR."))
    capital = 50e6 * case["scenario"]["liquidity"]
    with trusted():
        for r in range(7):
            for step in rounds.STEPS:
                if r == 6 and step.__name__ == "liquidate":
                    market = s.P[:, ust].copy()
                    debt = s.debt[:, anchor].sum(1)
                    bad = s.bad_units[:, anchor].sum(1)
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
    repaid = debt - s.debt[:, anchor].sum(1) - (s.bad_units[:, anchor].sum(1) - bad)
    # UST below its peg at both depths, so the queue's capital bought at the books' price would repay more than it holds.
    # Session 38 (decision 21, the 0.5% calm band): was asserted "< 0.9"; UST at round 6 is now 0.93196 / 0.92430
    # (0.75511 / 0.64980 with decision 19 alone, measured with the band set to 0): its holders redeem only the discount
    # beyond the band and Anchor's depositors leave for UST only there, so the spiral at LUNA -35% is slower. At the
    # books' price the capital would repay 54.354M / 54.804M UST, 7.3% / 8.2% more than the 50.655M it repays.
    # Decision 29 (Session 46 (defender)): UST at round 6 0.9319574 / 0.9243036 -> 0.9331039 / 0.9291920. LFG is paid
    # the LUNA minted for the UST it redeems (rounds 0-5: 25.23M / 28.52M LUNA and no cash, where it took $717.82M /
    # $813.36M), its defence sells none of its LUNA and the queue sells none of its UST (rounds 1-5: 419.4M / 486.6M
    # UST sold back into CRV_UST before): UST's pool and LUNA stand higher (LUNA at round 5's close 24.866 / 23.893 ->
    # 25.437 / 24.449). At the books' price the capital would repay 54.287M / 54.515M UST (was 54.354M / 54.804M),
    # 7.2% / 7.6% more than the 50.655M it repays.
    assert market.tolist() == pytest.approx([0.9331039, 0.9291920], rel=1e-6)
    assert (capital / market > 1.07 * capital).all()
    assert repaid.tolist() == pytest.approx([capital, capital], rel=1e-9)

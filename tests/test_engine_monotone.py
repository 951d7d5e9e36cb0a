"""Monotonicity of the cascade engine: a deeper shock never lowers system loss, bad debt or defaults.

With every other input fixed, deepening the price shock on an asset (or a
group of assets, all by one factor, so that their price ratios hold: deepening
a debt token alone, ETH under stETH/ETH loops, rightly helps its debtors) must not lower the system's total loss, the total bad debt
booked at protocols, or the number of defaults. Each case below was found by
a grid or random search, violated the rule before the fix named beside it,
and is kept as a regression test; the searches themselves run at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st, target

import core
from core.engine import simulate_batch
from core.scenario import Scenario
from benchmark_scripts import load_benchmark

#: Slack for floating-point noise: a billionth of the loss, or a dollar.
def _slack(x: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, 1e-9 * np.abs(x))


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


def deeper_is_worse(network, base: dict, shallow: dict, deep: dict) -> dict[str, float]:
    """Violations (positive = the deeper shock did better) of loss, bad debt and defaults."""
    br = simulate_batch(network, [Scenario(**base, price_shocks=shallow), Scenario(**base, price_shocks=deep)])
    loss, bad, nd = br.total_loss, br.bad_debt.sum(1), br.defaulted.sum(1)
    return {"loss": float(loss[0] - loss[1] - _slack(loss[0])), "bad_debt": float(bad[0] - bad[1] - _slack(bad[0])),
            "defaults": float(nd[0] - nd[1])}


# (base scenario, shallow shock, deep shock): before the fix, the deep shock lost less
REGRESSIONS = [
    # estates were paid the price before their own sale and before their own token was marked down
    pytest.param({}, {"ETH": -0.19}, {"ETH": -0.20}, id="ETH-19-20 estate price (-$216M before)"),
    pytest.param({"oracle_lag": 2, "liquidity": 0.5}, {"ETH": -0.20}, {"ETH": -0.21}, id="ETH-20-21 lag2 (-$229M before)"),
    # sales moved prices by their dollars at the current price, and FTX's markdown of FTT discarded earlier impacts
    pytest.param({"forced_defaults": ["FTX"]}, {"FTT": -0.045}, {"FTT": -0.315}, id="FTT FTX-forced (-$3.72bn before)"),
    # the stETH/ETH loops were liquidated earlier, before the Curve pool was drained (-$144M before); with the
    # redemption-arbitrage floor and LP withdrawals (core.engine.staking) the pool is no longer drained to a cliff
    pytest.param({}, {"stETH": -0.07}, {"stETH": -0.08}, id="stETH liquidation timing (-$144M before)"),
    # (open until the staking floor: arbitrage now takes the other side of the sale, core.engine.staking)
    # found by tests/test_engine.py::test_deeper_shock_never_lowers_loss: liquidators pay the round's oracle price
    # for stETH and sell it into the Curve pool, which it drains (stETH at $36 and $6 by the end of round 0);
    # the deeper shock makes more cohorts due in round 0, at $687 a stETH, and AAVE_ETH keeps $26M of bad debt
    # fewer; the liquidators' loss is outside the system (-$25M)
    pytest.param({}, {"stETH": -0.5}, {"stETH": -0.75}, id="stETH liquidation at the pre-crash oracle price (-$25M before)"),
    # Estate timing (open until session 6): an entity that defaulted a round earlier sold its tokens before a
    # token's own spiral, and its creditors recovered more. A defaulted estate is now frozen, its tokens marked
    # to market and recovered at the prices of the end, while the market sells ahead of its sale (core.engine.sell).
    # 3AC defaulted in round 0 instead of 1 and sold its LUNA before LUNA's spiral: -$2.30M before
    # ($27.2747bn -> $27.2724bn); now $27.3041bn -> $27.3058bn (+$1.71M), defaults 2 -> 2.
    # Session 14: the loss holds (+$834M), but Anchor's bad debt falls $0.646M: with no runs its depositors never
    # redeem the UST it holds for them, the shallower spiral stops short of the floor and the UST shortfall is
    # booked at a higher price (ledger: monotone-shipped-luna-78-81-no-runs-anchor-bad-debt, open).
    # Session 36 (s36-poolpays, decision 17): passes. On main the marked bad debt still fell $9.74 beyond the slack,
    # ANCHOR failing in round 1 at both depths and freezing its depositors; its runners now paid their claims' value,
    # the shallower ANCHOR fails in round 2, its depositors keep leaving, and the bad debt no longer falls (-$0.55).
    # The family (bad debt marked in a UST the deeper fall takes lower) is not fixed by it: kept as a regression.
    pytest.param({}, {"LUNA": -0.78125}, {"LUNA": -0.8125}, id="LUNA estate timing (-$2.30M before)"),
    # Bank-run timing (-$96.7M before; fixed in session 9): Celsius's other assets were ``liquid_share`` (15%)
    # liquid again *each round*, so a run that lasted a round longer (the deeper shock: Celsius defaulted in round 3
    # instead of 2) took more of its book at par, and its estate fire-sold less at default. Liquid assets are now a
    # stock paid out once and the illiquid book is sold at the same discount by the run or the estate
    # (core.engine.withdraw, CascadeState.illiquid): loss $3.0505bn -> $3.1019bn, 1 default at both depths.
    pytest.param({"run_intensity": 0.8}, {"BTC": -0.09}, {"BTC": -0.10}, id="BTC run timing (-$96.7M before)"),
]


# Found by the session-5 10-minute search (its largest 2022 figure): 3AC defaulted in round 4 instead of 5 and
# its estate sold before LUNA's spiral; Genesis, its lender, recovered enough to stay solvent: loss $29.91bn ->
# $27.81bn (-$2.10bn), defaults 8 -> 6. With frozen estates (session 6) the loss and the defaults are fixed
# ($29.963bn -> $30.005bn, +$42.4M; defaults 8 -> 8; test_estate_timing_fixed), but Anchor's bad debt
# still falls $0.72M ($204.90M -> $204.17M, the same at 365 rounds, where both settle in round 133). Traced:
# liquidations are bound by the $50M capacity ($62.9M a round) until round 11, when Anchor's bLUNA loans go
# under water and the bad debt is booked (LUNA $5.018 -> $4.996, UST $0.7083 -> $0.7065); round 11 liquidates
# $33.7M against $32.9M, and the bad debt, owed in UST, is 289.28M -> 288.99M UST: the deeper shock books 0.1%
# less, in units as in dollars (open; core.engine.liquidate, not this change). Session 33 (anchortiming), with
# ANCHOR's UST debt at $1: the deeper depth books 286.5k UST more in round 11 (441.4586M -> 441.7449M UST; at
# reference prices +$286,431), marked at a UST 0.073% lower (-$14,771): session 14's decided family, the marked
# measure a strict xfail below.
THREE_AC = pytest.param({"run_intensity": 1.0, "liquidity": 1.1643999927454813, "liquidator_capacity_usd": 5e7,
                         "forced_defaults": ["ALAMEDA"]},
                        {"LUNA": -0.42096485337060374, "GBTC": -0.19353561201763647},
                        {"LUNA": -0.42123562356931565, "GBTC": -0.19391273337867843},
                        id="3AC estate timing, Anchor's bad debt")


@pytest.fixture(scope="module")
def three_ac(net):
    """The 3AC pair's violations (:func:`deeper_is_worse`) and its bad debt at reference prices, both depths."""
    base, shallow, deep = THREE_AC.values
    br = simulate_batch(net, [Scenario(**base, price_shocks=shallow), Scenario(**base, price_shocks=deep)])
    loss, bad, nd = br.total_loss, br.bad_debt.sum(1), br.defaulted.sum(1)
    ref = br.bad_debt_reference_usd.sum(1)
    return {"loss": float(loss[0] - loss[1] - _slack(loss[0])), "bad_debt": float(bad[0] - bad[1] - _slack(bad[0])),
            "defaults": float(nd[0] - nd[1]), "bad_debt_reference": float(ref[0] - ref[1] - _slack(ref[0]))}


def test_estate_timing_fixed(three_ac):
    """The 3AC case: its loss (-$2.10bn before) and defaults (8 -> 6 before) no longer fall with the deeper shock
    (frozen estates), and its bad debt at reference prices (the invariant's measure, docs/invariants.md section 1)
    rises: $441,458,303 -> $441,744,734 with ANCHOR's UST debt at $1 (session 33 (anchortiming)); loss +$4.21M,
    defaults 6 -> 6. Its bad debt marked at the close is the next test's."""
    v = three_ac
    assert v["loss"] <= 0 and v["defaults"] <= 0 and v["bad_debt_reference"] <= 0, v


def test_estate_timing_marked_bad_debt(three_ac):
    """The 3AC case's bad debt marked at the close (``BatchResult.bad_debt``, reported, not held to the invariant).

    Anchor's bad debt (-$0.75M on session 15's starting tree, -$3.7k after the queue sale;
    it held from the bounded lift, core.engine.defend.defend_pegs). Session 16's coin exit run
    (core.engine.withdraw.coin_exit_share) alone made it fall $3.0k again: LUNA fell faster in rounds 10-11 and
    Anchor's riskiest LUNA cohort went under water at round 11's close, its capped liquidators having seized more
    of it at the shallower depth. Merged with the rule that a reserve's purchase back up through pool prices a
    queue sale took the pool down through lifts the coin none (core.engine.queue_sales.lift_outside_unfollowed),
    it held: the deeper depth's bad debt $1 higher, its loss $4.19M higher (session 17). Session 33 (anchor), ANCHOR's
    UST debt at $1: rounds 0-10 repay 58.22M UST a round at both depths (capital-bound), round 11 liquidates every
    ANCHOR bLUNA cohort's last 4.353M / 4.313M LUNA for 26.415M / 26.129M UST and books the rest, 286.5k UST more
    at the deeper depth, at a UST 0.073% lower: the marked figure falls $14,771 (strict xfail, the traced reason;
    on main 82dc41b9, after decisions 30-31: $186,521,089 -> $186,503,466, -$17,623, 444.115M -> 444.397M UST at UST
    0.419984 -> 0.419678). Decision 29 (Session 46 (defender): LFG is paid the LUNA minted for the UST it redeems and
    keeps it, its defence sells none of it, the queue none of its UST): LUNA closes 5.0310 / 5.0090 (was 4.9985 /
    4.9884) and UST 0.420687 / 0.420058 (-0.150 %); ANCHOR's bLUNA loans book 443.181M -> 443.861M UST (+0.153 %,
    was +0.063 %): the marked figure rises $6,911 ($186,440,500 -> $186,447,411) and the strict xfail passed, so it is
    a plain test now. The family (a debt booked in a token that falls further at the deeper depth) is not removed:
    the units' gap and the price's gap set the sign, and this pair now has the units' gap the larger."""
    v = three_ac
    assert v["bad_debt"] <= 0, v


@pytest.mark.parametrize("base,shallow,deep", REGRESSIONS)
def test_found_cases(net, base, shallow, deep):
    v = deeper_is_worse(net, base, shallow, deep)
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, v


# --- searches -------------------------------------------------------------------------------
# Where the rule is claimed: price shocks on order-book tokens (and wrappers), with oracle lag, thin
# liquidity, short liquidator capacity and forced defaults in the mix. Runs, the UST/LUNA spiral and shocks
# on the stETH pool still break it (benchmarks/monotone_search.py measures by how much; see README).
_ASSETS = ["ETH", "BTC", "WBTC", "FTT", "CEL", "GBTC"]
_FORCED = [[], ["FTX"], ["ALAMEDA"], ["3AC"], ["CELSIUS"], ["GENESIS"]]


@st.composite
def _cases(draw, assets=_ASSETS, forced=_FORCED):
    group = draw(st.lists(st.sampled_from(assets), min_size=1, max_size=3, unique=True))
    shallow = {a: -draw(st.floats(0.0, 0.9)) for a in group}
    factor = 1.0 - draw(st.floats(0.001, 0.3))  # the whole group lower by one factor: its price ratios hold
    deeper = {a: max(-0.99, (1.0 + v) * factor - 1.0) for a, v in shallow.items()}
    base = dict(oracle_lag=draw(st.integers(0, 2)), liquidity=draw(st.floats(0.3, 1.5)),
                forced_defaults=draw(st.sampled_from(forced)),
                liquidator_capacity_usd=draw(st.sampled_from([None, 5e7, 5e8])))
    return base, shallow, deeper


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases())
def test_search_shipped_network(net, case):
    base, shallow, deep = case
    v = deeper_is_worse(net, base, shallow, deep)
    target(max(v["loss"], 0.0), label="loss violation (USD)")
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, (case, v)


@pytest.fixture(scope="module")
def synthetic_net():
    return core.datasets.synthetic(200, 1000, seed=5)


# (an xfail until session 6: the search found ETH -50% -> -50.39% lowering loss by $0.71M, kept as
# monotone-synthetic200-eth-50-bad-debt and fixed by frozen estates)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_search_synthetic_network(synthetic_net, data):
    ids = list(synthetic_net.entities["id"])
    syms = [s for s in synthetic_net.assets["symbol"] if s in ("ETH", "BTC", "WBTC")] or list(synthetic_net.assets["symbol"])[:2]
    base, shallow, deep = data.draw(_cases(assets=syms, forced=[[], [ids[3]], [ids[17]], [ids[40]]]))
    v = deeper_is_worse(synthetic_net, base, shallow, deep)
    target(max(v["loss"], 0.0), label="loss violation (USD)")
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, (base, shallow, deep, v)


def test_shock_on_a_pool_token_is_traded_into_its_pool_first(net):
    # Found by benchmarks/monotone_search.py: the stETH/ETH loops at HF 1.10 sit exactly at HF 1 at stETH
    # -9.0909%. Just above, they were liquidated a round later; just below, in round 0, before arbitrage moved
    # the Curve pool to the shocked price, which erased the impact of that sale: a deeper shock by 4e-15 lost
    # $11.5bn less. The shock now moves the pool first.
    # It broke again when the arbitrage capital was a fixed 56k ETH a day (-$17.7M: $205M at 50k a day, $3.15bn
    # and 3 defaults at 60k, none at 70k or more); with the capital elastic to the gap to the floor, arbitrage
    # netted with the round's sales and LPs leaving at the close (core.engine.staking) the deeper shock loses $91.5M more,
    # the same at 30k-100k ETH a day.
    base = {"run_intensity": 1.0, "liquidity": 0.667869509252901, "liquidator_capacity_usd": 5e8,
            "forced_defaults": ["STABLE_HOLDERS"]}
    v = deeper_is_worse(net, base, {"stETH": -0.09090909128564773, "USDT": -0.020015438358996995, "UST": -0.8865378163131695},
                        {"stETH": -0.09090909128565183, "USDT": -0.020015438359001436, "UST": -0.8865378163131701})
    assert v["loss"] <= 0 and v["bad_debt"] <= 0 and v["defaults"] <= 0, v


def _monotone_search_module():
    return load_benchmark("monotone_search")


def test_search_deepens_no_asset_an_entity_is_short():
    """The 10-minute search's largest 2025 violation (session 4, $5.27bn) deepened ETH, which ETHENA is short
    through perpetuals against its spot collateral: a fall of ETH is then a debtor's gain, not a deeper
    down-shock. At ETH -38.4558% with USDC 28% off peg ETHENA ends round 0 $14.83 short of its $14.83bn of
    liabilities, at the default rule's tolerance (a billionth of them); 1e-15 deeper its shorts gain a few
    millionths of a dollar more than its spot loses, which keeps it on the right side of the tolerance: the
    shallower shock defaults it in round 0 ($1.2bn of its equity and $5.27bn of system loss), the deeper one
    never (it ends $82M above water). (Measured since a failed issuer's tokens held in the network are written
    down once, through their price, core.engine.token_holders: $4.08bn, $4.07bn since session 7; the $5.25bn before counted ETHENA's
    USDe, all held by STABLE_HOLDERS, both as their loss and as a $1.22bn outside write-down.) The search now deepens only what no
    entity owes or is short (the property tests' notion, ``Tables.owed_tokens``) and moves the rest in the
    base scenario, the same at both depths. Session 14: ETHENA's $14.83 shortfall was itself an artefact: its
    shorts were marked at the round's opening prices and its spot at the close (the round's sales moved ETH in
    between); marked at the close with its spot (core.engine.perps_close.marked_at_close), ETHENA is fully hedged and
    closes every round at its $83,048,000.04 of equity at both depths, and the pair's $4.08bn is gone."""
    from invariants_support import network, tables

    ms = _monotone_search_module()
    deepened, fixed = ms.monotone_assets("crypto-2025-10")
    t = tables("crypto-2025-10")
    ethena = t.entity_ids.index("ETHENA")
    shorted = {a for a in t.symbols if t.short_units[ethena, t.symbols.index(a)] > 0}
    assert shorted == {"ETH", "BTC", "SOL"}
    assert shorted <= set(fixed) and not shorted & set(deepened)
    assert {"stETH", "weETH", "CBBTC", "WBTC"} <= set(deepened)
    assert ms.network_key("synthetic:1000") == "synthetic-1000-5000-0" and ms.network_key("default") == "shipped"
    # the pair it found: with ETHENA's shorts marked at the close with its spot, it is hedged at both depths
    base = {"run_intensity": 0.5, "oracle_lag": 1, "liquidity": 0.6036162435568011, "liquidator_capacity_usd": 5e7,
            "depegs": {"USDC": 0.28012828333261675}}
    shallow = {"HYPE": -0.08273361743497287, "ETH": -0.384558451833356}
    deep = {"HYPE": -0.0827336174349731, "ETH": -0.38455845183335613}
    br = simulate_batch(network("crypto-2025-10"), [Scenario(**base, price_shocks=shallow), Scenario(**base, price_shocks=deep)],
                        record=True)
    # every close at its initial equity (before: -$14.83 at round 0's close, the tolerance, and a default at the
    # shallower depth only: $4.0768bn more loss there)
    np.testing.assert_allclose(br.history["equity"][:, :, ethena], 83_048_000.04, rtol=1e-9)
    assert br.default_round[:, ethena].tolist() == [-1, -1]
    # monotone to the invariant's floating-point slack (invariants_support.usd_tolerance: a dollar, or a billionth
    # of system equity): the two runs differ in their last bits only. Session 15's debt_price rule (a protocol's own
    # coin at its peg in liquidations) moved them ($71.349bn -> $71.359bn) and the 1e-15 deeper run's sum from
    # +$0.0002 to -$0.0003 of the shallower's
    from invariants_support import usd_tolerance
    assert br.total_loss[1] >= br.total_loss[0] - usd_tolerance(br)

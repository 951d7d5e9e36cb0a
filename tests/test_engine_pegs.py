"""The peg channels inside the engine (core.engine.reserves, backing, staking): worked numbers and invariants.

Each test runs the engine on a shipped network and checks a figure that
follows from the mechanism's formula and the ``pegs`` table's terms, or a
property over a searched input.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import core
from core.engine import simulate_batch
from core.mechanisms import fiat_reserves, liquid_staking
from core.network import Network
from core.scenario import Safeguards, Scenario
from core.validation import DataValidationError

SCENARIOS = core.datasets.scenario_dir()


@pytest.fixture(scope="module")
def net():
    return core.datasets.load("crypto-2022-05")


@pytest.fixture(scope="module")
def net2020():
    return core.load_network(core.datasets.scenario_dir().parent / "crypto-2020-03")


def _path(br, net, sym):
    return br.history["prices"][0][:, list(br.asset_symbols).index(sym)]


def _svb(fraction=0.08, resolved=2, closed=2, **kw):
    return Scenario(name="svb", horizon=6, reserve_impairments={"CIRCLE": dict(
        fraction=fraction, resolved_round=resolved, rails_closed_rounds=closed, **kw)})


def test_usdc_round_zero_is_the_mechanism_price(net):
    """Saturday: 8% frozen, no recovery priced, one more closed day: p = 0.92 * 0.98 = 0.9016."""
    br = simulate_batch(net, [_svb()], record=True)
    usdc = _path(br, net, "USDC")
    assert usdc[0] == pytest.approx(0.92 * 0.98, rel=1e-12)
    # the same round through the mechanism itself
    reserves = 49e9 * np.array([0.2438, 0.7562, 0.0])
    ref = fiat_reserves.fiat_redemption_round(reserves - [0.08 * 49e9, 0, 0], [0.08 * 49e9, 0, 0], 49e9, 0.0, 1.0,
                                               capacity=2.34e9, is_open=False, closed_rounds_after=1.0, run_intensity=0.5)
    assert usdc[0] == pytest.approx(float(ref.price), rel=1e-12)


def test_usdc_repegs_when_resolved_and_stays_below_until_then(net):
    br = simulate_batch(net, [_svb()], record=True)
    usdc = _path(br, net, "USDC")
    assert (usdc[:2] < 0.95).all() and usdc[2] > usdc[1] and usdc[-1] == pytest.approx(1.0, abs=1e-9)
    never = simulate_batch(net, [_svb(resolved=None)], record=True)
    assert _path(never, net, "USDC")[-1] < 0.95  # unresolved: no re-peg beyond what redemptions clear


def test_dai_and_frax_follow_usdc(net):
    """DAI through the PSM to USDC / (1 - tin) over the weekend, before Maker's halt of sellGem (60 h: rounds 0-1
    open, half of round 2; core.mechanisms.psm_halt), and over the whole path with the halt off; from Monday the
    halted PSM takes no more discounted USDC and DAI stays above the pin. FRAX at 0.87 USDC + 0.13 (its
    collateral ratio)."""
    br = simulate_batch(net, [_svb(), _svb().model_copy(update={"safeguards": Safeguards(psm_governance_halt=False)})],
                        record=True)
    usdc, dai, frax = (br.history["prices"][:, :, list(br.asset_symbols).index(s)] for s in ("USDC", "DAI", "FRAX"))
    np.testing.assert_array_equal(usdc[0], usdc[1])
    # session 41 (data): DAI's tin 0 (PSM-USDC-A's from the 2021-11-05 spell to the 2023-03-11 one; the row held
    # 0.001): the pin is USDC / (1 - 0), USDC itself, where it was USDC / 0.999
    tin = float(net.pegs.set_index("asset").loc["DAI", "psm_tin"])
    assert tin == 0.0
    pin = np.minimum(usdc[0] / (1 - tin), 1.0)
    np.testing.assert_allclose(dai[1], pin, rtol=1e-12)
    np.testing.assert_allclose(dai[0, :2], pin[:2], rtol=1e-12)
    assert (dai[0, 2:4] > pin[2:4]).all()
    np.testing.assert_allclose(frax[0], 0.87 * usdc[0] + 0.13, rtol=1e-12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(f=st.floats(0.01, 0.2), g=st.floats(0.01, 0.2))
def test_deeper_impairment_never_a_higher_usdc(net, f, g):
    lo, hi = sorted((f, g))
    br = simulate_batch(net, [_svb(lo, resolved=None), _svb(hi, resolved=None)], record=True)
    p = br.history["prices"][:, :, list(br.asset_symbols).index("USDC")]
    assert (p[1] <= p[0] + 1e-12).all() and (p <= 1.0).all()
    assert br.total_loss[1] >= br.total_loss[0] - 1.0


def test_impairment_errors_name_the_field(net):
    with pytest.raises(DataValidationError, match="reserve_impairments.CIRCLE.fraction"):
        simulate_batch(net, [_svb(fraction=0.3)])  # more than the 24.38% cash share
    with pytest.raises(DataValidationError, match="reserve_impairments.TETHER"):
        simulate_batch(net, [Scenario(reserve_impairments={"TETHER": {"fraction": 0.05}})])
    with pytest.raises(DataValidationError, match="depegs.USDC"):
        simulate_batch(net, [Scenario(depegs={"USDC": 0.1}, reserve_impairments={"CIRCLE": {"fraction": 0.05}})])


def test_pegs_table_errors_name_row_and_column(net):
    pg = net.pegs.copy()
    pg.loc[pg["asset"] == "USDC", "reserve_other"] = 0.5
    pg.loc[pg["asset"] == "stETH", "funding_rate"] = np.nan
    tables = {t: getattr(net, t) for t in ("entities", "assets", "holdings", "exposures", "cohorts")}
    with pytest.raises(DataValidationError) as err:
        Network.from_frames(name="bad", pegs=pg, **tables)
    text = str(err.value)
    assert "reserve_cash + reserve_tbills + reserve_other = 1" in text and "funding_rate" in text
    assert {(p.row, p.column) for p in err.value.problems} >= {(1, "reserve_other"), (4, "funding_rate")}


def test_steth_june_2022_has_no_cliff(net):
    """The preset collapsed stETH to 0.002 of its price before; history saw 4.7-8% below ETH."""
    br = simulate_batch(net, [core.load_scenario(SCENARIOS / "steth_june_2022.json")], record=True)
    ratio = _path(br, net, "stETH") / _path(br, net, "ETH")
    floor = 1 - float(liquid_staking.carry_floor_discount(1.0, 0.10, 0.04))  # 0.9455
    assert ratio.min() > 0.92 and ratio.min() <= floor + 1e-9


def test_arbitrage_holds_the_floor_against_a_sale(net):
    """$1.6bn sold at once: the pool alone leaves stETH far below its carry floor (0.9455); arbitrage capital
    lifts it towards the floor, closer the more capital there is (liquidity 10: ten times the capital at every
    gap), never to it or above: capital elastic to the gap to the floor vanishes at the floor
    (core.mechanisms.liquid_staking.arbitrage_capital). Measured against the same round without arbitrage
    capital (0.732 of ETH: the sale and the stETH its liquidations sell) and with the fixed 56k ETH a day of the
    model before (0.857): the elastic capital ends at 0.922 (liquidity 1) and 0.942 (liquidity 10). (Before,
    with the fixed capital, liquidity 10 reached the floor exactly and liquidity 1 ended at 0.859.)"""
    from core.mechanisms import amm
    from core.network import Network

    floor = 1 - float(liquid_staking.carry_floor_discount(1.0, 0.10, 0.04))
    alone = amm.stableswap_price(amm.stableswap_swap(core.engine.compile_network(net).pool_res0[[0]], 30.0, 0, 1,
                                                     1.6e9 / 2746.43).balances, 30.0, 0, 1)
    assert float(alone[0]) / 0.9987 < floor - 0.04
    sale = Scenario(pool_sales_usd={"stETH": 1.6e9}, horizon=1)
    rich = simulate_batch(net, [Scenario(pool_sales_usd={"stETH": 1.6e9}, horizon=1, liquidity=10.0)], record=True)
    thin = simulate_batch(net, [sale], record=True)

    def table(**terms):
        pg = net.pegs.copy()
        for k, v in terms.items():
            pg.loc[pg["asset"] == "stETH", k] = v
        return Network.from_frames(name="stETH-terms", pegs=pg, **{t: getattr(net, t) for t in (
            "entities", "assets", "holdings", "exposures", "cohorts", "maker_ilks")})

    none = simulate_batch(table(arbitrage_units_per_day=0.0), [sale], record=True)
    fixed = simulate_batch(table(arbitrage_reference_gap=np.nan), [sale], record=True)
    r_rich, r_thin, r_none, r_fixed = ((_path(b, net, "stETH") / _path(b, net, "ETH"))[0] for b in (rich, thin, none, fixed))
    assert r_none + 0.05 < r_fixed < r_thin < r_rich < floor
    assert floor - r_rich < 0.25 * (floor - r_thin)  # ten times the capital: far closer to the floor


@pytest.mark.xfail(strict=True, reason="measured 0.912 of ETH at the low (0.388 with the fixed 56k ETH a day before the "
                   "capital was elastic to the discount): arbitrage capital rising with the gap to the carry floor (56k ETH a "
                   "day at the June low's 1.12% gap, pegs.csv) times the scenario's liquidity 0.6 absorbs the $1.5bn sold "
                   "in one day and the liquidations it sets off at a gap of 3.6%, 0.912 of ETH; history's 0.935-0.95 "
                   "(June 2022) came with sales of ~$50-100M a day spread over weeks and OTC exits, which the model does "
                   "not have; no bad debt (Gauntlet: ~$2M at Aave only past a >20% depeg)")
def test_a_one_day_steth_sale_of_1_5bn_stays_within_history(net):
    """benchmarks/scenarios/steth_sale_stress.json: stETH no lower than 0.935 of ETH (the top of June 2022's band)."""
    sc = core.load_scenario(SCENARIOS.parent.parent / "benchmarks" / "scenarios" / "steth_sale_stress.json")
    br = simulate_batch(net, [sc], record=True)
    ratio = _path(br, net, "stETH") / _path(br, net, "ETH")
    assert ratio.min() >= 0.935, f"stETH/ETH low {ratio.min():.4f}"


def test_lps_withdraw_from_a_stressed_pool_and_keep_what_they_take(net):
    """After a sale LPs take part of the pool out; the pool entity's holdings, which the LPs' claims follow,
    are the reserves left plus what they took (nothing vanishes)."""
    from core.engine import compile_network, run_round, scenario_batch
    from core.engine.state import initial_state

    c = compile_network(net)
    p = list(c.pool_asset).index(list(c.symbols).index("stETH"))
    b = scenario_batch(net, [Scenario(pool_sales_usd={"stETH": 8e8}, horizon=3)])
    s = initial_state(c, b)
    run_round(c, s, b, 0)
    assert (s.lp_withdrawn[0, p] > 0).all()
    entity = c.pool_entity[p]
    np.testing.assert_allclose(s.H[0, entity, c.pool_asset[p]], s.pool_res[0, p, 0] + s.lp_withdrawn[0, p, 0], rtol=1e-12)
    np.testing.assert_allclose(s.H[0, entity, c.pool_counter[p]], s.pool_res[0, p, 1] + s.lp_withdrawn[0, p, 1], rtol=1e-12)


def test_dai_premium_on_black_thursday_without_a_psm(net2020):
    """No PSM in March 2020: vault owners buying DAI to repay lift it above peg, by at most 12%
    (history: 1.06-1.12)."""
    br = simulate_batch(net2020, [core.load_scenario(SCENARIOS / "black_thursday_2020.json")], record=True)
    dai = _path(br, net2020, "DAI")
    assert 1.0 < dai.max() <= 1.12


def test_dai_premium_does_not_depend_on_the_round_length(net2020):
    """The repayment demand is a flow and so is the depth it meets (core.engine.backing): the same fall gives the
    same premium in a round of a day, six hours or an hour. Before, the depth stood for any round and the premium
    fell with the round: Black Thursday's hourly path peaked at 1.0006 against 1.0146 then. Since the demand for
    Maker's coin is the DAI its vault owners do repay (core.mechanisms.vault_defence: towards mat x 1.39 or their
    own ratio, at most their equity), ETH -30% gives 1.00561 in each (1.0146 with the earlier demand rule)."""
    dai = [_path(simulate_batch(net2020, [Scenario(price_shocks={"ETH": -0.3}, oracle_lag=2, liquidity=0.1, horizon=1,
                                                   round_hours=h)], record=True), net2020, "DAI")[0] for h in (24.0, 6.0, 1.0)]
    assert dai[0] > 1.005
    assert dai[1] == pytest.approx(dai[0], rel=1e-12) and dai[2] == pytest.approx(dai[0], rel=1e-12)


def test_psm_room_holds_dai_at_peg_in_2022(net):
    """With the PSM's room, the same deleveraging leaves DAI within the PSM's sell pin on the 2022 network (1 / (1 -
    tin) = 1.001). The room is the autoline's, 950M a day (session 22; before, the 10bn line's 6.8bn, DAI at par):
    the DAI the day's auctions burn beyond it is sold by the 3pool along its curve, DAI 1.000196 in round 0 at the
    3pool's May 2022 A of 5000 (1.000485 at A 2000, the dataset's value until session 27), par from round 2 as the
    PSM re-mints the next day's gap."""
    br = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.43, "BTC": -0.37}, liquidity=0.1, horizon=6)], record=True)
    dai = _path(br, net, "DAI")
    # session 38 (s38-crvust, decision 19's 3CRV side landed): 1.000196 -> 1.000154 in round 0 (1.000007 ->
    # 1.000005 in round 1), the same with or without decision 21's band; the 2022 network's CRV_UST now holds
    # 116.67M DAI of 3CRV's coins where it held USDC (how that lowers the round-0 premium not traced)
    assert dai.max() == pytest.approx(1.000154, abs=1e-6) and dai.max() <= 1.0 / (1.0 - 0.001)
    assert (dai[2:] == 1.0).all()

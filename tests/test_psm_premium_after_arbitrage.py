"""Vault owners' repayment demand lifts a PSM coin from the price the PSM's arbitrage left, not from the backed value
before its flow (``core.engine.backing.backing_links``).

Session 33 (daipeg) traced the ledger's
``monotone-2022-eth-79-81-gbtc-41-47-steth-21-29-circle-failed-full-runs-no-lag-liquidity-068-365-maker-edge`` (2022,
CIRCLE forced to fail: USDC at 1e-12). In round 0 both depths' PSMs take in 950M of worthless USDC under the
autoline (3,200.25M -> 4,150.25M), the arbitrage selling the 949.05M DAI minted into a market of depth
K = $300M x 0.6797 = $203.9M: DAI 0.6235 x exp(-949.05 / 203.915) = 0.005937. The deeper run's vault owners repaid
nothing that round and DAI was that (0.0059415 with the auctions' supply squeeze); the shallower's repaid $1.21M,
more than the PSM's room left (none), and the premium branch replaced the arbitrage's price by the backed value after
it, 0.5608 x 1.0007 = 0.5612 (0.5626 with the squeeze): $1.2M of buying erased 949M of selling, and a live Maker's
DAI sat at 0.56 in one run and 0.006 in the other for the same PSM flow. The premium now multiplies the arbitrage's
price: 0.005937 x (1 + 0.12 (1 - exp(-1.2056 / 203.915))) = 0.005941.
"""

import numpy as np
import pytest

from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.mechanisms.cdp_premium import cdp_premium_price
from core.mechanisms.psm import autoline_ceiling, psm_arbitrage, psm_backed_value
from core.scenario import Scenario
from depth_points import at_point, depth_points
from invariants_support import load_regressions, network

ENTRY = "monotone-2022-eth-79-81-gbtc-41-47-steth-21-29-circle-failed-full-runs-no-lag-liquidity-068-365-maker-edge"
LIQUIDITY = 0.6797178991233279
K = 300e6 * LIQUIDITY  # DAI's depth (pegs.csv: adv_usd $300M) under the scenario's liquidity


def test_the_premium_lifts_the_arbitrage_price_worked_numbers():
    # PSM-USDC-A: 3,200.25M USDC of 8,500M DAI (share 0.3765), USDC at 1e-12, the vaults whole (B = 1)
    value = psm_backed_value(0.3765, 1e-12, 1.0)
    assert value == pytest.approx(0.6235, rel=1e-12)
    line = autoline_ceiling(3200.25e6, 10e9, 950e6, 24.0, 24.0)  # 4,150.25M: the day's 950M gap
    arb = psm_arbitrage(value, 1e-12, 3200.25e6, 8500e6, K, line=line, tin=0.001)
    assert float(arb.minted) == pytest.approx(949.05e6, rel=1e-12)  # 950M USDC in, 0.1% to the Vow
    assert float(arb.price) == pytest.approx(0.6235 * np.exp(-949.05e6 / K), rel=1e-12)  # 0.0059370
    assert float(arb.price) == pytest.approx(0.0059370483, rel=1e-8)
    # the $1.2056M the shallower run's vault owners repaid, none of it mintable (the room is used): the premium's lift
    lift = cdp_premium_price(1.0, 1.20556123e6, K, psm_mint_room_usd=0.0)
    assert float(lift) == pytest.approx(1.0 + 0.12 * (1.0 - np.exp(-1.20556123e6 / K)), rel=1e-14)  # 1.000707
    assert float(arb.price * lift) == pytest.approx(0.0059412479, rel=1e-8)
    # what the premium branch priced before: the backed value after the swaps with the lift, 95 times higher
    before = cdp_premium_price(1.0, 1.20556123e6, K, psm_share=arb.psm_share, psm_price=1e-12, psm_mint_room_usd=0.0)
    assert float(before) == pytest.approx(0.5612168047, rel=1e-8)


def _round0_dai_after_backing_links():
    case = next(e for e in load_regressions() if e["id"] == ENTRY)
    points = depth_points(tuple(case["assets"]), case["depths"])
    scs = [at_point(Scenario.model_validate(case["scenario"]), p, case["mode"]) for p in points]
    net = network(case["network"])
    c = compile_network(net)
    b = build_batch(c, scs, net, True)
    s = initial_state(c, b)
    dai = list(c.symbols).index("DAI")
    with trusted():
        for step in STEPS:
            if step.__name__ == "backing_links":
                repaid = s.maker_repaid.copy()
            changes = step(c, s, b, 0)
            if changes:
                s.apply(changes)
            if step.__name__ == "backing_links":
                return repaid, s.P[:, dai].copy(), s.psm_balance[:, 0].copy()
    raise AssertionError("no backing_links step")


def test_a_live_makers_dai_is_priced_alike_with_and_without_repayments():
    repaid, dai, balance = _round0_dai_after_backing_links()
    assert repaid[0] == pytest.approx(1.20556123e6, rel=1e-8) and repaid[1] == 0.0
    np.testing.assert_allclose(balance, 4150.25e6, rtol=1e-12)  # both PSMs took the day's 950M
    # the shallower: the lifted arbitrage price times the auctions' supply squeeze (0.5626 before); the deeper as it was.
    # Session 38 (decision 19): CRV_UST holds 3CRV's coins, so DAI's squeeze is cleared along two pools' curves, the
    # 3pool's and now CRV_UST's (116.67M DAI beside 350M UST, core.engine.peg_terms.squeeze_pools): the same DAI the
    # auctions burnt (the $1.2056M repaid, the PSM's 950M: both unchanged) meets a deeper market and lifts DAI less,
    # the squeeze factor 1.002470 -> 1.001254 at the shallower, 1.000750 -> 1.000501 at the deeper: 0.00595592 ->
    # 0.00594870 and 0.0059415 -> 0.00594002 (UST opens at 0.6667 over 3CRV at 2/3 and LFG lifts it to 0.9676 in
    # round 0, alike at both depths; DAI is 1.0 at both until backing_links, as on main)
    # Session 41 (data): DAI's tin 0 (the row held 0.001; 0 from the 2021-11-05 spell): 0.00594870 -> 0.00592105 and
    # 0.00594002 -> 0.00591241 (on a copy of the data with tin 0.001 the old figures hold; the step not traced further)
    assert dai[0] == pytest.approx(0.00592105, rel=1e-5), dai
    assert dai[1] == pytest.approx(0.00591241, rel=1e-5), dai
    assert abs(dai[0] / dai[1] - 1.0) < 0.003, dai

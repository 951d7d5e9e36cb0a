"""Failed entities' estates: who works a failed lender's loans, and what a failed CeFi lender's estate costs its
creditors (docs/invariants.md, "Session 22 (estates)").

* A lending protocol's default does not stop its liquidations: liquidations are permissionless and profit-seeking
  (Aave ``liquidationCall``, Compound v2 ``liquidateBorrow``), whatever the protocol's own solvency, so its loans
  are worked at the pace of the liquidators' capital (:mod:`core.engine.capital`) before and after it fails.
  ``monotone-shipped-eth-79-luna-maker-psm-failed-full-runs-capital-50m-end-bad-debt``'s AAVE_ETH loans wait ~40
  rounds for that capital (other cohorts pay an 8% bonus against its 5%), not for a rule on failed lenders.
* A failed lender's estate realises its illiquid book at the fire-sale discount, once
  (:func:`core.engine.sell.estate_sales`, ``FIRE_SALE_DISCOUNT``), and its creditors share the cost pro rata:
  ``monotone-2022-usdc-depeg-eth-20-6h-rounds-celsius-edge``'s $1.96bn is that cost, on a $2.83M shortfall.
"""

from __future__ import annotations

import numpy as np
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms.firesales import FIRE_SALE_DISCOUNT
from depth_points import at_point, depth_points
from invariants_support import load_regressions, network
from test_pass_through import pool_network

CELSIUS_EDGE = "monotone-2022-usdc-depeg-eth-20-6h-rounds-celsius-edge"


def test_a_failed_pools_loan_is_liquidated_at_the_capitals_pace():
    """test_pass_through's pool (100,000 ETH owing 100M USDC, bonus 5%) with ETH -60% ($800) and $10M of
    liquidators' capital a round: the loan is under water ($80M against $100M), the supplier's haircut is 10% and
    the pool fails at round 0's clearing. Liquidators keep repaying $10M a round after it has failed, seizing
    $10M x 1.05 / $800 = 13,125 ETH in round 0 and ~13,125 a round after (ETH moves by the sales' impact only,
    $799.98 to $799.96), until round 7 takes the last 8,122.09 ETH and books the rest, 23.81M USDC, as bad debt:
    30M - 8,122.09 x $799.957 (round 6's close) / 1.05. Before and after the default the pace is the capital's."""
    net = pool_network()
    c = compile_network(net)
    b = build_batch(c, [Scenario(price_shocks={"ETH": -0.6}, liquidator_capacity_usd=10e6, horizon=20)], net, True)
    s = initial_state(c, b)
    pool, eth = list(c.ids).index("POOL"), list(c.symbols).index("ETH")
    repaid, seized, failed = [], [], []
    for r in range(8):
        debt, coll, opening = s.debt[0, 0], s.coll[0, 0], s.P[0, eth]  # no lag: the oracle reads the opening
        for step in STEPS:
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
        repaid.append(debt - s.debt[0, 0] - s.bad_units[0, 0] * (r == 7))
        seized.append(coll - s.coll[0, 0])
        failed.append(bool(s.defaulted[0, pool]))
    assert failed == [True] * 8  # failed from round 0's clearing
    np.testing.assert_allclose(repaid[:7], 10e6, rtol=1e-12)  # rounds 1-6: after the default, as in round 0
    assert seized[0] == pytest.approx(13_125.0, rel=1e-12)
    np.testing.assert_allclose(seized[1:7], 13_125.0, rtol=1e-4)
    assert s.coll[0, 0] == 0.0 and s.debt[0, 0] == 0.0
    assert seized[7] == pytest.approx(8_122.09, abs=0.01)
    assert s.bad_units[0, 0] == pytest.approx(30e6 - seized[7] * opening / 1.05, rel=1e-12)
    assert s.bad_units[0, 0] == pytest.approx(23.81e6, rel=1e-3)


def _celsius_edge(monkeypatch: pytest.MonkeyPatch | None = None):
    case = next(e for e in load_regressions() if e["id"] == CELSIUS_EDGE)
    points = depth_points(tuple(case["assets"]), case["depths"])
    if monkeypatch is not None:  # the estate realises its illiquid book at book value
        monkeypatch.setattr("core.engine.sell.fire_sale_discount", lambda liquidity: np.zeros_like(liquidity))
    net = network(case["network"])
    br = simulate_batch(net, [at_point(Scenario.model_validate(case["scenario"]), p, case["mode"]) for p in points])
    return list(br.entity_ids), br


def test_the_celsius_edges_cost_is_its_estates_fire_sale(monkeypatch):
    """USDC at par against 3.125% off peg with ETH -19.53%: CELSIUS ($9,386.3M of other assets, 15% liquid) is
    $2.83M short at par and defaults; its estate realises its illiquid book, 0.85 x $9,386.3M = $7,978.355M, at
    FIRE_SALE_DISCOUNT (25% at liquidity 1): $1,994.589M. Its creditors share it pro rata: RETAIL_CEFI ($11,329.0M
    of in-kind customer claims at the horizon) $1,943.1M, its $300M of outside liabilities $51.5M. RETAIL_CEFI loses
    $1,960.9M more at par than 3.125% off peg; with the estate realising its book at book value, $17.7M more ($18.6M
    before Compound v2's USDC debt was read at its fixed $1, session 29: CEL at its failed issuer's floor in the book
    its claims follow, $12.65M, and Celsius's own shortfall, $5.98M; the split since not traced). Session 38: $1,956.9M
    and $13.8M, UST's pool dipping with 3CRV at the deeper point (below); the fire sale's share unchanged."""
    ids, br = _celsius_edge()
    celsius, retail = ids.index("CELSIUS"), ids.index("RETAIL_CEFI")
    assert br.defaulted[:, celsius].tolist() == [True, False]
    haircut = (1 - 0.15) * 9_386.3e6 * FIRE_SALE_DISCOUNT
    assert haircut == pytest.approx(1_994.58875e6, rel=1e-12)
    extra = br.loss[0, retail] - br.loss[1, retail]
    # session 23 (the squeeze's PSM re-mint booked; the path not traced further): at 3.125% off peg RETAIL_CEFI's
    # loss there $24,674 lower: 1,961.768M -> 1,961.792M here, 18.634M -> 18.659M below; their difference unchanged
    # session 29 (oracle): Compound v2's USDC debt at its fixed $1 oracle (core.engine.oracle), so USDC's 3.125%
    # discount no longer relieves COMP's USDC borrowers at the deeper point: 1,961.792M -> 1,960.871M here,
    # 18.659M -> 17.738M below; their difference, the fire sale's share, unchanged. Session 30 (Anchor's queue seizing
    # at the bid's discounted price less its fee, core.mechanisms.bid_queue): 1,960.871M -> 1,960.840M here,
    # 17.738M -> 17.707M below; their difference, the fire sale's share, unchanged. Session 34 (anchorfee, the
    # queue's 1% liquidator fee beside its bid fee: more of Anchor's bETH seized a UST repaid): 1,960.840M ->
    # 1,960.799M here, 17.707M -> 17.666M below; their difference, the fire sale's share, unchanged. Session 38
    # (decision 19: CRV_UST holds 3CRV's coins, so USDC's 3.125% fall moves UST's pool by ~1.04%, beyond decision
    # 21's 0.5% band): at the deeper point UST's holders redeem, LUNA closes $76.661 (was $77) and CEL 0.0510 (was
    # 0.0620); RETAIL_CEFI loses $3.878M more there (659.370M -> 663.247M; the par point unchanged, which of its
    # positions carries it not traced): 1,960.799M -> 1,956.922M here, 17.666M -> 13.788M below; their difference,
    # the fire sale's share, unchanged (1,943.133M). Session 40 (anchor, the queue's contract amount on decisions 19
    # and 21: at ETH -19.53% ANCHOR's round-0 liquidations $44.70M -> $72.10M at both points, its bETH positions
    # past HF m / d selling all of their stETH, stETH 2191.57 -> 2190.45 at par, 2192.47 -> 2191.35 deeper; RETAIL_CEFI
    # +$0.129M at par, +$0.022M deeper; which of its positions carries it not traced): 1,956.922M -> 1,957.029M here,
    # 13.788M -> 13.895M below; their difference, the fire sale's share, unchanged (1,943.133M)
    assert extra == pytest.approx(1_957.029e6, rel=1e-5)
    ids0, without = _celsius_edge(monkeypatch)
    assert without.defaulted[:, celsius].tolist() == [True, False]  # still short at par: its $2.83M
    extra0 = without.loss[0, retail] - without.loss[1, retail]
    assert extra0 == pytest.approx(13.895e6, rel=1e-3)  # 13.788M before session 40, 17.666M before session 38 (above)
    # what the discount costs RETAIL_CEFI is its pro-rata share of the haircut: 11,329.04 / 11,629.04 of it
    assert extra - extra0 == pytest.approx(haircut * 11_329.04 / 11_629.04, rel=1e-5)

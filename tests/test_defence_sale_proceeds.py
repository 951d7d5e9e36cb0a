"""A reserve's defence sells the dollar amount that would lift its pool to the peg at the prices *before* its own
sale (core.engine.defend.defend_pegs: ``spend = min(budget, need)``, ``frac = spend / value``) and buys with the
proceeds at the prices *after* the sale's square-root impact. The proceeds fall short of the need by that impact, so
the pool stops below its peg although the budget covered the need; and since the law is concave in what the round
has sold (:func:`core.engine.sell.sale_impact`), the shortfall is smaller where earlier sales of the round had already
moved the book. A deeper shock elsewhere that sold BTC before the defence (Maker's WBTC auctions, a WBTC shock's
unwrapped sales) makes LFG sell more BTC units for the same dollars at nearly the same price after, so it buys more
UST and lifts UST higher at the deeper depth.

Traced by Session 46 (finds2022) in two ledger entries: ``s45-debtoracle-2022-cel-74-76-wbtc-3-10-steth-63-66-
tether-failed-full-runs-liquidity-037-capital-500m`` (-$191.97M: round 0, BTC 36,000 / 35,986.07 before LFG's $227.21M
sale, 35,806.91 / 35,806.37 after; 331.473M / 331.556M UST bought; the pool 1.43574 / 1.43964 against its peg price
1.5; UST 0.957159 / 0.959761) and ``s46-finds2022-2022-wbtc-16-17-circle-failed-full-runs-liquidity-045-365``
(-$1.88M at 365 rounds; the pair below). On a scratch copy, a sale sized so that its proceeds after its own impact
meet the need (capped at the budget's units) lifts the pool to its peg at both depths and both entries pass
(+$286.60M and +$0.36M). ``defend.py`` was reserved for another helper in Session 46: not changed; these tests are
strict xfails until the lead decides.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import compile_network, scenario_batch
from core.engine.pools import counter_move
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms import pegs
from core.scenario import Scenario

NET = core.datasets.load("crypto-2022-05")
#: The pair of ``s46-finds2022-2022-wbtc-16-17-circle-failed-full-runs-liquidity-045-365``: WBTC alone deepened.
DEPTHS = (0.1643826949714485, 0.16722039257657195)
BASE = dict(forced_defaults=["CIRCLE"], run_intensity=1.0, liquidity=0.44674455128340107)


def _round0_defence():
    """Both depths run to round 0's ``defend_pegs`` and through it: (UST before, UST after, pool price after, the
    pool's price at which UST trades at its peg, LFG's budget, what lifting the pool to that price needed in USD)."""
    c = compile_network(NET)
    b = scenario_batch(NET, [Scenario(price_shocks={"WBTC": -d}, **BASE) for d in DEPTHS])
    s = initial_state(c, b)
    for step in STEPS:
        if step.__name__ == "defend_pegs":
            break
        changes = step(c, s, b, 0)
        if changes:
            s.apply(changes)
    i, a = list(c.ids).index("LFG"), list(c.symbols).index("UST")
    p = list(c.pool_asset).index(a)
    others = np.arange(c.k) != a
    value = (s.H[:, i, :] * others[None] * s.P).sum(1)
    budget = pegs.reserve_defence(s.P[:, a], 1.0, value)
    px_peg = c.pool_ref[p] / (c.P0[a] * counter_move(c, s.P)[:, p])
    before = s.P[:, a].copy()
    held0 = s.H[:, i, :].copy()
    P0 = s.P.copy()
    s.apply(step(c, s, b, 0))
    spent = ((held0 - s.H[:, i, :]) * others[None] * P0).sum(1)  # sold, at the prices before the sale
    return before, s.P[:, a].copy(), s.pool_px[:, p].copy(), px_peg, budget, spent


@pytest.mark.xfail(strict=True, reason="defend_pegs sizes the reserve's sale at the prices before its own impact: "
                   "the proceeds after it fall short and the pool stops below its peg although the budget covers "
                   "the need (Session 46 (finds2022); defend.py reserved, not changed)")
def test_a_defence_whose_budget_covers_the_need_lifts_the_pool_to_its_peg():
    before, after, px, px_peg, budget, spent = _round0_defence()
    assert (before < 0.995).all() and (spent < budget).all()  # a defence with room to spare at both depths
    assert px == pytest.approx(px_peg, rel=1e-9)


@pytest.mark.xfail(strict=True, reason="the deeper WBTC shock sold BTC before LFG's sale; its same-dollar sale is "
                   "more BTC units at nearly the same price after (the square-root law is concave in the round's "
                   "total), so its proceeds buy more UST (Session 46 (finds2022); defend.py reserved)")
def test_a_deeper_shock_elsewhere_does_not_lift_the_defended_coin_higher():
    before, after, px, px_peg, budget, spent = _round0_defence()
    assert before[0] == before[1]  # UST is the same before the defence at both depths
    assert after[1] <= after[0]

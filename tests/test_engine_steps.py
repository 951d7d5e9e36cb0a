"""Steps of the cascade round, one at a time, with worked numbers on the mini network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import core
from core.engine import compile_network, scenario_batch
from core.engine import exogenous, sell
from core.engine.state import initial_state
from core.scenario import Scenario

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture(scope="module")
def mini():
    return core.load_network(MINI)


def _state(net, sc: Scenario):
    c = compile_network(net)
    b = scenario_batch(net, [sc])
    s = initial_state(c, b)
    s.apply(exogenous.exogenous(c, s, b, 0))
    return c, b, s


def test_estate_is_paid_the_closing_price(mini):
    # FUND defaults (keeping everything: recovery 1) and holds 50,000 stETH. Its estate sells half of them
    # in its first round of sales; they are paid at the price the round closes at, here $1,000, not the
    # $2,740 the round opened at: 25,000 x $1,000 = $25M.
    c, b, s = _state(mini, Scenario(forced_defaults=["FUND"], forced_default_recovery=1.0))
    i, a = list(c.ids).index("FUND"), list(c.symbols).index("stETH")
    oa0 = s.oa[0, i]
    s.apply({"sold": np.zeros_like(s.P)})
    s.apply(sell.estate_sales(c, s, b, 1))
    assert s.sold[0, a] == pytest.approx(25_000)
    assert s.H[0, i, a] == pytest.approx(50_000)  # handed over at the close
    fire_sale = s.run_loss[0, i]  # illiquid assets realised at the fire-sale discount, once
    P = s.P.copy()
    P[0, a] = 1_000.0
    s.apply({"P": P})
    s.apply(sell.estate_proceeds(c, s, b, 1))
    assert s.H[0, i, a] == pytest.approx(25_000)
    assert s.oa[0, i] == pytest.approx(oa0 - fire_sale + 25_000 * 1_000.0)
    assert not s.estate_share.any()
    # the next round sells the rest
    s.apply({"sold": np.zeros_like(s.P)})
    s.apply(sell.estate_sales(c, s, b, 2))
    assert s.sold[0, a] == pytest.approx(25_000)


def test_sale_impact_counts_units_not_dollars(mini):
    # Selling 100,000 ETH (adv $15bn, daily vol 4%): I = 0.04 * sqrt(100,000 * $2,750 / $15bn) = 0.0054160,
    # whatever the price the sale meets; half the liquidity gives sqrt(2) times more, a supply twice as large half.
    c, b, s = _state(mini, Scenario(price_shocks={"ETH": -0.5}))
    a = list(c.symbols).index("ETH")
    units = np.zeros_like(s.P)
    units[0, a] = 100_000
    I = sell.sale_impact(c, s.supply, units, np.array([1.0]))
    assert I[0, a] == pytest.approx(0.04 * np.sqrt(2.75e8 / 1.5e10), rel=1e-12)
    assert I[0, a] == pytest.approx(0.0054160, abs=1e-7)
    assert sell.sale_impact(c, s.supply, units, np.array([0.5]))[0, a] == pytest.approx(np.sqrt(2) * I[0, a])
    assert sell.sale_impact(c, 2 * s.supply, units, np.array([1.0]))[0, a] == pytest.approx(I[0, a] / np.sqrt(2))
    stETH = list(c.symbols).index("stETH")  # priced by its pool: no order-book impact
    units[0, stETH] = 1_000
    assert sell.sale_impact(c, s.supply, units, np.array([1.0]))[0, stETH] == 0.0

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

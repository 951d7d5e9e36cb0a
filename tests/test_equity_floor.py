"""An entity whose initial equity is a floating-point remainder (its assets and in-kind liabilities cancel) has no
equity to lose a share of: it is never "distressed" by it, and its loss share is 0 (core.results.EQUITY_FLOOR_USD).
Before, JITO on crypto-2025-10 ($0.00031 of a $3.2bn book) lost "24.3%" of it in the October 2025 preset, and
CRV_STETH ($0.000595) "27.1%" in the Terra preset, and both counted as distressed."""

import numpy as np
import pytest

import core
from core.presets import load_preset
from core.results import EQUITY_FLOOR_USD, loss_shares


def test_loss_shares_of_no_equity_are_zero():
    shares = loss_shares(np.array([5.0, 1e-4, 3.0, 0.4]), np.array([10.0, 3.1e-4, -2.0, EQUITY_FLOOR_USD]))
    assert shares.tolist() == [0.5, 0.0, 0.0, 0.8]


@pytest.mark.parametrize("key, entity", [("october_2025_crash", "JITO"), ("terra_may_2022", "CRV_STETH")])
def test_a_remainder_of_equity_is_never_distressed(key, entity):
    scenario, network = load_preset(key)
    result = core.simulate(network, scenario)
    row = result.nodes.set_index("entity").loc[entity]
    assert 0 < row.initial_equity_usd < 1e-3  # the remainder of floating point, not equity
    assert row.loss_share == 0.0
    assert row.status == "healthy"

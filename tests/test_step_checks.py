"""The suite runs the engine with every step's changes checked for NaN (core.engine.rounds.CHECK_STEPS)."""

from __future__ import annotations

import numpy as np
import pytest

from core.engine import rounds


def test_the_suite_checks_every_step():
    # tests/conftest.py sets SFM_CHECK_STEPS before core is imported, in every worker
    assert rounds.CHECK_STEPS


def test_a_nan_written_by_a_step_is_named():
    def pool_price(c, s, b, r):  # a stand-in step
        return {}

    with pytest.raises(FloatingPointError, match=r"round 3: .*pool_price wrote NaN into 'P' \(scenario rows \[1\]\)"):
        rounds.check_changes(pool_price, {"P": np.array([[1.0, 2.0], [np.nan, 1.0]])}, 3)


def test_infinities_and_finite_values_pass():
    def step(c, s, b, r):
        return {}

    rounds.check_changes(step, {"hf": np.array([np.inf, 1.0]), "n": np.array([1, 2]), "none": None}, 0)


def test_a_nan_run_through_the_engine_fails_loudly(monkeypatch):
    from core.datasets import synthetic
    from core.engine import simulate_batch
    from core.scenario import Scenario

    real = rounds.STEPS[2]

    def liquidate_with_nan(c, s, b, r):
        changes = dict(real(c, s, b, r) or {})
        changes["P"] = np.full_like(s.P, np.nan)
        return changes

    liquidate_with_nan.__module__, liquidate_with_nan.__name__ = real.__module__, real.__name__
    monkeypatch.setattr(rounds, "STEPS", rounds.STEPS[:2] + (liquidate_with_nan,) + rounds.STEPS[3:])
    with pytest.raises(FloatingPointError, match="core.engine.liquidate.liquidate wrote NaN into 'P'"):
        simulate_batch(synthetic(20, 50, seed=1), [Scenario(price_shocks={"ETH": -0.3})])

"""A recorded run's in-kind working arrays, reused round after round (core.engine.recording._claims_scratch), give
every history array and result the bits fresh arrays each round give: one scenario and a batch, with defaults,
runs and in-kind claims written down."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import recording
from core.engine.outcome import PER_SCENARIO
from core.engine.recording import HISTORY
from core.scenario import Scenario


def _storm(net, shock: float) -> Scenario:
    seeds = list(net.entities["id"][: max(1, net.n_entities // 100)])
    return Scenario(forced_defaults=seeds, price_shocks={"ETH": shock, "BTC": shock / 2}, run_intensity=0.5, horizon=12)


def _fresh(hist, S, m):  # the working arrays as a round made them before: new ones every round
    return np.empty((S, m)), np.empty((S, m)), (np.empty((S, m)), np.empty((S, m)))


@pytest.mark.parametrize("shocks", [(-0.3,), (-0.1, -0.3, -0.6)])
def test_reused_buffers_give_the_bits_of_fresh_ones(monkeypatch, shocks):
    net = core.datasets.synthetic(400, 4000, seed=3)
    scenarios = [_storm(net, s) for s in shocks]
    reused = core.simulate_batch(net, scenarios, record=True)
    monkeypatch.setattr(recording, "_claims_scratch", _fresh)
    fresh = core.simulate_batch(net, scenarios, record=True)
    assert int(reused.defaulted.sum()) > 0 and float(np.abs(reused.history["dep_loss"]).sum()) > 0
    for name in PER_SCENARIO:
        a, b = getattr(reused, name), getattr(fresh, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    for key in HISTORY:
        a, b = np.asarray(reused.history[key]), np.asarray(fresh.history[key])
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), key

"""When a cascade has settled (core.engine.clear.settle): not held open by closes that move by an ulp a round.

Compared to the bit, ``oracles_caught_up`` kept a row whose equity had stopped moving running to its horizon while
a close drifted by an ulp a round: a perpetuals bucket's accounts spread over margins
(core.mechanisms.perps_spread) lose ~9e-9 ETH past maintenance at each ulp, and that sale's impact rounds to one
more ulp (the deeper point of ``monotone-2025-bnb-87-weeth-31-wbtc-57-no-runs-lag1-365`` ran all 365 rounds for
what it lost by round 12, each round 1.56 s of CPU for $1e-4 of equity; docs/invariants.md, "Session 25 (trace)").
Within ``ORACLE_CLOSE_RTOL`` (1e-12) of the close the oracles show nothing a liquidation could act on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.engine import clear
from core.engine import simulate_batch
from core.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from depth_points import at_point, depth_points  # noqa: E402
from invariants_support import load_regressions, network  # noqa: E402

ENTRY = "monotone-2025-cbbtc-jitosol-cbeth-usdc-depeg-stable-holders-failed-runs-365"


def _runs():
    case = next(c for c in load_regressions() if c["id"] == ENTRY)
    sc = Scenario.model_validate({**case["scenario"], "horizon": 365})
    return [at_point(sc, p, case["mode"]) for p in depth_points(tuple(case["assets"]), case["depths"])]


def test_closes_moving_by_an_ulp_a_round_do_not_hold_a_cascade_open(monkeypatch):
    """The deeper point of ENTRY (BNB alternating between closes an ulp apart, session 16): compared to the bit it
    runs to round 365; within 1e-12 it settles at round 23, as the shallower does, and loses the same to $0.01."""
    runs, net = _runs(), network("crypto-2025-10")
    settled = simulate_batch(net, runs)
    assert settled.rounds_run.tolist() == [23, 23]
    monkeypatch.setattr(clear, "ORACLE_CLOSE_RTOL", 0.0)
    to_the_bit = simulate_batch(net, runs)
    assert to_the_bit.rounds_run.tolist() == [33, 365]
    assert settled.total_loss == pytest.approx(to_the_bit.total_loss, abs=0.01)

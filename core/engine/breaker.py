"""The circuit breaker (a safeguard of the scenario): a large fall halts liquidations, runs and estate sales.

Checked at the start of each round, the breaker watches the last round's
move (the shock itself, in round 0): once any price has fallen more than the
scenario's threshold it halts for ``cb_rounds`` rounds; it counts down at the
end of each round. A halt only postpones: positions stay due.
"""

from __future__ import annotations

import numpy as np

from .batch import ScenarioBatch
from .compiled import Compiled
from .state import CascadeState, Changes


def check(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads ``P, price_history, cb_left``; writes ``cb_left, halted``."""
    if not b.any_breaker:  # nothing halts: cb_left is 0 and halted False from the start (initial_state)
        return {}
    breaker = np.isfinite(b.cb_threshold)
    fell = (s.P < s.price_history[-2] * (1 - np.minimum(b.cb_threshold, 1.0)[:, None])).any(1)
    trip = fell & (s.cb_left == 0) & breaker
    cb_left = np.where(trip, b.cb_rounds, s.cb_left)
    return dict(cb_left=cb_left, halted=cb_left > 0)


def count_down(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> Changes:
    """Reads and writes ``cb_left``."""
    if not b.any_breaker:
        return {}
    return dict(cb_left=np.maximum(s.cb_left - 1, 0))

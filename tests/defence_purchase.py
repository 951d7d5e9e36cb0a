"""What a reserve's defence of its peg gains on the token it buys, read from a run (decision 19 item 2,
docs/invariants.md, Session 37 (crvust)).

A reserve that defends a pool-priced token (LFG and UST: :func:`core.engine.defend.defend_pegs`) sells a slice of
its other holdings and buys the token in its pool along the pool's invariant, fee-less; the purchase lifts the
token's price, by its own move of the pool and to the pool's new price at most. Decision 19 (the lead, session 37)
extends decision 13's rule (a price a forced purchase lifts is a real rise) to such a defence: *the reserve's gain on
the units it bought, marked at the price its own purchase lifted, is allowed by the value check, and only to that
amount, never any other gain.* In a round ``r`` that is

    ``gain_r = bought_r * P_r(a) - spent_r``,

``bought_r`` the units of the token the purchase added to the reserve's holdings, ``P_r(a)`` the token's price the
step closes at (the lifted price), ``spent_r`` what the reserve's other holdings it sold were worth at the prices the
sale got (the step's closing prices: its proceeds, which bought the pool's counter). A round's loss on the purchase
(bought above what it is marked at) allows nothing and is not netted against another round's gain.

The engine keeps no record of the defence, so the scenarios where a defender's equity rose are run again step by
step (:data:`core.engine.rounds.STEPS`, as ``benchmarks/step_trace.py`` does), and each row's rounds are read up to
the round its run settled (``rounds_run``): after it the engine takes the row's result and no later purchase counts.
The step-by-step run must close each row's last round at the prices the batch ended at (rtol 1e-12).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

import invariants_support as inv
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.defend import defend_pegs
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.scenario import Scenario


def purchase_gains(key: str, scenarios: Sequence[Scenario], rounds: np.ndarray) -> np.ndarray:
    """Each defender's gain on its defence's purchases, (S, rounds, n) USD, by round (module docstring), for the
    batch of ``scenarios`` run step by step for ``rounds`` (S,) rounds each; a row's rounds after its own are 0."""
    net = inv.network(key)
    c = compile_network(net)
    b = build_batch(c, list(scenarios), net, True)
    s = initial_state(c, b)
    S, horizon = len(scenarios), int(np.max(rounds))
    out = np.zeros((S, horizon, c.n))
    closes = np.zeros((S, horizon, c.k))
    with trusted():
        for r in range(horizon):
            for step in STEPS:
                if step is defend_pegs:
                    held = s.H[:, c.defender_of[:, 0], :].copy()  # (S, d, k)
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if step is defend_pegs:
                    for d, (i, a) in enumerate(c.defender_of):
                        change = s.H[:, i, :] - held[:, d, :]
                        bought = np.maximum(change[:, a], 0.0)
                        others = np.arange(c.k) != a
                        spent = -(change[:, others] * s.P[:, others]).sum(1)
                        out[:, r, i] += np.where(bought > 0, np.maximum(bought * s.P[:, a] - spent, 0.0), 0.0)
            closes[:, r] = s.P
    live = np.arange(horizon)[None] < np.asarray(rounds)[:, None]
    last = closes[np.arange(S), np.asarray(rounds) - 1]
    return out * live[..., None], last


def defence_gains(key: str, scenarios: Sequence[Scenario], br, rows: np.ndarray) -> np.ndarray:
    """The gain each entity may make on its defence's purchases over the run, (S, n) USD: the sum over rounds of
    :func:`purchase_gains`, for the batch's ``rows`` (the others: 0). ``br`` is the batch's result: each row is read
    to the round it settled in (``rounds_run + 1``) or the horizon, and its step-by-step run must close there at
    ``br``'s prices."""
    S, n = br.equity.shape
    out = np.zeros((S, n))
    rows = np.asarray(rows, dtype=int)
    if not len(rows):
        return out
    # A row's result is the state of the round it settles in (core.engine.staged.advance), the round after its last
    # change (``rounds_run``, core.engine.clear), whose moves are below the settling tolerance but not nothing; at the
    # horizon it is the horizon's. And rows that end at the same round run together: the engine drops a settled row
    # from its batch, and a row run on past its own end here would still take part in the batch's shared gates
    # (``runs_possible``: a coin below peg anywhere in the batch) and move its mates' last bits. (Session 38: with
    # decision 21's band, USDC -20% with ETH -30% settles after 10 rounds; read at round 10 its stETH was 1.4e-8 off
    # the result, read at round 11 exact. Before the band every row of these batches ran to the horizon.)
    horizon = np.array([scenarios[i].horizon for i in rows])
    ends = np.where(br.rounds_run[rows] < horizon, br.rounds_run[rows] + 1, horizon)
    for end in np.unique(ends):
        group = rows[ends == end]
        gains, last = purchase_gains(key, [scenarios[i] for i in group], np.full(len(group), end))
        assert np.allclose(last, br.prices[group], rtol=1e-12, atol=0.0), "the step-by-step run ended elsewhere"
        out[group] = gains.sum(1)
    return out


@functools.lru_cache(maxsize=None)
def defenders(key: str) -> np.ndarray:
    """The network's reserve entities that defend a pool-priced token, as entity positions."""
    c = compile_network(inv.network(key))
    return np.array(sorted({int(i) for i, a in c.defender_of if a in c.pool_asset}), dtype=int)

"""The state of a one-scenario cascade after ``r`` rounds, for tests that read the engine between rounds.

:func:`core.engine.run_batch` hands back only the end state; a test that checks a round's worked numbers (a
PSM's reserve after round 28, what a pool owed before and after its round-2 withdrawals) compiles the network,
builds the batch, takes the initial state and runs the rounds itself. :func:`cascade_after` does that once for
every such test, with :func:`core.engine.rounds.run_round` (the steps of ``STEPS`` in order, each step's changes
checked for NaN under ``SFM_CHECK_STEPS``, as the engine runs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from core.engine.batch import ScenarioBatch, build_batch
from core.engine.compiled import Compiled, compile_network
from core.engine.rounds import STEPS, check_changes, run_round
from core.engine.state import CascadeState, initial_state
from core.engine import rounds as engine_rounds
from core.network import Network
from core.scenario import Scenario


@dataclass
class Cascade:
    """A compiled network ``c``, its one-scenario batch ``b``, the state ``s`` after the rounds run, and what
    ``each_round`` returned after each of them (``records[r]`` after round ``r``)."""

    c: Compiled
    b: ScenarioBatch
    s: CascadeState
    records: list[Any] = field(default_factory=list)

    def entity(self, entity_id: str) -> int:
        return list(self.c.ids).index(entity_id)

    def asset(self, symbol: str) -> int:
        return list(self.c.symbols).index(symbol)


def cascade_after(network: Network, scenario: Scenario, rounds: int, *,
                  each_round: Callable[[Cascade, int], Any] | None = None,
                  each_step: Callable[[Cascade, int, Any, str], None] | None = None) -> Cascade:
    """Rounds ``0 .. rounds - 1`` of ``scenario`` on ``network``, from its initial state (names checked).

    ``each_round(cascade, r)`` is called after round ``r`` and its value kept in ``cascade.records``;
    ``each_step(cascade, r, step, when)`` before (``when="before"``) and after (``"after"``) each step of a round.
    """
    c = compile_network(network)
    b = build_batch(c, [scenario], network)
    cascade = Cascade(c, b, initial_state(c, b))
    for r in range(rounds):
        if each_step is None:
            run_round(c, cascade.s, b, r)
        else:
            for step in STEPS:  # run_round's loop, with the hook around each step
                each_step(cascade, r, step, "before")
                changes = step(c, cascade.s, b, r)
                if changes:
                    if engine_rounds.CHECK_STEPS:
                        check_changes(step, changes, r)
                    cascade.s.apply(changes)
                each_step(cascade, r, step, "after")
        if each_round is not None:
            cascade.records.append(each_round(cascade, r))
    return cascade

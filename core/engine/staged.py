"""A batch too large for one cache-sized part, run a part at a time with the parts' last rounds shared.

Model. A batch's rows never read each other's arrays (:func:`core.engine.rounds.run_batch`), so the rows still
running in several parts at the same round may go on as one part. (The batch-level switches a batch computes
from its rows, e.g. ``ScenarioBatch.costless``, can move a row's last bits with its batch-mates: the session-13
engine fingerprint's ``mixed`` batch cut in 8-row parts moves one row by 1.4e-14 relative, staged or not, and the
staged run equals the unstaged cut in every array. A Monte Carlo batch is one cell, the same switches in every
part: bit for bit, tests/test_montecarlo_speed_paths.py.) Most rows of a Monte Carlo settle in the first rounds (on the shipped 2022 network, 53% after
three rounds, 83% after five; 0.7% run the whole 12-round horizon), while a round's Python-side work (some 2.8 ms
there, mostly the steps' calls and the numpy calls' own overhead) is paid per part whatever its rows. Run one
part after another to completion, and the last rounds' fixed cost is paid once per part on a few hundred rows
each; here the first part runs alone only until its live rows fill half a part (``cap / 2``); the others then
run to that same round, the parts still running are gathered into as few parts as fit ``cap`` rows, and so on
from that round until no row runs. The memory held is one running part plus the few rows of those
waiting (a part's state is ~36 kB a row on the shipped network), not every part at once.

Only parts with the same structure are gathered (every field ``None`` in all or none, the same shapes beyond the
scenario axis and the same dtypes); others go on alone, as they would unstaged.

Source: the continuous/iteration-level batching of serving systems, where finished sequences leave a batch and
the survivors of several batches share one step (Yu et al. 2022, "Orca: A Distributed Serving System for
Transformer-Based Generative Models", OSDI '22: iteration-level scheduling); here restricted to rows at the same round, so no row's
arithmetic changes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from .batch import ScenarioBatch, batch_take
from .compiled import Compiled
from .known_zeros import stacked_zeros
from .outcome import store
from .state import CascadeState

#: Fraction of a part's rows stored (settled) above which they leave its arrays (copying them costs).
DROP_SHARE = 0.25

RoundFn = Callable[[Compiled, CascadeState, ScenarioBatch, int], None]


@dataclass
class Part:
    """Rows of the batch running together: their state and batch, the batch rows (``ids``) they stand for,
    and which of them already have their result stored."""

    s: CascadeState
    b: ScenarioBatch
    ids: np.ndarray
    stored: np.ndarray
    done: bool = False

    @property
    def live(self) -> int:
        return int(self.stored.size - np.count_nonzero(self.stored))


def advance(c: Compiled, p: Part, r: int, out: dict[str, Any], run_round: RoundFn, recording: bool = False,
            after: Callable[[CascadeState], Any] | None = None, drop: bool = True) -> None:
    """Round ``r`` of part ``p``: results taken the round a row settles, all of them at the horizon or when every
    row has settled (``p.done``); settled rows leave the arrays once they are :data:`DROP_SHARE` of the part
    (:func:`drop_stored`; never while recording: a recorded row runs to the end with its batch; ``drop=False``:
    left to the caller). ``after`` sees the state after the round; what it returns (a recorded round's result
    values, :func:`~core.engine.recording.record`) goes to :func:`~core.engine.outcome.store`."""
    run_round(c, p.s, p.b, r)
    known = after(p.s) if after is not None else None
    if r == p.b.horizon - 1 or p.s.settled.all():
        store(out, p.ids, c, p.s, ~p.stored, known)
        p.done = True
        return
    new = p.s.settled & ~p.stored
    if new.any():  # a result is taken the round its row settles, recorded or not (a settled row still runs
        # while its batch-mates do when recording, and may move below SETTLE_TOL: owners' repayments in
        # core.mechanisms.vault_defence approach their target geometrically, and a recorded batch of three
        # presets ended a row 1 ulp of equity apart from the same batch unrecorded)
        store(out, p.ids, c, p.s, new, known)
        p.stored = p.stored | new
    if p.stored.all():  # every row's result is taken (a row stored when it settled may since have moved on):
        p.done = True   # nothing left to run; dropping them all would leave a part of no rows
        return
    if drop and not recording:
        drop_stored(p)


def drop_stored(p: Part) -> None:
    """The stored rows of ``p`` leave its arrays once they are more than :data:`DROP_SHARE` of them."""
    if np.count_nonzero(p.stored) > DROP_SHARE * p.stored.size:  # the share stored, without np.mean's wrappers
        live = ~p.stored
        p.s, p.ids, p.stored = p.s.take(live), p.ids[live], p.stored[live]
        p.b = batch_take(p.b, np.flatnonzero(live))


def run_staged(c: Compiled, b: ScenarioBatch, cap: int, out: dict[str, Any], run_round: RoundFn,
               initial: Callable[[Compiled, ScenarioBatch], CascadeState]) -> None:
    """Every row of ``b`` run to its result in ``out``, in parts of at most ``cap`` rows (see the module)."""

    def start(ids: np.ndarray) -> Callable[[], Part]:
        return lambda: Part(initial(c, batch_take(b, ids)), batch_take(b, ids), ids, np.zeros(len(ids), bool))

    parts: list[Any] = [start(ids) for ids in np.array_split(np.arange(b.S), max(1, -(-b.S // cap)))]
    r0 = 0
    while parts:
        waiting: list[Part] = []
        stop = b.horizon
        for i, p in enumerate(parts):
            p = p() if callable(p) else p  # a part's state is made when it starts, not all at once
            for r in range(r0, stop):
                advance(c, p, r, out, run_round, drop=False)
                if i == 0 and (p.done or 2 * p.live <= cap):  # the first part sets the round the parts meet at
                    stop = r + 1
                if p.done or r + 1 == stop:  # the stored rows of a part gathered with others are left out by the
                    break  # gather's copy, not dropped by a copy of their own first (gather)
                drop_stored(p)
            if not p.done:
                waiting.append(p)
        parts, r0 = list(gather(b, waiting, cap)), stop


def gather(b: ScenarioBatch, parts: Sequence[Part], cap: int) -> list[Part]:
    """The live rows of ``parts`` (rows of ``b``, all at the same round) in as few parts of at most ``cap`` rows
    as taking them in order gives; a part whose structure differs from its neighbour's stays alone, its stored rows
    dropped as :func:`advance` would have (:func:`drop_stored`). The rows of a part gathered with others are copied
    once, from its arrays as they stand (a 5,000-run Monte Carlo chunk on the shipped 2022 network copied 7,399
    rows of state in compactions and gathers, 2,845 of them twice)."""
    groups: list[list[Part]] = []
    for p in parts:
        if groups and sum(q.live for q in groups[-1]) + p.live <= cap and _same_shape(groups[-1][0].s, p.s):
            groups[-1].append(p)
        else:
            groups.append([p])
    out = []
    for g in groups:
        if len(g) == 1:
            drop_stored(g[0])
            out.append(g[0])
            continue
        rows = [np.flatnonzero(~q.stored) for q in g]
        ids = np.concatenate([q.ids[k] for q, k in zip(g, rows)])
        out.append(Part(_stack_states([q.s for q in g], rows), batch_take(b, ids), ids, np.zeros(len(ids), bool)))
    return out


def _leaves(v: Any) -> list[Any]:
    """The arrays of a state field in a fixed order (``None`` kept), as :meth:`CascadeState.take` walks them."""
    if v is None or isinstance(v, np.ndarray):
        return [v]
    if isinstance(v, list):
        return [("list", len(v))] + [x for h in v for x in _leaves(h)]
    if is_dataclass(v) and not isinstance(v, type):
        return [type(v)] + [x for f in fields(v) for x in _leaves(getattr(v, f.name))]
    return [object()]  # anything else is never gathered


def _signature(x: Any) -> Any:
    return ("array", x.shape[1:], x.dtype) if isinstance(x, np.ndarray) else x


def _same_shape(a: Any, b: Any) -> bool:
    """Every field of ``a`` and ``b`` is ``None`` in both or in neither, with the same shapes beyond the first
    axis, dtypes and list lengths (so their rows can be stacked)."""
    la = [_signature(x) for f in fields(a) for x in _leaves(getattr(a, f.name))]
    lb = [_signature(x) for f in fields(b) for x in _leaves(getattr(b, f.name))]
    return la == lb


def _stack(values: Sequence[np.ndarray], rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows ``rows[i]`` of each ``values[i]``, one after another, copied once (``ndarray.take`` into place)."""
    first = values[0]
    known = stacked_zeros(values, sum(len(k) for k in rows))  # all known +0.0: new zeros, no copy (known_zeros)
    if known is not None:
        return known
    out = np.empty((sum(len(k) for k in rows),) + first.shape[1:], dtype=first.dtype)
    at = 0
    for v, k in zip(values, rows):
        np.take(v, k, axis=0, out=out[at:at + len(k)])
        at += len(k)
    return out


def _stack_field(vs: Sequence[Any], rows: Sequence[np.ndarray]) -> Any:
    v = vs[0]
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        return _stack(vs, rows)
    if isinstance(v, list):
        return [_stack_field([w[i] for w in vs], rows) for i in range(len(v))]
    return replace(v, **{g.name: _stack_field([getattr(w, g.name) for w in vs], rows) for g in fields(v)})


def _stack_states(states: Sequence[CascadeState], rows: Sequence[np.ndarray]) -> CascadeState:
    """One state of the rows ``rows[i]`` of each ``states[i]`` (of the same structure, :func:`_same_shape`)."""
    return CascadeState(**{f.name: _stack_field([getattr(s, f.name) for s in states], rows) for f in fields(states[0])})

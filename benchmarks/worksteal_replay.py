"""Replay pytest-xdist's ``--dist worksteal`` schedule (2 workers) over measured per-test times.

Run: ``python benchmarks/worksteal_replay.py ORDER.txt TIMES.json [TIMES2.json ...]``: ORDER is ``pytest
--collect-only -q`` output (the collection order the controller hands out), TIMES a ``{nodeid: seconds}`` map or
the per-worker lists ``benchmarks/suite_cpu_times.py`` writes (all of them merged). Prints the replayed wall time.

The scheduler as pytest-xdist 3.8 has it (``xdist/scheduler/worksteal.py``): each worker is first given one
contiguous half of the collection; a worker with fewer than 2 pending tests (its running one and the next it holds
for tear-down count) asks the fullest worker for the tail half of its pending list (at most all but 2), which that
worker gives only if none of them is already running or next. Not replayed: work a test shares with others in its
process (a module's fixture, a cached search) costs what it cost in the measured run, wherever the replay puts it.
"""

from __future__ import annotations

import json
import sys

MIN_PENDING = 2


def replay(order: list[str], seconds: dict[str, float]) -> tuple[float, list[float]]:
    """(wall time, each worker's end) of ``order`` on 2 workers under work stealing."""
    pending = list(range(len(order)))
    queues: list[list[int]] = []
    for w in range(2):
        k = len(pending) // (2 - w)
        queues.append(pending[:k])
        del pending[:k]
    ends, until = [0.0, 0.0], [0.0, 0.0]
    running: list[int | None] = [None, None]

    def start(w: int, now: float) -> None:
        running[w] = queues[w][0] if queues[w] else None
        if running[w] is None:
            ends[w] = now
        else:
            until[w] = now + seconds.get(order[queues[w][0]], 0.0)

    start(0, 0.0)
    start(1, 0.0)
    while any(r is not None for r in running):
        w = min((v for v in range(2) if running[v] is not None), key=lambda v: until[v])
        now = until[w]
        queues[w].pop(0)
        if len(queues[w]) < MIN_PENDING:
            other = queues[1 - w]
            n = min(len(other) // 2, max(0, len(other) - MIN_PENDING))
            if n and not set(other[-n:]) & set(other[:MIN_PENDING]):
                queues[w].extend(other[-n:])
                del other[-n:]
        start(w, now)
    return max(ends), ends


def _times(paths: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for path in paths:
        data = json.load(open(path))
        out.update(data if isinstance(data, dict) else {n: wall for n, _cpu, wall, *_live in data})
    return out


if __name__ == "__main__":
    order = [line.strip() for line in open(sys.argv[1]) if "::" in line]
    seconds = _times(sys.argv[2:])
    wall, ends = replay(order, seconds)
    print(f"{len(order)} tests ({sum(n not in seconds for n in order)} without a time), {sum(seconds.get(n, 0.0) for n in order):.1f} s "
          f"in all: replayed wall {wall:.1f} s (the workers end at {ends[0]:.1f} and {ends[1]:.1f} s)")

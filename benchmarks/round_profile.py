"""Where an engine round's time goes: goal 5's storm (``bench_scale.storm``) on ``synthetic(n, 10n)``, profiled.

Run: ``PYTHONPATH=. python benchmarks/round_profile.py [--entities 100000] [--runs 3] [--from-round 10]
[--lines core.engine.clear:clear_books ...] [--cprofile 30]``

Prints, in process CPU milliseconds per round over the rounds from ``--from-round`` on (the rounds goal 5's
marginal figure counts: its 20-round run less its 10-round run), each step of the round (:data:`core.engine.rounds.STEPS`),
largest first, and with ``--lines`` the lines of the named functions (``module:function``; a line's time
includes the calls it makes; tracing adds some cost to lines that call many Python functions, so read the
order and the rough size, not the last digit). ``--cprofile N`` adds cProfile's N largest own times over one
whole run. The machine is shared: compare two versions by interleaved runs (``bench_scale.py --goals 5``),
not by two of these.
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import importlib
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import core  # noqa: E402
from core.engine import compile_network, rounds, simulate_batch  # noqa: E402
from bench_scale import storm  # noqa: E402


def step_times(net: core.Network, sc, runs: int, first: int) -> dict[str, float]:
    """CPU seconds of each step, per round from round ``first`` on, averaged over ``runs`` runs."""
    spent: dict[str, float] = collections.defaultdict(float)
    counted = {"rounds": 0}

    def timed(step):
        def run(c, s, b, r):
            t = time.process_time()
            out = step(c, s, b, r)
            if r >= first:
                spent[step.__module__.rsplit(".", 1)[-1] + "." + step.__name__] += time.process_time() - t
            return out
        return run

    def counting(c, s, b, r):
        if r >= first:
            counted["rounds"] += 1

    kept = rounds.STEPS
    rounds.STEPS = (counting,) + tuple(timed(step) for step in kept)  # type: ignore[assignment]
    try:
        for _ in range(runs):
            simulate_batch(net, [sc])
    finally:
        rounds.STEPS = kept
    return {k: v / max(counted["rounds"], 1) for k, v in spent.items()}


def line_times(net: core.Network, sc, runs: int, first: int, targets: list[str]) -> dict[tuple[str, int], float]:
    """CPU seconds of each line of the functions ``targets`` (``module:function``), per round from ``first`` on."""
    codes = {getattr(importlib.import_module(m), f).__code__ for m, f in (t.split(":") for t in targets)}
    spent: dict[tuple[str, int], float] = collections.defaultdict(float)
    at: dict[int, tuple[int, float]] = {}  # frame -> (line running, when it started)
    now_round = {"r": 0, "counted": 0}

    def local(frame, event, arg):
        t = time.process_time()
        line, since = at.pop(id(frame), (None, t))
        if line is not None and now_round["r"] >= first:
            spent[(frame.f_code.co_filename, line)] += t - since
        if event != "return":
            at[id(frame)] = (frame.f_lineno, time.process_time())
        return local

    def calls(frame, event, arg):
        if frame.f_code in codes:
            at[id(frame)] = (frame.f_lineno, time.process_time())
            return local
        return None

    kept = rounds.run_round

    def round_counted(c, s, b, r):
        now_round["r"] = r
        now_round["counted"] += r >= first
        return kept(c, s, b, r)

    rounds.run_round = round_counted  # type: ignore[assignment]
    sys.settrace(calls)
    try:
        for _ in range(runs):
            simulate_batch(net, [sc])
    finally:
        sys.settrace(None)
        rounds.run_round = kept  # type: ignore[assignment]
    return {k: v / max(now_round["counted"], 1) for k, v in spent.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--from-round", type=int, default=10)
    ap.add_argument("--lines", nargs="*", default=[])
    ap.add_argument("--top", type=int, default=25, help="lines printed with --lines")
    ap.add_argument("--cprofile", type=int, default=0)
    a = ap.parse_args()
    n = a.entities
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    compile_network(net)
    sc = storm(net, 20)
    simulate_batch(net, [sc])  # warm: the network's per-network constants built
    t = time.process_time()
    simulate_batch(net, [sc])
    print(f"synthetic({n:,}, {10 * n:,}), goal 5's storm, 20 rounds: {time.process_time() - t:.3f} s CPU one run")
    steps = step_times(net, sc, a.runs, a.from_round)
    print(f"steps, ms per round from round {a.from_round} on (the mean over {a.runs} runs); "
          f"all steps {sum(steps.values()) * 1e3:.2f} ms")
    for name, v in sorted(steps.items(), key=lambda kv: -kv[1]):
        if v >= 5e-5:
            print(f"  {v * 1e3:7.2f}  {name}")
    if a.lines:
        lines = line_times(net, sc, max(1, a.runs - 1), a.from_round, a.lines)
        print(f"lines of {', '.join(a.lines)}, ms per round (a line's calls included)")
        for (path, line), v in sorted(lines.items(), key=lambda kv: -kv[1])[:a.top]:
            text = Path(path).read_text().splitlines()[line - 1].strip()[:100]
            print(f"  {v * 1e3:7.3f}  {Path(path).name}:{line}  {text}")
    if a.cprofile:
        pr = cProfile.Profile()
        pr.enable()
        simulate_batch(net, [sc])
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(a.cprofile)
    print(f"(load average {np.round(os.getloadavg(), 2).tolist()})")


if __name__ == "__main__":
    main()

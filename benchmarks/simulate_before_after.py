"""Issue 16's goal 1 on two trees side by side: ``core.simulate`` (every table) against the bare engine run.

Run: ``python benchmarks/simulate_before_after.py --old OLD_TREE [--new NEW_TREE] [--sizes 1000,10000,100000]
[--turns 12]``

One worker process per tree (``PYTHONPATH`` set to that tree, so ``import core`` is its own), kept for every
turn: the network of each size is built and compiled once and warmed up by one run of each kind, then each turn
runs ``core.simulate`` and the bare ``simulate_batch`` underneath, the result of each dropped as
``bench_scale.py``'s turns drop them. The trees take turns (old then new, new then old, ...) so that a busy
spell of the shared machine falls on both. Times are process CPU (``time.process_time``): per tree the median of
the simulate and engine times and of the per-turn ratios (with their range), and the median of the per-turn
new/old simulate ratios. The network and storm are ``bench_scale.py``'s (``synthetic(n, 10 n)``, seeds a
thousandth of the entities, ETH -30%, BTC -20%, runs at half intensity, 20 rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r'''
import sys, json, time
sys.path.insert(0, "benchmarks")
import core
from core.engine import compile_network, simulate_batch
from bench_scale import storm
nets = {}
for line in sys.stdin:
    n = int(line)
    if n not in nets:
        net = core.datasets.synthetic(n, 10 * n, seed=1)
        compile_network(net)
        sc = storm(net)
        core.simulate(net, sc)
        simulate_batch(net, [sc])
        nets[n] = (net, sc)
    net, sc = nets[n]
    a = time.process_time(); core.simulate(net, sc); s = time.process_time() - a
    a = time.process_time(); simulate_batch(net, [sc]); e = time.process_time() - a
    print(json.dumps({"simulate": s, "engine": e}), flush=True)
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the tree measured before")
    ap.add_argument("--new", default=str(ROOT), help="the tree measured after (default: this one)")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--turns", type=int, default=12)
    args = ap.parse_args()
    procs = {k: subprocess.Popen([sys.executable, "-c", WORKER], cwd=p, env=dict(os.environ, PYTHONPATH="."),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for k, p in (("old", args.old), ("new", args.new))}
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            got: dict[str, list[dict]] = {"old": [], "new": []}
            for t in range(args.turns):
                for k in (("old", "new") if t % 2 == 0 else ("new", "old")):
                    procs[k].stdin.write(f"{n}\n")
                    procs[k].stdin.flush()
                    got[k].append(json.loads(procs[k].stdout.readline()))
            line = [f"synthetic({n:,}, {10 * n:,}), {args.turns} turns"]
            for k in ("old", "new"):
                sim = [g["simulate"] for g in got[k]]
                eng = [g["engine"] for g in got[k]]
                r = [a / b for a, b in zip(sim, eng)]
                line.append(f"{k}: simulate {statistics.median(sim) * 1e3:.0f} ms, engine {statistics.median(eng) * 1e3:.0f} ms, "
                            f"simulate/engine {statistics.median(r):.2f}x (range {min(r):.2f}-{max(r):.2f})")
            nr = [a["simulate"] / b["simulate"] for a, b in zip(got["new"], got["old"])]
            line.append(f"new/old simulate {statistics.median(nr):.3f} (range {min(nr):.3f}-{max(nr):.3f})")
            print("\n  ".join(line), flush=True)
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait()


if __name__ == "__main__":
    main()

"""Issue 16's before/after table: each bullet measured on an older checkout and on this tree, side by side.

Run: ``PYTHONPATH=. python benchmarks/scale_before_after.py --old OLD_CHECKOUT [--quick] [--bullets 1,2,...]``

Every measurement runs in a child process (``scale_children.py``, ``PYTHONPATH`` set to one tree, so
``import core`` is that tree's engine), old and new in turns (old, new, old, new, ...) so that a busy spell
of the shared machine falls on both; each child reports wall time, CPU time and its peak resident memory
(``VmHWM`` of /proc/self/status, as ``bench_scale.py``'s ranking child).  The ratio is before / after of the
pair's medians (above 1: the after tree is faster or smaller), its median over the pairs.

Same inputs on both sides: the synthetic networks are built by each tree's ``core.datasets.synthetic`` (same
arguments; the tables both trees know are identical, checked by ``--check-synthetic``; the newer tree adds
a stETH ``pegs`` row and an empty ``pooled_collateral`` column), the clearing inputs and the 1,000,000-row
cohorts book are built once here (``bench_scale.py``'s builders) and handed to both children as files.  The
engine itself changed between the trees (more mechanisms), so the children also report what they computed
(rounds, defaults, total loss), to read the times beside.

Bullets (issue 16): 1. ``core.simulate`` with its tables; 2. ranking every entity as a seed (under an
address-space cap, ``--cap-gb``, so that a tree that needs more than the machine fails with MemoryError);
3. batched and single Eisenberg--Noe clearing; 4. Monte Carlo memory per run and throughput on the shipped
network; 5. one engine round at 100k entities against the memory-traffic floor; 6. a 1,000,000-row cohorts
table: validation and a 20-round cascade.  ``--quick``: small sizes, a few seconds per child, no times
asserted (tests/test_scale_before_after.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
CHILD_SCRIPT = Path(__file__).resolve().parent / "scale_children.py"


# --------------------------------------------------------------------------- parent side


class Runner:
    """Runs children on the two trees in turns and collects the table's rows."""

    def __init__(self, old: Path, new: Path, timeout: float):
        self.trees = {"before": old, "after": new}
        self.timeout = timeout
        self.rows: list[tuple[str, str, str, str, str]] = []

    def child(self, tree: str, kind: str, spec: dict) -> dict:
        path = self.trees[tree] if tree in self.trees else ROOT
        env = dict(os.environ, PYTHONPATH=str(path))
        try:
            proc = subprocess.run([sys.executable, str(CHILD_SCRIPT), kind, json.dumps(spec)],
                                  capture_output=True, text=True, env=env, timeout=self.timeout, cwd=str(path))
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish within {self.timeout:.0f} s (stopped)"}
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            return {"error": f"failed (exit {proc.returncode}): {last[:200]}"}
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if "core" in out and Path(out["core"]) != path.resolve():
            raise RuntimeError(f"child imported core from {out['core']}, not {path}")
        return out

    def pairs(self, kind: str, spec: dict | tuple[dict, dict], turns: int) -> dict[str, list[dict]]:
        """``turns`` children per tree, old then new in turns; a tree that failed is not run again."""
        specs = spec if isinstance(spec, tuple) else (spec, spec)
        got: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(turns):
            for tree, s in zip(("before", "after"), specs):
                if got[tree] and "error" in got[tree][-1]:
                    continue
                got[tree].append(self.child(tree, kind, s))
        return got

    def row(self, bullet: str, size: str, before: str, after: str, ratio: str) -> None:
        self.rows.append((bullet, size, before, after, ratio))
        print(f"  {bullet} | {size} | before: {before} | after: {after} | before/after: {ratio}", flush=True)


def _ratio(got: dict[str, list[dict]], value, cpu=None) -> str:
    """Median over the turns of before/after of one value (the turns paired in order); with ``cpu``, the same
    of the CPU times too (steadier than wall time on a shared machine)."""
    pairs = [(b, a) for b, a in zip(got["before"], got["after"]) if "error" not in b and "error" not in a]
    if not pairs:
        return "-"
    parts = []
    for kind, f in (("wall ", value), ("CPU ", cpu)) if cpu else (("", value),):
        r = sorted(f(b) / max(f(a), 1e-12) for b, a in pairs)
        parts.append(f"{kind}{statistics.median(r):.2f}x" + (f" (range {r[0]:.2f}-{r[-1]:.2f})" if len(r) > 1 else ""))
    return ", ".join(parts)


def _med(results: list[dict], value) -> float:
    return statistics.median(value(r) for r in results)


def _fails(results: list[dict]) -> str | None:
    return results[-1]["error"] if results and "error" in results[-1] else None


def _t(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _gb(kb: float) -> str:
    return f"{kb / 2**20:.2f} GB"


def _cell(results: list[dict], text) -> str:
    """The tree's figure (median over its turns), or why it has none."""
    err = _fails(results)
    return err if err else text(results)


# --------------------------------------------------------------------------- bullets


def check_synthetic(run: Runner, sizes) -> None:
    """The tables both trees build for ``synthetic(n, 10n, seed=1)`` compared column by column (hashes)."""
    for n in sizes:
        got = {t: run.child(t, "synthetic", {"n": n}) for t in ("before", "after")}
        b, a = got["before"]["hashes"], got["after"]["hashes"]
        differ = [f"{t}.{c}" for t in b if t in a for c in b[t] if c in a[t] and b[t][c] != a[t][c]]
        new_only = [t for t in a if t not in b] + [f"{t}.{c}" for t in a if t in b for c in a[t] if c not in b[t]]
        rows_after = {t: a[t]["__rows__"] for t in new_only if "." not in t}
        run.row("0. synthetic network", f"synthetic({n:,}, {10 * n:,}, seed=1)",
                f"{len(b)} tables", f"{len(a)} tables",
                ("identical in every column both trees have" if not differ else "DIFFER in " + ", ".join(differ))
                + f"; only in the after tree: {', '.join(new_only)} (rows {rows_after})")




def bullet_simulate(run: Runner, bench, quick: bool, turns: int, repeat: int, sizes: tuple[int, ...]) -> None:
    import core

    for n in ((200,) if quick else sizes):
        sc = bench.storm(core.datasets.synthetic(n, 10 * n, seed=1)).model_dump(mode="json", exclude_defaults=True)
        once = n >= 100_000  # the old tree took 261 s here: one cold run on each side, the same measurement
        got = run.pairs("simulate", {"n": n, "scenario": sc, "reps": 1 if once else repeat, "warm": not once},
                        1 if once else turns)

        def text(rs):
            s, e = _med(rs, lambda r: r["simulate"]["wall"]), _med(rs, lambda r: r["engine"]["wall"])
            r = rs[-1]
            return (f"{_t(s)} (CPU {_t(_med(rs, lambda r: r['simulate']['cpu']))}) = {s / e:.1f}x its engine run "
                    f"{_t(e)}; peak RSS {_gb(r['peak_kb'])} (+{_gb(r['peak_kb'] - r['base_kb'])} over the built "
                    f"network); {r['rounds']} rounds, {r['defaults']} defaults")

        run.row("1. core.simulate with its tables", f"synthetic({n:,}, {10 * n:,}), 20 rounds"
                + (", one cold run each" if once else f", {turns} turns x {repeat} runs"),
                _cell(got["before"], text), _cell(got["after"], text),
                _ratio(got, lambda r: r["simulate"]["wall"], lambda r: r["simulate"]["cpu"]))


def bullet_rank(run: Runner, quick: bool, cap_gb: float) -> None:
    times: dict[str, dict[int, float]] = {"before": {}, "after": {}}
    sizes = (100, 300) if quick else (1_000, 3_000, 10_000)
    for n in sizes:
        got = run.pairs("rank", {"n": n, "cap_gb": cap_gb}, 1)
        for tree, rs in got.items():
            if not _fails(rs):
                times[tree][n] = rs[-1]["wall"]

        def text(rs):
            r = rs[-1]
            return (f"{_t(r['wall'])} (CPU {_t(r['cpu'])}), {r['rows']:,} seeds; peak RSS {_gb(r['peak_kb'])} "
                    f"(+{_gb(r['peak_kb'] - r['base_kb'])} over the built network)")

        run.row("2. ranking every entity as a seed (systemic_importance)",
                f"synthetic({n:,}, {10 * n:,}), address space capped at {cap_gb:g} GB on both sides",
                _cell(got["before"], text), _cell(got["after"], text),
                _ratio(got, lambda r: r["wall"], lambda r: r["cpu"]))
    import math

    a, b = sizes[0], sizes[1]
    growth = {t: (f"n^{math.log(v[b] / v[a]) / math.log(b / a):.2f}" if a in v and b in v else "-")
              for t, v in times.items()}
    run.row("2. ranking time growth", f"{a:,} -> {b:,} entities", growth["before"], growth["after"], "-")


def bullet_clearing(run: Runner, bench, quick: bool, turns: int, repeat: int, folder: Path) -> None:
    import numpy as np

    S, n, m = (10, 100, 1_000) if quick else (100, 1_000, 10_000)
    n1 = 1_000 if quick else 100_000
    for label, (L, e) in ((f"batched, {S} scenarios x {n:,} entities / {m:,} liabilities",
                           bench.random_liabilities(n, m, seed=1, scenarios=S)),
                          (f"one clearing, {n1:,} entities / {10 * n1:,} liabilities",
                           bench.random_liabilities(n1, 10 * n1, seed=0))):
        path = folder / f"clearing_{len(label)}_{L.shape[0]}.npz"
        np.savez(path, data=L.data, indices=L.indices, indptr=L.indptr, shape=np.array(L.shape), e=e)
        spec = {"inputs": str(path), "reps": repeat}
        got = run.pairs("clearing", spec, turns)
        bare = run.child("bare", "bare_clearing", spec)

        def text(rs):
            w = _med(rs, lambda r: r["wall"])
            ref = f" = {w / bare['wall']:.1f}x the bare scipy fixed point ({_t(bare['wall'])})" if "wall" in bare else ""
            return f"{_t(w)} (CPU {_t(_med(rs, lambda r: r['cpu']))}){ref}; peak RSS {_gb(rs[-1]['peak_kb'])}"

        agree = ""
        if not _fails(got["before"]) and not _fails(got["after"]):
            pb, pa = got["before"][-1]["payments"], got["after"][-1]["payments"]
            agree = f"; total payments agree to {abs(pb - pa) / max(abs(pb), 1.0):.0e} relative"
        run.row("3. Eisenberg-Noe clearing", label, _cell(got["before"], text), _cell(got["after"], text) + agree,
                _ratio(got, lambda r: r["wall"], lambda r: r["cpu"]))


def bullet_montecarlo(run: Runner, quick: bool, turns: int, repeat: int) -> None:
    shipped = {t: str(p / "data" / "crypto-2022-05") for t, p in run.trees.items()}
    small, large = (200, 600) if quick else (10_000, 100_000)
    chunk = min(small, 1000)
    for streaming in (False, True):
        specs = tuple({"folder": shipped[t], "mode": "memory", "runs": [small, large], "chunk": chunk,
                       "streaming": streaming} for t in ("before", "after"))
        got = run.pairs("montecarlo", specs, 1)

        def text(rs):
            p = rs[-1]["peaks"]
            return (f"{(p[1] - p[0]) / (large - small) / 1024:.3f} KB/run (traced peak {p[0] / 2**20:.1f} -> "
                    f"{p[1] / 2**20:.1f} MB)")

        run.row("4. Monte Carlo memory per run", f"{'streamed' if streaming else 'exact'}, each tree's shipped "
                f"crypto-2022-05, {small:,} -> {large:,} runs, one engine thread, chunks of {chunk:,}",
                _cell(got["before"], text), _cell(got["after"], text),
                _ratio(got, lambda r: max(r["peaks"][1] - r["peaks"][0], 1)))
    runs = 600 if quick else 10_000

    def rate(rs):
        w = _med(rs, lambda r: r["wall"])
        return f"{runs / w:,.0f} runs/s ({runs / _med(rs, lambda r: r['cpu']):,.0f} per CPU-second)"

    for label, folders, streaming in (("exact, each tree's shipped crypto-2022-05", shipped, False),
                                      ("exact, both on the old tree's crypto-2022-05 files",
                                       {t: shipped["before"] for t in shipped}, False),
                                      ("streamed, each tree's shipped crypto-2022-05", shipped, True)):
        specs = tuple({"folder": folders[t], "mode": "rate", "runs": [runs], "reps": repeat, "streaming": streaming}
                      for t in ("before", "after"))
        got = run.pairs("montecarlo", specs, turns)
        run.row("4. Monte Carlo throughput in process", f"{runs:,} runs, {label}, default engine threads",
                _cell(got["before"], rate), _cell(got["after"], rate),
                _ratio(got, lambda r: r["wall"], lambda r: r["cpu"]))


def bullet_round(run: Runner, bench, quick: bool, turns: int, repeat: int) -> None:
    import core
    from core.engine import compile_network

    n = 1_000 if quick else 100_000
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    c = compile_network(net)
    floor_bytes = 2 * bench._nbytes(c.L, set()) + 20 * 8 * n  # bench_scale.py's accounting of the floor
    floor = floor_bytes / bench.bandwidth()
    # a round is the difference of two runs' medians: at the quick mode's 1,000 entities a round is ~0.3 ms, so one
    # timed run of each left it to the noise (a negative round under load); 5 cost ~0.1 s
    reps = max(repeat, 5) if quick else repeat
    spec = {"n": n, "reps": reps, **{k: bench.storm(net, h).model_dump(mode="json", exclude_defaults=True)
                                       for k, h in (("long", 20), ("short", 10))}}
    got = run.pairs("round", spec, turns)

    def text(rs):
        w, cpu = _med(rs, lambda r: r["wall"]), _med(rs, lambda r: r["cpu"])
        r = rs[-1]
        same = "" if r["nnz"] == c.L.nnz else f" (its claims matrix has {r['nnz']:,} entries, not {c.L.nnz:,})"
        return (f"{w * 1e3:.2f} ms/round = {w / floor:.1f}x the floor (CPU {cpu * 1e3:.2f} ms = {cpu / floor:.1f}x); "
                f"runs of {r['rounds']['long']} and {r['rounds']['short']} rounds{same}")

    run.row("5. engine round", f"synthetic({n:,}, {10 * n:,}); floor {floor * 1e3:.2f} ms = {floor_bytes / 1e6:.1f} MB "
            f"at the copy bandwidth measured now", _cell(got["before"], text), _cell(got["after"], text),
            _ratio(got, lambda r: r["wall"], lambda r: r["cpu"]))


def bullet_cohorts(run: Runner, bench, quick: bool, folder: Path) -> None:
    import core
    from core.io import write_csv_folder

    rows, n = (5_000, 200) if quick else (1_000_000, 1_000)
    base = core.datasets.synthetic(n, 10 * n, seed=1)
    tagged = bench.with_cohorts(base, rows)
    positions, bucketed = folder / "positions", folder / "bucketed"
    write_csv_folder(core.Network.from_frames(name="positions", **bench._without_bucket(tagged)), positions)
    write_csv_folder(core.Network.from_frames(name="bucketed", **bench.bucketed(tagged)), bucketed)
    known = {t: set(c) - {"__rows__"} for t, c in run.child("before", "synthetic", {"n": 20})["hashes"].items()}
    left_out = [_for_old_tree(f, known) for f in (positions, bucketed)][0]
    spec = {"folder": str(positions), "bucketed": str(bucketed), "reps": 1 if quick else 2,
            "scenario": bench.storm(base).model_dump(mode="json", exclude_defaults=True)}
    old_spec = spec | {"folder": str(positions) + "_old", "bucketed": str(bucketed) + "_old"}
    got = run.pairs("cohorts", (old_spec, spec), 1)

    def validate(rs):
        r = rs[-1]
        return f"{_t(r['validate']['wall'])} (CPU {_t(r['validate']['cpu'])}), {r['rows']:,} rows; peak RSS {_gb(r['peak_kb'])}"

    def cascade(rs):
        r, b = rs[-1], rs[-1]["bucketed"]
        return (f"{_t(r['first'])} first run (compiles), {_t(r['again'])} again; {r['rounds']} rounds, "
                f"{r['defaults']} defaults, loss {r['loss']:.6e}; bucketed: {b['rounds']} rounds, {b['defaults']} "
                f"defaults, loss {b['loss']:.6e} ({abs(r['loss'] - b['loss']) / max(abs(b['loss']), 1.0):.0e} relative)")

    size = (f"{rows:,} cohort rows (synthetic({n:,}, {10 * n:,}) book split into positions), CSV files; the old "
            f"tree's copy without what it cannot read: {left_out}")
    run.row("6. validate a cohorts table", size, _cell(got["before"], validate), _cell(got["after"], validate),
            _ratio(got, lambda r: r["validate"]["wall"], lambda r: r["validate"]["cpu"]))
    run.row("6. 20-round cascade over it", size, _cell(got["before"], cascade), _cell(got["after"], cascade),
            _ratio(got, lambda r: r["first"]))


def _for_old_tree(folder: Path, known: dict[str, set[str]]) -> str:
    """A copy of a CSV folder (``folder`` + ``_old``) with only the tables and columns the old tree reads (it
    rejects an unknown column); the cells are copied as text, unchanged.  Returns what was left out."""
    import pandas as pd

    target = Path(str(folder) + "_old")
    target.mkdir()
    left = []
    for f in sorted(folder.glob("*.csv")):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if f.stem not in known:
            left.append(f"{f.name} ({len(df):,} rows)")
            continue
        drop = [c for c in df.columns if c not in known[f.stem]]
        left += [f"{f.stem}.{c} (values {sorted(set(df[c]))[:3]})" for c in drop]
        df.drop(columns=drop).to_csv(target / f.name, index=False)
    return ", ".join(left) or "nothing"


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def main(argv=None) -> list[tuple[str, str, str, str, str]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="checkout of the tree before the issue's work")
    ap.add_argument("--new", default=str(ROOT), help="checkout of the tree after (default: this one)")
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds per child; no times asserted")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per child (default 3, quick 1)")
    ap.add_argument("--turns", type=int, default=None, help="children per tree, in turns (default 2, quick 1)")
    ap.add_argument("--bullets", default="0,1,2,3,4,5,6",
                    help="comma-separated bullets, run in this order (0: the synthetic check)")
    ap.add_argument("--simulate-sizes", default="1000,10000,100000", help="entities of bullet 1's networks")
    ap.add_argument("--cap-gb", type=float, default=6.0, help="address-space cap of the ranking children")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a child is stopped")
    args = ap.parse_args(argv)
    run = Runner(Path(args.old).resolve(), Path(args.new).resolve(), args.timeout)
    repeat, turns = args.repeat or (1 if args.quick else 3), args.turns or (1 if args.quick else 2)
    bullets = [b.strip() for b in args.bullets.split(",")]
    sizes = tuple(int(x) for x in args.simulate_sizes.split(","))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT))
    import bench_scale as bench

    print(f"scale_before_after ({'quick' if args.quick else 'full'}): before {run.trees['before']}, after "
          f"{run.trees['after']}; {os.cpu_count()} CPUs, {turns} turns per tree, {repeat} timed runs per child; "
          f"load average {_load()} at the start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sections = {
            "0": lambda: check_synthetic(run, (200,) if args.quick else (1_000, 100_000)),
            "1": lambda: bullet_simulate(run, bench, args.quick, turns, repeat, sizes),
            "2": lambda: bullet_rank(run, args.quick, args.cap_gb),
            "3": lambda: bullet_clearing(run, bench, args.quick, turns, repeat, Path(tmp)),
            "4": lambda: bullet_montecarlo(run, args.quick, turns, repeat),
            "5": lambda: bullet_round(run, bench, args.quick, turns, repeat),
            "6": lambda: bullet_cohorts(run, bench, args.quick, Path(tmp)),
        }
        for b in bullets:
            sections[b]()
            print(f"    (load average {_load()} after bullet {b})", flush=True)
    print("\nbullet | size | before | after | before/after, median over the paired turns (above 1: the after "
          "tree faster or smaller)")
    for r in run.rows:
        print(" | ".join(r))
    return run.rows


if __name__ == "__main__":
    main()

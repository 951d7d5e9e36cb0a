"""Monte Carlo tables of fixed seeds, saved for a bit-for-bit comparison of two trees (a performance change
must move nothing).

Run: ``PYTHONPATH=<tree> python benchmarks/mc_tables_check.py OUT.npz`` on each tree, then
``python benchmarks/mc_tables_check.py --compare A.npz B.npz`` (``np.array_equal`` on every array, NaN equal
to NaN; exit status 1 on any difference). Piped into ``head``, it stops printing once the pipe closes and goes on
quietly (the tables are still saved, the comparison's exit status still given).

The cases: the shipped 2022 network's default spec exact and streamed (one engine thread and the default
threads, chunks of 1,000 and the default), a Student-t spec with a stressed base, a daily-path spec over a
three-day horizon, historical replay; and the 2025 and 2020 networks' default spec.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import pandas as pd

CASES = {
    "2022_exact": ("crypto-2022-05", {}, dict(runs=6000, seed=3)),
    "2022_exact_chunk1000_one_thread": ("crypto-2022-05", {}, dict(runs=3000, seed=3, chunk_size=1000), 1),
    "2022_streamed": ("crypto-2022-05", {}, dict(runs=12000, seed=1, streaming=True)),
    "2022_t_stressed": ("crypto-2022-05", {"dist": "t", "df": 3, "vol_multiplier": 3.0,
                                           "base": {"name": "b", "run_intensity": 0.5, "horizon": 8}},
                        dict(runs=3000, seed=11)),
    "2022_daily_path": ("crypto-2022-05", {"horizon_days": 3.0, "path": "daily"}, dict(runs=1000, seed=5)),
    "2022_historical": ("crypto-2022-05", {"source": "historical"}, dict(runs=400, seed=2)),
    "2025_exact": ("crypto-2025-10", {"vol_multiplier": 2.0}, dict(runs=2000, seed=4)),
    "2020_exact": ("crypto-2020-03", {"vol_multiplier": 2.0}, dict(runs=2000, seed=4)),
}


def say(*args: object) -> None:
    """``print``, flushed; once stdout is closed (piped into ``head``), it points at the null device: nothing more is
    printed, and no BrokenPipeError stops the run or is reported when the interpreter flushes at exit."""
    try:
        print(*args, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _arrays(prefix: str, df: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for col in df.columns:
        v = df[col].to_numpy()
        out[f"{prefix}/{col}"] = v.astype(str) if v.dtype == object else v
    return out


def tables() -> dict[str, np.ndarray]:
    import core
    from core import datasets
    from core.chunks import engine_threads
    from core.montecarlo import run_montecarlo

    say("core from", core.__file__)
    out: dict[str, np.ndarray] = {}
    for name, (network, spec, kw, *threads) in CASES.items():
        net = datasets.load(network)
        if threads:
            with engine_threads(threads[0]):
                res = run_montecarlo(net, spec, **kw)
        else:
            res = run_montecarlo(net, spec, **kw)
        for table in ("losses", "risk", "entities", "paths", "convergence"):
            out.update(_arrays(f"{name}/{table}", getattr(res, table)))
        say(f"{name}: mean loss {res.losses['system_loss_usd'].mean() if len(res.losses) else float('nan'):,.2f}")
    return out


def compare(a: str, b: str) -> int:
    A, B = np.load(a, allow_pickle=False), np.load(b, allow_pickle=False)
    bad = sorted(set(A.files) ^ set(B.files))
    for k in sorted(set(A.files) & set(B.files)):
        x, y = A[k], B[k]
        same = x.shape == y.shape and (np.array_equal(x, y, equal_nan=x.dtype.kind == "f") if x.dtype.kind in "fc"
                                       else np.array_equal(x, y))
        if not same:
            bad.append(k)
    say(f"{len(A.files)} arrays; {len(bad)} differ" + (": " + ", ".join(bad[:20]) if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?")
    ap.add_argument("--compare", nargs=2)
    args = ap.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    np.savez(args.out, **tables())

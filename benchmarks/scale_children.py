"""The child side of ``scale_before_after.py``: one measurement, run with ``PYTHONPATH`` set to one tree.

Run by the parent as ``python benchmarks/scale_children.py KIND SPEC_JSON`` with ``PYTHONPATH`` set to the
tree under test, so ``import core`` is that tree's engine; prints one JSON line (times, what was computed,
the peak resident memory ``VmHWM``).  Imports only the standard library at the top, so that it runs on any tree.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_IN_OLD = "not available in the old tree"


def _peak_kb() -> int:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


def _timed(fn) -> tuple[float, float]:
    c, t = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def _medians(pairs: list[tuple[float, float]]) -> dict[str, float]:
    return {"wall": statistics.median(p[0] for p in pairs), "cpu": statistics.median(p[1] for p in pairs)}


def _batch_facts(res) -> dict:
    return {"rounds": int(res.rounds_run[0]), "defaults": int(res.defaulted.sum()), "loss": float(res.total_loss[0])}


def child_simulate(spec: dict) -> dict:
    import core
    from core.engine import compile_network, simulate_batch
    from core.scenario import Scenario

    n = spec["n"]
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    compile_network(net)
    sc = Scenario.model_validate(spec["scenario"])
    base = _peak_kb()
    if spec["warm"]:
        core.simulate(net, sc)
        simulate_batch(net, [sc])
    sim = [_timed(lambda: core.simulate(net, sc)) for _ in range(spec["reps"])]
    eng = [_timed(lambda: simulate_batch(net, [sc])) for _ in range(spec["reps"])]
    return {"simulate": _medians(sim), "engine": _medians(eng), "base_kb": base,
            **_batch_facts(simulate_batch(net, [sc]))}


def child_rank(spec: dict) -> dict:
    import core
    from core.metrics import systemic_importance

    net = core.datasets.synthetic(spec["n"], 10 * spec["n"], seed=1)
    base = _peak_kb()
    c, t = time.process_time(), time.perf_counter()
    table = systemic_importance(net)
    return {"wall": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": len(table), "base_kb": base}


def _load_clearing(path: str):
    import numpy as np
    import scipy.sparse as sp

    d = np.load(path)
    return sp.csr_array((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"])), d["e"]


def child_clearing(spec: dict) -> dict:
    from core.mechanisms.clearing import eisenberg_noe

    L, e = _load_clearing(spec["inputs"])
    pay = eisenberg_noe(L, e).network_payments
    times = [_timed(lambda: eisenberg_noe(L, e)) for _ in range(spec["reps"])]
    return {**_medians(times), "payments": float(pay.sum())}


def child_bare_clearing(spec: dict) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_scale import bare_clearing  # the reference of bench_scale.py, plain scipy (no tree's code)

    L, e = _load_clearing(spec["inputs"])
    pay = bare_clearing(L, e)
    times = [_timed(lambda: bare_clearing(L, e)) for _ in range(spec["reps"])]
    return {**_medians(times), "payments": float(np.sum(pay))}


def child_montecarlo(spec: dict) -> dict:
    import inspect
    import tracemalloc

    from core.chunks import engine_threads
    from core.io import load_network
    from core.montecarlo import run_montecarlo

    if spec["streaming"] and "streaming" not in inspect.signature(run_montecarlo).parameters:
        return {"error": NOT_IN_OLD + " (its run_montecarlo has no streaming parameter)"}
    net = load_network(spec["folder"])
    extra = {"streaming": True} if spec["streaming"] else {}
    run_montecarlo(net, {}, runs=200, seed=0, **extra)  # warm-up
    if spec["mode"] == "memory":  # traced peak at two run counts, one engine thread, the same chunk
        peaks = []
        for runs in spec["runs"]:
            tracemalloc.start()
            with engine_threads(1):
                run_montecarlo(net, {}, runs=runs, seed=1, chunk_size=spec["chunk"], **extra)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        return {"peaks": peaks, "runs": spec["runs"]}
    runs = spec["runs"][0]
    times = [_timed(lambda: run_montecarlo(net, {}, runs=runs, seed=1, **extra)) for _ in range(spec["reps"])]
    return _medians(times)


def child_round(spec: dict) -> dict:
    import core
    from core.engine import compile_network, simulate_batch
    from core.scenario import Scenario

    n = spec["n"]
    net = core.datasets.synthetic(n, 10 * n, seed=1)
    c = compile_network(net)
    long, short = (Scenario.model_validate(spec[k]) for k in ("long", "short"))
    rounds = {k: int(simulate_batch(net, [sc]).rounds_run[0]) for k, sc in (("long", long), ("short", short))}
    t = {"long": [], "short": []}
    for _ in range(spec["reps"]):
        t["long"].append(_timed(lambda: simulate_batch(net, [long])))
        t["short"].append(_timed(lambda: simulate_batch(net, [short])))
    extra = max(rounds["long"] - rounds["short"], 1)
    per = {k: (statistics.median(x[i] for x in t["long"]) - statistics.median(x[i] for x in t["short"])) / extra
           for i, k in ((0, "wall"), (1, "cpu"))}
    return {**per, "rounds": rounds, "nnz": int(c.L.nnz)}


def child_cohorts(spec: dict) -> dict:
    from core.engine import simulate_batch
    from core.io import read_csv_folder
    from core.scenario import Scenario

    sc = Scenario.model_validate(spec["scenario"])
    loaded = []
    validate = _medians([_timed(lambda: loaded.append(read_csv_folder(spec["folder"]))) for _ in range(spec["reps"])])
    net = loaded[-1]
    out: list = []
    first = _timed(lambda: out.append(simulate_batch(net, [sc])))
    again = _timed(lambda: simulate_batch(net, [sc]))
    bucketed = simulate_batch(read_csv_folder(spec["bucketed"]), [sc])
    return {"validate": validate, "first": first[0], "again": again[0], "rows": len(net.cohorts),
            **_batch_facts(out[0]), "bucketed": _batch_facts(bucketed)}


CHILDREN = {"simulate": child_simulate, "rank": child_rank, "clearing": child_clearing,
            "bare_clearing": child_bare_clearing, "montecarlo": child_montecarlo, "round": child_round,
            "cohorts": child_cohorts}


def child_main(kind: str, spec: dict) -> None:
    if spec.get("cap_gb"):
        cap = int(spec["cap_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    out: dict
    try:
        out = CHILDREN[kind](spec)
    except MemoryError as exc:
        out = {"error": f"MemoryError {str(exc)[:160]}".strip()}
    if kind != "bare_clearing":
        import core

        out["core"] = str(Path(core.__file__).resolve().parent.parent)
    out["peak_kb"] = _peak_kb()
    print(json.dumps(out), flush=True)



def child_synthetic(spec: dict) -> dict:
    import core
    import pandas as pd

    frames = core.datasets.synthetic(spec["n"], 10 * spec["n"], seed=1).frames()
    return {"hashes": {t: {"__rows__": len(df), **{c: int(pd.util.hash_pandas_object(df[c], index=False).sum())
                                                   for c in df.columns}} for t, df in frames.items()}}


CHILDREN["synthetic"] = child_synthetic


if __name__ == "__main__":
    child_main(sys.argv[1], json.loads(sys.argv[2]))

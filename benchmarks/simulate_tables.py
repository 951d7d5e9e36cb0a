"""Every table of ``core.simulate`` on a fixed set of runs, to compare two versions of the report bit for bit.

``python benchmarks/simulate_tables.py OUT.json`` runs, with whatever ``core`` is first on ``PYTHONPATH``:
every shipped preset on its network, and storms (forced defaults of a thousandth of the entities, ETH -30%,
BTC -20%, runs at half intensity, 20 rounds: ``bench_scale.py``'s) and a price shock on ``synthetic(1000)``
and ``synthetic(10000)`` (``--large`` adds ``synthetic(100000)``), each run twice and the second kept; it writes a JSON of each result's tables
(``rounds``, ``prices``, ``totals``, ``nodes``, ``paths``, ``summary``, ``perps``) as SHA-256 digests of every
column's dtype and exact contents (floats bit for bit: ``-0.0`` against ``0.0`` and NaN payloads too), of the
column order and of the index, with its ``scenario`` and ``meta``. ``python benchmarks/simulate_tables.py
--compare A.json B.json`` lists each run, table and column that differs (exit 1 if anything does). Plain JSON,
no pickle: the files can come from anywhere::

    git archive main | tar -x -C OLD_TREE
    PYTHONPATH=OLD_TREE python benchmarks/simulate_tables.py old.json
    PYTHONPATH=. python benchmarks/simulate_tables.py new.json
    python benchmarks/simulate_tables.py --compare old.json new.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np


ROOT = Path(__file__).resolve().parent.parent
TABLES = ("rounds", "prices", "totals", "nodes", "paths", "summary", "perps")


def _storm(net, horizon: int = 20):
    from core.scenario import Scenario

    seeds = list(net.entities["id"][: max(1, net.n_entities // 1000)])
    return Scenario(forced_defaults=seeds, price_shocks={"ETH": -0.3, "BTC": -0.2}, run_intensity=0.5, horizon=horizon)


def runs(large: bool = False):
    """(name, network, scenario) of every run compared."""
    import core
    from core.presets import network_of, presets
    from core.scenario import Scenario

    for p in presets():
        yield f"preset/{p.key}", network_of(p.scenario), p.scenario
    for n in (1_000, 10_000) + ((100_000,) if large else ()):
        net = core.datasets.synthetic(n, 10 * n, seed=1)
        yield f"synthetic({n})/storm", net, _storm(net)
        yield f"synthetic({n})/eth-60", net, Scenario(price_shocks={"ETH": -0.6, "BTC": -0.4}, oracle_lag=1)


def _digest(values) -> str:
    """SHA-256 of a column's dtype and exact contents: a float's bytes (``-0.0``, NaN payloads included), a
    string or object column's ``repr`` of each value."""
    arr = np.asarray(values)
    h = hashlib.sha256(str(getattr(values, "dtype", arr.dtype)).encode())
    if arr.dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(arr).tobytes())
    else:
        h.update("\x1f".join(map(repr, arr.tolist())).encode())
    return h.hexdigest()


def fingerprint(df) -> dict[str, str]:
    """Each column's digest, the column order's and the index's (its levels as columns, or its ``repr``)."""
    out = {"columns": _digest(np.array([repr(c) for c in df.columns]))}
    index = df.index
    out["index"] = (_digest(np.array([repr(index)])) if type(index).__name__ == "RangeIndex"
                    else "|".join(_digest(index.get_level_values(i)) for i in range(index.nlevels)))
    out.update({f"column {c!r}": _digest(df[c]) for c in df.columns})
    return out


def record(path: str, large: bool = False) -> None:
    import core

    out = {}
    for name, net, sc in runs(large):
        core.simulate(net, sc)  # dropped: the run kept writes into the maps it leaves (core.pages), where they are used
        res = core.simulate(net, sc)
        out[name] = {t: fingerprint(getattr(res, t)) for t in TABLES}
        out[name]["scenario+meta"] = {"json": json.dumps([res.scenario, res.meta], sort_keys=True, default=repr)}
        print(f"{name}: {len(res.rounds):,} rounds rows, {len(res.paths):,} paths", flush=True)
    Path(path).write_text(json.dumps(out, indent=1, sort_keys=True))


def compare(a_path: str, b_path: str) -> int:
    a, b = json.loads(Path(a_path).read_text()), json.loads(Path(b_path).read_text())
    bad = 0
    if a.keys() != b.keys():
        print(f"runs differ: {sorted(a.keys() ^ b.keys())}")
        bad += 1
    for name in sorted(a.keys() & b.keys()):
        for part in sorted(a[name].keys() | b[name].keys()):
            x, y = a[name].get(part, {}), b[name].get(part, {})
            for key in sorted(x.keys() | y.keys()):
                if x.get(key) != y.get(key):
                    bad += 1
                    print(f"{name} {part}: {key} differs")
    print(f"{len(a)} runs x {len(TABLES)} tables: {'identical' if not bad else f'{bad} differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--compare"] and len(args) == 3:
        sys.exit(compare(args[1], args[2]))
    if len(args) in (1, 2) and not args[0].startswith("--"):
        record(args[0], large="--large" in args[1:])
        sys.exit(0)
    sys.exit(__doc__)

"""Every table of ``core.simulate`` on a fixed set of runs, to compare two versions of the report bit for bit.

``python benchmarks/simulate_tables.py OUT.pkl`` runs, with whatever ``core`` is first on ``PYTHONPATH``:
every shipped preset on its network, and storms (forced defaults of a thousandth of the entities, ETH -30%,
BTC -20%, runs at half intensity, 20 rounds: ``bench_scale.py``'s) and a price shock on ``synthetic(1000)``
and ``synthetic(10000)`` (``--large`` adds ``synthetic(100000)``), each run twice and the second kept; it pickles each result's tables
(``rounds``, ``prices``, ``totals``, ``nodes``, ``paths``, ``summary``, ``perps``) and its ``scenario`` and
``meta``. ``python benchmarks/simulate_tables.py --compare A.pkl B.pkl`` checks each table with
``pandas.testing.assert_frame_equal(check_exact=True)`` (values, dtypes, index, column order), and
the two tables' float columns bit for bit (``-0.0`` against ``0.0`` and NaN payloads too), and lists
what differs (exit 1 if anything does)::

    git archive main | tar -x -C OLD_TREE
    PYTHONPATH=OLD_TREE python benchmarks/simulate_tables.py old.pkl
    PYTHONPATH=. python benchmarks/simulate_tables.py new.pkl
    python benchmarks/simulate_tables.py --compare old.pkl new.pkl
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


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


def record(path: str, large: bool = False) -> None:
    import core

    out = {}
    for name, net, sc in runs(large):
        core.simulate(net, sc)  # dropped: the run kept writes into the maps it leaves (core.pages), where they are used
        res = core.simulate(net, sc)
        out[name] = {t: getattr(res, t) for t in TABLES} | {"scenario": res.scenario, "meta": res.meta}
        print(f"{name}: {len(res.rounds):,} rounds rows, {len(res.paths):,} paths", flush=True)
    with open(path, "wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)


def _bits_differ(a, b) -> list[str]:
    """Float columns whose bits differ though ``assert_frame_equal`` passed (signed zeros, NaN payloads)."""
    out = []
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f" and y.dtype == x.dtype and x.tobytes() != y.tobytes():
            out.append(str(col))
    return out


def compare(a_path: str, b_path: str) -> int:
    import pandas as pd

    with open(a_path, "rb") as f:
        a = pickle.load(f)
    with open(b_path, "rb") as f:
        b = pickle.load(f)
    bad = 0
    if a.keys() != b.keys():
        print(f"runs differ: {sorted(a.keys() ^ b.keys())}")
        bad += 1
    for name in sorted(a.keys() & b.keys()):
        for t in TABLES:
            try:
                pd.testing.assert_frame_equal(a[name][t], b[name][t], check_exact=True)
                cols = _bits_differ(a[name][t], b[name][t])
                if cols:
                    raise AssertionError(f"bits differ in {cols}")
            except AssertionError as e:
                bad += 1
                print(f"{name} {t}: {str(e).splitlines()[0]}")
        for k in ("scenario", "meta"):
            if a[name][k] != b[name][k]:
                bad += 1
                print(f"{name} {k} differs")
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

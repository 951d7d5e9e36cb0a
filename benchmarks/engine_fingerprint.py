"""Every number the engine returns on a fixed set of runs, to compare two versions of the engine bit for bit.

``python benchmarks/engine_fingerprint.py OUT.npz`` runs, with whatever ``core``
is first on ``PYTHONPATH``: the five presets recorded (every history array),
a batch of presets and random shocks (final state), batches with the
liquidators' capital scarce on every snapshot, a ranking batch of every
shipped entity as a seed, and a batch on a synthetic network in chunks.
``python benchmarks/engine_fingerprint.py --compare A.npz B.npz`` lists the
arrays that differ (exit 1 if any), so a refactor that must not change a
result can be checked against the engine it replaces::

    git archive afafd7b | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python benchmarks/engine_fingerprint.py old.npz
    PYTHONPATH=. python benchmarks/engine_fingerprint.py new.npz
    python benchmarks/engine_fingerprint.py --compare old.npz new.npz

The fields recorded of each batch are :data:`_FIELDS` and every history array. ``bad_debt_reference_usd`` (bad
debt at reference prices, the measure the monotone invariant and the ledger read) was added in session 42; a
fingerprint recorded before then lacks it, and ``--compare`` lists each such array as ``only in NEW.npz: …``
(not as a difference of values) and exits 1. Its last line counts the arrays that differ, those on one side
only and the common arrays that are identical, so a compare against an older fingerprint reads "0 differ, N only
in one, M identical" when the engine's common arrays agree bit for bit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_FIELDS = ("equity", "loss", "loss_by_channel", "defaulted", "default_round", "bad_debt", "bad_debt_reference_usd",
           "insurance_draw", "outside_loss", "liquidated_usd", "total_loss", "prices", "rounds_run", "writedowns",
           "shortfall")


def _put(out: dict, tag: str, br) -> None:
    for f in _FIELDS:
        out[f"{tag}/{f}"] = np.asarray(getattr(br, f))
    for k, v in br.history.items():
        out[f"{tag}/history/{k}"] = np.asarray(v)


def record(path: str) -> None:
    import core
    from core.engine import run_batch, scenario_batch, simulate_batch
    from core.scenario import Scenario

    net = core.datasets.load("crypto-2022-05")
    every = [core.load_scenario(p) for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json"))]
    snapshot = [getattr(sc, "snapshot", None) for sc in every]  # the reference engine's presets name none
    presets = [sc for sc, snap in zip(every, snapshot) if snap in (None, "crypto-2022-05")]
    out: dict[str, np.ndarray] = {}
    for i, sc in enumerate(presets):
        _put(out, f"preset{i}", simulate_batch(net, [sc], record=True))
    for sc, snap in zip(every, snapshot):  # presets of the other snapshots, each on its own network
        if snap not in (None, "crypto-2022-05"):
            _put(out, f"preset-{sc.name}", simulate_batch(core.datasets.load(snap), [sc], record=True))
    rng = np.random.default_rng(11)
    syms = list(net.assets["symbol"])
    ids = list(net.entities["id"])
    scs = list(presets)
    for j in range(40):
        shocks = {str(a): float(-rng.uniform(0.0, 0.9)) for a in rng.choice(syms, size=rng.integers(1, 4), replace=False)}
        scs.append(Scenario(price_shocks=shocks, run_intensity=float(rng.uniform(0, 1)), oracle_lag=int(rng.integers(0, 3)),
                            liquidity=float(rng.uniform(0.3, 1.5)),
                            forced_defaults=[str(e) for e in rng.choice(ids, size=int(rng.integers(0, 2)), replace=False)]))
    _put(out, "mixed", simulate_batch(net, scs))
    _put(out, "seeds", simulate_batch(net, [Scenario(forced_defaults=[e], price_shocks={"ETH": -0.2}, run_intensity=0.5)
                                              for e in ids]))
    # liquidators' capital scarce (core.engine.capital's search), with lagging oracles, on every snapshot
    nets = {"": net} | {f"-{snap}": core.datasets.load(snap) for snap in sorted({s_ for s_ in snapshot if s_ not in (None, "crypto-2022-05")})}
    for tag, network in nets.items():
        asyms, aids = list(network.assets["symbol"]), list(network.entities["id"])
        tight = []
        for j in range(24):
            shocks = {str(a): float(-rng.uniform(0.05, 0.7)) for a in rng.choice(asyms, size=rng.integers(1, 4), replace=False)}
            tight.append(Scenario(price_shocks=shocks, run_intensity=float(rng.uniform(0, 1)), oracle_lag=int(rng.integers(0, 3)),
                                  liquidity=float(rng.uniform(0.1, 1.5)), liquidator_capacity_usd=float(10 ** rng.uniform(6, 9.5)),
                                  forced_defaults=[str(e) for e in rng.choice(aids, size=int(rng.integers(0, 2)), replace=False)]))
        _put(out, f"capacity{tag}", simulate_batch(network, tight))
        _put(out, f"capacity-one{tag}", simulate_batch(network, tight[:1], record=True))
    small = core.datasets.synthetic(300, 1500, seed=3)
    b = scenario_batch(small, [Scenario(forced_defaults=[e], price_shocks={"ETH": -0.3, "BTC": -0.1}, run_intensity=0.7,
                                        oracle_lag=1) for e in small.entities["id"]])
    _put(out, "synthetic", run_batch(small, b, workers=2))
    np.savez_compressed(path, **out)


def compare(a: str, b: str) -> int:
    """Print the arrays that differ, then those recorded on one side only, then the count; 1 if any of either."""
    A, B = np.load(a), np.load(b)
    one_side = [f"only in {name}: {k}" for name, here, there in ((a, A, B), (b, B, A))
                for k in sorted(set(here.files) - set(there.files))]
    common = sorted(set(A.files) & set(B.files))
    bad = []
    for k in common:
        x, y = A[k], B[k]
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            diff = "shape" if x.shape != y.shape else f"max |diff| {np.nanmax(np.abs(x.astype(float) - y.astype(float))):.3g}"
            bad.append(f"{k}: {diff}")
    if not bad and not one_side:
        print(f"identical: {len(A.files)} arrays")
        return 0
    print("\n".join(bad + one_side))
    print(f"{len(bad)} differ, {len(one_side)} only in one, {len(common) - len(bad)} identical")
    return 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", help="write the fingerprint of the engine on PYTHONPATH to this .npz")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="list the arrays that differ (exit 1 if any)")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    if not args.out:
        parser.error("give OUT.npz or --compare A.npz B.npz")
    record(args.out)

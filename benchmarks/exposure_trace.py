"""An entity's net exposure to coins, round by round, at each depth of a kept counterexample.

For a ``monotone.*`` entry of ``tests/regressions/invariant_counterexamples.json`` this runs each depth and the same
depth a hair deeper (``--eps``, added to every moved asset's depth) round by round, and prints for the entity, after
each round: its equity, whether it has defaulted, its in-kind index, the share of its in-kind claims left, its other
assets and illiquid book, its fire-sale losses, and for each coin the units it holds (tokens, plus collateral less
debt of its named protocol positions in that coin) against the units it owes in kind
(:func:`core.engine.books.owed_in_kind_units`), and the ratio of its equity's change to the coin's price change
between the run and its ``--eps`` deeper twin (``dE / dP``: a total derivative, which mixes in every other price the
extra depth moves; where the coin's price did not move, the change of equity alone).

Net exposure = held - owed: negative, the entity is short the coin and gains when it falls (the no-value-created
invariant's exception); positive, long. A deeper fall that raises the equity of an entity long every moved coin is
created somewhere in the round: that is what this trace is for (session 13: the Celsius knife edges, short CEL
after their run paid the runners the CEL owed to those who stayed).

Run: ``python benchmarks/exposure_trace.py ENTRY_ID [--entity CELSIUS] [--coins CEL,WBTC] [--rounds 6] [--eps 1e-7]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.engine.batch import build_batch  # noqa: E402
from core.engine.books import owed_in_kind_units  # noqa: E402
from core.engine.compiled import compile_network  # noqa: E402
from core.engine.rounds import run_round  # noqa: E402
from core.engine.state import initial_state  # noqa: E402
from core.scenario import Scenario  # noqa: E402
from depth_points import at_point, depth_points, describe  # noqa: E402
from invariants_support import load_regressions, network  # noqa: E402


def held_units(c, s, entity: int, coin: int) -> np.ndarray:
    """Units of ``coin`` the entity holds, (S,): tokens, plus collateral less debt of its named protocol positions."""
    units = s.H[:, entity, coin].copy()
    mine = np.flatnonzero(c.c_borrower == entity)
    for q in mine[c.c_ca[mine] == coin]:
        units += s.coll[:, q]
    for q in mine[c.c_da[mine] == coin]:
        units -= s.debt[:, q]
    return units


def trace(entry_id: str, entity_id: str, coins: list[str], rounds: int, eps: float) -> None:
    case = next(e for e in load_regressions() if e["id"] == entry_id)
    net = network(case["network"])
    c = compile_network(net)
    points = []
    for p in depth_points(tuple(case["assets"]), case["depths"]):
        points += [p, {a: d + eps for a, d in p.items()}]
    base = Scenario.model_validate(case["scenario"])
    b = build_batch(c, [at_point(base, p, case["mode"]) for p in points], net, True)
    s = initial_state(c, b)
    i = list(c.ids).index(entity_id)
    col = {a: list(c.symbols).index(a) for a in coins}
    sink = c.sink_debtor == i
    claims0 = c.ik_amount[c.ik_sink][sink].sum()
    for r in range(min(rounds, b.horizon)):
        run_round(c, s, b, r)
        assert s.equity is not None
        owed = owed_in_kind_units(c, s.ik_left, np.array([i]))[:, 0]  # (S, k)
        left = s.ik_left[:, c.ik_sink][:, sink].sum(1) / claims0 if claims0 else np.ones(s.S)
        print(f"-- round {r}")
        for j, p in enumerate(points):
            if j % 2:
                continue
            line = (f"  {describe(p):>28s}  E {s.equity[j, i] / 1e6:11.3f}M  default {int(s.defaulted[j, i])}  "
                    f"lam {s.lam[j, i]:.6f}  claims left {left[j]:.4f}  oa {s.oa[j, i] / 1e6:9.2f}M  "
                    f"illiquid {s.illiquid[j, i] / 1e6:9.2f}M  fire-sale loss {s.run_loss[j, i] / 1e6:8.2f}M")
            dE = s.equity[j + 1, i] - s.equity[j, i]
            for a, k in col.items():
                held = held_units(c, s, i, k)
                dP = s.P[j + 1, k] - s.P[j, k]
                slope = f"dE/dP {dE / dP:+.4g}" if dP else f"dE {dE:+.4g} (price unmoved)"
                line += (f"\n      {a}: P {s.P[j, k]:.6g}  held {held[j] / 1e6:.4f}M  owed in kind {owed[j, k] / 1e6:.4f}M  "
                         f"net {(held[j] - owed[j, k]) / 1e6:+.4f}M  {slope}")
            print(line)
        if s.settled.all():
            break


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("entry", help="a monotone.* entry id of the counterexample table")
    ap.add_argument("--entity", default="CELSIUS")
    ap.add_argument("--coins", default="CEL", help="comma-separated symbols")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--eps", type=float, default=1e-7, help="extra depth of the finite difference")
    args = ap.parse_args(argv)
    trace(args.entry, args.entity, args.coins.split(","), args.rounds, args.eps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

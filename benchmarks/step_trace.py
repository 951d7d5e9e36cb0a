"""A kept monotone pair run at both depths side by side, step by step: where do the two runs part?

(A ``value.*`` entry, one scenario of falls, runs beside the same scenario without its price shocks, depegs and
forced defaults: ``without its falls / the scenario``.)

For a ``monotone.*`` entry of ``tests/regressions/invariant_counterexamples.json`` this runs the entry's two depths
as one batch (as ``monotone_violation`` does) through :data:`core.engine.rounds.STEPS`, one step at a time, and after
each step prints what changed in what you watch, ``shallower / deeper``:

* ``--assets``: the price of each asset, where the step moved it;
* ``--entity``: the entity's flows (its other assets plus its holdings' change at the prices before the step) and,
  after the clearing, its equity;
* ``--cohorts``: each cohort whose id contains the substring, where the step moved its collateral, debt or booked bad
  debt (units; ``repaid`` is the debt's fall less the bad debt booked).

Both rows run every round asked (``--rounds``), also after one has settled; the engine takes a row's result the
round it settles (:func:`core.engine.staged.advance`), so a trace beyond that round shows what the engine no longer
reads. Session 21 traced its four pairs with it (docs/invariants.md).

Run: ``python benchmarks/step_trace.py ENTRY_ID [--horizon 365] [--rounds 12] [--assets UST,LUNA]
[--entity ANCHOR_DEPOSITORS] [--cohorts COMP-ETH-DAI] [--steps liquidate,redeem_algorithmic]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.engine.batch import build_batch  # noqa: E402
from core.engine.compiled import compile_network  # noqa: E402
from core.engine.rounds import STEPS  # noqa: E402
from core.engine.state import initial_state  # noqa: E402
from core.mechanisms._checks import trusted  # noqa: E402
from core.scenario import Scenario  # noqa: E402
from depth_points import at_point, depth_points, describe  # noqa: E402
from invariants_support import load_regressions, network  # noqa: E402


def pair(a: np.ndarray, fmt: str = "{:.6g}") -> str:
    return f"{fmt.format(a[0])}/{fmt.format(a[1])}"


def trace(entry_id: str, horizon: int | None, rounds: int, assets: list[str], entity: str | None,
          cohorts: str | None, steps: list[str] | None) -> list[str]:
    """The trace's lines (see the module docstring)."""
    case = next((e for e in load_regressions() if e["id"] == entry_id), None)
    if case is None or not case["invariant"].startswith(("monotone", "value")):
        raise KeyError(f"{entry_id!r}: no monotone or value entry of that id in tests/regressions/invariant_counterexamples.json")
    doc = dict(case["scenario"]) | ({"horizon": horizon} if horizon else {})
    if case["invariant"].startswith("value"):  # one scenario: beside it the same one without its falls
        calm = {k: v for k, v in doc.items() if k not in ("price_shocks", "depegs", "forced_defaults")}
        scs, title = [Scenario.model_validate(calm), Scenario.model_validate(doc)], "without its falls / the scenario"
    else:
        points = depth_points(tuple(case["assets"]), case["depths"])
        if len(points) != 2:
            raise ValueError(f"{entry_id}: expected a pair of depths, found {len(points)} points")
        scs = [at_point(Scenario.model_validate(doc), p, case["mode"]) for p in points]
        title = f"{describe(points[0])} / {describe(points[1])}"
    net = network(case["network"])
    c = compile_network(net)
    b = build_batch(c, scs, net, True)
    s = initial_state(c, b)
    symbols, ids, cohort_ids = list(c.symbols), list(c.ids), list(net.cohorts["id"])
    ks = [symbols.index(a) for a in assets]
    e = ids.index(entity) if entity else None
    qs = [q for q, name in enumerate(cohort_ids) if cohorts and cohorts in name]
    out = [f"{entry_id}: {title}"]
    with trusted():
        for r in range(min(rounds, b.horizon)):
            for step in STEPS:
                P, oa, coll, debt, bad = s.P.copy(), s.oa.copy(), s.coll.copy(), s.debt.copy(), s.bad_units.copy()
                held = s.H[:, e, :].copy() if e is not None else None
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if steps and step.__name__ not in steps:
                    continue
                lines = [f"  {symbols[k]} {pair(s.P[:, k])}" for k in ks if (s.P[:, k] != P[:, k]).any()]
                if e is not None and held is not None:
                    flow = ((s.H[:, e, :] - held) * P).sum(1) + (s.oa[:, e] - oa[:, e])
                    if np.abs(flow).max() > 0:
                        lines.append(f"  {entity} flow {pair(flow / 1e6, '{:.4f}')}M")
                    if step.__name__ == "mark_and_clear" and s.equity is not None:
                        lines.append(f"  {entity} equity {pair(s.equity[:, e] / 1e6, '{:.4f}')}M")
                for q in qs:
                    d_coll, d_debt, d_bad = s.coll[:, q] - coll[:, q], s.debt[:, q] - debt[:, q], s.bad_units[:, q] - bad[:, q]
                    if np.abs(d_coll).max() > 0 or np.abs(d_debt).max() > 0 or np.abs(d_bad).max() > 0:
                        lines.append(f"  {cohort_ids[q]}: coll {pair(d_coll)} repaid {pair(-d_debt - d_bad)} "
                                     f"bad {pair(d_bad)} -> coll {pair(s.coll[:, q])} debt {pair(s.debt[:, q])}")
                if lines:
                    out.append(f"round {r} {step.__name__}")
                    out += lines
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("entry", help="a monotone.* or value.* entry id of the counterexample table")
    ap.add_argument("--horizon", type=int, default=None, help="the scenario's horizon (default: the entry's)")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--assets", default="", help="comma-separated symbols")
    ap.add_argument("--entity", default=None)
    ap.add_argument("--cohorts", default=None, help="a substring of the cohorts' ids")
    ap.add_argument("--steps", default="", help="comma-separated step names to print (default: every step)")
    args = ap.parse_args(argv)
    lines = trace(args.entry, args.horizon, args.rounds, [a for a in args.assets.split(",") if a], args.entity,
                  args.cohorts, [t for t in args.steps.split(",") if t] or None)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Search for the largest violation of invariant 2 (no value created in falls) within a time budget.

Issue 11's invariant 2: in a scenario with only falls (price falls, depegs, forced defaults), no entity ends with
more equity than it started, except a debtor whose debt is denominated in a token that fell, by at most what that
fall explains; and the system's value change (equity changes under limited liability less what outside creditors,
insurance funds, governance-token holders, pooled collateral's owners and outside borrowers paid) is never positive.
Both are measured exactly as the property tests measure them (``tests/invariants_support.py``:
:func:`value_of_falls`, whose allowance is :func:`allowed_gain`: a named borrower's debt token's fall, in-kind
claims following the assets held for them, named perpetual shorts, vaults' and venues' left-over margins, protocols'
penalty income, and a price a named short's forced buy-back lifted, as far as the engine's impact of the purchases
the run recorded explains it (decision 13: ``tests/forced_purchase.py``), so a debtor's real gain from its debt
token's fall and a holder's from a short squeeze are exceptions, not violations; a rise anything else explains is.

The scenarios come from ``benchmarks/monotone_search.py``'s generator (``_draw``: a group of assets shocked, runs,
oracle lag, liquidity, liquidator capacity, a forced default, a depeg, what entities owe or are short moved in the
base), both of a drawn pair's depths taken as scenarios of falls (every draw there is a fall: no rises), with a
second forced default and up to two more depegs drawn here, since a depeg is where a peg defence can create value.
The search targets the size: each batch also carries mutants of the worst scenario of each measure found so far
(each fall, depeg and the liquidity scaled by a random factor, capacity and lag redrawn now and then) and keeps a
mutant that is worse (a hill climb on the violation's size, as the monotone search halves the gap of its worst pair).

Run: ``python benchmarks/value_search.py [--seconds 600] [--network default|NAME|synthetic:N] [--seed S]
[--emit-json out.json]``. It keeps the scenarios by class, a likely mechanism: the measure (``value.usd``: the sum of the
entities' unexplained gains of a scenario; ``value.system``: the system's value change), the assets that end above
their reference price (an endogenous rise in a scenario of falls: a short's forced buy-back, a coin's premium) and the
entity with the largest unexplained gain. It prints the worst scenario of each class, worst first, with the entities
that gain; ``--emit-json`` writes them as entries of ``tests/regressions/invariant_counterexamples.json`` (``id``
and ``cause`` to be written once traced; ``measured.rose`` to be dropped).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from monotone_search import _draw, _scenarios, monotone_assets, network_key  # noqa: E402

from core.scenario import Scenario  # noqa: E402
from invariants_support import network, scenario_doc, tables, value_created_violation, value_of_falls  # noqa: E402

MEASURES = ("usd", "system")


def falls(rng: np.random.Generator, syms: list[str], fixed: list[str], ids: list[str], pegged: list[str]) -> list[dict]:
    """Two scenarios of falls from one draw of the monotone search's generator (its pair's two depths), with a
    second forced default and more depegs drawn here (each as a document of :class:`Scenario`'s fields)."""
    base, shallow, deep = _draw(rng, syms, ids, pegged, fixed)
    if rng.random() < 0.2:
        base["forced_defaults"] = sorted(set(base.get("forced_defaults", [])) | {str(rng.choice(ids))})
    if pegged and rng.random() < 0.4:
        for a in rng.choice(pegged, size=int(rng.integers(1, min(2, len(pegged)) + 1)), replace=False):
            if str(a) not in shallow:
                base.setdefault("depegs", {})[str(a)] = float(rng.uniform(0.01, 0.6))
    return [scenario_doc(sc) for sc in _scenarios(base, shallow, deep)]


def mutant(rng: np.random.Generator, doc: dict) -> dict:
    """A scenario near ``doc``: each fall and depeg scaled by a random factor (kept falls), the liquidity too, the
    capacity and the oracle lag redrawn one time in five."""
    out = json.loads(json.dumps(doc))
    scale = float(rng.choice([0.05, 0.2]))
    if "price_shocks" in out:
        out["price_shocks"] = {a: float(np.clip(v * np.exp(rng.normal(0, scale)), -0.999, 0.0))
                               for a, v in out["price_shocks"].items()}
    if "depegs" in out:
        out["depegs"] = {a: float(np.clip(v * np.exp(rng.normal(0, scale)), 0.0, 0.999)) for a, v in out["depegs"].items()}
    out["liquidity"] = float(np.clip(out.get("liquidity", 1.0) * np.exp(rng.normal(0, scale)), 0.05, 3.0))
    if rng.random() < 0.2:
        out["liquidator_capacity_usd"] = [None, 5e7, 5e8][int(rng.integers(0, 3))]
    if rng.random() < 0.2:
        out["oracle_lag"] = int(rng.integers(0, 4))
    return scenario_doc(Scenario.model_validate(out))


def measure(key: str, docs: list[dict]) -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]], list[str]]:
    """Of each scenario, as the tests measure: the sum of the unexplained gains (S,), the system's value change (S,),
    the assets that end above their reference price (an endogenous rise: a short's buy-back, a coin's premium) and
    the entity with the largest unexplained gain ('' where none)."""
    t = tables(key)
    br, _, excess, change, _ = value_of_falls(key, [Scenario.model_validate(d) for d in docs])
    up = br.prices > t.P0[None] * (1 + 1e-9)
    rose = [tuple(np.asarray(t.symbols)[row]) for row in up]
    lead = [t.entity_ids[int(np.argmax(row))] if row.max() > 0 else "" for row in excess]
    return excess.sum(1), change, rose, lead


def search(key: str, seconds: float, seed: int = 0, batch: int = 32, mutants: int = 6) -> dict[tuple, list]:
    """The kept scenarios by class, worst first: ``{(measure, assets that rose, leading gainer): [(size, doc), ...]}``.

    A class is a likely mechanism: the search keeps the 5 worst of each, and climbs from the worst of each measure,
    from the worst where no price rose (so that a family that lifts a price, a short squeeze, does not hide the
    others) and from the worst of one class drawn at random."""
    rng = np.random.default_rng(seed)
    net = network(key)
    pure, owed = monotone_assets(key)
    ids, pegged = list(net.entities["id"]), sorted(net.names["pegged"])
    kept: dict[tuple, list] = {}
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        docs = [d for _ in range(batch // 2) for d in falls(rng, pure, owed, ids, pegged)]
        seeds = [max((v[0] for k, v in kept.items() if k[0] == m), default=None, key=lambda x: x[0]) for m in MEASURES]
        seeds.append(max((v[0] for k, v in kept.items() if k[0] == "usd" and not k[1]), default=None, key=lambda x: x[0]))
        if kept:
            classes = sorted(kept)
            seeds.append(kept[classes[int(rng.integers(len(classes)))]][0])
        for sd in seeds:  # the hill climb: mutants of the worst scenarios so far
            if sd is not None:
                docs += [mutant(rng, sd[1]) for _ in range(mutants)]
        usd, system, rose, lead = measure(key, docs)
        n += len(docs)
        for m, size in (("usd", usd), ("system", system)):
            for j in np.flatnonzero(size > 1.0):  # the tests' tolerance is applied again when measured
                cls = (m, rose[j], lead[j] if m == "usd" else "")
                rows = {json.dumps(d, sort_keys=True): (sz, d) for sz, d in kept.get(cls, []) + [(float(size[j]), docs[j])]}
                kept[cls] = sorted(rows.values(), key=lambda x: -x[0])[:5]
    worst = {m: max((v[0][0] for k, v in kept.items() if k[0] == m), default=0.0) for m in MEASURES}
    print(f"{n} scenarios in {time.perf_counter() - t0:.0f} s; {len(kept)} classes kept; largest "
          + ", ".join(f"value.{m} {worst[m]:,.0f} USD" for m in MEASURES))
    return kept


def entry(key: str, doc: dict, which: str, args: argparse.Namespace) -> dict:
    """A table entry for a scenario, measured again by ``value_created_violation`` (as ``test_counterexample``)."""
    v = value_created_violation(key, [Scenario.model_validate(doc)])
    size = v.size if which == "usd" else v.detail["system"]
    note = v.note if which == "usd" else f"system value change {v.detail['system_value_change']:.6g} USD; {v.note}"
    return {"id": "", "invariant": f"value.{which}", "network": key, "scenario": doc, "cause": "",
            "found": f"benchmarks/value_search.py --network {args.network} --seconds {args.seconds:g} --seed {args.seed}",
            "measured": {"size": size, "unit": "USD", "note": note}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--network", default="default",
                    help="default, a snapshot's name (core.datasets.load), or synthetic:N (N entities, 5N exposures)")
    ap.add_argument("--seed", type=int, default=0, help="the draws' seed, and the synthetic network's")
    ap.add_argument("--emit-json", default="", help="write the largest violations as table entries (a JSON list)")
    args = ap.parse_args()
    key = network_key(args.network, args.seed)
    kept = search(key, args.seconds, args.seed)
    entries: list[dict] = []
    for cls in sorted(kept, key=lambda c: -kept[c][0][0]):  # the worst of each class, worst first
        m, rose, lead = cls
        e = entry(key, kept[cls][0][1], m, args)
        e["measured"]["rose"] = list(rose)
        print(f"value.{m} {e['measured']['size']:,.2f} USD; rose above reference: {', '.join(rose) or 'none'}; "
              f"leading gainer {lead or '-'}\n  scenario={json.dumps(e['scenario'])}\n  {e['measured']['note']}")
        if e["measured"]["size"] > 0:
            entries.append(e)
    if args.emit_json:
        Path(args.emit_json).write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
        print(f"{len(entries)} candidate entries written to {args.emit_json}")


if __name__ == "__main__":
    main()

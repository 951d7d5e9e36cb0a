"""Re-measure the kept counterexamples (tests/regressions/invariant_counterexamples.json) on the current tree.

Each entry is measured exactly as ``tests/test_invariants.py::test_counterexample`` measures it (the same
functions of ``tests/invariants_support.py``: ``monotone_violation`` and its ``defaults_drop`` for a
``monotone.defaults`` entry, ``value_created_violation``, ``price_violations``), and printed with the size the
table stores, the size measured now, their ratio and the measured note. An open entry (no ``fixed`` field) that
measures 0 no longer violates its invariant: its strict xfail XPASSes, and the entry must be marked fixed with
what changed. An entry with a ``settled`` horizon is measured there too, as
``test_a_horizon_cut_entry_holds_once_its_runs_are_done`` does. An entry with an ``exception`` (a violation outside
the invariant's scope, checked as such by its own test: ``owed_token``, ``tests/debtor_rescue.py``) is measured as
an open one and printed ``exc.``.

Run: ``python benchmarks/ledger_remeasure.py [--all] [--id SUBSTRING ...] [--write "LABEL"]``

* ``--all``: fixed entries too (by default only the open ones, the strict xfails); a fixed entry is printed
  ``holds`` when it measures 0 and ``REGRESSED`` when it violates again (its size is what it measured when found);
  the last line counts the ``settled`` checks that no longer hold, of fixed and open entries alike;
* ``--id``: only entries whose id contains one of the substrings;
* ``--write LABEL``: store each changed open entry's new size in ``measured.size`` and append
  ``"; re-measured LABEL: X (was Y)"`` to its ``measured.note`` (fixed entries and entries that now measure 0
  are never written: a fixed case keeps what it measured when found, and an entry that passes needs its
  ``fixed`` field written by hand, with the cause).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.scenario import Scenario  # noqa: E402
from invariants_support import (  # noqa: E402
    REGRESSIONS,
    load_regressions,
    monotone_violation,
    price_violations,
    value_created_violation,
)

#: Relative change below which a stored size is taken as reproduced (test_counterexample_depths' tolerance).
REPRODUCED_REL = 1e-6


def measure(case: dict[str, Any]) -> tuple[float, str]:
    """The entry's size and note, by the code path of ``test_counterexample``."""
    sc = Scenario.model_validate(case["scenario"])
    inv = case["invariant"]
    if inv.startswith("monotone"):
        v = monotone_violation(case["network"], sc, tuple(case["assets"]), case["depths"], case["mode"])
        return (float(v.detail["defaults_drop"]) if inv.endswith("defaults") else float(v.size)), v.note
    if inv.startswith("value"):
        v = value_created_violation(case["network"], [sc])
        return float(v.detail["system"] if inv == "value.system" else v.size), v.note
    v = price_violations(case["network"], sc)[inv.split(".")[1]]
    return float(v.size), v.note


def measure_settled(case: dict[str, Any]) -> tuple[float, float, str]:
    """Size, defaults drop and note of the same pair run to ``settled["horizon"]`` (a horizon-cut entry)."""
    sc = Scenario.model_validate({**case["scenario"], "horizon": case["settled"]["horizon"]})
    v = monotone_violation(case["network"], sc, tuple(case["assets"]), case["depths"], case["mode"])
    return float(v.size), float(v.detail.get("defaults_drop", 0.0)), v.note


def reproduced(stored: float, measured: float) -> bool:
    return math.isclose(stored, measured, rel_tol=REPRODUCED_REL, abs_tol=0.0) or stored == measured


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Prints one line per entry: status, id, stored size, measured size, ratio.")
    ap.add_argument("--all", action="store_true", help="fixed entries too (default: open entries only)")
    ap.add_argument("--id", nargs="*", action="extend", default=[], metavar="SUBSTRING",
                    help="only entries whose id contains one (several after one --id, or --id repeated)")
    ap.add_argument("--write", metavar="LABEL",
                    help='update changed open entries in the table, noting "re-measured LABEL: X (was Y)"')
    args = ap.parse_args(argv)

    table = load_regressions()
    changed = passing = regressed = unsettled = 0
    for case in table:
        if case.get("fixed") and not args.all:
            continue
        if args.id and not any(s in case["id"] for s in args.id):
            continue
        stored = float(case["measured"]["size"])
        size, note = measure(case)
        is_open = not case.get("fixed")
        if not is_open:  # a fixed entry runs as a plain regression test: it must measure 0
            status = "holds" if size == 0.0 else "REGRESSED"
            regressed += size != 0.0
        elif size == 0.0:
            status, passing = "PASSES", passing + 1
        elif reproduced(stored, size):
            status = "same"
        else:
            status, changed = "CHANGED", changed + 1
        ratio = f"{size / stored:.4g}" if stored else "-"
        kind = "fixed" if not is_open else "exc. " if case.get("exception") else "open "
        print(f"{status:8s} {kind} {case['id']}: stored {stored:.10g}, "
              f"measured {size:.10g} {case['measured'].get('unit', '')} (x{ratio})")
        if note:
            print(f"         {note}")
        if "settled" in case:
            s_size, s_def, s_note = measure_settled(case)
            want = float(case["settled"]["size"])
            ok = s_size == want and s_def == 0.0
            unsettled += not ok
            print(f"         settled at horizon {case['settled']['horizon']}: {s_size:.10g} USD, "
                  f"defaults drop {s_def:g} ({'holds' if ok else 'VIOLATES'}){'; ' + s_note if s_note else ''}")
        if args.write and is_open and status == "CHANGED":
            case["measured"]["note"] = (f"{case['measured']['note']}; re-measured {args.write}: {size:.6g} "
                                        f"(was {stored:.6g}), {note}")
            case["measured"]["size"] = size
    # a settled check that moved fails test_a_horizon_cut_entry_holds_once_its_runs_are_done, fixed entry or open
    print(f"{changed} open entries changed size, {passing} open entries now pass (no violation), "
          f"{regressed} fixed entries violate again, {unsettled} settled checks no longer hold")
    if args.write:
        REGRESSIONS.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {REGRESSIONS.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``sfm simulate`` and ``sfm rank``: the cascade engine from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from .. import datasets
from ..validation import DataValidationError, Problem

from .common import (data_help, EXIT_OK, _network, usd, add_backend_args, check_backend_args, check_output, json_text,
                     positive_int, progress_bar, write_folder_atomic, write_text_atomic)


def cmd_simulate(args: argparse.Namespace) -> int:
    """``sfm simulate SCENARIO``: run a scenario; print the story of the cascade or write the result (``--out``)."""

    from ..engine import simulate
    from ..result_tables import csv_text

    out = check_output(args.out, folder=args.format == "csv", force=args.force)  # before any work
    sc = _scenario(args.scenario)
    net = _network(args.data) if args.data is not None else datasets.network_of(sc)
    if args.data is not None and sc.snapshot and datasets.snapshot_of(net) not in (None, sc.snapshot):
        print(f"note: scenario '{sc.name}' is written for snapshot {sc.snapshot}; running it on {net.name} as --data asks",
              file=sys.stderr)
    net = datasets.dated(net, sc.date)  # the scenario's date on --data: a shipped snapshot re-dated, else exit 2
    sc.check_against(net)
    res = simulate(net, sc)
    if out is not None:
        if args.format == "json":
            write_text_atomic(out, res.to_json())
        else:
            write_folder_atomic(out, {f"{name}.csv": csv_text(getattr(res, name))
                                      for name in ("rounds", "prices", "totals", "nodes", "paths", "summary")})
        print(f"wrote {out}", file=sys.stderr)
    if args.out is None or args.format == "csv":
        _print_story(res, net)
    return EXIT_OK


def _scenario(text: str):
    """The scenario of ``sfm simulate``'s argument: a scenario file, or the key of a shipped preset (``terra_may_2022``)."""
    import os

    from ..scenario import load_scenario

    if os.path.exists(text) or text.endswith(".json") or os.sep in text:
        return load_scenario(text)
    keys = [p.key for p in datasets.presets()]
    if text not in keys:
        raise DataValidationError([Problem("command line", None, "SCENARIO", text,
                                           "a scenario JSON file or a shipped preset: " + ", ".join(keys))])
    return datasets.preset(text).scenario


def _print_story(res, net) -> None:
    d = res.summary_dict()
    names = dict(zip(net.entities["id"], net.entities["name"]))
    print(f"Scenario: {res.scenario.get('name', '')} on {net.name or 'the network'}  ({int(d['rounds'])} rounds of {_duration(d.get('round_hours', 24.0))}, "
          f"{_duration(d.get('hours', 24.0 * d['rounds']))})")
    if net.meta.get("parameters_as_of"):
        print(f"  parameters in force on {net.meta['parameters_as_of']} "
              f"({len(net.meta.get('parameter_changes', []))} dated changes of the snapshot applied)")
    print(f"  total loss {usd(d['total_loss_usd'])} ({d['loss_share']:.1%} of system equity {usd(d['system_equity_usd'])})")
    # bad debt at reference prices (each shortfall's debt-token units at the token's reference price, a stablecoin at
    # its peg: core.engine.reference_bad_debt) first, the same marked at the close beside it: a debt token's own fall
    # shrinks the marked figure and is not less bad debt; the reference figure also counts what Maker's End, caged at
    # a tag above the market, leaves DAI's holders short (decision 23), which the marked one does not
    end_left = d.get("maker", {}).get("end_left_to_holders_usd", 0.0)
    print(f"  defaults {int(d['defaults'])}; liquidated {usd(d['liquidated_usd'])}; "
          f"bad debt {usd(d.get('bad_debt_reference_usd', d['bad_debt_usd']))} at reference prices"
          + (f", of which {usd(end_left)} End leaves the stablecoin's holders short" if end_left > 0 else "")
          + f" ({usd(d['bad_debt_usd'])} marked at the close)")
    order = res.defaults_in_order()
    if len(order):
        print("Failures in order:")
        for _, r in order.iterrows():
            print(f"  round {int(r.default_round):>2}  {names.get(r.entity, r.entity):<34} {r.cause:<12} via {r.caused_by:<14} loss {usd(r.loss_usd)}")
    bearers = d.get("loss_by_bearer_usd", {})
    if bearers:
        print("Who bore the losses: " + ", ".join(f"{k} {usd(v)}" for k, v in bearers.items() if v > 0))


def _duration(hours: float) -> str:
    """Hours as a reader says them: "6 h", "1 day", "2.5 days"."""
    if hours < 24:
        return f"{hours:g} h"
    days = hours / 24
    return f"{days:g} day" + ("" if days == 1 else "s")


def cmd_rank(args: argparse.Namespace) -> int:
    """``sfm rank``: entities ranked by systemic importance (table, or JSON with ``--json``)."""

    from ..metrics import systemic_importance

    check_backend_args(args)
    net = _network(args.data)
    update, close = progress_bar("rank", unit="seed")
    try:
        si = systemic_importance(net, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
                                 progress=update)
    finally:
        close()
    top = si.head(args.top)
    if args.json:
        print(json_text(top.reset_index().to_dict(orient="records"), indent=1))
        return EXIT_OK
    print(f"{'entity':<14} {'name':<32} {'loss if it fails':>16} {'share':>7} {'defaults':>8} {'DebtRank':>8} {'vulnerability':>13}")
    for eid, r in top.iterrows():
        print(f"{eid:<14} {str(r['name'])[:32]:<32} {usd(r.importance_usd):>16} {r.importance_share:>7.1%} "
              f"{int(r.defaults_caused):>8} {r.debtrank:>8.3f} {usd(r.vulnerability_usd):>13}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """``sfm scenario-schema``: print the JSON schema of scenario files."""

    from ..scenario import scenario_schema

    print(json.dumps(scenario_schema(), indent=2))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``simulate``, ``rank`` and ``scenario-schema`` to the sub-command parsers."""
    s = sub.add_parser("simulate", help="run a scenario file through the cascade engine",
                       description="Run a scenario (JSON, see `sfm scenario-schema`) on a dataset and report the cascade.")
    s.add_argument("scenario", metavar="SCENARIO", help="scenario JSON file, or a shipped preset's name (e.g. terra_may_2022); "
                   "without --data it runs on the snapshot the scenario names (else the newest)")
    s.add_argument("--data", metavar="NAME_OR_PATH", help=data_help())
    s.add_argument("--out", metavar="FILE", help="write the full result: a JSON file, or a folder of CSV files with --format csv")
    s.add_argument("--format", choices=("json", "csv"), default="json", help="output format for --out (default json)")
    s.add_argument("--force", action="store_true", help="replace --out if it exists (atomically: the old file stays until the new one is complete)")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("rank", help="rank entities by systemic importance (loss caused when each fails alone)",
                       description="Fail every entity alone, in one batched run, and rank them by the system loss caused.")
    s.add_argument("--data", metavar="NAME_OR_PATH", help=data_help())
    s.add_argument("--top", type=positive_int, default=10, help="how many to list (default 10)")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_backend_args(s, "seeds")
    s.set_defaults(func=cmd_rank)

    s = sub.add_parser("scenario-schema", help="print the JSON schema of scenario files",
                       description="Print the JSON schema that scenario files follow.")
    s.set_defaults(func=cmd_schema)

"""The ``sfm`` command line: every main job without a browser.

Exit status: 0 on success, 2 on bad input (with the validation report on stderr),
1 on an unexpected error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

from .validation import DataValidationError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _network(data: str | None):
    from . import datasets
    from .io import load_network

    return datasets.default() if data is None else load_network(data)


def _usd(x: float) -> str:
    for unit, div in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:,.2f}{unit}"
    return f"${x:,.0f}"


def cmd_validate(args: argparse.Namespace) -> int:
    from .io import load_network

    net = load_network(args.path)
    d = net.describe()
    print(f"OK: {args.path} is valid: {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, "
          f"{d['exposures']} exposures, {d['cohorts']} cohorts; {d['rows_sourced']} rows sourced, "
          f"{d['rows_estimate']} estimated.")
    mism = net.equity_mismatches()
    if len(mism):
        print(f"Balance-sheet identity: {len(mism)} entit{'y' if len(mism) == 1 else 'ies'} whose reported equity "
              "differs from assets minus liabilities by more than 5% of assets:")
        for eid, r in mism.iterrows():
            print(f"  - {eid}: derived {_usd(r.derived_equity_usd)}, reported {_usd(r.reported_equity_usd)}")
    else:
        print("Balance-sheet identity: every reported equity matches assets minus liabilities.")
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    from .datasets import sourced_counts

    net = _network(args.data)
    d = net.describe(top=args.top)
    sourced = sourced_counts(net)
    d["sourced_by_table"] = sourced.to_dict(orient="index")
    if args.json:
        print(json.dumps(d, indent=2, default=float))
        return EXIT_OK
    print(f"{d['name']} (as of {d['as_of']})")
    print(f"  {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, {d['exposures']} exposures, {d['cohorts']} borrower cohorts")
    print(f"  total exposure {_usd(d['total_exposure_usd'])}; token holdings {_usd(d['total_holdings_usd'])}; protocol borrowing {_usd(d['cohort_debt_usd'])}")
    print(f"  rows: {d['rows_sourced']} sourced, {d['rows_estimate']} estimated")
    print("Sourced share by table:")
    for r in sourced.itertuples():
        print(f"  {r.Index:<22} {r.sourced:>4} of {r.rows:<4} {r.sourced_share:6.1%}")
    print("Entities by type:")
    for t, c in d["entities_by_type"].items():
        print(f"  {t:<22} {c}")
    print("Largest creditors:")
    for k, v in d["largest_creditors_usd"].items():
        print(f"  {k:<22} {_usd(v)}")
    print("Largest debtors:")
    for k, v in d["largest_debtors_usd"].items():
        print(f"  {k:<22} {_usd(v)}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.app import run

    run(data=args.data, host=args.host, port=args.port, debug=args.debug)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sfm",
        description="Systemic failure modeling for crypto finance: cascades of liquidations and defaults.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("validate", help="check a dataset folder or JSON file and report every problem",
                       description="Validate a dataset (folder of CSV files or one JSON file). Exit 2 with the list of problems when it is bad.")
    s.add_argument("path", metavar="DIR_OR_FILE")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("describe", help="summarise a network: entities by type, exposures, largest creditors and debtors",
                       description="Summarise a network (the shipped dataset unless --data is given).")
    s.add_argument("--data", metavar="DIR", help="dataset folder or JSON file (default: the shipped 2022-05-06 dataset)")
    s.add_argument("--top", type=int, default=5, help="how many creditors and debtors to list (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.set_defaults(func=cmd_describe)

    s = sub.add_parser("dashboard", help="start the interactive dashboard",
                       description="Start the dashboard at http://HOST:PORT on a dataset (the shipped one by default).")
    s.add_argument("--data", metavar="DIR", help="dataset folder or JSON file (default: the shipped dataset)")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    s.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    s.set_defaults(func=cmd_dashboard)

    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return p


#: Later modules (engine, Monte Carlo) register their sub-commands here.
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    _load_extra_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK


def _load_extra_commands() -> None:
    import importlib

    for mod in ("core.cli_engine", "core.cli_montecarlo"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        reg = getattr(m, "register")
        if reg not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(reg)


if __name__ == "__main__":
    sys.exit(main())

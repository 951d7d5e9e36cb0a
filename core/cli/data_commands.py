"""``sfm validate``, ``sfm describe`` and ``sfm dashboard``: a dataset checked, summarised or served."""

from __future__ import annotations

import argparse

from .common import data_help, EXIT_OK, _network, json_text, port_number, positive_int, usd


def cmd_validate(args: argparse.Namespace) -> int:
    """``sfm validate PATH``: load and validate a dataset, print its size and the balance-sheet check."""

    from ..datasets import resolve

    net = resolve(args.path)
    changes = _changes(args.path, net)
    d = net.describe()
    print(f"OK: {args.path} is valid: {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, "
          f"{d['exposures']} exposures, {d['cohorts']} cohorts"
          + (f", {d['positions']} perpetual positions ({usd(d['open_interest_usd'])} at entry)" if d.get("positions") else "")
          + (f", {d['maker_ilks']} Maker ilk{'s' if d['maker_ilks'] != 1 else ''} ({net.maker_ilks['auction'].iloc[0]} auctions)" if d.get("maker_ilks") else "")
          + (f", {d['pegs']} peg row{'s' if d['pegs'] != 1 else ''} ({', '.join(sorted(set(net.pegs['mechanism'])))})" if d.get("pegs") else "")
          + f"; {d['rows_sourced']} rows sourced, "
          f"{d['rows_estimate']} estimated.")
    if len(changes):
        print(f"Dated parameter changes (parameter_changes.csv): {len(changes)} "
              f"({int((changes['flag'] == 'sourced').sum())} sourced), in force from "
              + ", ".join(sorted(set(changes["effective"]))) + "; a scenario's date picks the ones in force.")
    if d.get("maker_ilks"):
        wait = float(net.maker_ilks["vow_wait_seconds"].iloc[0])
        if not bool(net.maker_ilks["debt_auctions"].iloc[0]):
            print("Maker debt auctions: off (debt_auctions false: vow.sump at its maximum, no flop can start; nothing stands "
                  "behind a deficit but the protocol's own balance sheet).")
        else:
            print(f"Maker vow.wait: {wait / 3600:g} hours before debt auctions (flop) may sell against a deficit." if wait > 0 else
                  "Maker vow.wait: 0 (vow_wait_seconds empty or absent: the contract's default; debt auctions sell against a "
                  "deficit at once).")
    mism = net.equity_mismatches()
    if len(mism):
        print(f"Balance-sheet identity: {len(mism)} entit{'y' if len(mism) == 1 else 'ies'} whose reported equity "
              "differs from assets minus liabilities by more than 5% of assets:")
        for eid, r in mism.iterrows():
            print(f"  - {eid}: derived {usd(r.derived_equity_usd)}, reported {usd(r.reported_equity_usd)}")
    else:
        print("Balance-sheet identity: every reported equity matches assets minus liabilities.")
    return EXIT_OK


def _changes(path, net):
    """The validated dated changes of the snapshot or folder ``path`` names (empty for a JSON file)."""
    import os

    from ..parameter_changes import changes_of
    from ..snapshots import available

    shipped = {s.name: s.path for s in available()}
    folder = path if os.path.isdir(path) else shipped.get(path) if not os.path.exists(path) else None
    return changes_of(folder, net)


def cmd_describe(args: argparse.Namespace) -> int:
    """``sfm describe``: summarise a network (text, or JSON with ``--json``)."""

    from ..datasets import sourced_counts

    net = _network(args.data)
    d = net.describe(top=args.top)
    sourced = sourced_counts(net)
    d["sourced_by_table"] = sourced.to_dict(orient="index")
    if args.json:
        print(json_text(d, indent=2, default=float))
        return EXIT_OK
    first, last = d["as_of_range"]
    print(f"{d['name']} (as of {d['as_of']}; rows dated {first} to {last})")
    print(f"  {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, {d['exposures']} exposures, {d['cohorts']} borrower cohorts")
    print(f"  total exposure {usd(d['total_exposure_usd'])}; token holdings {usd(d['total_holdings_usd'])}; protocol borrowing {usd(d['cohort_debt_usd'])}")
    print(f"  rows: {d['rows_sourced']} sourced, {d['rows_estimate']} estimated")
    print("Sourced share by table:")
    for r in sourced.itertuples():
        print(f"  {r.Index:<22} {r.sourced:>4} of {r.rows:<4} {r.sourced_share:6.1%}")
    print("Entities by type:")
    for t, c in d["entities_by_type"].items():
        print(f"  {t:<22} {c}")
    print("Largest creditors:")
    for k, v in d["largest_creditors_usd"].items():
        print(f"  {k:<22} {usd(v)}")
    print("Largest debtors:")
    for k, v in d["largest_debtors_usd"].items():
        print(f"  {k:<22} {usd(v)}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``sfm dashboard``: serve the Dash page on a dataset until interrupted."""

    from dashboard.app import run

    run(data=args.data, host=args.host, port=args.port, debug=args.debug)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``validate``, ``describe`` and ``dashboard`` to the sub-command parsers."""
    s = sub.add_parser("validate", help="check a dataset folder or JSON file and report every problem",
                       description="Validate a dataset (folder of CSV files or one JSON file). Exit 2 with the list of problems when it is bad.")
    s.add_argument("path", metavar="NAME_OR_PATH", help="a dataset folder or JSON file, or a shipped snapshot's name")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("describe", help="summarise a network: entities by type, exposures, largest creditors and debtors",
                       description="Summarise a network (the newest shipped snapshot unless --data is given), with the sourced share of each table.")
    s.add_argument("--data", metavar="NAME_OR_PATH", help=data_help())
    s.add_argument("--top", type=positive_int, default=5, help="how many creditors and debtors to list (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.set_defaults(func=cmd_describe)

    s = sub.add_parser("dashboard", help="start the interactive dashboard",
                       description="Start the dashboard at http://HOST:PORT on a dataset (the newest shipped snapshot by default; the page can switch to the others).")
    s.add_argument("--data", metavar="NAME_OR_PATH", help=data_help())
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port_number, default=8050, help="port (default 8050)")
    s.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    s.set_defaults(func=cmd_dashboard)


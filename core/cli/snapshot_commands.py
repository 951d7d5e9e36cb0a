"""``sfm snapshot list`` and ``sfm snapshot diff A B``: the shipped snapshots, and two systems side by side."""

from __future__ import annotations

import argparse

from ..formatting import figure
from .common import EXIT_OK, _network, json_text, usd


def cmd_list(args: argparse.Namespace) -> int:
    """``sfm snapshot list``: the shipped snapshots, oldest first, with their presets."""
    from .. import datasets

    default = datasets.DEFAULT_DATASET
    for s in datasets.available():
        keys = [p.key for p in datasets.presets_of(s.name)]
        print(f"{s.name}  {s.date}{'  (default)' if s.name == default else ''}")
        print(f"  presets: {', '.join(keys) if keys else 'none'}")
    loose = [p.key for p in datasets.presets_of(None)]
    if loose:
        print(f"presets for any network: {', '.join(loose)}")
    return EXIT_OK


def diff_text(d) -> str:
    """The comparison as the terminal shows it (``d``: :class:`core.snapshot_diff.SnapshotDiff`)."""
    from ..snapshot_diff import MEASURE_UNITS

    a, b = d.a, d.b
    w = max(len(a), len(b), 16)
    lines = [f"{a} vs {b}", "", f"{'Overview':<34}{a:>{w}}  {b:>{w}}"]
    for r in d.overview.itertuples():
        k = MEASURE_UNITS.get(r.measure, "int")
        lines.append(f"  {r.measure:<32}{figure(r.a, k):>{w}}  {figure(r.b, k):>{w}}")
    lines += ["", f"{'Entities by type':<34}{a:>{w}}  {b:>{w}}  change"]
    for r in d.entities_by_type.itertuples():
        lines.append(f"  {r.type:<32}{r.a:>{w}}  {r.b:>{w}}  {r.change:+d}")
    lines += ["", f"{'Leverage: assets / equity':<34}{a:>{w}}  {b:>{w}}  (equity / assets: {a}, {b})"]
    for r in d.leverage.itertuples():
        lines.append(f"  {r.type:<32}{figure(r.a, 'x'):>{w}}  {figure(r.b, 'x'):>{w}}  "
                     f"({figure(r.a_equity_share, 'share')}, {figure(r.b_equity_share, 'share')})")
    lines += ["", f"{'Exposures by kind':<34}{a:>{w}}  {b:>{w}}  (count)"]
    for r in d.exposures.itertuples():
        lines.append(f"  {r.kind:<32}{usd(r.a_usd):>{w}}  {usd(r.b_usd):>{w}}  ({r.a_count}, {r.b_count})")
    lines += ["", "Critical nodes: system loss if the entity fails alone (share of system equity)",
              f"  {'#':>2}  {a:<44}  {b:<44}"]
    for r in d.critical.itertuples():
        left = f"{str(r.a_name)[:26]:<26} {figure(r.a_loss_usd, 'usd'):>9} {figure(r.a_share, 'share'):>6}" if isinstance(r.a_name, str) else "–"
        right = f"{str(r.b_name)[:26]:<26} {figure(r.b_loss_usd, 'usd'):>9} {figure(r.b_share, 'share'):>6}" if isinstance(r.b_name, str) else "–"
        lines.append(f"  {r.rank:>2}  {left:<44}  {right:<44}")
    lines += ["", "Standard shocks (targets chosen from each snapshot's own data; 12 daily rounds, no run, no safeguards)",
              f"  {'shock':<25} {'side':<{w}} {'target':<28} {'loss':>9} {'share':>6} {'defaults':>8} {'liquidated':>10} {'bad debt':>9}"]
    for r in d.shocks.itertuples():
        name = a if r.side == "a" else b
        if isinstance(r.note, str) and r.note:
            lines.append(f"  {r.shock:<25} {name:<{w}} not applicable: {r.note}")
            continue
        lines.append(f"  {r.shock:<25} {name:<{w}} {str(r.target)[:28]:<28} {figure(r.loss_usd, 'usd'):>9} {figure(r.loss_share, 'share'):>6} "
                     f"{figure(r.defaults, 'int'):>8} {figure(r.liquidated_usd, 'usd'):>10} {figure(r.bad_debt_usd, 'usd'):>9}")
    return "\n".join(lines)


def cmd_diff(args: argparse.Namespace) -> int:
    """``sfm snapshot diff A B``: compare two snapshots (or datasets); text, or JSON with ``--json``."""
    from ..snapshot_diff import compare

    d = compare(_network(args.a, "A"), _network(args.b, "B"), top=args.top)
    if args.json:
        print(json_text(d.to_dict(), indent=1))
    else:
        print(diff_text(d))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``snapshot list`` and ``snapshot diff`` to the sub-command parsers."""
    from .common import positive_int

    s = sub.add_parser("snapshot", help="list the shipped snapshots, or compare two of them",
                       description="The shipped snapshots of the crypto system (data/*/snapshot.json) and their comparison.")
    inner = s.add_subparsers(dest="snapshot_command", required=True, metavar="ACTION")
    x = inner.add_parser("list", help="the shipped snapshots and the presets of each",
                         description="List the shipped snapshots, oldest first, with the presets written for each.")
    x.set_defaults(func=cmd_list)
    x = inner.add_parser("diff", help="compare two snapshots: entities, leverage, exposures, critical nodes, standard shocks",
                         description="Compare two snapshots (shipped names, or dataset folders / JSON files): entities by type, "
                                     "leverage, exposures, the critical-node ranking, and the loss the same standardised shocks "
                                     "cause on each (ETH -30%%, BTC -30%%, the largest stablecoin -10%%, the largest exchange failing).")
    x.add_argument("a", metavar="A", help="the first snapshot: a shipped name (e.g. crypto-2022-05) or a dataset folder or JSON file")
    x.add_argument("b", metavar="B", help="the second snapshot")
    x.add_argument("--top", type=positive_int, default=10, help="critical nodes listed per side (default 10)")
    x.add_argument("--json", action="store_true", help="print JSON instead of text")
    x.set_defaults(func=cmd_diff)

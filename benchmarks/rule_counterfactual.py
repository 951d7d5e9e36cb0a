"""A kept monotone pair re-run under a rule the lead kept or rejected, to measure what that rule does to it.

No engine change: each rule is a patch of the engine's modules inside :func:`rule_applied`, restored on leaving it, and the pair is run through the public
``core.engine.simulate_batch`` at each horizon asked. Printed per horizon: system loss and total bad debt at
reference prices, shallower → deeper, defaults, and the round SKY (or MAKER) defaults at each depth.

Rules (``--rule``):

* ``current``: the tree as it is;
* ``peg``: a wrapped token sold moves its underlying's book by its peg (times a failed custodian's paid share), not
  by its basis: the alternative decision 4 rejected ("the worth rule ... kept", ``docs/invariants.md``), patched
  where sales reach a book (``sell.price_impact``, ``defend``'s defence sales, ``auctions``), not in the
  liquidators' limits (session 26 (trace20) patched ``sell.price_impact`` alone);
* ``nocage``: a governed Maker system's deficit clock never runs out (decision 18's cage removed): what the cage's
  timing contributes;
* ``clock:X``: the clock starts only at a deficit beyond X dollars (decision 18 starts it at the clearing's
  tolerance, ``max($1, 1e-9 × owed)``);
* ``nosplit``: every liquidation rule has the whole capital a round (``capital.split_capital`` undone, session 13);
* ``endtag``: End's ``tag`` read at the round's market price, not at the Maker oracle the scenario lags
  (``maker_end.oracle_prices`` patched; decision 8 and decision 11's item 2 keep the lagged oracle, as
  ``end.cage(ilk)`` reads ``pip.read()``): what the stale tag moves between bad debt and DAI's holders;
* ``band:X``: an algorithmic stablecoin's holders leave at ``(1 + run) max(0, 1 - X - q)`` (decision 21's calm band
  X; the engine's is ``PEG_CALM_BAND``, 0.005, so ``band:0.005`` is the current rule and ``band:0`` the rule without
  the band; the holders' side only, patched in ``pegs.holders_exit_share``, which Terra's mint-and-burn and Anchor's
  coin exit read, the reserve's defence keeping its trigger): what the band does to a pair at the edge of the first
  exit;
* ``halt:H``: governance halts a PSM's ``sellGem`` after at most ``H`` hours of its backing below the sell pin
  (each row's ``psm_halt_hours`` capped at ``H``; the engine's 2022 rows say 60: ~12 h to draft and vote and the
  48 h GSM pause, :mod:`core.mechanisms.psm_halt`; ``halt:24`` closes it at round 1's opening in daily rounds, when
  End's cage of a Maker the clearing defaulted at round 0 shuts its PSM): what the PSM's open hours contribute to a
  pair at MKR's backstop edge (decision 1's family), patched in ``backing``'s ``psm_halt.sell_open_share``;
* ``haltat:H``: as ``halt:H``, but every row that has a halt (a finite ``psm_halt_hours``) halts at exactly ``H``
  hours, later as well as sooner (``haltat:60`` is the engine's rule on the 2022 network): the pair across the
  range the dated record leaves open (48 h: the GSM pause alone, a vote in no time; 72 h: a day to deploy and vote,
  Session 44 (mkrhalt)).

``--clock N`` also prints, for the first N rounds, the governed system's clearing: what it owes, its deficit, the
tolerance, the clock's start and whether it has defaulted, shallower / deeper.

Run: ``python benchmarks/rule_counterfactual.py ENTRY_ID --rule peg --horizons 12,365 [--clock 8]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest.mock import patch

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import core.engine.auctions as auctions  # noqa: E402
import core.engine.backing as backing  # noqa: E402
import core.engine.clear as clear  # noqa: E402
import core.engine.defend as defend  # noqa: E402
import core.engine.liquidate as liquidate  # noqa: E402
import core.engine.maker_end as maker_end  # noqa: E402
import core.engine.maker_governance as governance  # noqa: E402
import core.engine.sell as sell  # noqa: E402
import core.mechanisms.pegs as pegs  # noqa: E402
from core.mechanisms.algorithmic_stablecoin import ALGO_MAX_RATE  # noqa: E402
from core.engine import simulate_batch  # noqa: E402
from core.engine.batch import build_batch  # noqa: E402
from core.engine.compiled import compile_network  # noqa: E402
from core.engine.rounds import STEPS  # noqa: E402
from core.engine.state import initial_state  # noqa: E402
from core.mechanisms._checks import trusted  # noqa: E402
from core.scenario import Scenario  # noqa: E402
from depth_points import at_point, depth_points  # noqa: E402
from invariants_support import load_regressions, network  # noqa: E402


@contextmanager
def rule_applied(rule: str) -> Iterator[None]:
    """The engine patched for ``rule`` (module docstring) inside the ``with`` block, restored on leaving it."""
    with ExitStack() as stack:
        if rule == "peg":
            worth = sell.unwrap_units

            def at_peg(c, s, b):  # the worth rule's units over the basis: peg x a failed custodian's paid share
                units = worth(c, s, b)
                return None if units is None else units / sell.wrapped_basis(c, b)

            for module in (sell, defend, auctions):
                stack.enter_context(patch.object(module, "unwrap_units", at_peg))
        elif rule == "nocage":
            stack.enter_context(patch.object(governance, "GOVERNANCE_DELAY_HOURS", float("inf")))
        elif rule.startswith("clock:"):
            floor = float(rule.split(":", 1)[1])

            def clock(c, s, b, clearing, r):  # governance.deficit_clock, the deficit's threshold max(floor, tol)
                j = c.maker.protocol
                owed, deficit = governance.clearing_deficit(clearing, j)
                short = (deficit > np.maximum(floor, governance.DEFAULT_TOL * owed)) & ~s.defaulted[:, j]
                since = np.where(short, np.where(s.maker_deficit_since >= 0, s.maker_deficit_since, r), -1)
                hours = b.round_hours if b.round_hours is not None else np.full(s.S, 24.0)
                return since, short & ((r - since) * hours >= governance.GOVERNANCE_DELAY_HOURS)

            stack.enter_context(patch.object(clear, "deficit_clock", clock))
        elif rule == "nosplit":
            stack.enter_context(patch.object(liquidate, "split_capital",
                                             lambda capacity, *_args, **_kw: (capacity, capacity, capacity)))
        elif rule == "endtag":
            stack.enter_context(patch.object(maker_end, "oracle_prices", lambda _history, _lag, P: P))
        elif rule.startswith("band:"):
            calm = float(rule.split(":", 1)[1])

            def banded(price_ratio, run_intensity):  # pegs.holders_exit_share with the calm band
                q = np.minimum(np.asarray(price_ratio, dtype=float), 1.0)
                share = (1.0 + np.asarray(run_intensity, dtype=float)) * (1.0 - calm - q)
                return np.minimum(np.maximum(share, 0.0), ALGO_MAX_RATE)

            stack.enter_context(patch.object(pegs, "holders_exit_share", banded))
        elif rule.startswith("halt:"):
            hours = float(rule.split(":", 1)[1])
            open_share = backing.psm_halt.sell_open_share

            def halted_by(impaired_hours, round_hours, halt_hours):  # psm_halt.sell_open_share, H at most `hours`
                return open_share(impaired_hours, round_hours, np.minimum(halt_hours, hours))

            stack.enter_context(patch.object(backing.psm_halt, "sell_open_share", halted_by))
        elif rule.startswith("haltat:"):
            at = float(rule.split(":", 1)[1])
            open_share_at = backing.psm_halt.sell_open_share

            def halted_at(impaired_hours, round_hours, halt_hours):  # psm_halt.sell_open_share, every finite H set to `at`
                return open_share_at(impaired_hours, round_hours, np.where(np.isfinite(halt_hours), at, halt_hours))

            stack.enter_context(patch.object(backing.psm_halt, "sell_open_share", halted_at))
        elif rule != "current":
            raise ValueError(f"rule {rule!r}: expected current, peg, nocage, clock:X, nosplit, endtag, band:X, halt:H or haltat:H")
        yield


def scenarios(case: dict, horizon: int | None) -> list[Scenario]:
    doc = dict(case["scenario"]) | ({"horizon": horizon} if horizon else {})
    return [at_point(Scenario.model_validate(doc), p, case["mode"]) for p in depth_points(tuple(case["assets"]), case["depths"])]


def clock_lines(case: dict, rounds: int) -> list[str]:
    """The governed Maker system's clearing, round by round (``--clock``)."""
    net = network(case["network"])
    c = compile_network(net)
    b = build_batch(c, scenarios(case, None), net, True)
    s = initial_state(c, b)
    if c.maker is None or not governance.governed(c):
        return ["(no governed Maker system on this network)"]
    j, out = c.maker.protocol, []
    with trusted():
        for r in range(min(rounds, b.horizon)):
            for step in STEPS:
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
                if step.__name__ == "mark_and_clear":
                    owed, deficit = governance.clearing_deficit(s.clearing, j)
                    tol = np.maximum(1.0, governance.DEFAULT_TOL * owed)
                    out.append(f"round {r}: owes {owed[0]:,.2f} / {owed[1]:,.2f}, deficit {deficit[0]:,.6f} / "
                               f"{deficit[1]:,.6f}, tolerance {tol[0]:,.6f} / {tol[1]:,.6f}, clock since "
                               f"{s.maker_deficit_since[0]} / {s.maker_deficit_since[1]}, defaulted "
                               f"{bool(s.defaulted[0, j])} / {bool(s.defaulted[1, j])}")
    return out


def measure(case: dict, rule: str, horizons: list[int | None]) -> list[dict]:
    """The pair at each horizon under ``rule``: loss and bad debt at reference (USD) and the Maker system's default
    round, each ``[shallower, deeper]``, and the defaults' counts."""
    net = network(case["network"])
    out = []
    with rule_applied(rule):
        for horizon in horizons:
            br = simulate_batch(net, scenarios(case, horizon))
            ids = list(br.entity_ids)
            maker = next((n for n in ("SKY", "MAKER") if n in ids), None)
            out.append(dict(horizon=horizon or case["scenario"].get("horizon", 12), loss=br.total_loss.tolist(),
                            bad_debt_reference=br.bad_debt_reference_usd.sum(1).tolist(),
                            defaults=br.defaulted.sum(1).tolist(), maker=maker,
                            maker_round=br.default_round[:, ids.index(maker)].tolist() if maker else None))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("entry", help="a monotone.* entry id of the counterexample table")
    ap.add_argument("--rule", default="current", help="current, peg, nocage, clock:X, nosplit, endtag, band:X, halt:H or haltat:H")
    ap.add_argument("--horizons", default="", help="comma-separated horizons (default: the entry's)")
    ap.add_argument("--clock", type=int, default=0, help="print the Maker deficit clock for this many rounds")
    args = ap.parse_args(argv)
    case = next((e for e in load_regressions() if e["id"] == args.entry), None)
    if case is None or not case["invariant"].startswith("monotone"):
        raise SystemExit(f"{args.entry!r}: no monotone entry of that id in tests/regressions/invariant_counterexamples.json")
    if args.clock:
        with rule_applied(args.rule):
            print("\n".join(clock_lines(case, args.clock)))
    for m in measure(case, args.rule, [int(h) for h in args.horizons.split(",") if h] or [None]):
        (l0, l1), (b0, b1) = m["loss"], m["bad_debt_reference"]
        when = f", {m['maker']} defaults in round {m['maker_round'][0]} / {m['maker_round'][1]}" if m["maker"] else ""
        print(f"{args.rule} horizon {m['horizon']}: loss ${l0 / 1e6:,.2f}M -> ${l1 / 1e6:,.2f}M ({(l1 - l0) / 1e6:+,.2f}M), "
              f"bad debt at reference ${b0 / 1e6:,.4f}M -> ${b1 / 1e6:,.4f}M ({(b1 - b0) / 1e6:+,.4f}M), defaults "
              f"{m['defaults'][0]} / {m['defaults'][1]}{when}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

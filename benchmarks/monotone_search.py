"""Search for the largest monotonicity violation of the cascade engine within a time budget.

A deeper price shock on an asset or group of assets (every price of the group
lower by one factor, so that the group's prices keep their ratios), with every
other input fixed, must never lower system loss, total bad debt at reference prices (the debt tokens' units short at
the tokens' reference prices, :mod:`core.engine.reference_bad_debt`) or the number of defaults.
This script draws random base scenarios (runs, depegs, oracle lag, thin
liquidity, short liquidator capacity, forced defaults, fixed moves of the
assets that are not searched) and asset groups, and compares a shock with a
deeper one in batches.

What a deeper shock may deepen is the property tests' notion of a pure
down-shock (:func:`monotone_assets`, from ``tests/invariants_support.py``): an
asset not pegged to USD (stablecoins move by depegs) that no entity of the
network owes: not a named borrower's debt token, and not a perpetuals market
where a named account is short or a backstop vault keeps what liquidations
leave. A fall of what an entity owes or is short is a real gain to it (the
invariant's exception) and may rightly keep it from default: on the 2025
network ETHENA, short ETH, BTC and SOL through perpetuals against its spot
collateral, ends ETH -38.4558% (USDC 28% off peg) $1,248 short of its
$14.83bn of liabilities, past the default rule's tolerance, and $99k short,
within it, a billionth deeper; the shallower shock's default of ETHENA cost
$5.27bn (the largest violation of the session-4 search). Those assets still
move, by the same amount at both depths, in the base scenario; the worst pairs found are then
refined by shrinking the gap between the two shocks (a violation at a small
step is the sharpest). It prints the largest violation of each measure with
the scenario that shows it, then the largest among the kept pairs run again to
the longest horizon (365 rounds): a cascade its horizon cuts mid-way is
compared at different phases when a deeper shock shifts its waves by a round.

With ``--owed`` the search deepens instead exactly what the default search leaves out, the owed and shorted
assets, each with the tokens pegged to it (stETH, weETH and the other wrappers of ETH; WBTC and cbBTC of BTC;
JitoSOL of SOL) deepened by the same factor where the base shocks them, so that a wrapper's basis stays what the
base set; and a pair counts only where no debtor's rescue explains it (:mod:`debtor_rescue`: the earliest default
the deeper shock averts is a named borrower's or named short's, its deficit covered by what its debts and shorts
fell). It measures loss and defaults only: the debt tokens' units short (bad debt at reference prices) rightly fall
when the debt token itself falls. What it finds is outside the invariant's scope as the property tests state it,
and is reported as such (session 26 on the 2025 network: docs/invariants.md).

Run: ``python benchmarks/monotone_search.py [--seconds 600 | --batches B] [--network default|NAME|synthetic:N]
[--seed S] [--owed] [--emit-json out.json]`` (a time budget finds more on a faster or quieter machine; ``--batches``
runs B batches of 64 pairs, the same finds for the same seed anywhere) (``NAME`` a shipped snapshot: crypto-2022-05, crypto-2025-10, crypto-2020-03; on
``synthetic:N`` the seed draws the network too: ``synthetic-N-5N-S``). Each largest violation is printed with
the table entry that keeps it (``tests/regressions/invariant_counterexamples.json``; the group's assets
deepened by one factor on their prices move by different depths, so ``depths`` gives each asset its own,
:mod:`depth_points`), measured again by the property tests' ``monotone_violation``; ``--emit-json`` writes
those entries, and the kept pairs' largest violations that remain at 365 rounds (their scenarios carrying
``horizon`` 365), as a JSON list to paste into the table once an ``id`` and a ``cause`` are written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.engine import simulate_batch  # noqa: E402
from core.scenario import Scenario  # noqa: E402
from depth_points import search_entry  # noqa: E402
from debtor_rescue import debtor_rescues  # noqa: E402
from penalty_rescue import penalty_rescue  # noqa: E402
from invariants_support import monotone_violation, network, tables  # noqa: E402


def network_key(name: str, seed: int = 0) -> str:
    """The property tests' key of a network named on the command line (``default``, a snapshot, ``synthetic:N``)."""
    if name == "default":
        return "shipped"
    if name.startswith("synthetic:"):
        n = int(name.split(":")[1])
        return f"synthetic-{n}-{5 * n}-{seed}"
    return name


def monotone_assets(key: str, owed: bool = False) -> tuple[list[str], list[str]]:
    """(assets a deeper shock may deepen, assets that move only in the base scenario) of a network.

    The first are the property tests' shockable assets less the tokens an entity owes or is short
    (``Tables.owed_tokens``): a deeper fall of those is a gain to their debtor, not a deeper down-shock.
    With ``owed`` the two swap (the ``--owed`` search).
    """
    t = tables(key)
    pure, owed_ones = [a for a in t.shockable if a not in t.owed_tokens], [a for a in t.shockable if a in t.owed_tokens]
    return (owed_ones, pure) if owed else (pure, owed_ones)


def with_pegged(pair: tuple[dict, dict, dict], peg_unit: dict[str, str]) -> tuple[dict, dict, dict]:
    """A drawn pair whose base shocks a token pegged to a deepened asset (a wrapper's basis), with that token moved
    into the group and deepened by its underlying's factor: the basis stays what the base set."""
    base, shallow, deep = pair
    shocks = dict(base.get("price_shocks", {}))
    for token in list(shocks):
        under = peg_unit.get(token, "")
        if under in shallow:
            factor = (1.0 + deep[under]) / (1.0 + shallow[under])
            shallow[token] = shocks.pop(token)
            deep[token] = (1.0 + shallow[token]) * factor - 1.0
    base = {k: v for k, v in base.items() if k != "price_shocks"} | ({"price_shocks": shocks} if shocks else {})
    return base, shallow, deep


def _draw(rng: np.random.Generator, syms: list[str], ids: list[str], pegged: list[str],
          fixed: list[str] = ()) -> tuple[dict, dict, dict]:
    group = list(rng.choice(syms, size=int(rng.integers(1, min(4, len(syms) + 1))), replace=False))
    shallow = {str(a): -float(rng.uniform(0.0, 0.95)) for a in group}
    # deeper on the whole group by one factor: the prices within the group keep their ratios (deepening a
    # debt token alone, ETH under stETH/ETH loops, helps its debtors: a real gain, not a defect)
    factor = 1.0 - float(rng.uniform(0.001, float(rng.choice([0.01, 0.05, 0.2]))))
    deep = {a: max(-0.999, (1.0 + v) * factor - 1.0) for a, v in shallow.items()}
    base: dict = dict(run_intensity=float(rng.choice([0.0, 0.0, 0.5, 1.0])), oracle_lag=int(rng.integers(0, 3)),
                      liquidity=float(rng.uniform(0.3, 1.5)),
                      liquidator_capacity_usd=[None, 5e7, 5e8][int(rng.integers(0, 3))])
    if rng.random() < 0.3:
        base["forced_defaults"] = [str(rng.choice(ids))]
    if rng.random() < 0.2 and pegged:
        a = str(rng.choice(pegged))
        if a not in group:
            base["depegs"] = {a: float(rng.uniform(0.01, 0.3))}
    if len(fixed) and rng.random() < 0.5:  # what is owed or shorted moves too, the same at both depths
        moved = rng.choice(fixed, size=int(rng.integers(1, min(2, len(fixed)) + 1)), replace=False)
        base["price_shocks"] = {str(a): -float(rng.uniform(0.0, 0.95)) for a in moved}
    return base, shallow, deep


def _scenarios(base: dict, shallow: dict, deep: dict) -> list[Scenario]:
    fixed = base.get("price_shocks", {})
    rest = {k: v for k, v in base.items() if k != "price_shocks"}
    return [Scenario(**rest, price_shocks={**fixed, **shallow}), Scenario(**rest, price_shocks={**fixed, **deep})]


def _rescued(key: str, net, pair: tuple[dict, dict, dict]) -> bool:
    """Whether the pair's fall is a debtor's rescue (:mod:`debtor_rescue`)."""
    return bool(debtor_rescues(key, simulate_batch(net, _scenarios(*pair), record=True)))


def _penalty_rescued(key: str, net, pair: tuple[dict, dict, dict]) -> bool:
    """Whether the pair's drop of defaults is a Maker system's penalty rescue (decision 12, :mod:`penalty_rescue`)."""
    return penalty_rescue(key, simulate_batch(net, _scenarios(*pair), record=True)) is not None


def _violations(net, pairs: list[tuple[dict, dict, dict]], key: str, owed: bool = False) -> np.ndarray:
    """(loss drop, bad-debt drop, defaults drop) of each pair of network ``key``; with ``owed`` (the ``--owed``
    search) no bad-debt measure, and a pair that is a debtor's rescue counts as none. A drop of defaults that is a
    Maker system's penalty rescue (decision 12) counts as none on either search."""
    scs = [sc for pair in pairs for sc in _scenarios(*pair)]
    br = simulate_batch(net, scs)
    loss, bad, nd = br.total_loss.reshape(-1, 2), br.bad_debt_reference_usd.sum(1).reshape(-1, 2), br.defaulted.sum(1).reshape(-1, 2)
    v = np.stack([loss[:, 0] - loss[:, 1], bad[:, 0] - bad[:, 1], nd[:, 0] - nd[:, 1]], 1)
    if owed:
        v[:, 1] = 0.0
        for j in np.flatnonzero((v[:, 0] > 1.0) | (v[:, 2] > 0)):
            if _rescued(key, net, pairs[j]):
                v[j] = 0.0
    for j in np.flatnonzero((v[:, 2] > 0) & (v[:, 0] <= 0.0)):
        if _penalty_rescued(key, net, pairs[j]):
            v[j, 2] = 0.0
    return v


def search(key: str, seconds: float, seed: int = 0, batch: int = 64, owed: bool = False,
           batches: int | None = None) -> list[tuple[float, tuple]]:
    """Draw pairs in batches until ``seconds`` have passed, or, with ``batches``, for that many batches whatever
    the time (the draws depend on the seed alone, so a seed and a batch count give the same finds on any machine)."""
    rng = np.random.default_rng(seed)
    net = network(key)
    # assets pegged to USD move by depegs (drawn into the base), and what entities owe or are short moves in the
    # base only: a deeper fall of it is a real gain to its debtors and may rightly avert a default
    syms, fixed = monotone_assets(key, owed)
    peg_unit = dict(zip(net.assets["symbol"], net.assets["peg_unit"].fillna("").astype(str)))
    ids = list(net.entities["id"])
    pegged = sorted(net.names["pegged"])
    best: list[tuple[float, float, float, tuple]] = []
    t0, n = time.perf_counter(), 0
    while (time.perf_counter() - t0 < seconds) if batches is None else (n < batches * batch):
        pairs = [_draw(rng, syms, ids, pegged, fixed) for _ in range(batch)]
        if owed:
            pairs = [with_pegged(pair, peg_unit) for pair in pairs]
        v = _violations(net, pairs, key, owed)
        n += len(pairs)
        for j in np.flatnonzero((v[:, 0] > 1.0) | (v[:, 1] > 1.0) | (v[:, 2] > 0)):
            best.append((float(v[j, 0]), float(v[j, 1]), float(v[j, 2]), pairs[j]))
        best = sorted(best, key=lambda x: -x[0])[:20]
        # refine the worst loss violation: halve the gap between the shocks towards the shallow one, keep what is
        # worse (not a pair kept for its bad debt or defaults alone: its loss may rise, and a narrower pair's less so)
        if best and best[0][0] > 1.0:
            lo, bd, dd, (base, shallow, deep) = best[0]
            def at(f: float) -> dict:  # the group's prices a share f of the way, in log, from shallow to deep
                return {a: (1 + shallow[a]) * ((1 + deep[a]) / (1 + shallow[a])) ** f - 1 for a in deep}
            mids = [(base, shallow, at(f)) for f in (0.5, 0.25, 0.1)] + [(base, at(f), deep) for f in (0.5, 0.75, 0.9)]
            vm = _violations(net, mids, key, owed)
            for j in range(len(mids)):
                if vm[j, 0] > lo:
                    best[0] = (float(vm[j, 0]), float(vm[j, 1]), float(vm[j, 2]), mids[j])
                    lo = float(vm[j, 0])
    print(f"{n} pairs in {time.perf_counter() - t0:.0f} s; {len(best)} violating pairs kept")
    return [(b[0], b) for b in best]


def candidate(key: str, base: dict, shallow: dict, deep: dict, args: argparse.Namespace, measure: str = "usd") -> dict:
    """The counterexample table's entry for a pair the search found, measured again as the property tests measure
    it (``monotone_violation``, the depths as given per asset: :mod:`depth_points`)."""
    entry = search_entry(key, base, shallow, deep, {}, f"benchmarks/monotone_search.py --network {args.network} "
                         f"{budget(args)} --seed {args.seed}{' --owed' if args.owed else ''}")
    v = monotone_violation(key, Scenario.model_validate(entry["scenario"]), tuple(entry["assets"]), entry["depths"])
    if measure == "defaults":
        entry["invariant"] = "monotone.defaults"
        entry["measured"] = {"size": v.detail["defaults_drop"], "unit": "defaults", "note": v.note}
    else:
        entry["measured"] = {"size": v.size, "unit": "USD", "note": v.note}
    return entry


def budget(args: argparse.Namespace) -> str:
    """The search's budget as its command line gives it."""
    return f"--batches {args.batches}" if args.batches is not None else f"--seconds {args.seconds:g}"


def _same_pair(a: dict, b: dict) -> bool:
    """The same pair and invariant, whatever the horizon."""
    def bare(e: dict) -> dict:
        return {k: v for k, v in e["scenario"].items() if k != "horizon"}
    return a["invariant"] == b["invariant"] and a["depths"] == b["depths"] and bare(a) == bare(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0, help="the search's time budget (default 600)")
    ap.add_argument("--batches", type=int, default=None,
                    help="run this many batches of 64 pairs instead of a time budget: the same finds on any machine")
    ap.add_argument("--network", default="default",
                    help="default, a snapshot's name (core.datasets.load), or synthetic:N (N entities, 5N exposures)")
    ap.add_argument("--seed", type=int, default=0, help="the draws' seed, and the synthetic network's")
    ap.add_argument("--owed", action="store_true",
                    help="deepen the owed and shorted assets instead (with their pegged tokens); loss and defaults only, "
                         "a debtor's rescue not counted")
    ap.add_argument("--emit-json", default="", help="write the largest violations, at the scenario's horizon and at 365 rounds, as table entries (a JSON list)")
    args = ap.parse_args()
    key = network_key(args.network, args.seed)
    net = network(key)
    syms, fixed = monotone_assets(key, args.owed)
    if args.owed:
        print(f"deepened (owed or shorted, with their pegged tokens): {', '.join(syms) or 'none'}; "
              f"moved in the base only: {', '.join(fixed) or 'none'}")
    else:
        print(f"deepened: {', '.join(syms) or 'none'}; moved in the base only (owed or shorted): {', '.join(fixed) or 'none'}")
    if not syms:
        print("nothing to deepen" + ("" if args.owed else ": every asset not pegged to USD is owed or shorted by an entity"))
        return
    if args.batches is not None and args.batches < 1:
        ap.error(f"--batches: expected a whole number of at least 1, got {args.batches}")
    found = search(key, args.seconds, args.seed, owed=args.owed, batches=args.batches)
    if not found:
        print("largest violation: none found")
        return
    entries = []
    for k, name in enumerate(("loss", "bad debt", "defaults")):
        worst = max(found, key=lambda x: x[1][k])[1]
        unit = "" if k == 2 else " USD"
        print(f"largest {name} violation: {worst[k]:,.0f}{unit}  base={worst[3][0]} shallow={worst[3][1]} deep={worst[3][2]}")
        if worst[k] > 0:
            entry = candidate(key, *worst[3], args, measure="defaults" if k == 2 else "usd")
            print(json.dumps(entry, indent=2))
            entries.append(entry)
    # The same pairs run to the longest horizon: a cascade cut by its horizon mid-way is compared at different
    # phases when a deeper shock shifts its waves by a round; what remains here is a violation of the outcome.
    pairs = [b[3] for _, b in found]
    v = _violations(net, [({**base, "horizon": 365}, shallow, deep) for base, shallow, deep in pairs], key, args.owed)
    for k, name in enumerate(("loss", "bad debt", "defaults")):
        j = int(np.argmax(v[:, k]))
        unit = "" if k == 2 else " USD"
        print(f"kept pairs at horizon 365: largest {name} violation {max(v[j, k], 0.0):,.0f}{unit}  base={pairs[j][0]} "
              f"shallow={pairs[j][1]} deep={pairs[j][2]}")
        if v[j, k] > 0:  # an end-state violation: its entry carries the horizon it shows at
            base, shallow, deep = pairs[j]
            entry = candidate(key, {**base, "horizon": 365}, shallow, deep, args,
                              measure="defaults" if k == 2 else "usd")
            if not any(_same_pair(entry, e) for e in entries):  # not the pair already kept at its own horizon
                entries.append(entry)
    if args.emit_json:
        Path(args.emit_json).write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
        print(f"{len(entries)} candidate entries written to {args.emit_json}")


if __name__ == "__main__":
    main()

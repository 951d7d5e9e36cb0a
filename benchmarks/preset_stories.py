"""The story of each preset scenario on the snapshot it names (its "snapshot" field), as plain text.

For each preset in ``data/scenarios``: the failures in order (round, entity),
system loss, bad debt per protocol, supplier haircuts of pass-through pools, liquidated volume, the largest equity
gains (value created in a run with only falls is a defect unless it is a
debtor whose debt fell), and key prices (final and lowest, relative to the
reference) of stablecoins, liquid-staking and wrapped tokens, and of the
shocked assets. For a preset whose shock reaches an algorithmic stablecoin (the Terra preset), a table per
round: the coin's and its backing's prices, the coin redeemed through the mint-and-burn (by holders, and by
arbitrageurs from its pool), the backing's supply, the coin sold into its pool by holders queued to redeem, the
deposits of the run-prone entities that hold the coin, and what its defending reserve has spent, beside the
sourced history where there is one (:data:`HISTORY`, ``[source]`` keys in :data:`SOURCES`).

Run: ``python benchmarks/preset_stories.py [out.txt]``; compare two outputs
with ``diff`` to see what a change to the engine did to the presets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core  # noqa: E402
from core.engine import compile_network, simulate_batch  # noqa: E402
from core.engine.batch import build_batch  # noqa: E402
from core.engine.rounds import STEPS  # noqa: E402
from core.engine.state import initial_state  # noqa: E402
from core.engine.withdraw import deposits_value  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_KEY_KINDS = ("fiat_stable", "cdp_stable", "algorithmic_stable", "liquid_staking", "exchange_token")


def _bn(x: float) -> str:
    return f"${x / 1e9:,.3f}bn"


def story(net, path: Path) -> list[str]:
    sc = core.load_scenario(path)
    br = simulate_batch(net, [sc], record=True)
    ids, syms = br.entity_ids, br.asset_symbols
    lines = [f"== {path.stem}"]
    dr = br.default_round[0]
    order = np.lexsort((ids.astype(str), dr))
    fails = [f"r{dr[i]} {ids[i]}" for i in order if dr[i] >= 0]
    lines.append(f"failures ({len(fails)}): " + ", ".join(fails))
    lines.append(f"system loss: {_bn(br.total_loss[0])}   liquidated: {_bn(br.liquidated_usd[0])}   "
                 f"rounds: {int(br.rounds_run[0])}")
    bad = br.bad_debt[0]
    lines.append("bad debt: " + (", ".join(f"{ids[i]} {_bn(bad[i])}" for i in np.flatnonzero(bad > 1.0)) or "none"))
    cut, share = br.supplier_haircut_usd[0], br.supplier_haircut[0]  # pass-through pools' suppliers, Sai's PETH holders
    lines.append("supplier haircuts: " + (", ".join(f"{ids[i]} {_bn(cut[i])} ({100 * share[i]:.2f}%)"
                                                    for i in np.flatnonzero(cut > 1.0)) or "none"))
    gain = br.equity[0] - br.initial_equity
    top = np.argsort(-gain)[:4]
    c = compile_network(net)
    fell = br.prices[0] < c.P0 * (1 - 1e-12)
    owes_fallen = {int(c.c_borrower[q]) for q in np.flatnonzero(c.c_borrower >= 0) if fell[c.c_da[q]]}
    lines.append("largest equity gains: " + ", ".join(
        f"{ids[i]} {_bn(gain[i])}" + (" (debt in a token that fell)" if i in owes_fallen else "")
        for i in top if gain[i] > 1e6))
    kinds = net.assets["kind"].to_numpy(dtype=object)
    P0 = net.assets["price_usd"].to_numpy(dtype=float)
    wrapped = net.assets["peg_unit"].to_numpy(dtype=object)
    shocked = set(sc.price_shocks) | set(sc.depegs) | set(sc.pool_sales_usd) | set(sc.price_paths or {})
    hp = br.history["prices"][0]  # (rounds, k)
    for a, s in enumerate(syms):
        if not (kinds[a] in _KEY_KINDS or wrapped[a] not in ("", "USD") or s in shocked):
            continue
        lines.append(f"  {s:<6} final {br.prices[0, a]:>12.6g} ({br.prices[0, a] / P0[a]:7.3f})  "
                     f"min {hp[:, a].min():>12.6g} ({hp[:, a].min() / P0[a]:7.3f})")
    return lines


#: Sources of :data:`HISTORY`.
SOURCES = {
    "CD9": "CoinDesk, 'Investors Flee Terra's Anchor as UST Stablecoin Repeatedly Loses $1 Peg', 9 May 2022 "
           "(Anchor deposits $14bn on Friday 6 May -> $8.7bn on Monday 9 May)",
    "CD10": "CoinDesk, 'UST Resumes Spiral After Quiet Day Orbiting 90 Cents', 10 May 2022 22:28 UTC (UST as low as "
            "0.68 on 9 May, below 0.80 late 10 May; LUNA $44.18 -> under $16 in the 24 hours to 10 May)",
    "TB": "The Block, 'Luna supply soared to 6.5 trillion coins before Terra's latest halt', 13 May 2022 (LUNA supply "
          "~340M until 9 May, +40M on Tuesday 10 May, 1.5bn Wednesday 11 May, 176bn Thursday 12 May, 6.5tn Friday 13 "
          "May when the chain was halted)",
    "CM": "cryptomaton, 'Terra LUNA and UST - latest developments following the crash', Medium, 13-15 May 2022 "
          "(LUNA just under $1 on 11 May, $0.01 on 12 May, $0.0001 on 13 May, $0.00028 on 14 May, $0.00023 on 15 May; "
          "UST $0.25 on 12 May, $0.14 on 13 May, $0.19 on 14 May, $0.16 on 15 May)",
    "W4B": "work4btc, 'Luna supply has inflated 425% since May 9th' (UST supply 18.6bn before the depeg, 11.9bn then; "
           "LUNA supply 343M -> 1.46bn), 11 May 2022",
    "LFG": "LFG statement, 16 May 2022, as reported by Gadgets360 and CoinCodex: reserve $3.16bn on 7 May; USDT and "
           "USDC sold for 50.2M UST and 52,189 BTC for 1,515.7M UST from 8 May, 33,206 BTC for 1,164.0M UST on 10 May; "
           "$251M left on 16 May (of which ~$87M not UST or LUNA)",
    "CCS": "cryptocoinstart, 16 May 2022 (LUNA $0.00018, UST $0.11)",
}
#: The day of May 2022 each preset's round 0 closes (the Terra preset's round r is the close of 7 + r May).
FIRST_DAY = {"terra_may_2022": 7}
#: What happened, per day (the close of that day where a source gives it; "~" an intraday level): UST price, LUNA
#: price, UST supply ($bn), LUNA supply, Anchor deposits ($bn), the LFG reserve spent ($bn, at its own prices), each
#: with its source key.
HISTORY: dict[str, dict[str, tuple[str, str]]] = {
    "9 May": {"UST": ("~0.68 low", "CD10"), "LUNA supply": ("~340M", "TB"), "Anchor": ("8.7", "CD9"),
              "LFG spent": ("~1.57 from 8 May", "LFG")},
    "10 May": {"UST": ("<0.80", "CD10"), "LUNA": ("<16", "CD10"), "LUNA supply": ("~380M", "TB"),
               "LFG spent": ("~2.73 (+1.16)", "LFG")},
    "11 May": {"LUNA": ("<1", "CM"), "UST supply": ("11.9", "W4B"), "LUNA supply": ("1.5bn", "TB")},
    "12 May": {"UST": ("0.25", "CM"), "LUNA": ("0.01", "CM"), "LUNA supply": ("176bn", "TB")},
    "13 May": {"UST": ("0.14", "CM"), "LUNA": ("0.0001", "CM"), "LUNA supply": ("6.5tn", "TB")},
    "14 May": {"UST": ("0.19", "CM"), "LUNA": ("0.00028", "CM")},
    "15 May": {"UST": ("0.16", "CM"), "LUNA": ("0.00023", "CM")},
    "16 May": {"UST": ("0.11", "CCS"), "LUNA": ("0.00018", "CCS"), "LFG spent": ("~2.91 ($0.25bn left)", "LFG")},
}


def day_table(net, path: Path) -> list[str]:
    """Per round of a preset whose shock reaches an algorithmic stablecoin (module docstring): the engine's steps
    run one by one on the preset's single scenario, the flows read between them; [] for other presets."""
    sc = core.load_scenario(path)
    c = compile_network(net)
    shocked = set(sc.price_shocks) | set(sc.depegs) | set(sc.pool_sales_usd)
    algo = [a for a in c.algo_idx if c.symbols[a] in shocked and a in c.pool_asset]
    if not algo:
        return []
    a = algo[0]
    bk, p = c.backing[a], list(c.pool_asset).index(a)
    coin, back = c.symbols[a], c.symbols[bk]
    holders = np.flatnonzero(c.run_prone & (c.H0[:, a] > 0))
    defender = [int(i) for i, d in c.defender_of if d == a]
    b = build_batch(c, [sc], net, True)
    s = initial_state(c, b)
    others = np.arange(c.k) != a
    spent = 0.0
    lines = [f"-- {path.stem}: per round (round r = the close of day r of the scenario); model | history [source]",
             f"{'r':>2} {coin + ' $':>8} {back + ' $':>10} {'holders':>8} {'arbs':>7} {coin + ' sup':>7} "
             f"{back + ' supply':>11} {'pool sale':>9} {'deposits':>8} {'reserve':>7}   history",
             f"{'':>2} {'':>8} {'':>10} {'$bn':>8} {'$bn':>7} {'$bn':>7} {'':>11} {'$bn':>9} {'$bn':>8} "
             f"{'spent':>7}"]
    day0 = FIRST_DAY.get(path.stem, 0)
    for r in range(b.horizon):
        flows = dict(held=0.0, arb=0.0, sale=0.0)
        for step in STEPS:
            supply, pool_units = s.supply[0, a], s.pool_res[0, p, 0]
            reserve = [s.H[0, i] * others for i in defender]  # the reserve's other tokens, units
            changes = step(c, s, b, r)
            if changes:
                s.apply(changes)
            name = step.__name__
            if name == "redeem_algorithmic":
                flows["held"] += (supply - s.supply[0, a]) * c.peg1[a]
            elif name == "redeem_pool_coins":
                flows["arb"] += (supply - s.supply[0, a]) * c.peg1[a]
            elif name == "sell_unserved_queue":
                flows["sale"] += (s.pool_res[0, p, 0] - pool_units) * c.peg1[a]
            elif name == "defend_pegs" and defender:
                # the units of its other tokens the reserve sold, at the prices its sale got: the proceeds that
                # bought the coin
                spent += sum(float(((held - s.H[0, i] * others) * s.P[0]).sum()) for held, i in zip(reserve, defender))
        deposits = deposits_value(c, s)[0, holders].sum() if len(holders) else 0.0
        day = f"{day0 + r} May" if day0 else f"r{r}"
        hist = HISTORY.get(day, {}) if day0 else {}
        told = "; ".join(f"{k} {v} [{src}]" for k, (v, src) in hist.items())
        lines.append(f"{r:>2} {s.P[0, a]:8.4f} {s.P[0, bk]:10.4g} {flows['held'] / 1e9:8.3f} {flows['arb'] / 1e9:7.3f} "
                     f"{s.supply[0, a] * c.peg1[a] / 1e9:7.3f} {s.supply[0, bk]:11.4g} {flows['sale'] / 1e9:9.3f} "
                     f"{deposits / 1e9:8.3f} {spent / 1e9:7.3f}   {day}: {told}")
    lines.append("sources: " + "; ".join(f"[{k}] {v}" for k, v in SOURCES.items()) if day0 else "")
    return lines


def main(argv: list[str]) -> None:
    out = []
    for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json")):
        net = core.datasets.network_of(core.load_scenario(p))  # each preset on the snapshot it names
        out += story(net, p) + day_table(net, p) + [""]
    text = "\n".join(out)
    if argv:
        Path(argv[0]).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])

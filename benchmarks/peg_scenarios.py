"""The peg channels on the 2022 network: three scenarios, their price paths and losses, and what history says.

1. ``usdc_svb_reserves``: 8% of USDC's reserves frozen at a failed bank over a
   weekend, resolved on Monday (SVB, 10-13 March 2023).
2. ``steth_sale_stress``: $1.5bn of stETH sold into the Curve pool while ETH
   falls 12% over three days, CeFi runs and thin markets (June 2022).
3. ``black_thursday_eth_crash``: a Black-Thursday-sized ETH fall (-43% at the
   trough) along a one-day path in two-hour rounds with keepers and
   liquidators at 10% of normal capacity (liquidity 0.1).

Plus Black Thursday on the 2020 network, where no PSM bounds DAI's premium.

For each: the path of every stablecoin and staking token (per round; stETH
also as a ratio to ETH), collateral liquidated and bad debt per protocol, and
the historical figures to compare with (sources in each scenario's
``description`` and below). The first two scenarios are files in
``benchmarks/scenarios/``; the third is the preset of that name.

Run: ``python benchmarks/peg_scenarios.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core  # noqa: E402
from core.engine import simulate_batch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "data" / "scenarios"
#: This benchmark's own scenarios (not presets): benchmarks/scenarios/
OWN = Path(__file__).resolve().parent / "scenarios"
KINDS = ("fiat_stable", "cdp_stable", "algorithmic_stable", "liquid_staking")

HISTORY = {
    "usdc_svb_reserves": "History (11-13 Mar 2023): USDC low 0.87-0.88 on Saturday 11 March, DAI ~0.90 and FRAX ~0.885 "
                         "through their USDC backing, all back above 0.99 on Monday 13 March after the deposit guarantee "
                         "(Circle, 'An Update on USDC and Silicon Valley Bank'; research notes §2, §5.7).",
    "steth_sale_stress": "History (June 2022): stETH 4.7-8% below ETH at the worst (0.935-0.95) while Celsius, 3AC and "
                         "others sold and the Curve pool thinned from $4.5bn to $0.6bn; Gauntlet put Aave's insolvency "
                         "at ~$2M only past a >20% depeg (research notes §4.3; Gauntlet, 11 Jun 2022).",
    "black_thursday_eth_crash": "History (12-13 Mar 2020): ETH -43% in a day; Maker auctioned ~$23M of ETH, 36% of "
                                "auctions cleared at zero bids, a 5.67M DAI deficit covered by minting MKR; DAI traded "
                                "1.06-1.12 (WhiteRabbit, 14 Mar 2020; research notes §4.1). In 2022 the PSM (room "
                                "~$6.8bn) holds DAI at par against the same deleveraging.",
    "black_thursday_2020": "History: DAI 1.06-1.12 on 12-13 March 2020 (no PSM until December 2020); 5.67M DAI of "
                           "bad debt at Maker.",
}


def report(net, path: Path, every: int = 1) -> list[str]:
    sc = core.load_scenario(path)
    br = simulate_batch(net, [sc], record=True)
    syms = list(br.asset_symbols)
    ids = br.entity_ids
    kinds = net.assets["kind"].to_numpy(dtype=object)
    h = br.history["prices"][0]                               # (rounds, k)
    rounds = np.arange(0, h.shape[0], every)
    hours = (rounds + 1) * sc.round_hours
    lines = [f"== {sc.name} ({net.name}; {h.shape[0]} rounds of {sc.round_hours:g}h)",
             "hours      " + " ".join(f"{x:>7.0f}" for x in hours)]
    P0 = net.assets["price_usd"].to_numpy(dtype=float)
    for a, s in enumerate(syms):
        if kinds[a] in KINDS:
            lines.append(f"{s:<10} " + " ".join(f"{h[r, a] / P0[a]:7.4f}" for r in rounds))
    if "stETH" in syms and "ETH" in syms:
        ratio = h[:, syms.index("stETH")] / h[:, syms.index("ETH")]
        lines.append("stETH/ETH  " + " ".join(f"{ratio[r]:7.4f}" for r in rounds))
    liq = np.sum(br.history["liq_by_proto"][0], axis=0)
    lines.append("liquidated: " + (", ".join(f"{ids[i]} ${liq[i] / 1e6:,.1f}M" for i in np.flatnonzero(liq > 1e5)) or "none"))
    bad = br.bad_debt[0]
    lines.append("bad debt:   " + (", ".join(f"{ids[i]} ${bad[i] / 1e6:,.1f}M" for i in np.flatnonzero(bad > 1e5)) or "none"))
    dr = br.default_round[0]
    fails = [f"r{dr[i]} {ids[i]}" for i in np.lexsort((ids.astype(str), dr)) if dr[i] >= 0]
    lines.append(f"defaults:   {', '.join(fails) or 'none'};  system loss ${br.total_loss[0] / 1e9:,.3f}bn")
    lines.append(HISTORY.get(sc.name, ""))
    return lines


def main() -> None:
    net = core.datasets.load("crypto-2022-05")
    out: list[str] = []
    for path, every in ((OWN / "usdc_svb_reserves.json", 1), (OWN / "steth_sale_stress.json", 1),
                        (SCEN / "black_thursday_eth_crash.json", 3)):
        out += report(net, path, every) + [""]
    net2020 = core.load_network(ROOT / "data" / "crypto-2020-03")
    out += report(net2020, SCEN / "black_thursday_2020.json")
    print("\n".join(out))


if __name__ == "__main__":
    main()

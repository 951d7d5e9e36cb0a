"""The story of each preset scenario on the snapshot it names (its "snapshot" field), as plain text.

For each preset in ``data/scenarios``: the failures in order (round, entity),
system loss, bad debt per protocol, supplier haircuts of pass-through pools, liquidated volume, the largest equity
gains (value created in a run with only falls is a defect unless it is a
debtor whose debt fell), and key prices (final and lowest, relative to the
reference) of stablecoins, liquid-staking and wrapped tokens, and of the
shocked assets.

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


def main(argv: list[str]) -> None:
    out = []
    for p in sorted((ROOT / "data" / "scenarios").glob("*_*.json")):
        net = core.datasets.network_of(core.load_scenario(p))  # each preset on the snapshot it names
        out += story(net, p) + [""]
    text = "\n".join(out)
    if argv:
        Path(argv[0]).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])

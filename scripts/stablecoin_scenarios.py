"""Three stress scenarios on the 2022 snapshot, run through the stablecoin, staking and Maker mechanisms alone.

Mechanism-level: each scenario drives the pure functions of ``core.mechanisms``
round by round with the snapshot's sizes (``data/crypto-2022-05``); it does
not run the cascade engine (no cross-protocol contagion, no market impact of
keepers' sales). Parameters not in the snapshot are stated here with their
source or marked [estimate].

    PYTHONPATH=. python scripts/stablecoin_scenarios.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.mechanisms import amm
from core.mechanisms.cdp_premium import cdp_premium_price, repay_demand
from core.mechanisms.fiat_reserves import fiat_redemption_round, impair_reserves, resolve_impairment
from core.mechanisms.liquid_staking import carry_floor_discount, lst_market_round
from core.mechanisms.maker_backstop import flop_auction, vow_round
from core.mechanisms.maker_clip import is_unsafe
from core.mechanisms.maker_flip import flip_round
from core.mechanisms.maker_liquidations import IlkParameters, maker_initial_state, maker_round
from core.mechanisms.psm import fractional_stable_value, psm_arbitrage, psm_backed_value

DATA = Path(__file__).resolve().parents[1] / "data" / "crypto-2022-05"


def _table(rows, columns):
    return pd.DataFrame(rows, columns=columns).to_string(index=False, float_format=lambda v: f"{v:,.4f}")


# --------------------------------------------------------------------------- 1. fiat issuer impairment
def fiat_issuer_impairment() -> str:
    """USDC loses 8.25 % of reserves (SVB's share in March 2023) on the May 2022 network, over a weekend.

    One round = one day, starting Friday night. USDC $49bn (snapshot); reserves split 20 % cash at banks /
    80 % T-bills [estimate]; the frozen share sits in the bank deposits. Rails shut Saturday and Sunday,
    the impairment is resolved (backstop) before Monday. DAI: PSM share 3.2/8.5 (snapshot MAKER_PSM and DAI),
    PSM room to a $10bn line [estimate], DAI depth $0.3bn (snapshot adv). FRAX: collateral ratio 0.87
    (snapshot FRAX note). USDT: no link, stays at par.
    """
    supply = 49e9
    reserves = np.array([[0.2 * supply, 0.8 * supply]])
    liquid, frozen = impair_reserves(reserves, np.array([[0.0825 / 0.2, 0.0]]))
    S, Q, p = np.array([supply]), np.array([0.0]), np.array([1.0])
    psm_bal, dai_supply = 3.2e9, 8.5e9
    rows = []
    days = [("Sat", False, 1.0, False), ("Sun", False, 0.0, False), ("Mon", True, 0.0, True), ("Tue", True, 0.0, False)]
    for name, open_, closed_after, resolve in days:
        if resolve:
            liquid, frozen = resolve_impairment(liquid, frozen)
        r = fiat_redemption_round(liquid, frozen, S, Q, p, capacity=2.34e9, is_open=open_,
                                  closed_rounds_after=closed_after, run_intensity=0.5)
        liquid, frozen, S, Q, p = r.liquid, r.frozen, r.supply, r.queue, r.price
        usdc = float(p[0])
        blend = float(psm_backed_value(psm_bal / dai_supply, usdc))
        arb = psm_arbitrage(blend, usdc, psm_bal, dai_supply, 0.3e9, line=10e9)
        psm_bal, dai_supply = float(arb.psm_balance), float(arb.dai_supply)
        frax = float(fractional_stable_value(0.87, usdc))
        rows.append((name, usdc, float(arb.price), frax, 1.0, float(r.paid[0]) / 1e9, float(Q[0]) / 1e9,
                     psm_bal / dai_supply))
    return _table(rows, ["day", "USDC", "DAI", "FRAX", "USDT", "paid $bn", "queue $bn", "PSM share"])


# --------------------------------------------------------------------------- 2. stETH sale under stress
def steth_sale(total_usd=1.5e9, days=3, arbitrage_eth_per_day=50e3) -> str:
    """$1.5bn of stETH sold over three days into the May 2022 Curve pool, LPs withdrawing under imbalance.

    Pool 851k stETH / 786k ETH, A = 30 (snapshot CRV_STETH); ETH $2,750 (snapshot). Floor without
    withdrawals: carry over one year at 10 % funding against 4 % staking yield = 5.45 % [estimates];
    arbitrage capital 50k ETH a day [estimate], arriving from the first day and held as a position
    (:func:`~core.mechanisms.lst_holdings.held_arbitrage`). Compared with the same sale into a pool that keeps its depth
    and has no arbitrage (the engine before this issue).
    """
    eth = 2750.0
    per_day = total_usd / days / eth
    x_new = np.array([851483.888979, 785985.128288])
    x_old = x_new.copy()
    floor = float(carry_floor_discount(1.0, 0.10, 0.04))
    rows = []
    held = 0.0  # stETH the arbitrageurs hold to redemption (core.mechanisms.lst_holdings), bought since the sale began
    for d in range(days + 4):
        sell = per_day if d < days else 0.0
        r = lst_market_round(x_new, 30.0, sell, floor_discount=floor, arbitrage_capacity=arbitrage_eth_per_day,
                             held=held, capital_days=d + 1.0)
        held = r.held
        x_new = r.balances
        x_old = amm.stableswap_swap(x_old, 30.0, 0, 1, sell).balances
        old_price = float(amm.stableswap_price(x_old, 30.0, 0, 1))
        rows.append((d + 1, sell * eth / 1e9, float(r.price), old_price, float(r.lp_withdrawn),
                     float(x_new.sum()) * eth / 1e9, float(r.arbitrage_in) / 1e3))
    return _table(rows, ["day", "sold $bn", "stETH/ETH", "no-floor pool", "LP withdrawn", "pool $bn", "arb kETH"])


# --------------------------------------------------------------------------- 3. Black-Thursday-sized ETH fall
ILKS_2022 = IlkParameters(  # ETH-A, ETH-B, ETH-C
    mat=np.array([1.45, 1.30, 1.70]),            # snapshot cohorts (LT = 1/mat)
    chop=np.array([1.13, 1.13, 1.13]),           # snapshot cohorts
    hole=np.array([40e6, 25e6, 30e6]),           # [estimate]; ETH-B 15M in 2021 (forum t/8477)
    dust=np.array([15e3, 40e3, 15e3]),           # [estimate]
    buf=1.2, tail=8400.0, cusp=0.4, step=90.0, cut=0.99,   # forum t/7628, t/8477
    chip=0.001, tip=300.0,                       # forum t/8274
    Hole=100e6,                                  # forum t/8477
)


def black_thursday_day(fall=0.43, keepers_usd_per_hour=10e6, hours=24, after=24, style="clip") -> tuple[str, dict]:
    """ETH falls 43 % along a one-day path (hourly rounds, geometric), OSM one hour behind, keepers at 10 %.

    The path is followed by ``after`` hours at the day's low, for the auctions' backlog to clear.

    Snapshot Maker ETH-A/B/C cohorts ($4.2bn debt). Full keeper capacity taken as $100M an hour
    (``Hole`` cleared in about 40 minutes, forum t/7628) [estimate]; 10 % of it is $10M an hour. Surplus buffer
    $70M (snapshot MAKER insurance fund), MKR 0.977M at $1,338.70 (the snapshot's
    dated close of 6 May 2022, maker_ilks.csv; $1,500 [estimate] before session 38). ``style="flip"``: the 2020 rules
    instead (every unsafe vault auctioned at once, English auctions, zero bids for the share keepers cannot
    reach).
    """
    c = pd.read_csv(DATA / "cohorts.csv")
    c = c[(c.protocol == "MAKER") & c.id.str.contains(r"\.ETH-")]
    ilk = c.id.str.extract(r"ETH-([ABC])")[0].map({"A": 0, "B": 1, "C": 2}).to_numpy()
    ink = c.collateral_amount.to_numpy()[None]
    debt = c.debt_amount.to_numpy(float)[None]
    p0 = 2750.0
    path = p0 * (1 - fall) ** (np.minimum(np.arange(1, hours + after + 1), hours) / hours)
    s = maker_initial_state(ink, debt, 3, 70e6, 0.977e6, 1338.7)
    feed = p0
    rows, totals = [], dict(liquidated=0.0, sold=0.0, bad=0.0, penalty=0.0, minted=0.0)
    dai_depth = 0.3e9
    flip_ink, flip_debt = ink.copy(), debt.copy()
    surplus, deficit, mkr_supply, mkr = np.array([70e6]), np.array([0.0]), np.array([0.977e6]), np.array([1338.7])
    for h, mkt in enumerate(path):
        if style == "clip":
            r = maker_round(s, ilk, ILKS_2022, np.full_like(ink, feed), np.full_like(ink, mkt), round_seconds=3600.0,
                            keeper_capacity_usd=keepers_usd_per_hour, keeper_margin=0.01)
            s = r.state
            liq, sold, bad = r.barked_debt.sum(), r.collateral_sold.sum() * mkt, float(r.bad_debt[0])
            totals["penalty"] += float(r.penalty_income[0])
            totals["minted"] += float(r.mkr_minted[0])
            mkr = float(s.mkr_price[0])
            vault_coll, vault_debt = s.ink * mkt, s.debt
        else:
            unsafe = is_unsafe(flip_ink, feed, ILKS_2022.mat[ilk], flip_debt)
            tab = np.where(unsafe, flip_debt * ILKS_2022.chop[ilk], 0.0)
            lot = np.where(unsafe, flip_ink, 0.0)
            fr = flip_round(tab, lot, mkt, keeper_capacity_usd=keepers_usd_per_hour, keeper_margin=0.01)
            due = np.where(unsafe, flip_debt, 0.0)
            liq, sold = due.sum(), (fr.collateral_sold - fr.zero_bid_collateral).sum() * mkt
            bad = float(np.maximum(due - fr.raised, 0.0).sum())
            vow = vow_round(surplus, deficit, fr.raised, due, 0.0)
            fl = flop_auction(vow.deficit, mkr_supply, mkr)
            surplus, deficit, mkr_supply, mkr = vow.surplus, fl.deficit, mkr_supply + fl.minted, fl.mkr_price
            totals["penalty"] += float(vow.penalty_income[0])
            totals["minted"] += float(fl.minted[0])
            flip_ink, flip_debt = np.where(unsafe, 0.0, flip_ink), np.where(unsafe, 0.0, flip_debt)
            mkr = mkr
            vault_coll, vault_debt = flip_ink * mkt, flip_debt
        totals["liquidated"] += float(liq)
        totals["sold"] += float(sold)
        totals["bad"] += bad
        demand = float(repay_demand(vault_coll, vault_debt, ILKS_2022.mat[ilk] * 1.1, 0.1)[0])
        dai_no_psm = float(cdp_premium_price(2.0, demand, dai_depth))
        dai_psm = float(cdp_premium_price(2.0, demand, dai_depth, psm_share=0.376, psm_mint_room_usd=6.8e9))
        rows.append((h + 1, mkt, float(liq) / 1e6, float(sold) / 1e6, bad / 1e6, float(np.ravel(mkr)[0]),
                     dai_no_psm, dai_psm))
        feed = mkt
    left = is_unsafe(vault_coll / mkt, mkt, ILKS_2022.mat[ilk], vault_debt)
    totals["unsafe_debt_left"] = float(np.where(left, vault_debt, 0.0).sum())
    totals["under_auction"] = float(s.tab.sum()) if style == "clip" else 0.0
    cols = ["hour", "ETH", "barked $M", "sold $M", "bad debt $M", "MKR", "DAI no PSM", "DAI with PSM"]
    table = _table(rows, cols).splitlines()
    active = [i for i, row in enumerate(rows, 1) if row[2] > 0 or row[3] > 0 or row[4] > 0]
    keep = table[:1] + [ln for i, ln in enumerate(table[1:], 1) if i in active or i % 6 == 0]
    return "\n".join(keep), totals


def main() -> None:
    print("1. Fiat issuer loses 8.25 % of reserves (USDC, weekend, backstop before Monday)")
    print(fiat_issuer_impairment(), "\n")
    for total in (1.5e9, 2.0e9):
        print(f"2. ${total / 1e9:.1f}bn of stETH sold over three days (May 2022 pool, LPs withdraw, carry floor 5.45 %)")
        print(steth_sale(total), "\n")
    for style in ("clip", "flip"):
        table, totals = black_thursday_day(style=style)
        print(f"3{'a' if style == 'clip' else 'b'}. ETH -43 % in a day, keepers at 10 % ({style} auctions)")
        print(table)
        print({k: round(v / 1e6, 2) for k, v in totals.items()}, "(USD millions; minted in MKR millions)\n")


if __name__ == "__main__":
    main()

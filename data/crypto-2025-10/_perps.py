"""Perpetual positions and venue rules of the ``crypto-2025-10`` snapshot (used by ``_build.py``).

What is sourced and what is estimated
-------------------------------------
* **Open interest by venue and market** (one side; a perpetual's longs equal its shorts). Sourced
  where a source states it for a date within six weeks of 2025-10-01: BTC futures OI on 6 Oct 2025
  of Binance $16.8bn, Bybit $10.5bn, OKX $5.1bn, Bitget $6.3bn (CoinGlass via bitcoinmm.news);
  Hyperliquid's total OI $13.8bn before the crash, about a third in alts (catenaa, moneycheck);
  Aster's $4.86bn and Lighter's $2.08bn on 6 Oct (phemex). ETH OI on Binance $12.26bn, OKX
  $4.12bn, Bybit ~$5.5bn (CoinGlass via cryptooneclick, undated: late September 2025 by the
  options expiries it quotes) are used as estimates. Every other split (SOL, HYPE, the alt
  basket, the split of a venue's total by market) is our estimate, stated in the row's note.
* **Who holds it** is a distribution, always an estimate: no venue publishes leverage by account.
  Longs are spread over leverage buckets (cohorts of anonymous accounts) and shorts over the named
  accounts where public (Ethena's delta hedge, the market makers Wintermute and ABC) and
  anonymous cohorts. The buckets come from the venues' leverage caps (Hyperliquid: BTC 40x,
  ETH 25x, SOL 20x, HYPE and most alts 10x), from the leverage of the accounts Hyperliquid ADL'd
  on 10 October (the profitable side: median 0.15x, p95 3.22x, p99 13.65x; ConejoCapital/
  HyperMultiAssetedADL) and from the long share of the liquidations of 10-11 October (83.9-91%,
  Amberdata, CoinGlass): the long side is the leveraged one. They are NOT fitted to the reported
  liquidations, which the preset test compares with the model's.
* **Entry prices** are the reference prices (positions opened at the snapshot: no unrealised PnL
  on 1 October), an estimate.
"""

from __future__ import annotations

from typing import Callable

AS_OF = "2025-10-01"
EST = "sfm estimate (see note; README 'Estimates')"

SRC = {
    "BTC-OI-Oct6": "https://bitcoinmm.news/bitcoin-derivatives-boom-futures-open-interest-surpasses-95-billion-b.476.html",
    "ETH-OI-Sep": "https://cryptooneclick.com/ethereum/ethereum-futures-stack-up-options-flow-eyes-4k-floor-6k-dream.html",
    "HL-OI": "https://catenaa.com/markets/cryptocurrencies/hyperliquid-liquidations-spike-after-7-4b-market-cascade",
    "PerpDEX-Oct6": "https://phemex.com/news/article/aster-leads-perpetual-dex-market-with-4178b-daily-volume-24589",
    "dYdX-OI": "https://www.gate51.site/de/news/detail/11915194",
    "HL-ADL": "https://github.com/ConejoCapital/HyperMultiAssetedADL (COMPLETE_METHODOLOGY.md @014cab0)",
    "HL-margin": "https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margining",
    "HL-liq": "https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations",
    "HL-lev": "https://crypto.report/altcoins/hype-token-drops-8-5-after-whale-liquidation-causes-4m-loss-in-hyperliquid-vault/",
    "HLP-Oct": "http://bitchainhorizon.com/understanding-hyperliquids-hlp-vault",
    "Binance-collateral": "https://www.binance.bh/en/square/post/30886289453337",
    "Binance-oracle": "https://www.aicoin.com/en/news-flash/2575923",
    "USDe-book": "https://insidecrypto.net/exclusive-orderbook-data-reveals-how-thin-liquidity-and-an-in-house-oracle-drove-usdes-binance-crash-in-october-2025",
    "Collateral-liq": "https://theblockchainbeat.com/?p=27048",
    "Binance-MM": "https://www.binance.com/en/futures/trading-rules/perpetual/leverage-margin",
    "Ethena-hedge": "https://gov.ethenafoundation.com/t/hyperliquid-ethena-liquidity-and-usde-integration/268",
    "MM-losses": "https://coineras.com/news/879-64m-liquidated-oct-10-crash-hyperliquid",
    "Wintermute-flows": "https://web.gate.it/tr/news/detail/17548846",
    "Wintermute-ADL": "https://btc.eu.com/binance-faces-potential-lawsuits-after-october-11-crypto-crash-wintermute-ceo-calls-it-the-largest-liquidation-wave-ever",
    "PURR-S1": "https://defi-planet.com/2025/10/hyperliquid-strategies-seeks-1b-to-expand-hype-treasury-eyes-lead-in-decentralized-derivatives-market",
    "dYdX-rules": "https://docs.dydx.exchange/concepts/trading/margin",
    "Lighter": "https://backend.decentralised.news/?p=36283",
}


def s(*tags: str) -> str:
    return "; ".join(SRC[t] for t in tags)


# -- open interest, one side, USD at reference prices: venue -> market -> (OI, flag, source, note) ----------
E, S_ = "estimate", "sourced"
OI: dict[str, dict[str, tuple[float, str]]] = {
    "HYPERLIQUID": {
        "BTC": (3.8e9, "Hyperliquid OI $13.8bn before the crash, ~1/3 alts [S:HL-OI]; BTC share 27.5% [E]"),
        "ETH": (2.6e9, "Hyperliquid OI $13.8bn [S:HL-OI]; ETH share 18.8% [E]"),
        "SOL": (1.0e9, "Hyperliquid OI $13.8bn [S:HL-OI]; SOL share 7.2% [E]"),
        "HYPE": (1.8e9, "Hyperliquid OI $13.8bn [S:HL-OI]; HYPE share 13.0% [E]"),
        "ALTS": (4.6e9, "Hyperliquid OI $13.8bn, ~1/3 in alts = $4.6bn [S:HL-OI]"),
    },
    "BINANCE_FUT": {
        "BTC": (16.8e9, "Binance BTC futures OI $16.8bn on 6 Oct 2025 (CoinGlass) [S:BTC-OI-Oct6]"),
        "ETH": (12.26e9, "Binance ETH futures OI $12.26bn (CoinGlass, undated, late Sep 2025) [S:ETH-OI-Sep, off-date use: E]"),
        "SOL": (2.5e9, "Binance SOL perps OI [E]: ~15% of its BTC OI"),
        "ALTS": (8.0e9, "Binance alt perps OI [E]: ~20% of a ~$40bn book"),
    },
    "BYBIT_FUT": {
        "BTC": (10.5e9, "Bybit BTC futures OI $10.5bn on 6 Oct 2025 [S:BTC-OI-Oct6]"),
        "ETH": (5.5e9, "Bybit ETH futures OI 'mid-$5bn' (CoinGlass, undated, late Sep 2025) [S:ETH-OI-Sep, used as E]"),
        "SOL": (1.5e9, "Bybit SOL perps OI [E]"),
        "ALTS": (5.0e9, "Bybit alt perps OI [E]"),
    },
    "OKX_FUT": {
        "BTC": (5.1e9, "OKX BTC futures OI $5.1bn on 6 Oct 2025 [S:BTC-OI-Oct6]"),
        "ETH": (4.12e9, "OKX ETH futures OI $4.12bn (CoinGlass, undated, late Sep 2025) [S:ETH-OI-Sep, used as E]"),
        "SOL": (1.0e9, "OKX SOL perps OI [E]"),
        "ALTS": (3.0e9, "OKX alt perps OI [E]"),
    },
    "BITGET_FUT": {
        "BTC": (6.3e9, "Bitget BTC futures OI $6.3bn on 6 Oct 2025 [S:BTC-OI-Oct6]"),
        "ETH": (3.0e9, "Bitget ETH futures OI [E]: about half its BTC OI, as on Binance/OKX"),
        "SOL": (0.8e9, "Bitget SOL perps OI [E]"),
        "ALTS": (3.0e9, "Bitget alt perps OI [E]"),
    },
    "ASTER": {
        "BTC": (1.5e9, "Aster OI $4.86bn on 6 Oct 2025 [S:PerpDEX-Oct6]; BTC share [E]"),
        "ETH": (1.2e9, "Aster OI $4.86bn [S:PerpDEX-Oct6]; ETH share [E]"),
        "SOL": (0.3e9, "Aster OI $4.86bn [S:PerpDEX-Oct6]; SOL share [E]"),
        "ALTS": (1.86e9, "Aster OI $4.86bn [S:PerpDEX-Oct6]; the rest in alts (incl. ASTER) [E]"),
    },
    "LIGHTER": {
        "BTC": (0.8e9, "Lighter OI $2.08bn on 6 Oct 2025 [S:PerpDEX-Oct6]; BTC share [E]"),
        "ETH": (0.7e9, "Lighter OI $2.08bn [S:PerpDEX-Oct6]; ETH share [E]"),
        "SOL": (0.2e9, "Lighter OI $2.08bn [S:PerpDEX-Oct6]; SOL share [E]"),
        "ALTS": (0.38e9, "Lighter OI $2.08bn [S:PerpDEX-Oct6]; the rest in alts [E]"),
    },
    "DYDX": {
        "BTC": (0.09e9, "dYdX OI ~$200M (Q2 2025, Coin Metrics [S:dYdX-OI], off-date); BTC share [E]"),
        "ETH": (0.06e9, "dYdX OI ~$200M [S:dYdX-OI]; ETH share [E]"),
        "SOL": (0.02e9, "dYdX OI ~$200M [S:dYdX-OI]; SOL share [E]"),
        "ALTS": (0.03e9, "dYdX OI ~$200M [S:dYdX-OI]; the rest in alts [E]"),
    },
}
OI_SOURCE = {"HYPERLIQUID": s("HL-OI"), "BINANCE_FUT": s("BTC-OI-Oct6", "ETH-OI-Sep"), "BYBIT_FUT": s("BTC-OI-Oct6", "ETH-OI-Sep"),
             "OKX_FUT": s("BTC-OI-Oct6", "ETH-OI-Sep"), "BITGET_FUT": s("BTC-OI-Oct6"), "ASTER": s("PerpDEX-Oct6"),
             "LIGHTER": s("PerpDEX-Oct6"), "DYDX": s("dYdX-OI")}

# -- leverage buckets of the anonymous sides: (bucket label, leverage, share of the side's anonymous notional) --
LONGS_DEX = [("2x", 2.0, 0.20), ("4x", 4.0, 0.20), ("8x", 8.0, 0.25), ("15x", 15.0, 0.20), ("30x", 30.0, 0.15)]
LONGS_CEX = [("2x", 2.0, 0.30), ("4x", 4.0, 0.25), ("8x", 8.0, 0.20), ("15x", 15.0, 0.15), ("35x", 35.0, 0.10)]
SHORTS = [("1.5x", 1.5, 0.50), ("4x", 4.0, 0.25), ("8x", 8.0, 0.15), ("15x", 15.0, 0.10)]
BUCKET_NOTE = {
    "long-dex": "DEX long profile 2/4/8/15/30x -> 20/20/25/20/15% of the anonymous longs",
    "long-cex": "CEX long profile 2/4/8/15/35x -> 30/25/20/15/10% (more basis and hedged books than on a DEX)",
    "short": "short profile 1.5/4/8/15x -> 50/25/15/10% of the anonymous shorts (the short side is the hedged one)",
}
#: Hyperliquid's leverage caps (BTC 40x, ETH 25x since March 2025; SOL 20x; HYPE and most alts 10x);
#: maintenance margin is half the initial margin at the cap (Hyperliquid docs, margining).
HL_MAX = {"BTC": 40.0, "ETH": 25.0, "SOL": 20.0, "HYPE": 10.0, "ALTS": 10.0}
DEX = {"HYPERLIQUID", "ASTER", "LIGHTER", "DYDX"}

# -- named accounts ----------------------------------------------------------------------------------------
#: Ethena's delta hedge: short perps against its spot/LST collateral, 1x (margin = the collateral, in the
#: market's own token, so a rise never liquidates it). Size: 50% of its $14.9bn backing [E] (perps were the
#: main hedge; the split by venue for October 2025 was not found), split BTC/ETH/SOL 35/55/10 [E] and across
#: venues pro rata to their BTC+ETH OI, Hyperliquid capped at 10% of its OI per asset (Ethena's 2024 cap).
ETHENA_HEDGE_USD = 0.5 * 14.83e9 * 1.0056
ETHENA_SPLIT = {"BTC": 0.35, "ETH": 0.55, "SOL": 0.10}
ETHENA_VENUES = ("BINANCE_FUT", "BYBIT_FUT", "OKX_FUT", "BITGET_FUT", "HYPERLIQUID")
#: Wintermute on Binance: short perps hedging its spot inventory, USDT cross margin at 4x [E]; it said it was
#: "ADL'd at completely ridiculous prices" on Binance.
WINTERMUTE_SHORTS = {"BTC": 400e6, "ETH": 300e6, "SOL": 100e6, "ALTS": 200e6}
WINTERMUTE_MARGIN = 250e6
#: ABC, a top Hyperliquid liquidity provider: lost $35M, -73%, on 10 October -> account $47.9M [S:MM-losses].
#: Its book is our estimate: a liquidity provider quoting alts holds the inventory the crowd sells to it
#: (long alts and HYPE), half-hedged short in BTC, cross margin in USDC.
ABC_ACCOUNT = 35e6 / 0.73
ABC_BOOK = {("ALTS", "long"): 60e6, ("HYPE", "long"): 30e6, ("BTC", "short"): 45e6}
#: Binance unified-margin accounts posting USDe and wBETH as collateral for longs. The amounts posted were not
#: found; the positions liquidated with them on 10 October were: USDe $346M, wBETH $169M, BNSOL $77M (Rena Labs
#: via Cointelegraph Research). We take the collateral at risk as $150M of USDe and $75M of wBETH [E], which at
#: 3x and 8x carries $825M and $412M of longs, about 2.4 times what was liquidated.
BINANCE_COLLATERAL = {"USDe": 150e6, "wBETH": 75e6}
BINANCE_COLLATERAL_LEVERAGE = (("3x", 3.0, 0.5), ("8x", 8.0, 0.5))
BINANCE_COLLATERAL_MARKETS = {"BTC": 0.3, "ETH": 0.3, "ALTS": 0.4}


def ethena_hedge() -> dict[tuple[str, str], float]:
    """Ethena's short by (venue, market), USD: its share of the backing, split by market and by venue's BTC+ETH OI."""
    weight = {v: OI[v]["BTC"][0] + OI[v]["ETH"][0] for v in ETHENA_VENUES}
    total_w = sum(weight.values())
    out: dict[tuple[str, str], float] = {}
    for v in ETHENA_VENUES:
        for m, share in ETHENA_SPLIT.items():
            amt = ETHENA_HEDGE_USD * share * weight[v] / total_w
            out[(v, m)] = min(amt, 0.10 * OI[v][m][0]) if v == "HYPERLIQUID" else amt
    return out


def ethena_spot_usd() -> dict[str, float]:
    """The spot collateral behind Ethena's shorts, by market (USD at reference prices): one unit per unit short."""
    out: dict[str, float] = {}
    for (_, m), amt in ethena_hedge().items():
        out[m] = out.get(m, 0.0) + amt
    return out


def positions(P: dict[str, float]) -> list[dict]:
    """Every position row: per venue and market, named accounts first, then anonymous cohorts."""
    rows: list[dict] = []

    def add(pid, venue, account, market, side, notional, lev, *, mode="isolated", margin_asset="", bucket="", mm=None,
            flag=E, source=EST, note=""):
        size = notional / P[market]
        margin_usd = notional / lev
        margin = margin_usd / P[margin_asset] if margin_asset else margin_usd
        rows.append(dict(id=pid, venue=venue, account=account, market=market, side=side, size=round(size, 6),
                         entry_price=P[market], margin=round(margin, 6), margin_asset=margin_asset, margin_mode=mode,
                         leverage_bucket=bucket, maintenance_margin=mm, as_of=AS_OF, source=source, flag=flag,
                         note=note))

    ethena = ethena_hedge()

    for venue, markets in OI.items():
        dex = venue in DEX
        for market, (oi, oi_note) in markets.items():
            mm = 0.5 / HL_MAX[market] if venue == "HYPERLIQUID" else None
            cap = HL_MAX[market] if venue == "HYPERLIQUID" else 50.0
            src_oi = OI_SOURCE[venue]
            base = f"{venue} {market}: one-side OI ${oi/1e9:.2f}bn ({oi_note})."
            # -- shorts: named accounts, then anonymous cohorts
            named_short = 0.0
            e_amt = ethena.get((venue, market), 0.0)
            if e_amt > 0:
                add(f"{venue}.{market}.short.ETHENA", venue, "ETHENA", market, "short", e_amt, 1.0, mode="cross",
                    margin_asset=market, bucket="1x", mm=mm, source=s("Ethena-hedge") + "; " + src_oi,
                    note=f"{base} Ethena's delta hedge ${e_amt/1e6:,.0f}M: 50% of its $14.9bn backing [E] split BTC/ETH/SOL "
                         "35/55/10 [E] and by venue pro rata to BTC+ETH OI, Hyperliquid capped at 10% of its OI (Ethena's cap "
                         "[S:Ethena-hedge, 2024]); margin = its spot collateral in the market's token at 1x [E].")
                named_short += e_amt
            if venue == "BINANCE_FUT" and market in WINTERMUTE_SHORTS:
                w = WINTERMUTE_SHORTS[market]
                rows_margin = WINTERMUTE_MARGIN * w / sum(WINTERMUTE_SHORTS.values())
                add(f"{venue}.{market}.short.WINTERMUTE", venue, "WINTERMUTE", market, "short", w, w / rows_margin,
                    mode="cross", bucket="4x", source=s("Wintermute-ADL"),
                    note=f"{base} Wintermute's short hedge of its spot inventory ${w/1e6:,.0f}M [E], USDT cross margin "
                         f"${WINTERMUTE_MARGIN/1e6:,.0f}M over its Binance rows (4x) [E]; ADL'd on Binance on 10 Oct [S:Wintermute-ADL].")
                named_short += w
            if venue == "HYPERLIQUID" and (market, "short") in ABC_BOOK:
                a = ABC_BOOK[(market, "short")]
                add(f"{venue}.{market}.short.ABC", venue, "ABC", market, "short", a, sum(ABC_BOOK.values()) / ABC_ACCOUNT,
                    mode="cross", mm=mm, source=s("MM-losses"),
                    note=f"{base} ABC's BTC hedge ${a/1e6:,.0f}M [E]; cross margin: its $47.9M account [S:MM-losses] shared by its rows.")
                named_short += a
            rest = oi - named_short
            if rest < 0:
                raise ValueError(f"{venue} {market}: named shorts exceed the open interest")
            for label, lev, share in SHORTS:
                add(f"{venue}.{market}.short.{label}", venue, "", market, "short", rest * share, min(lev, cap), bucket=label,
                    mm=mm, source=src_oi + "; " + s("HL-ADL"),
                    note=f"{base} Anonymous shorts ${rest/1e9:.2f}bn = OI - named shorts; {BUCKET_NOTE['short']} [E] "
                         "(Hyperliquid's ADL'd accounts: median 0.15x, p95 3.22x, p99 13.65x [S:HL-ADL]).")
            # -- longs: named accounts, Binance's collateral-token accounts, then anonymous cohorts
            named_long = 0.0
            if venue == "HYPERLIQUID" and (market, "long") in ABC_BOOK:
                a = ABC_BOOK[(market, "long")]
                add(f"{venue}.{market}.long.ABC", venue, "ABC", market, "long", a, sum(ABC_BOOK.values()) / ABC_ACCOUNT,
                    mode="cross", mm=mm, source=s("MM-losses"),
                    note=f"{base} ABC's inventory ${a/1e6:,.0f}M long [E] (a liquidity provider holds what the crowd sells it); "
                         "cross margin: its $47.9M account [S:MM-losses] shared by its rows.")
                named_long += a
            if venue == "BINANCE_FUT" and market in BINANCE_COLLATERAL_MARKETS:
                for token, usd in BINANCE_COLLATERAL.items():
                    for label, lev, share in BINANCE_COLLATERAL_LEVERAGE:
                        margin_usd = usd * share * BINANCE_COLLATERAL_MARKETS[market]
                        add(f"{venue}.{market}.long.{token}.{label}", venue, "", market, "long", margin_usd * lev, lev,
                            mode="cross", margin_asset=token, bucket=label, source=s("Binance-oracle", "Binance-collateral", "Collateral-liq"),
                            note=f"{base} Unified-margin longs with {token} collateral: ${usd/1e9:.1f}bn of {token} posted on "
                                 f"Binance [E; amounts not found; liquidations with it on 10 Oct: USDe $346M, wBETH $169M, S:Collateral-liq], "
                                 f"{share:.0%} at {label}, {BINANCE_COLLATERAL_MARKETS[market]:.0%} in this market [E]. Binance marked it "
                                 "on its own order book until 14 Oct [S:Binance-collateral].")
                        named_long += margin_usd * lev
            rest = oi - named_long
            profile = LONGS_DEX if dex else LONGS_CEX
            for label, lev, share in profile:
                lev_used = min(lev, cap)
                add(f"{venue}.{market}.long.{label}", venue, "", market, "long", rest * share, lev_used,
                    bucket=label if lev_used == lev else f"{cap:g}x", mm=mm,
                    source=src_oi + "; " + s("HL-ADL"),
                    note=f"{base} Anonymous longs ${rest/1e9:.2f}bn; {BUCKET_NOTE['long-dex' if dex else 'long-cex']} [E]"
                         + (f", capped at Hyperliquid's {cap:g}x [S:HL-lev]" if lev_used < lev else "") + ".")
    return rows


def venues() -> list[dict]:
    """The rules of each perpetuals venue (estimates: rules pages are undated; the note names them)."""
    def row(venue, mm, rule, policy, note, *, source, vault=0.0, vault_entity="", own=1.0):
        return dict(venue=venue, maintenance_margin=mm, adl_rule=rule, backstop_vault_usd=vault,
                    backstop_vault_entity=vault_entity, collateral_policy=policy, own_book_share=own,
                    as_of=AS_OF, source=source, flag=E, note=note)

    return [
        row("HYPERLIQUID", 0.0125, "backstop_vault", "index", source=s("HL-margin", "HL-liq", "HLP-Oct", "HL-lev"),
            vault=300e6, vault_entity="HLP",
            note="Maintenance = half the initial margin at max leverage: BTC 40x -> 1.25% (rows carry ETH 2%, SOL 2.5%, HYPE/alts 5%) "
                 "[S:HL-margin, undated; caps since Mar 2025 S:HL-lev]. Liquidations go to the HLP liquidator vault, then ADL "
                 "(per asset) [S:HL-liq]; vault = HLP's ~$300M TVL (Oct 2025 [S:HLP-Oct]) although only a liquidator sub-vault "
                 "is at risk [E]. Collateral: USDC at index."),
        row("BINANCE_FUT", 0.004, "adl", "order_book", source=s("Binance-MM", "Binance-oracle", "Binance-collateral", "USDe-book"),
            own=1.0,
            note="Maintenance 0.40% (BTCUSDT first tier, undated rules page) [E]; insurance fund then ADL. Collateral at its own "
                 "order book: USDe on the USDe/USDT book, wBETH 20% book / 80% rate, BNSOL 30/70, until the move to the "
                 "conversion rate on 14 Oct [S:Binance-oracle; S:Binance-collateral]. own_book_share left at the default 1 (its "
                 "book as deep as the token's daily volume, times the round's liquidity) [E]: the ~$89M quoted on the USDe/USDT "
                 "book before the crash [S:USDe-book] is resting depth near the mid, while ~780M USDe traded there in 90 minutes "
                 "at 0.75-0.98, so the depth that absorbed the sales was larger; it was not measured."),
        row("BYBIT_FUT", 0.005, "adl", "index", source=EST,
            note="Maintenance 0.5% first tier [E]; insurance fund then ADL [E]. Collateral at index [E] (USDe held ~0.92 there)."),
        row("OKX_FUT", 0.004, "adl", "index", source=EST,
            note="Maintenance 0.4% first tier [E]; insurance fund then ADL (its API exposes ADL triggers) [E]. Collateral at index [E]."),
        row("BITGET_FUT", 0.004, "adl", "index", source=EST,
            note="Maintenance 0.4% first tier [E]; protection fund then ADL [E]. Collateral at index [E]."),
        row("DYDX", 0.03, "adl", "index", source=s("dYdX-rules"),
            note="Maintenance 3% on BTC/ETH (dYdX v4 docs, undated) [E]; insurance fund (size unknown, 0) then deleveraging [E]."),
        row("LIGHTER", 0.006, "adl", "index", source=s("Lighter"),
            note="Maintenance 0.6% [E]; LLP liquidates, ADL was used on 10 Oct [S:Lighter]; LLP not modelled as a vault [E]."),
        row("ASTER", 0.005, "adl", "index", source=EST, note="Maintenance 0.5% [E]; insurance fund then ADL [E]."),
    ]


def entities(ent: Callable, expo: Callable, hold: Callable, P: dict[str, float], SOURCED: str, ESTIMATE: str) -> None:
    """The named accounts of the positions table that are not entities yet (Wintermute, ABC), and Hyperliquid Strategies."""
    inventory = sum(WINTERMUTE_SHORTS.values())
    ent("WINTERMUTE", "Wintermute (market maker)", "fund", "United Kingdom/offshore", oa=WINTERMUTE_MARGIN, ol=inventory - 0.35e9,
        liquid=0.5, flag=ESTIMATE, source=s("Wintermute-flows", "Wintermute-ADL"),
        note=f"No public balance sheet [E]: spot inventory ${inventory/1e9:.1f}bn (holdings, hedged by its Binance shorts) and "
             f"${WINTERMUTE_MARGIN/1e6:.0f}M of USDT margin on Binance (other_assets; inside Binance's customer balances, not "
             "itemised as a claim), funded by $0.65bn of loans (other_liabilities), equity $0.6bn [E]. It moved ~$700M to exchanges "
             "hours before the 10 Oct crash (on-chain [S:Wintermute-flows]) and was ADL'd on Binance [S:Wintermute-ADL].")
    for m, usd in WINTERMUTE_SHORTS.items():
        hold("WINTERMUTE", m, usd / P[m], flag=ESTIMATE, source=s("Wintermute-ADL"),
             note=f"Spot {m} inventory ${usd/1e6:,.0f}M hedged by its short on Binance (positions) [E].")
    ent("HYPE_STRATEGIES", "Hyperliquid Strategies (HYPE treasury company, Sonnet/Rorschach)", "fund", "United States",
        oa=305e6, liquid=0.5, flag=SOURCED, source=s("PURR-S1"), as_of="2025-10-22",
        note="S-1 of 22 Oct 2025: after its merger the company holds 12.6M HYPE (holding; ~$470M then) and $305M of cash "
             "(other_assets) for more purchases [S:PURR-S1]; no debt reported. The largest corporate HYPE holder.")
    hold("HYPE_STRATEGIES", "HYPE", 12.6e6, flag=SOURCED, source=s("PURR-S1"), as_of="2025-10-22",
         note="12.6M HYPE held after the merger (S-1, 22 Oct 2025) [S:PURR-S1].")
    ent("ABC", "ABC (Hyperliquid liquidity provider)", "fund", "Hyperliquid L1", liquid=1.0, flag=SOURCED,
        source=s("MM-losses"), as_of="2025-10-10",
        note=f"A top Hyperliquid liquidity provider: lost $35M on 10 Oct 2025, leaving the account down 73% [S:MM-losses] -> "
             f"account before the crash = 35 / 0.73 = ${ABC_ACCOUNT/1e6:.1f}M, held as margin on Hyperliquid (exposure); "
             "its equity (no debt reported).")
    expo("ABC", "HYPERLIQUID", "customer_balance", ABC_ACCOUNT, flag=SOURCED, source=s("MM-losses"), as_of="2025-10-10",
         note=f"ABC's account on Hyperliquid: 35 / 0.73 = ${ABC_ACCOUNT/1e6:.1f}M [S:MM-losses].")

"""Build the ``crypto-2025-10`` snapshot (the crypto system on 2025-10-01) as CSV files.

Every figure of the snapshot is written here once, next to its source and its
flag, and the balance sheets are closed by arithmetic rather than by hand:

* a lending protocol owes its suppliers the gross supply S and holds its loan
  book B (the debt of its borrower cohorts) plus S - B of supplied tokens not
  lent out (``other_assets_usd``); its equity is zero and its insurance fund is
  its safety module;
* a token issuer owes the token's supply (``other_liabilities_usd``) and holds
  the reserves it reports; holders of the token are itemised as holdings, and
  ``STABLE_HOLDERS`` holds the rest of each stablecoin's supply;
* an exchange owes its customers what its proof of reserves reports as user
  balances and holds the reserves it reports.

Run ``python data/crypto-2025-10/_build.py [FOLDER]`` from the repository root
to rewrite the CSV files (into FOLDER instead, to compare); ``python -m core.cli validate data/crypto-2025-10``
checks them. The README explains the conventions and lists the sources.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from core.io import network_from_frames, write_csv_folder  # noqa: E402

sys.path.insert(0, str(HERE))
import _perps  # noqa: E402  (positions and venue rules of the perpetuals venues)
import _pegs  # noqa: E402  (how the stablecoins hold their pegs)
import _maker  # noqa: E402  (Sky's Maker system: ilks, Vow and Splitter from its executive spells)

AS_OF = "2025-10-01"
EST = "sfm estimate (see note; README 'Estimates')"
SOURCED, ESTIMATE = "sourced", "estimate"

# -- sources (tag -> URL or document) -------------------------------------------------
S = {
    "ACI-Nov11": "https://gl.app/dao/aavedao.eth/proposals/0x0ad3115883faa738c9e8134f9ba6c3f43a168cb288e488b43fdb1af15fc04be2",
    "Aave-TT-Sep18": "https://cms.tokenheadline.com/aave-loans-surge-to-30-5b-dominating-65",
    "Plasma-launch": "https://www.binance.bh/ru-UA/square/post/33076416186537",
    "Umbrella-Sep29": "https://governance.aave.com/t/arfc-umbrella-coverage-expansion/23224/1",
    "Umbrella-targets": "https://gl.app/dao/aavedao.eth/proposals/0xbe792a1db33cd7803e23810553e5a6a728c3ac15827ad2652aa6de1858fa5596",
    "GHO-Aug22": "https://app.stablewatch.io/blog/gho-project-spotlight",
    "Morpho-Nov7": "https://www.binance.bh/fr-AF/square/post/32047897170769",
    "Morpho-LIF": "morpho-org/morpho-blue src/libraries/ConstantsLib.sol (LIQUIDATION_CURSOR 0.3, MAX_LIQUIDATION_INCENTIVE_FACTOR 1.15)",
    "Spark-DL": "https://preview.dl.llama.fi/protocol/spark?events=false&incentives=true&tvl=false",
    "Spark-Oracles": "https://docs.spark.fi/user-guides/using-sparklend/oracles",
    "Spark-SLL-USDT": "https://www.binance.bh/en-AE/square/post/31612816634081",
    "Sky-USDC": "https://www.gatedex.com/ru/crypto-wiki/article/how-does-sky-token-holding-concentration-and-on-chain-capital-flows-impact-defi-protocol-stability-in-2026-20260117",
    "Comp-DL": "https://preview.dl.llama.fi/protocol/compound-v3",
    "Comp-DL-Sep26": "https://github.com/DefiLlama/DefiLlama-Adapters/pull/16437 (DefiLlama's Compound v3 adapter as run by its CI bot, llamabutler, on 26 Sep 2025: TVL $2.17bn excluding borrows, borrowed $1.06bn)",
    "Comet-config": "https://raw.githubusercontent.com/compound-finance/comet/main/deployments/mainnet/usdc/configuration.json",
    "Euler-defirisk": "https://www.defirisk.co/protocols/euler-v2/factors/RD-F-084/",
    "Kamino-Oct": "https://gov.kamino.finance/t/kamino-lend-monthly-risk-insights-october-2025/853",
    "Galaxy-Q3": "https://www.galaxy.com/insights/research/crypto-leverage-q3-2025-defi-cefi-lending-digital-asset-treasury-debt-futures-perpetuals",
    "Tether-Q3": "https://cryptotale.org/tether-posts-10b-profit-with-135b-in-us-treasuries-in-q3-2025",
    "Tether-Q3b": "https://ahab.space/tether-q3-2025-attestation-shows-strong-backing-substantial-treasury-exposure-and-surging-usdt-supply",
    "CeFi-lending": "https://moneycheck.com/crypto-lending-market-rebounds-to-25b-with-transparent-players-at-the-helm",
    "Circle-Q3": "https://markets.ft.com/data/announce/detail?dockey=600-202511120625BIZWIRE_USPRX____20251112_BW229900-1",
    "Circle-10Q": "https://www.sec.gov/Archives/edgar/data/1876042/000187604225000047/R51.htm",
    "Stables-Oct3": "https://www.mexc.com/fr/news?page=459",
    "Stables-late-Oct": "https://www.coinfeather.com/en/news/pyusd-surges-ahead-as-paypals-stablecoin-defies-the-odds/18772",
    "Stables-Oct10": _pegs.STABLES_OCT10,
    "Ethena-solvency": "https://governance.aave.com/t/direct-to-aip-onboard-usde-november-expiry-pt-tokens-on-aave-v3-core-instance/23013",
    "Ethena-RF-Sep": "https://gov.ethenafoundation.com/t/reserve-fund-subcommittee-september-2025-update/703",
    "USDtb-BUIDL": "https://bankless.ghost.io/ethena-migrates-1-5b-buidl-collateral-from-ethereum-to-aptos-avalanche-polygon",
    "USDtb-90": "https://gov.ethenafoundation.com/t/proposal-usdtb-as-a-usde-backing-asset-and-eligible-asset-for-the-reserve-fund/385",
    "PYUSD-KPMG": "https://coinfeather.com/en/news/paypal-usd-circulation-surpasses-26-billion-tokens/19315",
    "FDUSD-Nov21": "https://www.mexc.us/price/FDUSD/tokenomics",
    "USD1-Sep2": "https://xpool.eu/2025/09/02/usd1-stablecoin-from-humble-beginnings-to-global-contender",
    "DL-Sep22": "https://miniapp.gatetg.com/news/detail/13936124",
    "DL-Sep25": "https://gtgt.live/th/post/status/14012064",
    "Etherfi-Q3": "https://binance.weixuanerp.com/en/square/post/31446776159058",
    "wBETH": "https://yellow.com/it/asset/wbeth",
    "cbETH": "https://exponential.fi/assets/bbe4aee0-041b-43a4-b856-40ccbfcf9c96",
    "JitoSOL": "https://yellow.com/asset/jitosol",
    "SOL-TVL-Sep9": "https://maxbit.cc/solana-tvl-hits-new-all-time-high-of-12-1b-amid-rising-institutional-interest",
    "SOL-TVL-Sep9b": "https://reportify.ai/news/1163542073614536704",
    "Curve-Uni-Q3": "https://www.ainvest.com/news/monad-ecosystem-momentum-uniswap-curve-defi-capture-battle-2511",
    "Balancer": "https://www.crypticdaily.com/news/balancer-v2-rounding-exploit-usd128m-drained-in-30-minutes",
    "HL-stables": "https://www.gateiolink.net/learn/articles/the-5-6-billion-battle-for-hyperliquid-s-future/12103",
    "HL-OI": "https://moneycheck.com/hyperliquid-volume-rises-17-despite-major-open-interest-crash",
    "HLP-Oct": "http://bitchainhorizon.com/understanding-hyperliquids-hlp-vault",
    "BTC-OI-Oct6": "https://bitcoinmm.news/bitcoin-derivatives-boom-futures-open-interest-surpasses-95-billion-b.476.html",
    "Binance-IF": "https://www.binance.bh/en/square/post/30856400292745",
    "IF-sizes": "https://www.margintrade.com/glossary/insurance-fund",
    "Bitget-Sep26": "https://chain-base.xyz/bitget-updates-proof-of-reserves-for-september-2025",
    "Bitget-Aug22": "https://fr.benzinga.com/quote/cryptocurrency/25/08/47337495/bitget-maintains-188-total-reserve-ratio-in-august-proof-of-reserves-report",
    "dYdX-Q4": "https://www.binance.bh/ar/square/post/291003044276722",
    "Lighter": "https://www.gateweb3.net/de/news/detail/14642612",
    "Aster-Oct": "https://www.bitgetapp.com/en/amp/news/detail/12560605084854",
    "PerpDEX-Oct6": "https://phemex.com/news/article/aster-leads-perpetual-dex-market-with-4178b-daily-volume-24589",
    "Binance-PoR-Nov1": "https://bitcoinethereumnews.com/bitcoin/binance-publishes-new-proof-of-reserves-report-102-bitcoin-ratio-and-full-11-backing",
    "OKX-PoR-Sep2": "https://www.ainvest.com/news/bitcoin-news-today-okx-37-7b-reserves-transparent-collateralization-builds-trust-2510",
    "Bybit-PoR-Dec17": "https://bitcoinethereumnews.com/tech/29-reports-in-bybit-shows-reserves-above-100-percent",
    "Coinbase-Q3": "https://www.sec.gov/Archives/edgar/data/1679788/000167978825000207/q325shareholderletter.htm",
    "Galaxy-IR": "https://investor.galaxy.com/news-releases/news-release-details/galaxy-announces-third-quarter-2025-financial-results",
    "Nexo-AUM": "http://www.webet.pl/reviews/nexo.html",
    "Ledn-ABS": "https://www.ledgerinsights.com/crypto-lender-ledn-issues-188m-abs-backed-by-bitcoin-loans",
    "MSTR-10Q": "https://www.stocktitan.net/sec-filings/MSTR/10-q-strategy-inc-quarterly-earnings-report-279602de3406.html",
    "DAT-Oct20": "https://coinalertnews.com/news/2025/10/21/5055789eee44b1dc4c0408bdb74a31ff",
    "ETF-BTC-Oct8": "https://generallink.top/en/square/post/290483675878113",
    "ETF-ETH": "https://www.binance.bh/en/square/post/30822181646785",
    "WBTC-Jun": "https://crypto-observer.com/?p=269988",
    "Stream-YAM": "https://m.markets.com/news/stream-finance-collapse-exposes-284-million-defi-exposure-1671-en",
    "Stream-backing": "https://swapzone.io/blog/defi-stablecoin-crisis-2025",
    "Elixir": "https://osiris.news/2025/11/elixir-sunsets-deusd-after-68m-stream-finance-debt",
    "Chaos-Oct10": "https://governance.aave.com/t/chaos-labs-risk-report-insights-from-recent-market-events-10-11-25/23248",
    "Aave-emode": "https://vote.onaave.com/proposal/?proposalId=311&ipfsHash=0x14eb1427fd0569fe42cbc068c05e5d01593d956a5e74184b278de555865dabc3",
    "Aave-Plasma-params": "https://vote.onaave.com/proposal/?proposalId=379&ipfsHash=0xeea5eeb6f990316bb0758ab78459c87bfb1c02f3b7a288781435c1d8223c0869",
    "USDe-Aave-Aug18": "https://yoyo.ilark.io/cmc-ai/ethena-staked-usde/latest-updates",
    "Aave-USDe-ARFC": "https://governance.aave.com/t/arfc-susde-and-usde-price-feed-update/20495",
    "Aave-USDe-AIP": "bgd-labs/aave-proposals-v3 diffs/AaveV3Ethereum_SUSDeAndUSDePriceFeedUpdate_20250213 (USDe oracle 'Capped USDe / USD' -> 'Capped USDT/USD'; sUSDe 'Capped sUSDe / USDe / USD' -> 'Capped sUSDe / USDT / USD')",
    "Aave-Plasma-oracles": "bgd-labs/aave-proposals-v3 diffs/AaveV3Plasma_AaveV35PlasmaActivation_20250917 (USDe and USDT0 both at 'Capped USDT/USD'); aave-dao/aave-price-feeds scripts/DeployPlasma.s.sol (sUSDe and PT adapters on the USDT feed)",
    "Sky-chop": "https://www.binance.bh/en-NZ/square/post/33338056727777",
    "Sky-spells": _maker.CONFIG,
    "Sky-ARC-Aug25": "https://www.aicoin.com/en/news-flash/2524144",
    "ETH-supply": "https://www.gatebase.press/news/detail/13479110",
}


def src(*tags: str) -> str:
    return "; ".join(S[t] for t in tags)


# -- reference prices (USD) -------------------------------------------------------------
P = {
    "ETH": 4350.0, "BTC": 117000.0, "WBTC": 117000.0, "CBBTC": 117000.0,
    "stETH": 4345.65, "weETH": 4676.25, "wBETH": 4654.5, "cbETH": 4828.5,
    "SOL": 215.0, "JitoSOL": 268.75, "BNB": 1000.0, "HYPE": 47.0,
    "USDT": 1.0, "USDC": 1.0, "USDe": 1.0, "USDtb": 1.0, "BUIDL": 1.0, "DAI": 1.0, "USDS": 1.0,
    "GHO": 1.0, "PYUSD": 1.0, "FDUSD": 1.0, "USD1": 1.0, "deUSD": 1.0,
    "ALTS": 1.0,
}

entities: list[dict] = []
assets: list[dict] = []
holdings: list[dict] = []
exposures: list[dict] = []
cohorts: list[dict] = []
correlations: list[dict] = []

REGION = {
    "lending_protocol": "defi", "cdp_protocol": "defi", "amm_pool": "defi", "liquid_staking": "defi",
    "bridge": "defi", "stablecoin_issuer": "stablecoin", "centralised_exchange": "exchange",
    "perpetuals_venue": "exchange", "cefi_lender": "cefi", "fund": "cefi", "reserve": "defi",
    "depositor_aggregate": "depositors",
}


def ent(eid, name, etype, chain, *, flag, source, note, oa=0.0, ol=0.0, eq=None, liquid=0.2, ins=0.0,
        as_of=AS_OF, region=None):
    as_of = AS_OF if flag == ESTIMATE else as_of  # an estimate is of the snapshot date; the note dates its inputs
    entities.append(dict(id=eid, name=name, type=etype, region=region or REGION[etype], chain=chain,
                         other_assets_usd=round(oa, 2), other_liabilities_usd=round(ol, 2),
                         reported_equity_usd=eq, liquid_share=liquid, insurance_fund_usd=round(ins, 2),
                         defends="", as_of=as_of, source=source, flag=flag, note=note))


def asset(sym, name, kind, supply, adv, vol, *, flag, source, note, peg=None, unit="", backing="", issuer="",
          as_of=AS_OF):
    as_of = AS_OF if flag == ESTIMATE else as_of  # an estimate is of the snapshot date; the note dates its inputs
    assets.append(dict(symbol=sym, name=name, kind=kind, price_usd=P[sym], supply=supply, adv_usd=adv,
                       daily_vol=vol, amm_pool="", amplification=None, peg_target=peg, peg_unit=unit,
                       backing_asset=backing, issuer=issuer, as_of=as_of, source=source, flag=flag, note=note))


def hold(eid, sym, amount, *, flag, source, note, as_of=AS_OF):
    as_of = AS_OF if flag == ESTIMATE else as_of  # an estimate is of the snapshot date; the note dates its inputs
    holdings.append(dict(entity=eid, asset=sym, amount=round(amount, 6), as_of=as_of, source=source,
                         flag=flag, note=note))


def expo(cred, debt, kind, amount, *, flag, source, note, as_of=AS_OF):
    as_of = AS_OF if flag == ESTIMATE else as_of  # an estimate is of the snapshot date; the note dates its inputs
    exposures.append(dict(id=f"{cred}-{debt}-{kind}", creditor=cred, debtor=debt, kind=kind,
                          amount_usd=round(amount, 2), collateral_asset="", collateral_amount=None, recovery=None,
                          as_of=as_of, source=source, flag=flag, note=note))


# Health-factor profiles: (HF buckets, share of the market's debt per bucket).
STANDARD = ([1.02, 1.10, 1.25, 1.50, 2.00, 3.00], [0.04, 0.10, 0.20, 0.26, 0.24, 0.16])
LOOP = ([1.01, 1.03, 1.05, 1.08, 1.15, 1.30], [0.05, 0.15, 0.25, 0.25, 0.20, 0.10])
MAKER = ([1.10, 1.25, 1.50, 1.75, 2.00, 3.00], [0.005, 0.015, 0.20, 0.30, 0.30, 0.18])
PROFILE_NOTE = {
    id(STANDARD): "standard profile: HF 1.02/1.10/1.25/1.50/2.00/3.00 -> 4/10/20/26/24/16% of the market's debt",
    id(LOOP): "loop profile (e-mode/correlated loops sit near max LTV): HF 1.01/1.03/1.05/1.08/1.15/1.30 -> 5/15/25/25/20/10%",
    id(MAKER): "Maker profile: HF 1.10/1.25/1.50/1.75/2.00/3.00 -> 0.5/1.5/20/30/30/18% (as in crypto-2022-05)",
}


#: What a cohort's note says of a debt token its protocol's oracle fixes at $1 (core.engine.oracle).
#: Lenders whose oracle reads the collateral at another asset's price (core.engine.oracle, "Another asset's price").
ASSET_COLL_NOTE = {
    "AAVE_ETH": ("Oracle: Aave prices USDe at USDT's price ('hardcoding the USDe price to match the USDT price', "
                 "ARFC 20495 [S:Aave-USDe-ARFC]; AIP of Feb 2025 on Core, Prime and zkSync: USDe at 'Capped USDT/USD', "
                 "sUSDe at its ERC-4626 rate times USDT/USD, PT-USDe a discount on USDT's feed [S:Aave-USDe-AIP]): "
                 "collateral_oracle asset:USDT."),
    "AAVE_PLASMA": ("Oracle: Plasma lists USDe at the same 'Capped USDT/USD' adapter as USDT0, sUSDe and the PTs on "
                    "USDT's feed [S:Aave-Plasma-oracles]: collateral_oracle asset:USDT."),
}
FIXED_DEBT_NOTE = {
    "SPARKLEND": ("Oracle: SparkLend prices the debt at a fixed $1 ('stablecoins such as DAI use a fixed price of "
                  "1.00 USD, and [it] does not deviate even if the market price of DAI deviates' [S:Spark-Oracles]; "
                  "USDS by the same stablecoin rule [E]); its collateral at the market."),
}


def market(proto, coll, debt, debt_usd, lt, bonus, cf, style, profile, *, source, note, debt_oracle="market",
           collateral_oracle="market"):
    """Spread one market's debt over health-factor buckets; collateral follows from HF = C*Pc*LT/(D*Pd).
    ``debt_oracle``: ``fixed_usd`` where the protocol's oracle fixes the debt token at its USD peg;
    ``collateral_oracle``: ``asset:SYMBOL`` where it reads the collateral at another asset's price."""
    hfs, shares = profile
    for hf, sh in zip(hfs, shares):
        d_usd = debt_usd * sh
        cohorts.append(dict(
            id=f"{proto}.{coll}-{debt}.hf{hf:.2f}", protocol=proto, borrower="", collateral_asset=coll,
            debt_asset=debt, collateral_amount=round(d_usd * hf / (lt * P[coll]), 6),
            debt_amount=round(d_usd / P[debt], 6), liquidation_threshold=lt, liquidation_bonus=bonus,
            close_factor=cf, style=style, underwater_ok=False, collateral_oracle=collateral_oracle, debt_oracle=debt_oracle,
            as_of=AS_OF, source=source, flag=ESTIMATE,
            note=f"{note} HF bucket {hf:.2f}; {PROFILE_NOTE[id(profile)]}. Debt ${debt_usd/1e9:.3f}bn for the market [E]."
                 + (f" {FIXED_DEBT_NOTE[proto]}" if debt_oracle == "fixed_usd" else "")
                 + (f" {ASSET_COLL_NOTE[proto]}" if collateral_oracle.startswith("asset:") else "")))
    return debt_usd


def morpho_bonus(lltv: float) -> float:
    """Morpho Blue liquidation incentive: LIF = min(1.15, 1 / (1 - 0.3 (1 - LLTV)))."""
    return round(min(1.15, 1.0 / (1.0 - 0.3 * (1.0 - lltv))) - 1.0, 4)


# ======================================================================================
# Assets
# ======================================================================================
asset("ETH", "Ether", "volatile", 120.7e6, 35e9, 0.0344, flag=ESTIMATE, source=src("ETH-supply"),
      note="Reference price $4,350 for 2025-10-01, inside the $4,300-4,500 late-Sep/early-Oct range of the research notes [E]; supply 120.7M (Aug-Sep 2025 [S:ETH-supply]); daily vol 3.44% = std of daily log returns 2024-02-12..2025-02-11 (see correlations); adv [E].")
asset("BTC", "Bitcoin", "volatile", 19.93e6, 60e9, 0.0274, flag=ESTIMATE, source=EST,
      note="Reference price $117,000 for 2025-10-01, inside the $114-122k range of the research notes [E]; supply ~19.93M, adv [E]; daily vol 2.74% computed as for ETH.")
asset("WBTC", "Wrapped BTC (BitGo)", "volatile", 128800, 0.4e9, 0.025, peg=1.0, unit="BTC", backing="BTC", issuer="WBTC_BITGO",
      flag=ESTIMATE, source=src("WBTC-Jun"), as_of="2025-06-03",
      note="Supply ~128,800 WBTC (Coin Metrics, 3 Jun 2025 [S:WBTC-Jun]) used for October [E]; pegged 1:1 to BTC, custodian WBTC_BITGO.")
asset("CBBTC", "Coinbase Wrapped BTC", "volatile", 43100, 0.4e9, 0.025, peg=1.0, unit="BTC", backing="BTC", issuer="CBBTC",
      flag=ESTIMATE, source=src("WBTC-Jun"), as_of="2025-06-03",
      note="Supply ~43,100 cbBTC (Coin Metrics, 3 Jun 2025) used for October [E]; pegged 1:1 to BTC, custodian Coinbase (entity CBBTC).")
asset("stETH", "Lido stETH (and wstETH)", "liquid_staking", 8.6e6, 0.3e9, 0.035, peg=1.0, unit="ETH", backing="ETH", issuer="LIDO",
      flag=ESTIMATE, source=src("DL-Sep22"),
      note="wstETH is represented as stETH (one unit = 1 ETH of claim). Supply ~8.6M = Lido TVL $36.7bn (22 Sep [S:DL-Sep22]) / ETH ~$4,250 that day [E]. Price 0.999 ETH [E].")
asset("weETH", "ether.fi weETH", "liquid_staking", 2.46e6, 0.1e9, 0.035, peg=1.075, unit="ETH", backing="ETH", issuer="ETHERFI",
      flag=ESTIMATE, source=src("Etherfi-Q3"),
      note="Exchange rate ~1.075 ETH per weETH [E]; supply = ether.fi TVL $11.51bn (30 Sep [S:Etherfi-Q3]) / weETH price = 2.46M [E].")
asset("wBETH", "Binance wBETH", "liquid_staking", 3164193, 0.1e9, 0.035, peg=1.07, unit="ETH", backing="ETH", issuer="BINANCE_WBETH",
      flag=ESTIMATE, source=src("wBETH"),
      note="3,164,193 wBETH circulating (undated page, price $4,855 implies Aug-Oct 2025 [S:wBETH]); exchange rate ~1.07 ETH [E].")
asset("cbETH", "Coinbase cbETH", "liquid_staking", 178149, 0.03e9, 0.035, peg=1.11, unit="ETH", backing="ETH", issuer="COINBASE_CBETH",
      flag=ESTIMATE, source=src("cbETH"),
      note="Circulating 178,149 cbETH (undated; total supply 1.45M includes units pre-minted and held by Coinbase [S:cbETH]); exchange rate ~1.11 ETH [E].")
asset("SOL", "Solana", "volatile", 545e6, 8e9, 0.0433, flag=ESTIMATE, source=EST,
      note="Price ~$215 for 2025-10-01 [E]; circulating ~545M, adv [E]; daily vol 4.33% computed as for ETH.")
JITO_TVL = 3.2e9  # Jito's TVL on DefiLlama on 9 Sep 2025 [S:SOL-TVL-Sep9]: the SOL in its stake pool, in USD
asset("JitoSOL", "Jito staked SOL", "liquid_staking", round(JITO_TVL / P["SOL"] / 1.25, 0), 0.05e9, 0.045, peg=1.25, unit="SOL", backing="SOL", issuer="JITO",
      flag=ESTIMATE, source=src("SOL-TVL-Sep9", "SOL-TVL-Sep9b"),
      note=f"Jito TVL $3.2bn (DefiLlama, 9 Sep 2025 [S:SOL-TVL-Sep9]) / the reference SOL price $215 = {JITO_TVL / P['SOL'] / 1e6:.2f}M SOL [E: the unit count at the reference price] / exchange rate ~1.25 SOL per JitoSOL [E] = {JITO_TVL / P['SOL'] / 1.25 / 1e6:.2f}M JitoSOL (an undated page's ~17.6M SOL [S:JitoSOL] gave 14.08M before session 27).")
asset("BNB", "BNB", "exchange_token", 139.3e6, 2e9, 0.0306, issuer="BINANCE", flag=ESTIMATE, source=EST,
      note="Price ~$1,000 (BNB crossed $1,000 in late Sep 2025) [E]; supply ~139.3M [E]; daily vol 3.06% computed as for ETH. Wrong-way asset of BINANCE.")
asset("HYPE", "Hyperliquid HYPE", "exchange_token", 337e6, 0.8e9, 0.06, flag=ESTIMATE, source=EST,
      note="Price ~$47, circulating ~337M [E]. No issuer link: HYPERLIQUID is its clearing book here (equity 0 by construction), so an exchange token that follows its issuer's equity share would trade at the floor from the first loss; HYPE moves by prices and sales only.")
asset("ALTS", "Alt-coin perpetuals basket (XRP, DOGE, ADA, SUI, ... one unit = $1 at the snapshot)", "volatile", 650e9, 40e9, 0.05,
      flag=ESTIMATE, source=EST,
      note="The alt markets of the perps venues as one basket (~1/3 of Hyperliquid's OI): supply = crypto market cap ~$4.08tn (early Oct) less BTC, ETH, SOL, BNB, HYPE and stablecoins, ~$0.65tn [E]; adv $40bn, daily vol 5% [E]. Only the positions table uses it.")
asset("USDT", "Tether USDT", "fiat_stable", 176.25e9, 80e9, 0.001, peg=1.0, unit="USD", issuer="TETHER",
      flag=SOURCED, source=src("Stables-Oct3"), as_of="2025-10-03",
      note="Supply $176.25bn (DefiLlama, 3 Oct [S:Stables-Oct3]); adv, vol [E].")
asset("USDC", "USD Coin", "fiat_stable", 73.7e9, 15e9, 0.001, peg=1.0, unit="USD", issuer="CIRCLE",
      flag=SOURCED, source=src("Circle-Q3"), as_of="2025-09-30",
      note="USDC in circulation $73.7bn at 30 Sep (Circle Q3 results [S:Circle-Q3]); adv, vol [E].")
asset("USDe", "Ethena USDe (and sUSDe, PT-USDe)", "cdp_stable", 14.83e9, 1.5e9, 0.002, peg=1.0, unit="USD", issuer="ETHENA",
      flag=SOURCED, source=src("Stables-Oct3"), as_of="2025-10-03",
      note="Supply $14.83bn (DefiLlama, 3 Oct [S:Stables-Oct3]). sUSDe and Pendle PT-USDe are represented as USDe. Kind cdp_stable: a synthetic (delta-neutral) dollar has no closer kind; its price follows Ethena's solvency. adv, vol [E].")
asset("USDtb", "Ethena USDtb", "fiat_stable", 1.83e9, 0.05e9, 0.001, peg=1.0, unit="USD", issuer="ETHENA_USDTB",
      flag=SOURCED, source=src("USDtb-BUIDL"), as_of="2025-09-15",
      note="Supply = BUIDL reserves: $1.5bn of BUIDL bridged off Ethereum while 18% of USDtb's BUIDL stayed there -> 1.5 / 0.82 = $1.83bn (Bankless, Sep 2025 [S:USDtb-BUIDL]).")
asset("BUIDL", "BlackRock BUIDL (tokenised T-bill fund)", "fiat_stable", 2.687e9, 0.01e9, 0.0005, peg=1.0, unit="USD", issuer="BUIDL",
      flag=SOURCED, source=src("Stables-late-Oct"), as_of="2025-10-24",
      note="$2.687bn in circulation (DefiLlama via CoinFeather, late Oct 2025 [S:Stables-late-Oct]); NAV $1 per token. adv, vol [E].")
asset("DAI", "Dai", "cdp_stable", _pegs.DAI_SUPPLY, 0.3e9, 0.001, peg=1.0, unit="USD", issuer="SKY",
      flag=SOURCED, source=src("Stables-Oct10"), as_of="2025-10-10",
      note="DAI $5.02bn (MathWallet's Global Stablecoin Newsletter #08 of 10 Oct 2025, DefiLlama data [S:Stables-Oct10]; "
           "the 2025-10-01 level was not found, #07 of 26 Sep names DAI fourth without its figure). $5.146bn in late "
           "October [S:Stables-late-Oct] was used until session 33. adv, vol [E].")
asset("USDS", "Sky Dollar USDS", "cdp_stable", _pegs.USDS_SUPPLY, 0.2e9, 0.001, peg=1.0, unit="USD", issuer="SKY",
      flag=SOURCED, source=src("Stables-Oct10"), as_of="2025-10-10",
      note="USDS $4.363bn (MathWallet's Global Stablecoin Newsletter #08 of 10 Oct 2025, DefiLlama data "
           "[S:Stables-Oct10]). $5.319bn in late October [S:Stables-late-Oct] was used until session 33 (USDS grew "
           "fast in October). adv, vol [E].")
asset("GHO", "Aave GHO", "cdp_stable", 335e6, 0.02e9, 0.002, peg=1.0, unit="USD", issuer="AAVE_GHO",
      flag=SOURCED, source=src("GHO-Aug22"), as_of="2025-08-22",
      note="Total supply $335M (Stablewatch, 22 Aug 2025 [S:GHO-Aug22]). adv, vol [E].")
asset("PYUSD", "PayPal USD", "fiat_stable", 2652728424, 0.3e9, 0.001, peg=1.0, unit="USD", issuer="PAXOS_PYUSD",
      flag=SOURCED, source=src("PYUSD-KPMG"), as_of="2025-10-15",
      note="Collateral $2,652,728,424 backing >2.6bn PYUSD (KPMG assurance, mid-Oct 2025 [S:PYUSD-KPMG]); supply taken equal to it.")
asset("FDUSD", "First Digital USD", "fiat_stable", 964.5e6, 3e9, 0.002, peg=1.0, unit="USD", issuer="FIRST_DIGITAL",
      flag=ESTIMATE, source=src("FDUSD-Nov21"), as_of="2025-11-21",
      note="$964.5M market cap on 21 Nov 2025 [S:FDUSD-Nov21], 51 days after the snapshot, used for October [E]. Historically ~97% held in Binance wallets.")
asset("USD1", "World Liberty USD1", "fiat_stable", 2.7e9, 1e9, 0.001, peg=1.0, unit="USD", issuer="WLFI_USD1",
      flag=SOURCED, source=src("USD1-Sep2"), as_of="2025-09-02",
      note=">$2.7bn in circulation on 2 Sep 2025 [S:USD1-Sep2] (taken as $2.7bn; $2.674bn late Oct [S:Stables-late-Oct]).")
asset("deUSD", "Elixir deUSD", "cdp_stable", 104.6e6, 0.005e9, 0.003, peg=1.0, unit="USD", issuer="ELIXIR",
      flag=ESTIMATE, source=src("Elixir"),
      note="Supply set to deUSD's backing: $68M lent to Stream was ~65% of backing -> $104.6M [S:Elixir, Nov 2025]; the ~$150M market cap also reported would leave deUSD under-backed before the loss [E].")

# ======================================================================================
# Lending protocols (supply S, loan book B = cohort debt, other_assets = S - B)
# ======================================================================================
AAVE_NOTE = "Aave v3 (style 'aave': the validator accepts aave/compound/maker; v3 rules)."


def lender(eid, name, chain, supply, markets_fn, *, flag, source, note, as_of=AS_OF, ins=0.0, deposits=None,
           dep_flag=None, dep_source=None, dep_note=None, dep_as_of=None):
    """A lending protocol: suppliers are owed S, the loan book is its cohorts, the rest is held (other_assets)."""
    book = markets_fn()
    if book > supply:
        raise ValueError(f"{eid}: loan book {book:,.0f} exceeds supply {supply:,.0f}")
    # Whole dollars rounded up, so that rounding the cohorts' token amounts never leaves equity below zero.
    ent(eid, name, "lending_protocol", chain, oa=math.ceil(supply - book) + 1.0, liquid=0.3, ins=ins, flag=flag, source=source,
        as_of=as_of, note=f"{note} Loan book (cohort debt) ${book/1e9:.3f}bn; other_assets = supply - loan book = ${(supply-book)/1e9:.3f}bn (tokens held, incl. collateral supplied); equity 0.")
    named = 0.0
    for cred, amt, fl, sc, nt in deposits or []:
        expo(cred, eid, "deposit", amt, flag=fl, source=sc, note=nt)
        named += amt
    expo("DEFI_DEPOSITORS", eid, "deposit", supply - named, flag=dep_flag or flag, source=dep_source or source,
         as_of=dep_as_of or as_of, note=dep_note or f"Suppliers' claim = gross supply ${supply/1e9:.3f}bn.")


ETH_LT, ETH_LB = 0.83, 0.05           # Aave v3 Core WETH: LT 83% (Chaos Labs, Oct 2025); bonus 5% [E]
EMODE_LT, EMODE_LB = 0.95, 0.01       # wstETH/WETH e-mode LT 95%, bonus ~1% (AIP 311)
USDE_LT, USDE_LB = 0.92, 0.04         # USDe/sUSDe/PT e-mode vs stables [E]
BTC_LT, BTC_LB = 0.78, 0.05           # WBTC/cbBTC [E]
P_AAVE = src("Chaos-Oct10", "Aave-emode")
# Aave Umbrella at its target coverage (aUSDC 66M, aUSDT 104M, aWETH 25,000 ETH, GHO 12M), reached by 29 Sep 2025.
UMB = 66e6 + 104e6 + 25000 * P["ETH"] + 12e6


def aave_eth_markets():
    b = 0.0
    b += market("AAVE_ETH", "stETH", "ETH", 7.0e9, EMODE_LT, EMODE_LB, 0.5, "aave", LOOP, source=P_AAVE,
                note=f"{AAVE_NOTE} wstETH/WETH e-mode loops, LT 95% (AIP 311); loop debt $7.0bn [E] (size not found for Oct 2025).")
    b += market("AAVE_ETH", "weETH", "ETH", 2.5e9, EMODE_LT, EMODE_LB, 0.5, "aave", LOOP, source=P_AAVE,
                note=f"{AAVE_NOTE} weETH/WETH e-mode loops, LT 95% [E, as for wstETH].")
    b += market("AAVE_ETH", "USDe", "USDT", 5.0e9, USDE_LT, USDE_LB, 0.5, "aave", LOOP,
                source=src("USDe-Aave-Aug18", "Chaos-Oct10", "Aave-USDe-ARFC"),
                note=f"{AAVE_NOTE} sUSDe/PT-USDe loops against stablecoins: $6.6bn USDe-linked collateral on 18 Aug (PT $4.2bn, sUSDe $1.1bn [S:USDe-Aave-Aug18], 44 days before the snapshot); debt $5.0bn and LT 92% [E].",
                collateral_oracle="asset:USDT")
    b += market("AAVE_ETH", "ETH", "USDC", 3.0e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE,
                note=f"{AAVE_NOTE} WETH against USDC, LT 83% (Chaos Labs Oct-10 report).")
    b += market("AAVE_ETH", "ETH", "USDT", 2.0e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE,
                note=f"{AAVE_NOTE} WETH against USDT, LT 83%.")
    b += market("AAVE_ETH", "WBTC", "USDC", 2.0e9, BTC_LT, BTC_LB, 0.5, "aave", STANDARD, source=src("Chaos-Oct10"),
                note=f"{AAVE_NOTE} WBTC against USDC, LT 78% [E].")
    b += market("AAVE_ETH", "CBBTC", "USDC", 1.0e9, BTC_LT, BTC_LB, 0.5, "aave", STANDARD, source=src("Chaos-Oct10"),
                note=f"{AAVE_NOTE} cbBTC against USDC, LT 78% [E].")
    return b


lender("AAVE_ETH", "Aave v3 Ethereum (Core, Prime, Horizon)", "Ethereum", 44.26e9, aave_eth_markets,
       flag=ESTIMATE, source=src("ACI-Nov11", "Aave-TT-Sep18"), ins=UMB,
       note="Gross supply $44.26bn (81.1% of Aave v3, ACI table, 11 Nov 2025 [S:ACI-Nov11]). Loans $22.5bn [E] = Aave's record $30.5bn active loans (18 Sep, Token Terminal [S:Aave-TT-Sep18]) x ~74% on Ethereum [E]. insurance_fund = Umbrella coverage at its targets ($290.75M, see AAVE_UMBRELLA).",
       dep_flag=SOURCED, dep_source=src("ACI-Nov11"), dep_as_of="2025-11-11",
       dep_note="Gross supply of the Ethereum instances $44.26bn on 11 Nov 2025 [S:ACI-Nov11] (41 days after the snapshot, after the Oct-10 crash).")


def aave_plasma_markets():
    b = market("AAVE_PLASMA", "USDe", "USDT", 2.2e9, 0.90, 0.085, 0.5, "aave", LOOP, source=src("Aave-Plasma-params", "Aave-Plasma-oracles"),
               note=f"{AAVE_NOTE} Plasma v3.5: USDe/sUSDe loops against USDT0 (represented as USDT); USDe LT 75% and bonus 8.5% outside e-mode (AIP 379), e-mode LT 90% [E]; 97.75% of borrows are stablecoins.",
               collateral_oracle="asset:USDT")
    b += market("AAVE_PLASMA", "weETH", "USDT", 0.3e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=src("Aave-Plasma-params"),
                note=f"{AAVE_NOTE} ETH-family collateral against USDT0, WETH LT 83% (AIP 379).")
    return b


lender("AAVE_PLASMA", "Aave v3 Plasma", "Plasma", 5.9e9, aave_plasma_markets, flag=ESTIMATE,
       source=src("Plasma-launch", "ACI-Nov11"), as_of="2025-09-27",
       note=">$5.9bn deposits within two days of the ~25 Sep launch [S:Plasma-launch] ($3.7bn on 11 Nov [S:ACI-Nov11]); loans $2.5bn [E].",
       dep_flag=SOURCED, dep_source=src("Plasma-launch"), dep_as_of="2025-09-27",
       dep_note=">$5.9bn deposited within two days of launch (~27 Sep 2025) [S:Plasma-launch].")


def aave_arb_markets():
    b = market("AAVE_ARB", "ETH", "USDC", 0.45e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE, note=f"{AAVE_NOTE} WETH/USDC, LT 83% [E for this instance].")
    b += market("AAVE_ARB", "stETH", "ETH", 0.30e9, EMODE_LT, EMODE_LB, 0.5, "aave", LOOP, source=P_AAVE, note=f"{AAVE_NOTE} wstETH/WETH e-mode, LT 95% (AIP 311 lists Arbitrum).")
    return b


def aave_base_markets():
    b = market("AAVE_BASE", "ETH", "USDC", 0.35e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE, note=f"{AAVE_NOTE} WETH/USDC, LT 83% [E for this instance].")
    b += market("AAVE_BASE", "CBBTC", "USDC", 0.25e9, BTC_LT, BTC_LB, 0.5, "aave", STANDARD, source=src("Chaos-Oct10"), note=f"{AAVE_NOTE} cbBTC/USDC, LT 78% [E].")
    b += market("AAVE_BASE", "stETH", "ETH", 0.15e9, EMODE_LT, EMODE_LB, 0.5, "aave", LOOP, source=P_AAVE, note=f"{AAVE_NOTE} wstETH/WETH e-mode, LT 95% (AIP 311 lists Base).")
    return b


def aave_other_markets():
    b = market("AAVE_OTHER", "ETH", "USDC", 0.60e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE, note=f"{AAVE_NOTE} WETH/USDC on the smaller instances [E].")
    b += market("AAVE_OTHER", "WBTC", "USDC", 0.50e9, BTC_LT, BTC_LB, 0.5, "aave", STANDARD, source=src("Chaos-Oct10"), note=f"{AAVE_NOTE} BTC collateral (WBTC/BTC.b) against USDC [E].")
    return b


for eid, name, chain, supply, fn, loans in (
    ("AAVE_ARB", "Aave v3 Arbitrum", "Arbitrum", 1.87e9, aave_arb_markets, "$0.75bn"),
    ("AAVE_BASE", "Aave v3 Base", "Base", 1.80e9, aave_base_markets, "$0.75bn"),
    ("AAVE_OTHER", "Aave v3 other chains (Avalanche, Linea, BNB, Polygon, Optimism, Gnosis, Sonic, ...)", "various",
     1.05e9 + 0.766e9 + 0.373e9 + 0.315e9 + 0.179e9 + 0.123e9 + 0.081e9 + 0.023e9 + 0.023e9 + 0.004e9 + 0.014e9 + 0.008e9,
     aave_other_markets, "$1.1bn"),
):
    lender(eid, name, chain, supply, fn, flag=ESTIMATE, source=src("ACI-Nov11"), as_of="2025-11-11",
           note=f"Gross supply ${supply/1e9:.3f}bn (ACI table, 11 Nov 2025 [S:ACI-Nov11]; AAVE_OTHER sums Avalanche 1,050, Linea 766, BNB 373, Polygon 315, Optimism 179, Gnosis 123, Sonic 81, Scroll 23, Celo 23, zkSync 14, Metis 8, Soneium 4 $M); loans {loans} [E] (no per-instance borrow figure found).",
           dep_flag=SOURCED, dep_source=src("ACI-Nov11"), dep_as_of="2025-11-11",
           dep_note=f"Gross supply ${supply/1e9:.3f}bn on 11 Nov 2025 (ACI table) [S:ACI-Nov11].")

ent("AAVE_UMBRELLA", "Aave Umbrella (staked aTokens and GHO as first-loss cover)", "reserve", "Ethereum",
    oa=UMB, liquid=0.0, flag=SOURCED, source=src("Umbrella-Sep29", "Umbrella-targets"), as_of="2025-09-29",
    note="All Umbrella modules had reached their target coverage on 29 Sep 2025 [S:Umbrella-Sep29]; targets aUSDC 66M, aUSDT 104M, aWETH 25,000 ETH, GHO 12M [S:Umbrella-targets] -> $290.75M at the reference ETH price (a lower bound: the WETH module was over-capitalised). Stakers' equity; the same amount is AAVE_ETH's insurance_fund_usd (the engine draws it from outside the pool).")


# GHO: minted through the Aave v3 facilitator (cohorts) and the GHO Stability Modules (stataUSDC/USDT reserves).
def gho_markets():
    b = market("AAVE_GHO", "ETH", "GHO", 0.090e9, ETH_LT, ETH_LB, 0.5, "aave", STANDARD, source=P_AAVE, note=f"{AAVE_NOTE} GHO minted against WETH [E split].")
    b += market("AAVE_GHO", "stETH", "GHO", 0.050e9, 0.81, 0.06, 0.5, "aave", STANDARD, source=P_AAVE, note=f"{AAVE_NOTE} GHO minted against wstETH, LT 81% [E].")
    b += market("AAVE_GHO", "WBTC", "GHO", 0.021e9, BTC_LT, BTC_LB, 0.5, "aave", STANDARD, source=src("Chaos-Oct10"), note=f"{AAVE_NOTE} GHO minted against WBTC [E].")
    return b


gho_book = gho_markets()
ent("AAVE_GHO", "Aave GHO facilitators (v3 market and GHO Stability Modules)", "cdp_protocol", "Ethereum",
    oa=math.ceil(335e6 - gho_book) + 1.0, ol=335e6, liquid=0.9, flag=SOURCED, source=src("GHO-Aug22"), as_of="2025-08-22",
    note="GHO supply $335M owed to holders; $161M minted through the Aave v3 facilitator (its borrower cohorts) and the rest, $174M, through the GHO Stability Modules, held as stataUSDC/stataUSDT (other_assets) (Stablewatch, 22 Aug 2025 [S:GHO-Aug22]). Equity 0.")


def morpho_markets():
    b = market("MORPHO", "CBBTC", "USDC", 1.0e9, 0.86, morpho_bonus(0.86), 1.0, "aave", STANDARD, source=src("Morpho-LIF"),
               note="Morpho Blue cbBTC/USDC (Coinbase-originated loans on Base), LLTV 86%, incentive min(1.15, 1/(1-0.3(1-LLTV)))-1 [S:Morpho-LIF]; whole position liquidatable (close factor 1); style 'aave' with Morpho parameters.")
    b += market("MORPHO", "USDe", "USDC", 1.3e9, 0.915, morpho_bonus(0.915), 1.0, "aave", LOOP, source=src("Morpho-LIF"),
                note="Morpho Blue sUSDe/PT-USDe against USDC, LLTV 91.5% [S:Morpho-LIF]; size [E]. Oracle: chosen per market at its creation, not checked for these markets: the market's USDe price [assumption].")
    b += market("MORPHO", "stETH", "ETH", 0.9e9, 0.945, morpho_bonus(0.945), 1.0, "aave", LOOP, source=src("Morpho-LIF"),
                note="Morpho Blue wstETH/WETH, LLTV 94.5% [E: 94.5/96.5% markets]; size [E].")
    b += market("MORPHO", "WBTC", "USDC", 0.5e9, 0.86, morpho_bonus(0.86), 1.0, "aave", STANDARD, source=src("Morpho-LIF"),
                note="Morpho Blue WBTC/USDC, LLTV 86%; size [E].")
    b += market("MORPHO", "ETH", "USDC", 0.32e9, 0.86, morpho_bonus(0.86), 1.0, "aave", STANDARD, source=src("Morpho-LIF"),
                note="Morpho Blue WETH/USDC, LLTV 86%; size [E].")
    return b


lender("MORPHO", "Morpho (Blue markets and vaults, all chains)", "Ethereum/Base/others", 11.40e9 + 4.02e9, morpho_markets,
       flag=SOURCED, source=src("Morpho-Nov7"), as_of="2025-11-07",
       note="TVL $11.40bn excluding borrows and $4.02bn borrowed (7 Nov 2025 [S:Morpho-Nov7]) -> gross supply $15.42bn = 11.40 + 4.02; loan book = borrowed $4.02bn (split across markets [E]). Bad debt is socialised to each market's lenders (here the suppliers' claim).")


def spark_markets():
    b = market("SPARKLEND", "ETH", "DAI", 0.8e9, 0.83, 0.05, 0.5, "aave", STANDARD, source=src("Spark-DL", "Spark-Oracles"), note="SparkLend (Aave v3 fork) WETH against DAI/USDS, LT 83% [E].", debt_oracle="fixed_usd")
    b += market("SPARKLEND", "stETH", "DAI", 0.6e9, 0.83, 0.06, 0.5, "aave", STANDARD, source=src("Spark-DL", "Spark-Oracles"), note="SparkLend wstETH against DAI/USDS, LT 83% [E].", debt_oracle="fixed_usd")
    b += market("SPARKLEND", "CBBTC", "USDS", 0.5e9, 0.75, 0.07, 0.5, "aave", STANDARD, source=src("Spark-DL", "Spark-Oracles"), note="SparkLend cbBTC/WBTC against USDS, LT 75% [E].", debt_oracle="fixed_usd")
    b += market("SPARKLEND", "stETH", "ETH", 0.327e9, EMODE_LT, 0.01, 0.5, "aave", LOOP, source=src("Spark-DL"), note="SparkLend wstETH/WETH e-mode loops, LT 95% [E].")
    return b


lender("SPARKLEND", "SparkLend", "Ethereum/Base", 8.321e9 + 2.227e9, spark_markets, flag=ESTIMATE, source=src("Spark-DL"),
       note="TVL $8.321bn excl. borrows and $2.227bn borrowed (DefiLlama page [S:Spark-DL] of about 29 July 2025, 64 days before the snapshot: its income statement's open quarter, Q3 2025*, has $5.55m of fees against $5.85m in its last 30 days, so Q3 was 28-29 days old) -> gross supply $10.548bn [E, off-date]; loans $2.227bn.",
       deposits=[("SKY", 0.8e9, ESTIMATE, src("Spark-DL"), "Sky's allocation to SparkLend through the Spark Liquidity Layer ~$0.8bn [E] (Feb 2026 dashboard shows $0.79bn).")],
       dep_flag=ESTIMATE, dep_note="Suppliers other than the SLL: gross supply $10.548bn (undated) - SLL $0.8bn [E].")


#: Compound v3 on 26 Sep 2025 (DefiLlama's adapter, run by its CI bot on pull request 16437 [S:Comp-DL-Sep26]): TVL
#: excluding borrows $2.17bn, borrowed $1.06bn, all chains (Ethereum $1.87bn / $920.06M borrowed). Until session 35 the
#: figures were an undated DefiLlama page's $2.15bn / $0.90bn [S:Comp-DL].
COMP_TVL_SEP26, COMP_BORROWED_SEP26 = 2.17e9, 1.06e9
#: The split of the loan book over markets is our estimate: the shares of the earlier $0.90bn book, 0.50 / 0.25 / 0.15.
COMP_SPLIT = {"ETH": 0.50 / 0.90, "WBTC": 0.25 / 0.90, "stETH": 0.15 / 0.90}


def comp_markets():
    split = ("debt {:.1%} of the $1.06bn borrowed on 26 Sep 2025 [S:Comp-DL-Sep26] (the share is our estimate, "
             "that of the earlier $0.90bn book)")
    b = market("COMPOUND_V3", "ETH", "USDC", COMP_BORROWED_SEP26 * COMP_SPLIT["ETH"], 0.895, 0.05, 1.0, "compound", STANDARD,
               source=src("Comet-config"),
               note="Compound v3 USDC Comet: WETH liquidateCF 0.895, liquidationFactor 0.95 -> bonus 5% (launch config [S:Comet-config]; current values may differ); absorb takes the whole account (close factor 1); "
                    + split.format(COMP_SPLIT["ETH"]) + ".")
    b += market("COMPOUND_V3", "WBTC", "USDC", COMP_BORROWED_SEP26 * COMP_SPLIT["WBTC"], 0.77, 0.05, 1.0, "compound", STANDARD,
                source=src("Comet-config"),
                note="Compound v3 WBTC liquidateCF 0.77, liquidationFactor 0.95 (launch config); " + split.format(COMP_SPLIT["WBTC"]) + ".")
    b += market("COMPOUND_V3", "stETH", "ETH", COMP_BORROWED_SEP26 * COMP_SPLIT["stETH"], 0.93, 0.03, 1.0, "compound", LOOP,
                source=src("Comet-config"),
                note="Compound v3 WETH Comet, wstETH collateral, liquidateCF 0.93 [E]; " + split.format(COMP_SPLIT["stETH"]) + ".")
    return b


lender("COMPOUND_V3", "Compound v3 (Comet)", "Ethereum/Arbitrum/Base", COMP_TVL_SEP26 + COMP_BORROWED_SEP26, comp_markets,
       flag=SOURCED, source=src("Comp-DL-Sep26"), as_of="2025-09-26",
       note="TVL $2.17bn excl. borrows and $1.06bn borrowed on 26 Sep 2025 (DefiLlama's Compound v3 adapter as run by its CI bot on "
            "pull request 16437, which added the $1.72M RON market [S:Comp-DL-Sep26]; 5 days before the snapshot) -> gross supply "
            "$3.23bn = 2.17 + 1.06 (DefiLlama's TVL excludes borrows); loan book = borrowed $1.06bn, split across markets [E]. "
            "Was $2.15bn / $0.90bn from an undated DefiLlama page until session 35.")


def euler_markets():
    b = market("EULER", "USDe", "USDC", 0.6e9, 0.92, 0.04, 1.0, "aave", LOOP, source=src("Euler-defirisk"), note="Euler v2 USDe/sUSDe/PT vaults against USDC [E]; parameters not sourced. Oracle: Euler Yield's Ethena vaults read a USDe/USD market feed (Pyth, then RedStone; Euler forum, 'Modify Euler Yield's configuration to facilitate EulerSwap pools'), taken for these [assumption]: the market's price.")
    b += market("EULER", "ETH", "USDC", 0.4e9, 0.85, 0.05, 1.0, "aave", STANDARD, source=src("Euler-defirisk"), note="Euler v2 WETH/USDC [E].")
    b += market("EULER", "WBTC", "USDC", 0.4e9, 0.80, 0.05, 1.0, "aave", STANDARD, source=src("Euler-defirisk"), note="Euler v2 BTC collateral against USDC [E].")
    return b


lender("EULER", "Euler v2", "Ethereum/others", 3.15e9 + 1.4e9, euler_markets, flag=ESTIMATE, source=src("Euler-defirisk"),
       note="TVL peaked at $3.15bn in Q3 2025 (undated peak [S:Euler-defirisk]); loans $1.4bn [E] -> supply $4.55bn [E].", dep_flag=ESTIMATE)

K_SUP, K_BOR = 4.5e9 / (1 - 0.035), 1.6e9 / (1 - 0.026)


def kamino_markets():
    b = market("KAMINO", "SOL", "USDC", 0.70e9, 0.75, 0.05, 0.5, "aave", STANDARD, source=src("Kamino-Oct"), note="Kamino Main market SOL/USDC, LT 75% [E] (parameters not sourced).")
    b += market("KAMINO", "JitoSOL", "SOL", 0.60e9, 0.90, 0.02, 0.5, "aave", LOOP, source=src("Kamino-Oct"), note="Kamino JitoSOL/SOL Multiply loops, LT 90% [E].")
    b += market("KAMINO", "CBBTC", "USDC", K_BOR - 1.30e9, 0.75, 0.05, 0.5, "aave", STANDARD, source=src("Kamino-Oct"), note="Kamino cbBTC and other collateral against USDC [E].")
    return b


lender("KAMINO", "Kamino Lend", "Solana", K_SUP, kamino_markets, flag=SOURCED, source=src("Kamino-Oct"), as_of="2025-09-30",
       note="October 2025 risk report: supply fell 3.5% to $4.5bn and borrows 2.6% to $1.6bn -> end-September supply 4.5/0.965 = $4.663bn and borrows 1.6/0.974 = $1.643bn [S:Kamino-Oct]; split by market [E].")


def fluid_markets():
    b = market("FLUID", "ETH", "USDC", 0.7e9, 0.90, 0.03, 1.0, "aave", STANDARD, source=src("Galaxy-Q3"), note="Fluid vaults ETH/USDC, LT 90% [E] (Fluid parameters not sourced).")
    b += market("FLUID", "stETH", "ETH", 0.5e9, 0.95, 0.01, 1.0, "aave", LOOP, source=src("Galaxy-Q3"), note="Fluid wstETH/ETH vaults, LT 95% [E].")
    b += market("FLUID", "CBBTC", "USDC", 0.4e9, 0.88, 0.03, 1.0, "aave", STANDARD, source=src("Galaxy-Q3"), note="Fluid BTC vaults against USDC, LT 88% [E].")
    return b


lender("FLUID", "Fluid (Instadapp) lending", "Ethereum/Arbitrum/Base/Plasma", 3.4e9 + 1.6e9, fluid_markets, flag=SOURCED,
       source=src("Galaxy-Q3"), as_of="2025-09-30",
       note="Q3 2025 lending TVL $3.4bn and loans $1.6bn (Galaxy Research, 30 Sep [S:Galaxy-Q3]) -> supply 3.4 + 1.6 = $5.0bn (TVL taken as excluding borrows, DefiLlama convention); split by market [E].")

# ======================================================================================
# Sky and Spark
# ======================================================================================
def sky_markets():
    spells = ("the ilk's mat and chop on 1 Oct 2025 from Sky's executive spells (afterSpell of the 18 Sep 2025 spell "
              "[S:Sky-spells]; maker_ilks.csv has every auction figure)")
    debt = ("The debt is our estimate [E]: no source found states the ilk's Art x rate for a date within six weeks of "
            "1 Oct 2025 (sought in sessions 21, 23 and 24 in Sky's forum and Atlas, Steakhouse's reports, info.sky.money, "
            "makerburn, DefiLlama, Dune and the spells, which state parameters, never debts; the nearest, "
            "docs.amatsu.io's ilk report, is of 29 Jan 2026; searched again in session 34 in the stored pages, the docs, code "
            "and issues indexes for end-September 2025 financial reports and settlement-cycle posts: none states a debt).")
    b = market("SKY", "ETH", "DAI", 0.9e9, 1 / 1.45, 0.13, 1.0, "maker", MAKER, source=src("Sky-spells", "Sky-chop"),
               note=f"Sky ETH vaults as ETH-A: liquidation ratio 145%, penalty (chop) 13%, {spells}. ETH-A debt $0.9bn. {debt}")
    b += market("SKY", "stETH", "DAI", 0.4e9, 1 / 1.50, 0.13, 1.0, "maker", MAKER, source=src("Sky-spells"),
                note=f"Sky wstETH vaults as WSTETH-A: liquidation ratio 150%, chop 13%, {spells}. WSTETH-A debt $0.4bn. {debt}")
    b += market("SKY", "WBTC", "DAI", 0.2e9, 1 / 1.50, 0.0, 1.0, "maker", MAKER, source=src("Sky-spells"),
                note=f"Sky BTC vaults as WBTC-A (being offboarded, debt ceiling 0): liquidation ratio 150% and chop 0 "
                     f"(the 2024-10-04 spell's lerp from 145% and setIlkLiquidationPenalty 0), {spells}. Corrected in "
                     f"session 19 from 145% and 13% [E], figures of 2022. WBTC-A debt $0.2bn. {debt}")
    return b


sky_book = sky_markets()
SKY_SUPPLY = _pegs.DAI_SUPPLY + _pegs.USDS_SUPPLY
SKY_USDC, SKY_SLL, SKY_EQ = _pegs.SKY_PSM_USDC, 2.3e9, 0.15e9
SLL_SPARKLEND, SLL_USDT = 0.8e9, 0.55e9
ent("SKY", "Sky (Maker): USDS and DAI, with the Spark Liquidity Layer", "cdp_protocol", "Ethereum",
    oa=SKY_SUPPLY + SKY_EQ - sky_book - SKY_USDC * P["USDC"] - SLL_SPARKLEND - SLL_USDT, ol=SKY_SUPPLY, liquid=0.3, ins=SKY_EQ,
    flag=ESTIMATE, source=src("Stables-Oct10", "Sky-USDC", "Spark-DL", "Spark-SLL-USDT"),
    note=f"Owes DAI $5.02bn + USDS $4.363bn (10 Oct 2025, DefiLlama data [S:Stables-Oct10]; the 2025-10-01 level was not found; the late-October $5.146bn + $5.319bn until session 33). Assets: vault loans ${sky_book/1e9:.2f}bn (cohorts [E]), USDC in the PSM $4.0bn (~$5.5bn in Jan 2026 [S:Sky-USDC]; [E]), the $2.3bn its Spark Liquidity Layer deploys (AUM, undated DefiLlama [S:Spark-DL]): $0.8bn in SparkLend (exposure [E]), $0.55bn USDT (holding, end Sep [S:Spark-SLL-USDT]) and the rest (Aave, Morpho, PYUSD, Maple allocations) with RWA and other allocator assets in other_assets = plug to a $150M surplus buffer (equity and insurance fund) [E]. The Liquidity Layer is Sky's allocator, holding Sky's assets, not a borrower that can default on Sky: it is not a separate entity (as one with zero equity it would default on the first dollar of markdown and take Sky's $2.3bn credit line with it). The $150M is also the Vow's surplus buffer of maker_ilks.csv; checked in session 19, no source states it for 1 Oct: Sky's post of 25 Aug 2025 put the aggregate risk capital (surplus buffer plus Spark's risk capital) 'above 50M' [S:Sky-ARC-Aug25], vow.hump was cut to 1M on 21 Aug and the 30 Oct spell let the Kicker flap down to a buffer of -200M [S:Sky-spells], so the Vow's own buffer was likely well below it [E]. Searched again in session 34 (Sky Atlas A.3.5.1 'Surplus Buffer', which defines it and states no balance; Sky's forum and Atlas edits of Aug-Sep 2025 on the monthly settlement cycle; no Steakhouse or BA Labs report for end-September 2025 in the stored pages): no balance for a date within six weeks of 1 Oct 2025.")
hold("SKY", "USDC", SKY_USDC, flag=ESTIMATE, source=src("Sky-USDC"), note="USDC in Sky's PSM: ~$5.5bn in Jan 2026 (~7.5% of USDC) [S:Sky-USDC]; $4.0bn used for 1 Oct 2025 [E].")
hold("SKY", "USDT", SLL_USDT, flag=SOURCED, source=src("Spark-SLL-USDT"), as_of="2025-09-30",
     note="USDT on the Spark Liquidity Layer: almost $550M at the end of September (Sentora [S:Spark-SLL-USDT]).")

# ======================================================================================
# Stablecoin issuers
# ======================================================================================
T_BTC = 9.9e9 / P["BTC"]
ent("TETHER", "Tether (USDT issuer)", "stablecoin_issuer", "El Salvador",
    oa=181.22e9 - 14.6e9 - T_BTC * P["BTC"], ol=174.45e9, eq=6.77e9, liquid=0.8, flag=SOURCED,
    source=src("Tether-Q3", "Tether-Q3b", "Galaxy-Q3"), as_of="2025-09-30",
    note="Q3 attestation (BDO, 30 Sep 2025): assets $181.22bn, liabilities $174.45bn, excess (reported equity) $6.77bn; US Treasuries ~$135bn, gold $12.9bn, BTC $9.9bn [S:Tether-Q3]. Secured loans $14.6bn (Galaxy [S:Galaxy-Q3]) are the claim on TETHER_LENDING; BTC $9.9bn itemised as a holding; other_assets = 181.22 - 14.6 - 9.9 = $156.72bn (treasuries, gold, other).")
hold("TETHER", "BTC", T_BTC, flag=ESTIMATE, source=src("Tether-Q3"), as_of="2025-09-30",
     note="BTC worth $9.9bn at 30 Sep [S:Tether-Q3] converted at the reference price $117,000 = 84,615 BTC [E].")
ent("TETHER_LENDING", "Tether secured-loan book", "cefi_lender", "El Salvador", oa=14.6e9, liquid=0.1, flag=SOURCED,
    source=src("Galaxy-Q3", "CeFi-lending"), as_of="2025-09-30",
    note="Secured loans $14.6bn (~60% of CeFi lending, Galaxy Q3 2025 [S:Galaxy-Q3]) to undisclosed borrowers (other_assets), funded by TETHER (exposure). Equity 0.")
expo("TETHER", "TETHER_LENDING", "loan", 14.6e9, flag=SOURCED, source=src("Galaxy-Q3"), as_of="2025-09-30",
     note="Tether's secured-loan book $14.6bn at 30 Sep 2025 [S:Galaxy-Q3] (~8% of Tether's assets per the attestation [S:Tether-Q3]).")
ent("CIRCLE", "Circle (USDC issuer)", "stablecoin_issuer", "United States", oa=73.7e9, ol=73.7e9, liquid=0.9, flag=SOURCED,
    source=src("Circle-Q3", "Circle-10Q"), as_of="2025-09-30",
    note="USDC $73.7bn in circulation at 30 Sep (owed) [S:Circle-Q3]; reserves equal to it: $64.2bn in the Circle Reserve Fund (10-Q, cash segregated for stablecoin holders at NAV [S:Circle-10Q]) + $9.5bn bank cash (difference). Ring-fenced, equity 0.")
ETHENA_SPOT = _perps.ethena_spot_usd()
ent("ETHENA", "Ethena (USDe / sUSDe)", "stablecoin_issuer", "BVI / Ethereum", oa=14.83e9 * 1.0056 - sum(ETHENA_SPOT.values()), ol=14.83e9,
    liquid=0.6, ins=61.84e6, flag=ESTIMATE, source=src("Stables-Oct3", "Ethena-solvency", "Ethena-RF-Sep"),
    note=f"Owes USDe $14.83bn (3 Oct [S:Stables-Oct3]); backing = supply x solvency ratio 100.56% (25 Aug [S:Ethena-solvency]) = $14.913bn, a delta-neutral book: the spot BTC/ETH/SOL behind its short perps (holdings, ${sum(ETHENA_SPOT.values())/1e9:.2f}bn = half the backing [E], at OES custodians; the shorts are in the positions table, so the pair is flat in price) and the rest in stablecoins and cash held in USD (other_assets). The split is our estimate (not found for Oct 2025), which makes the row an estimate. insurance_fund = reserve fund $61.84M ($41.8M USDtb + $19.9M USDtb-USDC LP, Sep 2025 [S:Ethena-RF-Sep]).")
for _m, _usd in ETHENA_SPOT.items():
    hold("ETHENA", _m, _usd / P[_m], flag=ESTIMATE, source=src("Ethena-solvency"),
         note=f"Spot {_m} behind Ethena's short perps: ${_usd/1e9:.2f}bn [E] (half the $14.913bn backing split BTC/ETH/SOL 35/55/10, Hyperliquid's share capped at 10% of its OI).")
ent("ETHENA_USDTB", "USDtb (Ethena / Anchorage, BUIDL-backed)", "stablecoin_issuer", "United States", ol=1.83e9, liquid=0.9,
    flag=SOURCED, source=src("USDtb-BUIDL", "USDtb-90"), as_of="2025-09-15",
    note="Owes USDtb $1.83bn, backed 100% by BUIDL (itemised as a holding): $1.5bn of USDtb's BUIDL was bridged off Ethereum, leaving 18% there, so reserves = 1.5 / (1 - 0.18) = $1.83bn (Bankless, Sep 2025 [S:USDtb-BUIDL]). Equity 0.")
hold("ETHENA_USDTB", "BUIDL", 1.83e9, flag=SOURCED, source=src("USDtb-BUIDL"), as_of="2025-09-15",
     note="USDtb is 100% reserved by BUIDL (Bankless, Sep 2025 [S:USDtb-BUIDL]; 'about 90%' in the 2024 proposal [S:USDtb-90]): 1.83bn BUIDL.")
ent("BUIDL", "BlackRock USD Institutional Digital Liquidity Fund (BUIDL)", "stablecoin_issuer", "United States",
    oa=2.687e9, ol=2.687e9, liquid=0.9, flag=SOURCED, source=src("Stables-late-Oct"), as_of="2025-10-24",
    note="Tokenised money-market fund: $2.687bn of tokens at $1 NAV (late Oct 2025 [S:Stables-late-Oct]) owed to holders, backed by T-bills and repo of equal value. Equity 0.")
ent("PAXOS_PYUSD", "PayPal USD (issued by Paxos)", "stablecoin_issuer", "United States", oa=2652728424, ol=2652728424, liquid=0.9,
    flag=SOURCED, source=src("PYUSD-KPMG"), as_of="2025-10-15",
    note="Collateral $2,652,728,424 behind >2.6bn PYUSD (KPMG, mid-Oct 2025 [S:PYUSD-KPMG]); owed and held 1:1. Equity 0.")
ent("FIRST_DIGITAL", "First Digital (FDUSD issuer)", "stablecoin_issuer", "Hong Kong", oa=964.5e6, ol=964.5e6, liquid=0.8,
    flag=ESTIMATE, source=src("FDUSD-Nov21"), as_of="2025-11-21",
    note="FDUSD $964.5M on 21 Nov 2025 [S:FDUSD-Nov21] (outside the six-week window) used for October [E]; reserves equal [E]. FDUSD depegged to $0.87 in Apr 2025.")
ent("WLFI_USD1", "World Liberty Financial (USD1 issuer; BitGo custody)", "stablecoin_issuer", "United States", oa=2.7e9, ol=2.7e9,
    liquid=0.9, flag=SOURCED, source=src("USD1-Sep2"), as_of="2025-09-02",
    note="USD1 >$2.7bn in circulation on 2 Sep 2025 [S:USD1-Sep2] owed and held 1:1 (BitGo custody). Equity 0.")

# ======================================================================================
# Liquid staking and restaking (pass-through: backing = tokens owed; staked backing held in the underlying)
# ======================================================================================
for eid, name, chain, amt, flag, source, as_of, note in (
    ("LIDO", "Lido (stETH / wstETH)", "Ethereum", 36.7e9, SOURCED, src("DL-Sep22"), "2025-09-22",
     "TVL $36.7bn (DefiLlama, 22 Sep [S:DL-Sep22]; $34.4bn on 25 Sep [S:DL-Sep25]): staked ETH backing (other_assets) = stETH owed (other_liabilities). Withdrawal queue, so liquid_share 0.1."),
    ("EIGENLAYER", "EigenLayer (restaking)", "Ethereum", 18.0e9, SOURCED, src("DL-Sep22"), "2025-09-22",
     "TVL $18.0bn (DefiLlama, 22 Sep [S:DL-Sep22]): restaked ETH and LSTs owed back to restakers. Overlaps LIDO and ETHERFI (LSTs restaked are counted in both); pass-through with equity 0, so the overlap creates no loss."),
    ("ETHERFI", "ether.fi (eETH / weETH)", "Ethereum", 11.51e9, SOURCED, src("Etherfi-Q3"), "2025-09-30",
     "TVL $11.51bn at the end of Q3 (Token Terminal [S:Etherfi-Q3]); staked ETH backing = weETH owed. Its ETH is also restaked in EigenLayer (overlap, see EIGENLAYER)."),
    ("BINANCE_WBETH", "Binance wBETH", "Ethereum/BNB Chain", 3164193 * P["wBETH"], ESTIMATE, src("wBETH"), AS_OF,
     "3,164,193 wBETH (undated page [S:wBETH]) x reference price = $14.73bn [E]; staked ETH backing = wBETH owed. Binance priced wBETH collateral from its own order book until 14 Oct 2025."),
    ("COINBASE_CBETH", "Coinbase cbETH", "Ethereum/Base", 178149 * P["cbETH"], ESTIMATE, src("cbETH"), AS_OF,
     "178,149 cbETH circulating (undated [S:cbETH]) x reference price = $0.86bn [E]."),
    ("JITO", "Jito (JitoSOL)", "Solana", JITO_TVL, SOURCED, src("SOL-TVL-Sep9", "SOL-TVL-Sep9b"), "2025-09-09",
     "TVL $3.2bn (DefiLlama, 9 Sep 2025, the day Solana's DeFi TVL set its $12.11bn record: Jupiter $3.3bn, Jito $3.2bn, Kamino $3.1bn [S:SOL-TVL-Sep9], dated 2025-09-09 [S:SOL-TVL-Sep9b]): staked SOL backing = JitoSOL owed (other_liabilities). Was ~17.6M SOL x $215 = $3.78bn from an undated page [S:JitoSOL] until session 27."),
):
    if eid == "EIGENLAYER":  # restaked ETH and LSTs (overlapping LIDO and ETHERFI): held in USD
        ent(eid, name, "liquid_staking", chain, oa=amt, ol=amt, liquid=0.1, flag=flag, source=source, as_of=as_of, note=note)
        continue
    # the staked backing is held in the underlying, whose price the tokens owed follow (the custodian rule of
    # core.engine.peg_terms.wrapped_custodians: the tokens are pegged to it and priced by no pool)
    under = "SOL" if eid == "JITO" else "ETH"
    ent(eid, name, "liquid_staking", chain, ol=amt, liquid=0.1, flag=flag, source=source, as_of=as_of,
        note=note + f" The staked backing is a {under} holding (the tokens owed move with {under}: core.engine.peg_terms.wrapped_custodians).")
    units = (math.ceil(amt / P[under] * 1e6) + 1) / 1e6  # rounded up past the 6 decimals: equity never below 0
    hold(eid, under, units, flag=ESTIMATE, source=source,
         note=f"Staked {under} behind the tokens: ${amt/1e9:.3f}bn / the reference {under} price ${P[under]:,.0f} = {amt / P[under]:,.0f} {under} [E: the unit count at the reference price].")

# ======================================================================================
# AMMs and yield markets (reserves in USD; LPs own them)
# ======================================================================================
for eid, name, chain, tvl, as_of, source, note in (
    ("CURVE", "Curve (all pools incl. 3pool, USDe/USDC, stETH/ETH)", "Ethereum/others", 2.3e9, "2025-09-30", src("Curve-Uni-Q3"),
     "TVL $2.3bn in Q3 2025 (secondary, ainvest [S:Curve-Uni-Q3]); mostly stablecoin pools, held in USD (other_assets), so a price shock does not revalue them; no asset takes its price from a Curve pool (Curve USDe/USDC held at 0.997 on 10 Oct)."),
    ("UNISWAP", "Uniswap v2/v3/v4 (all chains)", "Ethereum/Base/others", 4.5e9, "2025-09-30", src("Curve-Uni-Q3"),
     "TVL $4.5bn across versions in Q3 2025 (secondary [S:Curve-Uni-Q3]); held in USD (other_assets): about half is ETH, which a price shock does not revalue here (known gap)."),
    ("PENDLE", "Pendle (PT/YT markets)", "Ethereum/others", 8.541e9, "2025-09-25", src("DL-Sep25"),
     "TVL $8.541bn (DefiLlama, 25 Sep, after the September maturity [S:DL-Sep25]; $12.96bn on 22 Sep). Mostly USDe/sUSDe and other yield-bearing dollars, held in USD."),
    ("BALANCER", "Balancer v2/v3", "Ethereum/others", 626e6, "2025-11-03", src("Balancer"),
     "TVL ~$626M before the 3 Nov 2025 exploit ($338M after, DappRadar [S:Balancer]); held in USD."),
):
    ent(eid, name, "amm_pool", chain, oa=tvl, liquid=0.8, flag=SOURCED, source=source, as_of=as_of, note=note)
    expo("LP_PROVIDERS", eid, "lp_share", tvl, flag=SOURCED, source=source, as_of=as_of,
         note=f"Liquidity providers own the pools' reserves: TVL ${tvl/1e9:.3f}bn.")

# ======================================================================================
# Perpetuals venues
# ======================================================================================
ent("HYPERLIQUID", "Hyperliquid (perps L1, clearinghouse)", "perpetuals_venue", "Hyperliquid L1", oa=0.05 * 5.6e9, liquid=1.0, flag=SOURCED,
    source=src("HL-stables", "HL-OI"), as_of="2025-09-30",
    note="~$5.6bn of stablecoins on Hyperliquid, ~95% USDC (Sep 2025 [S:HL-stables]): $5.32bn bridged USDC is a claim on HL_BRIDGE, the other 5% ($0.28bn, native stablecoins) other_assets. Owes traders $5.3bn and HLP $0.3bn. OI $13.8bn before the crash [S:HL-OI]. No separate insurance fund: HLP's liquidator vault is the backstop, then ADL.")
expo("PERP_TRADERS", "HYPERLIQUID", "customer_balance", 5.6e9 - 0.3e9 - _perps.ABC_ACCOUNT, flag=SOURCED,
     source=src("HL-stables", "HLP-Oct") + "; " + _perps.s("MM-losses"), as_of="2025-09-30",
     note=f"Traders' margin = $5.6bn stablecoins on Hyperliquid [S:HL-stables] - HLP's ~$300M [S:HLP-Oct] - ABC's ${_perps.ABC_ACCOUNT/1e6:.1f}M (its own row) = ${(5.3e9 - _perps.ABC_ACCOUNT)/1e9:.3f}bn.")
expo("HLP", "HYPERLIQUID", "customer_balance", 0.3e9, flag=SOURCED, source=src("HLP-Oct"), as_of="2025-10-01",
     note="HLP vault TVL ~$300M in October 2025 [S:HLP-Oct].")
expo("HYPERLIQUID", "HL_BRIDGE", "deposit", 0.95 * 5.6e9, flag=SOURCED, source=src("HL-stables"), as_of="2025-09-30",
     note="USDC locked in Bridge2 on Arbitrum = 95% x $5.6bn = $5.32bn [S:HL-stables].")
ent("HLP", "Hyperliquidity Provider vault (market maker, liquidator, backstop)", "fund", "Hyperliquid L1", liquid=1.0, flag=SOURCED,
    source=src("HLP-Oct"), as_of="2025-10-01",
    note="TVL ~$300M (October 2025 [S:HLP-Oct]), held as margin on Hyperliquid (exposure); its depositors' equity. ($451M in Mar 2025; made >$40M, >10%, on 10-11 Oct.)")
ent("HL_BRIDGE", "Hyperliquid Bridge2 (Arbitrum USDC)", "bridge", "Arbitrum", liquid=1.0, flag=SOURCED, source=src("HL-stables"),
    as_of="2025-09-30", note="Holds the $5.32bn of bridged USDC (holding) owed to Hyperliquid (exposure). Equity 0.")
hold("HL_BRIDGE", "USDC", 0.95 * 5.6e9, flag=SOURCED, source=src("HL-stables"), as_of="2025-09-30",
     note="95% of the ~$5.6bn stablecoins on Hyperliquid are USDC in the bridge [S:HL-stables].")

for eid, name, ins, flag, source, as_of, note in (
    ("BINANCE_FUT", "Binance Futures (USDT-M book)", 1.23e9, SOURCED, src("Binance-IF", "BTC-OI-Oct6"), "2025-10-10",
     "Insurance fund (shared BTC/ETH/BNB USDT-M fund) ~$1.23bn before the crash, $1.04bn after (Binance Square citing Binance's fund history [S:Binance-IF], secondary). BTC futures OI $16.8bn on 6 Oct [S:BTC-OI-Oct6]. Traders' margin sits in BINANCE's customer balances (proof of reserves); positions come with the positions table."),
    ("BYBIT_FUT", "Bybit derivatives book", 0.35e9, ESTIMATE, src("IF-sizes", "BTC-OI-Oct6"), AS_OF,
     "Insurance fund $300M+ (undated glossary [S:IF-sizes]; ~$400M in mid-2026) -> $350M [E]. BTC OI $10.5bn on 6 Oct [S:BTC-OI-Oct6]. Margin inside BYBIT's customer balances. Searched again in session 34: Bybit's help-centre page 'Insurance Fund' (18 Aug 2024) explains the fund and states no balance; its daily balance history page is not in the stored pages (a June 2026 article puts the fund at ~$400M then); the Dec 2025 pool restructuring (New Listing and Portfolio pools) states no balance; nothing dated within six weeks of 1 Oct 2025."),
    ("OKX_FUT", "OKX derivatives book", 0.4e9, ESTIMATE, src("IF-sizes", "BTC-OI-Oct6"), AS_OF,
     "Insurance fund $400M+ (undated glossary [S:IF-sizes]; 'Risk Shield' ~$700M in 2024) -> $400M [E]. BTC OI $5.1bn on 6 Oct [S:BTC-OI-Oct6]. Margin inside OKX's customer balances. Searched again in session 34: OKX's statements after the 10-11 Oct 2025 crash (CEO Star Xu on order latency) and its proof-of-reserves page state no fund balance; the only figure remains the 2024 'Risk Shield' ~$700M (April 2024 press), 18 months out."),
    ("BITGET_FUT", "Bitget derivatives book", 0.3e9, SOURCED, src("Bitget-Sep26", "BTC-OI-Oct6"), "2025-09-26",
     "Protection Fund US$300 million (26 Sep 2025 [S:Bitget-Sep26]; its market value was reported at $612M in Apr 2024). BTC OI $6.3bn on 6 Oct [S:BTC-OI-Oct6]. Margin inside BITGET's customer balances."),
):
    ent(eid, name, "perpetuals_venue", "offshore", ins=ins, liquid=1.0, flag=flag, source=source, as_of=as_of, note=note)

_perps.entities(ent, expo, hold, P, SOURCED, ESTIMATE)  # named accounts of the positions table (Wintermute, ABC), Hyperliquid Strategies

DYDX_TVL = 257.82e6 / (1 - 0.2432)
for eid, name, chain, tvl, source, as_of, note in (
    ("DYDX", "dYdX v4 (incl. MegaVault)", "dYdX Chain", DYDX_TVL, src("dYdX-Q4"), "2025-09-30",
     "Q4 2025 TVL $257.82m, -24.32% QoQ -> end-Q3 TVL 257.82 / 0.7568 = $340.7M [S:dYdX-Q4]: traders' collateral held (other_assets) and owed (exposure). Insurance fund paid up to $462k after the 10 Oct halt; its size is not known (0)."),
    ("LIGHTER", "Lighter (zk perps, incl. LLP)", "Ethereum (zk rollup)", 700e6, src("Lighter"), "2025-09-30",
     "~$700M TVL in late September [S:Lighter] held and owed to traders and LLP depositors. OI $2.08bn on 6 Oct [S:PerpDEX-Oct6]; LLP -5.35% on 10 Oct; ADL used."),
    ("ASTER", "Aster (BNB Chain perps)", "BNB Chain/others", 1.399e9, src("Aster-Oct"), "2025-10-15",
     "TVL $1.399bn in October 2025 [S:Aster-Oct] held and owed to traders. OI $4.86bn on 6 Oct [S:PerpDEX-Oct6]."),
):
    ent(eid, name, "perpetuals_venue", chain, oa=tvl, liquid=1.0, flag=SOURCED, source=source, as_of=as_of, note=note)
    expo("PERP_TRADERS", eid, "customer_balance", tvl, flag=SOURCED, source=source, as_of=as_of,
         note=f"Traders' collateral = venue TVL ${tvl/1e6:,.1f}M.")

# ======================================================================================
# Centralised exchanges (reserves held; user balances owed, both from proof of reserves)
# ======================================================================================


def exchange(eid, name, chain, reserves, users, *, flag, source, as_of, note, oa=0.0, ol=0.0, liquid=0.8, eq=None):
    owed = sum(u * P[a] for a, u in users.items())
    ent(eid, name, "centralised_exchange", chain, oa=oa, ol=ol, liquid=liquid, eq=eq, flag=flag, source=source, as_of=as_of,
        note=f"{note} User balances of the reported assets at reference prices ${owed/1e9:.2f}bn (exposure).")
    for a, u in reserves.items():
        hold(eid, a, u, flag=flag, source=source, as_of=as_of, note=f"{a} reserves from the proof of reserves ({as_of}).")
    expo("CEX_CUSTOMERS", eid, "customer_balance", owed, flag=flag, source=source, as_of=as_of,
         note="User balances = " + ", ".join(f"{u:,.2f} {a}" for a, u in users.items()) + " at reference prices.")


exchange("BINANCE", "Binance (spot, custody, unified margin)", "offshore",
         {"BTC": 606356, "ETH": 4.09e6, "BNB": 37.88e6, "USDT": 34.73e9},
         {"BTC": 606356 / 1.0211, "ETH": 4.09e6 / 1.0, "BNB": 37.88e6 / 1.1295, "USDT": 34.73e9 / 1.0745},
         flag=SOURCED, source=src("Binance-PoR-Nov1"), as_of="2025-11-01",
         note="Proof of reserves, 1 Nov 2025: 606,356 BTC (102.11%), 4.09M ETH (100.00%), 37.88M BNB (112.95%), 34.73bn USDT (107.45%) [S:Binance-PoR-Nov1]; user balances = reserves / ratio. Other assets and the $1bn SAFU fund not itemised (SAFU undated here).")
exchange("OKX", "OKX", "Seychelles/offshore",
         {"BTC": 125083, "ETH": 1.704e6, "USDT": 9.9e9},
         {"BTC": 125083 / 1.05, "ETH": 1.704e6 / 1.03, "USDT": 9.9e9 / 1.05},
         flag=SOURCED, source=src("OKX-PoR-Sep2"), as_of="2025-09-02",
         note="35th proof of reserves, 2 Sep 2025: $37.7bn total; 125,083 BTC (105%), 1.704M ETH (103%), USDT 9.9bn wallet (105%) [S:OKX-PoR-Sep2]; user balances = reserves / ratio; other assets not itemised.")
exchange("BITGET", "Bitget", "Seychelles/offshore",
         {"BTC": 28022.72, "ETH": 283323.26, "USDT": 1.95e9, "USDC": 172.08e6},
         {"BTC": 7681.36, "ETH": 141470.62, "USDT": 1.93e9, "USDC": 86.01e6},
         flag=SOURCED, source=src("Bitget-Aug22"), as_of="2025-08-22",
         note="Proof of reserves snapshot 22 Aug 2025 (188% total ratio): reserves 28,022.72 BTC, 283,323.26 ETH, 1.95bn USDT, 172.08M USDC; users 7,681.36 BTC, 141,470.62 ETH, 1.93bn USDT, 86.01M USDC [S:Bitget-Aug22].")
exchange("BYBIT", "Bybit", "UAE/offshore",
         {"BTC": 63206, "ETH": 536845, "USDT": 6.1e9, "USDC": 658.4e6},
         {"BTC": 59711, "ETH": 528519, "USDT": 5.9e9, "USDC": 583.5e6},
         flag=ESTIMATE, source=src("Bybit-PoR-Dec17"), as_of="2025-12-17",
         note="The 17 Dec 2025 proof of reserves (77 days after the snapshot [S:Bybit-PoR-Dec17]) used for October [E]: 63,206 BTC / 59,711 users, 536,845 ETH / 528,519, USDT 6.1bn / 5.9bn, USDC 658.4M / 583.5M. Aug-14 report gives ratios only.")
ent("COINBASE", "Coinbase (exchange, custodian, Base, Deribit)", "centralised_exchange", "United States",
    oa=11.9e9 + 2.6e9, liquid=0.8, flag=ESTIMATE, source=src("Coinbase-Q3"), as_of="2025-09-30",
    note="Q3 2025: $11.9bn USD resources and $2.6bn crypto investments (other_assets), average USDC in Coinbase products $15bn (held as USDC, owed to customers) [S:Coinbase-Q3]. Corporate debt (convertible notes) not sourced, so liabilities are incomplete [E]. Custodial crypto of customers and ETFs is segregated and not itemised.")
hold("COINBASE", "USDC", 15e9, flag=SOURCED, source=src("Coinbase-Q3"), as_of="2025-09-30",
     note="Average USDC held in Coinbase products in Q3 2025: $15bn [S:Coinbase-Q3].")
expo("CEX_CUSTOMERS", "COINBASE", "customer_balance", 15e9, flag=SOURCED, source=src("Coinbase-Q3"), as_of="2025-09-30",
     note="Customers' USDC in Coinbase products, Q3 2025 average $15bn [S:Coinbase-Q3].")

# ======================================================================================
# CeFi lenders and funds
# ======================================================================================
ent("GALAXY", "Galaxy Digital", "cefi_lender", "United States", oa=1.8e9 + 1.9e9, ol=3.7e9 - 3.2e9, eq=3.2e9, liquid=0.5,
    flag=SOURCED, source=src("Galaxy-IR"), as_of="2025-09-30",
    note="Q3 2025: average loan book $1.8bn, cash and stablecoins $1.9bn, equity $3.2bn [S:Galaxy-IR]; other_liabilities = 3.7 - 3.2 = $0.5bn closes the identity (a simplified book: other investments and their funding are left out).")
ent("NEXO", "Nexo", "cefi_lender", "Switzerland/Cayman", oa=2.0e9 + 6.5e9, liquid=0.3, flag=ESTIMATE,
    source=src("CeFi-lending", "Nexo-AUM"), as_of="2025-09-30",
    note="Loans ~$2bn at 30 Sep 2025 [S:CeFi-lending]; client assets ~$8bn [E] ('>$15bn AUM', undated review [S:Nexo-AUM]); other holdings $6.5bn = plug to +$0.5bn equity [E].")
expo("CEX_CUSTOMERS", "NEXO", "customer_balance", 8.0e9, flag=ESTIMATE, source=src("Nexo-AUM"),
     note="Nexo client balances ~$8bn [E] (undated '>$15bn AUM' [S:Nexo-AUM] looks high for earn balances).")
ent("LEDN", "Ledn", "cefi_lender", "Canada/Cayman", oa=1.0e9, ol=0.9e9, liquid=0.2, flag=ESTIMATE, source=src("Ledn-ABS"),
    note="BTC-backed loans ~$1.0bn [E] (outstanding loans on 1 Oct 2025 not found; a Jan 2026 ABS pool holds 4,079 BTC of collateral, average LTV 54.8%, liquidation at 80% LTV [S:Ledn-ABS]); funded by institutional partners (other_liabilities $0.9bn [E]).")
ent("STRATEGY", "Strategy (MSTR)", "fund", "United States", ol=8.174e9, liquid=0.2, flag=SOURCED, source=src("MSTR-10Q"), as_of="2025-09-30",
    note="10-Q, 30 Sep 2025: 640,031 BTC (holding), long-term debt $8.174bn (other_liabilities) [S:MSTR-10Q]. Preferred stock $5.786bn (mezzanine) is left out as equity-like; deferred tax $6.95bn left out.")
hold("STRATEGY", "BTC", 640031, flag=SOURCED, source=src("MSTR-10Q"), as_of="2025-09-30", note="640,031 BTC at 30 Sep 2025 [S:MSTR-10Q].")
for eid, name, units, as_of, note in (
    ("BITMINE", "BitMine Immersion (ETH treasury company)", 3.24e6, "2025-10-20",
     "3.24M ETH on 20 Oct 2025 [S:DAT-Oct20] (1.5M in Aug; the 1 Oct holding is lower and not reported). No debt reported."),
    ("SHARPLINK", "SharpLink Gaming (ETH treasury company)", 840.6e3, "2025-10-17",
     "~840.6k ETH before its 17 Oct purchase [S:DAT-Oct20]; held largely as staked ETH/LSTs, represented as ETH. No debt reported."),
):
    ent(eid, name, "fund", "United States", liquid=0.3, flag=SOURCED, source=src("DAT-Oct20"), as_of=as_of, note=note)
    hold(eid, "ETH", units, flag=SOURCED, source=src("DAT-Oct20"), as_of=as_of, note=note.split(";")[0] + ".")
ent("ETF_BTC_US", "US spot bitcoin ETFs (IBIT, GBTC, FBTC, ...)", "fund", "United States", liquid=0.5, flag=SOURCED,
    source=src("ETF-BTC-Oct8"), as_of="2025-10-08",
    note="1,362,278 BTC on 8 Oct 2025 (IBIT 804,309, GBTC 224,834, FBTC 207,371) [S:ETF-BTC-Oct8]; shareholders' equity, no debt. Custody (mostly Coinbase) is segregated and not an exposure here.")
hold("ETF_BTC_US", "BTC", 1362278, flag=SOURCED, source=src("ETF-BTC-Oct8"), as_of="2025-10-08", note="1,362,278 BTC held by US spot ETFs [S:ETF-BTC-Oct8].")
ent("ETF_ETH_US", "US spot ether ETFs", "fund", "United States", liquid=0.5, flag=SOURCED, source=src("ETF-ETH"), as_of="2025-10-06",
    note="6.92M ETH held by nine US spot ether ETFs ($30.76bn at $4,448; Strategic ETH Reserve, early Oct 2025 [S:ETF-ETH]); shareholders' equity, no debt.")
hold("ETF_ETH_US", "ETH", 6.92e6, flag=SOURCED, source=src("ETF-ETH"), as_of="2025-10-06", note="6.92M ETH [S:ETF-ETH].")

# ======================================================================================
# Wrapped BTC
# ======================================================================================
for eid, name, units, note in (
    ("WBTC_BITGO", "WBTC custody (BitGo / BiT Global)", 128800, "~128,800 BTC behind WBTC (Coin Metrics, 3 Jun 2025 [S:WBTC-Jun]) used for October [E]; ~$5bn of WBTC in lending protocols (June)."),
    ("CBBTC", "Coinbase cbBTC custody", 43100, "~43,100 BTC behind cbBTC (Coin Metrics, 3 Jun 2025 [S:WBTC-Jun]) used for October [E]; ~$2bn in lending protocols (June)."),
):
    ent(eid, name, "bridge", "Ethereum/Base/Solana", ol=units * P["BTC"], liquid=1.0, flag=ESTIMATE,
        source=src("WBTC-Jun"), as_of="2025-06-03",
        note=note + " Custody in BTC: the BTC it holds is a BTC holding and the wrapped tokens owed (other_liabilities, "
                    "at the reference price) are a claim on that BTC, so the engine moves them with BTC's price for the "
                    "units held (core.engine.peg_terms.wrapped_custodians): a BTC move leaves it solvent, and only a loss "
                    "of its own (a forced default, a hack) opens the wrapped token's basis. Equity 0.")
    hold(eid, "BTC", units, flag=ESTIMATE, source=src("WBTC-Jun"), as_of="2025-06-03",
         note=f"BTC in custody behind the wrapped tokens: {units:,} BTC (Coin Metrics, 3 Jun 2025 [S:WBTC-Jun]) used for October [E].")

# ======================================================================================
# Stream Finance, Elixir and the curators (November 2025 episode)
# ======================================================================================
ent("STREAM", "Stream Finance (xUSD)", "fund", "Ethereum/others", oa=400e6, liquid=0.2, flag=SOURCED,
    source=src("Stream-backing", "Stream-YAM"), as_of="2025-10-30",
    note="Claimed >$400M of backing on 30 Oct 2025 [S:Stream-backing] (other_assets); debt to lenders >= $284.9M (4 Nov, YAM [S:Stream-YAM]) itemised as exposures; xUSD holders are treated as its equity ($115.1M). A fund manager lost ~$93M of it on 3-4 Nov.")
expo("ELIXIR", "STREAM", "loan", 68e6, flag=SOURCED, source=src("Elixir"), as_of="2025-11-04",
     note="Elixir lent $68M USDC to Stream through a private Morpho market with xUSD as collateral (~65% of deUSD's backing) [S:Elixir]. Kind loan: the xUSD collateral is Stream's own token and its pledged amount is not reported.")
expo("TELOSC", "STREAM", "loan", 123.6e6, flag=SOURCED, source=src("Stream-YAM"), as_of="2025-11-04",
     note="TelosC-curated markets' exposure to Stream ~$123.6M (YAM, 4 Nov [S:Stream-YAM]).")
expo("MEV_CAPITAL", "STREAM", "loan", 25.4e6, flag=SOURCED, source=src("Stream-YAM"), as_of="2025-11-04",
     note="MEV Capital's exposure to Stream $25.4M (YAM, 4 Nov [S:Stream-YAM]).")
expo("DEFI_DEPOSITORS", "STREAM", "loan", 284.9e6 - 68e6 - 123.6e6 - 25.4e6, flag=SOURCED, source=src("Stream-YAM"), as_of="2025-11-04",
     note="Other lenders to Stream (Varlamore, Re7 and others) = $284.9M total [S:Stream-YAM] - Elixir 68 - TelosC 123.6 - MEV Capital 25.4 = $67.9M.")
ent("ELIXIR", "Elixir (deUSD issuer)", "stablecoin_issuer", "Ethereum", ol=104.6e6, liquid=0.5, flag=SOURCED, source=src("Elixir"),
    as_of="2025-11-04",
    note="$68M lent to Stream was ~65% of deUSD's backing [S:Elixir] -> backing and deUSD owed 68 / 0.65 = $104.6M; the other $36.6M held as USDC. (A ~$150M market cap was also reported; not used.)")
hold("ELIXIR", "USDC", 104.6e6 - 68e6, flag=ESTIMATE, source=src("Elixir"), as_of="2025-11-04",
     note="deUSD backing not lent to Stream: $104.6M - $68M = $36.6M, held as USDC [E].")
for eid, name, amt in (("TELOSC", "TelosC (vault curator)", 123.6e6), ("MEV_CAPITAL", "MEV Capital (vault curator)", 25.4e6)):
    ent(eid, name, "fund", "Ethereum/others", liquid=0.5, flag=SOURCED, source=src("Stream-YAM"), as_of="2025-11-04",
        note=f"Only the Stream-exposed part of its curated vaults is modelled: ${amt/1e6:.1f}M lent to Stream [S:Stream-YAM], owed to the vaults' depositors (pass-through, equity 0).")
    expo("DEFI_DEPOSITORS", eid, "deposit", amt, flag=SOURCED, source=src("Stream-YAM"), as_of="2025-11-04",
         note=f"Depositors of {name}'s Stream-exposed vaults: ${amt/1e6:.1f}M (= its exposure to Stream [S:Stream-YAM]).")

# ======================================================================================
# Depositor aggregates
# ======================================================================================
for eid, name in (
    ("CEX_CUSTOMERS", "Exchange and CeFi customers"),
    ("DEFI_DEPOSITORS", "DeFi lending suppliers and vault depositors"),
    ("PERP_TRADERS", "Perpetuals traders (margin on perps venues)"),
    ("STABLE_HOLDERS", "Stablecoin holders outside the modelled entities"),
    ("LP_PROVIDERS", "Liquidity providers (Curve, Uniswap, Pendle, Balancer)"),
):
    ent(eid, name, "depositor_aggregate", "various", liquid=1.0, flag=ESTIMATE, source=EST,
        note="Aggregate where losses land; it holds claims only and has no figure of its own to source.")

# Stablecoin supply not held by a modelled entity goes to STABLE_HOLDERS.
itemised: dict[str, float] = {}
for h in holdings:
    itemised[h["asset"]] = itemised.get(h["asset"], 0.0) + h["amount"]
for a in assets:
    if a["kind"] in ("fiat_stable", "cdp_stable"):
        rest = a["supply"] - itemised.get(a["symbol"], 0.0)
        if rest < 0:
            raise ValueError(f"{a['symbol']}: itemised holdings exceed supply by {-rest:,.0f}")
        hold("STABLE_HOLDERS", a["symbol"], rest, flag=ESTIMATE, source=EST,
             note="Supply not held by a modelled entity: plug = supply - itemised holdings [E].")

# ======================================================================================
# Correlations (estimates: no price series could be fetched in this session)
# ======================================================================================
# BTC, ETH, SOL, BNB: computed from a named public price series (see SERIES_NOTE); HYPE pairs: our estimates.
SERIES = "https://github.com/budydeveloper/crypto-dataset (commit 7791d62, cryptos/{btc,eth,sol,bnb}/*-USD_1d.csv)"
SERIES_NOTE = ("Pearson correlation of daily log returns of daily closes (Yahoo Finance X-USD series in budydeveloper/crypto-dataset, "
               "commit 7791d62), 366 returns from 2024-02-12 to 2025-02-11, the newest free daily series found in this session; "
               "it ends 7.5 months before the snapshot, so the row is an estimate [E].")
COMPUTED = {("ETH", "BTC"): 0.802, ("ETH", "SOL"): 0.672, ("ETH", "BNB"): 0.645, ("BTC", "SOL"): 0.724,
            ("BTC", "BNB"): 0.655, ("SOL", "BNB"): 0.598}
GUESSED = {("ETH", "HYPE"): 0.50, ("BTC", "HYPE"): 0.48, ("SOL", "HYPE"): 0.50, ("BNB", "HYPE"): 0.40}
for (a, b), rho in COMPUTED.items():
    correlations.append(dict(asset_a=a, asset_b=b, correlation=rho, as_of=AS_OF, source=SERIES, flag=ESTIMATE, note=SERIES_NOTE))
for (a, b), rho in GUESSED.items():
    correlations.append(dict(asset_a=a, asset_b=b, correlation=rho, as_of=AS_OF, source=EST, flag=ESTIMATE,
                             note="Daily log-return correlation with HYPE, our estimate [E]: HYPE (listed Nov 2024) is not in the price series used for the other pairs."))


def build(folder: Path = HERE) -> None:
    frames = {
        "entities": pd.DataFrame(entities), "assets": pd.DataFrame(assets), "holdings": pd.DataFrame(holdings),
        "exposures": pd.DataFrame(exposures), "cohorts": pd.DataFrame(cohorts), "correlations": pd.DataFrame(correlations),
        "positions": pd.DataFrame(_perps.positions(P)), "venues": pd.DataFrame(_perps.venues()),
        "pegs": pd.DataFrame(_pegs.pegs()), "maker_ilks": pd.DataFrame(_maker.maker_ilks()),
    }
    net = network_from_frames(frames, name="crypto-2025-10")
    bs = net.balance_sheet()
    negative = bs[bs["derived_equity_usd"] < -1.0]
    if len(negative):
        raise ValueError(f"negative derived equity: {negative['derived_equity_usd'].to_dict()}")
    write_csv_folder(net, folder)
    print(f"wrote {folder}: " + ", ".join(f"{k} {len(v)}" for k, v in frames.items()))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)

"""The ``pegs`` table of the ``crypto-2025-10`` snapshot (used by ``_build.py``): how its stablecoins hold their pegs.

Fiat reserves and redemption rails (USDT, USDC, FDUSD), partial backing (USDtb by BUIDL, USDe half in
stablecoins) and Sky's LitePSM behind DAI and USDS, each row sourced or flagged estimate with how it was
made in its note (the column meanings are in ``core/schema.py``, table ``pegs``). The liquid-staking
tokens (stETH, weETH, wBETH, cbETH, JitoSOL) have no row: the snapshot models no AMM pool for them, and
a ``liquid_staking`` row needs the pool that sets the token's price (``core.validation``).
"""

from __future__ import annotations

#: DAI and USDS in circulation: $5.02bn and $4.363bn in MathWallet's Global Stablecoin Newsletter #08 of 10 Oct 2025
#: (DefiLlama data), the dated figure nearest to 1 Oct 2025 found (nine days out; the late-October $5.146bn and
#: $5.319bn used until session 33 come from an article whose date was inferred from its figures).
STABLES_OCT10 = "https://mathwallet.medium.com/global-stablecoin-newsletter-08-50ccc8b1f465"
DAI_SUPPLY, USDS_SUPPLY = 5.02e9, 4.363e9
#: USDC in Sky's LitePSM on 1 Oct 2025: $4.0bn, an estimate (~$5.5bn in Jan 2026 is the only dated figure found).
SKY_PSM_USDC = 4.0e9
#: The PSM's share of the coins it stands behind: 4.0 / (5.02 + 4.363) = 0.4263 (was 0.382 of the late-October supply).
PSM_SHARE = round(SKY_PSM_USDC / (DAI_SUPPLY + USDS_SUPPLY), 4)

#: Session 40 (data): the LitePSM's autoline lines in the 18 Sep 2025 afterSpell and its fees read from the spells.
LITE_PSM_LINES = (
    "Session 40 (docs/invariants.md, 'Session 40 (data)'): LITE-PSM-USDC-A's aL_line 10 * BILLION, aL_gap "
    "400 * MILLION, aL_ttl 12 hours are lines 411-413 of archive/2025-09-18-DssSpell/test/config.sol. tin "
    "and tout 0: no spell from its onboarding (archive/2024-07-25-DssSpell; "
    "dependencies/dss-lite-psm/DssLitePsmInit.sol line 114: 'buf, tin and tout need to be set in the "
    "higher level migration scripts') to archive/2025-09-18 files the LitePSM's tin or tout (the "
    "2024-08-22 and 2024-10-04 fee lines are the old PSM-USDC-A's), so they are the contract's initial 0: "
    "read from the spells' silence, not stated, so [E] stays."
)

ROWS: list[dict[str, object]] = [
    {
        'asset': 'USDT',
        'mechanism': 'fiat_reserves',
        'reserve_cash': 0.0,
        'reserve_tbills': 0.745,
        'reserve_other': 0.255,
        'redemption_capacity_usd_per_day': 1500000000,
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://cryptotale.org/tether-posts-10b-profit-with-135b-in-us-treasuries-in-q3-2025; https://www.protocol.com/bulletins/tether-stablecoin-crypto-crash; https://markets.businessinsider.com./news/currencies/tether-investors-redeem-10-billion-crypto-market-crash-2022-5',
        'flag': 'estimate',
        'note': "Estimated fields (session 33): reserve_cash (0) and redemption_capacity_usd_per_day. Shares of Tether's $181.22bn of reserves at 30 Sep 2025 (BDO attestation [S:Tether-Q3]): US Treasuries ~$135bn (direct, repo and money-market funds) = 0.745 in tbills; gold $12.9bn, BTC $9.9bn, secured loans $14.6bn and the rest = 0.255 in other [S]; cash at banks not stated in the figures found, taken as 0 [E]. Rails capacity: the largest day reported in the May 2022 run, $1.5bn (Guardian via Business Insider; $7bn redeemed from 11 to 17 May, Tether's blog via Protocol), used as a lower bound for 2025 [E]: every request was paid then, so the capacity was at least that.",
    },
    {
        'asset': 'USDC',
        'mechanism': 'fiat_reserves',
        'reserve_cash': 0.1289,
        'reserve_tbills': 0.8711,
        'reserve_other': 0.0,
        'redemption_capacity_usd_per_day': 2340000000,
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://www.sec.gov/Archives/edgar/data/1876042/000187604225000047/R51.htm; https://markets.ft.com/data/announce/detail?dockey=600-202511120625BIZWIRE_USPRX____20251112_BW229900-1; https://www.theblock.co/post/218993/usdc-and-dai-remain-at-about-0-90-following-circles-disclosure-of-funds-at-svb',
        'flag': 'estimate',
        'note': 'Estimated field (session 33): redemption_capacity_usd_per_day. USDC $73.7bn at 30 Sep 2025 [S:Circle-Q3], of which $64.2bn in the Circle Reserve Fund (T-bills and repo, 10-Q [S:Circle-10Q]) = 0.8711 and $9.5bn cash at banks (the difference, as the CIRCLE entity row) = 0.1289. Rails capacity: the $2.34bn of USDC burned in the 24h after SVB (Mar 2023 [S:SVB-block]), the largest day found, used for 2025 [E].',
    },
    {
        'asset': 'FDUSD',
        'mechanism': 'fiat_reserves',
        'reserve_cash': 0.092,
        'reserve_tbills': 0.908,
        'reserve_other': 0.0,
        'redemption_capacity_usd_per_day': 83000000,
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://globalcrypto.news/fdusd-stablecoin-backing-confirmed-amid-fraud-allegations; https://bitcoinfunda.com/first-digital-redeems-26m-after-fdusd-depeg-dismisses-sun-insolvency-claims',
        'flag': 'estimate',
        'note': 'Estimated fields (session 33): the reserve shares (April 2025) and redemption_capacity_usd_per_day. Attestation of 14 Apr 2025: $1.74bn T-bills and $603M overnight repo behind 2.58bn FDUSD [S] = 0.908 in tbills, the rest in fixed deposits at banks = 0.092 cash [S, by difference]; October 2025 composition not found, the April shares used [E]. Rails capacity: over $1bn redeemed in the ~12 days after the 2 Apr 2025 depeg (low 0.87; $25.8M in the first two days) = ~$83M a day [E from the sourced figures].',
    },
    {
        'asset': 'USDtb',
        'mechanism': 'fractional',
        'backing_asset': 'BUIDL',
        'backing_share': 1.0,
        'liable_entity': 'ETHENA_USDTB',
        'withdrawals': False,
        'as_of': '2025-09-15',
        'source': 'https://bankless.ghost.io/ethena-migrates-1-5b-buidl-collateral-from-ethereum-to-aptos-avalanche-polygon; https://gov.ethenafoundation.com/t/proposal-usdtb-as-a-usde-backing-asset-and-eligible-asset-for-the-reserve-fund/385',
        'flag': 'sourced',
        'note': "USDtb is reserved by BlackRock's BUIDL (100% per Bankless, Sep 2025; ~90% in the Ethena forum proposal) and redeemed in it: a collateral ratio of 1 in BUIDL, whose holders it owes (ETHENA_USDTB holds the $1.83bn of BUIDL), so USDtb follows BUIDL and ETHENA_USDTB passes a BUIDL loss to USDtb's holders.",
    },
    {
        'asset': 'USDe',
        'mechanism': 'fractional',
        'backing_asset': 'USDT',
        'backing_share': 0.5,
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://governance.aave.com/t/arfc-susde-and-usde-price-feed-update/20495; https://docs.ethena.fi/solution-overview/liquid-stables-dynamic-allocation; https://gov.ethenafoundation.com/t/reserve-fund-subcommittee-september-2025-update/703',
        'flag': 'estimate',
        'note': "Estimated fields (session 33): backing_share and backing_asset. USDe is redeemed for its backing: spot BTC/ETH/SOL hedged by short perpetuals (held at par here: the hedge is flat in price, its venues are in the positions table) and liquid stablecoins (USDC and USDT; Ethena docs, 'Liquid Stables: Dynamic Allocation'). Half the backing in stablecoins [E: the ETHENA entity row's split; the October 2025 split was not found]; USDT named as the stablecoin [E], the larger of the two and the coin Aave prices USDe at [S]. No liable_entity: ETHENA's stablecoins are other_assets in USD, not a USDT holding.",
    },
    {
        'asset': 'DAI',
        'mechanism': 'psm',
        'backing_asset': 'USDC',
        'backing_share': PSM_SHARE,
        'psm_line_usd': 5000000000,
        'psm_tin': 0.0,
        'psm_tout': 0.0,
        'psm_halt_hours': 12,
        'psm_gap_usd': 200000000,
        'psm_gap_hours': 12,
        'market_depth_usd': 300000000,
        'liable_entity': 'SKY',
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://www.gatedex.com/ru/crypto-wiki/article/how-does-sky-token-holding-concentration-and-on-chain-capital-flows-impact-defi-protocol-stability-in-2026-20260117; ' + STABLES_OCT10 + '; https://github.com/makerdao/dss-emergency-spells/blob/c45792dd128ee3fee68d7e023a1bfb315e83bd7e/src/lite-psm-halt/SingleLitePsmHaltSpell.sol; https://cryptochaperone.com/?p=78868; https://github.com/sky-ecosystem/spells-mainnet/blob/6b64ae313f750ca8c0fea7f98f6c58f805a181b4/src/test/config.sol',
        'flag': 'estimate',
        'note': "Estimated fields (session 33): backing_share (the PSM's USDC), the half of the line and gap each row takes, psm_halt_hours, tin/tout and market_depth_usd; sourced: the supplies (10 Oct 2025), aL_line/aL_gap/aL_ttl and the halt spell. Sky's LitePSM holds USDC behind both DAI and USDS (USDS converts 1:1 with DAI): $4.0bn [E; ~$5.5bn in Jan 2026 [S:Sky-USDC]] of DAI $5.02bn + USDS $4.363bn = $9.383bn (10 Oct 2025, DefiLlama data [S:Stables-Oct10]) = 0.4263 PSM share for each coin (0.382 of the late-October $10.465bn until session 33). SKY is the liable entity (named on this row and USDS's, one book: its $4.0bn of USDC stand behind the PSM part of both coins, its liabilities move with those units and with both coins' swaps, core.engine.backing). line: half of LITE-PSM-USDC-A's $10bn ceiling for each coin (the ceiling [S]: aL_line 10 * BILLION in spells-mainnet src/test/config.sol at 6b64ae31, the 18 Sep 2025 spell's afterSpell values, unchanged there through 18 Oct 2025; the split in half [E]). psm_gap_usd 200M a psm_gap_hours 12: half of the same autoline's aL_gap 400 * MILLION a aL_ttl 12 hours [S, the same file; the half [E], as the line's], so the two rows together mint at most 400M a 12 h beyond the PSM's USDC (core.mechanisms.psm.autoline_ceiling), each row its own half: room one coin leaves unused does not pass to the other [E]; tin and tout 0 (LitePSM) [E]; depth K = DAI's adv_usd ($300M) [E]. psm_halt_hours 12 [E]: Sky can halt the LitePSM's sellGem with a pre-deployed emergency spell (dss-emergency-spells SingleLitePsmHaltSpell, LITE-PSM-USDC-A flow SELL: tin = HALTED; eta 0, no GSM delay [S]), in force once SKY voters make it the hat; the hours to see the depeg and vote are taken as the ~12 h Maker expected to post its urgent proposal in on 11 Mar 2023 [E: no halt has been cast to time]. Searched again in session 33 (stored pages, docs): no cast time of any pre-deployed Sky emergency spell and no stated response time for one; the nearest fact, Maker's 11 Mar 2023 executive deployed at 12:57 UTC that day and cast after the 48 h GSM delay then in force (spells-mainnet archive/2023-03-11-DssSpell), is the 2022 row's 60 h, a spell with a GSM delay, which the emergency spells skip. Searched again in session 34 (the sky-ecosystem forum, Atlas and governance-manual indexes, the issues index): no cast time or stated response time for a pre-deployed emergency spell; the LitePSM's USDC near 1 Oct 2025 is not stated either (the risk reports found are of May-June 2026)." + " " + LITE_PSM_LINES,
    },
    {
        'asset': 'USDS',
        'mechanism': 'psm',
        'backing_asset': 'USDC',
        'backing_share': PSM_SHARE,
        'psm_line_usd': 5000000000,
        'psm_tin': 0.0,
        'psm_tout': 0.0,
        'psm_halt_hours': 12,
        'psm_gap_usd': 200000000,
        'psm_gap_hours': 12,
        'market_depth_usd': 200000000,
        'liable_entity': 'SKY',
        'withdrawals': False,
        'as_of': '2025-10-01',
        'source': 'https://www.gatedex.com/ru/crypto-wiki/article/how-does-sky-token-holding-concentration-and-on-chain-capital-flows-impact-defi-protocol-stability-in-2026-20260117; ' + STABLES_OCT10 + '; https://github.com/makerdao/dss-emergency-spells/blob/c45792dd128ee3fee68d7e023a1bfb315e83bd7e/src/lite-psm-halt/SingleLitePsmHaltSpell.sol; https://cryptochaperone.com/?p=78868; https://github.com/sky-ecosystem/spells-mainnet/blob/6b64ae313f750ca8c0fea7f98f6c58f805a181b4/src/test/config.sol',
        'flag': 'estimate',
        'note': "Estimated fields (session 33): as on DAI's row. The same LitePSM as DAI's row (share 0.4263 of the combined DAI + USDS supply of 10 Oct 2025); line and autoline: half of LITE-PSM-USDC-A's, as on DAI's row (aL_line 10bn, aL_gap 400M, aL_ttl 12 hours [S: spells-mainnet src/test/config.sol at 6b64ae31, 18 Sep 2025]; the half each [E]): psm_line_usd 5bn, psm_gap_usd 200M a psm_gap_hours 12; SKY is the liable entity, as on the DAI row: one book, one pile of USDC (its swaps move SKY's USDC and liabilities). Depth K = USDS's adv_usd ($200M) [E]. psm_halt_hours 12 [E]: Sky can halt the LitePSM's sellGem with a pre-deployed emergency spell (dss-emergency-spells SingleLitePsmHaltSpell, LITE-PSM-USDC-A flow SELL: tin = HALTED; eta 0, no GSM delay [S]), in force once SKY voters make it the hat; the hours to see the depeg and vote are taken as the ~12 h Maker expected to post its urgent proposal in on 11 Mar 2023 [E: no halt has been cast to time]. Searched again in session 33 (stored pages, docs): no cast time of any pre-deployed Sky emergency spell and no stated response time for one; the nearest fact, Maker's 11 Mar 2023 executive deployed at 12:57 UTC that day and cast after the 48 h GSM delay then in force (spells-mainnet archive/2023-03-11-DssSpell), is the 2022 row's 60 h, a spell with a GSM delay, which the emergency spells skip. Searched again in session 34 (the sky-ecosystem forum, Atlas and governance-manual indexes, the issues index): no cast time or stated response time for a pre-deployed emergency spell; the LitePSM's USDC near 1 Oct 2025 is not stated either (the risk reports found are of May-June 2026)." + " " + LITE_PSM_LINES,
    },
]


def pegs() -> list[dict[str, object]]:
    """The rows of the ``pegs`` table."""
    return [dict(r) for r in ROWS]

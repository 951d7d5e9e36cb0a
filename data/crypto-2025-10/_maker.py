"""The ``maker_ilks`` table of the ``crypto-2025-10`` snapshot (used by ``_build.py``): Sky's own Maker system.

Every contract figure is the on-chain state Sky's executive spells assert after the last spell before
1 October 2025: ``afterSpell`` in ``archive/2025-09-18-DssSpell/test/config.sol`` of sky-ecosystem/spells-mainnet
(deployed 18 Sep 2025, 15:15 UTC, ``deployed_spell_created`` 1758208511; the next spell, "2025-10-02" in
``archive/2025-10-06-DssSpell``, was deployed on 6 Oct 2025, 17:12 UTC, after the snapshot date). The 18 Sep spell
changes none of these figures (its actions are payments, a vault ``grab`` and Star spells), so they are the state on
1 October whether it was cast before that day or not. The spells that last set each figure are cited in the notes.
The snapshot's three SKY cohort groups (ETH, stETH, WBTC) are ETH-A, WSTETH-A and WBTC-A: each pools its
collateral's vaults at one ratio, so ETH-B (130%), ETH-C (170%), WSTETH-B (175%), WBTC-B (150%, the same ratio as
WBTC-A: one (collateral, ratio) may map to one ilk only), WBTC-C (175%) and the staking engine's LSEV2-SKY-A (SKY
collateral, liquidations off) are not modelled.
"""

from __future__ import annotations

SPELLS = "https://github.com/sky-ecosystem/spells-mainnet/blob/17aee91ed7857b65d4814ef8cf3694fc9d70e1cf"


def _spell(date: str, file: str = "DssSpell.sol") -> str:
    return f"{SPELLS}/archive/{date}-DssSpell/{file}"


CONFIG = _spell("2025-09-18", "test/config.sol")

#: SKY's price, dated: CMC AI's price analysis of 26 Sep 2025 03:32 UTC, "SKY trades at $0.0651" (a mirror of
#: coinmarketcap.com/cmc-ai/sky/price-analysis that keeps that dated edition).
SKY_PRICE_SOURCE = "https://yoyo.ilark.io/cmc-ai/sky/price-analysis"
SKY_PRICE_SEP26 = 0.0651
#: SKY's supply: no source found states it for a date near 1 Oct 2025, so it stays the estimate below.
SKY_SUPPLY_ESTIMATE = 23.46e9
MIGRATION = _spell("2025-05-15", "dependencies/chief-migration/MigrationInit.sol")

#: System columns (vow.sol, dog.sol, the Splitter) and their sources, the same on every row.
SYSTEM = dict(
    auction="clip", system_hole_usd=150e6, surplus_hump_usd=1e6, flap_bump_usd=10_000.0, flap_lid_usd=None,
    flap_hop_seconds=2_160.0, vow_wait_seconds=156 * 3600.0, debt_auctions=False, keeper_capacity_usd=None,
    # the governance token: SKY (MKR converts at 24,000 SKY per MKR, afterSpell.sky_mkr_rate)
    mkr_supply=SKY_SUPPLY_ESTIMATE, mkr_price_usd=SKY_PRICE_SEP26,
)
SYSTEM_SOURCES = [CONFIG, SKY_PRICE_SOURCE, MIGRATION, _spell("2024-02-07"), _spell("2025-02-21"), _spell("2025-06-26"),
                  _spell("2025-08-21"), _spell("2020-03-12")]
SYSTEM_NOTE = (
    "System columns: dog Hole 150M (2024-02-07 spell, 'from 100 million DAI to 150 million DAI'); vow.hump 1M USDS "
    "(2025-08-21 spell, 'Decrease vow.hump by 49 million USDS, from 50 million to 1 million USDS'; hump_min = hump_max "
    "= 1M in afterSpell); vow.bump 10,000 (2025-02-21 spell); the Splitter (MCD_SPLIT, vow.flap's caller since the "
    "2024-09-13 spell) kicks one bump every hop = 2,160 s (2025-06-26 spell), 400,000 USDS a day, 25% of it to the "
    "flapper that buys SKY (split_burn 25%, 2025-08-21 spell) and 75% to the USDS rewards of SKY stakers "
    "(REWARDS_LSSKY_USDS): both leave the Vow for SKY holders, as flap_bump_usd/flap_hop_seconds say (no lid in "
    "this flapper); vow.wait 156 hours (since the 2020-03-12 spell). Debt auctions: off. afterSpell.vow_sump = "
    "type(uint256).max, set by the 2025-05-15 spell's chief migration (MigrationInit.sol: '// MKR flops are turned "
    "off', vow.file('sump', type(uint256).max)); vow_dump 250 stays but no flop can start (vow.flop requires sump <= "
    "the released sin), so debt_auctions is false: a deficit beyond the surplus buffer has nothing behind it but "
    "Sky's balance sheet (a recapitalisation by SKY minting would need a new spell: 24 hours of pause_delay after a "
    "vote; the ESM is disabled too, esm_min = max). Governance token: SKY, 24,000 per MKR (sky_mkr_rate); with no "
    "debt auctions it only prices the Splitter's buy-backs. SKY's price $0.0651 is dated: CMC AI's price analysis of "
    "26 Sep 2025 03:32 UTC, 'SKY trades at $0.0651' [S] ($0.0681 in its 5 Oct 2025 edition; $0.063 on 14 Oct 2025, "
    "tokenradar). SKY's supply is not: ~23.46bn SKY (about the ~977k MKR of crypto-2022-05 at 24,000: the SKY cap market "
    "sites report, undated; burns since are not netted) [E]. Dated sources give only a share of it, which is not "
    "the figure: 1.12bn SKY bought back were '~3.28% of supply' (CMC AI, 5 Sep and 2 Oct 2025), 34bn if divided "
    "out, more than all MKR converts to; so the rows stay estimates. Keeper capacity empty (the scenario's liquidator capacity "
    "alone limits keepers). Surplus buffer: SKY's insurance_fund_usd in entities.csv ($150M, an estimate: see its note). "
    "Which fields are estimates (session 33): mkr_supply alone. Every other figure on the row is sourced: the contract "
    "figures from the spells above, mkr_price_usd from the dated CMC AI edition; keeper_capacity_usd and flap_lid_usd are "
    "empty by design (no keeper cap in the contracts; this flapper has no lid). mkr_supply is used (the flap's buy-backs and "
    "the Vow's SKY market cap), so it cannot be left out. Searched again in session 33 for SKY's supply near 1 Oct 2025: "
    "23.46bn total supply is stated only for 29 Dec 2025 (AInvest, 22.91bn circulating) and 11 Mar 2026 (23.05bn "
    "circulating of 23.46bn), 89 and 161 days out, and undated on token pages; none within six weeks of 1 Oct 2025."
)

#: (ilk, collateral, mat, chop, ilk.hole, dust, spells that last set the figures, what they set)
ILKS = [
    ("ETH-A", "ETH", 1.45, 1.13, 40e6, 7_500.0,
     [_spell("2021-08-20"), _spell("2021-04-30"), _spell("2022-10-12"), _spell("2023-02-08")],
     "mat 1.45 (2021-08-20), chop 1.13 (dog chop 1300 bp, 2021-04-30 Clipper switch), ilk.hole 40M, buf 1.10, "
     "tail 7,200 s, cusp 0.45 and tip 250 (2022-10-12, 'Collateral Auction Parameter Changes'), dust 7,500 "
     "(2023-02-08), step 90 s, cut 0.99 and chip 0.1% (10 bp) (2021-04-30)."),
    ("WSTETH-A", "stETH", 1.50, 1.13, 30e6, 7_500.0,
     [_spell("2023-07-14"), _spell("2024-02-07"), _spell("2022-10-12"), _spell("2023-02-08")],
     "wstETH is wrapped stETH; the snapshot's cohorts hold it as stETH. mat 1.50 (2023-07-14), ilk.hole 30M "
     "(2024-02-07, 'from 15 million DAI to 30 million DAI'), buf 1.10, tail 7,200 s, cusp 0.45 and tip 250 "
     "(2022-10-12), dust 7,500 (2023-02-08); chop 1300 bp, step 90 s, cut 0.99 and chip 10 bp as afterSpell states "
     "them."),
    ("WBTC-A", "WBTC", 1.50, 1.00, 10e6, 7_500.0,
     [_spell("2024-10-04"), _spell("2024-02-07"), _spell("2022-10-12"), _spell("2023-02-08")],
     "WBTC is being offboarded: debt ceiling 0 (line 0, no auto-line), mat 1.50 by the 2024-10-04 spell's 6-day lerp "
     "from 1.45 (TARGET_WBTC_A_MAT), chop 1.00 (setIlkLiquidationPenalty('WBTC-A', 0), 2024-10-04), ilk.hole 10M "
     "(2024-02-07), buf 1.10, tail 7,200 s, cusp 0.45 and tip 250 (2022-10-12), dust 7,500 (2023-02-08), step 90 s, "
     "cut 0.99, chip 10 bp."),
]


#: Session 40 (data): each figure checked line by line against ``CONFIG`` (the line of each afterSpell field).
CONFIG_LINES = {
    "ETH-A": (
        "mat 14500 bp (line 214), chop 1300 bp (217), dust 7_500 (212), dog_hole 40 * MILLION (218), clip_buf "
        "110_00 (219), clip_tail 7_200 (220), clip_cusp 45_00 (221), clip_chip 10 (222), clip_tip 250 (223), "
        "calc_step 90 (227), calc_cut 9900 (228)"
    ),
    "WSTETH-A": (
        "mat 150_00 bp (line 678), chop 1300 bp (681), dust 7_500 (676), dog_hole 30 * MILLION (682), "
        "clip_buf 110_00 (683), clip_tail 7_200 (684), clip_cusp 45_00 (685), clip_chip 10 (686), clip_tip "
        "250 (687), calc_step 90 (691), calc_cut 9900 (692)"
    ),
    "WBTC-A": (
        "mat 15000 bp (line 301), chop 0 bp (304), dust 7_500 (299), dog_hole 10 * MILLION (305), clip_buf "
        "110_00 (306), clip_tail 7_200 (307), clip_cusp 45_00 (308), clip_chip 10 (309), clip_tip 250 (310), "
        "calc_step 90 (314), calc_cut 9900 (315)"
    ),
}
CONFIG_SYSTEM_LINES = (
    "vow_wait 156 hours (line 148), vow_sump type(uint256).max (150: no debt auction), vow_bump 10 * THOUSAND (151), "
    "vow_hump_min and vow_hump_max 1 * MILLION (152-153), split_hop 2_160 seconds (154), split_burn 25_00 (155), "
    "dog_Hole 150 * MILLION (158)"
)


def line_check(ilk: str) -> str:
    """The sentence that ties each contract figure of the row to its line in ``CONFIG`` (session 40)."""
    return (" Checked line by line in session 40 (docs/invariants.md, 'Session 40 (data)'): "
            "archive/2025-09-18-DssSpell/test/config.sol (deployed 18 Sep 2025 15:15 UTC, deployed_spell_created at "
            f"line 136; the next spell is archive/2025-10-06) states {ilk} {CONFIG_LINES[ilk]}; {CONFIG_SYSTEM_LINES}: "
            "every contract figure on the row, as the row has it [S]. The row stays an estimate for mkr_supply alone.")


def maker_ilks() -> list[dict[str, object]]:
    """The rows of ``maker_ilks.csv``: SKY's three ilks with the system's columns."""
    rows: list[dict[str, object]] = []
    for ilk, coll, mat, chop, hole, dust, sources, setters in ILKS:
        rows.append(dict(
            protocol="SKY", ilk=ilk, collateral_asset=coll, liquidation_ratio=mat, chop=chop, hole_usd=hole,
            dust_usd=dust, buf=1.10, tail_seconds=7_200.0, cusp=0.45, step_seconds=90.0, cut=0.99, chip=0.001,
            tip_usd=250.0, **SYSTEM, as_of="2025-10-01",
            source="; ".join([CONFIG] + sources + [s for s in SYSTEM_SOURCES if s not in sources and s != CONFIG]),
            flag="estimate",
            note=(f"{ilk}: every contract figure is from Sky's executive spells (github.com/sky-ecosystem/spells-mainnet, "
                  "formerly makerdao/spells-mainnet): afterSpell in archive/2025-09-18-DssSpell/test/config.sol, the "
                  "state the last spell before 1 Oct 2025 asserts (the next was deployed on 6 Oct), and the spells "
                  f"that last set each figure: {setters} {SYSTEM_NOTE}" + line_check(ilk)),
        ))
    return rows

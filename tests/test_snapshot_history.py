"""The historical snapshots (crypto-2020-03, crypto-2022-05): validity, provenance, and Black Thursday's story.

Sourcing standard (issue 14): a row is ``sourced`` only when its ``source`` states the
figure (or the figures it is computed from) for a date within six weeks of the
snapshot's ``as_of``; everything else is ``estimate`` with a note saying how.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import core
from core.cli import main as cli_main
from core.io import load_network

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = {"crypto-2020-03": date(2020, 3, 11), "crypto-2022-05": date(2022, 5, 6)}
TABLES = ("entities", "assets", "holdings", "exposures", "cohorts", "correlations", "maker_ilks", "pegs")
SIX_WEEKS = 42  # days


def _table(snapshot: str, table: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / snapshot / f"{table}.csv", keep_default_na=False)


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_snapshot_validates(snapshot, capsys):
    assert cli_main(["validate", str(ROOT / "data" / snapshot)]) == 0
    out = capsys.readouterr().out
    assert "every reported equity matches" in out


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_every_sourced_row_cites_a_document_dated_within_six_weeks(snapshot):
    as_of = SNAPSHOTS[snapshot]
    for table in TABLES:
        df = _table(snapshot, table)
        src = df[df["flag"] == "sourced"]
        bad_source = src[~src["source"].str.contains(r"https?://|Gauntlet|filing|10-Q", regex=True) | src["source"].str.startswith("sfm estimate")]
        assert bad_source.empty, f"{snapshot}/{table}: sourced rows without a document: {bad_source.index.tolist()}"
        days = (pd.to_datetime(src["as_of"]).dt.date.map(lambda d: abs((d - as_of).days)))
        late = src[days > SIX_WEEKS]
        assert late.empty, f"{snapshot}/{table}: sourced rows dated more than six weeks from {as_of}: {late.index.tolist()}"


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_every_estimate_says_how(snapshot):
    for table in TABLES:
        df = _table(snapshot, table)
        est = df[df["flag"] == "estimate"]
        empty = est[est["note"].str.strip() == ""]
        assert empty.empty, f"{snapshot}/{table}: estimate rows without a note: {empty.index.tolist()}"
    # An entity that is not sourced says why (issue 14: 'an entity whose figure cannot be sourced says why').
    ent = _table(snapshot, "entities")
    unsaid = ent[(ent["flag"] == "estimate") & ~ent["note"].str.contains("Estimate because", regex=False)]
    assert unsaid.empty, unsaid["id"].tolist()


def _counts(snapshot: str) -> dict[str, tuple[int, int]]:
    out = {}
    for table in TABLES:
        f = _table(snapshot, table)["flag"]
        out[table] = (int((f == "sourced").sum()), int((f == "estimate").sum()))
    return out


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_readme_counts_match_the_data(snapshot):
    # The README's provenance table is the published sourced share; it must not drift from the rows.
    text = (ROOT / "data" / snapshot / "README.md").read_text(encoding="utf-8")
    for table, (s, e) in _counts(snapshot).items():
        m = re.search(rf"\|\s*`?{table}`?\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", text)
        assert m, f"{snapshot}/README.md has no provenance row for {table}"
        assert (int(m.group(1)), int(m.group(2))) == (s, e), (table, m.groups(), (s, e))


@pytest.mark.xfail(strict=True, reason="Issue 14's target (>=60% of entity and exposure rows sourced) is not met: most 2020 and 2022 "
                   "balance sheets and bilateral exposures were published only in later filings or not at all (see each README).")
@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_sourced_share_target(snapshot):
    c = _counts(snapshot)
    for table in ("entities", "exposures"):
        s, e = c[table]
        assert s / (s + e) >= 0.60, (table, s, e)


def test_snapshot_metadata_2020():
    meta = json.loads((ROOT / "data" / "crypto-2020-03" / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["name"] == "crypto-2020-03" and meta["date"] == "2020-03-11" and meta["description"]


# --- Black Thursday on the 2020 system ---------------------------------------------------------

@pytest.fixture(scope="module")
def black_thursday():
    net = load_network(ROOT / "data" / "crypto-2020-03")
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    sc.check_against(net)
    res = core.simulate(net, sc)
    return res, res.nodes.set_index("entity")


def test_preset_names_its_snapshot():
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    assert sc.description.startswith("Snapshot: crypto-2020-03")
    assert sc.price_shocks == {}


def test_black_thursday_follows_bitstamp_hourly_closes():
    # The path is Bitstamp's hourly closes of 12-13 March 2020 (CryptoDataDownload) as moves from the 00:00 UTC
    # closes of 12 March ($194.57, $7,934.57): 48 hourly rounds, the Maker OSM's one-hour delay as the oracle lag.
    sc = core.load_scenario(ROOT / "data" / "scenarios" / "black_thursday_2020.json")
    assert sc.round_hours == 1.0 and sc.oracle_lag == 1 and sc.horizon == 48
    eth, btc = sc.price_paths["ETH"], sc.price_paths["BTC"]
    assert len(eth) == len(btc) == 48
    closes = {9: (167.30, 7342.49), 10: (138.60, 6334.44), 25: (99.51, 4111.78), 47: (135.45, 5622.74)}  # r: 12 Mar r:00
    for r, (e, b) in closes.items():
        assert eth[r] == pytest.approx(e / 194.57 - 1, abs=6e-5) and btc[r] == pytest.approx(b / 7934.57 - 1, abs=6e-5)
    assert min(eth) == eth[25] and min(btc) == btc[25]  # the lowest hourly close: 01:00-02:00 UTC on 13 March


def test_black_thursday_liquidates_tens_of_millions(black_thursday):
    # History: Maker alone auctioned ~$23M of ETH on 12-13 March ($8.32M in zero-bid auctions = 36%, WhiteRabbit),
    # with Compound and dYdX liquidations on top (unsourced). Tolerance: the same order of magnitude,
    # $10M to ten times the Maker figure.
    res, _ = black_thursday
    assert 1e7 <= res.summary_value("liquidated_usd") <= 2.3e8


def test_black_thursday_no_cefi_exchange_or_issuer_fails(black_thursday):
    # History: no exchange, CeFi lender or stablecoin issuer failed in March 2020.
    _, n = black_thursday
    for eid in ("BITMEX", "DERIBIT", "BINANCE", "COINBASE", "GENESIS", "CIRCLE", "TETHER"):
        assert n.loc[eid, "default_round"] == -1, eid


def test_black_thursday_maker_survives_on_its_own_books(black_thursday):
    # What the engine reproduces of Maker: vault liquidations with some bad debt, the protocol itself not failed.
    res, n = black_thursday
    assert res.summary_dict()["bad_debt_by_protocol_usd"].get("MAKER", 0.0) > 0
    assert n.loc["MAKER", "default_round"] == -1


def test_black_thursday_bitmex_fund_absorbs_the_fall(black_thursday):
    # History: BitMEX's insurance fund dipped ~1,600 BTC (of ~35,500) and ADL was prevented.
    _, n = black_thursday
    assert n.loc["BITMEX", "final_equity_usd"] >= 0.9 * n.loc["BITMEX", "initial_equity_usd"]


def test_black_thursday_maker_deficit(black_thursday):
    # Maker's 2020 flip (English) auctions cleared at zero bids when keepers failed on gas, leaving 5.67M DAI of
    # bad debt (WhiteRabbit). The model's keeper capacity is calibrated on the zero-bid share (36%), not on the deficit.
    res, _ = black_thursday
    maker = res.summary_dict()["bad_debt_by_protocol_usd"].get("MAKER", 0.0)
    assert 5.67e6 / 2 <= maker <= 5.67e6 * 2  # within a factor of two of 5.67M DAI


def test_black_thursday_mkr_dilution(black_thursday):
    # The surplus buffer (~0.5M DAI) was wiped and the deficit covered by minting MKR; Maker itself did not default.
    # (The sizes against history: test_black_thursday_mkr_dilution_size.) The debt auctions ran on 19-21 March,
    # after vow.wait: 2 days on 12 March (session 10: the launch config and the 2020-03-12 spell, which raised it to
    # 6.5 days), so within the preset's 48 hours MKR holders owe the deficit (flop_pledge) and no MKR is minted yet
    # (before the wait was modelled: minted in the round the deficit showed, MKR's price falling with it).
    res, n = black_thursday
    sd = res.summary_dict()
    assert sd["loss_by_bearer_usd"].get("governance_token_holders", 0.0) > 0
    maker = sd["maker"]
    assert maker["backstop_failed"] == 0.0 and maker["debt_auctions_owed_usd"] > 0
    assert maker["mkr_minted"] == 0.0 and maker["debt_auctions_raised_usd"] == 0.0
    assert n.loc["MAKER", "default_round"] == -1


@pytest.mark.xfail(strict=True, reason="Since a cohort's vaults' ratios are spread (core.mechanisms.cohort_spread; "
                   "core.mechanisms.maker_liquidations._barks), the lowest vaults are barked from the first hours of "
                   "12 March and the flip auctions come over 16 hours instead of 4: keepers (capacity not refitted) "
                   "reach more of them, 17.3% of $46.5M goes at zero bids ($8.04M of ETH; WhiteRabbit: 36%, $8.32M; "
                   "35.2% of $47.3M before), and the bad debt is 4.26M DAI (history 5.67M; 9.05M before). The early "
                   "auctions' penalties (1.98M) go to MKR holders in surplus auctions (vow.flap: 1.47M DAI above the "
                   "500k hump, 3,347 MKR burnt), so the debt auctions raise 3.76M DAI and mint 10,030 MKR (history "
                   "5.3M DAI, 20,980 MKR at ~$253 a week later, the model selling at its $440 less 14%; before 8.29M, "
                   "22,376). Since vow.wait is modelled (2 days on 12 March 2020, session 10) no debt auction starts "
                   "within the 48 hours (history: 19-21 March): the later penalties heal the queued debt first and MKR "
                   "holders owe 2.99M DAI (flop_pledge; 1.21M flapped before, net 1.78M), the buffer ends at 0 "
                   "(history: wiped); with no wait the flop ran in the round the deficit showed, 3.76M DAI and 10,030 "
                   "MKR, and the later penalties refilled the buffer to 0.51M.")
def test_black_thursday_mkr_dilution_size(black_thursday):
    # ~21k MKR minted (20,980 MKR for ~5.3M DAI, Smith+Crown) after the surplus buffer was wiped.
    res, _ = black_thursday
    sd = res.summary_dict()
    maker = sd["maker"]
    assert sd["loss_by_bearer_usd"].get("governance_token_holders", 0.0) >= 5e6
    assert maker["surplus_buffer_end_usd"] == 0.0
    assert 20_980 / 2 <= maker["mkr_minted"] <= 20_980 * 2


def test_black_thursday_dai_premium(black_thursday):
    """DAI traded at $1.06-1.12 as vault owners bought it to repay (a deleveraging squeeze); with no PSM in 2020
    the CDP premium (core.engine.backing, cdp_premium) lifts it above peg, within its 12% cap. (An xfail before
    the premium was in the engine: DAI stayed at 1.000; then 1.049 with the fall in one daily round; 1.0006 on the
    hourly path before the premium's depth was taken per day, 1.0146 after, a strict xfail: the repayment flow
    alone, whose vaults the hourly oracle liquidates within an hour or two. With the supply squeeze, the DAI the
    auctions burn (cdp_premium.supply_squeeze_factor), DAI passes 1.06 in the hour to 12:00 UTC on 12 March (1.105, 9.55M
    DAI burnt of 104M) and holds the 1.12 cap from the hour to 22:00 UTC to the end.)"""
    res, _ = black_thursday
    dai = res.prices["DAI"].to_numpy()
    assert 1.06 <= dai.max() <= 1.12
    assert (dai[-12:] >= 1.06).all()  # a stock: the squeeze stays after the auctions stop (history: for days)


@pytest.mark.xfail(strict=True, reason="On the hourly path (Bitstamp's closes) Compound and Sai take no bad debt, as on 12-13 March; "
                   "dYdX takes $0.072M: its accounts at HF 1.25 (liquidated below $155.2; below $141.7 their ETH no "
                   "longer covers the debt plus the liquidator's 5% spread) meet the 10:00-11:00 UTC fall of 12 March "
                   "(Bitstamp $167.30 -> $138.60, -17% in an hour) in one round and are liquidated at $133.06 (the "
                   "same $0.072M at $135.56 with no oracle lag; $0.094M since DAI's supply squeeze values its DAI "
                   "loans at up to 1.12); minute data would let liquidators meet them inside the band. "
                   "(With the whole fall in one round: Compound $1.20M, dYdX $1.06M, Sai $0.06M.)")
def test_black_thursday_other_lenders_without_bad_debt(black_thursday):
    res, _ = black_thursday
    bd = res.summary_dict()["bad_debt_by_protocol_usd"]
    assert all(bd.get(p, 0.0) == 0.0 for p in ("COMP", "DYDX", "MAKER_SAI")), bd


def test_black_thursday_totals_end_at_the_summary_total(black_thursday):
    # The per-round totals (what the page's time charts and headline read) end at the summary's total,
    # which counts MKR holders' recapitalisation; before, the rounds left it out (the last round read
    # $117.6M against the summary's $124.1M on this preset). (MKR holders' part: 8.29M DAI while a cohort's
    # vaults were one vault; 2.29M since they are spread, core.mechanisms.cohort_spread, and surplus auctions pay
    # MKR holders 1.47M of it back, net; the check needs it material.)
    res, _ = black_thursday
    sd = res.summary_dict()
    assert sd["loss_by_bearer_usd"]["governance_token_holders"] >= 1e6
    assert res.totals["total_loss_usd"].iloc[-1] == pytest.approx(sd["total_loss_usd"], rel=1e-12)

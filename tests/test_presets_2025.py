"""The two presets of the 2025 snapshot tell their story: October 2025's crash and November 2025's Stream/Elixir.

Each test states the historical fact it checks, its source (the preset's ``description`` has the
URLs) and the tolerance, chosen from what the fact is (an order of magnitude, a published range, a
direction) before the model's figure was seen. Where the model cannot reproduce a fact the test
is a strict ``xfail`` whose reason gives the model's figure and why; it turns into a failure the
day the model does reproduce it, so the reason cannot go stale.

History (sources in ``data/scenarios/october_2025_crash.json``):

* liquidations in 24 h: $19.13bn reported across venues (CoinGlass), a lower bound since Binance
  reports one print per second (CoinGlass's own estimate of the true figure: $30-40bn); Hyperliquid
  $10.08bn, Bybit $4.58bn;
* Hyperliquid: auto-deleveraging from 21:15 UTC (the 21:10-21:20 round), after the cascade began;
  HLP made more than $40M; 1,275 accounts ended at -$126M; no bad debt at the protocol;
* Binance: USDe at 0.6567 and wBETH at $430 (-88%) on its own books only, USDe >= 0.99 on-chain;
  ~$188M drawn from its $1.23bn insurance fund; Wintermute ADL'd there;
* Aave: ~$180M liquidated, ~$0.4M deficit (CRV and ENS positions); nobody failed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core
from core import datasets

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "data" / "scenarios"
SNAPSHOT = "crypto-2025-10"

REPORTED_LIQUIDATIONS_USD = 19.13e9      # CoinGlass, 24 h, a lower bound
TRUE_LIQUIDATIONS_HIGH_USD = 40e9        # CoinGlass's own upper estimate of the true figure
HYPERLIQUID_LIQUIDATIONS_USD = 10.08e9   # CoinGlass / Galaxy
BYBIT_LIQUIDATIONS_USD = 4.58e9          # Galaxy
BINANCE_INSURANCE_DRAW_USD = 188e6       # $1.23bn -> $1.04bn (Binance's fund history, secondary)
AAVE_LIQUIDATED_USD = 180e6              # Chaos Labs
AAVE_DEFICIT_USD = 0.4e6                 # Chaos Labs
ORDER_OF_MAGNITUDE = 3.0                 # "the same order of magnitude": within a factor 3 either way
VENUE_FACTOR = 2.0                       # a venue's own figure: within a factor 2 either way
AAVE = ("AAVE_ETH", "AAVE_PLASMA", "AAVE_ARB", "AAVE_BASE", "AAVE_OTHER")
CASCADE_ROUND = 3                        # the round ending 21:20 UTC: the alts' -60%; BTC, ETH, SOL and HYPE bottom in the next


def _run(name: str):
    sc = core.load_scenario(SCENARIOS / f"{name}.json")
    assert sc.snapshot == SNAPSHOT
    net = datasets.load(sc.snapshot)
    sc.check_against(net)
    res = core.simulate(net, sc)
    return net, res, res.nodes.set_index("entity")


def _within(value: float, target: float, factor: float) -> bool:
    return target / factor <= value <= target * factor


# ==============================================================================================
# October 2025
# ==============================================================================================

@pytest.fixture(scope="module")
def october():
    return _run("october_2025_crash")


@pytest.fixture(scope="module")
def perps(october):
    _, res, _ = october
    return res.perps


def test_october_runs_in_ten_minute_rounds_on_the_2025_system(october):
    net, res, _ = october
    assert net.name == SNAPSHOT
    assert res.summary_value("round_hours") == pytest.approx(1 / 6)
    # The paths reach the reported lows (BTC 104,783, ETH 3,436; CoinShares) in the round ending 21:30.
    p = res.prices.set_index("round")
    for sym in ("BTC", "ETH", "SOL", "HYPE"):
        assert p[sym].idxmin() == CASCADE_ROUND + 1, sym
    assert p["ALTS"].idxmin() == CASCADE_ROUND


@pytest.mark.xfail(strict=True, reason="the engine adds the price impact of the forced closes to a path that is already the "
                   "reported low, which contains them: BTC bottoms at $101.7k, 3.0% under CoinShares' $104,783 (though above "
                   "the ~$101.4k printed on Binance's perp)")
def test_october_lows_within_two_percent_of_the_reported_lows(october):
    # Tolerance: the model's low within 2% of the reported one.
    _, res, _ = october
    for sym, low in (("BTC", 104_782.88), ("ETH", 3_436.29)):
        assert res.prices[sym].min() == pytest.approx(low, rel=0.02), sym


def test_october_no_exchange_venue_issuer_lender_or_fund_fails(october):
    # History: nobody failed on 10-11 October 2025.
    net, _, n = october
    kinds = ("centralised_exchange", "perpetuals_venue", "stablecoin_issuer", "cefi_lender", "liquid_staking", "bridge", "cdp_protocol")
    ids = net.entities.loc[net.entities["type"].isin(kinds), "id"].tolist()
    ids += ["ETHENA", "WINTERMUTE", "STRATEGY", "GALAXY", "ETF_BTC_US", "ETF_ETH_US", "BITMINE", "SHARPLINK"]
    failed = sorted(e for e in ids if n.loc[e, "default_round"] >= 0)
    assert failed == []


def test_october_liquidations_are_of_the_reported_order_of_magnitude(perps):
    # History: $19.13bn reported in 24 h across venues. Tolerance: within a factor 3 either way.
    total = float(perps["liquidated_usd"].sum())
    assert _within(total, REPORTED_LIQUIDATIONS_USD, ORDER_OF_MAGNITUDE), total


@pytest.mark.xfail(strict=True, reason="the model liquidates $53bn of perpetuals, above the published range of $19.13bn "
                   "reported to $30-40bn estimated (CoinGlass): the leverage buckets of the positions table are estimates "
                   "not fitted to the event, positions opened on 1 October are liquidated at 20:50 by nine days of drift "
                   "(SOL -12%, HYPE -13%, alts -10%: $3.7bn on Hyperliquid in round 0) that history spread over those days, "
                   "and the forced closes deepen the reported lows")
def test_october_liquidations_lie_in_the_published_range(perps):
    # History: $19.13bn reported (a lower bound), $30-40bn CoinGlass's estimate of the true figure.
    total = float(perps["liquidated_usd"].sum())
    assert REPORTED_LIQUIDATIONS_USD <= total <= TRUE_LIQUIDATIONS_HIGH_USD, total


def test_october_hyperliquid_liquidates_about_ten_billion(perps):
    # History: $10.08bn on Hyperliquid. Tolerance: within a factor 2.
    hl = float(perps.loc[perps["venue"] == "HYPERLIQUID", "liquidated_usd"].sum())
    assert _within(hl, HYPERLIQUID_LIQUIDATIONS_USD, VENUE_FACTOR), hl


@pytest.mark.xfail(strict=True, reason="the model liquidates $10.1bn on Bybit against $4.58bn reported (Galaxy): Bybit's ETH, "
                   "SOL and alt open interest and its leverage buckets are estimates (only its BTC OI of 6 Oct is sourced)")
def test_october_bybit_liquidations_within_a_factor_two(perps):
    # History: $4.58bn on Bybit (Galaxy). Tolerance: within a factor 2.
    by = float(perps.loc[perps["venue"] == "BYBIT_FUT", "liquidated_usd"].sum())
    assert _within(by, BYBIT_LIQUIDATIONS_USD, VENUE_FACTOR), by


def test_october_hyperliquid_auto_deleverages_in_the_cascade(perps):
    # History: Hyperliquid's first cross-margin ADL in two years, 21:15-21:27 UTC, after liquidations began.
    hl = perps[perps["venue"] == "HYPERLIQUID"].set_index("round")
    assert hl["adl_usd"].sum() > 0
    first_adl = int(hl.index[hl["adl_usd"] > 0].min())
    first_liquidation = int(hl.index[hl["liquidated_usd"] > 0].min())
    assert first_liquidation <= first_adl <= CASCADE_ROUND + 1
    # the waterfall: HLP takes the deficit before ADL does
    assert hl["backstop_usd"].sum() > 0
    assert hl.loc[hl["adl_usd"] > 0, "backstop_usd"].sum() <= hl["backstop_usd"].sum()


def test_october_hyperliquid_adl_covers_a_deficit_of_the_reported_size(perps):
    # History: 1,275 accounts ended with -$126.0M to -$128.6M of equity, absorbed by HLP and ADL ("zero bad debt").
    # The model's ADL covers the deficit HLP cannot. Tolerance: within a factor 2 of $127M.
    hl = perps[perps["venue"] == "HYPERLIQUID"]
    assert _within(float(hl["adl_usd"].sum()), 127e6, VENUE_FACTOR), hl["adl_usd"].sum()


@pytest.mark.xfail(strict=True, reason="in the model HLP is the backstop vault that absorbs Hyperliquid's deficit first and "
                   "pays its whole ~$300M; in history it earned more than $40M as market maker and liquidator, which "
                   "the vault of the waterfall (losses only, no liquidation discount earned) cannot represent")
def test_october_hlp_is_not_drained(perps):
    hl = perps[perps["venue"] == "HYPERLIQUID"]
    assert hl["backstop_usd"].sum() < 0.1 * 300e6


def test_october_every_deficit_is_covered_by_the_waterfall(perps):
    # Invariant of the waterfall, per venue and round: deficit = backstop + insurance + ADL + socialised + uncovered.
    parts = perps[["backstop_usd", "insurance_draw_usd", "adl_usd", "socialised_usd", "uncovered_usd"]].sum(axis=1)
    np.testing.assert_allclose(perps["deficit_usd"], parts, rtol=1e-9, atol=1.0)
    # History: no venue was left with bad debt of its own.
    assert perps["uncovered_usd"].sum() == pytest.approx(0.0, abs=1.0)


def test_october_binance_draws_its_insurance_fund(perps):
    # History: Binance drew ~$188M from its $1.23bn fund.
    bn = perps[perps["venue"] == "BINANCE_FUT"]
    assert bn["insurance_draw_usd"].sum() > 0


@pytest.mark.xfail(strict=True, reason="the model exhausts Binance's $1.23bn fund and passes ~$0.76bn more to ADL; history drew "
                   "~$188M: Binance ADL'd before its fund ran out (Wintermute), which a fund-then-ADL waterfall cannot do")
def test_october_binance_insurance_draw_near_history(perps):
    bn = perps[perps["venue"] == "BINANCE_FUT"]
    assert _within(float(bn["insurance_draw_usd"].sum()), BINANCE_INSURANCE_DRAW_USD, VENUE_FACTOR)


@pytest.mark.xfail(strict=True, reason="ADL ranks profitable positions by PnL x leverage: Wintermute's 4x shorts rank below "
                   "the anonymous 8x and 15x short cohorts, which absorb Binance's ADL in the model; Binance's ADL ranking and "
                   "prices on 10 October were not published")
def test_october_wintermute_is_auto_deleveraged_on_binance(october):
    # History: Wintermute said it was "ADL'd at completely ridiculous prices" on Binance.
    _, res, _ = october
    p = res.paths
    assert ((p["channel"] == "adl") & (p["source"] == "BINANCE_FUT") & (p["target"] == "WINTERMUTE")).any()


def _venue_collateral_lows(net, res, sc, collateral_policies=None) -> pd.DataFrame:
    """Lowest price, as a share of the index, at which each venue marked USDe and wBETH on the preset's path.

    The engine's perpetuals step keeps the venues' own-book prices in its state but not in its results, so the
    test replays its building block (core.perps_round.perps_round) round by round on the engine's index prices,
    with the preset's liquidity: the same book, rules, depth and own-book law.
    """
    from core.perps_round import perps_round
    from core.positions import position_book, redemption_values, venue_rules

    rules = venue_rules(net, collateral_policies=collateral_policies)
    pb = position_book(net, rules)
    a = net.assets.set_index("symbol")
    path = res.prices.set_index("round")[list(net.asset_symbols)].to_numpy()
    previous = a["price_usd"].to_numpy()
    state = dict(size=None, margin_units=None, own_book_sold=None)
    fund, vault = rules["insurance_fund_usd"].to_numpy(), rules["backstop_vault_usd"].to_numpy()
    tokens = [list(net.asset_symbols).index(t) for t in ("USDe", "wBETH")]
    low = np.ones((len(rules), 2))
    for marks in path:
        r = perps_round(pb, rules, marks, previous, a["adv_usd"].to_numpy(), a["daily_vol"].to_numpy(), insurance_fund=fund,
                        backstop=vault, redemption=redemption_values(net, marks)[None], liquidity=sc.liquidity, **state)
        low = np.minimum(low, r.collateral_prices[0][:, tokens] / marks[tokens])
        fund, vault = r.settlement.insurance_after[0], r.settlement.backstop_after[0]
        state = dict(size=r.size_after, margin_units=r.margin_units_after, own_book_sold=r.own_book_sold_after)
        previous = marks
    return pd.DataFrame(low, index=rules.index, columns=["USDe", "wBETH"])


def test_october_collateral_depegs_on_binance_only(october):
    # History: on Binance's own books USDe fell to 0.6567 (34% below peg) and wBETH to $430 (88% below);
    # elsewhere USDe held (Bybit 0.92, Curve >= 0.997). Tolerance: the depth of each Binance depeg within a
    # factor 2 (USDe 17-68% below, wBETH 44-100%); no depeg on the venues that mark at the index.
    net, res, _ = october
    sc = core.load_scenario(SCENARIOS / "october_2025_crash.json")
    low = _venue_collateral_lows(net, res, sc)
    usde_depth, wbeth_depth = 1 - low.loc["BINANCE_FUT", "USDe"], 1 - low.loc["BINANCE_FUT", "wBETH"]
    assert _within(usde_depth, 1 - 0.6567, VENUE_FACTOR), usde_depth
    assert 0.88 / VENUE_FACTOR <= wbeth_depth <= 1.0, wbeth_depth
    np.testing.assert_allclose(low.drop(index="BINANCE_FUT").to_numpy(), 1.0)


def test_october_redemption_value_pricing_would_have_kept_binance_s_collateral_at_par(october):
    # Binance moved these tokens to redemption-value pricing on 14 October. The same path under that policy:
    # no depeg on Binance (USDe at $1; wBETH at its ETH exchange rate, which is the index here).
    net, res, _ = october
    sc = core.load_scenario(SCENARIOS / "october_2025_crash.json")
    low = _venue_collateral_lows(net, res, sc, collateral_policies={"BINANCE_FUT": "redemption_value"})
    np.testing.assert_allclose(low.to_numpy(), 1.0)


@pytest.fixture(scope="module")
def october_at_redemption_value(october):
    """The same crash with Binance pricing collateral at redemption value (its policy from 14 October)."""
    net, _, _ = october
    sc = core.load_scenario(SCENARIOS / "october_2025_crash.json")
    policy = sc.safeguards.model_copy(update={"collateral_policies": {"BINANCE_FUT": "redemption_value"}})
    return core.simulate(net, sc.model_copy(update={"safeguards": policy})).perps


def _binance_liquidated(perps) -> float:
    return float(perps.loc[perps["venue"] == "BINANCE_FUT", "liquidated_usd"].sum())


def test_october_redemption_value_pricing_liquidates_less_on_binance(perps, october_at_redemption_value):
    # History: Binance compensated $283M of losses from liquidations caused by its own-book marks of USDe, wBETH and
    # BNSOL, and moved them to redemption value on 14 October: its own-book policy liquidated more.
    assert _binance_liquidated(october_at_redemption_value) < _binance_liquidated(perps)


@pytest.mark.xfail(strict=True, reason="own-book pricing adds ~$87M of liquidations on Binance in the model against $283M "
                   "compensated in history: the USDe and wBETH posted as collateral ($150M, $75M) are estimates sized from the "
                   "liquidations with them, and BNSOL is not in the snapshot")
def test_october_own_book_pricing_costs_binance_users_about_the_compensation(perps, october_at_redemption_value):
    # Tolerance: the extra liquidations within a factor 2 of the $283M Binance compensated.
    extra = _binance_liquidated(perps) - _binance_liquidated(october_at_redemption_value)
    assert _within(extra, 283e6, VENUE_FACTOR), extra


def test_october_usde_holds_on_chain(october):
    # History: USDe held on-chain (Curve >= 0.997; a 65 bp dip of the oracle basis); it fell to 0.66 on Binance only.
    _, res, _ = october
    assert res.prices["USDe"].min() >= 0.99


def test_october_lending_bad_debt_is_small(october):
    # History: Aave's ~$0.4M deficit on ~$180M liquidated (0.2%). Tolerance: DeFi bad debt below 1% of DeFi liquidations.
    _, res, n = october
    lenders = [e for e in n.index if e in set(res.rounds["entity"]) and n.loc[e, "type"] in ("lending_protocol", "cdp_protocol")]
    liq = res.rounds.loc[res.rounds["entity"].isin(lenders), "liquidated_usd"].sum()
    assert liq > 0
    assert res.summary_value("bad_debt_usd") < 0.01 * liq


@pytest.mark.xfail(strict=True, reason="the model liquidates $1.9bn across Aave's instances against ~$180M in history: the "
                   "health-factor profiles of the snapshot's cohorts are estimates (14% of standard-profile debt below HF 1.25) "
                   "and the crash's lows are applied as index prices, where Aave's Chainlink feeds saw shallower wicks")
def test_october_aave_liquidations_near_history(october):
    _, res, _ = october
    aave = res.rounds.loc[res.rounds["entity"].isin(AAVE), "liquidated_usd"].sum()
    assert _within(float(aave), AAVE_LIQUIDATED_USD, ORDER_OF_MAGNITUDE), aave


@pytest.mark.xfail(strict=True, reason="Aave's ~$0.4M deficit came from CRV and ENS positions (oracle delay), which the "
                   "snapshot does not itemise: the model's Aave deficit is 0")
def test_october_aave_has_its_small_deficit(october):
    _, res, n = october
    deficit = sum(float(n.loc[e, "loss_usd"]) for e in AAVE) + res.rounds.loc[res.rounds["entity"].isin(AAVE), "bad_debt_usd"].sum()
    assert _within(float(deficit), AAVE_DEFICIT_USD, 10.0)


# ==============================================================================================
# Stream Finance / Elixir, November 2025
# ==============================================================================================

@pytest.fixture(scope="module")
def stream():
    return _run("stream_elixir_nov_2025")


def test_stream_fails_first_then_elixir_and_the_curated_vaults(stream):
    # History: Stream froze withdrawals on 4 Nov after the $93M loss; Elixir's deUSD (65% lent to Stream) and the
    # Stream-exposed vaults of TelosC and MEV Capital took the loss in the days after. Round r is 3+r November: the
    # preset dates Stream's failure to its announcement of 4 November (forced_default_rounds), round 1.
    _, _, n = stream
    assert n.loc["STREAM", "default_round"] == 1
    for e in ("ELIXIR", "TELOSC", "MEV_CAPITAL"):
        assert n.loc[e, "default_round"] >= 2, e
        assert n.loc[e, "caused_by"] == "STREAM", e


def test_stream_nobody_else_fails(stream):
    # History: Morpho, Euler, Aave, Ethena and the large stablecoins were not impaired.
    _, _, n = stream
    failed = set(n.index[n["default_round"] >= 0])
    assert failed == {"STREAM", "ELIXIR", "TELOSC", "MEV_CAPITAL"}


def test_stream_lenders_lose_between_the_loss_and_the_exposure(stream):
    # History: a $93M loss at Stream; $284.9M lent to it (YAM). What Stream leaves unpaid lies between the two, and
    # it reaches the curated vaults' depositors and deUSD's holders.
    net, res, n = stream
    lent = net.exposures.loc[net.exposures["debtor"] == "STREAM"]
    assert lent["amount_usd"].sum() == pytest.approx(284.9e6)
    unpaid = -float(n.loc["STREAM", "final_equity_usd"])
    assert 93e6 <= unpaid <= 284.9e6, unpaid
    borne = res.summary_dict()["loss_by_bearer_usd"]
    # Sky's Splitter pays SKY holders 400,000 USDS a day out of its buffer (maker_ilks, session 19): $2.0M over the
    # run's five daily rounds (four with Stream failing at round 0, before its failure was dated to 4 November), off
    # SKY's equity (token_holders) and to SKY's holders (governance_token_holders, -$2.0M): a transfer that nets
    # out, not Stream's
    assert borne["governance_token_holders"] == pytest.approx(-2.0e6, rel=1e-9)
    assert borne["depositors"] + borne["token_holders"] + borne["governance_token_holders"] == pytest.approx(unpaid, rel=1e-6)


def test_stream_deusd_loses_its_peg_while_the_large_stablecoins_hold(stream):
    _, res, _ = stream
    p = res.prices
    assert p["deUSD"].iloc[-1] < 0.9
    for sym in ("USDT", "USDC", "USDe", "DAI", "USDS"):
        assert p[sym].min() >= 0.999, sym


@pytest.mark.xfail(strict=True, reason="the model prices deUSD at what Elixir pays its holders (~0.53); history fell to "
                   "0.015-0.026 because Stream itself held ~90% of deUSD and minting and redemption stopped, which the "
                   "snapshot does not itemise")
def test_stream_deusd_falls_to_cents(stream):
    _, res, _ = stream
    assert res.prices["deUSD"].iloc[-1] <= 0.10


def test_presets_of_2025_are_listed_under_their_snapshot():
    names = {p.key for p in datasets.presets_of(SNAPSHOT)}
    assert {"october_2025_crash", "stream_elixir_nov_2025"} <= names

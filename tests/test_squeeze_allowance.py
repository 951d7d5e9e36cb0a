"""Decision 13's check (docs/invariants.md, Session 31 (lead) and Session 32 (s32-squeeze)): a holder's gain on a
price a named short's forced buy-back lifted is allowed, as far as the engine's impact of the purchases the run
recorded explains it (``tests/forced_purchase.py``; ``invariants_support.allowed_gain``), and no further.

The case: ``value-2025-alts-94-liquidity-009-abc-btc-squeeze`` on crypto-2025-10. ALTS falls 93.83% at liquidity
0.0887; ABC's cross-margin Hyperliquid account is liquidated whole in round 0 and its short of 384.615385 BTC is
closed by a purchase of $45.0M, which lifts BTC (and WBTC, cbBTC) 0.2522% for the rest of the run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.scenario import Scenario
from forced_purchase import closed_shorts, explained_rise, forced_purchases, lifted
from invariants_support import (
    allowed_gain,
    load_regressions,
    network,
    perps_outside_gain,
    system_value_change,
    tables,
    usd_tolerance,
    value_created_violation,
    value_of_falls,
)

KEY = "crypto-2025-10"
SQUEEZE = next(c for c in load_regressions() if c["id"] == "value-2025-alts-94-liquidity-009-abc-btc-squeeze")


@pytest.fixture(scope="module")
def squeeze():
    sc = Scenario.model_validate(SQUEEZE["scenario"])
    return sc, value_of_falls(KEY, [sc])


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_regressions()
                                  if str(c.get("exception", "")).startswith("forced_purchase")])
def test_a_forced_purchase_entry_is_a_short_squeeze(case):
    """The entry holds (no value created) because its rise is the forced purchase's, and only because of it: with
    the named shorts closed taken out of the allowance the whole stored gain is unexplained again, and the prices
    that rose rose by what the entry stores. Should the rise move, or the allowance stop being what lets it pass,
    the entry must be looked at again."""
    assert case["invariant"] == "value.usd"
    sc = Scenario.model_validate(case["scenario"])
    v = value_created_violation(case["network"], [sc])
    assert v.size == 0.0, f"the squeeze is no longer explained: {v.note}"
    br, _, excess, _, up = value_of_falls(case["network"], [sc], without=("ABC",))
    t = tables(case["network"])
    risen = {s: float(br.prices[0, i] / t.P0[i] - 1) for i, s in enumerate(t.symbols) if br.prices[0, i] > t.P0[i]}
    assert set(risen) == set(case["measured"]["rose"]), "other prices rise: look at it again"
    for s, r in case["measured"]["rose"].items():
        assert risen[s] == pytest.approx(r, rel=1e-9), f"{s}'s rise moved: look at it again"
    assert not up.any(), "another named short explains the rise"
    assert excess.sum() == pytest.approx(case["measured"]["size"], rel=1e-9), "without ABC's short the gain is not the stored one"


def test_the_squeeze_in_worked_numbers(squeeze):
    """$45.0M bought, BTC +0.2522%, and three holders' allowed gains, from the square-root law by hand."""
    sc, (br, gain, excess, change, up) = squeeze
    t, net = tables(KEY), network(KEY)
    ids, syms = list(t.entity_ids), list(t.symbols)
    btc = syms.index("BTC")
    bought = forced_purchases(KEY, t, [sc], br)
    assert bought[0, btc] == pytest.approx(384.615385, rel=1e-9)  # ABC's short, closed whole
    assert np.count_nonzero(bought) == 1
    assert bought[0, btc] * 117_000.0 == pytest.approx(45_000_000.045, rel=1e-9)
    # the engine's impact of a purchase (core.engine.sell.sale_impact): I = sigma sqrt(Q / (liquidity * adv))
    log_rise = 0.0274 * math.sqrt(45_000_000.045 / (0.08874356516708608 * 60e9))
    assert math.expm1(log_rise) == pytest.approx(0.0025220857482642, rel=1e-9)  # +0.2522%
    per_btc = 117_000.0 * math.expm1(log_rise)  # $295.084 a BTC
    for s in ("BTC", "WBTC", "CBBTC"):  # all three at 117,000; the wrapped ones follow BTC
        assert up[0, syms.index(s)] == pytest.approx(per_btc, rel=1e-9)
        assert br.prices[0, syms.index(s)] == pytest.approx(117_000.0 + per_btc, rel=1e-9)
    allowed = allowed_gain(t, br.prices, br.fee_income, up)[0]
    # own BTC: ETF_BTC_US 1,362,278 and STRATEGY 640,031 (holdings.csv)
    assert allowed[ids.index("ETF_BTC_US")] == pytest.approx(1_362_278 * per_btc, rel=1e-9)  # $401.99M
    assert allowed[ids.index("STRATEGY")] == pytest.approx(640_031 * per_btc, rel=1e-9)  # $188.86M
    # CEX_CUSTOMERS: through its customer balances, c / max(C0, V0) of each exchange's BTC (the in-kind index)
    x = net.exposures
    units = 0.0
    for exchange, btc_held in (("BINANCE", 606_356.0), ("OKX", 125_083.0), ("BITGET", 28_022.72), ("BYBIT", 63_206.0)):
        c = float(x.loc[(x["creditor"] == "CEX_CUSTOMERS") & (x["debtor"] == exchange), "amount_usd"].sum())
        C0 = float(x.loc[x["debtor"] == exchange, "amount_usd"].sum())  # every claim on an exchange is in kind here
        i = ids.index(exchange)
        V0 = float(t.held_units[i] @ t.P0)
        assert t.held_units[i, btc] == btc_held
        units += c / max(C0, V0) * btc_held
    assert units == pytest.approx(770_498.1469, rel=1e-9)
    assert allowed[ids.index("CEX_CUSTOMERS")] == pytest.approx(units * per_btc, rel=1e-9)  # $227.36M
    for e in ("ETF_BTC_US", "STRATEGY", "CEX_CUSTOMERS"):  # and each is the engine's gain, to float rounding
        assert gain[0, ids.index(e)] == pytest.approx(allowed[ids.index(e)], rel=1e-9)
    assert excess.sum() == 0.0
    # the system's sum: the marks of the network's own units (its BTC, WBTC and cbBTC at the start) counted once
    held = t.held_units.sum(0)
    marked_up = per_btc * (held[btc] + held[syms.index("WBTC")] + held[syms.index("CBBTC")])
    assert marked_up == pytest.approx(per_btc * 3_107_216.74906, rel=1e-9)  # $916.89M: no entity holds WBTC or cbBTC itself
    outside = perps_outside_gain(t, br.prices).sum(1)[0]  # named shorts' profit, vaults' and venues' margins
    assert change[0] == pytest.approx(system_value_change(br)[0] - marked_up - outside, rel=1e-9)
    assert change[0] < 0


def test_a_rise_the_purchase_does_not_explain_stays_a_violation(squeeze):
    """Doubled, BTC's rise is explained only up to the recorded purchase's impact: the rest of every holder's
    gain is unexplained (ETF_BTC_US's 1,362,278 BTC times the second $295.08); and a rise with no named short
    closed explains nothing."""
    sc, (br, gain, _, _, up) = squeeze
    t = tables(KEY)
    ids, syms = list(t.entity_ids), list(t.symbols)
    doubled = br.prices.copy()
    for s in ("BTC", "WBTC", "CBBTC"):
        i = syms.index(s)
        doubled[0, i] = t.P0[i] + 2 * (br.prices[0, i] - t.P0[i])
    explained = explained_rise(KEY, t, forced_purchases(KEY, t, [sc], br), np.array([sc.liquidity]))
    cap = np.minimum(np.maximum(doubled - t.P0[None], 0.0), explained)  # forced_purchase.lifted's bound, doubled
    np.testing.assert_allclose(cap, up, rtol=1e-12)
    etf = ids.index("ETF_BTC_US")
    doubled_gain = gain[0, etf] + 1_362_278 * up[0, syms.index("BTC")]
    assert doubled_gain - allowed_gain(t, doubled, br.fee_income, cap)[0, etf] > usd_tolerance(br) + 4.0e8
    assert not lifted(KEY, t, [sc], br, without=("ABC",)).any()


def test_closed_shorts_match_whole_positions():
    """A round's purchase counts as far as a set of named shorts still open adds up to it, each short once."""
    assert closed_shorts(384.615385, [2039.97, 384.615385, 9262.76]) == (384.615385, [2039.97, 9262.76])
    assert closed_shorts(384.0, [2039.97, 384.615385]) == (0.0, [2039.97, 384.615385])  # a short closed in part
    assert closed_shorts(500.0, [100.0, 300.0, 250.0]) == (400.0, [250.0])
    assert closed_shorts(0.0, [100.0]) == (0.0, [100.0])

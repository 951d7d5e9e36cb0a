"""Margin a venue seizes beyond a named account's claim leaves the account's holdings in the same step
(core.engine.perps; docs/invariants.md, Session 33 (seized)).

The network: the perps example (core.synthetic_perps) with the market maker's 5x BTC long on VENUE_B (100 BTC at
100,000) margined with 20 BTC that MM holds itself (its claims on the venues and its short on VENUE_A removed, so the
margin is beyond any claim, like Ethena's custodied spot), other assets 2m, its 3m loan from LENDER: equity 1m.
BTC falls 20 % in round 0: the long's margin is 20 x 80,000 = 1.6m against a 2m loss, so VENUE_B liquidates it and
takes the 20 BTC (its vault and fund cover the rest). MM holds nothing after that: its equity is its other assets
less its loan, 2m - 3m = -1m at round 0's close, and 0.8 x 2m - 3m = -1.4m once it has defaulted (alpha 0.8 of
its outside assets), whatever BTC does later.

Before, the units were written off from ``perps_value`` at the index price (80,000) but stayed in MM's holdings,
marked at every later close and sold by its estate: -1,001,385.04 at round 0's close (20 x (80,000 - 79,930.75)
lost twice), and at the end -1,401,439.35 (BTC flat after round 0), -1,101,709.23 (BTC back to -5 %: +298,290.77
of value the account no longer had) and -1,801,079.51 (BTC to -40 %: a loss of 401,079.51 on units it had lost).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.engine import compile_network, scenario_batch, simulate_batch
from core.engine import perps as perps_step
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.network import Network
from core.scenario import Scenario
from core.synthetic_perps import perps_example


def seized_network(mm_btc: float = 20.0) -> Network:
    """The perps example with MM's long on VENUE_B margined with 20 BTC held outside the venue, MM holding
    ``mm_btc`` BTC; VENUE_B's USDC cut by the 2m balance it no longer owes MM (its equity stays 0.3m)."""
    f = perps_example().frames()
    p = f["positions"]
    p.loc[p["id"] == "B_MM_LONG", ["margin_asset", "margin"]] = ["BTC", 20.0]
    f["positions"] = p[p["id"] != "A_MM_SHORT"].reset_index(drop=True)
    e = f["exposures"]
    f["exposures"] = e[~e["id"].isin(["MM_ON_A", "MM_ON_B"])].reset_index(drop=True)
    h = f["holdings"]
    h.loc[(h["entity"] == "VENUE_B") & (h["asset"] == "USDC"), "amount"] = 2e5
    h.loc[(h["entity"] == "VENUE_A") & (h["asset"] == "USDX"), "amount"] = 0.0
    f["holdings"] = pd.concat([h, h.iloc[[0]].assign(entity="MM", asset="BTC", amount=mm_btc)], ignore_index=True)
    en = f["entities"]
    en.loc[en["id"] == "MM", "other_assets_usd"] = 2e6
    return Network.from_frames(**f)


def _rounds(net: Network, sc: Scenario, rounds: int):
    """MM's BTC after round 0's perps step and (BTC holdings, equity, forced loss, BTC price) at each close."""
    c = compile_network(net)
    b = scenario_batch(net, [sc])
    s = initial_state(c, b)
    mm, btc = list(c.ids).index("MM"), list(c.symbols).index("BTC")
    after_perps, closes = None, []
    for r in range(rounds):
        for step in STEPS:
            s.apply(step(c, s, b, r))
            if step is perps_step.perps and r == 0:
                after_perps = (float(s.H[0, mm, btc]), float(s.perps_value[0, mm]))
        closes.append((float(s.H[0, mm, btc]), float(s.equity[0, mm]), float(s.shock_loss[0, mm]), float(s.P[0, btc])))
    return after_perps, closes


def test_seized_units_leave_the_holder_and_later_prices_do_not_move_it():
    """BTC -20 % in round 0, then flat, back to -5 % or down to -40 % from round 1: the 20 BTC leave MM's holdings in
    round 0's perps step (nothing written off from ``perps_value``: the clearing marks the units gone), its equity is
    -1m at round 0's close and -1.4m at the end on every path, and system loss is the same on every path (no one in
    the network holds BTC after the seizure). Before: -1,401,439.35, -1,101,709.23 and -1,801,079.51."""
    net = seized_network()
    (held, written), closes = _rounds(net, Scenario(name="fall-20", price_paths={"BTC": [-0.2]}), 3)
    assert held == 0.0 and written == 0.0
    assert closes[0][:2] == (0.0, -1_000_000.0)
    assert closes[0][3] == pytest.approx(79_930.747959, rel=1e-10)  # round 0's forced closes only: no estate sells BTC later
    assert [c[3] for c in closes] == [closes[0][3]] * 3
    paths = {"flat": [-0.2], "back-to-5": [-0.2, -0.05], "down-to-40": [-0.2, -0.4]}
    br = simulate_batch(net, [Scenario(name=k, price_paths={"BTC": v}) for k, v in paths.items()])
    mm, btc = list(br.entity_ids).index("MM"), list(br.asset_symbols).index("BTC")
    np.testing.assert_allclose(br.prices[:, btc], [79_930.748, 94_917.763, 59_948.061], rtol=1e-8)
    np.testing.assert_allclose(br.equity[:, mm], -1_400_000.0, rtol=1e-12)
    np.testing.assert_allclose(br.total_loss, br.total_loss[0], rtol=1e-12)
    assert br.total_loss[0] == pytest.approx(5_383_583.76, abs=0.01)


def test_a_later_forced_failure_does_not_lose_the_seized_units_again():
    """MM forced to fail at round 2 at recovery 0.5, after VENUE_B took its 20 BTC in round 0: its forced loss is half
    its 1.6m of other assets (0.8m; its equity -2.2m), not also half of 20 BTC it no longer holds (before: 1,599,293.77
    = 0.8m + 10 x 79,929.38, equity -3,000,712.98)."""
    sc = Scenario(name="forced", price_paths={"BTC": [-0.2]}, forced_defaults=["MM"], forced_default_rounds={"MM": 2},
                  forced_default_recovery=0.5)
    _, closes = _rounds(seized_network(), sc, 3)
    assert closes[2][:3] == (0.0, -2_200_000.0, 800_000.0)


def test_units_the_holder_no_longer_has_are_written_off_at_the_index():
    """MM holds 15 BTC against its 20 BTC of margin: the venue takes all 20 (its rows count them), the 15 leave MM's
    holdings and the 5 it does not hold are written off at the index price, 5 x 80,000 = 400,000: equity 2m - 3m
    - 0.4m = -1.4m at round 0's close and 0.8 x 2m - 3m - 0.4m = -1.8m after its default."""
    (held, written), closes = _rounds(seized_network(mm_btc=15.0), Scenario(name="fall-20", price_paths={"BTC": [-0.2]}), 2)
    assert held == 0.0 and written == pytest.approx(-400_000.0, rel=1e-15)
    assert closes[0][1] == pytest.approx(-1_400_000.0, rel=1e-15) and closes[1][1] == pytest.approx(-1_800_000.0, rel=1e-15)


# USD margin beyond a claim (decision 14, docs/invariants.md, session 33 (seizedusd)): MM's long on VENUE_B margined with
# 1.6m USD held in its other assets (3.6m, so its equity is 1m as above). The venue takes the 1.6m: it leaves MM's
# other assets, its cash first, then its illiquid book. After its default MM's estate sells what is left of the book
# at the fire-sale discount (0.25 at liquidity 1: core.engine.sell.estate_sales), so the book the seizure leaves decides
# the equity after the default.


def usd_margin_network(liquid_share: float) -> Network:
    """:func:`seized_network` with the long margined with 1.6m USD (margin asset empty) and no BTC held: MM's other
    assets 3.6m, ``liquid_share`` of them cash at the snapshot."""
    f = seized_network().frames()
    p = f["positions"]
    p.loc[p["id"] == "B_MM_LONG", ["margin_asset", "margin"]] = ["", 1.6e6]
    h = f["holdings"]
    f["holdings"] = h[~((h["entity"] == "MM") & (h["asset"] == "BTC"))].reset_index(drop=True)
    en = f["entities"]
    en.loc[en["id"] == "MM", ["other_assets_usd", "liquid_share"]] = [3.6e6, liquid_share]
    return Network.from_frames(**f)


def _usd_rounds(net: Network, sc: Scenario, rounds: int):
    """MM's (other assets, illiquid book, ``perps_value``) after round 0's perps step and (equity, forced loss) at
    each close."""
    c = compile_network(net)
    b = scenario_batch(net, [sc])
    s = initial_state(c, b)
    mm = list(c.ids).index("MM")
    after_perps, closes = None, []
    for r in range(rounds):
        for step in STEPS:
            s.apply(step(c, s, b, r))
            if step is perps_step.perps and r == 0:
                after_perps = (float(s.oa[0, mm]), float(s.illiquid[0, mm]), float(s.perps_value[0, mm]))
        closes.append((float(s.equity[0, mm]), float(s.shock_loss[0, mm])))
    return after_perps, closes


FALL = Scenario(name="fall-20", price_paths={"BTC": [-0.2]})
FORCED = Scenario(name="forced", price_paths={"BTC": [-0.2]}, forced_defaults=["MM"], forced_default_rounds={"MM": 2},
                  forced_default_recovery=0.5)


def test_seized_usd_beyond_the_cash_comes_out_of_the_illiquid_book():
    """Liquid share 0.2: MM's 3.6m is 0.72m of cash and a 2.88m book. The venue's 1.6m takes the 0.72m and 0.88m of
    the book: other assets 2m, all of it book (nothing written off from ``perps_value``). Equity -1m at round 0's
    close; after its default the estate sells the 2m book at 0.75: 1.5m - 3m = -1.5m, on every later BTC path (system
    loss 5,083,583.76). Forced at round 2 at recovery 0.5 it loses 0.75m (equity -2.25m). Before: the 1.6m stayed
    in the other assets and was written off from ``perps_value``; the estate sold the whole 2.88m book at 0.75
    (-0.72m, 0.22m of it on dollars the venue had taken): -1.72m (system loss 5,303,583.76), and the forced failure
    lost half of 2.88m, 1.44m (equity -3.16m), 0.64m of it on the seized dollars."""
    net = usd_margin_network(0.2)
    after, closes = _usd_rounds(net, FALL, 3)
    assert after == (2_000_000.0, 2_000_000.0, 0.0)
    assert [e for e, _ in closes] == [-1_000_000.0, -1_500_000.0, -1_500_000.0]
    _, forced = _usd_rounds(net, FORCED, 3)
    assert forced[2] == (-2_250_000.0, 750_000.0)
    paths = {"flat": [-0.2], "back-to-5": [-0.2, -0.05], "down-to-40": [-0.2, -0.4]}
    br = simulate_batch(net, [Scenario(name=k, price_paths={"BTC": v}) for k, v in paths.items()])
    mm = list(br.entity_ids).index("MM")
    np.testing.assert_allclose(br.equity[:, mm], -1_500_000.0, rtol=1e-12)
    np.testing.assert_allclose(br.total_loss, 5_083_583.76, atol=0.01)


def test_seized_usd_within_the_cash_leaves_the_book_and_a_forced_failure_does_not_lose_it_again():
    """Liquid share 0.5: 1.8m of cash and a 1.8m book. The 1.6m comes out of the cash: other assets 2m, book 1.8m.
    After the default the estate sells the book at 0.75 (-0.45m): 1.55m - 3m = -1.45m (the same before: the book
    was the same). Forced at round 2 at recovery 0.5 it loses 0.775m (equity -2.225m); before, half of 3.15m, 1.575m
    (equity -3.025m): 0.8m of it on the seized dollars."""
    after, closes = _usd_rounds(usd_margin_network(0.5), FALL, 2)
    assert after == (2_000_000.0, 1_800_000.0, 0.0)
    assert [e for e, _ in closes] == [-1_000_000.0, -1_450_000.0]
    _, forced = _usd_rounds(usd_margin_network(0.5), FORCED, 3)
    assert forced[2] == (-2_225_000.0, 775_000.0)


def test_usd_out_of_other_assets_cash_first_then_book_and_no_more_than_held():
    """Four accounts asked for 1.6m each: other assets 3.6m with a 2.88m book (0.72m cash, 0.88m from the book);
    3.6m with a 1.8m book (all cash); 1m with a 0.2m book (takes the 1m: 0.8m cash, 0.2m book; 0.6m left for the
    caller to write off); -0.5m (nothing held, nothing taken; the book untouched). A book above the other assets
    counts as the other assets (the runs step's and the estate's ``min(I, O+)``): 1m with a 1.5m book gives 1m, all
    from the book."""
    from types import SimpleNamespace

    from core.engine.perps_seized import usd_out_of_other_assets

    s = SimpleNamespace(oa=np.array([[3.6e6, 3.6e6, 1e6, -5e5, 1e6]]), illiquid=np.array([[2.88e6, 1.8e6, 2e5, 3e5, 1.5e6]]))
    taken = usd_out_of_other_assets(s, np.full((1, 5), 1.6e6))
    np.testing.assert_array_equal(taken, [[1.6e6, 1.6e6, 1e6, 0.0, 1e6]])
    np.testing.assert_array_equal(s.oa, [[2e6, 2e6, 0.0, -5e5, 0.0]])
    np.testing.assert_allclose(s.illiquid, [[2e6, 1.8e6, 0.0, 3e5, 5e5]], rtol=1e-15)


def test_wintermute_usd_margin_seized_on_the_2025_network_is_not_lost_again_at_its_forced_failure():
    """The 2025 network: WINTERMUTE's $250M of USDT margin on Binance is its other assets (liquid share 0.5). BTC, ETH,
    SOL and ALTS +200% at liquidity 0.05: Binance liquidates its shorts in round 0 and takes the $250M, $125M of cash
    and the $125M book (other assets 0, nothing written off). Forced to fail at round 3 at recovery 0, it loses its
    $3,431.88M of tokens and ends at -$650M, its loans. Before: the $250M stayed in its other assets against -$250M
    of ``perps_value`` and the forced failure lost it again (forced loss $3,681.88M, equity -$900M)."""
    import core.datasets

    net = core.datasets.load("crypto-2025-10")
    sc = Scenario(name="all-up-forced", price_shocks={a: 2.0 for a in ("BTC", "ETH", "SOL", "ALTS")}, liquidity=0.05,
                  forced_defaults=["WINTERMUTE"], forced_default_rounds={"WINTERMUTE": 3})
    c = compile_network(net)
    b = scenario_batch(net, [sc])
    s = initial_state(c, b)
    w = list(c.ids).index("WINTERMUTE")
    after = None
    for r in range(4):
        for step in STEPS:
            s.apply(step(c, s, b, r))
            if step is perps_step.perps and r == 0:
                after = (float(s.oa[0, w]), float(s.illiquid[0, w]), float(s.perps_value[0, w]))
    assert after == (0.0, 0.0, 0.0)
    assert float(s.equity[0, w]) == pytest.approx(-650_000_000.0, rel=1e-12)
    assert float(s.shock_loss[0, w]) == pytest.approx(3_431_879_244.96, abs=0.01)

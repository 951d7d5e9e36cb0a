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

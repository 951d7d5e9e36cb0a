"""Synthetic networks carry the shipped networks' mechanisms: stETH's ``pegs`` row (issue 11, session 11).

Without it, :mod:`core.engine.staking`'s redemption-arbitrage floor never applied on ``synthetic(...)``
networks, and round sales drained stETH's stableswap pool to 0.002-0.14% of ETH: the largest open family of
the monotonicity table (docs/invariants.md, "Worthless collateral").
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.engine import simulate_batch
from core.network import Network
from core.scenario import Scenario
from core.schema import TABLES
from core.synthetic_network import STETH_2022_POOL_UNITS, STETH_2022_TERMS, steth_pegs, synthetic

#: The terms of a liquid_staking row that are rates, not sizes: copied as they are.
RATES = ("years_to_redemption", "funding_rate", "staking_yield", "lp_sensitivity_per_day",
         "arbitrage_reference_gap", "arbitrage_elasticity")


def test_synthetic_steth_copies_the_2022_snapshot_row():
    """The shipped 2022 snapshot's stETH row, column by column: the rates as they are, the arbitrage capital
    (a size) scaled by the pool's units against the snapshot's Curve pool (851,484 stETH + 785,985 ETH)."""
    shipped = core.datasets.load("crypto-2022-05")
    row = shipped.pegs.set_index("asset").loc["stETH"]
    pool = shipped.assets.set_index("symbol").loc["stETH", "amm_pool"]
    assert float(shipped.holdings.loc[shipped.holdings["entity"] == pool, "amount"].sum()) == pytest.approx(
        STETH_2022_POOL_UNITS, rel=1e-12)
    net = synthetic(1000, 5000, seed=7)
    mine = net.pegs.set_index("asset").loc["stETH"]
    assert mine["mechanism"] == row["mechanism"] == "liquid_staking"
    assert bool(mine["withdrawals"]) is bool(row["withdrawals"]) is False
    for col in RATES:
        assert float(mine[col]) == float(row[col]) == STETH_2022_TERMS[col], col
    units = float(net.holdings.loc[net.holdings["entity"] == "E000000", "amount"].sum())
    assert units == pytest.approx(2e9 / 2750 + 2e9 / 2740, rel=1e-9)  # the synthetic pool: $2bn a side
    assert float(mine["arbitrage_units_per_day"]) == pytest.approx(
        float(row["arbitrage_units_per_day"]) * units / STETH_2022_POOL_UNITS, abs=1e-6)
    assert round(float(mine["arbitrage_units_per_day"])) == 49_835
    assert "2022 snapshot" in mine["note"] and "crypto-2022-05" in mine["source"]
    assert steth_pegs(STETH_2022_POOL_UNITS).loc[0, "arbitrage_units_per_day"] == 56_000.0


def test_a_sale_into_the_synthetic_pool_meets_the_floor():
    """A $1.5bn one-day sale into synthetic(200, 1000, seed 5)'s stETH pool closes its day at 0.9307 of ETH with
    the row (the position the 7% gap below the 0.9455 floor draws meets it) and ends the 12 rounds at 0.9433 (the
    capital arriving on the following days buys it back towards the floor), and at 0.070 without it, the pool
    drained; sales that leave stETH above its floor (0.987, 0.964) draw no arbitrage, so the two agree there to
    3e-5 (the row's LPs withdraw from the stressed pool, which thins it a little). (Before session 11's
    positions held to redemption, core.mechanisms.lst_holdings, the day closed at 0.9309 and the ratchet kept it
    there to the end: the 12-round bound moved from 0.9309 to 0.9433 with that model, and the one-day close is
    checked on its own. Session 14, the Maker-style auctions' remainders handed to the vaults' owners
    (core.engine.auction_vaults.returned_to_owner): the cdp protocols' vaults left are no longer propped up by
    them and $2.0M more is liquidated at the $1bn sale, $62.76M against $60.71M; the row and the bare network then
    part by 3.55e-5 there, not 2.8e-5, and the bare pool ends at 0.0735, not 0.0703.)"""
    net = synthetic(200, 1000, seed=5)
    bare = Network.from_frames(name="no-pegs", **{t: getattr(net, t) for t in TABLES if t != "pegs"})
    assert len(bare.pegs) == 0 and len(net.pegs) == 1
    scs = [Scenario(pool_sales_usd={"stETH": x}) for x in (0.5e9, 1.0e9, 1.5e9)]
    ratio = {}
    for name, n in (("row", net), ("bare", bare)):
        br = simulate_batch(n, scs)
        sym = list(br.asset_symbols)
        ratio[name] = br.prices[:, sym.index("stETH")] / br.prices[:, sym.index("ETH")]
    assert ratio["row"][0] == pytest.approx(ratio["bare"][0], abs=3e-5)
    assert ratio["bare"][1] - ratio["row"][1] == pytest.approx(3.55e-5, abs=1e-6)  # the LPs' thinning of the pool
    np.testing.assert_allclose(ratio["row"], [0.9867, 0.9643, 0.9433], atol=1e-4)
    assert ratio["bare"][2] == pytest.approx(0.0735, abs=1e-4)
    day = simulate_batch(net, [Scenario(pool_sales_usd={"stETH": 1.5e9}, horizon=1)])
    sym = list(day.asset_symbols)
    assert day.prices[0, sym.index("stETH")] / day.prices[0, sym.index("ETH")] == pytest.approx(0.9307, abs=1e-4)

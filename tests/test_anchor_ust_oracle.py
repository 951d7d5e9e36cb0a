"""Anchor's money market weighs a borrower's UST debt at 1 per UST whatever UST trades at (core.engine.oracle,
"Fixed-price oracles"; the 2022 network's ANCHOR cohorts, ``debt_oracle`` ``fixed_usd``).

The overseer's ``compute_borrow_limit`` sums collateral x the Anchor oracle's rate quoted in ``uusd`` (the oracle's
``base_asset``, whose own price is 1) x ``max_ltv``, and ``liquidate_collateral`` liquidates once that limit is
below ``loan_amount``, a number of uusd (money-market-contracts e8853fa, ``contracts/overseer/src/collateral.rs``
lines 152 and 240-272; ``contracts/oracle/src/contract.rs`` lines 151-176). The rates fed were USD prices (Terra's
oracle module voted LUNA/USD = LUNA/USDT x USDT/USD as its ``uusd`` rate: terra-money/oracle-feeder 33f2e38,
``price-server/src/prices.ts`` lines 11-15). In USD, the limit is collateral x USD price x max LTV against the
debt at $1 a UST: a UST depeg does not make an Anchor borrower healthier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.engine import compile_network, simulate_batch
from core.engine.books import debt_price
from core.engine.due import cohorts_due
from core.engine.oracle import cohort_oracle_prices
from core.scenario import Scenario
from oracle_fixtures import prices_at, recast, shipped_fixture

shipped = shipped_fixture("crypto-2022-05")
HF102 = "ANCHOR.bLUNA-UST.hf1.02"


@pytest.fixture(scope="module")
def at_market(shipped):
    """The 2022 network with ANCHOR's UST debt read at UST's market price (the engine's rule before session 33)."""
    co = shipped.cohorts.copy()
    co.loc[co["protocol"] == "ANCHOR", "debt_oracle"] = "market"
    return recast(shipped, co, "crypto-2022-05-anchor-debt-at-market")


def test_the_shipped_anchor_cohorts_read_their_ust_debt_at_one_dollar(shipped):
    co = shipped.cohorts
    anchor = np.flatnonzero((co["protocol"] == "ANCHOR").to_numpy())
    assert len(anchor) == 12 and set(co["debt_asset"].iloc[anchor]) == {"UST"}
    assert set(co["debt_oracle"].iloc[anchor]) == {"fixed_usd"} and set(co["collateral_oracle"].iloc[anchor]) == {"market"}
    f = compile_network(shipped).fixed_oracle
    cols = list(f.debt_cols)
    assert set(anchor) <= set(cols)
    assert [f.debt_price[0, cols.index(j)] for j in anchor] == [1.0] * 12


def test_the_hf_102_cohort_is_due_at_one_dollar_and_not_at_the_market(shipped, at_market):
    """ANCHOR.bLUNA-UST.hf1.02: 978,752.5703 LUNA against 44,331,734.0644 UST, max LTV 0.6, LUNA $77:
    borrow limit 978,752.5703 x 77 x 0.6 = 45,218,368.75 uusd, 1.02 x the loan. LUNA -10% to $69.30 and UST at
    0.70: the overseer's limit 978,752.5703 x 69.30 x 0.6 = 40,696,531.87 uusd < the loan 44,331,734.06 uusd
    (ratio 0.918): liquidated. Read at UST's market price the loan weighs $31,032,213.85 and the ratio is
    0.918 / 0.70 = 1.3114: not due. (The engine tests the cohort's lowest positions, its spread 1 - 1/1.02 =
    1.96% below: 0.918 x 0.98039 = 0.9000 at $1, 1.3114 x 0.98039 = 1.2857 at the market.)"""
    coll, debt, ltv = 978_752.5703, 44_331_734.0644, 0.6
    assert coll * 77 * ltv == pytest.approx(45_218_368.75, abs=0.01)
    assert coll * 77 * ltv / debt == pytest.approx(1.02, abs=1e-9)
    limit = coll * 69.30 * ltv
    assert limit == pytest.approx(40_696_531.87, abs=0.01) and limit / debt == pytest.approx(0.918, abs=1e-9)
    assert debt * 0.70 == pytest.approx(31_032_213.85, abs=0.01)
    assert limit / (debt * 0.70) == pytest.approx(1.311428571, abs=1e-9)
    for net, due in ((shipped, True), (at_market, False)):
        c = compile_network(net)
        j = list(net.cohorts["id"]).index(HF102)
        assert (c.c_coll[j], c.c_debt[j], c.c_lt[j]) == (coll, debt, ltv)
        P = prices_at(c, LUNA=69.30, UST=0.70)
        Pc, Pd = cohort_oracle_prices(c, np.take(P, c.c_ca, axis=1), debt_price(c, P))
        assert Pc[0, j] == 69.30 and Pd[0, j] == (1.0 if due else 0.70)
        assert c.c_spread[j] == pytest.approx(1 - 1 / 1.02, abs=1e-8)   # the cohort's lowest positions at ratio 1.00
        assert (coll * 69.30 * ltv * (1 - c.c_spread[j]) < debt * Pd[0, j]) == due   # 0.9000 at $1, 1.2857 at 0.70
        below = cohorts_due(c, c.c_coll[None], c.c_debt[None], P, c.c_lt[None], Pc, 0.0, Pd)
        assert bool(below[0, j]) == due


def test_a_ust_depeg_alone_liquidates_no_anchor_borrower_and_a_luna_fall_liquidates_them_whatever_ust_does(
        shipped, at_market):
    """Round 0 of two runs. UST -30% alone: at $1 the loans weigh what they did, no ANCHOR cohort is liquidated
    either way. LUNA -10% with UST -30%: ANCHOR's bLUNA hf1.02 cohort (ratio 0.918 at $1) is liquidated on the
    shipped network, and none of ANCHOR's is where the debt is read at the market (ratio 1.311)."""
    anchor = (shipped.cohorts["protocol"] == "ANCHOR").to_numpy()
    ids = list(shipped.entities["id"])
    runs = {}
    for tag, sc in (("ust", Scenario(depegs={"UST": 0.30}, horizon=1)),
                    ("both", Scenario(depegs={"UST": 0.30}, price_shocks={"LUNA": -0.10}, horizon=1))):
        for name, net in (("fixed", shipped), ("market", at_market)):
            br = simulate_batch(net, [sc], record=True)
            runs[tag, name] = np.asarray(br.history["liq_by_proto"])[0, 0, ids.index("ANCHOR")]
    assert anchor.sum() == 12
    assert runs["ust", "fixed"] == 0.0 and runs["ust", "market"] == 0.0
    assert runs["both", "fixed"] > 1e6 and runs["both", "market"] == 0.0


def test_the_cohorts_table_keeps_the_flag_through_a_round_trip(shipped, tmp_path):
    """The flag is data, read back by the loader as written (``sfm validate`` checks it: UST has a USD peg)."""
    co = shipped.cohorts
    out = tmp_path / "cohorts.csv"
    co.to_csv(out, index=False)
    back = pd.read_csv(out, keep_default_na=False)
    assert (back.loc[back["protocol"] == "ANCHOR", "debt_oracle"] == "fixed_usd").all()

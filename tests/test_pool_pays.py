"""Decision 17 (session 36): a lending pool never freezes its suppliers' withdrawals (core.engine.withdraw.still_pays).

A pass-through's failure (a supplier haircut beyond POOL_FAILURE_HAIRCUT, core.engine.clear) is a status: it counts
as a default, and its suppliers go on withdrawing from its cash at their claims' value, the pool's paid ratio
(core.engine.withdraw.claims_value: equal priority), and those not paid wait (pool_waits). An exchange, lender or
fund in default pays nothing (Celsius, Voyager, FTX paused withdrawals).

Worked numbers (test_pass_through.run_pool_network: POOL owes DEPOSITORS $300M and holds 100M USDC, $100M of other
assets of which 30% is cash, and a loan of 100M USDC against 100,000 ETH; liquidators repay $1 a round). ETH -60%
($800): the loan's collateral is worth $80M, the pool's assets $280M, a $20M shortfall on $300M, a 6.67% haircut
(paid ratio 0.93333): the pool fails in round 0. Its depositors run at the panic rate (runs.RUN_SHARE = 40% in
all): round 1 asks 30% of the claims, $90M at 0.93333 = $84M, paid from its $30M of cash and $54M of its USDC
(100M -> 46M); round 2 asks a seventh of the $210M left, $30M at 0.93333 = $28M, paid in USDC (46M -> 18M). The
runners bore $6M + $2M of the haircut and the $12M left falls on the $180M of claims that stay: 6.67% each, as
the clearing assigns it. Before decision 17 the failed pool paid nothing from round 1: its depositors kept
$300M of claims and its $130M of cash sat idle.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core import Scenario
from core.engine import simulate_batch
from core.engine.withdraw import deposits_value, withdraw
from core.network import Network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cascade_rounds import cascade_after  # noqa: E402
from test_liquid_stock import lender_network  # noqa: E402
from test_pass_through import run_pool_network  # noqa: E402

OWED, SHORT = 300e6, 20e6  # what POOL owes its depositors, and its shortfall at ETH $800
RATIO = 1.0 - SHORT / OWED


def rounds_of(net: Network, sc: Scenario, rounds: int, debtor: str = "POOL") -> list[dict]:
    """Each round, around the withdraw step: what ``debtor`` owes its depositors, its USDC and cash, what the
    depositors hold, its paid ratio, the share of its depositors not yet run on, and whether it has defaulted."""
    row: dict = {}

    def around(cascade, r, step, when):
        if step is not withdraw:
            return
        c, s = cascade.c, cascade.s
        p, d = cascade.entity(debtor), cascade.entity("DEPOSITORS")
        usdc = cascade.asset("USDC") if "USDC" in list(c.symbols) else None
        row[when] = dict(owed=float(deposits_value(c, s)[0, p]), oa=float(s.oa[0, p]),
                         usdc=0.0 if usdc is None else float(s.H[0, p, usdc]),
                         dep_oa=float(s.oa[0, d]), dep_usdc=0.0 if usdc is None else float(s.H[0, d, usdc]),
                         ratio=float(s.ratio[0, p]), kept=float(s.run_kept[0, p]), defaulted=bool(s.defaulted[0, p]))

    def record(cascade, r):
        out = dict(row)
        row.clear()
        return out

    return cascade_after(net, sc, rounds, each_round=record, each_step=around).records


def run(eth: float, **kw) -> Scenario:
    return Scenario(price_shocks={"ETH": eth}, liquidator_capacity_usd=1.0, run_intensity=1.0, **kw)


@pytest.fixture(scope="module")
def failed_pool() -> list[dict]:
    return rounds_of(run_pool_network(), run(-0.60), 4)


def test_a_failed_pool_pays_its_runners_this_round_and_the_next(failed_pool):
    r1, r2, r3 = failed_pool[1], failed_pool[2], failed_pool[3]
    assert r1["before"]["defaulted"]  # failed in round 0: a 6.67% haircut, beyond 3%
    assert r1["before"]["ratio"] == pytest.approx(RATIO, abs=1e-8)
    # round 1: 30% of the $300M of claims, worth $84M, paid from $30M of cash and $54M of USDC
    assert r1["before"]["owed"] - r1["after"]["owed"] == pytest.approx(0.3 * OWED, rel=1e-12)
    assert r1["before"]["oa"] - r1["after"]["oa"] == pytest.approx(30e6, abs=1.0)
    assert r1["before"]["usdc"] - r1["after"]["usdc"] == pytest.approx(54e6, abs=1.0)
    assert r1["after"]["kept"] == pytest.approx(0.7, rel=1e-12)
    # round 2: a seventh of the $210M left, worth $28M, paid in USDC (46M -> 18M)
    assert r2["before"]["defaulted"]
    assert r2["before"]["owed"] - r2["after"]["owed"] == pytest.approx(30e6, rel=1e-9)
    assert r2["before"]["usdc"] - r2["after"]["usdc"] == pytest.approx(28e6, abs=1.0)
    assert r2["after"]["usdc"] == pytest.approx(18e6, abs=5.0)
    assert r2["after"]["kept"] == pytest.approx(0.6, rel=1e-12)
    # the run is over (RUN_SHARE): round 3 pays nothing
    assert r3["after"]["owed"] == r3["before"]["owed"] == pytest.approx(0.6 * OWED, rel=1e-12)


def test_what_the_runners_are_paid_comes_out_of_the_pools_cash(failed_pool):
    """Conservation: each round the depositors receive exactly what the pool's cash and USDC lose."""
    for row in failed_pool[1:]:
        b, a = row["before"], row["after"]
        out = (b["oa"] - a["oa"]) + (b["usdc"] - a["usdc"])
        got = (a["dep_oa"] - b["dep_oa"]) + (a["dep_usdc"] - b["dep_usdc"])
        assert got == pytest.approx(out, abs=1e-3)
        assert out >= 0.0
        # never more than the claims settled are worth at the pool's paid ratio
        assert out <= (b["owed"] - a["owed"]) * b["ratio"] * (1 + 1e-12) + 1e-6


def test_runners_bear_the_haircut_pro_rata_and_it_stays_booked():
    """The runners' share of the haircut ($8M) is booked with the pool's: $20M, 6.67% of the $300M of claims, the
    same share the clearing leaves on the claims that stay; the system's loss is the loan's shortfall."""
    br = simulate_batch(run_pool_network(), [run(-0.60, horizon=12)])
    ids = list(br.entity_ids)
    pool, dep = ids.index("POOL"), ids.index("DEPOSITORS")
    assert br.defaulted[0, pool]
    assert br.supplier_haircut_usd[0, pool] == pytest.approx(SHORT, rel=1e-6)
    assert br.supplier_haircut[0, pool] == pytest.approx(SHORT / OWED, rel=1e-6)
    assert br.loss[0, dep] == pytest.approx(SHORT, rel=1e-6)
    assert br.total_loss[0] == pytest.approx(SHORT, rel=1e-6)


def dry_pool_network() -> Network:
    """run_pool_network's pool with no cash: its USDC lent out and its other assets all book (liquid_share 0)."""
    net = run_pool_network()
    ent = net.entities.copy()
    ent.loc[ent["id"] == "POOL", "liquid_share"] = 0.0
    return Network.from_frames(name="pass-through-dry", entities=ent, assets=net.assets,
                               holdings=net.holdings.iloc[:0], exposures=net.exposures, cohorts=net.cohorts)


def test_a_failed_pool_without_cash_makes_its_runners_wait():
    """ETH -60%: assets $180M against $300M, a 40% haircut: failed. Its runners ask $90M x 0.6 and it has a few dollars (the
    rounds' liquidations): they are paid that, stay in the run and ask again; the pool sells nothing."""
    rows = rounds_of(dry_pool_network(), run(-0.60), 4)
    for row in rows[1:]:
        b, a = row["before"], row["after"]
        assert b["defaulted"]
        assert b["ratio"] == pytest.approx(0.6, abs=1e-8)
        assert b["usdc"] <= 5.0  # what its liquidations repaid, $1 a round
        assert a["usdc"] == pytest.approx(0.0, abs=1e-6)  # paid out to its runners, all of it
        assert a["oa"] >= 100e6  # its $100M book is not sold (only the cents of fees it received are paid)
        paid = (b["usdc"] - a["usdc"]) + (b["oa"] - a["oa"])
        # what it paid settles claims worth as much at the paid ratio: $1 for $1.67 of claims
        assert b["owed"] - a["owed"] == pytest.approx(paid / b["ratio"], rel=1e-6)
        assert a["kept"] > 0.999999  # the runners not paid wait: still in the run
    assert rows[-1]["after"]["owed"] == pytest.approx(OWED, rel=1e-7)


@pytest.mark.parametrize("kind", ["centralised_exchange", "cefi_lender"])
def test_an_exchange_or_lender_in_default_still_pays_nothing(kind):
    """test_liquid_stock's LENDER (or an exchange in its place), forced to fail with a half recovery: its
    depositors, whose claims are on a defaulted debtor, are paid nothing in any round."""
    net = lender_network()
    ent = net.entities.copy()
    ent.loc[ent["id"] == "LENDER", "type"] = kind
    net = Network.from_frames(name="failed-lender", entities=ent, assets=net.assets, holdings=net.holdings,
                              exposures=net.exposures)
    sc = Scenario(forced_defaults=["LENDER"], forced_default_recovery=0.5, run_intensity=1.0, liquidity=1.0)
    rows = rounds_of(net, sc, 4, debtor="LENDER")
    for row in rows[1:]:
        b, a = row["before"], row["after"]
        assert b["defaulted"]
        assert a["owed"] == b["owed"] and a["oa"] == b["oa"] and a["dep_oa"] == b["dep_oa"]


def test_the_pool_rule_moves_no_loss_with_the_threshold():
    """Whether the pool counts as failed (threshold 3%, or never) changes its status alone: what every entity ends
    with is the same, and the haircut is 6.67% of every claim. (Before decision 17: at 3% the failed pool froze its
    depositors with their $300M of claims; with the threshold out of reach its runners took $120M at par and the
    $180M of claims that stayed bore the whole $20M, 11.1%.)"""
    import core.mechanisms.pass_through as pass_through
    saved = pass_through.POOL_FAILURE_HAIRCUT
    out = {}
    try:
        for thr in (saved, 1.0):
            pass_through.POOL_FAILURE_HAIRCUT = thr
            out[thr] = simulate_batch(run_pool_network(), [run(-0.60, horizon=12)])
    finally:
        pass_through.POOL_FAILURE_HAIRCUT = saved
    pool = list(out[saved].entity_ids).index("POOL")
    assert out[saved].defaulted[0, pool] and not out[1.0].defaulted[0, pool]
    np.testing.assert_allclose(out[saved].equity, out[1.0].equity, rtol=0, atol=1e-3)
    np.testing.assert_allclose(out[saved].supplier_haircut_usd, out[1.0].supplier_haircut_usd, rtol=0, atol=1e-3)
    for br in out.values():
        assert br.supplier_haircut[0, pool] == pytest.approx(SHORT / OWED, rel=1e-6)

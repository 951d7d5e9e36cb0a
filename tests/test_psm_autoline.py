"""A PSM ilk's autoline caps what ``sellGem`` mints a round (:func:`core.mechanisms.psm.autoline_ceiling`).

Worked numbers from the sources (PSM-USDC-A's autoline of May 2022, LITE-PSM-USDC-A's of September 2025), the
engine on the 2022 network with CIRCLE failed (USDC at ~0: arbitrage would fill the PSM's whole 10bn line at
once), the ledger pair the cap closes, and the data's checks.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core import Scenario
from core.engine import simulate_batch
from core.engine.batch import build_batch
from core.engine.compiled import compile_network
from core.engine.rounds import STEPS
from core.engine.state import initial_state
from core.mechanisms._checks import trusted
from core.mechanisms.psm import autoline_ceiling, psm_arbitrage
from core.network import TABLES
from depth_points import at_point, depth_points
from invariants_support import load_regressions

PAIR = "monotone-shipped-eth-cel-steth-circle-failed-lag1-capital-50m"


def _with_pegs(net, pegs, name):
    return core.network.Network.from_frames(name=name, **{t: getattr(net, t) for t in TABLES if t != "pegs"}, pegs=pegs)


def without_autoline(net):
    """The network with its PSMs' autoline gaps emptied: each PSM may mint up to its line in a round."""
    pegs = net.pegs.copy()
    pegs["psm_gap_usd"], pegs["psm_gap_hours"] = np.nan, np.nan
    return _with_pegs(net, pegs, f"{net.name}-no-autoline")


def test_autoline_ceiling_worked_numbers():
    """PSM-USDC-A (May 2022: line 10bn, gap 950M, ttl 24 h) holding 3.2bn USDC: a daily round may mint up to 4.15bn,
    a 6-hour round a quarter of the gap; near the line the line binds. LITE-PSM-USDC-A (September 2025: gap 400M,
    ttl 12 h): 800M in a daily round. No gap: the line."""
    assert float(autoline_ceiling(3.2e9, 10e9, 950e6, 24.0, 24.0)) == pytest.approx(4.15e9, rel=1e-15)
    assert float(autoline_ceiling(3.2e9, 10e9, 950e6, 24.0, 6.0)) == pytest.approx(3.4375e9, rel=1e-15)
    assert float(autoline_ceiling(9.5e9, 10e9, 950e6, 24.0, 24.0)) == 10e9
    assert float(autoline_ceiling(1.0e9, 10e9, 400e6, 12.0, 24.0)) == pytest.approx(1.8e9, rel=1e-15)
    assert float(autoline_ceiling(3.2e9, 10e9, np.inf, 24.0, 24.0)) == 10e9


def test_the_balance_stops_at_the_line_worked_numbers():
    """The line bounds the PSM's urn debt, one per USDC held (vat.frob checks the ilk's debt against its line;
    sellGem frobs gemAmt18 and mints gemAmt18 - fee): PSM-USDC-A's 10bn line, tin 0.1%, 9bn held, USDC at 0.5
    (arbitrage wants far more): 1bn of USDC in, 999M DAI minted, the balance 10bn and the supply up 1bn (the
    1M fee stays DAI at the Vow). Before: the room was counted in DAI minted, 1bn minted for 1.001001bn of
    USDC, the balance 10.001bn. The same under the autoline's ceiling (9bn + 950M a day)."""
    r = psm_arbitrage(1.0, 0.5, 9e9, 20e9, 10e9, line=10e9, tin=0.001)
    assert float(r.minted) == pytest.approx(999e6, rel=1e-12)
    assert float(r.psm_balance) == pytest.approx(10e9, rel=1e-15) and float(r.psm_balance) <= 10e9
    assert float(r.dai_supply) == pytest.approx(21e9, rel=1e-15)
    ceiling = autoline_ceiling(9e9, 10e9, 950e6, 24.0, 24.0)
    r = psm_arbitrage(1.0, 0.5, 9e9, 20e9, 10e9, line=ceiling, tin=0.001)
    assert float(r.minted) == pytest.approx(950e6 * 0.999, rel=1e-12)
    assert float(r.psm_balance) == pytest.approx(9.95e9, rel=1e-15)


def test_litepsm_autoline_2025_rows():
    """The 2025 network's LitePSM: LITE-PSM-USDC-A's 10bn line and 400M a 12 h autoline (spells-mainnet
    6b64ae31, the 18 Sep 2025 spell), split in half between its two rows, DAI and USDS."""
    pegs = core.datasets.load("crypto-2025-10").pegs.set_index("asset")
    rows = pegs.loc[["DAI", "USDS"]]
    assert rows["psm_line_usd"].sum() == 10e9 and rows["psm_gap_usd"].sum() == 400e6
    assert (rows["psm_gap_hours"] == 12).all()
    assert all("6b64ae31" in n and "aL_gap 400" in n for n in rows["note"])


@pytest.mark.parametrize("hours", [24.0, 6.0])
def test_engine_mints_at_most_the_gap_a_round(hours):
    """2022, CIRCLE failed (USDC at ~0 from round 0), ETH -30%, rounds of 24 or 6 hours: while MAKER is live the
    PSM takes in at most 950M x hours / 24 of USDC a round (before: 3.73bn in round 0), and exactly that while the
    line is far (arbitrage against a USDC at ~0 wants the whole line); the PSM never holds more than its 10bn. (The
    ceiling bounds the PSM's balance, its urn debt: the DAI minted is (1 - tin) of it, tin 0.1% on this row.)"""
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = build_batch(c, [Scenario(forced_defaults=["CIRCLE"], price_shocks={"ETH": -0.3}, round_hours=hours)], net, True)
    s = initial_state(c, b)
    maker = list(c.ids).index("MAKER")
    step_cap = 950e6 * hours / 24.0
    inflows = []
    with trusted():
        for r in range(4):
            before, live = s.psm_balance.copy(), not s.defaulted[0, maker]
            for step in STEPS:
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
            inflow = float((s.psm_balance - before)[0, 0])
            inflows.append(inflow)
            assert inflow <= step_cap * (1 + 1e-12), (r, inflow)
            assert float(s.psm_balance[0, 0]) <= 10e9 * (1 + 1e-12)
            if live and r == 0:
                assert inflow == pytest.approx(step_cap, rel=1e-9), inflows
    assert inflows[0] > 0


@pytest.mark.xfail(strict=True, reason=(
    "session 31 (s31-poolidx, a claim held on a pool valued at the pool's index of the same round): MAKER's 200M on "
    "AAVE_ETH now carries AAVE_ETH's round-0 fall, MAKER's round-0 equity at the shallower depth -$1,417.82M -> "
    "-$1,580.16M, past MKR's $1,428.4M backstop, so MAKER defaults in round 0 at both depths (was round 1 at the "
    "shallower) with or without the autoline: no live Maker mints against worthless USDC in round 1, and without "
    "the autoline the pair holds too (deeper - shallower +$566.98M, was -$222.37M). At the MAKER round-0/round-1 "
    "edge (the shallower depths x 0.9804690201114101 / ...102) the pair fails WITH the autoline (-$461.61M) and "
    "without it MAKER defaults in round 1 at both; the premise is not found again in this session"))
def test_the_circle_pair_holds_with_the_autoline_and_not_without():
    """The ledger's pair (2022, ETH/CEL/stETH deepened with CIRCLE failed, lag 1, capital $50M): without the
    autoline (the gap emptied) the shallower run's live Maker mints 3.08bn DAI against worthless USDC in round 1,
    which the deeper run's shut-down Maker does not, and end.cash's blend is diluted: -$126.72M of loss (-$127.28M
    while the room was counted in DAI minted, the PSM filling past its line; -$193.48M since session 29 caged a
    defaulted Maker; -$221.99M with the fixed-price oracles too); with it, 950M of USDC a day, the loss rises
    $75.8909bn -> $76.0838bn ($75.9720bn -> $76.1272bn with the cage; $76.1231bn -> $76.2530bn with the cage and the
    fixed-price oracles)."""
    case = next(e for e in load_regressions() if e["id"] == PAIR)
    points = depth_points(tuple(case["assets"]), case["depths"])
    scs = [at_point(Scenario.model_validate(case["scenario"]), p, case["mode"]) for p in points]
    net = core.datasets.load("crypto-2022-05")
    with_gap = simulate_batch(net, scs).total_loss
    without = simulate_batch(without_autoline(net), scs).total_loss
    assert with_gap[1] >= with_gap[0]
    # session 29 (cage): MAKER, in default in round 1 / round 0, is caged by End at round 2 / round 1 (no more
    # auctions or debt auctions; DAI at the shut system's paid ratio): $75.8909bn -> $75.9720bn, $76.0838bn ->
    # $76.1272bn, and the pair still holds (+$155.2M). With the fixed-price oracles as well (core.engine.oracle:
    # Compound v2's USDC debt read at $1 with USDC ~0 once CIRCLE fails, no longer relieving COMP's borrowers):
    # $76.1231bn -> $76.2530bn (+$129.9M). Session 30 (s30-anchor, Anchor's collateral seized at its queue's
    # price): $76.1254bn -> $76.2551bn (+$129.6M). Session 31 (s31-poolidx: MAKER's 200M on AAVE_ETH at AAVE_ETH's
    # index of the same round, core.engine.held_claims): MAKER's round-0 equity -$1,417.82M -> -$1,580.16M at the
    # shallower depth (-$1,694.73M -> -$1,858.97M at the deeper), past MKR's backstop 0.86 x 977,000 x $1,700 =
    # $1,428.4M, so the shallower Maker defaults in round 0, not 1, and is caged at round 1 (DAI at round 1 0.0005
    # -> 0.3934): $75.6670bn -> $76.2554bn (+$588.4M); s31-kept moved neither
    assert with_gap / 1e9 == pytest.approx([75.6670, 76.2554], abs=1e-4)
    # $126.68277M before session 27: the lag-1 capital now buys the debt tokens it repays (USDC near 0 once CIRCLE
    # fails) at the market, not the oracle's price a round back (core.engine.capital.debt_cost); with the autoline
    # the loss moves by +$53.9k / +$13.5k. Session 29 (cage): $126.71520M -> $193.47510M, the deeper depth's Maker
    # caged a round before the shallower's; with the fixed-price oracles as well $221.98544M; session 30 (Anchor's
    # queue price) $222.37273M. Session 31 (s31-poolidx): -$566.98M, MAKER in default in round 0 at both depths
    # (the xfail's reason); the figure kept as the premise
    assert without[0] - without[1] == pytest.approx(222.37273e6, rel=1e-6)


def test_bad_autoline_names_row_column_and_value():
    """A gap on a row that is not a PSM, or without its ttl, is an error naming the table, row, column and value."""
    from core.validation import DataValidationError

    net = core.datasets.load("crypto-2022-05")
    pegs = net.pegs.copy()
    pegs["psm_gap_hours"] = pegs["psm_gap_hours"].astype(float)
    pegs.loc[pegs["asset"] == "DAI", "psm_gap_hours"] = np.nan
    pegs.loc[pegs["asset"] == "FRAX", "psm_gap_usd"] = 1e8
    with pytest.raises(DataValidationError) as exc:
        _with_pegs(net, pegs, "bad-autoline")
    hits = [p for p in exc.value.problems if p.column == "psm_gap_usd"]
    assert len(hits) == 2, exc.value.problems
    assert all("empty, except on psm rows, and set with psm_gap_hours" in h.expected for h in hits)
    assert sorted(float(h.value) for h in hits) == [1e8, 950e6]
    assert all(h.row is not None and "pegs" in str(h.file) for h in hits)

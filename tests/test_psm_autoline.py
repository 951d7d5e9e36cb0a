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


#: The circle pair's depths: the ledger pair's shallower depths (ETH -82.29%, CEL -6.88%, stETH -51.88%) scaled by
#: these factors (the shallower point itself now fails Maker in round 0: session 31, s31-poolidx).
#: (0.98, 1.02) before session 37: at MKR's dated close of 6 May 2022 ($1,338.70, was ~$1,700) MAKER's round-0 edge
#: moved from x 0.9805 to x 0.9384 and both old scales defaulted MAKER in round 0 with and without the autoline.
CIRCLE_SCALES = (0.938, 0.98)


def _psm_inflows(net, scs, rounds):
    """USDC the PSM takes in each round, (rounds, S), and whether MAKER is in default after each round."""
    c = compile_network(net)
    b = build_batch(c, scs, net, True)
    s = initial_state(c, b)
    maker = list(c.ids).index("MAKER")
    inflows, defaulted = [], []
    with trusted():
        for r in range(rounds):
            before = s.psm_balance[:, 0].copy()
            for step in STEPS:
                changes = step(c, s, b, r)
                if changes:
                    s.apply(changes)
            inflows.append(s.psm_balance[:, 0] - before)
            defaulted.append(s.defaulted[:, maker].copy())
    return np.array(inflows), np.array(defaulted)


def test_the_circle_pair_holds_with_the_autoline_and_not_without():
    """2022, CIRCLE failed (USDC at ~0), lag 1, liquidity 0.457, capital $50M (the ledger pair's scenario), ETH, CEL
    and stETH at the ledger pair's shallower depths x 0.938 and x 0.98 (session 37; x 0.98 and x 1.02 at MKR's
    former ~$1,700, whose numbers follow in this paragraph). Why those depths: MAKER's round-0 shortfall
    crosses MKR's backstop (0.86 x 977,000 x $1,700 = $1,428.374M) between them, with and without the autoline, so
    the shallower Maker is live through round 0 and the deeper one in default from round 0 in both networks (the
    edge is at x 0.9804690201114101 / ...102 with the autoline, x 0.9808251942733323 / ...324 without). Live in
    round 1, the shallower Maker's PSM takes in worthless USDC until its default at round 1's clearing: 950M with
    the autoline (a day's gap), 3,069.07M without (to the 10bn line, after 3,730.68M in round 0); the deeper's takes
    in none. That dilution is what decides the pair: with the autoline the deeper shock costs $186.42M more
    ($75,805.32M -> $75,991.74M); without it $154.63M less ($77,263.58M -> $77,108.96M; STABLE_HOLDERS -$262.50M,
    DAI ends 0.2504 against 0.2888). Session 34 (anchorfee, Anchor's queue keeps its 1% liquidator fee beside the
    bid fee): $186.30M more with the autoline ($75,806.77M -> $75,993.07M), $155.45M less without ($77,265.24M ->
    $77,109.79M). Swept with 0.98 held (session 32): the pair holds with the autoline from x
    1.0087 deeper and without it only from x 1.0299; 1.02 sits between. At the edge itself the pair fails with the
    autoline too (the ledger's `...-maker-round0-edge`, -$461.61M: decision 1's family).

    Session 37: at MKR's dated close of 6 May 2022 ($1,338.70; the backstop 0.86 x 977,000 x $1,338.70 =
    $1,124.76M) the round-0 edge is at x 0.9384081104518058 / ...059 with the autoline, x 0.9387943134903048 /
    ...050 without, and both old scales defaulted MAKER in round 0: the scales are now 0.938 (live through round 0,
    in default at round 1's clearing) and 0.98. The shallower Maker's PSM takes in 950M in round 1 with the autoline
    and 3,069.07M without (after 3,730.68M in round 0), the deeper's none, as before. With the autoline the deeper
    shock costs $196.53M more ($75,148.70M -> $75,345.23M); without it $153.58M less ($76,618.77M -> $76,465.19M;
    STABLE_HOLDERS -$299.76M, DAI ends 0.2700 against 0.3138). Swept with 0.938 held (0.005 apart): the pair holds
    with the autoline from between x 0.965 and 0.97 and without it from between x 0.98 and 0.99; 0.98 sits
    between (without it $7.07M more at x 0.99)."""
    case = next(e for e in load_regressions() if e["id"] == PAIR)
    shallower = depth_points(tuple(case["assets"]), case["depths"])[0]
    base = Scenario.model_validate(case["scenario"])
    scs = [at_point(base, {a: d * k for a, d in shallower.items()}, case["mode"]) for k in CIRCLE_SCALES]
    net = core.datasets.load("crypto-2022-05")
    bare = without_autoline(net)
    # session 42 (data): without the autoline round 1's inflow 3,069.066664M -> 3,072.660045M (round 0's 3,730.68M ->
    # 3,727.09M): DAI's tin 0 (on a copy of the data with tin 0.001 the old figures hold), the PSM filled to its
    # line one USDC a DAI, not 1 / (1 - tin)
    for n, round_1_inflow in ((net, 950e6), (bare, 3072.660045e6)):
        inflows, defaulted = _psm_inflows(n, scs, 2)
        assert defaulted.tolist() == [[False, True], [True, True]]
        assert inflows[1] == pytest.approx([round_1_inflow, 0.0], rel=1e-6, abs=1e-3)
    with_gap = simulate_batch(net, scs)
    without = simulate_batch(bare, scs)
    maker = list(with_gap.entity_ids).index("MAKER")
    assert with_gap.default_round[:, maker].tolist() == [1, 0] == without.default_round[:, maker].tolist()
    # session 37 (MKR's dated close, the scales 0.938 / 0.98): were [75806.769230, 75993.072240] and
    # [77265.235249, 77109.785223], +$186.303010M and -$155.450026M at x 0.98 / 1.02 and MKR ~$1,700
    # session 38 (s38-crvust, decision 19's 3CRV side with decision 21's band; not split between them): with CIRCLE
    # failed UST's pool is priced over 3CRV's coins, UST opens below LFG's trigger and the defence sells its reserve;
    # the default rounds and the PSM's inflows above are unchanged, the losses rise: were [75148.695234,
    # 75345.228313] and [76618.772926, 76465.194013], +$196.533079M and -$153.578913M; the pair's shape holds
    # session 39 (s39-crvust): round 0's module arbitrage lifts UST with the pool it buys back (0.961421 -> 0.97998 at
    # both depths in both networks; from round 1 the same closes, LUNA ends $70.8124 / $70.8122 as before): were
    # [75283.614477, 75473.892315] and [76788.418762, 76619.679607], +$190.277837M and -$168.739155M
    # Decision 29 (Session 46 (defender): LFG is paid the LUNA minted for the UST it redeems and keeps it; its defence
    # sells none of its LUNA, the queue none of its UST): every loss rises by ~$0.81M, mostly LFG's (its equity at the
    # close $3,262.72M -> $3,259.10M at x 0.938, $3,262.72M -> $3,259.09M at x 0.98, as much without the autoline);
    # the default rounds and the PSM's inflows above are unchanged: [75283.570016, 75473.430915] -> [75284.382396,
    # 75474.294490] and without the autoline [76788.675016, 76618.169135] -> [76789.488187, 76619.030807]
    assert with_gap.total_loss / 1e6 == pytest.approx([75284.382396, 75474.294490], rel=1e-6)
    # session 42 (data): without the autoline [76788.364450, 76619.284705] -> [76788.675016, 76618.169135] (with it
    # [75283.570016, 75473.430915], within the pins): [76788.310686, 76619.246828] on a copy with DAI's tin 0.001
    # (the stETH rows alone), the rest DAI's tin 0 (the inflows above); not traced to the step
    assert without.total_loss / 1e6 == pytest.approx([76789.488187, 76619.030807], rel=1e-6)
    # session 40 (anchor: Anchor's queue repays the contract's amount, each position below HF 1 at its own HF): the
    # totals move within the pins above, the pair's rises +$189.937269M -> +$189.933052M and -$169.079745M ->
    # -$169.085167M; at the entry's own depths ANCHOR's late liquidations shift ($16.96M -> $17.14M in round 7 at the
    # shallower, $18.59M -> $18.68M in round 6 at the deeper) and COMP's with them ($406.95M -> $406.77M, $350.08M ->
    # $350.00M); the pair's shape holds
    # session 42 (data: Aave v2 stETH's threshold 0.75 with the loops' debt at it, then DAI's tin 0, each measured):
    # +$189.933052M -> +$189.925513M -> +$189.860899M and -$169.085167M -> -$169.063859M -> -$170.505882M; the
    # pair's shape holds
    # decision 29 (above): +$189.860899M -> +$189.912095M and -$170.505882M -> -$170.457380M; the pair's shape holds
    assert with_gap.total_loss[1] - with_gap.total_loss[0] == pytest.approx(189.912095e6, rel=1e-6)
    assert without.total_loss[1] - without.total_loss[0] == pytest.approx(-170.457380e6, rel=1e-6)
    # History: at the ledger pair's own depths, the shallower Maker lived through round 0 (it defaulted in round 1,
    # the deeper in round 0): without the autoline -$126.72M of loss, then -$193.48M after the cage (session 29),
    # -$221.99M with the fixed-price oracles, -$222.37M after s30-anchor; with it $75.8909bn -> $76.0838bn, last
    # $76.1254bn -> $76.2551bn. Session 31 (s31-poolidx: MAKER's 200M on AAVE_ETH at AAVE_ETH's index of the same
    # round) took the shallower's round-0 equity -$1,417.82M -> -$1,580.16M, past the backstop: both depths default in
    # round 0 with or without the autoline (with it $75.6670bn -> $76.2554bn), and the premise moved to these depths


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


def _exec(debt, line, last_inc, now, gap, ttl, max_line):
    """``DssAutoLine.exec(ilk)`` (makerdao/dss-auto-line, src/DssAutoLine.sol), one call: ``lineNew = min(debt + gap,
    maxLine)``; no change if it equals the line, or if it is a raise before ``lastInc + ttl``; a raise sets
    ``lastInc``. Returns ``(line, lastInc)``."""
    line_new = min(debt + gap, max_line)
    if line_new == line or (line_new > line and now < last_inc + ttl):
        return line, last_inc
    return line_new, (now if line_new > line else last_inc)


def _drained(hours, phase, room, gap, ttl, max_line, debt):
    """What arbitrageurs mint through the PSM in ``hours`` when its backing is worthless: they fill the room the line
    leaves at once and call ``exec`` whenever it may raise the line again. At the start the line stands ``room``
    above the debt and was last raised ``phase`` hours before (``0 <= phase < ttl``)."""
    line, last_inc, start, now = debt + room, -phase, debt, 0.0
    while now <= hours:
        line, last_inc = _exec(debt, line, last_inc, now, gap, ttl, max_line)
        debt = max(debt, line)  # sellGem up to the line
        now = last_inc + ttl if last_inc + ttl > now else now + ttl
    return debt - start


def test_the_model_s_rate_is_the_contract_s_inflow_averaged_over_the_autoline_s_phase():
    """Session 44 (mkrhalt): the cap of ``autoline_ceiling`` (``gap`` a ``ttl`` at the rate) against a replay of
    ``DssAutoLine.exec``. The contract lets a worthless backing in by steps: the room left at the start at once, then
    a ``gap`` at each ``lastInc + k ttl``. For PSM-USDC-A in May 2022 (line 10bn, gap 950M, ttl 24 h, 5.1bn held
    after the CIRCLE-failed shallower's rounds 0-1 of Session 43 (mkredge)) the 36 hours the MKR-edge shallower's PSM
    stays open after the deeper's cage can take 950M (no room left, the line raised just before) to 2,850M (a full
    gap's room, the line raised 12 h or more before); the model's 1,425.0M is inside, and it is the replay averaged
    over the phase of the last raise with no room left at the start (36 / 24 = 1.5 gaps). LITE-PSM-USDC-A in
    September 2025 (gap 400M, ttl 12 h, both rows together): 800M a day at the rate, the average of the replay."""
    line, gap, ttl, held = 10e9, 950e6, 24.0, 5.10025e9
    model = float(autoline_ceiling(held, line, gap, ttl, 36.0)) - held
    assert model == pytest.approx(1.425e9, rel=1e-15)
    phases = np.arange(240) * ttl / 240  # the last raise 0, 0.1, ..., 23.9 h before
    steps = [_drained(36.0, p, room, gap, ttl, line, held) for p in phases for room in (0.0, gap)]
    assert min(steps) == pytest.approx(950e6, rel=1e-15) and max(steps) == pytest.approx(2.85e9, rel=1e-15)
    assert min(steps) < model < max(steps)
    no_room = [_drained(36.0, p, 0.0, gap, ttl, line, held) for p in phases]
    assert float(np.mean(no_room)) == pytest.approx(model, rel=1e-12)
    assert _drained(36.0, 20.0, 0.5e9, gap, ttl, line, 9.5e9) == pytest.approx(0.5e9, rel=1e-15)  # the line binds
    lite = [_drained(24.0, p, 0.0, 400e6, 12.0, 10e9, 4e9) for p in np.arange(120) * 12.0 / 120]
    assert float(np.mean(lite)) == pytest.approx(float(autoline_ceiling(4e9, 10e9, 400e6, 12.0, 24.0)) - 4e9, rel=1e-12)

"""A lending pool whose liquidity cannot pay its runners is fully utilised, not failed: its runners not paid wait
and ask again (core.engine.withdraw.pool_waits); an exchange, lender or fund that cannot pay defaults.

Worked numbers (the 2022 network, WBTC -30.342%, full runs, oracle lag 1, liquidity 1.364, liquidators' capital
$500M): AAVE_ALT owes DeFi suppliers $1,132.5M and is a few $M short from bad debt, so it is run on in full
(runs.RUN_SHARE = 40% of its depositors: 30% in round 1, then 1/7 of the 70% left). Round 1 pays $339.75M; round 2
asks $113.25M of $792.75M and the pool holds $108,793,559.45 (its round-1 liquidations repaid $44.79M of USDC,
round 2's $21.25M). It pays that, and the depositors still in are
0.7 x (1 - 108,793,559.45 / 792,750,000) = 0.6039350 of the start, not 0.6; round 3 pays the $4,456,440.55 left
from the liquidity that came back, and 60% are in. Before, round 2's shortfall was a liquidity default, and the
deeper WBTC -31.98% (more repaid in round 1, $116.29M to pay with) none: defaults 2 -> 1 while loss rose $18.6M
(monotone-shipped-wbtc-30-32-full-runs-lag1-capital-500m-defaults and three kept pairs with GBTC and FTT).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import core
from core.engine.withdraw import deposits_value, pool_waits, withdraw
from core.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cascade_rounds import cascade_after  # noqa: E402
from invariants_support import REGRESSIONS, monotone_violation  # noqa: E402

#: The entries whose shallower depth had AAVE_ALT's round-2 liquidity default and the deeper none.
ENTRIES = ("monotone-shipped-wbtc-30-32-full-runs-lag1-capital-500m-defaults",
           "monotone-shipped-gbtc-89-wbtc-30-full-runs-capital-500m-defaults",
           "monotone-shipped-gbtc-wbtc-full-runs-defaults",
           "monotone-shipped-wbtc-ftt-retail-cefi-failed-defaults")
SHALLOW, DEEP = 0.30342017780988845, 0.3198104248827419


def entry(case_id: str) -> dict:
    return next(e for e in json.loads(REGRESSIONS.read_text()) if e["id"] == case_id)


@pytest.fixture(scope="module")
def network():
    return core.datasets.load("crypto-2022-05")


def test_pool_waits_worked_numbers():
    """A pool and a fund, both asked 1/7 of the 70% of depositors left, both paid $108,793,559.45 of $792.75M."""
    c = SimpleNamespace(pass_through=np.array([True, False]))
    kept_before = np.array([[0.7, 0.7]])
    served = kept_before * (1.0 - 1.0 / 7.0)  # every runner paid: 0.6 of the depositors still in
    paid_share = np.full((1, 2), 108_793_559.45 / 792.75e6)
    newly, kept = pool_waits(c, np.array([[True, True]]), kept_before, served, paid_share)  # type: ignore[arg-type]
    assert newly.tolist() == [[False, True]]  # the fund defaults, the pool does not
    assert paid_share[0, 0] == pytest.approx(0.1372356474, abs=1e-10)
    assert kept[0, 0] == pytest.approx(0.6039350468, abs=1e-10)
    assert kept[0, 1] == served[0, 1]  # a defaulted fund is run on no more: its share is the served one
    # paid in full (not short): nothing defaults and nobody waits
    newly, kept = pool_waits(c, np.array([[False, False]]), kept_before, served, paid_share)  # type: ignore[arg-type]
    assert not newly.any() and np.array_equal(kept, served)


def rounds_of(network, sc: Scenario, rounds: int) -> list[dict]:
    """AAVE_ALT each round: what it owed its depositors before and after the run, its tokens' value before it,
    the share of its depositors not yet run on, and whether it has defaulted."""
    row: dict = {}

    def around_withdraw(cascade, r, step, when):
        if step is withdraw:
            c, s, pool = cascade.c, cascade.s, cascade.entity("AAVE_ALT")
            if when == "before":
                row["owed_before"] = float(deposits_value(c, s)[0, pool])
                row["liquidity"] = float((s.H[0, pool] * s.P[0]).sum())
                row["ratio"] = float(s.ratio[0, pool])  # its suppliers' value per dollar of claim (claims_value)
            else:
                row["owed_after"] = float(deposits_value(c, s)[0, pool])
                row["kept"] = float(s.run_kept[0, pool])

    def record(cascade, r):
        out = {**row, "defaulted": bool(cascade.s.defaulted[0, cascade.entity("AAVE_ALT")])}
        row.clear()
        return out

    return cascade_after(network, sc, rounds, each_round=record, each_step=around_withdraw).records


def test_aave_alt_runners_wait_for_the_liquidity_liquidations_return(network):
    base = Scenario.model_validate(entry(ENTRIES[0])["scenario"])
    owed0 = 1_132.5e6
    shallow = rounds_of(network, base.model_copy(update={"price_shocks": {"WBTC": -SHALLOW}}), 5)
    deep = rounds_of(network, base.model_copy(update={"price_shocks": {"WBTC": -DEEP}}), 5)
    for rows in (shallow, deep):
        assert not any(row["defaulted"] for row in rows)
        assert rows[1]["owed_before"] == pytest.approx(owed0, rel=1e-12)
        assert rows[1]["owed_after"] == pytest.approx(0.7 * owed0, rel=1e-12)  # round 1: 30% paid from liquidity
        assert rows[-1]["owed_after"] == pytest.approx(0.6 * owed0, rel=1e-12)  # in all, RUN_SHARE = 40% paid
        assert rows[-1]["kept"] == pytest.approx(0.6, rel=1e-12)
    # Runners are paid their claims' value, the pool's paid ratio (decision 17, withdraw.claims_value): round 1's
    # $339.75M of claims at 0.9995350871 paid $339,592,045.84, $157,954.16 less than at par (before decision 17),
    # which stayed in the pool: round 2 holds $108,951,513.61 (was $108,793,559.45) at the shallower depth
    assert shallow[1]["ratio"] == pytest.approx(0.9995350870984983, abs=1e-12)
    assert shallow[2]["liquidity"] == pytest.approx(108_951_513.61, abs=1.0)
    assert deep[2]["liquidity"] == pytest.approx(116_531_388.73, abs=1.0)  # was $116,288,647.55
    # round 2 asks 1/7 of $792.75M of claims at the ratio 0.9987343063: $113,106,660.40; the shallower pool holds
    # less, pays it all, and its runners wait
    asked = 0.7 * owed0 / 7.0 * shallow[2]["ratio"]
    assert asked == pytest.approx(113_106_660.40, abs=1.0)
    assert shallow[2]["liquidity"] < asked < deep[2]["liquidity"]
    # what it pays settles claims of $108,951,513.61 / 0.9987343063 = $109,089,587.61
    settled = shallow[2]["liquidity"] / shallow[2]["ratio"]
    assert settled == pytest.approx(109_089_587.61, abs=1.0)
    assert shallow[2]["owed_after"] == pytest.approx(0.7 * owed0 - settled, rel=1e-12)
    assert shallow[2]["kept"] == pytest.approx(0.7 * (1.0 - settled / (0.7 * owed0)), rel=1e-12)
    assert deep[2]["owed_after"] == pytest.approx(0.6 * owed0, rel=1e-12) and deep[2]["kept"] == pytest.approx(0.6)
    # round 3: the $4,160,412.39 of claims left is paid from what the round's liquidations returned
    assert shallow[3]["owed_after"] == pytest.approx(0.6 * owed0, rel=1e-12)
    assert shallow[3]["owed_before"] - shallow[3]["owed_after"] == pytest.approx(4_160_412.39, abs=1.0)


@pytest.mark.parametrize("case_id", ENTRIES)
def test_the_entry_line_is_monotone(case_id):
    """At 33 depths along each entry's pair: defaults, loss and bad debt at reference prices never fall."""
    e = entry(case_id)
    depths = e["depths"]
    line = ({a: list(np.linspace(v[0], v[1], 33)) for a, v in depths.items()} if isinstance(depths, dict)
            else list(np.linspace(depths[0], depths[1], 33)))
    v = monotone_violation("shipped", Scenario.model_validate(e["scenario"]), tuple(e["assets"]), line, e["mode"])
    assert v.size == 0.0 and v.detail["defaults_drop"] == 0.0, v.note


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=st.sampled_from(ENTRIES), t=st.floats(0.0, 1.0), dt=st.floats(0.0, 1.0))
def test_a_deeper_shock_on_the_entry_line_never_lowers_defaults_or_loss(case, t, dt):
    """Two depths anywhere on an entry's line, the second deeper."""
    e = entry(case)
    depths = e["depths"]
    u = t + (1.0 - t) * dt

    def at(x: float):
        if isinstance(depths, dict):
            return {a: [v[0] + (v[1] - v[0]) * x] for a, v in depths.items()}
        return [depths[0] + (depths[1] - depths[0]) * x]

    pair = ({a: at(t)[a] + at(u)[a] for a in depths} if isinstance(depths, dict) else at(t) + at(u))
    v = monotone_violation("shipped", Scenario.model_validate(e["scenario"]), tuple(e["assets"]), pair, e["mode"])
    assert v.size == 0.0 and v.detail["defaults_drop"] == 0.0, v.note

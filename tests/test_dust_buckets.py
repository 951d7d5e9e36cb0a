"""Positions against the same book bucketed, and the dust floor between them (issue 16 goal 6).

A cohort is a bucket of positions with one collateral-to-debt ratio. Split into positions of that ratio, every
close-factor rule reads the same (liquidation is homogeneous in the amounts), except Aave v3.3's dust floor
(``core.mechanisms.lender_fees.dust_written_off``, ``DUST_COLLATERAL_USD`` = $1,000): it reads each row's dollars,
so a split position can meet it where its bucket of thousands of positions never does. The equivalence holds
where no position reaches the floor (searched below); where one does, the difference is the rule's own (worked).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, note, settings, strategies as st, target

import core
from core.engine import simulate_batch
from core.mechanisms.lender_fees import DUST_COLLATERAL_USD
from core.mechanisms.lending import liquidate_aave
from core.scenario import Scenario
from benchmark_scripts import load_benchmark

bench = load_benchmark("bench_scale")


def test_floor_fires_on_a_split_position_and_not_on_its_bucket():
    """A bucket of 4 ETH at $2,000 against 7,920 USDC (LT 0.825, HF 0.833 <= 0.95: full close; bonus 5 %), split
    into 1 ETH / 1,980 USDC and 3 ETH / 5,940 USDC (the same ratio). The whole collateral repays 8,000 / 1.05 =
    7,619.05; capital 60 % of it (4,571.43) takes 0.6 of every row's collateral, pro rata.

    Round 1: the small position keeps 0.4 ETH ($800, below the $1,000 floor) against 1,980 - 1,142.86 = 837.14:
    booked as bad debt at once, the $800 left with its borrower. The large one keeps 1.2 ETH ($2,400) against
    2,511.43 and the bucket 1.6 ETH ($3,200) against 3,348.57: above the floor, on the books.
    Round 2 (capital ample): the large position is seized whole, 2,400 / 1.05 = 2,285.71 repaid, 225.71 bad; the
    bucket too, 3,200 / 1.05 = 3,047.62 repaid, 300.95 bad.
    Bad debt: split 837.14 + 225.71 = 1,062.86, bucket 300.95. The difference, 761.90, is the booked dust debt
    (837.14) less the bad debt the bucket's liquidation leaves on that share (837.14 - 761.90 = 75.24): what the
    bucket's liquidation recovers from the small position's 0.4 ETH, 800 / 1.05 = 761.90, which the split leaves
    with its borrower (the repayments differ by the same 761.90)."""
    C, D, P = np.array([1.0, 3.0]), np.array([1980.0, 5940.0]), 2000.0
    cap = 0.6 * 4 * P / 1.05
    split1 = liquidate_aave(C, D, P, 1.0, 0.825, 0.05, capacity_usd=cap)
    bucket1 = liquidate_aave(C.sum(), D.sum(), P, 1.0, 0.825, 0.05, capacity_usd=cap)
    np.testing.assert_allclose(split1.collateral_after * P, [800.0, 2400.0], rtol=1e-12)
    np.testing.assert_allclose(split1.bad_debt, [1980.0 - 0.6 * P / 1.05, 0.0], rtol=1e-12)   # 837.14 booked
    np.testing.assert_allclose(split1.debt_after, [0.0, 5940.0 - 1.8 * P / 1.05], rtol=1e-12)
    assert float(bucket1.collateral_after) * P == pytest.approx(3200.0, rel=1e-12)
    assert float(bucket1.collateral_after) * P > DUST_COLLATERAL_USD > float(split1.collateral_after[0]) * P
    assert float(bucket1.bad_debt) == 0.0
    assert float(bucket1.debt_after) == pytest.approx(7920.0 - 2.4 * P / 1.05, rel=1e-12)       # 3,348.57
    split2 = liquidate_aave(split1.collateral_after, split1.debt_after, P, 1.0, 0.825, 0.05)
    bucket2 = liquidate_aave(bucket1.collateral_after, bucket1.debt_after, P, 1.0, 0.825, 0.05)
    assert not split2.liquidated[0] and float(split2.collateral_after[0]) == pytest.approx(0.4)  # dust stays
    assert float(split2.bad_debt[1]) == pytest.approx(2511.428571428571 - 2400.0 / 1.05, rel=1e-12)  # 225.71
    assert float(bucket2.bad_debt) == pytest.approx(3348.571428571429 - 3200.0 / 1.05, rel=1e-12)    # 300.95
    split_bad = float(split1.bad_debt.sum() + split2.bad_debt.sum())
    bucket_bad = float(bucket1.bad_debt + bucket2.bad_debt)
    assert split_bad == pytest.approx(1062.857142857143, rel=1e-12)
    assert bucket_bad == pytest.approx(300.952380952381, rel=1e-12)
    dust_booked, recovered = float(split1.bad_debt[0]), 800.0 / 1.05
    assert split_bad - bucket_bad == pytest.approx(recovered, rel=1e-12)                           # 761.90
    assert bucket_bad - float(split2.bad_debt[1]) == pytest.approx(dust_booked - recovered, rel=1e-12)  # 75.24
    repaid = (float(split1.debt_repaid.sum() + split2.debt_repaid.sum()), float(bucket1.debt_repaid + bucket2.debt_repaid))
    assert repaid[1] - repaid[0] == pytest.approx(recovered, rel=1e-12)
    # with the floor inert the split is its bucket: the same repayments and bad debt
    with bench.dust_floor(0.0) as calls:
        inert1 = liquidate_aave(C, D, P, 1.0, 0.825, 0.05, capacity_usd=cap)
        inert2 = liquidate_aave(inert1.collateral_after, inert1.debt_after, P, 1.0, 0.825, 0.05)
    assert sum(c[0] for c in calls) == 0
    assert float(inert1.bad_debt.sum() + inert2.bad_debt.sum()) == pytest.approx(bucket_bad, rel=1e-12)


def test_dust_floor_counter_counts_the_rule_and_restores_it():
    """The benchmark's counter (``bench_scale.dust_floor``) sees the rows the rule books with collateral left
    (not the exhausted ones beside them), and puts the rule and its floor back."""
    import core.mechanisms.lender_fees as lender_fees
    import core.mechanisms.close_factor as close_factor  # where the close-factor rule looks the rule up

    rule = close_factor.dust_written_off
    with bench.dust_floor() as calls:
        # liquidators take at most 0.6 ETH of the first row: 0.4 ETH ($800) left against 1,980 - 1,142.86 = 837.14,
        # the rule's; the second row is seized whole (2,500 against $2,000): booked, but not by the rule
        r = liquidate_aave([1.0, 1.0], [1980.0, 2500.0], 2000.0, 1.0, 0.825, 0.05, max_seize=[0.6, np.inf])
    np.testing.assert_allclose(r.bad_debt, [1980.0 - 1200.0 / 1.05, 2500.0 - 2000.0 / 1.05], rtol=1e-12)
    assert len(calls) == 1 and calls[0][0] == 1
    np.testing.assert_allclose(calls[0][1:], [1980.0 - 1200.0 / 1.05, 800.0], rtol=1e-12)
    assert close_factor.dust_written_off is rule and lender_fees.DUST_COLLATERAL_USD == 1000.0
    with bench.dust_floor(0.0) as calls:
        r = liquidate_aave([1.0, 1.0], [1980.0, 2500.0], 2000.0, 1.0, 0.825, 0.05, max_seize=[0.6, np.inf])
    assert calls[0][0] == 0 and float(r.debt_after[0]) == pytest.approx(1980.0 - 1200.0 / 1.05, rel=1e-12)
    assert close_factor.dust_written_off is rule and lender_fees.DUST_COLLATERAL_USD == 1000.0


def _split(net: core.Network, per_cohort: int, seed: int) -> dict[str, pd.DataFrame]:
    """The network's cohorts split into about ``per_cohort`` positions each, every position at its cohort's
    collateral-to-debt ratio (no rounding), tagged with its cohort (``bucket``: :func:`bench_scale.bucketed`)."""
    rng = np.random.default_rng(seed)
    c = net.cohorts
    pick = rng.integers(0, len(c), per_cohort * len(c))
    weight = rng.uniform(0.2, 5.0, pick.size)
    share = weight / np.bincount(pick, weights=weight, minlength=len(c))[pick]
    pos = c.iloc[pick].reset_index(drop=True)
    pos["id"] = [f"P{i:07d}" for i in range(pick.size)]
    pos["collateral_amount"] = pos["collateral_amount"].to_numpy() * share
    pos["debt_amount"] = pos["debt_amount"].to_numpy() * share
    pos["bucket"] = pick
    return {k: v for k, v in net.frames().items() if k != "cohorts"} | {"cohorts": pos}


@st.composite
def bucket_and_split(draw):
    """1-4 cohorts ($10^3-10^7 of collateral at $2,000, debt at 0.5-1.3 of its value, LT 0.825), each split into
    1-60 positions of its ratio with weights 0.2-5; three rounds, each with a price move and liquidators' capital
    a share of the bucketed book's ask."""
    k = draw(st.integers(1, 4))
    value = np.array(draw(st.lists(st.floats(3.0, 7.0), min_size=k, max_size=k)))
    ratio = np.array(draw(st.lists(st.floats(0.5, 1.3), min_size=k, max_size=k)))
    m = draw(st.lists(st.integers(1, 60), min_size=k, max_size=k))
    bucket = np.repeat(np.arange(k), m)
    weight = np.array(draw(st.lists(st.floats(0.2, 5.0), min_size=bucket.size, max_size=bucket.size)))
    share = weight / np.bincount(bucket, weights=weight)[bucket]
    C = 10.0 ** value / 2000.0
    moves = draw(st.lists(st.floats(0.7, 1.1), min_size=3, max_size=3))
    capital = draw(st.lists(st.floats(0.0, 1.2), min_size=3, max_size=3))
    bonus = draw(st.floats(0.02, 0.10))
    return C, C * 2000.0 * ratio, bucket, share, moves, capital, bonus


@settings(max_examples=200, deadline=None, database=None)
@given(bucket_and_split())
def test_split_liquidations_are_their_bucket_s_where_no_position_meets_the_floor(case):
    """Search, on the close-factor rule over three rounds, for a split whose positions' liquidations sum to other
    figures than their bucket's while the floor fires on none of them (it must find none); steered
    (``target``) to the smallest collateral a liquidation leaves a position, towards the floor."""
    C, D, bucket, share, moves, capital, bonus = case
    rows = {"split": (C[bucket] * share, D[bucket] * share), "bucket": (C.copy(), D.copy())}
    sums = {name: np.zeros((4, len(C))) for name in rows}
    hits, closest, price = 0, np.inf, 2000.0
    for move, f in zip(moves, capital):
        price *= move
        ask = float(liquidate_aave(*rows["bucket"], price, 1.0, 0.825, bonus).debt_repaid.sum())
        for name, (coll, debt) in rows.items():
            with bench.dust_floor() as calls:
                r = liquidate_aave(coll, debt, price, 1.0, 0.825, bonus, capacity_usd=f * ask)
            if name == "split":
                hits += calls[0][0]
                left = r.collateral_after[r.liquidated & (r.collateral_after > 0)] * price
                closest = min(closest, float(left.min(initial=np.inf)))
            at = bucket if name == "split" else np.arange(len(C))
            # per cohort: repayments, seizures and bad debt summed over the rounds; the collateral left as it stands
            for i, part in enumerate((r.debt_repaid, r.collateral_seized, r.bad_debt, r.collateral_after)):
                total = np.bincount(at, weights=part, minlength=len(C))
                sums[name][i] = total if i == 3 else sums[name][i] + total
            rows[name] = (r.collateral_after, r.debt_after)
    if np.isfinite(closest):
        target(-np.log10(max(closest, 1e-3)), label="collateral left nearest the floor")
    note(f"floor fired on {hits} positions; least collateral left ${closest:,.2f}")
    if hits == 0:
        scale = C * 2000.0
        np.testing.assert_allclose(sums["split"] / scale, sums["bucket"] / scale, rtol=0, atol=1e-12)
        debt_left = np.bincount(bucket, weights=rows["split"][1], minlength=len(C))
        np.testing.assert_allclose(debt_left / scale, rows["bucket"][1] / scale, rtol=0, atol=1e-12)


@settings(max_examples=6, deadline=None, database=None)
@given(per_cohort=st.integers(1, 150), split_seed=st.integers(0, 9), eth=st.floats(-0.5, -0.2),
       run=st.floats(0.0, 1.0))
def test_positions_are_their_buckets_where_no_position_meets_the_floor(per_cohort, split_seed, eth, run):
    """The same search through the engine: a split of the benchmark's ``synthetic(1,000, 10,000)`` book whose
    cascade differs from the same book bucketed while the dust floor fires on no position (it must find none);
    steered (``target``) to smaller positions, towards the floor (at 50,000 positions, ~120 a cohort, the storm
    puts 58 at it). Where the floor fires, the difference is the rule's: with the floor inert it is gone too."""
    net = _synthetic_1000()
    tagged = _split(net, per_cohort, split_seed)
    positions = core.Network.from_frames(name="positions", **bench._without_bucket(tagged))
    book = core.Network.from_frames(name="bucketed", **bench.bucketed(tagged))
    sc = Scenario(forced_defaults=list(net.entities["id"][:1]), price_shocks={"ETH": eth, "BTC": 0.6 * eth},
                  run_intensity=run, horizon=20)
    with bench.dust_floor() as calls:
        res = simulate_batch(positions, [sc])
    ref = simulate_batch(book, [sc])
    hits = sum(c[0] for c in calls)
    note(f"{len(positions.cohorts)} positions, floor fired on {hits}")
    target(float(per_cohort), label="positions per cohort")
    if hits:
        with bench.dust_floor(0.0):
            res = simulate_batch(positions, [sc])
    diff = bench.largest_difference(res, ref)
    assert max(diff.values()) <= bench.SAME_RESULTS, (hits, diff)


_NET: list[core.Network] = []


def _synthetic_1000() -> core.Network:
    if not _NET:
        _NET.append(core.datasets.synthetic(1000, 10_000, seed=1))
    return _NET[0]

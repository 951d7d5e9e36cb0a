"""Arbitrage positions held to redemption (core.mechanisms.lst_holdings): worked numbers on the June 2022 Curve
stETH pool, and a search that the end price after a fixed total sale does not depend on how the sale is split
across rounds (the arbitrage ratchet of session 11, docs/invariants.md), while a larger total never ends higher.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, target

from core.mechanisms import amm, liquid_staking
from core.mechanisms.lst_holdings import held_arbitrage, held_position

#: June 2022 [estimates, data/crypto-2022-05/pegs.csv]: carry floor and the gap of the June low (0.935).
FLOOR = 1 - float(liquid_staking.carry_floor_discount(1.0, 0.10, 0.04))
GAP_REF = FLOOR / 0.935 - 1
JUNE_POOL = np.array([491e3, 111.3e3])  # ForkLog / CoinDesk, 16-17 June 2022
A = 30.0


def _price(x):
    return float(amm.stableswap_price(x, A, 0, 1))


def _rounds(pool, sales, capital_per_round, fee):
    """The pool after one round per entry of ``sales``, each met by the position of the capital arrived by then."""
    x, held = np.asarray(pool, float), 0.0
    for r, sale in enumerate(sales):
        sold = amm.stableswap_swap(x, A, 0, 1, sale, fee).balances
        x, _, q = held_arbitrage(x, sold, A, FLOOR, FLOOR, capital_per_round * (r + 1), GAP_REF, held=held, fee=fee)
        held += float(q)
    return x, held


def test_worked_numbers_june_pool():
    """100k stETH sold into the June pool with 20k ETH a day of capital at the June low's gap.

    One day: the sale alone leaves 0.5519; the pool ends at 0.9118 of ETH, where the position the price draws,
    20k x (0.94545/0.91183 - 1) / 1.118 % = 65.95k ETH's worth, is the 72.33k stETH bought (at 0.9118); the
    arbitrageurs paid 56.38k ETH (they buy back, in the same round, part of what the sellers sold at the
    trough). The same 100k sold as 50k on each of two days, or in one day followed by a quiet day, ends at
    0.92595: two days of capital (40k) holding 81.4k stETH. Before (the ratchet,
    core.mechanisms.lst_arbitrage.netted_arbitrage capped at the round's opening price), the one-day sale ended
    at 0.9156 and stayed there, and the split sale ended at 0.9246."""
    sold = amm.stableswap_swap(JUNE_POOL, A, 0, 1, 100e3).balances
    one, paid, q = held_arbitrage(JUNE_POOL, sold, A, FLOOR, FLOOR, 20e3, GAP_REF)
    p = _price(one)
    assert _price(sold) == pytest.approx(0.55188, abs=1e-5) and p == pytest.approx(0.91183, abs=1e-5)
    assert float(q) * p == pytest.approx(20e3 * (FLOOR / p - 1) / GAP_REF, rel=1e-9)
    assert float(q) == pytest.approx(float(held_position(p, FLOOR, 20e3, 1.0, GAP_REF)), rel=1e-12)
    assert round(float(q)) == 72_330 and round(float(paid)) == 56_381
    split, held_split = _rounds(JUNE_POOL, [50e3, 50e3], 20e3, 0.0004)
    quiet, held_quiet = _rounds(JUNE_POOL, [100e3, 0.0], 20e3, 0.0004)
    assert _price(split) == pytest.approx(0.92595, abs=1e-5) and _price(quiet) == pytest.approx(0.92596, abs=1e-5)
    assert held_split == pytest.approx(81.37e3, rel=1e-4) and held_quiet == pytest.approx(81.36e3, rel=1e-4)
    # the position never lifts the pool above the floor, and enough capital holds it there (to 1.1e-6: the
    # pool's marginal price against its swaps, as core.mechanisms.lst_arbitrage.netted_arbitrage's 1.0e-6)
    at_floor, _, _ = held_arbitrage(JUNE_POOL, sold, A, FLOOR, FLOOR, 1e9, GAP_REF)
    assert _price(at_floor) == pytest.approx(FLOOR, rel=2e-6) and _price(at_floor) <= FLOOR


def test_held_position_is_never_sold_back():
    """A pool above the price the position draws (a position bought with more capital than now arrives): nothing
    is sold back into it, the pool stays."""
    sold = amm.stableswap_swap(JUNE_POOL, A, 0, 1, 10e3).balances
    end, paid, q = held_arbitrage(JUNE_POOL, sold, A, FLOOR, FLOOR, 1e3, GAP_REF, held=1e6)
    np.testing.assert_array_equal(end, sold)
    assert float(paid) == 0.0 and float(q) == 0.0


@settings(max_examples=80, deadline=None)
@given(total=st.floats(1e3, 1.5e6), shares=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6),
       capital=st.floats(1e3, 2e5), more=st.floats(0.0, 0.5), fee=st.sampled_from([0.0, 0.0004]))
def test_end_price_does_not_depend_on_the_split(total, shares, capital, more, fee):
    """A fixed total sale into the June pool split across rounds in any shares ends, after the same rounds, at the
    price of the whole sale in the first round, within 1e-9 of it without fee and 2e-4 with Curve's 0.04 % (the
    fee is paid on each round's net flow: the invariant grows with the path); and a larger total never ends
    higher (relative slack 1e-9). LP withdrawals are off (they thin the pool by each round's imbalance, a path
    the engine adds on top)."""
    w = np.asarray(shares) + 1e-12
    rounds = len(w)
    split = total * w / w.sum()
    whole = [total] + [0.0] * (rounds - 1)
    a, _ = _rounds(JUNE_POOL, list(split), capital, fee)
    b, _ = _rounds(JUNE_POOL, whole, capital, fee)
    c, _ = _rounds(JUNE_POOL, [total * (1 + more)] + [0.0] * (rounds - 1), capital, fee)
    pa, pb, pc = _price(a), _price(b), _price(c)
    tol = 1e-9 if fee == 0.0 else 2e-4
    target(abs(pa - pb) / pb, label="split against whole, relative")
    assert abs(pa - pb) <= tol * pb, (pa, pb)
    assert pc <= pb * (1 + 1e-9)
    # arbitrage never lifts a price above the floor (a sale too small to take the pool below it is not met)
    bare = _price(amm.stableswap_swap(JUNE_POOL, A, 0, 1, total, fee).balances)
    assert pb <= max(FLOOR, bare) * (1 + 1e-9)

"""Arrays known to be all +0.0 (core.engine.known_zeros): the fact is exact, enforced, and moves no result.

* found or made known: only +0.0 bits count (-0.0 does not), an array owning its memory is frozen (a write fails
  instead of leaving a stale answer), a view is answered but never remembered;
* a known array's rows (``take_rows``, ``stacked_zeros``) are the same bits as the rows copied;
* a Monte Carlo whose Maker auctions start in some draws (the slots then in use) and stay empty in others gives the
  same tables, bit for bit, with the registry switched off (every question a pass, every row copied).
"""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest

import core.engine.known_zeros as kz
import core.engine.maker_book as maker_book
import core.engine.staged as staged
import core.montecarlo as mc
from core import datasets
from core.chunks import engine_threads


def test_only_positive_zero_is_known_and_a_known_array_is_frozen():
    x = np.zeros((3, 2, 4))
    assert not kz.known_zero(x)
    assert kz.all_zero(x) and kz.known_zero(x)
    assert not x.flags.writeable
    with pytest.raises(ValueError):
        x[0, 0, 0] = 1.0  # a write into a remembered array fails loudly
    neg = np.zeros((3, 2, 4))
    neg[1, 1, 2] = -0.0  # == 0.0, but its sign bit is set: a sum of -0.0 alone stays -0.0
    assert not kz.all_zero(neg) and not kz.known_zero(neg) and neg.flags.writeable
    one = np.zeros(5)
    one[4] = 5e-324  # the smallest subnormal: not zero
    assert not kz.all_zero(one)


def test_a_view_is_answered_but_not_remembered():
    base = np.zeros((4, 6))
    view = base[:, :3]
    assert kz.all_zero(view)
    assert not kz.known_zero(view) and view.flags.writeable and base.flags.writeable
    base[0, 0] = 2.0  # the base may still be written: so the view was not remembered
    assert not kz.all_zero(view)


def test_known_rows_are_the_rows_copied():
    z = kz.zeros((5, 6, 31))
    assert kz.known_zero(z) and z.dtype == np.float64 and not z.flags.writeable
    idx = np.array([4, 0, 2])
    rows = kz.take_rows(z, idx)
    assert kz.known_zero(rows) and rows.shape == (3, 6, 31)
    assert rows.tobytes() == np.zeros((5, 6, 31)).take(idx, axis=0).tobytes()
    plain = np.arange(30.0).reshape(5, 6)
    assert np.array_equal(kz.take_rows(plain, idx), plain.take(idx, axis=0)) and not kz.known_zero(plain)
    both = kz.stacked_zeros([z, kz.zeros((2, 6, 31))], 7)
    assert both is not None and both.shape == (7, 6, 31) and kz.known_zero(both) and not both.any()
    assert kz.stacked_zeros([z, np.zeros((2, 6, 31))], 7) is None  # one of them not known: copied as before
    ints = kz.zeros((4, 3), np.int64)
    assert kz.take_rows(ints, np.array([1, 3])).dtype == np.int64


def test_a_freed_array_leaves_the_registry():
    z = kz.zeros((2, 3))
    key = id(z)
    assert key in kz._KNOWN
    del z
    assert key not in kz._KNOWN


def test_repeated_reference_row():
    assert kz.known_zero(kz.repeated(np.zeros(4), 3)) and kz.repeated(np.zeros(4), 3).shape == (3, 4)
    row = np.array([0.0, 0.25, 0.0])
    rows = kz.repeated(row, 2)
    assert not kz.known_zero(rows) and rows.flags.writeable and rows.tolist() == [[0.0, 0.25, 0.0]] * 2
    assert not kz.known_zero(kz.repeated(np.array([0.0, -0.0]), 2))  # -0.0 is not +0.0


def test_the_fields_that_start_empty_are_known_on_the_2022_network():
    """The Maker slots, a run's withdrawals, pooled collateral's cover and hand-backs, redemptions, forced and
    liquidation losses start as known zeros (the 2022 network has no auction cohort: its spreads are 0 too); the
    state's other fields do not, and the first round's shock with no forced default keeps ``shock_loss`` known."""
    from core.engine import compile_network, scenario_batch
    from core.engine.exogenous import exogenous
    from core.engine.state import initial_state
    from core.montecarlo_spec import MonteCarloSpec

    net = datasets.load("crypto-2022-05")
    c = compile_network(net)
    b = scenario_batch(net, [MonteCarloSpec().base], repeat=3)
    s = initial_state(c, b)
    known = {"maker_tab", "maker_lot", "maker_top", "maker_elapsed", "maker_due", "maker_raised", "run_units", "run_out",
             "pooled_free", "redeemed_usd", "pooled_cover", "shock_loss", "liq_loss", "auction_spread"}
    for name in known:
        assert kz.known_zero(getattr(s, name)) and not getattr(s, name).flags.writeable, name
    for name in ("bad", "bad_units", "run_loss", "H", "coll", "maker_free", "run_cash"):
        assert not kz.known_zero(getattr(s, name)) and getattr(s, name).flags.writeable, name
    assert not b.forced.any()
    assert kz.known_zero(exogenous(c, s, b, 0)["shock_loss"])


STRESS = {"dist": "t", "df": 3, "vol_multiplier": 3}


def test_monte_carlo_is_the_same_without_the_registry(monkeypatch):
    """2,400 stressed runs on the 2022 network, one engine thread (parts of 1,200 rows, gathered for the last
    rounds): some draws start Maker auctions (a slot array found in use), others leave every slot empty (a gather
    of known slots); the registry off gives every table the same bits."""
    net = datasets.load("crypto-2022-05")
    seen: collections.Counter = collections.Counter()
    answer, stacked = maker_book.all_zero, staged.stacked_zeros

    def counted_answer(x):
        out = answer(x)
        seen["unused" if out else "in use"] += 1
        return out

    def counted_stack(values, rows):
        out = stacked(values, rows)
        seen["stacked known" if out is not None else "stacked copied"] += 1
        return out

    monkeypatch.setattr(maker_book, "all_zero", counted_answer)
    monkeypatch.setattr(staged, "stacked_zeros", counted_stack)
    with engine_threads(1):
        on = mc.run_montecarlo(net, STRESS, runs=2400, seed=4)
    assert seen["in use"] > 0 and seen["unused"] > 0 and seen["stacked known"] > 0
    monkeypatch.setattr(kz, "known_zero", lambda x: False)
    monkeypatch.setattr(kz, "remember", lambda x: x)
    with engine_threads(1):
        off = mc.run_montecarlo(net, STRESS, runs=2400, seed=4)
    for name in ("risk", "entities", "paths", "losses", "convergence"):
        pd.testing.assert_frame_equal(getattr(on, name), getattr(off, name), check_exact=True)

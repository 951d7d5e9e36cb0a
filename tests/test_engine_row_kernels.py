"""The per-row kernels the engine uses in place of numpy's general forms give the same bits (session 21).

Each is checked against the form it replaces on arrays searched by hypothesis, signed zeros, infinities and
NaN among the values: a faster form that moved one bit would move a Monte Carlo's results.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import core
from core.engine import compile_network
from core.engine.maker_book import SLOT_SUM_ROWS, maker_columns, secured_units, slot_sum, unused_slots

VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, -0.0, 1e-300, -1e300, 5e-324]))


def bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.uint8)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, SLOT_SUM_ROWS + 40), st.integers(1, 12), st.integers(1, 40), st.data())
def test_slot_sum_is_numpys_sum_over_the_slots(rows, slots, m, data):
    x = data.draw(arrays(np.float64, (rows, slots, m), elements=VALUES))
    assert np.array_equal(bits(slot_sum(x)), bits(x.sum(1)))
    # a layout numpy sums otherwise (one cohort: the slots contiguous, summed pairwise; a strided view) is left to it
    assert np.array_equal(bits(slot_sum(x[:, :, :1])), bits(x[:, :, :1].sum(1)))
    assert np.array_equal(bits(slot_sum(x[:, ::-1])), bits(x[:, ::-1].sum(1)))


def test_one_cohort_counterexample():  # hypothesis' find: 128 rows, 8 slots, one cohort, 1.8e15 each
    x = np.full((SLOT_SUM_ROWS, 8, 1), 1.8014398509481984e15) * (1 + np.arange(8) * 2.0 ** -52)[None, :, None]
    assert np.array_equal(bits(slot_sum(x)), bits(x.sum(1)))


def test_slot_sum_of_negative_zeros_is_positive_zero():
    x = np.full((SLOT_SUM_ROWS, 6, 3), -0.0)
    assert not np.signbit(slot_sum(x)).any() and not np.signbit(x.sum(1)).any()


def _reference_secured(c, coll, free, lot):  # the form before session 21: fancy indices, numpy's sum
    if not free.any():
        return coll
    out = coll.copy()
    M = c.maker.cohorts
    out[:, M] -= np.minimum(free, np.maximum(out[:, M] - lot.sum(1), 0.0))
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(1, SLOT_SUM_ROWS + 20), st.integers(0, 2**32 - 1))
def test_secured_units_slice_and_indices_give_the_reference_bits(rows, seed):
    c = compile_network(core.datasets.load("crypto-2022-05"))
    assert isinstance(maker_columns(c), slice)  # the shipped network's Maker cohorts are contiguous
    rng = np.random.default_rng(seed)
    m = c.maker.m
    coll = rng.random((rows, len(c.c_ca))) * 10.0 ** rng.integers(-3, 9, (rows, len(c.c_ca)))
    free = np.where(rng.random((rows, m)) < 0.4, rng.random((rows, m)) * 1e6, 0.0)
    lot = np.where(rng.random((rows, 6, m)) < 0.2, rng.random((rows, 6, m)) * 1e6, -0.0)
    want = _reference_secured(c, coll, free, lot)
    assert np.array_equal(bits(secured_units(c, coll, free, lot)), bits(want))
    # the same network with its cohorts as indices (a table listing an ilk's cohorts apart)
    spread_out = SimpleNamespace(maker=c.maker, __dict__={})
    spread_out.__dict__["maker_columns"] = c.maker.cohorts
    assert np.array_equal(bits(secured_units(spread_out, coll, free, lot)), bits(want))


def test_unused_slots_is_every_slot_positive_zero():
    x = np.zeros((5, 6, 31))
    assert unused_slots(x) and unused_slots(x[:, ::-1]) and unused_slots(np.zeros((0, 6, 31)))
    assert not x.flags.writeable  # found unused: frozen and remembered (core.engine.known_zeros)
    x = np.zeros((5, 6, 31))
    x[3, 2, 7] = -0.0  # a zero, but not +0.0: the slots' passes run
    assert not unused_slots(x) and x.flags.writeable
    x[3, 2, 7] = 5e-324
    assert not unused_slots(x)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, SLOT_SUM_ROWS + 20), st.integers(0, 2**32 - 1), st.sampled_from(["idle", "negative zero", "live"]))
def test_vault_books_without_auctions_give_the_slots_sums_bits(rows, seed, kind):
    """The Maker vaults' books with no auction anywhere (every slot +0.0: no slot pass) are the books the slots'
    sums give (maker_book.unused_slots forced off), to the last bit; so are they with a -0.0 or a live slot."""
    net = core.datasets.load("crypto-2022-05")
    c = compile_network(net)
    from core.engine.state import initial_state
    import core.engine.maker_book as maker_book
    import core.montecarlo as mc
    b = mc.scenario_batch(net, mc.parse_spec({}).base, repeat=rows)
    s = initial_state(c, b)
    rng = np.random.default_rng(seed)
    s.coll = s.coll * rng.uniform(0.5, 1.5, s.coll.shape)
    if kind == "negative zero":
        s.maker_due = s.maker_due.copy()
        s.maker_due[rng.integers(rows), 0, 0] = -0.0
        s.maker_lot = -s.maker_lot
    elif kind == "live":
        s.maker_due = rng.uniform(0, 1e6, s.maker_due.shape) * (rng.random(s.maker_due.shape) < 0.1)
        s.maker_lot = rng.uniform(0, 1e3, s.maker_lot.shape) * (rng.random(s.maker_lot.shape) < 0.1)
    fast = maker_book.vault_books(c, s, b)
    original = maker_book.unused_slots
    try:
        maker_book.unused_slots = lambda x: False
        slow = maker_book.vault_books(c, s, b)
    finally:
        maker_book.unused_slots = original
    for name in ("coll", "debt", "outstanding", "free", "ink", "vault_debt"):
        assert np.array_equal(bits(getattr(fast, name)), bits(getattr(slow, name))), name

"""``core.pages.written_once`` keeps a freed mapping for the next request of its size: a result's tables are
the same, to the bit, whether its memory is fresh or kept from a dropped result, and a live result's memory is
never given out again."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
from core import datasets, pages
from core.scenario import Scenario

TABLES = ("rounds", "prices", "totals", "nodes", "paths", "summary", "perps")


@pytest.fixture(autouse=True)
def empty_pool():
    gc.collect()
    pages._KEPT.clear()
    yield
    pages._KEPT.clear()


def test_a_freed_mapping_is_kept_zeroed_and_given_to_its_size_only():
    a = pages.written_once((3, 1_000_000))
    a[:] = 7.0
    view = a[1:]
    del a
    assert pages._KEPT == []  # a view still uses it
    del view
    assert [len(m) for m in pages._KEPT] == [24_000_000]
    other = pages.written_once((2, 1_000_000))  # another size: fresh memory
    assert len(pages._KEPT) == 1 and float(other.sum()) == 0.0
    b = pages.written_once((1_000_000, 3))  # the same bytes: the kept mapping, zeroed
    assert pages._KEPT == [] and b.shape == (1_000_000, 3) and not b.any()
    c = pages.written_once((3, 1_000_000))  # b is alive: fresh memory, never b's
    assert not np.may_share_memory(b, c) and not c.any()
    b[:] = 1.0
    assert not c.any()


def test_kept_mappings_never_exceed_the_cap(monkeypatch):
    monkeypatch.setattr(pages, "KEPT_BYTES", 50_000_000)
    arrays = [pages.written_once((3, 1_000_000)) for _ in range(3)]  # 24 MB each
    del arrays
    assert [len(m) for m in pages._KEPT] == [24_000_000, 24_000_000]
    big = pages.written_once((8, 1_000_000))  # 64 MB: above the cap, never kept
    del big
    assert sum(map(len, pages._KEPT)) <= 50_000_000


def _tables(res) -> dict[str, pd.DataFrame]:
    return {t: getattr(res, t).copy(deep=True) for t in TABLES}


def _assert_equal(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for t in TABLES:
        pd.testing.assert_frame_equal(got[t], want[t], check_exact=True, obj=t)
        pd.testing.assert_index_equal(got[t].index, want[t].index, exact=True, check_exact=True, obj=f"{t}.index")


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.floats(0.05, 0.9), other=st.floats(0.05, 0.9), run=st.floats(0.0, 1.0))
def test_tables_on_kept_memory_equal_those_on_fresh_memory(seed, depth, run, other):
    # 3,000 entities x 20 rounds: the rounds block is 4.8 MB, above SMALL_PAGES_FROM (taken from a mapping)
    net = datasets.synthetic(3_000, 18_000, seed=seed % 5)
    ids = net.entities["id"].astype(str).tolist()
    sc = Scenario(price_shocks={"ETH": -depth, "BTC": -depth / 2}, run_intensity=run, forced_defaults=ids[:3], horizon=20)
    live = core.simulate(net, Scenario(price_shocks={"ETH": -other}, horizon=20))
    live_tables = _tables(live)
    gc.collect()
    pages._KEPT.clear()
    fresh = core.simulate(net, sc)
    want = _tables(fresh)
    del fresh
    gc.collect()
    kept = len(pages._KEPT)
    assert kept, "the dropped result's mappings are kept"
    again = core.simulate(net, sc)  # on the dropped result's memory
    assert len(pages._KEPT) < kept
    _assert_equal(_tables(again), want)
    _assert_equal(_tables(live), live_tables)  # a live result's memory is never given out again

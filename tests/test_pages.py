"""core.pages' maps kept for reuse: a map is handed out again only once no array over it is left, within the
pool's bound, and a run written into a reused map gives the tables a fresh one gives."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

import core
from core import pages
from core.pages import SMALL_PAGES_FROM, written_once

_LARGE = (SMALL_PAGES_FROM // 8 + 1,)  # floats: one map each


def _map_of(a: np.ndarray):
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root.base.memory


@pytest.fixture(autouse=True)
def empty_pool():
    pages._POOL.clear()
    yield
    pages._POOL.clear()


def test_a_map_goes_back_to_the_pool_with_its_last_view_and_only_then():
    a = written_once(_LARGE)
    memory = _map_of(a)
    view = a[10:20]
    del a
    gc.collect()
    assert memory not in pages._POOL.maps  # a view still uses it
    b = written_once(_LARGE)
    assert not np.shares_memory(b, view)
    view[:] = 7.0
    b[:] = 1.0
    assert (view == 7.0).all()
    del view
    gc.collect()
    assert pages._POOL.maps == [memory]
    c = written_once(_LARGE)  # the same size: the kept map
    assert _map_of(c) is memory and pages._POOL.maps == []
    assert not np.shares_memory(b, c)


def test_live_arrays_never_share_a_map():
    arrays = [written_once(_LARGE) for _ in range(3)]
    del arrays[1]
    arrays += [written_once(_LARGE), written_once(_LARGE)]
    for i, x in enumerate(arrays):
        for y in arrays[i + 1:]:
            assert not np.shares_memory(x, y)


def test_only_maps_of_one_to_two_times_the_size_are_taken():
    big = written_once((4 * _LARGE[0],))
    del big
    gc.collect()
    small = written_once(_LARGE)  # a quarter of the kept map: a fresh one
    assert len(pages._POOL.maps) == 1 and not np.shares_memory(small, pages._POOL.maps[0])


def test_the_pool_keeps_at_most_its_bound(monkeypatch):
    size = written_once(_LARGE).nbytes
    monkeypatch.setattr(pages, "POOL_BYTES", 2 * size + pages._PAGE * 4)
    arrays = [written_once(_LARGE) for _ in range(4)]
    arrays.clear()
    gc.collect()
    assert len(pages._POOL.maps) == 2
    assert sum(map(len, pages._POOL.maps)) <= pages.POOL_BYTES


def test_a_run_written_into_a_reused_map_has_the_tables_of_a_fresh_one():
    net = core.datasets.synthetic(5_000, 50_000, seed=2)  # a rounds block of 5.3 MB (12 rounds): a map
    sc = core.Scenario(forced_defaults=list(net.entities["id"][:3]), price_shocks={"ETH": -0.4}, run_intensity=0.5)
    # the map's first user a different, longer and deeper run, so that what a reused map holds where the second
    # run writes nothing differs from a fresh map's zeros (the same run twice would write the same numbers)
    other = core.Scenario(forced_defaults=list(net.entities["id"][3:9]), price_shocks={"ETH": -0.7, "BTC": -0.5},
                          run_intensity=1.0, horizon=20)
    first = core.simulate(net, other)
    assert not pages._POOL.maps and len(first.rounds)
    del first
    gc.collect()
    kept = list(pages._POOL.maps)
    assert kept  # the first run's rounds block came back
    again = core.simulate(net, sc)  # written into the map the other run left (with its numbers in it)
    assert not any(m in pages._POOL.maps for m in kept)
    pages._POOL.clear()
    fresh = core.simulate(net, sc)
    for t in ("rounds", "prices", "totals", "nodes", "paths", "summary", "perps"):
        pd.testing.assert_frame_equal(getattr(again, t), getattr(fresh, t), check_exact=True)


def test_threads_taking_and_giving_back_maps_never_share_a_live_one():
    import threading

    failures = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        live = []
        for _ in range(40):
            if live and rng.random() < 0.5:
                live.pop(int(rng.integers(len(live))))
            else:
                a = written_once(_LARGE)
                a[:: 4096] = seed  # one float a page
                live.append(a)
            if any((x[:: 4096] != seed).any() for x in live):  # another thread wrote into a live array's map
                failures.append(seed)
                return

    threads = [threading.Thread(target=work, args=(s,)) for s in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sum(map(len, pages._POOL.maps)) <= pages.POOL_BYTES


@pytest.mark.skipif(pages._SET_HUGEPAGE is None, reason="this numpy has no huge-page switch")
def test_small_pages_turns_the_advice_off_inside_and_back_after_nested_and_raising():
    switch = pages._SET_HUGEPAGE
    before = bool(switch(True))
    try:
        with pages.small_pages():
            assert switch(False) is False  # off inside (reading the switch sets it: set it as it was)
            with pages.small_pages():
                assert switch(False) is False
            assert switch(False) is False  # the inner block's end leaves the outer's setting
            with pytest.raises(RuntimeError):
                with pages.small_pages():
                    raise RuntimeError
            assert switch(False) is False
        assert switch(True) is True  # back as it was once the last block ends
        switch(False)
        with pages.small_pages():
            pass
        assert switch(False) is False  # a switch that was off stays off
    finally:
        switch(before)

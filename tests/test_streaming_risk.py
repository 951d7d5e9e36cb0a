"""Streamed Monte Carlo risk (core/streaming_risk.py): the sketch's error bound against the exact figures,
exact merging, the fold's moments, and a streamed Monte Carlo against the exact one on the shipped network."""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import core.backends
import core.montecarlo
import core.montecarlo_chunks
import core.streaming_risk
from core import datasets
from core.chunks import engine_threads
from core.engine import compile_network
from core.montecarlo import RISK_QUANTITIES, expected_shortfall, run_montecarlo, value_at_risk
from core.streaming_risk import (BUCKETS, MAX_USD, MIN_USD, RELATIVE_ACCURACY, Moments, RiskFold, bucket_index, bucket_value,
                                 sketch_es, sketch_var, sparse_counts)

# the bound's own rounding: log/exp of the bucket edges are exact to a few ulps
SLACK = 1 + 1e-9

losses = arrays(np.float64, st.integers(1, 400),
                elements=st.one_of(st.floats(-1e12, 1e12), st.sampled_from([0.0, 1e-3, MIN_USD, 5e9, -MIN_USD])))
confidence = st.floats(0.5, 0.999)


def dense(x: np.ndarray) -> np.ndarray:
    out = np.zeros(BUCKETS, dtype=np.int64)
    keys, counts = sparse_counts(x)
    out[keys] += counts
    return out


@settings(max_examples=300, deadline=None)
@given(losses)
def test_every_value_is_within_the_relative_accuracy_of_its_bucket(x):
    rep = bucket_value(bucket_index(x))
    small = np.abs(x) < MIN_USD
    assert np.all(rep[small] == 0.0)
    assert np.all(np.abs(rep[~small] - x[~small]) <= RELATIVE_ACCURACY * np.abs(x[~small]) * SLACK)
    # buckets are ordered like the values
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(bucket_index(x)[order]) >= 0)


@settings(max_examples=300, deadline=None)
@given(losses, confidence)
def test_sketch_var_and_es_are_within_the_stated_bound_of_the_exact_ones(x, a):
    counts = dense(x)
    var, exact_var = sketch_var(counts, a), value_at_risk(x, a)
    assert abs(var - exact_var) <= RELATIVE_ACCURACY * abs(exact_var) * SLACK + MIN_USD
    es, exact_es = sketch_es(counts, a), expected_shortfall(x, a)
    # the mean of the worst absolute values bounds the weighted error of the values ES averages
    w = len(x) * (1 - a)
    worst = np.sort(np.abs(x))[::-1]
    scale = max(worst[: max(1, math.ceil(w))].mean(), abs(exact_es))
    assert abs(es - exact_es) <= RELATIVE_ACCURACY * scale * SLACK + MIN_USD


def test_worked_example_one_to_a_hundred():
    x = np.arange(1.0, 101.0)
    counts = dense(x)
    assert abs(sketch_var(counts, 0.95) - 95.0) <= 95.0 * RELATIVE_ACCURACY
    assert abs(sketch_es(counts, 0.95) - 98.0) <= 100.0 * RELATIVE_ACCURACY
    assert sketch_var(counts, 0.95) != 95.0          # a sketch, not the exact order statistic


#: ``losses`` in :class:`Moments`' documented domain: a value below 1e-140 in magnitude becomes 0. Outside it (every
#: value near 1e-156, the deviations' squares subnormal) neither ``Moments`` nor numpy's ``std`` keeps more than a
#: few bits, and the comparison below failed on random draws (kept in the test after this one). With every nonzero
#: value at least 1e-140, a deviation that squares into a subnormal moves the standard error by at most
#: ~2e-161, far inside the comparison's absolute 1e-12 of the largest value (>= 1e-152).
moment_losses = arrays(np.float64, st.integers(1, 400),
                       elements=st.one_of(st.floats(-1e12, 1e12), st.sampled_from([0.0, 1e-3, MIN_USD, 5e9, -MIN_USD]))
                       .map(lambda v: v if abs(v) >= 1e-140 else 0.0))


@settings(max_examples=100, deadline=None)
@given(moment_losses, st.integers(0, 400))
def test_sketches_and_moments_merge_exactly(x, cut):
    cut = min(cut, len(x))
    np.testing.assert_array_equal(dense(x[:cut]) + dense(x[cut:]), dense(x))
    m = Moments.of(x[:cut]).merge(Moments.of(x[cut:]))
    assert m.count == len(x)
    assert m.mean == pytest.approx(float(np.mean(x)), rel=1e-12, abs=1e-12 * np.abs(x).max())
    if len(x) > 1:
        assert m.standard_error() == pytest.approx(float(x.std(ddof=1) / math.sqrt(len(x))), rel=1e-9,
                                                   abs=1e-12 * np.abs(x).max())


def test_moments_below_their_domain_keep_the_subnormal_precision():
    """The draw that failed the merge test at random: [7.36e-162, 0, 0] cut at 0. Its deviations from the mean
    (4.9e-162, -2.5e-162) square to 2.4e-323 and 6e-324, subnormal numbers a few ulps (4.9e-324) wide: the
    merged ``m2`` is the exact sum of squares to within one such ulp per value (the standard error 2.2228e-162,
    the exact one), while numpy's ``std`` (2.5666e-162) is 15% off; count and mean stay exact."""
    x = np.array([7.36096545e-162, 0.0, 0.0])
    m = Moments.of(x[:0]).merge(Moments.of(x))
    exact_mean = sum(Fraction(v) for v in x) / len(x)
    exact_m2 = sum((Fraction(v) - exact_mean) ** 2 for v in x)
    assert m.count == 3 and m.mean == float(exact_mean)
    assert abs(Fraction(m.m2) - exact_m2) <= len(x) * Fraction(2.0 ** -1074)
    assert m.standard_error() == pytest.approx(math.sqrt(float(exact_m2) / 6), rel=1e-3)


def test_a_loss_that_cannot_be_streamed_is_named():
    with pytest.raises(ValueError, match="inf"):
        bucket_index(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="at most"):
        bucket_index(np.array([10 * MAX_USD]))


# -- a streamed Monte Carlo ------------------------------------------------------------------------

STRESS = {"dist": "t", "df": 3, "vol_multiplier": 3}


@pytest.fixture(scope="module")
def net():
    return datasets.default()


@pytest.fixture(scope="module")
def pair(net):
    exact = run_montecarlo(net, STRESS, runs=2000, seed=5, chunk_size=300)
    streamed = run_montecarlo(net, STRESS, runs=2000, seed=5, chunk_size=300, streaming=True)
    return exact, streamed


def test_streamed_entities_and_paths_are_bit_identical_to_the_exact_run(pair):
    exact, streamed = pair
    pd.testing.assert_frame_equal(exact.entities, streamed.entities, check_exact=True)
    pd.testing.assert_frame_equal(exact.paths, streamed.paths, check_exact=True)


def test_streamed_risk_table_is_within_the_sketch_bound(pair):
    exact, streamed = pair
    assert list(streamed.risk.columns) == list(exact.risk.columns)
    assert len(streamed.losses) == 0 and list(streamed.losses.columns) == list(exact.losses.columns)
    e, s = exact.risk, streamed.risk
    np.testing.assert_array_equal(e[["quantity", "metric"]].to_numpy(), s[["quantity", "metric"]].to_numpy())
    for (_, re_), (_, rs) in zip(e.iterrows(), s.iterrows()):
        if re_["metric"] == "mean":
            assert rs["value"] == pytest.approx(re_["value"], rel=1e-12, abs=1e-6)
            assert rs["standard_error"] == pytest.approx(re_["standard_error"], rel=1e-9, abs=1e-6)
        elif re_["metric"] == "VaR":
            assert abs(rs["value"] - re_["value"]) <= RELATIVE_ACCURACY * abs(re_["value"]) * SLACK + MIN_USD
        else:
            x = np.sort(np.abs(exact.losses[re_["quantity"]].to_numpy()))[::-1]
            scale = max(x[: max(1, math.ceil(len(x) * (1 - re_["confidence"])))].mean(), abs(re_["value"]))
            assert abs(rs["value"] - re_["value"]) <= RELATIVE_ACCURACY * scale * SLACK + MIN_USD
    # sectioning's standard errors: positive and of the bootstrap's order where the tail is smooth
    loss = s[(s["quantity"] == "system_loss_usd") & (s["metric"] != "mean")]
    boot = e[(e["quantity"] == "system_loss_usd") & (e["metric"] != "mean")]
    ratio = loss["standard_error"].to_numpy() / boot["standard_error"].to_numpy()
    assert np.all((ratio > 0.25) & (ratio < 4)), ratio
    assert streamed.meta["streaming"]["sections"] == 20


def test_streamed_convergence_follows_the_exact_checkpoints(pair):
    exact, streamed = pair
    c, s = exact.convergence, streamed.convergence
    np.testing.assert_array_equal(c["runs"], s["runs"])
    np.testing.assert_allclose(s["mean_loss_usd"], c["mean_loss_usd"], rtol=1e-12)
    np.testing.assert_allclose(s["p_any_default"], c["p_any_default"], rtol=0, atol=0)
    assert np.all(np.abs(s["var_99_loss_usd"] - c["var_99_loss_usd"])
                  <= RELATIVE_ACCURACY * np.abs(c["var_99_loss_usd"]) * SLACK + MIN_USD)


def test_streamed_result_is_the_same_for_every_chunk_size_and_backend(net, pair):
    _, streamed = pair
    for kwargs in ({"chunk_size": 100}, {"chunk_size": 1000}, {"chunk_size": 200, "backend": "processes", "workers": 2}):
        other = run_montecarlo(net, STRESS, runs=2000, seed=5, streaming=True, **kwargs)
        for name in ("risk", "entities", "paths", "convergence"):
            pd.testing.assert_frame_equal(getattr(streamed, name), getattr(other, name), check_exact=True)


#: The streamed run's own code: what a streamed Monte Carlo holds between its chunks is allocated here (the fold's
#: sketches, moments, section estimates and convergence rows; the chunk list; the backend's bookkeeping).
STREAMING_FILES = tuple(m.__file__ for m in (core.montecarlo, core.montecarlo_chunks, core.streaming_risk,
                                               core.backends))


def held_once_folded(net, runs: int, own: tuple[str, ...] = STREAMING_FILES, threads: int = 1) -> tuple[int, int, int]:
    """(held, own, peak): the traced bytes a streamed Monte Carlo of ``runs`` runs (chunks of 100) holds once its
    last chunk is folded and let go (read in its progress callback), those of them allocated by ``own`` files (the
    line that allocated the block; one allocated inside numpy's Python functions is numpy's), and the run's traced
    peak. Read after a full collection (which also empties the interpreter's free lists: a freed tuple kept there
    stays traced, under the line that first allocated it), with the type attribute cache emptied
    (``sys._clear_type_cache``) and the engine's two bounded caches of the last chunk's arrays emptied (the last
    sales' impacts, ``IMPACTS_KEPT``; the cohort views, ``VIEWS_KEPT``): what is left is what the run keeps."""
    got: dict[str, int] = {}

    def progress(done: int, total: int) -> None:
        if done < total:
            return
        compiled = compile_network(net).__dict__
        for cache in ("order_book_impacts", "cohort_views"):
            compiled.get(cache, {}).clear()
        gc.collect()
        sys._clear_type_cache()
        snap = tracemalloc.take_snapshot()
        got["held"] = sum(t.size for t in snap.traces)
        got["own"] = sum(t.size for t in snap.traces if t.traceback[0].filename in own)

    gc.collect()
    tracemalloc.start(1)
    try:
        with engine_threads(threads):
            run_montecarlo(net, {}, runs=runs, seed=0, chunk_size=100, streaming=True, progress=progress)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return got["held"], got["own"], peak


#: Runs of the two streamed Monte Carlos the memory test compares.
MEMORY_RUNS = (1000, 4000)


def memory_growth(net, runs: tuple[int, int] = MEMORY_RUNS, **kwargs) -> tuple[float, float, dict]:
    """Bytes a run more held (all, own) from ``runs[0]`` to ``runs[1]`` runs, and the figures."""
    a, b = runs
    (held_a, own_a, peak_a), (held_b, own_b, peak_b) = (held_once_folded(net, r, **kwargs) for r in (a, b))
    figures = {"held": (held_a, held_b), "own": (own_a, own_b), "peak": (peak_a, peak_b)}
    return (held_b - held_a) / (b - a), (own_b - own_a) / (b - a), figures


def test_streamed_memory_does_not_grow_with_runs(net):
    """What a streamed Monte Carlo holds once every chunk is folded, at 1,000 and 4,000 runs: the difference a run is
    far below one stored run's 72 bytes (at most 8 bytes), and that of the streamed run's own code (the fold, the
    chunk list, the backend) below one byte.

    History. Until session 46 this compared the traced *peak* at 2,000 and 8,000 runs (18,100 runs, 61 s of CPU)
    against 8 bytes a run, and failed a CI at 8.0017 (session 45 measured 5.5-8.8 in one process). The peak is the
    memory held when the last chunk starts plus that chunk's working arrays; its growth was what the run held, and
    that was mostly the interpreter's and the engine's bounded state (session 46, snapshots compared by
    traceback): the interpreter's free lists (a freed tuple stays traced under the traceback that first allocated
    it: +17 KB "at" ``core/engine/liquidate.py``'s closures), pandas' reference lists (cleared in batches), the
    engine's caches of the last chunk's arrays (the last two sales' impacts, eight cohort views: their size is the
    last chunk's draw), the type attribute cache (session 23), and of the run's own the chunk list (126 bytes a
    chunk: 0.63 bytes a run in chunks of 200; now :class:`core.montecarlo_chunks.Chunks`, two numbers). Earlier
    growths were traced to a pandas column read each round (the perpetuals step), BLAS limits entered per chunk
    (session 23) and kept sales' impacts (``core/engine/sell.py``), each fixed at its source; session 5 had
    lengthened the span for the sections' estimates.

    So this reads the memory held once the last chunk is folded (the run's state is then at its largest),
    after a full collection, with the type cache and the engine's two bounded caches emptied
    (:func:`held_once_folded`). What the fold keeps still grows with the logarithm of the runs (a convergence row
    per 1-2-5 mark: two more marks at 4,000 runs, 1,552-1,560 bytes with the set of marks in every pair: own
    +0.517-0.520 bytes a run; 1.11 from 500 to 2,000 runs, where the span is shorter); the held total's spread (one
    process and ``-n 2``) is in docs/invariants.md, Session 46 (suite). 5,000 runs, and 1,000 on two threads: a
    third of the old test's runs. An injected leak of one float a run (a list) fails it
    (``test_the_memory_test_sees_a_leak_of_a_float_a_run``; one stored run of 72 bytes too, tried in session 46).

    The chunks run one after another (``engine_threads(1)``). On the engine's threads (session 10) the peak is the
    largest overlap of the chunks in flight, which a run happens to reach or not; it stays within as many chunks as
    threads: the threaded peak is below twice the one-thread peak.
    """
    run_montecarlo(net, {}, runs=100, seed=0, chunk_size=100, streaming=True)  # warm caches
    held, own, figures = memory_growth(net)
    assert held < 8, figures
    assert own < 1, figures
    _, _, threaded_peak = held_once_folded(net, MEMORY_RUNS[0], threads=2)
    assert threaded_peak < 2 * figures["peak"][0], (threaded_peak, figures)


def test_the_memory_test_sees_a_leak_of_a_float_a_run(net, monkeypatch):
    """The memory test's measure of the streamed run's own memory fails when the fold keeps a float a run (a list:
    32 bytes a run, a pointer and a float object). On 600 and 1,000 runs, to keep it cheap: both have four
    convergence rows (marks 100, 200, 500 and the last run), so without a leak the two hold nearly the same bytes
    of their own (24 bytes apart in session 46, 0.06 a run), and the leak's 12.8 KB (32 bytes a run) is the
    difference."""
    kept: list[float] = []
    add = RiskFold.add

    def leaking(self, seg, confidences):
        add(self, seg, confidences)
        kept.extend(float(i) for i in range(seg.start, seg.stop))

    monkeypatch.setattr(RiskFold, "add", leaking)
    _, own, figures = memory_growth(net, (600, 1000), own=(*STREAMING_FILES, __file__))
    assert own >= 1, figures


def test_a_monte_carlos_chunk_list_holds_two_numbers_whatever_its_runs():
    """The chunks of a Monte Carlo are made when read (:class:`core.montecarlo_chunks.Chunks`): a list of the
    ``(start, stop)`` pairs held ~126 bytes a chunk while the Monte Carlo ran."""
    from core.montecarlo_chunks import _chunks

    tracemalloc.start()
    chunks = _chunks(100_000_000, 100)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert held < 1000 and len(chunks) == 1_000_000
    assert chunks[0] == (0, 100) and chunks[-1] == (99_999_900, 100_000_000) and list(_chunks(250, 100))[-1] == (200, 250)
    with pytest.raises(IndexError):
        chunks[1_000_000]


def test_streamed_dask_gives_the_same_result(net, pair):
    distributed = pytest.importorskip("distributed")
    _, streamed = pair
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        other = run_montecarlo(net, STRESS, runs=2000, seed=5, chunk_size=300, streaming=True, backend="dask",
                               scheduler=cluster.scheduler_address)
    for name in ("risk", "entities", "paths", "convergence"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(other, name), check_exact=True)


def test_risk_quantities_are_the_losses_columns():
    assert set(RISK_QUANTITIES) <= {"system_loss_usd", "bad_debt_usd", "bad_debt_reference_usd", "insolvent_debt_usd",
                                    "liquidated_usd"}


def test_exact_bootstrap_memory_is_bounded_by_its_block():
    """The exact table's bootstrap keeps only each block's VaR and ES: its peak stops growing once a block
    is capped (4,000,000 resampled values), instead of holding every sorted resample."""
    from core.montecarlo import risk_table

    rng = np.random.default_rng(0)
    peaks = {}
    for n in (50_000, 200_000):
        samples = {q: rng.pareto(1.5, n) for q in RISK_QUANTITIES}
        tracemalloc.start()
        risk_table(samples)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # 4x the runs: the samples themselves grow (4 x 8 bytes per run); the bootstrap does not
    assert peaks[200_000] - peaks[50_000] < 150_000 * 4 * 8 * 1.5, peaks

"""Streamed Monte Carlo risk (core/streaming_risk.py): the sketch's error bound against the exact figures,
exact merging, the fold's moments, and a streamed Monte Carlo against the exact one on the shipped network."""

from __future__ import annotations

import gc
import math
import tracemalloc
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core import datasets
from core.chunks import engine_threads
from core.montecarlo import RISK_QUANTITIES, expected_shortfall, run_montecarlo, value_at_risk
from core.streaming_risk import (BUCKETS, MAX_USD, MIN_USD, RELATIVE_ACCURACY, Moments, bucket_index, bucket_value,
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


def test_streamed_memory_does_not_grow_with_runs(net):
    """Traced peak at 2,000 and 8,000 runs: the difference per run is far below one stored run's 72 bytes.

    The span matters: the streamed sections' estimates grow with the logarithm of the runs, a fixed amount
    per fourfold increase, so a shorter span (1,000 -> 4,000 runs, tried in session 5) doubles that amount
    per run and measured 8.1 bytes/run in CI; 2,000 -> 8,000 spreads it over 6,000 runs.

    What looked like growth on crypto-2025-10 (3-5 bytes/run alone, 9.5 in the full suite) was pandas'
    reference tracking: the perpetuals step read a column of the venues' rules DataFrame each round, and each
    read left pandas a weak reference that it drops only in batches (a sawtooth of up to ~500 dead references
    per table). The step now reads arrays built once (``PerpsCompiled``); what remains is bounded (numpy's
    small-buffer caches, the 20 sections' estimates).

    Session 23 traced the rest (one thread, 2,000 -> 8,000 runs, traced peak +27.4 KB, 4.6 bytes/run here and
    8.09 in one CI run): tracemalloc snapshots between successive runs keep ~100 small blocks (57-105 bytes) a
    2,000 runs that no sfm object holds. They are attribute names built anew in each call (threadpoolctl's
    symbol names, numpy's and scipy's lookups) left in the interpreter's type attribute cache, which keys them
    by address and holds at most 4,096 (``sys._clear_type_cache()`` empties them: then only pandas' batched
    reference lists remain), and pandas' references (cleared in batches). Each chunk's engine run entered and
    left the BLAS limit through threadpoolctl; the in-process backend now holds it once for all chunks
    (``core.backends.map_chunks``): +20.9 KB, 3.5 bytes/run, of which the peak less what the run leaves behind
    grows 16.0 KB at both trees. The bound stays 8 bytes/run.

    Measured with the chunks one after another (``engine_threads(1)``): in process the chunks run side by
    side on the engine's threads (session 10), and the peak is then the largest overlap of two chunks' working
    arrays, which a run happens to reach or not, at 2,000 runs as at 8,000 (threaded, one run measured 62.35 MB
    and 63.27 MB, 153 bytes/run; three on the 2022 network -28, +5 and +33 bytes/run). That overlap is bounded by the threads, not the runs:
    the threaded peak at 8,000 runs stays within as many chunks in flight as threads.
    """
    run_montecarlo(net, {}, runs=100, seed=0, chunk_size=100, streaming=True)  # warm caches

    def peak(runs: int, threads: int) -> int:
        gc.collect()  # start both from the same heap: garbage left for the cyclic collector moved the peak by ~25 KB
        tracemalloc.start()
        with engine_threads(threads):
            run_montecarlo(net, {}, runs=runs, seed=0, chunk_size=200, streaming=True)
        out = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return out

    peaks = {runs: peak(runs, 1) for runs in (2000, 8000)}
    assert (peaks[8000] - peaks[2000]) / 6000 < 8, peaks
    assert peak(8000, 2) < 2 * peaks[8000], peaks


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

"""The Monte Carlo's fast paths against the plain computations they replace, bit for bit.

* the bootstrap of :func:`core.montecarlo.risk_table` sorts only each resample's worst values (a partition,
  then a sort of the tail); the reference sorts every resample in full, as the code before it did;
* the streamed fold reads every section's VaR and ES from one pass over each sketch; the reference calls
  :func:`core.streaming_risk.sketch_var` / :func:`~core.streaming_risk.sketch_es` once per figure.
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core import risk_measures
from core.chunks import engine_threads
from core.risk_measures import (BOOTSTRAP_RESAMPLES, _es_sorted_desc, _ordered, _resample_counts, _sorted_tail,
                                 _tails_from_counts, _var_sorted_asc, risk_table)
from core.streaming_risk import BUCKETS, sketch_es, sketch_var, sketch_estimates, sparse_counts


def full_sort_risk_table(samples, confidences, *, seed=0, resamples=BOOTSTRAP_RESAMPLES):
    """The bootstrap standard errors as computed before the tail sort: every resample sorted in full."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))
    xs = {q: np.asarray(x, float) for q, x in samples.items()}
    N = len(next(iter(xs.values())))
    var = {(q, a): [] for q in xs for a in confidences}
    es = {(q, a): [] for q in xs for a in confidences}
    step = max(1, min(resamples, 4_000_000 // N))
    for b0 in range(0, resamples, step):
        idx = rng.integers(0, N, (min(step, resamples - b0), N))
        for q, x in xs.items():
            s = np.sort(x[idx], axis=1)
            for a in confidences:
                var[q, a].append(np.array(_var_sorted_asc(s, a)))
                es[q, a].append(np.array(_es_sorted_desc(s[:, ::-1], a)))
    return {k: float(np.concatenate(v).std(ddof=1)) for k, v in var.items()}, \
        {k: float(np.concatenate(v).std(ddof=1)) for k, v in es.items()}


values = st.one_of(st.floats(-1e9, 1e12), st.sampled_from([0.0, -0.0, 1.0, 1e6, 2.5e9]))  # ties and signed zeros


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(2, 600), elements=values),
       st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3, unique=True),
       st.integers(0, 2**32 - 1), st.integers(2, 40))
def test_tail_sorted_bootstrap_equals_the_full_sort_bit_for_bit(x, confidences, seed, resamples):
    samples = {"loss": x, "other": x[::-1] * 0.5 - 3.0}
    table = risk_table(samples, confidences, seed=seed, resamples=resamples).set_index(["quantity", "metric", "confidence"])
    var, es = full_sort_risk_table(samples, confidences, seed=seed, resamples=resamples)
    for (q, a), se in var.items():
        got = table.loc[(q, "VaR", a), "standard_error"]
        assert (math.isnan(se) and math.isnan(got)) or got == se, (q, a, got, se)
    for (q, a), se in es.items():
        got = table.loc[(q, "ES", a), "standard_error"]
        assert (math.isnan(se) and math.isnan(got)) or got == se, (q, a, got, se)


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(1, 400), elements=values), st.integers(1, 12), st.integers(1, 400),
       st.floats(0.0, 4.0), st.integers(0, 2**32 - 1))
def test_tails_from_counts_equal_the_sorted_resamples_bit_for_bit(x, resamples, k, skew, seed):
    """The counted tails against the resamples themselves sorted, on draws skewed towards the first runs (so
    that the largest values are drawn rarely and the search for ``k`` draws widens), wherever the sort of
    ``x`` is unique in its bits (:func:`_ordered`)."""
    if not _ordered(x):
        return
    n, k = len(x), min(k, len(x))
    rng = np.random.default_rng(seed)
    idx = np.minimum((rng.random((resamples, n)) ** (1.0 + skew) * n).astype(np.int64), n - 1)
    want = _sorted_tail(x[idx], k)
    order = np.argsort(x, kind="stable")
    got = _tails_from_counts(x[order], order, _resample_counts(idx.copy(), n), k)
    assert got.shape == want.shape and np.array_equal(got.view(np.int64), want.view(np.int64))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 400), elements=values),
       st.lists(st.floats(0.0, 1.0), min_size=1, max_size=2, unique=True),
       st.integers(0, 2**32 - 1), st.integers(2, 30), st.sampled_from([1, 2, 3]))
def test_bootstrap_on_threads_equals_the_full_sort_bit_for_bit(x, confidences, seed, resamples, threads):
    """The quantities' bootstrap figures computed side by side on ``threads`` engine threads (risk_measures._each,
    here from a block of any size),
    a quantity whose sort is unique in its bits (counted) beside one with both signed zeros (its resamples
    themselves, drawn from the same block's indices the counts overwrite when every quantity is counted): the
    figures of the full sort, each quantity's own, bit for bit."""
    samples = {"loss": x, "signed": np.concatenate([[0.0, -0.0], x[2:] * -1.0]), "scaled": x * 2.0 + 1.0}
    with engine_threads(threads), mock.patch.object(risk_measures, "THREADED_BOOTSTRAP_DRAWS", 0):  # every block
        table = risk_table(samples, confidences, seed=seed, resamples=resamples).set_index(["quantity", "metric", "confidence"])
    var, es = full_sort_risk_table(samples, confidences, seed=seed, resamples=resamples)
    for metric, want in (("VaR", var), ("ES", es)):
        for (q, a), se in want.items():
            got = table.loc[(q, metric, a), "standard_error"]
            assert (math.isnan(se) and math.isnan(got)) or got == se, (metric, q, a, got, se)


def test_signed_zeros_or_nan_take_the_resamples_themselves():
    assert _ordered(np.array([0.0, 1.0, 0.0])) and _ordered(np.array([-0.0, 2.0]))
    assert not _ordered(np.array([0.0, -0.0, 1.0])) and not _ordered(np.array([np.nan, 1.0]))


def test_tail_sorted_bootstrap_at_the_monte_carlo_size():
    """10,000 runs, the default 200 resamples: a sample of mostly distinct values (a third at zero, the tail
    sort) and one of a few distinct values (sorted in full), as the Monte Carlo's loss and bad-debt columns."""
    rng = np.random.default_rng(3)
    samples = {"loss": np.where(rng.random(10_000) < 0.3, 0.0, np.round(rng.lognormal(15, 2, 10_000), -3)),
               "bad_debt": np.where(rng.random(10_000) < 0.98, 0.0, rng.choice([1e6, 2e6, 5e7], 10_000))}
    confidences = (0.95, 0.99)
    table = risk_table(samples, confidences, seed=11).set_index(["quantity", "metric", "confidence"])
    var, es = full_sort_risk_table(samples, confidences, seed=11)
    for q in samples:
        got = [table.loc[(q, m, a), "standard_error"] for m in ("VaR", "ES") for a in confidences]
        want = [var[q, a] for a in confidences] + [es[q, a] for a in confidences]
        assert got == want and any(g > 0 for g in got), (q, got, want)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 400), elements=values),
       st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3, unique=True))
def test_one_pass_sketch_estimates_equal_the_single_calls(x, confidences):
    counts = np.zeros(BUCKETS, dtype=np.int64)
    keys, c = sparse_counts(x)
    counts[keys] += c
    got = sketch_estimates(counts, confidences)
    want = {(m, a): f(counts, a) for a in confidences for m, f in (("VaR", sketch_var), ("ES", sketch_es))}
    assert got.keys() == want.keys()
    assert pd.Series(got).equals(pd.Series(want)), (got, want)

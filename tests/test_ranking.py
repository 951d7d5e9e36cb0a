"""Systemic importance reduced chunk by chunk equals the ranking from one whole batch."""

from __future__ import annotations

import numpy as np
import pytest

import core.chunks
import core.metrics
from core import datasets
from core.engine import compile_network, scenario_batch, simulate_batch
from core.metrics import systemic_importance
from core.scenario import Scenario


def _whole_batch_reference(net, base, recovery=0.0):
    """Every entity as a seed in one batch, all (seed, entity) arrays kept: the unreduced definition."""
    c = compile_network(net)
    n = c.n
    b = scenario_batch(net, base, repeat=n).replace(forced=np.eye(n, dtype=bool), forced_recovery=np.full(n, recovery))
    from core.engine import run_batch
    br = run_batch(c, b, workers=1)
    own = np.arange(n)
    others = ~np.eye(n, dtype=bool)
    return {
        "importance_usd": br.total_loss - br.loss[own, own],
        "defaults_caused": br.defaulted.sum(1) - 1,
        "vulnerability_usd": np.where(others, br.loss, 0.0).sum(0) / (n - 1),
        "default_frequency": np.where(others, br.defaulted, False).sum(0) / (n - 1),
    }


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_chunked_ranking_equals_the_whole_batch(which, monkeypatch):
    net = datasets.load("crypto-2022-05") if which == "shipped" else datasets.synthetic(80, 480, seed=4)
    base = Scenario(name="base", price_shocks={str(net.assets["symbol"].iloc[0]): -0.3}, run_intensity=0.5)
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * 80 * 9)  # chunks of a few seeds, even here
    si = systemic_importance(net, base).reindex(net.entities["id"])
    ref = _whole_batch_reference(net, base)
    for col, want in ref.items():
        np.testing.assert_allclose(si[col].to_numpy(), want, rtol=1e-12, atol=1e-6, err_msg=col)
    # and each seed's importance is the same cascade run alone
    for e in list(net.entities["id"])[:3]:
        alone = simulate_batch(net, [base.model_copy(update={"forced_defaults": [e]})])
        i = int(np.flatnonzero(net.entities["id"].to_numpy() == e)[0])
        np.testing.assert_allclose(si.loc[e, "importance_usd"], alone.total_loss[0] - alone.loss[0, i], rtol=1e-9, atol=1e-3)



@pytest.mark.parametrize("threads", [1, 2])
def test_ranking_is_the_same_however_the_chunks_are_grouped_into_cascades(threads, monkeypatch):
    """Chunks run one cascade each, or several in one batch: the same ranking, bit for bit (rows never read
    each other's, and every chunk is reduced alone)."""
    import pandas as pd
    net = datasets.synthetic(60, 360, seed=7)
    base = Scenario(name="base", price_shocks={"ETH": -0.35}, run_intensity=0.4)
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * 60 * 5)  # chunks of MIN_CHUNK_ROWS = 8 seeds: 8 chunks
    monkeypatch.setattr(core.metrics, "RANK_TASK_CHUNKS", 8)
    with core.chunks.engine_threads(threads):
        for name in ("RANK_CASCADE_CHUNKS", "RANK_CASCADE_CHUNKS_HEAP_TRIMMED"):  # whichever the heap's state reads
            monkeypatch.setattr(core.metrics, name, 1)
        one = systemic_importance(net, base, recovery=0.1)
        for group in (3, 8):
            for name in ("RANK_CASCADE_CHUNKS", "RANK_CASCADE_CHUNKS_HEAP_TRIMMED"):
                monkeypatch.setattr(core.metrics, name, group)
            pd.testing.assert_frame_equal(one, systemic_importance(net, base, recovery=0.1), check_exact=True)


# -- backends and progress ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_chunks_ranking():
    """A synthetic network cut into many tasks (chunks of a few seeds), ranked in process."""
    net = datasets.synthetic(60, 360, seed=7)
    mp = pytest.MonkeyPatch()
    mp.setattr(core.chunks, "CHUNK_BYTES", 8 * 60 * 5)   # chunks of MIN_CHUNK_ROWS = 8 seeds
    mp.setattr(core.metrics, "RANK_TASK_CHUNKS", 2)       # tasks of 16 seeds: 4 tasks
    yield net, systemic_importance(net), mp
    mp.undo()


def test_ranking_progress_counts_every_seed(small_chunks_ranking):
    net, ref, _ = small_chunks_ranking
    seen = []
    again = systemic_importance(net, progress=lambda d, n: seen.append((d, n)))
    assert seen[0] == (0, 60) and seen[-1] == (60, 60) and len(seen) > 2
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))
    import pandas as pd
    pd.testing.assert_frame_equal(ref, again, check_exact=True)


def test_ranking_is_bit_identical_on_processes_and_dask(small_chunks_ranking):
    import pandas as pd
    net, ref, _ = small_chunks_ranking
    # processes are spawned: the chunk size travels with the tasks' boundaries, not with the patched constant
    pd.testing.assert_frame_equal(ref, systemic_importance(net, backend="processes", workers=2), check_exact=True)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        seen = []
        res = systemic_importance(net, backend="dask", scheduler=cluster.scheduler_address,
                                  progress=lambda d, n: seen.append(d))
    pd.testing.assert_frame_equal(ref, res, check_exact=True)
    assert seen[-1] == 60


def test_cli_rank_on_dask_prints_the_same_ranking(capsys):
    from core.cli import main
    distributed = pytest.importorskip("distributed")
    assert main(["rank", "--json", "--top", "5"]) == 0
    alone = capsys.readouterr().out
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert main(["rank", "--json", "--top", "5", "--backend", "dask", "--scheduler", cluster.scheduler_address]) == 0
    assert capsys.readouterr().out == alone
    assert main(["rank", "--backend", "dask"]) == 2
    assert "--scheduler" in capsys.readouterr().err


def test_debtrank_column_is_each_seeds_debtrank_whichever_thread_ran_it(monkeypatch):
    """Each chunk's DebtRank is a job of its own on the ranking's threads (after the cascades): the column is the
    seeds' DebtRank impacts in seed order, the same to the bit on one thread and two, and equal to all seeds'
    DebtRank in one batch (to the ranking's tolerance, 1e-9)."""
    import pandas as pd
    from core.mechanisms.debtrank import debtrank
    net = datasets.synthetic(60, 360, seed=7)
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * 60 * 5)  # chunks of 8 seeds: 8 cascades' chunks, 8 DebtRank jobs
    with core.chunks.engine_threads(1):
        one = systemic_importance(net)
    with core.chunks.engine_threads(2):
        two = systemic_importance(net)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    c = compile_network(net)
    W = core.metrics.claims_matrix(net)
    whole = debtrank(W, np.where(c.E0 > 0, c.E0, 0.0), np.eye(c.n), variant="differential", tol=1e-9).impact
    got = one["debtrank"].reindex(net.entities["id"]).to_numpy()
    assert got.shape == (60,) and (got > 0).sum() >= 10  # seeds that move others: the column is not all zeros
    np.testing.assert_allclose(got, whole, rtol=0, atol=1e-8)

"""Systemic metrics: who matters, who is exposed, how a failure travelled, what safeguards buy.

* **Systemic importance** of entity i: the system loss (USD and share of system
  equity) when i alone fails (its outside assets lost, a forced default), all
  entities as seeds in one batched cascade; beside it the entity's DebtRank
  impact (Bardoscia et al. 2015) on the network of claims.
* **Vulnerability** of entity j: its mean loss, and how often it defaults,
  across the cascades seeded by every other entity.
* **Contagion path** (:mod:`core.contagion_paths`): the chain of largest contagion edges from the shock to an
  entity, read backwards from a :class:`CascadeResult`'s ``paths``.
* **Safeguard difference**: the same shock with and without the scenario's
  safeguards, side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import weakref
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .chunks import chunk_rows, engine_workers, keep_freed_heap, single_threaded_blas
from .contagion_paths import contagion_path, narrative  # noqa: F401 (the dashboard reads them here)
from .engine import ScenarioBatch, compile_network, scenario_batch, simulate_batch
from .engine.batch import batch_take
from .engine.compiled import Compiled
from .engine.compiled import equity_floors_by_entity as equity_floors  # noqa: F401 (the dashboard reads it here)
from .engine.outcome import BatchResult
from .engine.rounds import run_cascades
from .mechanisms._checks import trusted
from .mechanisms.debtrank import debtrank
from .network import Network
from .scenario import Scenario



_CLAIMS: "weakref.WeakKeyDictionary[Compiled, sp.csr_array]" = weakref.WeakKeyDictionary()


def claims_matrix(network: Network) -> sp.csr_array:
    """Unsecured claims as DebtRank exposures: ``W[i, j]`` is what i has lent to j (depositors' claims included).

    Built once per compiled network (a ranking's tasks all read it); treat it as read-only.

    Parameters
    ----------
    network : Network

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        USD, rows and columns in the order of ``network.entities``.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> W = claims_matrix(synthetic(8, 20, seed=1))
    >>> W.shape, bool((W.data > 0).all())
    ((8, 8), True)
    """
    c = compile_network(network)
    hit = _CLAIMS.get(c)
    if hit is not None:
        return hit
    n = c.n
    rows = np.concatenate([c.edge_creditor, c.ik_creditor])
    cols = np.concatenate([c.edge_debtor, c.ik_debtor])
    vals = np.concatenate([c.edge_amount, c.ik_amount])
    W = sp.coo_array((vals, (rows, cols)), shape=(n, n)).tocsr()
    W.sum_duplicates()
    _CLAIMS[c] = W
    return W


#: Cache-sized chunks of seeds per ranking task (a task is what a process or Dask worker runs at once); a last
#: task of fewer than half as many joins the one before it. (Alone, its cascades are short, one per thread: the
#: 1,000-seed ranking of synthetic(1000, 10000), 11 chunks in tasks of 8 and 3, ran cascades of 3, 3, 2, 1 and 2
#: chunks on two threads, 60 cascade-rounds; as one task, in cascades of RANK_CASCADE_CHUNKS chunks, as on one
#: thread: 4, 4 and 3 now, 3, 3, 3 and 2 then.)
RANK_TASK_CHUNKS = 8
#: Chunks of seeds a ranking runs as one cascade (then reduced chunk by chunk): a round's fixed cost (the steps'
#: Python and numpy calls, some 5 ms a round on synthetic(1000, 10000) whatever the rows) is paid once for them,
#: while a larger cascade's state (~270 kB a seed there) leaves the cache: 3 timed best of 1 to 6, on one thread
#: and on two (benchmarks/results/bench_rank_s22.txt); 4 since the C heap keeps freed arrays
#: (:func:`core.chunks.keep_freed_heap`) and DebtRank runs as jobs of its own: the 11 chunks in cascades of 4,
#: 4 and 3, against 3, 3, 3 and 2, took 610 ms against 648 ms on two threads, 826 against 857 ms CPU on one
#: (medians of 10, alternating; benchmarks/results/speed_s29.txt). Rows never read each other's, so the
#: results are the same to the bit however the seeds are grouped. Where the heap is kept lean
#: (:func:`core.chunks.leave_heap_lean`, the dashboard) the cascades hold 3 chunks, the best there in session
#: 22: the 1,000-seed ranking of synthetic(1000, 10000) then adds ~235 MB to a fresh process, against ~300 MB
#: with 4 (and 380-500 MB with the heap kept; session 30).
RANK_CASCADE_CHUNKS = 4
RANK_CASCADE_CHUNKS_HEAP_TRIMMED = 3


def systemic_importance(network: Network, base: Scenario | None = None, *, recovery: float = 0.0,
                        backend: str = "inprocess", workers: int | None = None, scheduler: Any = None,
                        progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Importance and vulnerability of every entity, from one batched cascade seeded by each.

    The seeds are cut into cache-sized chunks (:func:`core.chunks.chunk_rows`) and the chunks into tasks
    of :data:`RANK_TASK_CHUNKS`; the chunks of a task run as cascades of :data:`RANK_CASCADE_CHUNKS` chunks
    each, and each chunk is reduced as soon as its cascade finishes (row sums, column sums and the diagonal are
    all the ranking needs), so memory is O(cascade × n), and the column sums are added
    chunk by chunk within a task and task by task in seed order. The cut depends on the network alone,
    so every backend gives the same numbers, bit for bit.

    Parameters
    ----------
    network : Network
    base : Scenario, optional
        Conditions under which each entity fails (default: calm markets, no run). Its ``date`` puts the network
        at that day's parameters, as :func:`core.simulate` does (:func:`core.snapshots.dated`; a
        ``DataValidationError`` on a network that cannot be put at it).
    recovery : float, default 0.0
        Share of a failing seed's outside assets that survives.
    backend : {"inprocess", "processes", "dask"}
        Where the tasks run (:mod:`core.backends`, as for Monte Carlo).
    workers : int, optional
        Local processes for ``"processes"``.
    scheduler : str or distributed.Client, optional
        Dask scheduler address or client, for ``"dask"``.
    progress : callable(done_seeds, total_seeds), optional
        Called as tasks finish (for a progress bar).

    Returns
    -------
    pandas.DataFrame
        Indexed by entity with ``name, type, importance_usd, importance_share,
        defaults_caused, debtrank, vulnerability_usd, vulnerability_share, default_frequency``,
        sorted by importance.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> si = systemic_importance(synthetic(8, 20, seed=1))
    >>> len(si), si.index[0], bool(si["importance_usd"].is_monotonic_decreasing)
    (8, 'E000006', True)
    """
    from .backends import map_chunks as map_tasks
    from .snapshots import dated

    if base is not None:  # the base's date: its day's parameters for every seed (as core.simulate), or refused
        network = dated(network, base.date)
    c = compile_network(network)
    n = c.n
    edges, tasks = rank_tasks(n)
    payload = ((base or Scenario(name="seed")).model_dump_json(), float(recovery), edges)
    fold = _RankFold(n)
    map_tasks(rank_task, network, payload, tasks, backend=backend, workers=workers, scheduler=scheduler,
              progress=progress, consume=fold)
    caused, defaults_caused, impact = (np.concatenate(x) for x in (fold.caused, fold.defaults_caused, fold.impact))
    vuln = fold.loss_sum / max(n - 1, 1)
    dfreq = fold.default_sum / max(n - 1, 1)
    sys_eq = float(np.maximum(c.E0, 0).sum())
    ent = network.entities
    out = pd.DataFrame(
        {
            "name": ent["name"].to_numpy(),
            "type": ent["type"].to_numpy(),
            "importance_usd": caused,
            "importance_share": caused / sys_eq if sys_eq > 0 else 0.0,
            "defaults_caused": defaults_caused,
            "debtrank": impact,
            "vulnerability_usd": vuln,
            "vulnerability_share": np.where(c.E0 > 0, vuln / np.where(c.E0 > 0, c.E0, 1.0), 0.0),
            "default_frequency": dfreq,
        },
        index=pd.Index(c.ids, name="entity"),
    )
    return out.sort_values("importance_usd", ascending=False, kind="stable")


def rank_tasks(n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The seed-chunk edges of a ranking of ``n`` entities and its tasks ``(start, stop)`` of
    :data:`RANK_TASK_CHUNKS` chunks each (what :func:`systemic_importance` maps through :func:`rank_task`).

    The cut depends on ``n`` alone, so a backend, a worker count or a script running some of the tasks
    (``benchmarks/rank_cluster.py``) meets the same seeds in the same tasks.

    Examples
    --------
    >>> edges, tasks = rank_tasks(100_000)
    >>> len(tasks), tasks[0], tasks[-1][1]
    (1563, (0, 64), 100000)
    """
    edges = _seed_chunks(n)
    starts = list(range(0, len(edges) - 1, RANK_TASK_CHUNKS))
    if len(starts) > 1 and 2 * (len(edges) - 1 - starts[-1]) < RANK_TASK_CHUNKS:
        starts.pop()  # a short last task joins the one before it (its cascades would be short: more rounds a seed)
    return edges, [(int(edges[i]), int(edges[j])) for i, j in zip(starts, starts[1:] + [len(edges) - 1])]


def _seed_chunks(n: int) -> np.ndarray:
    """Boundaries of the cache-sized chunks of ``range(n)`` seeds (those of :func:`core.chunks.map_chunks`)."""
    sizes = [len(a) for a in np.array_split(np.arange(n), max(1, -(-n // chunk_rows(n))))]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def rank_task(network: Network, payload: tuple[str, float, np.ndarray], start: int, stop: int) -> list[tuple]:
    """Seeds ``start:stop`` (whole chunks) of :func:`systemic_importance`, as one task.

    Per chunk: each seed's caused loss, defaults and DebtRank, and the chunk's column
    sums of the others' losses and defaults. A module-level function: remote backends pickle it.

    Parameters
    ----------
    network : Network
    payload : (str, float, ndarray)
        The base scenario (JSON text), the recovery share, and the seed-chunk edges.
    start, stop : int
        The task's seeds (chunk edges).

    Returns
    -------
    list of tuple
        Per chunk ``(caused_loss, defaults_caused, debtrank, loss_column_sums, default_column_sums)``.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> parts = rank_task(net, (Scenario().model_dump_json(), 0.0, np.array([0, 8])), 0, 8)
    >>> len(parts), [np.shape(x) for x in parts[0]]
    (1, [(8,), (8,), (8,), (8,), (8,)])
    """
    base_json, recovery, edges = payload
    c = compile_network(network)
    n = c.n
    base_batch = scenario_batch(network, Scenario.model_validate_json(base_json))
    eq = np.where(c.E0 > 0, c.E0, 0.0)
    W = claims_matrix(network)
    bounds = edges[(edges >= start) & (edges <= stop)]

    def cascade(g: int) -> list[tuple]:  # the chunks of cascade group g, run as one batch, reduced chunk by chunk
        first, last = groups[g], groups[g + 1]
        rows = np.arange(bounds[first], bounds[last])
        seeds = np.zeros((len(rows), n), dtype=bool)
        seeds[np.arange(len(rows)), rows] = True
        b = _repeat(base_batch, len(rows)).replace(forced=seeds, forced_recovery=np.full(len(rows), recovery))
        with trusted():  # network and scenario were validated on loading (as in run_batch)
            br = run_cascades(c, b, False)
        return [reduced(br, rows, bounds[k] - bounds[first], bounds[k + 1] - bounds[first])
                for k in range(first, last)]

    def reduced(br: BatchResult, rows: np.ndarray, a: int, z: int) -> tuple:
        # chunk rows a:z of the group's result, as contiguous arrays of the chunk alone (the same sums, to the bit)
        rows = rows[a:z]
        own = np.arange(len(rows))
        loss = br.loss[a:z].copy()
        caused = br.total_loss[a:z] - loss[own, rows]
        loss[own, rows] = 0.0
        defaulted = br.defaulted[a:z].copy()
        defaulted[own, rows] = False
        return (caused, defaulted.sum(1), loss.sum(0), defaulted.sum(0))

    def impact(k: int) -> np.ndarray:  # DebtRank of chunk k's seeds; a ranking needs it to no more than 1e-9
        rows = np.arange(bounds[k], bounds[k + 1])
        seeds = np.zeros((len(rows), n))
        seeds[np.arange(len(rows)), rows] = 1.0
        return np.atleast_1d(debtrank(W, eq, seeds, variant="differential", tol=1e-9).impact)

    k = len(bounds) - 1
    # groups of about RANK_CASCADE_CHUNKS chunks, at least one per thread (where there are chunks enough)
    workers = max(1, min(engine_workers(), k))
    per_cascade = RANK_CASCADE_CHUNKS if keep_freed_heap() else RANK_CASCADE_CHUNKS_HEAP_TRIMMED
    count = max(-(-k // per_cascade), workers)
    groups = np.concatenate([[0], np.cumsum([len(a) for a in np.array_split(np.arange(k), count)])])
    # The cascades first, then each chunk's DebtRank (some 9 ms each on synthetic(1000, 10000)): threads take
    # the next job as they come free, so the thread whose cascades end first runs the DebtRanks while the other
    # finishes its last cascade (as the reference ran DebtRank beside the cascades), and the small jobs last
    # even out the threads' ends.
    jobs = [(cascade, g) for g in range(len(groups) - 1)] + [(impact, j) for j in range(k)]
    with single_threaded_blas():
        if workers == 1:
            done = [fn(i) for fn, i in jobs]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfm-rank") as ex:
                done = list(ex.map(lambda job: job[0](job[1]), jobs))
    sums = [part for group in done[:len(groups) - 1] for part in group]
    impacts = done[len(groups) - 1:]
    return [(caused, defaults, dr, loss_sum, default_sum)
            for (caused, defaults, loss_sum, default_sum), dr in zip(sums, impacts)]


class _RankFold:
    """Chunks' reductions added in seed order (the same additions whatever the backend)."""

    def __init__(self, n: int):
        self.caused: list[np.ndarray] = []
        self.defaults_caused: list[np.ndarray] = []
        self.impact: list[np.ndarray] = []
        self.loss_sum = np.zeros(n)
        self.default_sum = np.zeros(n, dtype=np.int64)

    def __call__(self, parts: list[tuple]) -> None:
        for caused, defaults, impact, loss_sum, default_sum in parts:
            self.caused.append(caused)
            self.defaults_caused.append(defaults)
            self.impact.append(impact)
            self.loss_sum += loss_sum
            self.default_sum += default_sum


def _repeat(batch: ScenarioBatch, m: int) -> ScenarioBatch:
    """A one-scenario batch repeated ``m`` times."""
    return batch_take(batch, np.zeros(m, dtype=np.int64))


def safeguard_difference(network: Network, scenario: Scenario) -> pd.DataFrame:
    """The same shock without and with the scenario's safeguards: one row per metric.

    Parameters
    ----------
    network : Network
    scenario : Scenario
        Its ``safeguards`` are the "with" case; the "without" case resets them to the defaults.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric (``total_loss_usd``, ``defaults``, ``bad_debt_usd``,
        ``liquidated_usd``, ``insurance_draw_usd``, ...) with columns ``without``,
        ``with`` and ``difference`` (with - without).

    Examples
    --------
    >>> from core import Scenario
    >>> from core.datasets import synthetic
    >>> from core.scenario import CircuitBreaker, Safeguards
    >>> sc = Scenario(price_shocks={"ETH": -0.4}, safeguards=Safeguards(circuit_breaker=CircuitBreaker()))
    >>> d = safeguard_difference(synthetic(8, 20, seed=1), sc)
    >>> d.columns.tolist(), d.loc["defaults"].tolist()
    (['without', 'with', 'difference'], [4.0, 4.0, 0.0])
    """
    br = simulate_batch(network, [scenario.without_safeguards(), scenario])
    rows = {
        "total_loss_usd": br.total_loss,
        "defaults": br.defaulted.sum(1).astype(float),
        "bad_debt_usd": br.bad_debt.sum(1),
        "liquidated_usd": br.liquidated_usd,
        "insurance_draw_usd": br.insurance_draw.sum(1),
        "supplier_haircut_usd": br.supplier_haircut_usd.sum(1),  # pass-through pools' suppliers (core.mechanisms.pass_through)
    }
    df = pd.DataFrame({k: v for k, v in rows.items()}, index=["without", "with"]).T
    df["difference"] = df["with"] - df["without"]
    return df

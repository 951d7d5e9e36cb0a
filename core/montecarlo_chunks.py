"""One chunk of Monte Carlo runs: what a worker does, and how chunks are joined in run order.

A chunk of runs ``start:stop`` draws its shocks from the :class:`~core.shock_model.ShockModel`
(by random-number block, so a run's draw never depends on the chunking), goes to
the engine in batches of at most :data:`MAX_BATCH_ROWS` scenarios (a Monte Carlo's runs: :data:`MONTE_CARLO_BATCH`,
in the order :func:`deepest_first` gives, so that the engine's parts hold runs alike, their
figures written back to their own runs), and returns per-run arrays and per-unit sums
over aligned units of :data:`~core.shock_model.UNIT` runs; :func:`_combine` (or
:class:`_StreamFold`, streamed) adds them in run order. So any backend, worker count and chunk size
(a multiple of ``UNIT``) gives the same bits (:mod:`core.montecarlo`, Seed stability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, overload

import numpy as np
import pandas as pd

from .engine import Compiled, compile_network, run_batch, scenario_batch
from .engine.batch import batch_take
from .montecarlo_paths import with_paths
from .network import Network
from .scenario import Scenario
from .shock_model import UNIT, ShockModel
from .streaming_risk import RiskFold, Segment, summarise
from .validation import DataValidationError, Problem

#: Default runs per task of a sweep (a multiple of UNIT; a chunk's arrays hold runs × cells): one engine batch
#: (MAX_BATCH_ROWS) of runs on up to two cells (session 10: 196 -> 170 us CPU a run on the 2022 network from 1,000).
DEFAULT_CHUNK = 2000
#: Default runs per task of a Monte Carlo (one cell): one engine batch (MONTE_CARLO_BATCH). The engine runs a batch
#: larger than a cache-sized part (~2,090 rows on the 2022 network) a part at a time and gathers the parts' few
#: rows still running for the last rounds (core.engine.staged), so a round's fixed cost in Python (some 6 ms
#: there, session 32) is paid on fewer calls: 20,000 runs make 76 round calls in chunks of 5,000, 120 in chunks
#: of 2,000 (session 13), 60 in chunks of 10,000 (session 32: 5 parts of 2,000 rows, their deepest-first order
#: over twice the runs). Two chunks for 20,000 runs keep two threads equally busy; the memory held is a chunk's
#: result arrays and one running part per thread, the same whatever the number of runs.
MONTE_CARLO_CHUNK = 10_000
#: Largest batch (scenarios) of a sweep handed to the engine at once: runs × sweep cells (at most
#: MAX_BATCH_ROWS // UNIT cells). A batch of several cells keeps this size: the batch-level switches read a part's
#: rows, so its cut is part of a sweep's figures (core.engine.staged).
MAX_BATCH_ROWS = 5000
#: Largest batch of a Monte Carlo (one cell) handed to the engine at once: a whole default chunk.
MONTE_CARLO_BATCH = MONTE_CARLO_CHUNK

ProgressFn = Callable[[int, int], None]



@dataclass(frozen=True, eq=False)
class Job:
    """What every chunk of a Monte Carlo or sweep shares (picklable, sent once per worker).

    Attributes
    ----------
    cells : tuple of str
        The base scenarios (JSON text), one per sweep cell; each run applies the
        same draw to every cell (common random numbers).
    model : ShockModel or None
        None for a deterministic sweep (one run per cell).
    seed : int
    edge_debtor, edge_creditor : ndarray of int
        Positions of the debtor and creditor of each exposure pair (for contagion paths).

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> from core.montecarlo_spec import MonteCarloSpec
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> len(job.cells), job.model.symbols[0]
    (1, 'ETH')
    """

    cells: tuple[str, ...]
    model: ShockModel | None
    seed: int
    edge_debtor: np.ndarray
    edge_creditor: np.ndarray


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """Output of one chunk: per-run arrays ``(R, C)``, per-unit sums ``(U, C, n)`` and integer counts.

    Attributes
    ----------
    start : int
        First run of the chunk.
    per_run : dict of str to ndarray, shape (R, C)
        ``total_loss, bad_debt`` (marked at the run's close), ``bad_debt_reference`` (its units at reference
        prices), ``uncovered_bad_debt, shortfall, liquidated, insurance_draw, defaults`` per run and cell.
    episode : ndarray
        The replayed episode per run (historical source).
    loss_sum, loss_sq : ndarray, shape (U, C, n)
        Sums of entity losses and of their squares per unit of :data:`~core.shock_model.UNIT` runs.
    default_count : ndarray, shape (C, n)
    path_count : ndarray
        Defaults per entity, and per exposure pair with a defaulted debtor.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> from core.montecarlo_spec import MonteCarloSpec
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> chunk = evaluate_chunk(net, job, 0, 16)
    >>> chunk.start, chunk.per_run["total_loss"].shape, chunk.default_count.shape
    (0, (16, 1), (1, 8))
    """

    start: int
    per_run: dict[str, np.ndarray]
    episode: np.ndarray
    loss_sum: np.ndarray
    loss_sq: np.ndarray
    default_count: np.ndarray      # (C, n)
    path_count: np.ndarray         # (C, E)
    segments: tuple[Segment, ...] = ()   # a streamed run's summaries (per_run then empty)


def evaluate_chunk(network: Network, job: Job, start: int, stop: int) -> ChunkResult:
    """Run the cascade for runs ``start:stop`` of every cell (vectorised; fixed engine batches of ≤ MAX_BATCH_ROWS,
    ≤ MONTE_CARLO_BATCH for one cell).

    Parameters
    ----------
    network : Network
    job : Job
    start, stop : int
        The runs of this chunk (their draws depend only on ``job.seed`` and the run numbers).

    Returns
    -------
    ChunkResult

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> from core.montecarlo_spec import MonteCarloSpec
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> whole = evaluate_chunk(net, job, 0, 16).per_run["total_loss"]
    >>> halves = [evaluate_chunk(net, job, a, b).per_run["total_loss"] for a, b in ((0, 8), (8, 16))]
    >>> bool(np.array_equal(whole, np.concatenate(halves)))
    True
    """
    cells = [Scenario.model_validate_json(t) for t in job.cells]
    C, R = len(cells), stop - start
    c = compile_network(network)
    if job.model is not None and job.model.multi_step:
        mult, dep, ep = np.ones((R, c.k)), np.zeros((R, c.k)), np.full(R, -1)  # the path brings every move
    elif job.model is not None:
        r, dep, ep = job.model.draw(job.seed, start, stop)
        mult = np.exp(r)
    else:
        mult, dep, ep = np.ones((R, c.k)), np.zeros((R, c.k)), np.full(R, -1)
    fields = ("total_loss", "bad_debt", "bad_debt_reference", "uncovered_bad_debt", "shortfall", "liquidated", "insurance_draw", "defaults",
              "perps_deficit", "perps_deleveraged", "perps_uncovered")
    per = {f: np.zeros((R, C)) for f in fields}
    loss = np.zeros((R, C, c.n))
    defaulted = np.zeros((R, C, c.n), bool)
    droot = np.full((R, C, c.n), -1)
    # A row's result never depends on its batch-mates (core.engine.run_batch; property-tested bit for bit in
    # tests/test_montecarlo.py), so the chunk goes to the engine in batches of up to MAX_BATCH_ROWS rows: a
    # group of cells times as many runs as fit. Loops are over batches, never over scenarios.
    group = max(1, MAX_BATCH_ROWS // UNIT)
    step = MONTE_CARLO_BATCH if C == 1 else max(1, MAX_BATCH_ROWS // min(C, group))
    # one cell (a Monte Carlo): the batch's runs deepest draw first, so the engine's cache-sized parts
    # (core.engine.staged) hold runs alike, each run's figures written back to its own row (``runs``). Several
    # cells keep their order: the batch-level switches (ScenarioBatch.costless, ...) read a part's rows, the same
    # in every part of one cell's batch, not of a grid's whose parts would then hold other cells' rows
    for a in range(0, R, step):
        b = min(a + step, R)
        order = deepest_first(c, mult[a:b], dep[a:b]) if C == 1 else np.arange(b - a)
        alike = bool((order != np.arange(b - a)).any())
        runs = a + order if alike else slice(a, b)
        for g0 in range(0, C, group):
            g1 = min(C, g0 + group)
            G = g1 - g0
            batch = scenario_batch(network, cells[g0:g1], repeat=b - a)
            # row (run j, cell i) = j*G + i: the draw of run j on the base of cell i
            shock = batch.shock * np.repeat(mult[a:b], G, 0)
            depeg = np.maximum(batch.depeg, np.repeat(dep[a:b], G, 0))
            batch = batch.replace(shock=shock, depeg=depeg)
            if job.model is not None and job.model.multi_step:  # a drawn path on top of each cell's own
                draws = job.model.draw_paths(job.seed, start + a, start + b)
                batch = with_paths(batch, draws, G, horizons=batch.horizons + draws.shape[1] - 1)
            elif job.model is not None and job.model.episode_paths is not None:  # the episodes' own paths
                e = np.repeat(ep[a:b], G)
                own = job.model.episode_paths
                draws = np.where((own.path_id[ep[a:b]] >= 0)[:, None, None], own.table[np.maximum(own.path_id[ep[a:b]], 0)], 0.0) \
                    if len(own.table) else np.zeros((b - a, 1, c.k))
                batch = with_paths(batch, draws, G, shock_rounds=own.shock_rounds[e],
                                   horizons=np.maximum(batch.horizons if batch.horizons is not None else batch.horizon,
                                                             job.model.episode_horizon[e]))
            if alike:  # rows (run j, cell i) = j*G + i, taken run by run in ``order``
                batch = batch_take(batch, (order[:, None] * G + np.arange(G)).ravel())
            res = run_batch(c, batch)
            shape = (b - a, G)
            blk = (runs, slice(g0, g1))
            per["total_loss"][blk] = res.total_loss.reshape(shape)
            per["bad_debt"][blk] = res.bad_debt.sum(1).reshape(shape)
            per["bad_debt_reference"][blk] = res.bad_debt_reference_usd.sum(1).reshape(shape)
            per["uncovered_bad_debt"][blk] = np.maximum(res.bad_debt - res.insurance_draw, 0.0).sum(1).reshape(shape)
            per["shortfall"][blk] = res.shortfall.reshape(shape)
            per["liquidated"][blk] = res.liquidated_usd.reshape(shape)
            per["insurance_draw"][blk] = res.insurance_draw.sum(1).reshape(shape)
            per["defaults"][blk] = res.defaulted.sum(1).reshape(shape)
            venues = res.perps_usd.sum(1)  # (rows, 7): the perpetuals venues' totals (core.engine.perps.TOTALS)
            if venues.size:
                per["perps_deficit"][blk] = venues[:, 1].reshape(shape)
                per["perps_deleveraged"][blk] = (venues[:, 4] + venues[:, 5]).reshape(shape)
                per["perps_uncovered"][blk] = venues[:, 6].reshape(shape)
            loss[blk] = res.loss.reshape(shape + (c.n,))
            defaulted[blk] = res.defaulted.reshape(shape + (c.n,))
            droot[blk] = res.default_round.reshape(shape + (c.n,))
    # per-unit sums over aligned units of UNIT runs (chunk boundaries are multiples of UNIT)
    L3, D3, R3 = loss, defaulted, droot
    cuts = np.arange(0, R, UNIT)
    loss_sum = np.stack([L3[u:u + UNIT].sum(0) for u in cuts]) if R else np.zeros((0, C, c.n))
    loss_sq = np.stack([(L3[u:u + UNIT] ** 2).sum(0) for u in cuts]) if R else np.zeros((0, C, c.n))
    dd, cc = job.edge_debtor, job.edge_creditor
    path = D3[:, :, dd] & D3[:, :, cc] & (R3[:, :, dd] <= R3[:, :, cc])
    return ChunkResult(
        start=start, per_run=per, episode=ep,
        loss_sum=loss_sum, loss_sq=loss_sq, default_count=D3.sum(0), path_count=path.sum(0),
    )


def deepest_first(c: Compiled, mult: np.ndarray, dep: np.ndarray) -> np.ndarray:
    """The runs of an engine batch in the order it hands them to the engine: those drawing a coin off its peg
    first, then by :func:`shock_depth`, deepest first (a stable sort: equal runs keep their order).

    Only the engine's parts (:mod:`core.engine.staged`, cache-sized) read the order: a run's result never depends
    on its batch-mates (:func:`core.engine.run_batch`), so any order gives the same figures, to the last bit. In
    this order a part holds runs alike, which the rounds run faster: the shallow runs all settle in the first
    rounds, no cohort due and nothing to liquidate, and the deep ones go on together with few rows to gather. A
    drawn depeg runs long (the shipped 2022 network, default spec, 5,000 runs: 31 drawing UST off its peg all ran
    the 12-round horizon, 20 drawing stETH 7.7 rounds, against 3.4 for the runs with none), whatever the
    collateral's move. With no move drawn (a drawn path, a sweep without a model) the runs keep their order.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> c = compile_network(synthetic(8, 20, seed=1))
    >>> mult, dep = np.exp(np.array([[-0.1] * c.k, [0.0] * c.k, [-0.5] * c.k])), np.zeros((3, c.k))
    >>> deepest_first(c, mult, dep).tolist()
    [2, 0, 1]
    >>> dep[1, 0] = 0.05  # run 1 draws a depeg: first
    >>> deepest_first(c, mult, dep).tolist()
    [1, 2, 0]
    """
    return np.lexsort((shock_depth(c, mult, dep), ~(dep > 0).any(1)))


def shock_depth(c: Compiled, mult: np.ndarray, dep: np.ndarray) -> np.ndarray:
    r"""(R,) how deep each run's draw cuts the value of the collateral the network's cohorts post:
    :math:`\sum_a w_a \log(m_a (1 - d_a))`, ``m`` the drawn price multipliers, ``d`` the drawn falls below peg,
    ``w_a`` the collateral of asset ``a`` at reference prices (USD): a key of :func:`deepest_first`.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> c = compile_network(synthetic(8, 20, seed=1))
    >>> depth = shock_depth(c, np.exp(np.array([[-0.5] * c.k, [0.0] * c.k, [-0.1] * c.k])), np.zeros((3, c.k)))
    >>> np.argsort(depth, kind="stable").tolist()
    [0, 2, 1]
    """
    collateral = np.bincount(c.c_ca, weights=c.c_coll * c.P0[c.c_ca], minlength=c.k)
    posted = collateral > 0  # (an asset no cohort posts moves no run's depth, even drawn to zero)
    with np.errstate(divide="ignore"):  # a collateral drawn to zero: depth -inf, the deepest
        return (np.log(mult[:, posted]) + np.log1p(-dep[:, posted])) @ collateral[posted]


#: Per-run fields behind each risk quantity (the ``losses`` table's columns).
_RISK_FIELDS = {"system_loss_usd": "total_loss", "bad_debt_usd": "bad_debt", "bad_debt_reference_usd": "bad_debt_reference",
               "insolvent_debt_usd": "shortfall",
                "liquidated_usd": "liquidated"}


def evaluate_chunk_streamed(network: Network, payload: tuple[Job, np.ndarray], start: int, stop: int) -> ChunkResult:
    """:func:`evaluate_chunk`, its per-run values reduced to :class:`~core.streaming_risk.Segment` summaries
    cut at the fold's boundaries ``payload[1]`` (the first cell's runs), so only O(buckets) travels back."""
    job, cuts = payload
    full = evaluate_chunk(network, job, start, stop)
    values = {q: full.per_run[f][:, 0] for q, f in _RISK_FIELDS.items()}
    segments = tuple(summarise(values, full.per_run["defaults"][:, 0], start, cuts))
    return ChunkResult(start=start, per_run={}, episode=np.zeros(0, dtype=np.int64), loss_sum=full.loss_sum,
                       loss_sq=full.loss_sq, default_count=full.default_count, path_count=full.path_count,
                       segments=segments)


class _StreamFold:
    """Folds streamed chunks in run order: per-entity sums exactly as :func:`_combine` adds them, risk segments."""

    def __init__(self, risk: RiskFold, confidences: Sequence[float], cells: int, entities: int, edges: int):
        self.risk, self.confidences = risk, tuple(confidences)
        self.loss_sum, self.loss_sq = np.zeros((cells, entities)), np.zeros((cells, entities))
        self.default_count = np.zeros((cells, entities), dtype=np.int64)
        self.path_count = np.zeros((cells, edges), dtype=np.int64)

    def __call__(self, part: ChunkResult) -> None:
        for u in range(len(part.loss_sum)):  # sequential, in run order, as _combine
            self.loss_sum += part.loss_sum[u]
            self.loss_sq += part.loss_sq[u]
        self.default_count += part.default_count
        self.path_count += part.path_count
        for seg in part.segments:
            self.risk.add(seg, self.confidences)


def monte_carlo_chunk(runs: int, workers: int) -> int:
    """Default runs per chunk of a Monte Carlo on ``workers`` threads or processes: as large as
    :data:`MONTE_CARLO_CHUNK` allows, in a number of chunks that is a multiple of ``workers`` (every one equally
    busy to the end), a multiple of :data:`~core.shock_model.UNIT`. Any chunk size gives the same figures, bit for
    bit (:mod:`core.montecarlo`, Seed stability).

    Examples
    --------
    >>> [monte_carlo_chunk(runs, 2) for runs in (200, 10_000, 20_000, 50_000)]
    [100, 5000, 10000, 8400]
    >>> monte_carlo_chunk(50_000, 1)
    10000
    """
    tasks = workers * -(-runs // (workers * MONTE_CARLO_CHUNK))
    return UNIT * max(1, -(-runs // (tasks * UNIT)))


@dataclass(frozen=True)
class Chunks(Sequence[tuple[int, int]]):
    """Runs ``0:runs`` cut every ``size`` runs, as ``(start, stop)`` pairs made when read: the chunk list of a
    Monte Carlo holds two numbers whatever its runs. (A list of the pairs held some 126 bytes a chunk for as long
    as the Monte Carlo ran, what a streamed run held more per run, 0.63 bytes a run in chunks of 200: session 46.)

    Examples
    --------
    >>> list(Chunks(250, 100)), len(Chunks(250, 100)), Chunks(250, 100)[-1]
    ([(0, 100), (100, 200), (200, 250)], 3, (200, 250))
    """

    runs: int
    size: int

    def __len__(self) -> int:
        return -(-self.runs // self.size)

    @overload
    def __getitem__(self, i: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, i: slice) -> list[tuple[int, int]]: ...

    def __getitem__(self, i: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        a = range(0, self.runs, self.size)[i]  # (a negative index counts from the end; past it, IndexError)
        return a, min(self.runs, a + self.size)


def _chunks(runs: int, chunk_size: int) -> Chunks:
    if chunk_size <= 0 or chunk_size % UNIT:
        raise DataValidationError([Problem("montecarlo", None, "chunk_size", chunk_size, f"a positive multiple of {UNIT}", "record")])
    return Chunks(runs, chunk_size)


def _edges(net: Network) -> pd.DataFrame:
    ex = net.exposures
    if not len(ex):
        return pd.DataFrame({"debtor": [], "creditor": [], "exposure_usd": []})
    return (ex.groupby(["debtor", "creditor"], sort=True)["amount_usd"].sum().rename("exposure_usd").reset_index())


@dataclass(frozen=True, eq=False)
class _Combined:
    runs: int
    per_run: dict[str, np.ndarray]   # (N, C)
    episode: np.ndarray
    loss_sum: np.ndarray             # (C, n)
    loss_sq: np.ndarray
    default_count: np.ndarray        # (C, n)
    path_count: np.ndarray           # (C, E)


def _combine(parts: Sequence[ChunkResult]) -> _Combined:
    """Join chunk results in run order (so any backend or worker count gives the same arrays)."""
    parts = sorted(parts, key=lambda p: p.start)
    per = {k_: np.concatenate([p.per_run[k_] for p in parts]) for k_ in parts[0].per_run}
    units_sum = np.concatenate([p.loss_sum for p in parts])
    units_sq = np.concatenate([p.loss_sq for p in parts])
    acc = np.zeros(units_sum.shape[1:])
    acc2 = np.zeros(units_sum.shape[1:])
    for u in range(len(units_sum)):  # sequential, in run order: independent of the chunking
        acc += units_sum[u]
        acc2 += units_sq[u]
    return _Combined(
        runs=len(per["total_loss"]), per_run=per, episode=np.concatenate([p.episode for p in parts]),
        loss_sum=acc, loss_sq=acc2,
        default_count=np.sum([p.default_count for p in parts], axis=0),
        path_count=np.sum([p.path_count for p in parts], axis=0),
    )


def _execute(network: Network, job: Job, runs: int, *, backend: str, workers: int | None, scheduler: Any,
             chunk_size: int, progress: ProgressFn | None) -> _Combined:
    from .backends import map_chunks

    chunks = _chunks(runs, chunk_size)
    parts = map_chunks(evaluate_chunk, network, job, chunks, backend=backend, workers=workers, scheduler=scheduler,
                       progress=progress, threads=True)
    return _combine(parts)

r"""Monte Carlo of correlated shocks: the distribution of system loss, bad debt and defaults.

A Monte Carlo draws correlated shocks (:mod:`core.shock_model`, with its
:mod:`core.correlation` matrix, paths in :mod:`core.montecarlo_paths`, or
historical replay of :mod:`core.episodes`) as a :mod:`core.montecarlo_spec` says,
runs each through the cascade engine in chunks (:mod:`core.montecarlo_chunks`,
on a :mod:`core.backends` backend), and reports risk measures
(:mod:`core.risk_measures`) in a :class:`~core.montecarlo_result.MonteCarloResult`.
Every public name of those modules is importable from here.

Seed stability
--------------
The draws of run :math:`i` come from the generator
``default_rng(SeedSequence(seed, spawn_key=(i // RNG_BLOCK,)))`` (the
``i // RNG_BLOCK``-th child of ``SeedSequence(seed).spawn``), always drawing a
whole block in a fixed order. A run's result never depends on what shares its
engine batch (:func:`core.engine.run_batch`), so a chunk goes to the engine in
batches as large as :data:`MAX_BATCH_ROWS` (a sweep) or :data:`MONTE_CARLO_BATCH` (one cell) allows; per-entity sums are formed per
aligned unit of :data:`UNIT` runs and added in run order. So the same seed
gives the same numbers, bit for bit, on any backend, any number of workers and
any chunk size (a multiple of :data:`UNIT`).


Contagion paths
---------------
For each exposure ``debtor → creditor`` (``exposures.csv``, aggregated per
pair) :math:`P(\text{path})` is the share of runs in which **both default and
the debtor defaults no later than the creditor** (round of default): the loss
on that claim may have carried the default along the edge. Beside it,
``p_debtor_default`` is the share of runs in which the edge carries a loss at
all (the debtor defaults, so the exposed creditor is written down).


References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  Springer. §2.3 (correlated normals by Cholesky), §9 (VaR).
* McNeil, A. J., Frey, R., & Embrechts, P. (2015). *Quantitative Risk
  Management*, revised ed. Princeton. §2.3 (VaR, ES), §6.2 (multivariate t).
* Acerbi, C., & Tasche, D. (2002). On the coherence of expected shortfall.
  *Journal of Banking & Finance*, 26(7), 1487–1503.
* Merton, R. C. (1976). Option pricing when underlying stock returns are
  discontinuous. *Journal of Financial Economics*, 3(1–2), 125–144.
* Efron, B., & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .chunks import engine_workers
from .correlation import PSD_TOL as PSD_TOL, correlation_matrix
from .engine import compile_network, scenario_batch as scenario_batch
from .episodes import load_episodes, select_episodes
from .montecarlo_chunks import (DEFAULT_CHUNK as DEFAULT_CHUNK, MAX_BATCH_ROWS as MAX_BATCH_ROWS,
                                MONTE_CARLO_BATCH as MONTE_CARLO_BATCH, MONTE_CARLO_CHUNK as MONTE_CARLO_CHUNK, ChunkResult, Job,
                                monte_carlo_chunk as monte_carlo_chunk,
                                ProgressFn as ProgressFn, _chunks, _Combined, _edges, _execute, _StreamFold,
                                evaluate_chunk, evaluate_chunk_streamed)
from .montecarlo_result import MonteCarloResult
from .montecarlo_spec import DEFAULT_DEPEGS, Depeg, Jump, MonteCarloSpec, load_spec, parse_spec
from .network import Network
from .results import loss_shares
from .risk_measures import (BOOTSTRAP_RESAMPLES as BOOTSTRAP_RESAMPLES, DEFAULT_CONFIDENCES as DEFAULT_CONFIDENCES,
                            RISK_QUANTITIES as RISK_QUANTITIES, SOLVENCY_TOL_USD as SOLVENCY_TOL_USD, binomial_se,
                            expected_shortfall, risk_table, value_at_risk)
from .shock_model import RNG_BLOCK, UNIT, ShockModel, correlated_returns
from .snapshots import dated
from .streaming_risk import RELATIVE_ACCURACY, SECTIONS, RiskFold
from .validation import DataValidationError, Problem


def run_montecarlo(network: Network, spec: MonteCarloSpec | Mapping[str, Any] | None = None, *, runs: int = 10_000,
                   seed: int = 0, backend: str = "inprocess", workers: int | None = None, scheduler: Any = None,
                   chunk_size: int | None = None, confidences: Sequence[float] = DEFAULT_CONFIDENCES,
                   progress: ProgressFn | None = None, streaming: bool = False) -> MonteCarloResult:
    """Monte Carlo of correlated shocks through the cascade engine.

    Parameters
    ----------
    network : Network
    spec : MonteCarloSpec or dict, optional
        Shock model and base conditions (default: normal one-day shocks, calm base, default depegs).
    runs : int, keyword-only
        Number of scenarios.
    seed : int
        The same seed gives the same result on every backend, worker count and chunk size.
    backend : {"inprocess", "processes", "dask"}
    workers : int, optional
        Local processes for ``"processes"`` (default: CPU count).
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or a client, for ``"dask"``.
    chunk_size : int, optional
        Runs per task, a multiple of :data:`UNIT` (default :func:`monte_carlo_chunk`: at most :data:`MONTE_CARLO_CHUNK`,
        in as many chunks as keep the engine's threads, or ``workers``, equally busy; each one engine batch, which
        the engine runs in cache-sized parts that share their last rounds, :mod:`core.engine.staged`).
    confidences : sequence of float
        Confidence levels of VaR and ES.
    progress : callable(done_runs, total_runs), optional
        Called as chunks finish (for a progress bar).
    streaming : bool, default False
        Keep no per-run table: memory stays flat in the number of runs (see
        :mod:`core.streaming_risk`). ``losses`` is then empty (its columns kept); VaR and ES come from
        a log-bucket sketch within 0.1 % of the exact figures, their standard errors from 20 sections
        instead of the bootstrap; the entity and path tables are the same as without streaming, bit for bit.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    DataValidationError
        Bad spec, runs, chunk size, or a correlation matrix that is not positive semi-definite; a base scenario
        ``date`` the network cannot be put at (every run is on the parameters of the base's date, as
        :func:`core.simulate` runs it: :func:`core.snapshots.dated`).

    Examples
    --------
    >>> from core import datasets
    >>> res = run_montecarlo(datasets.load("crypto-2022-05"), {"dist": "t"}, runs=200, seed=7, chunk_size=100)
    >>> list(res.risk.columns)
    ['quantity', 'metric', 'confidence', 'horizon_days', 'value', 'standard_error', 'runs']
    """
    t0 = time.perf_counter()
    spec = spec if isinstance(spec, MonteCarloSpec) else parse_spec(dict(spec or {}))
    _check_runs(runs, seed, confidences)
    if chunk_size is None:  # (threads in process; the processes or the machine's cores elsewhere)
        chunk_size = monte_carlo_chunk(runs, engine_workers() if backend == "inprocess" else workers or os.cpu_count() or 1)
    spec.base.check_against(network)
    network = dated(network, spec.base.date)  # the base's date: its day's parameters (as core.simulate), or refused
    model = ShockModel.from_spec(network, spec)
    edges = _edges(network)
    job = Job(cells=(spec.base.model_dump_json(),), model=model, seed=int(seed),
              edge_debtor=network.entity_pos(edges["debtor"]), edge_creditor=network.entity_pos(edges["creditor"]))
    c = compile_network(network)
    sys_eq = float(np.maximum(c.E0, 0).sum())
    if streaming:
        comb, losses, risk, convergence = _streamed(network, job, runs, spec, model, sys_eq, confidences,
                                                    backend=backend, workers=workers, scheduler=scheduler,
                                                    chunk_size=chunk_size, progress=progress)
    else:
        comb = _execute(network, job, runs, backend=backend, workers=workers, scheduler=scheduler,
                        chunk_size=chunk_size, progress=progress)
        losses = _losses_table(comb.per_run, sys_eq, runs)
        if model.source == "historical":
            losses["episode"] = np.asarray(model.episode_names, dtype=object)[comb.episode]
        risk = risk_table({q: losses[q].to_numpy() for q in RISK_QUANTITIES}, confidences,
                          horizon_days=spec.horizon_days, seed=seed)
        convergence = _convergence(losses)
    N = runs
    pd_ = comb.default_count[0] / N
    el = comb.loss_sum[0] / N
    el_var = np.maximum(comb.loss_sq[0] / N - el ** 2, 0.0) * N / max(N - 1, 1)
    ent = network.entities
    entities = pd.DataFrame({
        "entity": ent["id"].to_numpy(), "name": ent["name"].to_numpy(), "type": ent["type"].to_numpy(),
        "initial_equity_usd": c.E0,
        "probability_of_default": pd_, "pd_standard_error": binomial_se(pd_, N),
        "expected_loss_usd": el, "el_standard_error": np.sqrt(el_var / N),
        "expected_loss_share": loss_shares(el, c.E0, c.equity_floor),
    }).sort_values(["probability_of_default", "expected_loss_usd"], ascending=False, kind="stable").reset_index(drop=True)
    pdd = pd_[job.edge_debtor]
    pp = comb.path_count[0] / N
    paths = edges.assign(p_debtor_default=pdd, p_debtor_default_se=binomial_se(pdd, N),
                         probability=pp, standard_error=binomial_se(pp, N))
    paths = paths.sort_values(["probability", "p_debtor_default", "exposure_usd"], ascending=False, kind="stable").reset_index(drop=True)
    meta = {
        "runs": runs, "seed": int(seed), "backend": backend, "chunk_size": chunk_size, "rng_block": RNG_BLOCK,
        "horizon_days": spec.horizon_days, "confidences": list(confidences), "system_equity_usd": sys_eq,
        "network": network.name, "spec": json.loads(spec.model_dump_json()),
        **({"episodes": list(model.episode_names), "episodes_skipped": dict(model.episodes_skipped)} if model.source == "historical" else {}),
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "definitions": {
            "VaR": "inf{l: F_N(l) >= confidence}, numpy inverted_cdf quantile of per-run losses",
            "ES": "Acerbi-Tasche: mean of the worst N(1-confidence) losses (fractional weight on the last)",
            "path probability": "share of runs where debtor and creditor both default and the debtor defaults no later",
            "p_debtor_default": "share of runs where the debtor defaults, so the exposed creditor bears a loss",
        },
    }
    if streaming:
        meta["streaming"] = {"sketch_relative_accuracy": RELATIVE_ACCURACY, "sections": SECTIONS}
        meta["definitions"]["VaR"] = ("inf{l: F_N(l) >= confidence} read from a log-bucket sketch (DDSketch), within "
                                      f"{RELATIVE_ACCURACY:.1%} of the empirical quantile (0.01 USD near zero)")
        meta["definitions"]["ES"] = ("Acerbi-Tasche ES over the sketch's buckets, within "
                                     f"{RELATIVE_ACCURACY:.1%} of the empirical ES (0.01 USD near zero)")
        meta["definitions"]["VaR and ES standard errors"] = f"sectioning: sd of {SECTIONS} sections' estimates / sqrt({SECTIONS})"
    return MonteCarloResult(losses=losses, risk=risk, entities=entities, paths=paths,
                            convergence=convergence, meta=meta)


def _losses_table(per_run: Mapping[str, np.ndarray], sys_eq: float, runs: int) -> pd.DataFrame:
    """The per-run table (empty, its columns kept, for a streamed run)."""
    pr = {k_: v[:, 0] for k_, v in per_run.items()} if per_run else \
        {f: np.zeros(0) for f in ("total_loss", "bad_debt", "bad_debt_reference", "uncovered_bad_debt", "shortfall", "liquidated",
                                  "insurance_draw", "defaults")}
    return pd.DataFrame({
        "run": np.arange(len(pr["total_loss"])),
        "system_loss_usd": pr["total_loss"],
        "loss_share": pr["total_loss"] / sys_eq if sys_eq > 0 else np.zeros(len(pr["total_loss"])),
        "bad_debt_usd": pr["bad_debt"],
        "bad_debt_reference_usd": pr["bad_debt_reference"],
        "uncovered_bad_debt_usd": pr["uncovered_bad_debt"],
        "insolvent_debt_usd": pr["shortfall"],
        "liquidated_usd": pr["liquidated"],
        "insurance_draw_usd": pr["insurance_draw"],
        "defaults": pr["defaults"].astype(int),
    })


def _streamed(network: Network, job: Job, runs: int, spec: MonteCarloSpec, model: ShockModel, sys_eq: float,
              confidences: Sequence[float], *, backend: str, workers: int | None, scheduler: Any, chunk_size: int,
              progress: ProgressFn | None) -> tuple[_Combined, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A Monte Carlo whose chunks are summarised where they run and folded in run order as they arrive."""
    from .backends import map_chunks

    risk = RiskFold(RISK_QUANTITIES, runs, _marks(runs), "system_loss_usd")
    fold = _StreamFold(risk, confidences, len(job.cells), compile_network(network).n, len(job.edge_debtor))
    map_chunks(evaluate_chunk_streamed, network, (job, risk.cuts), _chunks(runs, chunk_size), backend=backend,
               workers=workers, scheduler=scheduler, progress=progress, consume=fold, threads=True)
    comb = _Combined(runs=runs, per_run={}, episode=np.zeros(0, dtype=np.int64), loss_sum=fold.loss_sum,
                     loss_sq=fold.loss_sq, default_count=fold.default_count, path_count=fold.path_count)
    losses = _losses_table({}, sys_eq, 0)
    if model.source == "historical":
        losses["episode"] = np.zeros(0, dtype=object)
    return comb, losses, risk.risk_table(confidences, spec.horizon_days), risk.convergence_table()


def _check_runs(runs: int, seed: int, confidences: Sequence[float]) -> None:
    problems = []
    if not isinstance(runs, (int, np.integer)) or runs < 1:
        problems.append(Problem("montecarlo", None, "runs", runs, "a positive number of runs", "record"))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(Problem("montecarlo", None, "seed", seed, "a non-negative integer seed", "record"))
    for a in confidences:
        if not (0.0 < a < 1.0):
            problems.append(Problem("montecarlo", None, "confidence", a, "a confidence level in (0, 1)", "record"))
    if problems:
        raise DataValidationError(problems)


def _marks(N: int) -> list[int]:
    """1-2-5 checkpoints of the number of runs, and N."""
    return sorted({m for e in range(2, 9) for m in (10 ** e, 2 * 10 ** e, 5 * 10 ** e) if m < N} | {N})


def _convergence(losses: pd.DataFrame) -> pd.DataFrame:
    """Running estimates at 1-2-5 checkpoints of the number of runs, with their standard errors."""
    N = len(losses)
    marks = _marks(N)
    x = losses["system_loss_usd"].to_numpy()
    d = (losses["defaults"].to_numpy() > 0).astype(float)
    rows = []
    for m in marks:
        p = d[:m].mean()
        rows.append({"runs": m, "mean_loss_usd": x[:m].mean(),
                     "mean_loss_se": x[:m].std(ddof=1) / math.sqrt(m) if m > 1 else np.nan,
                     "p_any_default": p, "p_any_default_se": float(binomial_se(p, m)),
                     "var_99_loss_usd": value_at_risk(x[:m], 0.99)})
    return pd.DataFrame(rows)


__all__ = [
    "Jump", "Depeg", "DEFAULT_DEPEGS", "MonteCarloSpec", "parse_spec", "load_spec",
    "correlation_matrix", "ShockModel", "correlated_returns", "load_episodes", "select_episodes",
    "value_at_risk", "expected_shortfall", "risk_table", "binomial_se",
    "Job", "ChunkResult", "evaluate_chunk", "MonteCarloResult", "run_montecarlo",
    "RNG_BLOCK", "UNIT",
]

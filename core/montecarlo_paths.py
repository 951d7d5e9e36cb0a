r"""Multi-step Monte Carlo paths: the correlated shock model drawn round by round instead of as one jump.

Model
-----
Over a horizon of :math:`h` days cut into steps of :math:`\Delta` days (one
round of the base scenario: ``round_hours / 24``; the last step takes what is
left, so the steps add up to :math:`h`), the log-returns of the diffusing
assets in step :math:`t` are

.. math:: r_t = \operatorname{diag}(\sigma \sqrt{\Delta_t})\, A\, \varepsilon_t, \qquad A A^\top = C,

the model of :mod:`core.montecarlo` with one independent
:math:`\varepsilon_t` per step (normal, or multivariate Student-t with its own
:math:`W_t \sim \chi^2_\nu` per step). The cumulative log-move
:math:`x_t = \sum_{s \le t} r_s` is the exogenous path of the cascade
(:mod:`core.paths`): round :math:`t` opens at the last close times
:math:`e^{r_t}`. For the normal model the terminal move has exactly the
law of the one-jump :math:`\sqrt h` model; for the t it is a sum of t
steps (thinner-tailed than one t jump over the same horizon, as daily
returns aggregate).

Events keep their probability over the horizon and gain a date: a jump or
a depeg that happens with probability :math:`p` a day occurs by the end of
step :math:`t` with probability :math:`1 - (1-p)^{T_t}`
(:math:`T_t` the days elapsed), so the uniform draw :math:`u` that decides
whether it happens at all (:math:`u < 1 - (1-p)^h`) also dates it: the first
step with :math:`u < 1 - (1-p)^{T_t}` (the inverse of the geometric
distribution). From that step on the jump adds :math:`J` to the asset's
log-move and a depeg :math:`\ln(1 - \text{size})` to the token's. Pegged
followers take their unit's path plus their own jumps and depegs.

Seeds
-----
Step 1 uses exactly the draws of the one-jump model (the block generator
of run :math:`i`, ``SeedSequence(seed, spawn_key=(i // RNG_BLOCK,))``), so
a one-step path is the jump model bit for bit. Steps 2 and later of the
:data:`~core.montecarlo.UNIT` runs of unit :math:`u` of block :math:`b` come
from ``SeedSequence(seed, spawn_key=(b, 1 + u))`` (the block sequence's
children), drawn whole in a fixed order: the same seed gives the same
paths on every backend and chunking (chunks are whole units). Memory is
one unit's path at a time: ``UNIT × steps × assets`` numbers.

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  §3.1 (paths of Brownian motion by independent increments), §2.3 (Cholesky).
* McNeil, A. J., Frey, R., & Embrechts, P. (2015). *Quantitative Risk
  Management*. §6.2 (multivariate t).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .paths import ExogenousPaths, _last_move

#: Most steps a Monte Carlo path may have (the scenario horizon's cap).
MAX_STEPS = 365


def step_days(horizon_days: float, round_hours: float) -> np.ndarray:
    """Lengths in days of the steps of a path over ``horizon_days`` in rounds of ``round_hours``.

    >>> step_days(3.0, 24.0).tolist(), step_days(1.5, 24.0).tolist(), step_days(0.5, 24.0).tolist()
    ([1.0, 1.0, 1.0], [1.0, 0.5], [0.5])
    """
    delta = round_hours / 24.0
    n = max(1, math.ceil(horizon_days / delta - 1e-9))
    steps = np.full(n, delta)
    steps[-1] = horizon_days - (n - 1) * delta
    return steps


def event_steps(u: np.ndarray, p_daily: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    """Step (0-based) in which an event with daily probability ``p_daily`` decided by uniform ``u`` happens; ``n`` = never.

    ``u`` (S, m), ``p_daily`` (m,), ``elapsed`` (n,) days at the end of each step.

    With ``p = 0.2`` a day the event has happened by days 1, 2, 3 with probabilities 0.2, 0.36, 0.488:

    >>> event_steps(np.array([[0.05, 0.3, 0.45, 0.99]]), np.full(4, 0.2), np.array([1.0, 2.0, 3.0])).tolist()
    [[0, 1, 2, 3]]
    """
    cdf = 1.0 - (1.0 - p_daily[None, :]) ** elapsed[:, None]   # (n, m): P(event by the end of step t)
    return (u[:, None, :] >= cdf[None]).sum(1)


def unit_path(model: Any, seed: int, block: int, unit_in_block: int, raw: dict[str, np.ndarray]) -> np.ndarray:
    """Cumulative log-moves (UNIT, steps, k) of one unit of runs; ``raw`` are the unit's rows of its block's step-1 draws."""
    steps = model.path_steps
    n, k, d = len(steps), model.k, len(model.diffusing)
    U = len(raw["z"])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, 1 + unit_in_block)))
    z = np.concatenate([raw["z"][None], rng.standard_normal((n - 1, U, d))])      # (n, U, d)
    w = np.concatenate([raw["w"][None], rng.chisquare(model.df, (n - 1, U))])       # (n, U)
    if model.dist == "t":
        z = z * np.sqrt((model.df - 2.0) / w)[..., None]
    inc = (z @ model.factor.T) * model.daily_scale * np.sqrt(steps)[:, None, None]
    x = np.zeros((U, n, k))
    x[:, :, model.diffusing] = np.cumsum(inc, 0).transpose(1, 0, 2)
    elapsed = np.cumsum(steps)
    on = np.arange(n)[None, :, None]
    jump = np.zeros((U, n, k))
    if len(model.jump_asset):
        size = np.where(raw["ju"] < model.jump_p, model.jump_mean + model.jump_sd * raw["jz"], 0.0)
        when = event_steps(raw["ju"], model.jump_p_daily, elapsed)
        jump[:, :, model.jump_asset] = size[:, None, :] * (on >= when[:, None, :])
    x += jump
    for i, u in zip(model.follow_order, model.follow_unit):  # a few pegged assets, not runs
        x[:, :, i] = (x[:, :, u] if u >= 0 else 0.0) + jump[:, :, i]
    if len(model.depeg_asset):
        size = np.where(raw["du"] < model.depeg_p, model.depeg_lo + (model.depeg_hi - model.depeg_lo) * raw["ds"], 0.0)
        when = event_steps(raw["du"], model.depeg_p_daily, elapsed)
        x[:, :, model.depeg_asset] += np.log1p(-size)[:, None, :] * (on >= when[:, None, :])
    return x


def with_paths(batch: Any, draws: np.ndarray, cells: int, *, shock_rounds: np.ndarray | None = None,
               horizons: np.ndarray) -> Any:
    """The engine batch with each run's drawn path on top of its cell's own path.

    Rows are (run j, cell i) = ``j * cells + i`` (as :func:`core.montecarlo.evaluate_chunk` builds them);
    ``draws`` (J, T, k) are cumulative log-moves per run. A cell's explicit price paths add to the draw
    (log-moves add, as multipliers multiply); a table row is kept per (run, distinct cell path).
    """
    own = batch.paths
    J, T0, k = draws.shape
    T = max(T0, own.table.shape[1] if len(own.table) else 1)

    def carried(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, np.repeat(a[:, -1:], T - a.shape[1], 1)], 1) if a.shape[1] < T else a

    cell_tables = np.concatenate([np.zeros((1, T, k)), carried(own.table)]) if len(own.table) else np.zeros((1, T, k))
    table = (carried(draws)[:, None] + cell_tables[None]).reshape(J * len(cell_tables), T, k)
    run = np.arange(batch.S) // cells
    paths = ExogenousPaths(own.shock_rounds if shock_rounds is None else np.maximum(own.shock_rounds, shock_rounds),
                           run * len(cell_tables) + own.path_id + 1, table, _last_move(table))
    return dataclasses.replace(batch, paths=paths, horizons=horizons, horizon=int(horizons.max()))

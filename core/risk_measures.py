r"""Risk measures of a Monte Carlo: VaR and expected shortfall, with their standard errors.

Risk measures
-------------
For losses :math:`L_1, \dots, L_N` (positive = loss) at confidence :math:`\alpha`:

* :math:`\mathrm{VaR}_\alpha = \inf\{\ell : \hat F_N(\ell) \ge \alpha\}`, the
  empirical quantile (``numpy.quantile(..., method="inverted_cdf")``);
* :math:`\mathrm{ES}_\alpha = \frac{1}{1-\alpha}\int_\alpha^1 \mathrm{VaR}_u\,du`
  of the empirical distribution, the Acerbi–Tasche (2002) estimator: the mean
  of the worst :math:`w = N(1-\alpha)` losses, the last one weighted by the
  fractional part of :math:`w`.

Standard errors: binomial :math:`\sqrt{\hat p(1-\hat p)/N}` for probabilities,
:math:`s/\sqrt N` for means, and a bootstrap (:data:`BOOTSTRAP_RESAMPLES`
resamples with a generator fixed by the seed) for VaR and ES.


References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  Springer. §2.3 (correlated normals by Cholesky), §9 (VaR).
* McNeil, A. J., Frey, R., & Embrechts, P. (2015). *Quantitative Risk
  Management*, revised ed. Princeton. §2.3 (VaR, ES), §6.2 (multivariate t).
* Acerbi, C., & Tasche, D. (2002). On the coherence of expected shortfall.
  *Journal of Banking & Finance*, 26(7), 1487–1503.
* Efron, B., & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .chunks import engine_workers


#: Bootstrap resamples for the standard errors of VaR and ES.
BOOTSTRAP_RESAMPLES = 200
#: Fewest draws in a bootstrap block (resamples x runs) whose quantities :func:`risk_table` works on threads: five
#: quantities, 200 resamples, wall medians of 40 alternating turns at load 8.4, threaded against serial: 200 runs
#: 7.59 against 2.40 ms (a pool's start), 1,000 runs 1.04x, 2,000 runs 1.00x, 5,000 runs 0.86x.
THREADED_BOOTSTRAP_DRAWS = 1_000_000
#: Confidence levels reported by default.
DEFAULT_CONFIDENCES: tuple[float, ...] = (0.95, 0.99)
#: Loss below which a run counts as free of uncovered bad debt (USD; floating-point slack).
SOLVENCY_TOL_USD = 1.0
#: Per-run quantities whose VaR and ES are reported.
#: ``bad_debt_usd`` is marked at each run's closing prices, ``bad_debt_reference_usd`` the same shortfalls' units at
#: their debt tokens' reference prices, Maker's with what End, caged above the market, leaves DAI's holders short
#: (:mod:`core.engine.reference_bad_debt`).
RISK_QUANTITIES: tuple[str, ...] = ("system_loss_usd", "bad_debt_usd", "bad_debt_reference_usd", "insolvent_debt_usd",
                                    "liquidated_usd")



def value_at_risk(losses: np.ndarray, confidence: float) -> float:
    """Empirical VaR: ``inf{l : F_N(l) ≥ confidence}`` of positive losses (McNeil–Frey–Embrechts 2015, §2.3).

    Parameters
    ----------
    losses : ndarray
        One loss per run (USD).
    confidence : float
        In (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> value_at_risk(np.arange(1, 101), 0.95)
    95.0
    """
    x = np.asarray(losses, dtype=float)
    if not len(x):
        return float("nan")
    return float(np.quantile(x, confidence, method="inverted_cdf"))


def expected_shortfall(losses: np.ndarray, confidence: float) -> float:
    """Acerbi–Tasche (2002) ES: ``(1/(1-α)) ∫_α^1 VaR_u du`` of the empirical distribution.

    The mean of the worst ``w = N(1-α)`` losses, the last weighted by the fractional part of ``w``.

    Parameters
    ----------
    losses : ndarray
        One loss per run (USD).
    confidence : float
        ``α``, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> expected_shortfall(np.arange(1, 101), 0.95)
    98.0
    """
    x = np.sort(np.asarray(losses, dtype=float))[None, ::-1]
    return float(_es_sorted_desc(x, confidence)[0]) if x.size else float("nan")


def _tail_length(n: int, confidences: Sequence[float]) -> int:
    """Largest values of ``n`` that VaR and ES at every confidence read (the order statistics from
    :func:`_var_sorted_asc`'s index up, and the ``floor(n(1-c)) + 1`` worst for ES)."""
    need = [n - _var_index(n, a) for a in confidences]
    need += [int(math.floor(round(n * (1.0 - a), 9))) + 1 for a in confidences]
    return min(n, max(need, default=n))


def _sorted_tail(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values of each row of ``x``, sorted ascending: the last ``k`` columns of
    ``np.sort(x, axis=1)`` value for value (a partition then a sort of the tail, O(n + k log k) per row)."""
    n = x.shape[1]
    if k >= n:
        return np.sort(x, axis=1)
    return np.sort(np.partition(x, n - k, axis=1)[:, n - k:], axis=1)


def _resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """``counts[r, i]``: how many times resample ``r`` (a row of ``idx``, indices into ``n`` runs) drew run ``i``
    (one ``bincount`` over the rows offset by ``r * n``; ``idx`` is overwritten)."""
    idx += (np.arange(len(idx), dtype=idx.dtype) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=len(idx) * n).reshape(len(idx), n)


def _ordered(x: np.ndarray) -> bool:
    """Whether sorting ``x`` orders its bits uniquely: no NaN, and not both signs of zero (ties then hold the
    same bits, so any sort of a resample gives the same array)."""
    zeros = x[x == 0.0]
    return not np.isnan(x).any() and not (np.signbit(zeros).any() and not np.signbit(zeros).all())


def _tails_from_counts(values_asc: np.ndarray, order: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """:func:`_sorted_tail` of the resamples ``x[idx]`` from their counts (:func:`_resample_counts`), with
    ``values_asc = x[order]`` sorted ascending: each resample's sorted values are ``values_asc`` each repeated
    as often as the resample drew it, so its ``k`` largest are read from the top runs of ``order`` alone, as
    many as hold ``k`` draws in every resample, O(resamples x k) instead of a partition of every resample.
    The same array bit for bit where :func:`_ordered` holds (equal values are then the same bits)."""
    B, n = counts.shape
    # A resample's draws among the ``top`` largest runs are Binomial(n, top/n), about ``top`` give or take
    # ``√top``: with eight standard deviations over ``k`` one gather holds ``k`` draws in every resample (a
    # margin of 64 alone needed a second gather of twice the columns at every n measured: 20k to 1M runs)
    top = min(n, k + 64 + math.ceil(8.0 * math.sqrt(k)))
    while True:
        c = counts[:, order[n - top:]]              # draws of the ``top`` largest values, ascending
        total = c.sum(1)
        if top == n or total.min() >= k:
            break
        top = min(n, 2 * top)
    flat = np.repeat(np.broadcast_to(values_asc[n - top:], c.shape).ravel(), c.ravel())
    end = np.cumsum(total)                           # each resample's values end here in ``flat``
    return flat[(end - k)[:, None] + np.arange(k)]


def _es_sorted_desc(xd: np.ndarray, alpha: float, n: int | None = None) -> np.ndarray:
    """ES along axis 1 of losses sorted in descending order (the ``n`` runs' worst first; ``xd`` may hold only
    the worst of them, enough for :func:`_tail_length`)."""
    n = xd.shape[1] if n is None else n
    w = round(n * (1.0 - alpha), 9)
    m = int(math.floor(w))
    top = xd[:, :m].sum(1) if m else np.zeros(len(xd))
    frac = w - m
    if frac > 0 and m < n:
        top = top + frac * xd[:, m]
    return top / w if w > 0 else xd[:, 0]


def _var_index(n: int, alpha: float) -> int:
    """Index of the VaR in ``n`` losses sorted ascending (numpy's inverted_cdf)."""
    v = n * alpha - 1
    lo = math.floor(v)
    return min(max(lo + (1 if v - lo > 0 else 0), 0), n - 1)


def _var_sorted_asc(xs: np.ndarray, alpha: float, n: int | None = None) -> np.ndarray:
    """VaR along axis 1 of losses sorted ascending (numpy's inverted_cdf index); ``xs`` may hold only the
    largest of ``n`` runs (the last columns of the full sort)."""
    n = xs.shape[1] if n is None else n
    return xs[:, _var_index(n, alpha) - (n - xs.shape[1])]


def risk_table(samples: Mapping[str, np.ndarray], confidences: Sequence[float] = DEFAULT_CONFIDENCES, *,
               horizon_days: float = 1.0, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """Mean, VaR and ES of each per-run quantity, each with its standard error.

    Standard errors: ``s/√N`` for the mean; bootstrap (``resamples`` resamples,
    generator fixed by ``seed``) for VaR and ES.

    Parameters
    ----------
    samples : mapping of str to ndarray
        One array of per-run values per quantity.
    confidences : sequence of float
        Levels of VaR and ES.
    horizon_days : float
        Recorded in the table.
    seed, resamples : int
        The bootstrap's generator seed and number of resamples.

    Returns
    -------
    pandas.DataFrame
        Columns ``quantity, metric`` (mean, VaR, ES), ``confidence``
        (NaN for the mean), ``horizon_days, value, standard_error, runs``.

    Examples
    --------
    >>> t = risk_table({"loss": np.arange(1.0, 101.0)}, (0.95,))
    >>> t[["metric", "value", "runs"]].values.tolist()
    [['mean', 50.5, 100], ['VaR', 95.0, 100], ['ES', 98.0, 100]]
    """
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))  # not a run block
    first = next(iter(samples.values()), np.zeros(0))
    N = len(first)
    xs = {q: np.asarray(x, float) for q, x in samples.items()}
    # each block of resamples is reduced to its VaR and ES as soon as it is sorted: memory O(block x N), not
    # O(resamples x N) (the same draws in the same order, so the same standard errors bit for bit)
    boot_var: dict[tuple[str, float], list[np.ndarray]] = {(q, a): [] for q in samples for a in confidences}
    boot_es: dict[tuple[str, float], list[np.ndarray]] = {(q, a): [] for q in samples for a in confidences}
    if N > 1 and resamples > 0:
        # each resample's sorted values are read from how often it drew each run (_tails_from_counts): one count
        # of the draws for every quantity; a sample whose sort is not unique in its bits (NaN, both signed zeros)
        # takes the resamples themselves: a partition, slower than numpy's sort on samples of few distinct values
        # (e.g. zero bad debt in most runs), which are then sorted in full. Every way the same order statistics,
        # so the same figures bit for bit.
        k = _tail_length(N, confidences)
        counted = {q: _ordered(x) for q, x in xs.items()}
        order = {q: np.argsort(x, kind="stable") for q, x in xs.items() if counted[q]}
        tail = {q: k if 2 * len(np.unique(x)) >= N else N for q, x in xs.items() if not counted[q]}
        step = max(1, min(resamples, 4_000_000 // N))
        for b0 in range(0, resamples, step):
            idx = rng.integers(0, N, (min(step, resamples - b0), N))
            counts = _resample_counts(idx.copy() if not all(counted.values()) else idx, N) \
                if any(counted.values()) else None

            def figures(q: str, idx: np.ndarray = idx, counts: np.ndarray | None = counts) -> list[tuple[np.ndarray, np.ndarray]]:
                """One quantity's VaR and ES of each resample of the block, per confidence."""
                x = xs[q]
                s = _tails_from_counts(x[order[q]], order[q], counts, k) if counts is not None and counted[q] \
                    else _sorted_tail(x[idx], tail[q])
                # copies: a view would keep the whole sorted block alive
                return [(np.array(_var_sorted_asc(s, a, N)), np.array(_es_sorted_desc(s[:, ::-1], a, N)))
                        for a in confidences]

            for q, per_level in zip(xs, _each(figures, list(xs), idx.size >= THREADED_BOOTSTRAP_DRAWS)):
                for a, (v, e) in zip(confidences, per_level):
                    boot_var[q, a].append(v)
                    boot_es[q, a].append(e)
            del idx, counts
    for q, x in xs.items():
        rows.append({"quantity": q, "metric": "mean", "confidence": np.nan, "value": float(x.mean()) if N else np.nan,
                     "standard_error": float(x.std(ddof=1) / math.sqrt(N)) if N > 1 else np.nan})
        for a in confidences:
            se_v = se_e = np.nan
            if boot_var[q, a]:
                se_v = float(np.concatenate(boot_var[q, a]).std(ddof=1))
                se_e = float(np.concatenate(boot_es[q, a]).std(ddof=1))
            rows.append({"quantity": q, "metric": "VaR", "confidence": a, "value": value_at_risk(x, a), "standard_error": se_v})
            rows.append({"quantity": q, "metric": "ES", "confidence": a, "value": expected_shortfall(x, a), "standard_error": se_e})
    out = pd.DataFrame(rows, columns=["quantity", "metric", "confidence", "value", "standard_error"])
    out.insert(3, "horizon_days", float(horizon_days))
    out["runs"] = N
    return out


def _each(fn: Callable[[str], Any], keys: list[str], threaded: bool) -> list[Any]:
    """``[fn(q) for q in keys]``, where ``threaded`` the quantities side by side on the engine's threads
    (:func:`core.chunks.engine_workers`; one inside a Monte Carlo chunk's thread): each reads the block's shared draws
    and writes only its own figures, so the same arrays, bit for bit. A Monte Carlo's bootstrap runs after its chunks,
    alone (its sorts and gathers release the GIL)."""
    workers = min(engine_workers(), len(keys)) if threaded else 1
    if workers <= 1:
        return [fn(q) for q in keys]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfm-risk") as ex:
        return list(ex.map(fn, keys))


def binomial_se(p: np.ndarray | float, n: int) -> np.ndarray:
    """Standard error ``√(p(1-p)/n)`` of a frequency ``p`` over ``n`` runs.

    Parameters
    ----------
    p : float or ndarray
        Frequencies in [0, 1].
    n : int
        Number of runs.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> binomial_se(np.array([0.5, 0.1, 0.0]), 100).round(6).tolist()
    [0.05, 0.03, 0.0]
    """
    return np.sqrt(np.clip(np.asarray(p, float) * (1 - np.asarray(p, float)), 0, None) / max(n, 1))

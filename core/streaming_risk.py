r"""Risk measures of a Monte Carlo in memory that does not grow with the number of runs.

A streamed Monte Carlo keeps no per-run table: each chunk of runs is reduced to
a few summaries as it finishes, and the summaries are folded in run order.

Quantiles: a log-bucket histogram (DDSketch)
--------------------------------------------
Masson, Rim & Lee (2019) bucket a value :math:`x` with :math:`|x| \ge x_{\min}` by

.. math:: i = \lceil \log_\gamma (|x| / x_{\min}) \rceil, \qquad
          \gamma = \frac{1+\alpha}{1-\alpha},

so bucket :math:`i` holds :math:`(x_{\min}\gamma^{i-1}, x_{\min}\gamma^{i}]` (its sign kept
apart), and represent the bucket by :math:`\tilde x_i = 2 x_{\min}\gamma^{i}/(\gamma+1)`,
which is within relative :math:`\alpha` of every value in it. Values with
:math:`|x| < x_{\min}` share one bucket represented by 0. The buckets are
ordered like the values, so the :math:`k`-th smallest value falls in the bucket
whose representative is the :math:`k`-th smallest representative, and

* **VaR** (the empirical ``inverted_cdf`` quantile, the rank of
  :func:`core.montecarlo.value_at_risk`) read from the cumulative counts is
  within :math:`\alpha |\mathrm{VaR}| + x_{\min}` of the exact one;
* **ES** (Acerbi--Tasche 2002: the mean of the worst :math:`N(1-c)` losses,
  the last one weighted by the fractional part) taken over the representatives
  is a weighted mean of per-value errors, so it too is within
  :math:`\alpha \cdot` (mean of the worst absolute values) :math:`+ x_{\min}` of the exact one.

With :data:`RELATIVE_ACCURACY` = 0.1 % and :data:`MIN_USD` = 1 cent, a sketch
of losses up to :data:`MAX_USD` has about 46,000 integer buckets (0.37 MB),
whatever the number of runs. Counts are integers, so sketches add exactly, in
any order.

Means: Welford's running mean and sum of squared deviations, merged across
segments by Chan, Golub & LeVeque's pairwise update, in run order.

Standard errors of VaR and ES: sectioning
-----------------------------------------
The runs are cut into :data:`SECTIONS` consecutive sections; VaR and ES are
estimated in each from its own sketch, and the standard error of the
whole-run estimate is :math:`s_K / \sqrt{K}` with :math:`s_K` the standard
deviation of the :math:`K` section estimates (Asmussen & Glynn 2007, §III.5;
Nakayama 2014 for quantiles). It needs no resampling and no stored runs: the
bootstrap of the exact mode needs every run.

References
----------
* Masson, C., Rim, J. E., & Lee, H. K. (2019). DDSketch: a fast and fully-mergeable
  quantile sketch with relative-error guarantees. *PVLDB* 12(12), 2195--2205.
* Acerbi, C., & Tasche, D. (2002). On the coherence of expected shortfall.
  *Journal of Banking & Finance* 26(7), 1487--1503.
* Chan, T. F., Golub, G. H., & LeVeque, R. J. (1983). Algorithms for computing the sample
  variance. *The American Statistician* 37(3), 242--247.
* Asmussen, S., & Glynn, P. W. (2007). *Stochastic Simulation*. Springer. §III.5.
* Nakayama, M. K. (2014). Confidence intervals for quantiles using sectioning when applying
  variance-reduction techniques. *ACM TOMACS* 24(4), 19.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

#: Relative accuracy alpha of the quantile sketch (0.1 %).
RELATIVE_ACCURACY = 1e-3
#: Values below this (USD, in absolute value) share the zero bucket.
MIN_USD = 1e-2
#: Largest absolute value a sketch holds (USD); a larger one is an error, not clipped.
MAX_USD = 1e18
#: Sections whose spread gives the standard errors of VaR and ES.
SECTIONS = 20

_GAMMA = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
#: Buckets per sign (index 1..B), beside the zero bucket.
_B = int(math.ceil(math.log(MAX_USD / MIN_USD) / _LOG_GAMMA)) + 1
#: Buckets of a dense sketch: negative ones (largest magnitude first), zero, positive ones.
BUCKETS = 2 * _B + 1


def bucket_index(x: np.ndarray) -> np.ndarray:
    """Dense bucket index of each value, in value order: ``B - i`` (negative), ``B`` (zero), ``B + i`` (positive).

    Raises ``ValueError`` for a value that is not finite or above :data:`MAX_USD` in magnitude.
    """
    x = np.asarray(x, dtype=float)
    bad = ~np.isfinite(x) | (np.abs(x) > MAX_USD)
    if bad.any():
        v = x[bad][0]
        raise ValueError(f"a Monte Carlo loss of {v!r} USD cannot be streamed: expected a finite value of at most "
                         f"{MAX_USD:.0e} USD in magnitude")
    a = np.abs(x)
    big = a >= MIN_USD
    i = np.zeros(x.shape, dtype=np.int64)
    i[big] = np.ceil(np.log(a[big] / MIN_USD) / _LOG_GAMMA).astype(np.int64) + 1   # 1..B
    return _B + np.sign(x).astype(np.int64) * i


def bucket_value(index: np.ndarray) -> np.ndarray:
    """The representative of each dense bucket: ``±2 x_min γ^(i-1) / (γ + 1)`` (0 for the zero bucket)."""
    k = np.asarray(index, dtype=np.int64) - _B
    i = np.abs(k)
    return np.where(k == 0, 0.0, np.sign(k) * 2.0 * MIN_USD * np.exp((i - 1) * _LOG_GAMMA) / (_GAMMA + 1.0))


_VALUES = bucket_value(np.arange(BUCKETS))


def sparse_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(bucket indices, counts)`` of the values: a sketch in O(distinct buckets) memory."""
    keys, counts = np.unique(bucket_index(x), return_counts=True)
    return keys, counts.astype(np.int64)


def _rank(n: int, confidence: float) -> int:
    """0-based rank of numpy's ``inverted_cdf`` quantile among ``n`` sorted values (as ``value_at_risk``)."""
    v = n * confidence - 1
    lo = math.floor(v)
    return min(max(lo + (1 if v - lo > 0 else 0), 0), n - 1)


def _occupied(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty buckets' counts and representatives, in value order (at most one per run)."""
    nz = np.flatnonzero(counts)
    return counts[nz], _VALUES[nz]


def sketch_var(counts: np.ndarray, confidence: float) -> float:
    """VaR (``inverted_cdf`` empirical quantile) of a dense sketch: within ``α|VaR| + x_min`` of the exact one."""
    c, values = _occupied(counts)
    n = int(c.sum())
    if n == 0:
        return float("nan")
    return float(values[int(np.searchsorted(np.cumsum(c), _rank(n, confidence) + 1))])


def sketch_es(counts: np.ndarray, confidence: float) -> float:
    """Acerbi--Tasche ES of a dense sketch (mean of the worst ``n(1-c)`` values, fractional last weight)."""
    c, values = _occupied(counts)
    n = int(c.sum())
    if n == 0:
        return float("nan")
    desc, values = c[::-1], values[::-1]
    cum = np.cumsum(desc)
    w = round(n * (1.0 - confidence), 9)
    m = int(math.floor(w))
    if w <= 0:
        return float(values[0])
    take = np.clip(m - (cum - desc), 0, desc)           # how many of the worst m each bucket gives
    top = float((take * values).sum())
    frac = w - m
    if frac > 0 and m < n:
        top += frac * float(values[int(np.searchsorted(cum, m + 1))])
    return top / w



def sketch_estimates(counts: np.ndarray, confidences: Sequence[float]) -> dict[tuple[str, float], float]:
    """``{("VaR", c): sketch_var(counts, c), ("ES", c): sketch_es(counts, c)}`` for every confidence, value for
    value, from one pass over the sketch (its occupied buckets and cumulative counts found once, not per figure)."""
    c, values = _occupied(counts)
    n = int(c.sum())
    out: dict[tuple[str, float], float] = {}
    if n == 0:
        return {(m, a): float("nan") for a in confidences for m in ("VaR", "ES")}
    cum_asc = np.cumsum(c)
    desc, values_desc = c[::-1], values[::-1]
    cum = np.cumsum(desc)
    for a in confidences:
        out["VaR", a] = float(values[int(np.searchsorted(cum_asc, _rank(n, a) + 1))])
        w = round(n * (1.0 - a), 9)
        m = int(math.floor(w))
        if w <= 0:
            out["ES", a] = float(values_desc[0])
            continue
        take = np.clip(m - (cum - desc), 0, desc)
        top = float((take * values_desc).sum())
        frac = w - m
        if frac > 0 and m < n:
            top += frac * float(values_desc[int(np.searchsorted(cum, m + 1))])
        out["ES", a] = top / w
    return out

@dataclass(frozen=True)
class Moments:
    r"""Count, mean and sum of squared deviations of a run of values (Welford), mergeable in order.

    Domain: ``m2`` is a float64 sum of squares, exact to float64's relative precision while each squared
    deviation from the mean is a normal number, that is for deviations of at least
    :math:`\sqrt{2.2 \times 10^{-308}} \approx 1.5 \times 10^{-154}` (USD: far below the sketches' one-cent
    resolution, :data:`MIN_USD`) or exactly zero. Smaller deviations square into subnormal numbers, which hold
    an absolute precision of :math:`4.9 \times 10^{-324}` only: there ``m2`` (as numpy's own ``var``) keeps a
    few bits, and a standard error built on it is not within a relative tolerance of another computation's.
    """

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, x: np.ndarray) -> "Moments":
        x = np.asarray(x, dtype=float)
        if not len(x):
            return cls()
        mu = float(x.mean())
        return cls(len(x), mu, float(((x - mu) ** 2).sum()))

    def merge(self, other: "Moments") -> "Moments":
        """Chan, Golub & LeVeque (1983): the moments of the two runs together."""
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        return Moments(n, self.mean + delta * other.count / n,
                       self.m2 + other.m2 + delta * delta * self.count * other.count / n)

    def standard_error(self) -> float:
        """``s / √N`` of the mean (NaN below two values, as the exact table)."""
        return math.sqrt(self.m2 / (self.count - 1) / self.count) if self.count > 1 else float("nan")


@dataclass(frozen=True)
class Segment:
    """The summary of runs ``start:stop`` of one chunk, between two consecutive boundaries of the fold."""

    start: int
    stop: int
    sketches: dict[str, tuple[np.ndarray, np.ndarray]]   # quantity -> sparse counts
    moments: dict[str, Moments]
    any_default: int


def boundaries(runs: int, marks: Sequence[int], sections: int = SECTIONS) -> np.ndarray:
    """Run indices where the fold stops to read an estimate: section ends and convergence marks."""
    ends = {int(round(k * runs / sections)) for k in range(1, sections + 1)} | {int(m) for m in marks}
    return np.array(sorted(e for e in ends if 0 < e <= runs), dtype=np.int64)


def summarise(values: Mapping[str, np.ndarray], defaults: np.ndarray, start: int, cuts: np.ndarray) -> list[Segment]:
    """Cut a chunk's per-run values (runs ``start:start+R``) at the fold's boundaries and summarise each piece."""
    R = len(defaults)
    inner = cuts[(cuts > start) & (cuts < start + R)] - start
    edges = [0, *inner.tolist(), R]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        out.append(Segment(start + a, start + b, {q: sparse_counts(v[a:b]) for q, v in values.items()},
                           {q: Moments.of(v[a:b]) for q, v in values.items()}, int((defaults[a:b] > 0).sum())))
    return out


class RiskFold:
    """Folds segments in run order into whole-run sketches and moments, section sketches and convergence rows.

    Memory: two dense sketches per quantity plus a few numbers per section and mark, whatever the runs.
    """

    def __init__(self, quantities: Sequence[str], runs: int, marks: Sequence[int], convergence_quantity: str,
                 sections: int = SECTIONS):
        self.quantities, self.runs, self.conv_q = tuple(quantities), int(runs), convergence_quantity
        self.cuts = boundaries(runs, marks, sections)
        self.section_ends = {int(round(k * runs / sections)) for k in range(1, sections + 1)} - {0}
        self.marks = set(int(m) for m in marks)
        self.whole = {q: np.zeros(BUCKETS, dtype=np.int64) for q in self.quantities}
        self.section = {q: np.zeros(BUCKETS, dtype=np.int64) for q in self.quantities}
        self.moments = {q: Moments() for q in self.quantities}
        self.section_estimates: list[dict[tuple[str, str, float], float]] = []
        self.defaulted_runs = 0
        self.done = 0
        self.convergence: list[dict[str, float]] = []

    def add(self, seg: Segment, confidences: Sequence[float]) -> None:
        if seg.start != self.done:
            raise RuntimeError(f"segment of runs {seg.start}:{seg.stop} folded after run {self.done}")
        for q in self.quantities:
            keys, counts = seg.sketches[q]
            self.whole[q][keys] += counts
            self.section[q][keys] += counts
            self.moments[q] = self.moments[q].merge(seg.moments[q])
        self.defaulted_runs += seg.any_default
        self.done = seg.stop
        if self.done in self.section_ends:
            self.section_estimates.append({(q, m, a): v for q in self.quantities
                                           for (m, a), v in sketch_estimates(self.section[q], confidences).items()})
            for q in self.quantities:
                self.section[q][:] = 0
        if self.done in self.marks:
            mo, p = self.moments[self.conv_q], self.defaulted_runs / self.done
            self.convergence.append({"runs": self.done, "mean_loss_usd": mo.mean, "mean_loss_se": mo.standard_error(),
                                     "p_any_default": p, "p_any_default_se": math.sqrt(max(p * (1 - p), 0.0) / self.done),
                                     "var_99_loss_usd": sketch_var(self.whole[self.conv_q], 0.99)})

    def risk_table(self, confidences: Sequence[float], horizon_days: float) -> pd.DataFrame:
        """The exact mode's risk table (same columns): sketch VaR and ES, Welford means, sectioning errors."""
        if self.done != self.runs:
            raise RuntimeError(f"risk table read after {self.done} of {self.runs} runs")
        rows = []
        K = len(self.section_estimates)
        for q in self.quantities:
            mo = self.moments[q]
            rows.append({"quantity": q, "metric": "mean", "confidence": np.nan, "value": mo.mean,
                         "standard_error": mo.standard_error()})
            for a in confidences:
                for metric, f in (("VaR", sketch_var), ("ES", sketch_es)):
                    est = np.array([s[q, metric, a] for s in self.section_estimates])
                    se = float(est.std(ddof=1) / math.sqrt(K)) if K > 1 and np.isfinite(est).all() else np.nan
                    rows.append({"quantity": q, "metric": metric, "confidence": a, "value": f(self.whole[q], a),
                                 "standard_error": se})
        out = pd.DataFrame(rows, columns=["quantity", "metric", "confidence", "value", "standard_error"])
        out.insert(3, "horizon_days", float(horizon_days))
        out["runs"] = self.runs
        return out

    def convergence_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.convergence, columns=["runs", "mean_loss_usd", "mean_loss_se", "p_any_default",
                                                       "p_any_default_se", "var_99_loss_usd"])


__all__ = ["RELATIVE_ACCURACY", "MIN_USD", "MAX_USD", "SECTIONS", "BUCKETS", "bucket_index", "bucket_value",
           "sparse_counts", "sketch_var", "sketch_es", "sketch_estimates", "Moments", "Segment", "boundaries", "summarise", "RiskFold"]

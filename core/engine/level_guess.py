r"""A first guess of the liquidators' capital level (:func:`core.engine.capital.capital_limit`), in closed form
from the order-book cohorts: where the search's first steps go (:func:`~core.engine.level_search.bisect_guided`'s
``start``). A guess only: every step the search takes is an answer it evaluated, so a wrong guess costs
evaluations, never bits.

Model (the search's own, :func:`~core.engine.limits.liquidator_limit`): a cohort :math:`j` with an order book
repays :math:`u_j(\lambda) = \min(U_j, w_j\,q_j(\lambda))` at level :math:`\lambda < L_j`, 0 from :math:`L_j` on,
with :math:`q_j = x (x + 2\sqrt{Q_j})`, :math:`x = (L_j - \lambda) / k_j` (reference USD sold, the square-root
law's closed form for :math:`Q_j \ge 0`), :math:`w_j` the USD repaid per reference USD sold (``per_usd / per_ref``)
and :math:`U_j = \min(\text{ask}_j, \text{base}_j \cdot \text{per\_usd}_j)` the close factor's. It is :math:`U_j`
up to :math:`\lambda^{sat}_j = L_j - k_j x^{sat}_j`, :math:`x^{sat}_j = 2V / (2\sqrt{Q_j} + \sqrt{4Q_j + 4V})`,
:math:`V = U_j / w_j` (the root of :math:`x^2 + 2\sqrt{Q}\,x = V`, in the form without cancellation), then a
quadratic in :math:`\lambda`. A cohort without a book (a coin a peg prices) or whose collateral a pool prices is
taken as :math:`U_j` below :math:`L_j` (for a pool's, the search's upper bound: its room not solved). So the sum
:math:`S(\lambda)` is piecewise quadratic between the breakpoints :math:`L_j, \lambda^{sat}_j`; the guess is
where :math:`S` falls to the capital: the segment found by evaluating :math:`S` at every breakpoint, and within
it the root of its quadratic, :math:`A t^2 - B t + (S_a - K) = 0` in :math:`t = \lambda - \lambda_a`, taken as
:math:`t = 2 (S_a - K) / (B + \sqrt{B^2 - 4 A (S_a - K)})`. Rows with a cohort outside this model (sold
units below 0, a coefficient not finite) have no guess (NaN).
"""

from __future__ import annotations

import numpy as np

#: Most elements (rows x breakpoints x cohorts) the guess evaluates; more rows have no guess (each row's share
#: of an evaluation is then a few levels, and a path as short gains little).
GUESS_BUDGET = 1 << 16


def level_guess(L: np.ndarray, k: np.ndarray, Q: np.ndarray, twice_root_Q: np.ndarray, per_ref: np.ndarray,
                book: np.ndarray, pooled: np.ndarray, close: np.ndarray, base: float | np.ndarray, ask: np.ndarray,
                per_usd: np.ndarray, capital: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                weighed: np.ndarray) -> np.ndarray | None:
    """(R,) the guessed level of each row in ``[lo, hi]`` (NaN: none), or None over :data:`GUESS_BUDGET`; every
    (R, m) argument is a row's cohorts' (``book``, ``pooled``, ``close``, ``weighed`` (m,)) as the search reads
    them: ``close`` the cohorts whose repayments count, ``weighed`` those whose liquidators weigh the trade (the
    close-factor style; any other counted cohort repays its close factor's at every level)."""
    R, m = L.shape
    if R * (2 * m + 2) * m > GUESS_BUDGET or m == 0:
        return None
    L = np.where(weighed[None], L, np.inf)
    with np.errstate(all="ignore"):
        plateau = np.minimum(ask, np.minimum(np.inf, base) * per_usd)
        plateau = np.where(close[None] & (plateau == plateau), plateau, 0.0)  # NaN (inf x 0): 0, as the sum reads it
        quad = book[None] & ~pooled[None] & (plateau > 0) & np.isfinite(L)
        w = per_usd / per_ref
        V = plateau / w
        x_sat = 2.0 * V / (twice_root_Q + np.sqrt(twice_root_Q * twice_root_Q + 4.0 * V))
        sat = L - k * x_sat
        fine = ~quad | ((Q >= 0) & np.isfinite(w) & (w > 0) & np.isfinite(k) & (k > 0) & np.isfinite(sat))
        ok = fine.all(1) & np.isfinite(plateau).all(1) & np.isfinite(lo) & np.isfinite(hi)
        sat = np.where(quad, sat, -np.inf)
        # S at every breakpoint in (lo, hi), and at lo and hi, sorted
        points = np.concatenate([lo[:, None], np.where(np.isfinite(L), L, lo[:, None]), np.where(quad, sat, lo[:, None]),
                                 hi[:, None]], axis=1)
        points = np.sort(np.clip(points, lo[:, None], hi[:, None]), axis=1)
        S = _sum_at(points, L, k, twice_root_Q, w, plateau, sat, quad)
        over = S > capital[:, None]
        # the first breakpoint where S is within the capital (S falls as the level rises), and the one before
        b = np.argmin(over, axis=1)
        none_over, all_over = ~over[:, 0], over.all(1)
        a = np.maximum(b - 1, 0)
        at = np.arange(R)
        x_a, x_b = points[at, a], points[at, b]
        # within (x_a, x_b): the cohorts in their quadratic part throughout, and S at x_a
        active = quad & (sat <= x_a[:, None]) & (L >= x_b[:, None])
        d = (L - x_a[:, None]) / k
        A = np.where(active, w / (k * k), 0.0).sum(1)
        B = np.where(active, w * (2.0 * d + twice_root_Q) / k, 0.0).sum(1)
        D = S[at, a] - capital
        t = 2.0 * D / (B + np.sqrt(np.maximum(B * B - 4.0 * A * D, 0.0)))
        inside = np.where(np.isfinite(t) & (t >= 0), np.minimum(x_a + t, x_b), x_b)
        guess = np.where(none_over, lo, np.where(all_over, hi, inside))
    return np.where(ok & np.isfinite(guess), guess, np.nan)


def _sum_at(points: np.ndarray, L: np.ndarray, k: np.ndarray, twice_root_Q: np.ndarray, w: np.ndarray,
            plateau: np.ndarray, sat: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """(R, n) :math:`S` at ``points`` (R, n): each cohort's repayment summed (module docstring)."""
    y = points[:, :, None]
    x = (L[:, None] - y) / k[:, None]
    part = np.minimum(plateau[:, None], w[:, None] * x * (x + twice_root_Q[:, None]))
    each = np.where(y >= L[:, None], 0.0, np.where(quad[:, None] & (y > sat[:, None]), part, plateau[:, None]))
    return np.where(each == each, each, 0.0).sum(2)

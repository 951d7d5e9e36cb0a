r"""DebtRank: distress propagation through a network of exposures.

Entity :math:`i` has lent :math:`A_{ij} \ge 0` to :math:`j` (``exposures``) and
has equity (capital) :math:`E_i`.  The *leverage* (vulnerability) matrix is

.. math:: \Lambda_{ij} = A_{ij} / E_i,

the loss to :math:`i`, in units of its equity, if :math:`j` is wiped out.  The
state is the relative equity loss :math:`h_i \in [0, 1]` (:math:`h_i = 1`:
default), starting from the exogenous shock :math:`h^0`.

Differential DebtRank (Bardoscia et al. 2015)
---------------------------------------------
.. math:: h_i(t+1) = \min\Bigl(1,\; h_i(t) + \sum_j \Lambda_{ij}\,[h_j(t) - h_j(t-1)]\Bigr),

with :math:`h(1) = h^0, h(0) = 0`.  By induction this is exactly Picard
iteration of the monotone map :math:`\Phi(h) = \min(1, h^0 + \Lambda h)` from
:math:`h^0`; it increases to the least fixed point above :math:`h^0`
(computed with :func:`core.mechanisms.fixedpoint.picard`).

Single-hit DebtRank (Battiston et al. 2012)
-------------------------------------------
Each entity propagates its distress only once, in the round after it
becomes distressed:

.. math:: h_i(t) = \min\Bigl(1,\; h_i(t-1) + \sum_{j:\, s_j(t-1) = D} \Lambda_{ij}\, h_j(t-1)\Bigr),

with states undistressed :math:`U` → distressed :math:`D` (when
:math:`h > 0`) → inactive :math:`I` (one round after :math:`D`).  The
entities hit by the shock start in :math:`D`.  The state machine stops after
at most :math:`n + 1` rounds (run by the same fixed-point core with
``tol=0``).

Systemic impact
---------------
With economic weights :math:`w` (default: share of total positive equity),
the DebtRank of the shock, excluding the shock itself, is

.. math:: R = \sum_i w_i h_i(T) - \sum_i w_i h_i^0 .

Losses are :math:`h_i E_i` with :math:`h` capped at 1 *before* multiplying
(NetworkRiskMeasures multiplies uncapped accumulated stress and reports losses
larger than the buffers; pitfall 4 in the research notes).

Conventions
-----------
* ``exposures[i, j]`` = what ``i`` has lent to ``j`` (row = creditor) =
  ``liabilities.T``; convert with
  :func:`core.mechanisms.liability_network.exposures_from_liabilities`.
* Entities with zero or negative equity are treated as already fully
  distressed: :math:`h^0_i = 1`, their row of :math:`\Lambda` is zero (no
  division by zero), their losses are 0 (``max(E, 0)`` is used) and their
  default counts as part of the initial shock, not of the impact.
* Self-exposures (non-zero diagonal) raise ``ValueError``.

References
----------
.. [1] Battiston, S., Puliga, M., Kaushik, R., Tasca, P., & Caldarelli, G.
   (2012). DebtRank: Too central to fail? Financial networks, the FED and
   systemic risk. *Scientific Reports*, 2, 541.
.. [2] Bardoscia, M., Battiston, S., Caccioli, F., & Caldarelli, G. (2015).
   DebtRank: A microscopic foundation for shock propagation. *PLoS ONE*,
   10(6), e0130406.

Examples
--------
The NetworkRiskMeasures test network (TV6 in the research notes):

>>> import numpy as np
>>> A = np.array([[0, 1, 0], [10, 0, 3], [3, 2, 0]], dtype=float)
>>> res = debtrank(A, [2.0, 5.0, 2.0], [0.0, 1.0, 0.0], weights=np.array([10, 100, 30]) / 140)
>>> res.h.tolist(), round(res.impact, 12)
([0.5, 1.0, 1.0], 0.25)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .liability_network import entity_vector, from_columns, network_matrix, row_divided, to_columns
from .fixedpoint import OnCap, picard, picard_active_set

__all__ = ["DebtRankResult", "debtrank", "leverage_matrix"]

Variant = Literal["differential", "single_hit"]
_LAMBDA_MAX = 1e200


@dataclass(frozen=True)
class DebtRankResult:
    """Outcome of a DebtRank run.

    Per-entity arrays have shape (n,), or (S, n) for a batched shock;
    ``impact`` is a float, or shape (S,).

    Attributes
    ----------
    h : numpy.ndarray
        Final relative equity loss in [0, 1].
    h0 : numpy.ndarray
        Initial relative loss actually used (the shock, with entities of
        non-positive equity set to 1).
    impact : float or numpy.ndarray
        :math:`R = w \\cdot h - w \\cdot h^0`.
    losses : numpy.ndarray
        :math:`h \\max(E, 0)` (total equity loss, capped at the equity).
    additional_losses : numpy.ndarray
        :math:`(h - h^0)\\max(E, 0)` (losses caused by propagation).
    iterations : int
    converged : bool
    residual : float
        Last step :math:`\\max|h_{k+1} - h_k|` (state changes for single-hit).
    variant : str

    Examples
    --------
    >>> A = np.array([[0, 1, 0], [10, 0, 3], [3, 2, 0]], dtype=float)
    >>> r = debtrank(A, np.array([2.0, 5.0, 2.0]), np.eye(3), weights=np.array([10, 100, 30]) / 140)
    >>> np.round(r.impact, 6).tolist()
    [0.928571, 0.25, 0.75]
    """

    h: np.ndarray
    h0: np.ndarray
    impact: float | np.ndarray
    losses: np.ndarray
    additional_losses: np.ndarray
    iterations: int
    converged: bool
    residual: float
    variant: str


def leverage_matrix(exposures, equity):
    r"""Leverage matrix :math:`\Lambda_{ij} = A_{ij}/E_i` (CSR; rows with :math:`E_i \le 0` are 0).

    Entries are capped at 1e200 (a tiny positive equity cannot overflow).

    Examples
    --------
    >>> import numpy as np
    >>> leverage_matrix(np.array([[0, 1.0], [4.0, 0]]), np.array([2.0, 0.0])).toarray().tolist()
    [[0.0, 0.5], [0.0, 0.0]]
    """
    A = network_matrix(exposures, "exposures")
    n = A.shape[0]
    E = entity_vector(equity, n, "equity", batch=False, lower=None)
    with np.errstate(over="ignore"):
        Lam = row_divided(A, np.where(E > 0, E, np.inf))
    # a positive but tiny equity can overflow A/E: cap at a huge finite value so
    # that Lambda @ h never meets inf * 0 (any such entity is wiped out anyway)
    np.minimum(Lam.data, _LAMBDA_MAX, out=Lam.data)
    return Lam


def debtrank(exposures, equity, shock, variant: Variant = "differential", weights=None, *,
             tol: float = 1e-12, max_iter: int = 100_000, on_cap: OnCap = "warn",
             exact: bool = True) -> DebtRankResult:
    r"""DebtRank of a shock (Battiston et al. 2012; Bardoscia et al. 2015).

    Parameters
    ----------
    exposures : array_like or scipy.sparse matrix, shape (n, n)
        ``exposures[i, j]`` = what ``i`` has lent to ``j`` (``i`` loses when
        ``j`` is distressed); non-negative, zero diagonal.
    equity : array_like, shape (n,)
        Capital :math:`E_i`; entities with :math:`E_i \le 0` start fully
        distressed (``h0 = 1``).
    shock : array_like, shape (n,) or (S, n)
        Initial relative equity loss :math:`h^0 \in [0, 1]`; (S, n) runs S
        shocks at once (one sparse × dense block product per round).
    variant : {"differential", "single_hit"}, default "differential"
        Bardoscia et al. (2015) or Battiston et al. (2012).
    weights : array_like, shape (n,), optional
        Economic weight per entity; default :math:`\max(E,0)/\sum\max(E,0)`
        (uniform if no entity has positive equity).
    tol : float, keyword-only, default 1e-12
        Convergence tolerance on :math:`\max|h_{k+1}-h_k|` (differential).
    max_iter : int, keyword-only, default 100000
    on_cap : {"raise", "warn", "flag"}, keyword-only, default "warn"
    exact : bool, keyword-only, default True
        Differential variant: if Picard has not converged after 200 steps,
        solve :math:`(I - \Lambda)_{UU} h_U = h^0_U + \Lambda_{UC}\mathbf 1` on the
        uncapped set :math:`U` with GMRES and keep it if it verifies as a fixed
        point above the Picard iterate (then it is the least fixed point).

    Returns
    -------
    DebtRankResult
        ``h``, ``impact``, ``losses``, ``iterations``, ``converged`` (and
        ``h0``, ``additional_losses``, ``residual``).

    Raises
    ------
    ValueError
        Invalid shapes, NaN, negative exposures, self-exposures, shock
        outside [0, 1], unknown variant.

    Notes
    -----
    The differential variant converges geometrically on the entities that
    are not capped (rate: spectral radius of :math:`\Lambda` restricted to
    them); the single-hit variant terminates after at most ``n + 1`` rounds.
    In the linear regime (no cap reached) the differential fixed point is
    :math:`h = (I - \Lambda)^{-1} h^0`.

    References
    ----------
    .. [1] Battiston, S., et al. (2012). DebtRank: Too central to fail?
       *Scientific Reports*, 2, 541.
    .. [2] Bardoscia, M., et al. (2015). DebtRank: A microscopic foundation
       for shock propagation. *PLoS ONE*, 10(6), e0130406.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 0], [10, 0, 3], [3, 2, 0]], dtype=float)
    >>> E = np.array([2.0, 5.0, 2.0])
    >>> w = np.array([10, 100, 30]) / 140
    >>> r = debtrank(A, E, np.eye(3), weights=w)          # one scenario per entity
    >>> np.round(r.impact, 6).tolist()
    [0.928571, 0.25, 0.75]
    >>> r.additional_losses.sum(axis=1).tolist()
    [7.0, 3.0, 6.0]
    >>> float(debtrank(A, E, [1.0, 0, 0], variant="single_hit", weights=w).impact) == 13 / 14
    True
    """
    if variant not in ("differential", "single_hit"):
        raise ValueError(f"variant must be 'differential' or 'single_hit', got {variant!r}")
    Lam = leverage_matrix(exposures, equity)
    n = Lam.shape[0]
    E = np.asarray(equity, dtype=np.float64)
    h0 = entity_vector(shock, n, "shock", lower=0.0, upper=1.0)
    pos_equity = np.maximum(E, 0.0)
    if weights is None:
        tot = pos_equity.sum()
        w = pos_equity / tot if tot > 0 else np.full(n, 1.0 / max(n, 1))
    else:
        w = entity_vector(weights, n, "weights", batch=False)
    (H0,), S = to_columns(h0)
    dead = E <= 0
    if dead.any():
        H0 = np.where(dead[:, None] if S is not None else dead, 1.0, H0)

    if variant == "differential":
        def phi(h):
            out = Lam @ h
            out += H0
            np.minimum(out, 1.0, out=out)
            return out

        def linearise(h):
            return h < 1.0, H0, 1.0, 1.0

        # near-critical networks (spectral radius of Lambda on the uncapped set
        # close to 1) converge slowly: finish exactly on the uncapped set
        fp, _ = picard_active_set(phi, H0, Lam, linearise, direction="up", tol=tol,
                                  max_iter=max_iter, on_cap=on_cap, exact=exact,
                                  stage_tol=tol, stage_iter=200, what="debtrank")
        H = np.clip(fp.x, 0.0, 1.0)
    else:
        # state: stack of (h, distressed, inactive) as floats, shape (3, n[, S])
        def phi(state):
            h, dist, inact = state[0], state[1] > 0, state[2] > 0
            h_new = h + Lam @ np.where(dist, h, 0.0)
            np.minimum(h_new, 1.0, out=h_new)
            inact_new = inact | dist
            dist_new = (h_new > 0) & ~inact_new
            return np.stack([h_new, dist_new, inact_new]).astype(np.float64)

        state0 = np.stack([H0, H0 > 0, np.zeros_like(H0, dtype=bool)]).astype(np.float64)
        fp = picard(phi, state0, tol=0.0, max_iter=min(max_iter, n + 2), on_cap=on_cap,
                    what="debtrank(single_hit)")
        H = fp.x[0]

    Ecol = pos_equity[:, None] if S is not None else pos_equity
    impact = w @ (H - H0)
    return DebtRankResult(
        h=from_columns(H, S), h0=from_columns(H0, S),
        impact=float(impact) if S is None else np.asarray(impact),
        losses=from_columns(H * Ecol, S), additional_losses=from_columns((H - H0) * Ecol, S),
        iterations=fp.iterations, converged=fp.converged, residual=fp.residual, variant=variant,
    )

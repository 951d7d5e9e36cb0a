r"""Shared monotone fixed-point core for the network-contagion mechanisms.

Every network model in :mod:`core.mechanisms` is one fixed point

.. math::

    x = \Phi(x), \qquad x_{k+1} = \Phi(x_k) \quad\text{(Picard iteration)},

with the *model* as a parameter (the valuation map :math:`\Phi`), as in the NEVA
framework of Barucca et al. (2020):

* Eisenberg--Noe / Rogers--Veraart clearing (:mod:`core.mechanisms.clearing`):
  :math:`\Phi(q) = \min(\bar q, \max(0, \gamma(\alpha e + \beta\,\Pi^\top q) - \delta))`
  on insolvent entities, :math:`\bar q` on solvent ones; iterated from the top
  :math:`x_0 = \bar q`, the sequence decreases to the *greatest* fixed point.
* Differential DebtRank (:mod:`core.mechanisms.debtrank`):
  :math:`\Phi(h) = \min(1, h^0 + \Lambda h)`, iterated from :math:`h^0`, the
  sequence increases to the *least* fixed point above :math:`h^0`.
* Single-hit DebtRank and Furfine's sequential default: finite state machines
  whose state stops changing after at most :math:`n + 1` rounds (``tol=0``).

If :math:`\Phi` is order preserving and :math:`\Phi(x_0) \le x_0` (resp.
:math:`\ge`), the iterates are monotone and bounded, hence converge; when
:math:`\Phi` is continuous along monotone sequences (true for all maps above,
including the discontinuous Rogers--Veraart map from above) the limit is the
greatest fixed point below :math:`x_0` (resp. least above), by Tarski (1955)
and Kleene's iteration.

Convergence is always *reported*: :class:`FixedPointResult` carries
``iterations``, ``converged`` and ``residual``.  When the iteration cap is hit
the caller chooses (``on_cap``) to raise :class:`ConvergenceError`, to warn
(``RuntimeWarning``, result flagged ``converged=False``) or only to flag; the
loop never stops silently.

Picard converges linearly, with a rate equal to the spectral radius of the
map's Jacobian on the "active" set (e.g. :math:`\beta\Pi^\top` restricted to
defaulted entities).  For piecewise-affine maps :func:`picard_active_set`
finishes exactly once Picard has identified the regimes: it solves the affine
system restricted to the free entries with a matrix-free Krylov method
(GMRES; never a dense or direct sparse factorisation, which fills in on large
random graphs), in :mod:`core.mechanisms.active_set`.  This is the
fictitious-default step of Eisenberg & Noe (2001) and the Greatest Clearing
Vector Algorithm of Rogers & Veraart (2013).

References
----------
.. [1] Tarski, A. (1955). A lattice-theoretical fixpoint theorem and its
   applications. *Pacific Journal of Mathematics*, 5(2), 285--309.
.. [2] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial systems.
   *Management Science*, 47(2), 236--249.
.. [3] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in an
   interbank network. *Management Science*, 59(4), 882--898.
.. [4] Barucca, P., Bardoscia, M., Caccioli, F., D'Errico, M., Visentin, G.,
   Caldarelli, G., & Battiston, S. (2020). Network valuation in financial
   systems. *Mathematical Finance*, 30(4), 1181--1204.

Examples
--------
>>> import numpy as np
>>> res = picard(lambda x: 0.5 * x + 1.0, np.array([0.0]), tol=1e-12)
>>> round(float(res.x[0]), 9), res.converged
(2.0, True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from .active_set import gmres_solve, solve_active_set

__all__ = [
    "ConvergenceError",
    "FixedPointResult",
    "picard",
    "report_cap",
    "solve_active_set",
    "gmres_solve",
    "picard_active_set",
]

OnCap = Literal["raise", "warn", "flag"]


class ConvergenceError(RuntimeError):
    """Raised when a fixed-point iteration hits its cap and ``on_cap="raise"``.

    The partial result is attached as ``.result``.

    Examples
    --------
    >>> r = FixedPointResult(x=np.array([1.0]), iterations=5, converged=False, residual=0.1)
    >>> report_cap(r, "raise", "demo")
    Traceback (most recent call last):
    ...
    core.mechanisms.fixedpoint.ConvergenceError: demo: no convergence after 5 iterations (residual 0.1); result flagged converged=False
    """

    def __init__(self, message: str, result: "FixedPointResult"):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class FixedPointResult:
    """Outcome of a fixed-point iteration.

    Attributes
    ----------
    x : numpy.ndarray
        Last iterate.
    iterations : int
        Number of applications of the map.
    converged : bool
        Whether ``residual <= tol`` was reached before ``max_iter``.
    residual : float
        ``max |Phi(x_prev) - x_prev| / scale`` at the last iteration (for
        boolean states: the number of entries that changed).

    Examples
    --------
    >>> r = picard(lambda x: 0.5 * x + 1.0, np.zeros(1), tol=1e-12)
    >>> round(float(r.x[0]), 9), r.converged
    (2.0, True)
    """

    x: np.ndarray
    iterations: int
    converged: bool
    residual: float


def _residual(new: np.ndarray, old: np.ndarray, scale) -> float:
    if new.dtype == bool:
        return float(np.count_nonzero(new != old))
    if new.size == 0:
        return 0.0
    d = np.subtract(new, old)
    np.abs(d, out=d)
    if np.ndim(scale) == 0:
        r = float(d.max()) / float(scale)
    elif d.ndim == 2 and np.shape(scale) == (d.shape[1],):
        # per-column scale: reduce first (dividing by a positive number keeps the order, so the same maximum)
        r = float((d.max(axis=0) / scale).max())
    else:
        d /= scale
        r = float(d.max())
    return r if np.isfinite(r) else float("inf")


def report_cap(result: FixedPointResult, on_cap: OnCap, what: str) -> FixedPointResult:
    """Apply the non-convergence policy to ``result`` (no-op if converged).

    Parameters
    ----------
    result : FixedPointResult
    on_cap : {"raise", "warn", "flag"}
        ``"raise"``: raise :class:`ConvergenceError`; ``"warn"``: emit a
        ``RuntimeWarning`` and return the flagged result; ``"flag"``: return
        the result with ``converged=False`` only.
    what : str
        Name of the model, used in the message.

    Returns
    -------
    FixedPointResult

    Raises
    ------
    ConvergenceError
        With ``on_cap="raise"`` when ``result`` did not converge.

    Examples
    --------
    >>> r = FixedPointResult(x=np.array([1.0]), iterations=5, converged=False, residual=0.1)
    >>> report_cap(r, "flag", "demo").converged
    False
    >>> report_cap(r, "raise", "demo")
    Traceback (most recent call last):
    ...
    core.mechanisms.fixedpoint.ConvergenceError: demo: no convergence after 5 iterations (residual 0.1); result flagged converged=False
    """
    if on_cap not in ("raise", "warn", "flag"):
        raise ValueError(f"on_cap must be 'raise', 'warn' or 'flag', got {on_cap!r}")
    if result.converged:
        return result
    msg = (
        f"{what}: no convergence after {result.iterations} iterations "
        f"(residual {result.residual:.3g}); result flagged converged=False"
    )
    if on_cap == "raise":
        raise ConvergenceError(msg, result)
    if on_cap == "warn":
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return result


def picard(
    phi: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    scale: float | np.ndarray = 1.0,
    on_cap: OnCap = "raise",
    callback: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    what: str = "fixed point",
) -> FixedPointResult:
    r"""Picard iteration :math:`x_{k+1} = \Phi(x_k)` with a convergence report.

    Parameters
    ----------
    phi : callable
        The map; takes and returns arrays of the shape of ``x0`` (it must not
        modify its argument in place).
    x0 : numpy.ndarray
        Starting point (float or boolean).  For monotone maps start at a point
        with :math:`\Phi(x_0) \le x_0` (greatest fixed point below) or
        :math:`\Phi(x_0) \ge x_0` (least fixed point above).
    tol : float, default 1e-12
        Stop when ``max |x_{k+1} - x_k| / scale <= tol``; ``tol=0`` means "until
        the state stops changing" (finite state machines).
    max_iter : int, default 10000
        Iteration cap.
    scale : float or numpy.ndarray, default 1.0
        Positive normalisation of the step (broadcast against ``x0``).
    on_cap : {"raise", "warn", "flag"}, default "raise"
        What to do when ``max_iter`` is reached (see :func:`report_cap`).
    callback : callable, optional
        ``callback(k, x_old, x_new)`` after iteration ``k`` (1-based).
    what : str
        Model name for messages.

    Returns
    -------
    FixedPointResult

    Raises
    ------
    ConvergenceError
        If the cap is hit and ``on_cap="raise"``.

    Examples
    --------
    >>> import numpy as np
    >>> phi = lambda x: np.minimum(1.0, 0.1 + 0.5 * x)
    >>> r = picard(phi, np.zeros(2), tol=0.0)
    >>> r.x.tolist(), r.converged
    ([0.2, 0.2], True)
    """
    if max_iter < 1:
        raise ValueError("max_iter must be >= 1")
    if tol < 0:
        raise ValueError("tol must be >= 0")
    x = x0
    res = float("inf")
    k = 0
    for k in range(1, max_iter + 1):
        x_new = phi(x)
        res = _residual(x_new, x, scale)
        if callback is not None:
            callback(k, x, x_new)
        x = x_new
        if res <= tol:
            return FixedPointResult(x, k, True, res)
    return report_cap(FixedPointResult(x, k, False, res), on_cap, what)


def picard_active_set(
    phi: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    K,
    linearise: Callable[[np.ndarray], tuple],
    *,
    direction: Literal["down", "up"],
    tol: float = 1e-12,
    max_iter: int = 10_000,
    scale: float | np.ndarray = 1.0,
    on_cap: OnCap = "raise",
    exact: bool = True,
    stage_tol: float = 1e-6,
    stage_iter: int = 500,
    what: str = "fixed point",
) -> tuple[FixedPointResult, bool]:
    r"""Monotone Picard iteration finished exactly by an active-set linear solve.

    For a piecewise-affine monotone map :math:`\Phi(x) = f` on fixed entries
    and :math:`c + m\,(Kx)` on free ones: (1) Picard until the step is below
    ``stage_tol`` or ``stage_iter`` steps (regime identification); (2)
    :func:`solve_active_set` on the free entries given by ``linearise(x)``
    (skipped if Picard already reached ``tol``);
    (3) accept the candidate only if it is a fixed point of the *nonlinear*
    map to ``tol`` and lies on the right side of the Picard iterate
    (``direction="down"``: below it, for a greatest fixed point reached from
    above; ``"up"``: above it, for a least fixed point reached from below);
    otherwise (4) continue Picard to ``tol`` and try once more.

    Parameters
    ----------
    phi, x0, tol, max_iter, scale, on_cap, what
        As in :func:`picard`.
    K : sparse matrix
        The linear part of the map.
    linearise : callable
        ``x -> (free, offset, coef, fixed_values)`` at the current regimes,
        optionally with ``K @ x`` as a fifth element (saves a product).
    direction : {"down", "up"}
        Monotone direction of the Picard iterates.
    exact : bool, default True
        Whether to try the exact step at all.
    stage_tol, stage_iter : float, int
        Stopping rule of the regime-identification stage.

    Returns
    -------
    result : FixedPointResult
        ``residual`` is :math:`\max|\Phi(x) - x|/\text{scale}` at the returned
        point if the exact step was accepted, else Picard's last step.
    exact_used : bool

    Raises
    ------
    ConvergenceError
        With ``on_cap="raise"`` when neither stage converges.

    Examples
    --------
    Two entities each paying ``min(1, 0.2 + 0.5 x_other)``: the greatest fixed point is 0.4 each.

    >>> import scipy.sparse as sp
    >>> K = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> phi = lambda x: np.minimum(1.0, 0.2 + 0.5 * (K @ x))
    >>> linearise = lambda x: (0.2 + 0.5 * (K @ x) < 1.0, np.full(2, 0.2), np.full(2, 0.5), np.ones(2))
    >>> result, exact_used = picard_active_set(phi, np.ones(2), K, linearise, direction="down")
    >>> result.x.round(12).tolist(), result.converged, exact_used
    ([0.4, 0.4], True, True)
    """

    def resid(x):
        return _residual(phi(x), x, scale)

    def attempt(x):
        free, offset, coef, fixed, *K_x = linearise(x)
        cand, _ = solve_active_set(K, free, offset, coef, fixed, x, K_x0=K_x[0] if K_x else None)
        if not np.isfinite(cand).all():
            return None               # GMRES may miss its own 1e-14; the checks below decide
        slack = 10 * tol * np.asarray(scale)
        side_ok = np.all(cand <= x + slack) if direction == "down" else np.all(cand >= x - slack)
        if not side_ok:
            return None
        r = resid(cand)
        return (cand, r) if r <= tol else None

    used = 0
    x = x0
    fp = FixedPointResult(x0, 0, False, float("inf"))
    stages = []
    if exact and (stage_tol > tol or stage_iter < max_iter):
        stages.append((max(stage_tol, tol), min(stage_iter, max_iter)))
    stages.append((tol, max_iter))
    for s_tol, s_iter in stages:
        budget = s_iter - used
        if budget > 0:
            fp = picard(phi, x, tol=s_tol, max_iter=budget, scale=scale, on_cap="flag", what=what)
            used += fp.iterations
            x = fp.x
        if fp.converged and s_tol <= tol:
            return fp, False
        if exact:
            got = attempt(x)
            if got is not None:
                return FixedPointResult(got[0], used, True, got[1]), True
    fp = FixedPointResult(x, used, fp.residual <= tol, fp.residual)
    return report_cap(fp, on_cap, what), False

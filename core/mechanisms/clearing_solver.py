r"""The greatest clearing vector: monotone Picard iteration from the top, finished exactly.

Eisenberg--Noe and Rogers--Veraart clearing (:mod:`core.mechanisms.clearing`)
are one monotone map :math:`\Phi` on the vector of *network* payments
:math:`q_i = \sum_j P_{ij}` (what :math:`i` pays inside the network); with
:math:`\gamma_i = \bar q_i / \bar p_i` under pro-rata seniority (1 when
outside creditors are senior, who then take :math:`\delta_i = x_i` first),

.. math::

    \Phi(q)_i = \begin{cases}
      \bar q_i & \text{if } e_i + (\Pi^\top q)_i \ge \bar p_i,\\
      \min\bigl(\bar q_i, \max(0, \gamma_i(\alpha e_i + \beta (\Pi^\top q)_i) - \delta_i)\bigr) & \text{otherwise.}
    \end{cases}

Algorithm
---------
The map is solved by
:func:`core.mechanisms.fixedpoint.picard` from the top :math:`q = \bar q`
(:math:`\bar q_i = \sum_j L_{ij}`); the iterates decrease to the *greatest*
clearing vector (Tarski; for Rogers--Veraart the map is continuous from above,
so Picard from :math:`\bar q` reaches the greatest clearing vector that their
Greatest Clearing Vector Algorithm computes).  Each iteration is one sparse
product :math:`\Pi^\top q`, batched as a sparse :math:`\times` dense block
when several scenarios share the network.  Once Picard has identified the
default set, an exact finishing step (``exact=True``) solves the linear
system of the fictitious-default / GCVA step on the defaulted entities,

.. math:: (I - \beta\,\operatorname{diag}(\gamma)\,\Pi^\top)_{DD}\, q_D = \text{r.h.s.},

with matrix-free GMRES (never a dense or direct sparse solve), and keeps the
result only if it verifies as a fixed point of the nonlinear map below the
Picard iterate; otherwise Picard continues to ``tol``.  The system is solved
for the correction to the Picard iterate, whose right-hand side is the
fixed-point residual there (the product :math:`\Pi^\top q` of the regime
test is reused), on the defaulted entries alone; a batch of scenarios is one
block-diagonal system.  BLAS runs on one thread throughout
(:func:`core.chunks.single_threaded_blas`).

References
----------
.. [1] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial systems.
   *Management Science*, 47(2), 236--249 (the fictitious-default algorithm).
.. [2] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in an
   interbank network. *Management Science*, 59(4), 882--898 (the Greatest
   Clearing Vector Algorithm).
.. [3] Tarski, A. (1955). A lattice-theoretical fixpoint theorem and its
   applications. *Pacific Journal of Mathematics*, 5(2), 285--309.

Examples
--------
>>> import numpy as np
>>> from core.mechanisms.clearing import eisenberg_noe
>>> r = eisenberg_noe(np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float), [10.0, 10.0, 10.0])
>>> r.exact, r.converged
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from ..chunks import single_threaded_blas
from .fixedpoint import picard_active_set
from .liability_network import balance_sheet_inputs, entity_parameter, from_columns, per_entity, row_divided, row_scaled, to_columns

__all__ = ["ClearingResult"]

Seniority = Literal["pro_rata", "external_senior"]
_SENIORITIES = ("pro_rata", "external_senior")


@dataclass(frozen=True)
class ClearingResult:
    """Greatest clearing vector and balance sheets after clearing.

    Per-entity arrays have shape (n,), or (S, n) for batched inputs.

    Attributes
    ----------
    payments : numpy.ndarray
        Total paid by each entity (network + external).
    network_payments : numpy.ndarray
        Paid to network creditors, :math:`q_i = \\sum_j P_{ij}`.
    external_payments : numpy.ndarray
        Paid to outside creditors.
    received : numpy.ndarray
        Received from network debtors, :math:`\\sum_j P_{ji}`.
    total_liabilities : numpy.ndarray
        :math:`\\bar p` (network + external obligations).
    defaulted : numpy.ndarray of bool
        Assets (undiscounted) below :math:`\\bar p`.
    equity : numpy.ndarray
        Book equity :math:`e + \\text{received} - \\bar p` (undiscounted).
    net_worth : numpy.ndarray
        Equity after default costs (equals ``equity`` for solvent entities
        and for Eisenberg--Noe).
    default_costs : numpy.ndarray
        :math:`(1-\\alpha)e + (1-\\beta)\\text{received}` for defaulted entities.
    iterations : int
        Picard iterations (all scenarios iterate together).
    converged : bool
    residual : float
        :math:`\\max|\\Phi(q) - q| / \\max\\bar p` at the returned vector
        (Picard: last step), maximum over scenarios.
    exact : bool
        Whether the exact finishing step was accepted.
    relative_claims : scipy.sparse.csc_array
        :math:`(\\Pi^{net})^\\top`, with :math:`\\Pi^{net}_{ij} = L_{ij}/\\sum_k L_{ik}`:
        entry ``[i, j]`` is the share of ``j``'s network payment that goes to
        ``i`` (used by :meth:`payment_matrix`).

    Examples
    --------
    >>> from core.mechanisms.clearing import eisenberg_noe
    >>> L = np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float)
    >>> r = eisenberg_noe(L, [10.0, 10.0, 10.0])
    >>> r.defaulted.tolist(), np.round(r.equity, 4).tolist()
    ([True, True, False], [-5.4545, -2.6364, 30.0])
    """

    payments: np.ndarray
    network_payments: np.ndarray
    external_payments: np.ndarray
    received: np.ndarray
    total_liabilities: np.ndarray
    defaulted: np.ndarray
    equity: np.ndarray
    net_worth: np.ndarray
    default_costs: np.ndarray
    iterations: int
    converged: bool
    residual: float
    exact: bool
    relative_claims: sp.csc_array = field(repr=False)

    def payment_matrix(self, scenario: int | None = None) -> sp.csr_array:
        """Sparse matrix of bilateral payments ``P[i, j]`` (i pays j).

        Parameters
        ----------
        scenario : int, optional
            Required for batched results.
        """
        q = self.network_payments
        if q.ndim == 2:
            if scenario is None:
                raise ValueError("batched result: pass scenario=")
            q = q[scenario]
        return row_scaled(self.relative_claims.T, q)



def _clear(liabilities, external_assets, external_liabilities, alpha, beta, seniority, *,
           tol, max_iter, on_cap, exact, what) -> ClearingResult:
    if seniority not in _SENIORITIES:
        raise ValueError(f"seniority must be one of {_SENIORITIES}, got {seniority!r}")
    if not (tol > 0):
        raise ValueError("tol must be > 0")
    L, n, e, x = balance_sheet_inputs(liabilities, external_assets, external_liabilities)
    alpha = entity_parameter(alpha, n, "alpha")
    beta = entity_parameter(beta, n, "beta")
    if e.ndim == 2 and x.ndim == 1:      # outside liabilities shared by the scenarios: one column
        (E,), S = to_columns(e)
        X = x[:, None]
    else:
        (E, X), S = to_columns(e, x)
    batched = S is not None
    alpha_, beta_ = per_entity(alpha, batched), per_entity(beta, batched)
    costless = bool(np.all(np.equal(alpha, 1.0)) and np.all(np.equal(beta, 1.0)))

    lbar = L @ np.ones(n)                                        # network obligations
    PiT = row_divided(L, lbar).T                                 # Pi_net^T (CSC view, no copy)
    l = lbar[:, None] if batched else lbar
    pbar = l + X
    gamma: np.ndarray | float
    delta: np.ndarray | float
    if seniority == "pro_rata":
        gamma = np.divide(l, pbar, out=np.zeros_like(pbar), where=pbar > 0)
        delta = 0.0
    else:
        gamma = 1.0
        delta = X
    aE = gamma * alpha_ * E - delta          # value to network creditors = aE + gb * received
    gb = gamma * beta_
    if np.ndim(gb) == 0:
        gb = np.full_like(pbar, gb)
    scale = pbar.max(axis=0) if pbar.size else 1.0
    scale = np.where(scale > 0, scale, 1.0)
    shape = np.broadcast_shapes(E.shape, pbar.shape)
    if batched:
        scale = np.broadcast_to(scale, shape[1:])       # one per scenario
    l_full = np.broadcast_to(l, shape)

    buf = np.empty(shape)
    last = [None, None]          # the last argument of phi and PiT @ it (reused, not recomputed)

    # Eisenberg-Noe without outside creditors: Phi(q) = min(l, E + Pi^T q) exactly (the solvent
    # already pay l, and E + Pi^T q >= 0), two passes instead of seven
    plain = costless and not X.any()

    def phi(q):
        r = PiT @ q
        last[:] = q, r
        if plain:
            v = np.add(r, E)
            return np.minimum(v, l_full, out=v)
        solvent = np.add(E, r, out=buf) >= pbar
        v = np.multiply(gb, r)
        v += aE
        np.maximum(v, 0.0, out=v)
        np.minimum(v, l_full, out=v)
        np.copyto(v, l_full, where=solvent)
        return v

    def received(q):
        return last[1] if last[0] is q else PiT @ q

    def linearise(q):
        r = received(q)
        solvent = E + r >= pbar
        free = ~solvent & (aE + gb * r > 0)
        return free, aE, gb, np.where(solvent, l_full, 0.0), r

    q0 = np.array(l_full, dtype=np.float64, copy=True)
    with single_threaded_blas():   # the few BLAS calls are thin; OpenBLAS's threads only spin beside them
        fp, polished = picard_active_set(
            phi, q0, PiT, linearise, direction="down", tol=tol, max_iter=max_iter, scale=scale,
            on_cap=on_cap, exact=exact, what=what)
    q = fp.x
    if q.min(initial=0.0) < 0.0 or np.any(q > l_full):
        q = np.clip(q, 0.0, l_full)

    r = received(q)
    # the results in the callers' layout ((S, n) when batched): two transposes, not nine
    q, r = from_columns(q, S), from_columns(r, S)
    shape = q.shape
    E, X = np.broadcast_to(e, shape), np.broadcast_to(x, shape)
    pbar = lbar + X
    l_full = np.broadcast_to(lbar, shape)
    assets = E + r
    defaulted = assets < pbar
    value = assets if costless else alpha * E + beta * r      # 1 E + 1 r is E + r exactly
    if seniority == "pro_rata":
        payments = np.where(defaulted, np.clip(value, 0.0, pbar), pbar)
        external = payments - q
        external = np.where(l_full > 0, np.maximum(external, 0.0), payments)
    else:
        external = np.where(defaulted, np.clip(value, 0.0, X), X)
        payments = external + q
    equity = assets - pbar
    if costless:                                             # no value destroyed: the same numbers, fewer passes
        net_worth, costs = equity.copy(), np.zeros(shape)
    else:
        net_worth = np.where(defaulted, value - pbar, equity)
        costs = np.where(defaulted, assets - value, 0.0)

    return ClearingResult(
        payments=payments, network_payments=q, external_payments=external,
        received=r, total_liabilities=pbar, defaulted=defaulted,
        equity=equity, net_worth=net_worth, default_costs=costs,
        iterations=fp.iterations, converged=fp.converged, residual=fp.residual,
        exact=polished, relative_claims=PiT,
    )

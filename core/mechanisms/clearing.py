r"""Clearing of an interbank (inter-protocol) liability network.

Eisenberg--Noe (2001)
---------------------
Entity :math:`i` owes :math:`L_{ij} \ge 0` to entity :math:`j` and
:math:`x_i \ge 0` to creditors outside the network; it holds outside assets
:math:`e_i \ge 0`.  Its total obligation is :math:`\bar p_i = \sum_j L_{ij} + x_i`
and the relative liability matrix is :math:`\Pi_{ij} = L_{ij} / \bar p_i`
(rows with :math:`\bar p_i = 0` are zero).  A *clearing vector* :math:`p`
satisfies limited liability and absolute priority of debt over equity:

.. math::

    p_i = \min\Bigl(\bar p_i,\; \max\bigl(0,\; e_i + \textstyle\sum_j \Pi_{ji}\, p_j\bigr)\Bigr).

Rogers--Veraart (2013)
----------------------
Default costs: an entity that cannot pay in full realises only a fraction
:math:`\alpha` of its outside assets and :math:`\beta` of its interbank claims,

.. math::

    p_i = \begin{cases}
      \bar p_i & \text{if } e_i + \sum_j \Pi_{ji} p_j \ge \bar p_i,\\
      \alpha e_i + \beta \sum_j \Pi_{ji} p_j & \text{otherwise.}
    \end{cases}

:math:`\alpha = \beta = 1` gives Eisenberg--Noe.

Algorithm
---------
Both are one monotone map :math:`\Phi` on the vector of *network* payments
:math:`q_i = \sum_j P_{ij}` (what :math:`i` pays inside the network), solved by
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

Conventions
-----------
* ``liabilities[i, j]`` = nominal amount debtor ``i`` owes creditor ``j``
  (row = debtor).  The claims/exposure matrix is its transpose; see
  :func:`exposures_from_liabilities` and :func:`liabilities_from_edges`.
* Self-loans (non-zero diagonal) raise ``ValueError``; so do negative or
  non-finite amounts.
* External liabilities ``x`` are paid ``"pro_rata"`` with network claims
  (:math:`\bar p = \bar q + x`; as in R ``systemicrisk`` and NEVA) or ahead of
  them (``"external_senior"``: network creditors receive
  :math:`\max(0, \text{value} - x_i)`).
* Zero-liability rows (:math:`\bar p_i = 0`) pay nothing and never default.
* An entity *defaults* when its assets :math:`e_i + \sum_j \Pi_{ji}p_j` fall
  short of :math:`\bar p_i` (the Rogers--Veraart insolvency test; for
  Eisenberg--Noe this is :math:`p_i < \bar p_i`).
* ``equity`` is book equity :math:`e_i + \text{received}_i - \bar p_i` with the
  *undiscounted* outside assets (as printed by NetworkValuation); ``net_worth``
  applies the default costs, :math:`\alpha e_i + \beta\,\text{received}_i -
  \bar p_i` for defaulted entities (for them it equals :math:`p_i - \bar p_i`
  under pro-rata seniority, minus the creditors' shortfall).  The two coincide
  for Eisenberg--Noe.

References
----------
.. [1] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial systems.
   *Management Science*, 47(2), 236--249.
.. [2] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in an
   interbank network. *Management Science*, 59(4), 882--898.
.. [3] Barucca, P., et al. (2020). Network valuation in financial systems.
   *Mathematical Finance*, 30(4), 1181--1204.

Examples
--------
Eisenberg--Noe's three-bank example (TV1 in the research notes):

>>> import numpy as np
>>> L = np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float)
>>> res = eisenberg_noe(L, np.array([10.0, 10.0, 10.0]))
>>> np.round(res.payments, 6).tolist()
[24.545455, 26.363636, 10.0]
>>> res.defaulted.tolist()
[True, True, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from ..chunks import single_threaded_blas
from .fixedpoint import OnCap, picard_active_set

__all__ = [
    "ClearingResult",
    "eisenberg_noe",
    "rogers_veraart",
    "liabilities_from_edges",
    "exposures_from_liabilities",
    "liabilities_from_exposures",
    "network_matrix",
]

Seniority = Literal["pro_rata", "external_senior"]
_SENIORITIES = ("pro_rata", "external_senior")

#: Shortfall, relative to what is owed, below which an entity has not defaulted (floating-point slack):
#: the cascade engine counts a default only when a debtor pays less than ``owed - max(1, DEFAULT_TOL * owed)``.
DEFAULT_TOL = 1e-9


# --------------------------------------------------------------------------
# Network inputs (shared by clearing, debtrank and furfine)
# --------------------------------------------------------------------------


def network_matrix(m, name: str = "liabilities") -> sp.csr_array:
    """Validate a square non-negative network matrix and return it as CSR.

    Parameters
    ----------
    m : array_like or scipy.sparse matrix/array, shape (n, n)
    name : str
        Name used in error messages.

    Returns
    -------
    scipy.sparse.csr_array
        float64 copy, duplicates summed, explicit zeros removed.

    Raises
    ------
    ValueError
        Not square / not 2-D, NaN or inf, negative entries, or a non-zero
        diagonal (self-loans are not allowed).

    Examples
    --------
    >>> network_matrix([[0, 1], [2, 0]]).toarray().tolist()
    [[0.0, 1.0], [2.0, 0.0]]
    """
    if sp.issparse(m):
        if m.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix")
        M = sp.csr_array(m).astype(np.float64, copy=False)
        if M is m or not M.has_canonical_format:
            M = M.copy()          # never mutate the caller's matrix
            M.sum_duplicates()
        data = M.data
        shape = M.shape
    else:
        data = np.asarray(m, dtype=np.float64)
        if data.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got shape {data.shape}")
        M = None
        shape = data.shape
    if shape[0] != shape[1]:
        raise ValueError(f"{name} must be square, got shape {shape}")
    if not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (data < 0).any():
        raise ValueError(f"{name} must be non-negative")
    if M is None:
        if np.any(np.diagonal(data) != 0):
            raise ValueError(f"{name} has a non-zero diagonal (self-loans are not allowed)")
        M = sp.csr_array(data)
    elif np.any(M.diagonal() != 0):
        raise ValueError(f"{name} has a non-zero diagonal (self-loans are not allowed)")
    if not M.data.all():
        M = M.copy()
        M.eliminate_zeros()
    return M


def entity_vector(v, n: int, name: str, *, batch: bool = True, lower=0.0, upper=None) -> np.ndarray:
    """Validate a per-entity vector of shape (n,) (or (S, n) if ``batch``)."""
    a = np.asarray(v, dtype=np.float64)
    ok_shape = a.shape == (n,) or (batch and a.ndim == 2 and a.shape[1] == n)
    if not ok_shape:
        want = f"({n},)" + (f" or (S, {n})" if batch else "")
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if lower is not None and (a < lower).any():
        raise ValueError(f"{name} must be >= {lower}")
    if upper is not None and (a > upper).any():
        raise ValueError(f"{name} must be <= {upper}")
    return a


def entity_parameter(v, n: int, name: str, lower=0.0, upper=1.0) -> np.ndarray | float:
    """Validate a scalar or per-entity (n,) parameter in [lower, upper]."""
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        value = float(a)
        if not (np.isfinite(value) and lower <= value <= upper):
            raise ValueError(f"{name} must be in [{lower}, {upper}], got {value}")
        return value
    entity_vector(a, n, name, batch=False, lower=lower, upper=upper)
    return a


def to_columns(*vectors: np.ndarray) -> tuple[list[np.ndarray], int | None]:
    """Broadcast (n,) / (S, n) inputs together; return them as (n,) or (n, S).

    Returns the converted arrays and S (``None`` when nothing is batched).
    """
    batched = [v for v in vectors if v.ndim == 2]
    if not batched:
        return [np.ascontiguousarray(v) for v in vectors], None
    S = batched[0].shape[0]
    for v in batched:
        if v.shape[0] != S:
            raise ValueError(f"batched inputs disagree on the number of scenarios: {v.shape[0]} vs {S}")
    out = [np.ascontiguousarray(np.broadcast_to(v, (S, v.shape[-1])).T) for v in vectors]
    return out, S


def per_entity(a, batched: bool):
    """Reshape a scalar-or-(n,) parameter to broadcast against (n,) or (n, S)."""
    if np.ndim(a) == 0 or not batched:
        return a
    return np.asarray(a)[:, None]


def from_columns(a: np.ndarray, S: int | None) -> np.ndarray:
    """Inverse of :func:`to_columns` for one array."""
    return a if S is None else np.ascontiguousarray(a.T)


def liabilities_from_edges(debtor, creditor, amount, n: int) -> sp.csr_array:
    """Build the liability matrix ``L[debtor, creditor] = amount`` from an edge list.

    This is the canonical input format (pitfall 6: one orientation, converted
    at the edges).  Duplicate (debtor, creditor) pairs are summed.

    Parameters
    ----------
    debtor, creditor : array_like of int, shape (m,)
        Entity indices in ``[0, n)``; ``debtor[k]`` owes ``creditor[k]``.
    amount : array_like of float, shape (m,)
        Non-negative nominal amounts.
    n : int
        Number of entities.

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)

    Raises
    ------
    ValueError
        On length mismatch, out-of-range indices, self-loans, negative or
        non-finite amounts.

    Examples
    --------
    >>> L = liabilities_from_edges([0, 0, 1], [1, 1, 0], [2.0, 3.0, 1.0], 2)
    >>> L.toarray().tolist()
    [[0.0, 5.0], [1.0, 0.0]]
    """
    d = np.asarray(debtor)
    c = np.asarray(creditor)
    a = np.asarray(amount, dtype=np.float64)
    if not (d.ndim == c.ndim == a.ndim == 1 and d.shape == c.shape == a.shape):
        raise ValueError("debtor, creditor and amount must be 1-D arrays of equal length")
    if d.size and not (np.issubdtype(d.dtype, np.integer) and np.issubdtype(c.dtype, np.integer)):
        raise ValueError("debtor and creditor must be integer indices")
    if d.size and (d.min() < 0 or c.min() < 0 or d.max() >= n or c.max() >= n):
        raise ValueError(f"entity indices must lie in [0, {n})")
    if np.any(d == c):
        raise ValueError("self-loans (debtor == creditor) are not allowed")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("amount must be finite and non-negative")
    M = sp.csr_array((a, (d, c)), shape=(n, n))
    M.sum_duplicates()
    M.eliminate_zeros()
    return M


def exposures_from_liabilities(liabilities):
    """Claims/exposure matrix ``A = L.T`` (``A[i, j]`` = what ``i`` is owed by ``j``).

    DebtRank's ``exposures`` use this orientation.

    Examples
    --------
    >>> import numpy as np
    >>> exposures_from_liabilities(np.array([[0, 3], [0, 0]])).tolist()
    [[0, 0], [3, 0]]
    """
    if sp.issparse(liabilities):
        return sp.csr_array(liabilities.T)
    return np.asarray(liabilities).T.copy()


def liabilities_from_exposures(exposures):
    """Liability matrix ``L = A.T`` from a claims/exposure matrix (inverse of the above).

    Examples
    --------
    >>> import numpy as np
    >>> liabilities_from_exposures(np.array([[0, 0], [3, 0]])).tolist()
    [[0, 3], [0, 0]]
    """
    return exposures_from_liabilities(exposures)


def row_scaled(M: sp.csr_array, weights: np.ndarray) -> sp.csr_array:
    """Return ``diag(weights) @ M`` for CSR ``M`` (one O(nnz) pass, no format checks)."""
    data = M.data * np.repeat(weights, np.diff(M.indptr))
    return sp.csr_array((data, M.indices, M.indptr), shape=M.shape, copy=False)


def row_divided(M: sp.csr_array, divisors: np.ndarray) -> sp.csr_array:
    """Return ``diag(1 / divisors) @ M`` (rows with a stored entry need a divisor > 0).

    Divides instead of multiplying by the reciprocal, so that tiny (subnormal)
    row sums cannot overflow to infinity.
    """
    data = M.data / np.repeat(divisors, np.diff(M.indptr))
    return sp.csr_array((data, M.indices, M.indptr), shape=M.shape, copy=False)


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Solver
# --------------------------------------------------------------------------


def _clear(liabilities, external_assets, external_liabilities, alpha, beta, seniority, *,
           tol, max_iter, on_cap, exact, what) -> ClearingResult:
    if seniority not in _SENIORITIES:
        raise ValueError(f"seniority must be one of {_SENIORITIES}, got {seniority!r}")
    if not (tol > 0):
        raise ValueError("tol must be > 0")
    L = network_matrix(liabilities, "liabilities")
    n = L.shape[0]
    e = entity_vector(external_assets, n, "external_assets")
    x = (np.zeros(n) if external_liabilities is None
         else entity_vector(external_liabilities, n, "external_liabilities"))
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


def eisenberg_noe(liabilities, external_assets, external_liabilities=None, seniority: Seniority = "pro_rata",
                  *, tol: float = 1e-12, max_iter: int = 10_000, on_cap: OnCap = "warn",
                  exact: bool = True) -> ClearingResult:
    r"""Greatest Eisenberg--Noe (2001) clearing vector.

    Solves :math:`p = \min(\bar p, \max(0, e + \Pi^\top p))` by sparse Picard
    iteration from :math:`\bar p` plus an exact fictitious-default finishing
    step (see the module docstring for the equations and conventions).

    Parameters
    ----------
    liabilities : array_like or scipy.sparse matrix, shape (n, n)
        ``liabilities[i, j]`` = what ``i`` owes ``j``; non-negative, zero diagonal.
    external_assets : array_like, shape (n,) or (S, n)
        Outside assets :math:`e \ge 0`; (S, n) clears S scenarios sharing the
        network at once (results then have a leading S axis).
    external_liabilities : array_like, shape (n,) or (S, n), optional
        Obligations to outside creditors (default 0).
    seniority : {"pro_rata", "external_senior"}, default "pro_rata"
        External liabilities paid pro rata with network claims or ahead of them.
    tol : float, keyword-only, default 1e-12
        Convergence tolerance on :math:`\max|\Phi(q)-q|/\max\bar p`.
    max_iter : int, keyword-only, default 10000
        Picard iteration cap.
    on_cap : {"raise", "warn", "flag"}, keyword-only, default "warn"
        Non-convergence policy (never silent).
    exact : bool, keyword-only, default True
        Try the exact finishing step (GMRES on the defaulted set).

    Returns
    -------
    ClearingResult
        ``payments``, ``defaulted``, ``equity``, ``iterations``, ``converged``,
        plus ``network_payments``, ``external_payments``, ``received``,
        ``residual``, ``payment_matrix()`` etc.

    Raises
    ------
    ValueError
        Invalid shapes, negative or non-finite amounts, self-loans, unknown
        seniority.

    Notes
    -----
    The greatest clearing vector is unique when the network is regular
    (Eisenberg & Noe 2001, Thm 2); the greatest one is always returned.
    Cost: O(nnz) per iteration; iterations grow as the spectral radius of
    :math:`\Pi^\top` restricted to the defaulted set approaches 1.

    References
    ----------
    .. [1] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial
       systems. *Management Science*, 47(2), 236--249.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float)
    >>> r = eisenberg_noe(L, [10.0, 10.0, 10.0])
    >>> np.round(r.payments * 77, 6).tolist()   # (1890, 2030, 770) / 77
    [1890.0, 2030.0, 770.0]
    >>> np.round(r.equity, 4).tolist()
    [-5.4545, -2.6364, 30.0]

    Two scenarios at once:

    >>> rb = eisenberg_noe(L, [[10.0, 10.0, 10.0], [30.0, 10.0, 10.0]])
    >>> rb.defaulted.tolist()
    [[True, True, False], [False, False, False]]
    """
    return _clear(liabilities, external_assets, external_liabilities, 1.0, 1.0, seniority,
                  tol=tol, max_iter=max_iter, on_cap=on_cap, exact=exact, what="eisenberg_noe")


def rogers_veraart(liabilities, external_assets, alpha, beta, external_liabilities=None,
                   seniority: Seniority = "pro_rata", *, tol: float = 1e-12, max_iter: int = 10_000,
                   on_cap: OnCap = "warn", exact: bool = True) -> ClearingResult:
    r"""Greatest Rogers--Veraart (2013) clearing vector with default costs.

    A defaulted entity pays :math:`\alpha e_i + \beta\sum_j \Pi_{ji}p_j`; solvent
    ones pay :math:`\bar p_i` (module docstring).  Computed as the limit of
    Picard iteration from :math:`\bar p` (which is the greatest clearing
    vector, the output of their Greatest Clearing Vector Algorithm) plus the
    GCVA linear step :math:`(I - \beta\Pi^\top)_{DD}` solved by GMRES on the
    identified default set.

    Parameters
    ----------
    liabilities : array_like or scipy.sparse matrix, shape (n, n)
        ``liabilities[i, j]`` = what ``i`` owes ``j``.
    external_assets : array_like, shape (n,) or (S, n)
    alpha : float or array_like (n,)
        Fraction of outside assets realised in default, in [0, 1].
    beta : float or array_like (n,)
        Fraction of interbank claims realised in default, in [0, 1].
    external_liabilities : array_like, shape (n,) or (S, n), optional
    seniority : {"pro_rata", "external_senior"}, default "pro_rata"
    tol, max_iter, on_cap, exact
        As in :func:`eisenberg_noe`.

    Returns
    -------
    ClearingResult
        ``equity`` is book equity with undiscounted outside assets (the
        NetworkValuation convention, "book shortfall"); ``net_worth`` applies
        the default costs; ``default_costs`` is the value destroyed.

    Notes
    -----
    ``alpha = beta = 1`` reproduces :func:`eisenberg_noe` exactly.  With
    default costs the clearing vector need not be unique; the greatest one is
    returned.  The defaulted set is the set with
    :math:`e_i + \sum_j\Pi_{ji}p_j < \bar p_i`.

    References
    ----------
    .. [1] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in
       an interbank network. *Management Science*, 59(4), 882--898.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[0, 30, 0], [5, 0, 20], [10, 0, 0]], dtype=float)
    >>> r = rogers_veraart(L, [10.0, 5.0, 5.0], alpha=0.4, beta=1.0)
    >>> np.round(r.payments, 9).tolist(), np.round(r.equity, 9).tolist()
    ([18.0, 20.0, 10.0], [-6.0, -2.0, 11.0])
    """
    return _clear(liabilities, external_assets, external_liabilities, alpha, beta, seniority,
                  tol=tol, max_iter=max_iter, on_cap=on_cap, exact=exact, what="rogers_veraart")


# --------------------------------------------------------------------------
# One round of sequential clearing
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClearingStep:
    """One application of the clearing map (shapes (n,) or (S, n)).

    Attributes
    ----------
    payments : numpy.ndarray
        :math:`\\Phi(p)`: what each entity pays this round.
    paid_ratio : numpy.ndarray
        ``payments / total_liabilities`` (1 where nothing is owed).
    received : numpy.ndarray
        Network claims valued at the *previous* payments.
    total_liabilities : numpy.ndarray
        :math:`\\bar p`.
    defaulted : numpy.ndarray of bool
        Assets (undiscounted) below :math:`\\bar p`.
    equity : numpy.ndarray
        Book equity :math:`e + \\text{received} - \\bar p`.
    """

    payments: np.ndarray
    paid_ratio: np.ndarray
    received: np.ndarray
    total_liabilities: np.ndarray
    defaulted: np.ndarray
    equity: np.ndarray


def _all_one(v) -> bool:
    """``v`` is 1 everywhere (a plain number is checked without numpy's reduction)."""
    return v == 1.0 if isinstance(v, (int, float)) else bool(np.all(np.equal(v, 1.0)))


def clearing_step(liabilities, external_assets, paid_ratio, alpha=1.0, beta=1.0,
                  external_liabilities=None, *, checked: bool = False,
                  liabilities_t: sp.csr_array | None = None, network_owed: np.ndarray | None = None,
                  received: np.ndarray | None = None) -> ClearingStep:
    r"""One round of sequential clearing: the Rogers--Veraart map applied once.

    Creditors value their claims at what their debtors paid in the previous
    round (``paid_ratio``), so a default reaches the creditors one round
    later, as in Furfine's (2003) sequential default; each entity then pays

    .. math::

        p_i = \begin{cases}
          \bar p_i & \text{if } e_i + \sum_j L_{ji} r_j \ge \bar p_i,\\
          \max\bigl(0, \alpha e_i + \beta \sum_j L_{ji} r_j\bigr) & \text{otherwise,}
        \end{cases}

    with :math:`r_j` the previous paid ratio. Started from :math:`r = 1` and
    repeated with unchanged outside assets, the rounds are the Picard
    iterates of :func:`rogers_veraart` and fall monotonically to its greatest
    clearing vector (Eisenberg--Noe for :math:`\alpha = \beta = 1`).
    External liabilities are paid pro rata with network claims.

    Parameters
    ----------
    liabilities : array_like or scipy.sparse matrix, shape (n, n)
        ``liabilities[i, j]`` = what ``i`` owes ``j``.
    external_assets : array_like, shape (n,) or (S, n)
    paid_ratio : array_like, shape (n,) or (S, n)
        Share of its obligations each entity paid in the previous round, in [0, 1].
    alpha, beta : float
        Rogers--Veraart default costs.
    external_liabilities : array_like, shape (n,) or (S, n), optional
    checked : bool, default False
        ``liabilities`` is already a CSR array from :func:`network_matrix` and
        the vectors are valid: skip the checks (a cascade calls this every round).
    liabilities_t : scipy.sparse.csr_array, optional
        ``liabilities`` transposed, as CSR (a cascade builds it once).
    network_owed : ndarray, shape (n,), optional
        Row sums of ``liabilities`` (likewise).
    received : ndarray, shape of ``paid_ratio``, optional
        What each entity receives on its claims at ``paid_ratio``, when the
        caller has computed it (``liabilities`` transposed times ``paid_ratio``).

    Returns
    -------
    ClearingStep

    Examples
    --------
    TV1 (Eisenberg--Noe, three banks): bank 0 defaults in round 1; bank 1
    only once bank 0's shortfall reaches it in round 2.

    >>> L = [[0, 20, 10], [5, 0, 24], [10, 0, 0]]
    >>> s1 = clearing_step(L, [10.0, 10.0, 10.0], [1.0, 1.0, 1.0])
    >>> s1.defaulted.tolist()
    [True, False, False]
    >>> s2 = clearing_step(L, [10.0, 10.0, 10.0], s1.paid_ratio)
    >>> s2.defaulted.tolist()
    [True, True, False]
    """
    L = liabilities if checked else network_matrix(liabilities, "liabilities")
    n = L.shape[0]
    e = np.asarray(external_assets, dtype=float)
    r = np.asarray(paid_ratio, dtype=float)
    if not checked:
        if e.shape[-1] != n or r.shape[-1] != n:
            raise ValueError(f"external_assets and paid_ratio must end in an axis of length {n}")
        if np.any(e < 0) or np.any((r < 0) | (r > 1 + 1e-12)):
            raise ValueError("external_assets must be >= 0 and paid_ratio in [0, 1]")
    x = np.zeros_like(e) if external_liabilities is None else np.asarray(external_liabilities, dtype=float)
    pbar = (L @ np.ones(n) if network_owed is None else network_owed) + x
    LT = L.T if liabilities_t is None else liabilities_t
    if received is not None:
        received = np.asarray(received, dtype=float)
    elif r.ndim == 1:
        received = LT @ r
    elif r.shape[0] == 1:
        received = (LT @ r[0])[None]
    else:
        received = np.ascontiguousarray((LT @ r.T).T)  # row-major like the other (S, n) arrays it meets
    if received.shape != e.shape:
        received = np.broadcast_to(received, np.broadcast_shapes(r.shape, e.shape))
    assets = e + received
    solvent = assets >= pbar
    # a defaulted entity pays what it realises, alpha e + beta received, within [0, pbar]; the solvent pay pbar
    costless = _all_one(alpha) and _all_one(beta)
    pay = np.minimum(assets, pbar) if costless else np.minimum(alpha * e + beta * received, pbar)
    np.maximum(pay, 0.0, out=pay)  # with alpha = beta = 1 the solvent already pay pbar
    if not costless:
        np.copyto(pay, np.broadcast_to(pbar, pay.shape), where=solvent)
    ratio = np.divide(pay, pbar, out=np.ones_like(pay), where=pbar > 0)
    return ClearingStep(payments=pay, paid_ratio=ratio, received=received, total_liabilities=pbar,
                        defaulted=~solvent, equity=assets - pbar)

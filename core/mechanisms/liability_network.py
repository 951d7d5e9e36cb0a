r"""Liability networks as the clearing models take them: one orientation, checked at the boundary.

A network of obligations is a square matrix :math:`L` with :math:`L_{ij} \ge 0`
the nominal amount debtor :math:`i` owes creditor :math:`j` (row = debtor), no
self-loans (zero diagonal), stored as a CSR sparse array. The claims (exposure)
matrix DebtRank uses is its transpose, :math:`A = L^\top`. Edge lists
``(debtor, creditor, amount)`` are the canonical input (duplicate pairs are
summed); every conversion between the orientations happens here, so that the
models never guess which way a matrix points (pitfall 6 of the research notes).

Per-entity inputs come as (n,) vectors or as (S, n) blocks of S scenarios that
share the network; the solvers work on columns (n, S), so that one sparse
product :math:`\Pi^\top Q` serves every scenario. :func:`to_columns` and
:func:`from_columns` convert between the two layouts, and :func:`row_scaled` /
:func:`row_divided` build :math:`\operatorname{diag}(w)\,L` and the relative
liability matrix :math:`\Pi = \operatorname{diag}(\bar q)^{-1} L` in one pass
over the stored entries.

Shared by :mod:`core.mechanisms.clearing`, :mod:`core.mechanisms.sequential_clearing`,
:mod:`core.mechanisms.debtrank` and :mod:`core.mechanisms.furfine`.

References
----------
.. [1] Eisenberg, L., & Noe, T. H. (2001). Systemic risk in financial systems.
   *Management Science*, 47(2), 236--249 (the liability matrix and :math:`\Pi`).
.. [2] Bardoscia, M., et al. (2015). DebtRank: a microscopic foundation for
   shock propagation. *PLoS ONE*, 10(6) (exposures as the transpose).

Examples
--------
>>> L = liabilities_from_edges([0, 1], [1, 0], [3.0, 1.0], 2)
>>> exposures_from_liabilities(L).toarray().tolist()
[[0.0, 1.0], [3.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "liabilities_from_edges",
    "exposures_from_liabilities",
    "liabilities_from_exposures",
    "network_matrix",
]


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


def balance_sheet_inputs(liabilities, external_assets, external_liabilities=None):
    """Check a clearing model's inputs: ``(L, n, e, x)`` with ``L`` from :func:`network_matrix` and the
    outside assets ``e`` and liabilities ``x`` as (n,) or (S, n) vectors (``x`` is 0 when None)."""
    L = network_matrix(liabilities, "liabilities")
    n = L.shape[0]
    e = entity_vector(external_assets, n, "external_assets")
    x = (np.zeros(n) if external_liabilities is None
         else entity_vector(external_liabilities, n, "external_liabilities"))
    return L, n, e, x


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

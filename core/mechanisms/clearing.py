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
Both are one monotone map on the vector of network payments, solved from the
top by Picard iteration and finished exactly by GMRES on the defaulted
entities (:mod:`core.mechanisms.clearing_solver`); one application of the map
per round, as a cascade uses it, is
:func:`~core.mechanisms.sequential_clearing.clearing_step`. The inputs are
checked and oriented by :mod:`core.mechanisms.liability_network`.

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

from .clearing_solver import ClearingResult, Seniority, _clear
from .fixedpoint import OnCap
# re-exported: the network inputs and the sequential step lived here, and callers import them from here
from .liability_network import (  # noqa: F401
    entity_parameter,
    entity_vector,
    exposures_from_liabilities,
    from_columns,
    liabilities_from_edges,
    liabilities_from_exposures,
    network_matrix,
    per_entity,
    row_divided,
    row_scaled,
    to_columns,
)
from .sequential_clearing import ClearingStep, clearing_step  # noqa: F401

__all__ = [
    "ClearingResult",
    "eisenberg_noe",
    "rogers_veraart",
    "liabilities_from_edges",
    "exposures_from_liabilities",
    "liabilities_from_exposures",
    "network_matrix",
]

#: Shortfall, relative to what is owed, below which an entity has not defaulted (floating-point slack):
#: the cascade engine counts a default only when a debtor pays less than ``owed - max(1, DEFAULT_TOL * owed)``.
DEFAULT_TOL = 1e-9


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


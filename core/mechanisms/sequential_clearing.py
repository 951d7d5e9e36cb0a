r"""Sequential clearing: the Rogers--Veraart clearing map applied once a round.

A cascade that runs in rounds cannot wait for the clearing vector: creditors
value their claims at what their debtors paid in the *previous* round, so a
default reaches the creditors one round later, as in Furfine's (2003)
sequential default. With :math:`r_j` the share of its obligations debtor
:math:`j` paid last round, each entity pays this round

.. math::

    p_i = \begin{cases}
      \bar p_i & \text{if } e_i + \sum_j L_{ji} r_j \ge \bar p_i,\\
      \max\bigl(0, \alpha e_i + \beta \sum_j L_{ji} r_j\bigr) & \text{otherwise.}
    \end{cases}

Started from :math:`r = 1` and repeated with unchanged outside assets, the
rounds are the Picard iterates of :func:`core.mechanisms.clearing.rogers_veraart`
and fall monotonically to its greatest clearing vector (Eisenberg--Noe for
:math:`\alpha = \beta = 1`). The cascade engine (:mod:`core.engine.clear`)
applies it once per round, with outside assets that the round's other steps
have moved.

References
----------
.. [1] Rogers, L. C. G., & Veraart, L. A. M. (2013). Failure and rescue in an
   interbank network. *Management Science*, 59(4), 882--898.
.. [2] Furfine, C. H. (2003). Interbank exposures: quantifying the risk of
   contagion. *Journal of Money, Credit and Banking*, 35(1), 111--128.

Examples
--------
>>> step = clearing_step([[0, 20, 10], [5, 0, 24], [10, 0, 0]], [10.0, 10.0, 10.0], [1.0, 1.0, 1.0])
>>> step.defaulted.tolist()
[True, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .liability_network import network_matrix

__all__ = ["ClearingStep", "clearing_step"]


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

    Examples
    --------
    >>> s = clearing_step([[0, 20, 10], [5, 0, 24], [10, 0, 0]], [10.0, 10.0, 10.0], [1.0, 1.0, 1.0])
    >>> s.total_liabilities.tolist(), s.payments.tolist(), s.equity.tolist()
    ([30.0, 29.0, 10.0], [25.0, 29.0, 10.0], [-5.0, 1.0, 34.0])
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

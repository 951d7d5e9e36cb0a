r"""Furfine (2003) sequential default cascade.

Entity :math:`i` owes :math:`L_{ij}` to :math:`j` and :math:`x_i` outside the
network, and holds outside assets :math:`e_i`.  Its capital is

.. math:: K_i = e_i + \sum_j L_{ji} - \sum_j L_{ij} - x_i .

Entities with :math:`K_i < 0` (plus any ``initial_defaults``) default in
round 0.  A defaulted debtor :math:`j` pays a fraction :math:`R_j`
(``recovery``) of what it owes, so creditor :math:`i` loses
:math:`(1 - R_j) L_{ji}`.  In round :math:`t` every entity whose cumulative
credit losses exceed its capital defaults,

.. math::

    D_{t} = D_0 \cup \Bigl\{ i : \sum_{j \in D_{t-1}} (1 - R_j) L_{ji} > K_i \Bigr\},

until no new default occurs (at most :math:`n` rounds).  :math:`D_t` is the
Picard iteration of a monotone map on default indicators, run by
:func:`core.mechanisms.fixedpoint.picard` with ``tol=0``.  With zero recovery
this is the threshold model of Gai & Kapadia (2010) without fire sales.

Conventions
-----------
* ``liabilities[i, j]`` = what ``i`` owes ``j`` (row = debtor), as in
  :mod:`core.mechanisms.clearing`; losses use the transpose (creditor rows).
* ``recovery`` is per *debtor* (scalar or shape (n,)), in [0, 1].
* The default test is strict: losses equal to capital do not default.
* Losses are credit losses only (no fire sales, no clearing of partial
  payments: a defaulted debtor pays exactly ``recovery`` of its debts,
  irrespective of its balance sheet).

References
----------
.. [1] Furfine, C. H. (2003). Interbank exposures: Quantifying the risk of
   contagion. *Journal of Money, Credit and Banking*, 35(1), 111--128.
.. [2] Gai, P., & Kapadia, S. (2010). Contagion in financial networks.
   *Proceedings of the Royal Society A*, 466(2120), 2401--2423.

Examples
--------
A directed ring (each entity lent 20 to the next) with capital 4.5: one
default per round (TV12 in the research notes).

>>> import numpy as np
>>> n = 6
>>> L = liabilities_from_edges((np.arange(n) + 1) % n, np.arange(n), np.full(n, 20.0), n)
>>> r = furfine(L, np.full(n, 80.0), 0.0, np.full(n, 75.5), initial_defaults=[0])
>>> r.default_round.tolist(), r.rounds
([0, 5, 4, 3, 2, 1], 6)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixedpoint import OnCap, picard
from .liability_network import (
    balance_sheet_inputs,
    entity_parameter,
    from_columns,
    liabilities_from_edges,  # noqa: F401  (re-exported for the doctest/users)
    per_entity,
    to_columns,
)

__all__ = ["FurfineResult", "furfine"]


@dataclass(frozen=True)
class FurfineResult:
    """Outcome of a Furfine cascade.

    Per-entity arrays have shape (n,), or (S, n) for batched inputs.

    Attributes
    ----------
    defaulted : numpy.ndarray of bool
    default_round : numpy.ndarray of int
        Round in which the entity defaulted (0 = initial), -1 = never.
    rounds : int or numpy.ndarray
        Number of rounds with at least one default, round 0 included
        (``max(default_round) + 1``; 0 if nobody defaults); shape (S,) if
        batched.
    losses : numpy.ndarray
        Credit losses :math:`\\sum_{j \\in D}(1-R_j)L_{ji}`.
    equity : numpy.ndarray
        Capital minus losses (negative for entities that defaulted through
        losses or started insolvent).
    capital : numpy.ndarray
        Capital before the cascade, :math:`e + \\text{claims} - \\text{liabilities}`.
    iterations : int
        Propagation steps performed (the last one confirms that nothing changes).
    converged : bool

    Examples
    --------
    >>> L = 4.0 * (1 - np.eye(6))
    >>> r = furfine(L, np.full(6, 80.0), 0.0, np.full(6, 76.5), initial_defaults=[0])
    >>> int(r.defaulted.sum()), r.rounds
    (6, 2)
    """

    defaulted: np.ndarray
    default_round: np.ndarray
    rounds: int | np.ndarray
    losses: np.ndarray
    equity: np.ndarray
    capital: np.ndarray
    iterations: int
    converged: bool


def furfine(liabilities, external_assets, recovery, external_liabilities=None, *,
            initial_defaults=None, on_cap: OnCap = "raise") -> FurfineResult:
    r"""Furfine (2003) sequential default cascade.

    Parameters
    ----------
    liabilities : array_like or scipy.sparse matrix, shape (n, n)
        ``liabilities[i, j]`` = what ``i`` owes ``j``.
    external_assets : array_like, shape (n,) or (S, n)
        Outside assets :math:`e`.
    recovery : float or array_like, shape (n,)
        Recovery rate per debtor in [0, 1].
    external_liabilities : array_like, shape (n,) or (S, n), optional
        Outside debt :math:`x` (default 0); enters capital only.
    initial_defaults : array_like, optional, keyword-only
        Entities forced into default in round 0: a boolean mask of shape (n,)
        or (S, n), or a sequence of integer indices.  Entities with negative
        capital always default in round 0.
    on_cap : {"raise", "warn", "flag"}, keyword-only, default "raise"
        Cannot trigger in practice (the cascade ends within ``n + 1`` steps).

    Returns
    -------
    FurfineResult
        ``defaulted``, ``default_round``, ``rounds``, ``losses``, ``equity``
        (and ``capital``, ``iterations``, ``converged``).

    Raises
    ------
    ValueError
        Invalid shapes, negative or non-finite amounts, self-loans, recovery
        outside [0, 1], bad ``initial_defaults``.

    Notes
    -----
    One sparse product per round, so O(nnz · rounds); batched scenarios share
    one sparse × dense block product.

    References
    ----------
    .. [1] Furfine, C. H. (2003). Interbank exposures: Quantifying the risk
       of contagion. *Journal of Money, Credit and Banking*, 35(1), 111--128.

    Examples
    --------
    Complete graph of 6 banks, each exposure 4, bank 0 fails (Gai--Kapadia
    balance sheet with capital K): no contagion for K = 4.5, total for K = 3.5.

    >>> import numpy as np
    >>> L = 4.0 * (1 - np.eye(6))
    >>> for K in (4.5, 3.5):
    ...     r = furfine(L, np.full(6, 80.0), 0.0, np.full(6, 80.0 - K), initial_defaults=[0])
    ...     print(K, int(r.defaulted.sum()), r.rounds)
    4.5 1 1
    3.5 6 2
    """
    L, n, e, x = balance_sheet_inputs(liabilities, external_assets, external_liabilities)
    R = entity_parameter(recovery, n, "recovery")
    init = np.zeros(n, dtype=bool)
    if initial_defaults is not None:
        d = np.asarray(initial_defaults)
        if d.dtype == bool:
            if not (d.shape == (n,) or (d.ndim == 2 and d.shape[1] == n)):
                raise ValueError(f"initial_defaults mask must have shape ({n},) or (S, {n}), got {d.shape}")
            init = d
        else:
            if d.ndim != 1 or (d.size and not np.issubdtype(d.dtype, np.integer)):
                raise ValueError("initial_defaults must be a boolean mask or a sequence of integer indices")
            if d.size and (d.min() < 0 or d.max() >= n):
                raise ValueError(f"initial_defaults indices must lie in [0, {n})")
            init[d] = True
    (Ea, X, D0), S = to_columns(e, x, init.astype(np.float64))
    D0 = D0 > 0
    batched = S is not None

    ones = np.ones(n)
    owed = L @ ones                     # network liabilities per debtor
    claims = L.T @ ones                 # network claims per creditor
    col = (lambda v: v[:, None]) if batched else (lambda v: v)
    capital = Ea + col(claims) - col(owed) - X
    D0 = D0 | (capital < 0)
    LT = L.T                            # creditor rows
    lgd = per_entity(1.0 - np.asarray(R), batched)

    def losses_of(d):
        return LT @ np.where(d, lgd, 0.0)

    round_of = np.where(D0, 0, -1)

    def phi(d):
        return D0 | (losses_of(d) > capital)

    def record(k, old, new):
        round_of[new & ~old] = k

    fp = picard(phi, D0, tol=0.0, max_iter=n + 2, on_cap=on_cap, callback=record, what="furfine")
    D = fp.x
    losses = losses_of(D)
    rounds = round_of.max(axis=0) + 1
    return FurfineResult(
        defaulted=from_columns(D, S), default_round=from_columns(round_of, S),
        rounds=int(rounds) if not batched else np.asarray(rounds),
        losses=from_columns(losses, S), equity=from_columns(capital - losses, S),
        capital=from_columns(capital, S), iterations=fp.iterations, converged=fp.converged,
    )

"""Membership matrices and their transposes, taken once.

A sum of row values over groups is ``membership.T @ values.T``: ``(N, G)`` rows to groups. The memberships of
a book (positions to accounts, venues, markets, named entities) are constants of the network, but scipy builds
``membership.T`` afresh on each access (a new CSC array over the same buffers, with its format checks: some
30 µs, thirty times a round on a perpetuals book, more than the products themselves on a one-row batch).
:func:`transposed` keeps each matrix's transpose for as long as the matrix lives; the product is the one
``membership.T @`` ran before (the same CSC array over the same buffers), so the sums are the same to the last
bit.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["transposed"]

_TRANSPOSES: dict[int, Any] = {}


def transposed(m: Any) -> Any:
    """``m.T`` of a sparse matrix that never changes, built on the first call and kept while ``m`` lives.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_array((np.ones(3), ([0, 1, 2], [0, 0, 1])), shape=(3, 2))
    >>> (transposed(m) @ np.array([1.0, 2.0, 4.0])).tolist(), transposed(m) is transposed(m)
    ([3.0, 4.0], True)
    """
    key = id(m)
    try:
        return _TRANSPOSES[key]
    except KeyError:
        t = _TRANSPOSES[key] = m.T  # (shares m's buffers, not m: m can still be collected)
        weakref.finalize(m, _TRANSPOSES.pop, key, None)  # an id is reused only after its object is gone
        return t

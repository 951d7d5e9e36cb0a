"""Group sums and sparse products a cascade's rounds use every round, built once with the compiled network
(:mod:`core.engine.compiled`): one scenario takes ``np.bincount``, a batch one sparse product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

@dataclass(frozen=True, eq=False)
class Group:
    """Sums (S, m) item weights into ``n`` groups by ``idx`` (items to entities or assets), (S, n).

    One scenario takes ``np.bincount``; a batch takes one sparse product with
    the membership matrix, built once per network. Both add each group's items
    one by one in item order, so a row's sums never depend on its batch-mates
    (a dense BLAS product, used before for small groups, blocks its sums by the
    batch's size: the last bits of a row moved with the number of rows).
    """

    idx: np.ndarray
    n: int
    M: sp.csr_array                # (n, m) membership, items in order within each group

    @classmethod
    def of(cls, idx: np.ndarray, n: int) -> "Group":
        idx = np.asarray(idx, dtype=int)
        M = sp.csr_array((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n, idx.size))
        return cls(idx, n, _narrow_indices(M))

    def __call__(self, w: np.ndarray) -> np.ndarray:
        if self.idx.size == 0:
            return np.zeros((w.shape[0], self.n))
        if w.shape[0] == 1:
            if self.idx.size >= GROUP_SPARSE_MIN_ITEMS and GROUP_SPARSE_ITEMS_PER_GROUP * self.n <= self.idx.size:
                return (self.M @ w[0])[None]  # few groups of many items: the product's loop is the faster
            return np.bincount(self.idx, weights=w[0], minlength=self.n)[None]
        return np.ascontiguousarray((self.M @ w.T).T)

    def of_groups(self, groups: np.ndarray) -> "Subgroup":
        """The sums of ``groups`` alone (:class:`Subgroup`): ``sub(w)`` is ``self(w)[:, groups]`` to the last bit."""
        groups = np.asarray(groups, dtype=int)
        kept, at = np.unique(groups, return_inverse=True)
        pos = np.full(self.n, -1)
        pos[kept] = np.arange(len(kept))
        items = np.flatnonzero(pos[self.idx] >= 0)  # in item order: each group's items in the order it sums them
        return Subgroup(items, Group.of(pos[self.idx[items]], len(kept)), at)


@dataclass(frozen=True, eq=False)
class Subgroup:
    """Some groups of a :class:`Group`: their items ``items`` (in item order), summed by a group of those alone,
    read back in the order asked (``at``). Each group's items are added in the same order from zero, by the same
    branch (``np.bincount`` for one scenario, the sparse product for a batch), so each sum is the whole group's
    to the last bit, at a cost of the groups' items instead of every item (an exchange token's issuer among a
    synthetic network's ten thousand in-kind claims: :func:`core.engine.exchange_tokens.exchange_token_prices`)."""

    items: np.ndarray
    group: Group
    at: np.ndarray

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return self.group(w[:, self.items])[:, self.at]


@dataclass(frozen=True, eq=False)
class Product:
    """``X @ M`` for a batch X of shape (S, n), M given transposed as CSR: a bincount for one scenario and a
    small matrix (a sparse product's call costs more than the work there), one sparse product otherwise
    (on a large matrix its compiled loop is faster). Both sum each row's products in the order of its
    stored values, from zero, so they agree to the last bit (``tests/test_engine_speed.py``).

    A matrix of few columns and few stored values a row (each entity's reference units of the network's
    tokens, ``H0``: 100,000 rows of at most 3 of 8 tokens at synthetic(100k)) is summed by slots (:func:`_slots`):
    every row's first stored value's product, then its second's added, and so on, each a pass over the rows.
    A row past its last stored value adds 0.0 times a column's value: ±0.0, which leaves a sum as it is (a sum
    from zero is never -0.0), so where every value of ``X`` is finite the sums are the sparse product's to the
    last bit (the same order from zero); with an inf or NaN in ``X``, the sparse product. The sparse product's
    loop branches on each row's length; the slots read a column's value from a few in cache: 445 -> 196 us a
    product at synthetic(100k), one scenario."""

    MT: sp.csr_array
    rows: np.ndarray               # row of MT of each stored value
    slots: tuple[np.ndarray, np.ndarray] | None = None  # (K, rows) column and value of each row's k-th stored value

    @classmethod
    def of(cls, MT: sp.csr_array) -> "Product":
        MT = _narrow_indices(sp.csr_array(MT))
        return cls(MT, np.repeat(np.arange(MT.shape[0]), np.diff(MT.indptr)), _slots(MT))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.MT.nnz == 0:
            return np.zeros((X.shape[0], self.MT.shape[0]))
        if self.slots is not None and np.isfinite(X).all():
            columns, values = self.slots
            out = values[0] * X.take(columns[0], axis=1)
            out += 0.0  # the sum from zero: 0.0 + the first product (-0.0 becomes 0.0, as in the sparse product)
            for k in range(1, len(columns)):
                out += values[k] * X.take(columns[k], axis=1)
            return out
        if X.shape[0] == 1:
            if self.MT.nnz <= PRODUCT_BINCOUNT_MAX:
                return np.bincount(self.rows, weights=self.MT.data * X[0][self.MT.indices], minlength=self.MT.shape[0])[None]
            return (self.MT @ X[0])[None]
        return np.ascontiguousarray((self.MT @ X.T).T)


def _slots(MT: sp.csr_array) -> tuple[np.ndarray, np.ndarray] | None:
    """``MT``'s stored values by their place in their row, (K, rows) columns and values (column 0 and 0.0 past a
    row's last), where :class:`Product` sums by slots: at most :data:`SLOT_COLUMNS_MAX` columns, at most
    :data:`SLOTS_MAX` stored values a row, more than :data:`PRODUCT_BINCOUNT_MAX` in all; None elsewhere."""
    lengths = np.diff(MT.indptr)
    if MT.shape[1] > SLOT_COLUMNS_MAX or MT.nnz <= PRODUCT_BINCOUNT_MAX or lengths.max(initial=0) > SLOTS_MAX:
        return None
    K, start = int(lengths.max()), MT.indptr[:-1].astype(np.intp)
    columns, values = np.zeros((K, MT.shape[0]), np.intp), np.zeros((K, MT.shape[0]))
    for k in range(K):  # a handful of slots, each over every row
        has = lengths > k
        columns[k, has] = MT.indices[start[has] + k]
        values[k, has] = MT.data[start[has] + k]
    return columns, values


def _narrow_indices(M: sp.csr_array) -> sp.csr_array:
    """``M`` with 32-bit column indices and row pointers where its shape and stored values fit them (the same
    matrix: a product sums each row's stored values in their order from zero whatever the index type, so the same
    bits). A product reads 16 bytes a stored value with 64-bit indices, 12 with 32-bit ones: at synthetic(100k),
    whose claims matrix and in-kind claims (1.0M stored values) were built with 64-bit indices, a quarter of the
    round's sparse traffic."""
    limit = np.iinfo(np.int32).max
    if M.indices.dtype == np.int32 and M.indptr.dtype == np.int32:
        return M
    if max(M.shape) >= limit or M.nnz >= limit:
        return M
    return sp.csr_array((M.data, M.indices.astype(np.int32), M.indptr.astype(np.int32)), shape=M.shape)


#: Most stored values of a matrix whose product with one scenario :class:`Product` takes as a bincount.
PRODUCT_BINCOUNT_MAX = 4_096
#: Most columns, and most stored values a row, of a matrix :class:`Product` sums by slots (:func:`_slots`).
SLOT_COLUMNS_MAX = 64
SLOTS_MAX = 4
#: One scenario's sums of at least this many items into at most one group per
#: :data:`GROUP_SPARSE_ITEMS_PER_GROUP` items take the sparse product, not ``np.bincount``: both add a group's items
#: in item order from zero (the same bits), but a bincount into few groups waits on each group's previous add
#: (measured, one scenario: 45,000 cohorts into 8 tokens 52.9 us by bincount, 23.6 us by the product; into
#: 100,000 entities 60.9 us against 339 us, and at 1,024 items or fewer the bincount is the faster at any size).
GROUP_SPARSE_MIN_ITEMS = 4_096
GROUP_SPARSE_ITEMS_PER_GROUP = 4
#: Largest dense membership matrix (items × groups) a :class:`Group` keeps.
DENSE_GROUP_MAX = 65_536

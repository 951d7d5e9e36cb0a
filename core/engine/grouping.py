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
        if w.shape[0] * self.idx.size <= BATCH_BINCOUNT_MAX:
            return np.bincount(_batch_bins(self, self.idx, self.n, w.shape[0]), weights=w.ravel(),
                               minlength=w.shape[0] * self.n).reshape(w.shape[0], self.n)
        return np.ascontiguousarray((self.M @ w.T).T)

    def some(self, w: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The sums of the items ``items`` alone (indices, increasing), ``w`` (S, len(items)) their weights:
        ``self(full)`` with ``full`` ``w`` at ``items`` and 0.0 (or -0.0) at every other item, to the last bit. Both
        branches add a group's items in item order from 0.0, and a sum from 0.0 is never -0.0, so adding a zero
        leaves it as it is: the items of weight zero can be left out. One scenario takes ``np.bincount`` over the
        items (the liquidation step's cohorts due, some 16,000 of synthetic(100k)'s 44,845); a batch the whole
        product."""
        if w.shape[0] != 1:
            full = np.zeros((w.shape[0], self.idx.size))
            full[:, items] = w
            return self(full)
        return np.bincount(self.idx[items], weights=w[0], minlength=self.n)[None]

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
class Slots:
    """A matrix's stored values by their place in their row, for :class:`Product`: the rows in order of
    decreasing length (``order``, stable; ``back`` each row's place in it), and for each place ``k`` the
    columns and values of the k-th stored value of the ``counts[k]`` rows that have one (those first in
    ``order``). Each row's sum is 0.0 plus its first product, plus its second, ..., the sparse product's
    operations in its order (scipy's ``csr_matvec``: a sum from the row's zero, stored value by stored value),
    so the same bits, whatever the values (no padding: a row takes no add past its last stored value)."""

    order: np.ndarray
    back: np.ndarray
    counts: tuple[int, ...]
    columns: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, MT: sp.csr_array) -> "Slots | None":
        """``MT``'s slots where :class:`Product` sums by them: more than :data:`PRODUCT_BINCOUNT_MAX` stored
        values, at most :data:`SLOT_COLUMNS_MAX` columns (the values read stay in cache), at most
        :data:`SLOTS_MAX` places and at least :data:`ROWS_PER_SLOT` rows a place (each place costs a few array
        calls; the sparse product's loop a branch a row); None elsewhere."""
        lengths = np.diff(MT.indptr)
        K = int(lengths.max(initial=0))
        if (MT.nnz <= PRODUCT_BINCOUNT_MAX or MT.shape[1] > SLOT_COLUMNS_MAX or K > SLOTS_MAX
                or K * ROWS_PER_SLOT > MT.shape[0]):
            return None
        order = np.argsort(-lengths, kind="stable")
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        start = MT.indptr[:-1].astype(np.intp)[order]
        counts = tuple(int(k) for k in np.count_nonzero(lengths[None] > np.arange(K)[:, None], axis=1))
        columns = tuple(MT.indices[start[:m] + k].astype(np.intp) for k, m in enumerate(counts))
        values = tuple(MT.data[start[:m] + k] for k, m in enumerate(counts))
        return cls(order, back, counts, columns, values)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if X.shape[0] == 1:
            x = X[0]
            out = np.zeros(len(self.order))
            for m, columns, values in zip(self.counts, self.columns, self.values):
                out[:m] += values * x.take(columns)
            return out.take(self.back)[None]
        out = np.zeros((X.shape[0], len(self.order)))
        for m, columns, values in zip(self.counts, self.columns, self.values):
            out[:, :m] += values * X.take(columns, axis=1)
        return out.take(self.back, axis=1)


@dataclass(frozen=True, eq=False)
class ByLength:
    """A matrix's rows in order of decreasing length (``rows``, stable; ``back`` each row's place among them), for
    :class:`Product`'s one-scenario sparse product: scipy's ``csr_matvec`` sums each row from zero, stored value
    by stored value, whatever the rows' order, so the product of the reordered rows, put back in order, has the
    same bits. Its loop ends each row at a branch on the row's length; over rows of random lengths the branch is
    mispredicted a row in two or so, which cost more than the stored values' reads: at synthetic(100k), one
    scenario (process CPU, median of 60), the claims received (675,648 stored values, rows of 0-21) 840 -> 382 us
    and the claims held (324,301, rows of 0-14) 686 -> 228 us, the put-back (a gather) included."""

    rows: sp.csr_array
    back: np.ndarray

    @classmethod
    def of(cls, MT: sp.csr_array) -> "ByLength | None":
        """``MT``'s rows by length where it has at least :data:`BY_LENGTH_MIN_ROWS` rows not already in that
        order; None elsewhere."""
        lengths = np.diff(MT.indptr)
        if MT.shape[0] < BY_LENGTH_MIN_ROWS or bool((lengths[1:] <= lengths[:-1]).all()):
            return None
        order = np.argsort(-lengths, kind="stable")
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return cls(_narrow_indices(sp.csr_array(MT[order])), back)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self.rows @ x).take(self.back)


@dataclass(frozen=True, eq=False)
class Product:
    """``X @ M`` for a batch X of shape (S, n), M given transposed as CSR: a bincount for one scenario and a
    small matrix (a sparse product's call costs more than the work there), one sparse product otherwise
    (on a large matrix its compiled loop is faster). Both sum each row's products in the order of its
    stored values, from zero, so they agree to the last bit (``tests/test_engine_speed.py``).

    A large matrix of few columns and few stored values a row (each entity's reference units of the tokens) is
    summed by places (:class:`Slots`): every row's first stored value's product, then the second's added to
    the rows that have one, and so on, each a pass over a prefix of the rows sorted by length, then the rows put
    back in order: the same operations in the same order, so the same bits. The sparse product's loop branches
    on each row's length, unpredictably; the passes do not, and read the few columns' values from cache. At
    synthetic(100k), one scenario (thread CPU; caches evicted before each call / warm): the reference units
    (100,000 rows of 1-3 of 8 tokens) 469 -> 258 / 422 -> 170 us. On a matrix of many columns the passes read
    and write some 60 bytes a stored value where the sparse product reads 12: warm they were the faster (the
    claims received, 675,648 stored values up to 21 a row, 826 -> 633 us), cold the slower (931 -> 1,085 us).
    There one scenario's sparse product runs over the rows sorted by length (:class:`ByLength`), which spares its
    loop the mispredicted branch at each row's end and reads no more (the claims received 840 -> 382 us)."""

    MT: sp.csr_array
    rows: np.ndarray               # row of MT of each stored value
    slots: Slots | None = None
    by_length: ByLength | None = None  # MT's rows by length, for one scenario's sparse product

    @classmethod
    def of(cls, MT: sp.csr_array) -> "Product":
        MT = _narrow_indices(sp.csr_array(MT))
        slots = Slots.of(MT)
        by_length = None if slots is not None or MT.nnz <= PRODUCT_BINCOUNT_MAX else ByLength.of(MT)
        return cls(MT, np.repeat(np.arange(MT.shape[0]), np.diff(MT.indptr)), slots, by_length)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.MT.nnz == 0:
            return np.zeros((X.shape[0], self.MT.shape[0]))
        if self.slots is not None:
            return self.slots(X)
        if X.shape[0] == 1:
            if self.MT.nnz <= PRODUCT_BINCOUNT_MAX:
                return np.bincount(self.rows, weights=self.MT.data * X[0][self.MT.indices], minlength=self.MT.shape[0])[None]
            return (self.MT @ X[0] if self.by_length is None else self.by_length(X[0]))[None]
        if X.shape[0] * self.MT.nnz <= BATCH_BINCOUNT_MAX:
            n = self.MT.shape[0]
            return np.bincount(_batch_bins(self, self.rows, n, X.shape[0]),
                               weights=(self.MT.data * X[:, self.MT.indices]).ravel(),
                               minlength=X.shape[0] * n).reshape(X.shape[0], n)
        return np.ascontiguousarray((self.MT @ X.T).T)


def _batch_bins(owner: Group | Product, idx: np.ndarray, n: int, rows: int) -> np.ndarray:
    """The bins of a batch's one ``np.bincount`` (:class:`Group`, :class:`Product`): item ``j`` of row ``s`` goes
    to ``s * n + idx[j]``, in row-major order, so each of a row's ``n`` sums adds that row's items in item order
    from 0.0, as the row's own bincount and the sparse product do (scipy's ``csr_matvecs``: ``y += a * x``, stored
    value by stored value from zero; a membership's ``a`` is 1.0, and ``1.0 * x`` is ``x``). Made at each call, not
    kept per batch size: a batch compacts to every row count below its own, and a kept array per count grew a
    Monte Carlo's memory with its runs (tests/test_streaming_risk.py: 58.9 bytes a run against its bound of 8)."""
    return (np.arange(rows)[:, None] * n + idx[None]).ravel()


def distinct_pairs(group: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (group, value) pairs of two int64 arrays: the index of one of each, and each pair's
    position among them (``np.unique(..., axis=0)``'s ``return_index`` and ``return_inverse``, at a fraction of
    its cost on a few pairs; :func:`core.engine.pool_solves.units_to_price`'s shared solves). One pair only (one pool's
    cohorts at one target, synthetic(100k)'s 9,894 a round): the first of them, unsorted (the stable sort's answer)."""
    if len(group) and bool((group == group[0]).all()) and bool((value == value[0]).all()):
        return np.zeros(1, np.int64), np.zeros(len(group), np.int64)
    order = np.lexsort((value, group))
    g, v = group[order], value[order]
    new = np.ones(len(order), bool)
    new[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
    back = np.empty(len(order), np.int64)
    back[order] = np.cumsum(new) - 1
    return order[new], back


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


#: Most item-rows (rows × items, or rows × stored values) of a batch's sums :class:`Group` and :class:`Product` take
#: as one ``np.bincount`` over the rows' items (:func:`_batch_bins`), not the sparse product: the same additions in
#: the same order (the same bits), without the product's call (scipy's checks, a transpose, a broadcast: some
#: 14 us of Python a call against 3 us; a 365-round pair of the invariant searches makes some 1,400 of them).
BATCH_BINCOUNT_MAX = 4_096
#: Fewest rows of a matrix whose one-scenario product :class:`Product` takes over its rows by length (:class:`ByLength`).
BY_LENGTH_MIN_ROWS = 4_096
#: Most stored values of a matrix whose product with one scenario :class:`Product` takes as a bincount.
PRODUCT_BINCOUNT_MAX = 4_096
#: Most columns, and most stored values a row, of a matrix :class:`Product` sums by places (:class:`Slots`), and
#: fewest rows a place.
SLOT_COLUMNS_MAX = 64
SLOTS_MAX = 64
ROWS_PER_SLOT = 1_024
#: One scenario's sums of at least this many items into at most one group per
#: :data:`GROUP_SPARSE_ITEMS_PER_GROUP` items take the sparse product, not ``np.bincount``: both add a group's items
#: in item order from zero (the same bits), but a bincount into few groups waits on each group's previous add
#: (measured, one scenario: 45,000 cohorts into 8 tokens 52.9 us by bincount, 23.6 us by the product; into
#: 100,000 entities 60.9 us against 339 us, and at 1,024 items or fewer the bincount is the faster at any size).
GROUP_SPARSE_MIN_ITEMS = 4_096
GROUP_SPARSE_ITEMS_PER_GROUP = 4
#: Largest dense membership matrix (items × groups) a :class:`Group` keeps.
DENSE_GROUP_MAX = 65_536

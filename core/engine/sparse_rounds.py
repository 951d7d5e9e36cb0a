"""Recorded per-round arrays that are mostly zeros, kept as their nonzero elements.

A recorded run at 100,000 entities wrote ~90 MB a run of arrays that are zero almost everywhere: each
debtor's unpaid share (``short``: only defaulted debtors), the depositors' credit losses on in-kind claims
(``dep_loss``: only claims on a short debtor), insurance-fund draws (``ins_draw``: only the entities with a
fund) and each cohort's bad debt (``cohort_bad``). Writing fresh memory is most of what recording costs
(the kernel zeroes every page first), so a round keeps only the flat positions whose bits are not all zero
and their values; :meth:`SparseRounds.array` rebuilds the dense ``(S, rounds, ...)`` array with the same bits
(``-0.0`` and NaN are kept, being nonzero bits) when something reads it whole.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np


class SparseRounds:
    """One array per round, ``(S, ...)`` float each, kept as ``(flat positions, values)`` of its nonzero bits."""

    def __init__(self) -> None:
        self.shape: tuple[int, ...] | None = None  # (S, ...) of one round
        self.kept: list[tuple[np.ndarray, np.ndarray]] = []

    def append(self, a: np.ndarray) -> None:
        a = np.asarray(a, dtype=float)
        if self.shape is None:
            self.shape = a.shape
        flat = a.ravel()
        at = np.flatnonzero(flat.view(np.uint64) != 0)  # nonzero bits: -0.0 and NaN are kept
        self.kept.append((at, flat[at]))

    @property
    def rounds(self) -> int:
        return len(self.kept)

    @property
    def size(self) -> int:
        """Elements of one round's array."""
        assert self.shape is not None
        return int(np.prod(self.shape, dtype=np.int64))

    def row(self, s: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Scenario ``s``'s rounds: the flat positions within its row of each round's array and their values."""
        assert self.shape is not None
        width = self.size // self.shape[0]
        for at, v in self.kept:  # rounds (a handful)
            if self.shape[0] == 1:
                yield at, v
            else:
                sel = (at >= s * width) & (at < (s + 1) * width)
                yield at[sel] - s * width, v[sel]

    def dense_row(self, s: int, r: int, out: np.ndarray | None = None) -> np.ndarray:
        """Scenario ``s``'s array of round ``r``, flat (zeros and the values kept), written into ``out`` if given."""
        assert self.shape is not None
        width = self.size // self.shape[0]
        out = np.zeros(width) if out is None else out
        out[:] = 0.0
        at, v = self.kept[r]
        if self.shape[0] > 1:
            sel = (at >= s * width) & (at < (s + 1) * width)
            at, v = at[sel] - s * width, v[sel]
        out[at] = v
        return out

    def array(self) -> np.ndarray:
        """The rounds recorded, ``(S, rounds, ...)``: the same values, bit for bit, as stacking the dense arrays."""
        if self.shape is None:
            raise ValueError("no round was recorded")
        out = np.zeros((self.rounds, self.size))
        for r, (at, v) in enumerate(self.kept):  # rounds (a handful)
            out[r, at] = v
        return out.reshape((self.rounds,) + self.shape).swapaxes(0, 1)


class LazyArrays(dict):
    """The recorded arrays by name; those kept sparse (:class:`SparseRounds`) are made dense when first read."""

    def __init__(self, dense: dict[str, np.ndarray], sparse: dict[str, SparseRounds]) -> None:
        super().__init__(dense)
        self.sparse = sparse

    def __missing__(self, key: str) -> np.ndarray:
        if key not in self.sparse:
            raise KeyError(key)
        value = self.sparse[key].array()
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.sparse

    def get(self, key: str, default=None):
        return self[key] if key in self else default

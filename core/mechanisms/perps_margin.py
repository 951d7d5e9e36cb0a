r"""A perpetuals book's margin accounts: positions indexed once, and the maintenance test that liquidates them.

The book
--------
Position *j* (venue :math:`v_j`, market :math:`k_j`, signed size :math:`q_j`,
entry :math:`P^0_j`, margin :math:`M_j`, maintenance-margin rate :math:`m_j`)
belongs to a *margin account* :math:`g_j`: its own for isolated margin, the
account's for cross margin (the account's collateral is spread over its rows'
``margin``). At marks :math:`P` an account's equity and maintenance margin are

.. math::

    E_g = \sum_{j \in g} M_j + q_j (P_{k_j} - P^0_j), \qquad
    MM_g = \sum_{j \in g} m_j |q_j| P_{k_j},

and the whole account is liquidated when :math:`E_g < MM_g` (Binance and
Hyperliquid cross margin; isolated is the one-row case).

:func:`book` indexes the positions once for every scenario (accounts,
venues and the (venue, market, side) segments that auto-deleveraging draws
on, as sparse membership matrices); :func:`liquidated_positions` applies the
maintenance test at a batch of marks, in arrays of shape
``(scenarios, positions)`` with no loop over positions or accounts. What the
liquidations leave is settled by :func:`core.mechanisms.perps_book.settle_book`.

Sources
-------
* Hyperliquid docs, "Liquidations" (cross and isolated margin).

Examples
--------
A 10x long (10 @ 100, margin 100) survives a mark of 95 and is liquidated at 85:

>>> import numpy as np
>>> b = book([0, 0], [0, 0], [10.0, -5.0], [100.0, 100.0], [100.0, 100.0])
>>> liquidated_positions(b, np.array([[95.0], [85.0]]), b.size, b.margin).tolist()
[[False, False], [True, False]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from core.mechanisms._checks import checking
from core.mechanisms.memberships import transposed

__all__ = ["Book", "book", "liquidated_positions"]


@dataclass(frozen=True)
class Book:
    """The static part of a perpetuals book (positions as rows), indexed once for every scenario.

    Build it with :func:`book`. ``segment`` numbers the (venue, market, side)
    triples; ``opposite`` gives the segment of the other side, which ADL draws on.

    Examples
    --------
    >>> b = book([0, 0], [0, 0], [10.0, -5.0], [100.0, 100.0], [100.0, 100.0])
    >>> b.n_accounts, b.n_segments, b.opposite.tolist()
    (2, 2, [1, 0])
    """

    venue: np.ndarray          # (N,) int
    market: np.ndarray         # (N,) int, column of the marks
    account: np.ndarray        # (N,) int, margin account 0..G-1 (isolated rows have their own)
    size: np.ndarray           # (N,) signed units
    entry: np.ndarray          # (N,) USD
    margin: np.ndarray         # (N,) USD
    maintenance: np.ndarray    # (N,) maintenance-margin rate
    n_venues: int
    n_markets: int
    n_accounts: int
    account_venue: np.ndarray  # (G,) venue of each margin account
    in_account: sp.csr_array   # (N, G) membership
    in_venue: sp.csr_array     # (N, V) membership
    segment: np.ndarray        # (N,) (venue, market, side) code
    n_segments: int
    in_segment: sp.csr_array   # (N, n_segments) membership
    segment_venue: np.ndarray  # (n_segments,)
    opposite: np.ndarray       # (n_segments,) segment of the other side, -1 if none
    account_open: np.ndarray   # (G,) bool: the account holds a position
    account_margin: np.ndarray  # (G,) margin of the account
    account_rows: np.ndarray   # (G,) positions in the account

    @property
    def side(self) -> np.ndarray:
        return np.sign(self.size)


def book(venue, market, size, entry, margin, maintenance=0.005, account=None, *,
         n_venues: int | None = None, n_markets: int | None = None) -> Book:
    """Index a book: ``account`` (default: every row isolated) groups cross-margined rows.

    Examples
    --------
    >>> b = book([0, 0], [0, 0], [10.0, -5.0], [100.0, 100.0], [100.0, 100.0])
    >>> b.n_accounts, b.n_segments, b.opposite.tolist()
    (2, 2, [1, 0])
    """
    venue = np.asarray(venue, dtype=np.int64)
    market = np.asarray(market, dtype=np.int64)
    size = np.asarray(size, dtype=float)
    entry = np.asarray(entry, dtype=float)
    margin = np.asarray(margin, dtype=float)
    N = len(size)
    maintenance = np.broadcast_to(np.asarray(maintenance, dtype=float), (N,)).copy()
    account = np.arange(N) if account is None else np.asarray(account, dtype=np.int64)
    if checking():
        for name, a in (("venue", venue), ("market", market), ("entry", entry), ("margin", margin),
                        ("maintenance", maintenance), ("account", account)):
            if a.shape != (N,):
                raise ValueError(f"{name} must have one value per position ({N}), got shape {a.shape}")
        if not np.isfinite(size).all() or not np.isfinite(entry).all() or (entry <= 0).any():
            raise ValueError("size must be finite and entry > 0")
        if (margin < 0).any() or not np.isfinite(margin).all():
            raise ValueError("margin must be finite and >= 0")
        if ((maintenance < 0) | (maintenance >= 1)).any():
            raise ValueError("maintenance must be in [0, 1)")
        if (venue < 0).any() or (market < 0).any() or (account < 0).any():
            raise ValueError("venue, market and account codes must be >= 0")
    V = int(n_venues if n_venues is not None else (venue.max() + 1 if N else 0))
    K = int(n_markets if n_markets is not None else (market.max() + 1 if N else 0))
    _, account = np.unique(account, return_inverse=True)
    G = int(account.max() + 1) if N else 0
    account_venue = np.full(G, -1)
    account_venue[account] = venue
    if checking() and N and (account_venue[account] != venue).any():
        raise ValueError("a cross-margin account holds positions on one venue only")
    ones = np.ones(N)
    rows = np.arange(N)
    side_code = (size < 0).astype(np.int64)  # 0 long (or flat), 1 short
    triple = (venue * max(K, 1) + market) * 2 + side_code
    codes, segment = np.unique(triple, return_inverse=True)
    position = {int(t): i for i, t in enumerate(codes)}
    opposite = np.array([position.get(int(t ^ 1), -1) for t in codes], dtype=np.int64)
    segment_venue = np.zeros(len(codes), dtype=np.int64)
    segment_venue[segment] = venue
    in_account = sp.csr_array((ones, (rows, account)), shape=(N, G))
    return Book(
        venue=venue, market=market, account=account, size=size, entry=entry, margin=margin,
        maintenance=maintenance, n_venues=V, n_markets=K, n_accounts=G, account_venue=account_venue,
        in_account=in_account, in_venue=sp.csr_array((ones, (rows, venue)), shape=(N, V)),
        segment=segment.astype(np.int64), n_segments=len(codes),
        in_segment=sp.csr_array((ones, (rows, segment)), shape=(N, len(codes))), segment_venue=segment_venue,
        opposite=opposite, account_open=(in_account.T @ np.abs(size)) > 0, account_margin=in_account.T @ margin,
        account_rows=in_account.T @ ones,
    )


def _per(values: np.ndarray, membership: sp.csr_array) -> np.ndarray:
    """Row sums of ``values`` (S, N) over the groups of ``membership`` (N, G): (S, G), row-major (later sums
    over its rows then run in one order whatever the number of rows)."""
    return np.ascontiguousarray(np.asarray(transposed(membership) @ values.T).T)


def _below_maintenance(b: Book, q, M, P, pnl, as_indexed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Margin accounts below maintenance, (S, G), and their open positions, (S, N): :math:`E_g < MM_g`."""
    equity = _per(M + pnl, b.in_account)                    # (S, G)
    maintenance = _per(b.maintenance * np.abs(q) * P, b.in_account)
    account_open = b.account_open if as_indexed else _per(np.abs(q), b.in_account) > 0
    liquidated_account = account_open & (equity < maintenance)
    return liquidated_account, liquidated_account[:, b.account] & (q != 0)


def liquidated_positions(b: Book, marks: np.ndarray, size: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Which positions :func:`settle_book` liquidates at ``marks``, without settling them (the maintenance
    test does not depend on the fill).

    Parameters
    ----------
    b : Book
    marks : ndarray, shape (S, K) or (K,)
        Each venue's mark price of each market.
    size, margin : ndarray, shape (S, N) or (N,)
        Signed sizes and posted margin still open, as in :func:`settle_book`.

    Returns
    -------
    ndarray of bool, shape (S, N)

    Examples
    --------
    A 10x long (10 @ 100, margin 100) marked at 85 is under maintenance; the two shorts are not:

    >>> bk = book([0, 0, 0], [0, 0, 0], [10.0, -5.0, -5.0], [100.0, 100.0, 110.0], [100.0, 100.0, 55.0])
    >>> liquidated_positions(bk, np.array([85.0]), bk.size, bk.margin).tolist()
    [[True, False, False]]
    """
    marks = np.atleast_2d(np.asarray(marks, dtype=float))
    P = marks[:, b.market]
    q = np.broadcast_to(np.asarray(size, dtype=float), P.shape)
    M = np.broadcast_to(np.asarray(margin, dtype=float), P.shape)
    return _below_maintenance(b, q, M, P, q * (P - b.entry), False)[1]

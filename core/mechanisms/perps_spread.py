r"""An anonymous perpetuals bucket is a distribution of accounts: the share of them past maintenance.

Model. A row of a snapshot's perpetuals book that belongs to no named entity is a
bucket of many traders' positions (``data/crypto-2025-10/positions.csv``: e.g. ``BYBIT_FUT.ETH.long.35x``,
126,436.78 ETH entered at 4,350 with margin 1/35 of the notional). Each venue liquidates account by account:
an isolated position is liquidated when its own equity falls below its own maintenance margin (Hyperliquid
docs, "Liquidations": isolated positions are checked on their own margin; Binance, "Liquidation Protocols":
"liquidation is triggered when the margin balance falls below the maintenance margin"). The bucket's accounts
hold different margins for the same notional: each unit of its size :math:`|q|` sits in an account with
margin :math:`m\,y` per unit, :math:`m = M / |q|` the bucket's, :math:`y` uniform on :math:`[1 - w, 1 + w]`
(so the bucket's margin is :math:`M`). At marks with the bucket's PnL :math:`G = q (P - P_0)` and maintenance
:math:`MM = \mathrm{mm}\,|q| P` (both per unit the same in every account), an account is past maintenance when
:math:`M y < MM - G`, so the share of the bucket's size liquidated is the share of a cohort below HF 1 with
"collateral" :math:`M` and "debt" :math:`MM - G` (:func:`core.mechanisms.cohort_spread.share_below`):

.. math:: s = \operatorname{clip}\!\left(\frac{(MM - G) / M - (1 - w)}{2 w},\ 0,\ 1\right),

continuous in the prices; :math:`w = 0` is one account liquidated whole at one price, the book's rule
(:func:`core.mechanisms.perps_margin.liquidated_positions`), kept to the bit.

The liquidated share. It is the lowest-margin accounts: they hold :math:`s\,(1 - w + w s)` of the margin, less
than their pro-rata share (:func:`~core.mechanisms.cohort_spread.collateral_share_below`), the venue seizes
that and closes :math:`s\,|q|` at the fill. Each account's equity at the fill is
:math:`|q| (m y + g_f)` per unit of :math:`y`-density, :math:`g_f = q (P_f - P_0) / |q|`: negative (a deficit)
below :math:`y_0 = -g_f / m`, positive (left-over margin) above. Over the liquidated accounts
:math:`y \in [a, b] = [1 - w, 1 - w + 2ws]` (:func:`deficit_and_left_over`)

.. math:: D = \frac{M}{4w} \left[(y_0 - a)_+^2 - (y_0 - b)_+^2\right], \qquad
          L = D + s\,\bigl(M (1 - w + ws) + G_f\bigr),

so one account's deficit is not netted against another's left-over margin (each is its own account at the
venue: the fund receives the one and pays the other). The remaining accounts are uniform on
:math:`[1 - w + 2ws,\ 1 + w]`: the bucket keeps :math:`(1 - s)` of its size, :math:`1 - s(1 - w + ws)` of its
margin, and the half-width :math:`w (1 - s)/(1 + ws)` about its new margin per unit
(:func:`~core.mechanisms.cohort_spread.spread_after_removal`), carried from round to round, so a bucket is
not liquidated again at a price that has not moved.

Why. Liquidated whole at one price, a bucket was a cliff: ETH 2e-8 on either side of BYBIT_FUT's 35x ETH
long bucket's price 4,246.949031 decided whether $537M of ETH was sold, which took ETH through the next
cliff (the 35x buckets of three more venues at 4,242.685): a shallower shock cost $434.6M more than a deeper
one (``monotone-2025-lsts-jitosol-depeg-hype-btc-lag2``; ``...-perps-cliff``, -$192.2M).

Calibration. :data:`MARGIN_SPREAD` is a model choice, not a published figure: the cohorts' health-factor
spread (:data:`~core.mechanisms.cohort_spread.HF_SPREAD`, 5%), applied to the margin per unit notional. A
bucket's spread is at most what keeps every account above maintenance at reference prices
(:func:`bucket_spread`), so no account is liquidatable before a shock. Named entities' positions (and their
cross-margin accounts) are one account each (spread 0). An anonymous cross-margined row is a cohort of cross
accounts each holding one net position (:mod:`core.positions`), whose maintenance test is the isolated one
(margin + PnL against maintenance): a bucket too. (Before, it was one account: BINANCE_FUT's anonymous 8x ALTS
long on wBETH margin, 120M ALTS, was liquidated whole in round 3 at one wBETH depth, with margin left, and in
round 4 at a depth 3e-14 shallower, $699,066 short, whose deficit ADL then took from WINTERMUTE's margin:
system loss $158k higher at the shallower depth,
``monotone-2025-wbeth-weeth-binance-failed-eth-60-runs-lag1-capital-50m-edge``.)
"""

from __future__ import annotations

import numpy as np

from core.mechanisms.cohort_spread import HF_SPREAD, cohort_spread, collateral_share_below, share_below
from core.mechanisms.perps_margin import Book, liquidated_positions

#: Relative half-width of a bucket's accounts' margin per unit notional about the bucket's (model choice: the
#: cohorts' :data:`~core.mechanisms.cohort_spread.HF_SPREAD`; see the module docstring).
MARGIN_SPREAD = HF_SPREAD


def bucket_spread(bucket: np.ndarray, margin: np.ndarray, maintenance_usd: np.ndarray, pnl: np.ndarray,
                  spread: float = MARGIN_SPREAD) -> np.ndarray:
    r"""Each row's half-width at reference marks: ``spread`` for a ``bucket`` row, at most what keeps its
    lowest account alive (:math:`M (1 - w) > (1 + \epsilon)(MM - G)`, :func:`~core.mechanisms.cohort_spread.cohort_spread`
    with :math:`h_0 = M / (MM - G)`); 0 for any other row and a row without margin.

    Examples
    --------
    A 35x bucket (margin 1/35 of 100, maintenance 0.5) at entry, one at 1.02x its maintenance, a named row:

    >>> bucket_spread(np.array([True, True, False]), np.array([100 / 35, 0.51, 5.0]), np.array([0.5, 0.5, 0.5]),
    ...               np.zeros(3)).round(6).tolist()
    [0.05, 0.019608, 0.0]
    """
    margin = np.asarray(margin, dtype=float)
    # MM - G zero, or so small that M / (MM - G) is beyond the largest float: a row healthy beyond measure, h0 = inf,
    # which cohort_spread reads as the full spread (nothing non-finite leaves)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hf0 = margin / (np.asarray(maintenance_usd, dtype=float) - np.asarray(pnl, dtype=float))
    return np.where(np.asarray(bucket, dtype=bool) & (margin > 0), cohort_spread(np.where(hf0 < 0, np.inf, hf0), spread), 0.0)


def share_past_maintenance(margin: np.ndarray, maintenance_usd: np.ndarray, pnl: np.ndarray,
                           spread: np.ndarray) -> np.ndarray:
    """Share of each bucket's size in accounts with equity below maintenance (module docstring); meaningful
    where ``spread`` > 0 (a row with spread 0 is one account: the caller keeps its own test).

    Examples
    --------
    A bucket of margin 100 spread +-5% whose maintenance less PnL is 100 is half past maintenance; at 97.5 a
    quarter; at 94 none:

    >>> share_past_maintenance(np.full(3, 100.0), np.array([100.0, 97.5, 94.0]), np.zeros(3), np.full(3, 0.05)).tolist()
    [0.5, 0.25, 0.0]
    """
    return share_below(margin, maintenance_usd - pnl, 1.0, spread)


def liquidated_share(b: Book, marks: np.ndarray, size: np.ndarray, margin: np.ndarray,
                     spread: np.ndarray) -> np.ndarray:
    """Share of each position's size liquidated at ``marks``, (S, N): a bucket's (``spread`` > 0) share past
    maintenance (:func:`share_past_maintenance`), else 1 or 0 by the book's account test
    (:func:`~core.mechanisms.perps_margin.liquidated_positions`); as :func:`~core.mechanisms.perps_book.settle_book`
    liquidates them.

    Examples
    --------
    A 10x long (10 @ 100, margin 100, maintenance 0.5%) as one account and as a bucket spread +-5%, at 90.5
    (maintenance less PnL 99.525, the account alive; the bucket's accounts below 99.525 of margin are not):

    >>> from core.mechanisms.perps_margin import book
    >>> bk = book([0, 0], [0, 0], [10.0, 10.0], [100.0, 100.0], [100.0, 100.0])
    >>> liquidated_share(bk, np.array([90.5]), bk.size, bk.margin, np.array([0.0, 0.05])).round(6).tolist()
    [[0.0, 0.4525]]
    """
    marks = np.atleast_2d(np.asarray(marks, dtype=float))
    P = marks[:, b.market]
    q = np.broadcast_to(np.asarray(size, dtype=float), P.shape)
    M = np.broadcast_to(np.asarray(margin, dtype=float), P.shape)
    whole = liquidated_positions(b, marks, q, M).astype(float)
    w = np.broadcast_to(np.asarray(spread, dtype=float), P.shape)
    bucket = w > 0
    if not bucket.any():
        return whole
    return np.where(bucket, share_past_maintenance(M, b.maintenance * np.abs(q) * P, q * (P - b.entry), w), whole)


def deficit_and_left_over(margin: np.ndarray, pnl_fill: np.ndarray, share: np.ndarray,
                          spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The liquidated accounts' deficits and left-over margin at the fill, summed (module docstring): the
    lowest ``share`` of a bucket with margin ``margin`` and PnL at the fill ``pnl_fill`` (the whole bucket's),
    spread ``spread`` > 0.

    Examples
    --------
    A bucket of margin 100 (+-5%), half liquidated, whose PnL at the fill is -100: the accounts with margin
    95-100 per 100 are all short of it, 1.25 in all; at -97.5 the accounts below 97.5 (a quarter) owe 0.3125,
    those above hold 0.3125:

    >>> d, left = deficit_and_left_over(np.full(2, 100.0), np.array([-100.0, -97.5]), np.full(2, 0.5), np.full(2, 0.05))
    >>> d.round(6).tolist(), left.round(6).tolist()
    ([1.25, 0.3125], [0.0, 0.3125])
    """
    M, s, w = (np.asarray(x, dtype=float) for x in (margin, share, spread))
    net = collateral_share_below(s, w) * M + s * pnl_fill
    low = 1.0 - w
    high = low + 2.0 * w * s
    # a bucket of margin 0, or so thin that -pnl / M overflows on squaring, takes a branch below that does not read
    # ``straddle`` (y0 >= high), so its inf or nan there is never chosen
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y0 = -pnl_fill / M
        straddle = M * np.maximum(y0 - low, 0.0) ** 2 / (4.0 * w)
    # every liquidated account short of its PnL (y0 >= b), none (y0 <= a), or some (a < y0 < b): the deficit
    # is the integral above, and the left-over margin the rest of the share's equity
    deficit = np.where(y0 >= high, np.maximum(-net, 0.0), np.where(y0 <= low, 0.0, straddle))
    deficit = np.where(M > 0, deficit, np.maximum(-net, 0.0))
    return deficit, np.maximum(net + deficit, 0.0)

r"""A borrower cohort is a distribution of positions: the share of them past a health-factor threshold.

Model. A cohort of the snapshot is a bucket of a protocol's positions around one health factor (the 2025
cohorts' standard profile puts a market's debt at HF 1.02/1.10/1.25/1.50/2.00/3.00, the stETH loops at
1.01/1.03/1.05/1.08/1.15/1.30: ``data/crypto-2025-10/cohorts.csv``). Its positions' health factors are spread
about the cohort's aggregate :math:`h = C P_c \mathrm{LT} / (D P_d)`: each unit of its debt sits in a position
of health factor :math:`h\,y` with :math:`y` uniform on :math:`[1 - w, 1 + w]` (collateral per unit of debt
proportional to :math:`y`, so the aggregate is :math:`h`). The share of the cohort's debt in positions with
health factor below :math:`t` is

.. math:: s_t(h) = \operatorname{clip}\!\left(\frac{t / h - (1 - w)}{2 w},\ 0,\ 1\right),

continuous in the prices; :math:`w = 0` is the single position at :math:`h` (a step at :math:`h = t`).
The contract's rule applies position by position (Aave v3 ``LiquidationLogic.executeLiquidationCall``: a
position with HF < 1 may be liquidated, up to ``DEFAULT_LIQUIDATION_CLOSE_FACTOR`` = 50% of its debt, and up
to ``MAX_LIQUIDATION_CLOSE_FACTOR`` = 100% at HF < ``CLOSE_FACTOR_HF_THRESHOLD`` = 0.95; Compound v2's
``closeFactorMantissa``; Morpho Blue's whole position past its LLTV), so a cohort's close factor is the
debt-weighted mean over its positions: :math:`\mathrm{cf}\,(s_1 - s_{0.95}) + s_{0.95}`.

Why. Read as one position, a cohort crossing HF 1 asked for its whole close factor at once, and a
liquidation under scarce capital that repaid part of it lifted the aggregate above 1 for good, as if the
positions not reached had been cured. On crypto-2025-10, WBTC -33.3333333% -> -33.3333334% (the hf1.50
cohorts at exactly HF 1 after two thirds of their collateral price) made those cohorts due in round 2
rather than round 5, where capital-bound partial fills lifted them out of reach; the shallower run closed
their whole half in round 5, sold more BTC and lost $222.4M more
(``monotone-2025-wbtc-third-eth-etf-failed``); the same at CBBTC -20% with the hf1.25 cohorts
(``monotone-2025-cbbtc-bucket-edge-ethena-default``).

Removing the lowest positions. Where a rule takes whole positions from the bottom of the cohort (Maker's
``dog.bark`` on every vault below ``mat``), the lowest share :math:`s` of its debt holds the share
:math:`s\,(1 - w + w s)` of its collateral (:func:`collateral_share_below`), and what is left is uniform on
:math:`[1 - w + 2ws,\ 1 + w]` about the old aggregate: again a uniform spread, about the new aggregate
(:math:`1 + ws` times the old), of half-width :math:`w' = w (1 - s) / (1 + w s)` (:func:`spread_after_removal`).
A cohort that carries its spread from round to round so is not barked again at a price that has not moved.

What the positions' collateral covers. Each position's collateral covers its own debt only (Maker's
``end.skim``: ``min(ink, owe)``), so a cohort's vaults pay :math:`D\,\mathbb{E}[\min(\rho y, 1)]` of its debt
:math:`D` at ratio :math:`\rho`, in closed form (:func:`covered_debt`): :math:`\min(C, D)` for one position.

Calibration. :data:`HF_SPREAD` (a model choice, not a published figure): half the gap between neighbouring
buckets of the profiles above is 3.6-17% of their HF; 5% is near the smaller gaps. A cohort's spread is
also at most what keeps every position alive at reference prices (:math:`h_0 (1 - w) \ge 1`), so no
position is liquidatable before a shock (an ``underwater_ok`` cohort stays one position).
"""

from __future__ import annotations

import numpy as np

#: Relative half-width of a cohort's positions' health factors about its aggregate (model choice; see above).
HF_SPREAD = 0.05
#: The lowest position's HF at reference prices is at least 1 + this (rounding of the aggregate at reference
#: prices must not make a sliver of it liquidatable before any shock).
ALIVE_MARGIN = 1e-9


def cohort_spread(hf0: np.ndarray, spread: float = HF_SPREAD) -> np.ndarray:
    """Each cohort's half-width :math:`w = \\min(\\text{spread}, 1 - (1 + \\epsilon)/h_0)` (:data:`ALIVE_MARGIN`),
    0 where :math:`h_0 \\le 1 + \\epsilon`.

    Examples
    --------
    >>> cohort_spread(np.array([1.01, 1.25, 0.9, np.inf])).round(4).tolist()
    [0.0099, 0.05, 0.0, 0.05]
    """
    with np.errstate(divide="ignore"):
        return np.clip(1.0 - (1.0 + ALIVE_MARGIN) / np.asarray(hf0, dtype=float), 0.0, spread)


def spread_terms(cvlt: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`share_below`'s terms of the cohorts' spread alone, ``(1 - w) cvlt`` and ``2 w cvlt``: the value at the
    threshold of the lowest positions and the width of the range, for several thresholds over the same cohorts
    (the close-factor rule's 1 and 0.95, :func:`core.mechanisms.lending.liquidate_aave`).

    Examples
    --------
    >>> low, width = spread_terms(np.array([100.0, 95.0]), np.array([0.05, 0.0]))
    >>> low.tolist(), width.tolist()
    ([95.0, 95.0], [10.0, 0.0])
    >>> bool((share_below(np.array([100.0, 95.0]), np.array([100.0, 100.0]), 1.0, np.array([0.05, 0.0]),
    ...                   terms=(low, width)) == share_below(np.array([100.0, 95.0]), np.array([100.0, 100.0]), 1.0,
    ...                                                      np.array([0.05, 0.0]))).all())
    True
    """
    w = np.asarray(spread, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        return (1.0 - w) * cvlt, 2.0 * w * cvlt


def share_below(cvlt: np.ndarray, dv: np.ndarray, threshold: float, spread: np.ndarray,
                inclusive: bool = False, terms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Share of each cohort's debt in positions with health factor below ``threshold`` (at or below, where
    ``inclusive``), the cohorts' aggregate being ``cvlt / dv`` (collateral value x LT over debt value) and
    their positions spread by ``spread`` (module docstring); a cohort with ``spread`` 0 is one position.
    ``terms``: :func:`spread_terms` of ``cvlt`` and ``spread``, where the caller has them (the same bits).

    Examples
    --------
    >>> share_below(np.array([100.0, 100.0, 95.0]), np.array([100.0, 99.0, 100.0]), 1.0, np.array([0.05, 0.0, 0.05]))
    ... # doctest: +NORMALIZE_WHITESPACE
    array([0.5, 0. , 1. ])
    """
    w = np.asarray(spread, dtype=float)
    # the threshold's debt once (1.0 times a value is the value, to the bit: not multiplied)
    owed = dv if isinstance(threshold, float) and threshold == 1.0 else threshold * dv
    low, width = spread_terms(cvlt, w) if terms is None else terms
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = (owed - low) / width
    # np.clip(np.nan_to_num(s, nan=1.0, posinf=1.0, neginf=0.0), 0.0, 1.0) in fewer calls, to the bit: fmin takes
    # NaN and +inf to 1, and a value below 0 (-inf too, not -0.0, which clip keeps) goes to 0
    s = np.fmin(s, 1.0)
    s = np.where(s < 0.0, 0.0, s)
    spread_out = np.where(dv > 0, s, 0.0)
    if bool((w > 0).all()):  # every cohort spread: the one-position test is never read
        return spread_out
    step = (cvlt <= owed) if inclusive else (cvlt < owed)
    return np.where(w > 0, spread_out, step.astype(float))


def collateral_share_below(share: np.ndarray, spread: np.ndarray) -> np.ndarray:
    r"""Share of a cohort's collateral held by the positions with its lowest ``share`` of debt:
    :math:`s\,(1 - w + w s)` (module docstring); ``share`` itself where ``spread`` is 0.

    Examples
    --------
    >>> collateral_share_below(np.array([0.0, 0.5, 1.0, 0.5]), np.array([0.05, 0.05, 0.05, 0.0])).tolist()
    [0.0, 0.4875, 1.0, 0.5]
    """
    s, w = np.asarray(share, dtype=float), np.asarray(spread, dtype=float)
    return s * (1.0 - w + w * s)


def spread_after_removal(spread: np.ndarray, share: np.ndarray) -> np.ndarray:
    r"""Half-width of a cohort's spread about its new aggregate once the positions with its lowest ``share`` of
    debt are gone: :math:`w (1 - s) / (1 + w s)` (module docstring).

    Examples
    --------
    Half of a cohort spread +-5% taken from the bottom: the rest spans 1.00-1.05 of the old aggregate, +-2.44%
    about its new one (1.025).

    >>> spread_after_removal(np.array([0.05, 0.05, 0.05]), np.array([0.0, 0.5, 1.0])).round(6).tolist()
    [0.05, 0.02439, 0.0]
    """
    w, s = np.asarray(spread, dtype=float), np.asarray(share, dtype=float)
    return w * (1.0 - s) / (1.0 + w * s)


def covered_debt(collateral: np.ndarray, debt: np.ndarray, spread: np.ndarray) -> np.ndarray:
    r"""What a cohort's positions' collateral covers of their debt, each position at most its own debt: the sum over
    its positions of :math:`\min(\text{collateral}, \text{debt})`, in the units of ``collateral`` and ``debt``
    (USD), with ``collateral`` :math:`C` and ``debt`` :math:`D` the cohort's totals and its positions spread by
    ``spread`` :math:`w` (module docstring: each unit of debt in a position of collateral per unit of debt
    :math:`\rho y`, :math:`\rho = C / D`, :math:`y` uniform on :math:`[1 - w, 1 + w]`):

    .. math:: D\,\mathbb{E}[\min(\rho y, 1)] = \mathbb{E}[\min(C y, D)] =
              \begin{cases} C & C (1 + w) \le D \\ D & C (1 - w) \ge D \\
              D - \dfrac{(D - C (1 - w))^2}{4 w C} & \text{otherwise,} \end{cases}

    the last the debt less its positions' deficits, :math:`\mathbb{E}[(D - C y)^+]`, over the part of the
    spread under water; :math:`w = 0` (one position) gives :math:`\min(C, D)`.

    Model and source. A vault's collateral covers its own debt only, not another's: in an emergency shutdown
    ``end.skim`` takes from each urn at most its debt's worth of collateral and leaves the rest to its owner,
    who ``free``\ s it (MakerDAO ``dss`` ``src/end.sol``)::

        uint256 owe = rmul(rmul(art, rate), tag[ilk]);
        uint256 wad = min(ink, owe);
        gap[ilk] = add(gap[ilk], sub(owe, wad));

    and in a live system a vault's auction raises its tab and hands the rest of its lot back to its owner
    (``src/clip.sol``, ``take``: ``} else if (tab == 0) { vat.flux(ilk, address(this), usr, lot);``), so the
    Vow's ``sin`` is the sum of the under-water vaults' deficits. Aggregate collateral over aggregate debt counts
    the excess collateral of the vaults above water against the deficits of those under it.

    Examples
    --------
    One position each (``w = 0``): :math:`\min(C, D)`. A cohort at ratio 1 spread +-5% (positions 0.95-1.05):
    its lower half is under water by 2.5% of its debt on average, 100 - 100 x 0.05^2 / (4 x 0.05) = 98.75; at
    ratio 0.98 (0.931-1.029), 100 - (100 - 93.1)^2 / (4 x 0.05 x 98) = 97.571; at ratio 2 nothing is under
    water, and at 0.9 (0.855-0.945) every position is:

    >>> covered_debt(np.array([200.0, 80.0, 100.0, 98.0, 200.0, 90.0]), np.full(6, 100.0),
    ...              np.array([0.0, 0.0, 0.05, 0.05, 0.05, 0.05])).round(3).tolist()
    [100.0, 80.0, 98.75, 97.571, 100.0, 90.0]
    """
    C, D = np.asarray(collateral, dtype=float), np.asarray(debt, dtype=float)
    w = np.asarray(spread, dtype=float)
    low, high = C * (1.0 - w), C * (1.0 + w)
    straddles = (low < D) & (high > D)  # some positions under water, some above (never where w = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        partial = D - (D - low) ** 2 / np.where(straddles, 4.0 * w * C, 1.0)
    return np.where(straddles, partial, np.minimum(C, D))

r"""Collateralised lending: health factor and liquidation (Aave v3, Compound, Maker).

Each *cohort* is one collateral asset against one debt asset (a borrower or an
aggregate of borrowers with the same position shape). Quantities are token
units; prices are USD per unit.

Health factor (Aave v3 ``GenericLogic``)
----------------------------------------
.. math::

    HF = \frac{C\,P_c\,LT}{D\,P_d}, \qquad \text{liquidatable iff } HF < 1 .

Toxic liquidation spiral (Warmuz et al. 2022, arXiv 2212.07306): with
:math:`\ell = D P_d / (C P_c)` (LTV), repaying :math:`dq` seizes
:math:`(1+b)\,dq` so :math:`d\ell > 0` iff :math:`\ell > 1/(1+b)`: each
liquidation makes the position *less* healthy. Thresholds: b = 5 % → 95.24 %,
8 % → 92.59 %, 10 % → 90.91 %.

Rules by protocol version (a cohort's ``style``, :data:`STYLES`)
-----------------------------------------------------------------
* ``aave_v2``: close factor 50 % always (``LendingPoolCollateralManager.sol``:
  ``LIQUIDATION_CLOSE_FACTOR_PERCENT = 5000``), no full close; Aave v2 was
  the Ethereum market on 2022-05-06.
* ``aave_v3``: 50 %, and 100 % once :math:`HF \le 0.95` (:mod:`core.mechanisms.close_factor`). Launched on
  Polygon, Avalanche and other chains on 2022-03-16, on Ethereum in 2023.
* ``compound_v2``: close factor 50 %, no full close (:func:`~core.mechanisms.close_factor.liquidate_compound`).
* ``compound_v3`` (Comet, from August 2022): ``absorb`` takes the whole position onto the
  protocol's books (:mod:`core.mechanisms.comet_absorb`, :func:`liquidate_compound_v3`).
* ``anchor`` (Anchor Protocol on Terra, 2021-22): bidders in the liquidation queue buy the collateral at
  the oracle price less their premium slot (0-30 %; the cohort's bonus column), a discount, and the queue
  repays the loan net of its fees: the engine applies the equivalent bonus :math:`1/((1-p)(1-f)) - 1`
  (:mod:`core.mechanisms.bid_queue`). The queue's contract sizes each liquidation
  (``query_liquidation_amount``, :func:`~core.mechanisms.bid_queue.anchor_liquidation_amount`): it sells
  :math:`x = (B - s L) / (P (d - s m))` of the collateral, which brings borrow / limit back to ``safe_ratio``
  :math:`s` = 0.8, and all of it once that cannot be reached (:math:`B \ge C P d`, i.e. :math:`HF \le m / d`).
  The engine takes that amount as the share of the debt each liquidated position repays at its own HF
  (:func:`~core.mechanisms.bid_queue.anchor_repaid_share`; the cohort's close factor of the round is its mean over
  the positions below HF 1, :func:`~core.mechanisms.bid_queue.anchor_mean_repaid_share`, applied to their share of
  the debt): 42.8 % at HF 1 for bLUNA (Max LTV 0.6), 59.8 % for bETH (0.75), rising
  as the loan deepens to the whole collateral from HF 0.6655 (bLUNA) / 0.8319 (bETH); the data's
  ``close_factor`` is not read for this style (a scenario's ``max_close_factor`` still caps it). Not
  modelled: the 200 UST "partial liquidation threshold" below which a small loan goes whole (a single
  position's size) and the queue's bids running out (the data has no bid amounts). Of the UST the bidders pay,
  ``bid_fee`` (1 %) goes to the overseer's interest buffer (the custody contracts' ``fee_address``), not
  modelled as Anchor's income (:mod:`core.engine.fees`), and ``liquidator_fee`` (1 %, Anchor docs, "Loan
  Liquidation") to whoever triggered the liquidation, outside the network. Sources: Anchor docs, "Modify Liquidation
  Parameters" (genesis values: safe ratio 80 %, bid fee 1 %, max premium 10 %, partial liquidation
  threshold 200 UST) and "Liquidation Queue Contract" (31 premium slots, 0-30 %);
  ``Anchor-Protocol/money-market-contracts`` ``contracts/liquidation_queue/src/bid.rs``
  ``execute_liquidation`` (``bid_fee = repay_amount * config.bid_fee`` sent to ``fee_address``).
  The queue's bids are committed in advance and filled at the oracle's price whatever the market, so no
  liquidator weighs the trade: the engine applies no liquidator limit to these cohorts
  (:func:`core.engine.liquidate.liquidator_limit`).
* ``maker``: Liquidations 2.0 auctions (:mod:`core.mechanisms.vault_auction`).
* Old values, still accepted: ``aave`` is ``aave_v3`` (the rule the engine
  applied to it) and ``compound`` is ``compound_v2`` (:data:`LEGACY_STYLES`).

The close-factor rule these styles but ``compound_v3`` and ``maker`` share (Aave v2/v3, Compound v2, Anchor's
queue: :func:`liquidate_aave`, :func:`liquidate_compound`) is :mod:`core.mechanisms.close_factor`'s, imported here;
its docstring gives the results' and the broadcasting conventions every function here shares, and the contracts'
sources of the close-factor rule.

References
----------
* Aave v3: ``aave-dao/aave-v3-origin`` ``src/contracts/protocol/libraries/logic/GenericLogic.sol`` (health factor).
* Warmuz, Chaudhary, Pinna, "Toxic Liquidation Spirals", arXiv 2212.07306 (2022).
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr
# close_factor_part: the engine calls it as lending.close_factor_part (core.engine.capital, core.engine.limits)
from core.mechanisms.close_factor import close_factor_part, liquidate_aave, liquidate_compound  # noqa: F401
from core.mechanisms.comet_absorb import liquidate_compound_v3
from core.mechanisms.liquidation_result import LiquidationResult, _frac
from core.mechanisms.vault_auction import liquidate_maker, liquidate_maker_flip, maker_auction_discount

__all__ = [
    "STYLES", "LEGACY_STYLES", "FULL_CLOSE_HF", "canonical_style", "liquidate_compound_v3", "LiquidationResult",
    "health_factor", "toxic_ltv", "is_toxic", "liquidate_aave", "liquidate_compound", "liquidate_maker",
    "liquidate_maker_flip", "maker_auction_discount",
]


#: Liquidation rules by protocol version (see the module docstring).
STYLES: tuple[str, ...] = ("aave_v2", "aave_v3", "compound_v2", "compound_v3", "maker", "anchor")
#: Old ``style`` values and the version rule they stand for.
LEGACY_STYLES: dict[str, str] = {"aave": "aave_v3", "compound": "compound_v2"}
#: Health factor at or below which a close-factor liquidation may repay the whole debt (-1: never; Aave v3 0.95).
FULL_CLOSE_HF: dict[str, float] = {"aave_v2": -1.0, "aave_v3": 0.95, "compound_v2": -1.0, "anchor": -1.0}


def canonical_style(style: str) -> str:
    """The version rule a ``style`` value names (old values mapped by :data:`LEGACY_STYLES`).

    Parameters
    ----------
    style : str
        One of :data:`STYLES` or :data:`LEGACY_STYLES`.

    Returns
    -------
    str
        One of :data:`STYLES`.

    Raises
    ------
    ValueError
        For an unknown style, listing the known ones.

    Examples
    --------
    >>> canonical_style("aave"), canonical_style("compound_v3")
    ('aave_v3', 'compound_v3')
    """
    out = LEGACY_STYLES.get(style, style)
    if out not in STYLES:
        raise ValueError(f"unknown liquidation style {style!r}; expected one of {STYLES + tuple(LEGACY_STYLES)}")
    return out


def health_factor(collateral_value, debt_value, liquidation_threshold):
    """Aave health factor ``C * LT / D`` (USD values); ``inf`` when there is no debt.

    Parameters
    ----------
    collateral_value, debt_value : array_like
        USD values (>= 0).
    liquidation_threshold : array_like
        LT in [0, 1].

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(health_factor(100.0, 80.0, 0.825))
    1.03125
    >>> float(health_factor(100.0, 0.0, 0.825))
    inf
    """
    c = _arr(collateral_value, "collateral_value")
    d = _arr(debt_value, "debt_value")
    lt = _frac(liquidation_threshold, "liquidation_threshold")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # HF of a tiny debt is +inf
        hf = c * lt / d
    return np.where(d > 0, hf, np.inf)


def toxic_ltv(bonus):
    """LTV above which a liquidation lowers the health factor: ``1 / (1 + bonus)``.

    Examples
    --------
    >>> round(float(toxic_ltv(0.05)), 4)
    0.9524
    """
    b = _arr(bonus, "bonus")
    return 1.0 / (1.0 + b)


def is_toxic(collateral_value, debt_value, bonus):
    """Flag the toxic-spiral condition ``debt_value / collateral_value > 1/(1+bonus)``.

    A position with debt and no collateral is toxic (infinite LTV).

    Examples
    --------
    >>> bool(is_toxic(100.0, 96.0, 0.05)), bool(is_toxic(100.0, 90.0, 0.05))
    (True, False)
    """
    c = _arr(collateral_value, "collateral_value")
    d = _arr(debt_value, "debt_value")
    b = _arr(bonus, "bonus")
    return (d * (1.0 + b) > c) & (d > 0)

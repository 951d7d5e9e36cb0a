r"""Close-factor liquidation: Aave v2 / v3, Compound v2 and Anchor's liquidation queue.

A liquidator repays a share of an unhealthy cohort's debt, the *close factor*, and seizes collateral worth that
repayment plus a bonus. The rule of every :mod:`core.mechanisms.lending` style but ``compound_v3``
(:mod:`core.mechanisms.comet_absorb`) and ``maker`` (:mod:`core.mechanisms.vault_auction`); which close factor and
full-close threshold a style uses is :mod:`core.mechanisms.lending`'s ``STYLES`` / ``FULL_CLOSE_HF``. Health factor
:math:`HF = C P_c LT / (D P_d)`; a cohort is liquidatable iff :math:`HF < 1`.

Aave v3 close-factor liquidation (``LiquidationLogic.sol``)
-----------------------------------------------------------
* close factor :math:`cf = 0.5` (``DEFAULT_LIQUIDATION_CLOSE_FACTOR``), or
  :math:`cf = 1` once :math:`HF \le 0.95` (``CLOSE_FACTOR_HF_THRESHOLD``);
* repay :math:`q = cf\,D` (debt units); seize
  :math:`s = q\,P_d (1+b) / P_c` (collateral units), *b* the liquidation bonus;
* if :math:`s > C`: seize all collateral and repay only
  :math:`q = C P_c / (P_d (1+b))` (``_calculateAvailableCollateralToLiquidate``);
* v3.3 bad debt: if collateral is then zero and debt remains, the residual is
  burnt and booked as a reserve *deficit* (here ``bad_debt`` in USD, and
  ``debt_after`` is 0); so is it where the collateral left is dust, worth less than
  a liquidation's floor (:func:`~core.mechanisms.lender_fees.dust_written_off`);
* protocol fee: a share ``protocol_fee`` of the bonus collateral
  :math:`s - s/(1+b)` goes to the treasury (``liquidationProtocolFee``).

Liquidator capacity (model choice): ``capacity_usd`` caps the USD value of debt
repaid per round across all cohorts of a scenario; when demand exceeds it, every
cohort's repayment and seizure are scaled by the same factor.

Anchor's liquidation queue (``style`` ``anchor``, ``safe_ratio`` given): the close factor is the share of the debt
the queue's contract repays at the cohort's HF (``query_liquidation_amount``: back to the safe ratio, all of the
collateral once that cannot be reached), :func:`core.mechanisms.bid_queue.queue_close_factor`.

Compound v2 (``Comptroller.sol``: ``closeFactorMantissa`` 0.5,
``liquidationIncentiveMantissa`` 1.08): the same rule without the full-close
step. Compound v2 leaves an underwater borrow on the books; here it is written
off as ``bad_debt`` so all three protocols share one convention.

Positions spread about a cohort's aggregate (``spread``): the close factor applies to the share of its positions below
HF 1, the full close to the share at or below the threshold (:mod:`core.mechanisms.cohort_spread`). Liquidators'
``max_seize`` and the ``priority`` by which their shared capital is spent: :mod:`core.mechanisms.liquidators`.

Results are :class:`~core.mechanisms.liquidation_result.LiquidationResult` records (their conventions there).
Every function broadcasts its inputs; cohorts are the *last* axis and
``capacity_usd``/``keeper_capacity_usd`` are per scenario (scalar or shape
``(S,)`` for inputs of shape ``(S, k)``).

References
----------
* Aave v3: ``aave-dao/aave-v3-origin`` ``src/contracts/protocol/libraries/logic/LiquidationLogic.sol``
  and ``docs/3.3/Aave-v3.3-features.md``.
* Compound v2 ``Comptroller.sol`` (``liquidateCalculateSeizeTokens``).
* Anchor: ``Anchor-Protocol/money-market-contracts`` ``contracts/liquidation_queue/src/query.rs``
  (``query_liquidation_amount``).
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import broadcast_shape, as_amount_array as _arr
from core.mechanisms.bid_queue import queue_close_factor
from core.mechanisms.cohort_spread import share_below, spread_terms
from core.mechanisms.lender_fees import dust_written_off
from core.mechanisms.liquidation_result import LiquidationResult, _frac
from core.mechanisms.liquidators import capacity_by_margin, capacity_pro_rata

__all__ = ["liquidate_aave", "close_factor_part", "liquidate_compound"]


def _liquidate_close_factor(
    collateral, debt, collateral_price, debt_price, liquidation_threshold,
    bonus, close_factor, full_close_hf, capacity_usd, protocol_fee, max_seize=None, priority=None, spread=None,
    only=None, capacity_price=None, safe_ratio=None,
):
    C = _arr(collateral, "collateral")
    D = _arr(debt, "debt")
    Pc = _arr(collateral_price, "collateral_price")
    Pd = _arr(debt_price, "debt_price", positive=True)
    lt = _frac(liquidation_threshold, "liquidation_threshold")
    b = _arr(bonus, "liquidation_bonus")
    cf = _frac(close_factor, "close_factor")
    fee = _frac(protocol_fee, "protocol_fee")
    shape = broadcast_shape(C.shape, D.shape, Pc.shape, Pd.shape, lt.shape, b.shape, cf.shape, fee.shape)
    # work in USD, with in-place updates: this runs on (S, k) = 10^7 cohorts
    cv = C * Pc
    dv = D * Pd
    cvlt = cv * lt
    if safe_ratio is not None:  # bid-queue cohorts: the contract's amount at the cohort's HF (core.mechanisms.bid_queue)
        cf = queue_close_factor(cf, cvlt, dv, lt, b, safe_ratio, shape,  # over the positions below HF 1
                                None if spread is None or not (np.asarray(spread) > 0).any() else spread)
    def full_(x):  # x is always a fresh temporary: only broadcast (and copy) when its shape falls short
        if isinstance(x, np.ndarray) and x.ndim and x.shape == shape:
            return x
        return np.array(np.broadcast_to(x, shape), dtype=x.dtype if hasattr(x, "dtype") else float)

    def view(x):
        return x if x.shape == shape else np.broadcast_to(x, shape)

    if spread is not None and (np.asarray(spread) > 0).any():  # the share of the cohort's positions past each
        terms = spread_terms(cvlt, spread)                       # threshold (core.mechanisms.cohort_spread)
        s1 = share_below(cvlt, dv, 1.0, spread, terms=terms)
        liq = full_((s1 > 0) & (D > 0))
        cf_eff = cf * s1
        if full_close_hf is not None:
            cf_eff = cf_eff + (1.0 - cf) * share_below(cvlt, dv, full_close_hf, spread, inclusive=True, terms=terms)
    else:
        liq = full_((cvlt < dv) & (D > 0))                            # HF < 1, without dividing
        if full_close_hf is None:
            cf_eff = cf
        else:
            cf_eff = np.where(cvlt <= full_close_hf * dv, 1.0, cf)    # HF <= 0.95: 100 %
    del cvlt
    opb = 1.0 + b
    repay_usd = full_(cf_eff * dv)
    np.copyto(repay_usd, 0.0, where=~liq)
    seize_usd = full_(repay_usd * opb)
    capped = liq & (seize_usd >= cv)                                # all collateral goes
    np.copyto(repay_usd, cv / opb, where=capped)
    np.copyto(seize_usd, view(cv), where=capped)
    if max_seize is not None:  # liquidators take at most ``max_seize`` units (before sharing their capacity)
        with np.errstate(invalid="ignore", over="ignore"):
            lim = view(max_seize * Pc)
        over = seize_usd > lim
        if over.any():
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                np.multiply(repay_usd, np.where(over, lim / seize_usd, 1.0), out=repay_usd)
            np.copyto(seize_usd, lim, where=over)
            capped &= ~over                                         # collateral left: no bad debt booked
    if capacity_usd is not None:
        ranked = priority is not None and repay_usd.ndim == 2
        spent = repay_usd if capacity_price is None else repay_usd * (_arr(capacity_price, "capacity_price") / Pd)
        scale = capacity_by_margin(spent, capacity_usd, priority) if ranked else capacity_pro_rata(spent, capacity_usd)
        np.multiply(repay_usd, scale, out=repay_usd)
        np.multiply(seize_usd, scale, out=seize_usd)
        full = capped & (scale >= 1.0)                              # collateral exhausted
    else:
        full = capped
    if only == "debt_repaid":  # close_factor_part: the repayments alone (the last two steps below, on repay_usd)
        return np.minimum(np.divide(repay_usd, Pd, out=repay_usd), D, out=repay_usd)
    seize = np.zeros(shape)
    np.divide(seize_usd, Pc, out=seize, where=seize_usd > 0)
    Cb = view(C)
    np.minimum(seize, Cb, out=seize)
    np.copyto(seize, Cb, where=full)
    if only is not None:  # close_factor_part: the rest of the result is not asked for
        return seize
    repay = repay_usd
    np.divide(repay, Pd, out=repay)
    np.minimum(repay, D, out=repay)
    residual = full_(np.maximum(D - repay, 0.0))
    bad = full_(residual * Pd)
    coll_after = full_(Cb - seize)
    # a liquidation (something seized) leaving collateral below its floor, debt beyond it: booked (lender_fees)
    booked = full | dust_written_off(coll_after * Pc, bad, liq & (seize > 0))
    np.copyto(bad, 0.0, where=~booked)
    np.copyto(residual, 0.0, where=booked)
    np.copyto(coll_after, 0.0, where=full)
    seized_value = seize * Pc
    fee_usd = seized_value * ((1.0 - 1.0 / opb) * fee)
    sold_value = seized_value - fee_usd
    profit = seized_value - repay * Pd - fee_usd
    debt_after = residual
    return LiquidationResult(
        debt_repaid=repay, collateral_seized=seize, collateral_sold_value=sold_value,
        bad_debt=bad, collateral_after=coll_after, debt_after=debt_after,
        liquidated=liq, liquidator_profit=profit, protocol_fee=fee_usd,
    )


def liquidate_aave(
    collateral, debt, collateral_price, debt_price, liquidation_threshold,
    liquidation_bonus, close_factor=0.5, full_close_hf=0.95, capacity_usd=None,
    *, protocol_fee=0.0, max_seize=None, priority=None, spread=None, capacity_price=None, safe_ratio=None,
):
    """One round of Aave v3 liquidations over borrower cohorts.

    Parameters
    ----------
    collateral, debt : array_like, shape (k,) or (S, k)
        Token units per cohort.
    collateral_price, debt_price : array_like
        USD per unit, broadcastable to the cohort shape (e.g. ``(S, 1)``).
    liquidation_threshold : array_like
        LT in [0, 1] (e.g. 0.825 for ETH).
    liquidation_bonus : array_like
        Bonus as a fraction (0.05 means ``LB = 1.05`` in the contract).
    close_factor : float, default 0.5
    full_close_hf : float or None, default 0.95
        At or below this HF up to 100 % may be repaid; None disables.
    capacity_usd : float or array_like of shape (S,), optional
        Liquidator capacity per round (USD of debt repaid), shared pro rata by
        the cohorts of a scenario.
    capacity_price : array_like, optional
        USD the capacity pays for a unit of debt repaid: the debt token's market price, at which liquidators
        buy it (:func:`core.engine.capital.debt_cost`); ``debt_price`` where None.
    protocol_fee : float, default 0.0
        Share of the bonus collateral taken by the treasury (Aave uses ~0.1).
    max_seize : array_like, optional
        Most collateral units liquidators take from each cohort this round (e.g. what they can sell at a
        profit, :func:`core.engine.limits.liquidator_limit`), applied before the capacity is shared; a
        cohort cut by it keeps its remaining collateral and books no bad debt (unless the liquidation leaves it dust).
    priority : array_like of shape (S, k), optional
        Each cohort's margin to its liquidators (e.g. the log of the bonus net of the oracle's gap to the
        market, :func:`core.engine.limits.liquidation_margin`). With a binding ``capacity_usd`` the capital
        goes to the cohorts in order of decreasing priority, equal priorities pro rata
        (:func:`~core.mechanisms.liquidators.fill_by_margin`: competing liquidators take the most profitable
        liquidations first); without it, pro rata to the debt each repays.
    spread : array_like, optional
        Relative half-width of each cohort's positions' health factors about its aggregate
        (:mod:`core.mechanisms.cohort_spread`): the close factor applies to the share of its positions
        below HF 1, the full close to the share at or below ``full_close_hf``; None or 0: one position.
    safe_ratio : array_like of shape (k,), optional
        Anchor's liquidation queue (``style`` ``anchor``): each such cohort's safe ratio, NaN at the others. Its close
        factor is then the share of the debt the queue's contract repays at the cohort's HF (with a ``spread``, the
        mean over its positions below HF 1, each at its own HF), at most ``close_factor``
        (:func:`core.mechanisms.bid_queue.queue_close_factor`).

    Returns
    -------
    LiquidationResult

    Raises
    ------
    ValueError
        Negative quantities, fractions out of range, non-positive debt price.

    Examples
    --------
    HF = 100*0.8/85 = 0.941 <= 0.95, so 100 % close factor; seizing 85*1.05 =
    89.25 of 100 collateral:

    >>> r = liquidate_aave(100.0, 85.0, 1.0, 1.0, 0.8, 0.05)
    >>> float(r.debt_repaid), float(r.collateral_seized), float(r.bad_debt)
    (85.0, 89.25, 0.0)

    CRV-style toxic position (LTV 98 %): all collateral seized, bad debt left:

    >>> r = liquidate_aave(100.0, 98.0, 1.0, 1.0, 0.8, 0.05)
    >>> round(float(r.debt_repaid), 4), round(float(r.bad_debt), 4)
    (95.2381, 2.7619)
    """
    return _liquidate_close_factor(
        collateral, debt, collateral_price, debt_price, liquidation_threshold,
        liquidation_bonus, close_factor, full_close_hf, capacity_usd, protocol_fee, max_seize, priority, spread,
        capacity_price=capacity_price, safe_ratio=safe_ratio,
    )


def close_factor_part(part, collateral, debt, collateral_price, debt_price, liquidation_threshold, liquidation_bonus,
                      close_factor=0.5, full_close_hf=0.95, *, spread=None, max_seize=None,
                      safe_ratio=None) -> np.ndarray:
    """One ``part`` of :func:`liquidate_aave`'s result with no capacity, alone, by the same operations, so the same
    bits: ``"collateral_seized"`` (with no limit: the collateral the close factor asks of each cohort,
    :func:`core.engine.limits.pool_demand`) or ``"debt_repaid"`` (:func:`core.engine.capital.close_factor_ask`).

    Examples
    --------
    >>> close_factor_part("debt_repaid", 100.0, 85.0, 1.0, 1.0, 0.8, 0.05).tolist()
    85.0
    >>> close_factor_part("collateral_seized", 100.0, 85.0, 1.0, 1.0, 0.8, 0.05).tolist()
    89.25
    """
    return _liquidate_close_factor(collateral, debt, collateral_price, debt_price, liquidation_threshold,
                                   liquidation_bonus, close_factor, full_close_hf, None, 0.0, max_seize, spread=spread,
                                   only=part, safe_ratio=safe_ratio)


def liquidate_compound(
    collateral, debt, collateral_price, debt_price, collateral_factor,
    liquidation_incentive=0.08, close_factor=0.5, capacity_usd=None, *, protocol_fee=0.0,
):
    """One round of Compound v2 liquidations (close factor 50 %, incentive 8 %).

    Liquidatable when ``C * P_c * CF < D * P_d``; seize
    ``repay * P_d * (1 + incentive) / P_c``; no full-close step. Parameters
    and result as :func:`liquidate_aave` (``collateral_factor`` plays LT).

    Examples
    --------
    >>> r = liquidate_compound(100.0, 80.0, 1.0, 1.0, 0.75)
    >>> float(r.debt_repaid), float(r.collateral_seized)
    (40.0, 43.2)
    """
    return _liquidate_close_factor(
        collateral, debt, collateral_price, debt_price, collateral_factor,
        liquidation_incentive, close_factor, None, capacity_usd, protocol_fee,
    )

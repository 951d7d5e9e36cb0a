r"""Anchor's liquidation queue: a bid's premium is a discount on the collateral's price, not a bonus on the debt.

Model
-----
A bid in premium slot :math:`p` buys the liquidated collateral at the oracle price less the premium, and the
queue keeps its fees out of the bidders' coin before it repays the loan. For :math:`C` units of collateral
liquidated at the oracle price :math:`P` (USD per unit, the debt coin at the oracle's price):

.. math::

    \text{paid by the bidders} = C\,P\,(1 - p), \qquad
    \text{repaid} = C\,P\,(1 - p)\,(1 - f_{bid} - f_{liq}),

so a repayment :math:`R` seizes :math:`C = R / (P\,(1-p)\,(1-f))`, :math:`f = f_{bid} + f_{liq}`. The engine's
close-factor rule seizes :math:`R\,(1 + b)/P`; the bonus equivalent to slot :math:`p` is

.. math::

    b = \frac{1}{(1 - p)(1 - f)} - 1 ,

8 % and the queue's two 1 % fees: :math:`1/(0.92 \times 0.98) - 1 = 10.91\,\%`, not 8 % (9.79 % with the bid
fee alone). Repaying 1,000 UST at LUNA $80 seizes :math:`1000 / (80 \times 0.92 \times 0.98) = 13.864` LUNA; the
bidders pay 1,020.41 UST, of which 10.20 UST is the bid fee and 10.20 UST the liquidator's fee.

Source: ``Anchor-Protocol/money-market-contracts`` ``contracts/liquidation_queue/src/bid.rs``:
``execute_pool_liquidation`` prices a slot's fill at ``premium_price = price * (1 - bid_pool.premium_rate)``
and charges the pool ``pool_required_stable = pool_collateral_to_liquidate * premium_price``;
``execute_liquidation`` then takes ``bid_fee = repay_amount * config.bid_fee`` and ``liquidator_fee =
repay_amount * config.liquidator_fee`` and sends ``repay_amount - bid_fee - liquidator_fee`` to the money
market (``repay_address``), the bid fee to the overseer (``fee_address``, the custody contracts'
``liquidate_collateral``: "Sent to Overseer interest buffer", ``packages/moneymarket/src/liquidation_queue.rs``)
and the liquidator fee to whoever triggered the liquidation. ``src/query.rs`` ``query_liquidation_amount`` sizes
a liquidation with the same price, ``price * (1 - premium_rate) * (1 - bid_fee) * (1 - liquidator_fee)``
(it multiplies the fee factors, :math:`(1-f_{bid})(1-f_{liq})`, where the execution subtracts them; the two differ
by :math:`f_{bid} f_{liq}` = 0.01 % of the collateral's discounted value; the query only sizes how much is
liquidated, which the engine takes from the cohort's close factor, so the engine keeps the execution's sum).

Parameters: 31 premium slots, 0-30 % (the contract's README; Anchor docs, "Liquidation Queue Contract"); bid fee
1 % (Anchor docs, "Modify Liquidation Parameters", genesis and up-to-date values); liquidator fee 1 % (Anchor docs,
"Loan Liquidation", *Liquidation Incentives*: "1% of the liquidated value is set aside as incentives for
liquidators to actively monitor risky loans and trigger liquidations", beside "**1%** of the liquidated value is
attached as a liquidation fee, sent to Anchor's yield reserve"; the sentence from the queue's launch,
``Anchor-Protocol/anchor-docs`` commit 268575c of 4 Nov 2021, untouched by the page's later edits to the
repository's last commit of 24 Mar 2022; the "Liquidation Queue Contract" page's ``InstantiateMsg`` example reads
``"liquidator_fee": "0.01"`` too) [estimate: the documented value; the deployed contract's config on Columbus-5 on
6 May 2022 is not in our sources, and the contract's own tests use both 0 and 1 %]. Whoever triggers the
liquidation takes the liquidator's fee, outside the network, like the bidders' premium (:mod:`core.engine.fees`).
"""

from __future__ import annotations

import numpy as np

#: ``bid_fee`` of Anchor's liquidation queue: 1 % of each executed bid (Anchor docs, "Modify Liquidation
#: Parameters"), sent to the overseer's interest buffer.
ANCHOR_BID_FEE = 0.01
#: ``liquidator_fee``: 1 % of the liquidated value, paid to whoever triggers the liquidation (Anchor docs, "Loan
#: Liquidation", 4 Nov 2021 - 24 Mar 2022) [estimate: documented, the deployed value not in our sources].
ANCHOR_LIQUIDATOR_FEE = 0.01


def bid_queue_bonus(premium_rate, bid_fee=ANCHOR_BID_FEE, liquidator_fee=ANCHOR_LIQUIDATOR_FEE) -> np.ndarray:
    r"""The close-factor bonus :math:`b = 1/((1-p)(1-f_{bid}-f_{liq})) - 1` equivalent to a bid at premium ``p``.

    Collateral seized per unit of debt repaid, :math:`(1+b)/P`, is then the queue's
    :math:`1/(P(1-p)(1-f_{bid}-f_{liq}))` (module docstring). Broadcasts its inputs.

    Examples
    --------
    An 8 % slot with the 1 % bid fee and the 1 % liquidator fee, with the bid fee alone, and the slot alone:

    >>> round(float(bid_queue_bonus(0.08)), 6)
    0.109139
    >>> round(float(bid_queue_bonus(0.08, liquidator_fee=0.0)), 6)
    0.097936
    >>> round(float(bid_queue_bonus(0.08, bid_fee=0.0, liquidator_fee=0.0)), 6)
    0.086957
    """
    p = np.asarray(premium_rate, dtype=float)
    kept = 1.0 - np.asarray(bid_fee, dtype=float) - np.asarray(liquidator_fee, dtype=float)
    if np.any((p < 0.0) | (p >= 1.0)) or np.any((kept <= 0.0) | (kept > 1.0)):
        raise ValueError("premium rate must lie in [0, 1) and the queue's fees in [0, 1)")
    return 1.0 / ((1.0 - p) * kept) - 1.0


#: ``safe_ratio`` of Anchor's liquidation queue: a liquidation repays the loan until borrow / limit is back at 0.8
#: (Anchor docs, "Modify Liquidation Parameters", genesis and up-to-date values; the contract's ``Config``).
ANCHOR_SAFE_RATIO = 0.8


def anchor_discount(premium_rate, bid_fee=ANCHOR_BID_FEE, liquidator_fee=ANCHOR_LIQUIDATOR_FEE) -> np.ndarray:
    r"""The factor :math:`d = (1 - p)(1 - f_{bid})(1 - f_{liq})` by which ``query_liquidation_amount`` discounts the
    oracle price: the UST that reaches the loan per unit of collateral's worth (the query multiplies the fee
    factors; the execution subtracts them, :func:`bid_queue_bonus`'s :math:`1/(1+b)`, 0.01 % of the value apart).

    Examples
    --------
    >>> round(float(anchor_discount(0.08)), 6), round(1 / (1 + float(bid_queue_bonus(0.08))), 6)
    (0.901692, 0.9016)
    """
    return ((1.0 - np.asarray(premium_rate, dtype=float)) * (1.0 - np.asarray(bid_fee, dtype=float))
            * (1.0 - np.asarray(liquidator_fee, dtype=float)))


def _queue_terms(max_ltv, discount, safe_ratio) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``(m, d, s)`` as float arrays, checked: the contract's denominator :math:`d - s\,m` must be positive."""
    m = np.asarray(max_ltv, dtype=float)
    d = np.asarray(discount, dtype=float)
    s = np.asarray(safe_ratio, dtype=float)
    if np.any(d - s * m <= 0.0):
        raise ValueError("the queue's discount must exceed safe_ratio x max_ltv (the contract's denominator is then > 0)")
    return m, d, s


def anchor_liquidation_amount(borrow_amount, collateral, price, max_ltv, discount,
                              safe_ratio=ANCHOR_SAFE_RATIO) -> np.ndarray:
    r"""Collateral units Anchor's liquidation queue liquidates from one loan, as its contract sizes it.

    Model (one collateral, one premium slot whose bids suffice). The overseer liquidates a loan once its
    ``borrow_amount`` :math:`B` passes its ``borrow_limit`` :math:`L = C\,P\,m` (collateral :math:`C`, oracle price
    :math:`P`, Max LTV :math:`m`); the queue then sells the :math:`x` units of collateral that bring the loan back to
    the safe ratio :math:`s`, each unit repaying :math:`P\,d` of it (:func:`anchor_discount`):

    .. math::

        B - x P d = s\,m\,P\,(C - x) \;\Longleftrightarrow\;
        x = \frac{B - s\,L}{P\,(d - s\,m)}, \qquad x \le C,

    and :math:`x = C` ("Not enough collateral. Also liquidate all collateral") once :math:`B \ge C P d`; nothing at
    :math:`B \le L`. As a share of the loan at loan-to-value :math:`\ell = B / (C P)`:
    :math:`x P d / B = d\,(1 - s\,m/\ell) / (d - s\,m)` (:func:`anchor_repaid_share`).

    Source: ``Anchor-Protocol/money-market-contracts`` ``contracts/liquidation_queue/src/query.rs``
    ``query_liquidation_amount`` (commit ``7fac132``, 25 Oct 2021, unchanged to the repository's last)::

        if borrow_amount <= borrow_limit { return Ok(LiquidationAmountResponse { collaterals: vec![] }); }
        let safe_ratio = if collaterals_value <= config.liquidation_threshold { Decimal256::zero() }
                         else { config.safe_ratio };
        let base_fee_deductor = (one - config.bid_fee) * (one - config.liquidator_fee) * (one - tax_rate);
        let discounted_price = price * (one - premium_rate) * base_fee_deductor;
        let nominator = collateral_borrow_amount - safe_borrow + tax_cap_adj + (discounted_price * prev_x) - prev_g_x;
        let denominator = price * (((one - premium_rate) * base_fee_deductor) - (safe_ratio * max_ltv));
        let liquidation_amount = (nominator / denominator) + Uint256::one(); // round up
        result.push((collateral.0.to_string(), liquidation_amount.min(collateral.1)));

    with ``safe_borrow = safe_ratio * collateral_borrow_limit``. Left out: Terra's tax (``tax_rate``, ``tax_cap_adj``:
    a few uusd), the one-unit round-up, the 200 UST ``liquidation_threshold`` below which a whole small loan goes
    (``safe_ratio`` 0: a position's size, which a cohort does not have), several collaterals (weights), and the walk
    over premium slots when one slot's bids run out (``prev_x``, ``prev_g_x``): the data has one slot and no bid
    amounts, so "not enough bids" is not modelled. Broadcasts its inputs.

    Examples
    --------
    bLUNA (Max LTV 0.6) at $50 with the query's discount at the 8 % slot, :math:`d` = 0.901692: 1,000 LUNA
    (limit 30,000 UST) owing 30,600 UST (HF 0.98) sell :math:`(30600 - 24000) / (50 \times 0.421692)` = 313.0 LUNA,
    and the loan is left at the safe ratio; below the limit nothing; past :math:`B = C P d` everything:

    >>> d = float(anchor_discount(0.08))
    >>> x = float(anchor_liquidation_amount(30_600.0, 1_000.0, 50.0, 0.6, d)); round(x, 4)
    313.0247
    >>> round((30_600.0 - x * 50.0 * d) / ((1_000.0 - x) * 50.0 * 0.6), 12)
    0.8
    >>> anchor_liquidation_amount([29_000.0, 45_100.0], 1_000.0, 50.0, 0.6, d).tolist()
    [0.0, 1000.0]
    """
    B = np.asarray(borrow_amount, dtype=float)
    C = np.asarray(collateral, dtype=float)
    P = np.asarray(price, dtype=float)
    m, d, s = _queue_terms(max_ltv, discount, safe_ratio)
    limit = C * P * m
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (B - s * limit) / (P * (d - s * m))
    return np.where(B > limit, np.minimum(x, C), 0.0)


def anchor_repaid_share(health_factor, max_ltv, discount, safe_ratio=ANCHOR_SAFE_RATIO) -> np.ndarray:
    r"""The share of a loan :func:`anchor_liquidation_amount` repays, at the loan's health factor
    :math:`h = C P m / B`, used by the engine as an ``anchor`` cohort's close factor of the round
    (:func:`core.mechanisms.lending.liquidate_aave`'s ``safe_ratio``):

    .. math:: \phi(h) = \operatorname{clip}\!\left(\frac{d\,(1 - s\,h)}{d - s\,m},\ 0,\ 1\right),

    1 from :math:`h \le m / d` (:math:`\ell \ge d`), where the contract sells all of the collateral and repays
    :math:`C P d` (the close-factor rule's cap on what there is to seize turns a share of 1 into that); 0 from
    :math:`h \ge 1/s`. One position is liquidated only at :math:`h < 1`; a cohort whose positions are spread about its
    aggregate (:mod:`core.mechanisms.cohort_spread`) repays the mean over its positions below 1
    (:func:`anchor_mean_repaid_share`).

    Examples
    --------
    bLUNA (Max LTV 0.6) and bETH (0.75) at HF 1 with the engine's :math:`d` = 0.9016 (``1 / (1 + bonus)``); bLUNA
    at HF 0.8438 (:math:`\ell` 0.711) and at the all-collateral edge :math:`m/d` = 0.6655:

    >>> [round(float(anchor_repaid_share(1.0, m, 0.9016)), 4) for m in (0.6, 0.75)]
    [0.4277, 0.5979]
    >>> round(float(anchor_repaid_share(0.6 / 0.711, 0.6, 0.9016)), 4), float(anchor_repaid_share(0.6 / 0.9016, 0.6, 0.9016))
    (0.6948, 1.0)
    """
    h = np.asarray(health_factor, dtype=float)
    m, d, s = _queue_terms(max_ltv, discount, safe_ratio)
    with np.errstate(over="ignore"):  # a loan with next to no debt: HF ~ inf, share 0
        return np.clip(d * (1.0 - s * h) / (d - s * m), 0.0, 1.0)


def anchor_mean_repaid_share(health_factor, spread, max_ltv, discount, safe_ratio=ANCHOR_SAFE_RATIO) -> np.ndarray:
    r"""The share of a cohort's debt below HF 1 that Anchor's queue repays when its positions' health factors are
    spread about its aggregate :math:`h` (:mod:`core.mechanisms.cohort_spread`: each unit of debt in a position of HF
    :math:`u = h\,y`, :math:`y` uniform on :math:`[1 - w, 1 + w]`), each position sized by the contract at its own HF
    (:func:`anchor_liquidation_amount`): the debt-weighted mean of what the positions below HF 1 repay. A position
    below HF 1 repays at least :math:`\phi(1)` of its debt whatever the cohort's aggregate (which may be above 1
    while some positions are below).

    A position at :math:`u` repays :math:`\psi(u) = A - B u` of its debt (:func:`anchor_repaid_share`,
    :math:`A = d / (d - s m)`, :math:`B = d s / (d - s m)`) down to :math:`u^* = m / d`, and below it all of its
    collateral, worth :math:`u / m` of its debt, at the discount: :math:`\psi(u) = d u / m` (the rest is its bad
    debt). Over :math:`u \in [u_0, u_1]`, :math:`u_0 = h (1 - w)`, :math:`u_1 = \min(1, h (1 + w))`,
    :math:`u_a = \min(u^*, u_1)`, :math:`u_b = \max(u_0, u^*)`:

    .. math::

        \bar\psi = \frac{\tfrac{d}{2m} \max(0,\ u_a^2 - u_0^2) + \max(0,\ A (u_1 - u_b) - \tfrac{B}{2} (u_1^2 - u_b^2))}
                        {u_1 - u_0}.

    :func:`anchor_repaid_share` at :math:`h` where :math:`w = 0` (one position: its share 1 below :math:`u^*`
    becomes all of the collateral by the close-factor rule's cap) or where no position is below 1. Continuous in
    :math:`h`. The close-factor rule seizes :math:`1/d` of each unit repaid, so the collateral the queue takes is
    the positions' own.

    Examples
    --------
    bLUNA (Max LTV 0.6, :math:`d` = 0.9016) at aggregate HF 1.02 with the 5 % spread: the positions below 1 lie on
    HF 0.969-1, mean HF 0.9845, and repay :math:`A - B \times 0.9845` = 45.42 % of their debt on average (the
    aggregate's own share, :math:`\phi(1.02)`, is 39.35 %; :math:`\phi(1)` = 42.77 %); one position: its own share:

    >>> round(float(anchor_mean_repaid_share(1.02, 0.05, 0.6, 0.9016)), 4), round(float(anchor_repaid_share(1.02, 0.6, 0.9016)), 4)
    (0.4542, 0.3935)
    >>> float(anchor_mean_repaid_share(0.98, 0.0, 0.6, 0.9016)) == float(anchor_repaid_share(0.98, 0.6, 0.9016))
    True
    """
    h = np.asarray(health_factor, dtype=float)
    w = np.asarray(spread, dtype=float)
    m = np.asarray(max_ltv, dtype=float)
    d = np.asarray(discount, dtype=float)
    s = np.asarray(safe_ratio, dtype=float)
    one = anchor_repaid_share(h, m, d, s)  # checks the denominator
    A, B, edge = d / (d - s * m), d * s / (d - s * m), m / d
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u0 = h * (1.0 - w)
        u1 = np.minimum(1.0, h * (1.0 + w))
        ua = np.maximum(np.minimum(edge, u1), u0)  # positions at or below m / d: all of their collateral, d u / m
        whole = 0.5 * d / m * (ua * ua - u0 * u0)
        ub = np.maximum(u0, edge)
        linear = np.where(u1 > ub, A * (u1 - ub) - 0.5 * B * (u1 * u1 - ub * ub), 0.0)
        mean = (whole + linear) / (u1 - u0)
    return np.where((w > 0) & (u1 > u0), np.clip(mean, 0.0, 1.0), one)


def queue_close_factor(cf, cvlt, dv, lt, b, safe_ratio, shape, spread=None):
    """The close factor with an Anchor cohort's (``safe_ratio`` not NaN) set to the share of its debt its liquidation
    queue repays at the cohort's health factor ``cvlt / dv`` (USD: collateral x price x LT, debt x price),
    :func:`anchor_repaid_share` with the bonus's :math:`d = 1/(1+b)` (:func:`bid_queue_bonus`) and the Max LTV
    :math:`m` = ``lt``, at most ``cf`` (the scenario's cap, ``max_close_factor``); the others keep ``cf``. With a
    ``spread`` of positions (:mod:`core.mechanisms.cohort_spread`) the share is the mean over the positions below HF 1,
    each at its own HF (:func:`anchor_mean_repaid_share`), which the close-factor rule applies to their share of the
    debt. Cohorts are the last axis of ``shape``; only the queue's columns are computed.

    Examples
    --------
    >>> queue_close_factor(0.5, np.array([60.0, 60.0]), np.array([60.0, 60.0]), 0.6, 1 / 0.9016 - 1,
    ...                    np.array([0.8, np.nan]), (2,)).round(4).tolist()
    [0.4277, 0.5]
    """
    if not shape:  # one cohort as scalars
        return queue_close_factor(cf, np.reshape(cvlt, 1), np.reshape(dv, 1), lt, b, np.reshape(safe_ratio, 1),
                                  (1,), None if spread is None else np.reshape(spread, 1))[0]
    ratio = np.asarray(safe_ratio, dtype=float)
    queue = np.flatnonzero(~np.isnan(np.broadcast_to(ratio, shape[-1:])))
    if not queue.size:
        return cf
    out = np.array(np.broadcast_to(cf, shape), dtype=float)
    cols = (Ellipsis, queue)
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.broadcast_to(cvlt, shape)[cols] / np.broadcast_to(dv, shape)[cols]
    hf = np.nan_to_num(hf, nan=np.inf)
    m, d = np.broadcast_to(lt, shape)[cols], 1.0 / (1.0 + np.broadcast_to(b, shape)[cols])
    s = np.broadcast_to(ratio, shape[-1:])[queue]
    if spread is None:
        share = anchor_repaid_share(hf, m, d, s)
    else:
        share = anchor_mean_repaid_share(hf, np.broadcast_to(spread, shape)[cols], m, d, s)
    out[cols] = np.minimum(share, out[cols])
    return out

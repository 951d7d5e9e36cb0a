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

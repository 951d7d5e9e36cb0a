"""Where a liquidator gets the debt tokens it repays: from their holders outside the network, then from those inside it.

A liquidation repays a cohort's debt in its debt token (Aave v2/v3 ``liquidationCall`` transfers ``debtToCover`` of
the debt asset from the liquidator; Compound v2 ``liquidateBorrow`` repays ``repayAmount`` of the borrowed asset;
Anchor's liquidation queue bids are UST deposited by bidders: Anchor docs, "Liquidations"). A liquidator outside the
network buys those units in the market, from whoever holds them: the holders outside the network hold what the
network does not, :math:`F = \\max(0,\\ S - \\sum_i H_i)` (the float :func:`~core.engine.pools.unheld_units` and
:func:`~core.engine.redemptions.redeemable_units` count), and what the round's repayments take beyond that float,

.. math::

    u = \\max\\Big(0,\\ \\sum_i H_i' - S\\Big) - \\max\\Big(0,\\ \\sum_i H_i - S\\Big)

(:math:`H'` the holdings after the repayments arrived), is bought from the holders in the network, pro rata to the
units they hold on their own account (:func:`~core.engine.redemptions.redeemable_units`' base: not the units a live
book owes its depositors in kind, not a pool's reserves), at the coin's market price :math:`P`: each gives up
:math:`u\\, h_i / \\sum_j h_j` units and receives :math:`P` a unit in cash from the liquidator
(:func:`~core.engine.redemptions.pay_redeemers`). A sale at the market price moves no holder's marked equity, so
the rule creates no value and no unit.

Before, the repayments arrived at the protocol whatever anyone held: on the 2022 network, where the network holds
all 18.5bn UST at the reference, every UST that liquidators repaid to Anchor beyond the float was a unit no holder
gave up (``tests/test_unit_conservation.py``: 1,123M of the 1,308.0M UST held beyond the supply by 20 May on the Terra
preset). Those units were then redeemed through the market module as the network's own, taking the window's cash
that the float outside should have shared: ``monotone-2022-ftt-luna-terra-chain-failed-full-runs-365`` ended holding 617.48M UST
against a supply of 0 at the shallower depth and 474.41M beyond its 141.18M at the deeper, and its loss fell
$45.61M for the deeper shock.

Left as before: units beyond what the holders in the network hold on their own account, which still arrive from
nowhere (LUNA -50% without runs: 1.729M UST in round 4, the holders having redeemed all of theirs and Anchor,
TERRA_CHAIN and the Curve pool holding the rest; ``tests/test_repaid_units.py``). A liquidator would then buy from the
pool at its price, above the market's, which the pool's owners would gain in a fall.
"""

from __future__ import annotations

import numpy as np

from .compiled import Compiled
from .memo import per_network
from .redemptions import pay_redeemers, redeemable_units
from .state import CascadeState

__all__ = ["repaid_algorithmic", "float_outside", "buy_repaid_units"]


def repaid_algorithmic(c: Compiled) -> np.ndarray:
    """The tokens whose supply the engine tracks unit by unit (algorithmic stablecoins: redemptions burn it) that
    some cohort owes: where repayments must come from the supply's holders."""
    def build() -> np.ndarray:
        owed = np.zeros(c.k, bool)
        owed[c.c_da] = True
        algo = np.asarray(c.algo_idx, int)
        return algo[owed[algo]] if algo.size else algo
    return per_network(c, "repaid_algorithmic", build)


def float_outside(c: Compiled, s: CascadeState, tokens: np.ndarray) -> np.ndarray:
    """Supply less units held in the network of each token, (S, len(tokens)): negative where the network holds more
    than the supply (units no holder gave up)."""
    return s.supply[:, tokens] - s.H[:, :, tokens].sum(1)


def buy_repaid_units(c: Compiled, s: CascadeState, before: np.ndarray, tokens: np.ndarray,
                     oa: np.ndarray) -> np.ndarray | None:
    """After a liquidation step added its repayments to ``s.H``: the units it repaid beyond the float outside
    (``before``, :func:`float_outside` before the step) are bought from the holders in the network at the market
    price (module docstring). Writes, in place, the sellers' units in ``H``; returns the other assets ``oa`` (the
    step's, (S, n)) plus the sellers' cash, or None where no repayment went beyond the float."""
    short = np.maximum(np.maximum(-float_outside(c, s, tokens), 0.0) - np.maximum(-before, 0.0), 0.0)
    if not (short > 0).any():
        return None
    for j, a in enumerate(tokens):  # one algorithmic coin owed on the shipped networks
        if not (short[:, j] > 0).any():
            continue
        base, _ = redeemable_units(c, s.H, s.ik_left, s.supply[:, a], a)
        units = np.minimum(short[:, j], base.sum(1))
        oa = pay_redeemers(s.H, oa, base, np.zeros(len(units)), a, units, s.P[:, a])
    return oa

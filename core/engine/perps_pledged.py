r"""Margin pledged to a perpetuals venue from outside it: it survives its holder's forced failure.

A named account's margin is one of two kinds in the engine (:func:`core.engine.perps_close.pair_margin`): margin
*within* its in-kind claim on the venue (its customer balance: ABC's USDC on Hyperliquid), which the clearing books
hold as a claim, and margin *beyond* that claim, which the account's own balance sheet holds (Ethena's spot BTC,
ETH and SOL in its holdings; Wintermute's USDT in its other assets) while the venue counts it as posted
(``perps_units``) and seizes it at a liquidation (:mod:`core.engine.perps_seized`: the units leave its holdings).

Model. A forced failure (:func:`core.engine.exogenous.fail_forced`: "as in a hack or fraud", the entity keeps only
the scenario's recovery share of its outside assets and tokens) takes what the failed entity itself controls. The
margin beyond its claim is not that: it is delegated to the venue and locked for it until the venue settles the
positions it backs. Ethena's backing behind its short perpetuals is held with off-exchange settlement providers
(Ethena docs, "Off-Exchange Settlement in detail" and "Backing Asset Custody": Copper, Ceffu, Cobo, Fireblocks;
the provider never controls or beneficially owns them). Delegated funds are locked at the custodian and credited
to the exchange account as a virtual balance; profit and loss is settled on the custodian every 2, 4 or 24 hours
(Copper developer guide, "ClearLoop" and "Delegate (lock) funds"). The client and the exchange both hold a
beneficial interest in ClearLoop's English-law trust, as Copper's books record it, outside Copper's estate (Copper,
"ClearLoop's trust and collateral structure", and its note on ISDA's "Navigating Bankruptcy in Digital Asset
Markets", 2023).
So the units the venue counts as posted survive the holder's failure: the venue's claim on them (its loss at
liquidation, to the insurance fund and ADL beyond them) stands, and what they are worth beyond the positions' loss
is the estate's, its spot still hedged by its shorts. Margin within a claim on the venue already survives (a
forced failure cuts no claim); this makes the margin held outside the venue do the same.

What a failed entity keeps at the scenario's recovery share :math:`r` is then, for each token :math:`a` and its
other assets :math:`O`,

.. math:: H'_a = \hat H_a + r\,(H_a - \hat H_a), \qquad O' = \hat O + r\,(O - \hat O),

with :math:`\hat H_a = \min(H_a, u_a)` and :math:`\hat O = \min(O^+, u_{USD})` the margin it has pledged beyond its
claims (:func:`pledged_margin`, :math:`u` summed over its venues), and its forced loss is
:math:`(1-r)\,((O - \hat O) + \sum_a (H_a - \hat H_a) P_a)`. No unit is created: the pledged units are the ones the
entity held.

Before, a forced ETHENA lost its spot with the rest of its assets while its venues went on counting the same units
as the margin of its 1x shorts ($7.34bn at reference prices): its shorts stayed open on margin that no longer
existed, its estate was their profit alone (about $0.5bn against $14.83bn of USDe, which traded at about 3.4 cents),
and a deeper fall of a coin it was short was a gain to a failed estate
(``monotone-2025-sol-67-ethena-failed-lag2-liquidity-056-capital-50m-owed``; docs/invariants.md, session 33).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .perps_close import beyond_claim_share

if TYPE_CHECKING:
    from .compiled import Compiled
    from .state import CascadeState

__all__ = ["pledged_margin"]


def pledged_margin(c: Compiled, s: CascadeState) -> tuple[np.ndarray, np.ndarray] | None:
    """The margin each entity has posted to its perpetuals venues beyond its in-kind claims on them, from the state's
    margin units (``perps_units``) and the claims already cut (``perps_lost``): token units (S, n, k) and USD (S, n).
    None where the network has no positions.

    Each (account, venue) pair's share beyond its remaining claim is the one the venue takes at a liquidation
    (:func:`core.engine.perps_close.beyond_claim_share`, the same share of every row of the pair)."""
    pc = c.perps
    if pc is None:
        return None
    assert s.perps_units is not None and s.perps_lost is not None
    rows = pc.named_rows
    u = s.perps_units[:, rows] * beyond_claim_share(pc, s.perps_units, s.perps_lost, c.P0)[:, pc.row_pair]
    a = pc.margin_asset[rows]
    token = a >= 0
    S = u.shape[0]
    units = np.zeros((S, c.n, c.k))
    usd = np.zeros((S, c.n))
    np.add.at(units.transpose(1, 2, 0), (pc.row_entity[rows][token], a[token]), u[:, token].T)
    np.add.at(usd.T, pc.row_entity[rows][~token], u[:, ~token].T)
    return units, usd

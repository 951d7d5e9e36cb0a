r"""Outside accounts' margin kept in the network: their loss as far as the network counts its gain.

An anonymous account liquidated with equity left at its fill leaves that margin to the venue's backstop vault
(Hyperliquid's HLP) or insurance fund (Binance, Bybit, OKX, Bitget, the DEX venues). The rest of its margin has
gone, as price PnL at the fill, to the counterparties who took the close: outside the network, counted by no one.
The principle of system loss (:mod:`core.engine.outcome`, :func:`core.engine.fees.outside_borrowers_paid`):

* a transfer from outside into a network entity is counted as the outside party's loss *so that the network's
  gain from it is no value created*: the gain lowers the receiver's counted loss (a vault that paid deficits, a
  fund drawn below its size), and the outside party's loss puts it back;
* a transfer from outside to outside is not counted.

System loss counts an entity's loss under limited liability, :math:`\max(E_0 - \max(E, 0), 0)`: a gain beyond
the initial equity lowers nothing. So the margin a receiver keeps *above* its initial equity is no gain the
network counts, and counting it as the payer's loss counted it as value destroyed: a lower fill, which sends
more of the same margin to the outside counterparties, lowered system loss by the difference (HLP keeping
$84.58M against $72.46M of the anonymous ALTS longs' margin on crypto-2025-10 with ALTS -6.05% against -6.37%:
system loss -$12.12M, ``monotone-2025-alts-6-half-runs-lag1-liquidity-065-capital-500m-owed``).

The rule, for each receiver :math:`e` of outside margin :math:`X_e` (so far, USD):

.. math::

    \text{kept}_e = \min\bigl(\max(E_e - \max(E_{0,e}, 0), 0),\ X_e\bigr), \qquad
    \text{traders' loss} = \sum \text{margin left} + \text{ADL} + \text{socialised} - \sum_e \text{kept}_e .

Then :math:`\max(E_0 - E, 0) + X - \text{kept}` is :math:`\max(E_0 - (E - X), 0)` whatever :math:`E`: system loss
is what it would be had the margin gone outside, so the transfer is counted once, and only where the network
counts the gain. Worked: a vault of $300M that keeps $84.58M and pays no deficit ends at $384.58M, kept $84.58M,
counted 0; one that keeps $84.58M and pays $20M of deficits ends at $364.58M, kept $64.58M, counted $20M, the
loss the deficits would be without the margin; one that pays $100M ends at $284.58M (loss $15.42M), kept 0,
counted $84.58M: $100M in all, as without the margin.

Who the receiver is (:func:`outside_receipts`):

* a **backstop vault** (``backstop_vault_entity``): the vault entity, with every outside margin left to it;
  a vault outside the network (no entity) keeps it outside: not counted at all (:func:`vault_outside`);
* an **insurance fund**: a pot outside the balance sheets whose loss below its size is an insurance draw (in
  system loss) and whose growth above it is its venue's gain (:mod:`core.engine.perps`); the margin refills
  the draw first, counted whole, and only its part in the fund's growth, :math:`\min(\max(F - F_0, 0), X)`,
  reaches the venue's equity, where the rule above reads it.

Profit taken by ADL or a socialised haircut is not margin kept: it cuts outside winners' claims on the venue,
which the venue's equity and its creditors would otherwise bear (an uncovered deficit), as outside creditors'
write-downs are counted; it stays counted whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.perps_book import RULES

if TYPE_CHECKING:
    from collections.abc import Callable

    from .compiled import Compiled
    from .perps import PerpsCompiled
    from .state import CascadeState

_VAULT = RULES.index("backstop_vault")


def vault_outside(pc: "PerpsCompiled", rule: np.ndarray) -> np.ndarray | None:
    """(S or 1, V) the venues whose outside accounts' margin goes to a backstop vault outside the network (no
    entity): outside to outside, not counted; None where there is none (the common case)."""
    out = (np.asarray(rule) == _VAULT) & (pc.vault_entity < 0)
    return out if out.any() else None


def outside_receipts(pc: "PerpsCompiled", rule: np.ndarray, margin: np.ndarray, fund: np.ndarray,
                     fund_size: np.ndarray) -> np.ndarray:
    """(S, R) what each receiver (``pc.receiver_entity``) holds of outside accounts' margin as a gain, USD:
    ``margin`` (S, V) the outside margin left at each venue so far, ``fund`` (S, V) its insurance fund left and
    ``fund_size`` (S, V) the fund at the start; ``rule`` (V,) or (S, V) the venues' rule codes. A vault venue's
    margin is its vault entity's; a fund venue's, the part of it in the fund's growth, its venue's."""
    rule = np.broadcast_to(np.asarray(rule), margin.shape)
    to_vault = (rule == _VAULT) & (pc.vault_entity >= 0)[None]
    grown = np.minimum(np.maximum(fund - fund_size, 0.0), margin)
    out = np.zeros((margin.shape[0], len(pc.receiver_entity)))
    np.add.at(out.T, pc.vault_receiver, np.where(to_vault, margin, 0.0).T)
    np.add.at(out.T, pc.venue_receiver, np.where(rule == _VAULT, 0.0, grown).T)
    return out


def kept_as_gain(pc: "PerpsCompiled", E0: np.ndarray, equity: np.ndarray, receipts: np.ndarray) -> np.ndarray:
    r"""(S,) the outside margin the receivers keep above their initial equity, :math:`\sum_e \min(\max(E_e -
    \max(E_{0,e}, 0), 0), X_e)`: no loss the network counts, so no outside party's either (module docstring).

    >>> from types import SimpleNamespace
    >>> pc = SimpleNamespace(receiver_entity=np.array([0]))
    >>> kept_as_gain(pc, np.array([300.0]), np.array([[384.58], [364.58], [284.58]]), np.full((3, 1), 84.58)).round(2)
    array([84.58, 64.58,  0.  ])
    """
    e = pc.receiver_entity
    gain = np.maximum(equity[:, e] - np.maximum(E0[e], 0.0)[None], 0.0)
    return np.ascontiguousarray(np.minimum(gain, receipts)).sum(1)


def kept_in_state(c: "Compiled", s: "CascadeState", equity: np.ndarray,
                  rows: "Callable[[np.ndarray], np.ndarray] | None" = None) -> np.ndarray:
    """:func:`kept_as_gain` of a cascade's state at ``equity`` (its last clearing's, of the rows ``rows`` selects
    of the state's, all by default): what :attr:`~core.engine.outcome.BatchResult.traders_loss` leaves out of
    ``perps_outside``."""
    assert c.perps is not None and s.perps_outside_in is not None
    receipts = s.perps_outside_in if rows is None else rows(s.perps_outside_in)
    return kept_as_gain(c.perps, c.E0, equity, receipts)

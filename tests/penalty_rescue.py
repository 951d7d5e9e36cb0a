"""A Maker system kept out of default by the liquidation penalties a deeper fall collects: decision 12's exception.

docs/invariants.md, "Session 31 (lead): decision 12". Under dss as written a vault's liquidation moves the whole
tab, the debt times the ilk's ``chop``, into the Vow (dog.sol ``bark``: ``tab = mul(dart, rate) * chop``; clip.sol
``take``: ``vat.move(msg.sender, vow, owe)``), so a deeper fall that crosses the liquidation line of healthy vaults
refills the surplus buffer from their owners. The penalty is paid by the vault owners, outside the network on the
shipped snapshots' anonymous cohorts, and system loss counts it as their loss (``borrowers_penalty_loss``,
:mod:`core.engine.outcome`), so the loss does not fall with it; the count of defaults can. The monotone invariant's
count of defaults is then held except where this is shown at work:

* the earliest defaults the deeper run avoids are the Maker system's entity alone (the ``protocol`` of the
  network's ``maker_ilks`` table),
* its deficit after the clearing of its default round in the shallower run, ``-E``, is no larger than the penalty
  income the deeper run's Vow has booked by that round beyond the shallower run's (``history["maker"]``'s
  ``penalty_usd``, which accumulates), and
* the system loss does not fall (the deeper run's ``total_loss`` is at least the shallower run's).

Anything else that lowers the count stays a violation. The check reads only the public API (``simulate_batch``
with ``record=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.results import MAKER_HISTORY
from invariants_support import network, tables


@dataclass(frozen=True)
class PenaltyRescue:
    """A Maker system kept out of default by the penalties the deeper run's auctions collect."""

    entity: str
    round: int            # its default round in the shallower run
    deficit: float        # USD below zero after that round's clearing, shallower run
    penalty_gain: float   # USD more penalty income booked by that round, deeper run against shallower
    loss_rise: float      # USD the system loss rises by, deeper run against shallower

    def __str__(self) -> str:
        return (f"{self.entity} defaults in round {self.round} of the shallower run ${self.deficit / 1e6:,.2f}M short, "
                f"and the deeper run's Vow has ${self.penalty_gain / 1e6:,.2f}M more penalty income by then; "
                f"system loss rises ${self.loss_rise / 1e6:,.2f}M")


def penalty_rescue(key: str, br, shallow: int = 0, deep: int = 1) -> PenaltyRescue | None:
    """The Maker system's default in row ``shallow`` that row ``deep`` avoids through penalty income, if it is that.

    ``br`` is a :class:`~core.engine.BatchResult` of network ``key`` run with ``record=True``. Returns ``None``
    unless all three conditions of the module docstring hold.
    """
    t = tables(key)
    ilks = network(key).maker_ilks
    if ilks is None or len(ilks) == 0:
        return None
    maker = t.entity_ids.index(str(ilks["protocol"].iloc[0]))
    avoided = np.flatnonzero(br.defaulted[shallow] & ~br.defaulted[deep])
    if avoided.size == 0:
        return None
    r = int(br.default_round[shallow, avoided].min())
    first = avoided[br.default_round[shallow, avoided] == r]
    if first.tolist() != [maker]:
        return None
    deficit = -float(np.asarray(br.history["equity"])[shallow, r, maker])
    penalty = np.asarray(br.history["maker"])[:, r, MAKER_HISTORY.index("penalty_usd")]
    gain = float(penalty[deep] - penalty[shallow])
    rise = float(br.total_loss[deep] - br.total_loss[shallow])
    if not (0.0 < deficit <= gain) or rise < 0.0:
        return None
    return PenaltyRescue(t.entity_ids[maker], r, deficit, gain, rise)

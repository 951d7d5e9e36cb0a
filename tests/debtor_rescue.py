"""A default that a debtor's own falling debt token averts: the owed-token exception to the monotone invariant.

docs/invariants.md, "1. Monotone", *One refinement of the issue's wording*: the searched group holds no token a
named borrower owes (``Tables.owed_tokens``), because a deeper fall of that token is a real gain to its debtor
(invariant 2's exception) and can rightly keep it out of default; the loss the default would have cost its
creditors is then not lost, and system loss falls. A test that deepens such a token anyway (governance's PSM halt
is tested with a deeper USDC depeg, ``tests/test_psm_halt.py``, while Celsius owes USDC and DAI on the 2022
network) holds the invariant except where this exception is shown at work, entity by entity:

* an entity defaulted in the shallower run and not in the deeper one, among the first such defaults (the earliest
  default round: later ones may be its creditors, saved with it), and
* its deficit at its default round, ``-E_e`` (the shallower run's equity after that round's clearing), is no larger
  than what the deeper run's lower prices of the tokens it owes as a named borrower take off its debts that round:

      -E_e  <=  sum_k D_ek * max(P_shallow,k - P_deep,k, 0)

  with ``D`` the units it owes in protocol positions (``Tables.named_debt_units``: ``cohorts.borrower``,
  ``debt_asset``) plus the units it is short as a named account on a perpetuals venue (``Tables.short_units``: a
  short owes the market's token back at the price it closes at), and ``P`` the round's closing prices in each run.

Anything else that lowers loss stays a violation. The check reads only the public API (``simulate_batch`` with
``record=True``: ``history["equity"]``, ``history["prices"]``, ``defaulted``, ``default_round``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariants_support import tables


@dataclass(frozen=True)
class Rescue:
    """One entity kept out of default by its debt tokens' deeper fall."""

    entity: str
    round: int          # its default round in the shallower run
    deficit: float      # USD below zero after that round's clearing, shallower run
    debt_gain: float    # USD its named debts fell by that round, deeper run against shallower

    def __str__(self) -> str:
        return (f"{self.entity} defaults in round {self.round} of the shallower run ${self.deficit / 1e6:,.2f}M short, "
                f"and its debts are ${self.debt_gain / 1e6:,.2f}M lower in the deeper run")


def debtor_rescues(key: str, br, shallow: int = 0, deep: int = 1) -> list[Rescue] | None:
    """The first defaults of row ``shallow`` that row ``deep`` avoids, when each is its debtor's own rescue.

    ``br`` is a :class:`~core.engine.BatchResult` of network ``key`` run with ``record=True``. Returns the rescues
    (non-empty) when the earliest defaults the deeper row avoids are all explained by the debtor's gain (module
    docstring), and ``None`` otherwise: no default avoided, or one the gain does not cover.
    """
    t = tables(key)
    avoided = np.flatnonzero(br.defaulted[shallow] & ~br.defaulted[deep])
    if avoided.size == 0:
        return None
    rounds = br.default_round[shallow, avoided]
    first = avoided[rounds == rounds.min()]
    r = int(rounds.min())
    prices = np.asarray(br.history["prices"])  # (S, rounds, k)
    fall = np.maximum(prices[shallow, r] - prices[deep, r], 0.0)
    deficit = -np.asarray(br.history["equity"])[shallow, r, first]
    gain = (t.named_debt_units[first] + t.short_units[first]) @ fall
    if not (gain > 0).all() or not (deficit <= gain).all():
        return None
    return [Rescue(t.entity_ids[e], r, float(x), float(g)) for e, x, g in zip(first, deficit, gain)]

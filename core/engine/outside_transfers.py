r"""Transfers from outside into the network: the outside party's loss as far as the network counts its gain.

System loss (:mod:`core.engine.outcome`) counts, besides the entities' losses of equity, what parties outside the
network paid into it: the margin anonymous perpetuals accounts left at their liquidation to a venue's backstop vault
or insurance fund (``traders_loss``), and the liquidation penalties and fees anonymous borrowers and the PSM's
arbitrageurs paid into a protocol (``borrowers_penalty_loss``: Maker's ``chop`` into the Vow, Aave v3's
``liquidationProtocolFee`` into its treasury, Compound v2's seize share into its reserves, the PSM's ``tin``/
``tout`` into its issuer's Vow; :func:`core.engine.fees.outside_borrowers_paid`). The principle:

* a transfer from outside into a network entity is counted as the outside party's loss *so that the network's
  gain from it is no value created*: the gain lowers the receiver's counted loss (a vault that paid deficits, a
  fund drawn below its size, a Vow that paid bad debt), and the outside party's loss puts it back;
* a transfer from outside to outside is not counted (liquidators' bonuses, a vault outside the network).

System loss counts an entity's loss under limited liability, :math:`\max(E_0 - \max(E, 0), 0)`: a gain beyond
the initial equity lowers nothing. So what a receiver keeps *above* its initial equity is no gain the network
counts, and counting it as the payer's loss counted it as value destroyed: a lower fill, which sends more of the
same margin to the outside counterparties, lowered system loss by the difference (HLP keeping $84.58M against
$72.46M of the anonymous ALTS longs' margin on crypto-2025-10 with ALTS -6.05% against -6.37%: system loss
-$12.12M, ``monotone-2025-alts-6-half-runs-lag1-liquidity-065-capital-500m-owed``), and a lender's treasury
above its start counted an outside borrower's fee as destroyed.

The rule, for each receiver :math:`e` of transfers :math:`X_e = \sum_j X_{e,j}` of the kinds :math:`j` (margin,
penalties and fees; so far, USD):

.. math::

    \text{kept}_e = \min\bigl(\max(E_e - \max(E_{0,e}, 0), 0),\ X_e\bigr), \qquad
    \text{kept}_{e,j} = \text{kept}_e\, X_{e,j} / X_e, \qquad
    \text{counted}_j = \sum_e (X_{e,j} - \text{kept}_{e,j}) .

Then :math:`\max(E_0 - E, 0) + X - \text{kept}` is :math:`\max(E_0 - (E - X), 0)` whatever :math:`E`: system loss
is what it would be had the transfers gone outside, so each is counted once, and only where the network counts
the gain. The cap is the receiver's gain, once, however many kinds it receives (a venue keeping margin and a
lender's fees, a Maker system's chop and PSM fees); the kept part is shared among the kinds pro rata, which moves
no total. Worked: a vault of $300M that keeps $84.58M and pays no deficit ends at $384.58M, kept $84.58M, counted
0; one that keeps $84.58M and pays $20M of deficits ends at $364.58M, kept $64.58M, counted $20M, the loss the
deficits would be without the margin; one that pays $100M ends at $284.58M (loss $15.42M), kept 0, counted
$84.58M: $100M in all, as without the margin. A lender of $10M equity that collects a $1M fee from an outside
borrower and ends at $10.4M keeps $0.4M: counted $0.6M, its loss without the fee (``tests/test_outside_transfers.py``).

Who the receiver is:

* a **penalty or fee**: the protocol that books it (its ``fee_income``): the cohort's protocol (Aave, Compound),
  the Maker system (``chop``), the PSM coin's issuer (``tin``/``tout``); ``borrowers_penalty_in``;
* a perpetuals **backstop vault** (``backstop_vault_entity``): the vault entity, with every outside margin left to
  it; a vault outside the network (no entity) keeps it outside: not counted at all (:func:`vault_outside`);
* a perpetuals **insurance fund**: a pot outside the balance sheets whose loss below its size is an insurance
  draw (in system loss) and whose growth above it is its venue's gain (:mod:`core.engine.perps`); the margin
  refills the draw first, counted whole, and only its part in the fund's growth, :math:`\min(\max(F - F_0, 0),
  X)`, reaches the venue's equity, where the rule above reads it (:func:`outside_receipts`).

Not under the rule, because they cover a counted loss and cannot carry their receiver above its start: what MKR
holders pay in by debt auctions (``governance_backstop``: vow.sol ``flop`` requires ``sump <= sin - Sin - Ash``
with the Vow's DAI at 0, so the DAI raised is at most the deficit left after the surplus, fees and penalties
included, has healed what it can; the deficit they owe waiting ``vow.wait`` likewise), and what Sai's PETH holders
paid in (``pooled_cover_usd``: the pool's shortfall, the bad debt it covers, :mod:`core.mechanisms.pass_through`).
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


def kept_as_gain(E0: np.ndarray, equity: np.ndarray, *received: np.ndarray) -> tuple[np.ndarray, ...]:
    r"""What receivers keep above their initial equity of the transfers they received from outside, by kind:
    ``E0`` (m,) and ``equity`` (S, m) of the receivers, ``received`` one (S, m) array per kind, USD. Each kind's
    (S, m) share of :math:`\text{kept}_e = \min(\max(E_e - \max(E_{0,e}, 0), 0), \sum_j X_{e,j})`, pro rata: no
    loss the network counts, so no outside party's either (module docstring).

    >>> kept, = kept_as_gain(np.array([300.0]), np.array([[384.58], [364.58], [284.58]]), np.full((3, 1), 84.58))
    >>> kept.ravel().round(2)
    array([84.58, 64.58,  0.  ])
    >>> margin, fee = kept_as_gain(np.array([300.0]), np.array([[330.0]]), np.array([[40.0]]), np.array([[10.0]]))
    >>> float(margin[0, 0]), float(fee[0, 0])
    (24.0, 6.0)
    """
    total = sum(received[1:], received[0])
    # (a payment's rounding residue below zero, a 1e-8 penalty, is no receipt: nothing kept of it)
    kept = np.minimum(np.maximum(equity - np.maximum(E0, 0.0)[None], 0.0), np.maximum(total, 0.0))
    if len(received) == 1:
        return (kept,)
    # each kind's share (x / total: exactly 1.0 where a receiver has one kind, so its kept part is the same bits)
    return tuple(kept * np.divide(x, total, out=np.zeros_like(kept), where=total > 0) for x in received)


def kept_in_state(c: "Compiled", s: "CascadeState", equity: np.ndarray,
                  rows: "Callable[[np.ndarray], np.ndarray] | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """(S,) twice: what the receivers keep above their initial equity of outside accounts' perpetuals margin and of
    outside borrowers' penalties and fees, in a cascade's state at ``equity`` (its last clearing's, of the rows
    ``rows`` selects of the state's, all by default): what :attr:`~core.engine.outcome.BatchResult.traders_loss`
    leaves out of ``perps_outside`` and :attr:`~core.engine.outcome.BatchResult.borrowers_penalty_loss` out of
    ``borrowers_penalty``. A receiver of both is capped at its gain once (:func:`kept_as_gain`)."""
    def take(x: np.ndarray) -> np.ndarray:
        return x if rows is None else rows(x)

    penalty = take(s.borrowers_penalty_in)
    paid_to = np.flatnonzero(penalty.any(0))  # the protocols outside borrowers paid into (none: the common case)
    pc = c.perps
    margin = None if pc is None or s.perps_outside_in is None else take(s.perps_outside_in)
    none = np.zeros(equity.shape[0])
    if margin is None:
        if not len(paid_to):
            return none, none
        kept, = kept_as_gain(c.E0[paid_to], equity[:, paid_to], penalty[:, paid_to])
        return none, in_column_order(kept)
    assert pc is not None
    cols = np.union1d(pc.receiver_entity, paid_to)  # (sorted: the venues' and vaults' columns in their own order)
    at = np.searchsorted(cols, pc.receiver_entity)
    received = np.zeros((equity.shape[0], len(cols)))
    received[:, at] = margin
    kept_margin, kept_penalty = kept_as_gain(c.E0[cols], equity[:, cols], received, penalty[:, cols])
    # (a column selection comes back column-major: made row-major, each row's sum runs in one order whatever the
    # number of rows; the venues' columns are the network's, the protocols paid into the batch's: in column order)
    return np.ascontiguousarray(kept_margin[:, at]).sum(1), in_column_order(kept_penalty)


def in_column_order(x: np.ndarray) -> np.ndarray:
    """Each row's sum of ``x`` (S, m), from +0.0, column after column: a row's sum is the same bits whatever other
    columns hold zeros for it, so it never reads which columns its batch-mates brought in. (The protocols outside
    borrowers paid into are the batch's: ``x.sum(1)``, pairwise over them, paired a row's own payments by where
    its batch-mates' zeros fell, and a seed's ``borrowers_penalty_loss`` on synthetic(10k) moved 2.3e-10 between
    its batch of 64 and itself alone.) ``m`` is a handful of receivers: a pass a column."""
    out = np.zeros(x.shape[0])
    for j in range(x.shape[1]):  # the receivers (protocols), not the rows
        out += x[:, j]
    return out

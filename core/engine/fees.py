r"""Lenders' share of what their liquidations seize: Aave v3's protocol fee and Compound v2's seize share.

Of the collateral :math:`s` a liquidation seizes from a cohort, the protocol keeps

.. math::

    \text{kept} = \underbrace{(s - s/LB)\cdot f}_{\text{Aave v3}} \quad\text{or}\quad
    \underbrace{s\cdot\sigma}_{\text{Compound v2}},

(:func:`~core.mechanisms.lender_fees.aave_protocol_fee`,
:func:`~core.mechanisms.lender_fees.compound_seize_split`), and liquidators get
the rest, which they sell. The borrower loses the same either way. The kept
collateral goes to the protocol's treasury (Aave's collector) or reserves
(Compound's ``totalReserves``), not to its suppliers: it enters the
protocol's other assets at its value when seized [model: the treasury holds
it off the market] and is reported as the protocol's fee income.

Where the rule applies (the version a cohort's protocol ran on its ``as_of`` date):

* ``aave_v3`` (and the legacy ``aave``): ``liquidationProtocolFee`` :data:`AAVE_V3_PROTOCOL_FEE`
  of the bonus; Aave v2 had no such fee.
* ``compound_v2``: ``protocolSeizeShareMantissa`` 2.8 % from :data:`COMPOUND_SEIZE_SHARE_SINCE`;
  earlier cTokens sent every seized token to the liquidator.
* ``anchor``: none modelled. Anchor's liquidation queue sends its ``bid_fee`` (1 % of the UST bid) to the
  overseer (custody ``liquidate_collateral``: ``fee_address`` the overseer; "Sent to Overseer interest buffer"),
  whose buffer sends its ``anc_purchase_factor`` share to the collector to buy ANC; the fee is in the seizure
  (:mod:`core.mechanisms.bid_queue`) but booked, with the bidders' premium, outside the network [model].
* Dust rules (Aave v3.3's ``MIN_LEFTOVER_BASE``, Maker's ``dust``) bind single
  positions of a few thousand dollars; a cohort aggregates positions with no
  size distribution in the data, so at cohort level the Aave rule's revert is
  not applied; a cohort's whole collateral left below it against more debt is
  booked as bad debt (:func:`~core.mechanisms.lender_fees.dust_written_off`), and
  Maker's ``dust`` is applied per cohort by :mod:`core.engine.maker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..mechanisms.lender_fees import COMPOUND_PROTOCOL_SEIZE_SHARE, aave_protocol_fee, compound_seize_split

if TYPE_CHECKING:
    from .compiled import Compiled

#: ``liquidationProtocolFee`` of Aave v3's main reserves (10 % of the bonus: WETH, WBTC, wstETH, USDC on
#: Ethereum v3; Aave v3 risk parameters, governance.aave.com) [estimate for reserves not checked one by one].
AAVE_V3_PROTOCOL_FEE = 0.10
#: First date of Compound v2's protocol seize share: the cToken implementation upgrade that added
#: ``protocolSeizeShareMantissa`` (Compound governance, autumn 2021) [estimate of the month].
COMPOUND_SEIZE_SHARE_SINCE = pd.Timestamp("2021-09-01")


@dataclass(frozen=True, eq=False)
class LenderFees:
    """Per cohort (c,): the Aave v3 fee on the bonus and the Compound v2 seize share (0 where none)."""

    bonus_fee: np.ndarray
    seize_share: np.ndarray

    @property
    def any(self) -> bool:
        return bool(self.bonus_fee.any() or self.seize_share.any())


def compile_fees(styles: list[str], as_of: pd.Series) -> LenderFees:
    """The fee rule of each cohort from its canonical style and date."""
    st = np.asarray(styles, dtype=object)
    dated = pd.to_datetime(as_of, errors="coerce").to_numpy()
    since = np.asarray(dated >= COMPOUND_SEIZE_SHARE_SINCE.to_datetime64(), bool)
    return LenderFees(bonus_fee=np.where(st == "aave_v3", AAVE_V3_PROTOCOL_FEE, 0.0),
                      seize_share=np.where((st == "compound_v2") & since, COMPOUND_PROTOCOL_SEIZE_SHARE, 0.0))


def kept_by_protocol(c: Compiled, seized: np.ndarray, bonus: np.ndarray,
                     cols: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Collateral units (S, c) the protocols keep of ``seized`` (S, c), at bonus fractions ``bonus`` (S, c);
    ``cols``: the cohorts the columns are, where not every one."""
    f = c.fees
    assert f is not None
    _, aave_fee = aave_protocol_fee(seized, 1.0 + bonus, f.bonus_fee[cols])
    compound = compound_seize_split(seized, 1.0, f.seize_share[cols]).protocol_tokens
    return aave_fee + compound


def paid_from_outside(named: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """(S, c) ``paid``, each cohort's penalty or fee credited to its protocol, at the cohorts with no named
    borrower (``named`` (c,) bool: an anonymous cohort's borrowers are outside the network), 0 elsewhere."""
    return np.where(named[None], 0.0, paid)


def outside_borrowers_paid(named: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """What borrowers outside the network paid into its protocols as liquidation penalties and fees, USD (S,):
    :func:`paid_from_outside` summed over the cohorts. The engine keeps it by receiver too, the protocol that
    booked it (``borrowers_penalty_in``).

    The payment is a transfer from outside into an entity of the network, and system loss counts it as those
    borrowers' loss (``borrowers_penalty_loss``, :mod:`core.engine.outcome`), as it counts perpetuals traders'
    margin kept by a venue (``traders_loss``), as far as the receiver's gain lowers a counted loss (not what it
    keeps above its initial equity: :mod:`core.engine.outside_transfers`): the network's gain from it is then no
    value created, and the sum of the equity changes and outside parties' losses is the value destroyed. The
    transfers counted:

    * Maker's liquidation penalty ``chop`` (dog.sol ``tab = art * rate * chop``, clip.sol's auction raising the
      tab into the Vow; cat.sol and flip.sol before Liquidations 2.0): the DAI an auction raises beyond the debt
      it covers (:func:`core.engine.maker.vault_auctions`), counted gross of the keepers' incentives (``tip``,
      ``chip``), which the Vow pays to keepers and so reach Maker's equity as its loss;
    * Aave v3's ``liquidationProtocolFee`` (the treasury's share of the liquidation bonus) and Compound v2's
      ``protocolSeizeShareMantissa`` (the reserves' share of the seized cTokens): :func:`kept_by_protocol`;
    * the PSM's ``tin``/``tout`` fees, which the arbitrageurs outside the network pay into its issuer's Vow
      (dss-psm ``sellGem``/``buyGem``; :func:`core.engine.backing.book_fees`), though they are no borrowers.

    Not counted: the liquidation bonus paid to liquidators or keepers (outside the network: a transfer from
    outside to outside) and the collateral's own fall in price (the market's, not a transfer into the network).
    A named borrower's penalty is a transfer within the network, in its own equity loss already."""
    return paid_from_outside(named, paid).sum(1)

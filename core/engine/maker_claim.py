"""What a unit of a live Maker system's coin claims on its vaults: their collateral and the DAI its debt
auctions can still raise (:func:`vault_claim`), read by :func:`core.engine.backing.backing_links` to price the
coin and kept apart from :mod:`core.engine.maker_vow`, which reads the backing links in turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import maker_backstop

if TYPE_CHECKING:
    from .state import CascadeState

#: Discount of MKR sold in debt auctions to its value after the dilution [calibration, estimate: Black
#: Thursday's 20,980 MKR for 5.3M DAI at ~$300; see core.mechanisms.maker_backstop].
FLOP_DISCOUNT = 0.14


def vault_claim(s: CascadeState, vault_coll: np.ndarray, vault_debt: np.ndarray) -> np.ndarray:
    r"""What a unit of a live Maker system's coin claims on its vaults, (S, q): their collateral (``vault_coll``,
    USD) and the DAI its debt auctions can still raise, against the DAI they owe (``vault_debt``, USD at par),
    at most 1 (:func:`~core.mechanisms.maker_backstop.flop_recovery` with the vaults' collateral as what they
    pay, MKR's supply, price and pledge per scenario).

    Model. :func:`core.engine.backing.backing_links` prices a CDP coin at its vaults' collateral ratio where they
    are under water in aggregate. For a live Maker that ratio is not its holders' claim: a deficit of the
    vaults becomes sin in the Vow and is met by the surplus buffer and by minting MKR (``vow.flop``, ``flop.sol``),
    DAI holders taking less only in an emergency shutdown (``end.sol``) or once the backstop fails (MKR at 0:
    nothing more is counted) -- :func:`backstop_covers`' and :func:`clearing_recovery`'s model. Counting only
    the vaults, DAI's market price fell with ETH once Maker's ETH-A vaults were under water in aggregate, while
    the system was live and MKR's $440M of 2020 could cover the gap: on crypto-2020-03, ETH -74.49% -> -74.52%
    with full runs, oracle lag 1 and $50M of liquidators' capital a round, DAI's first-round price went
    1.00038 -> 0.99913 (0.99913 = the vaults' ratio ~0.9932 times the CDP premium), the cheaper DAI drew the
    scarce capital to the ETH/DAI close-factor cohorts before DAI's 12% premium, and bad debt at reference
    prices fell $258.6k (``monotone-2020-eth-74-full-runs-lag1-capital-50m-bad-debt``; ETH and BTC together,
    ``monotone-2020-eth-btc-lag1-capital-50m-bad-debt``, the same by DAI 1.00178 -> 0.99780).

    Source: MakerDAO ``dss`` ``vow.sol`` (``flop``: "debt auction" minting MKR against ``sin``), ``flop.sol``,
    ``end.sol``; the Black Thursday debt auction (20,980 MKR for 5.3M DAI, :mod:`core.mechanisms.maker_backstop`),
    during which DAI traded above its peg.

    Examples
    --------
    Vaults with $90 of collateral for $100 of DAI: with 1 MKR at $100, the debt auctions raise up to $86, so
    the claim is whole; with MKR at 0 (the backstop failed) it is the vaults' 0.9; with $5 owed already (the
    pledge) and MKR at $10, 0.9 + 0.86 x (10 - 5 / 0.86) / 100 = 0.936:

    >>> from types import SimpleNamespace
    >>> st = SimpleNamespace(mkr_supply=np.array([1.0, 1.0, 1.0]), mkr_price=np.array([100.0, 0.0, 10.0]),
    ...                      maker_pledge=np.array([0.0, 0.0, 5.0]))
    >>> [round(float(x), 4) for x in vault_claim(st, np.full((3, 1), 90.0), np.full((3, 1), 100.0))[:, 0]]
    [1.0, 0.9, 0.936]
    """
    return maker_backstop.flop_recovery(vault_coll, vault_debt, s.mkr_supply[:, None], s.mkr_price[:, None],
                                        s.maker_pledge[:, None], auction_discount=FLOP_DISCOUNT)

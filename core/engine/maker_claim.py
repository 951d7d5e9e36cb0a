"""What a unit of a CDP coin claims on its vaults: what each vault's collateral covers of its own debt
(:func:`vaults_cover`) and, for a live Maker system, the DAI its debt auctions can still raise (:func:`vault_claim`),
read by :func:`core.engine.backing.backing_links` to price the coin and kept apart from
:mod:`core.engine.maker_vow`, which reads the backing links in turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms import maker_backstop
from ..mechanisms.cohort_spread import covered_debt
from .columns import column_index
from .maker_book import maker_columns
from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled
    from .state import CascadeState

#: Discount of MKR sold in debt auctions to its value after the dilution [calibration, estimate: Black
#: Thursday's 20,980 MKR for 5.3M DAI at ~$300; see core.mechanisms.maker_backstop].
FLOP_DISCOUNT = 0.14


def vaults_cover(c: Compiled, s: CascadeState, coll_usd: np.ndarray, debt_usd: np.ndarray,
                 cohorts: np.ndarray | None = None) -> np.ndarray:
    r"""What each cohort's vaults' collateral covers of their debt, (S, c), USD: each vault at most its own debt,
    the cohort's vaults spread about its ratio (:func:`~core.mechanisms.cohort_spread.covered_debt`; ``end.skim``'s
    ``wad = min(ink, owe)``, ``clip.take`` handing the rest of a lot back to its owner). ``coll_usd``, ``debt_usd``
    (S, c): the cohorts' collateral and debt in USD. The spreads are the cohorts' own: a close-factor cohort's
    (``c.c_spread``), a Maker-style cohort's vaults' as its barks left them (the state's ``auction_spread``), the
    Maker system's (``maker_spread``); 0, one vault, elsewhere (a named borrower's vaults).

    Before, a CDP coin's vaults' claim was their aggregate collateral over their aggregate debt, counting the
    excess collateral of vaults above water against the deficits of those under it: two cohorts of equal debt at
    ratios 2.0 and 0.8 claimed par (aggregate 1.4) where their vaults pay (1 + 0.8) / 2 = 0.9.

    ``cohorts`` (indices, increasing): only these computed, every other cohort's cover 0.0 (the coins' vaults, where
    the caller reads no other: 31 of the 2022 network's 113 cohorts); each cohort's cover is its own columns'
    arithmetic, so those computed keep their bits."""
    spread = c.c_spread[None] + s.auction_spread  # disjoint: close-factor cohorts, Maker-style auction cohorts
    mk = c.maker
    if mk is not None and mk.m:  # (the sum is a new array: written in place)
        spread[:, maker_columns(c)] = s.maker_spread
    if cohorts is None:
        return covered_debt(coll_usd, debt_usd, spread)
    out = np.zeros_like(coll_usd)
    cols = per_network(c, ("cover_columns", cohorts.tobytes()), lambda: column_index(cohorts))  # a slice where contiguous
    out[:, cols] = covered_debt(coll_usd[:, cols], debt_usd[:, cols], spread[:, cols])
    return out


def vault_claim(s: CascadeState, vault_paid: np.ndarray, vault_debt: np.ndarray) -> np.ndarray:
    r"""What a unit of a live Maker system's coin claims on its vaults, (S, q): what their collateral covers of
    their debt (``vault_paid``, USD: each vault at most its own debt, :func:`vaults_cover`) and the DAI its debt
    auctions can still raise, against the DAI they owe (``vault_debt``, USD at par), at most 1
    (:func:`~core.mechanisms.maker_backstop.flop_recovery` with ``vault_paid`` as what they pay, MKR's supply,
    price and pledge per scenario).

    Model. :func:`core.engine.backing.backing_links` prices a CDP coin at what its vaults' collateral covers of
    their debt, each vault's of its own (:func:`vaults_cover`). For a live Maker that share is not its holders'
    claim: a deficit of the
    vaults becomes sin in the Vow and is met by the surplus buffer and by minting MKR (``vow.flop``, ``flop.sol``),
    DAI holders taking less only in an emergency shutdown (``end.sol``) or once the backstop fails (MKR at 0:
    nothing more is counted) -- :func:`backstop_covers`' and :func:`clearing_recovery`'s model. Counting only
    the vaults, DAI's market price fell with ETH once Maker's ETH-A vaults were under water in aggregate, while
    the system was live and MKR's $490.48M of 2020 (1.0M MKR at its dated close of 11 Mar 2020, $490.48; $440M at
    the row's former ~$440 when this was measured) could cover the gap: on crypto-2020-03, ETH -74.49% -> -74.52%
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
    Vaults whose collateral covers $90 of their $100 of DAI: with 1 MKR at $100, the debt auctions raise up to $86, so
    the claim is whole; with MKR at 0 (the backstop failed) it is the vaults' 0.9; with $5 owed already (the
    pledge) and MKR at $10, 0.9 + 0.86 x (10 - 5 / 0.86) / 100 = 0.936:

    >>> from types import SimpleNamespace
    >>> st = SimpleNamespace(mkr_supply=np.array([1.0, 1.0, 1.0]), mkr_price=np.array([100.0, 0.0, 10.0]),
    ...                      maker_pledge=np.array([0.0, 0.0, 5.0]), maker_exposed_pledge=np.zeros(3))
    >>> [round(float(x), 4) for x in vault_claim(st, np.full((3, 1), 90.0), np.full((3, 1), 100.0))[:, 0]]
    [1.0, 0.9, 0.936]
    """
    # the pledge for live auctions' exposed sin is their vaults' own shortfall, already missing from vault_paid
    owed = s.maker_pledge - s.maker_exposed_pledge
    return maker_backstop.flop_recovery(vault_paid, vault_debt, s.mkr_supply[:, None], s.mkr_price[:, None],
                                        owed[:, None], auction_discount=FLOP_DISCOUNT)

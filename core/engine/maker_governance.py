r"""A CDP system whose debt auctions are off is shut down by governance, not by the clearing's tolerance (the
lead's decision 18, session 37; ``docs/invariants.md``).

Model. Where governance has switched the debt auctions off (``vow.sump`` set to the largest uint256, so ``flop``'s
``require(sump <= ...)`` never holds: Sky from its 15 May 2025 spell, ``MakerBook.debt_auctions`` false), a
deficit of the system is ``sin`` in the Vow that nothing auctions away, and nothing in the contracts defaults the
system for it: ``end.cage`` is the only path on which its coin is paid below par. With the ESM disabled
(``esm.min`` the largest uint256) only an executive spell can call it, after a vote and the pause's delay.
So such a system:

* is never put in default by the clearing for a shortfall (:func:`~core.engine.maker_vow.backstop_covers`);
* while live owes its coin at par, and what it owes beyond all it holds (surplus buffer included) is its deficit:
  the clearing's shortfall, counted as the write-down it is today (:func:`core.engine.losses.final_losses`);
* takes its deficit's share off its coins' price, the holders' pro-rata recovery at a shutdown now: the free
  price times the clearing's paid ratio :math:`1 - \text{deficit}/\text{debt}`, on top of the price's other bounds
  (the PSM's pin, a squeeze's premium): :func:`deficit_priced`. The factor is continuous in the deficit (a deficit
  of $8 of $8.5bn moves the price by 1e-9), and a shutdown later moves the price little;
* is caged (End, :mod:`~core.engine.maker_end`) at the round a scenario forces its failure, or once its deficit
  has lasted :data:`GOVERNANCE_DELAY_HOURS` (a deficit beyond the clearing's tolerance at every clearing since it
  first showed; one that closes resets the clock): :func:`deficit_clock` marks the default at the clearing the
  delay ends at, and End cages it at the next round's opening (:func:`~core.engine.maker_end.ended`), the same
  instant. The clock is the state's ``maker_deficit_since``: the round whose clearing first showed the deficit
  (-1: none).

The delay. Sky's pause delay is 24 hours (``pause_delay = 24 hours`` in sky-ecosystem/spells-mainnet
``src/test/config.sol``, the configuration the spells are tested against, with ``vow_sump`` and ``esm_min`` the
largest uint256); before it a spell must be voted in. Maker's urgent executive of 11 March 2023 (USDC at $0.877) was
expected to pass "in the next ~12 hours or less" (Cointelegraph, that day; :mod:`~core.engine.maker_end`), so the
vote is taken as 12 hours [estimate: one dated emergency vote], and the delay as 36 hours: with 24-hour rounds,
the clearing two rounds after the one that first showed the deficit (48 hours on) defaults the system, and End
cages it at the third round's opening.

Maker with debt auctions (the 2020 and 2022 networks) is untouched: its shortfall is covered by MKR's backstop
or defaults it as before (:func:`~core.engine.maker_vow.backstop_covers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.clearing import DEFAULT_TOL

if TYPE_CHECKING:
    from ..mechanisms.clearing import ClearingStep
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .state import CascadeState

#: Hours the spells' pause holds an executive (``pause_delay``, sky-ecosystem/spells-mainnet ``src/test/config.sol``).
PAUSE_DELAY_HOURS = 24.0
#: Hours an emergency executive vote takes [estimate: Maker's urgent executive of 11 March 2023, "the next ~12 hours
#: or less", Cointelegraph].
GOVERNANCE_VOTE_HOURS = 12.0
#: Hours a deficit lasts before governance cages the system: the vote, then the pause.
GOVERNANCE_DELAY_HOURS = GOVERNANCE_VOTE_HOURS + PAUSE_DELAY_HOURS


def governed(c: Compiled) -> bool:
    """Whether the network's Maker system has its debt auctions off (``MakerBook.debt_auctions`` false): only
    governance shuts it down (module docstring)."""
    mk = c.maker
    return mk is not None and bool(mk.m) and not mk.debt_auctions


def clearing_deficit(clearing: ClearingStep, j: int) -> tuple[np.ndarray, np.ndarray]:
    """What entity ``j`` owes and its deficit in a clearing, (S,) each: its total liabilities and what they exceed
    its payments by (>= 0)."""
    total = clearing.total_liabilities
    owed = total[:, j] if total.ndim == 2 else np.full(len(clearing.payments), total[j])
    return owed, np.maximum(owed - clearing.payments[:, j], 0.0)


def deficit_clock(c: Compiled, s: CascadeState, b: ScenarioBatch, clearing: ClearingStep,
                  r: int) -> tuple[np.ndarray, np.ndarray]:
    """The governed Maker system's deficit clock after round ``r``'s clearing, ``(since, caged_now)`` (S,) each:
    the round whose clearing first showed the deficit still open (-1: none) and where the deficit has lasted
    :data:`GOVERNANCE_DELAY_HOURS` (``(r - since)`` rounds of ``round_hours``): the system is put in default
    there, End caging it at the next round's opening. A deficit is a shortfall beyond the clearing's tolerance
    (a dollar, or a billionth of what is owed, :func:`core.engine.clear.mark_and_clear`), of a system not yet in
    default; anything else resets the clock. Call only where :func:`governed`."""
    mk = c.maker
    assert mk is not None
    owed, deficit = clearing_deficit(clearing, mk.protocol)
    short = (deficit > np.maximum(1.0, DEFAULT_TOL * owed)) & ~s.defaulted[:, mk.protocol]
    since = np.where(short, np.where(s.maker_deficit_since >= 0, s.maker_deficit_since, r), -1)
    hours = b.round_hours if b.round_hours is not None else np.full(s.S, 24.0)
    return since, short & ((r - since) * hours >= GOVERNANCE_DELAY_HOURS)


def priced_at_recovery(c: Compiled, defaulted: np.ndarray, paid_ratio: np.ndarray) -> np.ndarray:
    """The issuers whose network-held coins bear their issuer's shortfall through their price, (S, n): the
    defaulted ones (``defaulted``) and a live governed Maker system the clearing found short (``paid_ratio``
    (S, n) below 1: :func:`deficit_priced`), for the write-downs' count (:func:`core.engine.losses.final_losses`:
    what the network's holders bore through the price is not an outside creditor's loss too). ``defaulted`` itself
    where the network has no governed Maker."""
    if not governed(c):
        return defaulted
    j = c.maker.protocol  # type: ignore[union-attr]  # governed: a Maker system
    out = defaulted.copy()
    out[:, j] |= paid_ratio[:, j] < 1.0
    return out


def deficit_priced(c: Compiled, s: CascadeState, P: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Prices ``P`` and caps ``cap`` (S, k), as :func:`~core.engine.issuer_caps.recovery_capped` left them, with the
    coins of a live governed Maker system at their free price times its last clearing's paid ratio,
    :math:`P = P_\text{free}\,\rho`, :math:`\rho = 1 - \text{deficit}/\text{debt}`, and that cap recorded
    (``issuer_cap`` = :math:`\rho`; :math:`P_\text{free} = P / \text{issuer}_\text{cap}` the price the round's
    other steps gave it, which carries last round's cap). Unchanged where the network has no governed Maker.

    Model (decision 18). A holder's claim at a shutdown now is its pro-rata share of the system's assets
    (``end.cash``: every coin the same share, :func:`~core.engine.maker_vow.coin_recoveries`), so the deficit
    takes :math:`1 - \rho` off every coin's worth, on top of the bounds its other steps give it: the PSM's pin to
    a backing coin below par, the CDP premium of a squeeze. Taken as a factor, the bound is continuous in the
    deficit: a cap at :math:`\rho` times the coin's backing (``recovery_capped``'s rule for a defaulted issuer) cut
    a squeeze's premium whole at any deficit however small (ETH and stETH -65.04% on the 2025 network: a $1.14
    deficit after round 0 took DAI from 1.02173 to 1.00000 in round 1). Where the deficit closes :math:`\rho = 1`
    and the coin is back at its free price."""
    if not governed(c) or s.clearing is None:
        return P, cap
    j = c.maker.protocol  # type: ignore[union-attr]
    live = ~s.defaulted[:, j]
    coins = (c.issuer == j) & c.issued_stable
    coins[c.pool_asset] = False  # a pool coin: the pool step sets its price (none on the shipped networks)
    if not coins.any() or not live.any():
        return P, cap
    rho = np.where(live, s.clearing.paid_ratio[:, j], 1.0)[:, None]
    at = live[:, None] & coins[None]
    free = P / s.issuer_cap
    return np.where(at, free * rho, P), np.where(at, rho * np.ones_like(cap), cap)

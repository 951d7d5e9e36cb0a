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
* bounds its coins' price by the holders' pro-rata recovery at a shutdown now, on top of the price's other bounds
  (the PSM's pin, a squeeze's premium, which keeps its share): :func:`deficit_priced`. Near par the bound is the
  clearing's paid ratio :math:`1 - \text{deficit}/\text{debt}` (a deficit of $8 of $8.5bn moves the price by
  1e-9); it is continuous in the deficit, and a shutdown later moves the price little;
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
from .maker_co_issued import coin_recoveries

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
    coins of a live governed Maker system bounded by its deficit:
    :math:`P = \min\bigl(P_\text{free}, \max(R, \rho\,P_\text{free})\bigr)`, and the cap
    :math:`P / P_\text{free}` recorded in ``issuer_cap``. :math:`P_\text{free} = P / \text{issuer}_\text{cap}` is the
    price the round's other steps gave the coin (it carries last round's cap); :math:`\rho` the last clearing's paid
    ratio, :math:`1 - \text{deficit}/\text{owed}`; :math:`R` the holders' pro-rata recovery at a shutdown now,
    ``end.cash``'s blend at :math:`\rho` (:func:`~core.engine.maker_co_issued.coin_recoveries`: :math:`\rho\,L_t/D`, the
    book's worth over its face). Unchanged where the network has no governed Maker.

    Model (decision 18). A holder's claim at a shutdown now is :math:`R`, so the deficit bounds the coin's price
    there, on top of its other bounds: a PSM's pin below it stands (``buyGem`` still pays the backing coin 1:1 while
    the system is live: with USDC 30% off on the 2025 network DAI stays at the pin 0.7077 with :math:`R` = 0.805),
    and a squeeze's premium above the backing keeps its share, :math:`\rho\,P_\text{free}`. Near par the bound is
    :math:`\rho` (a deficit of $8 of $8.5bn: 1e-9), and as :math:`\rho \to 1` it tends to :math:`\max(L_t/D,
    P_\text{free}) \ge P_\text{free}`: continuous in the deficit. Two forms measured and left: :math:`R` alone cut a
    squeeze's premium whole at any deficit (ETH and stETH -65.04%: a $1.14 deficit after round 0 took DAI 1.02173 ->
    1.00000 in round 1); :math:`\rho\,P_\text{free}` alone took the deficit off a PSM pin that already priced the
    backing's fall, below what ``buyGem`` pays (DAI 0.665 against the pin's 0.708, ETH -80%, BTC -70%, USDC -30%).
    Where the deficit closes :math:`\rho = 1` and the coin is back at its free price."""
    if not governed(c) or s.clearing is None:
        return P, cap
    j = c.maker.protocol  # type: ignore[union-attr]
    live = ~s.defaulted[:, j]
    coins = (c.issuer == j) & c.issued_stable
    coins[c.pool_asset] = False  # a pool coin: the pool step sets its price (none on the shipped networks)
    if not coins.any() or not live.any():
        return P, cap
    ratio = s.clearing.paid_ratio
    rho = np.where(live, ratio[:, j], 1.0)[:, None]
    mask = priced_at_recovery(c, s.defaulted, ratio)
    blend = coin_recoveries(c, P, ratio, mask, s.psm_balance)
    recovery = (ratio[:, np.maximum(c.issuer, 0)] if blend is None else blend) * c.peg1[None]
    at = live[:, None] & coins[None]
    free = P / s.issuer_cap
    price = np.minimum(free, np.maximum(recovery, rho * free))
    return np.where(at, price, P), np.where(at, price / free, cap)
